/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Autostart (ops.h): what `mdevctl start-parent-mdevs P` does, natively, for umdevd to run
 * when a parent registers (a FUSE tree makes no uevents, so no udev rule would) and for the
 * control socket's start_parent. Failures are warnings, one per line of mdevctl's error
 * chain, and never stop the other devices; an unreadable definition is one warning too
 * (mdevctl 1.2.0 would give up on all of them).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mgmt/ops.h"

struct autostart_log {
	umdev_log_fn log;
	void *userdata;
};

static void bad_file(const char *path, const char *message, void *userdata)
{
	struct autostart_log *l = userdata;

	(void)path;
	if (l->log)
		l->log(UMDEV_LOG_WARNING, message, l->userdata);
}

/* Logs each part of "<error>\n\nCaused by:\n    <cause>" as its own warning. */
static void log_chain(const struct autostart_log *l, char *err)
{
	static const char sep[] = MGMT_CAUSED_BY;

	while (l->log) {
		char *next = strstr(err, sep);

		if (next)
			*next = '\0';
		l->log(UMDEV_LOG_WARNING, err, l->userdata);
		if (!next)
			break;
		err = next + strlen(sep);
	}
}

int mgmt_autostart_parent(const char *conf_dir, const char *parent, umdev_log_fn log,
			  void *userdata)
{
	struct autostart_log l = { log, userdata };
	struct mdev_definition *defs;
	char err[MGMT_ERR_SIZE];
	size_t count;
	int ret, started = 0;

	ret = definitions_load(conf_dir, parent, &defs, &count, bad_file, &l);
	if (ret) {
		if (log) {
			snprintf(err, sizeof(err), "cannot read the definitions in %s: %s",
				 conf_dir, strerror(-ret));
			log(UMDEV_LOG_ERR, err, userdata);
		}
		return ret;
	}
	for (size_t i = 0; i < count; i++) {
		const struct mdev_definition *d = &defs[i];

		if (!d->autostart)
			continue;
		ret = mgmt_start_device(d->parent, d->mdev_type, d->uuid, d->attrs, d->nattrs, NULL,
					err, sizeof(err));
		if (ret) {
			log_chain(&l, err);
			continue;
		}
		started++;
		if (log) {
			snprintf(err, sizeof(err), "started %s (%s) on %s", d->uuid, d->mdev_type,
				 d->parent);
			log(UMDEV_LOG_INFO, err, userdata);
		}
	}
	definitions_free(defs, count);
	return started;
}
