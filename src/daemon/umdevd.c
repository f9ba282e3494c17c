/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd: the daemon that hosts umdev's parents and their mediated devices.
 *
 * This version starts the built-in drivers (their parents register with the mdev core),
 * reports the parents and types it hosts and every mediated device added or removed, and on
 * SIGTERM or SIGINT stops the drivers (which removes their devices) and exits 0. Transports,
 * the sysfs tree, the control socket and plugins are added by later stages of the project.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/log.h>
#include <umdev/mdev_manage.h>

#include "daemon/builtin_drivers.h"

static const char *const level_names[] = {
	[UMDEV_LOG_ERR] = "err",     [UMDEV_LOG_WARNING] = "warning", [UMDEV_LOG_NOTICE] = "notice",
	[UMDEV_LOG_INFO] = "info",   [UMDEV_LOG_DEBUG] = "debug",
};

static void log_to_stderr(int level, const char *message, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "umdevd: %s: %s\n",
		level >= 0 && level <= UMDEV_LOG_DEBUG && level_names[level] ? level_names[level]
									   : "log",
		message);
}

static int parse_level(const char *name)
{
	for (int i = 0; i <= UMDEV_LOG_DEBUG; i++)
		if (level_names[i] && !strcmp(level_names[i], name))
			return i;
	return -1;
}

static void on_mdev_event(struct notifier_block *nb, unsigned long event, void *data)
{
	(void)nb;
	switch (event) {
	case MDEV_EVENT_DEVICE_ADDED:
		umdev_log(UMDEV_LOG_INFO, "mediated device %s created",
			  dev_name(mdev_dev(data)));
		break;
	case MDEV_EVENT_DEVICE_REMOVED:
		umdev_log(UMDEV_LOG_INFO, "mediated device %s removed",
			  dev_name(mdev_dev(data)));
		break;
	default:
		break;
	}
}

static struct notifier_block mdev_events = { .notifier_call = on_mdev_event };

static void report_parents(void)
{
	struct mdev_parent **parents;
	ssize_t n = mdev_parents_list(&parents);

	for (ssize_t i = 0; i < n; i++) {
		char types[512] = "";
		size_t len = 0;

		for (unsigned int t = 0; t < mdev_parent_num_types(parents[i]); t++)
			len += (size_t)snprintf(types + len, len < sizeof(types) ? sizeof(types) - len : 0,
						"%s%s", t ? " " : "",
						mtype_get_name(mdev_parent_type(parents[i], t)));
		umdev_log(UMDEV_LOG_NOTICE, "hosting parent %s, types: %s",
			  dev_name(mdev_parent_device(parents[i])), types);
	}
	if (n >= 0)
		mdev_parents_free(parents, (size_t)n);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: umdevd [--log-level LEVEL]\n"
		"Hosts umdev's built-in mediated-device parents until SIGTERM or SIGINT.\n"
		"  --log-level LEVEL  err, warning, notice, info (default) or debug\n"
		"  --help             show this help\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int level = UMDEV_LOG_INFO, opt, sig;
	size_t started = 0;
	sigset_t stop;
	bool ok;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			level = parse_level(optarg);
			if (level < 0) {
				fprintf(stderr, "umdevd: unknown log level '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "umdevd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	umdev_set_log_handler(log_to_stderr, NULL, level);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	mdev_register_notifier(&mdev_events);

	for (; started < umdev_builtin_drivers_count; started++) {
		const struct umdev_driver_module *m = umdev_builtin_drivers[started];
		int ret = m->init();

		if (ret) {
			umdev_log(UMDEV_LOG_ERR, "driver %s failed to start: %s", m->name,
				  strerror(-ret));
			break;
		}
	}
	ok = started == umdev_builtin_drivers_count;
	if (ok) {
		report_parents();
		umdev_log(UMDEV_LOG_NOTICE, "ready");
		sigwait(&stop, &sig);
		umdev_log(UMDEV_LOG_NOTICE, "stopping on %s", strsignal(sig));
	}
	while (started--)
		umdev_builtin_drivers[started]->exit();
	mdev_unregister_notifier(&mdev_events);
	return ok ? 0 : 1;
}
