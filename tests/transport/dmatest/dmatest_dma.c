/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmatest's BAR0 registers and its transfers between guest memory and the BAR2 buffer, with
 * vfio_dma_rw() or with vfio_pin_pages() + memcpy + vfio_unpin_pages(), and the dma_unmap op
 * that takes pins back. The locking and the ownership of pins are explained in dmatest.c's
 * top comment; in short, s->lock is never held across a call of the DMA API, and whoever
 * takes a set of pins out of the device's state (under s->lock) is the one who unpins it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dmatest_priv.h"

/* The test hook of dmatest.h; guarded by hook_lock, called without it. */
static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
static dmatest_pin_hook_fn hook_fn;
static void *hook_arg;

void dmatest_set_pin_hook(dmatest_pin_hook_fn fn, void *arg)
{
	pthread_mutex_lock(&hook_lock);
	hook_fn = fn;
	hook_arg = arg;
	pthread_mutex_unlock(&hook_lock);
}

static void call_pin_hook(void)
{
	dmatest_pin_hook_fn fn;
	void *arg;

	pthread_mutex_lock(&hook_lock);
	fn = hook_fn;
	arg = hook_arg;
	pthread_mutex_unlock(&hook_lock);
	if (fn)
		fn(arg);
}

/* ---- pins ---- */

/* True when @set has a page in [iova, iova + length) (length > 0). */
static bool pinset_overlaps(const struct dmatest_pinset *set, uint64_t iova, uint64_t length)
{
	uint64_t set_last = set->iova + (uint64_t)set->npage * PAGE_SIZE - 1;
	uint64_t last = iova + (length - 1);

	if (last < iova) /* the range wraps: it ends at the top of the address space */
		last = UINT64_MAX;
	return set->npage && set->iova <= last && iova <= set_last;
}

/*
 * Takes the pins of the transfer in flight and the held ones that lie in [iova, iova +
 * length) (@all: wherever they lie) back from their owner into @out, for the caller to unpin
 * once it has dropped s->lock; returns how many sets. A transfer still inside
 * vfio_pin_pages() is told to unpin what it gets itself. Caller holds s->lock.
 */
static int take_pins_locked(struct dmatest_state *s, uint64_t iova, uint64_t length, bool all,
			    struct dmatest_pinset out[2])
{
	int n = 0;

	if (all || pinset_overlaps(&s->xfer_pins, iova, length)) {
		if (s->xfer_pin_state == DMATEST_PINS_PINNING) {
			s->xfer_revoked = true; /* the transfer unpins what it gets */
		} else if (s->xfer_pin_state == DMATEST_PINS_PINNED) {
			out[n++] = s->xfer_pins;
			s->xfer_pin_state = DMATEST_PINS_NONE;
			s->xfer_revoked = true;
		}
	}
	if (s->held.npage && (all || pinset_overlaps(&s->held, iova, length))) {
		out[n++] = s->held;
		s->held.npage = 0;
	}
	return n;
}

int dmatest_quiesce_locked(struct dmatest_state *s, struct dmatest_pinset out[2])
{
	s->gen++;
	return take_pins_locked(s, 0, 0, true, out);
}

void dmatest_unpin(struct dmatest_state *s, const struct dmatest_pinset *sets, int n)
{
	for (int i = 0; i < n; i++)
		vfio_unpin_pages(&s->vdev, sets[i].iova, sets[i].npage);
}

/*
 * vfio_device_ops.dma_unmap: called on the unmapping thread, with the DMA space's lock held
 * by the core, whenever [iova, iova + length) is being unmapped and we hold pins in it. We
 * take the pins out of our state under s->lock and unpin them after dropping it.
 */
void dmatest_dma_unmap(struct vfio_device *vdev, uint64_t iova, uint64_t length)
{
	struct dmatest_state *s = to_dmatest(vdev);
	struct dmatest_pinset sets[2];
	int n = 0;

	pthread_mutex_lock(&s->lock);
	s->regs.unmap_calls++;
	if (length) {
		n = take_pins_locked(s, iova, length, false, sets);
		for (int i = 0; i < n; i++)
			s->regs.unmap_pages += (uint64_t)sets[i].npage;
	}
	pthread_mutex_unlock(&s->lock);
	dmatest_unpin(s, sets, n);
}

