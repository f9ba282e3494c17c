/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DEVICE_FEATURE and the migration data commands. DEVICE_FEATURE is the kernel's
 * VFIO_DEVICE_FEATURE with the data inline: the DMA-logging features, whose kernel structures
 * point at arrays in the caller's memory (the ranges to log, the bitmap to fill), are
 * translated between the inline form of the wire and pointers into our buffers. The reply
 * repeats the request for SET and PROBE, and carries the feature's data for GET.
 * MIG_DATA_READ and MIG_DATA_WRITE move bytes of the device's current migration stream.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/vfio-user/vfu_private.h"

/* The size of a GET's data for the features whose size the core knows; 0 otherwise. */
static size_t feature_get_size(uint32_t feature)
{
	switch (feature) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		return sizeof(struct vfio_device_feature_migration);
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		return sizeof(struct vfio_device_feature_mig_state);
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return sizeof(struct vfio_device_feature_mig_data_size);
	default:
		return 0;
	}
}

/* DMA_LOGGING_START on the wire: {page_size, num_ranges, reserved, ranges[] inline}. */
static long logging_start(struct vfu_conn *conn, uint32_t flags, const uint8_t *data, size_t len,
			  uint8_t *reply_data)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_logging_control ctl;
	} f;
	const size_t fixed = 16, range_sz = sizeof(struct vfio_device_feature_dma_logging_range);
	struct vfio_device_feature_dma_logging_range *ranges = NULL;
	uint32_t num_ranges;
	long ret;

	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		goto call;
	if (len < fixed)
		return -EINVAL;
	memcpy(&num_ranges, data + 8, sizeof(num_ranges));
	if (num_ranges > (len - fixed) / range_sz || len != fixed + num_ranges * range_sz)
		return -EINVAL;
	ranges = malloc(num_ranges ? num_ranges * range_sz : 1);
	if (!ranges)
		return -ENOMEM;
	memcpy(ranges, data + fixed, num_ranges * range_sz);
call:
	memset(&f, 0, sizeof(f));
	f.hdr.argsz = sizeof(f);
	f.hdr.flags = flags;
	if (ranges) {
		memcpy(&f.ctl.page_size, data, sizeof(f.ctl.page_size));
		f.ctl.num_ranges = num_ranges;
		f.ctl.ranges = (uintptr_t)ranges;
	}
	ret = vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_FEATURE, &f);
	if (!ret && ranges && reply_data) /* the page size the device chose */
		memcpy(reply_data, &f.ctl.page_size, sizeof(f.ctl.page_size));
	free(ranges);
	return ret;
}

/* DMA_LOGGING_REPORT on the wire: {iova, length, page_size}, the bitmap appended in the reply. */
static int logging_report(struct vfu_conn *conn, struct vfu_msg *msg, struct vfu_device_feature *req,
			  const uint8_t *data, size_t len)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_logging_report rep;
	} f;
	const size_t fixed = 24;
	uint64_t pages, bitmap_size;
	uint8_t *reply;
	long ret;

	if (len != fixed || !(req->flags & VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	memcpy(&f.rep, data, fixed);
	if (!f.rep.page_size || (f.rep.page_size & (f.rep.page_size - 1)) || !f.rep.length)
		return -EINVAL;
	/* rounded up without overflowing */
	pages = f.rep.length / f.rep.page_size + (f.rep.length % f.rep.page_size != 0);
	bitmap_size = (pages / 64 + (pages % 64 != 0)) * 8;
	if (bitmap_size > VFU_MAX_DATA_XFER || sizeof(*req) + fixed + bitmap_size > req->argsz)
		return -EINVAL; /* the reply would not fit what the client can take */
	reply = calloc(1, sizeof(*req) + fixed + bitmap_size);
	if (!reply)
		return -ENOMEM;
	f.hdr.argsz = sizeof(f);
	f.hdr.flags = req->flags;
	f.rep.bitmap = (uintptr_t)(reply + sizeof(*req) + fixed);
	ret = vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_FEATURE, &f);
	if (!ret) {
		struct vfu_device_feature out = { (uint32_t)(sizeof(out) + fixed + bitmap_size),
						  req->flags };

		memcpy(reply, &out, sizeof(out));
		memcpy(reply + sizeof(out), data, fixed);
		ret = vfu_reply(conn, msg, reply, sizeof(out) + fixed + bitmap_size, NULL, 0, NULL,
				0);
	}
	free(reply);
	return (int)ret;
}

