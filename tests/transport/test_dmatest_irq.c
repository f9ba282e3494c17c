/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of dmatest's interrupts (dmatest_irq.c): GET_IRQ_INFO, SET_IRQS with the kernel's
 * semantics as mtty 6.7+ has them (INTx trigger eventfd bound and unbound, loopback fires,
 * MASK/UNMASK with AUTOMASKED INTx that fires again on unmask while the device's condition
 * is pending, MSI, disabling with DATA_NONE and count 0, one type at a time), REQ, the
 * interrupt of a transfer, and the eventfds being dropped at close. Interrupts are seen as
 * the counters of the test's eventfds.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dmatest_fixture.h"

#define INTX VFIO_PCI_INTX_IRQ_INDEX
#define MSI VFIO_PCI_MSI_IRQ_INDEX
#define REQ VFIO_PCI_REQ_IRQ_INDEX
#define TRIGGER VFIO_IRQ_SET_ACTION_TRIGGER
#define MASK VFIO_IRQ_SET_ACTION_MASK
#define UNMASK VFIO_IRQ_SET_ACTION_UNMASK

/* The number of an fd that is not open. */
static int closed_fd(void)
{
	int fd = efd_new();

	close(fd);
	return fd;
}

static void raise_irq(struct dev *d)
{
	wr32(d, DMATEST_REG_IRQ_CTRL, DMATEST_IRQ_CTRL_RAISE);
}

static void clear_pending(struct dev *d)
{
	wr32(d, DMATEST_REG_IRQ_STATUS, DMATEST_IRQ_STATUS_PENDING);
}

/*
 * A case with device @n (with guest memory if @dma) and two eventfds of the test's, all
 * dropped after the body, which gets them as @d, @efd and @efd2.
 */
#define IRQ_TEST(name, n, dma)                                          \
	static void name##_irq(struct dev *d, int efd, int efd2);       \
	DMATEST_TEST(name)                                              \
	{                                                               \
		struct dev dev;                                         \
		int efd = -1, efd2 = -1;                                \
		if (dev_create_open(f, n, &dev, dma)) {                 \
			efd = efd_new();                                \
			efd2 = efd_new();                               \
			name##_irq(&dev, efd, efd2);                    \
		}                                                       \
		dev_destroy(&dev);                                      \
		if (efd >= 0)                                           \
			close(efd);                                     \
		if (efd2 >= 0)                                          \
			close(efd2);                                    \
	}                                                               \
	static void name##_irq(struct dev *d, int efd, int efd2)

DMATEST_TEST(irq_info)
{
	static const struct {
		uint32_t flags, count;
	} want[VFIO_PCI_NUM_IRQS] = {
		[VFIO_PCI_INTX_IRQ_INDEX] = { VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
						      VFIO_IRQ_INFO_AUTOMASKED,
					      1 },
		[VFIO_PCI_MSI_IRQ_INDEX] = { VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 1 },
		[VFIO_PCI_MSIX_IRQ_INDEX] = { 0, 0 },
		[VFIO_PCI_ERR_IRQ_INDEX] = { 0, 0 },
		[VFIO_PCI_REQ_IRQ_INDEX] = { VFIO_IRQ_INFO_EVENTFD, 1 },
	};
	struct vfio_irq_info info;
	struct dev d;

	REQUIRE(dev_create_open(f, 100, &d, false));
	for (uint32_t i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&info, 0xee, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), 0);
		CHECK_EQ(info.flags, want[i].flags);
		CHECK_EQ(info.count, want[i].count);
	}
	info.index = VFIO_PCI_NUM_IRQS;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), -EINVAL);
	info.index = 0;
	info.argsz = sizeof(info) - 1;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), -EINVAL);
	dev_destroy(&d);
}

