/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd's run directory: created on start, locked so that a second daemon on the same
 * directory refuses to start, and cleaned of what a daemon that was killed left behind
 * (device sockets, the control socket, a FUSE mount whose server is gone).
 *
 *   <run-dir>/umdevd.lock                 held (flock) while the daemon runs; its pid
 *   <run-dir>/control.sock                the control socket
 *   <run-dir>/devices/<uuid>/{vfio-user,mpqemu}.sock the sockets of each device
 *   <run-dir>/sys                         the sysfs tree (default mount point)
 */
#ifndef UMDEV_DAEMON_RUNDIR_H
#define UMDEV_DAEMON_RUNDIR_H

#include "daemon/daemon_config.h"

/* Creates and locks the run dir, removes stale files; the lock fd in *ret_lock_fd. -errno
 * after logging why (-EBUSY: another daemon runs there). */
int rundir_prepare(const struct daemon_config *cfg, int *ret_lock_fd);

/* Removes what the daemon made (the devices dir must be empty by now) and unlocks. */
void rundir_release(const struct daemon_config *cfg, int lock_fd);

/* Removes a stale mount at @path (a FUSE tree whose daemon died: ENOTCONN). */
int rundir_clear_stale_mount(const char *path);

#endif
