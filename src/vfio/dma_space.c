/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A client's DMA address space (see <umdev/vfio_dma.h>): a sorted table of mappings, each an
 * IOVA range backed by memory mapped from the client's fd, and the devices bound to it.
 *
 * The table is read by the devices' DMA calls inside their gates (dma_gate.h) and changed
 * only with every bound device's gate closed. Unmapping first marks the mappings dying (no
 * new pins or accesses), then asks each device with pins in them to release them
 * (ops->dma_unmap) and waits until they have, and only then removes and unmaps the memory:
 * a driver never finds a pinned page gone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <umdev/log.h>

#include "util/cond.h"
#include "util/macros.h"
#include "vfio/vfio_private.h"

static void dma_space_close_gates(struct vfio_dma_space *space);
static void dma_space_open_gates(struct vfio_dma_space *space);

int vfio_dma_space_create(struct vfio_dma_space **ret_space)
{
	struct vfio_dma_space *space = calloc(1, sizeof(*space));

	if (!space)
		return -ENOMEM;
	pthread_mutex_init(&space->lock, NULL);
	pthread_mutex_init(&space->unpin_lock, NULL);
	cond_init_monotonic(&space->unpinned);
	list_init(&space->devices);
	*ret_space = space;
	return 0;
}

void vfio_dma_space_destroy(struct vfio_dma_space *space)
{
	if (!space)
		return;
	if (!list_empty(&space->devices))
		umdev_log(UMDEV_LOG_ERR, "vfio: DMA space destroyed with devices bound");
	vfio_dma_unmap_all(space);
	free(space->maps);
	pthread_cond_destroy(&space->unpinned);
	pthread_mutex_destroy(&space->unpin_lock);
	pthread_mutex_destroy(&space->lock);
	free(space);
}

void vfio_dma_space_set_ops(struct vfio_dma_space *space, const struct vfio_dma_space_ops *ops,
			    void *opaque)
{
	pthread_mutex_lock(&space->lock);
	dma_space_close_gates(space);
	space->ops = ops;
	space->opaque = opaque;
	dma_space_open_gates(space);
	pthread_mutex_unlock(&space->lock);
}

bool vfio_dma_space_ops_idle(struct vfio_dma_space *space)
{
	return atomic_load_explicit(&space->ops_active, memory_order_acquire) == 0;
}

size_t vfio_dma_space_count(struct vfio_dma_space *space)
{
	size_t n;

	pthread_mutex_lock(&space->lock);
	n = space->nmaps;
	pthread_mutex_unlock(&space->lock);
	return n;
}

/* Closes the gates of every bound device (caller holds space->lock). */
static void dma_space_close_gates(struct vfio_dma_space *space)
{
	list_for_each_entry(p, &space->devices, struct vfio_device_private, space_node)
		dma_gate_close(&p->gate);
}

static void dma_space_open_gates(struct vfio_dma_space *space)
{
	list_for_each_entry(p, &space->devices, struct vfio_device_private, space_node)
		dma_gate_open(&p->gate);
}

/* Checks @fd and maps [fd_offset, fd_offset+size) of it with @prot. */
static int dma_map_fd(int fd, uint64_t fd_offset, uint64_t size, int prot, void **ret_host)
{
	int mprot = PROT_READ | ((prot & IOMMU_WRITE) ? PROT_WRITE : 0);
	struct stat st;
	uint64_t end;
	void *host;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return -EINVAL;
	if (add_overflows_u64(fd_offset, size, &end) || end > (uint64_t)INT64_MAX ||
	    size > SIZE_MAX)
		return -EINVAL;
	/* a mapping past the end of a file would fault (SIGBUS) on access */
	if (S_ISREG(st.st_mode) && end > (uint64_t)st.st_size)
		return -EINVAL;
	host = mmap(NULL, size, mprot, MAP_SHARED, fd, (off_t)fd_offset);
	if (host == MAP_FAILED)
		return -errno;
	*ret_host = host;
	return 0;
}

int vfio_dma_map(struct vfio_dma_space *space, dma_addr_t iova, uint64_t size, int fd,
		 uint64_t fd_offset, int prot)
{
	struct dma_mapping *m;
	uint64_t last;
	size_t i;
	int ret;

	/* a size above INT64_MAX could not be told apart from an error by vfio_dma_unmap() */
	if (!size || size > (uint64_t)INT64_MAX || !prot || (prot & ~(IOMMU_READ | IOMMU_WRITE)) ||
	    !IS_ALIGNED(iova, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) ||
	    add_overflows_u64(iova, size - 1, &last))
		return -EINVAL;
	if (fd >= 0 && !IS_ALIGNED(fd_offset, PAGE_SIZE))
		return -EINVAL;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->iova = iova;
	m->size = size;
	m->prot = prot;
	atomic_init(&m->pinned, 0);
	if (fd >= 0) {
		ret = dma_map_fd(fd, fd_offset, size, prot, &m->host);
		if (ret)
			goto err_free;
	}

	pthread_mutex_lock(&space->lock);
	i = dma_space_lower_bound(space, iova);
	if (i < space->nmaps && space->maps[i]->iova <= last) {
		ret = -EEXIST;
		goto err_unlock;
	}
	if (space->nmaps >= VFIO_DMA_MAX_MAPPINGS) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	dma_space_close_gates(space);
	if (space->nmaps == space->cap) {
		size_t cap = space->cap ? space->cap * 2 : 8;
		struct dma_mapping **maps = realloc(space->maps, cap * sizeof(*maps));

		if (!maps) {
			dma_space_open_gates(space);
			ret = -ENOMEM;
			goto err_unlock;
		}
		space->maps = maps;
		space->cap = cap;
	}
	memmove(&space->maps[i + 1], &space->maps[i], (space->nmaps - i) * sizeof(*space->maps));
	space->maps[i] = m;
	space->nmaps++;
	dma_space_open_gates(space);
	pthread_mutex_unlock(&space->lock);
	return 0;

err_unlock:
	pthread_mutex_unlock(&space->lock);
	if (m->host)
		munmap(m->host, size);
err_free:
	free(m);
	return ret;
}

