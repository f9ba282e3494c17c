/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the device is: DEVICE_GET_INFO, DEVICE_GET_REGION_INFO (with the argsz retry and its
 * capability chain checked), DEVICE_GET_REGION_IO_FDS and DEVICE_GET_IRQ_INFO. Each reply
 * must name the index asked about.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client_private.h"
#include "util/macros.h"

int umdev_client_get_info(struct umdev_client *c, struct vfio_device_info *info)
{
	struct vfu_device_info in = { .argsz = sizeof(in) }, out;
	struct iovec iov = { .iov_base = &in, .iov_len = sizeof(in) };
	struct client_msg reply;
	int r;

	if (!c || !info)
		return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	r = client_call_simple_locked(c, VFU_CMD_DEVICE_GET_INFO, &iov, sizeof(out), sizeof(out), &reply);
	if (!r) {
		memcpy(&out, reply.payload, sizeof(out));
		if (out.argsz < sizeof(out)) {
			r = client_break(c);
		} else {
			memset(info, 0, sizeof(*info));
			memcpy(info, &out, sizeof(out));
		}
	}
	client_msg_release(&reply);
	client_unlock(c);
	return r;
}

static int region_info_call(struct umdev_client *c, uint32_t index, uint32_t argsz,
			    struct client_msg *reply, struct vfu_region_info *out)
{
	struct vfu_region_info in = { .argsz = argsz, .index = index };
	struct iovec iov = { .iov_base = &in, .iov_len = sizeof(in) };
	int r;

	r = client_call_locked(c,
			       &(struct client_request){
				       .command = VFU_CMD_DEVICE_GET_REGION_INFO,
				       .iov = &iov,
				       .niov = 1,
				       .reply_min = sizeof(*out),
				       .reply_max = argsz,
			       },
			       reply);
	if (r)
		return r;
	memcpy(out, reply->payload, sizeof(*out));
	return out->index == index ? 0 : client_break(c);
}

/* The capability chain stays within the @len bytes of the reply and moves forward (so it
 * ends). */
static int check_caps(const uint8_t *info, size_t len, const struct vfu_region_info *hdr)
{
	struct vfio_info_cap_header cap;
	size_t min = sizeof(*hdr);
	uint32_t off;

	if (!(hdr->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return 0;
	for (off = hdr->cap_offset; off; off = cap.next) {
		if (off < min || off > len || len - off < sizeof(cap))
			return -EPROTO;
		memcpy(&cap, info + off, sizeof(cap));
		min = (size_t)off + sizeof(cap);
	}
	return 0;
}

int umdev_client_get_region_info(struct umdev_client *c, uint32_t index,
				 struct vfio_region_info **ret_info, int *ret_fd)
{
	uint32_t argsz = CLIENT_REGION_INFO_ARGSZ;
	struct vfio_region_info *info;
	struct vfu_region_info out;
	struct client_msg reply;
	int r, fd;

	if (!c || !ret_info)
		return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	r = region_info_call(c, index, argsz, &reply, &out);
	if (!r && out.argsz > argsz) {
		/* the capabilities did not fit: once more, with the size the server needs */
		client_msg_release(&reply);
		if (out.argsz > CLIENT_REGION_INFO_MAX) {
			r = client_break(c);
			goto unlock;
		}
		argsz = out.argsz;
		r = region_info_call(c, index, argsz, &reply, &out);
		if (!r && out.argsz > argsz)
			r = client_break(c);
	}
	if (r)
		goto release;
	/* the whole of it must have come, and its capability chain must hold */
	if (reply.len != out.argsz || check_caps(reply.payload, reply.len, &out) ||
	    reply.nfds > 1) {
		r = client_break(c);
		goto release;
	}
	info = malloc(MAX(reply.len, sizeof(*info)));
	if (!info) {
		r = -ENOMEM;
		goto release;
	}
	memcpy(info, reply.payload, reply.len);
	fd = client_msg_take_fd(&reply);
	if (ret_fd)
		*ret_fd = fd;
	else if (fd >= 0)
		close(fd);
	*ret_info = info;
release:
	client_msg_release(&reply);
unlock:
	client_unlock(c);
	return r;
}

int umdev_client_get_region_io_fds(struct umdev_client *c, uint32_t index, void *buf,
				   size_t bufsz, int *fds, size_t *nfds)
{
	struct vfu_region_io_fds in = { .argsz = (uint32_t)bufsz, .index = index }, out;
	struct iovec iov = { .iov_base = &in, .iov_len = sizeof(in) };
	struct client_msg reply;
	size_t cap;
	int r;

	if (!c || !buf || !nfds || bufsz < sizeof(out) || bufsz > CLIENT_REGION_INFO_MAX)
		return -EINVAL;
	cap = *nfds;
	*nfds = 0;
	if (cap && !fds)
		return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	r = client_call_simple_locked(c, VFU_CMD_DEVICE_GET_REGION_IO_FDS, &iov, sizeof(out), bufsz, &reply);
	if (r)
		goto release;
	memcpy(&out, reply.payload, sizeof(out));
	/* when it fits, all of it */
	if (out.index != index || (out.argsz <= bufsz && reply.len != out.argsz)) {
		r = client_break(c);
		goto release;
	}
	if (reply.nfds > cap) {
		r = -ENOBUFS;
		goto release;
	}
	for (size_t i = 0; i < reply.nfds; i++) {
		fds[i] = reply.fds[i];
		reply.fds[i] = -1;
	}
	*nfds = reply.nfds;
	memcpy(buf, reply.payload, reply.len);
	r = (int)reply.len;
release:
	client_msg_release(&reply);
	client_unlock(c);
	return r;
}

int umdev_client_get_irq_info(struct umdev_client *c, struct vfio_irq_info *info)
{
	struct vfu_irq_info in, out;
	struct iovec iov = { .iov_base = &in, .iov_len = sizeof(in) };
	struct client_msg reply;
	int r;

	_Static_assert(sizeof(*info) == sizeof(out), "vfio_irq_info travels whole");
	if (!c || !info)
		return -EINVAL;
	in = (struct vfu_irq_info){ .argsz = sizeof(in), .index = info->index };
	r = client_lock(c);
	if (r)
		return r;
	r = client_call_simple_locked(c, VFU_CMD_DEVICE_GET_IRQ_INFO, &iov, sizeof(out), sizeof(out), &reply);
	if (!r) {
		memcpy(&out, reply.payload, sizeof(out));
		if (out.index != in.index || out.argsz < sizeof(out))
			r = client_break(c);
		else
			memcpy(info, &out, sizeof(out));
	}
	client_msg_release(&reply);
	client_unlock(c);
	return r;
}
