/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture and helpers of mtty_fixture.h, and the main() of the suite through the core
 * API (its cases are in test_mtty_*.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mtty_fixture.h"

/* ---- fixture ---- */

bool setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	if (!CHECK_EQ(MOD->init(), 0))
		return false;
	if (!CHECK_EQ(mdev_parent_get_by_name(MTTY_PARENT_NAME, &f->parent), 0)) {
		MOD->exit();
		return false;
	}
	f->type[0] = mdev_parent_find_type(f->parent, MTTY_TYPE_1);
	f->type[1] = mdev_parent_find_type(f->parent, MTTY_TYPE_2);
	if (!CHECK(f->type[0]) || !CHECK(f->type[1])) {
		teardown(f);
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

void make_uuid(unsigned int n, char text[UUID_STRING_SIZE], guid_t *uuid)
{
	snprintf(text, UUID_STRING_SIZE, "6d747479-0000-4000-8000-%012x", n);
	if (uuid_parse(text, uuid))
		abort();
}

int dev_create_raw(struct fixture *f, unsigned int ports, unsigned int n,
		   struct mdev_device **mdev)
{
	char text[UUID_STRING_SIZE];
	guid_t uuid;

	make_uuid(n, text, &uuid);
	return mdev_device_create(f->type[ports - 1], &uuid, mdev);
}

bool dev_create(struct fixture *f, unsigned int ports, unsigned int n, struct dev *d)
{
	guid_t uuid;

	memset(d, 0, sizeof(*d));
	make_uuid(n, d->uuid, &uuid);
	if (!CHECK_EQ(mdev_device_create(f->type[ports - 1], &uuid, &d->mdev), 0)) {
		d->mdev = NULL;
		return false;
	}
	if (!CHECK_EQ(vfio_device_get_from_name(d->uuid, &d->vdev), 0)) {
		d->vdev = NULL;
		return false;
	}
	if (!CHECK_EQ(vfio_device_open(d->vdev, NULL), 0))
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
	memset(d, 0, sizeof(*d));
}

/* ---- region accesses ---- */

uint8_t reg_rd(struct dev *d, unsigned int port, unsigned int reg)
{
	uint8_t v = 0;

	CHECK_EQ(vfio_device_read(d->vdev, &v, 1, BAR(port) + reg), 1);
	return v;
}

void reg_wr(struct dev *d, unsigned int port, unsigned int reg, uint8_t val)
{
	CHECK_EQ(vfio_device_write(d->vdev, &val, 1, BAR(port) + reg), 1);
}

uint32_t cfg_rd(struct dev *d, unsigned int off, unsigned int len)
{
	uint8_t b[4] = { 0 };
	uint32_t v = 0;

	CHECK_EQ(vfio_device_read(d->vdev, b, len, CFG + off), len);
	for (unsigned int i = len; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

void cfg_wr(struct dev *d, unsigned int off, uint32_t val, unsigned int len)
{
	uint8_t b[4];

	for (unsigned int i = 0; i < len; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	CHECK_EQ(vfio_device_write(d->vdev, b, len, CFG + off), len);
}

/* ---- attributes ---- */

/* The attribute @name in the NULL-terminated @groups (in group @group if not NULL). */
static struct attribute *find_attr(const struct attribute_group *const *groups,
				   const char *group, const char *name)
{
	for (; groups && *groups; groups++) {
		if (group && (!(*groups)->name || strcmp((*groups)->name, group)))
			continue;
		for (struct attribute **a = (*groups)->attrs; *a; a++)
			if (!strcmp((*a)->name, name))
				return *a;
	}
	return NULL;
}

static ssize_t terminate(ssize_t n, char *buf)
{
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

ssize_t dev_attr_show(struct fixture *f, struct dev *d, const char *name, char *buf)
{
	const struct mdev_parent_ops *ops = mdev_parent_get_ops(f->parent);
	struct attribute *a = find_attr(ops->mdev_attr_groups, "vendor", name);

	buf[0] = '\0';
	if (!a)
		return -ENOENT;
	return terminate(mdev_dev_attr_show(mdev_dev(d->mdev), a, buf), buf);
}

ssize_t dev_attr_store_n(struct fixture *f, struct dev *d, const char *name, const char *buf,
			 size_t count)
{
	const struct mdev_parent_ops *ops = mdev_parent_get_ops(f->parent);
	struct attribute *a = find_attr(ops->mdev_attr_groups, "vendor", name);

	if (!a)
		return -ENOENT;
	return mdev_dev_attr_store(mdev_dev(d->mdev), a, buf, count);
}

ssize_t dev_attr_store(struct fixture *f, struct dev *d, const char *name, const char *text)
{
	return dev_attr_store_n(f, d, name, text, strlen(text));
}

ssize_t type_attr_show(struct mdev_type *type, const char *name, char *buf)
{
	const struct attribute_group *group = mtype_get_group(type);
	const struct attribute_group *groups[] = { group, NULL };
	struct attribute *a = find_attr(groups, NULL, name);

	buf[0] = '\0';
	if (!a)
		return -ENOENT;
	return terminate(mdev_type_attr_show(type, a, buf), buf);
}

ssize_t parent_attr_show(struct fixture *f, const char *name, char *buf)
{
	const struct mdev_parent_ops *ops = mdev_parent_get_ops(f->parent);
	struct attribute *a = find_attr(ops->dev_attr_groups, "mtty_dev", name);

	buf[0] = '\0';
	if (!a)
		return -ENOENT;
	return terminate(mdev_dev_attr_show(mdev_parent_device(f->parent), a, buf), buf);
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
		/* small odd chunks, to cross the boundaries of the stream's layout */
		size_t chunk = cap - total < 7 ? cap - total : 7;
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
		size_t chunk = len - done < 5 ? len - done : 5;
		ssize_t n = vfio_device_mig_write(d->vdev, buf + done, chunk);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
