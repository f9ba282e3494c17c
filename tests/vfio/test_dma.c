/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of a client's DMA address space and the translation API (src/vfio/dma_space.c,
 * dma_pin.c, dma_rw.c; spec section 4): vfio_dma_map/unmap and their limits,
 * vfio_pin_pages/vfio_unpin_pages (host addresses of the client's memfd, all or nothing,
 * counted pins), vfio_dma_rw (spanning mappings, access rights, partial progress, mappings
 * without an fd through the space ops), the dma_unmap contract (an unmap of pinned pages
 * asks the pinning devices to unpin and completes only when they have), and a concurrent
 * mix of DMA calls with map/unmap churn for ThreadSanitizer.
 *
 * Guest memory is a memfd; the test reads and writes it through its own mapping of the
 * memfd to see what the device did. The test device (struct tdev) keeps the list of the pins
 * it holds, so that its dma_unmap op can release those in the range, as a driver must.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
#define MAX_HELD 64
#define MAX_UNMAPS 64

/* What dma_unmap does with the pins it is asked to release. */
enum unmap_mode {
	UNMAP_UNPIN,	/* unpin every held pin in the range, inside the callback */
	UNMAP_RECORD,	/* only record the call (the test or another thread unpins) */
	UNMAP_SIGNAL,	/* record and wake the thread waiting in wait_unmap_call() */
};

/* A pin the test device holds. */
struct held_pin {
	dma_addr_t iova; /* page aligned */
	int npage;
};

struct tdev {
	struct vfio_device vdev;

	pthread_mutex_t lock; /* guards the fields below but the atomics */
	pthread_cond_t cond;  /* broadcast on every dma_unmap call */
	enum unmap_mode mode;
	struct held_pin held[MAX_HELD];
	int nheld;
	int unmap_calls;
	dma_addr_t unmap_iova[MAX_UNMAPS];
	uint64_t unmap_len[MAX_UNMAPS];
	atomic_int unmap_calls_atomic; /* for the concurrency test */
};

/* A device with its struct device and, once opened, the space it is open with. */
struct fixture {
	struct device dev;
	struct tdev *t;
	struct vfio_device *vdev;
	bool open;
};

static struct tdev *to_tdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct tdev, vdev);
}

static int t_init(struct vfio_device *vdev)
{
	struct tdev *t = to_tdev(vdev);

	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	return 0;
}

static void t_release(struct vfio_device *vdev)
{
	struct tdev *t = to_tdev(vdev);

	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
}

static void t_dma_unmap(struct vfio_device *vdev, uint64_t iova, uint64_t length)
{
	struct tdev *t = to_tdev(vdev);
	struct held_pin unpin[MAX_HELD];
	int n = 0;

	atomic_fetch_add(&t->unmap_calls_atomic, 1);
	pthread_mutex_lock(&t->lock);
	if (t->unmap_calls < MAX_UNMAPS) {
		t->unmap_iova[t->unmap_calls] = iova;
		t->unmap_len[t->unmap_calls] = length;
	}
	t->unmap_calls++;
	if (t->mode == UNMAP_UNPIN) {
		for (int i = 0; i < t->nheld;) {
			struct held_pin *h = &t->held[i];

			if (h->iova >= iova && h->iova - iova < length) {
				unpin[n++] = *h;
				*h = t->held[--t->nheld];
			} else {
				i++;
			}
		}
	}
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	/* the driver unpins from inside the callback, as the kernel allows */
	for (int i = 0; i < n; i++)
		vfio_unpin_pages(vdev, unpin[i].iova, unpin[i].npage);
}

static const struct vfio_device_ops dma_ops = {
	.name = "test-dma",
	.init = t_init,
	.release = t_release,
	.dma_unmap = t_dma_unmap,
};

static const struct vfio_device_ops no_unmap_ops = {
	.name = "test-dma-no-unmap",
	.init = t_init,
	.release = t_release,
};

/* Allocates and registers a device (emulated IOMMU unless @group) and opens it with @space
 * unless @space is NULL. */
static bool fixture_setup(struct fixture *fx, const char *name,
			  const struct vfio_device_ops *ops, bool group,
			  struct vfio_dma_space *space)
{
	memset(fx, 0, sizeof(*fx));
	device_initialize(&fx->dev);
	dev_set_name(&fx->dev, "%s", name);
	fx->t = vfio_alloc_device(tdev, vdev, &fx->dev, ops);
	if (IS_ERR(fx->t)) {
		fx->t = NULL;
		return false;
	}
	fx->vdev = &fx->t->vdev;
	if (group ? vfio_register_group_dev(fx->vdev) :
		    vfio_register_emulated_iommu_dev(fx->vdev))
		return false;
	if (space) {
		if (vfio_device_open(fx->vdev, space))
			return false;
		fx->open = true;
	}
	return true;
}

static void fixture_close(struct fixture *fx)
{
	if (fx->open) {
		vfio_device_close(fx->vdev);
		fx->open = false;
	}
}

static void fixture_teardown(struct fixture *fx)
{
	fixture_close(fx);
	if (fx->t) {
		vfio_unregister_group_dev(fx->vdev);
		vfio_put_device(fx->vdev);
	}
	put_device(&fx->dev);
}

/* Pins through the device and records the pin for its dma_unmap. */
static int pin(struct fixture *fx, dma_addr_t iova, int npage, int prot, struct page **pages)
{
	struct tdev *t = fx->t;
	int ret = vfio_pin_pages(fx->vdev, iova, npage, prot, pages);

	if (ret > 0) {
		pthread_mutex_lock(&t->lock);
		if (t->nheld < MAX_HELD)
			t->held[t->nheld++] = (struct held_pin){ iova & PAGE_MASK, npage };
		pthread_mutex_unlock(&t->lock);
	}
	return ret;
}

/* Unpins one recorded pin of @iova (the first recorded). */
static void unpin(struct fixture *fx, dma_addr_t iova, int npage)
{
	struct tdev *t = fx->t;

	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->nheld; i++) {
		if (t->held[i].iova == (iova & PAGE_MASK) && t->held[i].npage == npage) {
			t->held[i] = t->held[--t->nheld];
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	vfio_unpin_pages(fx->vdev, iova, npage);
}

static int unmap_calls(struct fixture *fx)
{
	int n;

	pthread_mutex_lock(&fx->t->lock);
	n = fx->t->unmap_calls;
	pthread_mutex_unlock(&fx->t->lock);
	return n;
}

static void set_mode(struct fixture *fx, enum unmap_mode mode)
{
	pthread_mutex_lock(&fx->t->lock);
	fx->t->mode = mode;
	pthread_mutex_unlock(&fx->t->lock);
}

/* ---- guest memory ---- */

/* A memfd of @size bytes; -1 on failure. */
static int memfd_new(uint64_t size)
{
	int fd = memfd_create("umdev-dma-test", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The test's own view of a memfd: what the guest sees. NULL on failure. */
static uint8_t *memfd_view(int fd, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A memfd with its view; g->fd -1 on failure. */
struct guest {
	int fd;
	uint8_t *mem;
	uint64_t size;
};

static bool guest_new(struct guest *g, uint64_t size)
{
	g->size = size;
	g->mem = NULL;
	g->fd = memfd_new(size);
	if (g->fd < 0)
		return false;
	g->mem = memfd_view(g->fd, size);
	if (!g->mem) {
		close(g->fd);
		g->fd = -1;
		return false;
	}
	return true;
}

static void guest_free(struct guest *g)
{
	if (g->mem)
		munmap(g->mem, g->size);
	if (g->fd >= 0)
		close(g->fd);
	g->mem = NULL;
	g->fd = -1;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* ---- map ---- */

TEST(map_rejects_bad_arguments)
{
	struct vfio_dma_space *space;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 4 * PS));
	CHECK_EQ(vfio_dma_map(space, 0x10000, 0, g.fd, 0, RW), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0x10000 + 0x800, PS, g.fd, 0, RW), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0x10000, PS + 1, g.fd, 0, RW), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0x10000, PS / 2, g.fd, 0, RW), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0x10000, PS, g.fd, 0x200, RW), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0x10000, PS, g.fd, 0, 0), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0x10000, PS, g.fd, 0, 4), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0x10000, PS, g.fd, 0, RW | 8), -EINVAL);
	/* overflowing the IOVA space */
	CHECK_EQ(vfio_dma_map(space, UINT64_MAX - PS + 1, 2 * PS, -1, 0, RW), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 2 * PS, UINT64_MAX - PS + 1, -1, 0, RW), -EINVAL);
	/* overflowing the file offset */
	CHECK_EQ(vfio_dma_map(space, 0x10000, PS, g.fd, UINT64_MAX - PS + 1, RW), -EINVAL);
	CHECK_EQ(vfio_dma_space_count(space), 0);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

