/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty's interrupts over vfio-user: DEVICE_GET_IRQ_INFO, and DEVICE_SET_IRQS with the
 * eventfds travelling as SCM_RIGHTS. The eventfd fires for THRI and RDI; INTx masks itself
 * and fires again on UNMASK while the line is up, as QEMU's INTx emulation expects; a guest
 * driver's interrupt handler is played out (IIR, drain, refill, UNMASK after each event);
 * MSI sends one message per newly raised source; the request rules and errors; interrupts
 * held back while the device is stopped; and a new client starting with nothing bound.
 *
 * The driver signals inside the access that raises the line, and the server answers a
 * request only after its access is done, so a counter read after a non-posted request's
 * reply says whether that request raised the interrupt.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mtty_vu_fixture.h"

VU_CASE(vu_irq_info)
{
	struct vfio_irq_info info = { .argsz = sizeof(info) };
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 1, 1)));
	info.index = INTX;
	CHECK_EQ(umdev_client_get_irq_info(d->c, &info), 0);
	CHECK_EQ(info.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
				     VFIO_IRQ_INFO_AUTOMASKED);
	CHECK_EQ(info.count, 1);
	info.index = MSI;
	CHECK_EQ(umdev_client_get_irq_info(d->c, &info), 0);
	CHECK_EQ(info.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	CHECK_EQ(info.count, 1);
	/* MSI-X, ERR, REQ, and past the last index */
	for (uint32_t i = VFIO_PCI_MSIX_IRQ_INDEX; i <= VFIO_PCI_NUM_IRQS; i++) {
		info.index = i;
		CHECK_EQ(umdev_client_get_irq_info(d->c, &info), -EINVAL);
	}
	vu_destroy(d);
}

VU_CASE(vu_intx_thri_automask_and_unmask)
{
	int efd = efd_new();
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 1, 1)));
	REQUIRE_EQ(vu_irq_fd(d, INTX, TRIGGER, efd), 0);
	CHECK_EQ(efd_take(efd), 0); /* nothing pending yet */
	vu_wr(d, 0, UART_FCR, UART_FCR_ENABLE_FIFO);
	/* enabling THRI with an idle transmitter raises the line */
	vu_wr(d, 0, UART_IER, UART_IER_THRI);
	CHECK(fd_wait(efd));
	CHECK_EQ(efd_take(efd), 1);
	/* it masked itself: a new event does not fire */
	vu_wr(d, 0, UART_IER, UART_IER_THRI | UART_IER_RDI);
	vu_wr(d, 0, UART_TX, 'x');
	CHECK_EQ(efd_take(efd), 0);
	/* the line is still up: each UNMASK fires again, and masks again */
	REQUIRE(vu_unmask(d));
	CHECK_EQ(efd_take(efd), 1);
	REQUIRE(vu_unmask(d));
	CHECK_EQ(efd_take(efd), 1);
	/* the guest handles it: the byte (THRE comes back with the empty FIFO), then IIR */
	CHECK_EQ(vu_rd(d, 0, UART_IIR), 0xc4);
	CHECK_EQ(vu_rd(d, 0, UART_RX), 'x');
	CHECK_EQ(vu_rd(d, 0, UART_IIR), 0xc2);
	CHECK_EQ(vu_rd(d, 0, UART_IIR), 0xc1);
	/* the line is low now: unmasking fires nothing */
	REQUIRE(vu_unmask(d));
	CHECK_EQ(efd_take(efd), 0);
	/* unmasked and low, the next event fires at once */
	vu_wr(d, 0, UART_TX, 'y');
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_rd(d, 0, UART_RX), 'y');
	vu_destroy(d);
	close(efd);
}

