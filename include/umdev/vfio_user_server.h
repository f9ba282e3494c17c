/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Serving a vfio device over the vfio-user protocol: the userspace counterpart of the device
 * file that the kernel's vfio_mdev bus driver gives a mediated device. A server listens on
 * one UNIX socket for one device and serves one client at a time (QEMU's vfio-user-pci,
 * SPDK, libvfio-user clients, libumdev-client); a second client is told EBUSY. The socket
 * has mode 0600 (0660 with a group) and the peer's credentials are checked: root, the
 * socket's owner, or a member of its group. A client that goes away, or sends something that
 * cannot be trusted, loses its DMA mappings, fds and interrupt eventfds; the device keeps its
 * state and serves the next client.
 *
 * All socket work happens on one thread of the given worker pool (<umdev/workers.h>).
 */
#ifndef UMDEV_VFIO_USER_SERVER_H
#define UMDEV_VFIO_USER_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <umdev/vfio.h>
#include <umdev/workers.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct vfio_user_server;

struct vfio_user_server_config {
	const char *socket_path;	/* created; an existing socket file there is replaced;
					 * NULL: no listening socket, clients come through
					 * vfio_user_server_add_client() */
	struct umdev_workers *workers;
	uid_t owner;			/* (uid_t)-1: the process's */
	gid_t group;			/* (gid_t)-1: none, mode 0600; else mode 0660 */
};

struct vfio_user_server_stats {
	uint64_t connections;	  /* clients accepted */
	uint64_t refused;	  /* connections refused (busy or not allowed) */
	uint64_t disconnects;	  /* clients that went, for any reason */
	uint64_t messages;	  /* messages received */
	uint64_t error_replies;	  /* error replies sent */
	uint64_t protocol_errors; /* connections closed because the stream broke a rule */
};

/*
 * Starts serving @vdev (a registered vfio device; the server takes a reference) at
 * cfg->socket_path. -EINVAL (no workers), -ENAMETOOLONG, -EEXIST (a file that is not a
 * socket is in the way), -errno of socket, bind, chown or chmod.
 */
int vfio_user_server_create(struct vfio_device *vdev, const struct vfio_user_server_config *cfg,
			    struct vfio_user_server **ret_server);

/*
 * Serves a client on an already-connected stream socket @fd (taken over, even on error),
 * with the same rules as one that connected: refused with EBUSY when a client is there.
 * For launchers that hand one end of a socketpair to a VMM, and for tests. 0 or -errno.
 */
int vfio_user_server_add_client(struct vfio_user_server *server, int fd);

/* Disconnects the client (closing the device), closes and unlinks the socket, frees.
 * NULL is ignored. Must not be called from a callback of the server's own worker. */
void vfio_user_server_destroy(struct vfio_user_server *server);

void vfio_user_server_get_stats(struct vfio_user_server *server,
				struct vfio_user_server_stats *stats);

/* True while a client owns the device. */
bool vfio_user_server_has_client(struct vfio_user_server *server);

/*
 * Disconnects the current client, if any (its mappings and eventfds are released and the
 * device is closed for it), and keeps listening: for a daemon whose clients did not let go
 * of devices it is removing.
 */
void vfio_user_server_disconnect(struct vfio_user_server *server);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
