/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vfio-user server of one device (<umdev/vfio_user_server.h>): its listening socket,
 * accepting clients with a check of their credentials, refusing a second client with EBUSY
 * (answered to its VERSION), and the teardown. Accepting and refusing run on the server's
 * worker; create and destroy run on the caller's thread and hand the socket work to the
 * worker.
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
#include "transport/vfio-user/vfu_private.h"

void vfu_stat_add(struct vfio_user_server *srv, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&srv->stats_lock);
	*counter += n;
	pthread_mutex_unlock(&srv->stats_lock);
}

void vfio_user_server_get_stats(struct vfio_user_server *srv, struct vfio_user_server_stats *st)
{
	pthread_mutex_lock(&srv->stats_lock);
	*st = srv->stats;
	pthread_mutex_unlock(&srv->stats_lock);
}

/* The peer may use the device: root, the socket's owner, or the socket's group. */
static int check_peer(const struct vfio_user_server *srv, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (cred.uid == 0 || cred.uid == srv->owner || (srv->has_group && cred.gid == srv->group))
		return 0;
	umdev_log(UMDEV_LOG_WARNING, "vfio-user %s: refusing pid %d (uid %u, gid %u)", srv->path,
		  (int)cred.pid, (unsigned int)cred.uid, (unsigned int)cred.gid);
	return -EPERM;
}

/* Takes over a connected socket as the client, or as a refused connection (on the worker). */
void vfu_server_take_client(struct vfio_user_server *srv, int fd, bool check_credentials)
{
	struct vfu_conn *conn;
	int err = 0;

	if (srv->closing)
		err = ENODEV;
	else if (check_credentials && check_peer(srv, fd))
		err = EPERM;
	else if (srv->client)
		err = EBUSY;
	if (err) {
		unsigned int slot = 0;

		vfu_stat_add(srv, &srv->stats.refused, 1);
		while (slot < VFU_MAX_REFUSED && srv->refused[slot])
			slot++;
		/* beyond VFU_MAX_REFUSED pending refusals, close without a word */
		if (slot == VFU_MAX_REFUSED || vfu_conn_create(srv, fd, true, err, &conn)) {
			close(fd);
			return;
		}
		srv->refused[slot] = conn;
		return;
	}
	if (vfu_conn_create(srv, fd, false, 0, &conn)) {
		close(fd);
		return;
	}
	srv->client = conn;
	vfu_stat_add(srv, &srv->stats.connections, 1);
}

static void server_accept_ready(struct worker_source *src, uint32_t events)
{
	struct vfio_user_server *srv = container_of(src, struct vfio_user_server, listen);
	int fd;

	(void)events;
	fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			umdev_log(UMDEV_LOG_WARNING, "vfio-user %s: accept failed: %d", srv->path,
				  errno);
		return;
	}
	vfu_server_take_client(srv, fd, true);
}

struct add_client {
	struct vfio_user_server *srv;
	int fd;
};

static void server_add_client_on_worker(void *arg)
{
	struct add_client *a = arg;

	vfu_server_take_client(a->srv, a->fd, false);
}

int vfio_user_server_add_client(struct vfio_user_server *srv, int fd)
{
	struct add_client a = { srv, fd };
	int flags = fcntl(fd, F_GETFL);

	/* the caller made and handed over this socket: no credentials to check */
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		close(fd);
		return -EBADF;
	}
	return worker_call(srv->worker, server_add_client_on_worker, &a, true);
}

static int server_listen(struct vfio_user_server *srv, const struct vfio_user_server_config *cfg)
{
	int fd = unix_listen_at(cfg->socket_path, cfg->owner, cfg->group);

	if (fd < 0)
		return fd;
	srv->listen.fd = fd;
	srv->listen.ready = server_accept_ready;
	return 0;
}

int vfio_user_server_create(struct vfio_device *vdev, const struct vfio_user_server_config *cfg,
			    struct vfio_user_server **ret_server)
{
	struct vfio_user_server *srv;
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
	srv->vdev = vfio_get_device(vdev);
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

/* On the worker: drop the client and the refused connections, stop listening. */
static void server_teardown(void *arg)
{
	struct vfio_user_server *srv = arg;

	srv->closing = true;
	if (srv->client)
		vfu_conn_close(srv->client);
	for (unsigned int i = 0; i < VFU_MAX_REFUSED; i++)
		if (srv->refused[i])
			vfu_conn_close(srv->refused[i]);
	if (srv->listening)
		worker_remove(srv->worker, &srv->listen);
}

void vfio_user_server_destroy(struct vfio_user_server *srv)
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
	struct vfio_user_server *srv = arg;

	if (srv->client)
		vfu_conn_close(srv->client);
}

void vfio_user_server_disconnect(struct vfio_user_server *srv)
{
	worker_call(srv->worker, server_drop_client, srv, true);
}

bool vfio_user_server_has_client(struct vfio_user_server *srv)
{
	bool has;

	/* `client` changes on the worker only; a waited call reads it there */
	pthread_mutex_lock(&srv->stats_lock);
	has = srv->stats.connections > srv->stats.disconnects;
	pthread_mutex_unlock(&srv->stats_lock);
	return has;
}
