/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One listening UNIX socket that serves a vfio device over both of umdev's transports,
 * vfio-user and mpqemu: what a daemon that keeps thousands of idle devices wants, since an
 * idle device then costs one file descriptor and a few hundred bytes.
 *
 * A client of either protocol speaks first (vfio-user's VERSION, mpqemu's SYNC_SYSMEM or a
 * config access), so the first four bytes of a new connection, looked at without being
 * consumed (MSG_PEEK), tell the protocols apart: bytes 2-3 are vfio-user's `command`, never
 * 0, and the upper half of mpqemu's 32-bit `cmd` (host byte order), always 0 (docs/vfio-user.md,
 * "One socket for both transports"). The connection is then handed, with the bytes still
 * unread, to a vfio-user server or an mpqemu server of the device, each made at the first
 * connection of its protocol (<umdev/vfio_user_server.h>, <umdev/mpqemu_server.h>: the same
 * rules, credentials checked the same way, one client at a time across both).
 *
 * A second name for the socket (mpqemu.sock next to vfio-user.sock) is a symbolic link:
 * connect() follows it, and a bound socket cannot have a hard link.
 *
 * All socket work happens on one worker of the given pool (<umdev/workers.h>).
 */
#ifndef UMDEV_DEVICE_SOCKET_H
#define UMDEV_DEVICE_SOCKET_H

#include <stdbool.h>
#include <sys/types.h>

#include <umdev/vfio.h>
#include <umdev/workers.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct umdev_device_socket;

struct umdev_device_socket_config {
	const char *socket_path;	/* created; an existing socket file there is replaced */
	const char *alias_path;		/* NULL, or a second name: a symbolic link to
					 * socket_path (an existing link or socket is replaced) */
	struct umdev_workers *workers;
	uid_t owner;			/* (uid_t)-1: the process's */
	gid_t group;			/* (gid_t)-1: none, mode 0600; else mode 0660 */
};

/*
 * Starts serving @vdev (a registered vfio device; a reference is taken) at
 * cfg->socket_path, and at cfg->alias_path. -EINVAL (no path or workers), -ENAMETOOLONG,
 * -EEXIST (a file that is not a socket, or for the alias not a link, is in the way),
 * -ENOMEM, -errno of socket, bind, chown, chmod, listen or symlink.
 */
int umdev_device_socket_create(struct vfio_device *vdev,
			       const struct umdev_device_socket_config *cfg,
			       struct umdev_device_socket **ret_socket);

/*
 * Removes both names, disconnects the client (closing the device), drops the device and
 * frees. The socket's fd is closed on its worker shortly after. NULL is ignored. Must not be
 * called from a callback of the socket's own worker.
 */
void umdev_device_socket_destroy(struct umdev_device_socket *socket);

/* True while a client owns the device through this socket. */
bool umdev_device_socket_has_client(struct umdev_device_socket *socket);

/* Disconnects the current client, if any, and keeps listening. */
void umdev_device_socket_disconnect(struct umdev_device_socket *socket);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
