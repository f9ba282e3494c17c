/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A vfio-user connection: reading messages, handing them to the dispatcher in order, and
 * writing replies.
 *
 * Input is read into a buffer with one recvmsg() per readiness event, which usually brings a
 * whole message (header and payload) in one system call. File descriptors that arrive with a
 * read belong to the last message that starts in it: a client sends each message with one
 * sendmsg(), and Linux ends a stream read right after a segment that carried descriptors.
 * Framing errors (a size below the header or above VFU_MAX_MSG_SIZE) end the connection;
 * everything else is the dispatcher's to answer.
 *
 * Output goes out with non-blocking sends; what the socket does not take is queued and
 * flushed on EPOLLOUT. Once VFU_OUTPUT_PAUSE bytes (or VFU_OUTPUT_PAUSE_FDS fds) are queued
 * the connection is paused: no input is read or handled (EPOLLOUT instead of EPOLLIN) until
 * the client has read all of it. A client that floods requests and reads no reply costs one
 * socket's worth of replies plus that much memory, then no time of the worker; its requests
 * wait in its own socket. A paused connection is read only while a handler waits for a DMA
 * reply. Output queued regardless (requests the server starts from other threads) is bounded
 * by VFU_MAX_QUEUED_OUTPUT and VFU_MAX_QUEUED_FDS, past which the client is disconnected.
 *
 * A connection lives on its server's worker. `refs` counts the dispatcher and a pending
 * continuation; vfu_conn_close() marks it dead and the last reference frees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <umdev/log.h>

#include "transport/vfio-user/vfu_private.h"
#include "util/macros.h"

#define VFU_IN_INITIAL 4096
#define VFU_IN_SHRINK (64 * 1024)

struct vfu_out_chunk {
	struct vfu_out_chunk *next;
	size_t len, pos;
	int fds[VFU_MAX_MSG_FDS];
	size_t nfds; /* still to send with the first byte */
	uint8_t data[];
};

static void vfu_conn_free(struct vfu_conn *conn);

static void conn_get(struct vfu_conn *conn)
{
	conn->refs++;
}

static void conn_put(struct vfu_conn *conn)
{
	if (!--conn->refs)
		vfu_conn_free(conn);
}

void vfu_close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ---- output ---- */

static uint32_t conn_events(struct vfu_conn *conn)
{
	return (conn->paused && !conn->dma_waiting ? 0 : EPOLLIN) |
	       (conn->out_head ? EPOLLOUT : 0);
}

void vfu_conn_watch(struct vfu_conn *conn)
{
	if (!conn->dead)
		worker_modify(conn->srv->worker, &conn->src, conn_events(conn));
}

static int queue_output(struct vfu_conn *conn, const struct iovec *iov, int niov, size_t skip,
			const int *fds, size_t nfds)
{
	struct vfu_out_chunk *c;
	size_t total = 0, off = 0;

	for (int i = 0; i < niov; i++)
		total += iov[i].iov_len;
	total -= skip;
	if (conn->out_len + total > VFU_MAX_QUEUED_OUTPUT ||
	    conn->out_fds + nfds > VFU_MAX_QUEUED_FDS)
		return -ENOBUFS;
	c = malloc(sizeof(*c) + total);
	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->len = total;
	c->pos = 0;
	c->nfds = 0;
	for (size_t i = 0; i < nfds; i++) {
		c->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (c->fds[i] < 0) {
			vfu_close_fds(c->fds, i);
			free(c);
			return -errno;
		}
		c->nfds++;
	}
	conn->out_fds += c->nfds;
	for (int i = 0; i < niov; i++) {
		size_t len = iov[i].iov_len;
		const uint8_t *base = iov[i].iov_base;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		memcpy(c->data + off, base + skip, len - skip);
		off += len - skip;
		skip = 0;
	}
	/* appended at the tail kept aside: a client that does not read may let thousands of
	 * small replies pile up, and a walk to the end for each made that quadratic */
	if (conn->out_tail)
		conn->out_tail->next = c;
	else
		conn->out_head = c;
	conn->out_tail = c;
	conn->out_len += total;
	return 0;
}

