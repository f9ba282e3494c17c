/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmatest's interrupts: VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS and their delivery,
 * with the semantics of the kernel's mtty sample since 6.7 (spec section 5.3-5.4):
 *
 *   - one of INTx and MSI is in use at a time (s->irq_type), selected by binding its
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
 */
#include <errno.h>
#include <string.h>

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
	switch (info->index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		info->flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			      VFIO_IRQ_INFO_AUTOMASKED;
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
		info->flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		info->flags = VFIO_IRQ_INFO_EVENTFD;
		break;
	default:
		info->flags = 0;
		break;
	}
	info->count = irq_count(info->index);
	return 0;
}

/* ---- delivery ---- */

/* Signals the interrupt in use, as far as its mask allows. Caller holds s->lock. */
static void deliver_locked(struct dmatest_state *s)
{
	switch (s->irq_type) {
	case DMATEST_IRQ_INTX:
		if (s->intx_trigger && !s->intx_masked) {
			eventfd_signal(s->intx_trigger);
			s->intx_masked = true; /* AUTOMASKED */
		}
		break;
	case DMATEST_IRQ_MSI:
		if (s->msi_trigger)
			eventfd_signal(s->msi_trigger);
		break;
	case DMATEST_IRQ_NONE:
		break; /* nowhere to deliver: dropped, as in mtty */
	}
}

void dmatest_raise_irq_locked(struct dmatest_state *s)
{
	s->regs.irq_status |= DMATEST_IRQ_STATUS_PENDING;
	deliver_locked(s);
}

static void disable_intx_locked(struct dmatest_state *s)
{
	eventfd_ctx_put(s->intx_trigger);
	s->intx_trigger = NULL;
	s->intx_masked = false;
	if (s->irq_type == DMATEST_IRQ_INTX)
		s->irq_type = DMATEST_IRQ_NONE;
}

static void disable_msi_locked(struct dmatest_state *s)
{
	eventfd_ctx_put(s->msi_trigger);
	s->msi_trigger = NULL;
	if (s->irq_type == DMATEST_IRQ_MSI)
		s->irq_type = DMATEST_IRQ_NONE;
}

void dmatest_irqs_release_locked(struct dmatest_state *s)
{
	disable_intx_locked(s);
	disable_msi_locked(s);
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

/* The first data byte or eventfd of a header that vfio_set_irqs_validate_and_prepare()
 * accepted with count 1. */
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

/* Takes a context for @fd into *@slot (which is empty); -errno of eventfd_ctx_fdget(). */
static int bind_eventfd(struct eventfd_ctx **slot, int32_t fd)
{
	struct eventfd_ctx *ctx = eventfd_ctx_fdget(fd);

	if (IS_ERR(ctx))
		return (int)PTR_ERR(ctx);
	*slot = ctx;
	return 0;
}

static int intx_mask_unmask(struct dmatest_state *s, const struct vfio_irq_set *hdr, bool mask)
{
	if (s->irq_type != DMATEST_IRQ_INTX || hdr->start != 0 || hdr->count != 1)
		return -EINVAL;
	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		return -ENOTTY; /* no mask/unmask eventfds */
	if ((hdr->flags & VFIO_IRQ_SET_DATA_BOOL) && !data_bool(hdr))
		return 0;
	s->intx_masked = mask;
	/* a level-triggered line still asserted fires again when unmasked */
	if (!mask && (s->regs.irq_status & DMATEST_IRQ_STATUS_PENDING))
		deliver_locked(s);
	return 0;
}

/*
 * TRIGGER for INTx or MSI (@type), whose context lives in *@slot: mtty's
 * mtty_set_intx_trigger()/mtty_set_msi_trigger().
 */
static int set_trigger(struct dmatest_state *s, const struct vfio_irq_set *hdr,
		       enum dmatest_irq_type type, struct eventfd_ctx **slot)
{
	int ret;

	if (s->irq_type == type && hdr->count == 0 && (hdr->flags & VFIO_IRQ_SET_DATA_NONE)) {
		if (type == DMATEST_IRQ_INTX)
			disable_intx_locked(s);
		else
			disable_msi_locked(s);
		return 0;
	}
	if ((s->irq_type != type && s->irq_type != DMATEST_IRQ_NONE) || hdr->start != 0 ||
	    hdr->count != 1)
		return -EINVAL;
	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t fd = data_fd(hdr);

		if (type == DMATEST_IRQ_INTX)
			disable_intx_locked(s);
		else
			disable_msi_locked(s);
		if (fd < 0)
			return 0;
		ret = bind_eventfd(slot, fd);
		if (ret)
			return ret;
		s->irq_type = type;
		return 0;
	}
	if (s->irq_type != type)
		return -EINVAL;
	if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) || data_bool(hdr))
		deliver_locked(s);
	return 0;
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
		if (data_bool(hdr) && old)
			eventfd_signal(old);
		return 0;
	}
	if (data_fd(hdr) < 0) {
		s->req_trigger = NULL;
	} else {
		ret = bind_eventfd(&s->req_trigger, data_fd(hdr));
		if (ret)
			return ret; /* the old one stays bound */
	}
	eventfd_ctx_put(old);
	return 0;
}

long dmatest_set_irqs(struct dmatest_state *s, unsigned long arg)
{
	struct vfio_irq_set *hdr = (struct vfio_irq_set *)arg;
	size_t minsz = offsetof(struct vfio_irq_set, count) + sizeof(hdr->count);
	uint32_t action;
	size_t data_size;
	int ret;

	if (hdr->argsz < minsz)
		return -EINVAL;
	ret = vfio_set_irqs_validate_and_prepare(hdr, irq_count(hdr->index), VFIO_PCI_NUM_IRQS,
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
			ret = set_trigger(s, hdr, DMATEST_IRQ_INTX, &s->intx_trigger);
		else
			ret = intx_mask_unmask(s, hdr, action == VFIO_IRQ_SET_ACTION_MASK);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			ret = set_trigger(s, hdr, DMATEST_IRQ_MSI, &s->msi_trigger);
		else
			ret = -ENOTTY;
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
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
