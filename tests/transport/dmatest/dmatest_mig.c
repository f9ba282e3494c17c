/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmatest's migration (VFIO migration v2, with STOP_COPY, P2P and PRE_COPY), after the
 * kernel's mtty sample: the driver walks the core's path to the target state one arc at a
 * time (vfio_mig_get_next_state()) and carries out each arc itself (drv_mig_set_state() with the callbacks below).
 *
 * Streams (dmatest.h has their format): STOP -> STOP_COPY opens a saving stream with the
 * header, the registers, config space and the BAR2 buffer; RUNNING(_P2P) -> PRE_COPY(_P2P)
 * opens one with the header only, whose VFIO_MIG_GET_PRECOPY_INFO gives the unread bytes as
 * initial_bytes, and PRE_COPY_P2P -> STOP_COPY appends the rest to it (no new stream);
 * STOP -> RESUMING opens a write-only stream, and RESUMING -> STOP checks it (-EINVAL for an
 * incomplete or inconsistent stream, the device staying in RESUMING) and loads it. Leaving
 * a saving state, and loading, disable the streams: their reads and writes fail with
 * -ENODEV. Entering a stopped state (STOP and the states past it) quiesces the device
 * (dmatest_quiesce_locked()).
 *
 * The streams and the walk along the core's table are drivers/common/drv_mig.c's (shared
 * with mtty); this file has the format and the device's side of each arc. drv_mig calls
 * back with s->lock held; lock order: s->lock, then a migration stream's lock.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "dmatest_priv.h"

#define HDR_SIZE sizeof(struct dmatest_mig_header)
#define REGS_SIZE sizeof(struct dmatest_mig_regs)

/* ---- the format ---- */

/* The header, for a payload that follows (or will follow) it. */
static void header_put(uint8_t *p, unsigned int variant)
{
	struct dmatest_mig_header h = {
		.magic = htole64(DMATEST_MIG_MAGIC),
		.version = htole32(DMATEST_MIG_VERSION),
		.flags = 0,
		.length = htole64(DMATEST_MIG_PAYLOAD_SIZE),
	};

	(void)variant;
	memcpy(p, &h, sizeof(h));
}

/* Checks the header in the first HDR_SIZE bytes of @data: 0 or -EINVAL. */
static int header_check(const uint8_t *data, unsigned int variant)
{
	struct dmatest_mig_header h;

	(void)variant;
	memcpy(&h, data, sizeof(h));
	if (le64toh(h.magic) != DMATEST_MIG_MAGIC || le32toh(h.version) != DMATEST_MIG_VERSION ||
	    h.flags != 0 || le64toh(h.length) != DMATEST_MIG_PAYLOAD_SIZE)
		return -EINVAL;
	return 0;
}

/* ---- drv_mig's callbacks (s->lock held) ---- */

/* One migration_set_state call: the device, and the pins its stop takes back. */
struct mig_call {
	struct dmatest_state *s;
	struct dmatest_pinset pins[4]; /* a path enters the stopped states once */
	int npins;
};

/* The payload: registers, config space, buffer (DMATEST_MIG_PAYLOAD_SIZE bytes). */
static void payload_put(void *dev, uint8_t *p)
{
	const struct dmatest_state *s = ((struct mig_call *)dev)->s;
	const struct dmatest_regs *r = &s->regs;
	struct dmatest_mig_regs m = {
		.dma_addr = htole64(r->dma_addr),
		.dma_len = htole32(r->dma_len),
		.dma_buf_off = htole32(r->dma_buf_off),
		.dma_ctrl = htole32(r->dma_ctrl),
		.dma_status = htole32(r->dma_status),
		.irq_status = htole32(r->irq_status),
		.unmap_calls = htole32(r->unmap_calls),
		.scratch = htole64(r->scratch),
		.xfer_count = htole64(r->xfer_count),
		.unmap_pages = htole64(r->unmap_pages),
		.reserved = 0,
	};

	memcpy(p, &m, REGS_SIZE);
	memcpy(p + REGS_SIZE, s->config, DMATEST_CONFIG_SIZE);
	memcpy(p + REGS_SIZE + DMATEST_CONFIG_SIZE, s->buf, DMATEST_BAR2_SIZE);
}

