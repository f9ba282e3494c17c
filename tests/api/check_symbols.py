#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A library exports exactly its public API (DESIGN.md section 5).

Three sets must be equal: the symbols that `nm -D --defined-only` finds in the built library,
the functions declared (not defined inline) in its headers of include/umdev/, as the C compiler
lists them with -aux-info, and the names of the global section of its version script. Each
difference is reported by name. Every exported symbol must also be a function carrying the
map's version node. Prints TAP.

A library's headers are all of include/umdev/*.h but those given with --exclude (libumdev:
every header but client.h), or only those given with --only (libumdev-client: client.h).

  check_symbols.py --cc='CC...' --lib=libumdev.so --map=libumdev.map --include=DIR
                   [--exclude=client.h ...] [--only=client.h ...]
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile


class Tap:
    def __init__(self):
        self.results = []

    def case(self, ok, desc, diags=()):
        self.results.append((bool(ok), desc, list(diags)))

    def emit(self):
        print(f"1..{len(self.results)}")
        for i, (ok, desc, diags) in enumerate(self.results, 1):
            for d in diags:
                print(f"# {d}")
            print(f"{'' if ok else 'not '}ok {i} - {desc}")
        return 0 if all(ok for ok, _, _ in self.results) else 1


def exported(lib):
    """{name: (nm type, version)} of the defined dynamic symbols, without version nodes."""
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        kind, full = parts[1], parts[2]
        if kind == "A":  # the version node itself (UMDEV_0.1)
            continue
        name, _, version = full.partition("@")
        syms[name] = (kind, version.lstrip("@"))
    return syms


def declared(cc, include, headers):
    """{name: header} of the functions declared by @headers of include/umdev (gcc -aux-info)."""
    umdev_dir = os.path.realpath(os.path.join(include, "umdev")) + os.sep
    with tempfile.TemporaryDirectory(prefix="umdev-symbols-") as tmp:
        src = os.path.join(tmp, "all.c")
        aux = os.path.join(tmp, "aux.txt")
        with open(src, "w", encoding="utf-8") as f:
            f.writelines(f"#include <umdev/{h}>\n" for h in headers)
        subprocess.run(cc + ["-std=c17", "-I", include, "-aux-info", aux, "-c", src, "-o",
                             os.devnull], check=True)
        with open(aux, encoding="utf-8") as f:
            lines = f.read().splitlines()
    funcs = {}
    # /* /path/include/umdev/device.h:45:NC */ extern void device_initialize (struct device *);
    pat = re.compile(r"^/\* (.*):(\d+):([A-Z]*) \*/ (.*)$")
    for line in lines:
        m = pat.match(line)
        if not m:
            continue
        path, flags, decl = m.group(1), m.group(3), m.group(4)
        if not os.path.realpath(path).startswith(umdev_dir):
            continue
        if os.path.basename(path) not in headers:  # included by one of them, not its own
            continue
        if "F" in flags or decl.startswith("static"):  # inline definitions are not exported
            continue
        name = re.search(r"(\w+) \(", decl)
        if name:
            funcs[name.group(1)] = os.path.basename(path)
    return funcs


def mapped(path):
    """(version node, names of its global section) of a version script."""
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"#[^\n]*", " ", text)
    m = re.search(r"([\w.]+)\s*\{\s*global\s*:(.*?)(?:local\s*:.*?)?\}\s*;", text, re.S)
    if not m:
        return None, set()
    names = {n.strip() for n in m.group(2).split(";") if n.strip()}
    return m.group(1), names


def compare(tap, a_name, a, b_name, b):
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    diags = []
    if only_a:
        diags.append(f"in {a_name} but not in {b_name}: {' '.join(only_a)}")
    if only_b:
        diags.append(f"in {b_name} but not in {a_name}: {' '.join(only_b)}")
    tap.case(not diags, f"{a_name} == {b_name}", diags)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--map", required=True)
    ap.add_argument("--include", required=True)
    ap.add_argument("--exclude", action="append", default=[])
    ap.add_argument("--only", action="append", default=[])
    args = ap.parse_args()
    tap = Tap()
    lib = os.path.basename(args.lib).split(".so")[0] + ".so"
    mapname = os.path.basename(args.map)
    headers = sorted(h for h in os.listdir(os.path.join(args.include, "umdev"))
                     if h.endswith(".h") and h not in args.exclude
                     and (not args.only or h in args.only))
    hdrs = "the functions of " + (", ".join(args.only) if args.only else "include/umdev")
    if args.exclude:
        hdrs += " (but " + ", ".join(args.exclude) + ")"

    try:
        exp = exported(args.lib)
    except (OSError, subprocess.CalledProcessError) as e:
        exp = {}
        tap.case(False, f"nm -D lists the symbols of {lib}", [str(e)])
    else:
        tap.case(exp, f"nm -D lists {len(exp)} symbols of {lib}")
    try:
        dec = declared(shlex.split(args.cc), os.path.abspath(args.include), headers)
    except (OSError, subprocess.CalledProcessError) as e:
        dec = {}
        tap.case(False, f"the compiler lists {hdrs}", [str(e)])
    else:
        where = ", ".join(args.only) if args.only else f"{len(headers)} headers"
        tap.case(dec, f"the compiler lists {len(dec)} functions declared in {where}")
    node, names = mapped(args.map)
    tap.case(node and names, f"{mapname} has {len(names)} names in version node {node}")

    compare(tap, f"the exports of {lib}", exp, hdrs, dec)
    compare(tap, f"the names of {mapname}", names, hdrs, dec)
    compare(tap, f"the exports of {lib}", exp, f"the names of {mapname}", names)

    bad = [f"{n} ({k})" for n, (k, _) in sorted(exp.items()) if k not in ("T", "i")]
    tap.case(not bad, "every export is a function",
             [f"not functions: {' '.join(bad)}"] if bad else [])
    bad = [f"{n}@{v or '(none)'}" for n, (_, v) in sorted(exp.items()) if v != node]
    tap.case(not bad, f"every export has the version {node}",
             [f"other versions: {' '.join(bad)}"] if bad else [])
    return tap.emit()


if __name__ == "__main__":
    sys.exit(main())
