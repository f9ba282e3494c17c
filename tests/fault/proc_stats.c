/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads a process's resource figures from /proc (proc_stats.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proc_stats.h"

static long count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static long count_lines(const char *path)
{
	FILE *f = fopen(path, "re");
	long n = 0;
	int c;

	if (!f)
		return -errno;
	while ((c = getc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

static int read_status(pid_t pid, struct proc_stats *st)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	st->rss_kib = st->threads = -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			sscanf(line + 6, "%ld", &st->rss_kib);
		else if (!strncmp(line, "Threads:", 8))
			sscanf(line + 8, "%ld", &st->threads);
	}
	fclose(f);
	return st->rss_kib < 0 || st->threads < 0 ? -ESRCH : 0;
}

int proc_stats_read(pid_t pid, struct proc_stats *st)
{
	char path[64];
	int ret;

	st->fds = count_fds(pid);
	if (st->fds < 0)
		return st->fds == -ENOENT ? -ESRCH : (int)st->fds;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	st->maps = count_lines(path);
	if (st->maps < 0)
		return st->maps == -ENOENT ? -ESRCH : (int)st->maps;
	ret = read_status(pid, st);
	return ret == -ENOENT ? -ESRCH : ret;
}
