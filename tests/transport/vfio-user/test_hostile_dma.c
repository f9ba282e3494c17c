/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile clients, part 3: DMA. DMA_MAP and DMA_UNMAP with every field wrong, overlapping
 * and straddling ranges, fds that cannot be mapped, the VFIO_DMA_MAX_MAPPINGS limit; then the
 * device's side (vfio_dma_rw() on the test's reference to the device, as a driver thread
 * would): accesses outside the mappings or against their rights fail without touching the
 * connection, and accesses to mappings without an fd become DMA_READ/DMA_WRITE commands to the
 * client, whose replies (good, in QEMU's layout, errors, wrong sizes, or none because it left)
 * decide the result. A client's mappings go with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hostile.h"

#define MAP_R 0x1u
#define MAP_W 0x2u
#define MAP_RW (MAP_R | MAP_W)
#define UNMAP_ALL 0x2u
#define PG 4096u
#define MEMFD_SIZE 65536u

static uint16_t send_map(int fd, uint32_t argsz, uint32_t flags, uint64_t offset, uint64_t addr,
			 uint64_t size, const int *fds, size_t nfds)
{
	uint16_t id = next_id();
	struct mb m;

	mb_start(&m, id, CMD_DMA_MAP, 0);
	mb_u32(&m, argsz);
	mb_u32(&m, flags);
	mb_u64(&m, offset);
	mb_u64(&m, addr);
	mb_u64(&m, size);
	CHECK_EQ(mb_send(fd, &m, fds, nfds), 0);
	return id;
}

static uint16_t send_unmap(int fd, uint32_t argsz, uint32_t flags, uint64_t addr, uint64_t size)
{
	uint16_t id = next_id();
	struct mb m;

	mb_start(&m, id, CMD_DMA_UNMAP, 0);
	mb_u32(&m, argsz);
	mb_u32(&m, flags);
	mb_u64(&m, addr);
	mb_u64(&m, size);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	return id;
}

#define MAP_OK(fd, ...) EXPECT_OK(fd, send_map(fd, 32, __VA_ARGS__), CMD_DMA_MAP, NULL)
#define MAP_ERR(fd, err, ...) EXPECT_ERROR(fd, send_map(fd, 32, __VA_ARGS__), CMD_DMA_MAP, err)

static int make_memfd(void)
{
	int fd = memfd_create("hostile-dma", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, MEMFD_SIZE) < 0)
		abort();
	return fd;
}

/* ---- DMA_MAP and DMA_UNMAP ---- */

