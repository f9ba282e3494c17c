/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile clients, part 4: DMA that the worker itself waits for. The dmatest device
 * (tests/transport/dmatest/) runs a transfer synchronously inside the REGION_WRITE of its
 * DMA_CTRL register, so for a mapping without an fd the worker sends DMA_READ and reads the
 * socket itself until the reply comes (vfu_dma.c, the side buffer). Meanwhile the client may
 * send anything: commands (handled after the write, in order), fds, replies nobody asked
 * for, a broken frame, nothing at all, or it may leave. Each case checks the outcome in the
 * device's DMA_STATUS register, the replies, and the fds; and that a client that does not
 * answer does not stall another device served by the same worker. Last, replies that carry
 * an fd (the sparse-mmap BAR2's region info) to a client that does not read them.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "dmatest.h"
#include "hostile.h"

/* Defined by UMDEV_DRIVER_MODULE() in dmatest.c, built with UMDEV_BUILTIN_DRIVER. */
extern const struct umdev_driver_module umdev_builtin_dmatest;

static const struct hs_driver hs_dmatest = { &umdev_builtin_dmatest, DMATEST_PARENT_NAME,
					     DMATEST_TYPE_NAME };

#define DT_BAR0 0
#define DT_BAR2 2
#define IOVA 0x300000u
#define XFER 16u

static const uint8_t pattern[XFER] = "hostile pattern";

/* Device 0 dmatest, device 1 (if any) null, on one worker. */
static bool start(struct hs *h, unsigned int ndev)
{
	const struct hs_driver *drivers[HS_MAX_DEV] = { &hs_dmatest, &hs_null };

	return hs_start_with(h, ndev, drivers, false);
}

static uint64_t reg_read(int fd, uint32_t reg, uint32_t len, SRCPOS)
{
	uint64_t v = 0;

	region_read_at(fd, DT_BAR0, reg, &v, len, file, line);
	return v;
}

static void reg_write(int fd, uint32_t reg, uint64_t v, uint32_t len, SRCPOS)
{
	region_write_at(fd, DT_BAR0, reg, &v, len, file, line);
}

#define REG_READ(fd, reg, len) reg_read(fd, reg, len, AT)
#define REG_WRITE(fd, reg, v, len) reg_write(fd, reg, v, len, AT)

/*
 * A client of dmatest with a mapping without an fd at IOVA, a transfer of XFER bytes from it
 * to BAR2 set up, and GO sent: returns the client with *@go the id of the REGION_WRITE that
 * waits, and the server's DMA_READ in @req; -1 (checked) on failure.
 */
static int start_transfer(struct hs *h, uint16_t *go, struct reply *req)
{
	int fd = hs_client_v(h, 0);
	uint64_t addr = 0, count = 0;
	struct mb m;

	if (fd < 0)
		return -1;
	*go = next_id();
	mb_start(&m, next_id(), CMD_DMA_MAP, 0);
	mb_u32(&m, 32);
	mb_u32(&m, 3);
	mb_u64(&m, 0);
	mb_u64(&m, IOVA);
	mb_u64(&m, 4096);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	if (!CHECK_EQ(raw_recv(fd, req), 1) || !CHECK_EQ(req->flags, F_REPLY))
		goto err;
	reply_free(req);
	REG_WRITE(fd, DMATEST_REG_DMA_ADDR, IOVA, 8);
	REG_WRITE(fd, DMATEST_REG_DMA_LEN, XFER, 4);
	REG_WRITE(fd, DMATEST_REG_DMA_BUF_OFF, 0, 4);
	mb_start(&m, *go, CMD_REGION_WRITE, 0);
	mb_u64(&m, DMATEST_REG_DMA_CTRL);
	mb_u32(&m, DT_BAR0);
	mb_u32(&m, 4);
	mb_u32(&m, DMATEST_CTRL_GO);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	/* the worker, inside that write, asks for the guest memory */
	if (!CHECK_EQ(raw_recv(fd, req), 1))
		goto err;
	if (req->len >= 16) {
		memcpy(&addr, req->payload, 8);
		memcpy(&count, req->payload + 8, 8);
	}
	if (!CHECK_EQ(req->cmd, CMD_DMA_READ) || !CHECK_EQ(req->flags, 0) ||
	    !CHECK_EQ(req->len, 16) || !CHECK_EQ(addr, IOVA) || !CHECK_EQ(count, XFER)) {
		reply_free(req);
		goto err;
	}
	return fd;

err:
	close(fd);
	return -1;
}

/* The reply to the server's DMA_READ @req (spec layout), with @nfds fds; 0 or -errno. */
static int send_answer(int fd, const struct reply *req, uint16_t id, const int *fds, size_t nfds)
{
	struct mb m;

	mb_start(&m, id, CMD_DMA_READ, F_REPLY);
	mb_bytes(&m, req->payload, 16);
	mb_bytes(&m, pattern, XFER);
	return mb_send(fd, &m, fds, nfds);
}

static void answer(int fd, const struct reply *req, uint16_t id, const int *fds, size_t nfds)
{
	CHECK_EQ(send_answer(fd, req, id, fds, nfds), 0);
}

/* Something to read on @fd right now (no waiting). */
static bool readable_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/* The transfer's result, read by a new client once the one that ran it is gone. */
static int64_t status_after(struct hs *h)
{
	int64_t status = 1;
	int fd;

	if (!CHECK(hs_wait_gone(h, 0)))
		return status;
	fd = hs_client_v(h, 0);
	if (fd >= 0) {
		status = (int32_t)REG_READ(fd, DMATEST_REG_DMA_STATUS, 4);
		close(fd);
		hs_wait_gone(h, 0);
	}
	return status;
}

TEST(worker_dma_answered)
{
	uint8_t buf[XFER];
	struct reply req;
	struct hs h;
	uint16_t go;
	int fd;

	if (!start(&h, 1))
		goto out;
	fd = start_transfer(&h, &go, &req);
	if (fd < 0)
		goto out;
	answer(fd, &req, req.id, NULL, 0);
	reply_free(&req);
	EXPECT_OK(fd, go, CMD_REGION_WRITE, NULL);
	CHECK_EQ(REG_READ(fd, DMATEST_REG_DMA_STATUS, 4), 0);
	if (region_read_at(fd, DT_BAR2, 0, buf, XFER, AT))
		CHECK_EQ(memcmp(buf, pattern, XFER), 0);
	close(fd);
out:
	hs_stop(&h);
}

/* Commands sent while the worker waits are handled after the write, in order. */
TEST(worker_dma_commands_meanwhile)
{
	struct reply req, r;
	struct hs h;
	uint16_t go, rid, iid;
	struct mb m;
	int fd, rd, wr;

	if (!start(&h, 1))
		goto out;
	fd = start_transfer(&h, &go, &req);
	if (fd < 0)
		goto out;
	rid = next_id();
	mb_start(&m, rid, CMD_REGION_READ, 0);
	mb_u64(&m, DMATEST_REG_ID);
	mb_u32(&m, DT_BAR0);
	mb_u32(&m, 4);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	iid = next_id();
	mb_start(&m, iid, CMD_GET_INFO, 0);
	mb_u32(&m, 16);
	mb_fill(&m, 0, 12);
	wr = probe_make(&rd);
	CHECK_EQ(mb_send(fd, &m, &wr, 1), 0); /* an fd where none belongs */
	close(wr);
	answer(fd, &req, req.id, NULL, 0);
	reply_free(&req);
	EXPECT_OK(fd, go, CMD_REGION_WRITE, NULL);
	if (EXPECT_OK(fd, rid, CMD_REGION_READ, &r)) {
		uint32_t v = 0;

		memcpy(&v, r.payload + 16, r.len >= 20 ? 4 : 0);
		CHECK_EQ(v, DMATEST_ID);
		reply_free(&r);
	}
	EXPECT_ERROR(fd, iid, CMD_GET_INFO, EINVAL);
	CHECK_EQ(REG_READ(fd, DMATEST_REG_DMA_STATUS, 4), 0);
	CHECK(probe_closed(rd));
	close(rd);
	close(fd);
out:
	hs_stop(&h);
}

/*
 * A reply that carries an fd: the fd is the reply's (dropped with it), not the next
 * message's, so a GET_INFO sent after it alone is answered normally.
 */
TEST(worker_dma_reply_with_fd)
{
	struct reply req;
	struct hs h;
	uint16_t go, iid;
	struct mb m;
	int fd, rd, wr;

	if (!start(&h, 1))
		goto out;
	fd = start_transfer(&h, &go, &req);
	if (fd < 0)
		goto out;
	wr = probe_make(&rd);
	answer(fd, &req, req.id, &wr, 1);
	close(wr);
	reply_free(&req);
	EXPECT_OK(fd, go, CMD_REGION_WRITE, NULL);
	iid = next_id();
	mb_start(&m, iid, CMD_GET_INFO, 0);
	mb_u32(&m, 16);
	mb_fill(&m, 0, 12);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	EXPECT_OK(fd, iid, CMD_GET_INFO, NULL);
	CHECK_EQ(REG_READ(fd, DMATEST_REG_ID, 4), DMATEST_ID);
	CHECK(probe_closed(rd));
	close(rd);
	close(fd);
out:
	hs_stop(&h);
}

/* A reply nobody asked for, sent while the worker waits: the transfer completes with the
 * right reply, then the stray one ends the connection. */
TEST(worker_dma_unasked_reply_meanwhile)
{
	struct reply req;
	struct hs h;
	uint16_t go;
	int fd;

	if (!start(&h, 1))
		goto out;
	fd = start_transfer(&h, &go, &req);
	if (fd < 0)
		goto out;
	answer(fd, &req, (uint16_t)(req.id + 1), NULL, 0);
	answer(fd, &req, req.id, NULL, 0);
	reply_free(&req);
	EXPECT_OK(fd, go, CMD_REGION_WRITE, NULL);
	CHECK(EXPECT_EOF(fd));
	close(fd);
	CHECK_EQ(status_after(&h), 0);
out:
	hs_stop(&h);
}

/*
 * A frame that cannot be trusted, sent while the worker waits: the connection ends, and the
 * transfer fails because of it, not after VFU_DMA_TIMEOUT_MS (the reply behind the broken
 * frame cannot be trusted either).
 */
TEST(worker_dma_broken_frame_meanwhile)
{
	struct reply req, r;
	struct hs h;
	uint16_t go;
	struct mb m;
	int fd, ret;

	if (!start(&h, 1))
		goto out;
	fd = start_transfer(&h, &go, &req);
	if (fd < 0)
		goto out;
	mb_start(&m, 0, CMD_GET_INFO, 0);
	mb_set_size(&m, 8);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	/* the server may have closed already: then this fails with EPIPE */
	send_answer(fd, &req, req.id, NULL, 0);
	reply_free(&req);
	/* the write may be answered first (its register write itself worked), then EOF */
	ret = raw_recv(fd, &r);
	if (ret == 1) {
		CHECK_EQ(r.id, go);
		reply_free(&r);
		ret = raw_recv(fd, &r);
	}
	CHECK_EQ(ret, 0);
	close(fd);
	CHECK(status_after(&h) != -ETIMEDOUT);
out:
	hs_stop(&h);
}

/* The client leaves while the worker waits: the transfer fails at once. */
TEST(worker_dma_client_leaves)
{
	struct reply req;
	struct hs h;
	uint16_t go;
	int fd;

	if (!start(&h, 1))
		goto out;
	fd = start_transfer(&h, &go, &req);
	if (fd < 0)
		goto out;
	reply_free(&req);
	close(fd);
	CHECK_EQ(status_after(&h), -ECONNRESET);
out:
	hs_stop(&h);
}

/*
 * A client that does not answer the worker's DMA_READ must not stall another device on the
 * same worker: the null device is answered while the transfer still waits, so that the late
 * answer still completes it.
 */
TEST(worker_dma_unanswered_stalls_nobody)
{
	struct reply req;
	struct hs h;
	uint16_t go;
	int a = -1, b = -1;

	if (!start(&h, 2))
		goto out;
	b = hs_client_v(&h, 1);
	if (b < 0)
		goto out;
	a = start_transfer(&h, &go, &req);
	if (a < 0)
		goto out;
	ALIVE(b); /* while a's transfer waits */
	/* the server answers a's write only when the transfer has ended: nothing there yet */
	if (!CHECK(!readable_now(a))) {
		tap_diag("a's transfer ended before b was answered: the worker waited for it");
		reply_free(&req);
		goto out;
	}
	answer(a, &req, req.id, NULL, 0);
	reply_free(&req);
	EXPECT_OK(a, go, CMD_REGION_WRITE, NULL);
	CHECK_EQ(REG_READ(a, DMATEST_REG_DMA_STATUS, 4), 0);
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	hs_stop(&h);
}

/* The n-th request of a client that does not read: BAR2's region info, whose reply carries
 * the memfd. */
static void make_bar2_info(struct mb *m, size_t n)
{
	mb_start(m, HS_FILL_ID(n), CMD_GET_REGION_INFO, 0);
	mb_u32(m, 4096);
	mb_u32(m, 0);
	mb_u32(m, DT_BAR2);
	mb_fill(m, 0, 20);
}

/*
 * A client that asks for BAR2's region info and never reads the replies, each of which
 * carries a duplicate of the memfd: the server stops reading from it once
 * VFU_OUTPUT_PAUSE_FDS of them are queued, so that one client cannot take the process's fds
 * from the others (RLIMIT_NOFILE is lowered to 2048 for the case, so that a server without
 * the bound runs out during it). The client is kept; when it reads, every reply comes with
 * its fd, and the server's fds are back where they were.
 */
TEST(unread_replies_with_fds)
{
	struct rlimit old, lim;
	size_t sent, partial = 0;
	struct mb m = { 0 };
	struct hs h;
	int a = -1, base, now;

	REQUIRE_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	if (lim.rlim_cur > 2048)
		lim.rlim_cur = 2048;
	REQUIRE_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
	if (!start(&h, 1))
		goto out;
	a = hs_client_v(&h, 0);
	if (a < 0)
		goto out;
	base = count_fds();
	sent = hs_send_until_full(&h, 0, a, make_bar2_info, &m, &partial);
	now = count_fds(); /* -1: out of fds */
	tap_diag("%zu requests in before the server stopped reading; %d fds held, %d at the start",
		 sent, now, base);
	CHECK(sent > VFU_OUTPUT_PAUSE_FDS);
	CHECK(now >= 0 && now - base < 2 * VFU_OUTPUT_PAUSE_FDS);
	CHECK(vfio_user_server_has_client(h.dev[0].srv));
	hs_read_filled(a, &m, sent, partial, CMD_GET_REGION_INFO, 0, 1);
	/* served as before */
	mb_free(&m);
	make_bar2_info(&m, sent + 1);
	CHECK_EQ(mb_send(a, &m, NULL, 0), 0);
	CHECK(EXPECT_OK(a, HS_FILL_ID(sent + 1), CMD_GET_REGION_INFO, NULL));
	hs_barrier(&h, 0);
	CHECK_EQ(count_fds(), base);
	CHECK_EQ(hs_stats(&h, 0).disconnects, 0);
out:
	mb_free(&m);
	if (a >= 0) {
		close(a);
		hs_wait_gone(&h, 0);
	}
	hs_stop(&h);
	setrlimit(RLIMIT_NOFILE, &old);
}