/*
 * Asks each bound device with pins in @m to release them and waits until none is left,
 * re-asking every request interval (caller holds space->lock; gates are open).
 */
static void dma_space_drain_pins(struct vfio_dma_space *space, struct dma_mapping *m)
{
	for (unsigned int round = 0; atomic_load(&m->pinned); round++) {
		struct timespec deadline;

		if (round == 1)
			umdev_log(UMDEV_LOG_WARNING,
				  "vfio: unmap of iova 0x%llx waits for %lu pinned pages",
				  (unsigned long long)m->iova, (unsigned long)atomic_load(&m->pinned));
		list_for_each_entry(p, &space->devices, struct vfio_device_private, space_node) {
			struct vfio_device *vdev = p->vdev;

			if (vdev->ops->dma_unmap && dma_device_pins_mapping(vdev, m))
				vdev->ops->dma_unmap(vdev, m->iova, m->size);
		}
		deadline_after_ms(&deadline, vfio_get_request_interval_ms());
		pthread_mutex_lock(&space->unpin_lock);
		while (atomic_load(&m->pinned) &&
		       cond_wait_until(&space->unpinned, &space->unpin_lock, &deadline))
			;
		pthread_mutex_unlock(&space->unpin_lock);
	}
}

void dma_space_wake_unmappers(struct vfio_dma_space *space)
{
	pthread_mutex_lock(&space->unpin_lock);
	pthread_cond_broadcast(&space->unpinned);
	pthread_mutex_unlock(&space->unpin_lock);
}

static void reverse_maps(struct dma_mapping **maps, size_t lo, size_t hi)
{
	while (lo + 1 < hi) {
		struct dma_mapping *t = maps[lo];

		maps[lo++] = maps[--hi];
		maps[hi] = t;
	}
}

/*
 * Removes maps[first, first+n) once their pins are gone (caller holds space->lock). The
 * victims are rotated to the end of the table, beyond nmaps, so no allocation is needed
 * and the removal cannot fail.
 */
static int64_t dma_space_remove(struct vfio_dma_space *space, size_t first, size_t n)
{
	int64_t bytes = 0;

	if (!n)
		return 0;
	dma_space_close_gates(space);
	for (size_t i = first; i < first + n; i++)
		space->maps[i]->dying = true;
	dma_space_open_gates(space);

	for (size_t i = first; i < first + n; i++)
		dma_space_drain_pins(space, space->maps[i]);

	dma_space_close_gates(space);
	reverse_maps(space->maps, first, first + n);
	reverse_maps(space->maps, first + n, space->nmaps);
	reverse_maps(space->maps, first, space->nmaps);
	space->nmaps -= n;
	dma_space_open_gates(space);

	for (size_t i = space->nmaps; i < space->nmaps + n; i++) {
		struct dma_mapping *m = space->maps[i];

		bytes += (int64_t)m->size;
		if (m->host)
			munmap(m->host, m->size);
		free(m);
		space->maps[i] = NULL;
	}
	return bytes;
}

int64_t vfio_dma_unmap(struct vfio_dma_space *space, dma_addr_t iova, uint64_t size)
{
	uint64_t last;
	size_t first, end;
	int64_t ret;

	if (!size || add_overflows_u64(iova, size - 1, &last))
		return -EINVAL;
	pthread_mutex_lock(&space->lock);
	first = dma_space_lower_bound(space, iova);
	end = first;
	while (end < space->nmaps && space->maps[end]->iova <= last)
		end++;
	if (first == end) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (space->maps[first]->iova < iova ||
	    space->maps[end - 1]->iova + (space->maps[end - 1]->size - 1) > last) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = dma_space_remove(space, first, end - first);
out_unlock:
	pthread_mutex_unlock(&space->lock);
	return ret;
}

int64_t vfio_dma_unmap_all(struct vfio_dma_space *space)
{
	int64_t ret;

	pthread_mutex_lock(&space->lock);
	ret = dma_space_remove(space, 0, space->nmaps);
	pthread_mutex_unlock(&space->lock);
	return ret;
}

void dma_space_attach(struct vfio_dma_space *space, struct vfio_device *vdev)
{
	struct vfio_device_private *p = vdev->priv;

	if (!space)
		return;
	pthread_mutex_lock(&space->lock);
	dma_gate_close(&p->gate);
	p->space = space;
	list_add_tail(&p->space_node, &space->devices);
	dma_gate_open(&p->gate);
	pthread_mutex_unlock(&space->lock);
}

void dma_space_detach(struct vfio_device *vdev)
{
	struct vfio_device_private *p = vdev->priv;
	struct vfio_dma_space *space = p->space;
	unsigned long left;

	if (!space)
		return;
	left = dma_unpin_all(vdev);
	if (left) {
		umdev_log(UMDEV_LOG_WARNING, "vfio %s: closed with %lu pages still pinned",
			  dev_name(vdev->dev), left);
		/* an unmap waiting for these pins holds space->lock: wake it first */
		dma_space_wake_unmappers(space);
	}
	pthread_mutex_lock(&space->lock);
	dma_gate_close(&p->gate);
	p->space = NULL;
	list_del(&p->space_node);
	dma_gate_open(&p->gate);
	pthread_mutex_unlock(&space->lock);
}
