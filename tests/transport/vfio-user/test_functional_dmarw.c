/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Functional tests of server-to-client DMA: guest memory mapped without an fd, reached by the
 * server with DMA_READ/DMA_WRITE and served by the client's DMA handler. dmatest transfers
 * started by a region write (the server's worker waits for the handler's reply inside that
 * write) in both directions, posted, from a driver thread other than the worker, spanning an
 * fd mapping and an fd-less one, in chunks of the client's max_data_xfer_size; a handler
 * that fails gives the transfer its error, no handler gives EFAULT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "functional.h"

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define FDLESS_IOVA 0x400000ull
#define FDLESS_SIZE (1024 * 1024)

static uint8_t bar[DMATEST_BAR2_SIZE], back[DMATEST_BAR2_SIZE];

/* A client with fd-less guest memory at FDLESS_IOVA and @m as its handler. */
static struct umdev_client *fdless_client(struct fx *f, struct fdless *m, uint32_t prot)
{
	struct umdev_client *c;

	if (!fdless_new(m, FDLESS_IOVA, FDLESS_SIZE))
		return NULL;
	c = fx_client(f, 0);
	if (!c)
		return NULL;
	if (!CHECK_EQ(umdev_client_dma_map(c, FDLESS_IOVA, FDLESS_SIZE, -1, 0, prot), 0)) {
		umdev_client_close(c);
		return NULL;
	}
	umdev_client_set_dma_handler(c, fdless_handler, m);
	return c;
}

FUNC_TEST(fdless_transfers, FX_DMATEST, 1, 1)
{
	static const struct {
		uint64_t off;
		uint32_t len, boff;
	} cases[] = {
		{ 0, 1, 0 }, { 5, DMATEST_BAR2_SIZE, 0 }, { 0x3ffff, 3000, 777 },
		{ FDLESS_SIZE - 8, 8, DMATEST_BAR2_SIZE - 8 },
	};
	struct fdless m;
	struct umdev_client *c = fdless_client(f, &m, RW);

	if (!CHECK(c))
		goto out;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t off = cases[i].off;
		uint32_t len = cases[i].len, boff = cases[i].boff;
		uint64_t rd = m.bytes_read, wr = m.bytes_written;

		/* guest -> BAR2: DMA_READ requests while the GO write waits */
		pattern(m.mem, m.size, (unsigned int)i + 40);
		CHECK_EQ(DMA_GO(c, FDLESS_IOVA + off, len, boff, 0), 0);
		CHECK_EQ(m.bytes_read, rd + len);
		BAR2_RD(c, boff, back, len);
		CHECK(!memcmp(back, m.mem + off, len));

		/* BAR2 -> guest: DMA_WRITE requests */
		pattern(bar, sizeof(bar), (unsigned int)i + 50);
		BAR2_WR(c, 0, bar, sizeof(bar));
		memset(m.mem, 0xee, m.size);
		CHECK_EQ(DMA_GO(c, FDLESS_IOVA + off, len, boff, DMATEST_CTRL_TO_GUEST), 0);
		CHECK_EQ(m.bytes_written, wr + len);
		CHECK(!memcmp(m.mem + off, bar + boff, len));
		if (off)
			CHECK_EQ(m.mem[off - 1], 0xee);
		if (off + len < m.size)
			CHECK_EQ(m.mem[off + len], 0xee);
	}
	/* memory without an fd cannot be pinned */
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA, 16, 0, DMATEST_CTRL_PIN), -EFAULT);
	CHECK_EQ(RD32(c, DMATEST_REG_PINNED_PAGES), 0);
out:
	umdev_client_close(c);
	fdless_free(&m);
}

FUNC_TEST(fdless_spanning_fd_mapping, FX_DMATEST, 1, 1)
{
	static uint8_t want[DMATEST_BAR2_SIZE];
	const uint32_t half = DMATEST_BAR2_SIZE / 2;
	const uint64_t start = FDLESS_IOVA - half; /* the last half of g, the first of m */
	struct guest g = { .fd = -1 };
	struct fdless m;
	struct umdev_client *c = fdless_client(f, &m, RW);

	if (!CHECK(c) || !guest_new(&g, GUEST_SIZE) ||
	    !CHECK_EQ(umdev_client_dma_map(c, FDLESS_IOVA - GUEST_SIZE, GUEST_SIZE, g.fd, 0, RW),
		      0))
		goto out;
	pattern(want, sizeof(want), 61);
	memcpy(g.mem + GUEST_SIZE - half, want, half);
	memcpy(m.mem, want + half, half);
	CHECK_EQ(DMA_GO(c, start, DMATEST_BAR2_SIZE, 0, 0), 0);
	CHECK_EQ(m.bytes_read, half); /* only what lies in the fd-less mapping */
	BAR2_RD(c, 0, back, sizeof(back));
	CHECK(!memcmp(back, want, sizeof(want)));

	pattern(bar, sizeof(bar), 62);
	BAR2_WR(c, 0, bar, sizeof(bar));
	CHECK_EQ(DMA_GO(c, start, DMATEST_BAR2_SIZE, 0, DMATEST_CTRL_TO_GUEST), 0);
	CHECK_EQ(m.bytes_written, half);
	CHECK(!memcmp(g.mem + GUEST_SIZE - half, bar, half));
	CHECK(!memcmp(m.mem, bar + half, half));
	/* pinning stops at the first page without memory here */
	CHECK_EQ(DMA_GO(c, start, DMATEST_BAR2_SIZE, 0, DMATEST_CTRL_PIN), -EFAULT);
out:
	umdev_client_close(c);
	guest_free(&g);
	fdless_free(&m);
}

