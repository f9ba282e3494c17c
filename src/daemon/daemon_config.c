/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd's command line and defaults (see daemon_config.h). Every path is checked to fit and
 * to be absolute, so that later code never truncates one.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <umdev/log.h>

#include "daemon/daemon_config.h"

#ifndef UMDEV_DRIVER_DIR
#define UMDEV_DRIVER_DIR "/usr/local/lib/x86_64-linux-gnu/umdev/drivers"
#endif

static const char *const level_names[] = {
	[UMDEV_LOG_ERR] = "err",   [UMDEV_LOG_WARNING] = "warning", [UMDEV_LOG_NOTICE] = "notice",
	[UMDEV_LOG_INFO] = "info", [UMDEV_LOG_DEBUG] = "debug",
};

/* @src, made absolute against the working directory (the daemon leaves it when it detaches). */
static int set_path(char *dst, const char *what, const char *src)
{
	char cwd[PATH_MAX];
	int n;

	if (!src || !src[0]) {
		fprintf(stderr, "umdevd: %s is empty\n", what);
		return -EINVAL;
	}
	if (src[0] == '/') {
		n = snprintf(dst, PATH_MAX - 64, "%s", src);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			fprintf(stderr, "umdevd: %s: cannot resolve '%s': %s\n", what, src,
				strerror(errno));
			return -errno;
		}
		n = snprintf(dst, PATH_MAX - 64, "%s/%s", cwd, src);
	}
	if (n < 0 || n >= PATH_MAX - 64) { /* room for <uuid>/vfio-user.sock and the like */
		fprintf(stderr, "umdevd: %s is too long\n", what);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int set_path2(char *dst, const char *what, const char *base, const char *leaf)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s/%s", base, leaf) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	return set_path(dst, what, buf);
}

/* The defaults: /run and /etc for root, the XDG directories for others. */
static int set_defaults(struct daemon_config *cfg)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR"), *config = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_owner = (uid_t)-1;
	cfg->socket_group = (gid_t)-1;
	cfg->log_level = UMDEV_LOG_INFO;
	cfg->max_devices = UMDEVD_DEFAULT_MAX_DEVICES;
	strcpy(cfg->driver_dir, UMDEV_DRIVER_DIR);
	if (geteuid() == 0) {
		strcpy(cfg->run_dir, "/run/umdev");
		strcpy(cfg->conf_dir, "/etc/umdev.d");
	} else {
		if (!runtime || runtime[0] != '/') {
			fprintf(stderr, "umdevd: XDG_RUNTIME_DIR is not set: give --run-dir\n");
			return -EINVAL;
		}
		ret = set_path2(cfg->run_dir, "the run dir", runtime, "umdev");
		if (ret)
			return ret;
		if (config && config[0] == '/')
			ret = set_path2(cfg->conf_dir, "the conf dir", config, "umdev");
		else if (home && home[0] == '/')
			ret = set_path2(cfg->conf_dir, "the conf dir", home, ".config/umdev");
		else
			ret = -EINVAL;
		if (ret) {
			fprintf(stderr, "umdevd: no XDG_CONFIG_HOME or HOME: give --conf-dir\n");
			return ret;
		}
	}
	return 0;
}

/* A user or group name, or a number. */
static bool parse_id(const char *s, unsigned long *id)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*id = strtoul(s, &end, 10);
	return !*end && !errno && *id < (unsigned long)(uid_t)-1;
}

static int parse_owner(const char *spec, struct daemon_config *cfg)
{
	char buf[256], *colon;
	unsigned long id;

	if (strlen(spec) >= sizeof(buf)) {
		fprintf(stderr, "umdevd: --socket-owner is too long\n");
		return -EINVAL;
	}
	strcpy(buf, spec);
	colon = strchr(buf, ':');
	if (colon) {
		struct group *gr;

		*colon = '\0';
		if (parse_id(colon + 1, &id)) {
			cfg->socket_group = (gid_t)id;
		} else {
			gr = getgrnam(colon + 1);
			if (!gr) {
				fprintf(stderr, "umdevd: no group '%s'\n", colon + 1);
				return -ENOENT;
			}
			cfg->socket_group = gr->gr_gid;
		}
	}
	if (*buf) {
		struct passwd *pw;

		if (parse_id(buf, &id)) {
			cfg->socket_owner = (uid_t)id;
		} else {
			pw = getpwnam(buf);
			if (!pw) {
				fprintf(stderr, "umdevd: no user '%s'\n", buf);
				return -ENOENT;
			}
			cfg->socket_owner = pw->pw_uid;
		}
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: umdevd [--foreground] [--run-dir DIR] [--conf-dir DIR]\n"
		"              [--sysfs-dir DIR | --no-sysfs] [--driver-dir DIR]\n"
		"              [--socket-owner USER[:GROUP]] [--log-level LEVEL] [--workers N]\n"
		"              [--max-devices N]\n"
		"Hosts umdev's mediated-device parents and serves each mediated device over\n"
		"vfio-user and mpqemu, with the kernel's sysfs interface through FUSE and a control socket\n"
		"for umdevctl.\n"
		"  --foreground         stay in the foreground and log to stderr\n"
		"                       (otherwise detach and log to syslog)\n"
		"  --run-dir DIR        sockets and the sysfs tree (default /run/umdev as root,\n"
		"                       else $XDG_RUNTIME_DIR/umdev)\n"
		"  --conf-dir DIR       device definitions (default /etc/umdev.d as root,\n"
		"                       else $XDG_CONFIG_HOME/umdev)\n"
		"  --sysfs-dir DIR      where to mount the sysfs tree (default <run-dir>/sys)\n"
		"  --no-sysfs           no sysfs tree\n"
		"  --driver-dir DIR     driver plugins (*.so) to load (default %s)\n"
		"  --socket-owner U[:G] owner and group of the device sockets (a group: mode 0660)\n"
		"  --log-level LEVEL    err, warning, notice, info (default) or debug\n"
		"  --workers N          threads serving the device sockets (default 0: one per CPU)\n"
		"  --max-devices N      devices to make room for: the fd limit is raised to N plus\n"
		"                       %d at start, or the daemon fails (default %u)\n",
		UMDEV_DRIVER_DIR, UMDEVD_FD_RESERVE, UMDEVD_DEFAULT_MAX_DEVICES);
}

