/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Functional tests of DMA_MAP and DMA_UNMAP with memfds: read-only and read-write mappings,
 * mappings without an fd, the errors (overlap, unknown range, rights, alignment), unmap-all;
 * dmatest transfers in both directions with vfio_dma_rw() and with pinning, checked in the
 * memfd; a transfer into a read-only mapping failing with EPERM; and DMA_UNMAP of a range
 * the device holds pins in (answered only once the driver's dma_unmap let them go, with the
 * client's memory intact), also under a pinned transfer parked in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "functional.h"

#define RD VFIO_DMA_MAP_FLAG_READ
#define WRT VFIO_DMA_MAP_FLAG_WRITE

/* A read-only fd of the same memfd. */
static int reopen_ro(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY | O_CLOEXEC);
}

FUNC_TEST(dma_map_unmap, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 }, g2 = { .fd = -1 };
	int ro = -1;

	if (!CHECK(c) || !guest_new(&g, GUEST_SIZE) || !guest_new(&g2, 256 * 1024))
		goto out;
	ro = reopen_ro(g2.fd);
	if (!CHECK(ro >= 0))
		goto out;

	CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RD | WRT), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0x400000, 256 * 1024, g2.fd, 0, RD), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0x800000, 64 * 1024, -1, 0, RD | WRT), 0);
	/* a read-only fd backs a read-only mapping, never a writable one */
	CHECK_EQ(umdev_client_dma_map(c, 0xa00000, 64 * 1024, ro, 0, RD), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0xb00000, 64 * 1024, ro, 0, RD | WRT), -EACCES);
	/* part of an fd at an offset */
	CHECK_EQ(umdev_client_dma_map(c, 0xc00000, 64 * 1024, g2.fd, 128 * 1024, RD | WRT), 0);

	/* overlaps, with fd or without */
	CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA + 4096, 4096, g.fd, 0, RD), -EEXIST);
	CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA - 4096, 8192, g.fd, 0, RD), -EEXIST);
	CHECK_EQ(umdev_client_dma_map(c, 0x800000 + 60 * 1024, 8192, -1, 0, RD), -EEXIST);
	/* bad requests */
	CHECK_EQ(umdev_client_dma_map(c, 0x2000001, 4096, g.fd, 0, RD), -EINVAL);
	CHECK_EQ(umdev_client_dma_map(c, 0x2000000, 0, g.fd, 0, RD), -EINVAL);
	CHECK_EQ(umdev_client_dma_map(c, 0x2000000, 4096, g.fd, 100, RD), -EINVAL);
	CHECK_EQ(umdev_client_dma_map(c, 0x2000000, 4096, g.fd, GUEST_SIZE, RD), -EINVAL);
	CHECK_EQ(umdev_client_dma_map(c, 0x2000000, 4096, g.fd, 0, 0), -EINVAL);
	CHECK_EQ(umdev_client_dma_map(c, 0x2000000, 4096, g.fd, 0, 4), -EINVAL);
	CHECK_EQ(umdev_client_dma_map(c, 0x2000000, 4096, -1, 4096, RD), -EINVAL);

	/* unmapping: unknown, straddling, exact */
	CHECK_EQ(umdev_client_dma_unmap(c, 0x5000000, 4096, 0), -ENOENT);
	CHECK_EQ(umdev_client_dma_unmap(c, GUEST_IOVA, 4096, 0), -EINVAL);
	CHECK_EQ(umdev_client_dma_unmap(c, 0x400000, 256 * 1024, 0), 0);
	CHECK_EQ(umdev_client_dma_unmap(c, 0x400000, 256 * 1024, 0), -ENOENT);
	CHECK_EQ(umdev_client_dma_unmap(c, 0x800000, 64 * 1024, 0), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0x400000, 256 * 1024, g2.fd, 0, RD | WRT), 0);

	/* the device reaches what is mapped */
	pattern(g.mem, 4096, 1);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 4096, 0, 0), 0);

	/* unmap-all: everything goes, and the range can be mapped again */
	CHECK_EQ(umdev_client_dma_unmap(c, GUEST_IOVA, 4096, VFIO_DMA_UNMAP_FLAG_ALL), -EINVAL);
	CHECK_EQ(umdev_client_dma_unmap(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL), 0);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 4096, 0, 0), -EINVAL);
	CHECK_EQ(umdev_client_dma_unmap(c, GUEST_IOVA, GUEST_SIZE, 0), -ENOENT);
	CHECK_EQ(umdev_client_dma_unmap(c, 0xa00000, 64 * 1024, 0), -ENOENT);
	CHECK_EQ(umdev_client_dma_unmap(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL), 0);
	CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RD | WRT), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0x400000, 256 * 1024, g2.fd, 0, RD | WRT), 0);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 4096, 0, DMATEST_CTRL_TO_GUEST), 0);
	CHECK_EQ(RD32(c, DMATEST_REG_ID), DMATEST_ID);
