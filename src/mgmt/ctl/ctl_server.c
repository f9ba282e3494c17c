/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control server's life (ctl_server.h): the listening socket (created with its final
 * mode from the start, then given its group), the credential check of every peer
 * (SO_PEERCRED, and SO_PEERGROUPS for supplementary groups), the accept thread that hands
 * each admitted connection to a thread of its own, and the stop that joins them all.
 *
 * A refused peer (not admitted, or one connection too many) gets one error line and is
 * closed. Stopping is signalled on an eventfd that every thread polls.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mgmt/ctl/ctl_private.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* Supplementary groups looked at for a peer (more are not checked). */
#define CTL_MAX_PEER_GROUPS 1024

/* True when the peer on @fd is root, the daemon's user, or in the configured group. */
static bool peer_admitted(const struct ctl_server *srv, int fd, struct ucred *cred)
{
	gid_t groups[CTL_MAX_PEER_GROUPS];
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return false;
	if (cred->uid == 0 || cred->uid == srv->owner)
		return true;
	if (srv->group == (gid_t)-1)
		return false;
	if (cred->gid == srv->group)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == srv->group)
			return true;
	return false;
}

/* Sends one error line to a refused peer (without waiting) and closes it. */
static void refuse(int fd, int errnum, const char *message)
{
	struct json_object *reply = ctl_error_reply(errnum, message);
	const char *text = reply ? json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN)
				 : NULL;

	if (text) {
		ssize_t n = send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n >= 0)
			n = send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n;
	}
	json_object_put(reply);
	close(fd);
}

/* Joins the connections whose threads have finished. */
static void reap_done(struct ctl_server *srv)
{
	struct ctl_conn **pp, *done = NULL;

	pthread_mutex_lock(&srv->lock);
	pp = &srv->conns;
	while (*pp) {
		struct ctl_conn *c = *pp;

		if (c->done) {
			*pp = c->next;
			c->next = done;
			done = c;
		} else {
			pp = &c->next;
		}
	}
	pthread_mutex_unlock(&srv->lock);
	while (done) {
		struct ctl_conn *c = done;

		done = c->next;
		pthread_join(c->thread, NULL);
		free(c);
	}
}

/* Admits the accepted @fd: a connection with its thread, or a refusal. */
static void admit(struct ctl_server *srv, int fd)
{
	struct ucred cred = { 0 };
	struct ctl_conn *conn;
	char msg[160];
	int ret;

	if (!peer_admitted(srv, fd, &cred)) {
		snprintf(msg, sizeof(msg),
			 "permission denied: uid %u is not root, the daemon's user or a member of "
			 "its group", (unsigned int)cred.uid);
		umdev_log(UMDEV_LOG_WARNING, "control socket: refusing pid %d (uid %u)",
			  (int)cred.pid, (unsigned int)cred.uid);
		refuse(fd, EACCES, msg);
		return;
	}
	pthread_mutex_lock(&srv->lock);
	if (srv->nconns >= CTL_MAX_CONNECTIONS) {
		pthread_mutex_unlock(&srv->lock);
		snprintf(msg, sizeof(msg), "too many connections (at most %d)",
			 CTL_MAX_CONNECTIONS);
		refuse(fd, EUSERS, msg);
		return;
	}
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		pthread_mutex_unlock(&srv->lock);
		refuse(fd, ENOMEM, strerror(ENOMEM));
		return;
	}
	conn->srv = srv;
	conn->fd = fd;
	ret = pthread_create(&conn->thread, NULL, ctl_conn_main, conn);
	if (ret) {
		pthread_mutex_unlock(&srv->lock);
		free(conn);
		refuse(fd, ret, strerror(ret));
		return;
	}
	conn->next = srv->conns;
	srv->conns = conn;
	srv->nconns++;
	pthread_mutex_unlock(&srv->lock);
}

static void *accept_main(void *arg)
{
	struct ctl_server *srv = arg;

	for (;;) {
		struct pollfd p[2] = { { srv->listen_fd, POLLIN, 0 }, { srv->stop_fd, POLLIN, 0 } };
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* out of resources: wait a little rather than spin */
				p[0].fd = -1;
				poll(p, 2, 100);
			}
			continue;
		}
		reap_done(srv);
		admit(srv, fd);
	}
	return NULL;
}

/* True when a server answers on the socket at @addr. */
static bool socket_in_use(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	close(fd);
	return used;
}

static int open_listener(struct ctl_server *srv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t mode = srv->group == (gid_t)-1 ? 0600 : 0660;
	struct stat st;
	int fd, ret;

	if (strlen(srv->socket_path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, srv->socket_path);
	if (lstat(srv->socket_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (socket_in_use(&addr))
			return -EADDRINUSE;
		unlink(srv->socket_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* the socket's inode mode becomes the file's at bind(): never more open than @mode */
	if (fchmod(fd, mode) < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		ret = -errno;
		goto out_close;
	}
	if ((srv->group != (gid_t)-1 && chown(srv->socket_path, (uid_t)-1, srv->group) < 0) ||
	    chmod(srv->socket_path, mode) < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		goto out_unlink;
	}
	srv->listen_fd = fd;
	return 0;

out_unlink:
	unlink(srv->socket_path);
out_close:
	close(fd);
	return ret;
}

static void server_free(struct ctl_server *srv)
{
	free(srv->socket_path);
	free(srv->conf_dir);
	free(srv->run_dir);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->defs_lock);
	free(srv);
}

int ctl_server_start(const struct ctl_server_config *cfg, struct ctl_server **ret)
{
	struct ctl_server *srv;
	int r;

	if (!cfg || !cfg->socket_path || !cfg->conf_dir || !cfg->run_dir)
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->defs_lock, NULL);
	srv->listen_fd = -1;
	srv->group = cfg->group;
	srv->owner = geteuid();
	srv->socket_path = strdup(cfg->socket_path);
	srv->conf_dir = strdup(cfg->conf_dir);
	srv->run_dir = strdup(cfg->run_dir);
	if (!srv->socket_path || !srv->conf_dir || !srv->run_dir) {
		r = -ENOMEM;
		goto out_free;
	}
	srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->stop_fd < 0) {
		r = -errno;
		goto out_free;
	}
	r = ctl_events_init(srv);
	if (r)
		goto out_close_stop;
	r = open_listener(srv);
	if (r)
		goto out_events;
	r = -pthread_create(&srv->accept_thread, NULL, accept_main, srv);
	if (r)
		goto out_listener;
	*ret = srv;
	return 0;

out_listener:
	close(srv->listen_fd);
	unlink(srv->socket_path);
out_events:
	ctl_events_fini(srv);
out_close_stop:
	close(srv->stop_fd);
out_free:
	server_free(srv);
	return r;
}

void ctl_server_stop(struct ctl_server *srv)
{
	uint64_t one = 1;
	ssize_t n;

	if (!srv)
		return;
	n = write(srv->stop_fd, &one, sizeof(one));
	(void)n;
	pthread_join(srv->accept_thread, NULL);
	/* every connection's thread polls stop_fd too: wait for each to finish */
	for (;;) {
		struct ctl_conn *c;

		pthread_mutex_lock(&srv->lock);
		c = srv->conns;
		if (c)
			srv->conns = c->next;
		pthread_mutex_unlock(&srv->lock);
		if (!c)
			break;
		pthread_join(c->thread, NULL);
		free(c);
	}
	ctl_events_fini(srv);
	close(srv->listen_fd);
	unlink(srv->socket_path);
	close(srv->stop_fd);
	server_free(srv);
}
