/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of mtty's suite over vfio-user (test_mtty_vu_*.c, one executable): the driver
 * is linked in as a built-in module (umdev_builtin_mtty) and every case starts and stops it
 * with a one-thread worker pool. Each device is served in-process by its own vfio-user
 * server (no listening socket: the client gets one end of a socketpair) and driven only
 * through libumdev-client, the way QEMU's vfio-user-pci reaches it: REGION_READ/WRITE of
 * config space (region 7) and of the BARs (regions 0 and 1, one byte at a time at offsets
 * 0-7, as a guest's 8250 driver accesses its I/O ports), DEVICE_SET_IRQS with eventfds,
 * DEVICE_FEATURE and MIG_DATA_READ/WRITE. The management side (creating devices, their
 * attributes) goes through the core's management API, as umdevd's sysfs tree will.
 */
#ifndef UMDEV_TESTS_MTTY_VU_FIXTURE_H
#define UMDEV_TESTS_MTTY_VU_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <umdev/client.h>
#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio.h>
#include <umdev/vfio_user_server.h>
#include <umdev/workers.h>

#include "mtty.h"
#include "tap.h"
#include "uart16550.h"

extern const struct umdev_driver_module umdev_builtin_mtty;

#define VU_CFG VFIO_PCI_CONFIG_REGION_INDEX
#define VU_BAR(n) (VFIO_PCI_BAR0_REGION_INDEX + (n))
#define INTX VFIO_PCI_INTX_IRQ_INDEX
#define MSI VFIO_PCI_MSI_IRQ_INDEX
#define TRIGGER VFIO_IRQ_SET_ACTION_TRIGGER
#define MASK VFIO_IRQ_SET_ACTION_MASK
#define UNMASK VFIO_IRQ_SET_ACTION_UNMASK

/* Bound of every wait (a reply, an eventfd, a pty, a server): a broken driver fails the
 * case, not the suite. */
#define VU_WAIT_MS 30000

/* LSR of an idle port with an empty receiver. */
#define LSR_IDLE (UART_LSR_THRE | UART_LSR_TEMT)

/* Most devices a case has at a time. */
#define VU_MAX_DEVS (MTTY_POOL_PORTS + 2)

struct vu_dev;

/* The driver, started, the worker pool the servers run on, and the case's devices. */
struct vu_env {
	struct umdev_workers *workers;
	struct mdev_parent *parent;		/* a reference */
	struct mdev_type *type[MTTY_MAX_PORTS]; /* type[0] is mtty-1, type[1] mtty-2 */
	bool started;
	struct vu_dev *devs[VU_MAX_DEVS];	/* those not yet released */
};

bool vu_env_start(struct vu_env *e);
/* Releases the devices a case left (a failed REQUIRE), stops the driver (which removes
 * them) and the workers. */
void vu_env_stop(struct vu_env *e);

/* A case that runs with the driver started. */
#define VU_CASE(name)                                \
	static void name##_body(struct vu_env *e);   \
	TEST(name)                                   \
	{                                            \
		struct vu_env env;                   \
		if (vu_env_start(&env))              \
			name##_body(&env);           \
		vu_env_stop(&env);                   \
	}                                            \
	static void name##_body(struct vu_env *e)

/* A device, its server and its client; owned by the case's environment. */
struct vu_dev {
	struct vu_env *env;
	char uuid[UUID_STRING_LEN + 1];
	unsigned int ports;
	struct mdev_device *mdev; /* a reference */
	struct vfio_device *vdev; /* a reference */
	struct vfio_user_server *srv;
	struct umdev_client *c; /* NULL while no client is connected */
};

/* The UUID of test device @n. */
void vu_make_uuid(unsigned int n, char text[UUID_STRING_LEN + 1], guid_t *uuid);

/* Creates device @n of mtty-@ports (not served yet); checked, NULL on failure. */
struct vu_dev *vu_create(struct vu_env *e, unsigned int ports, unsigned int n);
/* Takes the existing device @n of mtty-@ports (created through its type's create file). */
struct vu_dev *vu_adopt(struct vu_env *e, unsigned int ports, unsigned int n);
/* vu_create() and vu_connect(). */
struct vu_dev *vu_open(struct vu_env *e, unsigned int ports, unsigned int n);
/* Serves @d (a server the first time) and connects a new client to it; checked. */
bool vu_connect(struct vu_dev *d);
/* Closes the client and waits (bounded) until the server has let the device go. */
bool vu_disconnect(struct vu_dev *d);
/* Disconnects and destroys the server, and drops the vfio device: only d->mdev is left. */
void vu_unserve(struct vu_dev *d);
/* vu_unserve(), drops the mediated device (without removing it) and frees @d. */
void vu_release(struct vu_dev *d);
/* Removes the device (checked) and releases it. NULL is ignored. */
void vu_destroy(struct vu_dev *d);

/* ---- region accesses through the client; all checked ---- */

/* One byte of port @port's BAR at offset @reg (0-7), as an 8250 driver's inb/outb. */
uint8_t vu_rd(struct vu_dev *d, unsigned int port, unsigned int reg);
void vu_wr(struct vu_dev *d, unsigned int port, unsigned int reg, uint8_t val);
/* A posted byte write (NO_REPLY), as QEMU sends BAR writes; applied before any later
 * request is answered. */
void vu_wr_posted(struct vu_dev *d, unsigned int port, unsigned int reg, uint8_t val);
/* Config space accesses of @len (1, 2 or 4) bytes, little endian. */
uint32_t vu_cfg_rd(struct vu_dev *d, unsigned int off, unsigned int len);
void vu_cfg_wr(struct vu_dev *d, unsigned int off, uint32_t val, unsigned int len);

/* ---- interrupts ---- */

/* A non-blocking eventfd; efd_take() reads and resets the counter (0 if unsignalled). */
int efd_new(void);
uint64_t efd_take(int efd);
/* Waits up to VU_WAIT_MS for @fd to become readable; true if it did. */
bool fd_wait(int fd);

/* DEVICE_SET_IRQS with one eventfd (-1 de-assigns), with no data, or with one bool. */
int vu_irq_fd(struct vu_dev *d, uint32_t index, uint32_t action, int fd);
int vu_irq_none(struct vu_dev *d, uint32_t index, uint32_t action, uint32_t start,
		uint32_t count);
int vu_irq_bool(struct vu_dev *d, uint32_t index, uint32_t action, uint8_t value);
/* What a VMM does after the guest's EOI: INTx UNMASK; checked. */
bool vu_unmask(struct vu_dev *d);

/* ---- migration ---- */

/* DEVICE_FEATURE GET of @feature, @len bytes of data into @out: 0 or -errno. */
int vu_feature_get(struct vu_dev *d, uint32_t feature, void *out, size_t len);
/* DEVICE_FEATURE SET of MIG_DEVICE_STATE: 0 or -errno. */
int vu_mig_set(struct vu_dev *d, uint32_t state);
/* DEVICE_FEATURE GET of MIG_DEVICE_STATE (checked; VFIO_DEVICE_STATE_ERROR on failure). */
uint32_t vu_mig_get(struct vu_dev *d);
/* MIG_DATA_READ in chunks of @chunk to the end of the stream: the count, -ENOBUFS when
 * the stream is longer than @cap, or -errno. */
int vu_mig_read_all(struct vu_dev *d, uint8_t *buf, size_t cap, uint32_t chunk);
/* MIG_DATA_WRITE of @len bytes in chunks of @chunk: 0 or the first error. */
int vu_mig_write_all(struct vu_dev *d, const uint8_t *buf, size_t len, uint32_t chunk);

/* ---- attributes, as umdevd's sysfs tree reads and writes them ---- */

/* The vendor attribute @name of @d: show() fills @buf (UMDEV_ATTR_BUF_SIZE + 1 bytes) and
 * NUL-terminates it; both return the callback's result or -ENOENT. */
ssize_t vu_attr_show(struct vu_env *e, struct vu_dev *d, const char *name, char *buf);
ssize_t vu_attr_store(struct vu_env *e, struct vu_dev *d, const char *name, const char *text);
/* available_instances of mtty-@ports, as a number (checked; -1 on failure). */
long vu_available(struct vu_env *e, unsigned int ports);

#endif
