/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Messages and the request/reply cycle. A request gets the next 16-bit message id; its reply
 * must be a reply (type 1) with the same id and command and a payload size the command
 * allows, or the connection is shut down (-EPROTO). An error reply is header-only and gives
 * -error. While waiting, the client serves the server's own requests (client_serve.c), and
 * drops the late replies of requests that timed out earlier (the "stale" list); their ids
 * are not given out again while they are listed.
 *
 * Locking: every function here is called with the client's lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/client_private.h"
#include "util/macros.h"

/* errnos above this are not errnos (the kernel's MAX_ERRNO) */
#define CLIENT_MAX_ERRNO 4095u

int client_lock(struct umdev_client *c)
{
	return -pthread_mutex_lock(&c->lock);
}

void client_unlock(struct umdev_client *c)
{
	pthread_mutex_unlock(&c->lock);
}

/* Shuts the connection down for good (the fd stays open until umdev_client_close(), so that
 * a caller polling it never sees it reused). Returns -EPROTO, for "return client_break(c)". */
int client_break(struct umdev_client *c)
{
	if (!c->broken) {
		c->broken = true;
		shutdown(c->fd, SHUT_RDWR);
	}
	return -EPROTO;
}

void client_msg_release(struct client_msg *m)
{
	client_close_fds(m->fds, m->nfds);
	m->nfds = 0;
	free(m->payload);
	m->payload = NULL;
	m->len = 0;
}

/* Takes the first fd of @m (the caller owns it now); -1 when there is none. */
int client_msg_take_fd(struct client_msg *m)
{
	for (size_t i = 0; i < m->nfds; i++) {
		int fd = m->fds[i];

		if (fd >= 0) {
			m->fds[i] = -1;
			return fd;
		}
	}
	return -1;
}

/* The largest payload the client ever takes: a REGION_READ reply of the server's largest
 * transfer, or a DMA_WRITE request of the client's. */
size_t client_max_incoming(const struct umdev_client *c)
{
	return sizeof(struct vfu_region_access) +
	       MAX(c->caps.max_data_xfer_size, UMDEV_CLIENT_MAX_DATA_XFER);
}

/*
 * Reads the header of the next message (and the fds sent with it) into @m, waiting until
 * @first_deadline for it to begin. The rest of a message that has begun may take until
 * *@rest_deadline, at least the client's timeout from now (serve_pending polls with 0).
 * -ETIMEDOUT with the connection intact when nothing came; any failure once a message has
 * begun shuts the connection down.
 */
int client_recv_header(struct umdev_client *c, struct client_msg *m, int64_t first_deadline,
		       int64_t *rest_deadline)
{
	size_t got = 0;
	int r;

	memset(m, 0, sizeof(*m));
	r = client_wait_readable(c, first_deadline);
	if (r)
		return r;
	*rest_deadline = first_deadline;
	if (first_deadline != CLIENT_FOREVER)
		*rest_deadline = MAX(first_deadline, client_deadline(c->timeout_ms));
	r = client_recv(c, &m->hdr, sizeof(m->hdr), m, *rest_deadline, &got);
	if (r) {
		if (got > 0 || r != -ETIMEDOUT)
			client_break(c);
		return r;
	}
	if (m->hdr.msg_size < sizeof(m->hdr))
		return client_break(c);
	return 0;
}

/* Reads the payload of @m, at most @max bytes (more: -EPROTO). */
int client_recv_payload(struct umdev_client *c, struct client_msg *m, size_t max,
			int64_t deadline)
{
	size_t len = m->hdr.msg_size - sizeof(m->hdr), got = 0;
	int r;

	if (len > max)
		return client_break(c);
	if (!len)
		return 0;
	m->payload = malloc(len);
	if (!m->payload) {
		client_break(c);
		return -ENOMEM;
	}
	m->len = len;
	r = client_recv(c, m->payload, len, m, deadline, &got);
	if (r)
		client_break(c);
	return r;
}

static bool is_stale(const struct umdev_client *c, uint16_t id)
{
	for (size_t i = 0; i < c->nstale; i++)
		if (c->stale[i].id == id)
			return true;
	return false;
}

/* Drops @hdr's message from the stale list if it is the late reply of a request that timed
 * out; true if it was. */
bool client_drop_stale(struct umdev_client *c, const struct vfu_hdr *hdr)
{
	if ((hdr->flags & VFU_FLAG_TYPE_MASK) != VFU_FLAG_TYPE_REPLY)
		return false;
	for (size_t i = 0; i < c->nstale; i++) {
		if (c->stale[i].id == hdr->msg_id && c->stale[i].command == hdr->command) {
			c->stale[i] = c->stale[--c->nstale];
			return true;
		}
	}
	return false;
}

/* Remembers a request whose reply timed out; with the list full, the connection is shut
 * down instead (a late reply would no longer be recognised). */
