#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guest end-to-end test (docs/guest-tests.md): the seeds' mtty walkthrough as a test.
# umdevd runs on a temporary run dir; an mtty-2 device is created (through the FUSE sysfs
# tree, or with umdevctl start); `umdevctl qemu` boots Linux (Debian's kernel, TCG) in QEMU
# with the device attached over the TRANSPORT and the initramfs of tests/guest (busybox,
# guest_tool, init). guest_tool checks the card from inside (IDs, driver "serial", two
# 16550A ports at the BAR addresses, data looped back on both) and prints one line per
# check, each of which becomes a TAP case here. Then the card is hot-unplugged through QMP
# (the guest sees it go), the device is removed while QEMU still runs, and it must be gone:
# its sysfs entry, its sockets, its line in umdevctl list. Prints TAP; skips (saying why)
# when a QEMU, a kernel or busybox cannot be had.
#
#   guest_e2e.sh BUILD_DIR GUEST_TOOL UMDEVD UMDEVCTL TRANSPORT
#     BUILD_DIR   where the initramfs is cached and each run's logs are kept
#                 (BUILD_DIR/logs-TRANSPORT/: console.log, qemu.log, daemon.log)
#     TRANSPORT   mpqemu: Debian's QEMU 7.2, x-pci-proxy-dev; no interrupts under TCG, so
#                 the guest polls the ports; the device is made and removed through sysfs
#                 vfio-user: a QEMU >= 10.1, vfio-user-pci; interrupt-driven; the device is
#                 made and removed with umdevctl start and stop
#
# Environment: UMDEV_QEMU (a QEMU >= 10.1 for vfio-user; otherwise
# ../shared/tools/qemu-vfio-user/build.sh builds or finds one), UMDEV_QEMU_MPQEMU (default
# /usr/bin/qemu-system-x86_64), UMDEV_GUEST_KERNEL (default: the newest /boot/vmlinuz-*),
# UMDEV_GUEST_BUSYBOX (default /bin/busybox), UMDEV_GUEST_TIMEOUT (seconds one guest may
# run, default 300), UMDEV_GUEST_BYTES (bytes looped back through each port, default 4096).
set -uo pipefail