FUNC_TEST(fdless_handler_fails, FX_DMATEST, 1, 1)
{
	struct fdless m;
	struct umdev_client *c = fdless_client(f, &m, RW);
	uint64_t count;

	if (!CHECK(c))
		goto out;
	pattern(bar, sizeof(bar), 71);
	BAR2_WR(c, 0, bar, sizeof(bar));
	count = RD64(c, DMATEST_REG_XFER_COUNT);
	m.fail = ENXIO;
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA, 4096, 0, 0), -ENXIO);
	CHECK_EQ(m.reads, 1);
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA, 4096, 0, DMATEST_CTRL_TO_GUEST), -ENXIO);
	CHECK_EQ(m.writes, 1);
	m.fail = EIO;
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA + 4096, 100, 0, DMATEST_CTRL_TO_GUEST), -EIO);
	CHECK_EQ(RD64(c, DMATEST_REG_XFER_COUNT), count + 3);
	/* the failed read left BAR2 alone */
	BAR2_RD(c, 0, back, 4096);
	CHECK(!memcmp(back, bar, 4096));
	/* an address the handler has no memory for: its EFAULT */
	m.fail = 0;
	m.size = 4096;
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA + 4096, 16, 0, 0), -EFAULT);
	m.size = FDLESS_SIZE;
	/* and the connection goes on */
	pattern(m.mem, 4096, 72);
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA, 4096, 0, 0), 0);
	BAR2_RD(c, 0, back, 4096);
	CHECK(!memcmp(back, m.mem, 4096));
out:
	umdev_client_close(c);
	fdless_free(&m);
}

FUNC_TEST(fdless_no_handler, FX_DMATEST, 1, 1)
{
	struct fdless m;
	struct umdev_client *c = fdless_client(f, &m, RW);

	if (!CHECK(c))
		goto out;
	umdev_client_set_dma_handler(c, NULL, NULL);
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA, 4096, 0, 0), -EFAULT);
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA, 4096, 0, DMATEST_CTRL_TO_GUEST), -EFAULT);
	CHECK_EQ(m.reads + m.writes, 0);
	umdev_client_set_dma_handler(c, fdless_handler, &m);
	pattern(m.mem, 4096, 81);
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA, 4096, 0, 0), 0);
	BAR2_RD(c, 0, back, 4096);
	CHECK(!memcmp(back, m.mem, 4096));
out:
	umdev_client_close(c);
	fdless_free(&m);
}

FUNC_TEST(fdless_readonly, FX_DMATEST, 1, 1)
{
	struct fdless m;
	struct umdev_client *c = fdless_client(f, &m, VFIO_DMA_MAP_FLAG_READ);

	if (!CHECK(c))
		goto out;
	/* the server refuses before asking the client */
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA, 4096, 0, DMATEST_CTRL_TO_GUEST), -EPERM);
	CHECK_EQ(m.writes, 0);
	pattern(m.mem, 4096, 91);
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA, 4096, 0, 0), 0);
	BAR2_RD(c, 0, back, 4096);
	CHECK(!memcmp(back, m.mem, 4096));
out:
	umdev_client_close(c);
	fdless_free(&m);
}

FUNC_TEST(fdless_posted_go, FX_DMATEST, 1, 1)
{
	struct fdless m;
	struct umdev_client *c = fdless_client(f, &m, RW);
	uint32_t go = DMATEST_CTRL_GO;

	if (!CHECK(c))
		goto out;
	pattern(m.mem, DMATEST_BAR2_SIZE, 101);
	WR64(c, DMATEST_REG_DMA_ADDR, FDLESS_IOVA);
	WR32(c, DMATEST_REG_DMA_LEN, DMATEST_BAR2_SIZE);
	WR32(c, DMATEST_REG_DMA_BUF_OFF, 0);
	/* nobody waits for this one: the next call serves the server's DMA_READ */
	CHECK_EQ(umdev_client_region_write(c, R_BAR0, DMATEST_REG_DMA_CTRL, &go, 4, true), 4);
	CHECK_EQ(RD32(c, DMATEST_REG_DMA_STATUS), 0);
	CHECK_EQ(m.bytes_read, DMATEST_BAR2_SIZE);
	BAR2_RD(c, 0, back, sizeof(back));
	CHECK(!memcmp(back, m.mem, sizeof(back)));
out:
	umdev_client_close(c);
	fdless_free(&m);
}

