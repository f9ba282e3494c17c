# SPDX-License-Identifier: LGPL-2.1-or-later
# TAP for the shell tests (sourced): cases are collected and printed after the plan at the end.
#   pass DESC | fail DESC | check DESC CMD... | diag TEXT | diag_file FILE | finish
# finish runs the function `cleanup` when the test defined one, prints the plan and the
# cases, and exits 1 when a case failed.

tap_lines=()
tap_n=0
pass() { tap_n=$((tap_n + 1)); tap_lines+=("ok $tap_n - $1"); }
fail() { tap_n=$((tap_n + 1)); tap_lines+=("not ok $tap_n - $1"); }
check() { # check DESCRIPTION COMMAND...: a case that passes when COMMAND succeeds
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}
diag() { tap_lines+=("# $1"); }
diag_file() { # the last lines of a log, as diagnostics
	local l
	[ -f "$1" ] || return 0
	while IFS= read -r l; do diag "  $l"; done < <(tail -n 20 "$1")
}
tap_add_raw() { tap_lines+=("$1"); }
finish() {
	local l
	if declare -F cleanup >/dev/null; then cleanup; fi
	echo "1..$tap_n"
	for l in "${tap_lines[@]}"; do echo "$l"; done
	for l in "${tap_lines[@]}"; do [[ $l == "not ok "* ]] && exit 1; done
	exit 0
}