out:
	umdev_client_close(c);
	if (ro >= 0)
		close(ro);
	guest_free(&g);
	guest_free(&g2);
}

/* Both directions with @ctrl (0 or PIN), at odd offsets and lengths, checked on both sides. */
static void transfers(struct umdev_client *c, struct guest *g, uint32_t ctrl)
{
	static uint8_t bar[DMATEST_BAR2_SIZE], back[DMATEST_BAR2_SIZE];
	static const struct {
		uint64_t goff;
		uint32_t len, boff;
	} cases[] = {
		{ 0, 1, 0 },
		{ 0x3005, 20000, 100 },
		{ 4095, 2, DMATEST_BAR2_SIZE - 2 },
		{ 0x10001, DMATEST_BAR2_SIZE, 0 },
		{ GUEST_SIZE - 4096, 4096, 8192 },
	};
	uint64_t count = RD64(c, DMATEST_REG_XFER_COUNT);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t goff = cases[i].goff;
		uint32_t len = cases[i].len, boff = cases[i].boff;

		/* guest -> BAR2 */
		pattern(g->mem, g->size, (unsigned int)i + 10);
		CHECK_EQ(DMA_GO(c, GUEST_IOVA + goff, len, boff, ctrl), 0);
		CHECK_EQ(RD64(c, DMATEST_REG_XFER_COUNT), ++count);
		BAR2_RD(c, boff, back, len);
		CHECK(!memcmp(back, g->mem + goff, len));

		/* BAR2 -> guest, and nothing around it touched */
		pattern(bar, DMATEST_BAR2_SIZE, (unsigned int)i + 20);
		BAR2_WR(c, 0, bar, DMATEST_BAR2_SIZE);
		memset(g->mem, 0xee, g->size);
		CHECK_EQ(DMA_GO(c, GUEST_IOVA + goff, len, boff, ctrl | DMATEST_CTRL_TO_GUEST), 0);
		CHECK_EQ(RD64(c, DMATEST_REG_XFER_COUNT), ++count);
		CHECK(!memcmp(g->mem + goff, bar + boff, len));
		if (goff)
			CHECK_EQ(g->mem[goff - 1], 0xee);
		if (goff + len < g->size)
			CHECK_EQ(g->mem[goff + len], 0xee);
	}
	CHECK_EQ(RD32(c, DMATEST_REG_PINNED_PAGES), 0);
}

FUNC_TEST(dma_transfers_rw, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 };

	if (CHECK(c) && guest_new(&g, GUEST_SIZE) &&
	    CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RD | WRT), 0))
		transfers(c, &g, 0);
	umdev_client_close(c);
	guest_free(&g);
}

FUNC_TEST(dma_transfers_pinned, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 };

	if (CHECK(c) && guest_new(&g, GUEST_SIZE) &&
	    CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RD | WRT), 0))
		transfers(c, &g, DMATEST_CTRL_PIN);
	umdev_client_close(c);
	guest_free(&g);
}

