/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of DMA dirty-page logging in the core (src/vfio/vfio_dirty.c and its hooks in
 * dma_rw.c and dma_pin.c): VFIO_DEVICE_FEATURE_DMA_LOGGING_START / STOP / REPORT through
 * vfio_device_ioctl() on an emulated-IOMMU device whose driver does nothing for it. START's
 * checks one by one, PROBE, -EBUSY, vfio_dma_rw() writes logged and reads not, writes outside
 * the ranges not logged, REPORT clearing what it reports, reports at bigger and smaller page
 * sizes than the tracking unit and over windows that cut units, pages pinned for writing
 * always reported, STOP, the end of logging at the last close, -ENOTTY for a group device,
 * and two threaded cases for ThreadSanitizer (writers racing a reporter, with an exact count
 * of the pages reported; START/STOP churn under writes and pins).
 *
 * Guest memory is a memfd mapped into a DMA space at BASE; the device is opened with it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <umdev/device.h>
#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_dma.h>

#include "tap.h"
#include "vfio/vfio_private.h"

#define PS PAGE_SIZE
#define RW (IOMMU_READ | IOMMU_WRITE)
#define BASE 0x100000ULL
#define PAGE(i) (BASE + (uint64_t)(i) * PS)
#define NPAGES 64

#define F_START (VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START)
#define F_STOP (VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP)
#define F_REPORT (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT)

typedef struct vfio_device_feature_dma_logging_range lrange;

struct tdev {
	struct vfio_device vdev;
};

/* pins are released by the tests themselves */
static void t_dma_unmap(struct vfio_device *vdev, uint64_t iova, uint64_t length)
{
	(void)vdev;
	(void)iova;
	(void)length;
}

static const struct vfio_device_ops dirty_ops = {
	.name = "test-dirty",
	.dma_unmap = t_dma_unmap,
};

/* A registered device, open with a space that maps @npages of a memfd at BASE. */
struct fixture {
	struct device dev;
	struct tdev *t;
	struct vfio_device *vdev;
	struct vfio_dma_space *space;
	int fd;
	uint8_t *mem; /* the test's view of guest memory */
	uint64_t size;
	bool open;
};

static bool fixture_setup(struct fixture *fx, const char *name, bool group, unsigned int npages)
{
	memset(fx, 0, sizeof(*fx));
	fx->fd = -1;
	device_initialize(&fx->dev);
	dev_set_name(&fx->dev, "%s", name);
	if (vfio_dma_space_create(&fx->space))
		return false;
	fx->size = (uint64_t)npages * PS;
	fx->fd = memfd_create("umdev-dirty-test", MFD_CLOEXEC);
	if (fx->fd < 0 || ftruncate(fx->fd, (off_t)fx->size) < 0)
		return false;
	fx->mem = mmap(NULL, fx->size, PROT_READ | PROT_WRITE, MAP_SHARED, fx->fd, 0);
	if (fx->mem == MAP_FAILED) {
		fx->mem = NULL;
		return false;
	}
	if (vfio_dma_map(fx->space, BASE, fx->size, fx->fd, 0, RW))
		return false;
	fx->t = vfio_alloc_device(tdev, vdev, &fx->dev, &dirty_ops);
	if (IS_ERR(fx->t)) {
		fx->t = NULL;
		return false;
	}
	fx->vdev = &fx->t->vdev;
	if (group ? vfio_register_group_dev(fx->vdev) : vfio_register_emulated_iommu_dev(fx->vdev))
		return false;
	if (vfio_device_open(fx->vdev, fx->space))
		return false;
	fx->open = true;
	return true;
}

static void fixture_teardown(struct fixture *fx)
{
	if (fx->open)
		vfio_device_close(fx->vdev);
	if (fx->t) {
		vfio_unregister_group_dev(fx->vdev);
		vfio_put_device(fx->vdev);
	}
	vfio_dma_space_destroy(fx->space);
	if (fx->mem)
		munmap(fx->mem, fx->size);
	if (fx->fd >= 0)
		close(fx->fd);
	put_device(&fx->dev);
}

/* ---- the features ---- */

/* VFIO_DEVICE_FEATURE with @size bytes of payload (copied back); argsz as given. */
static long feature_sz(struct vfio_device *vdev, uint32_t flags, void *data, size_t size,
		       uint32_t argsz)
{
	uint64_t raw[1 + 16] = { 0 };
	struct vfio_device_feature *f = (struct vfio_device_feature *)raw;
	long ret;

	f->argsz = argsz;
	f->flags = flags;
	if (size)
		memcpy(f->data, data, size);
	ret = vfio_device_ioctl(vdev, VFIO_DEVICE_FEATURE, f);
	if (size)
		memcpy(data, f->data, size);
	return ret;
}

static long feature(struct vfio_device *vdev, uint32_t flags, void *data, size_t size)
{
	return feature_sz(vdev, flags, data, size,
			  (uint32_t)(sizeof(struct vfio_device_feature) + size));
}

static long start_ranges(struct fixture *fx, uint64_t page_size, const lrange *r, uint32_t n,
			 uint64_t *ret_page_size)
{
	struct vfio_device_feature_dma_logging_control ctl = {
		.page_size = page_size,
		.num_ranges = n,
		.ranges = (uintptr_t)r,
	};
	long ret = feature(fx->vdev, F_START, &ctl, sizeof(ctl));

	if (ret_page_size)
		*ret_page_size = ctl.page_size;
	return ret;
}

