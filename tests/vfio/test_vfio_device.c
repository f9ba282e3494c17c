/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the vfio device life cycle and device file (src/vfio/vfio_device.c,
 * vfio_device_fd.c, vfio_feature.c, vfio_helpers.c): allocation with ops->init, references
 * and ops->release, registration and lookup by name or match op, the open/close order of
 * the driver's ops and its unwinding, unregistration of an open device with the request()
 * loop, the notifier chain, dispatch of read/write/ioctl/mmap, the core's
 * VFIO_DEVICE_FEATURE checks and the SET_IRQS / feature helpers (spec sections 1.6, 1.7, 3).
 *
 * Each test device is a struct tdev (a struct vfio_device first) whose struct device carries
 * the test's context (struct tctx) as driver data; the ops record what they are called with
 * in the context's log, "op,op,op", compared as a string.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
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

#define MAX_REQUESTS 64

/* What the ops of a test device record, and what they are told to return. */
struct tctx {
	pthread_mutex_t lock; /* guards everything below but the atomics */
	pthread_cond_t cond;  /* broadcast on every request() */
	char log[1024];

	int init_ret, bind_ret, attach_ret, open_ret;
	atomic_int inits, releases;
	struct vfio_dma_space *bound_space;

	unsigned int requests;	/* request() calls */
	unsigned int request_counts[MAX_REQUESTS];
	atomic_int closed;	/* close_device() called */

	/* read/write/ioctl/mmap/feature/match arguments */
	const void *rw_buf;
	size_t rw_count;
	uint64_t rw_pos;
	unsigned int ioctl_cmd;
	unsigned long ioctl_arg;
	struct vm_area_struct *mmap_vma;
	int feature_calls;
	uint32_t feature_flags;
	void *feature_arg;
	size_t feature_argsz;
	char match_buf[64];
	int match_calls;
};

/* The driver structure: starts with the vfio_device, as vfio_alloc_device() wants. */
struct tdev {
	struct vfio_device vdev;
	uint64_t canary; /* zeroed by the allocation */
};

static void ctx_init(struct tctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->cond, NULL);
}

static void ctx_destroy(struct tctx *ctx)
{
	pthread_cond_destroy(&ctx->cond);
	pthread_mutex_destroy(&ctx->lock);
}

static void ctx_log(struct tctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ctx_log(struct tctx *ctx, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	pthread_mutex_lock(&ctx->lock);
	len = strlen(ctx->log);
	if (len && len < sizeof(ctx->log) - 1)
		ctx->log[len++] = ',';
	va_start(ap, fmt);
	vsnprintf(ctx->log + len, sizeof(ctx->log) - len, fmt, ap);
	va_end(ap);
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
}

/* Waits until the log contains @what. */
static void ctx_wait_log(struct tctx *ctx, const char *what)
{
	pthread_mutex_lock(&ctx->lock);
	while (!strstr(ctx->log, what))
		pthread_cond_wait(&ctx->cond, &ctx->lock);
	pthread_mutex_unlock(&ctx->lock);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Returns a copy of the log and clears it. */
static const char *ctx_take_log(struct tctx *ctx)
{
	static char copy[sizeof(ctx->log)];

	pthread_mutex_lock(&ctx->lock);
	memcpy(copy, ctx->log, sizeof(copy));
	ctx->log[0] = '\0';
	pthread_mutex_unlock(&ctx->lock);
	return copy;
}

static struct tctx *ctx_of(struct vfio_device *vdev)
{
	return dev_get_drvdata(vdev->dev);
}

/* ---- the ops of the test device ---- */

static int t_init(struct vfio_device *vdev)
{
	struct tctx *ctx = ctx_of(vdev);

	atomic_fetch_add(&ctx->inits, 1);
	ctx_log(ctx, "init");
	return ctx->init_ret;
}

static void t_release(struct vfio_device *vdev)
{
	struct tctx *ctx = ctx_of(vdev);

	atomic_fetch_add(&ctx->releases, 1);
	ctx_log(ctx, "release");
}

static int t_bind(struct vfio_device *vdev, struct vfio_dma_space *space, uint32_t *out_id)
{
	struct tctx *ctx = ctx_of(vdev);

	*out_id = 7;
	ctx->bound_space = space;
	ctx_log(ctx, "bind");
	return ctx->bind_ret;
}

static void t_unbind(struct vfio_device *vdev)
{
	ctx_log(ctx_of(vdev), "unbind");
}

static int t_attach(struct vfio_device *vdev, uint32_t *pt_id)
{
	struct tctx *ctx = ctx_of(vdev);

	*pt_id = 3;
	ctx_log(ctx, "attach");
	return ctx->attach_ret;
}

static int t_open(struct vfio_device *vdev)
{
	struct tctx *ctx = ctx_of(vdev);

	ctx_log(ctx, "open");
	return ctx->open_ret;
}

static void t_close(struct vfio_device *vdev)
{
	struct tctx *ctx = ctx_of(vdev);

	ctx_log(ctx, "close");
	atomic_store(&ctx->closed, 1);
}

static ssize_t t_read(struct vfio_device *vdev, char *buf, size_t count, uint64_t *ppos)
{
	struct tctx *ctx = ctx_of(vdev);

	ctx->rw_buf = buf;
	ctx->rw_count = count;
	ctx->rw_pos = *ppos;
	ctx_log(ctx, "read");
	return (ssize_t)count - 1;
}

static ssize_t t_write(struct vfio_device *vdev, const char *buf, size_t count, uint64_t *ppos)
{
	struct tctx *ctx = ctx_of(vdev);

	ctx->rw_buf = buf;
	ctx->rw_count = count;
	ctx->rw_pos = *ppos;
	ctx_log(ctx, "write");
	return (ssize_t)count - 2;
}

static long t_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	struct tctx *ctx = ctx_of(vdev);

	ctx->ioctl_cmd = cmd;
	ctx->ioctl_arg = arg;
	ctx_log(ctx, "ioctl");
	return 42;
}

static int t_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct tctx *ctx = ctx_of(vdev);

	ctx->mmap_vma = vma;
	vma->vm_fd = 5;
	vma->vm_fd_offset = vma->vm_pgoff * PAGE_SIZE + 0x1000;
	ctx_log(ctx, "mmap");
	return 0;
}

static void t_request(struct vfio_device *vdev, unsigned int count)
{
	struct tctx *ctx = ctx_of(vdev);

	ctx_log(ctx, "request%u", count);
	pthread_mutex_lock(&ctx->lock);
	if (ctx->requests < MAX_REQUESTS)
		ctx->request_counts[ctx->requests] = count;
	ctx->requests++;
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
}

/* Matches "<dev_name>-alias"; "fail" aborts the lookup with -EIO. */
static int t_match(struct vfio_device *vdev, char *buf)
{
	struct tctx *ctx = ctx_of(vdev);
	char alias[64];

	ctx->match_calls++;
	snprintf(ctx->match_buf, sizeof(ctx->match_buf), "%s", buf);
	/* the buffer is the core's writable copy, not the caller's string */
	buf[0] = '#';
	if (!strcmp(ctx->match_buf, "fail"))
		return -EIO;
	snprintf(alias, sizeof(alias), "%s-alias", dev_name(vdev->dev));
	return !strcmp(ctx->match_buf, alias) ? 1 : 0;
}

