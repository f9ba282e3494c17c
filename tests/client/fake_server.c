/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scripted fake vfio-user server of fake_server.h: socketpair, script thread, framing of
 * its own (written apart from the client's, so that the two check each other), records.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_server.h"

static int wait_in(int fd, int timeout_ms);

static void *script_thread(void *opaque)
{
	struct fake_server *fs = opaque;

	if (fs->listen_fd >= 0) {
		if (!wait_in(fs->listen_fd, FAKE_TIMEOUT_MS))
			fs->fd = accept4(fs->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		close(fs->listen_fd);
		fs->listen_fd = -1;
		if (fs->fd < 0) {
			fs->failed++;
			return NULL;
		}
	}
	if (fs->handshake && fake_version(fs, fs->caps_json ? fs->caps_json : FAKE_DEFAULT_CAPS))
		return NULL;
	if (fs->script)
		fs->script(fs);
	return NULL;
}

static int start(struct fake_server *fs, fake_script_fn script, void *arg, bool handshake,
		 const char *caps_json, const struct fake_canned *canned, size_t ncanned,
		 int *client_fd)
{
	int sv[2], r;

	memset(fs, 0, sizeof(*fs));
	fs->fd = -1;
	fs->listen_fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fs->fd = sv[0];
	fs->script = script;
	fs->arg = arg;
	fs->handshake = handshake;
	fs->caps_json = caps_json;
	fs->canned = canned;
	fs->ncanned = ncanned;
	r = pthread_create(&fs->thread, NULL, script_thread, fs);
	if (r) {
		close(sv[0]);
		close(sv[1]);
		fs->fd = -1;
		return -r;
	}
	fs->started = true;
	*client_fd = sv[1];
	return 0;
}

int fake_start(struct fake_server *fs, fake_script_fn script, void *arg, int *client_fd)
{
	return start(fs, script, arg, false, NULL, NULL, 0, client_fd);
}

int fake_connect(struct fake_server *fs, const char *caps_json, fake_script_fn script, void *arg,
		 struct umdev_client **ret_client)
{
	int fd = -1, r;

	r = start(fs, script, arg, true, caps_json, NULL, 0, &fd);
	if (r)
		return r;
	return umdev_client_connect_fd(fd, ret_client);
}

int fake_connect_canned(struct fake_server *fs, const char *caps_json,
			const struct fake_canned *replies, size_t n,
			struct umdev_client **ret_client)
{
	int fd = -1, r;

	r = start(fs, fake_canned, NULL, true, caps_json, replies, n, &fd);
	if (r)
		return r;
	return umdev_client_connect_fd(fd, ret_client);
}

int fake_listen(struct fake_server *fs, const char *path, const char *caps_json,
		fake_script_fn script, void *arg)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int r;

	memset(fs, 0, sizeof(*fs));
	fs->fd = -1;
	fs->listen_fd = -1;
	fs->script = script;
	fs->arg = arg;
	fs->handshake = true;
	fs->caps_json = caps_json;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fs->listen_fd < 0)
		return -errno;
	if (bind(fs->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fs->listen_fd, 1) < 0) {
		r = -errno;
		close(fs->listen_fd);
		fs->listen_fd = -1;
		return r;
	}
	r = pthread_create(&fs->thread, NULL, script_thread, fs);
	if (r) {
		close(fs->listen_fd);
		fs->listen_fd = -1;
		return -r;
	}
	fs->started = true;
	return 0;
}

void fake_canned(struct fake_server *fs)
{
	for (size_t i = 0; i < fs->ncanned; i++) {
		const struct fake_canned *c = &fs->canned[i];
		struct fake_msg *m = fake_recv(fs);
		uint32_t flags;

		if (!m)
			return;
		if (c->silent)
			continue;
		flags = c->flags ? c->flags
				 : VFU_FLAG_TYPE_REPLY | (c->error ? VFU_FLAG_ERROR : 0);
		if (fake_send_msg(fs, (uint16_t)(m->hdr.msg_id + c->id_delta),
				  c->command ? c->command : m->hdr.command, flags, c->error,
				  c->payload, c->len, c->fds, c->nfds))
			return;
	}
}

int fake_finish(struct fake_server *fs)
{
	if (fs->started) {
		pthread_join(fs->thread, NULL);
		fs->started = false;
	}
	return fs->failed;
}

void fake_cleanup(struct fake_server *fs)
{
	fake_finish(fs);
	if (fs->fd >= 0)
		close(fs->fd);
	fs->fd = -1;
	if (fs->listen_fd >= 0)
		close(fs->listen_fd);
	fs->listen_fd = -1;
	for (size_t i = 0; i < fs->nmsgs; i++) {
		struct fake_msg *m = &fs->msgs[i];

		for (size_t k = 0; k < m->nfds; k++)
			close(m->fds[k]);
		free(m->payload);
	}
	fs->nmsgs = 0;
}

