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
 * s->lock, which guards all of this. Triggers, masking and SET_IRQS are drivers/common/
 * drv_irq.c's (shared with dmatest); this file decides when the card interrupts.
 */
#include <errno.h>

#include "mtty_priv.h"

long mtty_get_irq_info(unsigned long arg)
{
	struct vfio_irq_info *info = (struct vfio_irq_info *)arg;
	size_t minsz = offsetof(struct vfio_irq_info, count) + sizeof(info->count);
	uint32_t flags;

	if (info->argsz < minsz)
		return -EINVAL;
	flags = drv_irq_info_flags(info->index);
	if (!flags)
		return -EINVAL; /* as the sample: only INTx and MSI are described */
	info->flags = flags;
	info->count = 1;
	return 0;
}

/* ---- delivery ---- */

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
	/* INTx follows the line (level), MSI the sources just raised (edge) */
	if (s->irqs.type == DRV_IRQ_INTX ? line : raised)
		drv_irq_deliver(&s->irqs);
}

void mtty_irq_forget_locked(struct mtty_state *s)
{
	for (unsigned int i = 0; i < s->nr_ports; i++)
		s->port[i].irq_prev = 0;
}

void mtty_irq_release_locked(struct mtty_state *s)
{
	drv_irq_release(&s->irqs);
}

/* ---- VFIO_DEVICE_SET_IRQS ---- */

/* A new trigger: what is pending now is delivered to it. */
static void trigger_bound(void *dev)
{
	mtty_irq_forget_locked(dev);
	mtty_irq_update_locked(dev);
}

/* INTx unmasked: a line still asserted fires again. */
static void intx_unmasked(void *dev)
{
	mtty_irq_update_locked(dev);
}

static const struct drv_irq_ops mtty_irq_ops = {
	.bound = trigger_bound,
	.unmasked = intx_unmasked,
};

void mtty_irq_init(struct mtty_state *s)
{
	drv_irq_init(&s->irqs, &mtty_irq_ops, s);
}

long mtty_set_irqs(struct mtty_state *s, unsigned long arg)
{
	struct vfio_irq_set *hdr = (struct vfio_irq_set *)arg;
	long ret;

	/* the sample validates against VFIO_PCI_NUM_IRQS entries for every index */
	ret = drv_irq_set_check(hdr, NULL);
	if (ret)
		return ret;
	pthread_mutex_lock(&s->lock);
	ret = drv_irq_set(&s->irqs, hdr); /* MSI-X, ERR, REQ: -ENOTTY */
	pthread_mutex_unlock(&s->lock);
	return ret;
}
