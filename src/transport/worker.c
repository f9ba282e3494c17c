/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The worker pool: threads that each wait on their own epoll set and call the ready()
 * callback of the sources that fire. Calls posted from other threads go through a mutex-
 * guarded queue and an eventfd that wakes the worker, and run between rounds. A callback
 * that must wait for something only another source brings runs a nested round
 * (worker_poll_nested), so that the worker's other sources are not held up; posted calls never
 * run nested. A source removed during a round of events is struck from the rest of that
 * round and of the rounds it is nested in, so its owner may free it right away.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <umdev/log.h>

#include "transport/worker.h"
#include "util/list.h"

#define WORKER_BATCH 64
/* Rounds of events run inside a callback that waits (worker_poll_nested), at most. */
#define WORKER_MAX_NESTING 8

/* A round of events being dispatched; rounds nest when a callback waits. */
struct worker_round {
	struct epoll_event ev[WORKER_BATCH];
	int len, pos;
	struct worker_round *outer;
};

struct worker_call {
	struct list_head node;
	void (*fn)(void *arg);
	void *arg;
	bool wait;
	bool done; /* for waited calls, under the worker's lock */
};

struct worker {
	struct umdev_workers *pool;
	pthread_t thread;
	int epfd;
	struct worker_source wake; /* its eventfd */
	atomic_uint nsources;
	bool stop;		   /* under lock */

	pthread_mutex_t lock;	   /* guards calls and `done` of waited calls */
	pthread_cond_t called;
	struct list_head calls;

	/* the rounds of events being dispatched, innermost first (worker thread only) */
	struct worker_round *rounds;
	unsigned int nesting;
};

struct umdev_workers {
	unsigned int n;
	atomic_uint next;
	struct worker *workers;
};

static _Thread_local struct worker *current_worker;

bool worker_is_current(const struct worker *w)
{
	return current_worker == w;
}

static void worker_run_calls(struct worker *w)
{
	for (;;) {
		struct worker_call *c;

		pthread_mutex_lock(&w->lock);
		if (list_empty(&w->calls)) {
			pthread_mutex_unlock(&w->lock);
			return;
		}
		c = list_first_entry(&w->calls, struct worker_call, node);
		list_del(&c->node);
		pthread_mutex_unlock(&w->lock);

		c->fn(c->arg);
		if (c->wait) {
			pthread_mutex_lock(&w->lock);
			c->done = true;
			pthread_cond_broadcast(&w->called);
			pthread_mutex_unlock(&w->lock);
		} else {
			free(c);
		}
	}
}

void worker_run_pending(struct worker *w)
{
	worker_run_calls(w);
}

static void worker_wake_ready(struct worker_source *src, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(src->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		umdev_log(UMDEV_LOG_ERR, "worker: wake-up eventfd: read failed");
}

/* Waits up to @timeout_ms for events and dispatches them; the count, or -errno. */
static int worker_round(struct worker *w, struct worker_round *r, int timeout_ms)
{
	int n = epoll_wait(w->epfd, r->ev, WORKER_BATCH, timeout_ms);

	if (n < 0)
		return -errno;
	r->len = n;
	r->outer = w->rounds;
	w->rounds = r;
	for (r->pos = 0; r->pos < r->len; r->pos++) {
		struct worker_source *src = r->ev[r->pos].data.ptr;

		if (src)
			src->ready(src, r->ev[r->pos].events);
	}
	w->rounds = r->outer;
	return n;
}

int worker_poll_nested(struct worker *w, int timeout_ms)
{
	struct worker_round r;
	int n;

	if (w->nesting >= WORKER_MAX_NESTING)
		return -EDEADLK;
	w->nesting++;
	n = worker_round(w, &r, timeout_ms);
	w->nesting--;
	return n == -EINTR ? 0 : n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct worker_round r;

	current_worker = w;
	for (;;) {
		bool stop;
		int n = worker_round(w, &r, -1);

		if (n == -EINTR)
			continue;
		if (n < 0) {
			umdev_log(UMDEV_LOG_ERR, "worker: epoll_wait failed: %d", -n);
			break;
		}
		worker_run_calls(w);
		pthread_mutex_lock(&w->lock);
		stop = w->stop;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
	}
	current_worker = NULL;
	return NULL;
}

static void worker_kick(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->wake.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		umdev_log(UMDEV_LOG_ERR, "worker: wake-up eventfd: write failed");
}

int worker_add(struct worker *w, struct worker_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0)
		return -errno;
	atomic_fetch_add(&w->nsources, 1);
	return 0;
}

