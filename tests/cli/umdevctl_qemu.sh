#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `umdevctl qemu` against a real umdevd with mtty devices started by umdevctl, and a fake
# QEMU (fake_qemu.c) that records its command line and uses what it was given: the fds
# named by x-pci-proxy-dev must be connected sockets on which the device answers mpqemu
# config reads; vfio-user-pci's JSON must name a socket that answers over vfio-user. Then
# the errors: each exits non-zero with its message and runs nothing. Prints TAP.
#
#   umdevctl_qemu.sh UMDEVD UMDEVCTL FAKE_QEMU
set -uo pipefail

src=${UMDEV_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib/tap.sh
. "$src/tests/lib/tap.sh"
. "$src/tests/daemon/daemon_lib.sh"

umdevd=$1
umdevctl=$2
fake=$3
# a short run dir: device socket paths must fit in sun_path
tmp=$(mktemp -d /tmp/uq.XXXXXX) || { echo "1..1"; echo "not ok 1 - mktemp"; exit 1; }
cleanup() { daemon_kill_all; exec 7>&- 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
run=$tmp/r
log=$tmp/umdevd.log
rec=$tmp/rec

ctl() { "$umdevctl" --run-dir "$run" "$@"; }
# qemu ARGS...: umdevctl qemu with a fresh record file; status in $st, stderr in $err
qemu() {
	rm -f "$rec"
	ctl qemu "$@" 2>"$tmp/err" >"$tmp/out"
	st=$?
	err=$(cat "$tmp/err")
}
# rec_line PATTERN: the record's lines matching PATTERN (grep -E)
rec_line() { grep -E -- "$1" "$rec" 2>/dev/null; }
# ran_nothing: the fake QEMU did not run (it writes its record first thing)
ran_nothing() { test ! -e "$rec"; }
has_err() { [[ $err == *"$1"* ]]; } # the text (of any number of lines) is in stderr

if ! daemon_start "$log" --foreground --run-dir "$run" --conf-dir "$tmp/conf" --no-sysfs \
	--driver-dir "$tmp/drivers"; then
	fail "umdevd starts"
	diag_file "$log"
	finish
fi
u1=$(ctl start -p mtty -t mtty-2)
u2=3f1e6b52-7c44-4d58-a8c1-2e4b5e6f7a80
ctl start -u "${u2^^}" -p mtty -t mtty-1
check "two mtty devices start through umdevctl" test -n "$u1" -a $? -eq 0
for u in "$u1" "$u2"; do
	for i in $(seq 50); do test -S "$run/devices/$u/mpqemu.sock" && break; sleep 0.1; done
done
mtty2="vendor=0x4348 device=0x3253 class=0x070002 revision=0x10"

# ---- (a) the fake QEMU gets working devices ----
qemu "$u1" -- "$fake" --out "$rec" a 'b c'
check "mpqemu: umdevctl qemu runs QEMU (exit 0)" test "$st" -eq 0
fd=$(rec_line '^argv 6 ' | sed -n 's/.*,fd=\([0-9]*\)$/\1/p')
check "mpqemu: the user's arguments come first, then -device x-pci-proxy-dev,id=umdev-UUID,fd=N" \
	test "$(sed -n 's/^argv //p' "$rec")" = "$(printf '%s\n' "0 $fake" "1 --out" "2 $rec" "3 a" \
		"4 b c" "5 -device" "6 x-pci-proxy-dev,id=umdev-$u1,fd=$fd")"
check "mpqemu: fd $fd is a connected socket on which the device answers as mtty-2" \
	test "$(rec_line '^(device|error) ')" = "device umdev-$u1 mpqemu $mtty2"

rm -f "$rec"
"$umdevctl" --run-dir "$run" qemu "$u1" -- "$fake" --out "$rec" --exit 7 &
pid=$!
wait $pid
st=$?
check "QEMU replaces umdevctl (same pid) and its exit status is umdevctl's" \
	test "$st" -eq 7 -a "$(rec_line '^pid ')" = "pid $pid"

qemu "${u2//-/}" "$u1" -- "$fake" --out "$rec"
check "two devices (one UUID in simple form): both attached, in the order given, canonical ids" \
	test "$st" -eq 0 -a "$(rec_line '^(device|error) ' | cut -d' ' -f1-3)" = \
	"$(printf '%s\n' "device umdev-$u2 mpqemu" "device umdev-$u1 mpqemu")"
check "two devices: each answers as itself (mtty-1, mtty-2)" \
	test "$(rec_line "^device umdev-$u2 " | cut -d' ' -f4)" = "vendor=0x4348" -a \
	"$(rec_line "^device umdev-$u1 " | cut -d' ' -f4-)" = "$mtty2"
fds=$(sed -n 's/^argv [0-9]* x-pci-proxy-dev,.*,fd=//p' "$rec" | sort -u | wc -l)
check "two devices: two distinct inherited fds" test "$fds" -eq 2

rm -f "$rec"
ctl qemu "$u1" -- "$fake" --out "$rec" <&- 2>"$tmp/err"
st=$?
check "with stdin closed, the inherited fd is still none of 0, 1, 2" test "$st" -eq 0 -a \
	"$(rec_line '^argv 4 ' | sed -n 's/.*,fd=//p')" -gt 2 -a \
	-n "$(rec_line "^device umdev-$u1 mpqemu $mtty2")"

mkdir -p "$tmp/bin"
ln -s "$fake" "$tmp/bin/qemu-fake"
rm -f "$rec"
PATH="$tmp/bin:$PATH" ctl qemu --transport=mpqemu "$u1" -- qemu-fake --out "$rec" 2>"$tmp/err"
st=$?
check "the QEMU program is searched in PATH, and keeps the name given as argv[0]" \
	test "$st" -eq 0 -a "$(rec_line '^argv 0 ')" = "argv 0 qemu-fake" -a \
	-n "$(rec_line "^device umdev-$u1 mpqemu $mtty2")"

qemu --transport vfio-user "$u1" -- "$fake" --out "$rec"
json="{\"driver\":\"vfio-user-pci\",\"id\":\"umdev-$u1\",\"socket\":{\"path\":\"$run/devices/$u1/vfio-user.sock\",\"type\":\"unix\"}}"
check "vfio-user: -device gets vfio-user-pci's JSON with the socket's absolute path" \
	test "$st" -eq 0 -a "$(sed -n 's/^argv //p' "$rec" | tail -n 2)" = \
	"$(printf '%s\n' "3 -device" "4 $json")"
check "vfio-user: the device answers at that path as mtty-2, and no fd is passed" \
	test "$(rec_line '^(device|error) ')" = "device umdev-$u1 vfio-user $mtty2"

# ---- (b) errors: a message, a non-zero exit, nothing run ----
# expect_fail DESC STATUS TEXT: the last qemu exited STATUS, TEXT is in its stderr, and the
# fake QEMU did not run
expect_fail() {
	if [ "$st" -eq "$2" ] && has_err "$3" && ran_nothing; then
		pass "$1"
	else
		fail "$1"
		diag "status $st, ran: $(test -e "$rec" && echo yes || echo no), stderr: $err"
	fi
}
nouuid=3f1e6b52-0000-4d58-a8c1-2e4b5e6f7a80
qemu "$nouuid" -- "$fake" --out "$rec"
expect_fail "an unknown UUID: exit 1, the daemon's error names it" 1 \
	"Error: Mediated device $nouuid is not active"
check "... and that is all it prints" test "$err" = "Error: Mediated device $nouuid is not active"
qemu "$u1" "$nouuid" -- "$fake" --out "$rec"
expect_fail "an unknown UUID after a good one: exit 1" 1 "Mediated device $nouuid is not active"
qemu "$u1" -- "$fake" --out "$rec"
check "... and the good one was released: it attaches next time" \
	test "$st" -eq 0 -a -n "$(rec_line "^device umdev-$u1 mpqemu $mtty2")"
qemu 3f1e6b52-7c44-4d58-a8c1 -- "$fake" --out "$rec"
expect_fail "a malformed UUID: exit 2 with the uuid crate's reason" 2 \
	"error: Invalid value \"3f1e6b52-7c44-4d58-a8c1\" for '<UUID>...': invalid group count: expected 5, found 4"
qemu "$u1" "$u2"
expect_fail "no '--' after the UUIDs: exit 2, says what must follow" 2 \
	"error: '--' and the QEMU command line must follow the UUIDs"
qemu "$u1" "$fake" --out "$rec"
expect_fail "no '--' before QEMU: exit 2, says so rather than 'no UUID'" 2 \
	"error: '$fake' is no UUID, and no '--' is given: '--' and the QEMU command line must follow the UUIDs"
qemu "$u1" --
expect_fail "nothing after '--': exit 2, no QEMU program" 2 "No QEMU program after '--'"
qemu "$u1" -- ''
expect_fail "an empty QEMU program: exit 2" 2 "The QEMU program after '--' is empty"
qemu -- "$fake" --out "$rec"
expect_fail "no UUID: exit 2, <UUID>... is required" 2 \
	"$(printf 'The following required arguments were not provided:\n    <UUID>...')"
qemu "$u1" -- no-such-qemu-here --out "$rec"
expect_fail "a QEMU program not in PATH: exit 1, named" 1 \
	"Error: QEMU program 'no-such-qemu-here' not found in PATH"
qemu "$u1" -- "$tmp/bin" --out "$rec"
expect_fail "a QEMU program that is a directory: exit 1, permission denied" 1 \
	"Error: cannot run QEMU program '$tmp/bin': Permission denied"
qemu --transport qmp "$u1" -- "$fake" --out "$rec"
expect_fail "an unknown transport: exit 2, with the possible values" 2 \
	"$(printf '"qmp" isn'"'"'t a valid value for '"'"'--transport <TRANSPORT>'"'"'\n\t[possible values: mpqemu, vfio-user]')"
qemu --transport mpqemu --transport vfio-user "$u1" -- "$fake" --out "$rec"
expect_fail "--transport twice: exit 2" 2 \
	"The argument '--transport <TRANSPORT>' was provided more than once"
qemu "$u1" --transport
expect_fail "--transport without a value: exit 2" 2 \
	"The argument '--transport <TRANSPORT>' requires a value but none was supplied"
qemu --fd 3 "$u1" -- "$fake" --out "$rec"
expect_fail "an unknown option: exit 2, named" 2 "Found argument '--fd' which wasn't expected"
qemu "$u1" "${u1^^}" -- "$fake" --out "$rec"
expect_fail "the same device twice (in two forms): exit 2" 2 "The device $u1 is given more than once"
many=()
for i in $(seq 65); do many+=("$(printf '%08x-0000-4000-8000-%012x' "$i" "$i")"); done
qemu "${many[@]}" -- "$fake" --out "$rec"
expect_fail "65 devices: exit 2, at most CLI_QEMU_MAX_DEVICES (64)" 2 "More than 64 devices given"
qemu "${many[@]:0:64}" -- "$fake" --out "$rec"
expect_fail "64 devices are not too many: the daemon is asked (for the first, unknown)" 1 \
	"Error: Mediated device ${many[0]} is not active"
rm -f "$rec"
"$umdevctl" --run-dir "$tmp/nowhere" qemu "$u1" -- "$fake" --out "$rec" 2>"$tmp/err"
st=$?
err=$(cat "$tmp/err")
expect_fail "no daemon at the run dir: exit 1, says so" 1 \
	"Error: cannot reach umdevd at $tmp/nowhere/control.sock"

# a device in use: QEMU (fake) holds it; a second umdevctl qemu must fail before running
mkfifo "$tmp/hold"
"$umdevctl" --run-dir "$run" qemu "$u1" -- "$fake" --out "$tmp/held" --hold <"$tmp/hold" &
holder=$!
exec 7>"$tmp/hold"
for i in $(seq 50); do grep -q '^held' "$tmp/held" 2>/dev/null && break; sleep 0.1; done
qemu "$u1" -- "$fake" --out "$rec"
expect_fail "a device in use: exit 1, says it serves one client" 1 \
	"Error: Device $u1 closed the connection at $run/devices/$u1/mpqemu.sock: it serves one client at a time"
exec 7>&-
wait $holder
check "... the holder ran and ended normally" test $? -eq 0 -a -n "$(grep '^held' "$tmp/held")"
qemu "$u1" -- "$fake" --out "$rec"
check "... and once QEMU is gone the device attaches again" test "$st" -eq 0 -a \
	-n "$(rec_line "^device umdev-$u1 mpqemu $mtty2")"

ctl stop -u "$u2"
qemu --transport vfio-user "$u2" -- "$fake" --out "$rec"
expect_fail "a stopped device: exit 1 (vfio-user too)" 1 "Mediated device $u2 is not active"

# ---- help ----
out=$(ctl qemu --help)
check "qemu --help exits 0 with the usage" test $? -eq 0 -a \
	-n "$(grep -F 'umdevctl qemu [OPTIONS] <UUID>... -- <QEMU> [ARGS]...' <<<"$out")"
check "help qemu prints the same" test "$(ctl help qemu)" = "$out"
check "the main help lists qemu" grep -q '^    qemu  ' <<<"$(ctl --help)"

daemon_stop TERM
check "umdevd stops cleanly" test "$daemon_status" = 0
finish
