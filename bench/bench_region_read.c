/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Latency of a 4-byte vfio-user REGION_READ round trip through the umdev server, against the
 * floor of a raw UNIX-socket ping-pong that frames the same messages the same way (the server
 * reads the 16-byte header, then the body, and answers with one write of the same reply).
 * The client code is the same for both. Each is measured with client and server pinned to
 * the same CPU and to different CPUs (this 2-vCPU VM is bimodal: a cross-CPU wake-up costs
 * tens of microseconds), and the median and p99 are printed with their ratio to the floor.
 *
 *   bench_region_read [ROUND_TRIPS]
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_user_server.h>
#include <umdev/workers.h>

#include "bench_util.h"
#include "transport/vfio-user/vfio_user_proto.h"
#include "transport/worker.h"

extern const struct umdev_driver_module umdev_builtin_null;

#define WARMUP 2000
#define READ_SIZE 4

struct request {
	struct vfu_hdr hdr;
	struct vfu_region_access rw;
};

/* ---- the floor: a raw ping-pong server ---- */

static void *floor_server(void *arg)
{
	int fd = ((int *)arg)[0], cpu = ((int *)arg)[1];
	struct {
		struct vfu_hdr hdr;
		struct vfu_region_access rw;
		uint32_t data;
	} reply;
	struct request req;

	bench_pin_self(cpu);
	memset(&reply, 0, sizeof(reply));
	for (;;) {
		if (bench_read_full(fd, &req.hdr, sizeof(req.hdr)) ||
		    bench_read_full(fd, &req.rw, req.hdr.msg_size - sizeof(req.hdr)))
			break;
		reply.hdr = req.hdr;
		reply.hdr.flags = VFU_FLAG_TYPE_REPLY;
		reply.hdr.msg_size = sizeof(reply);
		reply.rw = req.rw;
		reply.data = 0x12345678;
		if (bench_write_full(fd, &reply, sizeof(reply)))
			break;
	}
	close(fd);
	return NULL;
}

/* ---- the client, the same for both ---- */

static int round_trips(int fd, int n, uint64_t *samples)
{
	struct request req = {
		.hdr = { .command = VFU_CMD_REGION_READ, .msg_size = sizeof(req) },
		.rw = { .offset = 0, .region = 0, .count = READ_SIZE },
	};
	uint8_t reply[64];

	for (int i = -WARMUP; i < n; i++) {
		uint64_t t0 = bench_now_ns();
		struct vfu_hdr hdr;

		req.hdr.msg_id = (uint16_t)i;
		if (bench_write_full(fd, &req, sizeof(req)) ||
		    bench_read_full(fd, &hdr, sizeof(hdr)) || hdr.msg_size > sizeof(reply) ||
		    hdr.msg_size < sizeof(hdr) ||
		    bench_read_full(fd, reply, hdr.msg_size - sizeof(hdr)) ||
		    (hdr.flags & VFU_FLAG_ERROR))
			return -1;
		if (i >= 0)
			samples[i] = bench_now_ns() - t0;
	}
	return 0;
}

/* ---- the umdev server ---- */

struct umdev_side {
	struct umdev_workers *workers;
	struct mdev_device *mdev;
	struct vfio_device *vdev;
	struct vfio_user_server *server;
};

static void pin_worker(void *arg)
{
	bench_pin_self(*(int *)arg);
}

static int umdev_start(struct umdev_side *u)
{
	struct mdev_parent *parent;
	guid_t uuid;
	int ret;

	ret = umdev_builtin_null.init();
	if (ret)
		return ret;
	if ((ret = mdev_parent_get_by_name("null", &parent)))
		return ret;
	mdev_uuid_parse("5c2a7f2e-1d3b-4e5f-8a9b-0c1d2e3f4a5b", &uuid);
	ret = mdev_device_create(mdev_parent_find_type(parent, "null-1"), &uuid, &u->mdev);
	mdev_parent_put(parent);
	if (ret)
		return ret;
	if ((ret = vfio_device_get_from_name(dev_name(mdev_dev(u->mdev)), &u->vdev)))
		return ret;
	if ((ret = umdev_workers_create(1, &u->workers)))
		return ret;
	struct vfio_user_server_config cfg = { NULL, u->workers, (uid_t)-1, (gid_t)-1 };

	return vfio_user_server_create(u->vdev, &cfg, &u->server);
}

