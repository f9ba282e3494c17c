/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty's interrupts through VFIO_DEVICE_GET_IRQ_INFO and VFIO_DEVICE_SET_IRQS: the IRQ
 * info (before GET_INFO too), the eventfd firing for THRI and RDI, INTx's automask and the
 * re-fire on unmask while the line is asserted, MSI, the kernel's request rules and
 * errors, interrupts held back while the device is stopped, and the eventfds dropped at
 * close. Delivery happens inside the register access that causes it, so a counter read
 * right after the access says whether the interrupt came.
 */
#include <errno.h>
#include <unistd.h>

#include "mtty_fixture.h"

#define TRIGGER VFIO_IRQ_SET_ACTION_TRIGGER
#define MASK VFIO_IRQ_SET_ACTION_MASK
#define UNMASK VFIO_IRQ_SET_ACTION_UNMASK
#define INTX VFIO_PCI_INTX_IRQ_INDEX
#define MSI VFIO_PCI_MSI_IRQ_INDEX

MTTY_TEST(irq_info)
{
	struct vfio_irq_info info = { .argsz = sizeof(info) };
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	/* no GET_INFO first: the sample would answer -EINVAL to all of these */
	info.index = INTX;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), 0);
	CHECK_EQ(info.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
				     VFIO_IRQ_INFO_AUTOMASKED);
	CHECK_EQ(info.count, 1);
	info.index = MSI;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), 0);
	CHECK_EQ(info.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	CHECK_EQ(info.count, 1);
	for (uint32_t i = VFIO_PCI_MSIX_IRQ_INDEX; i <= VFIO_PCI_NUM_IRQS; i++) {
		info.index = i;
		CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), -EINVAL);
	}
	info.index = INTX;
	info.argsz = 15;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), -EINVAL);
	dev_destroy(&d);
}

