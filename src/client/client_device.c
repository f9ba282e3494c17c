/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device as a whole: DEVICE_RESET, DEVICE_FEATURE, and the migration data stream
 * (MIG_DATA_READ, MIG_DATA_WRITE, bounded by the server's max_data_xfer_size as its reads and
 * writes are).
 */
#include <errno.h>
#include <string.h>

#include "client/client_private.h"
#include "util/macros.h"

int umdev_client_reset(struct umdev_client *c)
{
	if (!c)
		return -EINVAL;
	return client_call(c, &(struct client_request){ .command = VFU_CMD_DEVICE_RESET }, NULL);
}

/*
 * What a GET sends after the 8-byte header: the specification's reply to a GET is the request
 * with the feature's data added (and argsz grown by it), so a GET carries only the features'
 * own request data. Those without an entry send none.
 */
static const struct {
	uint16_t feature;
	uint32_t request_len;
} get_request_data[] = {
	/* u64 iova, u64 length, u64 page_size; the bitmap comes back after them */
	{ VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, 3 * sizeof(uint64_t) },
};

static size_t feature_request_len(const struct vfio_device_feature *f)
{
	size_t len = sizeof(*f);

	if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
		return len; /* the data is not used for probing */
	if (f->flags & VFIO_DEVICE_FEATURE_SET)
		return f->argsz;
	if (f->flags & VFIO_DEVICE_FEATURE_GET)
		for (size_t i = 0; i < ARRAY_SIZE(get_request_data); i++)
			if (get_request_data[i].feature == (f->flags & VFIO_DEVICE_FEATURE_MASK))
				len += get_request_data[i].request_len;
	return len;
}

int umdev_client_device_feature(struct umdev_client *c, struct vfio_device_feature *feature)
{
	struct vfu_device_feature out;
	struct client_msg reply;
	struct iovec iov;
	size_t len;
	int r;

	if (!c || !feature || feature->argsz < sizeof(out))
		return -EINVAL;
	len = feature_request_len(feature);
	if (len > feature->argsz)
		return -EINVAL;
	iov = (struct iovec){ .iov_base = feature, .iov_len = len };
	r = client_lock(c);
	if (r)
		return r;
	r = client_call_simple_locked(c, VFU_CMD_DEVICE_FEATURE, &iov, sizeof(out), feature->argsz, &reply);
	if (!r) {
		memcpy(&out, reply.payload, sizeof(out));
		if ((out.flags & VFIO_DEVICE_FEATURE_MASK) !=
		    (feature->flags & VFIO_DEVICE_FEATURE_MASK)) {
			r = client_break(c);
		} else {
			memcpy(feature, reply.payload, reply.len);
			r = (int)reply.len;
		}
	}
	client_msg_release(&reply);
	client_unlock(c);
	return r;
}

int umdev_client_mig_data_read(struct umdev_client *c, void *buf, uint32_t size)
{
	struct vfu_mig_data in = { .argsz = (uint32_t)sizeof(in) + size, .size = size }, out;
	struct iovec iov = { .iov_base = &in, .iov_len = sizeof(in) };
	struct client_msg reply;
	int r;

	if (!c || (size && !buf) || size > c->caps.max_data_xfer_size)
		return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	r = client_call_simple_locked(c, VFU_CMD_MIG_DATA_READ, &iov, sizeof(out), sizeof(out) + size, &reply);
	if (!r) {
		/* argsz: the reply's own size (specification) */
		memcpy(&out, reply.payload, sizeof(out));
		if (out.size > size || reply.len != sizeof(out) + out.size ||
		    out.argsz != reply.len) {
			r = client_break(c);
		} else {
			memcpy(buf, reply.payload + sizeof(out), out.size);
			r = (int)out.size;
		}
	}
	client_msg_release(&reply);
	client_unlock(c);
	return r;
}

int umdev_client_mig_data_write(struct umdev_client *c, const void *buf, uint32_t size)
{
	struct vfu_mig_data in = { .argsz = (uint32_t)sizeof(in) + size, .size = size };
	struct iovec iov[2] = {
		{ .iov_base = &in, .iov_len = sizeof(in) },
		{ .iov_base = (void *)buf, .iov_len = size },
	};

	if (!c || (size && !buf) || size > c->caps.max_data_xfer_size)
		return -EINVAL;
	return client_call(c,
			   &(struct client_request){
				   .command = VFU_CMD_MIG_DATA_WRITE,
				   .iov = iov,
				   .niov = ARRAY_SIZE(iov),
			   },
			   NULL);
}
