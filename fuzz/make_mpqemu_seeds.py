#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of fuzz/mpqemu_fuzz.c into fuzz/corpus/mpqemu/.

Each seed is a client session: one byte choosing the device (0 mtty-2, 1 null), then records
of [u8 fds][u16 len][len bytes], each sent with one sendmsg() (fds % 16: 0 none, 1 memfd of
64 KiB, 2 eventfd, 3 memfd and eventfd, 4 two different eventfds, 5 two memfds, 6 a pipe,
7 eight eventfds, 8 seventeen eventfds, 9 seven memfds, 10 one eventfd twice, 11 a
write-sealed memfd). Messages are in the mpqemu wire format of QEMU 7.2 (x86-64:
i32 cmd, 4 bytes of padding, u64 size, then the payload), little endian. The seeds cover
every command, valid and invalid, the realize probe and a guest's use of mtty, and the ways
a stream can break.

The output is deterministic: the script removes the seed-* files it wrote before and writes
them again; other files of the corpus (inputs the fuzzer found, fuzz-*) are left alone.

    fuzz/make_mpqemu_seeds.py [CORPUS_DIRECTORY]
"""
import os
import struct
import sys

(NONE, MEMFD, EVENTFD, MEMFD_EVENTFD, IRQ_PAIR, TWO_MEMFDS, PIPE, EIGHT_EVENTFDS,
 MANY_EVENTFDS, SEVEN_MEMFDS, SAME_EVENTFD, SEALED) = range(12)

SYNC_SYSMEM, RET, CFGWRITE, CFGREAD, BAR_WRITE, BAR_READ, SET_IRQFD, RESET = range(8)

MTTY, NULL = 0, 1
PORT0, PORT1, NULL_BAR = 0xc010, 0xc018, 0xfebf0000


class Session:
    """A seed being written: the device byte, then its records."""

    def __init__(self, device):
        self.data = bytearray([device])

    def rec(self, payload, fds=NONE):
        assert len(payload) <= 0xffff
        self.data += struct.pack('<BH', fds, len(payload)) + payload
        return self

    def msg(self, cmd, payload=b'', size=None, pad=0, fds=NONE, send=True):
        m = struct.pack('<iIQ', cmd, pad, len(payload) if size is None else size) + payload
        if send:
            self.rec(m, fds)
        return m

    def cfg(self, cmd, addr, val=0, length=4, **kw):
        return self.msg(cmd, struct.pack('<IIi', addr, val, length), **kw)

    def bar(self, cmd, addr, val=0, size=1, memory=0, **kw):
        return self.msg(cmd, struct.pack('<QQIB3x', addr, val, size, memory), **kw)

    def sysmem(self, sections, fds, **kw):
        gpas = [s[0] for s in sections] + [0] * (8 - len(sections))
        sizes = [s[1] for s in sections] + [0] * (8 - len(sections))
        offs = [s[2] for s in sections] + [0] * (8 - len(sections))
        return self.msg(SYNC_SYSMEM, struct.pack('<8Q8Q8q', *gpas, *sizes, *offs),
                        fds=fds, **kw)

    def probe(self):
        """QEMU 7.2's realize-time probe."""
        for reg in (0x00, 0x02, 0x0a, 0x2e):
            self.cfg(CFGREAD, reg, length=2)
        for i in range(7):
            self.cfg(CFGREAD, 0x10 + 4 * i)
            self.cfg(CFGWRITE, 0x10 + 4 * i, 0xffffffff)
            self.cfg(CFGREAD, 0x10 + 4 * i)
            self.cfg(CFGWRITE, 0x10 + 4 * i, 0)
        return self

    def mtty_bars(self):
        self.cfg(CFGWRITE, 0x10, PORT0)
        self.cfg(CFGWRITE, 0x14, PORT1)
        return self