/* 0 once @fd is readable, -ETIMEDOUT after @timeout_ms. */
static int wait_in(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

/* Reads exactly @len bytes, collecting fds into @m; 0, -ECONNRESET at EOF, or -errno. */
static int read_full(struct fake_server *fs, void *buf, size_t len, struct fake_msg *m)
{
	size_t got = 0;

	while (got < len) {
		char ctl[CMSG_SPACE(sizeof(int) * FAKE_MAX_FDS)];
		struct iovec iov = { .iov_base = (char *)buf + got, .iov_len = len - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		ssize_t n;
		int r;

		r = wait_in(fs->fd, FAKE_TIMEOUT_MS);
		if (r)
			return r;
		n = recvmsg(fs->fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (m->nfds < FAKE_MAX_FDS)
					m->fds[m->nfds++] = fd;
				else
					close(fd);
			}
		}
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

static struct fake_msg *recv_msg(struct fake_server *fs, bool eof_ok)
{
	struct fake_msg *m;
	int r;

	if (fs->nmsgs == FAKE_MAX_MSGS) {
		fs->failed++;
		return NULL;
	}
	m = &fs->msgs[fs->nmsgs];
	memset(m, 0, sizeof(*m));
	r = read_full(fs, &m->hdr, sizeof(m->hdr), m);
	if (!r && m->hdr.msg_size < sizeof(m->hdr))
		r = -EPROTO;
	if (!r && m->hdr.msg_size > sizeof(m->hdr)) {
		m->len = m->hdr.msg_size - sizeof(m->hdr);
		m->payload = malloc(m->len);
		r = m->payload ? read_full(fs, m->payload, m->len, m) : -ENOMEM;
	}
	fs->nmsgs++; /* recorded even when broken, so that its fds get closed */
	if (r) {
		if (!(eof_ok && r == -ECONNRESET && m->hdr.msg_size == 0))
			fs->failed++;
		return NULL;
	}
	return m;
}

struct fake_msg *fake_recv(struct fake_server *fs)
{
	return recv_msg(fs, false);
}

struct fake_msg *fake_recv_or_eof(struct fake_server *fs)
{
	return recv_msg(fs, true);
}

int fake_send(struct fake_server *fs, const void *buf, size_t len, const int *fds, size_t nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * FAKE_MAX_FDS)];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	size_t sent = 0;

	if (nfds) {
		struct cmsghdr *cm;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	while (sent < len) {
		ssize_t n = sendmsg(fs->fd, &mh, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fs->failed++;
			return -errno;
		}
		sent += (size_t)n;
		iov.iov_base = (char *)buf + sent;
		iov.iov_len = len - sent;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}

int fake_send_msg(struct fake_server *fs, uint16_t id, uint16_t command, uint32_t flags,
		  uint32_t error, const void *payload, size_t len, const int *fds, size_t nfds)
{
	struct vfu_hdr hdr = {
		.msg_id = id,
		.command = command,
		.msg_size = (uint32_t)(sizeof(hdr) + len),
		.flags = flags,
		.error = error,
	};
	uint8_t *buf = malloc(sizeof(hdr) + len);
	int r;

	if (!buf) {
		fs->failed++;
		return -ENOMEM;
	}
	memcpy(buf, &hdr, sizeof(hdr));
	if (len)
		memcpy(buf + sizeof(hdr), payload, len);
	r = fake_send(fs, buf, sizeof(hdr) + len, fds, nfds);
	free(buf);
	return r;
}

int fake_reply(struct fake_server *fs, const struct fake_msg *req, const void *payload,
	       size_t len, const int *fds, size_t nfds)
{
	return fake_send_msg(fs, req->hdr.msg_id, req->hdr.command, VFU_FLAG_TYPE_REPLY, 0,
			     payload, len, fds, nfds);
}

int fake_reply_error(struct fake_server *fs, const struct fake_msg *req, uint32_t error)
{
	return fake_send_msg(fs, req->hdr.msg_id, req->hdr.command,
			     VFU_FLAG_TYPE_REPLY | VFU_FLAG_ERROR, error, NULL, 0, NULL, 0);
}

int fake_version(struct fake_server *fs, const char *json)
{
	struct fake_msg *m = fake_recv(fs);
	struct vfu_version ver = { .major = 0, .minor = 0 };
	size_t n = strlen(json) + 1;
	uint8_t *payload;
	int r;

	if (!m)
		return -EIO;
	payload = malloc(sizeof(ver) + n);
	if (!payload) {
		fs->failed++;
		return -ENOMEM;
	}
	memcpy(payload, &ver, sizeof(ver));
	memcpy(payload + sizeof(ver), json, n);
	r = fake_reply(fs, m, payload, sizeof(ver) + n, NULL, 0);
	free(payload);
	return r;
}

bool fake_wait_eof(struct fake_server *fs, int timeout_ms)
{
	char c;

	ssize_t n;

	if (wait_in(fs->fd, timeout_ms))
		return false;
	/* a peer that closes with unread data in its socket resets it */
	n = recv(fs->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

uint32_t fake_u32(const struct fake_msg *m, size_t off)
{
	uint32_t v = 0;

	if (off + sizeof(v) <= m->len)
		memcpy(&v, m->payload + off, sizeof(v));
	return v;
}

uint64_t fake_u64(const struct fake_msg *m, size_t off)
{
	uint64_t v = 0;

	if (off + sizeof(v) <= m->len)
		memcpy(&v, m->payload + off, sizeof(v));
	return v;
}

bool fake_same_file(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) || fstat(b, &sb))
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
