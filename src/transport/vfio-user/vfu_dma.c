/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DMA_READ and DMA_WRITE: the server's own commands, through which a device reaches client
 * memory that came without an fd (the space ops of the session's DMA space). A request is
 * sent on the client's socket and waits for its reply, in chunks of at most the client's
 * max_data_xfer_size.
 *
 * Two callers. A driver thread other than the worker hands the sending to the worker and
 * waits for the worker's dispatcher to deliver the reply. The worker itself (a driver that
 * does DMA inside a region write, say) cannot go back to its loop while the handler runs: it
 * reads the socket itself, into a side buffer that holds everything after the message being
 * handled, until its reply arrives; the other messages wait there, in order, and go back to
 * the input buffer when the handler returns.
 *
 * Replies follow the specification's layout (data at payload offset 16); a DMA_READ reply
 * in the layout of QEMU 10.1's client (offset 12) is recognised by its size. Every wait is
 * bounded by VFU_DMA_TIMEOUT_MS, and the end of the session fails all waiters at once.
 */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <umdev/log.h>

#include "transport/vfio-user/vfu_private.h"
#include "util/cond.h"
#include "util/macros.h"

struct vfu_dma_request {
	struct list_head node;
	uint16_t msg_id;
	uint16_t command;
	uint8_t *buf;	/* DMA_READ: where the data goes */
	uint64_t addr;
	uint32_t count;
	bool done;
	int result;	/* 0 or -errno */
};

void vfu_dma_init(struct vfu_conn *conn)
{
	pthread_mutex_init(&conn->dma_lock, NULL);
	cond_init_monotonic(&conn->dma_done);
	list_init(&conn->dma_pending);
}

void vfu_dma_shutdown(struct vfu_conn *conn)
{
	pthread_mutex_lock(&conn->dma_lock);
	conn->dma_dead = true;
	list_for_each_entry(r, &conn->dma_pending, struct vfu_dma_request, node) {
		r->done = true;
		r->result = -ECONNRESET;
	}
	pthread_cond_broadcast(&conn->dma_done);
	pthread_mutex_unlock(&conn->dma_lock);
}

void vfu_dma_destroy(struct vfu_conn *conn)
{
	for (size_t i = 0; i < conn->side_nslots; i++)
		vfu_close_fds(conn->side_slots[i].fds, conn->side_slots[i].nfds);
	free(conn->side_slots);
	free(conn->side);
	pthread_cond_destroy(&conn->dma_done);
	pthread_mutex_destroy(&conn->dma_lock);
}

/*
 * A DMA_READ reply in a layout whose data starts at @hdr_len after an address and a count of
 * @count_len bytes: its size must fit, and it must echo the request's address and count.
 */
static bool reply_matches(const struct vfu_msg *msg, const struct vfu_dma_request *req,
			  size_t hdr_len, size_t count_len)
{
	uint64_t addr, count = 0;

	if (msg->len != hdr_len + req->count)
		return false;
	memcpy(&addr, msg->payload, sizeof(addr));
	memcpy(&count, msg->payload + sizeof(addr), count_len);
	return addr == req->addr && count == req->count;
}

/* Completes the request a reply answers; -EPROTO when none waits for it. */
int vfu_dma_deliver(struct vfu_conn *conn, const struct vfu_msg *msg)
{
	struct vfu_dma_request *req = NULL;
	int ret = -EPROTO;

	pthread_mutex_lock(&conn->dma_lock);
	list_for_each_entry(r, &conn->dma_pending, struct vfu_dma_request, node) {
		if (!r->done && r->msg_id == msg->hdr.msg_id && r->command == msg->hdr.command) {
			req = r;
			break;
		}
	}
	if (!req)
		goto out;
	ret = 0;
	req->done = true;
	if (msg->hdr.flags & VFU_FLAG_ERROR) {
		req->result = msg->hdr.error ? -(int)msg->hdr.error : -EIO;
	} else if (req->command == VFU_CMD_DMA_WRITE) {
		req->result = msg->len >= 12 ? 0 : -EPROTO; /* addr + count (4 bytes: spec) */
	} else if (reply_matches(msg, req, sizeof(struct vfu_dma_rw), sizeof(uint64_t))) {
		memcpy(req->buf, msg->payload + sizeof(struct vfu_dma_rw), req->count);
		req->result = 0;
	} else if (reply_matches(msg, req, VFU_DMA_RW_QEMU_HDR, sizeof(uint32_t))) {
		memcpy(req->buf, msg->payload + VFU_DMA_RW_QEMU_HDR, req->count);
		req->result = 0;
	} else {
		req->result = -EPROTO;
	}
	pthread_cond_broadcast(&conn->dma_done);
out:
	pthread_mutex_unlock(&conn->dma_lock);
	return ret;
}

