/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finding driver modules: built-in ones in umdev_builtin_drivers[], plugins with dlopen()
 * (see driver_loader.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/builtin_drivers.h"
#include "daemon/driver_loader.h"

int driver_module_find(const char *name_or_path, const struct umdev_driver_module **ret_module,
		       char *err, size_t errlen)
{
	const struct umdev_driver_module *m;
	void *dl;

	if (!strchr(name_or_path, '/')) {
		for (size_t i = 0; i < umdev_builtin_drivers_count; i++) {
			if (!strcmp(umdev_builtin_drivers[i]->name, name_or_path)) {
				*ret_module = umdev_builtin_drivers[i];
				return 0;
			}
		}
		snprintf(err, errlen, "no built-in driver '%s' (give a plugin's path with a '/')",
			 name_or_path);
		return -ENOENT;
	}
	dl = dlopen(name_or_path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(err, errlen, "cannot load %s: %s", name_or_path, dlerror());
		return -ENOENT;
	}
	m = dlsym(dl, UMDEV_DRIVER_MODULE_SYMBOL);
	if (!m || !m->name || !m->init || !m->exit) {
		snprintf(err, errlen, "%s is not a umdev driver plugin (no valid %s)", name_or_path,
			 UMDEV_DRIVER_MODULE_SYMBOL);
		dlclose(dl);
		return -ENOEXEC;
	}
	if (m->abi_version != UMDEV_DRIVER_ABI_VERSION) {
		snprintf(err, errlen,
			 "%s was built for driver ABI %u, this program has ABI %u: rebuild it",
			 name_or_path, m->abi_version, UMDEV_DRIVER_ABI_VERSION);
		dlclose(dl);
		return -ENOEXEC;
	}
	/* never dlclose()d: the core may hold pointers into the plugin until exit */
	*ret_module = m;
	return 0;
}