static void t_dma_unmap(struct vfio_device *vdev, uint64_t iova, uint64_t length)
{
	ctx_log(ctx_of(vdev), "dma_unmap:%#llx+%#llx", (unsigned long long)iova,
		(unsigned long long)length);
}

static int t_feature(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz)
{
	struct tctx *ctx = ctx_of(vdev);

	ctx->feature_calls++;
	ctx->feature_flags = flags;
	ctx->feature_arg = arg;
	ctx->feature_argsz = argsz;
	return 17;
}

static const struct vfio_device_ops full_ops = {
	.name = "test",
	.init = t_init,
	.release = t_release,
	.bind_iommufd = t_bind,
	.unbind_iommufd = t_unbind,
	.attach_ioas = t_attach,
	.open_device = t_open,
	.close_device = t_close,
	.read = t_read,
	.write = t_write,
	.ioctl = t_ioctl,
	.mmap = t_mmap,
	.request = t_request,
	.dma_unmap = t_dma_unmap,
	.device_feature = t_feature,
};

/* A named struct device carrying @ctx; put_device() it at the end. */
static void dev_setup(struct device *dev, struct tctx *ctx, const char *name)
{
	memset(dev, 0, sizeof(*dev));
	device_initialize(dev);
	if (name)
		dev_set_name(dev, "%s", name);
	dev_set_drvdata(dev, ctx);
}

static struct tdev *tdev_alloc(struct device *dev, const struct vfio_device_ops *ops)
{
	struct tdev *t = vfio_alloc_device(tdev, vdev, dev, ops);

	return IS_ERR(t) ? NULL : t;
}

/* Allocates and registers an emulated-IOMMU device; NULL on failure. */
static struct tdev *tdev_new(struct device *dev, struct tctx *ctx, const char *name,
			     const struct vfio_device_ops *ops)
{
	struct tdev *t;

	ctx_init(ctx);
	dev_setup(dev, ctx, name);
	t = tdev_alloc(dev, ops);
	if (!t)
		return NULL;
	if (vfio_register_emulated_iommu_dev(&t->vdev)) {
		vfio_put_device(&t->vdev);
		return NULL;
	}
	ctx_take_log(ctx);
	return t;
}

/* Unregisters (if registered) and frees the device, then its struct device and context. */
static void tdev_free(struct tdev *t, struct device *dev, struct tctx *ctx)
{
	if (t) {
		vfio_unregister_group_dev(&t->vdev);
		vfio_put_device(&t->vdev);
	}
	put_device(dev);
	ctx_destroy(ctx);
}

/* A memfd of @pages pages mapped at @iova in @space; returns the fd (close it) or -1. */
static int map_memfd(struct vfio_dma_space *space, dma_addr_t iova, unsigned int pages)
{
	int fd = memfd_create("umdev-test", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)(pages * PAGE_SIZE)) < 0 ||
	    vfio_dma_map(space, iova, pages * PAGE_SIZE, fd, 0, IOMMU_READ | IOMMU_WRITE)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- allocation and references ---- */

TEST(alloc_init_failure_frees_without_release)
{
	struct device dev;
	struct tctx ctx;
	struct tdev *t;

	ctx_init(&ctx);
	ctx.init_ret = -ENOMEM;
	dev_setup(&dev, &ctx, "vd-init-fail");
	t = vfio_alloc_device(tdev, vdev, &dev, &full_ops);
	CHECK(IS_ERR(t));
	CHECK_EQ(PTR_ERR(t), -ENOMEM);
	CHECK_EQ(atomic_load(&ctx.inits), 1);
	CHECK_EQ(atomic_load(&ctx.releases), 0);
	CHECK_STR(ctx_take_log(&ctx), "init");

	ctx.init_ret = -ENODEV;
	t = vfio_alloc_device(tdev, vdev, &dev, &full_ops);
	CHECK_EQ(PTR_ERR(t), -ENODEV);
	CHECK_EQ(atomic_load(&ctx.releases), 0);
	put_device(&dev);
	ctx_destroy(&ctx);
}

TEST(alloc_rejects_missing_device_or_ops)
{
	struct device dev;
	struct tctx ctx;

	ctx_init(&ctx);
	dev_setup(&dev, &ctx, "vd-alloc-args");
	CHECK_EQ(PTR_ERR(_vfio_alloc_device(sizeof(struct tdev), NULL, &full_ops)), -EINVAL);
	CHECK_EQ(PTR_ERR(_vfio_alloc_device(sizeof(struct tdev), &dev, NULL)), -EINVAL);
	CHECK_EQ(PTR_ERR(_vfio_alloc_device(sizeof(struct vfio_device) - 1, &dev, &full_ops)),
		 -EINVAL);
	CHECK_EQ(atomic_load(&ctx.inits), 0);
	put_device(&dev);
	ctx_destroy(&ctx);
}

TEST(alloc_runs_init_and_last_put_releases_once)
{
	struct device dev;
	struct tctx ctx;
	struct tdev *t;

	ctx_init(&ctx);
	dev_setup(&dev, &ctx, "vd-alloc-ok");
	t = vfio_alloc_device(tdev, vdev, &dev, &full_ops);
	REQUIRE(!IS_ERR(t));
	CHECK_EQ(atomic_load(&ctx.inits), 1);
	CHECK(t->vdev.dev == &dev);
	CHECK(t->vdev.ops == &full_ops);
	CHECK(t->vdev.priv != NULL);
	CHECK_EQ(t->canary, 0);

	CHECK(vfio_get_device(&t->vdev) == &t->vdev);
	vfio_get_device(&t->vdev);
	vfio_put_device(&t->vdev);
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 0);
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 1);
	CHECK_STR(ctx_take_log(&ctx), "init,release");
	vfio_put_device(NULL);
	put_device(&dev);
	ctx_destroy(&ctx);
}

TEST(alloc_without_init_op)
{
	struct vfio_device_ops ops = { .release = t_release };
	struct device dev;
	struct tctx ctx;
	struct tdev *t;

	ctx_init(&ctx);
	dev_setup(&dev, &ctx, "vd-no-init");
	t = tdev_alloc(&dev, &ops);
	REQUIRE(t);
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 1);
	put_device(&dev);
	ctx_destroy(&ctx);
}

/* ---- registration and lookup ---- */

TEST(register_requires_a_name)
{
	struct device dev;
	struct tctx ctx;
	struct tdev *t;

	ctx_init(&ctx);
	dev_setup(&dev, &ctx, NULL);
	t = tdev_alloc(&dev, &full_ops);
	REQUIRE(t);
	CHECK_EQ(vfio_register_emulated_iommu_dev(&t->vdev), -EINVAL);
	CHECK_EQ(vfio_register_group_dev(&t->vdev), -EINVAL);
	dev_set_name(&dev, "%s", "");
	CHECK_EQ(vfio_register_emulated_iommu_dev(&t->vdev), -EINVAL);
	CHECK_EQ(vfio_register_group_dev(&t->vdev), -EINVAL);
	CHECK_EQ(vfio_register_group_dev(NULL), -EINVAL);
	/* never registered: unregistering is a no-op, and the caller's reference is the last */
	vfio_unregister_group_dev(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 0);
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 1);
	put_device(&dev);
	ctx_destroy(&ctx);
}