static long start(struct fixture *fx, uint64_t page_size, uint64_t iova, uint64_t length)
{
	lrange r = { .iova = iova, .length = length };

	return start_ranges(fx, page_size, &r, 1, NULL);
}

static long stop(struct fixture *fx)
{
	return feature(fx->vdev, F_STOP, NULL, 0);
}

static long report(struct fixture *fx, uint64_t iova, uint64_t length, uint64_t page_size,
		   uint64_t *bitmap)
{
	struct vfio_device_feature_dma_logging_report rep = {
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.bitmap = (uintptr_t)bitmap,
	};

	return feature(fx->vdev, F_REPORT, &rep, sizeof(rep));
}

/* The first 64 bits of a REPORT into a zeroed bitmap; ~0 when the REPORT fails. */
static uint64_t report64(struct fixture *fx, uint64_t iova, uint64_t length, uint64_t page_size)
{
	uint64_t bm[2] = { 0, 0 };

	if (report(fx, iova, length, page_size, bm))
		return ~(uint64_t)0;
	return bm[0];
}

/* A device write of @len bytes at @iova. */
static int dma_write(struct fixture *fx, uint64_t iova, size_t len)
{
	uint8_t buf[3 * 4096];

	memset(buf, 0x5a, sizeof(buf));
	return vfio_dma_rw(fx->vdev, iova, buf, len, true);
}

static int dma_read(struct fixture *fx, uint64_t iova, size_t len)
{
	uint8_t buf[3 * 4096];

	return vfio_dma_rw(fx->vdev, iova, buf, len, false);
}

#define B(i) ((uint64_t)1 << (i))

/* ---- START ---- */

