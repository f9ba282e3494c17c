# SPDX-License-Identifier: LGPL-2.1-or-later
# The host side of a guest run, shared by the guest tests (guest_e2e.sh), the guest
# benchmark (bench/guest_bench.sh) and the demo (scripts/demo); docs/guest-tests.md. Sourced
# after setting $src (the source tree) and $logdir (where the logs go); it makes $tmp.
#
#   processes  track_pid PID, guest_lib_cleanup (kills what was tracked, removes $tmp),
#              wait_gone PID S, wait_for_line LOG PATTERN S PID
#   what a guest needs  find_kernel, guest_image OUT TOOL, find_qemu_mpqemu,
#              find_qemu_vfio_user (the QEMU in $qemu, its firmware options in qemu_fw)
#   the daemon daemon_up UMDEVD RUN CONF LOG, daemon_down (status in $daemon_status)
#   a guest    guest_args APPEND [QEMU-ARGS...] (the common QEMU arguments, in guest_argv),
#              guest_start CMD..., wait_console PATTERN S, guest_wait, qmp COMMAND [ARGS...],
#              mark WHAT (the times of a run's steps, in $marks)
#   results    guest_result KEY [LINE_KEY] (from the GUEST-RESULT lines of the console)
# A function that fails leaves the reason in $why.

guest_timeout=${UMDEV_GUEST_TIMEOUT:-300}
guest_ram=256M
why=
tmp=$(mktemp -d /tmp/umdev-guest.XXXXXX) || exit 1
mkdir -p "$logdir"

# ---- processes: everything started is killed at the end ----
tracked=()
track_pid() { tracked+=("$1"); }

guest_lib_cleanup() {
	local p
	for p in "${tracked[@]}"; do
		# a guest runs under timeout(1), which leads a process group of its own
		kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
	done
	for p in "${tracked[@]}"; do
		wait_gone "$p" 10 || { kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; }
	done
	tracked=()
	# a daemon killed with its tree still mounted leaves the mount point behind
	[ -n "$tmp" ] && mountpoint -q "$tmp/run/sys" 2>/dev/null && fusermount3 -uz "$tmp/run/sys"
	[ -n "$tmp" ] && rm -rf "$tmp"
	tmp=
}

# wait_gone PID SECONDS: until the process is gone (0) or the time is up (1).
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# wait_for_line LOG PATTERN SECONDS PID: until grep -E finds PATTERN in LOG (0); 1 when the
# time is up or PID has exited.
wait_for_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || { grep -qE -- "$2" "$1" 2>/dev/null; return; }
		sleep 0.1
	done
	return 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ---- what a guest needs ----
kernel=
qemu=
qemu_fw=()

find_kernel() {
	if [ -n "${UMDEV_GUEST_KERNEL:-}" ]; then
		kernel=$UMDEV_GUEST_KERNEL
	else
		kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort -V | tail -n 1)
	fi
	[ -n "$kernel" ] && [ -r "$kernel" ] && return 0
	why="no guest kernel (install linux-image-amd64: scripts/install-deps)"
	return 1
}

# guest_image OUT TOOL: the initramfs at OUT (rebuilt only when an input changed); the
# builder's word ("built" or "cached") in $image_how.
image_how=
guest_image() {
	local bb=${UMDEV_GUEST_BUSYBOX:-/bin/busybox} out
	if [ ! -x "$bb" ] || [[ $(LC_ALL=C ldd "$bb" 2>&1) != *"not a dynamic executable"* ]]; then
		why="no static busybox at $bb (install busybox-static: scripts/install-deps)"
		return 1
	fi
	if ! command -v python3 >/dev/null; then
		why="no python3 to build the initramfs"
		return 1
	fi
	if ! out=$(python3 "$src/tests/guest/mkinitramfs.py" "$1" --busybox "$bb" \
		--tool "$2" --init "$src/tests/guest/init" 2>&1); then
		why="the initramfs cannot be built: $out"
		return 2
	fi
	image_how=${out%% *}
}

has_device() { "$1" -device help 2>/dev/null | grep -q "\"$2\""; }

# find_qemu_mpqemu: a QEMU with x-pci-proxy-dev (Debian 12's 7.2), UMDEV_QEMU_MPQEMU if set.
find_qemu_mpqemu() {
	qemu=${UMDEV_QEMU_MPQEMU:-/usr/bin/qemu-system-x86_64}
	qemu_fw=()
	if [ ! -x "$qemu" ]; then
		why="no QEMU at $qemu (install qemu-system-x86: scripts/install-deps)"
		return 1
	fi
	has_device "$qemu" x-pci-proxy-dev && return 0
	why="$qemu has no x-pci-proxy-dev device (QEMU's multi-process support)"
	return 1
}

