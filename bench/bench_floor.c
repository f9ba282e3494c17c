/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The raw ping-pong floor of bench_floor.h: an echo thread that reads @len bytes and writes
 * them back, and a client that times each round trip.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_floor.h"
#include "bench_util.h"

struct echo {
	int fd;
	size_t len;
};

static void *echo_main(void *arg)
{
	struct echo *e = arg;
	char buf[4096];

	while (!bench_read_full(e->fd, buf, e->len))
		if (bench_write_full(e->fd, buf, e->len))
			break;
	return NULL;
}

double bench_floor_pingpong_ns(size_t len, int rounds)
{
	struct echo e = { .len = len };
	uint64_t *samples;
	char buf[4096];
	pthread_t t;
	double median = -1.0;
	int sv[2];

	if (len == 0 || len > sizeof(buf) || rounds <= 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1.0;
	samples = calloc((size_t)rounds, sizeof(*samples));
	e.fd = sv[1];
	if (!samples || pthread_create(&t, NULL, echo_main, &e))
		goto out_close;
	memset(buf, 'x', len);
	for (int i = -rounds / 10; i < rounds; i++) {
		uint64_t t0 = bench_now_ns();

		if (bench_write_full(sv[0], buf, len) || bench_read_full(sv[0], buf, len))
			break;
		if (i >= 0)
			samples[i] = bench_now_ns() - t0;
		if (i == rounds - 1)
			median = bench_percentile(samples, (size_t)rounds, 50);
	}
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(t, NULL);
out_close:
	free(samples);
	close(sv[0]);
	close(sv[1]);
	return median;
}
