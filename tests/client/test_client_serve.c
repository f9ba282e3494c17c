/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of libumdev-client's side of the stream that is not request/reply: the server's
 * DMA_READ/DMA_WRITE requests served while a call waits and in umdev_client_serve_pending(),
 * timeouts (and the late reply dropped after one), a server that closes or stalls mid-message,
 * raw messages, and one client shared by several threads.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <umdev/client.h>

#include "client_test.h"

/* ---- a guest memory for the DMA handler: GUEST_SIZE bytes at GUEST_BASE ---- */

#define GUEST_BASE 0x100000u
#define GUEST_SIZE 4096u

struct guest {
	uint8_t mem[GUEST_SIZE];
	int calls;
	struct umdev_client *client; /* for the re-entrancy case */
	int reentry;
};

static int guest_rw(void *opaque, uint64_t addr, void *buf, uint64_t count, bool write)
{
	struct guest *g = opaque;

	g->calls++;
	if (g->client)
		g->reentry = umdev_client_reset(g->client);
	if (addr < GUEST_BASE || count > GUEST_SIZE || addr - GUEST_BASE > GUEST_SIZE - count)
		return -EFAULT;
	if (write)
		memcpy(g->mem + (addr - GUEST_BASE), buf, count);
	else
		memcpy(buf, g->mem + (addr - GUEST_BASE), count);
	return 0;
}

/* Sends a DMA request (specification layout) with @data after the address and count. */
static void send_dma(struct fake_server *fs, uint16_t id, uint16_t cmd, uint32_t flags,
		     uint64_t addr, uint64_t count, const void *data, size_t len)
{
	uint8_t buf[64];
	struct vfu_dma_rw rw = { addr, count };

	memcpy(buf, &rw, sizeof(rw));
	if (len)
		memcpy(buf + sizeof(rw), data, len);
	fake_send_msg(fs, id, cmd, flags, 0, buf, sizeof(rw) + len, NULL, 0);
}

/*
 * Answers the first REGION_READ only after a series of DMA requests, each answered by the
 * client before the script goes on: a DMA_WRITE, a DMA_READ of it, a DMA_READ outside guest
 * memory, a posted DMA_WRITE, a DMA_WRITE whose count disagrees with its size, a command the
 * client does not know.
 */
static void dma_during_read(struct fake_server *fs)
{
	struct vfu_region_access ra = { 0, 0, 4 };
	uint8_t reply[20] = { 0 };
	struct fake_msg *m = fake_recv(fs);

	if (!m)
		return;
	send_dma(fs, 100, VFU_CMD_DMA_WRITE, 0, GUEST_BASE + 16, 5, "hello", 5);
	fake_recv(fs);
	send_dma(fs, 101, VFU_CMD_DMA_READ, 0, GUEST_BASE + 16, 5, NULL, 0);
	fake_recv(fs);
	send_dma(fs, 102, VFU_CMD_DMA_READ, 0, 0x10, 8, NULL, 0);
	fake_recv(fs);
	send_dma(fs, 103, VFU_CMD_DMA_WRITE, VFU_FLAG_NO_REPLY, GUEST_BASE + 32, 3, "abc", 3);
	send_dma(fs, 104, VFU_CMD_DMA_WRITE, 0, GUEST_BASE, 6, "abc", 3);
	fake_recv(fs);
	fake_send_msg(fs, 105, 99, 0, 0, NULL, 0, NULL, 0);
	fake_recv(fs);
	memcpy(reply, &ra, sizeof(ra));
	memcpy(reply + 16, "data", 4);
	fake_reply(fs, m, reply, sizeof(reply), NULL, 0);
}

/* Checks recorded reply @m to a DMA request: header, and the error if any. */
#define CHECK_DMA_REPLY(m, id_, cmd_, size_, err_)                                          \
	do {                                                                                \
		CHECK_EQ((m)->hdr.msg_id, (id_));                                           \
		CHECK_EQ((m)->hdr.command, (cmd_));                                         \
		CHECK_EQ((m)->hdr.msg_size, (size_));                                       \
		CHECK_EQ((m)->hdr.flags, VFU_FLAG_TYPE_REPLY | ((err_) ? VFU_FLAG_ERROR : 0)); \
		CHECK_EQ((m)->hdr.error, (err_));                                           \
	} while (0)

