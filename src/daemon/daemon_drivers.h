/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd's drivers: the built-in ones, then every plugin (*.so, in name order) of the driver
 * directory, started at start-up and stopped in the reverse order at shutdown. A plugin that
 * cannot be loaded (not a driver, another ABI) or whose init fails is reported and skipped;
 * the others go on.
 */
#ifndef UMDEV_DAEMON_DRIVERS_H
#define UMDEV_DAEMON_DRIVERS_H

#include "daemon/daemon_config.h"

/* Starts the drivers; returns how many run (the daemon runs with none, and says so). */
int drivers_start(const struct daemon_config *cfg);

/* Stops them, last started first (their parents and devices go). */
void drivers_stop(void);

#endif