int vfu_cmd_device_feature(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfu_device_feature req;
	const uint8_t *data = msg->payload + sizeof(req);
	size_t len = msg->len - sizeof(req), bufsz;
	struct vfio_device_feature *f;
	uint32_t feature;
	long ret;

	memcpy(&req, msg->payload, sizeof(req));
	if (req.argsz < sizeof(req))
		return -EINVAL;
	feature = req.flags & VFIO_DEVICE_FEATURE_MASK;
	if (feature == VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT)
		return logging_report(conn, msg, &req, data, len);

	/* the kernel's structure, as big as the client's argsz (what it can take back) or
	 * the request, whichever is bigger */
	bufsz = req.argsz > msg->len ? req.argsz : msg->len;
	if (bufsz > sizeof(*f) + VFU_MAX_ARGSZ)
		bufsz = sizeof(*f) + VFU_MAX_ARGSZ;
	f = calloc(1, bufsz);
	if (!f)
		return -ENOMEM;
	if (feature == VFIO_DEVICE_FEATURE_DMA_LOGGING_START) {
		uint8_t page_size[8];

		ret = logging_start(conn, req.flags, data, len, page_size);
		if (!ret) {
			memcpy(f, msg->payload, msg->len < bufsz ? msg->len : bufsz);
			if (len >= sizeof(page_size) && !(req.flags & VFIO_DEVICE_FEATURE_PROBE))
				memcpy(f->data, page_size, sizeof(page_size));
			ret = vfu_reply(conn, msg, f, msg->len, NULL, 0, NULL, 0);
		}
		goto out;
	}
	f->argsz = (uint32_t)bufsz;
	f->flags = req.flags;
	memcpy(f->data, data, len);
	ret = vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_FEATURE, f);
	if (ret)
		goto out;
	if ((req.flags & VFIO_DEVICE_FEATURE_GET) && !(req.flags & VFIO_DEVICE_FEATURE_PROBE)) {
		size_t dlen = feature_get_size(feature);

		if (!dlen || dlen > req.argsz - sizeof(*f)) /* a driver's feature: all the
							      * client can take */
			dlen = (req.argsz < bufsz ? req.argsz : bufsz) - sizeof(*f);
		f->argsz = (uint32_t)(sizeof(*f) + dlen);
		ret = vfu_reply(conn, msg, f, sizeof(*f) + dlen, NULL, 0, NULL, 0);
	} else {
		/* SET and PROBE: the request, as it came */
		ret = vfu_reply(conn, msg, msg->payload, msg->len, NULL, 0, NULL, 0);
	}
out:
	free(f);
	return (int)ret;
}

int vfu_cmd_mig_data_read(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfu_mig_data req;
	uint8_t *buf;
	ssize_t n;
	int ret;

	memcpy(&req, msg->payload, sizeof(req));
	if (req.size > VFU_MAX_DATA_XFER || req.argsz < sizeof(req) ||
	    req.size > req.argsz - sizeof(req))
		return -EINVAL;
	buf = malloc(req.size ? req.size : 1);
	if (!buf)
		return -ENOMEM;
	n = vfio_device_mig_read(conn->srv->vdev, buf, req.size);
	if (n < 0 || (size_t)n > req.size) {
		ret = n < 0 ? (int)n : -EIO;
		goto out;
	}
	req.argsz = (uint32_t)(sizeof(req) + (size_t)n);
	req.size = (uint32_t)n;
	ret = vfu_reply(conn, msg, &req, sizeof(req), buf, (size_t)n, NULL, 0);
out:
	free(buf);
	return ret;
}

int vfu_cmd_mig_data_write(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfu_mig_data req;
	size_t done = 0;

	memcpy(&req, msg->payload, sizeof(req));
	if (req.size != msg->len - sizeof(req))
		return -EINVAL;
	while (done < req.size) {
		ssize_t n = vfio_device_mig_write(conn->srv->vdev,
						  msg->payload + sizeof(req) + done, req.size - done);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return vfu_reply(conn, msg, NULL, 0, NULL, 0, NULL, 0);
}
