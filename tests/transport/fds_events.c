/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fd probes, fd count and one-shot events of fds_events.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "fds_events.h"
#include "util/cond.h"

int probe_make(int *rd)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	*rd = p[0];
	return p[1];
}

bool probe_closed(int rd)
{
	struct pollfd pfd = { .fd = rd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP);
}

int count_fds(void)
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
	return n - 1; /* the directory's own fd */
}

void event_init(struct event *e)
{
	pthread_mutex_init(&e->lock, NULL);
	cond_init_monotonic(&e->cond);
	e->set = false;
}

void event_destroy(struct event *e)
{
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
}

void event_set(struct event *e)
{
	pthread_mutex_lock(&e->lock);
	e->set = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

bool event_is_set(struct event *e)
{
	bool set;

	pthread_mutex_lock(&e->lock);
	set = e->set;
	pthread_mutex_unlock(&e->lock);
	return set;
}

bool event_wait_ms(struct event *e, unsigned int timeout_ms)
{
	struct timespec deadline;
	bool set;

	deadline_after_ms(&deadline, timeout_ms);
	pthread_mutex_lock(&e->lock);
	while (!e->set && cond_wait_until(&e->cond, &e->lock, &deadline))
		;
	set = e->set;
	pthread_mutex_unlock(&e->lock);
	return set;
}