TEST(start_validates_each_rule)
{
	lrange two[2], many[VFIO_DIRTY_MAX_RANGES + 1];
	struct vfio_device_feature_dma_logging_control ctl;
	struct fixture fx;
	uint64_t ps;

	REQUIRE(fixture_setup(&fx, "dirty-start", false, NPAGES));
	/* page_size: a power of two */
	CHECK_EQ(start(&fx, 0, BASE, PS), -EINVAL);
	CHECK_EQ(start(&fx, 3 * PS, BASE, 3 * PS), -EINVAL);
	CHECK_EQ(start(&fx, PS + 1, BASE, PS), -EINVAL);
	/* num_ranges: 1 to VFIO_DIRTY_MAX_RANGES (the kernel: 0 is -EINVAL, too many -E2BIG) */
	CHECK_EQ(start_ranges(&fx, PS, two, 0, NULL), -EINVAL);
	for (unsigned int i = 0; i < VFIO_DIRTY_MAX_RANGES + 1; i++)
		many[i] = (lrange){ .iova = 2 * i * PS, .length = PS };
	CHECK_EQ(start_ranges(&fx, PS, many, VFIO_DIRTY_MAX_RANGES + 1, NULL), -E2BIG);
	/* no array */
	CHECK_EQ(start_ranges(&fx, PS, NULL, 1, NULL), -EFAULT);
	/* an empty range */
	CHECK_EQ(start(&fx, PS, BASE, 0), -EINVAL);
	/* ranges aligned to page_size */
	CHECK_EQ(start(&fx, PS, BASE + 8, PS), -EINVAL);
	CHECK_EQ(start(&fx, PS, BASE, PS + 512), -EINVAL);
	CHECK_EQ(start(&fx, 4 * PS, BASE + PS, 4 * PS), -EINVAL);
	/* overlapping, also when not sorted */
	two[0] = (lrange){ .iova = BASE + 2 * PS, .length = 2 * PS };
	two[1] = (lrange){ .iova = BASE, .length = 3 * PS };
	CHECK_EQ(start_ranges(&fx, PS, two, 2, NULL), -EINVAL);
	two[1] = (lrange){ .iova = BASE + 2 * PS, .length = PS };
	CHECK_EQ(start_ranges(&fx, PS, two, 2, NULL), -EINVAL);
	/* past the end of the IOVA space (the kernel's -EOVERFLOW), also ending just at 2^64 */
	CHECK_EQ(start(&fx, PS, UINT64_MAX - PS + 1, 2 * PS), -EOVERFLOW);
	CHECK_EQ(start(&fx, PS, UINT64_MAX - PS + 1, PS), -EOVERFLOW);
	/* bitmaps beyond VFIO_DIRTY_MAX_BITMAP_BYTES: -E2BIG, a bigger page size fits */
	CHECK_EQ(start(&fx, PS, 0, VFIO_DIRTY_MAX_BITMAP_BYTES * 8 * PS + PS), -E2BIG);
	two[0] = (lrange){ .iova = 0, .length = VFIO_DIRTY_MAX_BITMAP_BYTES * 4 * PS };
	two[1] = (lrange){ .iova = 1ULL << 62, .length = VFIO_DIRTY_MAX_BITMAP_BYTES * 4 * PS + PS };
	CHECK_EQ(start_ranges(&fx, PS, two, 2, NULL), -E2BIG);
	/* argsz too small for the control structure; GET is not START's */
	ctl = (struct vfio_device_feature_dma_logging_control){ .page_size = PS, .num_ranges = 1,
								 .ranges = (uintptr_t)two };
	CHECK_EQ(feature_sz(fx.vdev, F_START, &ctl, sizeof(ctl),
			    sizeof(struct vfio_device_feature) + sizeof(ctl) - 1),
		 -EINVAL);
	CHECK_EQ(feature(fx.vdev, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			 &ctl, sizeof(ctl)),
		 -EINVAL);
	/* nothing above started logging */
	CHECK_EQ(report64(&fx, BASE, PS, PS), ~(uint64_t)0);

	/* the limits themselves are fine */
	CHECK_EQ(start_ranges(&fx, PS, many, VFIO_DIRTY_MAX_RANGES, NULL), 0);
	CHECK_EQ(stop(&fx), 0);
	CHECK_EQ(start(&fx, PS, 0, VFIO_DIRTY_MAX_BITMAP_BYTES * 8 * PS), 0);
	CHECK_EQ(stop(&fx), 0);
	CHECK_EQ(start(&fx, 2 * PS, 0, VFIO_DIRTY_MAX_BITMAP_BYTES * 8 * PS + 2 * PS), 0);
	CHECK_EQ(stop(&fx), 0);
	/* adjacent ranges do not overlap */
	two[0] = (lrange){ .iova = BASE + PS, .length = PS };
	two[1] = (lrange){ .iova = BASE, .length = PS };
	CHECK_EQ(start_ranges(&fx, PS, two, 2, NULL), 0);
	CHECK_EQ(stop(&fx), 0);
	/* a range may end at the last page below 2^64 */
	CHECK_EQ(start(&fx, PS, UINT64_MAX - 2 * PS + 1, PS), 0);
	CHECK_EQ(stop(&fx), 0);

	/* the page size chosen is written back: at least PAGE_SIZE, else the one asked for */
	CHECK_EQ(start_ranges(&fx, 512, &(lrange){ .iova = BASE + 512, .length = 1024 }, 1, &ps), 0);
	CHECK_EQ(ps, PS);
	CHECK_EQ(stop(&fx), 0);
	CHECK_EQ(start_ranges(&fx, 16 * PS, &(lrange){ .iova = BASE, .length = 16 * PS }, 1, &ps),
		 0);
	CHECK_EQ(ps, 16 * PS);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

TEST(start_needs_a_dma_space)
{
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-nospace", false, 1));
	vfio_device_close(fx.vdev);
	fx.open = false;
	REQUIRE_EQ(vfio_device_open(fx.vdev, NULL), 0);
	fx.open = true;
	CHECK_EQ(start(&fx, PS, BASE, PS), -EINVAL);
	CHECK_EQ(report64(&fx, BASE, PS, PS), ~(uint64_t)0);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

TEST(probe)
{
	struct vfio_device_feature_dma_logging_control ctl = { 0 };
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-probe", false, NPAGES));
	CHECK_EQ(feature(fx.vdev, F_START | VFIO_DEVICE_FEATURE_PROBE, NULL, 0), 0);
	CHECK_EQ(feature(fx.vdev, F_STOP | VFIO_DEVICE_FEATURE_PROBE, NULL, 0), 0);
	CHECK_EQ(feature(fx.vdev, F_REPORT | VFIO_DEVICE_FEATURE_PROBE, NULL, 0), 0);
	CHECK_EQ(feature(fx.vdev, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			 NULL, 0),
		 0);
	/* the operations each one does not have */
	CHECK_EQ(feature(fx.vdev,
			 VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			 NULL, 0),
		 -EINVAL);
	CHECK_EQ(feature(fx.vdev,
			 VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
				 VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
			 NULL, 0),
		 -EINVAL);
	CHECK_EQ(feature(fx.vdev,
			 VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
			 NULL, 0),
		 -EINVAL);
	/* a PROBE starts nothing, and is answered while logging is on */
	CHECK_EQ(feature(fx.vdev, F_START | VFIO_DEVICE_FEATURE_PROBE, &ctl, sizeof(ctl)), 0);
	CHECK_EQ(report64(&fx, BASE, PS, PS), ~(uint64_t)0);
	CHECK_EQ(start(&fx, PS, BASE, PS), 0);
	CHECK_EQ(feature(fx.vdev, F_START | VFIO_DEVICE_FEATURE_PROBE, NULL, 0), 0);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

TEST(start_twice_is_ebusy)
{
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-busy", false, NPAGES));
	CHECK_EQ(start(&fx, PS, BASE, 4 * PS), 0);
	CHECK_EQ(start(&fx, PS, BASE, 4 * PS), -EBUSY);
	CHECK_EQ(start(&fx, PS, PAGE(8), PS), -EBUSY);
	/* the first START is still in force */
	CHECK_EQ(dma_write(&fx, PAGE(1), 1), 0);
	CHECK_EQ(report64(&fx, BASE, 4 * PS, PS), B(1));
	CHECK_EQ(stop(&fx), 0);
	CHECK_EQ(start(&fx, PS, PAGE(8), PS), 0);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

TEST(group_device_is_enotty)
{
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-group", true, NPAGES));
	CHECK_EQ(start(&fx, PS, BASE, PS), -ENOTTY);
	CHECK_EQ(feature(fx.vdev, F_START | VFIO_DEVICE_FEATURE_PROBE, NULL, 0), -ENOTTY);
	CHECK_EQ(stop(&fx), -ENOTTY);
	CHECK_EQ(report64(&fx, BASE, PS, PS), ~(uint64_t)0);
	CHECK_EQ(feature(fx.vdev, F_REPORT | VFIO_DEVICE_FEATURE_PROBE, NULL, 0), -ENOTTY);
	fixture_teardown(&fx);
}

/* ---- what is logged ---- */

TEST(rw_writes_are_logged_and_reads_not)
{
	uint8_t back[16];
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-rw", false, NPAGES));
	/* writes before START are not logged */
	CHECK_EQ(dma_write(&fx, PAGE(9), 8), 0);
	CHECK_EQ(start(&fx, PS, BASE, NPAGES * PS), 0);
	CHECK_EQ(dma_write(&fx, PAGE(3) + 100, 1), 0);
	CHECK_EQ(dma_write(&fx, PAGE(6) - 8, 16), 0); /* pages 5 and 6 */
	CHECK_EQ(dma_write(&fx, PAGE(10), 2 * PS + 1), 0); /* pages 10, 11 and 12 */
	CHECK_EQ(dma_read(&fx, PAGE(8), 64), 0);
	CHECK_EQ(dma_read(&fx, PAGE(20), 2 * PS), 0);
	CHECK_EQ(report64(&fx, BASE, 64 * PS, PS), B(3) | B(5) | B(6) | B(10) | B(11) | B(12));
	/* and the data went where it should */
	CHECK_EQ(fx.mem[3 * PS + 100], 0x5a);
	CHECK_EQ(vfio_dma_rw(fx.vdev, PAGE(6) - 8, back, 16, false), 0);
	CHECK_EQ(back[0], 0x5a);
	CHECK_EQ(back[15], 0x5a);
	CHECK_EQ(stop(&fx), 0);

	/* a write refused by a read-only mapping is not logged; the chunk before it is */
	REQUIRE_EQ(vfio_dma_map(fx.space, PAGE(NPAGES), PS, fx.fd, 0, IOMMU_READ), 0);
	CHECK_EQ(start(&fx, PS, BASE, (NPAGES + 1) * PS), 0);
	CHECK_EQ(dma_write(&fx, PAGE(NPAGES), 8), -EPERM);
	CHECK_EQ(dma_write(&fx, PAGE(NPAGES) - 8, 16), -EPERM);
	{
		uint64_t bm[2] = { 0, 0 };

		CHECK_EQ(report(&fx, BASE, (NPAGES + 1) * PS, PS, bm), 0);
		CHECK_EQ(bm[0], B(NPAGES - 1));
		CHECK_EQ(bm[1], 0);
	}
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

TEST(writes_outside_the_ranges_are_not_logged)
{
	lrange r[3] = {
		{ .iova = PAGE(8), .length = 2 * PS },
		{ .iova = PAGE(2), .length = 2 * PS },
		{ .iova = PAGE(4), .length = PS }, /* adjacent to the one before */
	};
	uint64_t bm[1];
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-outside", false, NPAGES));
	CHECK_EQ(start_ranges(&fx, PS, r, 3, NULL), 0);
	CHECK_EQ(dma_write(&fx, PAGE(0), 8), 0);
	CHECK_EQ(dma_write(&fx, PAGE(6), 8), 0);
	CHECK_EQ(dma_write(&fx, PAGE(12), 8), 0);
	/* a write across the end of a range: only its part inside is logged */
	CHECK_EQ(dma_write(&fx, PAGE(10) - 4, 8), 0);
	CHECK_EQ(dma_write(&fx, PAGE(2) - 4, 8), 0);
	CHECK_EQ(report64(&fx, PAGE(8), 2 * PS, PS), B(1));
	/* a window over two adjacent ranges */
	CHECK_EQ(report64(&fx, PAGE(2), 3 * PS, PS), B(0));
	/* windows outside, or partly outside, the ranges */
	CHECK_EQ(report(&fx, PAGE(0), PS, PS, bm), -EINVAL);
	CHECK_EQ(report(&fx, PAGE(6), PS, PS, bm), -EINVAL);
	CHECK_EQ(report(&fx, PAGE(2), 8 * PS, PS, bm), -EINVAL);
	CHECK_EQ(report(&fx, PAGE(9), 2 * PS, PS, bm), -EINVAL);
	CHECK_EQ(report(&fx, PAGE(1), 2 * PS, PS, bm), -EINVAL);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

/* Mappings without memory here reach the client through the space ops: writes are logged. */
static uint8_t remote[4 * 4096];

static int remote_rw(void *opaque, dma_addr_t iova, void *data, size_t len, bool write)
{
	uint64_t off = iova - (uint64_t)(uintptr_t)opaque;

	if (write)
		memcpy(remote + off, data, len);
	else
		memcpy(data, remote + off, len);
	return 0;
}

static const struct vfio_dma_space_ops remote_ops = { .rw = remote_rw };

TEST(writes_to_fdless_mappings_are_logged)
{
	const uint64_t at = PAGE(NPAGES + 16);
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-fdless", false, NPAGES));
	vfio_dma_space_set_ops(fx.space, &remote_ops, (void *)(uintptr_t)at);
	REQUIRE_EQ(vfio_dma_map(fx.space, at, 4 * PS, -1, 0, RW), 0);
	CHECK_EQ(start(&fx, PS, at, 4 * PS), 0);
	CHECK_EQ(dma_write(&fx, at + 2 * PS + 5, 3), 0);
	CHECK_EQ(dma_read(&fx, at, 8), 0);
	CHECK_EQ(report64(&fx, at, 4 * PS, PS), B(2));
	CHECK_EQ(remote[2 * PS + 5], 0x5a);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

/* ---- REPORT ---- */

TEST(report_clears_what_it_reports)
{
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-clear", false, NPAGES));
	CHECK_EQ(start(&fx, PS, BASE, NPAGES * PS), 0);
	CHECK_EQ(dma_write(&fx, PAGE(1), 8), 0);
	CHECK_EQ(dma_write(&fx, PAGE(40), 8), 0);
	/* a window over part of the range reports and clears that part only */
	CHECK_EQ(report64(&fx, BASE, 8 * PS, PS), B(1));
	CHECK_EQ(report64(&fx, BASE, 8 * PS, PS), 0);
	CHECK_EQ(report64(&fx, PAGE(32), 32 * PS, PS), B(8));
	CHECK_EQ(report64(&fx, PAGE(32), 32 * PS, PS), 0);
	/* written again: reported again */
	CHECK_EQ(dma_write(&fx, PAGE(1), 8), 0);
	CHECK_EQ(dma_write(&fx, PAGE(1) + 100, 8), 0);
	CHECK_EQ(report64(&fx, BASE, 8 * PS, PS), B(1));
	CHECK_EQ(report64(&fx, BASE, 8 * PS, PS), 0);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

TEST(report_only_sets_bits)
{
	uint64_t bm[4];
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-setonly", false, NPAGES));
	CHECK_EQ(start(&fx, PS, BASE, NPAGES * PS), 0);
	CHECK_EQ(dma_write(&fx, PAGE(2), 8), 0);
	CHECK_EQ(dma_write(&fx, PAGE(63), 8), 0);
	/* bits already set stay set; words past the bitmap of 64 pages are not touched */
	bm[0] = B(0) | B(5);
	bm[1] = 0x1234;
	bm[2] = bm[3] = 0;
	CHECK_EQ(report(&fx, BASE, 64 * PS, PS, bm), 0);
	CHECK_EQ(bm[0], B(0) | B(2) | B(5) | B(63));
	CHECK_EQ(bm[1], 0x1234);
	/* a bitmap that is not 8-byte aligned (a transport's buffer) */
	{
		uint64_t words[3] = { 0, 0, 0 };
		uint8_t *raw = (uint8_t *)words;
		uint64_t w;

		CHECK_EQ(dma_write(&fx, PAGE(3), 8), 0);
		CHECK_EQ(report(&fx, BASE, 64 * PS, PS, (uint64_t *)(void *)(raw + 4)), 0);
		memcpy(&w, raw + 4, sizeof(w));
		CHECK_EQ(w, B(3));
	}
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

TEST(report_at_a_bigger_page_size)
{
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-bigger", false, NPAGES));
	CHECK_EQ(start(&fx, PS, BASE, NPAGES * PS), 0);
	CHECK_EQ(dma_write(&fx, PAGE(1), 8), 0);
	CHECK_EQ(dma_write(&fx, PAGE(2), 8), 0);
	CHECK_EQ(dma_write(&fx, PAGE(9), 8), 0);
	CHECK_EQ(dma_write(&fx, PAGE(63), 8), 0);
	/* 16 KiB units: pages 0-3 -> bit 0, 8-11 -> bit 2, 60-63 -> bit 15 */
	CHECK_EQ(report64(&fx, BASE, NPAGES * PS, 4 * PS), B(0) | B(2) | B(15));
	CHECK_EQ(report64(&fx, BASE, NPAGES * PS, PS), 0);
	/* a page size bigger than the whole window: one bit */
	CHECK_EQ(dma_write(&fx, PAGE(5), 8), 0);
	CHECK_EQ(report64(&fx, PAGE(4), 4 * PS, 1ULL << 40), B(0));
	CHECK_EQ(report64(&fx, BASE, NPAGES * PS, PS), 0);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

TEST(report_at_a_smaller_page_size_replicates)
{
	struct fixture fx;
	uint64_t ps;

	REQUIRE(fixture_setup(&fx, "dirty-smaller", false, NPAGES));
	/* tracking at 16 KiB (4 pages) */
	CHECK_EQ(start_ranges(&fx, 4 * PS, &(lrange){ .iova = BASE, .length = 32 * PS }, 1, &ps), 0);
	CHECK_EQ(ps, 4 * PS);
	CHECK_EQ(dma_write(&fx, PAGE(5) + 7, 1), 0);
	/* the unit of pages 4-7 sets its four 4 KiB bits */
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), B(4) | B(5) | B(6) | B(7));
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), 0);
	/* a window that cuts a unit: reported, but the unit stays marked for its other part */
	CHECK_EQ(dma_write(&fx, PAGE(9), 1), 0);
	CHECK_EQ(report64(&fx, PAGE(8), 2 * PS, PS), B(0) | B(1));
	CHECK_EQ(report64(&fx, PAGE(10), 2 * PS, PS), B(0) | B(1));
	/* a window covering the unit clears it */
	CHECK_EQ(report64(&fx, PAGE(8), 4 * PS, PS), B(0) | B(1) | B(2) | B(3));
	CHECK_EQ(report64(&fx, PAGE(8), 4 * PS, PS), 0);
	/* a window that does not start on a page: bit i covers [iova + i*ps, iova + (i+1)*ps) */
	CHECK_EQ(dma_write(&fx, PAGE(16), 1), 0);
	CHECK_EQ(report64(&fx, PAGE(16) - PS / 2, 4 * PS, PS), B(0) | B(1) | B(2) | B(3));
	/* pages 16-19 were only partly inside that window: still marked */
	CHECK_EQ(report64(&fx, PAGE(16), 4 * PS, PS), B(0) | B(1) | B(2) | B(3));
	CHECK_EQ(report64(&fx, PAGE(16), 4 * PS, PS), 0);
	CHECK_EQ(stop(&fx), 0);

	/* ranges smaller than PAGE_SIZE: tracked by page, reported within the range */
	CHECK_EQ(start_ranges(&fx, 512, &(lrange){ .iova = PAGE(2) + 1024, .length = 1024 }, 1, &ps),
		 0);
	CHECK_EQ(ps, PS);
	CHECK_EQ(dma_write(&fx, PAGE(2), 1024), 0); /* before the range */
	CHECK_EQ(report64(&fx, PAGE(2) + 1024, 1024, PS), 0);
	CHECK_EQ(dma_write(&fx, PAGE(2) + 1500, 1), 0);
	CHECK_EQ(report64(&fx, PAGE(2) + 1024, 1024, PS), B(0));
	CHECK_EQ(report64(&fx, PAGE(2) + 1024, 1024, PS), 0);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

TEST(report_argument_errors)
{
	struct vfio_device_feature_dma_logging_report rep = { 0 };
	uint64_t bm[2] = { 0, 0 };
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-reperr", false, NPAGES));
	/* logging off */
	CHECK_EQ(report(&fx, BASE, PS, PS, bm), -EINVAL);
	CHECK_EQ(start(&fx, PS, BASE, NPAGES * PS), 0);
	CHECK_EQ(report(&fx, BASE, PS, PS, bm), 0);
	/* page size: a power of two, at least PAGE_SIZE (the kernel's 4 KiB) */
	CHECK_EQ(report(&fx, BASE, PS, 0, bm), -EINVAL);
	CHECK_EQ(report(&fx, BASE, PS, 3 * PS, bm), -EINVAL);
	CHECK_EQ(report(&fx, BASE, PS, PS / 2, bm), -EINVAL);
	/* an empty window; one that wraps (the kernel's -EOVERFLOW) */
	CHECK_EQ(report(&fx, BASE, 0, PS, bm), -EINVAL);
	CHECK_EQ(report(&fx, BASE, UINT64_MAX, PS, bm), -EOVERFLOW);
	CHECK_EQ(report(&fx, UINT64_MAX - PS + 1, PS, PS, bm), -EOVERFLOW);
	/* outside the logged range */
	CHECK_EQ(report(&fx, BASE - PS, PS, PS, bm), -EINVAL);
	CHECK_EQ(report(&fx, BASE, (NPAGES + 1) * PS, PS, bm), -EINVAL);
	/* no bitmap */
	CHECK_EQ(report(&fx, BASE, PS, PS, NULL), -EFAULT);
	/* SET is not REPORT's; argsz too small */
	rep = (struct vfio_device_feature_dma_logging_report){ .iova = BASE, .length = PS,
							       .page_size = PS,
							       .bitmap = (uintptr_t)bm };
	CHECK_EQ(feature(fx.vdev,
			 VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &rep,
			 sizeof(rep)),
		 -EINVAL);
	CHECK_EQ(feature_sz(fx.vdev, F_REPORT, &rep, sizeof(rep),
			    sizeof(struct vfio_device_feature) + sizeof(rep) - 8),
		 -EINVAL);
	CHECK_EQ(bm[0], 0);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

/* ---- pins ---- */

TEST(pages_pinned_for_writing_are_always_reported)
{
	struct page *pages[4];
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-pins", false, NPAGES));
	/* pinned for writing before START: reported while pinned */
	REQUIRE_EQ(vfio_pin_pages(fx.vdev, PAGE(20), 1, RW, pages), 1);
	CHECK_EQ(start(&fx, PS, BASE, 32 * PS), 0);
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), B(20));
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), B(20));

	/* pinned during logging: for writing (2 pages), and for reading */
	REQUIRE_EQ(vfio_pin_pages(fx.vdev, PAGE(4), 2, IOMMU_WRITE, pages), 2);
	REQUIRE_EQ(vfio_pin_pages(fx.vdev, PAGE(8), 1, IOMMU_READ, pages), 1);
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), B(4) | B(5) | B(20));
	/* the device writes through its pin without telling anyone: still reported */
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), B(4) | B(5) | B(20));
	/* a window over part of the pinned pages */
	CHECK_EQ(report64(&fx, PAGE(5), PS, PS), B(0));
	/* a page pinned for reading that is then pinned for writing counts as written */
	REQUIRE_EQ(vfio_pin_pages(fx.vdev, PAGE(8), 1, IOMMU_WRITE, pages), 1);
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), B(4) | B(5) | B(8) | B(20));
	vfio_unpin_pages(fx.vdev, PAGE(8), 1);
	vfio_unpin_pages(fx.vdev, PAGE(8), 1);

	/* dropping a write pin counts as a write: reported once more, then no longer */
	vfio_unpin_pages(fx.vdev, PAGE(4), 2);
	vfio_unpin_pages(fx.vdev, PAGE(20), 1);
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), B(4) | B(5) | B(8) | B(20));
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), 0);

	/* a read pin is never reported */
	REQUIRE_EQ(vfio_pin_pages(fx.vdev, PAGE(9), 1, IOMMU_READ, pages), 1);
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), 0);
	vfio_unpin_pages(fx.vdev, PAGE(9), 1);
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), 0);

	/* a write pin outside the logged range is not logged */
	REQUIRE_EQ(vfio_pin_pages(fx.vdev, PAGE(40), 1, RW, pages), 1);
	vfio_unpin_pages(fx.vdev, PAGE(40), 1);
	CHECK_EQ(report64(&fx, BASE, 32 * PS, PS), 0);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

