/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DMA dirty-page logging in the core: VFIO_DEVICE_FEATURE_DMA_LOGGING_START, _STOP and _REPORT
 * for every emulated-IOMMU device, with no driver code. The core sees every write a device
 * makes to guest memory, since those go through vfio_dma_rw() or through pages pinned with
 * IOMMU_WRITE.
 *
 * START names the IOVA ranges to watch; the core keeps a bitmap per range with one bit per
 * tracking unit of 2^shift bytes (the page size asked for, at least PAGE_SIZE; unit u covers
 * [u << shift, (u + 1) << shift)). A write marks the units it touches inside the ranges
 * (dma_rw.c after each copy; dma_pin.c when a page is pinned for writing and when such a pin
 * is dropped). REPORT moves the marks of a window into the caller's bitmap at the page size it
 * asks for and clears them; pages pinned for writing at that moment are reported too, since
 * the device may write them at any time.
 *
 * Concurrency: the log hangs off vfio_device_private.dirty, which START and STOP (and the
 * device's last close, through dma_unpin_all) change with the device's lock held and its DMA
 * gate closed. Markers read it inside the gate - one predictable branch when logging is off -
 * and set bits with atomic ORs after the write they record; REPORT runs under the device's
 * lock and takes bits with atomic ANDs, so a write that races with it is reported either now
 * or by the next REPORT, never lost.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/macros.h"
#include "vfio/vfio_private.h"

/* One logged range and its bitmap: bit b stands for unit first_unit + b. */
struct dirty_range {
	uint64_t iova;	      /* first byte logged */
	uint64_t last;	      /* last byte logged */
	uint64_t first_unit;  /* iova >> shift */
	_Atomic uint64_t *bits;
};

struct vfio_dirty_log {
	unsigned int shift;	     /* log2 of the tracking unit */
	uint32_t nranges;
	_Atomic uint64_t *words;     /* the bitmaps of every range, one allocation */
	struct dirty_range ranges[]; /* sorted by iova, disjoint */
};

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Bits [first, first + n) of the 64-bit word that holds bit @first; *k = how many. */
static uint64_t word_mask(uint64_t first, uint64_t n, uint64_t *k)
{
	uint64_t bit = first % 64;

	*k = MIN(n, 64 - bit);
	return (*k == 64 ? ~(uint64_t)0 : (((uint64_t)1 << *k) - 1)) << bit;
}

/* ---- the log ---- */

static void dirty_log_free(struct vfio_dirty_log *log)
{
	if (!log)
		return;
	free(log->words);
	free(log);
}

static int cmp_range(const void *a, const void *b)
{
	const struct vfio_device_feature_dma_logging_range *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/*
 * Validates the ranges of a START (copied from @ctl->ranges), and builds the log with a
 * tracking unit of @shift. -EINVAL, -E2BIG, -EOVERFLOW, -EFAULT or -ENOMEM.
 */
static int dirty_log_new(const struct vfio_device_feature_dma_logging_control *ctl,
			 unsigned int shift, struct vfio_dirty_log **ret_log)
{
	struct vfio_device_feature_dma_logging_range *r = NULL;
	uint32_t n = ctl->num_ranges;
	struct vfio_dirty_log *log = NULL;
	uint64_t words = 0, end;
	int ret;

	if (!n)
		return -EINVAL;
	if (n > VFIO_DIRTY_MAX_RANGES)
		return -E2BIG;
	if (!ctl->ranges)
		return -EFAULT;
	r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	/* the array is the caller's, in this process, and may be unaligned */
	memcpy(r, (const void *)(uintptr_t)ctl->ranges, n * sizeof(*r));

	for (uint32_t i = 0; i < n; i++) {
		if (!r[i].length || !IS_ALIGNED(r[i].iova, ctl->page_size) ||
		    !IS_ALIGNED(r[i].length, ctl->page_size)) {
			ret = -EINVAL;
			goto out_free_ranges;
		}
		/* as the kernel: a range may not reach the end of the IOVA space */
		if (add_overflows_u64(r[i].iova, r[i].length, &end)) {
			ret = -EOVERFLOW;
			goto out_free_ranges;
		}
	}
	qsort(r, n, sizeof(*r), cmp_range);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t last = r[i].iova + r[i].length - 1;

		if (i && r[i].iova <= r[i - 1].iova + r[i - 1].length - 1) {
			ret = -EINVAL;
			goto out_free_ranges;
		}
		/* at most 2^52 units a range, 256 ranges: no overflow */
		words += ((last >> shift) - (r[i].iova >> shift) + 1 + 63) / 64;
	}
	if (words * sizeof(uint64_t) > VFIO_DIRTY_MAX_BITMAP_BYTES) {
		ret = -E2BIG;
		goto out_free_ranges;
	}

	log = calloc(1, sizeof(*log) + n * sizeof(log->ranges[0]));
	if (!log) {
		ret = -ENOMEM;
		goto out_free_ranges;
	}
	log->words = calloc((size_t)words, sizeof(*log->words));
	if (!log->words) {
		ret = -ENOMEM;
		goto out_free_log;
	}
	log->shift = shift;
	log->nranges = n;
	words = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct dirty_range *d = &log->ranges[i];

		d->iova = r[i].iova;
		d->last = r[i].iova + r[i].length - 1;
		d->first_unit = d->iova >> shift;
		d->bits = log->words + words;
		words += ((d->last >> shift) - d->first_unit + 1 + 63) / 64;
	}
	free(r);
	*ret_log = log;
	return 0;

out_free_log:
	dirty_log_free(log);
out_free_ranges:
	free(r);
	return ret;
}

