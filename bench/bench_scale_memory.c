/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What an idle device costs umdevd: a real daemon (with its FUSE tree as root), its resident
 * memory (VmRSS of /proc/PID/status) and open fds (/proc/PID/fd) read before and after
 * creating N null-1 devices through the control socket, each device with its socket
 * listening, and the difference divided by N. The floor is the null driver's own state of a
 * device (config space, BAR0 and a lock: what any implementation must keep); the figures are
 * also given against the goals (16 KiB and one fd per idle device).
 *
 *   bench_scale_memory [N]     (default 10000; UMDEVD=path overrides the umdevd meson built)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_daemon.h"
#include "bench_util.h"

/* The null driver's struct null_state: a mutex, 256 bytes of config space, a 4 KiB BAR0. */
#define NULL_STATE_BYTES (40 + 256 + 4096)

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static long fd_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 10000;
	const char *umdevd = getenv("UMDEVD") ? getenv("UMDEVD") : BENCH_UMDEVD;
	bool fuse = geteuid() == 0 && access("/dev/fuse", R_OK | W_OK) == 0;
	char max[16];
	const char *extra[] = { "--max-devices", max, NULL };
	long rss0, fds0, rss1, fds1;
	struct bench_daemon d;
	uint64_t t0;

	if (n < 1) {
		fprintf(stderr, "usage: bench_scale_memory [N >= 1]\n");
		return 2;
	}
	snprintf(max, sizeof(max), "%u", n + 100);
	if (bench_daemon_start(&d, umdevd, fuse, 0, extra))
		return 1;
	/* one device made and removed first, so that what every device shares (the driver's
	 * first allocations, the worker's) is in the baseline */
	if (bench_ctl_create(&d, 0xffffff) || bench_ctl_remove(&d, 0xffffff))
		goto fail;
	rss0 = rss_kib(d.pid);
	fds0 = fd_count(d.pid);
	t0 = bench_now_ns();
	for (unsigned int i = 0; i < n; i++)
		if (bench_ctl_create(&d, i))
			goto fail;
	t0 = bench_now_ns() - t0;
	rss1 = rss_kib(d.pid);
	fds1 = fd_count(d.pid);
	printf("umdevd%s with %u idle null-1 devices (created in %.2f s)\n",
	       fuse ? " and its FUSE tree" : " (no FUSE tree: not root)", n, (double)t0 / 1e9);
	printf("VmRSS      %8ld KiB -> %8ld KiB: %6.2f KiB per device, %.2f x the floor "
	       "(the driver's %d bytes), %.2f x the goal (16 KiB)\n", rss0, rss1,
	       (double)(rss1 - rss0) / n, (double)(rss1 - rss0) * 1024 / n / NULL_STATE_BYTES,
	       NULL_STATE_BYTES, (double)(rss1 - rss0) / n / 16);
	printf("open fds   %8ld     -> %8ld    : %6.3f per device (goal: 1)\n", fds0, fds1,
	       (double)(fds1 - fds0) / n);
	bench_daemon_stop(&d);
	return 0;
fail:
	bench_daemon_stop(&d);
	return 1;
}