static int remember_stale(struct umdev_client *c, const struct vfu_hdr *hdr)
{
	if (c->nstale == CLIENT_STALE_MAX) {
		client_break(c);
		return -ETIMEDOUT;
	}
	c->stale[c->nstale].id = hdr->msg_id;
	c->stale[c->nstale].command = hdr->command;
	c->nstale++;
	return -ETIMEDOUT;
}

static uint16_t next_id(struct umdev_client *c)
{
	uint16_t id;

	do
		id = c->next_id++;
	while (is_stale(c, id));
	return id;
}

static int error_of(const struct vfu_hdr *hdr)
{
	if (hdr->error == 0 || hdr->error > CLIENT_MAX_ERRNO)
		return -EIO;
	return -(int)hdr->error;
}

/*
 * Takes the next message while waiting for the reply to @hdr: 1 when it was something else (a
 * request of the server, served, or a late reply, dropped), 0 when it is the reply (in @m,
 * payload read), or -errno (@m to be released either way).
 */
static int wait_one(struct umdev_client *c, const struct vfu_hdr *hdr,
		    const struct client_request *req, struct client_msg *m, int64_t deadline)
{
	int64_t rest;
	int r;

	r = client_recv_header(c, m, deadline, &rest);
	if (r == -ETIMEDOUT && !c->broken)
		return remember_stale(c, hdr);
	if (r)
		return r;
	if ((m->hdr.flags & VFU_FLAG_TYPE_MASK) == VFU_FLAG_TYPE_COMMAND) {
		r = client_serve_request(c, m, rest);
		return r ? r : 1;
	}
	if (client_drop_stale(c, &m->hdr)) {
		r = client_recv_payload(c, m, client_max_incoming(c), rest);
		return r ? r : 1;
	}
	if ((m->hdr.flags & ~VFU_FLAG_ERROR) != VFU_FLAG_TYPE_REPLY ||
	    m->hdr.msg_id != hdr->msg_id || m->hdr.command != hdr->command)
		return client_break(c);
	if (m->hdr.flags & VFU_FLAG_ERROR) /* the specification: the header alone */
		return m->hdr.msg_size == sizeof(m->hdr) ? error_of(&m->hdr) : client_break(c);
	r = client_recv_payload(c, m, req->reply_max, rest);
	if (!r && m->len < req->reply_min)
		r = client_break(c);
	return r;
}

/* Waits for the reply to @hdr (sent), serving the server's requests meanwhile. */
static int wait_reply(struct umdev_client *c, const struct vfu_hdr *hdr,
		      const struct client_request *req, struct client_msg *reply, int64_t deadline)
{
	for (;;) {
		struct client_msg m;
		int r = wait_one(c, hdr, req, &m, deadline);

		if (r == 1) {
			client_msg_release(&m);
			continue;
		}
		if (r || !reply)
			client_msg_release(&m);
		else
			*reply = m;
		return r;
	}
}

/*
 * Sends @req and, unless it asks for no reply, waits for its reply, whose payload and fds go
 * to @reply (released by the caller; may be NULL when the reply has no payload). @reply is
 * left empty on failure.
 */
int client_call_locked(struct umdev_client *c, const struct client_request *req,
		       struct client_msg *reply)
{
	struct iovec iov[CLIENT_MAX_IOV + 1];
	struct vfu_hdr hdr;
	uint64_t size = sizeof(hdr);
	int64_t deadline;
	int r;

	if (reply)
		memset(reply, 0, sizeof(*reply));
	if (c->broken)
		return -EPIPE;
	if (req->niov > CLIENT_MAX_IOV)
		return -EINVAL;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	for (size_t i = 0; i < req->niov; i++) {
		iov[i + 1] = req->iov[i];
		size += req->iov[i].iov_len;
	}
	if (size > UINT32_MAX)
		return -EMSGSIZE;
	hdr = (struct vfu_hdr){
		.msg_id = next_id(c),
		.command = req->command,
		.msg_size = (uint32_t)size,
		.flags = VFU_FLAG_TYPE_COMMAND | (req->no_reply ? VFU_FLAG_NO_REPLY : 0),
	};
	deadline = client_deadline(c->timeout_ms);
	r = client_send(c, iov, req->niov + 1, req->fds, req->nfds, deadline);
	if (r || req->no_reply)
		return r;
	return wait_reply(c, &hdr, req, reply, deadline);
}

int client_call_simple_locked(struct umdev_client *c, uint16_t command, const struct iovec *iov,
			      size_t reply_min, size_t reply_max, struct client_msg *reply)
{
	const struct client_request req = {
		.command = command,
		.iov = iov,
		.niov = 1,
		.reply_min = reply_min,
		.reply_max = reply_max,
	};

	return client_call_locked(c, &req, reply);
}

int client_call(struct umdev_client *c, const struct client_request *req,
		struct client_msg *reply)
{
	int r;

	if (reply)
		memset(reply, 0, sizeof(*reply));
	r = client_lock(c);
	if (r)
		return r;
	r = client_call_locked(c, req, reply);
	client_unlock(c);
	return r;
}
