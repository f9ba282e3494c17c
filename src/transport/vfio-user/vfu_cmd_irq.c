/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DEVICE_SET_IRQS: the kernel's VFIO_DEVICE_SET_IRQS, with the eventfds travelling as
 * SCM_RIGHTS instead of in the data. The message is turned into a struct vfio_irq_set whose
 * data holds the received fds (or -1 for each, when a DATA_EVENTFD chunk comes without fds,
 * which de-assigns), and handed to the driver; the driver keeps what it needs with
 * eventfd_ctx_fdget() and the dispatcher closes the received fds afterwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/vfio-user/vfu_private.h"

int vfu_cmd_set_irqs(struct vfu_conn *conn, struct vfu_msg *msg)
{
	const size_t hdrsz = sizeof(struct vfu_irq_set);
	size_t extra = msg->len - hdrsz, datasz;
	struct vfio_irq_set *set;
	struct vfu_irq_set req;
	long ret;

	memcpy(&req, msg->payload, hdrsz);
	if (req.argsz < hdrsz || req.index >= conn->num_irqs || req.count > UINT32_MAX - req.start)
		return -EINVAL;
	switch (req.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		if (extra || msg->nfds)
			return -EINVAL;
		datasz = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (extra != req.count || msg->nfds)
			return -EINVAL;
		datasz = req.count;
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		/* all the chunk's fds, or none (de-assign) */
		if (extra || (msg->nfds && msg->nfds != req.count))
			return -EINVAL;
		datasz = (size_t)req.count * sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}
	if (datasz > VFU_MAX_ARGSZ)
		return -EINVAL;

	set = calloc(1, sizeof(*set) + datasz);
	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)(sizeof(*set) + datasz);
	set->flags = req.flags;
	set->index = req.index;
	set->start = req.start;
	set->count = req.count;
	if ((req.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) == VFIO_IRQ_SET_DATA_BOOL) {
		memcpy(set->data, msg->payload + hdrsz, datasz);
	} else if ((req.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) == VFIO_IRQ_SET_DATA_EVENTFD) {
		for (uint32_t i = 0; i < req.count; i++) {
			int32_t fd = msg->nfds ? msg->fds[i] : -1;

			memcpy(set->data + i * sizeof(fd), &fd, sizeof(fd));
		}
	}
	ret = vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_SET_IRQS, set);
	free(set);
	if (ret)
		return (int)ret;
	return vfu_reply(conn, msg, NULL, 0, NULL, 0, NULL, 0);
}
