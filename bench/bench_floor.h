/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor of the management and many-client benchmarks: a raw UNIX-socket ping-pong
 * between this thread and an echo thread over a socketpair, with messages of a given size,
 * measured in the same run as what it is compared with.
 */
#ifndef UMDEV_BENCH_FLOOR_H
#define UMDEV_BENCH_FLOOR_H

#include <stddef.h>

/* Median nanoseconds of @rounds round trips of a @len-byte message (len <= 4096); -1.0
 * when the socketpair or the thread cannot be made. */
double bench_floor_pingpong_ns(size_t len, int rounds);

#endif