/* ---- STOP and close ---- */

TEST(stop_ends_logging)
{
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-stop", false, NPAGES));
	/* STOP while off is fine (as the kernel's drivers) */
	CHECK_EQ(stop(&fx), 0);
	CHECK_EQ(start(&fx, PS, BASE, 8 * PS), 0);
	CHECK_EQ(dma_write(&fx, PAGE(1), 8), 0);
	CHECK_EQ(stop(&fx), 0);
	CHECK_EQ(report64(&fx, BASE, 8 * PS, PS), ~(uint64_t)0);
	CHECK_EQ(stop(&fx), 0);
	/* writes while off, and marks of the earlier session, are gone */
	CHECK_EQ(dma_write(&fx, PAGE(2), 8), 0);
	CHECK_EQ(start(&fx, PS, BASE, 8 * PS), 0);
	CHECK_EQ(report64(&fx, BASE, 8 * PS, PS), 0);
	/* STOP takes SET only; argsz may be just the header */
	CHECK_EQ(feature(fx.vdev, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
			 NULL, 0),
		 -EINVAL);
	CHECK_EQ(report64(&fx, BASE, 8 * PS, PS), 0);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

TEST(last_close_ends_logging)
{
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "dirty-close", false, NPAGES));
	CHECK_EQ(start(&fx, PS, BASE, 8 * PS), 0);
	CHECK_EQ(dma_write(&fx, PAGE(1), 8), 0);
	/* a second open of the same client: its close is not the last */
	REQUIRE_EQ(vfio_device_open(fx.vdev, fx.space), 0);
	vfio_device_close(fx.vdev);
	CHECK_EQ(report64(&fx, BASE, 8 * PS, PS), B(1));
	/* the last close */
	vfio_device_close(fx.vdev);
	fx.open = false;
	REQUIRE_EQ(vfio_device_open(fx.vdev, fx.space), 0);
	fx.open = true;
	CHECK_EQ(report64(&fx, BASE, 8 * PS, PS), ~(uint64_t)0);
	CHECK_EQ(dma_write(&fx, PAGE(2), 8), 0);
	/* a new START, not -EBUSY, and nothing from before */
	CHECK_EQ(start(&fx, PS, BASE, 8 * PS), 0);
	CHECK_EQ(report64(&fx, BASE, 8 * PS, PS), 0);
	/* and closed while logging with a page still pinned for writing: nothing leaks */
	{
		struct page *pages[1];

		REQUIRE_EQ(vfio_pin_pages(fx.vdev, PAGE(3), 1, RW, pages), 1);
	}
	fixture_teardown(&fx);
}