VU_CASE(vu_intx_rdi_and_mask)
{
	int efd = efd_new();
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 2, 1)));
	REQUIRE_EQ(vu_irq_fd(d, INTX, TRIGGER, efd), 0);
	/* one line for both ports: port 1's received data raises it */
	vu_wr(d, 1, UART_IER, UART_IER_RDI);
	CHECK_EQ(efd_take(efd), 0);
	vu_wr(d, 1, UART_TX, 'r');
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_rd(d, 1, UART_IIR), UART_IIR_RDI);
	CHECK_EQ(vu_rd(d, 1, UART_RX), 'r');
	REQUIRE(vu_unmask(d));
	CHECK_EQ(efd_take(efd), 0);
	/* and port 0's */
	vu_wr(d, 0, UART_IER, UART_IER_RDI);
	vu_wr(d, 0, UART_TX, '0');
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_rd(d, 1, UART_IIR), UART_IIR_NO_INT); /* not port 1 */
	CHECK_EQ(vu_rd(d, 0, UART_IIR), UART_IIR_RDI);
	CHECK_EQ(vu_rd(d, 0, UART_RX), '0');
	REQUIRE(vu_unmask(d));
	CHECK_EQ(efd_take(efd), 0);
	/* masked by the client: nothing, until it unmasks with the line up */
	CHECK_EQ(vu_irq_none(d, INTX, MASK, 0, 1), 0);
	vu_wr(d, 1, UART_TX, 's');
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(vu_irq_bool(d, INTX, UNMASK, 0), 0); /* a zero bool does nothing */
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(vu_irq_bool(d, INTX, UNMASK, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	/* a mask that comes as a bool */
	CHECK_EQ(vu_rd(d, 1, UART_RX), 's');
	REQUIRE(vu_unmask(d));
	CHECK_EQ(vu_irq_bool(d, INTX, MASK, 1), 0);
	vu_wr(d, 1, UART_TX, 't');
	CHECK_EQ(efd_take(efd), 0);
	REQUIRE(vu_unmask(d));
	CHECK_EQ(efd_take(efd), 1);
	vu_destroy(d);
	close(efd);
}

/*
 * A guest's 8250 driver sending @text on port @p and reading its echo, driven only by
 * interrupts: on each, IIR until bit 0 is set (RDI: drain while LSR.DR; THRI: the next
 * byte), then the VMM's UNMASK and a bounded wait for the next event.
 */
static void guest_echo(struct vu_dev *d, unsigned int p, int efd, const char *text)
{
	size_t len = strlen(text), sent = 0, got = 0, events = 0;
	char echo[64] = { 0 };

	vu_wr_posted(d, p, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	vu_wr_posted(d, p, UART_LCR, UART_LCR_WLEN8);
	vu_wr_posted(d, p, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	vu_wr_posted(d, p, UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI);
	while (got < len && events < 4 * len + 8) {
		uint8_t iir;

		if (!CHECK(fd_wait(efd)))
			return;
		efd_take(efd);
		events++;
		while (!((iir = vu_rd(d, p, UART_IIR)) & UART_IIR_NO_INT)) {
			CHECK_EQ(iir & 0xc0, 0xc0);
			switch (iir & UART_IIR_ID) {
			case UART_IIR_RDI:
				while (vu_rd(d, p, UART_LSR) & UART_LSR_DR)
					if (CHECK(got < len))
						echo[got++] = (char)vu_rd(d, p, UART_RX);
				break;
			case UART_IIR_THRI:
				if (sent < len)
					vu_wr_posted(d, p, UART_TX, (uint8_t)text[sent++]);
				break;
			default:
				CHECK_EQ(iir, 0); /* no overrun, no modem status */
				return;
			}
		}
		if (!vu_unmask(d))
			return;
	}
	CHECK_EQ(sent, len);
	CHECK_STR(echo, text);
	CHECK_EQ(vu_rd(d, p, UART_LSR), LSR_IDLE);
}

VU_CASE(vu_guest_interrupt_handler)
{
	int efd = efd_new();
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 2, 1)));
	REQUIRE_EQ(vu_irq_fd(d, INTX, TRIGGER, efd), 0);
	guest_echo(d, 0, efd, "Welcome to ttyS1");
	vu_wr(d, 0, UART_IER, 0);
	guest_echo(d, 1, efd, "and to ttyS2");
	vu_destroy(d);
	close(efd);
}

