/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Functional tests of DEVICE_SET_IRQS with dmatest: the INTx eventfd fired by an IRQ_CTRL
 * write and by a transfer's completion, auto-masking and UNMASK firing again while the line
 * is pending, MASK, DATA_BOOL and DATA_NONE triggers, MSI, de-assigning with -1 (a chunk
 * without fds), the chunking of eventfd arrays, the errors; REQ signalled when the device is
 * removed while the client holds it; and a client that fills its own eventfd's counter,
 * which must not block the driver that signals it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "functional.h"

#define INTX VFIO_PCI_INTX_IRQ_INDEX
#define MSI VFIO_PCI_MSI_IRQ_INDEX
#define MSIX VFIO_PCI_MSIX_IRQ_INDEX
#define REQ VFIO_PCI_REQ_IRQ_INDEX
#define TRIGGER VFIO_IRQ_SET_ACTION_TRIGGER
#define MASK VFIO_IRQ_SET_ACTION_MASK
#define UNMASK VFIO_IRQ_SET_ACTION_UNMASK
#define EVENTFD VFIO_IRQ_SET_DATA_EVENTFD
#define NONE VFIO_IRQ_SET_DATA_NONE
#define BOOL VFIO_IRQ_SET_DATA_BOOL

static int set_fd(struct umdev_client *c, uint32_t index, int fd)
{
	return umdev_client_set_irqs(c, index, EVENTFD | TRIGGER, 0, 1, &fd);
}

static int set_none(struct umdev_client *c, uint32_t index, uint32_t action, uint32_t count)
{
	return umdev_client_set_irqs(c, index, NONE | action, 0, count, NULL);
}

static int set_bool(struct umdev_client *c, uint32_t index, uint32_t action, uint8_t v)
{
	return umdev_client_set_irqs(c, index, BOOL | action, 0, 1, &v);
}

/* The device raises its interrupt (a region write that returns once it is delivered). */
#define RAISE(c) WR32(c, DMATEST_REG_IRQ_CTRL, DMATEST_IRQ_CTRL_RAISE)
#define CLEAR(c) WR32(c, DMATEST_REG_IRQ_STATUS, DMATEST_IRQ_STATUS_PENDING)
/* Signalled once (read and reset), or not at all. Delivery is synchronous with the
 * region write that caused it, so "not at all" needs no waiting. */
#define FIRED(efd) CHECK(efd_wait(efd) && efd_take(efd) == 1)
#define QUIET(efd) CHECK(efd_quiet(efd))

FUNC_TEST(intx_fires_and_automasks, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 };
	int efd = efd_new(true);

	if (!CHECK(c) || !guest_new(&g, GUEST_SIZE))
		goto out;
	CHECK_EQ(set_fd(c, INTX, efd), 0);
	RAISE(c);
	FIRED(efd);
	CHECK_EQ(RD32(c, DMATEST_REG_IRQ_STATUS), DMATEST_IRQ_STATUS_PENDING);
	/* masked by its delivery: a second one waits for the unmask */
	CLEAR(c);
	RAISE(c);
	QUIET(efd);
	CLEAR(c);
	CHECK_EQ(set_none(c, INTX, UNMASK, 1), 0);
	QUIET(efd); /* nothing pending any more */

	/* a transfer's completion raises it too */
	CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0,
				      VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE),
		 0);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 4096, 0, 0), 0);
	FIRED(efd);
	CLEAR(c);
	CHECK_EQ(set_none(c, INTX, UNMASK, 1), 0);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 4096, 0, DMATEST_CTRL_PIN | DMATEST_CTRL_TO_GUEST), 0);
	FIRED(efd);
	/* a failed transfer completes, and interrupts, as well */
	CLEAR(c);
	CHECK_EQ(set_none(c, INTX, UNMASK, 1), 0);
	CHECK_EQ(DMA_GO(c, 0x7000000, 16, 0, 0), -EINVAL);
	FIRED(efd);
out:
	umdev_client_close(c);
	guest_free(&g);
	close(efd);
}

