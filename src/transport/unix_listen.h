/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The listening UNIX socket every server of umdev's transports makes at a path: the device
 * socket of umdevd (device_socket.c) and the stand-alone vfio-user and mpqemu servers.
 */
#ifndef UMDEV_TRANSPORT_UNIX_LISTEN_H
#define UMDEV_TRANSPORT_UNIX_LISTEN_H

#include <sys/types.h>

/*
 * Binds a non-blocking, close-on-exec stream socket at @path and listens; the fd, or -errno:
 * -ENAMETOOLONG (path), -EEXIST (@path is another kind of file: a stale socket there is
 * replaced, nothing else). Mode 0600, 0660 with a @group; @owner and @group (uid_t/gid_t -1:
 * unchanged) are set while the file has no access at all, then it is opened up.
 */
int unix_listen_at(const char *path, uid_t owner, gid_t group);

#endif
