/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The slow parts of the DMA gate (dma_gate.h): the registry of the reading threads' slots,
 * the choice of membarrier at start, the counter path, and closing a gate.
 */
#include <linux/membarrier.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vfio/dma_gate.h"

_Thread_local struct dma_reader *dma_reader_self __attribute__((tls_model("initial-exec")));
bool dma_gate_asymmetric;

/* Guards the list of slots; held by closers while they look at the slots. */
static pthread_mutex_t readers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dma_reader *readers;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
static pthread_key_t reader_key;

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

/* A thread that exits gives its slot back. */
static void reader_release(void *arg)
{
	struct dma_reader *r = arg, **p;

	pthread_mutex_lock(&readers_lock);
	for (p = &readers; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	pthread_mutex_unlock(&readers_lock);
	free(r);
}

static void gate_setup(void)
{
	long cmds = membarrier(MEMBARRIER_CMD_QUERY);

	pthread_key_create(&reader_key, reader_release);
#ifndef __SANITIZE_THREAD__
	dma_gate_asymmetric = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
			      membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
#else
	(void)cmds;
#endif
}

struct dma_reader *dma_reader_register(void)
{
	struct dma_reader *r;

	pthread_once(&gate_once, gate_setup);
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	atomic_init(&r->in, NULL);
	if (pthread_setspecific(reader_key, r)) {
		free(r);
		return NULL;
	}
	pthread_mutex_lock(&readers_lock);
	r->next = readers;
	readers = r;
	pthread_mutex_unlock(&readers_lock);
	dma_reader_self = r;
	return r;
}

void dma_gate_wait_open(struct dma_gate *gate)
{
	while (atomic_load_explicit(&gate->closed, memory_order_acquire))
		sched_yield();
}

void dma_gate_enter_slow(struct dma_gate *gate)
{
	for (;;) {
		atomic_fetch_add(&gate->readers, 1);
		if (!atomic_load(&gate->closed))
			return;
		atomic_fetch_sub_explicit(&gate->readers, 1, memory_order_release);
		dma_gate_wait_open(gate);
	}
}

void dma_gate_close(struct dma_gate *gate)
{
	pthread_once(&gate_once, gate_setup);
	pthread_mutex_lock(&gate->writer);
	atomic_store(&gate->closed, true);
	/* every running thread passes a full barrier: a reader that stored its slot before
	 * it could see `closed` is now visible in its slot */
#ifndef __SANITIZE_THREAD__ /* never asymmetric under ThreadSanitizer */
	if (dma_gate_asymmetric && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* cannot fail once registered */
#endif
	pthread_mutex_lock(&readers_lock);
	for (struct dma_reader *r = readers; r; r = r->next)
		while (atomic_load(&r->in) == gate)
			sched_yield();
	pthread_mutex_unlock(&readers_lock);
	while (atomic_load(&gate->readers))
		sched_yield();
}
