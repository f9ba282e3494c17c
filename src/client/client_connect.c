/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connecting: the socket, the VERSION exchange that opens every connection, the server's
 * capabilities it yields (checked against the protocol's limits: QEMU's client enforces the
 * same ones), and the client's life cycle and settings.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/client_private.h"
#include "util/macros.h"

/* The page sizes the client proposes (and the unit of the server's pgsizes). */
#define CLIENT_PGSIZE 4096u

/* The protocol's defaults for capabilities the server does not give (specification,
 * VFIO_USER_VERSION). */
static const struct client_caps default_caps = {
	.max_msg_fds = 1,
	.max_data_xfer_size = 1u << 20,
	.pgsizes = CLIENT_PGSIZE,
	.max_dma_maps = CLIENT_MAX_DMA_MAPS,
	.write_multiple = false,
};

/* Takes the values the server gave, within the protocol's limits: -EPROTO otherwise. */
static int apply_caps(const struct client_caps_json *j, struct client_caps *caps)
{
	*caps = default_caps;
	if (j->has_max_msg_fds) {
		if (j->max_msg_fds > UMDEV_CLIENT_MAX_FDS)
			return -EPROTO;
		caps->max_msg_fds = (uint32_t)j->max_msg_fds;
	}
	if (j->has_max_data_xfer_size) {
		if (j->max_data_xfer_size == 0 || j->max_data_xfer_size > CLIENT_SERVER_MAX_XFER)
			return -EPROTO;
		caps->max_data_xfer_size = (uint32_t)j->max_data_xfer_size;
	}
	if (j->has_pgsizes) {
		if (j->pgsizes == 0 || !IS_ALIGNED(j->pgsizes, CLIENT_PGSIZE))
			return -EPROTO;
		caps->pgsizes = j->pgsizes;
	}
	if (j->has_max_dma_maps) {
		if (j->max_dma_maps > CLIENT_MAX_DMA_MAPS) /* may only be lowered */
			return -EPROTO;
		caps->max_dma_maps = (uint32_t)j->max_dma_maps;
	}
	if (j->has_write_multiple)
		caps->write_multiple = j->write_multiple;
	return 0;
}

/* The reply's version and JSON (optional; NUL-terminated, with nothing after the NUL). */
static int check_version_reply(const struct client_msg *reply, struct client_caps *caps)
{
	struct client_caps_json j;
	struct vfu_version ver;
	const char *json;
	size_t n;

	memcpy(&ver, reply->payload, sizeof(ver));
	if (ver.major != VFU_VERSION_MAJOR || ver.minor > VFU_VERSION_MINOR)
		return -EPROTONOSUPPORT;
	if (reply->len == sizeof(ver)) {
		*caps = default_caps;
		return 0;
	}
	json = (const char *)reply->payload + sizeof(ver);
	n = reply->len - sizeof(ver);
	if (json[n - 1] != '\0' || memchr(json, '\0', n - 1))
		return -EPROTO;
	if (client_parse_caps(json, n - 1, &j))
		return -EPROTO;
	return apply_caps(&j, caps);
}

static int negotiate_version(struct umdev_client *c)
{
	struct vfu_version ver = { .major = VFU_VERSION_MAJOR, .minor = VFU_VERSION_MINOR };
	struct client_msg reply;
	struct client_caps caps;
	struct iovec iov[2];
	char json[256];
	int n, r;

	n = snprintf(json, sizeof(json),
		     "{\"capabilities\":{\"max_msg_fds\":%u,\"max_data_xfer_size\":%u,"
		     "\"pgsizes\":%u,\"max_dma_maps\":%u,\"write_multiple\":true}}",
		     UMDEV_CLIENT_MAX_FDS, UMDEV_CLIENT_MAX_DATA_XFER, CLIENT_PGSIZE,
		     CLIENT_MAX_DMA_MAPS);
	if (n < 0 || (size_t)n >= sizeof(json))
		return -EINVAL;
	iov[0] = (struct iovec){ .iov_base = &ver, .iov_len = sizeof(ver) };
	iov[1] = (struct iovec){ .iov_base = json, .iov_len = (size_t)n + 1 };
	r = client_call(c,
			&(struct client_request){
				.command = VFU_CMD_VERSION,
				.iov = iov,
				.niov = ARRAY_SIZE(iov),
				.reply_min = sizeof(ver),
				.reply_max = sizeof(ver) + CLIENT_VERSION_REPLY_MAX,
			},
			&reply);
	if (r)
		return r;
	r = check_version_reply(&reply, &caps);
	client_msg_release(&reply); /* fds with it (a twin socket the client never asked for) */
	if (r)
		return r;
	c->caps = caps;
	return 0;
}

int umdev_client_connect_fd(int fd, struct umdev_client **ret_client)
{
	struct umdev_client *c;
	pthread_mutexattr_t attr;
	int type = 0, domain = 0, r;
	socklen_t len;

	if (fd < 0)
		return -EBADF;
	if (!ret_client) {
		r = -EINVAL;
		goto close_fd;
	}
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
		r = -errno;
		goto close_fd;
	}
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
		r = -errno;
		goto close_fd;
	}
	if (domain != AF_UNIX || type != SOCK_STREAM) {
		r = -EPROTOTYPE;
		goto close_fd;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		r = -ENOMEM;
		goto close_fd;
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	r = -pthread_mutex_init(&c->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (r)
		goto free_client;
	c->fd = fd;
	c->timeout_ms = UMDEV_CLIENT_DEFAULT_TIMEOUT_MS;
	c->caps = default_caps;
	r = negotiate_version(c);
	if (r) {
		umdev_client_close(c); /* closes fd */
		return r;
	}
	*ret_client = c;
	return 0;

free_client:
	free(c);
close_fd:
	close(fd);
	return r;
}

/* A connect(2) interrupted by a signal goes on in the background: wait for its outcome. */
static int finish_connect(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	while (poll(&pfd, 1, -1) < 0)
		if (errno != EINTR)
			return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

int umdev_client_connect(const char *socket_path, struct umdev_client **ret_client)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len;
	int fd, r;

	if (!socket_path || !ret_client)
		return -EINVAL;
	len = strlen(socket_path);
	if (!len)
		return -EINVAL;
	if (len >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, socket_path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = errno == EINTR ? finish_connect(fd) : -errno;
		if (r) {
			close(fd);
			return r;
		}
	}
	return umdev_client_connect_fd(fd, ret_client);
}

void umdev_client_close(struct umdev_client *c)
{
	if (!c)
		return;
	close(c->fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int umdev_client_fd(const struct umdev_client *c)
{
	return c ? c->fd : -EINVAL;
}

void umdev_client_set_timeout(struct umdev_client *c, int timeout_ms)
{
	if (!c || client_lock(c))
		return;
	c->timeout_ms = timeout_ms;
	client_unlock(c);
}

/* The capabilities are fixed once connected: no lock needed. */
uint32_t umdev_client_max_msg_fds(const struct umdev_client *c)
{
	return c->caps.max_msg_fds;
}

uint32_t umdev_client_max_data_xfer_size(const struct umdev_client *c)
{
	return c->caps.max_data_xfer_size;
}

uint64_t umdev_client_pgsizes(const struct umdev_client *c)
{
	return c->caps.pgsizes;
}

uint32_t umdev_client_max_dma_maps(const struct umdev_client *c)
{
	return c->caps.max_dma_maps;
}

bool umdev_client_write_multiple(const struct umdev_client *c)
{
	return c->caps.write_multiple;
}