TEST(dma_requests_served_while_waiting)
{
	struct guest *g = calloc(1, sizeof(*g));
	struct fake_server fs;
	struct umdev_client *c = NULL;
	char buf[4];
	const struct fake_msg *m;

	REQUIRE(g);
	REQUIRE_EQ(fake_connect(&fs, NULL, dma_during_read, NULL, &c), 0);
	umdev_client_set_dma_handler(c, guest_rw, g);
	CHECK_EQ(umdev_client_region_read(c, 0, 0, buf, 4), 4);
	CHECK(!memcmp(buf, "data", 4));
	FINISH(&fs, c);
	CHECK(!memcmp(g->mem + 16, "hello", 5));
	CHECK(!memcmp(g->mem + 32, "abc", 3)); /* the posted one too */
	CHECK_EQ(g->calls, 4);
	REQUIRE_EQ(fs.nmsgs, 7);
	/* DMA_WRITE reply: address and a 4-byte count */
	m = &fs.msgs[2];
	CHECK_DMA_REPLY(m, 100, VFU_CMD_DMA_WRITE, 16 + 12, 0);
	CHECK_EQ(fake_u64(m, 0), GUEST_BASE + 16);
	CHECK_EQ(fake_u32(m, 8), 5);
	/* DMA_READ reply: address, 8-byte count, data */
	m = &fs.msgs[3];
	CHECK_DMA_REPLY(m, 101, VFU_CMD_DMA_READ, 16 + 16 + 5, 0);
	CHECK_EQ(fake_u64(m, 0), GUEST_BASE + 16);
	CHECK_EQ(fake_u64(m, 8), 5);
	CHECK(m->len == 21 && !memcmp(m->payload + 16, "hello", 5));
	/* the handler's error */
	CHECK_DMA_REPLY(&fs.msgs[4], 102, VFU_CMD_DMA_READ, 16, EFAULT);
	/* 103 had NO_REPLY; 104 is malformed */
	CHECK_DMA_REPLY(&fs.msgs[5], 104, VFU_CMD_DMA_WRITE, 16, EINVAL);
	CHECK_DMA_REPLY(&fs.msgs[6], 105, 99, 16, EOPNOTSUPP);
	fake_cleanup(&fs);
	free(g);
}

/* Sends a DMA_READ and records the client's reply. */
static void one_dma_read(struct fake_server *fs)
{
	send_dma(fs, 7, VFU_CMD_DMA_READ, 0, GUEST_BASE, 4, NULL, 0);
	fake_recv(fs);
}

TEST(dma_without_handler_or_reentering)
{
	struct guest *g = calloc(1, sizeof(*g));
	struct fake_server fs;
	struct umdev_client *c = NULL;

	REQUIRE(g);
	REQUIRE_EQ(fake_connect(&fs, NULL, one_dma_read, NULL, &c), 0);
	CHECK_EQ(umdev_client_serve_pending(c, 5000), 1);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 2);
	CHECK_DMA_REPLY(&fs.msgs[1], 7, VFU_CMD_DMA_READ, 16, EFAULT);
	fake_cleanup(&fs);

	/* a handler that calls the client back gets -EDEADLK, and the request is served */
	REQUIRE_EQ(fake_connect(&fs, NULL, one_dma_read, NULL, &c), 0);
	g->client = c;
	umdev_client_set_dma_handler(c, guest_rw, g);
	memcpy(g->mem, "abcd", 4);
	CHECK_EQ(umdev_client_serve_pending(c, 5000), 1);
	CHECK_EQ(g->reentry, -EDEADLK);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 2);
	CHECK_DMA_REPLY(&fs.msgs[1], 7, VFU_CMD_DMA_READ, 16 + 16 + 4, 0);
	CHECK(fs.msgs[1].len == 20 && !memcmp(fs.msgs[1].payload + 16, "abcd", 4));
	fake_cleanup(&fs);
	free(g);
}

/* Two DMA_WRITEs in one send (both pending at once), their replies, then (once the case sends
 * a message to say it is ready) a stray reply. */
