/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture and helpers of null_fixture.h, and the main() of the null driver's test
 * executable (its cases are in test_null_*.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "null_fixture.h"

/* ---- fixture: the module started, its parent and its type ---- */

bool setup(struct fixture *f)
{
	f->parent = NULL;
	f->type = NULL;
	if (!CHECK_EQ(MOD->init(), 0))
		return false;
	if (!CHECK_EQ(mdev_parent_get_by_name("null", &f->parent), 0)) {
		MOD->exit();
		return false;
	}
	f->type = mdev_parent_find_type(f->parent, "null-1");
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

/* ---- helpers ---- */

guid_t make_uuid(unsigned int n, char text[UUID_STRING_SIZE])
{
	char buf[UUID_STRING_SIZE];
	guid_t u;

	snprintf(buf, sizeof(buf), "6e756c6c-0000-4000-8000-%012x", n);
	if (uuid_parse(buf, &u))
		abort();
	if (text)
		memcpy(text, buf, sizeof(buf));
	return u;
}

bool dev_create_open(struct fixture *f, unsigned int n, struct dev *d)
{
	guid_t u = make_uuid(n, d->uuid);

	d->mdev = NULL;
	d->vdev = NULL;
	if (!CHECK_EQ(mdev_device_create(f->type, &u, &d->mdev), 0))
		return false;
	if (!CHECK_EQ(vfio_device_get_from_name(d->uuid, &d->vdev), 0)) {
		d->vdev = NULL;
		return false;
	}
	if (!CHECK_EQ(vfio_device_open(d->vdev, NULL), 0)) {
		vfio_put_device(d->vdev);
		d->vdev = NULL;
		return false;
	}
	return true;
}

/* Closes, removes and drops whatever dev_create_open() got. */
void dev_close_remove(struct dev *d)
{
	if (d->vdev) {
		vfio_device_close(d->vdev);
		vfio_put_device(d->vdev);
		d->vdev = NULL;
	}
	if (d->mdev) {
		CHECK_EQ(mdev_device_remove(d->mdev), 0);
		mdev_device_put(d->mdev);
		d->mdev = NULL;
	}
}

uint32_t get_le(const uint8_t *p, unsigned int len)
{
	uint32_t v = 0;

	for (unsigned int i = len; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

uint32_t cfg_read(struct vfio_device *vdev, unsigned int off, unsigned int len)
{
	uint8_t b[4] = { 0 };

	CHECK_EQ(vfio_device_read(vdev, b, len, CFG + off), len);
	return get_le(b, len);
}

void cfg_write(struct vfio_device *vdev, unsigned int off, uint32_t val, unsigned int len)
{
	uint8_t b[4];

	for (unsigned int i = 0; i < 4; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	CHECK_EQ(vfio_device_write(vdev, b, len, CFG + off), len);
}

struct attribute *find_attr(const struct attribute_group *g, const char *name)
{
	for (struct attribute **a = g->attrs; a && *a; a++)
		if (!strcmp((*a)->name, name))
			return *a;
	return NULL;
}

/* Reads a type attribute into @buf; "" on error (the error is checked). */
const char *type_attr(struct mdev_type *mtype, const char *name, char *buf)
{
	struct attribute *attr = find_attr(mtype_get_group(mtype), name);
	ssize_t n;

	buf[0] = 0;
	if (!CHECK(attr))
		return buf;
	memset(buf, 0, UMDEV_ATTR_BUF_SIZE);
	n = mdev_type_attr_show(mtype, attr, buf);
	CHECK(n >= 0 && (size_t)n == strlen(buf));
	return buf;
}

long available(struct mdev_type *mtype)
{
	char buf[UMDEV_ATTR_BUF_SIZE];

	return strtol(type_attr(mtype, "available_instances", buf), NULL, 10);
}

void deadline_in(struct timespec *ts, int seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += seconds;
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
