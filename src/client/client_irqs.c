/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DEVICE_SET_IRQS. Eventfds travel as SCM_RIGHTS, at most max_msg_fds of the server's per
 * message, so an array of them becomes several messages, each with its own start and count
 * and each either all valid fds or all -1 (a run of -1 goes without fds: the specification's
 * de-assign), as QEMU's client splits them. Boolean data travels in the payload.
 */
#include <errno.h>

#include "client/client_private.h"
#include "util/macros.h"

static int set_irqs_msg(struct umdev_client *c, uint32_t index, uint32_t flags, uint32_t start,
			uint32_t count, const void *data, size_t len, const int *fds, size_t nfds)
{
	struct vfu_irq_set set = {
		.argsz = (uint32_t)(sizeof(set) + len),
		.flags = flags,
		.index = index,
		.start = start,
		.count = count,
	};
	struct iovec iov[2] = {
		{ .iov_base = &set, .iov_len = sizeof(set) },
		{ .iov_base = (void *)data, .iov_len = len },
	};

	return client_call_locked(c,
				  &(struct client_request){
					  .command = VFU_CMD_DEVICE_SET_IRQS,
					  .iov = iov,
					  .niov = len ? 2 : 1,
					  .fds = fds,
					  .nfds = nfds,
				  },
				  NULL);
}

/* The eventfds @fds[0..count) in runs of one kind (valid or -1) of at most max_msg_fds. */
static int set_irqs_eventfds(struct umdev_client *c, uint32_t index, uint32_t flags,
			     uint32_t start, uint32_t count, const int *fds)
{
	uint32_t per = MAX(c->caps.max_msg_fds, 1u), n;
	int r = 0;

	if (!count)
		return set_irqs_msg(c, index, flags, start, 0, NULL, 0, NULL, 0);
	for (uint32_t i = 0; i < count; i += n) {
		bool valid = fds[i] >= 0;

		for (n = 1; i + n < count && n < per && (fds[i + n] >= 0) == valid; n++)
			;
		r = set_irqs_msg(c, index, flags, start + i, n, NULL, 0, valid ? fds + i : NULL,
				 valid ? n : 0);
		if (r)
			break;
	}
	return r;
}

int umdev_client_set_irqs(struct umdev_client *c, uint32_t index, uint32_t flags,
			  uint32_t start, uint32_t count, const void *data)
{
	uint32_t kind = flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	const int *fds = data;
	int r;

	if (!c || (kind & (kind - 1)))
		return -EINVAL;
	if (kind == VFIO_IRQ_SET_DATA_EVENTFD || kind == VFIO_IRQ_SET_DATA_BOOL) {
		if (count && !data)
			return -EINVAL;
		if (count > UINT32_MAX - sizeof(struct vfu_irq_set) - sizeof(struct vfu_hdr))
			return -EINVAL;
	}
	if (kind == VFIO_IRQ_SET_DATA_EVENTFD) {
		bool any = false;

		/* chunks get their own start: the range must not wrap */
		if (start > UINT32_MAX - count)
			return -EINVAL;
		for (uint32_t i = 0; i < count; i++) {
			if (fds[i] < -1)
				return -EBADF;
			any |= fds[i] >= 0;
		}
		if (any && c->caps.max_msg_fds == 0)
			return -EOPNOTSUPP;
	}
	r = client_lock(c);
	if (r)
		return r;
	if (kind == VFIO_IRQ_SET_DATA_EVENTFD)
		r = set_irqs_eventfds(c, index, flags, start, count, fds);
	else if (kind == VFIO_IRQ_SET_DATA_BOOL)
		r = set_irqs_msg(c, index, flags, start, count, data, count, NULL, 0);
	else
		r = set_irqs_msg(c, index, flags, start, count, NULL, 0, NULL, 0);
	client_unlock(c);
	return r;
}
