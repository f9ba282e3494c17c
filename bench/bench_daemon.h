/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A real umdevd for the benchmarks that measure the daemon: started in the foreground in a
 * temporary run dir (with or without its FUSE tree), driven through its control socket (one
 * JSON line per request, one reply line each; docs/control-protocol.md), stopped with
 * SIGTERM and its directory removed.
 */
#ifndef UMDEV_BENCH_DAEMON_H
#define UMDEV_BENCH_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bench_daemon {
	pid_t pid;
	char dir[64];		/* the temporary directory holding everything */
	char run_dir[128];
	char sys_dir[192];	/* empty without the FUSE tree */
	int ctl;		/* a connection to the control socket */
};

/*
 * Starts @umdevd (--workers @workers, 0: one per CPU) with @extra (NULL-terminated, may be
 * NULL) appended to its command line, and waits until its control socket answers. Its
 * stderr goes to <dir>/umdevd.log. 0 or -1 (with a message on stderr).
 */
int bench_daemon_start(struct bench_daemon *d, const char *umdevd, bool sysfs,
		       unsigned int workers, const char *const *extra);
void bench_daemon_stop(struct bench_daemon *d);

/* Another connection to the daemon's control socket; the fd or -1. */
int bench_ctl_connect(const struct bench_daemon *d);

/* Sends one request line (without its newline) and reads the reply line into @reply;
 * 0 when the reply says "ok": true, -1 otherwise. */
int bench_ctl_call(struct bench_daemon *d, const char *request, char *reply, size_t len);

/* create and remove of a null-1 device with UUID number @n (a fixed prefix). 0 or -1. */
int bench_ctl_create(struct bench_daemon *d, unsigned int n);
int bench_ctl_remove(struct bench_daemon *d, unsigned int n);

/* The canonical UUID of device number @n (37 bytes with the NUL). */
void bench_uuid(unsigned int n, char out[37]);

#endif