int daemon_config_parse(int argc, char **argv, struct daemon_config *cfg)
{
	static const struct option options[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "conf-dir", required_argument, NULL, 'c' },
		{ "sysfs-dir", required_argument, NULL, 's' },
		{ "no-sysfs", no_argument, NULL, 'S' },
		{ "driver-dir", required_argument, NULL, 'd' },
		{ "socket-owner", required_argument, NULL, 'o' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "max-devices", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool sysfs_given = false, no_sysfs = false;
	int opt;

	if (set_defaults(cfg))
		return 2;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		int ret = 0;

		switch (opt) {
		case 'f':
			cfg->foreground = true;
			break;
		case 'r':
			ret = set_path(cfg->run_dir, "--run-dir", optarg);
			break;
		case 'c':
			ret = set_path(cfg->conf_dir, "--conf-dir", optarg);
			break;
		case 's':
			ret = set_path(cfg->sysfs_dir, "--sysfs-dir", optarg);
			sysfs_given = true;
			break;
		case 'S':
			no_sysfs = true;
			break;
		case 'd':
			ret = set_path(cfg->driver_dir, "--driver-dir", optarg);
			break;
		case 'o':
			ret = parse_owner(optarg, cfg);
			break;
		case 'l':
			cfg->log_level = -1;
			for (int i = 0; i <= UMDEV_LOG_DEBUG; i++)
				if (level_names[i] && !strcmp(level_names[i], optarg))
					cfg->log_level = i;
			if (cfg->log_level < 0) {
				fprintf(stderr, "umdevd: unknown log level '%s'\n", optarg);
				ret = -EINVAL;
			}
			break;
		case 'w': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end || !*optarg || n > 256) {
				fprintf(stderr, "umdevd: --workers takes 0 (one per CPU) to 256\n");
				ret = -EINVAL;
			}
			cfg->workers = (unsigned int)n;
			break;
		}
		case 'm': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end || !*optarg || *optarg == '-' || n < 1 ||
			    n > UMDEVD_MAX_MAX_DEVICES) {
				fprintf(stderr, "umdevd: --max-devices takes 1 to %u\n",
					UMDEVD_MAX_MAX_DEVICES);
				ret = -EINVAL;
			}
			cfg->max_devices = (unsigned int)n;
			break;
		}
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return 2;
		}
		if (ret)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "umdevd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (sysfs_given && no_sysfs) {
		fprintf(stderr, "umdevd: --sysfs-dir and --no-sysfs exclude each other\n");
		return 2;
	}
	if (!no_sysfs && !sysfs_given && set_path2(cfg->sysfs_dir, "the sysfs dir", cfg->run_dir, "sys"))
		return 2;
	if (no_sysfs)
		cfg->sysfs_dir[0] = '\0';
	/* <run-dir>/devices/<uuid>/vfio-user.sock must fit a UNIX socket address */
	size_t room = sizeof(((struct sockaddr_un *)0)->sun_path) - 1 -
		      strlen("/devices/01234567-89ab-cdef-0123-456789abcdef/vfio-user.sock");

	if (strlen(cfg->run_dir) > room) {
		fprintf(stderr,
			"umdevd: the run dir %s is too long: the device sockets under it would not "
			"fit a UNIX socket address (it may have at most %zu bytes)\n",
			cfg->run_dir, room);
		return 2;
	}
	return 0;
}

const char *daemon_level_name(int level);

const char *daemon_level_name(int level)
{
	return level >= 0 && level <= UMDEV_LOG_DEBUG && level_names[level] ? level_names[level]
									     : "log";
}