IRQ_TEST(intx_trigger_and_automask, 101, false)
{
	(void)efd2;
	/* no interrupt configured: the condition is latched, nothing signalled */
	raise_irq(d);
	CHECK_EQ(rd32(d, DMATEST_REG_IRQ_STATUS), DMATEST_IRQ_STATUS_PENDING);
	clear_pending(d);
	CHECK_EQ(rd32(d, DMATEST_REG_IRQ_STATUS), 0);
	/* mask/unmask need INTx in use */
	CHECK_EQ(irq_set_none(d, INTX, UNMASK, 0, 1), -EINVAL);

	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, efd), 0);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 1);
	/* automasked: a second raise is not signalled */
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 0);
	/* unmasked while the condition is pending: fires again, and masks again */
	CHECK_EQ(irq_set_none(d, INTX, UNMASK, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 0);
	/* the guest clears the condition: unmask fires nothing, the next raise does */
	clear_pending(d);
	CHECK_EQ(irq_set_none(d, INTX, UNMASK, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 0);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 1);
	clear_pending(d);
	/* an explicit mask, and BOOL forms: 0 does nothing */
	CHECK_EQ(irq_set_bool(d, INTX, UNMASK, 1), 0);
	CHECK_EQ(irq_set_bool(d, INTX, MASK, 0), 0);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 1);
	clear_pending(d);
	CHECK_EQ(irq_set_bool(d, INTX, UNMASK, 1), 0);
	CHECK_EQ(irq_set_none(d, INTX, MASK, 0, 1), 0);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(irq_set_bool(d, INTX, UNMASK, 0), 0);
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(irq_set_bool(d, INTX, UNMASK, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	/* mask and unmask take no eventfd, and only start 0, count 1 */
	CHECK_EQ(irq_set_fd(d, INTX, MASK, efd), -ENOTTY);
	CHECK_EQ(irq_set_fd(d, INTX, UNMASK, efd), -ENOTTY);
	CHECK_EQ(irq_set_none(d, INTX, MASK, 0, 0), -EINVAL);
	CHECK_EQ(irq_set_none(d, INTX, MASK, 1, 1), -EINVAL);
	CHECK_EQ(irq_set_none(d, INTX, MASK, 0, 2), -EINVAL);
}

IRQ_TEST(intx_loopback_unbind_disable, 102, false)
{
	/* firing needs INTx in use */
	CHECK_EQ(irq_set_none(d, INTX, TRIGGER, 0, 1), -EINVAL);
	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, efd), 0);
	/* loopback: NONE and BOOL 1 fire (respecting the mask), BOOL 0 does not */
	CHECK_EQ(irq_set_none(d, INTX, TRIGGER, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(irq_set_none(d, INTX, UNMASK, 0, 1), 0);
	CHECK_EQ(irq_set_bool(d, INTX, TRIGGER, 0), 0);
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(irq_set_bool(d, INTX, TRIGGER, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(irq_set_bool(d, INTX, TRIGGER, 1), 0);
	CHECK_EQ(efd_take(efd), 0); /* automasked */
	/* a loopback fire is not the device's condition: unmask does not repeat it */
	CHECK_EQ(irq_set_none(d, INTX, UNMASK, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 0);
	/* rebinding replaces the eventfd and unmasks */
	CHECK_EQ(irq_set_none(d, INTX, MASK, 0, 1), 0);
	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, efd2), 0);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(efd_take(efd2), 1);
	clear_pending(d);
	/* -1 unbinds: INTx is out of use */
	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, -1), 0);
	raise_irq(d);
	CHECK_EQ(efd_take(efd2), 0);
	CHECK_EQ(irq_set_none(d, INTX, UNMASK, 0, 1), -EINVAL);
	CHECK_EQ(irq_set_none(d, INTX, TRIGGER, 0, 1), -EINVAL);
	clear_pending(d);
	/* DATA_NONE with count 0 disables INTx in use; not in use it is -EINVAL */
	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, efd), 0);
	CHECK_EQ(irq_set_none(d, INTX, TRIGGER, 0, 0), 0);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(irq_set_none(d, INTX, TRIGGER, 0, 0), -EINVAL);
	/* bad eventfds: the previous binding is gone (mtty disables first) */
	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, efd), 0);
	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, closed_fd()), -EBADF);
	clear_pending(d);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 0);
	/* the generic checks */
	CHECK_EQ(irq_set_none(d, INTX, TRIGGER, 1, 0), -EINVAL);
	CHECK_EQ(irq_set_none(d, INTX, TRIGGER | MASK, 0, 1), -EINVAL);
	CHECK_EQ(irq_set_none(d, INTX, 0, 0, 1), -EINVAL);
}

DMATEST_TEST(irq_bad_eventfd)
{
	struct dev d;
	int p[2] = { -1, -1 };

	if (!dev_create_open(f, 103, &d, false) || !CHECK_EQ(pipe(p), 0))
		goto out;
	CHECK_EQ(irq_set_fd(&d, INTX, TRIGGER, p[0]), -EINVAL);
	CHECK_EQ(irq_set_fd(&d, MSI, TRIGGER, p[0]), -EINVAL);
	CHECK_EQ(irq_set_fd(&d, REQ, TRIGGER, p[0]), -EINVAL);
	close(p[1]);
	p[1] = -1;
	CHECK_EQ(irq_set_fd(&d, MSI, TRIGGER, closed_fd()), -EBADF);
out:
	dev_destroy(&d);
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

IRQ_TEST(msi, 104, false)
{
	CHECK_EQ(irq_set_fd(d, MSI, TRIGGER, efd), 0);
	/* edge-triggered: every raise is signalled */
	raise_irq(d);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 2);
	/* loopback */
	CHECK_EQ(irq_set_none(d, MSI, TRIGGER, 0, 1), 0);
	CHECK_EQ(irq_set_bool(d, MSI, TRIGGER, 1), 0);
	CHECK_EQ(irq_set_bool(d, MSI, TRIGGER, 0), 0);
	CHECK_EQ(efd_take(efd), 2);
	/* MSI cannot be masked */
	CHECK_EQ(irq_set_none(d, MSI, MASK, 0, 1), -ENOTTY);
	CHECK_EQ(irq_set_none(d, MSI, UNMASK, 0, 1), -ENOTTY);
	/* one type at a time */
	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, efd2), -EINVAL);
	CHECK_EQ(irq_set_none(d, INTX, UNMASK, 0, 1), -EINVAL);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(efd_take(efd2), 0);
	/* disabled: then INTx may be used, and MSI may not */
	CHECK_EQ(irq_set_none(d, MSI, TRIGGER, 0, 0), 0);
	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, efd2), 0);
	CHECK_EQ(irq_set_fd(d, MSI, TRIGGER, efd), -EINVAL);
	CHECK_EQ(irq_set_none(d, MSI, TRIGGER, 0, 1), -EINVAL);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(efd_take(efd2), 1);
	/* back to MSI, unbound with -1 */
	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, -1), 0);
	CHECK_EQ(irq_set_fd(d, MSI, TRIGGER, efd), 0);
	CHECK_EQ(irq_set_fd(d, MSI, TRIGGER, -1), 0);
	raise_irq(d);
	CHECK_EQ(efd_take(efd), 0);
	/* MSI-X and ERR have no interrupts */
	CHECK_EQ(irq_set_fd(d, VFIO_PCI_MSIX_IRQ_INDEX, TRIGGER, efd), -EINVAL);
	CHECK_EQ(irq_set_none(d, VFIO_PCI_MSIX_IRQ_INDEX, TRIGGER, 0, 0), -EINVAL);
	CHECK_EQ(irq_set_fd(d, VFIO_PCI_ERR_IRQ_INDEX, TRIGGER, efd), -EINVAL);
	CHECK_EQ(irq_set_fd(d, VFIO_PCI_NUM_IRQS, TRIGGER, efd), -EINVAL);
}