int worker_modify(struct worker *w, struct worker_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(w->epfd, EPOLL_CTL_MOD, src->fd, &ev) < 0 ? -errno : 0;
}

void worker_remove(struct worker *w, struct worker_source *src)
{
	if (epoll_ctl(w->epfd, EPOLL_CTL_DEL, src->fd, NULL) < 0)
		umdev_log(UMDEV_LOG_ERR, "worker: removing fd %d failed: %d", src->fd, errno);
	atomic_fetch_sub(&w->nsources, 1);
	/* strike it from the rest of every round being dispatched */
	for (struct worker_round *r = w->rounds; r; r = r->outer)
		for (int i = r->pos + 1; i < r->len; i++)
			if (r->ev[i].data.ptr == src)
				r->ev[i].data.ptr = NULL;
}

int worker_call(struct worker *w, void (*fn)(void *arg), void *arg, bool wait)
{
	struct worker_call *c, local;
	bool kick;

	if (wait && worker_is_current(w)) {
		fn(arg);
		return 0;
	}
	if (wait) {
		c = &local;
	} else {
		c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
	}
	c->fn = fn;
	c->arg = arg;
	c->wait = wait;
	c->done = false;
	pthread_mutex_lock(&w->lock);
	/* the worker drains the list until it finds it empty under the lock: a call added to
	 * a list that was not empty is run by the drain already kicked for */
	kick = list_empty(&w->calls) && !worker_is_current(w);
	list_add_tail(&c->node, &w->calls);
	pthread_mutex_unlock(&w->lock);
	if (kick)
		worker_kick(w);
	if (wait) {
		pthread_mutex_lock(&w->lock);
		while (!c->done)
			pthread_cond_wait(&w->called, &w->lock);
		pthread_mutex_unlock(&w->lock);
	}
	return 0;
}

struct worker *umdev_workers_pick(struct umdev_workers *pool)
{
	unsigned int start = atomic_fetch_add(&pool->next, 1), best = start % pool->n;

	for (unsigned int i = 1; i < pool->n; i++) {
		unsigned int k = (start + i) % pool->n;

		if (atomic_load(&pool->workers[k].nsources) <
		    atomic_load(&pool->workers[best].nsources))
			best = k;
	}
	return &pool->workers[best];
}

unsigned int umdev_workers_count(const struct umdev_workers *pool)
{
	return pool->n;
}

static int worker_init(struct worker *w, struct umdev_workers *pool)
{
	int ret;

	w->pool = pool;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->called, NULL);
	list_init(&w->calls);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -errno;
	w->wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake.fd < 0) {
		ret = -errno;
		goto err_close_epfd;
	}
	w->wake.ready = worker_wake_ready;
	ret = worker_add(w, &w->wake, EPOLLIN);
	if (ret)
		goto err_close_wake;
	atomic_store(&w->nsources, 0); /* the wake-up source does not count */
	ret = -pthread_create(&w->thread, NULL, worker_main, w);
	if (ret)
		goto err_close_wake;
	return 0;

err_close_wake:
	close(w->wake.fd);
err_close_epfd:
	close(w->epfd);
	return ret;
}

static void worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_mutex_unlock(&w->lock);
	worker_kick(w);
	pthread_join(w->thread, NULL);
	worker_run_calls(w); /* calls posted after the last round */
	close(w->wake.fd);
	close(w->epfd);
	pthread_cond_destroy(&w->called);
	pthread_mutex_destroy(&w->lock);
}

int umdev_workers_create(unsigned int nthreads, struct umdev_workers **ret_workers)
{
	struct umdev_workers *pool;
	int ret;

	if (!nthreads) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		nthreads = cpus > 0 ? (unsigned int)cpus : 1;
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->workers = calloc(nthreads, sizeof(*pool->workers));
	if (!pool->workers) {
		free(pool);
		return -ENOMEM;
	}
	for (pool->n = 0; pool->n < nthreads; pool->n++) {
		ret = worker_init(&pool->workers[pool->n], pool);
		if (ret) {
			umdev_workers_destroy(pool);
			return ret;
		}
	}
	*ret_workers = pool;
	return 0;
}

void umdev_workers_destroy(struct umdev_workers *pool)
{
	if (!pool)
		return;
	for (unsigned int i = 0; i < pool->n; i++) {
		/* after the calls still posted, which may release sources */
		worker_stop(&pool->workers[i]);
		if (atomic_load(&pool->workers[i].nsources))
			umdev_log(UMDEV_LOG_ERR, "workers: destroyed with %u sources on worker %u",
				  atomic_load(&pool->workers[i].nsources), i);
	}
	free(pool->workers);
	free(pool);
}