TEST(register_twice_is_ebusy)
{
	struct device dev;
	struct tctx ctx;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-twice", &full_ops);

	REQUIRE(t);
	CHECK_EQ(vfio_register_emulated_iommu_dev(&t->vdev), -EBUSY);
	CHECK_EQ(vfio_register_group_dev(&t->vdev), -EBUSY);
	/* the registration holds a reference until the unregistration */
	vfio_unregister_group_dev(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 0);
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 1);
	tdev_free(NULL, &dev, &ctx);
}

TEST(register_group_and_emulated_devices)
{
	struct device dev1, dev2;
	struct tctx ctx1, ctx2;
	struct vfio_device *found;
	struct tdev *t1, *t2;

	ctx_init(&ctx1);
	ctx_init(&ctx2);
	dev_setup(&dev1, &ctx1, "vd-group");
	dev_setup(&dev2, &ctx2, "vd-emulated");
	t1 = tdev_alloc(&dev1, &full_ops);
	t2 = tdev_alloc(&dev2, &full_ops);
	REQUIRE(t1 && t2);
	CHECK_EQ(vfio_register_group_dev(&t1->vdev), 0);
	CHECK_EQ(vfio_register_emulated_iommu_dev(&t2->vdev), 0);
	if (CHECK_EQ(vfio_device_get_from_name("vd-group", &found), 0)) {
		CHECK(found == &t1->vdev);
		vfio_put_device(found);
	}
	if (CHECK_EQ(vfio_device_get_from_name("vd-emulated", &found), 0)) {
		CHECK(found == &t2->vdev);
		vfio_put_device(found);
	}
	CHECK_EQ(vfio_device_open(&t1->vdev, NULL), 0);
	CHECK_EQ(vfio_device_open(&t2->vdev, NULL), 0);
	vfio_device_close(&t1->vdev);
	vfio_device_close(&t2->vdev);
	tdev_free(t1, &dev1, &ctx1);
	tdev_free(t2, &dev2, &ctx2);
}

TEST(register_duplicate_name_is_eexist)
{
	struct device dev1, dev2;
	struct tctx ctx1, ctx2;
	struct vfio_device *found;
	struct tdev *t1, *t2;

	t1 = tdev_new(&dev1, &ctx1, "vd-dup", &full_ops);
	REQUIRE(t1);
	ctx_init(&ctx2);
	dev_setup(&dev2, &ctx2, "vd-dup");
	t2 = tdev_alloc(&dev2, &full_ops);
	REQUIRE(t2);
	CHECK_EQ(vfio_register_emulated_iommu_dev(&t2->vdev), -EEXIST);
	CHECK_EQ(vfio_register_group_dev(&t2->vdev), -EEXIST);
	if (CHECK_EQ(vfio_device_get_from_name("vd-dup", &found), 0)) {
		CHECK(found == &t1->vdev);
		vfio_put_device(found);
	}
	/* once the first is gone the name is free */
	tdev_free(t1, &dev1, &ctx1);
	CHECK_EQ(vfio_register_emulated_iommu_dev(&t2->vdev), 0);
	tdev_free(t2, &dev2, &ctx2);
}

TEST(register_duplicate_name_with_match_op_is_eexist)
{
	struct vfio_device_ops mops = full_ops;
	struct device dev1, dev2;
	struct tctx ctx1, ctx2;
	struct tdev *t1, *t2;
	int ret;

	mops.match = t_match;
	t1 = tdev_new(&dev1, &ctx1, "vd-dup-match", &full_ops);
	REQUIRE(t1);
	ctx_init(&ctx2);
	dev_setup(&dev2, &ctx2, "vd-dup-match");
	t2 = tdev_alloc(&dev2, &mops);
	REQUIRE(t2);
	/* the name is taken whether or not the newcomer has a match op */
	ret = vfio_register_emulated_iommu_dev(&t2->vdev);
	CHECK_EQ(ret, -EEXIST);
	if (!ret)
		vfio_unregister_group_dev(&t2->vdev);
	tdev_free(t1, &dev1, &ctx1);
	tdev_free(t2, &dev2, &ctx2);
}

TEST(get_from_name_takes_a_reference)
{
	struct vfio_device *found = NULL;
	struct device dev;
	struct tctx ctx;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-lookup", &full_ops);

	REQUIRE(t);
	CHECK_EQ(vfio_device_get_from_name("vd-lookup", &found), 0);
	CHECK(found == &t->vdev);
	CHECK_EQ(vfio_device_get_from_name("vd-lookup-not", &found), -ENODEV);
	CHECK_EQ(vfio_device_get_from_name("vd-looku", &found), -ENODEV);
	CHECK_EQ(vfio_device_get_from_name("VD-LOOKUP", &found), -ENODEV);
	CHECK_EQ(vfio_device_get_from_name(NULL, &found), -EINVAL);
	CHECK(found == &t->vdev);

	vfio_unregister_group_dev(&t->vdev);
	CHECK_EQ(vfio_device_get_from_name("vd-lookup", &found), -ENODEV);
	/* the driver's and the lookup's references remain */
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 0);
	vfio_put_device(found);
	CHECK_EQ(atomic_load(&ctx.releases), 1);
	tdev_free(NULL, &dev, &ctx);
}

TEST(get_from_name_through_match_op)
{
	struct vfio_device_ops mops = full_ops;
	struct vfio_device *found = NULL;
	struct device dev;
	struct tctx ctx;
	struct tdev *t;

	mops.match = t_match;
	t = tdev_new(&dev, &ctx, "vd-match", &mops);
	REQUIRE(t);

	/* > 0: a match */
	CHECK_EQ(vfio_device_get_from_name("vd-match-alias", &found), 0);
	CHECK(found == &t->vdev);
	CHECK_STR(ctx.match_buf, "vd-match-alias");
	if (found == &t->vdev)
		vfio_put_device(found);

	/* 0: no match, even for the device's own name (the match op decides) */
	found = NULL;
	ctx.match_calls = 0;
	CHECK_EQ(vfio_device_get_from_name("vd-match", &found), -ENODEV);
	CHECK(ctx.match_calls >= 1);
	CHECK(found == NULL);

	/* < 0: the error is returned */
	CHECK_EQ(vfio_device_get_from_name("fail", &found), -EIO);
	CHECK(found == NULL);

	vfio_unregister_group_dev(&t->vdev);
	ctx.match_calls = 0;
	CHECK_EQ(vfio_device_get_from_name("vd-match-alias", &found), -ENODEV);
	CHECK_EQ(ctx.match_calls, 0);
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 1);
	tdev_free(NULL, &dev, &ctx);
}

/* ---- open and close ---- */

TEST(open_close_call_order_and_counting)
{
	struct vfio_dma_space *space;
	struct device dev;
	struct tctx ctx;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-open-order", &full_ops);

	REQUIRE(t);
	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	CHECK(!vfio_device_is_open(&t->vdev));
	CHECK_EQ(vfio_device_open(&t->vdev, space), 0);
	CHECK_STR(ctx_take_log(&ctx), "bind,attach,open");
	CHECK(ctx.bound_space == space);
	CHECK(vfio_device_is_open(&t->vdev));

	/* later opens with the same space only count */
	CHECK_EQ(vfio_device_open(&t->vdev, space), 0);
	CHECK_EQ(vfio_device_open(&t->vdev, space), 0);
	CHECK_STR(ctx_take_log(&ctx), "");
	vfio_device_close(&t->vdev);
	vfio_device_close(&t->vdev);
	CHECK_STR(ctx_take_log(&ctx), "");
	CHECK(vfio_device_is_open(&t->vdev));
	vfio_device_close(&t->vdev);
	CHECK_STR(ctx_take_log(&ctx), "close,unbind");
	CHECK(!vfio_device_is_open(&t->vdev));

	/* a close without open is refused, and calls nothing */
	vfio_device_close(&t->vdev);
	CHECK_STR(ctx_take_log(&ctx), "");

	/* and it opens again */
	CHECK_EQ(vfio_device_open(&t->vdev, space), 0);
	CHECK_STR(ctx_take_log(&ctx), "bind,attach,open");
	vfio_device_close(&t->vdev);
	CHECK_STR(ctx_take_log(&ctx), "close,unbind");
	tdev_free(t, &dev, &ctx);
	vfio_dma_space_destroy(space);
}