/* Index of the first range that ends at or after @iova (nranges if none). */
static uint32_t dirty_log_lower_bound(const struct vfio_dirty_log *log, uint64_t iova)
{
	uint32_t lo = 0, hi = log->nranges;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (log->ranges[mid].last < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* True when the logged ranges cover every byte of [iova, last]. */
static bool dirty_log_covers(const struct vfio_dirty_log *log, uint64_t iova, uint64_t last)
{
	for (uint32_t i = dirty_log_lower_bound(log, iova); i < log->nranges; i++) {
		const struct dirty_range *d = &log->ranges[i];

		if (d->iova > iova)
			return false;
		if (d->last >= last)
			return true;
		iova = d->last + 1;
	}
	return false;
}

/* ---- marking ---- */

/* Sets bits [first, first + n) of @bits. */
static void bits_set_atomic(_Atomic uint64_t *bits, uint64_t first, uint64_t n)
{
	while (n) {
		_Atomic uint64_t *word = &bits[first / 64];
		uint64_t k, mask = word_mask(first, n, &k);

#ifdef __SANITIZE_THREAD__
		/* ThreadSanitizer has no fences: a full read-modify-write every time */
		atomic_fetch_or(word, mask);
#else
		/* a unit marked already is left alone: writers of one page do not contend */
		if ((atomic_load_explicit(word, memory_order_relaxed) & mask) != mask)
			atomic_fetch_or_explicit(word, mask, memory_order_relaxed);
#endif
		first += k;
		n -= k;
	}
}

void vfio_dirty_mark(struct vfio_dirty_log *log, dma_addr_t iova, uint64_t len)
{
	uint64_t last;

	if (!len)
		return;
	if (add_overflows_u64(iova, len - 1, &last))
		last = UINT64_MAX;
	/*
	 * Orders the write being recorded before the test of its bit: a REPORT that clears a bit
	 * this marker finds set has not cleared it yet, so the write is visible to whoever reads
	 * the page after that REPORT. (Under ThreadSanitizer the marks are seq_cst instead.)
	 */
#ifndef __SANITIZE_THREAD__
	atomic_thread_fence(memory_order_seq_cst);
#endif
	for (uint32_t i = dirty_log_lower_bound(log, iova);
	     i < log->nranges && log->ranges[i].iova <= last; i++) {
		struct dirty_range *d = &log->ranges[i];
		uint64_t lo = MAX(iova, d->iova), hi = MIN(last, d->last);

		bits_set_atomic(d->bits, (lo >> log->shift) - d->first_unit,
				(hi >> log->shift) - (lo >> log->shift) + 1);
	}
}

/* ---- reporting ---- */

/* A REPORT being answered: the window [iova, last] and the caller's bitmap. */
struct dirty_report {
	uint64_t iova, last;
	unsigned int shift;   /* log2 of the report's page size */
	unsigned char *bitmap; /* u64 words, maybe unaligned */
};

/* Sets the caller's bits for the bytes [lo, hi] of the window. */
static void report_bytes(const struct dirty_report *rep, uint64_t lo, uint64_t hi)
{
	uint64_t first = (lo - rep->iova) >> rep->shift;
	uint64_t n = ((hi - rep->iova) >> rep->shift) - first + 1;

	while (n) {
		unsigned char *at = rep->bitmap + (first / 64) * sizeof(uint64_t);
		uint64_t k, w, mask = word_mask(first, n, &k);

		memcpy(&w, at, sizeof(w));
		w |= mask;
		memcpy(at, &w, sizeof(w));
		first += k;
		n -= k;
	}
}

/* The bytes of @d that its bit @b stands for: [*lo, *hi]. */
static void unit_span(const struct vfio_dirty_log *log, const struct dirty_range *d, uint64_t b,
		      uint64_t *lo, uint64_t *hi)
{
	uint64_t unit = d->first_unit + b;

	*lo = MAX(unit << log->shift, d->iova);
	*hi = MIN((unit << log->shift) | (((uint64_t)1 << log->shift) - 1), d->last);
}

/*
 * Reports and clears the marks of @d inside the window. A unit whose bytes in @d reach
 * outside the window is reported but stays marked, for the REPORT of the rest of it.
 */
static void report_range(const struct vfio_dirty_log *log, struct dirty_range *d,
			 const struct dirty_report *rep)
{
	uint64_t lo = MAX(rep->iova, d->iova), hi = MIN(rep->last, d->last);
	uint64_t b0 = (lo >> log->shift) - d->first_unit, b1 = (hi >> log->shift) - d->first_unit;
	uint64_t ulo, uhi;
	bool keep0, keep1;

	/* only the first and the last unit can reach outside the window */
	unit_span(log, d, b0, &ulo, &uhi);
	keep0 = ulo < rep->iova || uhi > rep->last;
	unit_span(log, d, b1, &ulo, &uhi);
	keep1 = ulo < rep->iova || uhi > rep->last;

	for (uint64_t b = b0; b <= b1;) {
		_Atomic uint64_t *word = &d->bits[b / 64];
		uint64_t k, mask = word_mask(b, b1 - b + 1, &k);
		uint64_t clear = mask, dirty;

		if (keep0 && b0 / 64 == b / 64)
			clear &= ~((uint64_t)1 << (b0 % 64));
		if (keep1 && b1 / 64 == b / 64)
			clear &= ~((uint64_t)1 << (b1 % 64));
		dirty = atomic_load_explicit(word, memory_order_relaxed);
		if (dirty & clear)
			dirty = atomic_fetch_and(word, ~clear);
		dirty &= mask;
		while (dirty) {
			uint64_t bit = (b & ~(uint64_t)63) + (uint64_t)__builtin_ctzll(dirty);

			dirty &= dirty - 1;
			unit_span(log, d, bit, &ulo, &uhi);
			report_bytes(rep, MAX(ulo, rep->iova), MIN(uhi, rep->last));
		}
		b += k;
	}
}

/* Reports the pages of the window that are pinned for writing (caller holds the lock). */
static void report_write_pins(struct vfio_device_private *p, const struct dirty_report *rep)
{
	pthread_mutex_lock(&p->pin_lock);
	HMAP_FOR_EACH(node, &p->pins) {
		const struct dma_pin *pin = container_of(node, struct dma_pin, node);
		uint64_t lo = pin->pfn << PAGE_SHIFT, hi = lo + (PAGE_SIZE - 1);

		if (pin->write && lo <= rep->last && hi >= rep->iova)
			report_bytes(rep, MAX(lo, rep->iova), MIN(hi, rep->last));
	}
	pthread_mutex_unlock(&p->pin_lock);
}

/* ---- the features ---- */

static int dirty_start(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz)
{
	struct vfio_device_feature_dma_logging_control ctl;
	struct vfio_device_private *p = vdev->priv;
	struct vfio_dirty_log *log = NULL;
	unsigned int shift;
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, sizeof(ctl));
	if (ret != 1)
		return ret;
	memcpy(&ctl, arg, sizeof(ctl));
	if (!is_pow2(ctl.page_size))
		return -EINVAL;
	/* the core tracks at the page size asked for, but not below its own page */
	shift = (unsigned int)__builtin_ctzll(MAX(ctl.page_size, PAGE_SIZE));
	ret = dirty_log_new(&ctl, shift, &log);
	if (ret)
		return ret;

	pthread_mutex_lock(&p->lock);
	if (p->dirty) {
		ret = -EBUSY;
		goto out_unlock;
	}
	/* no DMA space, no DMA to log (and the last close, which unbinds it, stops logging) */
	if (!p->space) {
		ret = -EINVAL;
		goto out_unlock;
	}
	dma_gate_close(&p->gate);
	p->dirty = log;
	dma_gate_open(&p->gate);
	log = NULL;
	ctl.page_size = (uint64_t)1 << shift;
	memcpy(arg, &ctl, sizeof(ctl));
out_unlock:
	pthread_mutex_unlock(&p->lock);
	dirty_log_free(log);
	return ret;
}

void vfio_dirty_stop_locked(struct vfio_device *vdev)
{
	struct vfio_device_private *p = vdev->priv;
	struct vfio_dirty_log *log = p->dirty;

	if (!log)
		return;
	dma_gate_close(&p->gate);
	p->dirty = NULL;
	dma_gate_open(&p->gate);
	dirty_log_free(log);
}

static int dirty_stop(struct vfio_device *vdev, uint32_t flags, size_t argsz)
{
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);

	if (ret != 1)
		return ret;
	/* as the kernel's drivers: stopping logging that is off succeeds */
	pthread_mutex_lock(&vdev->priv->lock);
	vfio_dirty_stop_locked(vdev);
	pthread_mutex_unlock(&vdev->priv->lock);
	return 0;
}

