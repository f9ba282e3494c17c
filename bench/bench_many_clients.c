/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Latency of one device's 4-byte region reads while many devices are busy: a real umdevd
 * with N null-1 devices (default 1,000), each with a connected libumdev-client client.
 *   one      only the measured client reads (the other devices exist, without clients)
 *   all      N-1 other clients read too, paced to RATE reads/s in all (default 20,000),
 *            from two threads that go round them
 *   hostile  as "all", plus a client that floods its device with requests as fast as the
 *            server answers them (it reads the replies and drops them; it connects again if
 *            the server drops it), and one that keeps sending requests and never reads a
 *            reply (the server stops reading it once its replies pile up)
 *   cpu-hog  as "all", plus HOG_THREADS threads that only spin: the control for "hostile".
 *            A flooder keeps a CPU busy in its own process and one in the server; on a
 *            machine with few CPUs that alone delays the measured client, whatever the server
 *            does, and this row shows how much.
 * For each: the median and p99 of READS timed reads of the measured client, as ratios to
 * the "one" figure (goal: "all" within 2x), "hostile" and "cpu-hog" to "all" (goal: p99
 * unmoved by the flooder; what the hog moves, the flooder may move too), and to the floor, a
 * raw UNIX-socket ping-pong of the same size measured in the same run. The four are
 * measured in interleaved slices of READS/SLICES reads (the other clients, the flooder and
 * the hog paused and resumed; all clients stay connected), so that the load of a shared
 * machine hits them alike.
 *
 *   bench_many_clients [N [READS [RATE]]]     (UMDEVD=path overrides the umdevd meson built)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <umdev/client.h>

#include "bench_daemon.h"
#include "bench_floor.h"
#include "bench_util.h"
#include "transport/vfio-user/vfio_user_proto.h"

#define BG_THREADS 2
#define HOG_THREADS 2
#define STATES 4 /* one, all, hostile, hog */
/* The reply to the flooder's 4-byte read. */
#define FLOOD_REPLY_SIZE (sizeof(struct vfu_hdr) + sizeof(struct vfu_region_access) + 4)
#define SLICES 10

static struct umdev_client **clients;
static unsigned int nclients;
static atomic_bool bg_stop, bg_pause, flood_pause, hog_pause;
static double bg_rate;

static int connect_device(struct bench_daemon *d, unsigned int n, struct umdev_client **c)
{
	char uuid[37], path[256];

	bench_uuid(n, uuid);
	snprintf(path, sizeof(path), "%s/devices/%s/vfio-user.sock", d->run_dir, uuid);
	return umdev_client_connect(path, c);
}

/* @n timed reads of the measured client into @s (after a few untimed ones); 0 or -1. */
static int measure(uint64_t *s, int n)
{
	uint32_t v;

	for (int i = -10; i < n; i++) {
		uint64_t t0 = bench_now_ns();

		if (umdev_client_region_read(clients[0], VFIO_PCI_BAR0_REGION_INDEX, 0, &v, 4) != 4)
			return -1;
		if (i >= 0)
			s[i] = bench_now_ns() - t0;
	}
	return 0;
}

/* A background thread: reads from every BG_THREADS-th client in turn, paced. */
static void *bg_main(void *arg)
{
	unsigned int first = (unsigned int)(uintptr_t)arg;
	uint64_t period = (uint64_t)(1e9 * BG_THREADS / bg_rate), next = bench_now_ns();
	uint32_t v;

	while (!atomic_load(&bg_stop)) {
		for (unsigned int i = 1 + first; i < nclients && !atomic_load(&bg_stop);
		     i += BG_THREADS) {
			uint64_t now;

			while (atomic_load(&bg_pause) && !atomic_load(&bg_stop)) {
				usleep(1000);
				next = bench_now_ns();
			}
			umdev_client_region_read(clients[i], VFIO_PCI_BAR0_REGION_INDEX, 0, &v, 4);
			next += period;
			now = bench_now_ns();
			if (next > now) {
				struct timespec ts = { 0, (long)(next - now) };

				nanosleep(&ts, NULL);
			} else if (now - next > 100 * period) {
				next = now; /* fell behind: no burst to catch up */
			}
		}
	}
	return NULL;
}

