/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket of umdevd (docs/control-protocol.md): a UNIX stream socket on which
 * root, the daemon's own user and (optionally) one group send one JSON request per line and
 * get one JSON reply per line, one command per management operation (types, list, create,
 * remove, define, undefine, modify, start_parent, info), plus a subscription to the mdev
 * core's change events. umdevctl is its client.
 *
 * The server runs on its own threads: one that accepts, and one per connection (at most
 * CTL_MAX_CONNECTIONS), each with bounded buffers. It calls the mdev core directly; a
 * request that waits in the core (the removal of a device whose VMM holds it) holds up only
 * its own connection.
 */
#ifndef UMDEV_MGMT_CTL_CTL_SERVER_H
#define UMDEV_MGMT_CTL_CTL_SERVER_H

#include <sys/types.h>

/* Limits of the protocol (each enforced and tested). */
#define CTL_MAX_REQUEST 65536	  /* bytes of one request line, newline included */
#define CTL_MAX_CONNECTIONS 32	  /* connections served at once; more are refused */
#define CTL_MAX_EVENTS_QUEUED 256 /* events waiting for a slow subscriber before it is cut */
#define CTL_WRITE_TIMEOUT_MS 5000 /* a client that reads no reply for this long is cut */

struct ctl_server_config {
	const char *socket_path; /* created (mode 0600, or 0660 with a group); a stale socket
				  * there is replaced, any other file is left alone (-EEXIST) */
	const char *conf_dir;	 /* the definitions (definitions.h) */
	const char *run_dir;	 /* devices' sockets: <run_dir>/devices/<uuid>/<transport>.sock */
	gid_t group;		 /* also admitted, and the socket's group; (gid_t)-1: none */
};

struct ctl_server;

/*
 * Creates the socket and starts serving. -EINVAL (a path missing), -ENAMETOOLONG,
 * -EEXIST (a non-socket file in the way), -EADDRINUSE (a server answers there already),
 * -errno of socket/bind/chown/chmod/listen or of starting a thread.
 */
int ctl_server_start(const struct ctl_server_config *cfg, struct ctl_server **ret);

/*
 * Stops serving: closes every connection (waiting for requests in progress to finish),
 * joins the threads, unlinks the socket, frees. NULL is ignored.
 */
void ctl_server_stop(struct ctl_server *srv);

#endif
