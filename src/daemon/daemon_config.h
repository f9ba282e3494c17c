/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd's configuration: its command line and the defaults for root and for other users.
 *
 *   umdevd [--foreground] [--run-dir DIR] [--conf-dir DIR] [--sysfs-dir DIR | --no-sysfs]
 *          [--driver-dir DIR] [--socket-owner USER[:GROUP]] [--log-level LEVEL]
 *          [--workers N] [--max-devices N]
 *
 * As root: run dir /run/umdev, definitions in /etc/umdev.d; as another user: under
 * $XDG_RUNTIME_DIR/umdev and $XDG_CONFIG_HOME/umdev (~/.config/umdev). The sysfs tree is at
 * <run-dir>/sys unless told otherwise.
 */
#ifndef UMDEV_DAEMON_CONFIG_H
#define UMDEV_DAEMON_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * File descriptors: an idle device holds one (its listening socket); the reserve is for
 * everything else (clients and what they send: DMA memory, eventfds; control connections,
 * FUSE, epoll, the workers). --max-devices sizes RLIMIT_NOFILE with these at start.
 */
#define UMDEVD_FD_RESERVE 1024
#define UMDEVD_DEFAULT_MAX_DEVICES 1024u
#define UMDEVD_MAX_MAX_DEVICES 1000000u

struct daemon_config {
	bool foreground;
	char run_dir[PATH_MAX];
	char conf_dir[PATH_MAX];
	char sysfs_dir[PATH_MAX]; /* empty: no sysfs tree */
	char driver_dir[PATH_MAX];
	uid_t socket_owner;	  /* (uid_t)-1: the daemon's */
	gid_t socket_group;	  /* (gid_t)-1: none (mode 0600) */
	int log_level;
	unsigned int workers;	  /* 0: one per CPU */
	unsigned int max_devices; /* what RLIMIT_NOFILE is sized for (UMDEVD_FD_RESERVE) */
};

/*
 * Parses the command line into @cfg, with the defaults for the user running the daemon.
 * Returns 0, 1 when the program should exit 0 (--help, --version), or 2 after printing an
 * error for a bad command line.
 */
int daemon_config_parse(int argc, char **argv, struct daemon_config *cfg);

#endif
