/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DMA gate of a vfio device: what keeps the device's view of its client's memory stable
 * while the device uses it, at the cost of two plain stores and one load per access.
 *
 * Readers are the DMA API calls of the device (vfio_pin_pages, vfio_unpin_pages,
 * vfio_dma_rw), from any thread: they enter, use the bound DMA space and its mapping table,
 * and leave. Writers are the changes to that view (binding the space at open, unbinding it
 * at close, adding and removing mappings): a writer closes the gate, which waits until no
 * reader is inside, makes its change, and opens it again. Readers that arrive while the gate
 * is closed wait for it to open. Writers are serialised by the gate's mutex.
 *
 * Each reading thread has a slot (registered on its first entry, released when it exits)
 * that names the gate it is inside. Entering stores the gate into the slot and then checks
 * that the gate is open; closing sets the gate closed and then looks at every slot. Those
 * two store-then-load sequences need a full barrier between them: the reader's would cost a
 * locked instruction on every access, which also waits for the copy's stores to drain, so
 * the writer pays for both instead with membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), and the
 * reader's side is a plain store and a compiler barrier. Where membarrier is not available,
 * and in ThreadSanitizer builds (which must see the ordering), the reader's store is
 * sequentially consistent instead; leaving is a release store in every case.
 *
 * A thread that enters a second gate while inside one (never in umdev itself) or cannot get
 * a slot uses the gate's reader counter instead.
 */
#ifndef UMDEV_VFIO_DMA_GATE_H
#define UMDEV_VFIO_DMA_GATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "util/macros.h"

struct dma_gate {
	atomic_bool closed;
	atomic_uint readers;	/* readers that use the counter instead of a slot */
	pthread_mutex_t writer; /* held from dma_gate_close() to dma_gate_open() */
};

/* A thread's slot: the gate it is inside, or NULL. */
struct dma_reader {
	_Atomic(struct dma_gate *) in;
	struct dma_reader *next; /* in the list of slots (dma_gate.c) */
	bool in_list;
};

/* initial-exec: libumdev is loaded with the program (plugins dlopen()ed later link to the
 * copy already there), so its TLS sits in the static block and is reached without a call */
extern _Thread_local struct dma_reader *dma_reader_self __attribute__((tls_model("initial-exec")));
extern bool dma_gate_asymmetric; /* membarrier in use: readers need no fence */

struct dma_reader *dma_reader_register(void);
void dma_gate_enter_slow(struct dma_gate *gate);
void dma_gate_wait_open(struct dma_gate *gate);

static inline void dma_gate_init(struct dma_gate *gate)
{
	atomic_init(&gate->closed, false);
	atomic_init(&gate->readers, 0);
	pthread_mutex_init(&gate->writer, NULL);
}

static inline void dma_gate_destroy(struct dma_gate *gate)
{
	pthread_mutex_destroy(&gate->writer);
}

/*
 * Enters the gate; returns the slot used (pass it to dma_gate_leave), or NULL when the
 * counter was used.
 */
static inline struct dma_reader *dma_gate_enter(struct dma_gate *gate)
{
	struct dma_reader *r = dma_reader_self;

	if (unlikely(!r))
		r = dma_reader_register();
	if (unlikely(!r || atomic_load_explicit(&r->in, memory_order_relaxed))) {
		dma_gate_enter_slow(gate);
		return NULL;
	}
	for (;;) {
#ifndef __SANITIZE_THREAD__
		if (likely(dma_gate_asymmetric)) {
			atomic_store_explicit(&r->in, gate, memory_order_relaxed);
			atomic_signal_fence(memory_order_seq_cst); /* the writer's membarrier */
		} else
#endif
		{
			atomic_store(&r->in, gate);
		}
		if (likely(!atomic_load(&gate->closed)))
			return r;
		atomic_store_explicit(&r->in, NULL, memory_order_release);
		dma_gate_wait_open(gate);
	}
}

static inline void dma_gate_leave(struct dma_gate *gate, struct dma_reader *r)
{
	if (likely(r))
		atomic_store_explicit(&r->in, NULL, memory_order_release);
	else
		atomic_fetch_sub_explicit(&gate->readers, 1, memory_order_release);
}

/* Closes the gate and waits until no reader is inside. */
void dma_gate_close(struct dma_gate *gate);

static inline void dma_gate_open(struct dma_gate *gate)
{
	atomic_store_explicit(&gate->closed, false, memory_order_release);
	pthread_mutex_unlock(&gate->writer);
}

#endif
