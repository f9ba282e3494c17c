/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One listening socket for both transports of a device (<umdev/device_socket.h>).
 *
 * On the worker: a new connection has its credentials left to the server it goes to, and
 * waits as "pending" (edge-triggered, so that a partial header does not spin the worker)
 * until its first four bytes can be peeked; then it is handed to the device's vfio-user or
 * mpqemu server, made then if this is the protocol's first connection. The servers have no
 * socket of their own and run on this socket's worker, so the hand-over is a direct call.
 * At most DEVSOCK_MAX_PENDING connections wait at once; one more pushes out the oldest (a
 * silent connection cannot hold the device's door shut).
 *
 * Teardown without a round trip to the worker for an idle device: destroy marks the socket
 * dead under its lock (callbacks check it first and touch nothing else), unlinks the names,
 * destroys the servers that were made (each waits for the worker, as before) and drops the
 * device; the memory, the fd and the pending connections are released by a call posted to
 * the worker, which runs between rounds of events, when no callback of the socket can be
 * under way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <umdev/device_socket.h>
#include <umdev/log.h>

#include "transport/unix_listen.h"
#include "transport/mpqemu/mpq_private.h"
#include "transport/vfio-user/vfu_private.h"
#include "transport/worker.h"

/* Connections whose first bytes have not come yet, per device. */
#define DEVSOCK_MAX_PENDING 4
/* Bytes peeked to tell the protocols apart. */
#define DEVSOCK_SNIFF_LEN 4

struct devsock_pending {
	struct worker_source src; /* fd -1: the slot is free */
	struct umdev_device_socket *ds;
};

struct umdev_device_socket {
	struct worker *worker;
	struct worker_source listen;
	char *path, *alias;		/* alias: NULL without one */
	struct vfio_user_server_config cfg; /* for the servers made later (socket-less) */

	pthread_mutex_t lock;		/* guards the fields below */
	bool dead;			/* destroy has begun: callbacks do nothing */
	struct vfio_device *vdev;	/* referenced until destroy */
	struct vfio_user_server *vfu;	/* made at the first vfio-user connection */
	struct mpqemu_server *mpq;	/* made at the first mpqemu connection */

	/* worker only */
	struct devsock_pending pending[DEVSOCK_MAX_PENDING];
	unsigned int next_evict;
};

/* Little-endian hosts (the hosts of QEMU's mpqemu): see <umdev/device_socket.h>. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the protocol test reads mpqemu's host-order cmd as little-endian");

static bool is_mpqemu(const unsigned char b[DEVSOCK_SNIFF_LEN])
{
	return b[2] == 0 && b[3] == 0;
}

static void pending_drop(struct devsock_pending *p)
{
	worker_remove(p->ds->worker, &p->src);
	close(p->src.fd);
	p->src.fd = -1;
}

/* The server of the protocol, made if needed; NULL when dead or it cannot be made. */
static void hand_over(struct umdev_device_socket *ds, bool mpqemu, int fd)
{
	struct vfio_user_server *vfu = NULL;
	struct mpqemu_server *mpq = NULL;
	int ret = 0;

	pthread_mutex_lock(&ds->lock);
	if (ds->dead) {
		ret = -ENODEV;
	} else if (mpqemu) {
		if (!ds->mpq) {
			struct mpqemu_server_config c = { .workers = ds->cfg.workers,
							  .owner = ds->cfg.owner,
							  .group = ds->cfg.group };

			ret = mpqemu_server_create(ds->vdev, &c, &ds->mpq);
			if (!ret)
				ds->mpq->worker = ds->worker; /* socket-less: nothing on its own */
		}
		mpq = ds->mpq;
	} else {
		if (!ds->vfu) {
			ret = vfio_user_server_create(ds->vdev, &ds->cfg, &ds->vfu);
			if (!ret)
				ds->vfu->worker = ds->worker;
		}
		vfu = ds->vfu;
	}
	pthread_mutex_unlock(&ds->lock);
	if (ret) {
		if (ret != -ENODEV)
			umdev_log(UMDEV_LOG_WARNING, "%s: cannot serve a %s client: %d", ds->path,
				  mpqemu ? "mpqemu" : "vfio-user", ret);
		close(fd);
		return;
	}
	/* destroy waits on this worker before freeing a server: it is alive here */
	if (mpqemu)
		mpq_server_take_client(mpq, fd, true);
	else
		vfu_server_take_client(vfu, fd, true);
}

static void pending_ready(struct worker_source *src, uint32_t events)
{
	struct devsock_pending *p = container_of(src, struct devsock_pending, src);
	unsigned char b[DEVSOCK_SNIFF_LEN];
	ssize_t n = recv(src->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	int fd = src->fd;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < (ssize_t)sizeof(b)) {
		/* closed, failed, or a partial header: wait for more unless the peer is gone */
		if (n <= 0 || (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
			pending_drop(p);
		return;
	}
	worker_remove(p->ds->worker, src);
	src->fd = -1;
	hand_over(p->ds, is_mpqemu(b), fd);
}

static void listen_ready(struct worker_source *src, uint32_t events)
{
	struct umdev_device_socket *ds = container_of(src, struct umdev_device_socket, listen);
	struct devsock_pending *p = NULL;
	bool dead;
	int fd;

	(void)events;
	pthread_mutex_lock(&ds->lock);
	dead = ds->dead;
	pthread_mutex_unlock(&ds->lock);
	if (dead)
		return;
	fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			umdev_log(UMDEV_LOG_WARNING, "%s: accept failed: %d", ds->path, errno);
		return;
	}
	for (unsigned int i = 0; i < DEVSOCK_MAX_PENDING && !p; i++)
		if (ds->pending[i].src.fd < 0)
			p = &ds->pending[i];
	if (!p) {
		p = &ds->pending[ds->next_evict++ % DEVSOCK_MAX_PENDING];
		pending_drop(p);
	}
	p->src.fd = fd;
	if (worker_add(ds->worker, &p->src, EPOLLIN | EPOLLRDHUP | EPOLLET)) {
		close(fd);
		p->src.fd = -1;
	}
}

/* A symbolic link at @alias to the socket @path (relative when they share a directory). */
static int link_alias(const char *alias, const char *path)
{
	const char *slash = strrchr(path, '/'), *aslash = strrchr(alias, '/');
	const char *target = path;
	struct stat st;

	if (slash && aslash && slash - path == aslash - alias &&
	    !strncmp(path, alias, (size_t)(slash - path)))
		target = slash + 1;
	if (symlink(target, alias) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* a stale link or socket is replaced; anything else is left alone */
	if (lstat(alias, &st) < 0)
		return -errno;
	if (!S_ISLNK(st.st_mode) && !S_ISSOCK(st.st_mode))
		return -EEXIST;
	unlink(alias);
	return symlink(target, alias) < 0 ? -errno : 0;
}

static void devsock_free(struct umdev_device_socket *ds)
{
	pthread_mutex_destroy(&ds->lock);
	free(ds->path);
	free(ds->alias);
	free(ds);
}

int umdev_device_socket_create(struct vfio_device *vdev,
			       const struct umdev_device_socket_config *cfg,
			       struct umdev_device_socket **ret_socket)
{
	struct umdev_device_socket *ds;
	int ret;

	if (!vdev || !cfg || !cfg->workers || !cfg->socket_path || !*cfg->socket_path ||
	    (cfg->alias_path && !*cfg->alias_path))
		return -EINVAL;
	ds = calloc(1, sizeof(*ds));
	if (!ds)
		return -ENOMEM;
	pthread_mutex_init(&ds->lock, NULL);
	ds->path = strdup(cfg->socket_path);
	ds->alias = cfg->alias_path ? strdup(cfg->alias_path) : NULL;
	if (!ds->path || (cfg->alias_path && !ds->alias)) {
		ret = -ENOMEM;
		goto err_free;
	}
	ds->cfg = (struct vfio_user_server_config){ .workers = cfg->workers, .owner = cfg->owner,
						    .group = cfg->group };
	for (unsigned int i = 0; i < DEVSOCK_MAX_PENDING; i++) {
		ds->pending[i].src.fd = -1;
		ds->pending[i].src.ready = pending_ready;
		ds->pending[i].ds = ds;
	}
	ret = unix_listen_at(ds->path, ds->cfg.owner, ds->cfg.group);
	if (ret < 0)
		goto err_free;
	ds->listen.fd = ret;
	ds->listen.ready = listen_ready;
	if (ds->alias) {
		ret = link_alias(ds->alias, ds->path);
		if (ret)
			goto err_unlink;
	}
	ds->vdev = vfio_get_device(vdev);
	ds->worker = umdev_workers_pick(cfg->workers);
	ret = worker_add(ds->worker, &ds->listen, EPOLLIN);
	if (ret)
		goto err_put;
	*ret_socket = ds;
	return 0;

err_put:
	vfio_put_device(ds->vdev);
	if (ds->alias)
		unlink(ds->alias);
err_unlink:
	unlink(ds->path);
	close(ds->listen.fd);
err_free:
	devsock_free(ds);
	return ret;
}

/* On the worker, between rounds: no callback of the socket is under way or will be. */
static void devsock_release(void *arg)
{
	struct umdev_device_socket *ds = arg;

	for (unsigned int i = 0; i < DEVSOCK_MAX_PENDING; i++)
		if (ds->pending[i].src.fd >= 0)
			pending_drop(&ds->pending[i]);
	worker_remove(ds->worker, &ds->listen);
	close(ds->listen.fd);
	devsock_free(ds);
}

void umdev_device_socket_destroy(struct umdev_device_socket *ds)
{
	struct vfio_user_server *vfu;
	struct mpqemu_server *mpq;

	if (!ds)
		return;
	pthread_mutex_lock(&ds->lock);
	ds->dead = true;
	vfu = ds->vfu;
	mpq = ds->mpq;
	pthread_mutex_unlock(&ds->lock);
	if (ds->alias)
		unlink(ds->alias);
	unlink(ds->path);
	vfio_user_server_destroy(vfu);
	mpqemu_server_destroy(mpq);
	vfio_put_device(ds->vdev);
	/* without memory for the posted call, wait for the worker instead */
	if (worker_call(ds->worker, devsock_release, ds, false))
		worker_call(ds->worker, devsock_release, ds, true);
}

bool umdev_device_socket_has_client(struct umdev_device_socket *ds)
{
	bool has;

	pthread_mutex_lock(&ds->lock);
	has = (ds->vfu && vfio_user_server_has_client(ds->vfu)) ||
	      (ds->mpq && mpqemu_server_has_client(ds->mpq));
	pthread_mutex_unlock(&ds->lock);
	return has;
}

void umdev_device_socket_disconnect(struct umdev_device_socket *ds)
{
	struct vfio_user_server *vfu;
	struct mpqemu_server *mpq;

	/* the servers live until destroy, which the caller does not run concurrently */
	pthread_mutex_lock(&ds->lock);
	vfu = ds->vfu;
	mpq = ds->mpq;
	pthread_mutex_unlock(&ds->lock);
	if (vfu)
		vfio_user_server_disconnect(vfu);
	if (mpq)
		mpqemu_server_disconnect(mpq);
}