/*
 * A mapping may end at the very top of the IOVA space (iova + size == 2^64): it must be found
 * like any other, for overlaps, unmaps and DMA.
 */
TEST(map_at_the_top_of_the_iova_space)
{
	const dma_addr_t top = UINT64_MAX - PS + 1;
	struct vfio_dma_space *space;
	struct page *pages[1];
	struct fixture fx;
	struct guest g;
	uint8_t byte = 0;
	int64_t ret;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, PS));
	REQUIRE(fixture_setup(&fx, "dma-top", &dma_ops, false, space));
	memset(g.mem, 0x66, g.size);
	REQUIRE_EQ(vfio_dma_map(space, top, PS, g.fd, 0, RW), 0);
	CHECK_EQ(vfio_dma_map(space, top, PS, -1, 0, RW), -EEXIST);
	CHECK_EQ(vfio_dma_map(space, top - PS, 2 * PS, -1, 0, RW), -EEXIST);
	CHECK_EQ(vfio_dma_space_count(space), 1);
	CHECK_EQ(vfio_dma_rw(fx.vdev, UINT64_MAX, &byte, 1, false), 0);
	CHECK_EQ(byte, 0x66);
	ret = vfio_pin_pages(fx.vdev, top, 1, IOMMU_READ, pages);
	CHECK_EQ(ret, 1);
	if (ret == 1)
		vfio_unpin_pages(fx.vdev, top, 1);
	CHECK_EQ(vfio_dma_unmap(space, top, PS), (int64_t)PS);
	CHECK_EQ(vfio_dma_space_count(space), 0);
	/* the same for a larger mapping that ends there */
	REQUIRE_EQ(vfio_dma_map(space, top - 3 * PS, 4 * PS, -1, 0, RW), 0);
	CHECK_EQ(vfio_dma_map(space, top, PS, -1, 0, RW), -EEXIST);
	CHECK_EQ(vfio_dma_map(space, top - PS, PS, -1, 0, RW), -EEXIST);
	CHECK_EQ(vfio_dma_unmap(space, top - 3 * PS, 4 * PS), (int64_t)(4 * PS));
	CHECK_EQ(vfio_dma_unmap_all(space), 0);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(map_rejects_fds_that_cannot_be_mapped)
{
	struct vfio_dma_space *space;
	int pipefd[2], efd;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE_EQ(pipe(pipefd), 0);
	efd = eventfd(0, EFD_CLOEXEC);
	CHECK(efd >= 0);
	CHECK_EQ(vfio_dma_map(space, 0, PS, pipefd[0], 0, IOMMU_READ), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0, PS, pipefd[1], 0, IOMMU_READ), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0, PS, efd, 0, RW), -EINVAL);
	/* a closed fd: fstat's error */
	CHECK_EQ(vfio_dma_map(space, 0, PS, 1000000, 0, RW), -EBADF);
	CHECK_EQ(vfio_dma_space_count(space), 0);
	close(efd);
	close(pipefd[0]);
	close(pipefd[1]);
	vfio_dma_space_destroy(space);
}

TEST(map_rejects_a_range_past_the_end_of_the_file)
{
	struct vfio_dma_space *space;
	int fd;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	fd = memfd_new(2 * PS);
	REQUIRE(fd >= 0);
	CHECK_EQ(vfio_dma_map(space, 0, 3 * PS, fd, 0, RW), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0, PS, fd, 2 * PS, RW), -EINVAL);
	CHECK_EQ(vfio_dma_map(space, 0, 2 * PS, fd, PS, RW), -EINVAL);
	CHECK_EQ(vfio_dma_space_count(space), 0);
	CHECK_EQ(vfio_dma_map(space, 0, PS, fd, PS, RW), 0);
	CHECK_EQ(vfio_dma_map(space, PS, 2 * PS, fd, 0, RW), 0);
	CHECK_EQ(vfio_dma_space_count(space), 2);
	/* the space keeps its own mapping: the fd may go */
	close(fd);
	CHECK_EQ(vfio_dma_unmap_all(space), (int64_t)(3 * PS));
	vfio_dma_space_destroy(space);
}

TEST(map_readonly_fd_for_writing_is_eacces)
{
	struct vfio_dma_space *space;
	char path[64];
	int fd, ro;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	fd = memfd_new(PS);
	REQUIRE(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(ro >= 0);
	CHECK_EQ(vfio_dma_map(space, 0, PS, ro, 0, RW), -EACCES);
	CHECK_EQ(vfio_dma_map(space, 0, PS, ro, 0, IOMMU_WRITE), -EACCES);
	CHECK_EQ(vfio_dma_space_count(space), 0);
	CHECK_EQ(vfio_dma_map(space, 0, PS, ro, 0, IOMMU_READ), 0);
	CHECK_EQ(vfio_dma_space_count(space), 1);
	close(ro);
	close(fd);
	vfio_dma_space_destroy(space);
}

TEST(map_overlap_is_eexist)
{
	static const struct {
		dma_addr_t iova;
		uint64_t size;
	} overlaps[] = {
		{ 0x10000, 4 * PS },	   /* the same */
		{ 0x11000, PS },	   /* inside */
		{ 0x0f000, 2 * PS },	   /* over its start */
		{ 0x13000, 2 * PS },	   /* over its end */
		{ 0x0f000, 8 * PS },	   /* around it */
		{ 0x00000, 0x20000 },	   /* around it and its neighbours */
	};
	struct vfio_dma_space *space;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 32 * PS));
	REQUIRE_EQ(vfio_dma_map(space, 0x10000, 4 * PS, g.fd, 0, RW), 0);
	for (size_t i = 0; i < sizeof(overlaps) / sizeof(overlaps[0]); i++) {
		dma_addr_t iova = overlaps[i].iova;
		uint64_t size = overlaps[i].size;

		CHECK_EQ(vfio_dma_map(space, iova, size, -1, 0, RW), -EEXIST);
		CHECK_EQ(vfio_dma_map(space, iova, size, g.fd, 0, RW), -EEXIST);
	}
	CHECK_EQ(vfio_dma_space_count(space), 1);
	/* adjacent on both sides is fine */
	CHECK_EQ(vfio_dma_map(space, 0x0f000, PS, g.fd, 0, RW), 0);
	CHECK_EQ(vfio_dma_map(space, 0x14000, PS, g.fd, PS, RW), 0);
	CHECK_EQ(vfio_dma_space_count(space), 3);
	CHECK_EQ(vfio_dma_unmap_all(space), (int64_t)(6 * PS));
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(map_limit_is_enospc)
{
	struct vfio_dma_space *space;
	int failures = 0;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	for (uint64_t i = 0; i < VFIO_DMA_MAX_MAPPINGS; i++)
		if (vfio_dma_map(space, i * 2 * PS, PS, -1, 0, RW))
			failures++;
	CHECK_EQ(failures, 0);
	CHECK_EQ(vfio_dma_space_count(space), VFIO_DMA_MAX_MAPPINGS);
	CHECK_EQ(vfio_dma_map(space, (uint64_t)VFIO_DMA_MAX_MAPPINGS * 2 * PS, PS, -1, 0, RW),
		 -ENOSPC);
	CHECK_EQ(vfio_dma_map(space, PS, PS, -1, 0, RW), -ENOSPC);
	/* an overlap is still reported as such */
	CHECK_EQ(vfio_dma_map(space, 0, PS, -1, 0, RW), -EEXIST);
	/* one out, one in */
	CHECK_EQ(vfio_dma_unmap(space, 0, PS), (int64_t)PS);
	CHECK_EQ(vfio_dma_map(space, PS, PS, -1, 0, RW), 0);
	CHECK_EQ(vfio_dma_unmap_all(space), (int64_t)VFIO_DMA_MAX_MAPPINGS * (int64_t)PS);
	CHECK_EQ(vfio_dma_space_count(space), 0);
	vfio_dma_space_destroy(space);
}

/* ---- unmap ---- */

