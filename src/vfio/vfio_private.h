/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's private state of a vfio device and of a DMA address space, shared by the files
 * of src/vfio/. Lock order: vfio_device_private.lock, then vfio_dma_space.lock, then a
 * device's dma_gate (writer side), then a device's pin_lock.
 */
#ifndef UMDEV_VFIO_PRIVATE_H
#define UMDEV_VFIO_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_dma.h>

#include "util/hmap.h"
#include "util/list.h"
#include "vfio/dma_gate.h"

struct vfio_device_private {
	struct vfio_device *vdev; /* back pointer, for the registry */
	unsigned long refcount; /* atomic builtins; the last vfio_put_device() frees */

	pthread_mutex_t lock;  /* guards the fields up to `space` (writes of `space` also
				* need the gate closed) */
	pthread_cond_t closed; /* broadcast when open_count drops to 0 */
	unsigned int open_count;
	bool registered;
	bool emulated;			/* registered with vfio_register_emulated_iommu_dev() */
	struct vfio_dma_space *space;	/* bound at first open; read inside the gate */

	/* Registry (guarded by the registry lock of vfio_device.c). */
	char *name;
	struct hmap_node name_node;	/* devices without a match op, by name */
	struct list_head match_node;	/* devices with a match op */

	struct vfio_mig_file *mig_file; /* current migration stream (lock) */

	struct dma_gate gate;
	struct list_head space_node;	/* in space->devices; guarded by space->lock */

	pthread_mutex_t pin_lock;	/* guards pins */
	struct hmap pins;		/* struct dma_pin by IOVA page number */

	/* DMA logging (vfio_dirty.c), NULL while off. Set and cleared with `lock` held and the
	 * gate closed; read inside the gate (the marking hooks) or under `lock` (the features). */
	struct vfio_dirty_log *dirty;
};

/* One pinned IOVA page of one device. */
struct dma_pin {
	struct hmap_node node;
	uint64_t pfn;		     /* iova >> PAGE_SHIFT */
	unsigned int refs;	     /* vfio_pin_pages() calls that pinned it */
	struct dma_mapping *mapping; /* that holds the page */
	bool write;		     /* one of those calls asked for IOMMU_WRITE */
};

/* One mapping of a DMA address space. */
struct dma_mapping {
	dma_addr_t iova;
	uint64_t size;
	void *host;		/* the memory in this process, NULL for a mapping without fd */
	int prot;		/* IOMMU_READ | IOMMU_WRITE */
	bool dying;		/* being unmapped: no new pins, no new accesses */
	atomic_ulong pinned;	/* pages pinned in it, all devices together */
};

struct vfio_dma_space {
	pthread_mutex_t lock;	/* serialises changes; guards everything below but `maps`,
				 * which also needs the gates of the bound devices closed to
				 * change, and is read inside any of them */
	struct dma_mapping **maps; /* sorted by iova, non-overlapping */
	size_t nmaps, cap;
	struct list_head devices;  /* bound devices (vfio_device_private.space_node) */
	const struct vfio_dma_space_ops *ops;
	void *opaque;
	atomic_uint ops_active;	/* callers inside ops->rw (counted inside a gate) */

	pthread_mutex_t unpin_lock; /* with `unpinned`: unmap waits for pins to go */
	pthread_cond_t unpinned;
};

/* ---- between the files of src/vfio ---- */

/* Binds @space to @vdev (caller holds vdev's lock); NULL space is allowed. */
void dma_space_attach(struct vfio_dma_space *space, struct vfio_device *vdev);
/* Unbinds the device's space, dropping pins that the driver left behind. */
void dma_space_detach(struct vfio_device *vdev);

/* Index of the first mapping whose last byte is at or above @iova (nmaps if none). */
static inline size_t dma_space_lower_bound(const struct vfio_dma_space *space, dma_addr_t iova)
{
	size_t lo = 0, hi = space->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dma_mapping *m = space->maps[mid];

		/* m->iova + m->size may be 2^64: compare with the last byte */
		if (m->iova + (m->size - 1) < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Looks up the mapping holding @iova; inside the gate of a bound device. NULL if none. */
static inline struct dma_mapping *dma_space_find(const struct vfio_dma_space *space,
						 dma_addr_t iova)
{
	size_t i = dma_space_lower_bound(space, iova);

	if (i < space->nmaps && space->maps[i]->iova <= iova)
		return space->maps[i];
	return NULL;
}

/* Drops every pin of @vdev (at close, with the device's lock held) and ends its DMA logging;
 * returns how many pages were still pinned. */
unsigned long dma_unpin_all(struct vfio_device *vdev);
/* True when @vdev has a page pinned inside @mapping (caller holds no pin_lock). */
bool dma_device_pins_mapping(struct vfio_device *vdev, const struct dma_mapping *mapping);
/* Wakes unmappers waiting for pins of @space to go. */
void dma_space_wake_unmappers(struct vfio_dma_space *space);

/* The migration features (vfio_migration.c); -ENOTTY for a device without mig_ops. */
int vfio_migration_feature(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz);
/* Sets the current migration stream, taking over the reference (NULL drops it). */
void vfio_device_set_mig_file(struct vfio_device *vdev, struct vfio_mig_file *file);

/* ---- DMA logging (vfio_dirty.c) ---- */

struct vfio_dirty_log;

/* Most ranges one DMA_LOGGING_START may log: the kernel's LOG_MAX_RANGES (the ranges that fit
 * in one page). */
#define VFIO_DIRTY_MAX_RANGES (PAGE_SIZE / sizeof(struct vfio_device_feature_dma_logging_range))
/* Most memory the bitmaps of one START may take together (-E2BIG beyond). */
#define VFIO_DIRTY_MAX_BITMAP_BYTES ((uint64_t)64 << 20)

/* DMA_LOGGING_START, _STOP and _REPORT; -ENOTTY for a device that is not emulated-IOMMU. */
int vfio_dirty_feature(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz);
/* Records a device write of [iova, iova+len) (inside the gate, @log = the device's dirty). */
void vfio_dirty_mark(struct vfio_dirty_log *log, dma_addr_t iova, uint64_t len);
/* Ends DMA logging of @vdev if it is on (caller holds the device's lock). */
void vfio_dirty_stop_locked(struct vfio_device *vdev);

/* The VFIO_DEVICE_FEATURE dispatcher of the core. */
long vfio_ioctl_device_feature(struct vfio_device *vdev, struct vfio_device_feature *feature);

/* Tunable for tests: the interval between request() calls of an unregistration, and the
 * interval at which an unmap re-notifies drivers that keep pages pinned. */
void vfio_set_request_interval_ms(unsigned int ms);
unsigned int vfio_get_request_interval_ms(void);

#endif
