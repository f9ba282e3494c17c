/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page pinning of the DMA translation API: vfio_pin_pages() and vfio_unpin_pages().
 *
 * A pin is a counted reference of one device on one IOVA page; while a page is pinned its
 * mapping stays in place (an unmap waits, see dma_space.c), so the host address handed out
 * stays valid. Pins are recorded per device in a hash by page number, and each mapping counts
 * the distinct pages pinned in it. While DMA logging is on, a pin for writing counts as a
 * write of its pages when it is taken and when it is dropped (vfio_dirty.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/log.h>

#include "util/macros.h"
#include "vfio/vfio_private.h"

static struct dma_pin *dma_pin_find(struct vfio_device_private *p, uint64_t pfn)
{
	HMAP_FOR_EACH_WITH_HASH(node, &p->pins, hash_u64(pfn)) {
		struct dma_pin *pin = container_of(node, struct dma_pin, node);

		if (pin->pfn == pfn)
			return pin;
	}
	return NULL;
}

/* Drops one reference of the pin on @pfn; true if its mapping became free of pins while
 * being unmapped (caller holds pin_lock). */
static bool dma_pin_put(struct vfio_device_private *p, uint64_t pfn)
{
	struct dma_pin *pin = dma_pin_find(p, pfn);
	struct dma_mapping *m;
	bool wake;

	if (!pin || --pin->refs)
		return false;
	m = pin->mapping;
	hmap_remove(&p->pins, &pin->node);
	free(pin);
	wake = atomic_fetch_sub(&m->pinned, 1) == 1 && m->dying;
	return wake;
}

/* Records a write of @pfn for DMA logging if it is pinned for writing (caller holds
 * pin_lock, inside the gate). */
static void dma_pin_mark_written(struct vfio_device_private *p, uint64_t pfn)
{
	struct dma_pin *pin = dma_pin_find(p, pfn);

	if (pin && pin->write)
		vfio_dirty_mark(p->dirty, pfn << PAGE_SHIFT, PAGE_SIZE);
}

/* Takes one reference on @pfn in @m (caller holds pin_lock); -ENOMEM. */
static int dma_pin_get(struct vfio_device_private *p, uint64_t pfn, struct dma_mapping *m,
		       bool write)
{
	struct dma_pin *pin = dma_pin_find(p, pfn);

	if (pin) {
		pin->refs++;
		pin->write |= write;
		return 0;
	}
	pin = calloc(1, sizeof(*pin));
	if (!pin)
		return -ENOMEM;
	pin->pfn = pfn;
	pin->refs = 1;
	pin->mapping = m;
	pin->write = write;
	hmap_insert(&p->pins, &pin->node, hash_u64(pfn));
	atomic_fetch_add(&m->pinned, 1);
	return 0;
}

/* Finds and checks the mapping of each page (inside the gate); fills @pages. */
static int dma_pin_lookup(struct vfio_dma_space *space, dma_addr_t iova, int npage, int prot,
			  struct page **pages)
{
	struct dma_mapping *m = NULL;

	for (int i = 0; i < npage; i++) {
		dma_addr_t addr = iova + (uint64_t)i * PAGE_SIZE;

		if (!m || addr - m->iova >= m->size)
			m = dma_space_find(space, addr);
		if (!m || m->dying)
			return -EINVAL;
		if ((m->prot & prot) != prot)
			return -EPERM;
		if (!m->host)
			return -EFAULT;
		pages[i] = (struct page *)((char *)m->host + (addr - m->iova));
	}
	return 0;
}

int vfio_pin_pages(struct vfio_device *vdev, dma_addr_t iova, int npage, int prot,
		   struct page **pages)
{
	struct vfio_device_private *p;
	struct vfio_dma_space *space;
	struct dma_mapping *m = NULL;
	struct dma_reader *slot;
	uint64_t last;
	int i, ret;

	if (!vdev || !pages || npage <= 0)
		return -EINVAL;
	if (npage > VFIO_PIN_PAGES_MAX_ENTRIES)
		return -E2BIG;
	if (!prot || (prot & ~(IOMMU_READ | IOMMU_WRITE)) || !vdev->ops->dma_unmap)
		return -EINVAL;
	iova &= PAGE_MASK;
	if (add_overflows_u64(iova, (uint64_t)npage * PAGE_SIZE - 1, &last))
		return -EINVAL;

	p = vdev->priv;
	slot = dma_gate_enter(&p->gate);
	space = p->space;
	if (!space || !p->emulated) {
		ret = -EINVAL;
		goto out_leave;
	}
	ret = dma_pin_lookup(space, iova, npage, prot, pages);
	if (ret)
		goto out_leave;

	pthread_mutex_lock(&p->pin_lock);
	for (i = 0; i < npage; i++) {
		dma_addr_t addr = iova + (uint64_t)i * PAGE_SIZE;

		if (!m || addr - m->iova >= m->size)
			m = dma_space_find(space, addr);
		ret = dma_pin_get(p, addr >> PAGE_SHIFT, m, prot & IOMMU_WRITE);
		if (ret)
			break;
	}
	if (ret) {
		/* all or nothing: drop what this call took (no mapping is dying: we are inside
		 * the gate and saw none dying) */
		while (i--)
			dma_pin_put(p, (iova >> PAGE_SHIFT) + (uint64_t)i);
	}
	pthread_mutex_unlock(&p->pin_lock);
	/* the device may write these pages from now on: DMA logging counts them written */
	if (!ret && (prot & IOMMU_WRITE) && unlikely(p->dirty))
		vfio_dirty_mark(p->dirty, iova, (uint64_t)npage * PAGE_SIZE);

out_leave:
	dma_gate_leave(&p->gate, slot);
	if (ret) {
		memset(pages, 0, (size_t)npage * sizeof(*pages));
		return ret;
	}
	return npage;
}

void vfio_unpin_pages(struct vfio_device *vdev, dma_addr_t iova, int npage)
{
	struct vfio_device_private *p;
	struct dma_reader *slot;
	bool wake = false;

	if (!vdev || npage <= 0 || npage > VFIO_PIN_PAGES_MAX_ENTRIES) {
		umdev_log(UMDEV_LOG_ERR, "vfio: unpin of %d pages refused", npage);
		return;
	}
	p = vdev->priv;
	iova &= PAGE_MASK;
	slot = dma_gate_enter(&p->gate);
	pthread_mutex_lock(&p->pin_lock);
	for (int i = 0; i < npage; i++) {
		uint64_t pfn = (iova >> PAGE_SHIFT) + (uint64_t)i;

		/* a page pinned for writing may have been written until now */
		if (unlikely(p->dirty))
			dma_pin_mark_written(p, pfn);
		wake |= dma_pin_put(p, pfn);
	}
	pthread_mutex_unlock(&p->pin_lock);
	if (wake && p->space)
		dma_space_wake_unmappers(p->space);
	dma_gate_leave(&p->gate, slot);
}

unsigned long dma_unpin_all(struct vfio_device *vdev)
{
	struct vfio_device_private *p = vdev->priv;
	unsigned long pages = 0;
	struct hmap_node *node;

	/* DMA logging ends with the client, at the last close */
	vfio_dirty_stop_locked(vdev);
	pthread_mutex_lock(&p->pin_lock);
	while ((node = hmap_first(&p->pins))) {
		struct dma_pin *pin = container_of(node, struct dma_pin, node);

		pin->refs = 1;
		dma_pin_put(p, pin->pfn);
		pages++;
	}
	pthread_mutex_unlock(&p->pin_lock);
	return pages;
}

bool dma_device_pins_mapping(struct vfio_device *vdev, const struct dma_mapping *mapping)
{
	struct vfio_device_private *p = vdev->priv;
	bool found = false;

	pthread_mutex_lock(&p->pin_lock);
	HMAP_FOR_EACH(node, &p->pins) {
		if (container_of(node, struct dma_pin, node)->mapping == mapping) {
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&p->pin_lock);
	return found;
}