FUNC_TEST(dma_readonly_mapping, FX_DMATEST, 1, 1)
{
	static uint8_t bar[DMATEST_BAR2_SIZE], back[DMATEST_BAR2_SIZE], want[8192];
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 };
	uint64_t count;

	if (!CHECK(c) || !guest_new(&g, GUEST_SIZE) ||
	    !CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RD), 0))
		goto out;
	pattern(g.mem, 8192, 5);
	memcpy(want, g.mem, sizeof(want));
	pattern(bar, sizeof(bar), 6);
	BAR2_WR(c, 0, bar, sizeof(bar));
	count = RD64(c, DMATEST_REG_XFER_COUNT);

	/* into the read-only mapping: refused, the memory as it was */
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 8192, 0, DMATEST_CTRL_TO_GUEST), -EPERM);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + 1, 100, 0, DMATEST_CTRL_TO_GUEST | DMATEST_CTRL_PIN),
		 -EPERM);
	CHECK_EQ(RD64(c, DMATEST_REG_XFER_COUNT), count + 2); /* completed, with an error */
	CHECK(!memcmp(g.mem, want, sizeof(want)));

	/* out of it: fine, either way */
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 8192, 0, 0), 0);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 4096, 8192, DMATEST_CTRL_PIN), 0);
	BAR2_RD(c, 0, back, 8192 + 4096);
	CHECK(!memcmp(back, want, 8192));
	CHECK(!memcmp(back + 8192, want, 4096));
	CHECK_EQ(RD32(c, DMATEST_REG_PINNED_PAGES), 0);
out:
	umdev_client_close(c);
	guest_free(&g);
}

FUNC_TEST(dma_unmapped_iova, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 };

	if (!CHECK(c) || !guest_new(&g, GUEST_SIZE) ||
	    !CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RD | WRT), 0))
		goto out;
	CHECK_EQ(DMA_GO(c, 0x7000000, 16, 0, 0), -EINVAL);
	CHECK_EQ(DMA_GO(c, 0x7000000, 16, 0, DMATEST_CTRL_PIN), -EINVAL);
	/* running off the end of the mapping */
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + GUEST_SIZE - 16, 32, 0, DMATEST_CTRL_TO_GUEST), -EINVAL);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + GUEST_SIZE - 16, 32, 0, DMATEST_CTRL_PIN), -EINVAL);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 16, 0, 0), 0);
out:
	umdev_client_close(c);
	guest_free(&g);
}

FUNC_TEST(dma_unmap_takes_held_pins, FX_DMATEST, 1, 1)
{
	static uint8_t bar[DMATEST_BAR2_SIZE], want[GUEST_SIZE];
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 }, g2 = { .fd = -1 };
	const uint64_t off = 0x1000 + 10;
	const uint32_t len = 3 * 4096;
	uint64_t pages0;
	uint32_t calls0;

	if (!CHECK(c) || !guest_new(&g, GUEST_SIZE) || !guest_new(&g2, 64 * 1024) ||
	    !CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RD | WRT), 0) ||
	    !CHECK_EQ(umdev_client_dma_map(c, 0x400000, 64 * 1024, g2.fd, 0, RD | WRT), 0))
		goto out;
	pattern(bar, sizeof(bar), 31);
	BAR2_WR(c, 0, bar, sizeof(bar));
	pattern(want, sizeof(want), 32);
	memcpy(g.mem, want, sizeof(want));
	memcpy(want + off, bar, len); /* what the transfer will leave */
	calls0 = RD32(c, DMATEST_REG_UNMAP_CALLS);
	pages0 = RD64(c, DMATEST_REG_UNMAP_PAGES);

	/* the device holds 4 pages of g (10 bytes into the second page, 3 pages long) */
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + off, len, 0,
			DMATEST_CTRL_TO_GUEST | DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD),
		 0);
	CHECK_EQ(RD32(c, DMATEST_REG_PINNED_PAGES), 4);
	CHECK(!memcmp(g.mem + off, bar, len));

	/* unmapping another range does not bother it */
	CHECK_EQ(umdev_client_dma_unmap(c, 0x400000, 64 * 1024, 0), 0);
	CHECK_EQ(RD32(c, DMATEST_REG_UNMAP_CALLS), calls0);
	CHECK_EQ(RD32(c, DMATEST_REG_PINNED_PAGES), 4);

	/* unmapping g: answered once the driver released its pins */
	CHECK_EQ(umdev_client_dma_unmap(c, GUEST_IOVA, GUEST_SIZE, 0), 0);
	CHECK_EQ(RD32(c, DMATEST_REG_UNMAP_CALLS), calls0 + 1);
	CHECK_EQ(RD64(c, DMATEST_REG_UNMAP_PAGES), pages0 + 4);
	CHECK_EQ(RD32(c, DMATEST_REG_PINNED_PAGES), 0);
	/* the client's memory is intact: the transfer's bytes, the rest as it was */
	CHECK(!memcmp(g.mem, want, sizeof(want)));
	/* and no longer reachable */
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + off, 16, 0, DMATEST_CTRL_PIN), -EINVAL);
	CHECK_EQ(umdev_client_dma_unmap(c, GUEST_IOVA, GUEST_SIZE, 0), -ENOENT);