HOSTILE_TEST(dma_map)
{
	int fd = hs_client_v(h, 0), memfd = make_memfd(), efd = eventfd(0, EFD_CLOEXEC);
	int two[2] = { memfd, efd }, ro, rd, wr;
	char path[64];
	uint16_t id;

	if (fd < 0)
		goto out;
	/* argsz and flags */
	id = send_map(fd, 31, MAP_RW, 0, 0x100000, PG, NULL, 0);
	EXPECT_ERROR(fd, id, CMD_DMA_MAP, EINVAL);
	id = send_map(fd, 0, MAP_RW, 0, 0x100000, PG, NULL, 0);
	EXPECT_ERROR(fd, id, CMD_DMA_MAP, EINVAL);
	MAP_ERR(fd, EINVAL, 0, 0, 0x100000, PG, NULL, 0);
	MAP_ERR(fd, EINVAL, 0x4, 0, 0x100000, PG, NULL, 0);
	MAP_ERR(fd, EINVAL, MAP_RW | 0x80000000u, 0, 0x100000, PG, NULL, 0);
	/* alignment, size, wrap-around */
	MAP_ERR(fd, EINVAL, MAP_RW, 0, 0x100001, PG, NULL, 0);
	MAP_ERR(fd, EINVAL, MAP_RW, 0, 0x100000, PG + 1, NULL, 0);
	MAP_ERR(fd, EINVAL, MAP_RW, 0, 0x100000, 0, NULL, 0);
	MAP_ERR(fd, EINVAL, MAP_RW, 0, UINT64_MAX - PG + 1, 2 * PG, NULL, 0);
	MAP_ERR(fd, EINVAL, MAP_RW, 0, 0, 1ull << 63, NULL, 0);
	MAP_ERR(fd, EINVAL, MAP_RW, 0x800, 0x100000, PG, &memfd, 1);
	/* an offset means nothing without an fd */
	MAP_ERR(fd, EINVAL, MAP_RW, PG, 0x100000, PG, NULL, 0);
	/* past the end of the memfd, or an offset that wraps */
	MAP_ERR(fd, EINVAL, MAP_RW, 0, 0x100000, 2 * MEMFD_SIZE, &memfd, 1);
	MAP_ERR(fd, EINVAL, MAP_RW, MEMFD_SIZE, 0x100000, PG, &memfd, 1);
	MAP_ERR(fd, EINVAL, MAP_RW, UINT64_MAX - PG + 1, 0x100000, PG, &memfd, 1);
	/* fds that cannot be mapped; two fds */
	MAP_ERR(fd, EINVAL, MAP_RW, 0, 0x100000, PG, &efd, 1);
	wr = probe_make(&rd);
	MAP_ERR(fd, EINVAL, MAP_RW, 0, 0x100000, PG, &wr, 1);
	close(wr);
	MAP_ERR(fd, EINVAL, MAP_RW, 0, 0x100000, PG, two, 2);
	/* a read-only fd mapped for writing */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	if (CHECK(ro >= 0)) {
		MAP_ERR(fd, EACCES, MAP_RW, 0, 0x100000, PG, &ro, 1);
		MAP_OK(fd, MAP_R, 0, 0x100000, PG, &ro, 1);
		close(ro);
	}
	/* overlaps, with and without fds */
	MAP_OK(fd, MAP_RW, 0, 0x200000, 4 * PG, NULL, 0);
	MAP_OK(fd, MAP_RW, PG, 0x300000, 2 * PG, &memfd, 1);
	MAP_ERR(fd, EEXIST, MAP_RW, 0, 0x200000, 4 * PG, NULL, 0);
	MAP_ERR(fd, EEXIST, MAP_RW, 0, 0x200000 + 3 * PG, 2 * PG, NULL, 0);
	MAP_ERR(fd, EEXIST, MAP_RW, 0, 0x200000 - PG, 2 * PG, &memfd, 1);
	MAP_ERR(fd, EEXIST, MAP_RW, 0, 0x1ff000, 0x102000, NULL, 0); /* covers both */
	MAP_ERR(fd, EEXIST, MAP_RW, 0, 0x100000, PG, NULL, 0);
	MAP_OK(fd, MAP_RW, 0, 0x200000 + 4 * PG, PG, NULL, 0); /* adjacent is fine */
	ALIVE(fd);
	CHECK(probe_closed(rd));
	close(rd);
out:
	if (fd >= 0)
		close(fd);
	close(efd);
	close(memfd);
}