FUNC_TEST(intx_unmask_refires_while_pending, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	int efd = efd_new(true);

	if (!CHECK(c))
		goto out;
	CHECK_EQ(set_fd(c, INTX, efd), 0);
	RAISE(c);
	FIRED(efd);
	/* the line stays asserted: every unmask delivers it again */
	CHECK_EQ(set_none(c, INTX, UNMASK, 1), 0);
	FIRED(efd);
	CHECK_EQ(set_bool(c, INTX, UNMASK, 1), 0);
	FIRED(efd);
	CHECK_EQ(set_bool(c, INTX, UNMASK, 0), 0); /* false: nothing happens */
	QUIET(efd);
	CHECK_EQ(set_none(c, INTX, MASK, 1), 0);
	CHECK_EQ(set_none(c, INTX, UNMASK, 1), 0);
	FIRED(efd);
	/* cleared by the guest: an unmask is quiet */
	CLEAR(c);
	CHECK_EQ(set_none(c, INTX, UNMASK, 1), 0);
	QUIET(efd);
	/* masked by the client: held back until unmasked */
	CHECK_EQ(set_bool(c, INTX, MASK, 1), 0);
	RAISE(c);
	QUIET(efd);
	CHECK_EQ(set_none(c, INTX, UNMASK, 1), 0);
	FIRED(efd);
out:
	umdev_client_close(c);
	close(efd);
}

FUNC_TEST(intx_trigger_none_and_bool, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	int efd = efd_new(true), efd2 = efd_new(true);

	if (!CHECK(c))
		goto out;
	/* no trigger bound yet: a loopback has nothing to fire */
	CHECK_EQ(set_none(c, INTX, TRIGGER, 1), -EINVAL);
	CHECK_EQ(set_fd(c, INTX, efd), 0);
	CHECK_EQ(set_none(c, INTX, TRIGGER, 1), 0);
	FIRED(efd);
	CHECK_EQ(set_none(c, INTX, UNMASK, 1), 0);
	CHECK_EQ(set_bool(c, INTX, TRIGGER, 1), 0);
	FIRED(efd);
	CHECK_EQ(set_none(c, INTX, UNMASK, 1), 0);
	CHECK_EQ(set_bool(c, INTX, TRIGGER, 0), 0);
	QUIET(efd);
	/* DATA_NONE with count 0 disables INTx: the device's interrupt goes nowhere */
	CHECK_EQ(set_none(c, INTX, TRIGGER, 0), 0);
	RAISE(c);
	QUIET(efd);
	CHECK_EQ(RD32(c, DMATEST_REG_IRQ_STATUS), DMATEST_IRQ_STATUS_PENDING);
	/* and another eventfd can be bound in its place */
	CHECK_EQ(set_fd(c, INTX, efd2), 0);
	CHECK_EQ(set_none(c, INTX, TRIGGER, 1), 0);
	FIRED(efd2);
	QUIET(efd);
out:
	umdev_client_close(c);
	close(efd);
	close(efd2);
}

FUNC_TEST(msi_and_deassign, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	int intx = efd_new(true), msi = efd_new(true), none = -1;

	if (!CHECK(c))
		goto out;
	CHECK_EQ(set_fd(c, INTX, intx), 0);
	/* one of INTx and MSI at a time */
	CHECK_EQ(set_fd(c, MSI, msi), -EINVAL);
	/* de-assign INTx with -1: a chunk without fds */
	CHECK_EQ(umdev_client_set_irqs(c, INTX, EVENTFD | TRIGGER, 0, 1, &none), 0);
	RAISE(c);
	QUIET(intx);
	CLEAR(c);
	CHECK_EQ(set_fd(c, MSI, msi), 0);
	CHECK_EQ(set_fd(c, INTX, intx), -EINVAL);
	/* MSI is not masked by delivery: every raise fires */
	RAISE(c);
	RAISE(c);
	CHECK(efd_wait(msi) && efd_take(msi) == 2);
	CHECK_EQ(set_none(c, MSI, MASK, 1), -ENOTTY);
	CHECK_EQ(set_none(c, MSI, UNMASK, 1), -ENOTTY);
	CHECK_EQ(set_bool(c, MSI, TRIGGER, 1), 0);
	FIRED(msi);
	CHECK_EQ(umdev_client_set_irqs(c, MSI, EVENTFD | TRIGGER, 0, 1, &none), 0);
	RAISE(c);
	QUIET(msi);
	QUIET(intx);
	/* INTx is free again */
	CHECK_EQ(set_fd(c, INTX, intx), 0);
	CHECK_EQ(set_none(c, INTX, TRIGGER, 1), 0);
	FIRED(intx);
out:
	umdev_client_close(c);
	close(intx);
	close(msi);
}