out:
	umdev_client_close(c);
	guest_free(&g);
	guest_free(&g2);
}

/* The pin hook: a pinned transfer tells it is parked and waits to be let go. */
struct park {
	struct event parked, go;
};

static void park_hook(void *arg)
{
	struct park *p = arg;

	event_set(&p->parked);
	event_wait_ms(&p->go, FX_TIMEOUT_MS); /* bounded */
}

struct writer {
	struct vfio_device *vdev;
	uint32_t ctrl;
	ssize_t ret;
};

/* Writes DMA_CTRL as a driver thread other than the server's worker would. */
static void *write_ctrl(void *arg)
{
	struct writer *w = arg;

	w->ret = vfio_device_write(w->vdev, (const char *)&w->ctrl, sizeof(w->ctrl),
				   DMATEST_REGION_OFFSET(R_BAR0) + DMATEST_REG_DMA_CTRL);
	return NULL;
}

FUNC_TEST(dma_unmap_under_parked_transfer, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 };
	struct writer w = {
		.vdev = f->dev[0].vdev,
		.ctrl = DMATEST_CTRL_GO | DMATEST_CTRL_PIN | DMATEST_CTRL_TO_GUEST,
		.ret = 0,
	};
	struct park p;
	uint64_t pages0, count0;
	pthread_t t;

	event_init(&p.parked);
	event_init(&p.go);
	if (!CHECK(c) || !guest_new(&g, GUEST_SIZE) ||
	    !CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RD | WRT), 0))
		goto out;
	memset(g.mem, 0x77, 3 * 4096);
	WR64(c, DMATEST_REG_DMA_ADDR, GUEST_IOVA + 4096);
	WR32(c, DMATEST_REG_DMA_LEN, 8192);
	WR32(c, DMATEST_REG_DMA_BUF_OFF, 0);
	pages0 = RD64(c, DMATEST_REG_UNMAP_PAGES);
	count0 = RD64(c, DMATEST_REG_XFER_COUNT);

	dmatest_set_pin_hook(park_hook, &p);
	if (!thread_start(&t, write_ctrl, &w)) {
		dmatest_set_pin_hook(NULL, NULL);
		goto out;
	}
	if (CHECK(event_wait_ms(&p.parked, FX_TIMEOUT_MS))) {
		/* the transfer holds 2 pinned pages and waits: the unmap takes them back
		 * without waiting for it */
		CHECK_EQ(umdev_client_dma_unmap(c, GUEST_IOVA, GUEST_SIZE, 0), 0);
		CHECK_EQ(RD64(c, DMATEST_REG_UNMAP_PAGES), pages0 + 2);
	}
	event_set(&p.go);
	thread_join(t);
	dmatest_set_pin_hook(NULL, NULL);
	CHECK_EQ(w.ret, sizeof(w.ctrl));
	/* the transfer found its pins gone and did not touch the memory */
	CHECK_EQ((int)RD32(c, DMATEST_REG_DMA_STATUS), -ECANCELED);
	CHECK_EQ(RD64(c, DMATEST_REG_XFER_COUNT), count0 + 1);
	for (size_t i = 0; i < 3 * 4096; i++)
		if (!CHECK_EQ(g.mem[i], 0x77))
			break;
out:
	umdev_client_close(c);
	guest_free(&g);
	event_destroy(&p.parked);
	event_destroy(&p.go);
}