static void two_writes_then_stray(struct fake_server *fs)
{
	uint8_t two[2][16 + 16 + 2];
	struct vfu_hdr hdr = { 0, VFU_CMD_DMA_WRITE, sizeof(two[0]), 0, 0 };
	struct vfu_dma_rw rw = { GUEST_BASE, 2 };

	for (int i = 0; i < 2; i++) {
		hdr.msg_id = (uint16_t)(20 + i);
		rw.addr = GUEST_BASE + 8 * (uint64_t)i;
		memcpy(two[i], &hdr, sizeof(hdr));
		memcpy(two[i] + 16, &rw, sizeof(rw));
		memcpy(two[i] + 32, i ? "yz" : "wx", 2);
	}
	fake_send(fs, two, sizeof(two), NULL, 0);
	fake_recv(fs);
	fake_recv(fs);
	if (!fake_recv(fs))
		return;
	fake_send_msg(fs, 500, VFU_CMD_DEVICE_RESET, VFU_FLAG_TYPE_REPLY, 0, NULL, 0, NULL, 0);
}

TEST(serve_pending_serves_what_came)
{
	struct guest *g = calloc(1, sizeof(*g));
	struct fake_server fs;
	struct umdev_client *c = NULL;
	struct timespec t0, t1;
	long ms;

	REQUIRE(g);
	REQUIRE_EQ(fake_connect(&fs, NULL, NULL, NULL, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(umdev_client_serve_pending(c, 50), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 45 && ms < 2000);
	CHECK_EQ(umdev_client_serve_pending(c, 0), 0);
	FINISH(&fs, c);
	fake_cleanup(&fs);

	REQUIRE_EQ(fake_connect(&fs, NULL, two_writes_then_stray, NULL, &c), 0);
	umdev_client_set_dma_handler(c, guest_rw, g);
	CHECK_EQ(umdev_client_serve_pending(c, 5000), 2);
	CHECK(!memcmp(g->mem, "wx", 2) && !memcmp(g->mem + 8, "yz", 2));
	CHECK_EQ(umdev_client_send_raw(c, &(struct vfu_hdr){ 9, VFU_CMD_DEVICE_RESET, 16,
							      VFU_FLAG_NO_REPLY, 0 },
				       16, NULL, 0),
		 16);
	/* a reply to nothing breaks the stream */
	CHECK_EQ(umdev_client_serve_pending(c, 5000), -EPROTO);
	CHECK_EQ(umdev_client_serve_pending(c, 0), -EPIPE);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 4);
	CHECK_DMA_REPLY(&fs.msgs[1], 20, VFU_CMD_DMA_WRITE, 28, 0);
	CHECK_DMA_REPLY(&fs.msgs[2], 21, VFU_CMD_DMA_WRITE, 28, 0);
	fake_cleanup(&fs);
	free(g);
}

/* ---- timeouts, closing ---- */

/* Leaves GET_INFO unanswered until the next request came, then answers both. */
static void late_reply(struct fake_server *fs)
{
	struct vfu_device_info info = { 16, 0, 1, 1 };
	struct vfu_irq_info irq = { 16, VFIO_IRQ_INFO_EVENTFD, 0, 1 };
	struct fake_msg *first = fake_recv(fs), *second;

	if (!first)
		return;
	second = fake_recv(fs);
	if (!second)
		return;
	fake_reply(fs, first, &info, sizeof(info), NULL, 0);
	fake_reply(fs, second, &irq, sizeof(irq), NULL, 0);
}

TEST(timeout_then_late_reply_dropped)
{
	struct fake_server fs;
	struct umdev_client *c = NULL;
	struct vfio_device_info info;
	struct vfio_irq_info irq = { .index = 0 };
	struct timespec t0, t1;
	long ms;

	REQUIRE_EQ(fake_connect(&fs, NULL, late_reply, NULL, &c), 0);
	umdev_client_set_timeout(c, 100);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(umdev_client_get_info(c, &info), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 95 && ms < 3000);
	umdev_client_set_timeout(c, 5000);
	/* the late GET_INFO reply comes first: dropped, not taken for this one */
	CHECK_EQ(umdev_client_get_irq_info(c, &irq), 0);
	CHECK_EQ(irq.flags, VFIO_IRQ_INFO_EVENTFD);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 3);
	CHECK_EQ(fs.msgs[1].hdr.msg_id, 1);
	CHECK_EQ(fs.msgs[2].hdr.msg_id, 2);
	fake_cleanup(&fs);
}

