/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vfio-user wire format (QEMU's docs/interop/vfio-user.rst, protocol 0.0): the message
 * header, the command numbers and the payload of every command, in host byte order. Every
 * size and offset the specification gives is checked at compile time. Where QEMU's client
 * differs from the specification, the difference is noted next to the structure
 * (../shared/spec/qemu-transports.md, section A).
 */
#ifndef UMDEV_VFIO_USER_PROTO_H
#define UMDEV_VFIO_USER_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* ---- header (spec "Header") ---- */

struct vfu_hdr {
	uint16_t msg_id;
	uint16_t command;
	uint32_t msg_size; /* of the whole message, header included */
	uint32_t flags;
	uint32_t error;	   /* errno, valid in a reply with VFU_FLAG_ERROR */
};
_Static_assert(sizeof(struct vfu_hdr) == 16, "vfio-user header");
_Static_assert(offsetof(struct vfu_hdr, command) == 2, "header.command");
_Static_assert(offsetof(struct vfu_hdr, msg_size) == 4, "header.msg_size");
_Static_assert(offsetof(struct vfu_hdr, flags) == 8, "header.flags");
_Static_assert(offsetof(struct vfu_hdr, error) == 12, "header.error");

#define VFU_FLAG_TYPE_MASK 0xfu
#define VFU_FLAG_TYPE_COMMAND 0x0u
#define VFU_FLAG_TYPE_REPLY 0x1u
#define VFU_FLAG_NO_REPLY (1u << 4)
#define VFU_FLAG_ERROR (1u << 5)
#define VFU_FLAGS_KNOWN (VFU_FLAG_TYPE_MASK | VFU_FLAG_NO_REPLY | VFU_FLAG_ERROR)

/* ---- commands (spec "Commands") ---- */

enum vfu_command {
	VFU_CMD_VERSION = 1,
	VFU_CMD_DMA_MAP = 2,
	VFU_CMD_DMA_UNMAP = 3,
	VFU_CMD_DEVICE_GET_INFO = 4,
	VFU_CMD_DEVICE_GET_REGION_INFO = 5,
	VFU_CMD_DEVICE_GET_REGION_IO_FDS = 6,
	VFU_CMD_DEVICE_GET_IRQ_INFO = 7,
	VFU_CMD_DEVICE_SET_IRQS = 8,
	VFU_CMD_REGION_READ = 9,
	VFU_CMD_REGION_WRITE = 10,
	VFU_CMD_DMA_READ = 11,	/* server -> client */
	VFU_CMD_DMA_WRITE = 12, /* server -> client */
	VFU_CMD_DEVICE_RESET = 13,
	VFU_CMD_DIRTY_PAGES = 14, /* withdrawn from the specification */
	VFU_CMD_REGION_WRITE_MULTI = 15,
	VFU_CMD_DEVICE_FEATURE = 16,
	VFU_CMD_MIG_DATA_READ = 17,
	VFU_CMD_MIG_DATA_WRITE = 18,
	VFU_CMD_MAX = 19,
};

/* ---- VERSION (spec "VFIO_USER_VERSION") ---- */

struct vfu_version {
	uint16_t major;
	uint16_t minor;
	char data[]; /* optional JSON, NUL-terminated */
};
_Static_assert(sizeof(struct vfu_version) == 4, "version");

#define VFU_VERSION_MAJOR 0
#define VFU_VERSION_MINOR 0

/* ---- DMA_MAP / DMA_UNMAP ---- */

struct vfu_dma_map {
	uint32_t argsz;
	uint32_t flags; /* VFU_DMA_MAP_READ | VFU_DMA_MAP_WRITE */
	uint64_t offset;
	uint64_t addr;
	uint64_t size;
};
_Static_assert(sizeof(struct vfu_dma_map) == 32, "dma_map");
_Static_assert(offsetof(struct vfu_dma_map, offset) == 8, "dma_map.offset");
_Static_assert(offsetof(struct vfu_dma_map, addr) == 16, "dma_map.addr");
_Static_assert(offsetof(struct vfu_dma_map, size) == 24, "dma_map.size");

#define VFU_DMA_MAP_READ (1u << 0)
#define VFU_DMA_MAP_WRITE (1u << 1)

struct vfu_dma_unmap {
	uint32_t argsz;
	uint32_t flags; /* VFU_DMA_UNMAP_ALL */
	uint64_t addr;
	uint64_t size;
};
_Static_assert(sizeof(struct vfu_dma_unmap) == 24, "dma_unmap");
_Static_assert(offsetof(struct vfu_dma_unmap, addr) == 8, "dma_unmap.addr");

/* the value of VFIO_DMA_UNMAP_FLAG_ALL, which QEMU's client sends */
#define VFU_DMA_UNMAP_ALL (1u << 1)

/* ---- DEVICE_GET_INFO: 16 bytes, a prefix of struct vfio_device_info ---- */

struct vfu_device_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
};
_Static_assert(sizeof(struct vfu_device_info) == 16, "device_info");

