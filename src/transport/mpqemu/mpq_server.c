/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mpqemu server of one device (<umdev/mpqemu_server.h>): its listening socket,
 * accepting clients with a check of their credentials, and the teardown. The protocol has no
 * way to say no, so a connection that may not have the device (not allowed, a client already
 * there, the device open on another transport or unusable) is closed at once and counted as
 * refused. Accepting runs on the server's worker; create and destroy run on the caller's
 * thread and hand the socket work to the worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <umdev/log.h>

#include "transport/unix_listen.h"
#include "transport/mpqemu/mpq_private.h"

void mpq_stat_add(struct mpqemu_server *srv, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&srv->stats_lock);
	*counter += n;
	pthread_mutex_unlock(&srv->stats_lock);
}

void mpqemu_server_get_stats(struct mpqemu_server *srv, struct mpqemu_server_stats *st)
{
	pthread_mutex_lock(&srv->stats_lock);
	*st = srv->stats;
	pthread_mutex_unlock(&srv->stats_lock);
}

/* The peer may use the device: root, the socket's owner, or the socket's group. */
static int check_peer(const struct mpqemu_server *srv, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (cred.uid == 0 || cred.uid == srv->owner || (srv->has_group && cred.gid == srv->group))
		return 0;
	umdev_log(UMDEV_LOG_WARNING, "mpqemu %s: refusing pid %d (uid %u, gid %u)", srv->path,
		  (int)cred.pid, (unsigned int)cred.uid, (unsigned int)cred.gid);
	return -EPERM;
}

/* Takes over a connected socket as the client, or closes it (on the worker). 0 or -errno. */
int mpq_server_take_client(struct mpqemu_server *srv, int fd, bool check_credentials)
{
	struct mpq_conn *conn;
	int ret = 0;

	if (srv->closing)
		ret = -ENODEV;
	else if (check_credentials)
		ret = check_peer(srv, fd) ? -EPERM : 0;
	if (!ret && srv->client)
		ret = -EBUSY;
	if (!ret)
		ret = mpq_conn_create(srv, fd, &conn);
	if (ret) {
		umdev_log(UMDEV_LOG_INFO, "mpqemu %s: connection refused: %d", srv->path, ret);
		mpq_stat_add(srv, &srv->stats.refused, 1);
		close(fd);
		return ret;
	}
	srv->client = conn;
	mpq_stat_add(srv, &srv->stats.connections, 1);
	return 0;
}

static void server_accept_ready(struct worker_source *src, uint32_t events)
{
	struct mpqemu_server *srv = container_of(src, struct mpqemu_server, listen);
	int fd;

	(void)events;
	fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			umdev_log(UMDEV_LOG_WARNING, "mpqemu %s: accept failed: %d", srv->path,
				  errno);
		return;
	}
	mpq_server_take_client(srv, fd, true);
}

struct add_client {
	struct mpqemu_server *srv;
	int fd;
	int ret;
};

static void server_add_client_on_worker(void *arg)
{
	struct add_client *a = arg;

	a->ret = mpq_server_take_client(a->srv, a->fd, false);
}

int mpqemu_server_add_client(struct mpqemu_server *srv, int fd)
{
	struct add_client a = { srv, fd, 0 };
	int flags = fcntl(fd, F_GETFL), ret;

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		if (flags >= 0)
			close(fd);
		mpq_stat_add(srv, &srv->stats.refused, 1);
		return -EBADF;
	}
	ret = worker_call(srv->worker, server_add_client_on_worker, &a, true);
	if (ret) {
		close(fd);
		mpq_stat_add(srv, &srv->stats.refused, 1);
		return ret;
	}
	return a.ret;
}

static int server_listen(struct mpqemu_server *srv, const struct mpqemu_server_config *cfg)
{
	int fd = unix_listen_at(cfg->socket_path, cfg->owner, cfg->group);

	if (fd < 0)
		return fd;
	srv->listen.fd = fd;
	srv->listen.ready = server_accept_ready;
	return 0;
}

int mpqemu_server_create(struct vfio_device *vdev, const struct mpqemu_server_config *cfg,
			 struct mpqemu_server **ret_server)
{
	struct mpqemu_server *srv;
	int ret;

	if (!vdev || !cfg || !cfg->workers || (cfg->socket_path && !*cfg->socket_path))
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	pthread_mutex_init(&srv->stats_lock, NULL);
	/* the path names the server in logs, for socket-less servers too */
	srv->path = strdup(cfg->socket_path ? cfg->socket_path : dev_name(vdev->dev));
	if (!srv->path) {
		ret = -ENOMEM;
		goto err_free;
	}
	srv->listening = cfg->socket_path != NULL;
	srv->owner = cfg->owner != (uid_t)-1 ? cfg->owner : geteuid();
	srv->group = cfg->group;
	srv->has_group = cfg->group != (gid_t)-1;
	srv->listen.fd = -1;
	if (srv->listening) {
		ret = server_listen(srv, cfg);
		if (ret)
			goto err_free;
	}
	srv->vdev = vfio_get_device(vdev); /* dropped by mpqemu_server_destroy() */
	srv->worker = umdev_workers_pick(cfg->workers);
	if (srv->listening) {
		ret = worker_add(srv->worker, &srv->listen, EPOLLIN);
		if (ret)
			goto err_put;
	}
	*ret_server = srv;
	return 0;

err_put:
	vfio_put_device(srv->vdev);
	unlink(srv->path);
	close(srv->listen.fd);
err_free:
	free(srv->path);
	pthread_mutex_destroy(&srv->stats_lock);
	free(srv);
	return ret;
}

/* On the worker: drop the client, stop listening. */
static void server_teardown(void *arg)
{
	struct mpqemu_server *srv = arg;

	srv->closing = true;
	if (srv->client)
		mpq_conn_close(srv->client);
	if (srv->listening)
		worker_remove(srv->worker, &srv->listen);
}

void mpqemu_server_destroy(struct mpqemu_server *srv)
{
	if (!srv)
		return;
	worker_call(srv->worker, server_teardown, srv, true);
	if (srv->listening) {
		close(srv->listen.fd);
		unlink(srv->path);
	}
	vfio_put_device(srv->vdev);
	free(srv->path);
	pthread_mutex_destroy(&srv->stats_lock);
	free(srv);
}

static void server_drop_client(void *arg)
{
	struct mpqemu_server *srv = arg;

	if (srv->client)
		mpq_conn_close(srv->client);
}

void mpqemu_server_disconnect(struct mpqemu_server *srv)
{
	worker_call(srv->worker, server_drop_client, srv, true);
}

bool mpqemu_server_has_client(struct mpqemu_server *srv)
{
	bool has;

	/* `client` changes on the worker only; the counters say the same under a lock */
	pthread_mutex_lock(&srv->stats_lock);
	has = srv->stats.connections > srv->stats.disconnects;
	pthread_mutex_unlock(&srv->stats_lock);
	return has;
}