/* ---- transfers ---- */

/* What a transfer works on, read from the registers when it starts. */
struct xfer {
	uint64_t iova;
	uint32_t len;
	uint32_t off;  /* in BAR2 */
	uint32_t ctrl; /* DMATEST_CTRL_STORED bits */
	uint64_t gen;  /* s->gen at the start: a change drops the transfer */
	struct dmatest_pinset pins; /* with DMATEST_CTRL_PIN: the pages it pins */
};

/* One transfer completes: status, count, interrupt. Caller holds s->lock. */
static void complete_locked(struct dmatest_state *s, int status)
{
	s->regs.dma_status = (uint32_t)status;
	s->regs.xfer_count++;
	dmatest_raise_irq_locked(s);
}

/* The transfer in flight ends; completes unless it was dropped. Caller holds s->lock. */
static void finish_locked(struct dmatest_state *s, const struct xfer *x, int status)
{
	s->xfer_busy = false;
	if (x->gen == s->gen)
		complete_locked(s, status);
}

static void xfer_rw(struct dmatest_state *s, const struct xfer *x)
{
	bool to_guest = x->ctrl & DMATEST_CTRL_TO_GUEST;
	uint8_t *bounce = malloc(x->len);
	int ret;

	if (!bounce) {
		pthread_mutex_lock(&s->lock);
		finish_locked(s, x, -ENOMEM);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (to_guest) {
		pthread_mutex_lock(&s->lock);
		memcpy(bounce, s->buf + x->off, x->len);
		pthread_mutex_unlock(&s->lock);
	}
	ret = vfio_dma_rw(&s->vdev, x->iova, bounce, x->len, to_guest);
	pthread_mutex_lock(&s->lock);
	if (!ret && !to_guest && x->gen == s->gen)
		memcpy(s->buf + x->off, bounce, x->len);
	finish_locked(s, x, ret);
	pthread_mutex_unlock(&s->lock);
	free(bounce);
}

/* Copies between the pinned pages and the buffer; caller holds s->lock. */
static void copy_pinned_locked(struct dmatest_state *s, const struct xfer *x,
			       struct page **pages)
{
	uint64_t first = x->iova & PAGE_MASK, end = x->iova + x->len;
	bool to_guest = x->ctrl & DMATEST_CTRL_TO_GUEST;
	for (int i = 0; i < x->pins.npage; i++) {
		uint64_t page = first + (uint64_t)i * PAGE_SIZE;
		uint64_t from = page < x->iova ? x->iova : page;
		uint64_t to = end - page < PAGE_SIZE ? end : page + PAGE_SIZE;
		uint8_t *host = (uint8_t *)page_address(pages[i]) + (from - page);
		uint8_t *dev = s->buf + x->off + (from - x->iova);

		if (to_guest)
			memcpy(host, dev, to - from);
		else
			memcpy(dev, host, to - from);
	}
}

static void xfer_pinned(struct dmatest_state *s, const struct xfer *x)
{
	int prot = (x->ctrl & DMATEST_CTRL_TO_GUEST) ? IOMMU_WRITE : IOMMU_READ;
	struct page *pages[DMATEST_MAX_PIN_PAGES];
	struct dmatest_pinset mine = { 0, 0 };
	int ret;

	ret = vfio_pin_pages(&s->vdev, x->pins.iova, x->pins.npage, prot, pages);
	pthread_mutex_lock(&s->lock);
	if (ret < 0) {
		s->xfer_pin_state = DMATEST_PINS_NONE;
		finish_locked(s, x, ret);
		goto out_unlock;
	}
	if (s->xfer_revoked) {
		/* taken back while we were pinning: ours to unpin */
		s->xfer_pin_state = DMATEST_PINS_NONE;
		mine = x->pins;
		finish_locked(s, x, -ECANCELED);
		goto out_unlock;
	}
	s->xfer_pin_state = DMATEST_PINS_PINNED;
	pthread_mutex_unlock(&s->lock);

	call_pin_hook();

	pthread_mutex_lock(&s->lock);
	if (s->xfer_pin_state != DMATEST_PINS_PINNED) {
		/* taken back (dma_unmap, reset, close, stop), and unpinned by the taker */
		finish_locked(s, x, -ECANCELED);
		goto out_unlock;
	}
	copy_pinned_locked(s, x, pages);
	s->xfer_pin_state = DMATEST_PINS_NONE;
	if (x->ctrl & DMATEST_CTRL_HOLD)
		s->held = x->pins; /* empty before: the transfer's start took the old ones */
	else
		mine = x->pins;
	finish_locked(s, x, 0);
out_unlock:
	pthread_mutex_unlock(&s->lock);
	if (mine.npage)
		dmatest_unpin(s, &mine, 1);
}

/* A GO: runs one transfer on this thread, from the registers' values. */
static void dmatest_transfer(struct dmatest_state *s)
{
	struct dmatest_pinset old[2];
	struct xfer x;
	uint64_t last;
	int nold = 0;

	pthread_mutex_lock(&s->lock);
	if (!dmatest_running_locked(s))
		goto out_unlock;
	if (s->xfer_busy) {
		complete_locked(s, -EBUSY);
		goto out_unlock;
	}
	x.iova = s->regs.dma_addr;
	x.len = s->regs.dma_len;
	x.off = s->regs.dma_buf_off;
	x.ctrl = s->regs.dma_ctrl;
	x.gen = s->gen;
	if (!x.len || x.len > DMATEST_BAR2_SIZE || x.off > DMATEST_BAR2_SIZE - x.len ||
	    __builtin_add_overflow(x.iova, x.len - 1, &last)) {
		complete_locked(s, -EINVAL);
		goto out_unlock;
	}
	s->xfer_busy = true;
	/* a new transfer lets go of the pins that the last one held */
	if (s->held.npage) {
		old[nold++] = s->held;
		s->held.npage = 0;
	}
	x.pins.iova = x.iova & PAGE_MASK;
	x.pins.npage = (int)(((last & PAGE_MASK) - x.pins.iova) / PAGE_SIZE + 1);
	if (x.ctrl & DMATEST_CTRL_PIN) {
		s->xfer_pins = x.pins;
		s->xfer_pin_state = DMATEST_PINS_PINNING;
		s->xfer_revoked = false;
	}
	pthread_mutex_unlock(&s->lock);

	dmatest_unpin(s, old, nold);
	if (x.ctrl & DMATEST_CTRL_PIN)
		xfer_pinned(s, &x);
	else
		xfer_rw(s, &x);
	return;

out_unlock:
	pthread_mutex_unlock(&s->lock);
}

/* ---- BAR0 ---- */

static uint32_t lo32(uint64_t v)
{
	return (uint32_t)v;
}

static uint32_t hi32(uint64_t v)
{
	return (uint32_t)(v >> 32);
}

static void set_lo32(uint64_t *r, uint32_t v)
{
	*r = (*r & ~(uint64_t)UINT32_MAX) | v;
}

static void set_hi32(uint64_t *r, uint32_t v)
{
	*r = (*r & UINT32_MAX) | (uint64_t)v << 32;
}

static uint32_t reg_read(struct dmatest_state *s, uint64_t off)
{
	const struct dmatest_regs *r = &s->regs;

	switch (off) {
	case DMATEST_REG_ID:
		return DMATEST_ID;
	case DMATEST_REG_DMA_ADDR:
		return lo32(r->dma_addr);
	case DMATEST_REG_DMA_ADDR + 4:
		return hi32(r->dma_addr);
	case DMATEST_REG_DMA_LEN:
		return r->dma_len;
	case DMATEST_REG_DMA_BUF_OFF:
		return r->dma_buf_off;
	case DMATEST_REG_DMA_CTRL:
		return r->dma_ctrl;
	case DMATEST_REG_DMA_STATUS:
		return r->dma_status;
	case DMATEST_REG_IRQ_STATUS:
		return r->irq_status;
	case DMATEST_REG_SCRATCH:
		return lo32(r->scratch);
	case DMATEST_REG_SCRATCH + 4:
		return hi32(r->scratch);
	case DMATEST_REG_XFER_COUNT:
		return lo32(r->xfer_count);
	case DMATEST_REG_XFER_COUNT + 4:
		return hi32(r->xfer_count);
	case DMATEST_REG_UNMAP_PAGES:
		return lo32(r->unmap_pages);
	case DMATEST_REG_UNMAP_PAGES + 4:
		return hi32(r->unmap_pages);
	case DMATEST_REG_UNMAP_CALLS:
		return r->unmap_calls;
	case DMATEST_REG_PINNED_PAGES:
		return (uint32_t)s->held.npage;
	default: /* IRQ_CTRL, reserved and unused offsets */
		return 0;
	}
}

/* What a register write leaves to do once s->lock is dropped. */
struct bar0_effects {
	bool go;
	int nrelease;
	struct dmatest_pinset release[2];
};

static void reg_write(struct dmatest_state *s, uint64_t off, uint32_t v,
		      struct bar0_effects *fx)
{
	struct dmatest_regs *r = &s->regs;

	switch (off) {
	case DMATEST_REG_DMA_ADDR:
		set_lo32(&r->dma_addr, v);
		break;
	case DMATEST_REG_DMA_ADDR + 4:
		set_hi32(&r->dma_addr, v);
		break;
	case DMATEST_REG_DMA_LEN:
		r->dma_len = v;
		break;
	case DMATEST_REG_DMA_BUF_OFF:
		r->dma_buf_off = v;
		break;
	case DMATEST_REG_DMA_CTRL:
		r->dma_ctrl = v & DMATEST_CTRL_STORED;
		if ((v & DMATEST_CTRL_RELEASE) && s->held.npage && !fx->nrelease) {
			fx->release[fx->nrelease++] = s->held;
			s->held.npage = 0;
		}
		if ((v & DMATEST_CTRL_GO) && dmatest_running_locked(s))
			fx->go = true;
		break;
	case DMATEST_REG_IRQ_CTRL:
		if ((v & DMATEST_IRQ_CTRL_RAISE) && dmatest_running_locked(s))
			dmatest_raise_irq_locked(s);
		break;
	case DMATEST_REG_IRQ_STATUS:
		r->irq_status &= ~(v & DMATEST_IRQ_STATUS_PENDING);
		break;
	case DMATEST_REG_SCRATCH:
		set_lo32(&r->scratch, v);
		break;
	case DMATEST_REG_SCRATCH + 4:
		set_hi32(&r->scratch, v);
		break;
	default: /* read-only and unused offsets */
		break;
	}
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * A BAR0 access of 4 or 8 naturally aligned bytes at @off, as 32-bit words from the lowest;
 * an 8-byte access is one atomic step. The transfer a GO starts runs after the registers
 * are written and s->lock dropped.
 */
ssize_t dmatest_bar0_access(struct dmatest_state *s, char *buf, size_t count, uint64_t off,
			    bool write)
{
	struct bar0_effects fx = { .go = false, .nrelease = 0 };
	uint8_t *b = (uint8_t *)buf;

	if ((count != 4 && count != 8) || off % count || off >= DMATEST_BAR0_SIZE ||
	    count > DMATEST_BAR0_SIZE - off)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < count; i += 4) {
		if (write)
			reg_write(s, off + i, get_le32(b + i), &fx);
		else
			put_le32(b + i, reg_read(s, off + i));
	}
	pthread_mutex_unlock(&s->lock);
	dmatest_unpin(s, fx.release, fx.nrelease);
	if (fx.go)
		dmatest_transfer(s);
	return (ssize_t)count;
}