/* ---- the worker waiting inside a handler ---- */

/* Moves what follows the message being handled out of the input buffer, once. */
static void side_take_tail(struct vfu_conn *conn)
{
	/* outside a dispatch (a posted call), everything buffered stays in the input */
	size_t cut = conn->in_dispatch ? conn->cur_end : conn->in_len;
	size_t tail = conn->in_len - cut;

	if (!tail)
		return;
	if (conn->side_len + tail > conn->side_cap) {
		size_t cap = MAX(conn->side_cap * 2, conn->side_len + tail);
		uint8_t *s = realloc(conn->side, cap);

		if (!s)
			return; /* stays in the input buffer; the reply may still be found there */
		conn->side = s;
		conn->side_cap = cap;
	}
	/* the side buffer is empty when the first nested read happens */
	memcpy(conn->side + conn->side_len, conn->in + cut, tail);
	conn->side_len += tail;
	for (size_t i = 0; i < conn->nslots;) {
		struct vfu_fd_slot *s = &conn->fd_slots[i];

		if (s->msg_offset < cut) {
			i++;
			continue;
		}
		vfu_slot_add(&conn->side_slots, &conn->side_nslots, &conn->side_slots_cap,
			     s->msg_offset - cut, s->fds, s->nfds, s->overflow);
		memmove(s, s + 1, (--conn->nslots - i) * sizeof(*s));
	}
	/* the handler's message stays where it is: its payload pointer remains valid */
	conn->in_len = cut;
}

