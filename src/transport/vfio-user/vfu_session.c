/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A client's session with the device: after VERSION the device is opened together with a
 * fresh DMA address space for the client; the device's info (regions, IRQ indexes) is asked
 * once, and each region's info the first time a message names the region, so that every
 * access can be checked against the region's size and rights before the driver sees it.
 * Closing the session closes the device (the driver drops the client's eventfds) and
 * releases every DMA mapping.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include <umdev/log.h>

#include "transport/vfio-user/vfu_private.h"

int vfu_session_open(struct vfu_conn *conn)
{
	struct vfio_device *vdev = conn->srv->vdev;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int ret;

	ret = vfio_dma_space_create(&conn->space);
	if (ret)
		return ret;
	/* the client's mappings without an fd are reached with DMA_READ/DMA_WRITE */
	vfio_dma_space_set_ops(conn->space, &vfu_dma_space_ops, conn);
	ret = vfio_device_open(vdev, conn->space);
	if (ret)
		goto err_destroy_space;
	conn->open = true;
	ret = (int)vfio_device_ioctl(vdev, VFIO_DEVICE_GET_INFO, &info);
	if (ret) {
		umdev_log(UMDEV_LOG_ERR, "vfio-user %s: the driver's GET_INFO failed: %d",
			  conn->srv->path, ret);
		goto err_close;
	}
	conn->num_regions = info.num_regions < VFU_MAX_REGIONS ? info.num_regions : VFU_MAX_REGIONS;
	conn->num_irqs = info.num_irqs;
	memset(conn->regions, 0, sizeof(conn->regions));
	return 0;

err_close:
	vfio_device_close(vdev);
	conn->open = false;
err_destroy_space:
	vfio_dma_space_destroy(conn->space);
	conn->space = NULL;
	return ret;
}

void vfu_session_close(struct vfu_conn *conn)
{
	/* a driver thread waiting for a DMA reply gives up; then no call of the space ops may
	 * be left running when the connection goes (its sending goes through this worker:
	 * let posted calls run while waiting) */
	vfu_dma_shutdown(conn);
	if (conn->space) {
		vfio_dma_space_set_ops(conn->space, NULL, NULL);
		while (!vfio_dma_space_ops_idle(conn->space)) {
			worker_run_pending(conn->srv->worker);
			sched_yield();
		}
	}
	if (conn->open) {
		vfio_device_close(conn->srv->vdev);
		conn->open = false;
	}
	vfio_dma_space_destroy(conn->space);
	conn->space = NULL;
}

const struct vfu_region *vfu_region_get(struct vfu_conn *conn, uint32_t index)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };
	struct vfu_region *r;

	if (index >= conn->num_regions)
		return NULL;
	r = &conn->regions[index];
	if (!r->known) {
		if (vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_GET_REGION_INFO, &info))
			return NULL;
		r->flags = info.flags;
		r->size = info.size;
		r->offset = info.offset;
		r->known = true;
	}
	return r;
}
