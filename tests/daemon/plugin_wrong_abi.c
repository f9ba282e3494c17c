/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A plugin built against another driver ABI: umdevd must refuse it, say why, and go on with
 * the others. The descriptor is spelt out by hand (the macro always writes the current ABI).
 */
#include <umdev/module.h>

static int wrong_abi_init(void)
{
	return 0;
}

static void wrong_abi_exit(void)
{
}

__attribute__((visibility("default"))) const struct umdev_driver_module umdev_driver_module = {
	UMDEV_DRIVER_ABI_VERSION + 1000, "wrong_abi", wrong_abi_init, wrong_abi_exit
};