static int side_read(struct vfu_conn *conn)
{
	char control[CMSG_SPACE(sizeof(int) * VFU_MAX_MSG_FDS)];
	struct msghdr mh = { .msg_control = control, .msg_controllen = sizeof(control) };
	struct iovec iov;
	ssize_t n;

	if (conn->side_cap - conn->side_len < 4096) {
		size_t cap = conn->side_cap ? conn->side_cap * 2 : 16384;
		uint8_t *s;

		if (cap > 2 * VFU_MAX_MSG_SIZE + 16384)
			return -ENOBUFS; /* the client floods us while we wait */
		s = realloc(conn->side, cap);
		if (!s)
			return -ENOMEM;
		conn->side = s;
		conn->side_cap = cap;
	}
	iov.iov_base = conn->side + conn->side_len;
	iov.iov_len = conn->side_cap - conn->side_len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	do {
		n = recvmsg(conn->src.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	conn->side_len += (size_t)n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)(void *)CMSG_DATA(cm);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		if (vfu_slot_add(&conn->side_slots, &conn->side_nslots, &conn->side_slots_cap,
				 vfu_last_message_start(conn->side, 0, conn->side_len, conn->side_len), fds, nfds,
				 (mh.msg_flags & MSG_CTRUNC) != 0)) {
			vfu_close_fds(fds, nfds);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Delivers the complete replies in the side buffer, removing them from it. */
static void side_deliver_replies(struct vfu_conn *conn)
{
	size_t p = 0;

	while (p + sizeof(struct vfu_hdr) <= conn->side_len) {
		struct vfu_msg msg;

		memcpy(&msg.hdr, conn->side + p, sizeof(msg.hdr));
		if (msg.hdr.msg_size < sizeof(msg.hdr) || msg.hdr.msg_size > VFU_MAX_MSG_SIZE) {
			/* nothing behind a broken frame can be trusted, the reply included */
			conn->side_error = -EPROTO;
			return;
		}
		if (p + msg.hdr.msg_size > conn->side_len)
			return;
		if ((msg.hdr.flags & VFU_FLAG_TYPE_MASK) != VFU_FLAG_TYPE_REPLY) {
			p += msg.hdr.msg_size; /* a command: its turn comes after the handler */
			continue;
		}
		msg.payload = conn->side + p + sizeof(msg.hdr);
		msg.len = msg.hdr.msg_size - sizeof(msg.hdr);
		msg.fds = NULL;
		msg.nfds = 0;
		msg.fds_overflow = false;
		if (vfu_dma_deliver(conn, &msg)) {
			p += msg.hdr.msg_size; /* belongs to nothing: the dispatcher rejects it */
			continue;
		}
		memmove(conn->side + p, conn->side + p + msg.hdr.msg_size,
			conn->side_len - p - msg.hdr.msg_size);
		conn->side_len -= msg.hdr.msg_size;
		/* fds that came with the reply go with it */
		for (size_t i = 0; i < conn->side_nslots;) {
			struct vfu_fd_slot *s = &conn->side_slots[i];

			if (s->msg_offset == p) {
				vfu_close_fds(s->fds, s->nfds);
				memmove(s, s + 1, (--conn->side_nslots - i) * sizeof(*s));
				continue;
			}
			if (s->msg_offset > p)
				s->msg_offset -= msg.hdr.msg_size;
			i++;
		}
	}
}

void vfu_dma_side_ready(struct vfu_conn *conn, uint32_t events)
{
	int ret;

	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || conn->side_error)
		return;
	ret = side_read(conn);
	if (ret && ret != -EAGAIN)
		conn->side_error = ret;
}

/* Without nested rounds: polls the connection alone (other sources wait). */
static int wait_alone(struct vfu_conn *conn, int ms)
{
	struct pollfd pfd = { .fd = conn->src.fd, .events = POLLIN };
	int ret = poll(&pfd, 1, ms);

	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	if (ret > 0)
		vfu_dma_side_ready(conn, (uint32_t)pfd.revents);
	return 0;
}

/*
 * The worker waits for @req inside a handler. Its input goes to the side buffer (the
 * connection's own readiness callback puts it there while `dma_waiting`), and the worker's
 * other sources are served meanwhile by nested rounds: a client that does not answer holds up
 * only its own device.
 */
static void wait_on_worker(struct vfu_conn *conn, struct vfu_dma_request *req)
{
	struct timespec deadline, now;
	int ret = 0;

	deadline_after_ms(&deadline, VFU_DMA_TIMEOUT_MS);
	side_take_tail(conn);
	if (!conn->dma_waiting++ && conn->paused)
		vfu_conn_watch(conn); /* the reply is read even while output is paused */
	for (;;) {
		long ms;

		side_deliver_replies(conn);
		pthread_mutex_lock(&conn->dma_lock);
		if (req->done) {
			pthread_mutex_unlock(&conn->dma_lock);
			break;
		}
		pthread_mutex_unlock(&conn->dma_lock);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
		if (conn->side_error)
			ret = conn->side_error;
		else if (ms <= 0)
			ret = -ETIMEDOUT;
		else if (worker_poll_nested(conn->srv->worker, (int)ms) == -EDEADLK)
			ret = wait_alone(conn, (int)ms);
		if (ret) {
			pthread_mutex_lock(&conn->dma_lock);
			if (!req->done) {
				req->done = true;
				req->result = ret;
			}
			pthread_mutex_unlock(&conn->dma_lock);
			break;
		}
	}
	if (!--conn->dma_waiting && conn->paused)
		vfu_conn_watch(conn);
}

int vfu_dma_merge_side_input(struct vfu_conn *conn)
{
	size_t base = conn->in_len;
	int ret = 0;

	if (!conn->side_len && !conn->side_nslots)
		return 0;
	if (conn->in_cap - conn->in_len < conn->side_len) {
		uint8_t *in = realloc(conn->in, conn->in_len + conn->side_len);

		if (!in)
			return -ENOMEM;
		conn->in = in;
		conn->in_cap = conn->in_len + conn->side_len;
	}
	memcpy(conn->in + base, conn->side, conn->side_len);
	conn->in_len += conn->side_len;
	conn->side_len = 0;
	for (size_t i = 0; i < conn->side_nslots && !ret; i++) {
		struct vfu_fd_slot *s = &conn->side_slots[i];

		ret = vfu_slot_add(&conn->fd_slots, &conn->nslots, &conn->slots_cap,
				   base + s->msg_offset, s->fds, s->nfds, s->overflow);
		if (ret)
			vfu_close_fds(s->fds, s->nfds);
	}
	conn->side_nslots = 0;
	return ret;
}

/* ---- sending ---- */

struct send_args {
	struct vfu_conn *conn;
	const void *msg;
	size_t len;
	const void *data;
	size_t data_len;
	int result;
};

static void send_on_worker(void *arg)
{
	struct send_args *a = arg;

	a->result = a->conn->dead ? -ECONNRESET
				  : vfu_send(a->conn, a->msg, a->len, a->data, a->data_len, NULL, 0);
}

/* One request of at most the client's max_data_xfer_size. */
static int dma_request(struct vfu_conn *conn, uint64_t addr, uint8_t *buf, uint32_t count,
		       bool write)
{
	struct {
		struct vfu_hdr hdr;
		struct vfu_dma_rw rw;
	} msg;
	struct vfu_dma_request req = { .buf = buf, .addr = addr, .count = count };
	struct send_args args = { conn, &msg, sizeof(msg), write ? buf : NULL, write ? count : 0, 0 };
	bool on_worker = worker_is_current(conn->srv->worker);
	int ret;

	pthread_mutex_lock(&conn->dma_lock);
	if (conn->dma_dead) {
		pthread_mutex_unlock(&conn->dma_lock);
		return -ECONNRESET;
	}
	req.msg_id = conn->next_msg_id++;
	req.command = write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ;
	list_add_tail(&req.node, &conn->dma_pending);
	pthread_mutex_unlock(&conn->dma_lock);

	memset(&msg, 0, sizeof(msg));
	msg.hdr.msg_id = req.msg_id;
	msg.hdr.command = req.command;
	msg.hdr.msg_size = (uint32_t)(sizeof(msg) + (write ? count : 0));
	msg.hdr.flags = VFU_FLAG_TYPE_COMMAND;
	msg.rw.addr = addr;
	msg.rw.count = count;

	if (on_worker) {
		send_on_worker(&args);
		if (!args.result)
			wait_on_worker(conn, &req);
	} else {
		worker_call(conn->srv->worker, send_on_worker, &args, true);
		if (!args.result) {
			struct timespec deadline;

			deadline_after_ms(&deadline, VFU_DMA_TIMEOUT_MS);
			pthread_mutex_lock(&conn->dma_lock);
			while (!req.done &&
			       cond_wait_until(&conn->dma_done, &conn->dma_lock, &deadline))
				;
			if (!req.done) {
				req.done = true;
				req.result = -ETIMEDOUT;
			}
			pthread_mutex_unlock(&conn->dma_lock);
		}
	}

	pthread_mutex_lock(&conn->dma_lock);
	list_del(&req.node);
	ret = args.result ? args.result : req.result;
	pthread_mutex_unlock(&conn->dma_lock);
	return ret;
}

static int vfu_dma_rw(void *opaque, dma_addr_t iova, void *data, size_t len, bool write)
{
	struct vfu_conn *conn = opaque;
	uint64_t chunk = MIN(conn->client_max_xfer, (uint64_t)VFU_MAX_DATA_XFER);
	uint8_t *buf = data;

	while (len) {
		uint32_t n = (uint32_t)MIN((uint64_t)len, chunk);
		int ret = dma_request(conn, iova, buf, n, write);

		if (ret)
			return ret;
		iova += n;
		buf += n;
		len -= n;
	}
	return 0;
}

const struct vfio_dma_space_ops vfu_dma_space_ops = {
	.rw = vfu_dma_rw,
};