src=${UMDEV_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=$1
guest_tool=$2
umdevd=$3
umdevctl=$4
transport=$5
logdir=$builddir/logs-$transport
rm -rf "$logdir"

# shellcheck source=../lib/tap.sh
. "$src/tests/lib/tap.sh"
# shellcheck source=guest_lib.sh
. "$src/tests/guest/guest_lib.sh"

guest_bytes=${UMDEV_GUEST_BYTES:-4096}
uuid=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 # the seeds' example
run=$tmp/run
sys=$run/sys
entry=$sys/bus/mdev/devices/$uuid
initrd=$builddir/initramfs.cpio.gz

cleanup() { guest_lib_cleanup; }
trap cleanup EXIT
# killed (a meson timeout): say so, with what was collected, and still clean up
trap 'fail "the test ran to its end (it was stopped by a signal)"; log_tails; finish' TERM INT HUP

skip_all() { tap_n=$((tap_n + 1)); tap_lines+=("ok $tap_n - $transport guest test # SKIP $1"); finish; }

log_tails() {
	[ -f "$console_raw" ] && [ ! -s "$logdir/console.log" ] &&
		sed -e 's/\r$//' "$console_raw" >"$logdir/console.log"
	diag "console (last lines, $logdir/console.log):"
	diag_file "$logdir/console.log"
	diag "QEMU's stderr ($logdir/qemu.log):"
	diag_file "$logdir/qemu.log"
	diag "umdevd ($logdir/daemon.log):"
	diag_file "$logdir/daemon.log"
}
give_up() { log_tails; finish; }

# The guest tool's checks and what each says, in the order it makes them.
declare -A check_desc=(
	[vendor]="a PCI device of vendor 0x4348"
	[device]="its device ID is 0x3253"
	[revision]="its revision is 0x10"
	[class]="its class is 0x070002 (serial controller, 16550)"
	[subsystem]="its subsystem is 4348:3253"
	[driver]="the guest's driver in use is serial (8250_pci)"
	[ports]="the driver made two ttyS ports of it"
	[port0-at-bar0]="the first port is at the I/O address of BAR0"
	[port0-16550a]="the first port is a 16550A"
	[port1-at-bar1]="the second port is at the I/O address of BAR1"
	[port1-16550a]="the second port is a 16550A"
	[port0-polled]="the first port was switched to polling (irq 0)"
	[port1-polled]="the second port was switched to polling (irq 0)"
	[port0-loopback]="$guest_bytes bytes sent through the first port come back intact"
	[port1-loopback]="$guest_bytes bytes sent through the second port come back intact"
	[interrupts]="the card's interrupt line fired during the loopback"
	[unplugged]="the card left the guest's PCI bus when QEMU unplugged it"
)

# assert_guest_checks polled|interrupts: one case per check of the guest tool.
assert_guest_checks() {
	local c line
	local checks=(vendor device revision class subsystem driver ports
		port0-at-bar0 port0-16550a port1-at-bar1 port1-16550a)
	if [ "$guest_bytes" != 0 ]; then
		[ "$1" = polled ] && checks+=(port0-polled port1-polled)
		checks+=(port0-loopback port1-loopback)
		[ "$1" = polled ] || checks+=(interrupts)
	fi
	checks+=(unplugged)
	for c in "${checks[@]}"; do
		if grep -q "^GUEST-PASS $c\$" "$logdir/console.log"; then
			pass "$transport: guest: ${check_desc[$c]}"
		elif line=$(grep -m 1 "^GUEST-FAIL $c " "$logdir/console.log"); then
			fail "$transport: guest: ${check_desc[$c]}"
			diag "  ${line#GUEST-FAIL }"
		else
			fail "$transport: guest: ${check_desc[$c]} (not reported)"
		fi
	done
	# a failed check this list does not know still fails the test
	while IFS= read -r line; do
		c=${line#GUEST-FAIL }
		c=${c%% *}
		[[ " ${checks[*]} " == *" $c "* ]] && continue
		fail "$transport: guest: check $c"
		diag "  ${line#GUEST-FAIL }"
	done < <(grep '^GUEST-FAIL ' "$logdir/console.log")
}

# The measurements, as TAP diagnostics.
guest_diagnostics() {
	local v
	diag "$transport: guest run ${guest_secs} s from launch to the end; the guest tool started at uptime $(guest_result uptime_at_start) s"
	for v in 0 1; do
		[ -n "$(guest_result seconds "port${v}_loopback_bytes")" ] &&
			diag "$transport: port$v looped back $guest_bytes bytes in $(guest_result seconds "port${v}_loopback_bytes") s ($(guest_result bytes_per_s "port${v}_loopback_bytes") B/s)"
	done
	diag "$transport: interrupts the guest took during the loopback: $(guest_result irq_count)"
	diag "$transport: steps: $marks"
}

# no_complaints LOG WHAT IGNORE: a case saying that LOG has no error or warning (lines
# matching the extended regex IGNORE aside).
no_complaints() {
	local warn l
	warn=$(grep -iE 'refused|failed|unexpected|warning|error|closing' "$1" |
		grep -vE "$3" | head -n 5)
	check "$transport: $2 reported no error or warning" test -z "$warn"
	[ -n "$warn" ] && while IFS= read -r l; do diag "  $l"; done <<<"$warn"
}

# ---- the run ----
find_kernel || skip_all "$why"
guest_image "$initrd" "$guest_tool"
case $? in
0) pass "the guest initramfs is ready ($image_how)" ;;
1) skip_all "$why" ;;
*) fail "the guest initramfs is built"; diag "  $why"; finish ;;
esac

case $transport in
mpqemu)
	find_qemu_mpqemu || skip_all "$why"
	mode=polled
	append="umdev.poll=1"
	;;
vfio-user)
	find_qemu_vfio_user || skip_all "$why"
	mode=interrupts
	append=
	;;
*)
	fail "a known transport (got '$transport'; known: mpqemu, vfio-user)"
	finish
	;;
esac
pass "$transport: a QEMU: $qemu ($("$qemu" --version | head -n 1))"

# the debug log has every command a client was refused
if daemon_up "$umdevd" "$run" "$tmp/conf" "$logdir/daemon.log" --log-level debug; then
	pass "$transport: umdevd is ready, its sysfs tree at the run dir"
else
	fail "$transport: umdevd is ready, its sysfs tree at the run dir"
	diag "  $why"
	give_up
fi

