/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of dmatest's own tests (test_dmatest*.c, one executable): the driver is linked
 * in from dmatest_lib (umdev_builtin_dmatest) and every case starts and stops it. A device
 * is driven as a transport drives it, through the core API: created on the type, found by
 * UUID, opened with a DMA space in which a memfd of "guest memory" is mapped at GUEST_IOVA;
 * the test sees that memory through its own mapping of the memfd.
 */
#ifndef UMDEV_TESTS_DMATEST_FIXTURE_H
#define UMDEV_TESTS_DMATEST_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_dma.h>

#include "dmatest.h"
#include "tap.h"
#include "util/uuid.h"

extern const struct umdev_driver_module umdev_builtin_dmatest;
#define MOD (&umdev_builtin_dmatest)

#define CFG DMATEST_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)
#define BAR0 DMATEST_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX)
#define BAR2 DMATEST_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX)

/* Guest memory: GUEST_SIZE bytes mapped read/write at GUEST_IOVA. */
#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (1024 * 1024)

/* Bound for waits on another thread: a broken driver fails the case instead of hanging. */
#define WAIT_TIMEOUT_S 30

struct fixture {
	struct mdev_parent *parent; /* a reference, dropped by teardown() before exit() */
	struct mdev_type *type;
};

bool setup(struct fixture *f);
void teardown(struct fixture *f);

/* A case that runs with the module started; exit() removes whatever the body left. */
#define DMATEST_TEST(name)                           \
	static void name##_body(struct fixture *f);  \
	TEST(name)                                   \
	{                                            \
		struct fixture fx;                   \
		if (setup(&fx)) {                    \
			name##_body(&fx);            \
			teardown(&fx);               \
		}                                    \
	}                                            \
	static void name##_body(struct fixture *f)

/* A device as a transport holds it, with its client's DMA space and guest memory. */
struct dev {
	char uuid[UUID_STRING_SIZE];
	struct mdev_device *mdev;     /* a reference */
	struct vfio_device *vdev;     /* a reference (vfio_device_get_from_name) */
	struct vfio_dma_space *space; /* NULL for a client without DMA */
	bool open;
	int guest_fd;	/* memfd of GUEST_SIZE bytes, mapped at GUEST_IOVA in space */
	uint8_t *guest; /* the test's view of it */
};

/*
 * Creates device @n, finds its vfio device, and opens it with a DMA space in which the guest
 * memory is mapped (@with_dma), or without a space. Checked; false on failure, with
 * whatever was done undone by dev_destroy().
 */
bool dev_create_open(struct fixture *f, unsigned int n, struct dev *d, bool with_dma);
/* Closes (if open), removes and frees everything of @d. */
void dev_destroy(struct dev *d);
void dev_close(struct dev *d);

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

/* Eventfds: created non-blocking; efd_take() reads and resets the counter (0 if unsignalled). */
int efd_new(void);
uint64_t efd_take(int efd);
/* Waits up to WAIT_TIMEOUT_S for @efd to be signalled; true if it was. */
bool efd_wait(int efd);

/* VFIO_DEVICE_SET_IRQS with one eventfd, or with no data (@count 0 or 1), or one bool. */
long irq_set_fd(struct dev *d, uint32_t index, uint32_t action, int32_t fd);
long irq_set_none(struct dev *d, uint32_t index, uint32_t action, uint32_t start,
		  uint32_t count);
long irq_set_bool(struct dev *d, uint32_t index, uint32_t action, uint8_t value);

/* Migration through VFIO_DEVICE_FEATURE. */
long mig_set(struct dev *d, uint32_t state);
uint32_t mig_get(struct dev *d);
/* Reads the current stream to its end into @buf (of @cap bytes); the count or -errno. */
ssize_t mig_read_all(struct dev *d, uint8_t *buf, size_t cap);
/* Writes @len bytes to the current stream in chunks; 0 or -errno. */
int mig_write_all(struct dev *d, const uint8_t *buf, size_t len);

/* Open file descriptors of the process. */
int count_fds(void);

/* A one-shot event between threads, with a bounded wait. */
struct event {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool set;
};
void event_init(struct event *e);
void event_destroy(struct event *e);
void event_set(struct event *e);
/* True if set within WAIT_TIMEOUT_S. */
bool event_wait(struct event *e);

#endif
