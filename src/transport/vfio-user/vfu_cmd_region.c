/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Region access: REGION_READ, REGION_WRITE (posted when the client sets NO_REPLY),
 * REGION_WRITE_MULTI, and DEVICE_RESET. Every access is checked against the region's size
 * and rights before it reaches the driver's read() or write() at the region's device-file
 * offset, so a driver never sees an offset outside its regions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/vfio-user/vfu_private.h"
#include "util/macros.h"

/* Reads of up to this many bytes use the stack. */
#define VFU_SMALL_READ 64

/* The device-file position of [offset, offset+count) in @region, or -EINVAL. */
static int64_t region_pos(struct vfu_conn *conn, uint32_t region, uint64_t offset,
			  uint64_t count, uint32_t need)
{
	const struct vfu_region *r = vfu_region_get(conn, region);
	uint64_t pos;

	if (!r || !(r->flags & need) || offset > r->size || count > r->size - offset ||
	    add_overflows_u64(r->offset, offset, &pos) || pos > INT64_MAX)
		return -EINVAL;
	return (int64_t)pos;
}

int vfu_cmd_region_read(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfu_region_access req;
	uint8_t small[VFU_SMALL_READ], *buf = small;
	int64_t pos;
	ssize_t n;
	int ret;

	memcpy(&req, msg->payload, sizeof(req));
	if (req.count > VFU_MAX_DATA_XFER)
		return -EINVAL;
	pos = region_pos(conn, req.region, req.offset, req.count, VFIO_REGION_INFO_FLAG_READ);
	if (pos < 0)
		return (int)pos;
	if (req.count > sizeof(small)) {
		buf = malloc(req.count);
		if (!buf)
			return -ENOMEM;
	}
	n = vfio_device_read(conn->srv->vdev, buf, req.count, (uint64_t)pos);
	if (n < 0 || (size_t)n > req.count) {
		ret = n < 0 ? (int)n : -EIO;
		goto out;
	}
	req.count = (uint32_t)n; /* a short read says so */
	ret = vfu_reply(conn, msg, &req, sizeof(req), buf, (size_t)n, NULL, 0);
out:
	if (buf != small)
		free(buf);
	return ret;
}

int vfu_cmd_region_write(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfu_region_access req;
	int64_t pos;
	ssize_t n;

	memcpy(&req, msg->payload, sizeof(req));
	if (req.count != msg->len - sizeof(req))
		return -EINVAL;
	pos = region_pos(conn, req.region, req.offset, req.count, VFIO_REGION_INFO_FLAG_WRITE);
	if (pos < 0)
		return (int)pos;
	n = vfio_device_write(conn->srv->vdev, msg->payload + sizeof(req), req.count,
			      (uint64_t)pos);
	if (n < 0)
		return (int)n;
	req.count = (uint32_t)MIN((size_t)n, (size_t)req.count);
	return vfu_reply(conn, msg, &req, sizeof(req), NULL, 0, NULL, 0);
}

int vfu_cmd_region_write_multi(struct vfu_conn *conn, struct vfu_msg *msg)
{
	const struct vfu_write_multi_entry *entries =
		(const void *)(msg->payload + sizeof(struct vfu_write_multi));
	struct vfu_write_multi wm;

	memcpy(&wm, msg->payload, sizeof(wm));
	if (wm.wr_cnt == 0 || wm.wr_cnt > VFU_WRITE_MULTI_MAX ||
	    msg->len != sizeof(wm) + wm.wr_cnt * sizeof(*entries))
		return -EINVAL;
	for (uint64_t i = 0; i < wm.wr_cnt; i++) {
		struct vfu_write_multi_entry e;
		int64_t pos;
		ssize_t n;

		memcpy(&e, &entries[i], sizeof(e));
		if (!e.count || e.count > sizeof(e.data))
			return -EINVAL;
		pos = region_pos(conn, e.region, e.offset, e.count, VFIO_REGION_INFO_FLAG_WRITE);
		if (pos < 0)
			return (int)pos;
		n = vfio_device_write(conn->srv->vdev, e.data, e.count, (uint64_t)pos);
		if (n < 0)
			return (int)n;
	}
	return vfu_reply(conn, msg, &wm, sizeof(wm), NULL, 0, NULL, 0);
}

int vfu_cmd_reset(struct vfu_conn *conn, struct vfu_msg *msg)
{
	long ret = vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_RESET, NULL);

	if (ret)
		return (int)ret;
	return vfu_reply(conn, msg, NULL, 0, NULL, 0, NULL, 0);
}