HOSTILE_TEST(dma_unmap)
{
	int fd = hs_client_v(h, 0);
	struct reply r;
	uint16_t id;

	if (fd < 0)
		return;
	MAP_OK(fd, MAP_RW, 0, 0x200000, 2 * PG, NULL, 0);
	MAP_OK(fd, MAP_RW, 0, 0x200000 + 2 * PG, 2 * PG, NULL, 0);
	/* argsz, flags */
	id = send_unmap(fd, 23, 0, 0x200000, 2 * PG);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);
	id = send_unmap(fd, 24, 0x1, 0x200000, 2 * PG);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);
	id = send_unmap(fd, 24, 0x4, 0x200000, 2 * PG);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);
	/* unknown ranges */
	id = send_unmap(fd, 24, 0, 0x100000, 2 * PG);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, ENOENT);
	id = send_unmap(fd, 24, 0, 0x200000 + 4 * PG, PG);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, ENOENT);
	/* straddling a mapping's end or start */
	id = send_unmap(fd, 24, 0, 0x200000 + PG, 2 * PG);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);
	id = send_unmap(fd, 24, 0, 0x200000, PG);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);
	id = send_unmap(fd, 24, 0, 0x1ff000, 2 * PG);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);
	/* size 0, wrap-around */
	id = send_unmap(fd, 24, 0, 0x200000, 0);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);
	id = send_unmap(fd, 24, 0, 0x200000, UINT64_MAX);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);
	/* unmap-all takes no range */
	id = send_unmap(fd, 24, UNMAP_ALL, 0x200000, 0);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);
	id = send_unmap(fd, 24, UNMAP_ALL, 0, 2 * PG);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);

	/* the exact range: the reply echoes the request */
	id = send_unmap(fd, 24, 0, 0x200000, 2 * PG);
	if (EXPECT_OK(fd, id, CMD_DMA_UNMAP, &r)) {
		uint64_t addr, size;

		REQUIRE_EQ(r.len, 24);
		memcpy(&addr, r.payload + 8, 8);
		memcpy(&size, r.payload + 16, 8);
		CHECK_EQ(addr, 0x200000);
		CHECK_EQ(size, 2 * PG);
		reply_free(&r);
	}
	id = send_unmap(fd, 24, 0, 0x200000, 2 * PG);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, ENOENT); /* gone */
	id = send_unmap(fd, 24, UNMAP_ALL, 0, 0);
	EXPECT_OK(fd, id, CMD_DMA_UNMAP, NULL);
	id = send_unmap(fd, 24, UNMAP_ALL, 0, 0); /* nothing left: still fine */
	EXPECT_OK(fd, id, CMD_DMA_UNMAP, NULL);
	MAP_OK(fd, MAP_RW, 0, 0x200000, 4 * PG, NULL, 0);
	ALIVE(fd);
	close(fd);
}

/* VFIO_DMA_MAX_MAPPINGS mappings, then ENOSPC; replies read as they come. */
HOSTILE_TEST(dma_map_limit)
{
	const unsigned int batch = 1024;
	int fd = hs_client_v(h, 0);
	struct mb all = { 0 };
	uint32_t done = 0;
	uint16_t id;

	if (fd < 0)
		return;
	while (done < VFIO_DMA_MAX_MAPPINGS) {
		unsigned int n = VFIO_DMA_MAX_MAPPINGS - done < batch ? VFIO_DMA_MAX_MAPPINGS - done
								      : batch;
		bool ok = true;

		all.len = 0;
		for (unsigned int i = 0; i < n; i++) {
			struct mb m;

			mb_start(&m, (uint16_t)(done + i), CMD_DMA_MAP, 0);
			mb_u32(&m, 32);
			mb_u32(&m, MAP_RW);
			mb_u64(&m, 0);
			mb_u64(&m, (uint64_t)(done + i) * PG);
			mb_u64(&m, PG);
			mb_bytes(&all, mb_done(&m), m.len);
			mb_free(&m);
		}
		CHECK_EQ(raw_send(fd, all.p, all.len, NULL, 0), 0);
		for (unsigned int i = 0; i < n && ok; i++)
			ok = EXPECT_OK(fd, (uint16_t)(done + i), CMD_DMA_MAP, NULL);
		if (!ok)
			break;
		done += n;
	}
	free(all.p);
	CHECK_EQ(done, VFIO_DMA_MAX_MAPPINGS);
	MAP_ERR(fd, ENOSPC, MAP_RW, 0, (uint64_t)done * PG, PG, NULL, 0);
	id = send_unmap(fd, 24, 0, PG, PG);
	EXPECT_OK(fd, id, CMD_DMA_UNMAP, NULL);
	MAP_OK(fd, MAP_RW, 0, (uint64_t)done * PG, PG, NULL, 0); /* room for one */
	id = send_unmap(fd, 24, UNMAP_ALL, 0, 0);
	EXPECT_OK(fd, id, CMD_DMA_UNMAP, NULL);
	MAP_OK(fd, MAP_RW, 0, 0, PG, NULL, 0);
	close(fd);
}