FUNC_TEST(set_irqs_errors, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	int efd = efd_new(true), p[2] = { -1, -1 };

	if (!CHECK(c) || !CHECK_EQ(pipe2(p, O_CLOEXEC), 0))
		goto out;
	CHECK_EQ(set_fd(c, VFIO_PCI_NUM_IRQS, efd), -EINVAL);
	CHECK_EQ(set_fd(c, MSIX, efd), -EINVAL);		/* count 0 */
	CHECK_EQ(set_fd(c, VFIO_PCI_ERR_IRQ_INDEX, efd), -EINVAL);
	CHECK_EQ(umdev_client_set_irqs(c, INTX, EVENTFD | TRIGGER, 1, 1, &efd), -EINVAL);
	CHECK_EQ(set_fd(c, INTX, p[1]), -EINVAL);		/* not an eventfd */
	CHECK_EQ(set_none(c, INTX, UNMASK, 1), -EINVAL);	/* nothing bound */
	CHECK_EQ(set_none(c, INTX, MASK | TRIGGER, 1), -EINVAL);
	CHECK_EQ(set_none(c, REQ, MASK, 1), -ENOTTY);
	CHECK_EQ(set_fd(c, REQ, p[0]), -EINVAL);
	/* after all that, things work */
	CHECK_EQ(set_fd(c, INTX, efd), 0);
	RAISE(c);
	FIRED(efd);
out:
	umdev_client_close(c);
	close(efd);
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
}

FUNC_TEST(set_irqs_null_has_none, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	int efd = efd_new(true);

	if (CHECK(c)) {
		for (uint32_t i = 0; i < VFIO_PCI_NUM_IRQS; i++)
			CHECK_EQ(set_fd(c, i, efd), -EINVAL);
		CHECK_EQ(set_none(c, INTX, TRIGGER, 1), -EINVAL);
		CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	}
	umdev_client_close(c);
	close(efd);
}

FUNC_TEST(set_irqs_chunks, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct vfio_user_server_stats st0, st1;
	int efd = efd_new(true), efd2 = efd_new(true), fds[17], two[2], nfd0;

	for (int i = 0; i < 17; i++)
		fds[i] = efd;
	if (!CHECK(c))
		goto out;
	CHECK_EQ(set_fd(c, INTX, efd), 0);
	/* [-1, efd2]: a de-assigning chunk (start 0, no fds), then one fd (start 1), which
	 * INTx (count 1) refuses; the first chunk took effect */
	two[0] = -1;
	two[1] = efd2;
	fx_barrier(f, 0);
	st0 = fx_stats(f, 0);
	CHECK_EQ(umdev_client_set_irqs(c, INTX, EVENTFD | TRIGGER, 0, 2, two), -EINVAL);
	st1 = fx_stats(f, 0);
	CHECK_EQ(st1.messages - st0.messages, 2);
	CHECK_EQ(st1.error_replies - st0.error_replies, 1);
	RAISE(c);
	QUIET(efd);
	QUIET(efd2);
	CLEAR(c);

	/* 17 eventfds go as 16 + 1; the first chunk is refused and the second never sent,
	 * and the server keeps none of the 16 it received */
	fx_barrier(f, 0);
	nfd0 = count_fds();
	st0 = fx_stats(f, 0);
	CHECK_EQ(umdev_client_set_irqs(c, MSIX, EVENTFD | TRIGGER, 0, 17, fds), -EINVAL);
	fx_barrier(f, 0);
	st1 = fx_stats(f, 0);
	CHECK_EQ(st1.messages - st0.messages, 1);
	CHECK_EQ(st1.error_replies - st0.error_replies, 1);
	CHECK_EQ(count_fds(), nfd0);

	/* a run of one kind in one message: [efd] at start 0 */
	CHECK_EQ(umdev_client_set_irqs(c, INTX, EVENTFD | TRIGGER, 0, 1, fds), 0);
	RAISE(c);
	FIRED(efd);
out:
	umdev_client_close(c);
	close(efd);
	close(efd2);
}

