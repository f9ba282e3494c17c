/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How a driver presents itself to umdevd, which plays the part of the kernel's module
 * loader: a driver declares its init and exit functions (the kernel's module_init and
 * module_exit) with UMDEV_DRIVER_MODULE(). Built as a plugin (a .so in umdevd's driver
 * directory), the macro defines the exported symbol `umdev_driver_module`, which umdevd
 * reads after dlopen() and refuses when its abi_version is not the one umdevd was built
 * with. Built into umdevd (UMDEV_BUILTIN_DRIVER defined), it defines
 * `umdev_builtin_<name>` instead.
 *
 * init() registers the driver's bus drivers and parents; exit() unregisters them.
 */
#ifndef UMDEV_MODULE_H
#define UMDEV_MODULE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* Raised whenever a structure a driver embeds or fills in changes layout. */
#define UMDEV_DRIVER_ABI_VERSION 1

struct umdev_driver_module {
	uint32_t abi_version; /* UMDEV_DRIVER_ABI_VERSION the driver was built against */
	const char *name;
	int (*init)(void);
	void (*exit)(void);
};

#define UMDEV_DRIVER_MODULE_SYMBOL "umdev_driver_module"

/* A const object at namespace scope is file-local in C++: give it C linkage. */
#ifdef __cplusplus
#define UMDEV_DRIVER_MODULE_LINKAGE extern "C"
#else
#define UMDEV_DRIVER_MODULE_LINKAGE
#endif

#ifdef UMDEV_BUILTIN_DRIVER
#define UMDEV_DRIVER_MODULE(_name, _init, _exit)                                 \
	UMDEV_DRIVER_MODULE_LINKAGE const struct umdev_driver_module             \
		umdev_builtin_##_name = { UMDEV_DRIVER_ABI_VERSION, #_name, _init, _exit }
#else
#define UMDEV_DRIVER_MODULE(_name, _init, _exit)                                  \
	UMDEV_DRIVER_MODULE_LINKAGE __attribute__((visibility("default"))) const struct \
		umdev_driver_module umdev_driver_module = { UMDEV_DRIVER_ABI_VERSION,     \
							    #_name, _init, _exit }
#endif

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
