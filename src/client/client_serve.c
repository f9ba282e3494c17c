/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server's requests to the client: DMA_READ and DMA_WRITE, for mappings the client made
 * without an fd (specification layout: u64 address, u64 count, data at payload offset 16).
 * They are served by the caller's DMA handler while the client waits for a reply, or in
 * umdev_client_serve_pending(). Replies follow the specification: a DMA_READ reply is the
 * address, the count (8 bytes) and the data; a DMA_WRITE reply is the address and a 4-byte
 * count. A request that is malformed, that has no handler, or whose handler fails gets an
 * error reply (flags reply|error, error = errno); one flagged NO_REPLY gets none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_private.h"
#include "util/macros.h"

/* A reply being built: a fixed part and data (malloc'd or NULL). */
struct serve_reply {
	uint8_t fixed[sizeof(struct vfu_dma_rw)];
	size_t fixed_len;
	void *data;
	size_t data_len;
};

typedef int (*serve_fn)(struct umdev_client *c, struct client_msg *m, struct serve_reply *rep);

/* The request's address range, checked: 0 or -EINVAL. */
static int check_range(const struct vfu_dma_rw *req)
{
	uint64_t end;

	if (req->count > UMDEV_CLIENT_MAX_DATA_XFER)
		return -EINVAL;
	if (__builtin_add_overflow(req->addr, req->count, &end))
		return -EINVAL;
	return 0;
}

static int serve_dma_read(struct umdev_client *c, struct client_msg *m, struct serve_reply *rep)
{
	struct vfu_dma_rw req;
	void *data;
	int r;

	if (m->len != sizeof(req))
		return -EINVAL;
	memcpy(&req, m->payload, sizeof(req));
	r = check_range(&req);
	if (r)
		return r;
	if (!c->dma_handler)
		return -EFAULT;
	data = malloc(MAX(req.count, 1));
	if (!data)
		return -ENOMEM;
	r = c->dma_handler(c->dma_opaque, req.addr, data, req.count, false);
	if (r < 0) {
		free(data);
		return r;
	}
	memcpy(rep->fixed, &req, sizeof(req));
	rep->fixed_len = sizeof(req);
	rep->data = data;
	rep->data_len = req.count;
	return 0;
}

static int serve_dma_write(struct umdev_client *c, struct client_msg *m,
			   struct serve_reply *rep)
{
	struct vfu_dma_rw req;
	uint32_t count;
	int r;

	if (m->len < sizeof(req))
		return -EINVAL;
	memcpy(&req, m->payload, sizeof(req));
	if (req.count != m->len - sizeof(req))
		return -EINVAL;
	r = check_range(&req);
	if (r)
		return r;
	if (!c->dma_handler)
		return -EFAULT;
	r = c->dma_handler(c->dma_opaque, req.addr, m->payload + sizeof(req), req.count, true);
	if (r < 0)
		return r;
	/* the reply's count is 4 bytes (specification, VFIO_USER_DMA_WRITE reply) */
	count = (uint32_t)req.count;
	memcpy(rep->fixed, &req.addr, sizeof(req.addr));
	memcpy(rep->fixed + sizeof(req.addr), &count, sizeof(count));
	rep->fixed_len = sizeof(req.addr) + sizeof(count);
	return 0;
}

static const struct {
	uint16_t command;
	serve_fn serve;
} server_requests[] = {
	{ VFU_CMD_DMA_READ, serve_dma_read },
	{ VFU_CMD_DMA_WRITE, serve_dma_write },
};

/* The largest request of the server: a DMA_WRITE of the client's largest transfer. */
#define SERVE_MAX_PAYLOAD (sizeof(struct vfu_dma_rw) + UMDEV_CLIENT_MAX_DATA_XFER)

static int serve(struct umdev_client *c, struct client_msg *m, struct serve_reply *rep)
{
	if (m->nfds || (m->hdr.flags & ~(VFU_FLAG_TYPE_MASK | VFU_FLAG_NO_REPLY)))
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(server_requests); i++)
		if (server_requests[i].command == m->hdr.command)
			return server_requests[i].serve(c, m, rep);
	return -EOPNOTSUPP;
}

/*
 * Serves the request whose header is in @m: reads its payload, calls its handler and sends
 * the reply by @deadline. A failure to reply shuts the connection down (the server would
 * wait for that reply forever).
 */
int client_serve_request(struct umdev_client *c, struct client_msg *m, int64_t deadline)
{
	struct serve_reply rep = { .fixed_len = 0 };
	struct vfu_hdr hdr;
	struct iovec iov[3];
	int r, ret;

	r = client_recv_payload(c, m, SERVE_MAX_PAYLOAD, deadline);
	if (r)
		return r;
	ret = serve(c, m, &rep);
	if (m->hdr.flags & VFU_FLAG_NO_REPLY)
		goto out;
	if (ret < 0) {
		rep.fixed_len = 0;
		rep.data_len = 0;
	}
	hdr = (struct vfu_hdr){
		.msg_id = m->hdr.msg_id,
		.command = m->hdr.command,
		.msg_size = (uint32_t)(sizeof(hdr) + rep.fixed_len + rep.data_len),
		.flags = VFU_FLAG_TYPE_REPLY | (ret < 0 ? VFU_FLAG_ERROR : 0),
		.error = ret >= 0 ? 0 : (-ret <= 4095 ? (uint32_t)-ret : (uint32_t)EIO),
	};
	iov[0] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
	iov[1] = (struct iovec){ .iov_base = rep.fixed, .iov_len = rep.fixed_len };
	iov[2] = (struct iovec){ .iov_base = rep.data, .iov_len = rep.data_len };
	r = client_send(c, iov, ARRAY_SIZE(iov), NULL, 0, deadline);
	if (r)
		client_break(c);
out:
	free(rep.data);
	return r;
}

int umdev_client_serve_pending(struct umdev_client *c, int timeout_ms)
{
	int64_t deadline = client_deadline(timeout_ms);
	int served = 0, r;

	if (!c)
		return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	for (;;) {
		struct client_msg m;
		int64_t rest;

		if (c->broken) {
			r = -EPIPE;
			break;
		}
		/* after the first request, only those already there */
		r = client_recv_header(c, &m, served ? client_deadline(0) : deadline, &rest);
		if (r == -ETIMEDOUT && !c->broken) {
			r = served;
			break;
		}
		if (r) {
			client_msg_release(&m);
			break;
		}
		if ((m.hdr.flags & VFU_FLAG_TYPE_MASK) == VFU_FLAG_TYPE_COMMAND) {
			r = client_serve_request(c, &m, rest);
			served++;
		} else if (client_drop_stale(c, &m.hdr)) {
			r = client_recv_payload(c, &m, client_max_incoming(c), rest);
		} else {
			r = client_break(c); /* a reply to nothing */
		}
		client_msg_release(&m);
		if (r)
			break;
	}
	client_unlock(c);
	return r;
}

void umdev_client_set_dma_handler(struct umdev_client *c, umdev_client_dma_handler_t handler,
				  void *opaque)
{
	if (!c || client_lock(c))
		return;
	c->dma_handler = handler;
	c->dma_opaque = opaque;
	client_unlock(c);
}