/* ---- threads ---- */

#define NWRITERS 4
#define WRITER_PAGES 128
#define REPORT_PAGES (NWRITERS * WRITER_PAGES)

struct race {
	struct fixture *fx;
	atomic_bool writers_done;
	atomic_int errors;
	unsigned int counts[REPORT_PAGES]; /* reporter only, then the test */
	unsigned int reports;
};

struct writer {
	struct race *race;
	int id;
};

/* Each writer writes each of its pages exactly once, in an order of its own. */
static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	struct race *race = w->race;
	uint8_t buf[64];

	memset(buf, w->id + 1, sizeof(buf));
	for (unsigned int i = 0; i < WRITER_PAGES; i++) {
		/* pages id, id + NWRITERS, ...: the writers interleave in every bitmap word */
		unsigned int k = (i * 37) % WRITER_PAGES;
		uint64_t page = (uint64_t)k * NWRITERS + (uint64_t)w->id;
		uint64_t off = (k * 64) % (PS - sizeof(buf));

		if (vfio_dma_rw(race->fx->vdev, PAGE(page) + off, buf, sizeof(buf), true))
			atomic_fetch_add(&race->errors, 1);
	}
	return NULL;
}

static int report_count(struct race *race)
{
	uint64_t bm[REPORT_PAGES / 64];

	memset(bm, 0, sizeof(bm));
	if (report(race->fx, BASE, REPORT_PAGES * PS, PS, bm))
		return -1;
	for (unsigned int i = 0; i < REPORT_PAGES; i++)
		if (bm[i / 64] & B(i % 64))
			race->counts[i]++;
	race->reports++;
	return 0;
}