/* ---- DEVICE_GET_REGION_INFO: struct vfio_region_info (32 bytes) plus capabilities ---- */

struct vfu_region_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t cap_offset;
	uint64_t size;
	uint64_t offset;
};
_Static_assert(sizeof(struct vfu_region_info) == 32, "region_info");
_Static_assert(offsetof(struct vfu_region_info, size) == 16, "region_info.size");
_Static_assert(offsetof(struct vfu_region_info, offset) == 24, "region_info.offset");

/* ---- DEVICE_GET_REGION_IO_FDS ---- */

struct vfu_region_io_fds {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t count;
};
_Static_assert(sizeof(struct vfu_region_io_fds) == 16, "region_io_fds");

struct vfu_sub_region_ioeventfd {
	uint64_t offset;
	uint64_t size;
	uint32_t fd_index;
	uint32_t type;
	uint32_t flags;
	uint32_t padding;
	uint64_t datamatch;
};
_Static_assert(sizeof(struct vfu_sub_region_ioeventfd) == 40, "sub-region");

/* ---- DEVICE_GET_IRQ_INFO: struct vfio_irq_info ---- */

struct vfu_irq_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t count;
};
_Static_assert(sizeof(struct vfu_irq_info) == 16, "irq_info");

/* ---- DEVICE_SET_IRQS: struct vfio_irq_set; eventfds travel as SCM_RIGHTS ---- */

struct vfu_irq_set {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t start;
	uint32_t count;
	uint8_t data[]; /* DATA_BOOL: count bytes */
};
_Static_assert(sizeof(struct vfu_irq_set) == 20, "irq_set");

/* ---- REGION_READ / REGION_WRITE ---- */

struct vfu_region_access {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
	uint8_t data[];
};
_Static_assert(sizeof(struct vfu_region_access) == 16, "region_access");

/* ---- DMA_READ / DMA_WRITE (server -> client) ---- */

/*
 * The specification's layout: data at payload offset 16. QEMU 10.1's client uses
 * {u64 offset; u32 count; data} with the data at offset 12 (qemu-transports.md, A): replies
 * of that shape are recognised by their size.
 */
struct vfu_dma_rw {
	uint64_t addr;
	uint64_t count;
	uint8_t data[];
};
_Static_assert(sizeof(struct vfu_dma_rw) == 16, "dma_rw");
#define VFU_DMA_RW_QEMU_HDR 12

/* ---- REGION_WRITE_MULTI ---- */

struct vfu_write_multi_entry {
	uint64_t offset;
	uint32_t region;
	uint32_t count; /* at most 8 */
	uint8_t data[8];
};
_Static_assert(sizeof(struct vfu_write_multi_entry) == 24, "write_multi entry");

struct vfu_write_multi {
	uint64_t wr_cnt;
	struct vfu_write_multi_entry wrs[];
};
_Static_assert(sizeof(struct vfu_write_multi) == 8, "write_multi");

/* the most entries QEMU's client puts in one message */
#define VFU_WRITE_MULTI_MAX 200

/* ---- DEVICE_FEATURE: struct vfio_device_feature ---- */

struct vfu_device_feature {
	uint32_t argsz;
	uint32_t flags;
	uint8_t data[];
};
_Static_assert(sizeof(struct vfu_device_feature) == 8, "device_feature");

/* ---- MIG_DATA_READ / MIG_DATA_WRITE ---- */

struct vfu_mig_data {
	uint32_t argsz;
	uint32_t size;
	uint8_t data[];
};
_Static_assert(sizeof(struct vfu_mig_data) == 8, "mig_data");

#endif