TEST(open_with_kernel_emulated_helpers)
{
	struct vfio_device_ops eops = {
		.bind_iommufd = vfio_iommufd_emulated_bind,
		.unbind_iommufd = vfio_iommufd_emulated_unbind,
		.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	};
	struct vfio_dma_space *space;
	uint32_t id = 99;
	struct device dev;
	struct tctx ctx;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-emul-helpers", &eops);

	REQUIRE(t);
	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	CHECK_EQ(vfio_iommufd_emulated_bind(&t->vdev, space, &id), 0);
	CHECK_EQ(id, 0);
	CHECK_EQ(vfio_iommufd_emulated_attach_ioas(&t->vdev, &id), 0);
	CHECK_EQ(vfio_device_open(&t->vdev, space), 0);
	CHECK(vfio_device_is_open(&t->vdev));
	vfio_device_close(&t->vdev);
	CHECK(!vfio_device_is_open(&t->vdev));
	tdev_free(t, &dev, &ctx);
	vfio_dma_space_destroy(space);
}

TEST(open_failure_at_each_step_leaves_nothing_bound)
{
	static const struct {
		const char *step;
		const char *log;
	} steps[] = {
		{ "bind", "bind" },
		{ "attach", "bind,attach,unbind" },
		{ "open", "bind,attach,open,unbind" },
	};
	const dma_addr_t iova = 0x100000;
	struct vfio_dma_space *space;
	struct page *pages[1];
	struct device dev;
	struct tctx ctx;
	char byte = 0;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-open-fail", &full_ops);
	int fd;

	REQUIRE(t);
	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	fd = map_memfd(space, iova, 1);
	CHECK(fd >= 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		tap_diag("failing step: %s", steps[i].step);
		ctx.bind_ret = !strcmp(steps[i].step, "bind") ? -EIO : 0;
		ctx.attach_ret = !strcmp(steps[i].step, "attach") ? -EIO : 0;
		ctx.open_ret = !strcmp(steps[i].step, "open") ? -EIO : 0;
		CHECK_EQ(vfio_device_open(&t->vdev, space), -EIO);
		CHECK_STR(ctx_take_log(&ctx), steps[i].log);
		CHECK(!vfio_device_is_open(&t->vdev));
		/* nothing is bound: no DMA, and the space's unmaps do not see the device */
		CHECK_EQ(vfio_pin_pages(&t->vdev, iova, 1, IOMMU_READ, pages), -EINVAL);
		CHECK_EQ(vfio_dma_rw(&t->vdev, iova, &byte, 1, false), -EINVAL);
		/* a close does not reach the driver */
		vfio_device_close(&t->vdev);
		CHECK_STR(ctx_take_log(&ctx), "");

		/* another space may open it now, and so may this one later */
		ctx.bind_ret = ctx.attach_ret = ctx.open_ret = 0;
		CHECK_EQ(vfio_device_open(&t->vdev, NULL), 0);
		vfio_device_close(&t->vdev);
		ctx_take_log(&ctx);
	}
	/* a successful open after the failures works fully */
	CHECK_EQ(vfio_device_open(&t->vdev, space), 0);
	CHECK_EQ(vfio_pin_pages(&t->vdev, iova, 1, IOMMU_READ, pages), 1);
	vfio_unpin_pages(&t->vdev, iova, 1);
	CHECK_EQ(vfio_dma_rw(&t->vdev, iova, &byte, 1, false), 0);
	vfio_device_close(&t->vdev);
	CHECK_EQ(vfio_dma_unmap_all(space), (int64_t)PAGE_SIZE);
	if (fd >= 0)
		close(fd);
	tdev_free(t, &dev, &ctx);
	vfio_dma_space_destroy(space);
}

TEST(open_positive_driver_error_is_einval)
{
	struct device dev;
	struct tctx ctx;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-open-positive", &full_ops);

	REQUIRE(t);
	ctx.open_ret = 1;
	CHECK_EQ(vfio_device_open(&t->vdev, NULL), -EINVAL);
	CHECK(!vfio_device_is_open(&t->vdev));
	tdev_free(t, &dev, &ctx);
}

TEST(open_unregistered_is_enodev)
{
	struct device dev;
	struct tctx ctx;
	struct tdev *t;
	int ret;

	ctx_init(&ctx);
	dev_setup(&dev, &ctx, "vd-open-unreg");
	t = tdev_alloc(&dev, &full_ops);
	REQUIRE(t);
	ctx_take_log(&ctx);
	/* (a wrong success is undone, so that the unregistration below cannot hang) */
	CHECK_EQ(ret = vfio_device_open(&t->vdev, NULL), -ENODEV);
	if (!ret)
		vfio_device_close(&t->vdev);
	CHECK_STR(ctx_take_log(&ctx), "");
	CHECK_EQ(vfio_register_emulated_iommu_dev(&t->vdev), 0);
	CHECK_EQ(vfio_device_open(&t->vdev, NULL), 0);
	vfio_device_close(&t->vdev);
	vfio_unregister_group_dev(&t->vdev);
	CHECK_EQ(ret = vfio_device_open(&t->vdev, NULL), -ENODEV);
	if (!ret)
		vfio_device_close(&t->vdev);
	CHECK_STR(ctx_take_log(&ctx), "bind,attach,open,close,unbind");
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 1);
	tdev_free(NULL, &dev, &ctx);
}

TEST(open_with_another_space_is_ebusy)
{
	struct vfio_dma_space *a, *b;
	struct device dev;
	struct tctx ctx;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-open-busy", &full_ops);
	int ret;

	REQUIRE(t);
	REQUIRE_EQ(vfio_dma_space_create(&a), 0);
	REQUIRE_EQ(vfio_dma_space_create(&b), 0);
	CHECK_EQ(vfio_device_open(&t->vdev, a), 0);
	CHECK_EQ(ret = vfio_device_open(&t->vdev, b), -EBUSY);
	if (!ret)
		vfio_device_close(&t->vdev);
	CHECK_EQ(ret = vfio_device_open(&t->vdev, NULL), -EBUSY);
	if (!ret)
		vfio_device_close(&t->vdev);
	CHECK_EQ(vfio_device_open(&t->vdev, a), 0);
	CHECK_STR(ctx_take_log(&ctx), "bind,attach,open");
	vfio_device_close(&t->vdev);
	CHECK(vfio_device_is_open(&t->vdev));
	vfio_device_close(&t->vdev);
	CHECK(!vfio_device_is_open(&t->vdev));
	CHECK_STR(ctx_take_log(&ctx), "close,unbind");

	/* a client without DMA holds the device the same way */
	CHECK_EQ(vfio_device_open(&t->vdev, NULL), 0);
	CHECK(ctx.bound_space == NULL);
	CHECK_EQ(ret = vfio_device_open(&t->vdev, a), -EBUSY);
	if (!ret)
		vfio_device_close(&t->vdev);
	CHECK_EQ(vfio_device_open(&t->vdev, NULL), 0);
	vfio_device_close(&t->vdev);
	vfio_device_close(&t->vdev);
	CHECK_EQ(vfio_device_open(&t->vdev, b), 0);
	CHECK(ctx.bound_space == b);
	vfio_device_close(&t->vdev);
	tdev_free(t, &dev, &ctx);
	vfio_dma_space_destroy(a);
	vfio_dma_space_destroy(b);
}

