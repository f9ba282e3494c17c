/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Serving a vfio device to QEMU's multi-process proxy (mpqemu, the experimental
 * `x-pci-proxy-dev` of QEMU 7.2 and later): the transport for VMMs that have no vfio-user
 * client, such as the QEMU of Debian 12. The proxy is a PCI device in the guest whose config
 * space and BAR accesses are forwarded over a UNIX stream socket; guest RAM arrives as memfds
 * (SYNC_SYSMEM) and INTx leaves through an irqfd with a resample eventfd (SET_IRQFD).
 * docs/mpqemu.md describes the protocol and how to launch QEMU with it.
 *
 * A server serves one device to one client at a time. The device must be a PCI device
 * (VFIO_DEVICE_FLAGS_PCI, config space as region 7). Sockets follow the rules of the
 * vfio-user server: mode 0600 (0660 with a group), and the peer's credentials are checked
 * (root, the socket's owner, or a member of its group). The protocol has no error message,
 * so a connection that is not allowed, or that comes while the device has a client (on this
 * or any other transport), is closed at once and counted as refused. A client that goes
 * away, or sends something that cannot be trusted, loses its guest-memory mappings and
 * interrupt eventfds; the device keeps its state and serves the next client.
 *
 * All socket work happens on one thread of the given worker pool (<umdev/workers.h>).
 */
#ifndef UMDEV_MPQEMU_SERVER_H
#define UMDEV_MPQEMU_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <umdev/vfio.h>
#include <umdev/workers.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct mpqemu_server;

struct mpqemu_server_config {
	const char *socket_path;	/* created; an existing socket file there is replaced;
					 * NULL: no listening socket, clients come through
					 * mpqemu_server_add_client() */
	struct umdev_workers *workers;
	uid_t owner;			/* (uid_t)-1: the process's */
	gid_t group;			/* (gid_t)-1: none, mode 0600; else mode 0660 */
};

struct mpqemu_server_stats {
	uint64_t connections;	  /* clients accepted */
	uint64_t refused;	  /* connections refused (busy, not allowed, device unusable) */
	uint64_t disconnects;	  /* clients that went, for any reason */
	uint64_t messages;	  /* messages received */
	uint64_t error_replies;	  /* requests that failed, answered with RET UINT64_MAX */
	uint64_t protocol_errors; /* connections closed because the stream broke a rule */
};

/*
 * Starts serving @vdev (a registered vfio device; the server takes a reference) at
 * cfg->socket_path. -EINVAL (no workers), -ENAMETOOLONG, -EEXIST (a file that is not a
 * socket is in the way), -errno of socket, bind, chown or chmod.
 */
int mpqemu_server_create(struct vfio_device *vdev, const struct mpqemu_server_config *cfg,
			 struct mpqemu_server **ret_server);

/*
 * Serves a client on an already-connected stream socket @fd (taken over, even on error):
 * for a launcher that hands the other end of a socketpair to QEMU as `fd=N`, and for tests.
 * The caller made the socket, so no credentials are checked. 0 once the client is served;
 * -EBUSY when the device has a client (on any transport), -ENODEV when the server is being
 * destroyed or the device is not usable over mpqemu (not a PCI device, no config region),
 * -EBADF, -ENOMEM: the socket is closed and the connection counted as refused.
 */
int mpqemu_server_add_client(struct mpqemu_server *server, int fd);

/* Disconnects the client (closing the device), closes and unlinks the socket, frees.
 * NULL is ignored. Must not be called from a callback of the server's own worker. */
void mpqemu_server_destroy(struct mpqemu_server *server);

void mpqemu_server_get_stats(struct mpqemu_server *server, struct mpqemu_server_stats *stats);

/* True while a client owns the device. */
bool mpqemu_server_has_client(struct mpqemu_server *server);

/*
 * Disconnects the current client, if any (its mappings and eventfds are released and the
 * device is closed for it), and keeps listening: for a daemon whose clients did not let go
 * of devices it is removing.
 */
void mpqemu_server_disconnect(struct mpqemu_server *server);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
