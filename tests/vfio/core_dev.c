/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The helpers of core_dev.h: a driver suite's device, opened through the core API the way a
 * transport opens it, and the checked device-file requests the suites make of it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core_dev.h"

/* ---- the module ---- */

bool module_start(const struct umdev_driver_module *mod, const char *name,
		  struct mdev_parent **parent)
{
	*parent = NULL;
	if (!CHECK_EQ(mod->init(), 0))
		return false;
	if (!CHECK_EQ(mdev_parent_get_by_name(name, parent), 0)) {
		*parent = NULL;
		mod->exit();
		return false;
	}
	return true;
}

void module_stop(const struct umdev_driver_module *mod, struct mdev_parent *parent)
{
	if (parent)
		mdev_parent_put(parent);
	mod->exit();
}

/* ---- devices ---- */

static bool guest_create(struct dev *d)
{
	void *p;

	d->guest_fd = memfd_create("test-guest", MFD_CLOEXEC);
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

bool dev_create_open_on(struct mdev_type *type, const char *uuid, struct dev *d,
			bool with_dma)
{
	guid_t u;

	memset(d, 0, sizeof(*d));
	d->guest_fd = -1;
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
	if (uuid_parse(d->uuid, &u))
		abort();
	if (!CHECK_EQ(mdev_device_create(type, &u, &d->mdev), 0)) {
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

uint64_t region_rd(struct dev *d, uint64_t pos, unsigned int len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	CHECK_EQ(vfio_device_read(d->vdev, b, len, pos), len);
	for (unsigned int i = len; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

void region_wr(struct dev *d, uint64_t pos, uint64_t v, unsigned int len)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	CHECK_EQ(vfio_device_write(d->vdev, b, len, pos), len);
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

bool fd_wait(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

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

long feature_get(struct dev *d, uint32_t feature, void *out, size_t len)
{
	union feature_buf b;
	long ret;

	memset(&b, 0, sizeof(b));
	b.hdr.argsz = (uint32_t)(sizeof(b.hdr) + len);
	b.hdr.flags = VFIO_DEVICE_FEATURE_GET | feature;
	ret = vfio_device_ioctl(d->vdev, VFIO_DEVICE_FEATURE, &b.hdr);
	if (!ret)
		memcpy(out, b.hdr.data, len);
	return ret;
}

long precopy_info(struct dev *d, struct vfio_precopy_info *info)
{
	memset(info, 0xee, sizeof(*info));
	info->argsz = sizeof(*info);
	return vfio_device_mig_ioctl(d->vdev, VFIO_MIG_GET_PRECOPY_INFO, info);
}

/* At most @chunk bytes of the @left (a chunk of 0: all at once). */
static size_t chunk_of(size_t left, size_t chunk)
{
	return chunk && chunk < left ? chunk : left;
}

ssize_t mig_read_all(struct dev *d, uint8_t *buf, size_t cap)
{
	size_t total = 0;

	for (;;) {
		/* chunks of the fixture's odd size, to cross the boundaries of the stream's layout */
		ssize_t n = vfio_device_mig_read(d->vdev, buf + total,
						 chunk_of(cap - total, d->mig_read_chunk));

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
		ssize_t n = vfio_device_mig_write(d->vdev, buf + done,
						  chunk_of(len - done, d->mig_write_chunk));

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}
