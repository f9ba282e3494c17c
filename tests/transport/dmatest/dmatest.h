/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmatest: the DMA-capable test device that the transport tests serve. This header is its
 * interface as a client sees it: the parent and type names, the region layout of the device
 * file, the PCI config space, the BAR0 registers, the IRQs and the migration stream format,
 * plus one hook for in-process tests. See dmatest.c for what the driver does and how it locks.
 *
 * Regions (device-file offset = index << 40, as in the kernel's samples):
 *   7 CONFIG  256 bytes, read/write: a type-0 header with an MSI capability at 0x40
 *   0 BAR0    4 KiB, read/write, 4- or 8-byte naturally aligned accesses: the registers below
 *   2 BAR2    64 KiB, read/write/mmap with a sparse-mmap capability: the device buffer, a
 *             memfd of the driver's; only its second half may be mmapped
 *   others    size 0
 *
 * IRQs: INTx (EVENTFD|MASKABLE|AUTOMASKED, 1), MSI (EVENTFD|NORESIZE, 1), MSI-X (0), ERR (0),
 * REQ (EVENTFD, 1; signalled when the device is removed while open).
 *
 * A transfer: write DMA_ADDR (an IOVA of the client), DMA_LEN, DMA_BUF_OFF (offset in BAR2),
 * then DMA_CTRL with GO and the options. It runs synchronously inside that write: when the
 * write returns, DMA_STATUS holds its result, XFER_COUNT has gone up by one and the
 * interrupt has been raised (IRQ_STATUS.PENDING set, the eventfd of INTx or MSI signalled).
 */
#ifndef UMDEV_TESTS_DMATEST_H
#define UMDEV_TESTS_DMATEST_H

#include <stdint.h>

#define DMATEST_PARENT_NAME "dmatest"
#define DMATEST_TYPE_NAME "dmatest-1"
#define DMATEST_MAX_INSTANCES 64

/* ---- regions ---- */

#define DMATEST_REGION_SHIFT 40
#define DMATEST_REGION_OFFSET(index) ((uint64_t)(index) << DMATEST_REGION_SHIFT)
#define DMATEST_REGION_MASK ((1ULL << DMATEST_REGION_SHIFT) - 1)

#define DMATEST_CONFIG_SIZE 256
#define DMATEST_BAR0_SIZE 4096
#define DMATEST_BAR2_SIZE 65536
/* The one sparse-mmap area of BAR2: its second half. The first half traps to read/write. */
#define DMATEST_BAR2_MMAP_OFFSET (DMATEST_BAR2_SIZE / 2)
#define DMATEST_BAR2_MMAP_SIZE (DMATEST_BAR2_SIZE / 2)

/* ---- PCI config space ---- */

#define DMATEST_PCI_VENDOR_ID 0x1234 /* the vendor ID of QEMU's test devices */
#define DMATEST_PCI_DEVICE_ID 0x646d /* "dm" */
#define DMATEST_PCI_CLASS 0xff0000u  /* unassigned class */
#define DMATEST_PCI_REVISION 0x01
/*
 * Writable bits: command MEMORY|MASTER|INTX_DISABLE (0x0406); BAR0 and BAR2 (32-bit,
 * non-prefetchable memory) above their size, so that writing ~0 sizes them; interrupt
 * line; MSI control ENABLE, address (dword aligned) and data. Everything else is read-only:
 * status 0x0010 (capability list), interrupt pin INTA, capability pointer 0x40, BAR1 and
 * BAR3-5 and the ROM BAR 0 (not implemented).
 */
#define DMATEST_PCI_COMMAND_WMASK 0x0406
#define DMATEST_MSI_CAP 0x40 /* id 0x05; control 0x42, address 0x44, data 0x48 */

/* ---- BAR0 registers (little endian) ---- */

#define DMATEST_REG_ID 0x00	     /* u32 RO: DMATEST_ID */
#define DMATEST_REG_DMA_ADDR 0x08    /* u64 RW: IOVA of the guest side of a transfer */
#define DMATEST_REG_DMA_LEN 0x10     /* u32 RW: bytes, 1..DMATEST_BAR2_SIZE */
#define DMATEST_REG_DMA_BUF_OFF 0x14 /* u32 RW: offset of the device side in BAR2 */
#define DMATEST_REG_DMA_CTRL 0x18    /* u32 RW: DMATEST_CTRL_*; reads DIR|PIN|HOLD */
#define DMATEST_REG_DMA_STATUS 0x1c  /* u32 RO: 0, or the -errno of the last transfer */
#define DMATEST_REG_IRQ_CTRL 0x20    /* u32 WO: DMATEST_IRQ_CTRL_RAISE raises the interrupt */
#define DMATEST_REG_IRQ_STATUS 0x24  /* u32 RW1C: DMATEST_IRQ_STATUS_PENDING */
#define DMATEST_REG_SCRATCH 0x28     /* u64 RW: a register that only stores */
#define DMATEST_REG_XFER_COUNT 0x30  /* u64 RO: transfers completed, whatever their status */
#define DMATEST_REG_UNMAP_PAGES 0x38 /* u64 RO: pinned pages released by dma_unmap */
#define DMATEST_REG_UNMAP_CALLS 0x40 /* u32 RO: dma_unmap calls received */
#define DMATEST_REG_PINNED_PAGES 0x44 /* u32 RO: pages held now (DMATEST_CTRL_HOLD) */
#define DMATEST_REG_END 0x48	      /* offsets from here to the end read 0, ignore writes */

#define DMATEST_ID 0x444d5431u /* "DMT1" */

#define DMATEST_CTRL_GO (1u << 0)	   /* start a transfer (not stored) */
#define DMATEST_CTRL_TO_GUEST (1u << 1)	   /* 0: guest -> BAR2, 1: BAR2 -> guest */
#define DMATEST_CTRL_PIN (1u << 2)	   /* vfio_pin_pages + memcpy, not vfio_dma_rw */
#define DMATEST_CTRL_HOLD (1u << 3)	   /* with PIN: keep the pins after the transfer */
#define DMATEST_CTRL_RELEASE (1u << 4)	   /* release held pins, before any GO (not stored) */
#define DMATEST_CTRL_STORED (DMATEST_CTRL_TO_GUEST | DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD)

#define DMATEST_IRQ_CTRL_RAISE (1u << 0)
#define DMATEST_IRQ_STATUS_PENDING (1u << 0)

/*
 * DMA_STATUS values besides 0 and the errors of vfio_dma_rw()/vfio_pin_pages() (-EINVAL for
 * an IOVA outside the mappings, -EPERM, -EFAULT, -E2BIG):
 *   -EINVAL     DMA_LEN 0 or DMA_BUF_OFF + DMA_LEN past BAR2
 *   -EBUSY      GO while another transfer of the device is in flight (on another thread)
 *   -ECANCELED  the pins of the transfer were taken back (dma_unmap) before it copied
 * A transfer in flight when the device is reset, closed or stopped for migration completes
 * without status, count or interrupt: it is dropped. Its pins, and the held ones, are
 * released then. Held pins also go at RELEASE, at the next GO, and when dma_unmap is
 * called for a range that holds one of their pages (all of the set goes, and counts in
 * UNMAP_PAGES).
 * In the stopped migration states (STOP, STOP_COPY, RESUMING) GO and RAISE do nothing.
 */

/* ---- migration stream (VFIO migration v2; all fields little endian) ---- */

#define DMATEST_MIG_MAGIC 0x6d74736574616d64ull /* "dmatestm" */
#define DMATEST_MIG_VERSION 1

struct dmatest_mig_header {
	uint64_t magic;
	uint32_t version;
	uint32_t flags;	 /* 0 */
	uint64_t length; /* bytes after the header: DMATEST_MIG_PAYLOAD_SIZE */
};
_Static_assert(sizeof(struct dmatest_mig_header) == 24, "dmatest_mig_header");

/* The registers in the stream (PINNED_PAGES is not saved: pins stay with the source). */
struct dmatest_mig_regs {
	uint64_t dma_addr;
	uint32_t dma_len;
	uint32_t dma_buf_off;
	uint32_t dma_ctrl;
	uint32_t dma_status;
	uint32_t irq_status;
	uint32_t unmap_calls;
	uint64_t scratch;
	uint64_t xfer_count;
	uint64_t unmap_pages;
	uint64_t reserved; /* 0 */
};
_Static_assert(sizeof(struct dmatest_mig_regs) == 64, "dmatest_mig_regs");

/* The payload: registers, then config space, then the BAR2 buffer. */
#define DMATEST_MIG_PAYLOAD_SIZE \
	(sizeof(struct dmatest_mig_regs) + DMATEST_CONFIG_SIZE + DMATEST_BAR2_SIZE)
#define DMATEST_MIG_STREAM_SIZE (sizeof(struct dmatest_mig_header) + DMATEST_MIG_PAYLOAD_SIZE)

/* ---- for in-process tests ---- */

/*
 * Called by every pinned transfer (of any dmatest device) while it holds its pins and
 * before it copies, on the transferring thread with no lock of the driver held; a test
 * parks the transfer there to unmap under it. NULL (the default) disables it.
 */
typedef void (*dmatest_pin_hook_fn)(void *arg);
void dmatest_set_pin_hook(dmatest_pin_hook_fn fn, void *arg);

#endif
