#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of fuzz/vfio_user_fuzz.c into fuzz/corpus/vfio-user/.

Each seed is a client session with the null device: records of [u8 fds][u16 len][len bytes],
each sent with one sendmsg() (fds % 8: 0 none, 1 memfd of 64 KiB, 2 eventfd, 3 memfd and
eventfd, 4 two eventfds, 5 two memfds, 6 a pipe, 7 seventeen eventfds). Messages are in the
vfio-user wire format (QEMU's docs/interop/vfio-user.rst) in little-endian byte order, as on
x86-64. The seeds cover every command, valid and invalid, and the ways a stream can break.

The output is deterministic: the script removes the seed-* files it wrote before and writes
them again; other files of the corpus (inputs the fuzzer found, fuzz-*) are left alone.

    fuzz/make_seed_corpus.py [CORPUS_DIRECTORY]
"""
import json
import os
import struct
import sys

NONE, MEMFD, EVENTFD, MEMFD_EVENTFD, TWO_EVENTFDS, TWO_MEMFDS, PIPE, TOO_MANY = range(8)

VERSION, DMA_MAP, DMA_UNMAP, GET_INFO, GET_REGION_INFO, GET_REGION_IO_FDS = 1, 2, 3, 4, 5, 6
GET_IRQ_INFO, SET_IRQS, REGION_READ, REGION_WRITE, DMA_READ, DMA_WRITE = 7, 8, 9, 10, 11, 12
RESET, DIRTY_PAGES, WRITE_MULTI, DEVICE_FEATURE, MIG_DATA_READ, MIG_DATA_WRITE = range(13, 19)

REPLY, NO_REPLY, ERROR = 0x1, 0x10, 0x20
BAR0, CFG = 0, 7
FEATURE_GET, FEATURE_SET, FEATURE_PROBE = 1 << 16, 1 << 17, 1 << 18
IRQ_NONE, IRQ_BOOL, IRQ_EVENTFD, IRQ_MASK, IRQ_UNMASK, IRQ_TRIGGER = 1, 2, 4, 8, 16, 32

QEMU_CAPS = {"capabilities": {"max_msg_fds": 16, "max_data_xfer_size": 1048576,
                              "pgsizes": 4096, "max_dma_maps": 65535,
                              "write_multiple": True,
                              "migration": {"pgsize": 4096, "max_bitmap_size": 268435456}}}


class Session:
    """A seed being written: its records, and message ids in order."""

    def __init__(self):
        self.data = bytearray()
        self.next_id = 0

    def rec(self, payload, fds=NONE):
        assert len(payload) <= 0xffff
        self.data += struct.pack('<BH', fds, len(payload)) + payload
        return self

    def msg(self, cmd, payload=b'', flags=0, size=None, error=0, fds=NONE, send=True):
        mid = self.next_id
        self.next_id = (self.next_id + 1) & 0xffff
        m = struct.pack('<HHIII', mid, cmd, 16 + len(payload) if size is None else size,
                        flags, error) + payload
        if send:
            self.rec(m, fds)
        return m

    def version(self, caps=QEMU_CAPS):
        js = json.dumps(caps, separators=(',', ':')).encode() + b'\0'
        return self.msg(VERSION, struct.pack('<HH', 0, 0) + js)


def u32s(*v):
    return struct.pack('<%dI' % len(v), *v)


def access(off, region, count, data=b''):
    return struct.pack('<QII', off, region, count) + data


def dma_map(flags, offset, addr, size, argsz=32):
    return struct.pack('<IIQQQ', argsz, flags, offset, addr, size)


def dma_unmap(flags, addr, size, argsz=24):
    return struct.pack('<IIQQ', argsz, flags, addr, size)


def irq_set(flags, index, start, count, data=b'', argsz=20):
    return struct.pack('<IIIII', argsz, flags, index, start, count) + data


def wm_entry(off, region, count, value):
    return struct.pack('<QII', off, region, count) + struct.pack('<Q', value)


def seeds():
    s = {}

    def new(name):
        sess = Session()
        s[name] = sess
        return sess

    # ---- the handshake ----
    new('version-qemu').version()
    v = new('version-empty')
    v.msg(VERSION, struct.pack('<HH', 0, 0))
    v.msg(GET_INFO, u32s(16, 0, 0, 0))
    v = new('version-minor-and-small-json')
    v.msg(VERSION, struct.pack('<HH', 0, 9) + b'{}\0')
    v.msg(REGION_READ, access(0, CFG, 4))
    v = new('version-bad-json')
    for js in [b'{}', b'{"capabilities":{}', b'[]\0', b'{}\0{}\0',
               b'{"capabilities":{"max_msg_fds":"8"}}\0',
               b'{"capabilities":{"max_data_xfer_size":0}}\0',
               b'{"capabilities":{"pgsizes":8192}}\0',
               b'{"capabilities":{"write_multiple":1,"migration":[]}}\0',
               b'{"capabilities":{"x":[[[[[[[[[[[[]]]]]]]]]]]]}}\0']:
        v.msg(VERSION, struct.pack('<HH', 0, 0) + js)
    v.version()
    v = new('version-major')
    v.msg(VERSION, struct.pack('<HH', 1, 0) + b'{}\0')
    v = new('version-twice')
    v.version()
    v.version()
    v = new('not-versioned')
    v.msg(GET_INFO, u32s(16, 0, 0, 0))
    v.msg(0x30, b'')
    v.msg(REGION_WRITE, access(0, BAR0, 4, b'abcd'))
    v.version()
    v.msg(GET_INFO, u32s(16, 0, 0, 0))
    v = new('version-with-fd')
    v.msg(VERSION, struct.pack('<HH', 0, 0) + b'{}\0', fds=EVENTFD)
    v.version()

    # ---- information ----
    v = new('get-info')
    v.version()
    v.msg(GET_INFO, u32s(16, 0, 0, 0))
    v.msg(GET_INFO, u32s(15, 0, 0, 0))
    v.msg(GET_INFO, u32s(0xffffffff, 0, 0, 0))
    v.msg(GET_INFO, u32s(16, 0, 0))
    v = new('get-region-info')
    v.version()
    for index in range(10):
        v.msg(GET_REGION_INFO, u32s(32, 0, index, 0, 0, 0, 0, 0))
    v.msg(GET_REGION_INFO, u32s(31, 0, 0, 0, 0, 0, 0, 0))
    v.msg(GET_REGION_INFO, u32s(0xffffffff, 0, 0xffffffff, 0, 0, 0, 0, 0))
    v.msg(GET_REGION_INFO, u32s(4096, 0, CFG, 0, 0, 0, 0, 0))
    v = new('get-region-io-fds')
    v.version()
    v.msg(GET_REGION_IO_FDS, u32s(16, 0, 0, 0))
    v.msg(GET_REGION_IO_FDS, u32s(16, 1, 9, 1))
    v.msg(GET_REGION_IO_FDS, u32s(4096, 0, CFG, 0))
    v = new('get-irq-info')
    v.version()
    for index in range(6):
        v.msg(GET_IRQ_INFO, u32s(16, 0, index, 0))
    v.msg(GET_IRQ_INFO, u32s(8, 0, 0, 0))

    # ---- interrupts ----
    v = new('set-irqs')
    v.version()
    v.msg(SET_IRQS, irq_set(IRQ_NONE | IRQ_TRIGGER, 0, 0, 0))
    v.msg(SET_IRQS, irq_set(IRQ_NONE | IRQ_UNMASK, 0, 0, 1))
    v.msg(SET_IRQS, irq_set(IRQ_BOOL | IRQ_MASK, 0, 0, 1, b'\1', argsz=21))
    v.msg(SET_IRQS, irq_set(IRQ_EVENTFD | IRQ_TRIGGER, 0, 0, 1), fds=EVENTFD)
    v.msg(SET_IRQS, irq_set(IRQ_EVENTFD | IRQ_TRIGGER, 2, 0, 2), fds=TWO_EVENTFDS)
    v.msg(SET_IRQS, irq_set(IRQ_EVENTFD | IRQ_TRIGGER, 2, 0, 4))
    v.msg(SET_IRQS, irq_set(IRQ_EVENTFD | IRQ_TRIGGER, 2, 1, 0xffffffff))
    v.msg(SET_IRQS, irq_set(IRQ_BOOL | IRQ_EVENTFD | IRQ_TRIGGER, 9, 0, 1), fds=EVENTFD)
    v = new('set-irqs-too-many-fds')
    v.version()
    v.msg(SET_IRQS, irq_set(IRQ_EVENTFD | IRQ_TRIGGER, 2, 0, 17), fds=TOO_MANY)
    v.msg(GET_INFO, u32s(16, 0, 0, 0), fds=TOO_MANY)
    v.msg(GET_INFO, u32s(16, 0, 0, 0))

    # ---- region access ----
    v = new('region-read-write')
    v.version()
    v.msg(REGION_READ, access(0, CFG, 256))
    v.msg(REGION_WRITE, access(4, CFG, 2, b'\x06\x00'))
    v.msg(REGION_WRITE, access(0x10, CFG, 4, b'\xff\xff\xff\xff'))
    v.msg(REGION_READ, access(0x10, CFG, 4))
    v.msg(REGION_WRITE, access(0, BAR0, 8, b'12345678'))
    v.msg(REGION_READ, access(0, BAR0, 4096))
    v.msg(REGION_WRITE, access(0, BAR0, 4096, bytes(range(256)) * 16))
    v.msg(REGION_READ, access(4092, BAR0, 4))
    v.msg(REGION_READ, access(0, BAR0, 0))
    v = new('region-bad')
    v.version()
    v.msg(REGION_READ, access(0, 9, 4))
    v.msg(REGION_READ, access(0, 2, 4))
    v.msg(REGION_READ, access(4094, BAR0, 4))
    v.msg(REGION_READ, access(0xfffffffffffffffe, CFG, 4))
    v.msg(REGION_READ, access(0, BAR0, 0x100001))
    v.msg(REGION_WRITE, access(0, BAR0, 8, b'1234'))
    v.msg(REGION_WRITE, access(0, BAR0, 2, b'1234'))
    v.msg(REGION_WRITE, access(4095, BAR0, 2, b'12'))
    v.msg(REGION_WRITE, access(0, 0xffffffff, 1, b'1'))
    v = new('posted-writes')
    v.version()
    v.msg(REGION_WRITE, access(0x20, BAR0, 4, b'feed'), flags=NO_REPLY)
    v.msg(REGION_WRITE, access(0x20, 99, 4, b'dead'), flags=NO_REPLY)
    v.msg(REGION_WRITE, access(0x20, BAR0, 8, b'dead'), flags=NO_REPLY)
    v.msg(0x99, b'', flags=NO_REPLY)
    v.msg(REGION_READ, access(0x20, BAR0, 4))
    v = new('write-multi')
    v.version()
    v.msg(WRITE_MULTI, struct.pack('<Q', 2) + wm_entry(0, BAR0, 4, 1) + wm_entry(8, BAR0, 8, 2),
          flags=NO_REPLY)
    v.msg(WRITE_MULTI, struct.pack('<Q', 1) + wm_entry(0x3c, CFG, 1, 0xb))
    v.msg(WRITE_MULTI, struct.pack('<Q', 0))
    v.msg(WRITE_MULTI, struct.pack('<Q', 3) + wm_entry(0, BAR0, 4, 1))
    v.msg(WRITE_MULTI, struct.pack('<Q', 1) + wm_entry(0, BAR0, 9, 1))
    v.msg(WRITE_MULTI, struct.pack('<Q', 1) + wm_entry(4093, BAR0, 4, 1))
    v.msg(WRITE_MULTI, struct.pack('<Q', 1 << 62) + wm_entry(0, BAR0, 4, 1))
    v.msg(WRITE_MULTI, struct.pack('<Q', 200) +
          b''.join(wm_entry(4 * k, BAR0, 4, k) for k in range(200)))
    v = new('reset')
    v.version()
    v.msg(REGION_WRITE, access(0, BAR0, 4, b'full'))
    v.msg(RESET)
    v.msg(RESET, b'\0')
    v.msg(REGION_READ, access(0, BAR0, 4))

    # ---- DMA ----
    v = new('dma-map-unmap')
    v.version()
    v.msg(DMA_MAP, dma_map(3, 0, 0x100000, 0x10000), fds=MEMFD)
    v.msg(DMA_MAP, dma_map(1, 0x1000, 0x200000, 0x1000), fds=MEMFD)
    v.msg(DMA_MAP, dma_map(3, 0, 0x300000, 0x4000))
    v.msg(DMA_MAP, dma_map(3, 0, 0x302000, 0x4000))
    v.msg(DMA_UNMAP, dma_unmap(0, 0x300000, 0x4000))
    v.msg(DMA_UNMAP, dma_unmap(0, 0x300000, 0x4000))
    v.msg(DMA_UNMAP, dma_unmap(0, 0x101000, 0x1000))
    v.msg(DMA_UNMAP, dma_unmap(2, 0, 0))
    v.msg(DMA_MAP, dma_map(3, 0, 0x100000, 0x10000))
    v = new('dma-map-bad')
    v.version()
    v.msg(DMA_MAP, dma_map(3, 0, 0x100000, 0x1000, argsz=31))
    v.msg(DMA_MAP, dma_map(0, 0, 0x100000, 0x1000))
    v.msg(DMA_MAP, dma_map(7, 0, 0x100000, 0x1000))
    v.msg(DMA_MAP, dma_map(3, 0, 0x100001, 0x1000))
    v.msg(DMA_MAP, dma_map(3, 0x1000, 0x100000, 0x1000))
    v.msg(DMA_MAP, dma_map(3, 0, 0xfffffffffffff000, 0x2000))
    v.msg(DMA_MAP, dma_map(3, 0x10000, 0x100000, 0x1000), fds=MEMFD)
    v.msg(DMA_MAP, dma_map(3, 0, 0x100000, 0x1000), fds=TWO_MEMFDS)
    v.msg(DMA_MAP, dma_map(3, 0, 0x100000, 0x1000), fds=EVENTFD)
    v.msg(DMA_MAP, dma_map(3, 0, 0x100000, 0x1000), fds=PIPE)
    v.msg(DMA_UNMAP, dma_unmap(2, 0x1000, 0))
    v.msg(DMA_UNMAP, dma_unmap(1, 0x1000, 0x1000))
    v.msg(DMA_UNMAP, dma_unmap(0, 0x1000, 0x1000, argsz=8))
    v.msg(DMA_UNMAP, dma_unmap(0, 0x1000, 0))
    v = new('dma-logging')
    v.version()
    v.msg(DMA_MAP, dma_map(3, 0, 0x300000, 0x10000), fds=MEMFD)
    v.msg(DEVICE_FEATURE, u32s(40, FEATURE_SET | 6) +
          struct.pack('<QIIQQ', 4096, 1, 0, 0x300000, 0x10000))
    v.msg(DEVICE_FEATURE, u32s(40, FEATURE_GET | 8) + struct.pack('<QQQ', 0x300000, 0x10000, 4096))
    v.msg(DEVICE_FEATURE, u32s(39, FEATURE_GET | 8) + struct.pack('<QQQ', 0x300000, 0x10000, 4096))
    v.msg(DEVICE_FEATURE, u32s(8, FEATURE_SET | 7))
    v.msg(DEVICE_FEATURE, u32s(64, FEATURE_PROBE | FEATURE_SET | 6))

    # ---- features and migration ----
    v = new('device-feature')
    v.version()
    v.msg(DEVICE_FEATURE, u32s(16, FEATURE_PROBE | FEATURE_GET | 1))
    v.msg(DEVICE_FEATURE, u32s(16, FEATURE_GET | 1, 0, 0))
    v.msg(DEVICE_FEATURE, u32s(16, FEATURE_SET | 2, 2, 0))
    v.msg(DEVICE_FEATURE, u32s(16, FEATURE_GET | 9, 0, 0))
    v.msg(DEVICE_FEATURE, u32s(7, FEATURE_GET | 1))
    v.msg(DEVICE_FEATURE, u32s(16, (1 << 20) | FEATURE_GET | 1))
    v.msg(DEVICE_FEATURE, u32s(0xffffffff, FEATURE_GET | 0x7777))
    v = new('mig-data')
    v.version()
    v.msg(MIG_DATA_READ, u32s(8 + 64, 64))
    v.msg(MIG_DATA_READ, u32s(16, 9))
    v.msg(MIG_DATA_READ, u32s(4, 0))
    v.msg(MIG_DATA_WRITE, u32s(16, 8) + b'12345678')
    v.msg(MIG_DATA_WRITE, u32s(16, 16) + b'12345678')

    # ---- commands and flags ----
    v = new('unknown-commands')
    v.version()
    for cmd in (0, DIRTY_PAGES, 19, 0xffff, DMA_READ, DMA_WRITE):
        v.msg(cmd, struct.pack('<QQ', 0x1000, 4))
    v = new('bad-flags')
    v.version()
    for flags in (0x40, 0x80000000, ERROR, ERROR | NO_REPLY):
        v.msg(GET_INFO, u32s(16, 0, 0, 0), flags=flags)
    v.msg(GET_INFO, u32s(16, 0, 0, 0), error=5)
    v.msg(GET_INFO, u32s(16, 0, 0, 0))
    v = new('unexpected-reply')
    v.version()
    v.msg(DMA_READ, struct.pack('<QQ', 0, 4) + b'data', flags=REPLY)
    v = new('unknown-type')
    v.version()
    v.msg(GET_INFO, u32s(16, 0, 0, 0), flags=2)

    # ---- framing and the stream ----
    v = new('frame-size-small')
    v.version()
    v.msg(GET_INFO, u32s(16, 0, 0, 0), size=15)
    v = new('frame-size-large')
    v.version()
    v.msg(REGION_WRITE, access(0, BAR0, 4, b'abcd'), size=0x100041)
    v = new('frame-truncated')
    v.version()
    v.rec(v.msg(GET_INFO, u32s(16, 0, 0, 0), send=False)[:20], MEMFD_EVENTFD)
    v = new('frame-header-split')
    v.version()
    m = v.msg(REGION_READ, access(0, CFG, 4), send=False)
    for i in range(len(m)):
        v.rec(m[i:i + 1])
    v = new('fds-mid-message')
    v.version()
    m = v.msg(DMA_MAP, dma_map(3, 0, 0x100000, 0x10000), send=False)
    v.rec(m[:10])
    v.rec(m[10:], MEMFD)
    m = v.msg(GET_INFO, u32s(16, 0, 0, 0), send=False)
    v.rec(m[:30], EVENTFD)
    v.rec(m[30:], PIPE)
    v.rec(b'', TWO_EVENTFDS)
    v = new('pipelined')
    v.version()
    batch = b''.join(v.msg(c, p, send=False) for c, p in [
        (REGION_WRITE, access(0x100, BAR0, 4, b'\1\0\0\0')),
        (REGION_READ, access(0x100, BAR0, 4)),
        (GET_IRQ_INFO, u32s(16, 0, 2, 0)),
        (14, b''),
        (REGION_READ, access(0, CFG, 64)),
    ])
    v.rec(batch * 3)
    v = new('pipelined-many')
    v.version()
    v.rec(b''.join(v.msg(GET_INFO, u32s(16, 0, 0, 0), send=False) for _ in range(140)))
    v = new('messages-across-records')
    v.version()
    both = v.msg(REGION_WRITE, access(0x40, BAR0, 4, b'wxyz'), send=False) + \
        v.msg(REGION_READ, access(0x40, BAR0, 4), send=False)
    v.rec(both[:7])
    v.rec(both[7:40], EVENTFD)
    v.rec(both[40:])
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, 'corpus', 'vfio-user')
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name.startswith('seed-'):
            os.remove(os.path.join(out, name))
    for name, sess in sorted(seeds().items()):
        with open(os.path.join(out, 'seed-' + name), 'wb') as f:
            f.write(bytes(sess.data))
    return 0


if __name__ == '__main__':
    sys.exit(main())
