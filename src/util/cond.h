/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Condition variables that wait against CLOCK_MONOTONIC deadlines, so that a change of the
 * wall clock neither shortens nor stretches a wait (request intervals, unpin waits).
 */
#ifndef UMDEV_UTIL_COND_H
#define UMDEV_UTIL_COND_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

/* Initialises @cond to measure its timed waits on CLOCK_MONOTONIC. */
void cond_init_monotonic(pthread_cond_t *cond);

/* The CLOCK_MONOTONIC time @ms milliseconds from now. */
void deadline_after_ms(struct timespec *deadline, unsigned int ms);

/* Waits once on @cond; false when @deadline passed (the caller re-checks its condition). */
bool cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, const struct timespec *deadline);

#endif