/* Sends half a reply header and stalls. */
static void half_header(struct fake_server *fs)
{
	struct fake_msg *m = fake_recv(fs);
	struct vfu_hdr hdr;

	if (!m)
		return;
	hdr = (struct vfu_hdr){ m->hdr.msg_id, m->hdr.command, 16, VFU_FLAG_TYPE_REPLY, 0 };
	fake_send(fs, &hdr, 8, NULL, 0);
	fake_wait_eof(fs, FAKE_TIMEOUT_MS);
}

/* Reads one request and shuts its end. */
static void close_after_one(struct fake_server *fs)
{
	if (fake_recv(fs))
		shutdown(fs->fd, SHUT_RDWR);
}

TEST(stall_mid_message_and_close)
{
	struct fake_server fs;
	struct umdev_client *c = NULL;

	REQUIRE_EQ(fake_connect(&fs, NULL, half_header, NULL, &c), 0);
	umdev_client_set_timeout(c, 100);
	CHECK_EQ(umdev_client_reset(c), -ETIMEDOUT);
	CHECK_EQ(umdev_client_reset(c), -EPIPE); /* torn: shut down */
	FINISH(&fs, c);
	fake_cleanup(&fs);

	REQUIRE_EQ(fake_connect(&fs, NULL, close_after_one, NULL, &c), 0);
	CHECK_EQ(umdev_client_reset(c), -ECONNRESET);
	CHECK_EQ(umdev_client_reset(c), -EPIPE);
	FINISH(&fs, c);
	fake_cleanup(&fs);
}

/* ---- raw messages ---- */

/* Records one message, then sends: a message with two fds, two small ones, a big one, one with
 * an fd; then shuts its end. */
static void raw_script(struct fake_server *fs)
{
	int e = eventfd(0, EFD_CLOEXEC), two[2] = { e, e };
	uint8_t big[100] = { 0 };

	if (!fake_recv(fs))
		goto out;
	fake_send_msg(fs, 1, 42, 0, 0, "xyz", 3, two, 2);
	fake_send_msg(fs, 2, 43, VFU_FLAG_TYPE_REPLY, 0, NULL, 0, NULL, 0);
	fake_send_msg(fs, 3, 44, 0, 0, big, sizeof(big), NULL, 0);
	fake_send_msg(fs, 4, 45, 0, 0, NULL, 0, &e, 1);
	fake_send_msg(fs, 5, 46, 0, 0, NULL, 0, &e, 1);
	shutdown(fs->fd, SHUT_WR);
out:
	close(e);
}

TEST(raw_send_and_receive)
{
	static const uint8_t odd[20] = { 0x34, 0x12, 0xff, 0x7f, 20, 0, 0, 0, 0x30 };
	int e = eventfd(0, EFD_CLOEXEC), fds[4];
	struct fake_server fs;
	struct umdev_client *c = NULL;
	uint8_t buf[64];
	size_t nfds;

	REQUIRE(e >= 0);
	REQUIRE_EQ(fake_connect(&fs, NULL, raw_script, NULL, &c), 0);
	CHECK_EQ(umdev_client_send_raw(c, odd, sizeof(odd), &e, 1), sizeof(odd));
	nfds = 4;
	CHECK_EQ(umdev_client_recv_raw(c, buf, sizeof(buf), fds, &nfds, 5000), 19);
	CHECK_EQ(nfds, 2);
	for (size_t i = 0; i < nfds; i++) {
		CHECK(fake_same_file(fds[i], e));
		close(fds[i]);
	}
	CHECK_EQ(((struct vfu_hdr *)buf)->command, 42);
	CHECK(!memcmp(buf + 16, "xyz", 3));
	nfds = 4;
	CHECK_EQ(umdev_client_recv_raw(c, buf, sizeof(buf), fds, &nfds, 5000), 16);
	CHECK_EQ(nfds, 0);
	CHECK_EQ(umdev_client_recv_raw(c, buf, sizeof(buf), NULL, NULL, 5000), -EMSGSIZE);
	nfds = 0;
	CHECK_EQ(umdev_client_recv_raw(c, buf, sizeof(buf), fds, &nfds, 5000), -ENOBUFS);
	CHECK_EQ(umdev_client_recv_raw(c, buf, sizeof(buf), NULL, NULL, 5000), 16);
	CHECK_EQ(umdev_client_recv_raw(c, buf, sizeof(buf), NULL, NULL, 5000), -ECONNRESET);
	CHECK_EQ(umdev_client_recv_raw(c, buf, sizeof(buf), NULL, NULL, 0), -EPIPE);
	CHECK_EQ(umdev_client_send_raw(c, odd, sizeof(odd), NULL, 0), -EPIPE);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 2);
	/* exactly the bytes, with the fd */
	CHECK(fs.msgs[1].len == 4 && !memcmp(&fs.msgs[1].hdr, odd, 16));
	CHECK(!memcmp(fs.msgs[1].payload, odd + 16, 4));
	CHECK(fs.msgs[1].nfds == 1 && fake_same_file(fs.msgs[1].fds[0], e));
	fake_cleanup(&fs);
	close(e);
}

