/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A client's DMA address space: the userspace counterpart of the kernel's type1 container or
 * iommufd IOAS. A transport creates one per connected client and adds the client's DMA
 * mappings to it (for vfio-user, DMA_MAP/DMA_UNMAP); each mapping is a range of IOVA backed by
 * a range of an fd the client passed (a memfd of guest RAM), mapped into this process with
 * the mapping's access rights. Devices bound to the space (vfio_device_open()) reach that
 * memory only through vfio_pin_pages() and vfio_dma_rw(), which check every access.
 *
 * Removing a mapping calls the dma_unmap op of every device that has pages pinned in it and
 * completes only when those pins are released; the memory stays mapped until then.
 *
 * Thread safety: every function may be called from any thread; changes to one space are
 * serialised.
 */
#ifndef UMDEV_VFIO_DMA_H
#define UMDEV_VFIO_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umdev/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct vfio_dma_space;

/* Most mappings one space holds (the vfio-user default of max_dma_maps). */
#define VFIO_DMA_MAX_MAPPINGS 65535

/*
 * How a space reaches mappings that have no fd (no memory in this process): a transport
 * forwards such accesses to the client (vfio-user DMA_READ/DMA_WRITE). Called without any
 * lock of the space held. Returns 0 or -errno.
 */
struct vfio_dma_space_ops {
	int (*rw)(void *opaque, dma_addr_t iova, void *data, size_t len, bool write);
};

int vfio_dma_space_create(struct vfio_dma_space **ret_space);

/* Removes every mapping (as vfio_dma_unmap_all()) and frees the space. Devices must have been
 * closed first. NULL is ignored. */
void vfio_dma_space_destroy(struct vfio_dma_space *space);

/*
 * Sets the handler of mappings without an fd (NULL: such accesses fail with -EFAULT). Calls
 * of the old ops may still be running when it returns (they run outside the space's locks);
 * a transport that frees what @opaque points at first sets NULL ops, then waits until
 * vfio_dma_space_ops_idle() is true.
 */
void vfio_dma_space_set_ops(struct vfio_dma_space *space, const struct vfio_dma_space_ops *ops,
			    void *opaque);

/* True when no call of the space's ops is running. */
bool vfio_dma_space_ops_idle(struct vfio_dma_space *space);

/*
 * Maps [iova, iova+size) to [fd_offset, fd_offset+size) of @fd with access @prot
 * (IOMMU_READ and/or IOMMU_WRITE). @fd stays owned by the caller (the space keeps only the
 * memory mapping); @fd -1 adds a mapping without memory here, reached through the space ops.
 * iova, size and fd_offset must be page-aligned. Errors:
 *   -EINVAL  size 0 or above INT64_MAX, misaligned, overflowing, bad prot, not a mappable file,
 *            or the range is
 *            past the end of the file
 *   -EEXIST  overlaps an existing mapping
 *   -ENOSPC  VFIO_DMA_MAX_MAPPINGS reached
 *   -errno   of fstat() or mmap() (e.g. -EACCES for a read-only fd mapped for writing)
 */
int vfio_dma_map(struct vfio_dma_space *space, dma_addr_t iova, uint64_t size, int fd,
		 uint64_t fd_offset, int prot);

/*
 * Removes the mappings that lie within [iova, iova+size) and returns the number of bytes
 * unmapped. -ENOENT when no mapping lies there, -EINVAL when a mapping straddles an end of
 * the range (mappings are removed whole) or the range overflows.
 */
int64_t vfio_dma_unmap(struct vfio_dma_space *space, dma_addr_t iova, uint64_t size);

/* Removes every mapping; returns the number of bytes unmapped. */
int64_t vfio_dma_unmap_all(struct vfio_dma_space *space);

/* Number of mappings. */
size_t vfio_dma_space_count(struct vfio_dma_space *space);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
