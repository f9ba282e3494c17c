/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading a driver module: one built into the program by name ("null"), or a plugin by the
 * path of its .so, whose umdev_driver_module symbol must carry the ABI version this program
 * was built with. A loaded plugin is never unloaded (the core may keep pointers into it).
 */
#ifndef UMDEV_DAEMON_DRIVER_LOADER_H
#define UMDEV_DAEMON_DRIVER_LOADER_H

#include <stddef.h>

#include <umdev/module.h>

/*
 * Finds the module @name_or_path (a path when it contains a '/'), without starting it.
 * 0, or -ENOENT (no such built-in or file), -ENOEXEC (not a driver plugin, or built for
 * another ABI); @err receives a message for the user.
 */
int driver_module_find(const char *name_or_path, const struct umdev_driver_module **ret_module,
		       char *err, size_t errlen);

#endif