static ssize_t send_iov(int fd, struct iovec *iov, int niov, const int *fds, size_t nfds)
{
	char control[CMSG_SPACE(sizeof(int) * VFU_MAX_MSG_FDS)];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)niov };
	ssize_t n;

	if (nfds) {
		struct cmsghdr *cm;

		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* Writes queued output until the socket is full; 0 or -errno (connection broken). */
static int flush_output(struct vfu_conn *conn)
{
	struct vfu_out_chunk *c;

	while ((c = conn->out_head)) {
		struct iovec iov = { c->data + c->pos, c->len - c->pos };
		ssize_t n = send_iov(conn->src.fd, &iov, 1, c->fds, c->nfds);

		if (n == -EAGAIN)
			break;
		if (n < 0)
			return (int)n;
		vfu_close_fds(c->fds, c->nfds);
		conn->out_fds -= c->nfds;
		c->nfds = 0;
		c->pos += (size_t)n;
		conn->out_len -= (size_t)n;
		if (c->pos < c->len)
			break;
		conn->out_head = c->next;
		if (!conn->out_head)
			conn->out_tail = NULL;
		free(c);
	}
	return 0;
}

static int send_message(struct vfu_conn *conn, struct iovec *iov, int niov, const int *fds,
			size_t nfds)
{
	size_t total = 0;
	ssize_t n = 0;
	int ret;

	if (conn->dead)
		return -EPIPE;
	for (int i = 0; i < niov; i++)
		total += iov[i].iov_len;
	if (!conn->out_head) {
		n = send_iov(conn->src.fd, iov, niov, fds, nfds);
		if (n == (ssize_t)total)
			return 0;
		if (n < 0 && n != -EAGAIN) {
			vfu_conn_close(conn);
			return (int)n;
		}
		if (n > 0) /* the fds went with the first byte */
			nfds = 0;
	}
	ret = queue_output(conn, iov, niov, n > 0 ? (size_t)n : 0, fds, nfds);
	if (ret) {
		umdev_log(UMDEV_LOG_WARNING, "vfio-user %s: client does not read its replies",
			  conn->srv->path);
		vfu_conn_close(conn);
		return ret;
	}
	if (conn->out_len >= VFU_OUTPUT_PAUSE || conn->out_fds >= VFU_OUTPUT_PAUSE_FDS)
		conn->paused = true;
	return worker_modify(conn->srv->worker, &conn->src, conn_events(conn));
}

int vfu_send(struct vfu_conn *conn, const void *msg, size_t len, const void *extra,
	     size_t extra_len, const int *fds, size_t nfds)
{
	struct iovec iov[2] = { { (void *)msg, len }, { (void *)extra, extra_len } };

	return send_message(conn, iov, extra_len ? 2 : 1, fds, nfds);
}

int vfu_reply(struct vfu_conn *conn, const struct vfu_msg *msg, const void *payload, size_t len,
	      const void *payload2, size_t len2, const int *fds, size_t nfds)
{
	struct vfu_hdr hdr = {
		.msg_id = msg->hdr.msg_id,
		.command = msg->hdr.command,
		.msg_size = (uint32_t)(sizeof(hdr) + len + len2),
		.flags = VFU_FLAG_TYPE_REPLY,
	};
	struct iovec iov[3] = {
		{ &hdr, sizeof(hdr) }, { (void *)payload, len }, { (void *)payload2, len2 }
	};

	if (msg->hdr.flags & VFU_FLAG_NO_REPLY)
		return 0;
	return send_message(conn, iov, 3, fds, nfds);
}

int vfu_reply_error(struct vfu_conn *conn, const struct vfu_msg *msg, int err)
{
	struct vfu_hdr hdr = {
		.msg_id = msg->hdr.msg_id,
		.command = msg->hdr.command,
		.msg_size = sizeof(hdr),
		.flags = VFU_FLAG_TYPE_REPLY | VFU_FLAG_ERROR,
		.error = (uint32_t)err,
	};
	struct iovec iov = { &hdr, sizeof(hdr) };

	vfu_stat_add(conn->srv, &conn->srv->stats.error_replies, 1);
	if (msg->hdr.flags & VFU_FLAG_NO_REPLY)
		return 0;
	return send_message(conn, &iov, 1, NULL, 0);
}

/* ---- input ---- */

/* Appends @n received fds to the message that starts at @msg_offset in a slot list. */
int vfu_slot_add(struct vfu_fd_slot **slots, size_t *nslots, size_t *cap, size_t msg_offset,
		 const int *fds, size_t n, bool truncated)
{
	struct vfu_fd_slot *slot;

	if (*nslots && (*slots)[*nslots - 1].msg_offset == msg_offset) {
		slot = &(*slots)[*nslots - 1];
	} else {
		if (*nslots == *cap) {
			size_t ncap = *cap ? *cap * 2 : 4;
			struct vfu_fd_slot *s = realloc(*slots, ncap * sizeof(*s));

			if (!s)
				return -ENOMEM;
			*slots = s;
			*cap = ncap;
		}
		slot = &(*slots)[(*nslots)++];
		slot->msg_offset = msg_offset;
		slot->nfds = 0;
		slot->overflow = false;
	}
	for (size_t i = 0; i < n; i++) {
		if (slot->nfds < VFU_MAX_MSG_FDS) {
			slot->fds[slot->nfds++] = fds[i];
		} else {
			close(fds[i]);
			slot->overflow = true;
		}
	}
	if (truncated)
		slot->overflow = true;
	return 0;
}

static int slot_add(struct vfu_conn *conn, size_t msg_offset, const int *fds, size_t n,
		    bool truncated)
{
	return vfu_slot_add(&conn->fd_slots, &conn->nslots, &conn->slots_cap, msg_offset, fds, n,
			    truncated);
}

size_t vfu_last_message_start(const uint8_t *buf, size_t from, size_t len, size_t end)
{
	size_t p = from, last = from;

	while (p < end) {
		struct vfu_hdr hdr;

		last = p;
		if (p + sizeof(hdr) > len)
			break;
		memcpy(&hdr, buf + p, sizeof(hdr));
		if (hdr.msg_size < sizeof(hdr) || hdr.msg_size > VFU_MAX_MSG_SIZE)
			break;
		p += hdr.msg_size;
	}
	return last;
}

static size_t last_message_start(const struct vfu_conn *conn, size_t end)
{
	return vfu_last_message_start(conn->in, conn->in_pos, conn->in_len, end);
}

/* Room for at least the rest of the current message; -ENOMEM. */
static int ensure_input_room(struct vfu_conn *conn)
{
	size_t need = conn->in_len + sizeof(struct vfu_hdr), cap;
	uint8_t *in;

	if (conn->in_len - conn->in_pos >= sizeof(struct vfu_hdr)) {
		struct vfu_hdr hdr;

		memcpy(&hdr, conn->in + conn->in_pos, sizeof(hdr));
		if (hdr.msg_size >= sizeof(hdr) && hdr.msg_size <= VFU_MAX_MSG_SIZE)
			need = MAX(need, conn->in_pos + hdr.msg_size);
	}
	if (need <= conn->in_cap && conn->in_cap > conn->in_len)
		return 0;
	cap = MAX(conn->in_cap ? conn->in_cap : VFU_IN_INITIAL, VFU_IN_INITIAL);
	while (cap < need || cap <= conn->in_len)
		cap *= 2;
	in = realloc(conn->in, cap);
	if (!in)
		return -ENOMEM;
	conn->in = in;
	conn->in_cap = cap;
	return 0;
}

/* Reads what the socket has; 0, -EAGAIN (nothing), or -errno/-ECONNRESET to close. */
static int read_input(struct vfu_conn *conn)
{
	char control[CMSG_SPACE(sizeof(int) * VFU_MAX_MSG_FDS)];
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int ret;

	ret = ensure_input_room(conn);
	if (ret)
		return ret;
	iov.iov_base = conn->in + conn->in_len;
	iov.iov_len = conn->in_cap - conn->in_len;
	mh.msg_control = control;
	mh.msg_controllen = sizeof(control);
	do {
		n = recvmsg(conn->src.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;

	size_t start = conn->in_len;

	conn->in_len += (size_t)n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t nfds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		ret = slot_add(conn, last_message_start(conn, MAX(start + 1, conn->in_len)),
			       (const int *)(void *)CMSG_DATA(cm), nfds,
			       (mh.msg_flags & MSG_CTRUNC) != 0);
		if (ret) {
			vfu_close_fds((int *)(void *)CMSG_DATA(cm), nfds);
			return ret;
		}
	}
	if ((mh.msg_flags & MSG_CTRUNC) && !conn->nslots)
		slot_add(conn, last_message_start(conn, MAX(start + 1, conn->in_len)), NULL, 0, true);
	return 0;
}

/* Takes the fds that came with the message at @offset (closing any that came earlier and
 * belong to no message: they were sent mid-message). */
static struct vfu_fd_slot *take_slot(struct vfu_conn *conn, size_t offset)
{
	while (conn->nslots && conn->fd_slots[0].msg_offset < offset) {
		vfu_close_fds(conn->fd_slots[0].fds, conn->fd_slots[0].nfds);
		memmove(&conn->fd_slots[0], &conn->fd_slots[1],
			--conn->nslots * sizeof(conn->fd_slots[0]));
	}
	if (conn->nslots && conn->fd_slots[0].msg_offset == offset)
		return &conn->fd_slots[0];
	return NULL;
}

static void drop_slot(struct vfu_conn *conn)
{
	vfu_close_fds(conn->fd_slots[0].fds, conn->fd_slots[0].nfds);
	memmove(&conn->fd_slots[0], &conn->fd_slots[1], --conn->nslots * sizeof(conn->fd_slots[0]));
}

/* Moves the unprocessed input to the front of the buffer; shrinks a big idle buffer. */
static void compact_input(struct vfu_conn *conn)
{
	size_t shift = conn->in_pos;

	if (!shift)
		return;
	memmove(conn->in, conn->in + shift, conn->in_len - shift);
	conn->in_len -= shift;
	conn->in_pos = 0;
	for (size_t i = 0; i < conn->nslots; i++)
		conn->fd_slots[i].msg_offset -= shift;
	if (!conn->in_len && conn->in_cap > VFU_IN_SHRINK) {
		free(conn->in);
		conn->in = NULL;
		conn->in_cap = 0;
	}
}

static void continue_dispatch(void *arg);

/*
 * Hands the complete buffered messages to the dispatcher, at most VFU_MESSAGES_PER_ROUND;
 * if more remain, posts a continuation so that other sources get their turn. Stops when the
 * connection is paused: the flush that unpauses it goes on.
 */
static void dispatch_input(struct vfu_conn *conn)
{
	unsigned int budget = VFU_MESSAGES_PER_ROUND;

	conn_get(conn);
	while (!conn->dead && !conn->paused &&
	       conn->in_len - conn->in_pos >= sizeof(struct vfu_hdr)) {
		struct vfu_fd_slot *slot;
		struct vfu_msg msg;
		int ret;

		memcpy(&msg.hdr, conn->in + conn->in_pos, sizeof(msg.hdr));
		if (msg.hdr.msg_size < sizeof(msg.hdr) || msg.hdr.msg_size > VFU_MAX_MSG_SIZE) {
			umdev_log(UMDEV_LOG_WARNING,
				  "vfio-user %s: message size %u cannot be framed; disconnecting",
				  conn->srv->path, msg.hdr.msg_size);
			vfu_stat_add(conn->srv, &conn->srv->stats.protocol_errors, 1);
			vfu_conn_close(conn);
			break;
		}
		if (conn->in_len - conn->in_pos < msg.hdr.msg_size)
			break;
		if (!budget--) {
			if (!conn->continuation) {
				conn->continuation = true;
				conn_get(conn);
				if (worker_call(conn->srv->worker, continue_dispatch, conn, false)) {
					conn->continuation = false;
					conn_put(conn);
				}
			}
			break;
		}
		slot = take_slot(conn, conn->in_pos);
		msg.payload = conn->in + conn->in_pos + sizeof(msg.hdr);
		msg.len = msg.hdr.msg_size - sizeof(msg.hdr);
		msg.fds = slot ? slot->fds : NULL;
		msg.nfds = slot ? slot->nfds : 0;
		msg.fds_overflow = slot && slot->overflow;
		vfu_stat_add(conn->srv, &conn->srv->stats.messages, 1);
		conn->in_dispatch = true;
		conn->cur_end = conn->in_pos + msg.hdr.msg_size;
		ret = vfu_dispatch(conn, &msg);
		conn->in_dispatch = false;
		if (slot)
			drop_slot(conn); /* closes the fds the handler did not keep */
		conn->in_pos += msg.hdr.msg_size;
		if (!ret && !conn->dead)
			ret = vfu_dma_merge_side_input(conn);
		if (ret) {
			vfu_stat_add(conn->srv, &conn->srv->stats.protocol_errors, 1);
			vfu_conn_close(conn);
		}
	}
	if (!conn->dead)
		compact_input(conn);
	conn_put(conn);
}

static void continue_dispatch(void *arg)
{
	struct vfu_conn *conn = arg;

	conn->continuation = false;
	if (!conn->dead)
		dispatch_input(conn);
	conn_put(conn);
}

static void conn_ready(struct worker_source *src, uint32_t events)
{
	struct vfu_conn *conn = container_of(src, struct vfu_conn, src);
	bool resumed = false;
	int ret;

	conn_get(conn);
	if (events & EPOLLOUT) {
		ret = flush_output(conn);
		if (ret && !conn->dma_waiting) {
			vfu_conn_close(conn);
		} else if (!ret && !conn->out_head) {
			resumed = conn->paused;
			conn->paused = false;
			vfu_conn_watch(conn);
		}
	}
	if (conn->dma_waiting) {
		/* a handler of this connection waits for a reply, further up this thread */
		vfu_dma_side_ready(conn, events);
	} else if (conn->dead) {
		/* closed by the flush */
	} else if (conn->paused) {
		/* the peer is gone with its replies unread: they cannot be delivered */
		if (events & (EPOLLHUP | EPOLLERR))
			vfu_conn_close(conn);
	} else if (resumed || (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		/* input read by a DMA wait outside a dispatch comes before new input */
		ret = vfu_dma_merge_side_input(conn);
		if (!ret && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			ret = read_input(conn);
		if (ret && ret != -EAGAIN)
			vfu_conn_close(conn);
		else
			dispatch_input(conn); /* also what waited while paused */
	}
	conn_put(conn);
}

static void conn_timer_ready(struct worker_source *src, uint32_t events)
{
	struct vfu_conn *conn = container_of(src, struct vfu_conn, timer);

	(void)events;
	umdev_log(UMDEV_LOG_INFO, "vfio-user %s: refused client sent nothing; closing",
		  conn->srv->path);
	vfu_conn_close(conn);
}

/* ---- life cycle ---- */

int vfu_conn_create(struct vfio_user_server *srv, int fd, bool refused, int refuse_errno,
		    struct vfu_conn **ret_conn)
{
	struct vfu_conn *conn = calloc(1, sizeof(*conn));
	int ret;

	if (!conn)
		return -ENOMEM;
	conn->srv = srv;
	conn->src.fd = fd;
	conn->src.ready = conn_ready;
	conn->refused = refused;
	conn->refuse_errno = refuse_errno;
	conn->timer_fd = -1;
	conn->refs = 1;
	conn->client_max_fds = 1; /* the specification's default */
	vfu_dma_init(conn);
	conn->client_max_xfer = VFU_MAX_DATA_XFER;
	if (refused) {
		struct itimerspec its = { .it_value = { VFU_REFUSE_TIMEOUT_MS / 1000,
							(VFU_REFUSE_TIMEOUT_MS % 1000) * 1000000L } };

		conn->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (conn->timer_fd < 0) {
			ret = -errno;
			goto err_free;
		}
		timerfd_settime(conn->timer_fd, 0, &its, NULL);
		conn->timer.fd = conn->timer_fd;
		conn->timer.ready = conn_timer_ready;
		ret = worker_add(srv->worker, &conn->timer, EPOLLIN);
		if (ret)
			goto err_close_timer;
	}
	ret = worker_add(srv->worker, &conn->src, EPOLLIN);
	if (ret)
		goto err_remove_timer;
	*ret_conn = conn;
	return 0;

err_remove_timer:
	if (refused)
		worker_remove(srv->worker, &conn->timer);
err_close_timer:
	if (conn->timer_fd >= 0)
		close(conn->timer_fd);
err_free:
	vfu_dma_destroy(conn);
	free(conn);
	return ret;
}

void vfu_conn_close(struct vfu_conn *conn)
{
	struct vfio_user_server *srv = conn->srv;

	if (conn->dead)
		return;
	conn->dead = true;
	worker_remove(srv->worker, &conn->src);
	if (conn->timer_fd >= 0) {
		worker_remove(srv->worker, &conn->timer);
		close(conn->timer_fd);
		conn->timer_fd = -1;
	}
	if (conn->refused) {
		for (unsigned int i = 0; i < VFU_MAX_REFUSED; i++)
			if (srv->refused[i] == conn)
				srv->refused[i] = NULL;
	} else {
		vfu_session_close(conn);
		if (srv->client == conn)
			srv->client = NULL;
		vfu_stat_add(srv, &srv->stats.disconnects, 1);
	}
	close(conn->src.fd);
	conn->src.fd = -1;
	conn_put(conn);
}

static void vfu_conn_free(struct vfu_conn *conn)
{
	struct vfu_out_chunk *c, *next;

	for (c = conn->out_head; c; c = next) {
		next = c->next;
		vfu_close_fds(c->fds, c->nfds);
		free(c);
	}
	while (conn->nslots)
		drop_slot(conn);
	free(conn->fd_slots);
	free(conn->in);
	vfu_dma_destroy(conn);
	free(conn);
}
