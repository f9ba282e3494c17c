/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmatest's cases with several threads (they also run under ThreadSanitizer): a pinned
 * transfer parked by the pin hook (dmatest.h) while another thread unmaps its memory, stops
 * the device for migration or resets it; a second GO while one is in flight; the REQ
 * interrupt of a removal that waits for the client; and a mix of transfers and map/unmap
 * churn. No assertion depends on timing: threads hand over with events whose waits are
 * bounded only so that a broken driver fails instead of hanging. Threads do not CHECK (the
 * harness counts failures without a lock); they record, and the main thread checks.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmatest_fixture.h"

/* ---- a transfer on its own thread ---- */

struct go_thread {
	pthread_t thread;
	struct vfio_device *vdev;
	uint64_t iova;
	uint32_t len, off, ctrl;
	ssize_t write_ret; /* of the GO write */
};

static ssize_t raw_wr(struct vfio_device *vdev, uint64_t off, uint64_t v, size_t len)
{
	uint8_t b[8];

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return vfio_device_write(vdev, b, len, BAR0 + off);
}

static void *go_main(void *arg)
{
	struct go_thread *g = arg;

	raw_wr(g->vdev, DMATEST_REG_DMA_ADDR, g->iova, 8);
	raw_wr(g->vdev, DMATEST_REG_DMA_LEN, g->len, 4);
	raw_wr(g->vdev, DMATEST_REG_DMA_BUF_OFF, g->off, 4);
	g->write_ret = raw_wr(g->vdev, DMATEST_REG_DMA_CTRL, g->ctrl | DMATEST_CTRL_GO, 4);
	return NULL;
}

static bool go_start(struct go_thread *g, struct dev *d, uint64_t iova, uint32_t len,
		     uint32_t ctrl)
{
	*g = (struct go_thread){ .vdev = d->vdev, .iova = iova, .len = len, .ctrl = ctrl };
	return CHECK_EQ(pthread_create(&g->thread, NULL, go_main, g), 0);
}

/* ---- the pin hook: parks a pinned transfer until the test lets it go ---- */

struct park {
	struct event parked;  /* the transfer holds its pins and waits */
	struct event proceed; /* the test lets it copy */
	bool timed_out;	      /* the transfer was not let go in time */
};

static void park_hook(void *arg)
{
	struct park *p = arg;

	event_set(&p->parked);
	if (!event_wait_ms(&p->proceed, WAIT_TIMEOUT_S * 1000))
		p->timed_out = true;
}

static void park_init(struct park *p)
{
	event_init(&p->parked);
	event_init(&p->proceed);
	p->timed_out = false;
	dmatest_set_pin_hook(park_hook, p);
}

static void park_destroy(struct park *p)
{
	dmatest_set_pin_hook(NULL, NULL);
	event_destroy(&p->parked);
	event_destroy(&p->proceed);
}

/* ---- an unmap on its own thread ---- */

struct unmap_thread {
	pthread_t thread;
	struct vfio_dma_space *space;
	uint64_t iova, size;
	int64_t ret;
};

static void *unmap_main(void *arg)
{
	struct unmap_thread *u = arg;

	u->ret = vfio_dma_unmap(u->space, u->iova, u->size);
	return NULL;
}

/*
 * The transfer is parked holding 3 pages; another thread unmaps the memory. dma_unmap takes
 * the pins back and unpins them, so the unmap completes while the transfer is still parked;
 * let go, the transfer finds its pins gone and ends with -ECANCELED, touching nothing.
 */