/* ---- unregistration and notifiers ---- */

struct event_log {
	struct notifier_block nb;
	struct vfio_device *watch; /* events of other devices are ignored */
	struct tctx *ctx;	   /* events go to this log */
};

static void event_cb(struct notifier_block *nb, unsigned long event, void *data)
{
	struct event_log *el = container_of(nb, struct event_log, nb);

	if (data != el->watch)
		return;
	switch (event) {
	case VFIO_DEVICE_EVENT_REGISTERED:
		ctx_log(el->ctx, "REGISTERED");
		break;
	case VFIO_DEVICE_EVENT_UNREGISTERING:
		ctx_log(el->ctx, "UNREGISTERING");
		break;
	case VFIO_DEVICE_EVENT_UNREGISTERED:
		ctx_log(el->ctx, "UNREGISTERED");
		break;
	default:
		ctx_log(el->ctx, "event%lu", event);
		break;
	}
}

TEST(notifier_events_in_order)
{
	struct event_log el = { .nb.notifier_call = event_cb };
	struct device dev;
	struct tctx ctx;
	struct tdev *t;

	ctx_init(&ctx);
	dev_setup(&dev, &ctx, "vd-notify");
	t = tdev_alloc(&dev, &full_ops);
	REQUIRE(t);
	el.watch = &t->vdev;
	el.ctx = &ctx;
	ctx_take_log(&ctx);
	REQUIRE_EQ(vfio_register_device_notifier(&el.nb), 0);
	CHECK_EQ(vfio_register_device_notifier(&el.nb), -EEXIST);
	CHECK_EQ(vfio_register_emulated_iommu_dev(&t->vdev), 0);
	CHECK_STR(ctx_take_log(&ctx), "REGISTERED");
	/* a failed registration tells nobody */
	CHECK_EQ(vfio_register_emulated_iommu_dev(&t->vdev), -EBUSY);
	CHECK_STR(ctx_take_log(&ctx), "");
	CHECK_EQ(vfio_device_open(&t->vdev, NULL), 0);
	vfio_device_close(&t->vdev);
	ctx_take_log(&ctx);
	/* not open: no request() */
	vfio_unregister_group_dev(&t->vdev);
	CHECK_STR(ctx_take_log(&ctx), "UNREGISTERING,UNREGISTERED");
	/* a second unregistration does nothing */
	vfio_unregister_group_dev(&t->vdev);
	CHECK_STR(ctx_take_log(&ctx), "");
	CHECK_EQ(vfio_unregister_device_notifier(&el.nb), 0);
	CHECK_EQ(vfio_unregister_device_notifier(&el.nb), -ENOENT);
	CHECK_EQ(atomic_load(&ctx.releases), 0);
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 1);
	tdev_free(NULL, &dev, &ctx);
}

struct unreg_thread {
	struct vfio_device *vdev;
	struct tctx *ctx;
	atomic_int returned;
	int closed_when_returned;
};

static void *unregister_thread(void *arg)
{
	struct unreg_thread *u = arg;

	vfio_unregister_group_dev(u->vdev);
	u->closed_when_returned = atomic_load(&u->ctx->closed);
	pthread_mutex_lock(&u->ctx->lock);
	atomic_store(&u->returned, 1);
	pthread_cond_broadcast(&u->ctx->cond);
	pthread_mutex_unlock(&u->ctx->lock);
	return NULL;
}

/*
 * Waits until request() has been called @n more times than @*seen (updated), or until the
 * unregistration has returned (which it must not while the device is open: the caller
 * checks).
 */
static void wait_requests(struct unreg_thread *u, unsigned int *seen, unsigned int n)
{
	struct tctx *ctx = u->ctx;

	pthread_mutex_lock(&ctx->lock);
	while (ctx->requests < *seen + n && !atomic_load(&u->returned))
		pthread_cond_wait(&ctx->cond, &ctx->lock);
	*seen = ctx->requests;
	pthread_mutex_unlock(&ctx->lock);
}

TEST(unregister_of_open_device_requests_until_closed)
{
	struct event_log el = { .nb.notifier_call = event_cb };
	struct unreg_thread u = { 0 };
	unsigned int old_interval = vfio_get_request_interval_ms();
	struct vfio_dma_space *space;
	struct vfio_device *found;
	struct device dev;
	struct tctx ctx;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-unreg-open", &full_ops);
	pthread_t thread;
	unsigned int n = 0;
	const char *log;
	int ret;

	REQUIRE(t);
	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	el.watch = &t->vdev;
	el.ctx = &ctx;
	REQUIRE_EQ(vfio_register_device_notifier(&el.nb), 0);
	vfio_set_request_interval_ms(2);

	/* two opens: the device is released only by the last close */
	CHECK_EQ(vfio_device_open(&t->vdev, space), 0);
	CHECK_EQ(vfio_device_open(&t->vdev, space), 0);
	ctx_take_log(&ctx);
	u.vdev = &t->vdev;
	u.ctx = &ctx;
	REQUIRE_EQ(pthread_create(&thread, NULL, unregister_thread, &u), 0);

	wait_requests(&u, &n, 3);
	/* requested three times and still open: the unregistration cannot have returned */
	CHECK_EQ(atomic_load(&u.returned), 0);
	/* no longer reachable by name, nor openable by a new client */
	CHECK_EQ(vfio_device_get_from_name("vd-unreg-open", &found), -ENODEV);
	CHECK_EQ(ret = vfio_device_open(&t->vdev, space), -ENODEV);
	if (!ret)
		vfio_device_close(&t->vdev);
	vfio_device_close(&t->vdev);
	wait_requests(&u, &n, 1);
	CHECK_EQ(atomic_load(&u.returned), 0);
	vfio_device_close(&t->vdev);
	pthread_join(thread, NULL);

	CHECK_EQ(atomic_load(&u.returned), 1);
	CHECK_EQ(u.closed_when_returned, 1);
	n = ctx.requests;
	CHECK(n >= 4);
	for (unsigned int i = 0; i < n && i < MAX_REQUESTS; i++)
		if (!CHECK_EQ(ctx.request_counts[i], i))
			break;
	/* events, requests and the close in order: the log starts with
	 * "UNREGISTERING,request0,request1,request2", then has the last close, and ends with
	 * UNREGISTERED (a request() may race with the close, so it may come between) */
	log = ctx_take_log(&ctx);
	CHECK(!strncmp(log, "UNREGISTERING,request0,request1,request2,", 41));
	CHECK(strstr(log, "close,unbind") != NULL);
	CHECK(ends_with(log, ",UNREGISTERED"));
	CHECK(strstr(log, "UNREGISTERED") > strstr(log, "close,unbind"));
	tap_diag("log: %.200s", log);

	vfio_set_request_interval_ms(old_interval);
	CHECK_EQ(vfio_unregister_device_notifier(&el.nb), 0);
	CHECK_EQ(atomic_load(&ctx.releases), 0);
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 1);
	tdev_free(NULL, &dev, &ctx);
	vfio_dma_space_destroy(space);
}

