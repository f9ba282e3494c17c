#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# umdev-serve: one device served over vfio-user and mpqemu at once (a client reads the PCI
# IDs through each socket in turn), the errors of its command line, an attribute written at
# creation, a socket path that is taken, and SIGTERM with a client attached (exit 0, socket
# files gone). Prints TAP.
#
#   umdev_serve.sh UMDEV_SERVE SOCKET_PROBE
set -uo pipefail

src=${UMDEV_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib/tap.sh
. "$src/tests/lib/tap.sh"

serve=$1
probe=$2
tmp=$(mktemp -d /tmp/umdev-serve-test.XXXXXX) || { echo "1..1"; echo "not ok 1 - mktemp"; exit 1; }
pids=()
cleanup() { local p; for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"; }
uuid=6f1c2d3e-4b5a-4978-8a1b-2c3d4e5f6a7b

wait_for() { # wait_for LOG PATTERN: up to 30 s
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- the command line ----
out=$("$serve" --driver null --type null-1 --uuid "$uuid" 2>&1)
check "without a socket: exit 2, saying what is required" \
	test $? -eq 2 -a -n "$(grep -F -- '--socket or --mpqemu-socket are required' <<<"$out")"
out=$("$serve" --driver null --type null-9 --uuid "$uuid" --socket "$tmp/x.sock" 2>&1)
check "an unknown type: exit 1, naming it" \
	test $? -eq 1 -a -n "$(grep -F "no parent offers type 'null-9'" <<<"$out")"
out=$("$serve" --driver null --type null-1 --uuid not-a-uuid --socket "$tmp/x.sock" 2>&1)
check "a bad UUID: exit 1, naming it" test $? -eq 1 -a -n "$(grep -F "'not-a-uuid' is not a UUID" <<<"$out")"
out=$("$serve" --driver nosuch --type null-1 --uuid "$uuid" --socket "$tmp/x.sock" 2>&1)
check "an unknown driver: exit 1, naming it" test $? -eq 1 -a -n "$(grep -F "no built-in driver 'nosuch'" <<<"$out")"
mkdir "$tmp/taken.sock"
out=$("$serve" --driver null --type null-1 --uuid "$uuid" --socket "$tmp/taken.sock" 2>&1)
check "a socket path that is a directory: exit 1, the device removed" \
	test $? -eq 1 -a -n "$(grep -F "cannot listen on $tmp/taken.sock" <<<"$out")"

# ---- both transports ----
log=$tmp/serve.log
"$serve" --driver mtty --type mtty-2 --uuid "$uuid" --socket "$tmp/vu.sock" \
	--mpqemu-socket "$tmp/mpq.sock" --attr vendor/port1_backend=loopback >"$log" 2>&1 &
pid=$!
pids+=("$pid")
if wait_for "$log" 'over mpqemu at'; then
	pass "umdev-serve serves mtty-2 over vfio-user and mpqemu"
else
	fail "umdev-serve serves mtty-2 over vfio-user and mpqemu"
	diag_file "$log"
	finish
fi
check "the sockets have mode 0600" test "$(stat -c %a "$tmp/vu.sock") $(stat -c %a "$tmp/mpq.sock")" = "600 600"
check "vfio-user: the PCI IDs of mtty" test "$("$probe" vfio-user "$tmp/vu.sock" 2>&1)" = "vendor=0x4348 device=0x3253"
check "mpqemu: the PCI IDs of mtty" test "$("$probe" mpqemu "$tmp/mpq.sock" 2>&1)" = "vendor=0x4348 device=0x3253"
check "vfio-user again after the mpqemu client went" \
	test "$("$probe" vfio-user "$tmp/vu.sock" 2>&1)" = "vendor=0x4348 device=0x3253"

# A client holds the device; the other transport is refused meanwhile; SIGTERM disconnects it.
coproc HOLD { "$probe" hold "$tmp/vu.sock" 2>&1; }
# a copy of its output: bash unsets HOLD as soon as the coprocess exits
exec {hold_out}<&"${HOLD[0]}"
read -r -t 30 line <&"$hold_out"
check "a vfio-user client holds the device" test "${line:-}" = connected
out=$("$probe" mpqemu "$tmp/mpq.sock" 2>&1)
check "meanwhile an mpqemu client is turned away" test $? -ne 0
kill -TERM "$pid"
read -r -t 30 line <&"$hold_out"
exec {hold_out}<&-
check "SIGTERM: the client's connection is closed" test "${line:-}" = closed
wait "$pid"
check "SIGTERM: exit status 0" test $? -eq 0
check "SIGTERM: both socket files are gone" test ! -e "$tmp/vu.sock" -a ! -e "$tmp/mpq.sock"
[ -e "$tmp/vu.sock" ] && diag_file "$log"

finish