DMATEST_TEST(unmap_during_pinned_transfer)
{
	uint8_t before[256], after[256];
	struct unmap_thread u;
	struct go_thread g;
	struct park p;
	struct dev d;

	park_init(&p);
	if (!dev_create_open(f, 300, &d, true))
		goto out;
	pattern(before, sizeof(before), 60);
	bar2_wr(&d, 0, before, sizeof(before));
	pattern(d.guest, 3 * PAGE_SIZE, 61);
	if (!go_start(&g, &d, GUEST_IOVA + 100, 2 * PAGE_SIZE, DMATEST_CTRL_PIN))
		goto out;
	if (CHECK(event_wait_ms(&p.parked, WAIT_TIMEOUT_S * 1000))) {
		u = (struct unmap_thread){ .space = d.space, .iova = GUEST_IOVA,
					   .size = GUEST_SIZE };
		if (CHECK_EQ(pthread_create(&u.thread, NULL, unmap_main, &u), 0)) {
			pthread_join(u.thread, NULL);
			CHECK_EQ(u.ret, GUEST_SIZE);
		}
		CHECK_EQ(rd32(&d, DMATEST_REG_UNMAP_CALLS), 1);
		CHECK_EQ(rd64(&d, DMATEST_REG_UNMAP_PAGES), 3);
		CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 0); /* still in flight */
	}
	event_set(&p.proceed);
	pthread_join(g.thread, NULL);
	CHECK(!p.timed_out);
	CHECK_EQ(g.write_ret, 4);
	CHECK_EQ((int)rd32(&d, DMATEST_REG_DMA_STATUS), -ECANCELED);
	CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 1);
	CHECK_EQ(rd32(&d, DMATEST_REG_IRQ_STATUS), DMATEST_IRQ_STATUS_PENDING);
	bar2_rd(&d, 0, after, sizeof(after));
	CHECK(!memcmp(before, after, sizeof(after)));
	/* the device goes on: the memory is gone, later transfers say so */
	CHECK_EQ(dma_go(&d, GUEST_IOVA, 16, 0, DMATEST_CTRL_PIN), -EINVAL);
out:
	dev_destroy(&d);
	park_destroy(&p);
}

/* An unmap of memory the parked transfer does not use leaves it alone. */
DMATEST_TEST(unmap_elsewhere_during_pinned_transfer)
{
	const uint64_t other = 0x40000000;
	uint8_t back[PAGE_SIZE];
	struct go_thread g;
	struct park p;
	struct dev d;
	int fd = -1;

	park_init(&p);
	if (!dev_create_open(f, 301, &d, true))
		goto out;
	fd = memfd_create("dmatest-other", MFD_CLOEXEC);
	if (!CHECK(fd >= 0) || !CHECK_EQ(ftruncate(fd, PAGE_SIZE), 0) ||
	    !CHECK_EQ(vfio_dma_map(d.space, other, PAGE_SIZE, fd, 0, IOMMU_READ), 0))
		goto out;
	pattern(d.guest, PAGE_SIZE, 62);
	if (!go_start(&g, &d, GUEST_IOVA, PAGE_SIZE, DMATEST_CTRL_PIN))
		goto out;
	if (CHECK(event_wait_ms(&p.parked, WAIT_TIMEOUT_S * 1000)))
		CHECK_EQ(vfio_dma_unmap(d.space, other, PAGE_SIZE), PAGE_SIZE);
	event_set(&p.proceed);
	pthread_join(g.thread, NULL);
	CHECK_EQ(rd32(&d, DMATEST_REG_DMA_STATUS), 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_UNMAP_CALLS), 0);
	bar2_rd(&d, 0, back, sizeof(back));
	CHECK(!memcmp(back, d.guest, sizeof(back)));
out:
	if (fd >= 0)
		close(fd);
	dev_destroy(&d);
	park_destroy(&p);
}

/* A GO while a transfer is in flight completes at once with -EBUSY; the first one finishes. */
DMATEST_TEST(second_go_is_busy)
{
	struct go_thread g;
	struct park p;
	struct dev d;

	park_init(&p);
	if (!dev_create_open(f, 302, &d, true))
		goto out;
	if (!go_start(&g, &d, GUEST_IOVA, 64, DMATEST_CTRL_PIN))
		goto out;
	if (CHECK(event_wait_ms(&p.parked, WAIT_TIMEOUT_S * 1000))) {
		wr32(&d, DMATEST_REG_DMA_CTRL, DMATEST_CTRL_GO);
		CHECK_EQ((int)rd32(&d, DMATEST_REG_DMA_STATUS), -EBUSY);
		CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 1);
	}
	event_set(&p.proceed);
	pthread_join(g.thread, NULL);
	CHECK_EQ(rd32(&d, DMATEST_REG_DMA_STATUS), 0);
	CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 2);