static int dirty_report(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz)
{
	struct vfio_device_feature_dma_logging_report req;
	struct vfio_device_private *p = vdev->priv;
	struct vfio_dirty_log *log;
	struct dirty_report rep;
	uint64_t end;
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(req));
	if (ret != 1)
		return ret;
	memcpy(&req, arg, sizeof(req));
	if (!is_pow2(req.page_size) || req.page_size < PAGE_SIZE || !req.length)
		return -EINVAL;
	if (add_overflows_u64(req.iova, req.length, &end))
		return -EOVERFLOW;
	if (!req.bitmap)
		return -EFAULT;
	rep.iova = req.iova;
	rep.last = end - 1;
	rep.shift = (unsigned int)__builtin_ctzll(req.page_size);
	rep.bitmap = (unsigned char *)(uintptr_t)req.bitmap;

	ret = 0;
	pthread_mutex_lock(&p->lock);
	log = p->dirty;
	if (!log || !dirty_log_covers(log, rep.iova, rep.last)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	for (uint32_t i = dirty_log_lower_bound(log, rep.iova);
	     i < log->nranges && log->ranges[i].iova <= rep.last; i++)
		report_range(log, &log->ranges[i], &rep);
	report_write_pins(p, &rep);
out_unlock:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int vfio_dirty_feature(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz)
{
	struct vfio_device_private *p = vdev->priv;
	bool emulated;

	pthread_mutex_lock(&p->lock);
	emulated = p->emulated;
	pthread_mutex_unlock(&p->lock);
	/* only the emulated IOMMU lets the core see the device's writes */
	if (!emulated)
		return -ENOTTY;
	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
		return dirty_start(vdev, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
		return dirty_stop(vdev, flags, argsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		return dirty_report(vdev, flags, arg, argsz);
	default:
		return -EINVAL;
	}
}