TEST(unmap_exact_and_covering_ranges)
{
	struct vfio_dma_space *space;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 8 * PS));
	REQUIRE_EQ(vfio_dma_map(space, 0x10000, 2 * PS, g.fd, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x20000, PS, g.fd, 2 * PS, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x21000, 3 * PS, -1, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x30000, PS, g.fd, 0, IOMMU_READ), 0);
	/* exact */
	CHECK_EQ(vfio_dma_unmap(space, 0x10000, 2 * PS), (int64_t)(2 * PS));
	CHECK_EQ(vfio_dma_space_count(space), 3);
	/* a range that covers two mappings and the holes around them */
	CHECK_EQ(vfio_dma_unmap(space, 0x18000, 0x10000), (int64_t)(4 * PS));
	CHECK_EQ(vfio_dma_space_count(space), 1);
	/* and one that covers everything */
	CHECK_EQ(vfio_dma_unmap(space, 0, UINT64_MAX), (int64_t)PS);
	CHECK_EQ(vfio_dma_space_count(space), 0);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(unmap_errors)
{
	struct vfio_dma_space *space;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	CHECK_EQ(vfio_dma_unmap(space, 0x10000, PS), -ENOENT);
	REQUIRE_EQ(vfio_dma_map(space, 0x10000, 4 * PS, -1, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x20000, PS, -1, 0, RW), 0);
	/* nothing there */
	CHECK_EQ(vfio_dma_unmap(space, 0x0, 0x10000), -ENOENT);
	CHECK_EQ(vfio_dma_unmap(space, 0x14000, 0xc000), -ENOENT);
	CHECK_EQ(vfio_dma_unmap(space, 0x21000, PS), -ENOENT);
	/* straddling: mappings go whole */
	CHECK_EQ(vfio_dma_unmap(space, 0x10000, PS), -EINVAL);
	CHECK_EQ(vfio_dma_unmap(space, 0x11000, 3 * PS), -EINVAL);
	CHECK_EQ(vfio_dma_unmap(space, 0x0f000, 2 * PS), -EINVAL);
	CHECK_EQ(vfio_dma_unmap(space, 0x13000, 0xe000), -EINVAL);
	/* size 0 and overflow */
	CHECK_EQ(vfio_dma_unmap(space, 0x10000, 0), -EINVAL);
	CHECK_EQ(vfio_dma_unmap(space, 0x10000, UINT64_MAX), -EINVAL);
	/* none of them removed anything */
	CHECK_EQ(vfio_dma_space_count(space), 2);
	CHECK_EQ(vfio_dma_unmap_all(space), (int64_t)(5 * PS));
	vfio_dma_space_destroy(space);
}

TEST(unmap_all_counts_bytes)
{
	struct vfio_dma_space *space;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 16 * PS));
	CHECK_EQ(vfio_dma_unmap_all(space), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x100000, 16 * PS, g.fd, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x0, PS, -1, 0, IOMMU_READ), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x40000000, 0x100000, -1, 0, IOMMU_WRITE), 0);
	CHECK_EQ(vfio_dma_unmap_all(space), (int64_t)(17 * PS + 0x100000));
	CHECK_EQ(vfio_dma_space_count(space), 0);
	CHECK_EQ(vfio_dma_unmap_all(space), 0);
	/* destroying a space with mappings unmaps them */
	REQUIRE_EQ(vfio_dma_map(space, 0x100000, 16 * PS, g.fd, 0, RW), 0);
	guest_free(&g);
	vfio_dma_space_destroy(space);
	vfio_dma_space_destroy(NULL);
}

/* ---- vfio_pin_pages ---- */

