/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers for umdev's benchmarks: a monotonic clock in nanoseconds, percentiles of a sample,
 * pinning the calling thread to a CPU, and exact socket reads and writes. Every benchmark
 * measures a floor in the same run and prints its figures as ratios to it.
 */
#ifndef UMDEV_BENCH_UTIL_H
#define UMDEV_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

uint64_t bench_now_ns(void);

/* Sorts @v and returns its @p-th percentile (0 < p <= 100). */
double bench_percentile(uint64_t *v, size_t n, double p);

/* Pins the calling thread to @cpu; 0 or -errno. */
int bench_pin_self(int cpu);

/* Number of online CPUs. */
int bench_cpus(void);

/* Reads or writes exactly @len bytes (blocking); 0 or -1. */
int bench_read_full(int fd, void *buf, size_t len);
int bench_write_full(int fd, const void *buf, size_t len);

#endif
