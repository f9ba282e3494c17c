/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * INTx and MSI for an emulated PCI device, with the SET_IRQS semantics of the kernel's mtty
 * sample since 6.7 (spec section 5.4) and without its quirks (section 8): used by mtty and
 * the test device dmatest.
 *   - One of INTx and MSI is in use at a time (type), chosen by binding its trigger eventfd;
 *     binding the other while one is in use is -EINVAL.
 *   - ACTION_TRIGGER with an eventfd binds it (fd -1 unbinds); DATA_NONE, or DATA_BOOL with a
 *     non-zero byte, fires the interrupt from the client (loopback); DATA_NONE with count 0
 *     disables it.
 *   - INTx is AUTOMASKED: each delivery masks it until the client unmasks it, and an unmask
 *     lets the driver deliver again a line still asserted (ops->unmasked). MSI cannot be
 *     masked (-ENOTTY); nor can anything be masked through an eventfd.
 *   - A SET_IRQS without exactly one ACTION bit is -EINVAL (the sample answers 0).
 * The eventfd contexts are ours (eventfd_ctx_fdget()), dropped when unbound and by
 * drv_irq_release(). Every function runs under the driver's device lock, which guards
 * struct drv_irqs; eventfd_signal() never blocks.
 */
#ifndef UMDEV_DRIVERS_COMMON_DRV_IRQ_H
#define UMDEV_DRIVERS_COMMON_DRV_IRQ_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <umdev/eventfd.h>
#include <umdev/vfio.h>

enum drv_irq_type {
	DRV_IRQ_NONE = -1,
	DRV_IRQ_INTX = VFIO_PCI_INTX_IRQ_INDEX,
	DRV_IRQ_MSI = VFIO_PCI_MSI_IRQ_INDEX,
};

/* What the driver does when its interrupt set-up changes (set by the driver; both optional). */
struct drv_irq_ops {
	/* A trigger was bound: what is pending now may go to it. */
	void (*bound)(void *dev);
	/* INTx was unmasked: deliver it again if the line is still asserted. */
	void (*unmasked)(void *dev);
};

struct drv_irqs {
	const struct drv_irq_ops *ops; /* set by drv_irq_init() */
	void *dev;		       /* given to ops */
	enum drv_irq_type type;
	struct eventfd_ctx *intx_trigger;
	struct eventfd_ctx *msi_trigger;
	bool intx_masked;
};

/* No interrupt in use. */
void drv_irq_init(struct drv_irqs *irqs, const struct drv_irq_ops *ops, void *dev);
/* Signals the interrupt in use, as far as INTx's mask allows (then masks INTx). */
void drv_irq_deliver(struct drv_irqs *irqs);
/* Drops both triggers: no interrupt in use (close, remove). */
void drv_irq_release(struct drv_irqs *irqs);

/*
 * The checks every SET_IRQS gets first: argsz, vfio_set_irqs_validate_and_prepare() against
 * @count(index) entries (NULL: VFIO_PCI_NUM_IRQS for every index), exactly one ACTION bit.
 * 0 or -errno.
 */
int drv_irq_set_check(struct vfio_irq_set *hdr, unsigned int (*count)(uint32_t index));
/* SET_IRQS of INTx or MSI, after drv_irq_set_check(); -ENOTTY for any other index. */
int drv_irq_set(struct drv_irqs *irqs, const struct vfio_irq_set *hdr);
/* VFIO_IRQ_INFO flags of INTx and MSI; 0 for any other index. */
uint32_t drv_irq_info_flags(uint32_t index);

/* Takes a context for @fd into *@slot (which is empty); -errno of eventfd_ctx_fdget(). */
int drv_irq_bind(struct eventfd_ctx **slot, int32_t fd);

/* The first data byte, or eventfd, of a header that drv_irq_set_check() accepted. */
static inline uint8_t drv_irq_data_bool(const struct vfio_irq_set *hdr)
{
	return hdr->data[0];
}

static inline int32_t drv_irq_data_fd(const struct vfio_irq_set *hdr)
{
	int32_t fd;

	memcpy(&fd, hdr->data, sizeof(fd));
	return fd;
}

#endif