/* A client's mappings go with it: the next client maps the same ranges. */
HOSTILE_TEST(dma_mappings_released_on_disconnect)
{
	int memfd = make_memfd();

	for (int round = 0; round < 3; round++) {
		int fd = hs_client_v(h, 0);
		struct mb m;

		if (fd < 0)
			break;
		MAP_OK(fd, MAP_RW, 0, 0x100000, MEMFD_SIZE, &memfd, 1);
		MAP_OK(fd, MAP_RW, 0, 0x200000, PG, NULL, 0);
		if (round == 1) { /* leaves by breaking the framing */
			mb_start(&m, 0, 0, 0);
			mb_set_size(&m, 1);
			CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
			CHECK(EXPECT_EOF(fd));
		}
		close(fd);
		CHECK(hs_wait_gone(h, 0));
	}
	close(memfd);
}

/* ---- the device's side: vfio_dma_rw() ---- */

/* Accesses outside the mappings, or against their rights, fail; the connection is fine. */
HOSTILE_TEST(dma_device_access)
{
	static const uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct vfio_device *vdev = h->dev[0].vdev;
	int fd = hs_client_v(h, 0), memfd = make_memfd();
	uint8_t buf[8], *mem;

	if (fd < 0) {
		close(memfd);
		return;
	}
	/* both mappings show the memfd from offset 0 */
	MAP_OK(fd, MAP_RW, 0, 0x100000, MEMFD_SIZE, &memfd, 1);
	MAP_OK(fd, MAP_R, 0, 0x200000, PG, &memfd, 1);
	/* outside every mapping, across the end of one, wrapping */
	memcpy(buf, data, 8);
	CHECK_EQ(vfio_dma_rw(vdev, 0x0, buf, 8, false), -EINVAL);
	CHECK_EQ(vfio_dma_rw(vdev, 0x100000 + MEMFD_SIZE, buf, 8, true), -EINVAL);
	CHECK_EQ(vfio_dma_rw(vdev, 0x100000 + MEMFD_SIZE - 4, buf, 8, true), -EINVAL);
	CHECK_EQ(vfio_dma_rw(vdev, UINT64_MAX - 3, buf, 8, false), -EINVAL);
	/* a write to the read-only mapping */
	CHECK_EQ(vfio_dma_rw(vdev, 0x200000, buf, 8, true), -EPERM);
	/* good accesses reach the client's memory */
	CHECK_EQ(vfio_dma_rw(vdev, 0x100010, buf, 8, true), 0);
	mem = mmap(NULL, MEMFD_SIZE, PROT_READ, MAP_SHARED, memfd, 0);
	if (CHECK(mem != MAP_FAILED)) {
		CHECK_EQ(memcmp(mem + 0x10, data, 8), 0);
		/* the straddling write copied the part inside the mapping first */
		CHECK_EQ(memcmp(mem + MEMFD_SIZE - 4, data, 4), 0);
		munmap(mem, MEMFD_SIZE);
	}
	memset(buf, 0, 8);
	CHECK_EQ(vfio_dma_rw(vdev, 0x200010, buf, 8, false), 0);
	CHECK_EQ(memcmp(buf, data, 8), 0);
	ALIVE(fd);
	close(fd);
	CHECK(hs_wait_gone(h, 0));
	/* no client, no mappings */
	CHECK(vfio_dma_rw(vdev, 0x100010, buf, 8, false) < 0);
	close(memfd);
}

/* DEVICE_FEATURE with DMA logging: the ranges and the bitmap travel inline. */
#define FEATURE_GET (1u << 16)
#define FEATURE_SET (1u << 17)
#define LOGGING_START 6u
#define LOGGING_STOP 7u
#define LOGGING_REPORT 8u

