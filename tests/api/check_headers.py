#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The public headers are self-contained and C++-safe (DESIGN.md section 5).

For every include/umdev/*.h, a translation unit that includes only that header is compiled as
C17 and as C++17 with warnings as errors; then all headers together, twice each (include
guards), in both languages; then tests/api/header_usage.c, a driver in miniature that uses the
macros and inline helpers, in both languages, as a plugin (its UMDEV_DRIVER_MODULE() symbol
must be exported under its C name) and as a built-in object (UMDEV_BUILTIN_DRIVER). Prints TAP.

  check_headers.py --cc='CC...' --cxx=CXX --include=DIR --usage=header_usage.c
"""
import argparse
import concurrent.futures
import os
import shlex
import subprocess
import sys
import tempfile

C_FLAGS = ["-std=c17", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes",
           "-Wmissing-prototypes", "-Wformat=2", "-Wvla", "-Wundef"]
CXX_FLAGS = ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wformat=2", "-Wvla",
             "-Wundef"]


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return p.returncode, p.stdout


def defined_symbols(path, cwd, dynamic):
    cmd = ["nm", "--defined-only"] + (["-D"] if dynamic else []) + [path]
    rc, out = run(cmd, cwd)
    syms = {}
    if rc == 0:
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:
                syms[parts[2].split("@")[0]] = parts[1]
    return syms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--cxx", default="")
    ap.add_argument("--include", required=True)
    ap.add_argument("--usage", required=True)
    args = ap.parse_args()

    cc = shlex.split(args.cc)
    cxx = shlex.split(args.cxx) if args.cxx else []
    inc = os.path.abspath(args.include)
    usage = os.path.abspath(args.usage)
    headers = sorted(h for h in os.listdir(os.path.join(inc, "umdev")) if h.endswith(".h"))

    with tempfile.TemporaryDirectory(prefix="umdev-headers-") as tmp:
        jobs = []  # (description, command or None when the compiler is missing, check)

        def compile_job(desc, lang, source_text=None, source=None, extra=(), out=None,
                        check=None):
            compiler = cc if lang == "C" else cxx
            if not compiler:
                jobs.append((desc, None, None))
                return
            if source is None:
                ext = ".c" if lang == "C" else ".cpp"
                source = os.path.join(tmp, f"tu{len(jobs)}{ext}")
                with open(source, "w", encoding="utf-8") as f:
                    f.write(source_text)
            flags = C_FLAGS if lang == "C" else ["-x", "c++"] + CXX_FLAGS
            cmd = compiler + flags + ["-I", inc] + list(extra) + [source, "-o",
                                                                   out or os.devnull]
            if "-shared" not in extra:
                cmd.insert(len(compiler), "-c")
            jobs.append((desc, cmd, check))

        for h in headers:
            text = f"/* includes only umdev/{h} */\n#include <umdev/{h}>\n"
            compile_job(f"C: <umdev/{h}> alone", "C", text)
            compile_job(f"C++: <umdev/{h}> alone", "C++", text)
        together = "".join(f"#include <umdev/{h}>\n" for h in headers * 2)
        compile_job("C: all headers together, twice each", "C", together)
        compile_job("C++: all headers together, twice each", "C++", together)

        def exports(name, dynamic):
            def check(path):
                syms = defined_symbols(path, tmp, dynamic)
                kind = syms.get(name)
                if kind is None or not kind.isupper():
                    return f"{name} is not a global symbol of the output (found: {kind})"
                return None
            return check

        for lang, tag in (("C", "c"), ("C++", "cxx")):
            plugin = os.path.join(tmp, f"usage-{tag}.so")
            compile_job(f"{lang}: a driver using the headers builds as a plugin exporting "
                        "umdev_driver_module", lang, source=usage,
                        extra=("-shared", "-fPIC", "-fvisibility=hidden"), out=plugin,
                        check=exports("umdev_driver_module", True))
            obj = os.path.join(tmp, f"usage-builtin-{tag}.o")
            compile_job(f"{lang}: built in (UMDEV_BUILTIN_DRIVER), it defines "
                        "umdev_builtin_usage", lang, source=usage,
                        extra=("-DUMDEV_BUILTIN_DRIVER",), out=obj,
                        check=exports("umdev_builtin_usage", False))

        def do(job):
            desc, cmd, check = job
            if cmd is None:
                return desc, False, "no C++ compiler found (g++ is in scripts/install-deps)"
            rc, out = run(cmd, tmp)
            if rc != 0:
                return desc, False, shlex.join(cmd) + "\n" + out
            if check:
                err = check(cmd[-1])
                if err:
                    return desc, False, err
            return desc, True, ""

        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
            results = list(ex.map(do, jobs))

    print(f"1..{len(results)}")
    failed = 0
    for i, (desc, ok, log) in enumerate(results, 1):
        if not ok:
            failed += 1
            for line in log.rstrip().splitlines()[:40]:
                print(f"# {line}")
        print(f"{'' if ok else 'not '}ok {i} - {desc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
