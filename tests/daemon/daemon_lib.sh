# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers of the daemon tests (sourced after tests/lib/tap.sh): start umdevd in the background
# and wait until it is ready, stop it with a signal and collect its status, wait for a line
# in a log, make a stale UNIX socket. Expects $umdevd.

daemon_pid=
daemon_status=
daemon_pids=()

# wait_for_line LOG PATTERN SECONDS: until grep finds PATTERN in LOG.
wait_for_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_gone PID SECONDS: until the process is gone.
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# daemon_start LOG ARGS...: umdevd ARGS in the background, logging to LOG; 0 once it is ready,
# 1 when it exited or did not become ready in 60 s.
daemon_start() {
	local log=$1
	shift
	"$umdevd" "$@" >"$log" 2>&1 &
	daemon_pid=$!
	daemon_pids+=("$daemon_pid")
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q 'notice: ready' "$log" && return 0
		kill -0 "$daemon_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# daemon_stop SIGNAL: signals the daemon and waits (60 s at most) for its exit status in
# $daemon_status ("timeout" when it did not exit; it is then killed).
daemon_stop() {
	kill -"$1" "$daemon_pid" 2>/dev/null
	if wait_gone "$daemon_pid" 60; then
		wait "$daemon_pid" 2>/dev/null
		daemon_status=$?
	else
		kill -KILL "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
		daemon_status=timeout
	fi
}

daemon_kill_all() {
	local p
	for p in "${daemon_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	return 0
}

# make_socket PATH: a UNIX socket file nobody listens on (what a killed daemon leaves).
make_socket() {
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"
}