/* A driver without request(): the unregistration still waits for the close. */
TEST(unregister_without_request_op_waits_for_close)
{
	struct event_log el = { .nb.notifier_call = event_cb };
	struct vfio_device_ops nops = full_ops;
	struct unreg_thread u = { 0 };
	struct device dev;
	struct tctx ctx;
	struct tdev *t;
	pthread_t thread;

	nops.request = NULL;
	t = tdev_new(&dev, &ctx, "vd-unreg-noreq", &nops);
	REQUIRE(t);
	el.watch = &t->vdev;
	el.ctx = &ctx;
	REQUIRE_EQ(vfio_register_device_notifier(&el.nb), 0);
	CHECK_EQ(vfio_device_open(&t->vdev, NULL), 0);
	ctx_take_log(&ctx);
	u.vdev = &t->vdev;
	u.ctx = &ctx;
	REQUIRE_EQ(pthread_create(&thread, NULL, unregister_thread, &u), 0);
	/* the unregistration has begun, and the device is open: it cannot have returned */
	ctx_wait_log(&ctx, "UNREGISTERING");
	CHECK_EQ(atomic_load(&u.returned), 0);
	vfio_device_close(&t->vdev);
	pthread_join(thread, NULL);
	CHECK_EQ(u.closed_when_returned, 1);
	CHECK_STR(ctx_take_log(&ctx), "UNREGISTERING,close,unbind,UNREGISTERED");
	CHECK_EQ(vfio_unregister_device_notifier(&el.nb), 0);
	vfio_put_device(&t->vdev);
	CHECK_EQ(atomic_load(&ctx.releases), 1);
	tdev_free(NULL, &dev, &ctx);
}

/* ---- dispatch ---- */

TEST(read_write_dispatch)
{
	struct vfio_device_ops nops = full_ops;
	char buf[16] = "abcdef";
	struct device dev, dev2;
	struct tctx ctx, ctx2;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-rw", &full_ops);
	struct tdev *t2;

	nops.read = NULL;
	nops.write = NULL;
	t2 = tdev_new(&dev2, &ctx2, "vd-rw-none", &nops);
	REQUIRE(t && t2);
	CHECK_EQ(vfio_device_read(&t->vdev, buf, 8, 0x10000000123ULL), 7);
	CHECK(ctx.rw_buf == buf);
	CHECK_EQ(ctx.rw_count, 8);
	CHECK_EQ(ctx.rw_pos, 0x10000000123ULL);
	CHECK_EQ(vfio_device_write(&t->vdev, buf, 6, 0x40), 4);
	CHECK(ctx.rw_buf == buf);
	CHECK_EQ(ctx.rw_count, 6);
	CHECK_EQ(ctx.rw_pos, 0x40);
	CHECK_STR(ctx_take_log(&ctx), "read,write");

	CHECK_EQ(vfio_device_read(&t2->vdev, buf, 8, 0), -EINVAL);
	CHECK_EQ(vfio_device_write(&t2->vdev, buf, 8, 0), -EINVAL);
	CHECK_STR(ctx_take_log(&ctx2), "");
	tdev_free(t, &dev, &ctx);
	tdev_free(t2, &dev2, &ctx2);
}

TEST(ioctl_dispatch)
{
	struct vfio_device_ops nops = full_ops;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct device dev, dev2;
	struct tctx ctx, ctx2;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-ioctl", &full_ops);
	struct tdev *t2;

	nops.ioctl = NULL;
	t2 = tdev_new(&dev2, &ctx2, "vd-ioctl-none", &nops);
	REQUIRE(t && t2);
	CHECK_EQ(vfio_device_ioctl(&t->vdev, VFIO_DEVICE_GET_INFO, &info), 42);
	CHECK_EQ(ctx.ioctl_cmd, VFIO_DEVICE_GET_INFO);
	CHECK(ctx.ioctl_arg == (unsigned long)&info);
	/* RESET has no payload */
	CHECK_EQ(vfio_device_ioctl(&t->vdev, VFIO_DEVICE_RESET, NULL), 42);
	CHECK_EQ(ctx.ioctl_cmd, VFIO_DEVICE_RESET);
	CHECK_STR(ctx_take_log(&ctx), "ioctl,ioctl");
	/* other commands need their structure */
	CHECK_EQ(vfio_device_ioctl(&t->vdev, VFIO_DEVICE_GET_INFO, NULL), -EFAULT);
	CHECK_STR(ctx_take_log(&ctx), "");

	CHECK_EQ(vfio_device_ioctl(&t2->vdev, VFIO_DEVICE_GET_INFO, &info), -EINVAL);
	CHECK_EQ(vfio_device_ioctl(&t2->vdev, VFIO_DEVICE_RESET, NULL), -EINVAL);
	CHECK_STR(ctx_take_log(&ctx2), "");
	tdev_free(t, &dev, &ctx);
	tdev_free(t2, &dev2, &ctx2);
}

TEST(mmap_dispatch)
{
	struct vfio_device_ops nops = full_ops;
	struct vm_area_struct vma = {
		.vm_end = 2 * PAGE_SIZE,
		.vm_pgoff = 3,
		.vm_flags = VM_READ | VM_WRITE | VM_SHARED,
		.vm_fd = 99,
		.vm_fd_offset = 99,
	};
	struct device dev, dev2;
	struct tctx ctx, ctx2;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-mmap", &full_ops);
	struct tdev *t2;

	nops.mmap = NULL;
	t2 = tdev_new(&dev2, &ctx2, "vd-mmap-none", &nops);
	REQUIRE(t && t2);
	CHECK_EQ(vfio_device_mmap(&t->vdev, &vma), 0);
	CHECK(ctx.mmap_vma == &vma);
	CHECK_EQ(vma.vm_fd, 5);
	CHECK_EQ(vma.vm_fd_offset, 3 * PAGE_SIZE + 0x1000);
	CHECK_EQ(vma.vm_end, 2 * PAGE_SIZE);
	CHECK_EQ(vma.vm_pgoff, 3);
	CHECK_STR(ctx_take_log(&ctx), "mmap");
	CHECK_EQ(vfio_device_mmap(&t2->vdev, &vma), -EINVAL);
	CHECK_STR(ctx_take_log(&ctx2), "");
	tdev_free(t, &dev, &ctx);
	tdev_free(t2, &dev2, &ctx2);
}

/* ---- VFIO_DEVICE_FEATURE ---- */

#define FEATURE_HDR 8 /* argsz + flags */

/* A VFIO_DEVICE_FEATURE buffer with room for 56 bytes of payload. */
union feature_buf {
	uint64_t align;
	uint8_t raw[64];
};

static long feature(struct vfio_device *vdev, union feature_buf *b, uint32_t argsz,
		    uint32_t flags)
{
	struct vfio_device_feature *f = (struct vfio_device_feature *)b->raw;

	f->argsz = argsz;
	f->flags = flags;
	return vfio_device_ioctl(vdev, VFIO_DEVICE_FEATURE, f);
}