static void *reporter_thread(void *arg)
{
	struct race *race = arg;

	while (!atomic_load(&race->writers_done)) {
		if (report_count(race))
			atomic_fetch_add(&race->errors, 1);
	}
	return NULL;
}

TEST(threaded_writers_and_a_reporter_count_every_page_once)
{
	struct writer writers[NWRITERS];
	pthread_t wt[NWRITERS], rt;
	struct race race = { 0 };
	struct fixture fx;
	unsigned int total = 0, nw = 0;
	bool reporter = false;

	REQUIRE(fixture_setup(&fx, "dirty-race", false, REPORT_PAGES));
	race.fx = &fx;
	REQUIRE_EQ(start(&fx, PS, BASE, REPORT_PAGES * PS), 0);
	if (!pthread_create(&rt, NULL, reporter_thread, &race))
		reporter = true;
	CHECK(reporter);
	for (int i = 0; i < NWRITERS; i++) {
		writers[i] = (struct writer){ .race = &race, .id = i };
		if (pthread_create(&wt[i], NULL, writer_thread, &writers[i]))
			break;
		nw++;
	}
	CHECK_EQ(nw, NWRITERS);
	for (unsigned int i = 0; i < nw; i++)
		pthread_join(wt[i], NULL);
	atomic_store(&race.writers_done, true);
	if (reporter)
		pthread_join(rt, NULL);
	/* what the reporter has not seen yet */
	CHECK_EQ(report_count(&race), 0);
	CHECK_EQ(atomic_load(&race.errors), 0);
	for (unsigned int i = 0; i < REPORT_PAGES; i++) {
		total += race.counts[i];
		if (race.counts[i] != 1)
			tap_diag("page %u reported %u times", i, race.counts[i]);
	}
	CHECK_EQ(total, nw * WRITER_PAGES);
	/* and nothing is left */
	CHECK_EQ(report_count(&race), 0);
	total = 0;
	for (unsigned int i = 0; i < REPORT_PAGES; i++)
		total += race.counts[i];
	CHECK_EQ(total, nw * WRITER_PAGES);
	tap_diag("%u reports", race.reports);
	CHECK_EQ(stop(&fx), 0);
	fixture_teardown(&fx);
}

