/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of the null driver's tests (test_null_*.c, one executable): drivers/null/null.c
 * is compiled into the test as a built-in module (UMDEV_BUILTIN_DRIVER: umdev_builtin_null),
 * and every case starts it (init) and stops it (exit), so that cases are independent. A
 * device is handled as a transport handles it: found by UUID, opened without DMA.
 */
#ifndef UMDEV_TESTS_NULL_FIXTURE_H
#define UMDEV_TESTS_NULL_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>

#include "fixture_test.h"
#include "tap.h"
#include "util/uuid.h"

/* Defined by UMDEV_DRIVER_MODULE() in null.c, built with UMDEV_BUILTIN_DRIVER. */
extern const struct umdev_driver_module umdev_builtin_null;
#define MOD (&umdev_builtin_null)

#define NULL_MAX_INSTANCES 65536
#define CONFIG_SIZE 256
#define BAR0_SIZE 4096
#define REGION(index) ((uint64_t)(index) << 40)
#define CFG REGION(VFIO_PCI_CONFIG_REGION_INDEX)
#define BAR0 REGION(VFIO_PCI_BAR0_REGION_INDEX)

/* Bound for waits on another thread: a broken core fails the case instead of hanging. */
#define WAIT_TIMEOUT_S 30

/* The module started, its parent and its type. */
struct fixture {
	struct mdev_parent *parent; /* a reference, dropped by teardown() before exit() */
	struct mdev_type *type;
};

/* Starts the module and finds the parent "null" and its type "null-1"; false (checked) if not. */
bool setup(struct fixture *f);
/* Drops the parent reference and stops the module, which removes the devices left. */
void teardown(struct fixture *f);

/* A case that runs with the module started (tests/vfio/fixture_test.h). */
#define NULL_TEST(name) FIXTURE_TEST(name)

/* The UUID 6e756c6c-0000-4000-8000-<n as 12 hex digits>, and its text if @text is not NULL. */
guid_t make_uuid(unsigned int n, char text[UUID_STRING_SIZE]);

/* A device as a transport holds it: the mdev, and the vfio device found by name and open. */
struct dev {
	char uuid[UUID_STRING_SIZE];
	struct mdev_device *mdev; /* a reference */
	struct vfio_device *vdev; /* a reference (vfio_device_get_from_name), open */
};

/* Creates device @n of the type, finds its vfio device by UUID and opens it (checked). */
bool dev_create_open(struct fixture *f, unsigned int n, struct dev *d);
/* Closes, removes and drops whatever dev_create_open() got. */
void dev_close_remove(struct dev *d);

/* A little-endian value of @len bytes. */
uint32_t get_le(const uint8_t *p, unsigned int len);
/* Config space accesses of @len (1, 2 or 4) bytes, checked to succeed. */
uint32_t cfg_read(struct vfio_device *vdev, unsigned int off, unsigned int len);
void cfg_write(struct vfio_device *vdev, unsigned int off, uint32_t val, unsigned int len);

/* The attribute named @name of a group, or NULL. */
struct attribute *find_attr(const struct attribute_group *g, const char *name);
/* Reads a type attribute into @buf (UMDEV_ATTR_BUF_SIZE bytes); "" on error (checked). */
const char *type_attr(struct mdev_type *mtype, const char *name, char *buf);
/* The number that available_instances shows. */
long available(struct mdev_type *mtype);

/* A CLOCK_MONOTONIC deadline @seconds from now. */
void deadline_in(struct timespec *ts, int seconds);

#endif
