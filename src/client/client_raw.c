/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Raw messages, for tests that feed the server hostile input: bytes sent exactly as given,
 * and whole messages received as they come (framing is still checked: a header whose size is
 * below 16 or beyond what the client ever takes shuts the connection down).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "client/client_private.h"

int umdev_client_send_raw(struct umdev_client *c, const void *msg, size_t len, const int *fds,
			  size_t nfds)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	int r;

	if (!c || !msg || !len || len > INT_MAX || nfds > UMDEV_CLIENT_MAX_FDS || (nfds && !fds))
		return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	r = c->broken ? -EPIPE : client_send(c, &iov, 1, fds, nfds, client_deadline(c->timeout_ms));
	client_unlock(c);
	return r ? r : (int)len;
}

int umdev_client_recv_raw(struct umdev_client *c, void *buf, size_t bufsz, int *fds,
			  size_t *nfds, int timeout_ms)
{
	struct client_msg m = { .nfds = 0 };
	size_t cap = nfds ? *nfds : 0, size;
	int64_t rest;
	int r;

	if (nfds)
		*nfds = 0;
	if (!c || (bufsz && !buf) || (fds && !nfds))
		return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	if (c->broken) {
		r = -EPIPE;
		goto unlock;
	}
	r = client_recv_header(c, &m, client_deadline(timeout_ms), &rest);
	if (!r)
		r = client_recv_payload(c, &m, client_max_incoming(c), rest);
	if (r)
		goto release;
	size = sizeof(m.hdr) + m.len;
	if (size > bufsz) {
		r = -EMSGSIZE;
		goto release;
	}
	if (fds && m.nfds > cap) {
		r = -ENOBUFS;
		goto release;
	}
	memcpy(buf, &m.hdr, sizeof(m.hdr));
	if (m.len)
		memcpy((char *)buf + sizeof(m.hdr), m.payload, m.len);
	if (fds) {
		for (size_t i = 0; i < m.nfds; i++) {
			fds[i] = m.fds[i];
			m.fds[i] = -1;
		}
		*nfds = m.nfds;
	}
	r = (int)size;
release:
	client_msg_release(&m);
unlock:
	client_unlock(c);
	return r;
}
