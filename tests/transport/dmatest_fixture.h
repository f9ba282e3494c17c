/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of dmatest's own tests (test_dmatest*.c, one executable): the driver is linked
 * in from dmatest_lib (umdev_builtin_dmatest) and every case starts and stops it. A device
 * is driven as a transport drives it, through the core API: created on the type, found by
 * UUID, opened with a DMA space in which a memfd of "guest memory" is mapped at GUEST_IOVA;
 * the test sees that memory through its own mapping of the memfd. The device and the
 * requests made of it are tests/vfio/core_dev.h's, shared with mtty's suite.
 */
#ifndef UMDEV_TESTS_DMATEST_FIXTURE_H
#define UMDEV_TESTS_DMATEST_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core_dev.h"
#include "dmatest.h"
#include "fds_events.h"

extern const struct umdev_driver_module umdev_builtin_dmatest;
#define MOD (&umdev_builtin_dmatest)

#define CFG DMATEST_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)
#define BAR0 DMATEST_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX)
#define BAR2 DMATEST_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX)

struct fixture {
	struct mdev_parent *parent; /* a reference, dropped by teardown() before exit() */
	struct mdev_type *type;
};

bool setup(struct fixture *f);
void teardown(struct fixture *f);

/* A case that runs with the module started (core_dev.h). */
#define DMATEST_TEST(name) FIXTURE_TEST(name)

/*
 * Creates device @n, finds its vfio device, and opens it with a DMA space in which the guest
 * memory is mapped (@with_dma), or without a space. Checked; false on failure, with
 * whatever was done undone by dev_destroy().
 */
bool dev_create_open(struct fixture *f, unsigned int n, struct dev *d, bool with_dma);

/* Region accesses, checked to succeed. */
uint32_t rd32(struct dev *d, uint64_t off); /* BAR0 */
uint64_t rd64(struct dev *d, uint64_t off);
void wr32(struct dev *d, uint64_t off, uint32_t v);
void wr64(struct dev *d, uint64_t off, uint64_t v);
uint32_t cfg_rd(struct dev *d, unsigned int off, unsigned int len);
void cfg_wr(struct dev *d, unsigned int off, uint32_t v, unsigned int len);
void bar2_rd(struct dev *d, uint32_t off, void *buf, size_t len);
void bar2_wr(struct dev *d, uint32_t off, const void *buf, size_t len);

/* Programs a transfer and writes GO with @ctrl; returns DMA_STATUS as an int (-errno). */
int dma_go(struct dev *d, uint64_t iova, uint32_t len, uint32_t buf_off, uint32_t ctrl);

/* Fills @len bytes with a pattern that depends on @seed. */
void pattern(uint8_t *p, size_t len, unsigned int seed);

#endif
