#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guest benchmark (docs/performance.md, "Guest level"): what a guest sees of an mtty card
# served by umdevd, over each transport, against QEMU's built-in pci-serial-2x in the same
# guest and the same run (the floor: a UART that QEMU emulates in its own process).
#   - latency: the time of one port read (inb of the scratch register) of the mtty card and of
#     the pci-serial-2x card, timed in the guest over N reads in batches of 100: the mean of
#     the fastest batch (a batch the busy host preempted is slower, never faster), and the
#     mean of all;
#   - throughput: bytes per second looped back through the card's ports (both, one after
#     the other) with the guest's serial driver: interrupt-driven over vfio-user (INTx), and
#     polled (irq 0) over mpqemu, which has no interrupts under TCG; and, to tell the
#     transport from the mode, polled over vfio-user too.
# One guest per row (Debian's kernel, TCG, one vCPU): the figures are those of an emulated
# CPU, and a busy host makes them worse. Not part of the test suites.
#
#   bench/guest_bench.sh [BUILD_DIR]        default build/release (made if missing)
#
# Environment: UMDEV_BENCH_READS (port reads timed, default 20000), UMDEV_BENCH_BYTES (bytes
# looped back per port, default 8192), and the guest tests' UMDEV_QEMU, UMDEV_QEMU_MPQEMU,
# UMDEV_GUEST_KERNEL, UMDEV_GUEST_BUSYBOX, UMDEV_GUEST_TIMEOUT (docs/guest-tests.md).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
build=${1:-build/release}
reads=${UMDEV_BENCH_READS:-20000}
bytes=${UMDEV_BENCH_BYTES:-8192}

[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release >/dev/null || exit 1
ninja -C "$build" src/daemon/umdevd src/cli/umdevctl tests/guest/guest_tool >/dev/null || exit 1
build=$(cd "$build" && pwd)
logdir=$build/bench-guest-logs
rm -rf "$logdir"
# shellcheck source=../tests/guest/guest_lib.sh
. "$src/tests/guest/guest_lib.sh"
trap guest_lib_cleanup EXIT
die() { echo "guest_bench: $*" >&2; exit 1; }

initrd=$build/tests/guest/initramfs.cpio.gz
uuid=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001
find_kernel || die "$why"
guest_image "$initrd" "$build/tests/guest/guest_tool" || die "$why"
root_log=$logdir

# measure NAME TRANSPORT MODE: one guest; its figures in r_<name>_*.
measure() {
	local name=$1 transport=$2 mode=$3 run append
	logdir=$root_log/$name
	mkdir -p "$logdir"
	run=$tmp/run
	if [ "$transport" = mpqemu ]; then find_qemu_mpqemu; else find_qemu_vfio_user; fi ||
		die "$why"
	daemon_up "$build/src/daemon/umdevd" "$run" "$tmp/conf" "$logdir/daemon.log" || die "$why"
	"$build/src/cli/umdevctl" --run-dir "$run" start -u "$uuid" -p mtty --type mtty-2 ||
		die "umdevctl start failed"
	# room for the ports of two cards (the kernel makes 4 ttyS by default, one the console)
	append="8250.nr_uarts=8 umdev.latency=$reads umdev.bytes=$bytes umdev.timeout=120"
	[ "$mode" = polled ] && append+=" umdev.poll=1"
	guest_args "$append" -device pci-serial-2x
	guest_start "$build/src/cli/umdevctl" --run-dir "$run" qemu --transport "$transport" \
		"$uuid" -- "$qemu" "${guest_argv[@]}"
	guest_wait
	daemon_down
	grep -q '^GUEST-DONE passed=[0-9]* failed=0' "$logdir/console.log" ||
		die "the $name guest failed (exit $guest_status): see $logdir/console.log"
	local t0 t1
	t0=$(guest_result seconds port0_loopback_bytes)
	t1=$(guest_result seconds port1_loopback_bytes)
	declare -g "r_${name}_mtty=$(guest_result latency_mtty_ns)"
	declare -g "r_${name}_floor=$(guest_result latency_pci_serial_ns)"
	declare -g "r_${name}_mtty_mean=$(guest_result latency_mtty_mean_ns)"
	declare -g "r_${name}_floor_mean=$(guest_result latency_pci_serial_mean_ns)"
	declare -g "r_${name}_rate=$(awk -v b="$bytes" -v a="$t0" -v c="$t1" 'BEGIN { printf "%.0f", 2 * b / (a + c) }')"
	declare -g "r_${name}_irqs=$(guest_result irq_count)"
	declare -g "r_${name}_secs=$guest_secs"
	rm -rf "$tmp/run" "$tmp/conf" "$qmp_sock"
}

echo "guest benchmark: $reads port reads, $bytes bytes looped back per port; kernel $kernel"
echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
measure vfio_user vfio-user interrupts
measure vfio_user_polled vfio-user polled
measure mpqemu mpqemu polled

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a / b }'; }
echo
echo "one port read (inb) in the guest, ns: the fastest batch of 100 (the mean of all)"
printf '%-34s %16s %20s %8s\n' "" "mtty" "pci-serial-2x" "ratio"
for n in vfio_user mpqemu; do
	m=r_${n}_mtty f=r_${n}_floor mm=r_${n}_mtty_mean fm=r_${n}_floor_mean
	printf '%-34s %16s %20s %7sx\n' "over ${n/_/-}" \
		"$(printf '%.0f (%.0f)' "${!m}" "${!mm}")" "$(printf '%.0f (%.0f)' "${!f}" "${!fm}")" \
		"$(ratio "${!m}" "${!f}")"
done
echo
printf '%-34s %14s %18s\n' "loopback through the guest's driver" "bytes/s" "interrupts taken"
printf '%-34s %14s %18s\n' "vfio-user, interrupt-driven (INTx)" "$r_vfio_user_rate" "$r_vfio_user_irqs"
printf '%-34s %14s %18s\n' "vfio-user, polled (irq 0)" "$r_vfio_user_polled_rate" "$r_vfio_user_polled_irqs"
printf '%-34s %14s %18s\n' "mpqemu, polled (irq 0)" "$r_mpqemu_rate" "$r_mpqemu_irqs"
echo
echo "interrupt-driven vfio-user / polled mpqemu: $(awk -v a="$r_vfio_user_rate" -v b="$r_mpqemu_rate" 'BEGIN { printf "%.2f", a / b }')x"
echo "host load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "guest runs (launch to power-off): vfio-user ${r_vfio_user_secs} s, vfio-user polled ${r_vfio_user_polled_secs} s, mpqemu ${r_mpqemu_secs} s; logs in $root_log"