out:
	dev_destroy(&d);
	park_destroy(&p);
}

/*
 * A stop for migration, or a reset, while a transfer is parked: the device lets go of the
 * pins at once (the unmap that follows has nothing to wait for), and the transfer ends
 * without completing: no status, no count, no interrupt.
 */
static void drop_parked_transfer(struct fixture *f, unsigned int n, bool reset)
{
	struct go_thread g;
	struct park p;
	struct dev d;
	int efd = -1;

	park_init(&p);
	if (!dev_create_open(f, n, &d, true))
		goto out;
	efd = efd_new();
	CHECK_EQ(irq_set_fd(&d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, efd), 0);
	if (!go_start(&g, &d, GUEST_IOVA, 2 * PAGE_SIZE, DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD))
		goto out;
	if (CHECK(event_wait_ms(&p.parked, WAIT_TIMEOUT_S * 1000))) {
		if (reset)
			CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
		else
			CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_STOP), 0);
		CHECK_EQ(vfio_dma_unmap(d.space, GUEST_IOVA, GUEST_SIZE), GUEST_SIZE);
		CHECK_EQ(rd32(&d, DMATEST_REG_UNMAP_CALLS), 0);
	}
	event_set(&p.proceed);
	pthread_join(g.thread, NULL);
	CHECK(!p.timed_out);
	CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_DMA_STATUS), 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 0);
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(mig_get(&d), reset ? VFIO_DEVICE_STATE_RUNNING : VFIO_DEVICE_STATE_STOP);
out:
	dev_destroy(&d);
	if (efd >= 0)
		close(efd);
	park_destroy(&p);
}

DMATEST_TEST(stop_drops_parked_transfer)
{
	drop_parked_transfer(f, 303, false);
}

DMATEST_TEST(reset_drops_parked_transfer)
{
	drop_parked_transfer(f, 304, true);
}

/* ---- removal while open: the REQ interrupt ---- */

struct remove_thread {
	pthread_t thread;
	struct mdev_device *mdev;
	int ret;
};

static void *remove_main(void *arg)
{
	struct remove_thread *r = arg;

	r->ret = mdev_device_remove(r->mdev);
	return NULL;
}

DMATEST_TEST(request_signals_req)
{
	struct remove_thread r;
	struct dev d;
	int efd = -1;

	if (!dev_create_open(f, 305, &d, false))
		goto out;
	efd = efd_new();
	CHECK_EQ(irq_set_fd(&d, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, efd), 0);
	r = (struct remove_thread){ .mdev = d.mdev };
	if (!CHECK_EQ(pthread_create(&r.thread, NULL, remove_main, &r), 0))
		goto out;
	/* the remover waits for us and asks through REQ; we let go */
	CHECK(fd_wait(efd));
	CHECK(efd_take(efd) >= 1);
	dev_close(&d);
	pthread_join(r.thread, NULL);
	CHECK_EQ(r.ret, 0);
	mdev_device_put(d.mdev);
	d.mdev = NULL; /* removed already */
out:
	dev_destroy(&d);
	if (efd >= 0)
		close(efd);
}

/* ---- transfers against map/unmap churn ---- */

#define CHURN_ROUNDS 300
#define CHURN_IOVA 0x20000000ull
#define CHURN_SIZE (8 * PAGE_SIZE)

struct churn {
	struct dev *d;
	int fd;			/* memfd behind the churned mapping */
	atomic_bool done;	/* the mapping thread has finished its rounds */
	atomic_uint gos;	/* GO writes made */
	unsigned int bad_status; /* statuses outside {0, -EINVAL, -ECANCELED} */
	unsigned int bad_unmaps; /* unmaps that did not remove the mapping whole */
	unsigned int io_errors;	 /* region accesses that failed */
};

