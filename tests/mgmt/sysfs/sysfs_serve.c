/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdev-sysfs-serve: mounts the sysfs tree (src/mgmt/sysfs/sysfs.h) at a directory for the
 * built-in drivers null and mtty, for trying the tree by hand (echo, cat, ls, mdevctl in a
 * mount namespace: docs/sysfs-layout.md) and for shell-level tests. It links the shared
 * libumdev, as umdevd does, which shows that the tree needs only the public API.
 *
 *   umdev-sysfs-serve [--drivers null,mtty] MOUNTPOINT
 *
 * Prints "ready" once mounted, then serves until SIGINT, SIGTERM or the end of its stdin;
 * unmounts and stops the drivers before it exits. Logs go to stderr.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <umdev/log.h>
#include <umdev/module.h>

#include "mgmt/sysfs/sysfs.h"

extern const struct umdev_driver_module umdev_builtin_null;
extern const struct umdev_driver_module umdev_builtin_mtty;

static const struct umdev_driver_module *const known[] = {
	&umdev_builtin_null,
	&umdev_builtin_mtty,
};
#define NKNOWN (sizeof(known) / sizeof(known[0]))

static void log_stderr(int level, const char *message, void *userdata)
{
	(void)level;
	(void)userdata;
	fprintf(stderr, "umdev-sysfs-serve: %s\n", message);
}

static int usage(void)
{
	fprintf(stderr, "usage: umdev-sysfs-serve [--drivers null,mtty] MOUNTPOINT\n");
	return 2;
}

/* Serves until a signal or the end of stdin. */
static void serve(void)
{
	struct pollfd pfd[2];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pfd[0].fd = signalfd(-1, &set, SFD_CLOEXEC);
	pfd[0].events = POLLIN;
	pfd[1].fd = STDIN_FILENO;
	pfd[1].events = POLLIN;
	for (;;) {
		char buf[256];

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents && read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
			break;
	}
	if (pfd[0].fd >= 0)
		close(pfd[0].fd);
}

int main(int argc, char **argv)
{
	bool want[NKNOWN] = { true, true }, started[NKNOWN] = { false };
	const char *mountpoint = NULL;
	struct sysfs_fs *fs = NULL;
	sigset_t set;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--drivers") && i + 1 < argc) {
			char *list = argv[++i];

			memset(want, 0, sizeof(want));
			for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
				size_t k;

				for (k = 0; k < NKNOWN && strcmp(known[k]->name, tok); k++)
					;
				if (k == NKNOWN) {
					fprintf(stderr, "umdev-sysfs-serve: unknown driver %s\n", tok);
					return 2;
				}
				want[k] = true;
			}
		} else if (argv[i][0] == '-' || mountpoint) {
			return usage();
		} else {
			mountpoint = argv[i];
		}
	}
	if (!mountpoint)
		return usage();
	umdev_set_log_handler(log_stderr, NULL, UMDEV_LOG_INFO);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	for (size_t k = 0; k < NKNOWN; k++) {
		if (!want[k])
			continue;
		if (known[k]->init()) {
			fprintf(stderr, "umdev-sysfs-serve: driver %s does not start\n", known[k]->name);
			goto out;
		}
		started[k] = true;
	}
	if (sysfs_fs_mount(mountpoint, &fs))
		goto out;
	printf("ready\n");
	fflush(stdout);
	serve();
	ret = 0;
out:
	sysfs_fs_unmount(fs);
	for (size_t k = NKNOWN; k-- > 0;)
		if (started[k])
			known[k]->exit();
	return ret;
}
