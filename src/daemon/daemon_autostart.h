/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting `auto` definitions when their parent registers (at daemon start, when a plugin
 * loads, when a driver adds a parent later). The mdev notifier runs on the thread that
 * registers the parent, inside the core; creating devices from there would re-enter it, so
 * parent names are queued and the daemon's main loop starts their devices when the queue's
 * eventfd becomes readable.
 */
#ifndef UMDEV_DAEMON_AUTOSTART_H
#define UMDEV_DAEMON_AUTOSTART_H

#include "daemon/daemon_config.h"

/* Follows parent registrations (call before the drivers start); 0 or -errno. */
int autostart_start(const struct daemon_config *cfg);

/* The eventfd to poll: readable when parents wait for their devices. */
int autostart_fd(void);

/* Starts the `auto` definitions of every parent queued so far. */
void autostart_run_pending(void);

/* Stops following registrations and drops what is queued. */
void autostart_stop(void);

#endif
