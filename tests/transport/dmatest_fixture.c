/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture and helpers of dmatest_fixture.h, and the main() of dmatest's test executable
 * (its cases are in test_dmatest*.c).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmatest_fixture.h"
#include "util/cond.h"

/* ---- fixture ---- */

bool setup(struct fixture *f)
{
	f->parent = NULL;
	f->type = NULL;
	if (!CHECK_EQ(MOD->init(), 0))
		return false;
	if (!CHECK_EQ(mdev_parent_get_by_name(DMATEST_PARENT_NAME, &f->parent), 0)) {
		MOD->exit();
		return false;
	}
	f->type = mdev_parent_find_type(f->parent, DMATEST_TYPE_NAME);
	if (!CHECK(f->type)) {
		mdev_parent_put(f->parent);
		MOD->exit();
		return false;
	}
	return true;
}

void teardown(struct fixture *f)
{
	mdev_parent_put(f->parent);
	MOD->exit();
}

/* ---- devices ---- */

static bool guest_create(struct dev *d)
{
	void *p;

	d->guest_fd = memfd_create("dmatest-guest", MFD_CLOEXEC);
	if (!CHECK(d->guest_fd >= 0))
		return false;
	if (!CHECK_EQ(ftruncate(d->guest_fd, GUEST_SIZE), 0))
		return false;
	p = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, d->guest_fd, 0);
	if (!CHECK(p != MAP_FAILED))
		return false;
	d->guest = p;
	return CHECK_EQ(vfio_dma_space_create(&d->space), 0) &&
	       CHECK_EQ(vfio_dma_map(d->space, GUEST_IOVA, GUEST_SIZE, d->guest_fd, 0,
				     IOMMU_READ | IOMMU_WRITE),
			0);
}

bool dev_create_open(struct fixture *f, unsigned int n, struct dev *d, bool with_dma)
{
	guid_t u;

	memset(d, 0, sizeof(*d));
	d->guest_fd = -1;
	snprintf(d->uuid, sizeof(d->uuid), "646d6174-0000-4000-8000-%012x", n);
	if (uuid_parse(d->uuid, &u))
		abort();
	if (!CHECK_EQ(mdev_device_create(f->type, &u, &d->mdev), 0)) {
		d->mdev = NULL;
		return false;
	}
	if (!CHECK_EQ(vfio_device_get_from_name(d->uuid, &d->vdev), 0)) {
		d->vdev = NULL;
		return false;
	}
	if (with_dma && !guest_create(d))
		return false;
	if (!CHECK_EQ(vfio_device_open(d->vdev, d->space), 0))
		return false;
	d->open = true;
	return true;
}

void dev_close(struct dev *d)
{
	if (d->open) {
		vfio_device_close(d->vdev);
		d->open = false;
	}
}

void dev_destroy(struct dev *d)
{
	dev_close(d);
	if (d->vdev)
		vfio_put_device(d->vdev);
	if (d->mdev) {
		CHECK_EQ(mdev_device_remove(d->mdev), 0);
		mdev_device_put(d->mdev);
	}
	vfio_dma_space_destroy(d->space);
	if (d->guest)
		munmap(d->guest, GUEST_SIZE);
	if (d->guest_fd >= 0)
		close(d->guest_fd);
	memset(d, 0, sizeof(*d));
	d->guest_fd = -1;
}

/* ---- region accesses ---- */