static void *churn_transfers(void *arg)
{
	struct churn *c = arg;
	struct vfio_device *vdev = c->d->vdev;

	/* at least CHURN_ROUNDS transfers, and on until the churn is over */
	for (unsigned int i = 0; i < CHURN_ROUNDS || !atomic_load(&c->done); i++) {
		static const uint32_t modes[] = {
			0,
			DMATEST_CTRL_TO_GUEST,
			DMATEST_CTRL_PIN,
			DMATEST_CTRL_PIN | DMATEST_CTRL_TO_GUEST,
			DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD,
		};
		uint32_t len = PAGE_SIZE + (i * 97) % (4 * PAGE_SIZE);
		uint64_t iova = CHURN_IOVA + (i * 131) % (CHURN_SIZE - len);
		uint8_t b[4];
		int status;

		if (raw_wr(vdev, DMATEST_REG_DMA_ADDR, iova, 8) != 8 ||
		    raw_wr(vdev, DMATEST_REG_DMA_LEN, len, 4) != 4 ||
		    raw_wr(vdev, DMATEST_REG_DMA_CTRL, modes[i % 5] | DMATEST_CTRL_GO, 4) != 4 ||
		    vfio_device_read(vdev, b, 4, BAR0 + DMATEST_REG_DMA_STATUS) != 4) {
			c->io_errors++;
			continue;
		}
		atomic_fetch_add(&c->gos, 1);
		status = (int)(b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			       (uint32_t)b[3] << 24);
		if (status != 0 && status != -EINVAL && status != -ECANCELED)
			c->bad_status++;
	}
	return NULL;
}

static void *churn_mappings(void *arg)
{
	struct churn *c = arg;

	for (unsigned int i = 0; i < CHURN_ROUNDS; i++) {
		unsigned int until;

		if (vfio_dma_map(c->d->space, CHURN_IOVA, CHURN_SIZE, c->fd, 0,
				 IOMMU_READ | IOMMU_WRITE)) {
			c->bad_unmaps++;
			continue;
		}
		/* let a few transfers (of every mode) see the mapping before it goes; the
		 * transfer thread goes on until we are done, so this ends */
		until = atomic_load(&c->gos) + 1 + i % 6;
		while (atomic_load(&c->gos) < until)
			sched_yield();
		if (vfio_dma_unmap(c->d->space, CHURN_IOVA, CHURN_SIZE) != CHURN_SIZE)
			c->bad_unmaps++;
	}
	atomic_store(&c->done, true);
	return NULL;
}

DMATEST_TEST(transfers_against_unmap_churn)
{
	struct churn c = { .fd = -1, .done = false, .gos = 0 };
	pthread_t t1, t2;
	struct dev d;

	if (!dev_create_open(f, 306, &d, true))
		goto out;
	c.d = &d;
	c.fd = memfd_create("dmatest-churn", MFD_CLOEXEC);
	if (!CHECK(c.fd >= 0) || !CHECK_EQ(ftruncate(c.fd, CHURN_SIZE), 0))
		goto out;
	if (!CHECK_EQ(pthread_create(&t1, NULL, churn_transfers, &c), 0))
		goto out;
	if (!CHECK_EQ(pthread_create(&t2, NULL, churn_mappings, &c), 0)) {
		pthread_join(t1, NULL);
		goto out;
	}
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK_EQ(c.io_errors, 0);
	CHECK_EQ(c.bad_status, 0);
	CHECK_EQ(c.bad_unmaps, 0);
	CHECK(atomic_load(&c.gos) >= CHURN_ROUNDS);
	/* every GO completed once; what is held is in a mapping that no longer exists... */
	CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), atomic_load(&c.gos));
	CHECK_EQ(vfio_dma_space_count(d.space), 1);
	/* ...so nothing can be held now: every unmap took its pins back */
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 0);
	tap_diag("churn: %u transfers, %llu pages released by %u dma_unmap calls",
		 atomic_load(&c.gos),
		 (unsigned long long)rd64(&d, DMATEST_REG_UNMAP_PAGES),
		 rd32(&d, DMATEST_REG_UNMAP_CALLS));
out:
	if (c.fd >= 0)
		close(c.fd);
	dev_destroy(&d);
}
