/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tells the service manager (systemd's Type=notify) about umdevd's state. */
#ifndef UMDEV_DAEMON_NOTIFY_H
#define UMDEV_DAEMON_NOTIFY_H

/* Sends @state ("READY=1", "STOPPING=1", ...) to $NOTIFY_SOCKET, when there is one. */
void daemon_notify(const char *state);

#endif
