/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd's drivers (see daemon_drivers.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/log.h>

#include "daemon/builtin_drivers.h"
#include "daemon/daemon_drivers.h"
#include "daemon/driver_loader.h"

#define MAX_DRIVERS 128

static const struct umdev_driver_module *started[MAX_DRIVERS];
static size_t nstarted;

static void start_one(const struct umdev_driver_module *m, const char *origin)
{
	int ret;

	for (size_t i = 0; i < nstarted; i++) {
		if (!strcmp(started[i]->name, m->name)) {
			umdev_log(UMDEV_LOG_WARNING, "driver %s (%s): a driver of that name runs already",
				  m->name, origin);
			return;
		}
	}
	if (nstarted == MAX_DRIVERS) {
		umdev_log(UMDEV_LOG_ERR, "driver %s (%s): too many drivers", m->name, origin);
		return;
	}
	ret = m->init();
	if (ret) {
		umdev_log(UMDEV_LOG_ERR, "driver %s (%s) failed to start: %s", m->name, origin,
			  strerror(-ret));
		return;
	}
	started[nstarted++] = m;
	umdev_log(UMDEV_LOG_INFO, "driver %s started (%s)", m->name, origin);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The plugins of @dir, in name order. */
static void start_plugins(const char *dir)
{
	char *names[MAX_DRIVERS];
	size_t n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d) {
		if (errno != ENOENT)
			umdev_log(UMDEV_LOG_WARNING, "cannot read the driver dir %s: %s", dir,
				  strerror(errno));
		return;
	}
	while ((e = readdir(d)) && n < MAX_DRIVERS) {
		size_t len = strlen(e->d_name);

		if (len > 3 && !strcmp(e->d_name + len - 3, ".so") && e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
		if (n && !names[n - 1])
			n--;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		const struct umdev_driver_module *m;
		char path[PATH_MAX], err[512];

		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path)) {
			if (driver_module_find(path, &m, err, sizeof(err)))
				umdev_log(UMDEV_LOG_ERR, "plugin refused: %s", err);
			else
				start_one(m, path);
		}
		free(names[i]);
	}
}

int drivers_start(const struct daemon_config *cfg)
{
	for (size_t i = 0; i < umdev_builtin_drivers_count; i++)
		start_one(umdev_builtin_drivers[i], "built in");
	start_plugins(cfg->driver_dir);
	if (!nstarted)
		umdev_log(UMDEV_LOG_WARNING, "no driver runs: there is nothing to serve");
	return (int)nstarted;
}

void drivers_stop(void)
{
	while (nstarted) {
		const struct umdev_driver_module *m = started[--nstarted];

		m->exit();
		umdev_log(UMDEV_LOG_INFO, "driver %s stopped", m->name);
	}
}
