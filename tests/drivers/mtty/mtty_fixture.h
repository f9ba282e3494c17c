/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of mtty's suite through the core API (test_mtty_*.c, one executable): the
 * driver is linked in as a built-in module (umdev_builtin_mtty) and every case starts and
 * stops it. A device is driven as a transport drives it: created on its type, its vfio
 * device found by UUID and opened (mtty does no DMA, so without a DMA space), its
 * attributes read and written as umdevd's sysfs tree will. The device and the requests made
 * of it are tests/vfio/core_dev.h's, shared with dmatest's suite.
 */
#ifndef UMDEV_TESTS_MTTY_FIXTURE_H
#define UMDEV_TESTS_MTTY_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core_dev.h"
#include "mtty.h"
#include "uart16550.h"

extern const struct umdev_driver_module umdev_builtin_mtty;
#define MOD (&umdev_builtin_mtty)

#define CFG MTTY_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)
#define BAR(n) MTTY_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX + (n))

/* LSR of an idle port with an empty receiver. */
#define LSR_IDLE (UART_LSR_THRE | UART_LSR_TEMT)

struct fixture {
	struct mdev_parent *parent; /* a reference, dropped by teardown() before exit() */
	struct mdev_type *type[MTTY_MAX_PORTS]; /* type[0] is mtty-1, type[1] mtty-2 */
};

bool setup(struct fixture *f);
void teardown(struct fixture *f);

/* A case that runs with the module started (core_dev.h). */
#define MTTY_TEST(name) FIXTURE_TEST(name)

/* The UUID of test device @n. */
void make_uuid(unsigned int n, char text[UUID_STRING_SIZE], guid_t *uuid);

/* Creates device @n of mtty-@ports; 0 or the creation's error (*@mdev: a reference). */
int dev_create_raw(struct fixture *f, unsigned int ports, unsigned int n,
		   struct mdev_device **mdev);
/* Creates device @n of mtty-@ports, finds its vfio device and opens it (no DMA); checked. */
bool dev_create(struct fixture *f, unsigned int ports, unsigned int n, struct dev *d);

/* One-byte accesses to a UART register of port @port, and config accesses; checked. */
uint8_t reg_rd(struct dev *d, unsigned int port, unsigned int reg);
void reg_wr(struct dev *d, unsigned int port, unsigned int reg, uint8_t val);
uint32_t cfg_rd(struct dev *d, unsigned int off, unsigned int len);
void cfg_wr(struct dev *d, unsigned int off, uint32_t val, unsigned int len);

/*
 * Attributes: the vendor attribute @name of @d, a type's, the parent's (in group
 * "mtty_dev"). show() fills @buf (UMDEV_ATTR_BUF_SIZE + 1 bytes) and NUL-terminates it;
 * both return the callback's result, or -ENOENT when there is no such attribute.
 */
ssize_t dev_attr_show(struct fixture *f, struct dev *d, const char *name, char *buf);
ssize_t dev_attr_store(struct fixture *f, struct dev *d, const char *name, const char *text);
ssize_t dev_attr_store_n(struct fixture *f, struct dev *d, const char *name, const char *buf,
			 size_t count);
ssize_t type_attr_show(struct mdev_type *type, const char *name, char *buf);
ssize_t parent_attr_show(struct fixture *f, const char *name, char *buf);

#endif