# the device, made the way this transport's users would make it
if [ "$transport" = mpqemu ]; then
	check "$transport: echo \$UUID > .../mdev_supported_types/mtty-2/create succeeds" \
		bash -c "echo $uuid > $sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-2/create"
else
	check "$transport: umdevctl start -u \$UUID -p mtty --type mtty-2 succeeds" \
		"$umdevctl" --run-dir "$run" start -u "$uuid" -p mtty --type mtty-2
fi
check "$transport: the device is in the sysfs tree (bus/mdev/devices/\$UUID)" test -d "$entry"
check "$transport: the device serves its sockets" \
	test -S "$run/devices/$uuid/vfio-user.sock" -a -S "$run/devices/$uuid/mpqemu.sock"

# the guest, with the device attached by umdevctl qemu
guest_args "umdev.ports=2 umdev.bytes=$guest_bytes umdev.unplug=1 $append"
guest_start "$umdevctl" --run-dir "$run" qemu --transport "$transport" "$uuid" -- \
	"$qemu" "${guest_argv[@]}"
if wait_console '^GUEST-UNPLUG-READY' "$guest_timeout"; then
	pass "$transport: the guest tool checked the card and waits for the unplug"
else
	fail "$transport: the guest tool checked the card and waits for the unplug"
	guest_wait
	give_up
fi

mark "the guest tool's checks done"
# hot unplug: QEMU asks the guest (ACPI), the guest lets go, QEMU says DEVICE_DELETED
check "$transport: QMP device_del unplugs the card (DEVICE_DELETED)" \
	qmp device_del "{\"id\":\"umdev-$uuid\"}" --event DEVICE_DELETED --timeout 60
mark "DEVICE_DELETED"
wait_console '^GUEST-DONE' 60
mark "the guest saw the card go"

# the device removed while QEMU still runs: nothing may hold it any more
if [ "$transport" = mpqemu ]; then
	check "$transport: echo 1 > .../\$UUID/remove succeeds" bash -c "echo 1 > $entry/remove"
else
	check "$transport: umdevctl stop -u \$UUID succeeds" \
		"$umdevctl" --run-dir "$run" stop -u "$uuid"
fi
check "$transport: the device is gone from the sysfs tree" test ! -e "$entry" -a \
	! -e "$sys/devices/virtual/mtty/mtty/$uuid"
check "$transport: its sockets are gone" test ! -e "$run/devices/$uuid"
check "$transport: umdevctl list answers and no longer shows it" \
	bash -c "out=\$('$umdevctl' --run-dir '$run' list) && ! grep -q $uuid <<<\"\$out\""
check "$transport: QEMU still runs after the unplug and the removal" kill -0 "$guest_pid"

mark "the device removed"
# the end of the machine: QEMU quits when asked
check "$transport: QMP quit is answered" qmp quit
guest_wait
if [ "$guest_status" = 124 ] || [ "$guest_status" = 137 ]; then
	fail "$transport: the guest run ends within $guest_timeout s (timed out)"
else
	check "$transport: QEMU exits 0 (exit $guest_status after ${guest_secs} s)" \
		test "$guest_status" = 0
fi
check "$transport: the guest tool ran to its end" grep -q '^GUEST-DONE passed=' "$logdir/console.log"
assert_guest_checks "$mode"

daemon_down
check "$transport: umdevd exits 0 on SIGTERM (exit $daemon_status)" test "$daemon_status" = 0
check "$transport: umdevd unmounted its sysfs tree" bash -c "! mountpoint -q '$sys'"
# One refusal is expected over vfio-user: QEMU asks for the ERR IRQ index (3), which mtty does
# not have (EINVAL, as the kernel's sample answers), and goes on without it.
no_complaints "$logdir/daemon.log" umdevd 'DEVICE_GET_IRQ_INFO failed: -22$'
# QEMU 7.2's proxy closes its socket at the unplug but still has its memory listener: the
# memory map change of the unplug itself sends SYNC_SYSMEM to the closed socket, and says so.
[ "$transport" = mpqemu ] && qemu_quirk='^qemu-system-x86_64: Unable to write to socket: Bad file descriptor$'
no_complaints "$logdir/qemu.log" QEMU "${qemu_quirk:-^$}"

guest_diagnostics
for l in "${tap_lines[@]}"; do
	if [[ $l == "not ok "* ]]; then
		log_tails
		break
	fi
done
finish