TEST(pin_returns_host_addresses_of_the_memfd)
{
	const dma_addr_t iova = 0x100000;
	struct vfio_dma_space *space;
	struct page *pages[4];
	struct fixture fx;
	struct guest g;
	uint8_t *view;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 8 * PS));
	/* map pages 2..5 of the memfd */
	REQUIRE_EQ(vfio_dma_map(space, iova, 4 * PS, g.fd, 2 * PS, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-pin-host", &dma_ops, false, space));
	memset(g.mem, 0, g.size);
	g.mem[3 * PS + 5] = 0xa5;

	CHECK_EQ(pin(&fx, iova, 4, RW, pages), 4);
	for (int i = 0; i < 4; i++) {
		CHECK(pages[i] != NULL);
		CHECK(((uintptr_t)page_address(pages[i]) & (PS - 1)) == 0);
		memset(page_address(pages[i]), 0x10 + i, PS);
	}
	/* what the device wrote is in the memfd (a fresh view to be sure) */
	view = memfd_view(g.fd, g.size);
	CHECK(view != NULL);
	if (view) {
		CHECK(all_bytes(view, 2 * PS, 0));
		for (int i = 0; i < 4; i++)
			CHECK(all_bytes(view + (2 + i) * PS, PS, 0x10 + i));
		CHECK(all_bytes(view + 6 * PS, 2 * PS, 0));
		/* and what the guest writes, the device reads */
		view[4 * PS + 7] = 0x77;
		CHECK_EQ(((uint8_t *)page_address(pages[2]))[7], 0x77);
		munmap(view, g.size);
	}
	unpin(&fx, iova, 4);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(pin_sub_page_iova)
{
	const dma_addr_t iova = 0x200000;
	struct vfio_dma_space *space;
	struct page *pages[2];
	struct fixture fx;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 2 * PS));
	REQUIRE_EQ(vfio_dma_map(space, iova, 2 * PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-pin-subpage", &dma_ops, false, space));
	memset(g.mem, 0, g.size);

	/* the page holding iova + 0x123, and the next */
	CHECK_EQ(vfio_pin_pages(fx.vdev, iova + 0x123, 2, IOMMU_WRITE, pages), 2);
	CHECK(((uintptr_t)page_address(pages[0]) & (PS - 1)) == 0);
	((uint8_t *)page_address(pages[0]))[0x123] = 0x42;
	((uint8_t *)page_address(pages[1]))[0xfff] = 0x43;
	CHECK_EQ(g.mem[0x123], 0x42);
	CHECK_EQ(g.mem[2 * PS - 1], 0x43);
	/* the pins are those of the two pages: unpinning by any address in them works */
	vfio_unpin_pages(fx.vdev, iova + 0x456, 2);
	CHECK_EQ(vfio_dma_unmap(space, iova, 2 * PS), (int64_t)(2 * PS));
	CHECK_EQ(unmap_calls(&fx), 0);

	/* a sub-page iova in the last page of a mapping pins just that page */
	REQUIRE_EQ(vfio_dma_map(space, iova, PS, g.fd, 0, RW), 0);
	CHECK_EQ(vfio_pin_pages(fx.vdev, iova + PS - 1, 1, IOMMU_READ, pages), 1);
	CHECK(page_address(pages[0]) != NULL);
	vfio_unpin_pages(fx.vdev, iova, 1);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(pin_einval_cases)
{
	const dma_addr_t iova = 0x100000;
	struct vfio_dma_space *space;
	struct fixture fx, closed, nounmap, group;
	struct page *pages[4];
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 4 * PS));
	REQUIRE_EQ(vfio_dma_map(space, iova, 2 * PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-pin-einval", &dma_ops, false, space));
	REQUIRE(fixture_setup(&closed, "dma-pin-einval-closed", &dma_ops, false, NULL));
	REQUIRE(fixture_setup(&nounmap, "dma-pin-einval-nounmap", &no_unmap_ops, false, space));
	REQUIRE(fixture_setup(&group, "dma-pin-einval-group", &dma_ops, true, space));

	CHECK_EQ(vfio_pin_pages(fx.vdev, iova, 1, IOMMU_READ, NULL), -EINVAL);
	CHECK_EQ(vfio_pin_pages(fx.vdev, iova, 0, IOMMU_READ, pages), -EINVAL);
	CHECK_EQ(vfio_pin_pages(fx.vdev, iova, -1, IOMMU_READ, pages), -EINVAL);
	CHECK_EQ(vfio_pin_pages(fx.vdev, iova, 1, 0, pages), -EINVAL);
	CHECK_EQ(vfio_pin_pages(fx.vdev, iova, 1, 4, pages), -EINVAL);
	CHECK_EQ(vfio_pin_pages(NULL, iova, 1, IOMMU_READ, pages), -EINVAL);
	/* not mapped: before, after, and overflowing the IOVA space */
	CHECK_EQ(vfio_pin_pages(fx.vdev, iova - PS, 1, IOMMU_READ, pages), -EINVAL);
	CHECK_EQ(vfio_pin_pages(fx.vdev, iova + 2 * PS, 1, IOMMU_READ, pages), -EINVAL);
	CHECK_EQ(vfio_pin_pages(fx.vdev, UINT64_MAX - PS + 1, 2, IOMMU_READ, pages), -EINVAL);
	/* a device that is not open, one without dma_unmap, one not emulated-IOMMU */
	CHECK_EQ(vfio_pin_pages(closed.vdev, iova, 1, IOMMU_READ, pages), -EINVAL);
	CHECK_EQ(vfio_pin_pages(nounmap.vdev, iova, 1, IOMMU_READ, pages), -EINVAL);
	CHECK_EQ(vfio_pin_pages(group.vdev, iova, 1, IOMMU_READ, pages), -EINVAL);
	/* none of them pinned anything: the unmap asks nobody */
	CHECK_EQ(vfio_dma_unmap(space, iova, 2 * PS), (int64_t)(2 * PS));
	CHECK_EQ(unmap_calls(&fx) + unmap_calls(&closed) + unmap_calls(&group), 0);
	fixture_teardown(&group);
	fixture_teardown(&nounmap);
	fixture_teardown(&closed);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(pin_more_than_512_pages_is_e2big)
{
	const dma_addr_t iova = 0x10000000;
	const int max = VFIO_PIN_PAGES_MAX_ENTRIES;
	struct vfio_dma_space *space;
	struct page **pages;
	struct fixture fx;
	struct guest g;

	CHECK_EQ(VFIO_PIN_PAGES_MAX_ENTRIES, 512);
	pages = calloc(max + 1, sizeof(*pages));
	REQUIRE(pages);
	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, (uint64_t)(max + 1) * PS));
	REQUIRE_EQ(vfio_dma_map(space, iova, (uint64_t)(max + 1) * PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-pin-e2big", &dma_ops, false, space));
	CHECK_EQ(vfio_pin_pages(fx.vdev, iova, max + 1, IOMMU_READ, pages), -E2BIG);
	CHECK_EQ(vfio_pin_pages(fx.vdev, iova, max, IOMMU_READ, pages), max);
	for (int i = 0; i < max; i++)
		if (!CHECK((uint8_t *)page_address(pages[i]) ==
			   (uint8_t *)page_address(pages[0]) + (size_t)i * PS))
			break;
	vfio_unpin_pages(fx.vdev, iova, max);
	CHECK_EQ(vfio_dma_unmap_all(space), (int64_t)(max + 1) * (int64_t)PS);
	CHECK_EQ(unmap_calls(&fx), 0);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
	free(pages);
}

TEST(pin_access_rights_and_fdless_mappings)
{
	struct vfio_dma_space *space;
	struct page *pages[2];
	struct fixture fx;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 2 * PS));
	REQUIRE_EQ(vfio_dma_map(space, 0x10000, PS, g.fd, 0, IOMMU_READ), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x20000, PS, g.fd, PS, IOMMU_WRITE), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x30000, PS, -1, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-pin-perm", &dma_ops, false, space));

	CHECK_EQ(vfio_pin_pages(fx.vdev, 0x10000, 1, IOMMU_WRITE, pages), -EPERM);
	CHECK_EQ(vfio_pin_pages(fx.vdev, 0x10000, 1, RW, pages), -EPERM);
	CHECK_EQ(vfio_pin_pages(fx.vdev, 0x20000, 1, IOMMU_READ, pages), -EPERM);
	CHECK_EQ(vfio_pin_pages(fx.vdev, 0x30000, 1, IOMMU_READ, pages), -EFAULT);
	CHECK_EQ(vfio_pin_pages(fx.vdev, 0x30000, 1, RW, pages), -EFAULT);
	CHECK_EQ(vfio_pin_pages(fx.vdev, 0x10000, 1, IOMMU_READ, pages), 1);
	vfio_unpin_pages(fx.vdev, 0x10000, 1);
	CHECK_EQ(vfio_pin_pages(fx.vdev, 0x20000, 1, IOMMU_WRITE, pages), 1);
	vfio_unpin_pages(fx.vdev, 0x20000, 1);
	CHECK_EQ(vfio_dma_unmap_all(space), (int64_t)(3 * PS));
	CHECK_EQ(unmap_calls(&fx), 0);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(pin_is_all_or_nothing)
{
	struct vfio_dma_space *space;
	struct page *pages[4];
	struct fixture fx;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 4 * PS));
	/* [0x10000, 0x12000) RW, [0x12000, 0x13000) read-only, nothing at 0x13000 */
	REQUIRE_EQ(vfio_dma_map(space, 0x10000, 2 * PS, g.fd, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x12000, PS, g.fd, 2 * PS, IOMMU_READ), 0);
	REQUIRE(fixture_setup(&fx, "dma-pin-all-or-nothing", &dma_ops, false, space));

	/* the last page is not mapped */
	memset(pages, 0xff, sizeof(pages));
	CHECK_EQ(vfio_pin_pages(fx.vdev, 0x10000, 4, IOMMU_READ, pages), -EINVAL);
	for (int i = 0; i < 4; i++)
		CHECK(pages[i] == NULL);
	/* the last page lacks the access */
	memset(pages, 0xff, sizeof(pages));
	CHECK_EQ(vfio_pin_pages(fx.vdev, 0x10000, 3, RW, pages), -EPERM);
	for (int i = 0; i < 3; i++)
		CHECK(pages[i] == NULL);
	/* nothing stayed pinned: the unmap asks nobody */
	CHECK_EQ(vfio_dma_unmap(space, 0x10000, 3 * PS), (int64_t)(3 * PS));
	CHECK_EQ(unmap_calls(&fx), 0);

	/* pins across two adjacent mappings */
	REQUIRE_EQ(vfio_dma_map(space, 0x10000, PS, g.fd, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x11000, PS, g.fd, 3 * PS, RW), 0);
	CHECK_EQ(vfio_pin_pages(fx.vdev, 0x10000, 2, RW, pages), 2);
	memset(page_address(pages[0]), 1, PS);
	memset(page_address(pages[1]), 2, PS);
	CHECK(all_bytes(g.mem, PS, 1));
	CHECK(all_bytes(g.mem + 3 * PS, PS, 2));
	vfio_unpin_pages(fx.vdev, 0x10000, 2);
	CHECK_EQ(vfio_dma_unmap_all(space), (int64_t)(2 * PS));
	CHECK_EQ(unmap_calls(&fx), 0);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(pins_are_counted)
{
	const dma_addr_t iova = 0x40000;
	struct vfio_dma_space *space;
	struct page *pages[2];
	struct fixture fx;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 4 * PS));
	REQUIRE_EQ(vfio_dma_map(space, iova, 4 * PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-pin-counted", &dma_ops, false, space));
	set_mode(&fx, UNMAP_UNPIN);

	/* pinned twice, unpinned once: still pinned, so the unmap must ask the device */
	CHECK_EQ(pin(&fx, iova + PS, 1, IOMMU_READ, pages), 1);
	CHECK_EQ(pin(&fx, iova + PS, 1, IOMMU_READ, pages), 1);
	unpin(&fx, iova + PS, 1);
	CHECK_EQ(vfio_dma_unmap(space, iova, 4 * PS), (int64_t)(4 * PS));
	CHECK_EQ(unmap_calls(&fx), 1);
	CHECK_EQ(fx.t->unmap_iova[0], iova);
	CHECK_EQ(fx.t->unmap_len[0], 4 * PS);
	CHECK_EQ(fx.t->nheld, 0);

	/* pinned twice, unpinned twice: the unmap asks nobody */
	REQUIRE_EQ(vfio_dma_map(space, iova, 4 * PS, g.fd, 0, RW), 0);
	CHECK_EQ(pin(&fx, iova, 1, IOMMU_READ, pages), 1);
	CHECK_EQ(pin(&fx, iova, 1, IOMMU_WRITE, pages), 1);
	unpin(&fx, iova, 1);
	unpin(&fx, iova, 1);
	CHECK_EQ(vfio_dma_unmap(space, iova, 4 * PS), (int64_t)(4 * PS));
	CHECK_EQ(unmap_calls(&fx), 1);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(unpin_ignores_pages_not_pinned)
{
	const dma_addr_t iova = 0x40000;
	struct vfio_dma_space *space;
	struct page *pages[1];
	struct fixture fx;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 4 * PS));
	REQUIRE_EQ(vfio_dma_map(space, iova, 4 * PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-unpin-ignored", &dma_ops, false, space));
	set_mode(&fx, UNMAP_UNPIN);

	/* never pinned, not mapped, bad counts */
	vfio_unpin_pages(fx.vdev, iova, 4);
	vfio_unpin_pages(fx.vdev, 0x900000, 2);
	vfio_unpin_pages(fx.vdev, iova, 0);
	vfio_unpin_pages(fx.vdev, iova, -3);
	vfio_unpin_pages(fx.vdev, iova, VFIO_PIN_PAGES_MAX_ENTRIES + 1);
	vfio_unpin_pages(NULL, iova, 1);
	/* a range of which only the second page is pinned releases that page once */
	CHECK_EQ(pin(&fx, iova + PS, 1, IOMMU_READ, pages), 1);
	CHECK_EQ(pin(&fx, iova + PS, 1, IOMMU_READ, pages), 1);
	vfio_unpin_pages(fx.vdev, iova, 3);
	/* one pin left: the unmap asks the device, which releases it */
	CHECK_EQ(vfio_dma_unmap(space, iova, 4 * PS), (int64_t)(4 * PS));
	CHECK_EQ(unmap_calls(&fx), 1);

	/* after all pins are gone, more unpins change nothing */
	REQUIRE_EQ(vfio_dma_map(space, iova, 4 * PS, g.fd, 0, RW), 0);
	CHECK_EQ(pin(&fx, iova, 1, IOMMU_READ, pages), 1);
	unpin(&fx, iova, 1);
	vfio_unpin_pages(fx.vdev, iova, 1);
	CHECK_EQ(vfio_dma_unmap(space, iova, 4 * PS), (int64_t)(4 * PS));
	CHECK_EQ(unmap_calls(&fx), 1);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

/* ---- vfio_dma_rw ---- */

TEST(rw_reads_and_writes_guest_memory)
{
	const dma_addr_t iova = 0x100000;
	struct vfio_dma_space *space;
	uint8_t buf[3 * 4096];
	struct fixture fx;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 4 * PS));
	REQUIRE_EQ(vfio_dma_map(space, iova, 4 * PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-rw", &dma_ops, false, space));
	for (size_t i = 0; i < g.size; i++)
		g.mem[i] = (uint8_t)(i * 7);

	CHECK_EQ(vfio_dma_rw(fx.vdev, iova + 0x10, buf, 100, false), 0);
	for (size_t i = 0; i < 100; i++)
		if (!CHECK_EQ(buf[i], (uint8_t)((i + 0x10) * 7)))
			break;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	/* unaligned and crossing pages */
	CHECK_EQ(vfio_dma_rw(fx.vdev, iova + 0x801, buf, sizeof(buf), true), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		if (!CHECK_EQ(g.mem[0x801 + i], (uint8_t)(i ^ 0x5a)))
			break;
	CHECK_EQ(g.mem[0x800], (uint8_t)(0x800 * 7));
	CHECK_EQ(g.mem[0x801 + sizeof(buf)], (uint8_t)((0x801 + sizeof(buf)) * 7));
	/* the whole mapping, up to its last byte */
	CHECK_EQ(vfio_dma_rw(fx.vdev, iova + 4 * PS - 1, buf, 1, false), 0);
	CHECK_EQ(buf[0], g.mem[4 * PS - 1]);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(rw_spans_adjacent_mappings)
{
	struct vfio_dma_space *space;
	uint8_t buf[2 * 4096], back[2 * 4096];
	struct guest a, b;
	struct fixture fx;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&a, 2 * PS));
	REQUIRE(guest_new(&b, 2 * PS));
	/* [0x10000, 0x12000) from a, [0x12000, 0x13000) from page 1 of b, then page 0 of b */
	REQUIRE_EQ(vfio_dma_map(space, 0x10000, 2 * PS, a.fd, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x12000, PS, b.fd, PS, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x13000, PS, b.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-rw-span", &dma_ops, false, space));
	memset(a.mem, 0, a.size);
	memset(b.mem, 0, b.size);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i % 251);

	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x11800, buf, sizeof(buf), true), 0);
	for (size_t i = 0; i < sizeof(buf); i++) {
		dma_addr_t at = 0x11800 + i;
		uint8_t got = at < 0x12000 ? a.mem[at - 0x10000] :
			      at < 0x13000 ? b.mem[PS + (at - 0x12000)] : b.mem[at - 0x13000];

		if (!CHECK_EQ(got, buf[i]))
			break;
	}
	CHECK(all_bytes(a.mem, 0x1800, 0));
	CHECK(all_bytes(b.mem + 0x800, PS - 0x800, 0));
	memset(back, 0, sizeof(back));
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x11800, back, sizeof(back), false), 0);
	CHECK(!memcmp(back, buf, sizeof(buf)));
	fixture_teardown(&fx);
	guest_free(&a);
	guest_free(&b);
	vfio_dma_space_destroy(space);
}

TEST(rw_einval_cases)
{
	const dma_addr_t iova = 0x10000;
	struct vfio_dma_space *space;
	struct fixture fx, closed;
	uint8_t buf[16];
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, PS));
	REQUIRE_EQ(vfio_dma_map(space, iova, PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-rw-einval", &dma_ops, false, space));
	REQUIRE(fixture_setup(&closed, "dma-rw-einval-closed", &dma_ops, false, NULL));

	CHECK_EQ(vfio_dma_rw(fx.vdev, iova, NULL, 4, false), -EINVAL);
	CHECK_EQ(vfio_dma_rw(fx.vdev, iova, NULL, 4, true), -EINVAL);
	CHECK_EQ(vfio_dma_rw(fx.vdev, iova, buf, 0, false), -EINVAL);
	CHECK_EQ(vfio_dma_rw(fx.vdev, iova - 16, buf, 16, false), -EINVAL);
	CHECK_EQ(vfio_dma_rw(fx.vdev, iova + PS, buf, 1, true), -EINVAL);
	CHECK_EQ(vfio_dma_rw(fx.vdev, UINT64_MAX - 3, buf, 16, false), -EINVAL);
	CHECK_EQ(vfio_dma_rw(closed.vdev, iova, buf, 16, false), -EINVAL);
	CHECK_EQ(vfio_dma_rw(NULL, iova, buf, 16, false), -EINVAL);
	/* the device open without DMA space */
	fixture_close(&fx);
	CHECK_EQ(vfio_device_open(fx.vdev, NULL), 0);
	CHECK_EQ(vfio_dma_rw(fx.vdev, iova, buf, 16, false), -EINVAL);
	vfio_device_close(fx.vdev);
	fixture_teardown(&closed);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(rw_eperm_and_partial_progress)
{
	struct vfio_dma_space *space;
	uint8_t buf[2 * 4096];
	struct fixture fx;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 4 * PS));
	REQUIRE_EQ(vfio_dma_map(space, 0x10000, PS, g.fd, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x11000, PS, g.fd, PS, IOMMU_READ), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x12000, PS, g.fd, 2 * PS, IOMMU_WRITE), 0);
	REQUIRE(fixture_setup(&fx, "dma-rw-eperm", &dma_ops, false, space));
	memset(g.mem, 0, g.size);
	memset(buf, 0xab, sizeof(buf));

	/* write to read-only, read from write-only */
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x11000, buf, 16, true), -EPERM);
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x12000, buf, 16, false), -EPERM);
	CHECK(all_bytes(g.mem, g.size, 0));
	/* the other directions work */
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x12000, buf, 16, true), 0);
	CHECK(all_bytes(g.mem + 2 * PS, 16, 0xab));
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x11000, buf, 16, false), 0);
	CHECK(all_bytes(buf, 16, 0));

	/* a write over RW then RO: the first chunk is written, then -EPERM */
	memset(g.mem, 0, g.size);
	memset(buf, 0xcd, sizeof(buf));
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x10800, buf, PS, true), -EPERM);
	CHECK(all_bytes(g.mem, 0x800, 0));
	CHECK(all_bytes(g.mem + 0x800, 0x800, 0xcd));
	CHECK(all_bytes(g.mem + PS, PS, 0));
	/* a read over RO then WO: the first chunk is read, then -EPERM */
	memset(g.mem + PS, 0x11, PS);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x11000, buf, 2 * PS, false), -EPERM);
	CHECK(all_bytes(buf, PS, 0x11));
	/* a write that runs off the end of the mapped space: first chunk written, -EINVAL */
	memset(g.mem, 0, g.size);
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x12f00, buf, 0x200, true), -EINVAL);
	CHECK(all_bytes(g.mem + 2 * PS + 0xf00, 0x100, 0x11));
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

