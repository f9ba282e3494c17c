/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The umdevd of bench_daemon.h: fork and exec, a wait for the control socket, and a
 * line-at-a-time client of the control protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_daemon.h"

void bench_uuid(unsigned int n, char out[37])
{
	snprintf(out, 37, "b3c4d5e6-0000-4000-8000-%012x", n);
}

int bench_ctl_connect(const struct bench_daemon *d)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%.80s/control.sock", d->run_dir);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static void exec_daemon(const struct bench_daemon *d, const char *umdevd, bool sysfs,
			unsigned int workers, const char *const *extra)
{
	const char *argv[64];
	char conf[PATH_MAX], drivers[PATH_MAX], log[PATH_MAX], nw[16];
	int n = 0, fd;

	snprintf(conf, sizeof(conf), "%s/conf", d->dir);
	snprintf(drivers, sizeof(drivers), "%s/drivers", d->dir);
	snprintf(log, sizeof(log), "%s/umdevd.log", d->dir);
	snprintf(nw, sizeof(nw), "%u", workers);
	mkdir(conf, 0755);
	mkdir(drivers, 0755);
	argv[n++] = umdevd;
	argv[n++] = "--foreground";
	argv[n++] = "--log-level";
	argv[n++] = "warning";
	argv[n++] = "--run-dir";
	argv[n++] = d->run_dir;
	argv[n++] = "--conf-dir";
	argv[n++] = conf;
	argv[n++] = "--driver-dir";
	argv[n++] = drivers;
	argv[n++] = "--workers";
	argv[n++] = nw;
	if (!sysfs)
		argv[n++] = "--no-sysfs";
	for (; extra && *extra && n < 62; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		dup2(fd, 2);
	execv(umdevd, (char *const *)argv);
	_exit(127);
}

int bench_daemon_start(struct bench_daemon *d, const char *umdevd, bool sysfs,
		       unsigned int workers, const char *const *extra)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	memset(d, 0, sizeof(*d));
	d->ctl = -1;
	/* tmpfs, as /run is on a host: on a disk file system each socket's inode costs more */
	strcpy(d->dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/umdev-bench-XXXXXX"
						       : "/tmp/umdev-bench-XXXXXX");
	if (!mkdtemp(d->dir)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(d->run_dir, sizeof(d->run_dir), "%s/run", d->dir);
	if (sysfs)
		snprintf(d->sys_dir, sizeof(d->sys_dir), "%s/sys", d->run_dir);
	d->pid = fork();
	if (d->pid < 0) {
		perror("fork");
		return -1;
	}
	if (d->pid == 0)
		exec_daemon(d, umdevd, sysfs, workers, extra);
	for (int i = 0; i < 1000; i++) {
		int status;

		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "umdevd exited (status 0x%x); see %s/umdevd.log\n", status,
				d->dir);
			d->pid = 0;
			return -1;
		}
		d->ctl = bench_ctl_connect(d);
		if (d->ctl >= 0)
			return 0;
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "umdevd did not open its control socket in 10 s\n");
	bench_daemon_stop(d);
	return -1;
}

void bench_daemon_stop(struct bench_daemon *d)
{
	char cmd[PATH_MAX];

	if (d->ctl >= 0)
		close(d->ctl);
	d->ctl = -1;
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, NULL, 0);
		d->pid = 0;
	}
	if (d->dir[0] && !getenv("BENCH_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", d->dir);
	}
}

int bench_ctl_call(struct bench_daemon *d, const char *request, char *reply, size_t len)
{
	size_t rlen = strlen(request), got = 0;
	char line[512];

	if (rlen + 1 > sizeof(line))
		return -1;
	memcpy(line, request, rlen);
	line[rlen] = '\n';
	if (write(d->ctl, line, rlen + 1) != (ssize_t)(rlen + 1))
		return -1;
	/* one reply per request and no subscription: the reply ends the bytes that come */
	while (got + 1 < len) {
		ssize_t n = read(d->ctl, reply + got, len - 1 - got);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
		if (reply[got - 1] == '\n')
			break;
	}
	reply[got] = '\0';
	return strstr(reply, "\"ok\":true") || strstr(reply, "\"ok\": true") ? 0 : -1;
}

int bench_ctl_create(struct bench_daemon *d, unsigned int n)
{
	char req[256], reply[1024], uuid[37];

	bench_uuid(n, uuid);
	snprintf(req, sizeof(req),
		 "{\"command\":\"create\",\"parent\":\"null\",\"mdev_type\":\"null-1\","
		 "\"uuid\":\"%s\"}", uuid);
	if (bench_ctl_call(d, req, reply, sizeof(reply))) {
		fprintf(stderr, "create %s: %s", uuid, reply);
		return -1;
	}
	return 0;
}

int bench_ctl_remove(struct bench_daemon *d, unsigned int n)
{
	char req[256], reply[1024], uuid[37];

	bench_uuid(n, uuid);
	snprintf(req, sizeof(req), "{\"command\":\"remove\",\"uuid\":\"%s\"}", uuid);
	if (bench_ctl_call(d, req, reply, sizeof(reply))) {
		fprintf(stderr, "remove %s: %s", uuid, reply);
		return -1;
	}
	return 0;
}
