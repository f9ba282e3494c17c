/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DMA_MAP and DMA_UNMAP: the client's guest memory, added to and removed from the DMA address
 * space of the session. A mapping with an fd is mapped into this process (the fd itself is
 * closed once mapped); one without an fd is reached through DMA_READ/DMA_WRITE messages. An
 * unmap completes, and is answered, only after every device that pinned pages in the range
 * has released them (vfio_dma_unmap()).
 */
#include <errno.h>
#include <string.h>

#include <umdev/kernel.h>

#include "transport/vfio-user/vfu_private.h"

int vfu_cmd_dma_map(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfu_dma_map m;
	int prot = 0, ret;

	memcpy(&m, msg->payload, sizeof(m));
	if (m.argsz < sizeof(m) || !m.flags || (m.flags & ~(VFU_DMA_MAP_READ | VFU_DMA_MAP_WRITE)))
		return -EINVAL;
	if (m.flags & VFU_DMA_MAP_READ)
		prot |= IOMMU_READ;
	if (m.flags & VFU_DMA_MAP_WRITE)
		prot |= IOMMU_WRITE;
	if (!msg->nfds && m.offset)
		return -EINVAL; /* an offset means nothing without an fd */
	ret = vfio_dma_map(conn->space, m.addr, m.size, msg->nfds ? msg->fds[0] : -1, m.offset,
			   prot);
	if (ret)
		return ret;
	return vfu_reply(conn, msg, NULL, 0, NULL, 0, NULL, 0);
}

int vfu_cmd_dma_unmap(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfu_dma_unmap u;
	int64_t ret;

	memcpy(&u, msg->payload, sizeof(u));
	if (u.argsz < sizeof(u) || (u.flags & ~VFU_DMA_UNMAP_ALL))
		return -EINVAL;
	if (u.flags & VFU_DMA_UNMAP_ALL) {
		if (u.addr || u.size)
			return -EINVAL;
		vfio_dma_unmap_all(conn->space);
	} else {
		ret = vfio_dma_unmap(conn->space, u.addr, u.size);
		if (ret < 0)
			return (int)ret;
	}
	/* the reply echoes the request's entry */
	return vfu_reply(conn, msg, &u, sizeof(u), NULL, 0, NULL, 0);
}
