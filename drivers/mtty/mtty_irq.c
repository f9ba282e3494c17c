/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty's interrupts: VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS and delivery, with the
 * semantics of the kernel sample since 6.7 (kernel-mdev-semantics.md section 5.4) and these
 * differences, which fix quirks of section 8:
 *   - the requests work before VFIO_DEVICE_GET_INFO (the sample validates them against a
 *     count of interrupts that only GET_INFO fills in);
 *   - a SET_IRQS without exactly one ACTION bit is -EINVAL (the sample answers 0);
 *   - INTx is level-triggered: the card's line is the OR of its UARTs' interrupt outputs.
 *     It is delivered while asserted and unmasked, masks itself (AUTOMASKED), and an
 *     unmask while the line is still asserted delivers it again, as a VMM expects of a
 *     vfio-pci INTx. (The sample signals events and forgets those that come while masked.)
 *   - MSI is edge-triggered: one message whenever a UART raises an interrupt source that
 *     was not raised at the last delivery.
 *
 * One of INTx and MSI is in use at a time, chosen by binding its trigger eventfd. The
 * card has no MSI capability in its config space (nor has the sample's), so a VMM that
 * follows config space uses INTx; MSI is there for clients that ask the IRQ info. MSI-X,
 * ERR and REQ have no interrupts. Interrupts are held back while the device is stopped
 * for migration, and delivered when it runs again. Caller of the _locked functions holds
 * s->lock, which guards all of this.
 */
#include <errno.h>
#include <string.h>

#include "mtty_priv.h"

long mtty_get_irq_info(unsigned long arg)
{
	struct vfio_irq_info *info = (struct vfio_irq_info *)arg;
	size_t minsz = offsetof(struct vfio_irq_info, count) + sizeof(info->count);

	if (info->argsz < minsz)
		return -EINVAL;
	switch (info->index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		info->flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			      VFIO_IRQ_INFO_AUTOMASKED;
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
		info->flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
		break;
	default:
		return -EINVAL; /* as the sample: only INTx and MSI are described */
	}
	info->count = 1;
	return 0;
}

/* ---- delivery ---- */

static void fire_intx_locked(struct mtty_state *s)
{
	if (s->intx_trigger && !s->intx_masked) {
		eventfd_signal(s->intx_trigger);
		s->intx_masked = true; /* AUTOMASKED: the client unmasks after handling it */
	}
}

void mtty_irq_update_locked(struct mtty_state *s)
{
	bool line = false, raised = false;

	if (!mtty_running_locked(s))
		return; /* held back; re-evaluated when the device runs again */
	for (unsigned int i = 0; i < s->nr_ports; i++) {
		struct mtty_port *p = &s->port[i];
		unsigned int now = uart16550_pending(&p->uart);

		line |= now != 0;
		raised |= (now & ~p->irq_prev) != 0;
		p->irq_prev = now;
	}
	switch (s->irq_type) {
	case MTTY_IRQ_INTX:
		if (line)
			fire_intx_locked(s);
		break;
	case MTTY_IRQ_MSI:
		if (raised && s->msi_trigger)
			eventfd_signal(s->msi_trigger);
		break;
	case MTTY_IRQ_NONE:
		break; /* nowhere to deliver: dropped, as in the sample */
	}
}

void mtty_irq_forget_locked(struct mtty_state *s)
{
	for (unsigned int i = 0; i < s->nr_ports; i++)
		s->port[i].irq_prev = 0;
}

static void disable_intx_locked(struct mtty_state *s)
{
	eventfd_ctx_put(s->intx_trigger);
	s->intx_trigger = NULL;
	s->intx_masked = false;
	if (s->irq_type == MTTY_IRQ_INTX)
		s->irq_type = MTTY_IRQ_NONE;
}

static void disable_msi_locked(struct mtty_state *s)
{
	eventfd_ctx_put(s->msi_trigger);
	s->msi_trigger = NULL;
	if (s->irq_type == MTTY_IRQ_MSI)
		s->irq_type = MTTY_IRQ_NONE;
}

void mtty_irq_release_locked(struct mtty_state *s)
{
	disable_intx_locked(s);
	disable_msi_locked(s);
}

/* ---- VFIO_DEVICE_SET_IRQS ---- */

/* The first data byte, or eventfd, of a header validated for at least one entry. */
static uint8_t data_bool(const struct vfio_irq_set *hdr)
{
	return hdr->data[0];
}

static int32_t data_fd(const struct vfio_irq_set *hdr)
{
	int32_t fd;

	memcpy(&fd, hdr->data, sizeof(fd));
	return fd;
}

static int intx_mask_locked(struct mtty_state *s, const struct vfio_irq_set *hdr, bool mask)
{
	if (s->irq_type != MTTY_IRQ_INTX || hdr->start != 0 || hdr->count != 1)
		return -EINVAL;
	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		return -ENOTTY; /* no mask or unmask eventfds */
	if ((hdr->flags & VFIO_IRQ_SET_DATA_BOOL) && !data_bool(hdr))
		return 0;
	s->intx_masked = mask;
	if (!mask)
		mtty_irq_update_locked(s); /* a line still asserted fires again */
	return 0;
}

/* ACTION_TRIGGER of INTx or MSI (@type): bind, unbind, disable, or fire from the client. */
static int set_trigger_locked(struct mtty_state *s, const struct vfio_irq_set *hdr,
			      enum mtty_irq_type type)
{
	struct eventfd_ctx *ctx, **slot = type == MTTY_IRQ_INTX ? &s->intx_trigger : &s->msi_trigger;
	int32_t fd;

	if (s->irq_type == type && hdr->count == 0 && (hdr->flags & VFIO_IRQ_SET_DATA_NONE)) {
		if (type == MTTY_IRQ_INTX)
			disable_intx_locked(s);
		else
			disable_msi_locked(s);
		return 0;
	}
	if ((s->irq_type != type && s->irq_type != MTTY_IRQ_NONE) || hdr->start != 0 ||
	    hdr->count != 1)
		return -EINVAL;

	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		fd = data_fd(hdr);
		if (type == MTTY_IRQ_INTX)
			disable_intx_locked(s);
		else
			disable_msi_locked(s);
		if (fd < 0)
			return 0; /* de-assigned: stays disabled */
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return (int)PTR_ERR(ctx);
		*slot = ctx;
		s->irq_type = type;
		/* what is pending now is delivered to the new trigger */
		mtty_irq_forget_locked(s);
		mtty_irq_update_locked(s);
		return 0;
	}

	/* DATA_NONE, or DATA_BOOL with a non-zero byte: the client fires it (loopback) */
	if (s->irq_type != type)
		return -EINVAL;
	if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) || data_bool(hdr)) {
		if (type == MTTY_IRQ_INTX)
			fire_intx_locked(s);
		else
			eventfd_signal(s->msi_trigger);
	}
	return 0;
}

