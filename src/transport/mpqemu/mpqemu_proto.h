/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mpqemu wire format (QEMU 7.2's multi-process proxy, `x-pci-proxy-dev`; unchanged in
 * later releases), as ../shared/spec/qemu-transports.md section B describes it for x86-64:
 * host byte order, LP64 layout. Every size and offset is checked at compile time.
 *
 * A message is a 16-byte header followed by `size` payload bytes (at most 192, the largest
 * payload, SYNC_SYSMEM's), sent with one sendmsg() that carries the message's fds as
 * SCM_RIGHTS. QEMU keeps fds and a count next to the payload in memory; neither is on the
 * wire. The proxy sends every command; the remote (us) sends only RET, in reply to
 * PCI_CFGWRITE, PCI_CFGREAD, BAR_WRITE, BAR_READ and DEVICE_RESET, in the order of the
 * requests.
 */
#ifndef UMDEV_MPQEMU_PROTO_H
#define UMDEV_MPQEMU_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* ---- header ---- */

struct mpq_hdr {
	int32_t cmd;	/* enum mpq_command */
	uint32_t pad;	/* alignment of `size`; QEMU sends zeroes, we ignore it */
	uint64_t size;	/* payload bytes after the header */
};
_Static_assert(sizeof(struct mpq_hdr) == 16, "mpqemu header");
_Static_assert(offsetof(struct mpq_hdr, cmd) == 0, "header.cmd");
_Static_assert(offsetof(struct mpq_hdr, size) == 8, "header.size");

/* The largest payload: QEMU refuses a header whose size is larger. */
#define MPQ_MAX_PAYLOAD 192u
/* QEMU's REMOTE_MAX_FDS: a message with this many fds or more is invalid. */
#define MPQ_MAX_FDS 8u

/* ---- commands ---- */

enum mpq_command {
	MPQ_CMD_SYNC_SYSMEM = 0,  /* guest RAM sections, one fd each; no reply */
	MPQ_CMD_RET = 1,	  /* the remote's reply: a u64 */
	MPQ_CMD_PCI_CFGWRITE = 2, /* struct mpq_pci_conf; RET (0, or MPQ_RET_ERROR) */
	MPQ_CMD_PCI_CFGREAD = 3,  /* struct mpq_pci_conf; RET (the value) */
	MPQ_CMD_BAR_WRITE = 4,	  /* struct mpq_bar_access; RET */
	MPQ_CMD_BAR_READ = 5,	  /* struct mpq_bar_access; RET (the value) */
	MPQ_CMD_SET_IRQFD = 6,	  /* no payload; 2 fds: INTx eventfd, resample eventfd */
	MPQ_CMD_DEVICE_RESET = 7, /* no payload; RET */
	MPQ_CMD_MAX = 8,
};

/* ---- PCI_CFGWRITE / PCI_CFGREAD ---- */

struct mpq_pci_conf {
	uint32_t addr;	/* offset in config space */
	uint32_t val;	/* the value written (a read sends 0) */
	int32_t len;	/* 1, 2 or 4 */
};
_Static_assert(sizeof(struct mpq_pci_conf) == 12, "pci_conf");
_Static_assert(offsetof(struct mpq_pci_conf, val) == 4, "pci_conf.val");
_Static_assert(offsetof(struct mpq_pci_conf, len) == 8, "pci_conf.len");

/* ---- BAR_WRITE / BAR_READ ---- */

struct mpq_bar_access {
	uint64_t addr;	  /* bus address: guest I/O port or guest physical address */
	uint64_t val;	  /* the value written, in its low `size` bytes */
	uint32_t size;	  /* access size in bytes */
	uint8_t memory;	  /* C bool: 1 memory space, 0 I/O space */
	uint8_t pad[3];
};
_Static_assert(sizeof(struct mpq_bar_access) == 24, "bar_access");
_Static_assert(offsetof(struct mpq_bar_access, val) == 8, "bar_access.val");
_Static_assert(offsetof(struct mpq_bar_access, size) == 16, "bar_access.size");
_Static_assert(offsetof(struct mpq_bar_access, memory) == 20, "bar_access.memory");

/* ---- SYNC_SYSMEM ---- */

/* Section i (i < the number of fds) maps fd i at offsets[i] to [gpas[i], +sizes[i]). */
struct mpq_sync_sysmem {
	uint64_t gpas[MPQ_MAX_FDS];
	uint64_t sizes[MPQ_MAX_FDS];
	int64_t offsets[MPQ_MAX_FDS];
};
_Static_assert(sizeof(struct mpq_sync_sysmem) == MPQ_MAX_PAYLOAD, "sync_sysmem");
_Static_assert(offsetof(struct mpq_sync_sysmem, sizes) == 64, "sync_sysmem.sizes");
_Static_assert(offsetof(struct mpq_sync_sysmem, offsets) == 128, "sync_sysmem.offsets");

/* ---- RET ---- */

struct mpq_ret {
	uint64_t value;
};
_Static_assert(sizeof(struct mpq_ret) == 8, "ret");

/* The value QEMU reports as a failed request. */
#define MPQ_RET_ERROR UINT64_MAX

/* A whole RET message. */
struct mpq_ret_msg {
	struct mpq_hdr hdr;
	struct mpq_ret ret;
};
_Static_assert(sizeof(struct mpq_ret_msg) == 24, "ret message");
_Static_assert(offsetof(struct mpq_ret_msg, ret) == 16, "ret message payload");

#endif
