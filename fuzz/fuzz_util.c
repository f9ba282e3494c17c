/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fuzz targets' shared helpers (fuzz_util.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"

_Noreturn void fuzz_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", program_invocation_short_name, what);
	abort();
}

int fuzz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

long fuzz_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}
