/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A waitpoint holds a thread inside a callback until the test lets it go, so that a test can
 * act while a create, a remove or a request is in flight. Waits are bounded (a broken core
 * fails the test instead of hanging it).
 */
#ifndef UMDEV_TESTS_WAITPOINT_H
#define UMDEV_TESTS_WAITPOINT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#define WAITPOINT_TIMEOUT_S 20

struct waitpoint {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int arrived;  /* threads that reached it */
	bool released;
};

static inline void wp_init(struct waitpoint *wp)
{
	pthread_mutex_init(&wp->lock, NULL);
	pthread_cond_init(&wp->cond, NULL);
	wp->arrived = 0;
	wp->released = false;
}

static inline void wp_destroy(struct waitpoint *wp)
{
	pthread_cond_destroy(&wp->cond);
	pthread_mutex_destroy(&wp->lock);
}

static inline void wp_deadline(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += WAITPOINT_TIMEOUT_S;
}

/* Called by the held thread: announces itself, then waits to be released. */
static inline bool wp_arrive(struct waitpoint *wp)
{
	struct timespec ts;
	bool ok = true;

	wp_deadline(&ts);
	pthread_mutex_lock(&wp->lock);
	wp->arrived++;
	pthread_cond_broadcast(&wp->cond);
	while (!wp->released && ok)
		ok = pthread_cond_timedwait(&wp->cond, &wp->lock, &ts) == 0;
	pthread_mutex_unlock(&wp->lock);
	return ok;
}

/* Called by the test: waits until @n threads have arrived; false on timeout. */
static inline bool wp_wait_arrived(struct waitpoint *wp, int n)
{
	struct timespec ts;
	bool ok = true;

	wp_deadline(&ts);
	pthread_mutex_lock(&wp->lock);
	while (wp->arrived < n && ok)
		ok = pthread_cond_timedwait(&wp->cond, &wp->lock, &ts) == 0;
	ok = wp->arrived >= n;
	pthread_mutex_unlock(&wp->lock);
	return ok;
}

static inline void wp_release(struct waitpoint *wp)
{
	pthread_mutex_lock(&wp->lock);
	wp->released = true;
	pthread_cond_broadcast(&wp->cond);
	pthread_mutex_unlock(&wp->lock);
}

#endif
