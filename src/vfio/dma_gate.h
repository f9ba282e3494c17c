/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DMA gate of a vfio device: what keeps the device's view of its client's memory stable
 * while the device uses it, at the cost of two uncontended atomic operations per access.
 *
 * Readers are the DMA API calls of the device (vfio_pin_pages, vfio_unpin_pages,
 * vfio_dma_rw), from any thread: they enter, use the bound DMA space and its mapping table,
 * and leave. Writers are the changes to that view (binding the space at open, unbinding it
 * at close, adding and removing mappings): a writer closes the gate, which waits until no
 * reader is inside, makes its change, and opens it again. Readers that arrive while the gate
 * is closed wait for it to open. Writers are serialised by the gate's mutex.
 *
 * A glibc rwlock costs about as much as the 4 KiB copy it would protect; this gate keeps
 * vfio_dma_rw() near memcpy (bench/), and it is made of C11 atomics that ThreadSanitizer
 * understands. Writers hold the gate only for table edits, never across a callback into a
 * driver or an munmap().
 */
#ifndef UMDEV_VFIO_DMA_GATE_H
#define UMDEV_VFIO_DMA_GATE_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

struct dma_gate {
	atomic_uint readers;
	atomic_bool closed;
	pthread_mutex_t writer; /* held from dma_gate_close() to dma_gate_open() */
};

static inline void dma_gate_init(struct dma_gate *gate)
{
	atomic_init(&gate->readers, 0);
	atomic_init(&gate->closed, false);
	pthread_mutex_init(&gate->writer, NULL);
}

static inline void dma_gate_destroy(struct dma_gate *gate)
{
	pthread_mutex_destroy(&gate->writer);
}

static inline void dma_gate_enter(struct dma_gate *gate)
{
	for (;;) {
		/* seq_cst pairs with the writer's store to `closed` and load of `readers` */
		atomic_fetch_add(&gate->readers, 1);
		if (!atomic_load(&gate->closed))
			return;
		atomic_fetch_sub_explicit(&gate->readers, 1, memory_order_release);
		while (atomic_load_explicit(&gate->closed, memory_order_acquire))
			sched_yield();
	}
}

static inline void dma_gate_leave(struct dma_gate *gate)
{
	atomic_fetch_sub_explicit(&gate->readers, 1, memory_order_release);
}

static inline void dma_gate_close(struct dma_gate *gate)
{
	pthread_mutex_lock(&gate->writer);
	atomic_store(&gate->closed, true);
	while (atomic_load(&gate->readers))
		sched_yield();
}

static inline void dma_gate_open(struct dma_gate *gate)
{
	atomic_store_explicit(&gate->closed, false, memory_order_release);
	pthread_mutex_unlock(&gate->writer);
}

#endif
