#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# umdevd as a process: its command line, plugins (a good one, one of another ABI, a file that
# is no plugin, one whose name is taken), the run dir lock and the pid in it, the cleanup of
# what a killed daemon left, SIGTERM and SIGINT (exit 0, nothing left behind), detaching
# (the parent returns once the daemon is ready, or fails with it) and the defaults of a user
# who is not root. Prints TAP.
#
#   umdevd_process.sh UMDEVD PLUGIN_DIR NULL_PLUGIN
#     PLUGIN_DIR holds probe.so and wrong_abi.so; NULL_PLUGIN is drivers/null built as a plugin
set -uo pipefail

src=${UMDEV_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib/tap.sh
. "$src/tests/lib/tap.sh"
. "$src/tests/daemon/daemon_lib.sh"

umdevd=$1
plugins=$2
null_plugin=$3
tmp=$(mktemp -d /tmp/umdevd-test.XXXXXX) || { echo "1..1"; echo "not ok 1 - mktemp"; exit 1; }
chmod 755 "$tmp"
cleanup() { daemon_kill_all; rm -rf "$tmp"; }
trap cleanup EXIT

# ---- the command line ----
out=$("$umdevd" --help 2>&1)
check "--help exits 0 and prints the usage" test $? -eq 0 -a -n "$(grep -F 'Usage: umdevd' <<<"$out")"
out=$("$umdevd" --bogus 2>&1)
check "an unknown option exits 2 with the usage" test $? -eq 2 -a -n "$(grep -F 'Usage' <<<"$out")"
out=$("$umdevd" --foreground --log-level loud 2>&1)
check "an unknown log level exits 2 and names it" \
	test $? -eq 2 -a -n "$(grep -F "unknown log level 'loud'" <<<"$out")"
out=$("$umdevd" --foreground --sysfs-dir /tmp/x --no-sysfs 2>&1)
check "--sysfs-dir with --no-sysfs exits 2" test $? -eq 2 -a -n "$(grep -F 'exclude' <<<"$out")"
out=$("$umdevd" --foreground --socket-owner no-such-user-here 2>&1)
check "an unknown socket owner exits 2 and names it" \
	test $? -eq 2 -a -n "$(grep -F "no user 'no-such-user-here'" <<<"$out")"
long=/tmp/$(printf 'r%.0s' {1..60})
out=$("$umdevd" --foreground --run-dir "$long" 2>&1)
check "a run dir too long for socket addresses exits 2 and says so" \
	test $? -eq 2 -a -n "$(grep -F 'too long' <<<"$out")" -a ! -e "$long"
out=$("$umdevd" --foreground --max-devices 0 2>&1)
check "--max-devices 0 exits 2 and says what it takes" \
	test $? -eq 2 -a -n "$(grep -F -- '--max-devices takes 1 to' <<<"$out")"
# a hard fd limit below what --max-devices needs, and no CAP_SYS_RESOURCE to raise it
drop_caps=()
[ "$(id -u)" = 0 ] && drop_caps=(setpriv --bounding-set=-sys_resource --inh-caps=-sys_resource)
out=$(ulimit -n 2000 && ulimit -Hn 2000 && XDG_RUNTIME_DIR=$tmp HOME=$tmp \
	"${drop_caps[@]}" "$umdevd" --foreground --max-devices 5000 --run-dir "$tmp/fdlimit" \
		--conf-dir "$tmp/fdlimit-conf" --no-sysfs 2>&1)
check "a hard fd limit too low for --max-devices exits 1 and says what to raise" \
	test $? -eq 1 -a -n "$(grep -F -- '--max-devices 5000 needs 6024 file descriptors' <<<"$out")" \
	-a -n "$(grep -F 'hard limit (RLIMIT_NOFILE) is 2000' <<<"$out")" -a ! -e "$tmp/fdlimit"

# ---- plugins, the lock, stale files ----
run=$tmp/run
conf=$tmp/conf
drivers=$tmp/drivers
mkdir -p "$drivers" "$run/devices/0b3e8f1c-5d7a-4c2e-9f60-1a2b3c4d5e6f"
cp "$plugins/probe.so" "$plugins/wrong_abi.so" "$drivers/"
echo "not an ELF file" >"$drivers/garbage.so"
stale_dev=$run/devices/0b3e8f1c-5d7a-4c2e-9f60-1a2b3c4d5e6f
make_socket "$stale_dev/vfio-user.sock"
ln -s vfio-user.sock "$stale_dev/mpqemu.sock"
make_socket "$run/control.sock"
echo keep >"$stale_dev/notes.txt"

log=$tmp/daemon1.log
if daemon_start "$log" --foreground --run-dir "$run" --conf-dir "$conf" --no-sysfs \
	--driver-dir "$drivers"; then
	pass "umdevd starts in the foreground and reports ready"
else
	fail "umdevd starts in the foreground and reports ready"
	diag_file "$log"
	finish
fi
check "the built-in drivers start" grep -q 'driver mtty started (built in)' "$log"
check "a plugin of the driver dir starts" grep -q "driver probe started ($drivers/probe.so)" "$log"
check "a plugin of another ABI is refused, saying which ABIs" \
	grep -q "plugin refused: $drivers/wrong_abi.so was built for driver ABI 1001, this program has ABI 1" "$log"
check "a file that is no plugin is refused, saying why" \
	grep -q "plugin refused: cannot load $drivers/garbage.so" "$log"
check "the lock file holds the daemon's pid" test "$(cat "$run/umdevd.lock" 2>/dev/null)" = "$daemon_pid"
check "a stale device socket is removed" test ! -e "$stale_dev/vfio-user.sock"
check "... and its mpqemu.sock link" test ! -L "$stale_dev/mpqemu.sock"
check "a stale control socket is replaced by a listening one" \
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' \
	"$run/control.sock"
check "a file the daemon did not make is kept" test -f "$stale_dev/notes.txt"

out=$(timeout 20 "$umdevd" --foreground --run-dir "$run" --conf-dir "$conf" --no-sysfs \
	--driver-dir "$drivers" 2>&1)
st=$?
check "a second daemon on the same run dir exits 1, naming the run dir" \
	test $st -eq 1 -a -n "$(grep -F "another umdevd is running with the run dir $run" <<<"$out")"
check "the first daemon still runs" kill -0 "$daemon_pid"

daemon_stop TERM
check "SIGTERM: exit status 0" test "$daemon_status" = 0
check "SIGTERM: the plugin's driver is stopped" grep -q 'driver probe stopped' "$log"
check "SIGTERM: the devices dir holds only what the daemon did not make" \
	test "$(find "$run/devices" -mindepth 1 | sort | tr '\n' ' ')" = "$stale_dev $stale_dev/notes.txt "
[ "$daemon_status" = 0 ] || diag_file "$log"

# ---- SIGINT, and a null.so whose name a built-in driver holds ----
rm -rf "$stale_dev"
cp "$null_plugin" "$drivers/null.so"
log=$tmp/daemon2.log
if daemon_start "$log" --foreground --run-dir "$run" --conf-dir "$conf" --no-sysfs \
	--driver-dir "$drivers"; then
	check "a plugin whose driver name runs already is not started twice" \
		grep -q "driver null ($drivers/null.so): a driver of that name runs already" "$log"
	daemon_stop INT
	check "SIGINT: exit status 0" test "$daemon_status" = 0
	check "SIGINT: the devices dir is removed" test ! -e "$run/devices"
else
	fail "umdevd starts again on the same run dir"
	diag_file "$log"
fi

# ---- the service manager's notifications (systemd Type=notify) ----
notify=$tmp/notify.sock
python3 - "$notify" "$tmp/notify.out" <<'EOF_PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "w") as out:
    for _ in range(2):
        try:
            out.write(s.recv(4096).decode() + "\n")
            out.flush()
        except socket.timeout:
            break
EOF_PY
listener=$!
for ((i = 0; i < 100; i++)); do [ -S "$notify" ] && break; sleep 0.1; done
log=$tmp/notify.log
if NOTIFY_SOCKET=$notify daemon_start "$log" --foreground --run-dir "$run" --conf-dir "$conf" \
	--no-sysfs --driver-dir "$drivers"; then
	check "NOTIFY_SOCKET: READY=1 once ready" wait_for_line "$tmp/notify.out" '^READY=1$' 20
	daemon_stop TERM
	wait "$listener"
	check "NOTIFY_SOCKET: STOPPING=1 on SIGTERM" grep -qx 'STOPPING=1' "$tmp/notify.out"
else
	fail "umdevd starts with NOTIFY_SOCKET set"
	diag_file "$log"
	kill "$listener" 2>/dev/null
fi

# ---- detaching ----
log=$tmp/detach.log
"$umdevd" --run-dir "$run" --conf-dir "$conf" --no-sysfs --driver-dir "$drivers" >"$log" 2>&1
st=$?
pid=$(cat "$run/umdevd.lock" 2>/dev/null)
check "detached: the command returns 0 once the daemon is ready" test $st -eq 0
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	pass "detached: the daemon runs, its pid in the lock file"
	daemon_pids+=("$pid")
	check "detached: the daemon leads its own session" \
		test "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid"
	check "detached: nothing is written to the terminal" test ! -s "$log"
	"$umdevd" --run-dir "$run" --conf-dir "$conf" --no-sysfs --driver-dir "$drivers" \
		>"$tmp/detach2.log" 2>&1
	check "detached: a daemon that cannot start makes the command fail" test $? -eq 1
	kill -TERM "$pid"
	check "detached: the daemon stops on SIGTERM" wait_gone "$pid" 20
else
	fail "detached: the daemon runs, its pid in the lock file"
	diag_file "$log"
fi

# ---- not root: the XDG defaults ----
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$umdevd" 2>/dev/null; then
	xdg=$tmp/xdg
	mkdir -p "$xdg/runtime" "$xdg/config"
	chown -R 65534:65534 "$xdg"
	log=$tmp/user.log
	XDG_RUNTIME_DIR=$xdg/runtime XDG_CONFIG_HOME=$xdg/config HOME=$xdg \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$umdevd" --foreground --no-sysfs --driver-dir "$drivers" >"$log" 2>&1 &
	daemon_pid=$!
	daemon_pids+=("$daemon_pid")
	if wait_for_line "$log" 'notice: ready' 30; then
		check "not root: the run dir is \$XDG_RUNTIME_DIR/umdev, definitions \$XDG_CONFIG_HOME/umdev" \
			grep -qF "ready: run dir $xdg/runtime/umdev, definitions $xdg/config/umdev" "$log"
		check "not root: the lock is in the run dir" test -f "$xdg/runtime/umdev/umdevd.lock"
		daemon_stop TERM
		check "not root: exit status 0 on SIGTERM" test "$daemon_status" = 0
	else
		fail "not root: umdevd starts with the XDG defaults"
		diag_file "$log"
	fi
else
	pass "# SKIP not root, or nobody cannot run $umdevd: the XDG defaults are not checked"
fi

finish
