/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DMA_MAP and DMA_UNMAP: telling the server which guest memory it may reach. A mapping with
 * an fd is memory the server maps itself; one without is reached through the server's
 * DMA_READ/DMA_WRITE requests (client_serve.c).
 */
#include <errno.h>
#include <string.h>

#include "client/client_private.h"

int umdev_client_dma_map(struct umdev_client *c, uint64_t iova, uint64_t size, int fd,
			 uint64_t offset, uint32_t prot)
{
	struct vfu_dma_map map = {
		.argsz = sizeof(map),
		.flags = prot,
		.offset = offset,
		.addr = iova,
		.size = size,
	};
	struct iovec iov = { .iov_base = &map, .iov_len = sizeof(map) };

	if (!c)
		return -EINVAL;
	if (fd < -1)
		return -EBADF;
	if (fd >= 0 && c->caps.max_msg_fds == 0)
		return -EOPNOTSUPP;
	return client_call(c,
			   &(struct client_request){
				   .command = VFU_CMD_DMA_MAP,
				   .iov = &iov,
				   .niov = 1,
				   .fds = &fd,
				   .nfds = fd >= 0 ? 1 : 0,
			   },
			   NULL);
}

/* The reply is the header alone or the request's payload echoed (specification). */
int umdev_client_dma_unmap(struct umdev_client *c, uint64_t iova, uint64_t size,
			   uint32_t flags)
{
	struct vfu_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.addr = iova,
		.size = size,
	};
	struct iovec iov = { .iov_base = &unmap, .iov_len = sizeof(unmap) };
	struct client_msg reply;
	int r;

	if (!c)
		return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	r = client_call_simple_locked(c, VFU_CMD_DMA_UNMAP, &iov, 0, sizeof(unmap), &reply);
	if (!r && reply.len) {
		struct vfu_dma_unmap echo = { .argsz = 0 };

		if (reply.len == sizeof(echo))
			memcpy(&echo, reply.payload, sizeof(echo));
		if (reply.len != sizeof(echo) || echo.addr != iova || echo.size != size)
			r = client_break(c);
	}
	client_msg_release(&reply);
	client_unlock(c);
	return r;
}
