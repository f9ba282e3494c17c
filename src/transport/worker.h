/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The workers of <umdev/workers.h> as transports use them: an event source is an fd with a
 * callback, added to one worker's epoll; callbacks run on that worker's thread only. Code on
 * other threads reaches a worker by posting a call to it (worker_call), which is how sources
 * are torn down without racing their callbacks.
 */
#ifndef UMDEV_TRANSPORT_WORKER_H
#define UMDEV_TRANSPORT_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <umdev/workers.h>

struct worker;

struct worker_source {
	int fd;
	/* Called on the worker thread with the epoll events that are ready. */
	void (*ready)(struct worker_source *src, uint32_t events);
};

/* The worker with the fewest sources (ties: round robin). */
struct worker *umdev_workers_pick(struct umdev_workers *workers);

/* Adds, changes or removes a source (level-triggered @events). Add and modify may be called
 * from any thread; remove only on the worker's thread, after which no callback of the source
 * runs any more (not even one already fetched by the current epoll_wait). */
int worker_add(struct worker *w, struct worker_source *src, uint32_t events);
int worker_modify(struct worker *w, struct worker_source *src, uint32_t events);
void worker_remove(struct worker *w, struct worker_source *src);

/*
 * Runs fn(arg) on the worker's thread. With @wait, returns after fn has run (inline when
 * called on the worker itself); without, fn runs after the current round of events. 0 or
 * -ENOMEM.
 */
int worker_call(struct worker *w, void (*fn)(void *arg), void *arg, bool wait);

/*
 * On the worker's own thread, inside a callback that waits for something one of the worker's
 * sources brings: dispatches the events that come within @timeout_ms (the callback's own
 * source included: it must handle being called while it waits). Posted calls do not run.
 * The number of events, or -EDEADLK when rounds are nested too deep (wait some other way).
 */
int worker_poll_nested(struct worker *w, int timeout_ms);

/* On the worker's own thread: runs the calls posted to it so far (for a wait that must let
 * them through). */
void worker_run_pending(struct worker *w);

/* True on the worker's own thread. */
bool worker_is_current(const struct worker *w);

#endif