static void umdev_stop(struct umdev_side *u)
{
	vfio_user_server_destroy(u->server);
	umdev_workers_destroy(u->workers);
	vfio_put_device(u->vdev);
	mdev_device_remove(u->mdev);
	mdev_device_put(u->mdev);
	umdev_builtin_null.exit();
}

/* The VERSION handshake, by hand. */
static int handshake(int fd)
{
	static const char json[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
	struct {
		struct vfu_hdr hdr;
		struct vfu_version v;
		char json[sizeof(json)];
	} m = { { 1, VFU_CMD_VERSION, 0, 0, 0 }, { 0, 0 }, { 0 } };
	/* the JSON's NUL must be the message's last byte: no padding */
	const size_t size = sizeof(m.hdr) + sizeof(m.v) + sizeof(json);
	uint8_t reply[256];
	struct vfu_hdr hdr;

	m.hdr.msg_size = (uint32_t)size;
	memcpy(m.json, json, sizeof(json));
	if (bench_write_full(fd, &m, size) || bench_read_full(fd, &hdr, sizeof(hdr)) ||
	    hdr.msg_size > sizeof(reply) || bench_read_full(fd, reply, hdr.msg_size - sizeof(hdr)))
		return -1;
	return (hdr.flags & VFU_FLAG_ERROR) ? -1 : 0;
}

static void report(const char *what, uint64_t *floor, uint64_t *umdev, int n)
{
	double fm = bench_percentile(floor, (size_t)n, 50), f99 = bench_percentile(floor, (size_t)n, 99);
	double um = bench_percentile(umdev, (size_t)n, 50), u99 = bench_percentile(umdev, (size_t)n, 99);

	printf("  %-22s floor median %6.2f us p99 %6.2f us | umdev median %6.2f us p99 %6.2f us | "
	       "ratio median %.3f p99 %.3f\n",
	       what, fm / 1000, f99 / 1000, um / 1000, u99 / 1000, um / fm, u99 / f99);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000, cpus = bench_cpus();
	uint64_t *floor = calloc((size_t)n, sizeof(*floor)), *ours = calloc((size_t)n, sizeof(*ours));
	struct umdev_side u = { 0 };

	if (n <= 0 || !floor || !ours || umdev_start(&u)) {
		fprintf(stderr, "bench_region_read: set-up failed\n");
		return 1;
	}
	printf("vfio-user REGION_READ of %d bytes, %d round trips (after %d warm-up)\n", READ_SIZE, n,
	       WARMUP);
	for (int mode = 0; mode < 2; mode++) {
		int server_cpu = mode == 0 ? 0 : (cpus > 1 ? 1 : 0);
		int sv[2], args[2];
		pthread_t t;
		char label[64];

		if (mode == 1 && cpus < 2)
			break;
		bench_pin_self(0);

		/* floor */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			return 1;
		args[0] = sv[1];
		args[1] = server_cpu;
		pthread_create(&t, NULL, floor_server, args);
		if (round_trips(sv[0], n, floor))
			return 1;
		close(sv[0]);
		pthread_join(t, NULL);

		/* umdev: the worker thread pinned like the floor's server */
		worker_call(umdev_workers_pick(u.workers), pin_worker, &server_cpu, true);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ||
		    vfio_user_server_add_client(u.server, sv[1]) || handshake(sv[0]) ||
		    round_trips(sv[0], n, ours)) {
			fprintf(stderr, "bench_region_read: umdev round trips failed\n");
			return 1;
		}
		close(sv[0]);
		while (vfio_user_server_has_client(u.server))
			usleep(1000);

		snprintf(label, sizeof(label), "%s (%d/%d):", mode ? "different CPUs" : "same CPU", 0,
			 server_cpu);
		report(label, floor, ours, n);
	}
	umdev_stop(&u);
	free(floor);
	free(ours);
	return 0;
}
