/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Throughput of posted writes: 4-byte vfio-user REGION_WRITEs with NO_REPLY, as QEMU sends
 * to a memory BAR, streamed by the client and applied by the umdev server to the null
 * device's BAR0; each batch ends with one REGION_READ whose reply says the server has caught
 * up. The floor is a raw server that reads the stream in large chunks and walks its frames
 * without doing anything with them (answering only the read): the least work per message a
 * server can do. Prints writes per second and the ratio.
 *
 *   bench_posted_write [BATCHES]
 */
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

extern const struct umdev_driver_module umdev_builtin_null;

#define BATCH 256

struct write_msg {
	struct vfu_hdr hdr;
	struct vfu_region_access rw;
	uint32_t value;
};

struct read_msg {
	struct vfu_hdr hdr;
	struct vfu_region_access rw;
};

/* Reads in big chunks and walks the frames: the least work a server can do per message. */
static void *floor_server(void *arg)
{
	int fd = *(int *)arg;
	static uint8_t buf[1 << 16];
	size_t have = 0;
	struct {
		struct vfu_hdr hdr;
		struct vfu_region_access rw;
		uint32_t data;
	} reply;

	memset(&reply, 0, sizeof(reply));
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		size_t pos = 0;

		if (n <= 0)
			break;
		have += (size_t)n;
		while (have - pos >= sizeof(struct vfu_hdr)) {
			struct vfu_hdr hdr;

			memcpy(&hdr, buf + pos, sizeof(hdr));
			if (hdr.msg_size < sizeof(hdr) || hdr.msg_size > sizeof(buf))
				goto out;
			if (have - pos < hdr.msg_size)
				break;
			if (!(hdr.flags & VFU_FLAG_NO_REPLY)) {
				reply.hdr = hdr;
				reply.hdr.flags = VFU_FLAG_TYPE_REPLY;
				reply.hdr.msg_size = sizeof(reply);
				memcpy(&reply.rw, buf + pos + sizeof(hdr), sizeof(reply.rw));
				if (bench_write_full(fd, &reply, sizeof(reply)))
					goto out;
			}
			pos += hdr.msg_size;
		}
		memmove(buf, buf + pos, have - pos);
		have -= pos;
	}
out:
	close(fd);
	return NULL;
}

/* Writes per second over @batches batches of BATCH posted writes and one read. */
static double stream(int fd, int batches)
{
	struct write_msg w[BATCH];
	struct read_msg r = { { 0, VFU_CMD_REGION_READ, sizeof(r), 0, 0 }, { 0, 0, 4 } };
	uint8_t reply[64];
	uint64_t t0 = 0;

	for (int i = 0; i < BATCH; i++) {
		w[i] = (struct write_msg){
			{ (uint16_t)i, VFU_CMD_REGION_WRITE, sizeof(w[i]), VFU_FLAG_NO_REPLY, 0 },
			{ (uint64_t)(i % 1024) * 4, 0, 4 },
			(uint32_t)i,
		};
	}
	for (int b = -10; b < batches; b++) {
		struct vfu_hdr hdr;

		if (b == 0)
			t0 = bench_now_ns();
		if (bench_write_full(fd, w, sizeof(w)) || bench_write_full(fd, &r, sizeof(r)) ||
		    bench_read_full(fd, &hdr, sizeof(hdr)) || hdr.msg_size > sizeof(hdr) + sizeof(reply) ||
		    bench_read_full(fd, reply, hdr.msg_size - sizeof(hdr)) || (hdr.flags & VFU_FLAG_ERROR))
			return -1;
	}
	return (double)batches * BATCH / ((double)(bench_now_ns() - t0) / 1e9);
}

static int handshake(int fd)
{
	static const char json[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
	uint8_t m[sizeof(struct vfu_hdr) + sizeof(struct vfu_version) + sizeof(json)], reply[256];
	struct vfu_hdr hdr = { 1, VFU_CMD_VERSION, sizeof(m), 0, 0 };
	struct vfu_version v = { 0, 0 };

	memcpy(m, &hdr, sizeof(hdr));
	memcpy(m + sizeof(hdr), &v, sizeof(v));
	memcpy(m + sizeof(hdr) + sizeof(v), json, sizeof(json));
	if (bench_write_full(fd, m, sizeof(m)) || bench_read_full(fd, &hdr, sizeof(hdr)) ||
	    hdr.msg_size > sizeof(reply) || bench_read_full(fd, reply, hdr.msg_size - sizeof(hdr)))
		return -1;
	return (hdr.flags & VFU_FLAG_ERROR) ? -1 : 0;
}

int main(int argc, char **argv)
{
	int batches = argc > 1 ? atoi(argv[1]) : 2000, sv[2];
	struct vfio_user_server_config cfg = { NULL, NULL, (uid_t)-1, (gid_t)-1 };
	struct vfio_user_server *server;
	struct mdev_parent *parent;
	struct mdev_device *mdev;
	struct vfio_device *vdev;
	double floor, ours;
	pthread_t t;
	guid_t uuid;

	if (batches <= 0 || umdev_builtin_null.init() || mdev_parent_get_by_name("null", &parent))
		return 1;
	mdev_uuid_parse("6d3b8a1f-2e4c-4f60-9b1c-1d2e3f4a5b6c", &uuid);
	if (mdev_device_create(mdev_parent_find_type(parent, "null-1"), &uuid, &mdev) ||
	    vfio_device_get_from_name(dev_name(mdev_dev(mdev)), &vdev) ||
	    umdev_workers_create(1, &cfg.workers) || vfio_user_server_create(vdev, &cfg, &server))
		return 1;
	mdev_parent_put(parent);

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	pthread_create(&t, NULL, floor_server, &sv[1]);
	floor = stream(sv[0], batches);
	close(sv[0]);
	pthread_join(t, NULL);

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	if (vfio_user_server_add_client(server, sv[1]) || handshake(sv[0]))
		return 1;
	ours = stream(sv[0], batches);
	close(sv[0]);
	if (floor <= 0 || ours <= 0) {
		fprintf(stderr, "bench_posted_write: streaming failed\n");
		return 1;
	}
	printf("vfio-user posted REGION_WRITE of 4 bytes, %d batches of %d:\n", batches, BATCH);
	printf("  floor %.2f M writes/s | umdev %.2f M writes/s | ratio %.3f\n", floor / 1e6,
	       ours / 1e6, ours / floor);

	while (vfio_user_server_has_client(server))
		usleep(1000);
	vfio_user_server_destroy(server);
	umdev_workers_destroy(cfg.workers);
	vfio_put_device(vdev);
	mdev_device_remove(mdev);
	mdev_device_put(mdev);
	umdev_builtin_null.exit();
	return 0;
}
