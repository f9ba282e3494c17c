/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd's device sockets: every vfio device that registers (a mediated device bound to
 * vfio_mdev, or to its driver's own bus driver) gets one listening socket at
 * <run-dir>/devices/<name>/vfio-user.sock that serves vfio-user and mpqemu (QEMU 7.2's
 * x-pci-proxy-dev) alike, telling them apart by a connection's first bytes, with
 * <run-dir>/devices/<name>/mpqemu.sock a symbolic link to it; it goes when the device's
 * unregistration completes (after its client, if any, has let go).
 */
#ifndef UMDEV_DAEMON_DEVICES_H
#define UMDEV_DAEMON_DEVICES_H

#include <stddef.h>

#include <umdev/workers.h>

#include "daemon/daemon_config.h"

/* Starts following vfio device registrations; 0 or -errno. */
int devices_start(const struct daemon_config *cfg, struct umdev_workers *workers);

/* Disconnects every client (shutdown, when they did not let go in time). */
void devices_disconnect_all(void);

/* Number of devices being served. */
size_t devices_count(void);

/* Stops following registrations and destroys the servers that are left. */
void devices_stop(void);

#endif