long mtty_set_irqs(struct mtty_state *s, unsigned long arg)
{
	struct vfio_irq_set *hdr = (struct vfio_irq_set *)arg;
	size_t minsz = offsetof(struct vfio_irq_set, count) + sizeof(hdr->count);
	uint32_t action;
	size_t data_size;
	long ret;

	if (hdr->argsz < minsz)
		return -EINVAL;
	/* the sample validates against VFIO_PCI_NUM_IRQS entries for every index */
	ret = vfio_set_irqs_validate_and_prepare(hdr, VFIO_PCI_NUM_IRQS, VFIO_PCI_NUM_IRQS,
						 &data_size);
	if (ret)
		return ret;
	action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	if (action != VFIO_IRQ_SET_ACTION_MASK && action != VFIO_IRQ_SET_ACTION_UNMASK &&
	    action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;

	pthread_mutex_lock(&s->lock);
	switch (hdr->index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			ret = set_trigger_locked(s, hdr, MTTY_IRQ_INTX);
		else
			ret = intx_mask_locked(s, hdr, action == VFIO_IRQ_SET_ACTION_MASK);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			ret = set_trigger_locked(s, hdr, MTTY_IRQ_MSI);
		else
			ret = -ENOTTY; /* MSI cannot be masked */
		break;
	default:
		ret = -ENOTTY; /* MSI-X, ERR, REQ */
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}
