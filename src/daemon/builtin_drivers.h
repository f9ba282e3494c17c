/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The drivers linked into umdevd, started in this order and stopped in the reverse one.
 */
#ifndef UMDEV_DAEMON_BUILTIN_DRIVERS_H
#define UMDEV_DAEMON_BUILTIN_DRIVERS_H

#include <stddef.h>

#include <umdev/module.h>

extern const struct umdev_driver_module *const umdev_builtin_drivers[];
extern const size_t umdev_builtin_drivers_count;

#endif