/* The space ops of the fd-less mappings: a 16 KiB "remote" memory at IOVA 0x80000. */
struct remote {
	uint8_t mem[4 * 4096];
	int calls;
	dma_addr_t last_iova;
	size_t last_len;
	bool last_write;
	int fail;
};

static int remote_rw(void *opaque, dma_addr_t iova, void *data, size_t len, bool write)
{
	struct remote *r = opaque;

	r->calls++;
	r->last_iova = iova;
	r->last_len = len;
	r->last_write = write;
	if (r->fail)
		return r->fail;
	if (iova < 0x80000 || iova - 0x80000 + len > sizeof(r->mem))
		return -EFAULT;
	if (write)
		memcpy(r->mem + (iova - 0x80000), data, len);
	else
		memcpy(data, r->mem + (iova - 0x80000), len);
	return 0;
}

static const struct vfio_dma_space_ops remote_ops = { .rw = remote_rw };

TEST(rw_fdless_mappings_go_through_the_space_ops)
{
	struct vfio_dma_space *space;
	struct remote *r = calloc(1, sizeof(*r));
	uint8_t buf[4096];
	struct fixture fx;
	struct guest g;

	REQUIRE(r);
	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, PS));
	/* [0x7f000, 0x80000) in a memfd, [0x80000, 0x84000) remote, read-only at 0x84000 */
	REQUIRE_EQ(vfio_dma_map(space, 0x7f000, PS, g.fd, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x80000, 4 * PS, -1, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x84000, PS, -1, 0, IOMMU_READ), 0);
	REQUIRE(fixture_setup(&fx, "dma-rw-fdless", &dma_ops, false, space));
	memset(g.mem, 0, g.size);

	/* without ops: -EFAULT */
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x80000, buf, 16, false), -EFAULT);
	/* ... after the memfd part of a spanning write */
	memset(buf, 0x99, sizeof(buf));
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x7ff00, buf, 0x200, true), -EFAULT);
	CHECK(all_bytes(g.mem + 0xf00, 0x100, 0x99));

	vfio_dma_space_set_ops(space, &remote_ops, r);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 3);
	/* a write that spans the memfd and the remote mapping is split at the boundary */
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x7fc00, buf, 0x800, true), 0);
	CHECK_EQ(r->calls, 1);
	CHECK_EQ(r->last_iova, 0x80000);
	CHECK_EQ(r->last_len, 0x400);
	CHECK(r->last_write);
	CHECK(!memcmp(g.mem + 0xc00, buf, 0x400));
	CHECK(!memcmp(r->mem, buf + 0x400, 0x400));
	/* and read back */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x7fc00, buf, 0x800, false), 0);
	CHECK_EQ(r->calls, 2);
	CHECK(!r->last_write);
	for (size_t i = 0; i < 0x800; i++)
		if (!CHECK_EQ(buf[i], (uint8_t)(i * 3)))
			break;
	/* the space still checks access rights before asking the ops */
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x84000, buf, 16, true), -EPERM);
	CHECK_EQ(r->calls, 2);
	/* the ops' error is returned */
	r->fail = -EIO;
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x80000, buf, 16, false), -EIO);
	CHECK_EQ(r->calls, 3);
	/* and without ops again: -EFAULT */
	vfio_dma_space_set_ops(space, NULL, NULL);
	CHECK_EQ(vfio_dma_rw(fx.vdev, 0x80000, buf, 16, false), -EFAULT);
	CHECK_EQ(r->calls, 3);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
	free(r);
}

