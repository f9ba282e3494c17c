#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Builds the initramfs of the guest tests (docs/guest-tests.md): a gzip'd cpio archive
("newc" format) holding busybox as /bin/busybox and /bin/sh, the static guest tool as
/bin/guest_tool, tests/guest/init as /init, the directories they mount on, and /dev/console
(which the kernel opens for /init before any devtmpfs exists).

    mkinitramfs.py OUTPUT --busybox PATH --tool PATH --init PATH

Reproducible: every entry has owner 0:0, time 0 and a fixed inode number, entries come in a
fixed order, and the gzip header carries no name or time, so the same inputs give the same
bytes. Cached: OUTPUT.key holds a digest of the inputs (and of this script); when it matches,
OUTPUT is left as it is. OUTPUT is replaced atomically, so tests running at the same time
never see half an archive. Prints "built OUTPUT" or "cached OUTPUT".
"""
import argparse
import gzip
import hashlib
import io
import os
import stat
import sys
import tempfile


def newc_entry(out, ino, name, mode, data=b"", rdev=(0, 0)):
    """Appends one cpio "newc" header, its name and its data, each padded to 4 bytes."""
    namez = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(namez), 0]
    out.write(b"070701" + b"".join(b"%08X" % f for f in fields))
    out.write(namez)
    out.write(b"\0" * (-(110 + len(namez)) % 4))
    out.write(data)
    out.write(b"\0" * (-len(data) % 4))


def archive(busybox, tool, init):
    """The uncompressed archive, as bytes."""
    d, f, l, c = stat.S_IFDIR | 0o755, stat.S_IFREG | 0o755, stat.S_IFLNK | 0o777, stat.S_IFCHR
    entries = [
        ("bin", d, b""), ("dev", d, b""), ("proc", d, b""), ("sys", d, b""),
        ("tmp", d | 0o1777, b""), ("root", d, b""),
        ("dev/console", c | 0o600, b"", (5, 1)),
        ("bin/busybox", f, busybox), ("bin/sh", l, b"busybox"),
        ("bin/guest_tool", f, tool), ("init", f, init),
    ]
    out = io.BytesIO()
    for ino, e in enumerate(entries, start=1):
        newc_entry(out, ino, e[0], e[1], e[2], *e[3:])
    newc_entry(out, 0, "TRAILER!!!", 0)
    out.write(b"\0" * (-out.tell() % 512))
    return out.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("output")
    ap.add_argument("--busybox", required=True)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--init", required=True)
    a = ap.parse_args()

    inputs = {}
    for key, path in (("busybox", a.busybox), ("tool", a.tool), ("init", a.init),
                      ("builder", os.path.abspath(__file__))):
        try:
            with open(path, "rb") as fh:
                inputs[key] = fh.read()
        except OSError as e:
            sys.exit(f"mkinitramfs: cannot read {path}: {e.strerror}")
    digest = hashlib.sha256()
    for key in sorted(inputs):
        digest.update(key.encode() + b"\0" + hashlib.sha256(inputs[key]).digest())
    key = digest.hexdigest()
    try:
        with open(a.output + ".key") as fh:
            cached = fh.read().strip() == key and os.path.isfile(a.output)
    except OSError:
        cached = False
    if cached:
        print(f"cached {a.output}")
        return

    raw = archive(inputs["busybox"], inputs["tool"], inputs["init"])
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=6) as gz:
        gz.write(raw)
    outdir = os.path.dirname(os.path.abspath(a.output))
    os.makedirs(outdir, exist_ok=True)
    for path, data in ((a.output, packed.getvalue()), (a.output + ".key", key.encode() + b"\n")):
        fd, tmp = tempfile.mkstemp(dir=outdir, prefix=".mkinitramfs.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    print(f"built {a.output}")


if __name__ == "__main__":
    main()
