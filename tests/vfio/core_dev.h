/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A driver's test device as a transport holds it, through the core API (no socket): the
 * mediated device, its vfio device found by UUID and opened, with or without a DMA space in
 * which a memfd of "guest memory" is mapped at GUEST_IOVA (the test sees that memory through
 * its own mapping). Plus what every driver suite does with it: region accesses, eventfds,
 * VFIO_DEVICE_SET_IRQS and migration through VFIO_DEVICE_FEATURE, all checked with tap.h.
 * Shared by the fixtures of mtty (tests/drivers/mtty/mtty_fixture.h) and dmatest
 * (tests/transport/dmatest_fixture.h), which add the driver's module, types and registers.
 */
#ifndef UMDEV_TESTS_VFIO_CORE_DEV_H
#define UMDEV_TESTS_VFIO_CORE_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_dma.h>

#include "fixture_test.h"
#include "tap.h"
#include "util/uuid.h"

/* Guest memory of a device opened with DMA: GUEST_SIZE bytes mapped read/write at GUEST_IOVA. */
#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (1024 * 1024)

/* Bound of every wait for another thread: a broken driver fails the case, not the suite. */
#define WAIT_TIMEOUT_S 30

/* Starts @mod and takes a reference to its parent @name; checked. */
bool module_start(const struct umdev_driver_module *mod, const char *name,
		  struct mdev_parent **parent);
/* Drops @parent (may be NULL) and stops @mod. */
void module_stop(const struct umdev_driver_module *mod, struct mdev_parent *parent);

struct dev {
	char uuid[UUID_STRING_SIZE];
	struct mdev_device *mdev;     /* a reference */
	struct vfio_device *vdev;     /* a reference (vfio_device_get_from_name) */
	struct vfio_dma_space *space; /* NULL for a client without DMA */
	bool open;
	int guest_fd;	/* memfd of GUEST_SIZE bytes mapped at GUEST_IOVA in space, or -1 */
	uint8_t *guest; /* the test's view of it */
	/* Set by the fixture: the sizes of mig_read_all()'s reads and mig_write_all()'s writes. */
	size_t mig_read_chunk;
	size_t mig_write_chunk;
};

/*
 * Creates the device @uuid on @type, finds its vfio device, and opens it with a DMA space in
 * which the guest memory is mapped (@with_dma) or without a space. Checked; false on
 * failure, with whatever was done undone by dev_destroy().
 */
bool dev_create_open_on(struct mdev_type *type, const char *uuid, struct dev *d,
			bool with_dma);
void dev_close(struct dev *d);
/* Closes (if open), removes and frees everything of @d. */
void dev_destroy(struct dev *d);

/* Little-endian accesses of @len (1 to 8) bytes at device-file offset @pos; checked. */
uint64_t region_rd(struct dev *d, uint64_t pos, unsigned int len);
void region_wr(struct dev *d, uint64_t pos, uint64_t v, unsigned int len);

/* Eventfds: non-blocking; efd_take() reads and resets the counter (0 if unsignalled). */
int efd_new(void);
uint64_t efd_take(int efd);
/* Waits up to WAIT_TIMEOUT_S for @fd to become readable; true if it did. */
bool fd_wait(int fd);

/* VFIO_DEVICE_SET_IRQS with one eventfd, with no data (@count 0 or 1), or with one bool. */
long irq_set_fd(struct dev *d, uint32_t index, uint32_t action, int32_t fd);
long irq_set_none(struct dev *d, uint32_t index, uint32_t action, uint32_t start,
		  uint32_t count);
long irq_set_bool(struct dev *d, uint32_t index, uint32_t action, uint8_t value);

/* A VFIO_DEVICE_FEATURE request with up to 24 bytes of payload, aligned for its u64 fields. */
union feature_buf {
	struct vfio_device_feature hdr;
	uint64_t raw[4];
};

/* Migration through VFIO_DEVICE_FEATURE and the device's current stream. */
long mig_set(struct dev *d, uint32_t state);
uint32_t mig_get(struct dev *d);
/* VFIO_DEVICE_FEATURE_GET of @feature with @len (up to 24) bytes of payload into @out. */
long feature_get(struct dev *d, uint32_t feature, void *out, size_t len);
/* VFIO_MIG_GET_PRECOPY_INFO on the current stream; @info is poisoned first. */
long precopy_info(struct dev *d, struct vfio_precopy_info *info);
/* Reads the current stream to its end into @buf (of @cap bytes): the count or -errno. */
ssize_t mig_read_all(struct dev *d, uint8_t *buf, size_t cap);
/* Writes @len bytes to the current stream in chunks; 0 or -errno. */
int mig_write_all(struct dev *d, const uint8_t *buf, size_t len);

#endif