static uint64_t get_le(const uint8_t *p, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = len; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t region_rd(struct dev *d, uint64_t pos, unsigned int len)
{
	uint8_t b[8] = { 0 };

	CHECK_EQ(vfio_device_read(d->vdev, b, len, pos), len);
	return get_le(b, len);
}

static void region_wr(struct dev *d, uint64_t pos, uint64_t v, unsigned int len)
{
	uint8_t b[8];

	put_le(b, v, len);
	CHECK_EQ(vfio_device_write(d->vdev, b, len, pos), len);
}

uint32_t rd32(struct dev *d, uint64_t off)
{
	return (uint32_t)region_rd(d, BAR0 + off, 4);
}

uint64_t rd64(struct dev *d, uint64_t off)
{
	return region_rd(d, BAR0 + off, 8);
}

void wr32(struct dev *d, uint64_t off, uint32_t v)
{
	region_wr(d, BAR0 + off, v, 4);
}

void wr64(struct dev *d, uint64_t off, uint64_t v)
{
	region_wr(d, BAR0 + off, v, 8);
}

uint32_t cfg_rd(struct dev *d, unsigned int off, unsigned int len)
{
	return (uint32_t)region_rd(d, CFG + off, len);
}

void cfg_wr(struct dev *d, unsigned int off, uint32_t v, unsigned int len)
{
	region_wr(d, CFG + off, v, len);
}

void bar2_rd(struct dev *d, uint32_t off, void *buf, size_t len)
{
	CHECK_EQ(vfio_device_read(d->vdev, buf, len, BAR2 + off), len);
}

void bar2_wr(struct dev *d, uint32_t off, const void *buf, size_t len)
{
	CHECK_EQ(vfio_device_write(d->vdev, buf, len, BAR2 + off), len);
}

int dma_go(struct dev *d, uint64_t iova, uint32_t len, uint32_t buf_off, uint32_t ctrl)
{
	wr64(d, DMATEST_REG_DMA_ADDR, iova);
	wr32(d, DMATEST_REG_DMA_LEN, len);
	wr32(d, DMATEST_REG_DMA_BUF_OFF, buf_off);
	wr32(d, DMATEST_REG_DMA_CTRL, ctrl | DMATEST_CTRL_GO);
	return (int)rd32(d, DMATEST_REG_DMA_STATUS);
}

void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

/* ---- eventfds and interrupts ---- */

int efd_new(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	CHECK(fd >= 0);
	return fd;
}

uint64_t efd_take(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

bool efd_wait(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };

	return poll(&p, 1, WAIT_TIMEOUT_S * 1000) == 1;
}

/* A vfio_irq_set header and up to 8 bytes of data, aligned for any access. */
union irq_set_buf {
	struct vfio_irq_set hdr;
	uint8_t raw[sizeof(struct vfio_irq_set) + 8];
};

long irq_set_fd(struct dev *d, uint32_t index, uint32_t action, int32_t fd)
{
	union irq_set_buf b;

	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(struct vfio_irq_set) + sizeof(fd);
	b.hdr.flags = VFIO_IRQ_SET_DATA_EVENTFD | action;
	b.hdr.index = index;
	b.hdr.start = 0;
	b.hdr.count = 1;
	memcpy(b.hdr.data, &fd, sizeof(fd));
	return vfio_device_ioctl(d->vdev, VFIO_DEVICE_SET_IRQS, &b.hdr);
}

long irq_set_none(struct dev *d, uint32_t index, uint32_t action, uint32_t start,
		  uint32_t count)
{
	struct vfio_irq_set hdr = {
		.argsz = sizeof(hdr),
		.flags = VFIO_IRQ_SET_DATA_NONE | action,
		.index = index,
		.start = start,
		.count = count,
	};

	return vfio_device_ioctl(d->vdev, VFIO_DEVICE_SET_IRQS, &hdr);
}

long irq_set_bool(struct dev *d, uint32_t index, uint32_t action, uint8_t value)
{
	union irq_set_buf b;

	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(struct vfio_irq_set) + 1;
	b.hdr.flags = VFIO_IRQ_SET_DATA_BOOL | action;
	b.hdr.index = index;
	b.hdr.count = 1;
	b.hdr.data[0] = value;
	return vfio_device_ioctl(d->vdev, VFIO_DEVICE_SET_IRQS, &b.hdr);
}

/* ---- migration ---- */

/* A feature header and its payload, aligned for the payload's u64 fields. */
union feature_buf {
	struct vfio_device_feature hdr;
	uint64_t raw[4];
};

long mig_set(struct dev *d, uint32_t state)
{
	struct vfio_device_feature_mig_state st = { .device_state = state, .data_fd = -2 };
	union feature_buf b;
	long ret;

	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(struct vfio_device_feature) + sizeof(st);
	b.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	memcpy(b.hdr.data, &st, sizeof(st));
	ret = vfio_device_ioctl(d->vdev, VFIO_DEVICE_FEATURE, &b.hdr);
	if (!ret) {
		memcpy(&st, b.hdr.data, sizeof(st));
		CHECK_EQ(st.data_fd, -1); /* the core keeps the stream */
	}
	return ret;
}

uint32_t mig_get(struct dev *d)
{
	struct vfio_device_feature_mig_state st = { 0 };
	union feature_buf b;

	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(struct vfio_device_feature) + sizeof(st);
	b.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	CHECK_EQ(vfio_device_ioctl(d->vdev, VFIO_DEVICE_FEATURE, &b.hdr), 0);
	memcpy(&st, b.hdr.data, sizeof(st));
	return st.device_state;
}

ssize_t mig_read_all(struct dev *d, uint8_t *buf, size_t cap)
{
	size_t total = 0;

	for (;;) {
		/* odd-sized chunks, to cross every boundary of the stream's layout */
		size_t chunk = cap - total < 4093 ? cap - total : 4093;
		ssize_t n = vfio_device_mig_read(d->vdev, buf + total, chunk);

		if (n < 0)
			return n;
		if (n == 0)
			return (ssize_t)total;
		total += (size_t)n;
		if (total == cap) {
			uint8_t extra;

			n = vfio_device_mig_read(d->vdev, &extra, 1);
			return n < 0 ? n : n ? -EFBIG : (ssize_t)total;
		}
	}
}

int mig_write_all(struct dev *d, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t chunk = len - done < 5000 ? len - done : 5000;
		ssize_t n = vfio_device_mig_write(d->vdev, buf + done, chunk);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* ---- misc ---- */

int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1; /* the directory's own fd */
}

void event_init(struct event *e)
{
	pthread_mutex_init(&e->lock, NULL);
	cond_init_monotonic(&e->cond);
	e->set = false;
}

void event_destroy(struct event *e)
{
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
}

void event_set(struct event *e)
{
	pthread_mutex_lock(&e->lock);
	e->set = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

bool event_wait(struct event *e)
{
	struct timespec deadline;
	bool set;

	deadline_after_ms(&deadline, WAIT_TIMEOUT_S * 1000);
	pthread_mutex_lock(&e->lock);
	while (!e->set && cond_wait_until(&e->cond, &e->lock, &deadline))
		;
	set = e->set;
	pthread_mutex_unlock(&e->lock);
	return set;
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