static uint16_t send_logging_report(int fd, uint32_t argsz, uint64_t iova, uint64_t length)
{
	uint16_t id = next_id();
	struct mb m;

	mb_start(&m, id, CMD_DEVICE_FEATURE, 0);
	mb_u32(&m, argsz);
	mb_u32(&m, FEATURE_GET | LOGGING_REPORT);
	mb_u64(&m, iova);
	mb_u64(&m, length);
	mb_u64(&m, PG);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	return id;
}

/* The bitmap word of a REPORT of 16 pages. */
static uint64_t logging_report(int fd, uint64_t iova)
{
	uint16_t id = send_logging_report(fd, 8 + 24 + 8, iova, 16 * PG);
	uint64_t bits = ~(uint64_t)0;
	struct reply r;

	if (EXPECT_OK(fd, id, CMD_DEVICE_FEATURE, &r)) {
		if (CHECK_EQ(r.len, 8 + 24 + 8))
			memcpy(&bits, r.payload + 32, 8);
		reply_free(&r);
	}
	return bits;
}

HOSTILE_TEST(dma_logging)
{
	static const uint8_t data[8] = "written";
	struct vfio_device *vdev = h->dev[0].vdev;
	int fd = hs_client_v(h, 0), memfd = make_memfd();
	struct reply r;
	uint16_t id;
	struct mb m;

	if (fd < 0) {
		close(memfd);
		return;
	}
	MAP_OK(fd, MAP_RW, 0, 0x300000, MEMFD_SIZE, &memfd, 1);
	for (int round = 0; round < 2; round++) {
		/* START: {page_size, num_ranges, reserved, ranges[]} */
		id = next_id();
		mb_start(&m, id, CMD_DEVICE_FEATURE, 0);
		mb_u32(&m, 8 + 16 + 16);
		mb_u32(&m, FEATURE_SET | LOGGING_START);
		mb_u64(&m, PG);
		mb_u32(&m, 1);
		mb_u32(&m, 0);
		mb_u64(&m, 0x300000);
		mb_u64(&m, MEMFD_SIZE);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		if (EXPECT_OK(fd, id, CMD_DEVICE_FEATURE, &r)) {
			uint64_t page;

			CHECK_EQ(r.len, 8 + 16 + 16);
			memcpy(&page, r.payload + 8, 8);
			CHECK_EQ(page, PG);
			reply_free(&r);
		}
		CHECK_EQ(logging_report(fd, 0x300000), 0);
		CHECK_EQ(vfio_dma_rw(vdev, 0x302010, (void *)data, 8, true), 0);
		CHECK_EQ(vfio_dma_rw(vdev, 0x30fff8, (void *)data, 8, true), 0);
		CHECK_EQ(logging_report(fd, 0x300000), (1u << 2) | (1u << 15));
		CHECK_EQ(logging_report(fd, 0x300000), 0); /* reported, cleared */
		/* a bitmap larger than argsz; a window outside the range */
		id = send_logging_report(fd, 8 + 24 + 7, 0x300000, 16 * PG);
		EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
		id = send_logging_report(fd, 8 + 24 + 8, 0x400000, 16 * PG);
		EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
		id = send_logging_report(fd, 0xffffffffu, 0x300000, UINT64_MAX - 0x300000);
		EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
		if (round == 0) { /* STOP, then the next round starts again */
			id = next_id();
			mb_start(&m, id, CMD_DEVICE_FEATURE, 0);
			mb_u32(&m, 8);
			mb_u32(&m, FEATURE_SET | LOGGING_STOP);
			CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
			EXPECT_OK(fd, id, CMD_DEVICE_FEATURE, NULL);
			id = send_logging_report(fd, 8 + 24 + 8, 0x300000, 16 * PG);
			EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
		}
	}
	/* the client leaves with logging on: the next one starts without */
	close(fd);
	close(memfd);
	if (!CHECK(hs_wait_gone(h, 0)))
		return;
	fd = hs_client_v(h, 0);
	if (fd >= 0) {
		id = send_logging_report(fd, 8 + 24 + 8, 0x300000, 16 * PG);
		EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
		close(fd);
	}
}