VU_CASE(vu_msi_edges)
{
	int efd = efd_new();
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 2, 1)));
	REQUIRE_EQ(vu_irq_fd(d, MSI, TRIGGER, efd), 0);
	vu_wr(d, 0, UART_FCR, UART_FCR_ENABLE_FIFO);
	vu_wr(d, 0, UART_IER, UART_IER_THRI);
	CHECK(fd_wait(efd));
	CHECK_EQ(efd_take(efd), 1); /* THRE raised */
	/* MSI does not mask: each newly raised source sends one message */
	vu_wr(d, 0, UART_IER, UART_IER_THRI | UART_IER_RDI);
	vu_wr(d, 0, UART_TX, 'm'); /* data raised, THRE acknowledged */
	CHECK_EQ(efd_take(efd), 1);
	vu_wr(d, 0, UART_TX, 'n'); /* data was already up: no new edge */
	CHECK_EQ(efd_take(efd), 0);
	vu_wr(d, 1, UART_IER, UART_IER_THRI); /* the other port */
	CHECK_EQ(efd_take(efd), 1);
	/* the guest drains port 0: THRE comes back, a new edge */
	CHECK_EQ(vu_rd(d, 0, UART_RX), 'm');
	CHECK_EQ(efd_take(efd), 0);
	CHECK_EQ(vu_rd(d, 0, UART_RX), 'n');
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_irq_none(d, MSI, MASK, 0, 1), -ENOTTY);
	CHECK_EQ(vu_irq_none(d, MSI, UNMASK, 0, 1), -ENOTTY);
	/* the client fires it (loopback) */
	CHECK_EQ(vu_irq_none(d, MSI, TRIGGER, 0, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_irq_bool(d, MSI, TRIGGER, 1), 0);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_irq_bool(d, MSI, TRIGGER, 0), 0);
	CHECK_EQ(efd_take(efd), 0);
	/* disabled: nothing more */
	CHECK_EQ(vu_irq_none(d, MSI, TRIGGER, 0, 0), 0);
	vu_wr(d, 0, UART_IER, 0);
	vu_wr(d, 0, UART_IER, UART_IER_THRI);
	CHECK_EQ(efd_take(efd), 0);
	vu_destroy(d);
	close(efd);
}

