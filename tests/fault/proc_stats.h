/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the fault tests and the soak watch in another process through /proc/PID: open file
 * descriptors, resident memory, memory mappings and threads.
 */
#ifndef UMDEV_TESTS_FAULT_PROC_STATS_H
#define UMDEV_TESTS_FAULT_PROC_STATS_H

#include <sys/types.h>

struct proc_stats {
	long fds;     /* entries of /proc/PID/fd */
	long rss_kib; /* VmRSS */
	long maps;    /* lines of /proc/PID/maps */
	long threads; /* Threads */
};

/* 0, or -errno (-ESRCH once the process is gone). */
int proc_stats_read(pid_t pid, struct proc_stats *st);

#endif
