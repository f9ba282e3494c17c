#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The install test: installs a build into a staging directory (meson install --destdir), then
# builds a driver the way an out-of-tree vendor would, against the installed headers,
# libumdev and umdev.pc only (drivers/null/null.c as a plugin, with
# `cc -shared -fPIC $(pkg-config --cflags --libs umdev)`), builds tests/api/plugin_loader.c the
# same way, and runs the loader on that plugin and on the installed null.so; builds and runs a
# small program against libumdev-client and umdev-client.pc alone. Prints TAP; the loader's
# cases are numbered into this script's. Removes its staging directory.
#
#   out_of_tree.sh [BUILD_DIR]     (default: $UMDEV_BUILD_ROOT, set by meson test)
set -uo pipefail

build=${1:-${UMDEV_BUILD_ROOT:-}}
src=${UMDEV_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cc=${CC:-cc}
cflags=(-std=c17 -Wall -Wextra -Werror)

# shellcheck source=../lib/tap.sh
. "$src/tests/lib/tap.sh"
cleanup() { rm -rf "$tmp"; }

if [ -z "$build" ] || [ ! -f "$build/meson-private/install.dat" ]; then
	echo "1..1"
	echo "not ok 1 - a configured build directory is given (got '${build}')"
	exit 1
fi
build=$(cd "$build" && pwd) # meson install takes --destdir relative to the build directory
# The staging directory lives in the build directory, which may run programs (a /tmp may not).
tmp=$(mktemp -d "$build/out-of-tree.XXXXXX") || { echo "1..1"; echo "not ok 1 - mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
work=$tmp/work
mkdir -p "$work"

# ---- install ----
if meson install -C "$build" --destdir "$root" --no-rebuild >"$tmp/install.log" 2>&1; then
	pass "meson install --destdir"
else
	fail "meson install --destdir"
	diag_file "$tmp/install.log"
	finish
fi

pc=$(find "$root" -path '*/pkgconfig/umdev.pc' -print -quit)
if [ -n "$pc" ]; then pass "umdev.pc is installed"; else fail "umdev.pc is installed"; finish; fi
export PKG_CONFIG_PATH=${pc%/*}
export PKG_CONFIG_LIBDIR=${pc%/*} # only the staged one, never a umdev.pc of the system
export PKG_CONFIG_SYSROOT_DIR=$root

version=$(pkg-config --modversion umdev 2>"$tmp/pc.log")
if [ -n "$version" ]; then
	pass "pkg-config finds umdev $version"
else
	fail "pkg-config finds umdev"
	diag_file "$tmp/pc.log"
	finish
fi
read -ra pc_flags < <(pkg-config --cflags --libs umdev)

# The headers: exactly those of the source tree, unchanged, where --cflags points.
incdir=
for f in $(pkg-config --cflags-only-I umdev); do
	[ -f "${f#-I}/umdev/mdev.h" ] && incdir=${f#-I}
done
headers_ok() {
	local h ok=0 want have
	[ -n "$incdir" ] || { diag "no -I of pkg-config --cflags holds umdev/mdev.h"; return 1; }
	want=$(cd "$src/include/umdev" && ls -- *.h)
	have=$(cd "$incdir/umdev" && ls -- *.h)
	if [ "$want" != "$have" ]; then
		diag "installed headers differ from include/umdev: $(diff <(echo "$want") <(echo "$have") | grep '^[<>]' | tr '\n' ' ')"
		ok=1
	fi
	for h in $want; do
		if ! cmp -s "$src/include/umdev/$h" "$incdir/umdev/$h"; then
			diag "umdev/$h: installed copy differs or is missing"
			ok=1
		fi
	done
	return $ok
}
check "the public headers are installed where --cflags points" headers_ok

# The library: versioned, found through --libs.
libdir=
for f in $(pkg-config --libs-only-L umdev); do
	[ -e "${f#-L}/libumdev.so" ] && libdir=${f#-L}
done
lib_ok() {
	[ -n "$libdir" ] || { diag "no -L of pkg-config --libs holds libumdev.so"; return 1; }
	local f
	for f in libumdev.so libumdev.so.0 "libumdev.so.$version"; do
		[ -e "$libdir/$f" ] || { diag "missing $libdir/$f"; return 1; }
	done
}
check "libumdev.so, .so.0 and .so.$version are installed where --libs points" lib_ok

installed_plugin=$(find "$root" -path '*/umdev/drivers/null.so' -print -quit)
check "the null plugin is installed in <libdir>/umdev/drivers" test -n "$installed_plugin"
check "umdevd is installed" test -n "$(find "$root" -path '*/sbin/umdevd' -perm -u+x -print -quit)"

# ---- libumdev-client: its own pkg-config file, and a program built against it alone ----
client_ok() {
	local flags
	[ -f "${pc%/*}/umdev-client.pc" ] || { diag "umdev-client.pc is not installed"; return 1; }
	read -ra flags < <(pkg-config --cflags --libs umdev-client) || return 1
	cat >"$work/client.c" <<'EOF_C'
#include <errno.h>
#include <umdev/client.h>
int main(void)
{
	struct umdev_client *c = NULL;

	return umdev_client_connect("/nonexistent/umdev.sock", &c) == -ENOENT && !c ? 0 : 1;
}
EOF_C
	(cd "$work" && "$cc" "${cflags[@]}" -o client client.c "${flags[@]}") >"$tmp/client.log" 2>&1 ||
		{ diag_file "$tmp/client.log"; return 1; }
	LD_LIBRARY_PATH=$libdir "$work/client" || { diag "the client program failed"; return 1; }
}
check "a program builds with pkg-config umdev-client and runs" client_ok

# ---- an out-of-tree driver and host ----
cp "$src/drivers/null/null.c" "$work/null.c"
if (cd "$work" && "$cc" "${cflags[@]}" -shared -fPIC -o null.so null.c "${pc_flags[@]}") \
	>"$tmp/plugin.log" 2>&1; then
	pass "drivers/null/null.c builds out of tree as a plugin"
	exported_ok() {
		nm -D --defined-only "$work/null.so" | grep -qw umdev_driver_module
	}
	check "the plugin exports umdev_driver_module" exported_ok
else
	fail "drivers/null/null.c builds out of tree as a plugin"
	diag_file "$tmp/plugin.log"
fi

if (cd "$work" && "$cc" "${cflags[@]}" -o plugin_loader "$src/tests/api/plugin_loader.c" \
	"${pc_flags[@]}" -ldl) >"$tmp/loader.log" 2>&1; then
	pass "tests/api/plugin_loader.c builds against the installed library"
else
	fail "tests/api/plugin_loader.c builds against the installed library"
	diag_file "$tmp/loader.log"
fi

# Runs the loader on a plugin and takes its cases over, renumbered, prefixed with $1.
run_loader() {
	local label=$1 plugin=$2 out status line planned=-1 seen=0 failed=0
	if [ ! -x "$work/plugin_loader" ] || [ ! -f "$plugin" ]; then
		fail "$label: not run (no loader or no plugin)"
		return
	fi
	out=$(cd "$work" && LD_LIBRARY_PATH=$libdir ./plugin_loader "$plugin" "$libdir" 2>"$tmp/run.log")
	status=$?
	while IFS= read -r line; do
		if [[ $line =~ ^1\.\.([0-9]+) ]]; then
			planned=${BASH_REMATCH[1]}
		elif [[ $line =~ ^ok\ [0-9]+\ -\ (.*)$ ]]; then
			pass "$label: ${BASH_REMATCH[1]}"
			seen=$((seen + 1))
		elif [[ $line =~ ^not\ ok\ [0-9]+\ -\ (.*)$ ]]; then
			fail "$label: ${BASH_REMATCH[1]}"
			seen=$((seen + 1))
			failed=1
		elif [[ $line == "#"* ]]; then
			tap_add_raw "$line"
		fi
	done <<<"$out"
	if [ "$seen" -ne "$planned" ] || { [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
		fail "$label: the loader exited with status $status after $seen of $planned cases"
		diag_file "$tmp/run.log"
	fi
}
run_loader "out-of-tree null.so" "$work/null.so"
run_loader "installed null.so" "$installed_plugin"

finish
