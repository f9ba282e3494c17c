/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the transport suites (dmatest's, vfio-user's hostile and functional ones, mpqemu's)
 * use to watch file descriptors and to sync their threads: fd probes (a pipe whose write end
 * goes to the server, to see when every copy of it is closed), the count of the process's
 * open fds, and a one-shot event with a bounded wait.
 */
#ifndef UMDEV_TESTS_TRANSPORT_FDS_EVENTS_H
#define UMDEV_TESTS_TRANSPORT_FDS_EVENTS_H

#include <pthread.h>
#include <stdbool.h>

/* A pipe whose write end is sent to the server: returns the write end, *@rd the read end. */
int probe_make(int *rd);
/* True once every copy of the write end is closed (the read end sees POLLHUP). */
bool probe_closed(int rd);

/* Open file descriptors of the process. */
int count_fds(void);

/* A one-shot event between threads. */
struct event {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool set;
};
void event_init(struct event *e);
void event_destroy(struct event *e);
void event_set(struct event *e);
bool event_is_set(struct event *e);
/* True if set within @timeout_ms. */
bool event_wait_ms(struct event *e, unsigned int timeout_ms);

#endif
