#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs client_kill (clients SIGKILLed mid-traffic) against a real umdevd: starts the daemon
# in a fresh run dir, starts an mtty-2 device with umdevctl, hands both to client_kill, then
# stops the daemon with SIGTERM, which must exit 0 (under ASan that includes LeakSanitizer's
# check of everything the killed clients left behind). Prints TAP.
#
#   client_kill.sh UMDEVD UMDEVCTL CLIENT_KILL [SANITIZERS]
#     SANITIZERS: meson's b_sanitize; other than "none", RSS is reported, not compared
set -uo pipefail

src=${UMDEV_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib/tap.sh
. "$src/tests/lib/tap.sh"
. "$src/tests/daemon/daemon_lib.sh"

umdevd=$1
umdevctl=$2
client_kill=$3
[ "${4:-none}" = none ] || export UMDEV_FAULT_SANITIZED=1
uuid=6b696c6c-0000-4000-8000-000000000001
tmp=$(mktemp -d /tmp/umdev-client-kill.XXXXXX) || { echo "1..1"; echo "not ok 1 - mktemp"; exit 1; }
cleanup() { daemon_kill_all; rm -rf "$tmp"; }
trap cleanup EXIT
export UMDEV_RUN_DIR=$tmp/run

log=$tmp/umdevd.log
if ! daemon_start "$log" --foreground --run-dir "$tmp/run" --conf-dir "$tmp/conf" --no-sysfs; then
	fail "umdevd starts"
	diag_file "$log"
	finish
fi
check "an mtty-2 device starts" "$umdevctl" start -p mtty -t mtty-2 -u $uuid

# client_kill's own TAP lines become part of ours
out=$(UMDEV_FAULT_DAEMON_PID=$daemon_pid UMDEV_FAULT_SOCKET=$tmp/run/devices/$uuid/vfio-user.sock \
	timeout 240 "$client_kill" 2>&1)
st=$?
while IFS= read -r l; do
	case $l in
	"ok "*) pass "${l#ok [0-9]* - }" ;;
	"not ok "*) fail "${l#not ok [0-9]* - }" ;;
	"#"*) tap_add_raw "$l" ;;
	esac
done <<<"$out"
check "client_kill exits 0 (status $st)" test $st -eq 0

daemon_stop TERM
check "umdevd exits 0 on SIGTERM after the kills (status $daemon_status)" test "$daemon_status" = 0
[ "$daemon_status" = 0 ] || diag_file "$log"
finish