/* A driver thread's DMA to a mapping without an fd. */
struct dma_job {
	struct vfio_device *vdev;
	uint64_t iova;
	uint8_t buf[64];
	size_t len;
	bool write;
	int ret;
	pthread_t thread;
};

static void *dma_job_run(void *arg)
{
	struct dma_job *j = arg;

	j->ret = vfio_dma_rw(j->vdev, j->iova, j->buf, j->len, j->write);
	return NULL;
}

/*
 * Joins the job, which the server ends within VFU_DMA_TIMEOUT_MS at worst. A job still
 * running well after that is stuck in the server: the suite stops here rather than hang.
 */
static void dma_job_join(struct dma_job *j)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (VFU_DMA_TIMEOUT_MS + RAW_TIMEOUT_MS) / 1000;
	if (pthread_timedjoin_np(j->thread, NULL, &deadline)) {
		tap_diag("a driver thread's vfio_dma_rw() never returned: the server hangs");
		abort();
	}
}

static bool dma_job_start(struct dma_job *j, struct vfio_device *vdev, uint64_t iova, size_t len,
			  bool write)
{
	j->vdev = vdev;
	j->iova = iova;
	j->len = len;
	j->write = write;
	j->ret = 1;
	for (size_t i = 0; i < sizeof(j->buf); i++)
		j->buf[i] = (uint8_t)(0xa0 + i);
	return CHECK_EQ(pthread_create(&j->thread, NULL, dma_job_run, j), 0);
}

/* The server's DMA request: a command of @cmd for (@iova, @len). */
static bool recv_dma_request(int fd, uint16_t cmd, uint64_t iova, size_t len, struct reply *r)
{
	uint64_t addr, count;

	if (!CHECK_EQ(raw_recv(fd, r), 1))
		return false;
	CHECK_EQ(r->cmd, cmd);
	CHECK_EQ(r->flags, 0);
	CHECK_EQ(r->error, 0);
	if (!CHECK(r->len >= 16)) {
		reply_free(r);
		return false;
	}
	memcpy(&addr, r->payload, 8);
	memcpy(&count, r->payload + 8, 8);
	CHECK_EQ(addr, iova);
	CHECK_EQ(count, len);
	CHECK_EQ(r->len, 16 + (cmd == CMD_DMA_WRITE ? len : 0));
	return true;
}

/* Answers a DMA request: @hdr_len bytes of (addr, count) (16: spec, 12: QEMU), then data. */
static void answer_dma(int fd, const struct reply *req, uint32_t flags, uint32_t error,
		       size_t hdr_len, const void *data, size_t len)
{
	struct mb m;

	mb_start(&m, req->id, req->cmd, F_REPLY | flags);
	mb_set_error(&m, error);
	if (hdr_len) {
		mb_bytes(&m, req->payload, 8);
		mb_bytes(&m, req->payload + 8, hdr_len - 8);
	}
	mb_bytes(&m, data, len);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
}

