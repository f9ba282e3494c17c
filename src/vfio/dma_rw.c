/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio_dma_rw(): a device's copy to or from guest memory without pinning. The range may span
 * several mappings; each chunk is checked against its mapping's access rights. Chunks in
 * mappings without memory in this process go to the space's ops (the transport), outside the
 * gate, because the transport may need the socket that map and unmap also use.
 */
#include <errno.h>
#include <string.h>

#include "util/macros.h"
#include "vfio/vfio_private.h"

int vfio_dma_rw(struct vfio_device *vdev, dma_addr_t iova, void *data, size_t len, bool write)
{
	struct vfio_device_private *p;
	int need = write ? IOMMU_WRITE : IOMMU_READ;
	char *buf = data;
	uint64_t last;
	int ret = 0;

	if (!vdev || !data || !len || add_overflows_u64(iova, len - 1, &last))
		return -EINVAL;
	p = vdev->priv;
	dma_gate_enter(&p->gate);
	while (len) {
		struct vfio_dma_space *space = p->space;
		const struct vfio_dma_space_ops *ops;
		struct dma_mapping *m;
		void *opaque;
		size_t n;

		if (!space || !p->emulated) {
			ret = -EINVAL;
			break;
		}
		m = dma_space_find(space, iova);
		if (!m || m->dying) {
			ret = -EINVAL;
			break;
		}
		if (!(m->prot & need)) {
			ret = -EPERM;
			break;
		}
		n = (size_t)MIN((uint64_t)len, m->size - (iova - m->iova));
		if (likely(m->host)) {
			char *host = (char *)m->host + (iova - m->iova);

			if (write)
				memcpy(host, buf, n);
			else
				memcpy(buf, host, n);
		} else {
			ops = space->ops;
			opaque = space->opaque;
			if (!ops || !ops->rw) {
				ret = -EFAULT;
				break;
			}
			dma_gate_leave(&p->gate);
			ret = ops->rw(opaque, iova, buf, n, write);
			dma_gate_enter(&p->gate);
			if (ret)
				break;
		}
		iova += n;
		buf += n;
		len -= n;
	}
	dma_gate_leave(&p->gate);
	return ret;
}
