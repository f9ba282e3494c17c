/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * INTx and MSI triggers, masking and VFIO_DEVICE_SET_IRQS for emulated PCI devices
 * (drv_irq.h says the semantics). The driver decides when its device interrupts and calls
 * drv_irq_deliver(); this file decides where the interrupt goes.
 */
#include <errno.h>

#include "drv_irq.h"

void drv_irq_init(struct drv_irqs *irqs, const struct drv_irq_ops *ops, void *dev)
{
	memset(irqs, 0, sizeof(*irqs));
	irqs->ops = ops;
	irqs->dev = dev;
	irqs->type = DRV_IRQ_NONE;
}

static void fire_intx(struct drv_irqs *irqs)
{
	if (irqs->intx_trigger && !irqs->intx_masked) {
		eventfd_signal(irqs->intx_trigger);
		irqs->intx_masked = true; /* AUTOMASKED: the client unmasks after handling it */
	}
}

void drv_irq_deliver(struct drv_irqs *irqs)
{
	switch (irqs->type) {
	case DRV_IRQ_INTX:
		fire_intx(irqs);
		break;
	case DRV_IRQ_MSI:
		if (irqs->msi_trigger)
			eventfd_signal(irqs->msi_trigger);
		break;
	case DRV_IRQ_NONE:
		break; /* nowhere to deliver: dropped, as in the sample */
	}
}

static void disable(struct drv_irqs *irqs, enum drv_irq_type type)
{
	if (type == DRV_IRQ_INTX) {
		eventfd_ctx_put(irqs->intx_trigger);
		irqs->intx_trigger = NULL;
		irqs->intx_masked = false;
	} else {
		eventfd_ctx_put(irqs->msi_trigger);
		irqs->msi_trigger = NULL;
	}
	if (irqs->type == type)
		irqs->type = DRV_IRQ_NONE;
}

void drv_irq_release(struct drv_irqs *irqs)
{
	disable(irqs, DRV_IRQ_INTX);
	disable(irqs, DRV_IRQ_MSI);
}

int drv_irq_bind(struct eventfd_ctx **slot, int32_t fd)
{
	struct eventfd_ctx *ctx = eventfd_ctx_fdget(fd);

	if (IS_ERR(ctx))
		return (int)PTR_ERR(ctx);
	*slot = ctx;
	return 0;
}

uint32_t drv_irq_info_flags(uint32_t index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	case VFIO_PCI_MSI_IRQ_INDEX:
		return VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
	default:
		return 0;
	}
}

/* ---- VFIO_DEVICE_SET_IRQS ---- */

int drv_irq_set_check(struct vfio_irq_set *hdr, unsigned int (*count)(uint32_t index))
{
	size_t minsz = offsetof(struct vfio_irq_set, count) + sizeof(hdr->count);
	uint32_t action;
	size_t data_size;
	int ret;

	if (hdr->argsz < minsz)
		return -EINVAL;
	ret = vfio_set_irqs_validate_and_prepare(hdr, count ? count(hdr->index) : VFIO_PCI_NUM_IRQS,
						 VFIO_PCI_NUM_IRQS, &data_size);
	if (ret)
		return ret;
	action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	if (action != VFIO_IRQ_SET_ACTION_MASK && action != VFIO_IRQ_SET_ACTION_UNMASK &&
	    action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;
	return 0;
}

static int intx_mask(struct drv_irqs *irqs, const struct vfio_irq_set *hdr, bool mask)
{
	if (irqs->type != DRV_IRQ_INTX || hdr->start != 0 || hdr->count != 1)
		return -EINVAL;
	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		return -ENOTTY; /* no mask or unmask eventfds */
	if ((hdr->flags & VFIO_IRQ_SET_DATA_BOOL) && !drv_irq_data_bool(hdr))
		return 0;
	irqs->intx_masked = mask;
	if (!mask && irqs->ops && irqs->ops->unmasked)
		irqs->ops->unmasked(irqs->dev); /* a line still asserted fires again */
	return 0;
}

/* ACTION_TRIGGER of INTx or MSI (@type): bind, unbind, disable, or fire from the client. */
static int set_trigger(struct drv_irqs *irqs, const struct vfio_irq_set *hdr,
		       enum drv_irq_type type)
{
	struct eventfd_ctx **slot = type == DRV_IRQ_INTX ? &irqs->intx_trigger : &irqs->msi_trigger;
	int32_t fd;
	int ret;

	if (irqs->type == type && hdr->count == 0 && (hdr->flags & VFIO_IRQ_SET_DATA_NONE)) {
		disable(irqs, type);
		return 0;
	}
	if ((irqs->type != type && irqs->type != DRV_IRQ_NONE) || hdr->start != 0 ||
	    hdr->count != 1)
		return -EINVAL;

	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		fd = drv_irq_data_fd(hdr);
		disable(irqs, type);
		if (fd < 0)
			return 0; /* de-assigned: stays disabled */
		ret = drv_irq_bind(slot, fd);
		if (ret)
			return ret;
		irqs->type = type;
		if (irqs->ops && irqs->ops->bound)
			irqs->ops->bound(irqs->dev);
		return 0;
	}

	/* DATA_NONE, or DATA_BOOL with a non-zero byte: the client fires it (loopback) */
	if (irqs->type != type)
		return -EINVAL;
	if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) || drv_irq_data_bool(hdr))
		drv_irq_deliver(irqs);
	return 0;
}

int drv_irq_set(struct drv_irqs *irqs, const struct vfio_irq_set *hdr)
{
	uint32_t action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	switch (hdr->index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return set_trigger(irqs, hdr, DRV_IRQ_INTX);
		return intx_mask(irqs, hdr, action == VFIO_IRQ_SET_ACTION_MASK);
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return set_trigger(irqs, hdr, DRV_IRQ_MSI);
		return -ENOTTY; /* MSI cannot be masked */
	default:
		return -ENOTTY; /* MSI-X, ERR, REQ: the driver's, if it has them */
	}
}
