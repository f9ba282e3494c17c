/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state of one dmatest device and the functions that the driver's files share: config
 * space (dmatest_config.c), BAR0 and transfers (dmatest_dma.c), interrupts (dmatest_irq.c)
 * and migration (dmatest_mig.c); dmatest.c holds the module and the vfio_device_ops. The
 * locking rules are in dmatest.c's top comment.
 */
#ifndef UMDEV_TESTS_DMATEST_PRIV_H
#define UMDEV_TESTS_DMATEST_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <umdev/eventfd.h>
#include <umdev/mdev.h>
#include <umdev/vfio.h>

#include "dmatest.h"
#include "drv_irq.h"
#include "drv_mig.h"

/* Most pages a transfer pins: DMATEST_BAR2_SIZE bytes at any page offset. */
#define DMATEST_MAX_PIN_PAGES (DMATEST_BAR2_SIZE / PAGE_SIZE + 1)

/* A run of pinned IOVA pages, which their owner unpins with one vfio_unpin_pages(). */
struct dmatest_pinset {
	uint64_t iova; /* page aligned */
	int npage;     /* 0: none */
};

/* The transfer in flight, as dma_unmap, reset and close see it. */
enum dmatest_pin_state {
	DMATEST_PINS_NONE,    /* holds no pins (none yet, or they were taken back) */
	DMATEST_PINS_PINNING, /* inside vfio_pin_pages(): the transfer will own what it gets */
	DMATEST_PINS_PINNED,  /* holds `pins`; whoever takes them back unpins them */
};

struct dmatest_regs {
	uint64_t dma_addr;
	uint32_t dma_len;
	uint32_t dma_buf_off;
	uint32_t dma_ctrl; /* DMATEST_CTRL_STORED bits */
	uint32_t dma_status;
	uint32_t irq_status;
	uint32_t unmap_calls;
	uint64_t scratch;
	uint64_t xfer_count;
	uint64_t unmap_pages;
};

struct dmatest_state {
	struct vfio_device vdev; /* first: vfio_alloc_device() checks it */
	struct mdev_device *mdev; /* set by probe */

	/* Set up by init, freed by release; never change in between. */
	int buf_fd;   /* the memfd behind BAR2; mmap hands it out */
	uint8_t *buf; /* its mapping here: DMATEST_BAR2_SIZE bytes */

	pthread_mutex_t lock; /* guards everything below, and the contents of buf */

	uint8_t config[DMATEST_CONFIG_SIZE];
	struct dmatest_regs regs;

	/* Transfers (dmatest_dma.c). */
	bool xfer_busy;		       /* a transfer is in flight; only it clears this */
	uint64_t gen;		       /* bumped by reset, close and stop: drops transfers */
	enum dmatest_pin_state xfer_pin_state;
	bool xfer_revoked;	       /* its pins were (or are to be) taken back */
	struct dmatest_pinset xfer_pins; /* what the transfer pins or pinned */
	struct dmatest_pinset held;      /* pins kept by DMATEST_CTRL_HOLD */

	/* Interrupts (dmatest_irq.c): eventfd contexts are ours, dropped at close. */
	struct drv_irqs irqs; /* INTx and MSI */
	struct eventfd_ctx *req_trigger;

	/* Migration (dmatest_mig.c): the state and our references to the open streams. */
	struct drv_mig mig;
};

static inline struct dmatest_state *to_dmatest(struct vfio_device *vdev)
{
	return container_of(vdev, struct dmatest_state, vdev);
}

/* dmatest_config.c */
void dmatest_config_reset(uint8_t config[DMATEST_CONFIG_SIZE]);
void dmatest_config_write(uint8_t config[DMATEST_CONFIG_SIZE], unsigned int off,
			  const uint8_t *buf, size_t len);
/* Keeps the writable bits of @saved over the reset values (for a migration load). */
void dmatest_config_load(uint8_t config[DMATEST_CONFIG_SIZE],
			 const uint8_t saved[DMATEST_CONFIG_SIZE]);

/* dmatest_dma.c */
ssize_t dmatest_bar0_access(struct dmatest_state *s, char *buf, size_t count, uint64_t off,
			    bool write);
/*
 * Stops DMA for a reset, the close or a migration stop: drops the transfer in flight (it
 * completes without status, count or interrupt) and takes every pin back from the device's
 * state into @out (two entries), for the caller to unpin with dmatest_unpin() once it has
 * dropped s->lock; returns how many sets. Caller holds s->lock.
 */
int dmatest_quiesce_locked(struct dmatest_state *s, struct dmatest_pinset out[2]);
void dmatest_unpin(struct dmatest_state *s, const struct dmatest_pinset *sets, int n);
void dmatest_dma_unmap(struct vfio_device *vdev, uint64_t iova, uint64_t length);

/* dmatest_irq.c */
long dmatest_get_irq_info(unsigned long arg);
long dmatest_set_irqs(struct dmatest_state *s, unsigned long arg);
/* No interrupt in use (init). */
void dmatest_irq_init(struct dmatest_state *s);
/* The device raises its interrupt; caller holds s->lock. */
void dmatest_raise_irq_locked(struct dmatest_state *s);
/* Drops every eventfd and disables the IRQs; caller holds s->lock. */
void dmatest_irqs_release_locked(struct dmatest_state *s);
void dmatest_request(struct vfio_device *vdev, unsigned int count);

/* dmatest_mig.c */
extern const struct vfio_migration_ops dmatest_mig_ops;
/* RUNNING, no stream (init). */
void dmatest_mig_init(struct dmatest_state *s);
/* True in the states where the device runs (may DMA and interrupt). */
bool dmatest_running_locked(const struct dmatest_state *s);
/* Back to RUNNING with the streams disabled (reset, open, close); caller holds s->lock. */
void dmatest_mig_reset_locked(struct dmatest_state *s);

#endif