IRQ_TEST(req_trigger, 105, false)
{
	CHECK_EQ(irq_set_none(d, REQ, TRIGGER, 0, 1), -EINVAL); /* nothing bound */
	CHECK_EQ(irq_set_fd(d, REQ, TRIGGER, efd), 0);
	CHECK_EQ(irq_set_none(d, REQ, TRIGGER, 0, 1), 0);
	CHECK_EQ(irq_set_bool(d, REQ, TRIGGER, 1), 0);
	CHECK_EQ(irq_set_bool(d, REQ, TRIGGER, 0), 0);
	CHECK_EQ(efd_take(efd), 2);
	/* REQ is independent of INTx/MSI, and cannot be masked */
	CHECK_EQ(irq_set_fd(d, MSI, TRIGGER, efd2), 0);
	CHECK_EQ(irq_set_none(d, REQ, MASK, 0, 1), -ENOTTY);
	/* rebinding, and a bad fd that leaves the binding alone (vfio-pci) */
	CHECK_EQ(irq_set_fd(d, REQ, TRIGGER, efd2), 0);
	CHECK_EQ(irq_set_fd(d, REQ, TRIGGER, closed_fd()), -EBADF);
	CHECK_EQ(irq_set_none(d, REQ, TRIGGER, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(efd_take(efd2), 1);
	/* NONE with count 0 unbinds */
	CHECK_EQ(irq_set_none(d, REQ, TRIGGER, 0, 0), 0);
	CHECK_EQ(irq_set_none(d, REQ, TRIGGER, 0, 1), -EINVAL);
	CHECK_EQ(irq_set_fd(d, REQ, TRIGGER, efd), 0);
	CHECK_EQ(irq_set_fd(d, REQ, TRIGGER, -1), 0);
	CHECK_EQ(irq_set_none(d, REQ, TRIGGER, 0, 1), -EINVAL);
}

/* A transfer's completion raises the interrupt, failed or not. */
IRQ_TEST(transfer_interrupts, 106, true)
{
	(void)efd2;
	CHECK_EQ(irq_set_fd(d, MSI, TRIGGER, efd), 0);
	CHECK_EQ(dma_go(d, GUEST_IOVA, 100, 0, 0), 0);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(dma_go(d, GUEST_IOVA, 100, 0, DMATEST_CTRL_PIN | DMATEST_CTRL_TO_GUEST), 0);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(dma_go(d, 0, 100, 0, 0), -EINVAL);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(rd32(d, DMATEST_REG_IRQ_STATUS), DMATEST_IRQ_STATUS_PENDING);
}

/* close_device drops every eventfd the driver kept (its duplicates of the client's). */
IRQ_TEST(close_drops_eventfds, 107, false)
{
	int before;

	before = count_fds();
	CHECK_EQ(irq_set_fd(d, INTX, TRIGGER, efd), 0);
	CHECK_EQ(irq_set_fd(d, REQ, TRIGGER, efd2), 0);
	CHECK_EQ(count_fds(), before + 2);
	dev_close(d);
	CHECK_EQ(count_fds(), before);
	/* and the next client starts without interrupts */
	if (!CHECK_EQ(vfio_device_open(d->vdev, NULL), 0))
		return;
	d->open = true;
	CHECK_EQ(irq_set_none(d, INTX, UNMASK, 0, 1), -EINVAL);
	CHECK_EQ(irq_set_none(d, REQ, TRIGGER, 0, 1), -EINVAL);
	CHECK_EQ(irq_set_fd(d, MSI, TRIGGER, efd), 0);
	CHECK_EQ(count_fds(), before + 1);
}
