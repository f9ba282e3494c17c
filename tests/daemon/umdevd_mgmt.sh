#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# umdevd's management plane end to end, as its users meet it: umdevctl over the control
# socket, `echo` into the sysfs tree the daemon mounts, and Debian's mdevctl 1.2.0 run in a
# private mount namespace over that tree (whole-/sys mode of spec/mdevctl-contract.md (c)),
# with umdevctl's output compared to mdevctl's for the same state; every device started is
# checked to be served over both transports, and gone (sockets included) once removed. Then
# restarts: `auto` definitions come back after SIGTERM and after SIGKILL (which also leaves a
# stale FUSE mount and stale sockets behind to be cleaned up), and a daemon killed while it
# writes definitions leaves none torn. Needs root, /dev/fuse, mdevctl and unshare; prints
# TAP and skips (saying why) without them.
#
#   umdevd_mgmt.sh UMDEVD UMDEVCTL SOCKET_PROBE
set -uo pipefail

src=${UMDEV_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib/tap.sh
. "$src/tests/lib/tap.sh"
. "$src/tests/daemon/daemon_lib.sh"

umdevd=$1
umdevctl_bin=$2
probe=$3

skip_all() { pass "umdevd management plane # SKIP $1"; finish; }
[ "$(id -u)" = 0 ] || skip_all "needs root (FUSE mount with allow_other, mount namespaces)"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"
have_mdevctl=1
command -v mdevctl >/dev/null && command -v unshare >/dev/null || have_mdevctl=0

tmp=$(mktemp -d /tmp/umdevd-mgmt.XXXXXX) || { echo "1..1"; echo "not ok 1 - mktemp"; exit 1; }
chmod 755 "$tmp"
run=$tmp/run
conf=$tmp/conf
tree=$run/sys
mkdir -p "$conf/scripts.d/callouts" "$conf/scripts.d/notifiers" # what mdevctl needs in /etc/mdevctl.d
cleanup() {
	daemon_kill_all
	grep -q " $tree " /proc/mounts && umount -l "$tree"
	rm -rf "$tmp"
}
trap cleanup EXIT

U1=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001
U2=6a1c0b2e-3f4d-4e5a-8b6c-7d8e9f0a1b2c
U3=0f6e5d4c-3b2a-4190-8877-665544332211
U4=1a2b3c4d-5e6f-4a0b-9c1d-2e3f4a5b6c7d
U5=2b3c4d5e-6f70-4b1c-8d2e-3f4a5b6c7d8e
U6=3c4d5e6f-7081-4c2d-9e3f-4a5b6c7d8e9f
types=devices/virtual/mtty/mtty/mdev_supported_types

umdevctl() { "$umdevctl_bin" --run-dir "$run" "$@"; }
# mdevctl over the daemon's tree and definitions, in a mount namespace of its own
mdevctl_ns() {
	unshare -m --propagation private -- sh -c '
		mount --rbind "$1" /sys && mount --bind "$2" /etc/mdevctl.d || exit 99
		shift 2
		exec mdevctl "$@"' sh "$tree" "$conf" "$@"
}
# same_output DESC CMD...: mdevctl CMD and umdevctl CMD print the same bytes, both exit 0
same_output() {
	local desc=$1 a b sa sb
	shift
	a=$(mdevctl_ns "$@" 2>&1; echo "rc=$?")
	b=$(umdevctl "$@" 2>&1; echo "rc=$?")
	if [ "$a" = "$b" ] && [[ $a == *rc=0 ]]; then
		pass "$desc"
	else
		fail "$desc"
		while IFS= read -r sa; do diag "mdevctl:  $sa"; done <<<"$a"
		while IFS= read -r sb; do diag "umdevctl: $sb"; done <<<"$b"
	fi
}
# served UUID: both sockets answer with the mtty card's IDs
served() {
	local d=$run/devices/$1
	[ "$("$probe" vfio-user "$d/vfio-user.sock" 2>&1)" = "vendor=0x4348 device=0x3253" ] &&
		[ "$("$probe" mpqemu "$d/mpqemu.sock" 2>&1)" = "vendor=0x4348 device=0x3253" ]
}
gone() { [ ! -e "$run/devices/$1" ] && [ ! -e "$tree/bus/mdev/devices/$1" ]; }
active() { umdevctl list 2>/dev/null | grep -q "^$1 "; }
avail() { cat "$tree/$types/$1/available_instances"; }
start_daemon() { daemon_start "$1" --foreground --run-dir "$run" --conf-dir "$conf"; }

log=$tmp/daemon1.log
if start_daemon "$log"; then
	pass "umdevd starts with its sysfs tree and control socket"
else
	fail "umdevd starts with its sysfs tree and control socket"
	diag_file "$log"
	finish
fi
check "the tree is a FUSE mount at <run-dir>/sys" grep -q " $tree fuse.umdev-sysfs " /proc/mounts

# ---- umdevctl over the control socket ----
out=$(umdevctl types)
check "umdevctl types lists mtty-2 with 12 instances available" \
	test "$(grep -A1 '^  mtty-2$' <<<"$out" | tail -1)" = "    Available instances: 12"
check "umdevctl start creates a device" umdevctl start -p mtty -t mtty-2 -u $U1
check "the device is served over vfio-user and mpqemu" served $U1
check "the tree shows it, its type link and the parent's count" \
	test "$(basename "$(readlink -f "$tree/bus/mdev/devices/$U1/mdev_type")")" = mtty-2 \
	-a "$(avail mtty-2)" = 11
check "umdevctl info names its vfio-user socket" \
	grep -qF "$run/devices/$U1/vfio-user.sock" <<<"$(umdevctl info $U1)"
check "umdevctl stop removes it, sockets and all" umdevctl stop -u $U1
check "after stop the device is gone from the tree and the run dir" gone $U1
out=$(umdevctl stop -u $U1 2>&1)
check "stopping it again fails, on stderr" test $? -ne 0 -a -n "$out"

# ---- echo into the tree ----
echo $U2 >"$tree/$types/mtty-2/create"
check "echo UUID > create starts a device" active $U2
check "the echoed device is served" served $U2
out=$( (echo $U2 >"$tree/$types/mtty-1/create") 2>&1)
check "echoing the same UUID again: \"File exists\"" grep -q "File exists" <<<"$out"
echo 1 >"$tree/bus/mdev/devices/$U2/remove"
check "echo 1 > remove removes it, sockets and all" gone $U2
check "the count is back" test "$(avail mtty-2)" = 12

# ---- Debian's mdevctl over the tree, compared with umdevctl ----
if [ $have_mdevctl = 1 ]; then
	same_output "types: mdevctl and umdevctl agree" types
	check "mdevctl start creates a device umdevd serves" \
		mdevctl_ns start -p mtty -t mtty-1 -u $U3
	check "the device mdevctl started is served" served $U3
	same_output "list: mdevctl and umdevctl agree" list
	same_output "list --dumpjson: mdevctl and umdevctl agree" list --dumpjson
	check "mdevctl define --auto writes the definition in umdevd's conf dir" \
		mdevctl_ns define -u $U4 -p mtty -t mtty-2 --auto
	check "umdevctl define (manual) is seen by mdevctl" \
		umdevctl define -u $U5 -p mtty -t mtty-1
	check "the definitions are files <conf>/<parent>/<uuid>" \
		test -f "$conf/mtty/$U4" -a -f "$conf/mtty/$U5"
	same_output "list --defined: mdevctl and umdevctl agree" list --defined
	same_output "list --defined --dumpjson: mdevctl and umdevctl agree" list --defined --dumpjson
	check "mdevctl start-parent-mdevs starts the auto definition" \
		mdevctl_ns start-parent-mdevs mtty
	check "... which is active and served, and the manual one is not started" \
		eval "active $U4 && served $U4 && ! active $U5"
	same_output "list -v with defined devices active: mdevctl and umdevctl agree" list -v
	check "mdevctl stop removes a device" mdevctl_ns stop -u $U3
	check "... sockets and all" gone $U3
else
	pass "mdevctl over the tree # SKIP mdevctl or unshare is not installed"
	umdevctl define -u $U4 -p mtty -t mtty-2 --auto
	umdevctl define -u $U5 -p mtty -t mtty-1
	umdevctl start -u $U4
fi

# ---- restarts ----
umdevctl define -u $U6 -p mtty -t mtty-2 --auto
check "a definition made while the daemon runs is not started" eval "! active $U6"
daemon_stop TERM
check "SIGTERM: exit status 0" test "$daemon_status" = 0
check "SIGTERM: the tree is unmounted" eval "! grep -q ' $tree ' /proc/mounts"
check "SIGTERM: no device dir is left" test -z "$(ls -A "$run/devices" 2>/dev/null)"

log=$tmp/daemon2.log
start_daemon "$log"
check "after a restart the auto devices are back and served" \
	eval "active $U4 && active $U6 && served $U4 && served $U6"
check "... and the manual one is not" eval "! active $U5"

daemon_stop KILL
check "SIGKILL leaves the FUSE mount and the sockets behind" \
	eval "grep -q ' $tree ' /proc/mounts && test -S '$run/devices/$U4/vfio-user.sock'"
log=$tmp/daemon3.log
start_daemon "$log"
check "after SIGKILL the stale mount is replaced" \
	eval "grep -q 'removing the stale sysfs mount' '$log' && test \$(grep -c ' $tree ' /proc/mounts) = 1"
check "after SIGKILL the auto devices are back and served" \
	eval "active $U4 && active $U6 && served $U4 && served $U6"
check "the tree works after the restart" test "$(avail mtty-2)" = 10

# ---- SIGKILL while definitions are being written: none is torn ----
torn=0
for round in 1 2 3 4 5; do
	(
		for i in $(seq 1 200); do
			u=$(printf 'a0a0a0a0-%04x-4000-8000-%012x' "$round" "$i")
			"$umdevctl_bin" --run-dir "$run" define -u "$u" -p mtty \
				--jsonfile /dev/stdin >/dev/null 2>&1 <<-EOF
				{"mdev_type":"mtty-1","start":"manual","attrs":[{"a$i":"$(printf 'x%.0s' $(seq 1 300))"}]}
				EOF
		done
	) &
	writer=$!
	sleep 0.$((RANDOM % 5 + 2))
	daemon_stop KILL
	kill "$writer" 2>/dev/null
	wait "$writer" 2>/dev/null
	# every definition must parse; a hidden temporary (.<uuid>.<hex>) may be cut short by the
	# kill: it is never read, and the next daemon removes it (checked below)
	bad=$(python3 -c '
import json, os, sys
for d, _, files in os.walk(sys.argv[1]):
    for f in files:
        if f.startswith("."):
            continue
        try:
            json.load(open(os.path.join(d, f)))
        except ValueError:
            print(os.path.join(d, f))' "$conf")
	[ -z "$bad" ] || { torn=$((torn + 1)); diag "torn: $bad"; }
	start_daemon "$tmp/daemon-kill$round.log" || { torn=$((torn + 1)); diag "no restart"; }
done
check "5 daemons killed while defining: every definition file parses" test $torn = 0
check "each restart removed the temporaries the killed daemon left" \
	test -z "$(find "$conf/mtty" -name '.*' -type f)"
count=$(ls "$conf/mtty" | wc -l)
check "the definitions written before each kill are listed ($count files)" \
	test "$(umdevctl list --defined | grep -c '^[0-9a-f]\{8\}-')" = "$count"

daemon_stop TERM
check "the last daemon exits 0" test "$daemon_status" = 0
finish