/* ---- the dma_unmap contract ---- */

TEST(unmap_asks_only_the_devices_with_pins_there)
{
	struct vfio_dma_space *space;
	struct fixture a, b, c;
	struct page *pages[2];
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 8 * PS));
	REQUIRE_EQ(vfio_dma_map(space, 0x100000, 4 * PS, g.fd, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x200000, 4 * PS, g.fd, 4 * PS, RW), 0);
	REQUIRE(fixture_setup(&a, "dma-unmap-a", &dma_ops, false, space));
	REQUIRE(fixture_setup(&b, "dma-unmap-b", &dma_ops, false, space));
	REQUIRE(fixture_setup(&c, "dma-unmap-c", &dma_ops, false, space));
	set_mode(&a, UNMAP_UNPIN);
	set_mode(&b, UNMAP_UNPIN);
	set_mode(&c, UNMAP_UNPIN);

	/* a pins in the middle of the first mapping, b in the second, c nowhere */
	CHECK_EQ(pin(&a, 0x102000, 2, IOMMU_READ, pages), 2);
	CHECK_EQ(pin(&b, 0x201000, 1, IOMMU_WRITE, pages), 1);
	CHECK_EQ(vfio_dma_unmap(space, 0x100000, 4 * PS), (int64_t)(4 * PS));
	/* a is told about the whole mapping */
	CHECK_EQ(unmap_calls(&a), 1);
	CHECK_EQ(a.t->unmap_iova[0], 0x100000);
	CHECK_EQ(a.t->unmap_len[0], 4 * PS);
	CHECK_EQ(a.t->nheld, 0);
	CHECK_EQ(unmap_calls(&b), 0);
	CHECK_EQ(unmap_calls(&c), 0);
	CHECK_EQ(vfio_dma_space_count(space), 1);

	/* unmap_all asks b about its mapping */
	CHECK_EQ(vfio_dma_unmap_all(space), (int64_t)(4 * PS));
	CHECK_EQ(unmap_calls(&b), 1);
	CHECK_EQ(b.t->unmap_iova[0], 0x200000);
	CHECK_EQ(b.t->unmap_len[0], 4 * PS);
	CHECK_EQ(unmap_calls(&a), 1);
	CHECK_EQ(unmap_calls(&c), 0);

	/* a range covering two mappings, both pinned by a: one call per mapping */
	REQUIRE_EQ(vfio_dma_map(space, 0x100000, 2 * PS, g.fd, 0, RW), 0);
	REQUIRE_EQ(vfio_dma_map(space, 0x102000, 2 * PS, g.fd, 2 * PS, RW), 0);
	CHECK_EQ(pin(&a, 0x101000, 1, IOMMU_READ, pages), 1);
	CHECK_EQ(pin(&a, 0x103000, 1, IOMMU_READ, pages), 1);
	CHECK_EQ(vfio_dma_unmap(space, 0x100000, 4 * PS), (int64_t)(4 * PS));
	CHECK_EQ(unmap_calls(&a), 3);
	CHECK_EQ(a.t->unmap_iova[1], 0x100000);
	CHECK_EQ(a.t->unmap_len[1], 2 * PS);
	CHECK_EQ(a.t->unmap_iova[2], 0x102000);
	CHECK_EQ(a.t->unmap_len[2], 2 * PS);
	CHECK_EQ(a.t->nheld, 0);
	fixture_teardown(&c);
	fixture_teardown(&b);
	fixture_teardown(&a);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

/* The thread that holds a pin past the dma_unmap call and releases it later. */
struct late_unpin {
	struct fixture *fx;
	struct vfio_dma_space *space;
	dma_addr_t iova;
	int npage;
	uint8_t *host;		/* the pinned page */
	uint8_t pattern;
	bool data_ok;		/* the pinned memory was intact just before the unpin */
	int rw_while_dying;	/* vfio_dma_rw() of the dying mapping */
	int pin_while_dying;	/* vfio_pin_pages() of the dying mapping */
	atomic_int unpinning;	/* set just before vfio_unpin_pages() */
};

static void *late_unpin_thread(void *arg)
{
	struct late_unpin *l = arg;
	struct tdev *t = l->fx->t;
	struct page *pages[1];
	uint8_t byte;

	/* wait for the unmap's request */
	pthread_mutex_lock(&t->lock);
	while (!t->unmap_calls)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);

	/* the mapping is being unmapped: no new accesses, but the pinned memory is there */
	l->rw_while_dying = vfio_dma_rw(l->fx->vdev, l->iova, &byte, 1, false);
	l->pin_while_dying = vfio_pin_pages(l->fx->vdev, l->iova, 1, IOMMU_READ, pages);
	l->data_ok = all_bytes(l->host, (size_t)l->npage * PS, l->pattern);
	atomic_store(&l->unpinning, 1);
	unpin(l->fx, l->iova, l->npage);
	return NULL;
}