TEST(feature_core_validates_the_header)
{
	const uint32_t get = VFIO_DEVICE_FEATURE_GET, set = VFIO_DEVICE_FEATURE_SET;
	const uint32_t probe = VFIO_DEVICE_FEATURE_PROBE;
	union feature_buf b;
	struct device dev;
	struct tctx ctx;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-feature-hdr", &full_ops);

	REQUIRE(t);
	memset(&b, 0, sizeof(b));
	CHECK_EQ(feature(&t->vdev, &b, 7, get | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN), -EINVAL);
	CHECK_EQ(feature(&t->vdev, &b, 0, probe | get), -EINVAL);
	CHECK_EQ(feature(&t->vdev, &b, 24, get | (1u << 19)), -EINVAL);
	CHECK_EQ(feature(&t->vdev, &b, 24, get | (1u << 31)), -EINVAL);
	CHECK_EQ(feature(&t->vdev, &b, 24, get | set), -EINVAL);
	CHECK_EQ(ctx.feature_calls, 0);

	/* GET and SET together are fine for a PROBE, and the header alone is enough */
	CHECK_EQ(feature(&t->vdev, &b, 24, probe | get | set), 17);
	CHECK_EQ(ctx.feature_calls, 1);
	CHECK_EQ(feature(&t->vdev, &b, FEATURE_HDR, get), 17);
	CHECK_EQ(ctx.feature_argsz, 0);
	CHECK_EQ(ctx.feature_calls, 2);
	/* neither GET nor SET nor PROBE is the driver's (vfio_check_feature's) to refuse */
	CHECK_EQ(feature(&t->vdev, &b, FEATURE_HDR, 0), 17);
	CHECK_EQ(ctx.feature_calls, 3);
	tdev_free(t, &dev, &ctx);
}

/* (DMA logging is the core's for emulated-IOMMU devices: tests/vfio/test_dirty.c) */
TEST(feature_migration_is_enotty_without_mig_ops)
{
	static const uint32_t core[] = {
		VFIO_DEVICE_FEATURE_MIGRATION,
		VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
	};
	static const uint32_t ops[] = {
		VFIO_DEVICE_FEATURE_GET,
		VFIO_DEVICE_FEATURE_SET,
		VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET,
		VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
	};
	union feature_buf b;
	struct device dev;
	struct tctx ctx;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-feature-mig", &full_ops);

	REQUIRE(t);
	memset(&b, 0, sizeof(b));
	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++)
		for (size_t j = 0; j < sizeof(ops) / sizeof(ops[0]); j++)
			if (!CHECK_EQ(feature(&t->vdev, &b, 32, ops[j] | core[i]), -ENOTTY))
				tap_diag("feature %u flags %#x", core[i], ops[j]);
	CHECK_EQ(ctx.feature_calls, 0);
	tdev_free(t, &dev, &ctx);
}

#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
#endif

/* MIG_DATA_SIZE (9) is a migration feature of the core too: without migration ops, -ENOTTY
 * (spec section 3; kernel vfio_ioctl_device_feature_migration_data_size()). */
TEST(feature_mig_data_size_is_enotty)
{
	union feature_buf b;
	struct device dev;
	struct tctx ctx;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-feature-datasize", &full_ops);

	REQUIRE(t);
	memset(&b, 0, sizeof(b));
	CHECK_EQ(feature(&t->vdev, &b, FEATURE_HDR + 8,
			 VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE),
		 -ENOTTY);
	CHECK_EQ(ctx.feature_calls, 0);
	tdev_free(t, &dev, &ctx);
}

TEST(feature_others_go_to_the_driver)
{
	struct vfio_device_ops nops = full_ops;
	const uint32_t flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	struct vfio_device_feature *f;
	union feature_buf b;
	struct device dev, dev2;
	struct tctx ctx, ctx2;
	struct tdev *t = tdev_new(&dev, &ctx, "vd-feature-fwd", &full_ops);
	struct tdev *t2;

	nops.device_feature = NULL;
	t2 = tdev_new(&dev2, &ctx2, "vd-feature-none", &nops);
	REQUIRE(t && t2);
	memset(&b, 0, sizeof(b));
	f = (struct vfio_device_feature *)b.raw;
	CHECK_EQ(feature(&t->vdev, &b, FEATURE_HDR + 16, flags), 17);
	CHECK_EQ(ctx.feature_calls, 1);
	CHECK_EQ(ctx.feature_flags, flags);
	CHECK(ctx.feature_arg == (void *)f->data);
	CHECK(ctx.feature_arg == (void *)(b.raw + FEATURE_HDR));
	CHECK_EQ(ctx.feature_argsz, 16);

	/* the low-power features and unknown ones belong to the driver */
	CHECK_EQ(feature(&t->vdev, &b, FEATURE_HDR + 4,
			 VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY), 17);
	CHECK_EQ(ctx.feature_argsz, 4);
	CHECK_EQ(feature(&t->vdev, &b, FEATURE_HDR + 4, VFIO_DEVICE_FEATURE_GET | 0x1234), 17);
	CHECK_EQ(ctx.feature_flags, VFIO_DEVICE_FEATURE_GET | 0x1234);
	CHECK_EQ(ctx.feature_calls, 3);

	/* without a device_feature op: -EINVAL */
	CHECK_EQ(feature(&t2->vdev, &b, FEATURE_HDR + 16, flags), -EINVAL);
	CHECK_EQ(feature(&t2->vdev, &b, FEATURE_HDR + 16,
			 VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET | 0x1234),
		 -EINVAL);
	/* ... but the core's features still answer -ENOTTY */
	CHECK_EQ(feature(&t2->vdev, &b, FEATURE_HDR + 8,
			 VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION),
		 -ENOTTY);
	tdev_free(t, &dev, &ctx);
	tdev_free(t2, &dev2, &ctx2);
}

/* ---- vfio_set_irqs_validate_and_prepare() ---- */

#define IRQ_HDR 20 /* argsz, flags, index, start, count */

union irq_buf {
	uint64_t align;
	uint8_t raw[128];
};

static int irqs(union irq_buf *b, uint32_t argsz, uint32_t flags, uint32_t index,
		uint32_t start, uint32_t count, unsigned int num_irqs, unsigned int max,
		size_t *data_size)
{
	struct vfio_irq_set *hdr = (struct vfio_irq_set *)b->raw;

	hdr->argsz = argsz;
	hdr->flags = flags;
	hdr->index = index;
	hdr->start = start;
	hdr->count = count;
	return vfio_set_irqs_validate_and_prepare(hdr, num_irqs, max, data_size);
}

#define NONE_TRIGGER (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER)
#define BOOL_TRIGGER (VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER)
#define EVENTFD_TRIGGER (VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)

