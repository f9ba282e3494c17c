/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio_dma_rw(): a device's copy to or from guest memory without pinning. The range may span
 * several mappings; each chunk is checked against its mapping's access rights. Chunks in
 * mappings without memory in this process go to the space's ops (the transport), outside the
 * gate, because the transport may need the socket that map and unmap also use. A write is
 * recorded for DMA logging (vfio_dirty.c) once it is done.
 */
#include <errno.h>
#include <string.h>

#include "util/macros.h"
#include "vfio/vfio_private.h"

/* The general case: several mappings, mappings without memory here, and the errors. */
static int dma_rw_general(struct vfio_device_private *p, struct dma_reader **slot,
			  dma_addr_t iova, char *buf, size_t len, bool write)
{
	int need = write ? IOMMU_WRITE : IOMMU_READ;
	uint64_t last;

	if (add_overflows_u64(iova, len - 1, &last))
		return -EINVAL;
	while (len) {
		struct vfio_dma_space *space = p->space;
		const struct vfio_dma_space_ops *ops;
		struct dma_mapping *m;
		void *opaque;
		size_t n;
		int ret;

		if (!space || !p->emulated)
			return -EINVAL;
		m = dma_space_find(space, iova);
		if (!m || m->dying)
			return -EINVAL;
		if (!(m->prot & need))
			return -EPERM;
		n = (size_t)MIN((uint64_t)len, m->size - (iova - m->iova));
		if (m->host) {
			char *host = (char *)m->host + (iova - m->iova);

			if (write) {
				memcpy(host, buf, n);
				if (unlikely(p->dirty))
					vfio_dirty_mark(p->dirty, iova, n);
			} else {
				memcpy(buf, host, n);
			}
		} else {
			ops = space->ops;
			opaque = space->opaque;
			if (!ops || !ops->rw)
				return -EFAULT;
			/* counted inside the gate, so that whoever replaces the ops can wait for
			 * this call to return before tearing down what @opaque points at */
			atomic_fetch_add(&space->ops_active, 1);
			dma_gate_leave(&p->gate, *slot);
			ret = ops->rw(opaque, iova, buf, n, write);
			atomic_fetch_sub_explicit(&space->ops_active, 1, memory_order_release);
			*slot = dma_gate_enter(&p->gate);
			if (ret)
				return ret;
			if (write && unlikely(p->dirty))
				vfio_dirty_mark(p->dirty, iova, n);
		}
		iova += n;
		buf += n;
		len -= n;
	}
	return 0;
}

int vfio_dma_rw(struct vfio_device *vdev, dma_addr_t iova, void *data, size_t len, bool write)
{
	struct vfio_device_private *p;
	struct vfio_dma_space *space;
	struct dma_reader *slot;
	struct dma_mapping *m;
	int ret;

	if (unlikely(!vdev || !data || !len))
		return -EINVAL;
	p = vdev->priv;
	slot = dma_gate_enter(&p->gate);
	space = p->space;
	/* the common case: one mapping with memory here holds the whole range (which then
	 * cannot overflow) */
	if (likely(space && p->emulated)) {
		m = dma_space_find(space, iova);
		if (likely(m && !m->dying && m->host &&
			   (m->prot & (write ? IOMMU_WRITE : IOMMU_READ)) &&
			   len <= m->size - (iova - m->iova))) {
			char *host = (char *)m->host + (iova - m->iova);

			if (write) {
				memcpy(host, data, len);
				if (unlikely(p->dirty))
					vfio_dirty_mark(p->dirty, iova, len);
			} else {
				memcpy(data, host, len);
			}
			dma_gate_leave(&p->gate, slot);
			return 0;
		}
	}
	ret = dma_rw_general(p, &slot, iova, data, len, write);
	dma_gate_leave(&p->gate, slot);
	return ret;
}