/* Loads a payload: -EINVAL and nothing changed for one with the reserved field set. */
static int payload_load(void *dev, const uint8_t *p)
{
	struct dmatest_state *s = ((struct mig_call *)dev)->s;
	struct dmatest_regs *r = &s->regs;
	struct dmatest_mig_regs m;

	memcpy(&m, p, sizeof(m));
	if (m.reserved)
		return -EINVAL;
	r->dma_addr = le64toh(m.dma_addr);
	r->dma_len = le32toh(m.dma_len);
	r->dma_buf_off = le32toh(m.dma_buf_off);
	r->dma_ctrl = le32toh(m.dma_ctrl) & DMATEST_CTRL_STORED;
	r->dma_status = le32toh(m.dma_status);
	r->irq_status = le32toh(m.irq_status) & DMATEST_IRQ_STATUS_PENDING;
	r->unmap_calls = le32toh(m.unmap_calls);
	r->scratch = le64toh(m.scratch);
	r->xfer_count = le64toh(m.xfer_count);
	r->unmap_pages = le64toh(m.unmap_pages);
	dmatest_config_load(s->config, p + REGS_SIZE);
	memcpy(s->buf, p + REGS_SIZE + DMATEST_CONFIG_SIZE, DMATEST_BAR2_SIZE);
	return 0;
}

/* Entering a stopped state quiesces the device; its pins are unpinned after s->lock. */
static void stopping(void *dev)
{
	struct mig_call *call = dev;

	call->npins += dmatest_quiesce_locked(call->s, call->pins + call->npins);
}

static const struct drv_mig_ops dmatest_stream_ops = {
	.header_size = HDR_SIZE,
	.header_put = header_put,
	.header_check = header_check,
	.payload_put = payload_put,
	.payload_load = payload_load,
	.stopping = stopping,
};

/* ---- the device's side ---- */

void dmatest_mig_init(struct dmatest_state *s)
{
	drv_mig_init(&s->mig, &dmatest_stream_ops, DMATEST_MIG_STREAM_SIZE, 0);
}

bool dmatest_running_locked(const struct dmatest_state *s)
{
	return drv_mig_running(&s->mig);
}

void dmatest_mig_reset_locked(struct dmatest_state *s)
{
	drv_mig_reset(&s->mig);
}

static struct vfio_mig_file *dmatest_set_state(struct vfio_device *vdev,
					       enum vfio_device_mig_state new_state)
{
	struct mig_call call = { .s = to_dmatest(vdev), .npins = 0 };
	struct vfio_mig_file *res;

	pthread_mutex_lock(&call.s->lock);
	res = drv_mig_set_state(&call.s->mig, vdev, new_state, &call);
	pthread_mutex_unlock(&call.s->lock);
	dmatest_unpin(call.s, call.pins, call.npins);
	return res;
}

static int dmatest_get_state(struct vfio_device *vdev, enum vfio_device_mig_state *curr_state)
{
	struct dmatest_state *s = to_dmatest(vdev);

	pthread_mutex_lock(&s->lock);
	*curr_state = s->mig.state;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int dmatest_get_data_size(struct vfio_device *vdev, unsigned long *stop_copy_length)
{
	(void)vdev;
	*stop_copy_length = DMATEST_MIG_STREAM_SIZE;
	return 0;
}

const struct vfio_migration_ops dmatest_mig_ops = {
	.migration_set_state = dmatest_set_state,
	.migration_get_state = dmatest_get_state,
	.migration_get_data_size = dmatest_get_data_size,
};