struct writer {
	struct vfio_device *vdev;
	uint32_t ctrl;
	ssize_t ret;
	struct event done;
};

/* A driver thread that is not the server's worker starts the transfer. */
static void *write_ctrl(void *arg)
{
	struct writer *w = arg;

	w->ret = vfio_device_write(w->vdev, (const char *)&w->ctrl, sizeof(w->ctrl),
				   DMATEST_REGION_OFFSET(R_BAR0) + DMATEST_REG_DMA_CTRL);
	event_set(&w->done);
	return NULL;
}

/* Runs a transfer from another thread, serving its requests with serve_pending. */
static void transfer_from_thread(struct fx *f, struct umdev_client *c, uint32_t ctrl)
{
	struct writer w = { .vdev = f->dev[0].vdev, .ctrl = DMATEST_CTRL_GO | ctrl, .ret = 0 };
	pthread_t t;
	int served = 0;

	event_init(&w.done);
	if (thread_start(&t, write_ctrl, &w)) {
		/* bounded: each round waits at most 100 ms, the thread's DMA at most 5 s */
		for (int round = 0; !event_is_set(&w.done) && round < FX_TIMEOUT_MS / 100;
		     round++) {
			int n = umdev_client_serve_pending(c, 100);

			if (!CHECK(n >= 0))
				break;
			served += n;
		}
		thread_join(t);
		CHECK_EQ(w.ret, sizeof(w.ctrl));
		CHECK(served >= 1);
	}
	event_destroy(&w.done);
}

FUNC_TEST(fdless_from_driver_thread, FX_DMATEST, 1, 1)
{
	struct fdless m;
	struct umdev_client *c = fdless_client(f, &m, RW);

	if (!CHECK(c))
		goto out;
	pattern(m.mem, DMATEST_BAR2_SIZE, 111);
	WR64(c, DMATEST_REG_DMA_ADDR, FDLESS_IOVA + 3);
	WR32(c, DMATEST_REG_DMA_LEN, DMATEST_BAR2_SIZE - 3);
	WR32(c, DMATEST_REG_DMA_BUF_OFF, 3);
	transfer_from_thread(f, c, 0);
	CHECK_EQ(RD32(c, DMATEST_REG_DMA_STATUS), 0);
	BAR2_RD(c, 3, back, DMATEST_BAR2_SIZE - 3);
	CHECK(!memcmp(back, m.mem + 3, DMATEST_BAR2_SIZE - 3));

	pattern(bar, sizeof(bar), 112);
	BAR2_WR(c, 0, bar, sizeof(bar));
	transfer_from_thread(f, c, DMATEST_CTRL_TO_GUEST);
	CHECK_EQ(RD32(c, DMATEST_REG_DMA_STATUS), 0);
	CHECK(!memcmp(m.mem + 3, bar + 3, DMATEST_BAR2_SIZE - 3));
out:
	umdev_client_close(c);
	fdless_free(&m);
}

/* The largest count one request may have, as the handler sees them. */
static uint64_t largest;

static int chunk_handler(void *opaque, uint64_t addr, void *buf, uint64_t count, bool write)
{
	if (count > largest)
		largest = count;
	return fdless_handler(opaque, addr, buf, count, write);
}

FUNC_TEST(fdless_chunks_of_client_max_xfer, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client_unversioned(f, 0);
	struct fdless m;

	largest = 0;
	if (!fdless_new(&m, FDLESS_IOVA, FDLESS_SIZE) || !CHECK(c) ||
	    !fx_version_raw(c, "{\"capabilities\":{\"max_data_xfer_size\":4096,\"max_msg_fds\":16"
			       ",\"pgsizes\":4096}}") ||
	    !CHECK_EQ(umdev_client_dma_map(c, FDLESS_IOVA, FDLESS_SIZE, -1, 0, RW), 0))
		goto out;
	umdev_client_set_dma_handler(c, chunk_handler, &m);
	pattern(m.mem, DMATEST_BAR2_SIZE, 121);
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA + 1, DMATEST_BAR2_SIZE - 1, 0, 0), 0);
	CHECK_EQ(m.reads, 16);
	CHECK_EQ(largest, 4096);
	BAR2_RD(c, 0, back, DMATEST_BAR2_SIZE - 1);
	CHECK(!memcmp(back, m.mem + 1, DMATEST_BAR2_SIZE - 1));
	CHECK_EQ(DMA_GO(c, FDLESS_IOVA, DMATEST_BAR2_SIZE, 0, DMATEST_CTRL_TO_GUEST), 0);
	CHECK_EQ(m.writes, 16);
	CHECK(!memcmp(m.mem, back, DMATEST_BAR2_SIZE - 1));
out:
	umdev_client_close(c);
	fdless_free(&m);
}
