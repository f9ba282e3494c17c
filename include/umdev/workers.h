/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fixed pool of worker threads, each running its own epoll loop, that serves umdev's
 * transports: every socket of a device is handled by one worker, so the device's messages
 * are processed in order, while devices on different workers run in parallel. A program
 * that serves devices (umdevd, umdev-serve, an embedder) creates one pool and hands it to
 * each server it creates.
 */
#ifndef UMDEV_WORKERS_H
#define UMDEV_WORKERS_H

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct umdev_workers;

/* Starts @nthreads workers (0: one per online CPU). 0 or -errno. */
int umdev_workers_create(unsigned int nthreads, struct umdev_workers **ret_workers);

/* Stops and joins the workers; every server using them must have been destroyed. NULL is
 * ignored. */
void umdev_workers_destroy(struct umdev_workers *workers);

/* Number of worker threads. */
unsigned int umdev_workers_count(const struct umdev_workers *workers);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
