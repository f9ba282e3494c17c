/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bytes and fds on the client's socket. Every transfer is non-blocking (MSG_DONTWAIT) and
 * waits with poll() until a deadline, so a silent or stuck server costs a call at most its
 * timeout. EINTR is retried and partial transfers continue. fds travel as SCM_RIGHTS: sent
 * with the first byte of a message, and collected (MSG_CMSG_CLOEXEC) from every read of one.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/client_private.h"
#include "util/macros.h"

/* Room for the control data of the most fds a message may carry. */
union client_cmsg {
	char buf[CMSG_SPACE(sizeof(int) * UMDEV_CLIENT_MAX_FDS)];
	struct cmsghdr align;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t client_deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return CLIENT_FOREVER;
	return now_ms() + timeout_ms;
}

/* Waits until the socket is ready for @events (or has an error or hang-up for the next call
 * to report): 0, -ETIMEDOUT once @deadline has passed, or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int timeout = -1, n;

		if (deadline != CLIENT_FOREVER) {
			int64_t left = deadline - now_ms();

			timeout = left <= 0 ? 0 : (int)MIN(left, (int64_t)INT_MAX);
		}
		n = poll(&pfd, 1, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (timeout == 0 || now_ms() >= deadline)
				return -ETIMEDOUT;
			continue;
		}
		if (pfd.revents & POLLNVAL)
			return -EBADF;
		return 0;
	}
}

int client_wait_readable(struct umdev_client *c, int64_t deadline)
{
	return wait_fd(c->fd, POLLIN, deadline);
}

void client_close_fds(int *fds, size_t nfds)
{
	for (size_t i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/*
 * Sends the pieces @iov as one message, @fds attached to its first byte. A failure after part
 * of the message went out (or a vanished peer) shuts the connection down: the server would
 * read the next message from the middle of this one.
 */
int client_send(struct umdev_client *c, const struct iovec *iov, size_t niov, const int *fds,
		size_t nfds, int64_t deadline)
{
	struct iovec v[CLIENT_MAX_IOV + 1];
	union client_cmsg ctl;
	size_t nv = 0, first = 0, total = 0, sent = 0;
	int r = 0;

	if (niov > ARRAY_SIZE(v) || nfds > UMDEV_CLIENT_MAX_FDS)
		return -EINVAL;
	for (size_t i = 0; i < niov; i++) {
		if (!iov[i].iov_len)
			continue;
		v[nv++] = iov[i];
		total += iov[i].iov_len;
	}
	while (sent < total) {
		struct msghdr mh = { .msg_iov = v + first, .msg_iovlen = nv - first };
		ssize_t n;

		if (sent == 0 && nfds) {
			struct cmsghdr *cm;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
		}
		n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				r = wait_fd(c->fd, POLLOUT, deadline);
				if (r)
					goto fail;
				continue;
			}
			r = -errno;
			goto fail;
		}
		sent += (size_t)n;
		while (n > 0 && first < nv) {
			size_t step = MIN((size_t)n, v[first].iov_len);

			v[first].iov_base = (char *)v[first].iov_base + step;
			v[first].iov_len -= step;
			n -= (ssize_t)step;
			if (!v[first].iov_len)
				first++;
		}
	}
	return 0;

fail:
	if (sent > 0 || r == -EPIPE || r == -ECONNRESET)
		client_break(c);
	return r;
}

/* Keeps the fds of @mh's SCM_RIGHTS in @m; closes those beyond its room. -EPROTO when the
 * message carried more fds than the client takes (some may have been lost: MSG_CTRUNC). */
static int collect_fds(struct msghdr *mh, struct client_msg *m)
{
	bool overflow = mh->msg_flags & MSG_CTRUNC;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (m->nfds < ARRAY_SIZE(m->fds)) {
				m->fds[m->nfds++] = fd;
			} else {
				close(fd);
				overflow = true;
			}
		}
	}
	return overflow ? -EPROTO : 0;
}

/*
 * Reads exactly @len bytes into @buf, adding the fds that come with them to @m; *@got counts
 * the bytes read (also on failure). Returns 0, -ETIMEDOUT, -ECONNRESET (the peer closed),
 * -EPROTO (too many fds) or -errno.
 */
int client_recv(struct umdev_client *c, void *buf, size_t len, struct client_msg *m,
		int64_t deadline, size_t *got)
{
	while (*got < len) {
		union client_cmsg ctl;
		struct iovec v = { .iov_base = (char *)buf + *got, .iov_len = len - *got };
		struct msghdr mh = {
			.msg_iov = &v,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n;
		int r;

		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				r = wait_fd(c->fd, POLLIN, deadline);
				if (r)
					return r;
				continue;
			}
			return errno == EPIPE ? -ECONNRESET : -errno;
		}
		r = collect_fds(&mh, m);
		*got += (size_t)n;
		if (r)
			return r;
		if (n == 0)
			return -ECONNRESET;
	}
	return 0;
}