HOSTILE_TEST(dma_message_based)
{
	static const uint8_t pattern[16] = "0123456789abcde";
	struct vfio_device *vdev = h->dev[0].vdev;
	int fd = hs_client_v(h, 0);
	struct dma_job j;
	struct reply r;

	if (fd < 0)
		return;
	MAP_OK(fd, MAP_RW, 0, 0x300000, PG, NULL, 0);

	/* a read, answered in the specification's layout, after a command of the client's own */
	if (dma_job_start(&j, vdev, 0x300010, 16, false)) {
		if (recv_dma_request(fd, CMD_DMA_READ, 0x300010, 16, &r)) {
			ALIVE(fd); /* the worker goes on while the driver thread waits */
			answer_dma(fd, &r, 0, 0, 16, pattern, 16);
			reply_free(&r);
		}
		dma_job_join(&j);
		CHECK_EQ(j.ret, 0);
		CHECK_EQ(memcmp(j.buf, pattern, 16), 0);
	}
	/* a read answered in QEMU 10.1's layout (data at payload offset 12) */
	if (dma_job_start(&j, vdev, 0x300020, 8, false)) {
		if (recv_dma_request(fd, CMD_DMA_READ, 0x300020, 8, &r)) {
			answer_dma(fd, &r, 0, 0, 12, pattern, 8);
			reply_free(&r);
		}
		dma_job_join(&j);
		CHECK_EQ(j.ret, 0);
		CHECK_EQ(memcmp(j.buf, pattern, 8), 0);
	}
	/* a write carries its data */
	if (dma_job_start(&j, vdev, 0x300040, 8, true)) {
		if (recv_dma_request(fd, CMD_DMA_WRITE, 0x300040, 8, &r)) {
			CHECK_EQ(memcmp(r.payload + 16, j.buf, 8), 0);
			answer_dma(fd, &r, 0, 0, 16, NULL, 0);
			reply_free(&r);
		}
		dma_job_join(&j);
		CHECK_EQ(j.ret, 0);
	}
	/* the client's error */
	if (dma_job_start(&j, vdev, 0x300000, 4, false)) {
		if (recv_dma_request(fd, CMD_DMA_READ, 0x300000, 4, &r)) {
			answer_dma(fd, &r, F_ERROR, EFAULT, 0, NULL, 0);
			reply_free(&r);
		}
		dma_job_join(&j);
		CHECK_EQ(j.ret, -EFAULT);
	}
	/* a reply of the wrong size */
	if (dma_job_start(&j, vdev, 0x300000, 8, false)) {
		if (recv_dma_request(fd, CMD_DMA_READ, 0x300000, 8, &r)) {
			/* 17 bytes: neither layout (16 + 8 or 12 + 8) */
			answer_dma(fd, &r, 0, 0, 16, pattern, 1);
			reply_free(&r);
		}
		dma_job_join(&j);
		CHECK_EQ(j.ret, -EPROTO);
	}
	/* the connection survived all that; a repeated reply is one nobody asked for */
	ALIVE(fd);
	if (dma_job_start(&j, vdev, 0x300000, 4, false)) {
		if (recv_dma_request(fd, CMD_DMA_READ, 0x300000, 4, &r)) {
			answer_dma(fd, &r, 0, 0, 16, pattern, 4);
			dma_job_join(&j);
			CHECK_EQ(j.ret, 0);
			answer_dma(fd, &r, 0, 0, 16, pattern, 4);
			reply_free(&r);
			CHECK(EXPECT_EOF(fd));
		} else {
			dma_job_join(&j);
		}
	}
	close(fd);
}

/* The client leaves while a driver thread waits for its DMA reply: the wait ends at once. */
HOSTILE_TEST(dma_pending_when_client_leaves)
{
	struct vfio_device *vdev = h->dev[0].vdev;

	for (int round = 0; round < 20; round++) {
		int fd = hs_client_v(h, 0);
		struct dma_job j;
		struct reply r;

		if (fd < 0)
			return;
		MAP_OK(fd, MAP_RW, 0, 0x300000, PG, NULL, 0);
		if (!dma_job_start(&j, vdev, 0x300000, 8, round & 1)) {
			close(fd);
			return;
		}
		if (recv_dma_request(fd, round & 1 ? CMD_DMA_WRITE : CMD_DMA_READ, 0x300000, 8, &r))
			reply_free(&r);
		close(fd);
		dma_job_join(&j);
		CHECK_EQ(j.ret, -ECONNRESET);
		CHECK(hs_wait_gone(h, 0));
	}
}
