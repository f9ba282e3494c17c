/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table of drivers built into umdevd (see builtin_drivers.h).
 */
#include "daemon/builtin_drivers.h"
#include "util/macros.h"

extern const struct umdev_driver_module umdev_builtin_null;

const struct umdev_driver_module *const umdev_builtin_drivers[] = {
	&umdev_builtin_null,
};

const size_t umdev_builtin_drivers_count = ARRAY_SIZE(umdev_builtin_drivers);