struct remover {
	struct mdev_device *mdev;
	int ret;
	struct event done;
};

static void *remove_device(void *arg)
{
	struct remover *r = arg;

	r->ret = mdev_device_remove(r->mdev);
	event_set(&r->done);
	return NULL;
}

FUNC_TEST(req_on_removal, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0), *late = NULL;
	struct remover r = { .mdev = f->dev[0].mdev, .ret = -EINPROGRESS };
	int req = efd_new(true), sv[2];
	pthread_t t;

	event_init(&r.done);
	if (!CHECK(c) || !CHECK_EQ(set_fd(c, REQ, req), 0))
		goto out;
	WR64(c, DMATEST_REG_SCRATCH, 0x5eed);
	if (!thread_start(&t, remove_device, &r))
		goto out;
	/* the removal asks the client to let go, and waits for it */
	CHECK(efd_wait(req));
	CHECK(!event_is_set(&r.done));
	/* the device still serves its client meanwhile */
	CHECK_EQ(RD64(c, DMATEST_REG_SCRATCH), 0x5eed);
	umdev_client_close(c);
	c = NULL;
	CHECK(event_wait_ms(&r.done, FX_TIMEOUT_MS));
	thread_join(t);
	CHECK_EQ(r.ret, 0);
	f->dev[0].removed = true;
	CHECK(fx_wait_gone(f, 0));
	/* the server is left without a device to open */
	if (CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0)) {
		CHECK_EQ(vfio_user_server_add_client(f->dev[0].srv, sv[1]), 0);
		CHECK_EQ(umdev_client_connect_fd(sv[0], &late), -ENODEV);
	}
out:
	umdev_client_close(c);
	event_destroy(&r.done);
	close(req);
}

FUNC_TEST(eventfd_full_counter_does_not_block, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	int efd = efd_new(false); /* blocking: a write to a full counter would wait */
	uint64_t full = 0xfffffffffffffffeull, v = 0;
	uint32_t raise = DMATEST_IRQ_CTRL_RAISE;
	int ret;

	if (!CHECK(c) || !CHECK_EQ(set_fd(c, INTX, efd), 0))
		goto out;
	CHECK_EQ(write(efd, &full, sizeof(full)), sizeof(full));
	/* the write that raises the interrupt still gets its reply */
	umdev_client_set_timeout(c, 5000);
	ret = umdev_client_region_write(c, R_BAR0, DMATEST_REG_IRQ_CTRL, &raise, 4, false);
	CHECK_EQ(ret, 4);
	/* (were the driver stuck in write(2), reading the counter lets it go) */
	CHECK_EQ(read(efd, &v, sizeof(v)), sizeof(v));
	if (ret == 4) {
		CHECK_EQ(v, full); /* the signal was skipped, not added */
		umdev_client_set_timeout(c, FX_TIMEOUT_MS);
		CHECK_EQ(RD32(c, DMATEST_REG_IRQ_STATUS), DMATEST_IRQ_STATUS_PENDING);
		/* with room in the counter again, signals come through */
		CLEAR(c);
		CHECK_EQ(set_none(c, INTX, UNMASK, 1), 0);
		RAISE(c);
		CHECK(efd_wait(efd));
		CHECK_EQ(read(efd, &v, sizeof(v)), sizeof(v));
		CHECK_EQ(v, 1);
	}
out:
	umdev_client_close(c);
	close(efd);
}
