#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# umdevd SIGKILLed during heavy management traffic, again and again (100 times unless
# UMDEV_FAULT_DAEMON_KILLS says otherwise, and as many as fit in 180 s, or
# UMDEV_FAULT_DAEMON_KILL_SECONDS), on one run dir and one definitions dir. While it
# runs, four generators work at once: definitions written (half auto) and modified (their
# start policy flipped), the previous round's definitions deleted, devices started and
# stopped through the control socket (umdevctl), and created and removed through the FUSE
# tree. Each generator records what it began and what was acknowledged. The daemon is killed
# after a random 0.2-0.7 s, and restarted; then:
#   - every acknowledged definition is there and parses, one in flight is old or new, never
#     torn, an acknowledged undefine is gone (check_definitions.py);
#   - the auto definitions' devices are running again, and only they;
#   - the stale control socket, device sockets and FUSE mount the kill left were cleaned up:
#     the control socket answers, the tree is mounted afresh, sockets exist only for live
#     devices.
# Finally umdevd exits 0 on SIGTERM and unmounts its tree. Prints TAP.
#
#   daemon_kill.sh UMDEVD UMDEVCTL
set -uo pipefail

src=${UMDEV_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$src/tests/fault
# shellcheck source=../lib/tap.sh
. "$src/tests/lib/tap.sh"
. "$src/tests/daemon/daemon_lib.sh"

umdevd=$1
umdevctl=$2
kills=${UMDEV_FAULT_DAEMON_KILLS:-100}
# the time the rounds may take, in seconds: a slow build (sanitizers, a loaded host) makes
# fewer rounds, and says how many (at least 10, or all if fewer were asked for, must fit)
budget=${UMDEV_FAULT_DAEMON_KILL_SECONDS:-180}
tmp=$(mktemp -d /tmp/umdev-daemon-kill.XXXXXX) || { echo "1..1"; echo "not ok 1 - mktemp"; exit 1; }
run=$tmp/run conf=$tmp/conf state=$tmp/state stop=$tmp/stop
mkdir -p "$state"
export UMDEV_RUN_DIR=$run
cleanup() {
	[ -d "$tmp" ] || return 0
	touch "$stop"
	wait 2>/dev/null
	daemon_kill_all
	mounted && umount -l "$run/sys"
	rm -rf "$tmp"
}
trap cleanup EXIT
# the tree is mounted (a stale mount, whose stat fails, included)
mounted() { grep -q " $run/sys fuse" /proc/self/mounts; }
create_file=$run/sys/class/mdev_bus/null/mdev_supported_types/null-1/create

# ---- the generators (each in the background, until $stop exists) ----

# Definitions, half of them auto, each then modified to the other start policy.
gen_define() {
	local i=0 u s t
	while [ ! -e "$stop" ]; do
		i=$((i + 1))
		printf -v u 'de000000-%04x-4000-8000-%012x' "$round" "$i"
		s=manual t=auto
		((i % 2)) && s=auto t=manual
		echo "defining $s" >"$state/$u"
		"$umdevctl" define -p null -t null-1 -u "$u" --$s 2>/dev/null || continue
		echo "defined $s" >"$state/$u"
		echo d >>"$tmp/acks"
		echo "modifying $s $t" >"$state/$u"
		"$umdevctl" modify -u "$u" --$t 2>/dev/null || continue
		echo "defined $t" >"$state/$u"
		echo m >>"$tmp/acks"
	done
}

# Deletes the definitions earlier rounds left (listed in @1).
gen_undefine() {
	local u
	while read -r u; do
		[ -e "$stop" ] && break
		echo "undefining" >"$state/$u"
		"$umdevctl" undefine -u "$u" 2>/dev/null || continue
		echo "undefined" >"$state/$u"
		echo u >>"$tmp/acks"
	done <"$1"
}

# Transient devices through the control socket.
gen_ctl() {
	local i=0 u
	while [ ! -e "$stop" ]; do
		i=$((i + 1))
		printf -v u 'c0000000-%04x-4000-8000-%012x' "$round" "$i"
		"$umdevctl" start -p null -t null-1 -u "$u" 2>/dev/null &&
			"$umdevctl" stop -u "$u" 2>/dev/null && echo c >>"$tmp/acks"
	done
}

# Transient devices through the FUSE tree.
gen_fuse() {
	local i=0 u
	while [ ! -e "$stop" ]; do
		i=$((i + 1))
		printf -v u 'f0000000-%04x-4000-8000-%012x' "$round" "$i"
		{ echo "$u" >"$create_file" && echo 1 >"$run/sys/bus/mdev/devices/$u/remove" &&
			echo f >>"$tmp/acks"; } 2>/dev/null
	done
}

# ---- the checks after a restart ----

bad_defs=0 bad_auto=0 bad_sockets=0 bad_mount=0 bad_stale=0 bad_start=0 hidden_max=0
first_problem() { # DESCRIPTION: keeps the first few for the diagnostics
	[ "${#problems[@]}" -lt 8 ] && problems+=("round $round: $1")
}
problems=()

active_set() { "$umdevctl" list 2>/dev/null | awk 'NF { print $1 }' | sort; }

check_restart() {
	local out want got i s
	out=$(python3 "$here/check_definitions.py" --resolve "$conf" "$state")
	if [ $? -ne 0 ]; then
		bad_defs=$((bad_defs + 1))
		first_problem "definitions: $(head -3 <<<"$out" | tr '\n' ';')"
	fi
	s=$(sed -n 's/^hidden: //p' <<<"$out")
	((s > hidden_max)) && hidden_max=$s
	want=$(sed -n 's/^auto: //p' <<<"$out" | tr ' ' '\n' | sed '/^$/d' | sort)
	# auto devices start as the parent registers, just after "ready": 10 s at most
	for ((i = 0; i < 100; i++)); do
		got=$(active_set)
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	if [ "$got" != "$want" ]; then
		bad_auto=$((bad_auto + 1))
		first_problem "running $(wc -w <<<"$got") devices, $(wc -w <<<"$want") auto definitions"
	fi
	got=$(for s in "$run"/devices/*/vfio-user.sock; do [ -S "$s" ] && basename "$(dirname "$s")"; done | sort)
	if [ "$got" != "$want" ] || [ "$(ls "$run/devices" | sort)" != "$want" ]; then
		bad_sockets=$((bad_sockets + 1))
		first_problem "device sockets [$(echo $got)] or directories [$(ls "$run/devices" | tr '\n' ' ')] are not the running devices' [$(echo $want)]"
	fi
	if ! ls "$run/sys/class/mdev_bus/null" >/dev/null 2>&1 ||
		[ "$(ls "$run/sys/bus/mdev/devices" 2>/dev/null | sort)" != "$want" ]; then
		bad_mount=$((bad_mount + 1))
		first_problem "the FUSE tree is not served afresh"
	fi
}

# ---- the rounds ----
# where the time goes, in ms: daemon starts, checks after a restart, traffic, reaping
declare -A spent=([start]=0 [check]=0 [traffic]=0 [reap]=0)
t_mark=0
lap() { # NAME: adds the time since the last lap to spent[NAME]
	local now=${EPOCHREALTIME/./}
	((t_mark)) && spent[$1]=$((spent[$1] + (now - t_mark) / 1000))
	t_mark=$now
}
round=0
t0=$SECONDS
for ((round = 1; round <= kills && SECONDS - t0 < budget; round++)); do
	lap reap
	if ! daemon_start "$tmp/umdevd.log" --foreground --run-dir "$run" --conf-dir "$conf"; then
		bad_start=$((bad_start + 1))
		first_problem "umdevd does not start: $(tail -2 "$tmp/umdevd.log" | tr '\n' ';')"
		break
	fi
	lap start
	((round > 1)) && check_restart
	lap check
	ls "$state" | while read -r u; do
		grep -q '^defined' "$state/$u" && echo "$u"
	done >"$tmp/old"
	rm -f "$stop"
	gen_define & gen_undefine "$tmp/old" & gen_ctl & gen_fuse &
	sleep "0.$((2 + RANDOM % 6))"
	kill -KILL "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	lap traffic
	touch "$stop"
	wait
	# what the kill left: the control socket file, and a mount nobody serves
	if [ ! -S "$run/control.sock" ] || ! mounted || ls "$run/sys" >/dev/null 2>&1; then
		bad_stale=$((bad_stale + 1))
		first_problem "the kill left no stale control socket or FUSE mount"
	fi
done
round=$((round - 1))

if daemon_start "$tmp/umdevd.log" --foreground --run-dir "$run" --conf-dir "$conf"; then
	check_restart
else
	bad_start=$((bad_start + 1))
fi
touch "$tmp/acks"
diag "$round kills in $((SECONDS - t0)) s; acknowledged: $(grep -c d "$tmp/acks") defines, $(grep -c m "$tmp/acks") modifies, $(grep -c u "$tmp/acks") undefines, $(grep -c c "$tmp/acks") start+stop, $(grep -c f "$tmp/acks") FUSE create+remove"
diag "time spent, ms: ${spent[start]} starting umdevd, ${spent[check]} checking, ${spent[traffic]} in traffic, ${spent[reap]} ending the generators"
diag "$(ls "$state" | wc -l) definitions at the end; at most $hidden_max temporary files left at a restart"
for p in "${problems[@]}"; do diag "$p"; done
check "umdevd restarts after every kill" test $bad_start -eq 0
least=$((kills < 10 ? kills : 10))
check "at least $least kills fit in ${budget} s ($round)" test "$round" -ge $least
check "each kill left a stale control socket and FUSE mount" test $bad_stale -eq 0
check "no definition is torn or lost, none deleted comes back" test $bad_defs -eq 0
check "the auto devices, and only they, run again" test $bad_auto -eq 0
check "sockets and device directories are those of running devices" test $bad_sockets -eq 0
check "the FUSE tree is mounted and served afresh" test $bad_mount -eq 0
check "the temporary files are not definitions" \
	test "$("$umdevctl" list -d 2>/dev/null | grep -c '^de')" -eq "$(find "$conf/null" -maxdepth 1 -type f ! -name '.*' | wc -l)"
daemon_stop TERM
check "umdevd exits 0 on SIGTERM at the end (status $daemon_status)" test "$daemon_status" = 0
check "and unmounts its tree" test ! "$(mounted && echo mounted)"
[ "$daemon_status" = 0 ] || diag_file "$tmp/umdevd.log"
finish