MTTY_TEST(intx_thri_and_automask)
{
	int efd = efd_new();
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	REQUIRE_EQ(irq_set_fd(&d, INTX, TRIGGER, efd), 0);
	CHECK_EQ(efd_take(efd), 0); /* nothing pending yet */
	reg_wr(&d, 0, UART_FCR, UART_FCR_ENABLE_FIFO);
	/* enabling THRI with an idle transmitter raises the line */
	reg_wr(&d, 0, UART_IER, UART_IER_THRI);
	CHECK_EQ(efd_take(efd), 1);
	/* it masked itself: a new event does not fire */
	reg_wr(&d, 0, UART_IER, UART_IER_THRI | UART_IER_RDI);
	reg_wr(&d, 0, UART_TX, 'x');
	CHECK_EQ(efd_take(efd), 0);
	/* the line is still asserted: unmasking fires again, and masks again */
	CHECK_EQ(irq_set_none(&d, INTX, UNMASK, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(irq_set_none(&d, INTX, UNMASK, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	/* the guest handles it: reads the byte back (THRE raised again), then IIR */
	CHECK_EQ(reg_rd(&d, 0, UART_IIR), 0xc4);
	CHECK_EQ(reg_rd(&d, 0, UART_RX), 'x');
	CHECK_EQ(reg_rd(&d, 0, UART_IIR), 0xc2);
	CHECK_EQ(reg_rd(&d, 0, UART_IIR), 0xc1);
	/* the line is low now: unmasking fires nothing */
	CHECK_EQ(irq_set_none(&d, INTX, UNMASK, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 0);
	/* unmasked and low, the next event fires at once */
	reg_wr(&d, 0, UART_TX, 'y');
	CHECK_EQ(efd_take(efd), 1);
	dev_destroy(&d);
	close(efd);
}

MTTY_TEST(intx_rdi)
{
	int efd = efd_new();
	struct dev d;

	REQUIRE(dev_create(f, 2, 1, &d));
	REQUIRE_EQ(irq_set_fd(&d, INTX, TRIGGER, efd), 0);
	/* one line for both ports: port 1's received data raises it */
	reg_wr(&d, 1, UART_IER, UART_IER_RDI);
	CHECK_EQ(efd_take(efd), 0);
	reg_wr(&d, 1, UART_TX, 'r');
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(reg_rd(&d, 1, UART_IIR), UART_IIR_RDI);
	CHECK_EQ(reg_rd(&d, 1, UART_RX), 'r');
	CHECK_EQ(irq_set_none(&d, INTX, UNMASK, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 0);
	/* masked by the client: nothing, until it unmasks with the line up */
	CHECK_EQ(irq_set_none(&d, INTX, MASK, 0, 1), 0);
	reg_wr(&d, 1, UART_TX, 's');
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(irq_set_bool(&d, INTX, UNMASK, 0), 0); /* a zero bool does nothing */
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(irq_set_bool(&d, INTX, UNMASK, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	dev_destroy(&d);
	close(efd);
}

MTTY_TEST(msi_edges)
{
	int efd = efd_new();
	struct dev d;

	REQUIRE(dev_create(f, 2, 1, &d));
	REQUIRE_EQ(irq_set_fd(&d, MSI, TRIGGER, efd), 0);
	reg_wr(&d, 0, UART_FCR, UART_FCR_ENABLE_FIFO);
	reg_wr(&d, 0, UART_IER, UART_IER_THRI);
	CHECK_EQ(efd_take(efd), 1); /* THRE raised */
	/* MSI does not mask: each newly raised source sends one message */
	reg_wr(&d, 0, UART_IER, UART_IER_THRI | UART_IER_RDI);
	reg_wr(&d, 0, UART_TX, 'm'); /* RDA raised, THRE acknowledged */
	CHECK_EQ(efd_take(efd), 1);
	reg_wr(&d, 0, UART_TX, 'n'); /* RDA was already up: no new edge */
	CHECK_EQ(efd_take(efd), 0);
	reg_wr(&d, 1, UART_IER, UART_IER_THRI); /* the other port */
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(irq_set_none(&d, MSI, MASK, 0, 1), -ENOTTY);
	CHECK_EQ(irq_set_none(&d, MSI, UNMASK, 0, 1), -ENOTTY);
	/* the client fires it (loopback) */
	CHECK_EQ(irq_set_none(&d, MSI, TRIGGER, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(irq_set_bool(&d, MSI, TRIGGER, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	/* disabled: nothing more */
	CHECK_EQ(irq_set_none(&d, MSI, TRIGGER, 0, 0), 0);
	reg_wr(&d, 0, UART_IER, 0);
	reg_wr(&d, 0, UART_IER, UART_IER_THRI);
	CHECK_EQ(efd_take(efd), 0);
	dev_destroy(&d);
	close(efd);
}

MTTY_TEST(trigger_binding_rules)
{
	int efd = efd_new(), efd2 = efd_new(), notefd[2];
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	REQUIRE_EQ(pipe(notefd), 0);
	/* mask, unmask and fire need INTx in use */
	CHECK_EQ(irq_set_none(&d, INTX, MASK, 0, 1), -EINVAL);
	CHECK_EQ(irq_set_none(&d, INTX, UNMASK, 0, 1), -EINVAL);
	CHECK_EQ(irq_set_none(&d, INTX, TRIGGER, 0, 1), -EINVAL);
	CHECK_EQ(irq_set_none(&d, INTX, TRIGGER, 0, 0), -EINVAL); /* nothing to disable */
	/* bad eventfds */
	CHECK_EQ(irq_set_fd(&d, INTX, TRIGGER, 1000), -EBADF);
	CHECK_EQ(irq_set_fd(&d, INTX, TRIGGER, notefd[0]), -EINVAL);
	CHECK_EQ(irq_set_fd(&d, INTX, TRIGGER, -1), 0); /* de-assigning nothing */
	/* one of INTx and MSI at a time */
	REQUIRE_EQ(irq_set_fd(&d, INTX, TRIGGER, efd), 0);
	CHECK_EQ(irq_set_fd(&d, MSI, TRIGGER, efd2), -EINVAL);
	CHECK_EQ(irq_set_fd(&d, INTX, MASK, efd2), -ENOTTY); /* no mask eventfds */
	/* rebinding replaces; firing from the client respects the mask */
	REQUIRE_EQ(irq_set_fd(&d, INTX, TRIGGER, efd2), 0);
	CHECK_EQ(irq_set_none(&d, INTX, TRIGGER, 0, 1), 0);
	CHECK_EQ(efd_take(efd2), 1);
	CHECK_EQ(irq_set_bool(&d, INTX, TRIGGER, 1), 0);
	CHECK_EQ(efd_take(efd2), 0); /* automasked by the first */
	CHECK_EQ(efd_take(efd), 0);
	/* start and count must be 0 and 1 */
	CHECK_EQ(irq_set_none(&d, INTX, UNMASK, 0, 2), -EINVAL);
	CHECK_EQ(irq_set_none(&d, INTX, UNMASK, 1, 1), -EINVAL);
	/* disabling INTx frees the way for MSI */
	CHECK_EQ(irq_set_none(&d, INTX, TRIGGER, 0, 0), 0);
	CHECK_EQ(irq_set_none(&d, INTX, UNMASK, 0, 1), -EINVAL);
	CHECK_EQ(irq_set_fd(&d, MSI, TRIGGER, efd), 0);
	CHECK_EQ(irq_set_fd(&d, INTX, TRIGGER, efd2), -EINVAL);
	CHECK_EQ(irq_set_fd(&d, MSI, TRIGGER, -1), 0);
	CHECK_EQ(irq_set_fd(&d, INTX, TRIGGER, efd2), 0);
	close(notefd[0]);
	close(notefd[1]);
	dev_destroy(&d);
	close(efd);
	close(efd2);
}

MTTY_TEST(set_irqs_header_errors)
{
	struct vfio_irq_set hdr = { .argsz = sizeof(hdr), .count = 1 };
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	/* MSI-X, ERR and REQ have nothing to set */
	for (uint32_t i = VFIO_PCI_MSIX_IRQ_INDEX; i < VFIO_PCI_NUM_IRQS; i++)
		CHECK_EQ(irq_set_none(&d, i, TRIGGER, 0, 1), -ENOTTY);
	CHECK_EQ(irq_set_none(&d, VFIO_PCI_NUM_IRQS, TRIGGER, 0, 1), -EINVAL);
	/* no action, or two: -EINVAL (the sample answers 0) */
	hdr.flags = VFIO_IRQ_SET_DATA_NONE;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_SET_IRQS, &hdr), -EINVAL);
	hdr.flags = VFIO_IRQ_SET_DATA_NONE | MASK | UNMASK;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_SET_IRQS, &hdr), -EINVAL);
	/* the core helper's checks: data type, sizes, ranges */
	hdr.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | TRIGGER;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_SET_IRQS, &hdr), -EINVAL);
	hdr.flags = VFIO_IRQ_SET_DATA_EVENTFD | TRIGGER; /* no room for the fd */
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_SET_IRQS, &hdr), -EINVAL);
	hdr.flags = VFIO_IRQ_SET_DATA_NONE | TRIGGER;
	hdr.count = 6;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_SET_IRQS, &hdr), -EINVAL);
	hdr.argsz = 19;
	hdr.count = 1;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_SET_IRQS, &hdr), -EINVAL);
	dev_destroy(&d);
}

