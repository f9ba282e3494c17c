/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture and helpers of mtty_fixture.h, and the main() of the suite through the core
 * API (its cases are in test_mtty_*.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtty_fixture.h"
#include "mtty_suite_common.h"

/* ---- fixture ---- */

bool setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	if (!module_start(MOD, MTTY_PARENT_NAME, &f->parent))
		return false;
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
	module_stop(MOD, f->parent);
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
	char text[UUID_STRING_SIZE];
	guid_t uuid;
	bool ok;

	make_uuid(n, text, &uuid);
	ok = dev_create_open_on(f->type[ports - 1], text, d, false);
	/* small odd chunks, to cross the boundaries of the stream's layout */
	d->mig_read_chunk = 7;
	d->mig_write_chunk = 5;
	return ok;
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
	return (uint32_t)region_rd(d, CFG + off, len);
}

void cfg_wr(struct dev *d, unsigned int off, uint32_t val, unsigned int len)
{
	region_wr(d, CFG + off, val, len);
}

/* ---- attributes ---- */

static ssize_t terminate(ssize_t n, char *buf)
{
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

ssize_t dev_attr_show(struct fixture *f, struct dev *d, const char *name, char *buf)
{
	const struct mdev_parent_ops *ops = mdev_parent_get_ops(f->parent);
	struct attribute *a = attr_find(ops->mdev_attr_groups, "vendor", name);

	buf[0] = '\0';
	if (!a)
		return -ENOENT;
	return terminate(mdev_dev_attr_show(mdev_dev(d->mdev), a, buf), buf);
}

ssize_t dev_attr_store_n(struct fixture *f, struct dev *d, const char *name, const char *buf,
			 size_t count)
{
	const struct mdev_parent_ops *ops = mdev_parent_get_ops(f->parent);
	struct attribute *a = attr_find(ops->mdev_attr_groups, "vendor", name);

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
	struct attribute *a = attr_find(groups, NULL, name);

	buf[0] = '\0';
	if (!a)
		return -ENOENT;
	return terminate(mdev_type_attr_show(type, a, buf), buf);
}

ssize_t parent_attr_show(struct fixture *f, const char *name, char *buf)
{
	const struct mdev_parent_ops *ops = mdev_parent_get_ops(f->parent);
	struct attribute *a = attr_find(ops->dev_attr_groups, "mtty_dev", name);

	buf[0] = '\0';
	if (!a)
		return -ENOENT;
	return terminate(mdev_dev_attr_show(mdev_parent_device(f->parent), a, buf), buf);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