#define CHURN_ROUNDS 200

#define NCHURN 3

struct churn {
	struct fixture *fx;
	atomic_bool done;
	atomic_int errors;
};

struct churner {
	struct churn *c;
	unsigned int id;
};

/* Writes (its own pages) and pins for writing until told to stop, whatever the logging
 * state. */
static void *churn_dma_thread(void *arg)
{
	struct churner *me = arg;
	struct churn *c = me->c;
	struct page *pages[2];
	uint8_t buf[128];
	unsigned int r = 0;

	memset(buf, 0x11, sizeof(buf));
	while (!atomic_load(&c->done)) {
		uint64_t page = me->id * 10 + r++ % 9;

		if (vfio_dma_rw(c->fx->vdev, PAGE(page) + 8, buf, sizeof(buf), true))
			atomic_fetch_add(&c->errors, 1);
		if (vfio_pin_pages(c->fx->vdev, PAGE(page), 2, RW, pages) != 2)
			atomic_fetch_add(&c->errors, 1);
		else
			vfio_unpin_pages(c->fx->vdev, PAGE(page), 2);
	}
	return NULL;
}

TEST(threaded_start_stop_under_writes_and_pins)
{
	struct churner churners[NCHURN];
	pthread_t threads[NCHURN];
	struct churn c = { 0 };
	struct fixture fx;
	unsigned int n = 0;

	REQUIRE(fixture_setup(&fx, "dirty-churn", false, 32));
	c.fx = &fx;
	for (unsigned int i = 0; i < NCHURN; i++) {
		churners[i] = (struct churner){ .c = &c, .id = i };
		if (pthread_create(&threads[i], NULL, churn_dma_thread, &churners[i]))
			break;
		n++;
	}
	CHECK_EQ(n, NCHURN);
	for (int round = 0; round < CHURN_ROUNDS; round++) {
		uint64_t bm[1] = { 0 };

		if (!CHECK_EQ(start(&fx, round % 2 ? 2 * PS : PS, BASE, 32 * PS), 0))
			break;
		CHECK_EQ(report(&fx, BASE, 32 * PS, PS, bm), 0);
		CHECK_EQ(report(&fx, PAGE(3), 5 * PS, 4 * PS, bm), 0);
		CHECK_EQ(stop(&fx), 0);
	}
	atomic_store(&c.done, true);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	CHECK_EQ(atomic_load(&c.errors), 0);
	/* and a close with logging on while nobody writes */
	CHECK_EQ(start(&fx, PS, BASE, 32 * PS), 0);
	fixture_teardown(&fx);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