VU_CASE(vu_set_irqs_rules)
{
	int efd = efd_new(), efd2 = efd_new(), notefd[2];
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 1, 1)));
	REQUIRE_EQ(pipe(notefd), 0);
	/* mask, unmask and fire need INTx in use */
	CHECK_EQ(vu_irq_none(d, INTX, MASK, 0, 1), -EINVAL);
	CHECK_EQ(vu_irq_none(d, INTX, UNMASK, 0, 1), -EINVAL);
	CHECK_EQ(vu_irq_none(d, INTX, TRIGGER, 0, 1), -EINVAL);
	CHECK_EQ(vu_irq_none(d, INTX, TRIGGER, 0, 0), -EINVAL); /* nothing to disable */
	/* an fd that is not an eventfd arrives at the server and is refused there */
	CHECK_EQ(vu_irq_fd(d, INTX, TRIGGER, notefd[0]), -EINVAL);
	CHECK_EQ(vu_irq_fd(d, INTX, TRIGGER, -1), 0); /* de-assigning nothing */
	/* one of INTx and MSI at a time */
	REQUIRE_EQ(vu_irq_fd(d, INTX, TRIGGER, efd), 0);
	CHECK_EQ(vu_irq_fd(d, MSI, TRIGGER, efd2), -EINVAL);
	CHECK_EQ(vu_irq_fd(d, INTX, MASK, efd2), -ENOTTY); /* no mask eventfds */
	CHECK_EQ(vu_irq_fd(d, INTX, UNMASK, efd2), -ENOTTY);
	/* rebinding replaces; firing from the client respects the mask */
	REQUIRE_EQ(vu_irq_fd(d, INTX, TRIGGER, efd2), 0);
	CHECK_EQ(vu_irq_none(d, INTX, TRIGGER, 0, 1), 0);
	CHECK_EQ(efd_take(efd2), 1);
	CHECK_EQ(vu_irq_bool(d, INTX, TRIGGER, 1), 0);
	CHECK_EQ(efd_take(efd2), 0); /* automasked by the first */
	CHECK_EQ(efd_take(efd), 0);
	/* start and count must be 0 and 1 */
	CHECK_EQ(vu_irq_none(d, INTX, UNMASK, 0, 2), -EINVAL);
	CHECK_EQ(vu_irq_none(d, INTX, UNMASK, 1, 1), -EINVAL);
	/* no ACTION bit, or two: -EINVAL; MSI-X, ERR and REQ: nothing to set */
	CHECK_EQ(vu_irq_none(d, INTX, 0, 0, 1), -EINVAL);
	CHECK_EQ(vu_irq_none(d, INTX, MASK | UNMASK, 0, 1), -EINVAL);
	for (uint32_t i = VFIO_PCI_MSIX_IRQ_INDEX; i < VFIO_PCI_NUM_IRQS; i++)
		CHECK_EQ(vu_irq_none(d, i, TRIGGER, 0, 1), -ENOTTY);
	CHECK_EQ(vu_irq_none(d, VFIO_PCI_NUM_IRQS, TRIGGER, 0, 1), -EINVAL);
	/* disabling INTx frees the way for MSI, and back */
	CHECK_EQ(vu_irq_none(d, INTX, TRIGGER, 0, 0), 0);
	CHECK_EQ(vu_irq_none(d, INTX, UNMASK, 0, 1), -EINVAL);
	CHECK_EQ(vu_irq_fd(d, MSI, TRIGGER, efd), 0);
	CHECK_EQ(vu_irq_fd(d, INTX, TRIGGER, efd2), -EINVAL);
	CHECK_EQ(vu_irq_fd(d, MSI, TRIGGER, -1), 0);
	CHECK_EQ(vu_irq_fd(d, INTX, TRIGGER, efd2), 0);
	/* the connection went on through all of it */
	CHECK_EQ(vu_rd(d, 0, UART_LSR), LSR_IDLE);
	close(notefd[0]);
	close(notefd[1]);
	vu_destroy(d);
	close(efd);
	close(efd2);
}

VU_CASE(vu_irq_held_back_while_stopped)
{
	int efd = efd_new();
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 1, 1)));
	REQUIRE_EQ(vu_irq_fd(d, INTX, TRIGGER, efd), 0);
	REQUIRE_EQ(vu_mig_set(d, VFIO_DEVICE_STATE_STOP), 0);
	vu_wr(d, 0, UART_IER, UART_IER_THRI);
	CHECK_EQ(efd_take(efd), 0);
	REQUIRE(vu_unmask(d));
	CHECK_EQ(efd_take(efd), 0);
	/* running again: the asserted line is delivered */
	CHECK_EQ(vu_mig_set(d, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK(fd_wait(efd));
	CHECK_EQ(efd_take(efd), 1);
	vu_destroy(d);
	close(efd);
}

VU_CASE(vu_irq_next_client_starts_unbound)
{
	int efd = efd_new();
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 1, 1)));
	REQUIRE_EQ(vu_irq_fd(d, INTX, TRIGGER, efd), 0);
	vu_wr(d, 0, UART_IER, UART_IER_THRI);
	CHECK_EQ(efd_take(efd), 1);
	/* the client goes: the server drops its eventfds, the UART keeps its state */
	REQUIRE(vu_disconnect(d));
	REQUIRE(vu_connect(d));
	CHECK_EQ(vu_irq_none(d, INTX, UNMASK, 0, 1), -EINVAL);
	CHECK_EQ(efd_take(efd), 0);
	/* binding delivers what is pending */
	REQUIRE_EQ(vu_irq_fd(d, MSI, TRIGGER, efd), 0);
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_rd(d, 0, UART_IIR), UART_IIR_THRI);
	vu_destroy(d);
	close(efd);
}