struct hostile {
	struct umdev_client *c;
	int fd;
	bool flood; /* keeps writing and reading, and connects again when disconnected; else
		     * keeps writing and never reads */
	char path[256];
	unsigned int reconnects;
	uint64_t reply_bytes; /* read by the flooder */
};

/* Connects @h's client again after the server dropped it (it is busy until it is gone). */
static int reconnect(struct hostile *h)
{
	umdev_client_close(h->c);
	h->c = NULL;
	for (int i = 0; i < 1000 && !atomic_load(&bg_stop); i++) {
		if (umdev_client_connect(h->path, &h->c) == 0) {
			h->fd = umdev_client_fd(h->c);
			fcntl(h->fd, F_SETFL, fcntl(h->fd, F_GETFL) | O_NONBLOCK);
			h->reconnects++;
			return 0;
		}
		usleep(1000);
	}
	return -1;
}

static void *hostile_main(void *arg)
{
	struct hostile *h = arg;
	struct {
		struct vfu_hdr hdr;
		struct vfu_region_access rw;
	} req = { .hdr = { .command = VFU_CMD_REGION_READ, .msg_size = sizeof(req) },
		  .rw = { .region = VFIO_PCI_BAR0_REGION_INDEX, .count = 4 } };
	static _Thread_local char sink[65536];
	unsigned int sent = 0;
	size_t off = 0;

	while (!atomic_load(&bg_stop)) {
		struct pollfd p = { h->fd, POLLOUT | (h->flood ? POLLIN : 0), 0 };
		ssize_t n;

		if (h->flood && atomic_load(&flood_pause)) {
			usleep(1000);
			continue;
		}
		if (h->flood) {
			n = read(h->fd, sink, sizeof(sink));
			if (n > 0)
				h->reply_bytes += (uint64_t)n;
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				if (reconnect(h))
					break;
				off = 0;
				continue;
			}
		}
		req.hdr.msg_id = (uint16_t)sent;
		n = write(h->fd, (char *)&req + off, sizeof(req) - off);
		if (n > 0) {
			off += (size_t)n; /* the socket may take part of a request */
			if (off == sizeof(req)) {
				off = 0;
				sent++;
			}
		} else if (n < 0 && errno == EAGAIN) {
			poll(&p, 1, 10);
		} else if (!h->flood || reconnect(h)) {
			break;
		} else {
			off = 0;
		}
	}
	return NULL;
}

/* A thread that only burns CPU while the hog state is on: the control for the flooder. */
static void *hog_main(void *arg)
{
	volatile uint64_t spins = 0;

	(void)arg;
	while (!atomic_load(&bg_stop)) {
		if (atomic_load(&hog_pause)) {
			usleep(1000);
			continue;
		}
		for (int i = 0; i < 100000; i++)
			spins++;
	}
	return NULL;
}