TEST(unmap_waits_for_a_later_unpin)
{
	unsigned int old_interval = vfio_get_request_interval_ms();
	struct late_unpin l = { 0 };
	struct vfio_dma_space *space;
	struct page *pages[2];
	struct fixture fx;
	pthread_t thread;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 4 * PS));
	REQUIRE_EQ(vfio_dma_map(space, 0x100000, 4 * PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-unmap-late", &dma_ops, false, space));
	set_mode(&fx, UNMAP_SIGNAL);
	vfio_set_request_interval_ms(2);

	memset(g.mem, 0x3c, g.size);
	REQUIRE_EQ(pin(&fx, 0x101000, 2, IOMMU_READ, pages), 2);
	l.fx = &fx;
	l.space = space;
	l.iova = 0x101000;
	l.npage = 2;
	l.host = page_address(pages[0]);
	l.pattern = 0x3c;
	REQUIRE_EQ(pthread_create(&thread, NULL, late_unpin_thread, &l), 0);

	CHECK_EQ(vfio_dma_unmap(space, 0x100000, 4 * PS), (int64_t)(4 * PS));
	/* the unmap returned only after the unpin had begun */
	CHECK_EQ(atomic_load(&l.unpinning), 1);
	pthread_join(thread, NULL);
	CHECK(l.data_ok);
	CHECK_EQ(l.rw_while_dying, -EINVAL);
	CHECK_EQ(l.pin_while_dying, -EINVAL);
	/* asked at least once, always about the whole mapping (again each interval) */
	CHECK(unmap_calls(&fx) >= 1);
	for (int i = 0; i < unmap_calls(&fx) && i < MAX_UNMAPS; i++) {
		CHECK_EQ(fx.t->unmap_iova[i], 0x100000);
		CHECK_EQ(fx.t->unmap_len[i], 4 * PS);
	}
	CHECK_EQ(vfio_dma_space_count(space), 0);
	vfio_set_request_interval_ms(old_interval);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

/*
 * The same with an interval longer than the test's timeout: the unpin, not the timer, must
 * end the wait (a lost wake-up hangs here until meson's timeout).
 */
TEST(unmap_is_woken_by_the_unpin)
{
	unsigned int old_interval = vfio_get_request_interval_ms();
	struct late_unpin l = { 0 };
	struct vfio_dma_space *space;
	struct page *pages[1];
	struct fixture fx;
	pthread_t thread;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, PS));
	REQUIRE_EQ(vfio_dma_map(space, 0x100000, PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-unmap-woken", &dma_ops, false, space));
	set_mode(&fx, UNMAP_SIGNAL);
	vfio_set_request_interval_ms(3600 * 1000);
	memset(g.mem, 0x71, g.size);
	REQUIRE_EQ(pin(&fx, 0x100000, 1, RW, pages), 1);
	l.fx = &fx;
	l.space = space;
	l.iova = 0x100000;
	l.npage = 1;
	l.host = page_address(pages[0]);
	l.pattern = 0x71;
	REQUIRE_EQ(pthread_create(&thread, NULL, late_unpin_thread, &l), 0);
	CHECK_EQ(vfio_dma_unmap(space, 0x100000, PS), (int64_t)PS);
	CHECK_EQ(atomic_load(&l.unpinning), 1);
	pthread_join(thread, NULL);
	CHECK(l.data_ok);
	/* one request was enough: the unpin woke the unmap before the interval ran out */
	CHECK_EQ(unmap_calls(&fx), 1);
	vfio_set_request_interval_ms(old_interval);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

TEST(pins_left_at_close_are_dropped)
{
	struct vfio_dma_space *space;
	struct page *pages[2];
	struct fixture fx;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 4 * PS));
	REQUIRE_EQ(vfio_dma_map(space, 0x100000, 4 * PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-close-pins", &dma_ops, false, space));
	set_mode(&fx, UNMAP_RECORD);

	CHECK_EQ(pin(&fx, 0x100000, 2, RW, pages), 2);
	CHECK_EQ(pin(&fx, 0x100000, 2, RW, pages), 2);
	CHECK_EQ(pin(&fx, 0x103000, 1, IOMMU_READ, pages), 1);
	fixture_close(&fx);
	/* nothing pinned, nobody bound: the unmap goes through without asking */
	CHECK_EQ(vfio_dma_unmap(space, 0x100000, 4 * PS), (int64_t)(4 * PS));
	CHECK_EQ(unmap_calls(&fx), 0);

	/* reopened, the device starts with no pins */
	REQUIRE_EQ(vfio_dma_map(space, 0x100000, 4 * PS, g.fd, 0, RW), 0);
	REQUIRE_EQ(vfio_device_open(fx.vdev, space), 0);
	fx.open = true;
	CHECK_EQ(vfio_dma_unmap(space, 0x100000, 4 * PS), (int64_t)(4 * PS));
	CHECK_EQ(unmap_calls(&fx), 0);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

/* ---- concurrency ---- */

#define NWORKERS 3
#define WORKER_PAGES 4
#define CHURN_ROUNDS 2000
#define STABLE_IOVA 0x1000000ULL
#define SHARED_IOVA (STABLE_IOVA + NWORKERS * WORKER_PAGES * PS) /* read-only content */
#define CHURN_IOVA 0x2000000ULL
#define CHURN_PAGES 2
#define SHARED_BYTE 0x5a

struct churn {
	struct fixture *fx;
	atomic_bool stop;
	atomic_int errors;
	atomic_long churn_rws;	/* successful vfio_dma_rw() of the churned mapping */
	atomic_long churn_pins;	/* successful pins of the churned mapping */
	/* the mapper waits on `cond` for the counters to move while `waiting` is set */
	atomic_bool waiting;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* Counts an access to the churned mapping and wakes the mapper if it waits for one. */
static void churn_hit(struct churn *c, atomic_long *counter)
{
	atomic_fetch_add(counter, 1);
	if (atomic_load(&c->waiting)) {
		pthread_mutex_lock(&c->lock);
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
}

/* Waits until @counter moves past @before (some worker reached the churned mapping). */
static void churn_wait(struct churn *c, atomic_long *counter, long before)
{
	atomic_store(&c->waiting, true);
	pthread_mutex_lock(&c->lock);
	while (atomic_load(counter) == before)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	atomic_store(&c->waiting, false);
}

struct worker {
	struct churn *c;
	int id;
	long rounds;
};

static void worker_error(struct churn *c, const char *what, int id, long round, int ret)
{
	if (atomic_fetch_add(&c->errors, 1) < 10)
		tap_diag("worker %d round %ld: %s (%d)", id, round, what, ret);
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	struct churn *c = w->c;
	struct vfio_device *vdev = c->fx->vdev;
	const dma_addr_t mine = STABLE_IOVA + (uint64_t)w->id * WORKER_PAGES * PS;
	uint8_t *buf = malloc(2 * PS), *back = malloc(2 * PS);
	struct page *pages[CHURN_PAGES], *own[3];
	long r;

	if (!buf || !back) {
		worker_error(c, "malloc", w->id, 0, -ENOMEM);
		goto out;
	}
	for (r = 0; !atomic_load(&c->stop); r++) {
		uint8_t v = (uint8_t)(r * NWORKERS + w->id);
		uint8_t *host;
		int ret;

		/* write and read back two pages of my own region, at an odd offset */
		memset(buf, v, 2 * PS);
		ret = vfio_dma_rw(vdev, mine + 0x321, buf, 2 * PS, true);
		if (ret)
			worker_error(c, "rw write", w->id, r, ret);
		ret = vfio_dma_rw(vdev, mine + 0x321, back, 2 * PS, false);
		if (ret || !all_bytes(back, 2 * PS, v))
			worker_error(c, "rw read back", w->id, r, ret);

		/* pin the same pages, see the data, write through the pointer, unpin */
		ret = vfio_pin_pages(vdev, mine, 3, RW, own);
		if (ret != 3) {
			worker_error(c, "pin own", w->id, r, ret);
		} else {
			host = page_address(own[0]);
			if (!all_bytes(host + 0x321, 2 * PS, v))
				worker_error(c, "pinned data", w->id, r, 0);
			memset(host + 0x321, (uint8_t)~v, 2 * PS);
			vfio_unpin_pages(vdev, mine, 3);
			ret = vfio_dma_rw(vdev, mine + 0x321, buf, 2 * PS, false);
			if (ret || !all_bytes(buf, 2 * PS, (uint8_t)~v))
				worker_error(c, "rw after pinned write", w->id, r, ret);
		}

		/* the page all workers pin for reading at once */
		ret = vfio_pin_pages(vdev, SHARED_IOVA, 1, IOMMU_READ, pages);
		if (ret != 1) {
			worker_error(c, "pin shared", w->id, r, ret);
		} else {
			if (!all_bytes(page_address(pages[0]), PS, SHARED_BYTE))
				worker_error(c, "shared data", w->id, r, 0);
			vfio_unpin_pages(vdev, SHARED_IOVA, 1);
		}

		/* the churned mapping: there or not, but never torn */
		ret = vfio_dma_rw(vdev, CHURN_IOVA + PS - 8, buf, 16, false);
		if (ret == 0) {
			churn_hit(c, &c->churn_rws);
			if (!all_bytes(buf, 16, buf[0]))
				worker_error(c, "churn rw torn", w->id, r, 0);
		} else if (ret != -EINVAL) {
			worker_error(c, "churn rw", w->id, r, ret);
		}
		ret = vfio_pin_pages(vdev, CHURN_IOVA, CHURN_PAGES, IOMMU_READ, pages);
		if (ret == CHURN_PAGES) {
			uint8_t first = ((uint8_t *)page_address(pages[0]))[0];

			churn_hit(c, &c->churn_pins);
			/* the unmap waits for this unpin, so the content cannot change meanwhile */
			for (int i = 0; i < CHURN_PAGES; i++)
				if (!all_bytes(page_address(pages[i]), PS, first))
					worker_error(c, "churn pinned data", w->id, r, 0);
			vfio_unpin_pages(vdev, CHURN_IOVA, CHURN_PAGES);
		} else if (ret != -EINVAL) {
			worker_error(c, "churn pin", w->id, r, ret);
		}
	}
	w->rounds = r;
out:
	free(buf);
	free(back);
	return NULL;
}

TEST(concurrent_dma_with_map_churn)
{
	unsigned int old_interval = vfio_get_request_interval_ms();
	const uint64_t stable_size = (NWORKERS * WORKER_PAGES + 1) * PS;
	struct worker workers[NWORKERS];
	pthread_t threads[NWORKERS];
	struct vfio_dma_space *space;
	struct churn c = { 0 };
	struct guest stable, ch;
	struct fixture fx;
	int started = 0;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&stable, stable_size));
	REQUIRE(guest_new(&ch, CHURN_PAGES * PS));
	memset(stable.mem, 0, stable.size);
	memset(stable.mem + NWORKERS * WORKER_PAGES * PS, SHARED_BYTE, PS);
	REQUIRE_EQ(vfio_dma_map(space, STABLE_IOVA, stable_size, stable.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-churn", &dma_ops, false, space));
	/* the workers unpin on their own, soon: the device only records the requests */
	set_mode(&fx, UNMAP_RECORD);
	vfio_set_request_interval_ms(1);
	c.fx = &fx;
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);

	for (int i = 0; i < NWORKERS; i++) {
		workers[i] = (struct worker){ .c = &c, .id = i };
		if (pthread_create(&threads[i], NULL, worker_thread, &workers[i]))
			break;
		started++;
	}
	CHECK_EQ(started, NWORKERS);

	for (int round = 0; round < CHURN_ROUNDS; round++) {
		uint8_t v = (uint8_t)(round * 37 + 1);
		int64_t ret;

		/* nobody can reach the churned memory now: change it, then map it */
		memset(ch.mem, v, ch.size);
		ret = vfio_dma_map(space, CHURN_IOVA, CHURN_PAGES * PS, ch.fd, 0,
				   round % 3 ? IOMMU_READ : RW);
		if (!CHECK_EQ(ret, 0))
			break;
		/* and a mapping of the stable memfd (fd-less on odd rounds) further on */
		if (!CHECK_EQ(vfio_dma_map(space, CHURN_IOVA + 0x200000, PS,
					   round % 2 ? -1 : stable.fd, 0, IOMMU_READ), 0))
			break;
		/* let the workers reach the mapping (a pin on even rounds, a copy on odd ones)
		 * before it goes: progress, not time, so that every run covers both paths */
		if (started) {
			atomic_long *seen = round % 2 ? &c.churn_rws : &c.churn_pins;

			churn_wait(&c, seen, atomic_load(seen));
		}
		/* both at once, or one by one */
		if (round % 2)
			ret = vfio_dma_unmap(space, CHURN_IOVA, 0x300000);
		else
			ret = vfio_dma_unmap(space, CHURN_IOVA, CHURN_PAGES * PS) +
			      vfio_dma_unmap(space, CHURN_IOVA + 0x100000, 0x200000);
		if (!CHECK_EQ(ret, (int64_t)(CHURN_PAGES + 1) * (int64_t)PS))
			break;
	}
	atomic_store(&c.stop, true);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);

	CHECK_EQ(atomic_load(&c.errors), 0);
	for (int i = 0; i < started; i++) {
		const uint8_t *mine = stable.mem + (size_t)i * WORKER_PAGES * PS;
		uint8_t v = (uint8_t)((workers[i].rounds - 1) * NWORKERS + i);

		CHECK(workers[i].rounds > 0);
		/* the last round left ~v in its two pages at 0x321 */
		if (workers[i].rounds > 0)
			CHECK(all_bytes(mine + 0x321, 2 * PS, (uint8_t)~v));
	}
	CHECK(all_bytes(stable.mem + NWORKERS * WORKER_PAGES * PS, PS, SHARED_BYTE));
	CHECK(atomic_load(&c.churn_rws) >= CHURN_ROUNDS / 2);
	CHECK(atomic_load(&c.churn_pins) >= CHURN_ROUNDS / 2);
	tap_diag("worker rounds %ld %ld %ld; churned mapping: %ld copies, %ld pins, "
		 "%d dma_unmap calls",
		 workers[0].rounds, workers[1].rounds, workers[2].rounds,
		 atomic_load(&c.churn_rws), atomic_load(&c.churn_pins),
		 atomic_load(&fx.t->unmap_calls_atomic));
	vfio_set_request_interval_ms(old_interval);
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
	fixture_teardown(&fx);
	guest_free(&stable);
	guest_free(&ch);
	vfio_dma_space_destroy(space);
}

/* The thread that closes the device once the unmap has asked it to unpin. */
struct closer {
	struct fixture *fx;
	atomic_int closing; /* set just before vfio_device_close() */
};

static void *closer_thread(void *arg)
{
	struct closer *cl = arg;
	struct tdev *t = cl->fx->t;

	pthread_mutex_lock(&t->lock);
	while (!t->unmap_calls)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
	atomic_store(&cl->closing, 1);
	fixture_close(cl->fx);
	return NULL;
}

/*
 * A driver that keeps its pins through dma_unmap, and the client closes the device while the
 * unmap waits: the close drops the pins, and that must end the wait at once, as an unpin
 * does. The interval is longer than the test's timeout, so a lost wake-up hangs here until
 * meson's timeout (this case is last so that the others report first).
 */
TEST(unmap_completes_when_the_pinning_device_closes)
{
	unsigned int old_interval = vfio_get_request_interval_ms();
	struct closer cl = { 0 };
	struct vfio_dma_space *space;
	struct page *pages[2];
	struct fixture fx;
	pthread_t thread;
	struct guest g;

	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	REQUIRE(guest_new(&g, 2 * PS));
	REQUIRE_EQ(vfio_dma_map(space, 0x100000, 2 * PS, g.fd, 0, RW), 0);
	REQUIRE(fixture_setup(&fx, "dma-unmap-close", &dma_ops, false, space));
	set_mode(&fx, UNMAP_SIGNAL);
	vfio_set_request_interval_ms(3600 * 1000);
	REQUIRE_EQ(pin(&fx, 0x100000, 2, RW, pages), 2);
	cl.fx = &fx;
	REQUIRE_EQ(pthread_create(&thread, NULL, closer_thread, &cl), 0);
	CHECK_EQ(vfio_dma_unmap(space, 0x100000, 2 * PS), (int64_t)(2 * PS));
	CHECK_EQ(atomic_load(&cl.closing), 1);
	pthread_join(thread, NULL);
	CHECK_EQ(unmap_calls(&fx), 1);
	CHECK(!vfio_device_is_open(fx.vdev));
	CHECK_EQ(vfio_dma_space_count(space), 0);
	vfio_set_request_interval_ms(old_interval);
	fixture_teardown(&fx);
	guest_free(&g);
	vfio_dma_space_destroy(space);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
