/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmatest's interrupts: VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS and their delivery,
 * with the semantics of the kernel's mtty sample since 6.7 (spec section 5.3-5.4):
 *
 *   - one of INTx and MSI is in use at a time (s->irqs.type), selected by binding its
 *     trigger eventfd; binding the other while one is in use is -EINVAL;
 *   - TRIGGER with an eventfd binds it (fd -1: unbinds), DATA_NONE or a non-zero DATA_BOOL
 *     fires the interrupt from the client (loopback), DATA_NONE with count 0 disables;
 *   - INTx is AUTOMASKED: each delivery masks it until the client unmasks it. Unlike mtty,
 *     the device's condition is level-triggered: IRQ_STATUS.PENDING stays set until the guest
 *     clears it, and an unmask while it is set delivers the interrupt again, as vfio-pci
 *     does for a line that is still asserted;
 *   - MSI cannot be masked (-ENOTTY); REQ has a trigger eventfd only, signalled by the
 *     request op; MSI-X and ERR have no interrupts (count 0, SET_IRQS -EINVAL).
 *
 * Where mtty answers 0 to a SET_IRQS with no or several ACTION bits (a quirk, spec section 8)
 * dmatest answers -EINVAL. Eventfd contexts are the driver's own references
 * (eventfd_ctx_fdget()), dropped when unbound and at close. s->lock guards all of it.
 * INTx and MSI (triggers, masking, their SET_IRQS) are drivers/common/drv_irq.c's, shared
 * with mtty; this file adds REQ and the device's level-triggered condition.
 */
#include <errno.h>

#include "dmatest_priv.h"

static unsigned int irq_count(uint32_t index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

long dmatest_get_irq_info(unsigned long arg)
{
	struct vfio_irq_info *info = (struct vfio_irq_info *)arg;
	size_t minsz = offsetof(struct vfio_irq_info, count) + sizeof(info->count);

	if (info->argsz < minsz || info->index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	if (info->index == VFIO_PCI_REQ_IRQ_INDEX)
		info->flags = VFIO_IRQ_INFO_EVENTFD;
	else
		info->flags = drv_irq_info_flags(info->index);
	info->count = irq_count(info->index);
	return 0;
}

/* ---- delivery ---- */

void dmatest_raise_irq_locked(struct dmatest_state *s)
{
	s->regs.irq_status |= DMATEST_IRQ_STATUS_PENDING;
	drv_irq_deliver(&s->irqs);
}

void dmatest_irqs_release_locked(struct dmatest_state *s)
{
	drv_irq_release(&s->irqs);
	eventfd_ctx_put(s->req_trigger);
	s->req_trigger = NULL;
}

void dmatest_request(struct vfio_device *vdev, unsigned int count)
{
	struct dmatest_state *s = to_dmatest(vdev);

	pthread_mutex_lock(&s->lock);
	if (s->req_trigger)
		eventfd_signal(s->req_trigger);
	else if (count == 0)
		dev_info(vdev->dev, "in use; waiting for the client to release it");
	pthread_mutex_unlock(&s->lock);
}

/* ---- VFIO_DEVICE_SET_IRQS ---- */

/* INTx unmasked: a level-triggered line still asserted fires again. */
static void intx_unmasked(void *dev)
{
	struct dmatest_state *s = dev;

	if (s->regs.irq_status & DMATEST_IRQ_STATUS_PENDING)
		drv_irq_deliver(&s->irqs);
}

static const struct drv_irq_ops dmatest_irq_ops = {
	.unmasked = intx_unmasked,
};

void dmatest_irq_init(struct dmatest_state *s)
{
	drv_irq_init(&s->irqs, &dmatest_irq_ops, s);
}

/* TRIGGER for REQ: vfio-pci's vfio_pci_set_ctx_trigger_single(). */
static int set_req_trigger(struct dmatest_state *s, const struct vfio_irq_set *hdr)
{
	struct eventfd_ctx *old = s->req_trigger;
	int ret;

	if (hdr->flags & VFIO_IRQ_SET_DATA_NONE) {
		if (!old)
			return -EINVAL;
		if (hdr->count) {
			eventfd_signal(old);
		} else {
			eventfd_ctx_put(old);
			s->req_trigger = NULL;
		}
		return 0;
	}
	if (!hdr->count)
		return -EINVAL;
	if (hdr->flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (drv_irq_data_bool(hdr) && old)
			eventfd_signal(old);
		return 0;
	}
	if (drv_irq_data_fd(hdr) < 0) {
		s->req_trigger = NULL;
	} else {
		ret = drv_irq_bind(&s->req_trigger, drv_irq_data_fd(hdr));
		if (ret)
			return ret; /* the old one stays bound */
	}
	eventfd_ctx_put(old);
	return 0;
}

long dmatest_set_irqs(struct dmatest_state *s, unsigned long arg)
{
	struct vfio_irq_set *hdr = (struct vfio_irq_set *)arg;
	int ret;

	ret = drv_irq_set_check(hdr, irq_count);
	if (ret)
		return ret;

	pthread_mutex_lock(&s->lock);
	switch (hdr->index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
	case VFIO_PCI_MSI_IRQ_INDEX:
		ret = drv_irq_set(&s->irqs, hdr);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		if ((hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) == VFIO_IRQ_SET_ACTION_TRIGGER)
			ret = set_req_trigger(s, hdr);
		else
			ret = -ENOTTY;
		break;
	default: /* no interrupts: the validation refused it already */
		ret = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}
