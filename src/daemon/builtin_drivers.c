/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table of drivers built into umdevd (see builtin_drivers.h).
 */
#include "daemon/builtin_drivers.h"
#include "util/macros.h"

extern const struct umdev_driver_module umdev_builtin_null;
extern const struct umdev_driver_module umdev_builtin_mtty;

const struct umdev_driver_module *const umdev_builtin_drivers[] = {
	&umdev_builtin_null,
	&umdev_builtin_mtty,
};

const size_t umdev_builtin_drivers_count = ARRAY_SIZE(umdev_builtin_drivers);