MTTY_TEST(held_back_while_stopped)
{
	int efd = efd_new();
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	REQUIRE_EQ(irq_set_fd(&d, INTX, TRIGGER, efd), 0);
	REQUIRE_EQ(mig_set(&d, VFIO_DEVICE_STATE_STOP), 0);
	reg_wr(&d, 0, UART_IER, UART_IER_THRI);
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(irq_set_none(&d, INTX, UNMASK, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 0);
	/* running again: the asserted line is delivered */
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(efd_take(efd), 1);
	dev_destroy(&d);
	close(efd);
}

MTTY_TEST(close_drops_the_eventfds)
{
	int efd = efd_new();
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	REQUIRE_EQ(irq_set_fd(&d, INTX, TRIGGER, efd), 0);
	reg_wr(&d, 0, UART_IER, UART_IER_THRI);
	CHECK_EQ(efd_take(efd), 1);
	dev_close(&d);
	/* the next client starts with nothing bound, and gets what is pending */
	REQUIRE_EQ(vfio_device_open(d.vdev, NULL), 0);
	d.open = true;
	CHECK_EQ(irq_set_none(&d, INTX, UNMASK, 0, 1), -EINVAL);
	REQUIRE_EQ(irq_set_fd(&d, MSI, TRIGGER, efd), 0);
	CHECK_EQ(efd_take(efd), 1);
	dev_destroy(&d);
	close(efd);
}
