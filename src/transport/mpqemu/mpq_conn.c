/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An mpqemu connection: reading messages, handing them to the dispatcher in order, and
 * writing the RET replies.
 *
 * Input is read one message at a time, exactly as far as the message goes: first its 16-byte
 * header, then the `size` bytes of payload the header announces (at most MPQ_MAX_PAYLOAD;
 * a larger size cannot be framed and ends the connection). File descriptors that arrive with
 * any read of a message belong to that message: the kernel hands SCM_RIGHTS over with the
 * first byte of the sendmsg() that carried them, and a read never goes past the current
 * message, so descriptors can never be credited to the wrong one. A client that sends half a
 * message and stops holds up only itself; one that closes mid-message is disconnected, and
 * what it sent is dropped.
 *
 * Output is one 24-byte RET per request, sent with a non-blocking sendmsg(). When the socket
 * does not take a reply whole, the rest is kept and the connection stops reading until it
 * has gone out (EPOLLOUT instead of EPOLLIN): a client that does not read its replies stops
 * being served, and holds no memory and no time of the worker. At most
 * MPQ_MESSAGES_PER_ROUND messages are handled per readiness event; the socket being
 * level-triggered, the rest is handled in the next round, after the worker's other sources.
 *
 * A connection lives on its server's worker; mpq_conn_close() inside the connection's own
 * callback only marks it dead, and the callback frees it on its way out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <umdev/log.h>

#include "transport/mpqemu/mpq_private.h"

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Forgets the message read so far, closing the fds it brought that nobody kept. */
static void reset_message(struct mpq_conn *conn)
{
	close_fds(conn->fds, conn->nfds);
	conn->nfds = 0;
	conn->fds_overflow = false;
	conn->hdr_len = 0;
	conn->payload_len = 0;
}

/* ---- output ---- */

static int set_events(struct mpq_conn *conn)
{
	return worker_modify(conn->srv->worker, &conn->src, conn->out_len ? EPOLLOUT : EPOLLIN);
}