def seeds():
    s = {}

    def new(name, device):
        sess = Session(device)
        s[name] = sess
        return sess

    # ---- a guest's view ----
    new('probe-mtty', MTTY).probe()
    new('probe-null', NULL).probe()
    v = new('mtty-loopback', MTTY).mtty_bars()
    for port in (PORT0, PORT1):
        v.bar(BAR_WRITE, port, ord('a'))
        v.bar(BAR_READ, port + 5)
        v.bar(BAR_READ, port)
        v.bar(BAR_WRITE, port + 7, 0x5a)
        v.bar(BAR_READ, port + 7)
        v.bar(BAR_READ, port + 3, size=2)
    v.bar(BAR_READ, PORT0 + 6, size=4)
    v.bar(BAR_READ, 0x1234, size=8)
    v.bar(BAR_READ, PORT0, memory=1)
    v = new('null-memory-bar', NULL)
    v.cfg(CFGWRITE, 0x10, NULL_BAR)
    v.bar(BAR_READ, NULL_BAR, size=4, memory=1)
    v.cfg(CFGWRITE, 0x04, 0x2, length=2)
    v.bar(BAR_WRITE, NULL_BAR + 0x40, 0x1122334455667788, size=8, memory=1)
    v.bar(BAR_READ, NULL_BAR + 0x40, size=8, memory=1)
    v.bar(BAR_READ, NULL_BAR + 0xffc, size=8, memory=1)
    v.bar(BAR_READ, NULL_BAR + 0x40, size=4)
    v.msg(RESET)
    v.bar(BAR_READ, NULL_BAR + 0x40, size=4, memory=1)
    v = new('mtty-intx', MTTY).mtty_bars()
    v.msg(SET_IRQFD, fds=IRQ_PAIR)
    v.bar(BAR_WRITE, PORT0 + 1, 0x02)
    v.bar(BAR_READ, PORT0 + 2)
    v.bar(BAR_WRITE, PORT1 + 1, 0x01)
    v.bar(BAR_WRITE, PORT1, ord('i'))
    v.bar(BAR_READ, PORT1)
    v.msg(SET_IRQFD, fds=IRQ_PAIR)
    v.msg(RESET)
    v = new('sysmem', NULL)
    v.sysmem([(0, 0x8000, 0), (0x100000, 0x4000, 0x8000)], TWO_MEMFDS)
    v.sysmem([(0, 0x8000, 0), (0x100000, 0x4000, 0x8000)], TWO_MEMFDS)
    v.sysmem([(0xf0000, 0x10000, 0)], MEMFD)
    v.sysmem([(0x1000 * i, 0x1000, 0x1000 * i) for i in range(7)], SEVEN_MEMFDS)
    v.cfg(CFGREAD, 0)
    v = new('pipelined', MTTY)
    batch = b''.join(v.bar(BAR_WRITE, PORT0 + 7, i, send=False) +
                     v.bar(BAR_READ, PORT0 + 7, send=False) for i in range(40))
    v.mtty_bars().rec(batch)
    v.rec(v.cfg(CFGREAD, 0, send=False) * 70)

    # ---- bad requests ----
    v = new('cfg-bad', NULL)
    for addr, length in [(0, 0), (0, 3), (0, 8), (0, -1), (0x100, 1), (0xfd, 4),
                         (0xffffffff, 4)]:
        v.cfg(CFGREAD, addr, length=length)
        v.cfg(CFGWRITE, addr, 0xffffffff, length=length)
    v = new('bar-bad', MTTY).mtty_bars()
    for addr, size, mem in [(PORT0, 0, 0), (PORT0, 3, 0), (PORT0, 16, 0), (PORT0, 1, 2),
                            (2**64 - 1, 2, 0), (2**64 - 1, 1, 1)]:
        v.bar(BAR_READ, addr, size=size, memory=mem)
        v.bar(BAR_WRITE, addr, size=size, memory=mem)
    v = new('payload-sizes', MTTY)
    for cmd in (CFGREAD, CFGWRITE, BAR_READ, BAR_WRITE, RESET):
        for n in (0, 1, 11, 12, 13, 24, 192):
            v.msg(cmd, bytes(n))
    v = new('fds-on-requests', MTTY)
    v.cfg(CFGREAD, 0, fds=PIPE)
    v.bar(BAR_READ, PORT0, fds=MEMFD)
    v.msg(RESET, fds=EIGHT_EVENTFDS)
    v.cfg(CFGREAD, 0, fds=MANY_EVENTFDS)
    v.cfg(CFGREAD, 0)
    v = new('sysmem-bad', NULL)
    good = [(0x100000, 0x4000, 0)]
    for sections, fds in [([], NONE), ([(0, 0x1000, 0)], NONE),
                          ([(0, 0x1000, 0), (0x1000, 0x1000, 0)], MEMFD),
                          ([(0, 0x2000, 0), (0x1000, 0x1000, 0)], TWO_MEMFDS),
                          ([(2**64 - 0x1000, 0x2000, 0)], MEMFD),
                          ([(0, 0x1000, -0x1000)], MEMFD),
                          ([(0, 0x2000, 2**63 - 0x1000)], MEMFD),
                          ([(0, 2**63, 0)], MEMFD),
                          ([(0x800, 0x1000, 0)], MEMFD), ([(0, 0x1800, 0)], MEMFD),
                          ([(0, 0x20000, 0)], MEMFD), ([(0, 0x1000, 0)], SEALED),
                          ([(0, 0x1000, 0)], EVENTFD), ([(0, 0x1000, 0)], PIPE),
                          ([(0, 0x1000, 0)], EIGHT_EVENTFDS), ([(0, 0, 0)], MEMFD)]:
        v.sysmem(good, MEMFD)
        v.sysmem(sections, fds)
        v.cfg(CFGREAD, 0)
    v.msg(SYNC_SYSMEM, bytes(184), fds=MEMFD)
    v = new('set-irqfd-bad', MTTY).mtty_bars()
    for fds, size in [(NONE, 0), (EVENTFD, 0), (MEMFD_EVENTFD, 0), (SAME_EVENTFD, 0),
                      (IRQ_PAIR, 8), (EIGHT_EVENTFDS, 0), (PIPE, 0)]:
        v.msg(SET_IRQFD, bytes(size), fds=fds)
    v.bar(BAR_WRITE, PORT0 + 1, 0x02)
    v.msg(SET_IRQFD, fds=IRQ_PAIR)
    v.msg(SET_IRQFD, fds=IRQ_PAIR)
    v = new('set-irqfd-null', NULL)
    v.msg(SET_IRQFD, fds=IRQ_PAIR)
    v.cfg(CFGREAD, 0)

    # ---- broken streams ----
    new('size-too-big', NULL).cfg(CFGREAD, 0, size=193, fds=MEMFD)
    new('size-huge', MTTY).cfg(CFGREAD, 0, size=2**64 - 1)
    v = new('unknown-command', MTTY)
    v.cfg(CFGREAD, 0)
    v.msg(8, bytes(12))
    v = new('negative-command', NULL)
    v.msg(-1, b'', fds=EVENTFD)
    v = new('ret-from-client', NULL)
    v.msg(RET, struct.pack('<Q', 0))
    v = new('padding', MTTY)
    v.cfg(CFGREAD, 0, pad=0xffffffff)
    v = new('header-split', MTTY)
    m = v.cfg(CFGREAD, 0x2e, length=2, send=False)
    for i in range(len(m)):
        v.rec(m[i:i + 1], MEMFD if i == 5 else NONE)
    v = new('sysmem-split', NULL)
    m = v.sysmem([(0, 0x1000, 0)], NONE, send=False)
    v.rec(m[:16]).rec(m[16:100], MEMFD).rec(m[100:])
    v.cfg(CFGREAD, 0)
    v = new('truncated', NULL)
    v.rec(v.sysmem([(0, 0x1000, 0)], NONE, send=False)[:40], MEMFD)
    v = new('fds-alone', MTTY)
    v.rec(b'', IRQ_PAIR).rec(b'', MANY_EVENTFDS)
    v.cfg(CFGREAD, 0)
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus', 'mpqemu')
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name.startswith('seed-'):
            os.unlink(os.path.join(out, name))
    for name, sess in sorted(seeds().items()):
        with open(os.path.join(out, 'seed-' + name), 'wb') as f:
            f.write(sess.data)


if __name__ == '__main__':
    main()