static void print_row(const char *name, double med, double p99, double base_med, double base_p99,
		      const char *base, double floor_ns)
{
	printf("%-8s %9.1f %9.1f %8.2f %8.2f  (%s)  %8.2f %8.2f\n", name, med / 1e3, p99 / 1e3,
	       med / base_med, p99 / base_p99, base, med / floor_ns, p99 / floor_ns);
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 1000;
	int reads = argc > 2 ? atoi(argv[2]) : 5000;
	const char *umdevd = getenv("UMDEVD") ? getenv("UMDEVD") : BENCH_UMDEVD;
	double med[STATES], p99[STATES], floor_ns;
	struct hostile hostile[2] = { { .fd = -1, .flood = true }, { .fd = -1 } };
	pthread_t bg[BG_THREADS], ht[2], hog[HOG_THREADS];
	char max[16];
	const char *extra[] = { "--max-devices", max, NULL };
	uint64_t *samples[STATES] = { NULL };
	struct bench_daemon d;
	int ret = 1;

	bg_rate = argc > 3 ? atof(argv[3]) : 20000;
	if (n < 2 || reads < 100 * SLICES || bg_rate <= 0) {
		fprintf(stderr, "usage: bench_many_clients [N >= 2 [READS >= 1000 [RATE > 0]]]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* the flooder is disconnected by the server */
	floor_ns = bench_floor_pingpong_ns(36, 20000);
	snprintf(max, sizeof(max), "%u", n + 10);
	clients = calloc(n, sizeof(*clients));
	if (!clients || bench_daemon_start(&d, umdevd, false, 0, extra))
		return 1;
	for (unsigned int i = 0; i < n + 2; i++)
		if (bench_ctl_create(&d, i))
			goto out;
	for (; nclients < n; nclients++)
		if (connect_device(&d, nclients, &clients[nclients])) {
			fprintf(stderr, "client %u cannot connect\n", nclients);
			goto out;
		}
	for (unsigned int h = 0; h < 2; h++) {
		char uuid[37];

		bench_uuid(n + h, uuid);
		snprintf(hostile[h].path, sizeof(hostile[h].path), "%s/devices/%s/vfio-user.sock",
			 d.run_dir, uuid);
		if (umdev_client_connect(hostile[h].path, &hostile[h].c))
			goto out;
		hostile[h].fd = umdev_client_fd(hostile[h].c);
		fcntl(hostile[h].fd, F_SETFL, fcntl(hostile[h].fd, F_GETFL) | O_NONBLOCK);
	}
	samples[0] = calloc((size_t)reads * STATES, sizeof(uint64_t));
	if (!samples[0])
		goto out;
	for (int st = 1; st < STATES; st++)
		samples[st] = samples[st - 1] + reads;
	atomic_store(&bg_pause, true);
	atomic_store(&flood_pause, true);
	atomic_store(&hog_pause, true);
	for (unsigned int t = 0; t < HOG_THREADS; t++)
		pthread_create(&hog[t], NULL, hog_main, NULL);
	for (unsigned int t = 0; t < BG_THREADS; t++)
		pthread_create(&bg[t], NULL, bg_main, (void *)(uintptr_t)t);
	/* the stalled one writes from the start and never reads */
	for (unsigned int h = 0; h < 2; h++)
		pthread_create(&ht[h], NULL, hostile_main, &hostile[h]);
	ret = 0;
	for (int sl = 0; sl < SLICES && !ret; sl++) {
		int per = reads / SLICES;

		for (int st = 0; st < STATES && !ret; st++) {
			atomic_store(&bg_pause, st == 0);
			atomic_store(&flood_pause, st != 2);
			atomic_store(&hog_pause, st != 3);
			usleep(20 * 1000); /* the new state settles */
			ret = measure(samples[st] + sl * per, per);
		}
	}
	atomic_store(&bg_stop, true);
	for (unsigned int t = 0; t < BG_THREADS; t++)
		pthread_join(bg[t], NULL);
	for (unsigned int h = 0; h < 2; h++)
		pthread_join(ht[h], NULL);
	for (unsigned int t = 0; t < HOG_THREADS; t++)
		pthread_join(hog[t], NULL);
	if (ret)
		goto out;
	for (int st = 0; st < STATES; st++) {
		size_t cnt = (size_t)(reads / SLICES) * SLICES;

		med[st] = bench_percentile(samples[st], cnt, 50);
		p99[st] = bench_percentile(samples[st], cnt, 99);
	}
	printf("%u devices, each with a client; the others read %.0f times/s in all; the flooder "
	       "had %.0f replies (%.0f per measured read) and was disconnected %u times\n", n,
	       bg_rate, (double)hostile[0].reply_bytes / FLOOD_REPLY_SIZE,
	       (double)hostile[0].reply_bytes / FLOOD_REPLY_SIZE / (reads / SLICES * SLICES),
	       hostile[0].reconnects);
	printf("floor: raw UNIX-socket ping-pong of 36 bytes, median %.1f us\n", floor_ns / 1e3);
	printf("%-8s %9s %9s %8s %8s  %-9s  %8s %8s\n", "clients", "med us", "p99 us", "x med",
	       "x p99", "against", "med/flr", "p99/flr");
	print_row("one", med[0], p99[0], med[0], p99[0], "one", floor_ns);
	print_row("all", med[1], p99[1], med[0], p99[0], "one", floor_ns);
	print_row("hostile", med[2], p99[2], med[1], p99[1], "all", floor_ns);
	print_row("cpu-hog", med[3], p99[3], med[1], p99[1], "all", floor_ns);
	ret = 0;
out:
	free(samples[0]);
	for (unsigned int h = 0; h < 2; h++)
		umdev_client_close(hostile[h].c);
	for (unsigned int i = 0; i < nclients; i++)
		umdev_client_close(clients[i]);
	free(clients);
	bench_daemon_stop(&d);
	return ret ? 1 : 0;
}