TEST(raw_receive_times_out)
{
	struct fake_server fs;
	struct umdev_client *c = NULL;
	uint8_t buf[32];

	REQUIRE_EQ(fake_connect(&fs, NULL, NULL, NULL, &c), 0);
	CHECK_EQ(umdev_client_recv_raw(c, buf, sizeof(buf), NULL, NULL, 30), -ETIMEDOUT);
	CHECK_EQ(umdev_client_recv_raw(c, buf, sizeof(buf), NULL, NULL, 0), -ETIMEDOUT);
	CHECK_EQ(umdev_client_send_raw(c, buf, 0, NULL, 0), -EINVAL);
	FINISH(&fs, c);
	fake_cleanup(&fs);
}

/* ---- threads ---- */

#define THREADS 4
#define READS_PER_THREAD 100

/* Answers every REGION_READ with count bytes of the offset's low byte, until EOF. */
static void echo_reads(struct fake_server *fs)
{
	struct fake_msg *m;

	while ((m = fake_recv_or_eof(fs))) {
		uint8_t reply[16 + 8];
		uint32_t count = fake_u32(m, 12);

		if (m->hdr.command != VFU_CMD_REGION_READ || count > 8) {
			fs->failed++;
			return;
		}
		memcpy(reply, m->payload, 16);
		memset(reply + 16, (int)(fake_u64(m, 0) & 0xff), count);
		fake_reply(fs, m, reply, 16 + count, NULL, 0);
	}
}

struct reader {
	pthread_t thread;
	struct umdev_client *c;
	int index;
	atomic_int *bad;
};

static void *reader_thread(void *opaque)
{
	struct reader *r = opaque;

	for (int i = 0; i < READS_PER_THREAD; i++) {
		uint64_t off = (uint64_t)(r->index * 1000 + i);
		uint8_t buf[8];

		if (umdev_client_region_read(r->c, 0, off, buf, 8) != 8)
			atomic_fetch_add(r->bad, 1);
		for (int k = 0; k < 8; k++)
			if (buf[k] != (off & 0xff))
				atomic_fetch_add(r->bad, 1);
	}
	return NULL;
}

TEST(one_client_many_threads)
{
	struct reader readers[THREADS];
	struct fake_server fs;
	struct umdev_client *c = NULL;
	atomic_int bad = 0;
	bool seen[THREADS * READS_PER_THREAD + 1] = { false };

	REQUIRE_EQ(fake_connect(&fs, NULL, echo_reads, NULL, &c), 0);
	for (int i = 0; i < THREADS; i++) {
		readers[i] = (struct reader){ .c = c, .index = i, .bad = &bad };
		REQUIRE_EQ(pthread_create(&readers[i].thread, NULL, reader_thread, &readers[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(readers[i].thread, NULL);
	CHECK_EQ(atomic_load(&bad), 0);
	FINISH(&fs, c);
	/* VERSION, every read, the EOF that ended the script */
	REQUIRE_EQ(fs.nmsgs, THREADS * READS_PER_THREAD + 2);
	for (size_t i = 1; i <= THREADS * READS_PER_THREAD; i++) {
		uint16_t id = fs.msgs[i].hdr.msg_id;

		if (id == 0 || id > THREADS * READS_PER_THREAD || seen[id])
			CHECK(!"each message id once");
		else
			seen[id] = true;
	}
	fake_cleanup(&fs);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