TEST(set_irqs_header_rules)
{
	union irq_buf b;
	size_t ds = 99;

	memset(&b, 0, sizeof(b));
	/* the minimal valid header */
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 0, 1, 1, 5, &ds), 0);
	CHECK_EQ(ds, 0);
	/* argsz < 20 */
	CHECK_EQ(irqs(&b, IRQ_HDR - 1, NONE_TRIGGER, 0, 0, 1, 1, 5, &ds), -EINVAL);
	CHECK_EQ(irqs(&b, 0, NONE_TRIGGER, 0, 0, 1, 1, 5, &ds), -EINVAL);
	/* index >= max_irq_type */
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 4, 0, 1, 1, 5, &ds), 0);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 5, 0, 1, 1, 5, &ds), -EINVAL);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, UINT32_MAX, 0, 1, 1, 5, &ds), -EINVAL);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 0, 1, 1, 0, &ds), -EINVAL);
	/* count >= U32_MAX - start */
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 0, UINT32_MAX, UINT32_MAX, 5, &ds), -EINVAL);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 1, UINT32_MAX - 1, UINT32_MAX, 5, &ds),
		 -EINVAL);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 2, UINT32_MAX, UINT32_MAX, 5, &ds), -EINVAL);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 1, UINT32_MAX - 2, UINT32_MAX, 5, &ds), 0);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 0, UINT32_MAX - 1, UINT32_MAX, 5, &ds), 0);
	/* unknown flag bits */
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER | (1u << 6), 0, 0, 1, 1, 5, &ds), -EINVAL);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER | (1u << 31), 0, 0, 1, 1, 5, &ds), -EINVAL);
}

TEST(set_irqs_range_rules)
{
	union irq_buf b;
	size_t ds;

	memset(&b, 0, sizeof(b));
	/* start >= num_irqs */
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 3, 1, 4, 5, &ds), 0);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 4, 0, 4, 5, &ds), -EINVAL);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 4, 1, 4, 5, &ds), -EINVAL);
	/* start + count > num_irqs */
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 0, 4, 4, 5, &ds), 0);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 0, 5, 4, 5, &ds), -EINVAL);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 2, 3, 4, 5, &ds), -EINVAL);
	/* count 0 (disable the index) with a valid start */
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 0, 0, 1, 5, &ds), 0);
	/* an index that does not exist has num_irqs 0: nothing is valid */
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 2, 0, 0, 0, 5, &ds), -EINVAL);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 2, 0, 1, 0, 5, &ds), -EINVAL);
}

TEST(set_irqs_data_type_rules)
{
	const uint32_t action = VFIO_IRQ_SET_ACTION_TRIGGER;
	union irq_buf b;
	size_t ds;

	memset(&b, 0, sizeof(b));
	/* not exactly one data type */
	CHECK_EQ(irqs(&b, 64, action, 0, 0, 1, 1, 5, &ds), -EINVAL);
	CHECK_EQ(irqs(&b, 64, action | VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL, 0, 0, 1, 1,
		      5, &ds),
		 -EINVAL);
	CHECK_EQ(irqs(&b, 64, action | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD, 0, 0,
		      1, 1, 5, &ds),
		 -EINVAL);
	CHECK_EQ(irqs(&b, 64, action | VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_EVENTFD, 0, 0,
		      1, 1, 5, &ds),
		 -EINVAL);
	CHECK_EQ(irqs(&b, 64, action | VFIO_IRQ_SET_DATA_TYPE_MASK, 0, 0, 1, 1, 5, &ds), -EINVAL);
	/* the actions are not checked: none, or several, pass */
	CHECK_EQ(irqs(&b, IRQ_HDR, VFIO_IRQ_SET_DATA_NONE, 0, 0, 1, 1, 5, &ds), 0);
	CHECK_EQ(irqs(&b, IRQ_HDR, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TYPE_MASK, 0, 0, 1,
		      1, 5, &ds),
		 0);
}

TEST(set_irqs_data_size_rules)
{
	union irq_buf b;
	size_t ds;

	memset(&b, 0, sizeof(b));
	/* BOOL: one byte per interrupt */
	CHECK_EQ(irqs(&b, IRQ_HDR + 2, BOOL_TRIGGER, 0, 0, 3, 4, 5, &ds), -EINVAL);
	ds = 0;
	CHECK_EQ(irqs(&b, IRQ_HDR + 3, BOOL_TRIGGER, 0, 0, 3, 4, 5, &ds), 0);
	CHECK_EQ(ds, 3);
	CHECK_EQ(irqs(&b, IRQ_HDR + 50, BOOL_TRIGGER, 0, 1, 3, 4, 5, &ds), 0);
	CHECK_EQ(ds, 3);
	/* EVENTFD: one s32 per interrupt */
	CHECK_EQ(irqs(&b, IRQ_HDR + 7, EVENTFD_TRIGGER, 0, 0, 2, 4, 5, &ds), -EINVAL);
	ds = 0;
	CHECK_EQ(irqs(&b, IRQ_HDR + 8, EVENTFD_TRIGGER, 0, 0, 2, 4, 5, &ds), 0);
	CHECK_EQ(ds, 8);
	CHECK_EQ(irqs(&b, IRQ_HDR, EVENTFD_TRIGGER, 0, 0, 1, 4, 5, &ds), -EINVAL);
	/* count 0: no data needed */
	ds = 99;
	CHECK_EQ(irqs(&b, IRQ_HDR, EVENTFD_TRIGGER, 0, 0, 0, 4, 5, &ds), 0);
	CHECK_EQ(ds, 0);
	/* NONE: data_size is 0 and may be NULL; BOOL and EVENTFD need it */
	ds = 99;
	CHECK_EQ(irqs(&b, IRQ_HDR + 8, NONE_TRIGGER, 0, 0, 2, 4, 5, &ds), 0);
	CHECK_EQ(ds, 0);
	CHECK_EQ(irqs(&b, IRQ_HDR, NONE_TRIGGER, 0, 0, 2, 4, 5, NULL), 0);
	CHECK_EQ(irqs(&b, IRQ_HDR + 8, EVENTFD_TRIGGER, 0, 0, 2, 4, 5, NULL), -EINVAL);
	CHECK_EQ(irqs(&b, IRQ_HDR + 8, BOOL_TRIGGER, 0, 0, 2, 4, 5, NULL), -EINVAL);
}

/* ---- vfio_check_feature() ---- */

TEST(check_feature_rules)
{
	const uint32_t get = VFIO_DEVICE_FEATURE_GET, set = VFIO_DEVICE_FEATURE_SET;
	const uint32_t probe = VFIO_DEVICE_FEATURE_PROBE;

	/* GET/SET that the feature supports, with enough payload: carry it out */
	CHECK_EQ(vfio_check_feature(get | 3, 8, get, 8), 1);
	CHECK_EQ(vfio_check_feature(set | 3, 16, get | set, 8), 1);
	/* not supported */
	CHECK_EQ(vfio_check_feature(set | 3, 16, get, 8), -EINVAL);
	CHECK_EQ(vfio_check_feature(get | 3, 16, set, 8), -EINVAL);
	CHECK_EQ(vfio_check_feature(get | 3, 16, 0, 8), -EINVAL);
	/* PROBE: 0 when the asked operations are supported, whatever the size */
	CHECK_EQ(vfio_check_feature(probe | get | 3, 0, get, 8), 0);
	CHECK_EQ(vfio_check_feature(probe | get | set | 3, 0, get | set, 8), 0);
	CHECK_EQ(vfio_check_feature(probe | 3, 0, get, 8), 0);
	CHECK_EQ(vfio_check_feature(probe | set | 3, 0, get, 8), -EINVAL);
	/* neither GET nor SET without PROBE */
	CHECK_EQ(vfio_check_feature(3, 16, get | set, 8), -EINVAL);
	/* payload too small */
	CHECK_EQ(vfio_check_feature(get | 3, 7, get, 8), -EINVAL);
	CHECK_EQ(vfio_check_feature(set | 3, 0, set, 1), -EINVAL);
	CHECK_EQ(vfio_check_feature(set | 3, 0, set, 0), 1);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