/* Sends what is left of the pending reply; 0 (sent, or the socket is full) or -errno. */
static int flush_output(struct mpq_conn *conn)
{
	while (conn->out_pos < conn->out_len) {
		ssize_t n = send(conn->src.fd, conn->out + conn->out_pos,
				 conn->out_len - conn->out_pos, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		conn->out_pos += (size_t)n;
	}
	conn->out_pos = conn->out_len = 0;
	return 0;
}

int mpq_reply(struct mpq_conn *conn, uint64_t value)
{
	struct mpq_ret_msg msg = {
		.hdr = { .cmd = MPQ_CMD_RET, .size = sizeof(struct mpq_ret) },
		.ret = { .value = value },
	};
	int ret;

	if (conn->dead)
		return -EPIPE;
	if (conn->out_len) {
		/* the dispatcher stops while a reply is pending; never two at once */
		umdev_log(UMDEV_LOG_ERR, "mpqemu %s: reply while one is pending", conn->srv->path);
		mpq_conn_close(conn);
		return -EPROTO;
	}
	memcpy(conn->out, &msg, sizeof(msg));
	conn->out_pos = 0;
	conn->out_len = sizeof(msg);
	ret = flush_output(conn);
	if (!ret && conn->out_len)
		ret = set_events(conn); /* wait for room, reading nothing meanwhile */
	if (ret) {
		mpq_conn_close(conn);
		return ret;
	}
	return 0;
}

/* ---- input ---- */

/*
 * One read of at most @len bytes into @buf, with the fds that come along added to the
 * current message. The count, -EAGAIN, or -errno (-ECONNRESET at end of file).
 */
static ssize_t read_some(struct mpq_conn *conn, uint8_t *buf, size_t len)
{
	char control[CMSG_SPACE(sizeof(int) * MPQ_RECV_FDS)];
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	ssize_t n;

	do {
		n = recvmsg(conn->src.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (conn->nfds < MPQ_MAX_FDS) {
				conn->fds[conn->nfds++] = fd;
			} else {
				close(fd);
				conn->fds_overflow = true;
			}
		}
	}
	if (mh.msg_flags & MSG_CTRUNC)
		conn->fds_overflow = true; /* the kernel dropped the fds that did not fit */
	if (n == 0)
		return -ECONNRESET;
	return n;
}

/*
 * Reads on with the current message: 1 when it is complete, 0 when the socket has no more
 * for now, -EPROTO for a header that cannot be framed, or -errno to close.
 */
static int read_message(struct mpq_conn *conn)
{
	ssize_t n;

	while (conn->hdr_len < sizeof(conn->hdr_buf)) {
		n = read_some(conn, conn->hdr_buf + conn->hdr_len,
			      sizeof(conn->hdr_buf) - conn->hdr_len);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		conn->hdr_len += (size_t)n;
		if (conn->hdr_len < sizeof(conn->hdr_buf))
			continue;
		memcpy(&conn->hdr, conn->hdr_buf, sizeof(conn->hdr));
		if (conn->hdr.size > MPQ_MAX_PAYLOAD) {
			umdev_log(UMDEV_LOG_WARNING,
				  "mpqemu %s: payload size %llu cannot be framed; disconnecting",
				  conn->srv->path, (unsigned long long)conn->hdr.size);
			return -EPROTO;
		}
	}
	while (conn->payload_len < conn->hdr.size) {
		n = read_some(conn, conn->payload + conn->payload_len,
			      (size_t)conn->hdr.size - conn->payload_len);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		conn->payload_len += (size_t)n;
	}
	return 1;
}

/* Reads and handles messages while the socket has them, within the round's budget. */
static void serve_input(struct mpq_conn *conn)
{
	for (unsigned int budget = MPQ_MESSAGES_PER_ROUND; budget; budget--) {
		struct mpq_msg msg;
		int ret = read_message(conn);

		if (ret == 0)
			return;
		if (ret < 0) {
			if (ret == -EPROTO)
				mpq_stat_add(conn->srv, &conn->srv->stats.protocol_errors, 1);
			else if (ret != -ECONNRESET)
				umdev_log(UMDEV_LOG_INFO, "mpqemu %s: read failed: %d",
					  conn->srv->path, ret);
			mpq_conn_close(conn);
			return;
		}
		msg.cmd = conn->hdr.cmd;
		msg.payload = conn->payload;
		msg.len = (size_t)conn->hdr.size;
		msg.fds = conn->fds;
		msg.nfds = conn->nfds;
		msg.fds_overflow = conn->fds_overflow;
		mpq_stat_add(conn->srv, &conn->srv->stats.messages, 1);
		ret = mpq_dispatch(conn, &msg);
		reset_message(conn);
		if (ret && !conn->dead) {
			mpq_stat_add(conn->srv, &conn->srv->stats.protocol_errors, 1);
			mpq_conn_close(conn);
		}
		if (conn->dead || conn->out_len)
			return; /* gone, or waiting for the client to read its reply */
	}
}

static void conn_free(struct mpq_conn *conn)
{
	reset_message(conn);
	free(conn);
}

static void conn_ready(struct worker_source *src, uint32_t events)
{
	struct mpq_conn *conn = container_of(src, struct mpq_conn, src);
	int ret;

	conn->busy = true;
	if (conn->out_len) {
		/* only EPOLLOUT (or an error) is asked for while a reply is pending */
		ret = flush_output(conn);
		if (!ret && !conn->out_len)
			ret = set_events(conn);
		if (ret)
			mpq_conn_close(conn);
		else if (!conn->out_len)
			serve_input(conn); /* the requests that waited meanwhile */
	} else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		serve_input(conn);
	}
	conn->busy = false;
	if (conn->dead)
		conn_free(conn);
}

/* ---- life cycle ---- */

int mpq_conn_create(struct mpqemu_server *srv, int fd, struct mpq_conn **ret_conn)
{
	struct mpq_conn *conn = calloc(1, sizeof(*conn));
	int ret;

	if (!conn)
		return -ENOMEM;
	conn->srv = srv;
	conn->src.fd = fd;
	conn->src.ready = conn_ready;
	conn->resample.fd = -1;
	ret = mpq_session_open(conn);
	if (ret)
		goto err_free;
	ret = worker_add(srv->worker, &conn->src, EPOLLIN);
	if (ret)
		goto err_close_session;
	*ret_conn = conn;
	return 0;

err_close_session:
	mpq_session_close(conn);
err_free:
	free(conn);
	return ret;
}

void mpq_conn_close(struct mpq_conn *conn)
{
	struct mpqemu_server *srv = conn->srv;

	if (conn->dead)
		return;
	conn->dead = true;
	worker_remove(srv->worker, &conn->src);
	mpq_session_close(conn);
	if (srv->client == conn)
		srv->client = NULL;
	mpq_stat_add(srv, &srv->stats.disconnects, 1);
	close(conn->src.fd);
	conn->src.fd = -1;
	if (!conn->busy)
		conn_free(conn);
}