# find_qemu_vfio_user: a QEMU >= 10.1 with vfio-user-pci: UMDEV_QEMU, else the one that
# ../shared/tools/qemu-vfio-user/build.sh builds (minutes the first time) or finds cached.
find_qemu_vfio_user() {
	local build=$src/../shared/tools/qemu-vfio-user/build.sh
	qemu_fw=()
	if [ -n "${UMDEV_QEMU:-}" ]; then
		qemu=$UMDEV_QEMU
	elif [ -f "$build" ]; then
		if ! bash "$build" >"$logdir/qemu-build.log" 2>&1; then
			why="$build failed: $(tail -n 1 "$logdir/qemu-build.log")"
			return 1
		fi
		qemu=$(tail -n 1 "$logdir/qemu-build.log")
		# SeaBIOS and the option ROMs come from Debian's packages (build.sh installs none)
		qemu_fw=(-L /usr/share/qemu -L /usr/share/seabios)
	else
		why="no QEMU >= 10.1: set UMDEV_QEMU, or provide $build"
		return 1
	fi
	if [ ! -x "$qemu" ] || ! has_device "$qemu" vfio-user-pci; then
		why="$qemu has no vfio-user-pci device (needs QEMU >= 10.1)"
		return 1
	fi
}

# ---- the daemon ----
daemon_pid=
daemon_status=

# daemon_up UMDEVD RUN CONF LOG [ARGS...]: umdevd in the foreground on RUN, until it is ready.
daemon_up() {
	local umdevd=$1 run=$2 conf=$3 log=$4
	shift 4
	mkdir -p "$conf"
	"$umdevd" --foreground --run-dir "$run" --conf-dir "$conf" "$@" >"$log" 2>&1 &
	daemon_pid=$!
	track_pid "$daemon_pid"
	wait_for_line "$log" 'notice: ready' 60 "$daemon_pid" && return 0
	why="umdevd did not become ready: $(tail -n 1 "$log")"
	return 1
}

# daemon_down: SIGTERM, then its exit status in $daemon_status ("timeout" after 60 s).
daemon_down() {
	kill -TERM "$daemon_pid" 2>/dev/null
	if wait_gone "$daemon_pid" 60; then
		wait "$daemon_pid"
		daemon_status=$?
	else
		daemon_status=timeout
	fi
}

# ---- a guest ----
guest_argv=()
guest_pid=
guest_status=
guest_secs=
guest_t0=
console_raw=$tmp/console.raw
qmp_sock=$tmp/qmp.sock

# guest_args APPEND [QEMU-ARGS...]: guest_argv = the arguments of a test guest (TCG, one
# vCPU, no display, network or reboot, the test initramfs $initrd, RAM in a shared memfd, a
# QMP socket, a quiet kernel), the kernel command line words APPEND, then QEMU-ARGS.
guest_args() {
	local append=$1
	shift
	guest_argv=("${qemu_fw[@]}" -accel tcg -smp 1 -nographic -no-reboot -nic none -vga none
		-machine pc,memory-backend=mem0 -m "$guest_ram"
		-object "memory-backend-memfd,id=mem0,size=$guest_ram,share=on"
		-kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 panic=-1 quiet $append"
		-qmp "unix:$qmp_sock,server=on,wait=off" "$@")
}

# guest_start CMD...: runs CMD (QEMU, or what execs it) in the background, at most
# $guest_timeout s; its console goes to $console_raw, its stderr to $logdir/qemu.log.
guest_start() {
	guest_t0=$(now)
	timeout -k 10 "$guest_timeout" "$@" </dev/null >"$console_raw" 2>"$logdir/qemu.log" &
	guest_pid=$!
	track_pid "$guest_pid"
}

# mark WHAT: notes in $marks how long after the launch WHAT happened.
marks=
mark() { marks+="${marks:+, }$1 at $(elapsed "$guest_t0" "$(now)") s"; }

# wait_console PATTERN SECONDS: until the console has a line matching PATTERN (grep -E).
wait_console() { wait_for_line "$console_raw" "$1" "$2" "$guest_pid"; }

# guest_wait: until the guest's QEMU exits; guest_status (124 on timeout), guest_secs, and
# the console without CRs and the firmware's terminal escapes in $logdir/console.log.
guest_wait() {
	wait "$guest_pid"
	guest_status=$?
	guest_secs=$(elapsed "$guest_t0" "$(now)")
	sed -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1b[a-zA-Z]//g' \
		<"$console_raw" >"$logdir/console.log"
}

# qmp COMMAND [ARGUMENTS-JSON] [qmp.py options]: one QMP command to the running guest (what
# it prints goes to $logdir/qmp.log).
qmp() { python3 "$src/tests/guest/qmp.py" "$qmp_sock" "$@" >>"$logdir/qmp.log"; }

# guest_result KEY [LINE_KEY]: the value of KEY=VALUE in the first GUEST-RESULT line of the
# console (that has LINE_KEY=, when given).
guest_result() {
	grep "^GUEST-RESULT .*\b${2:-$1}=" "$logdir/console.log" 2>/dev/null | head -n 1 |
		grep -o "\b$1=[^ ]*" | head -n 1 | sed "s/^$1=//"
}
