/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's objects as the sysfs tree sees them: the parents with their device paths,
 * the active devices (filtered by parent, type or bound driver, or the one a lookup
 * wants), a device's bound driver and vfio device, and the emission of attribute groups.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>

#include "mgmt/sysfs/sysfs_private.h"

struct mdev_parent *sysfs_mdev_parent(struct mdev_device *mdev)
{
	return mtype_get_parent(mdev_get_type(mdev));
}

const char *sysfs_bound_driver(const struct device *dev)
{
	/*
	 * TODO(core): an accessor for the bound driver (dev_driver_string() falls back to the
	 * bus and class names). driver_name is written by the core with an atomic store, as
	 * dev_driver_string() reads it.
	 */
	const char *drv = __atomic_load_n(&dev->driver_name, __ATOMIC_ACQUIRE);

	return drv && sysfs_name_ok(drv) ? drv : NULL;
}

const char *sysfs_parent_class(struct mdev_parent *parent)
{
	const char *c = mdev_parent_device(parent)->class_name;

	/* the two classes the tree makes itself are not the vendor's */
	if (!c || !sysfs_name_ok(c) || !strcmp(c, "mdev_bus") || !strcmp(c, "vfio-dev"))
		return NULL;
	return c;
}

const char *sysfs_parent_bus(struct mdev_parent *parent)
{
	const struct device *dev = mdev_parent_device(parent);
	const char *b = dev->bus_name;

	if (sysfs_parent_class(parent) || !b || !sysfs_name_ok(b) || !strcmp(b, MDEV_BUS_NAME))
		return NULL;
	return b;
}

bool sysfs_mdev_has_vfio(struct mdev_device *mdev)
{
	char uuid[UUID_STRING_LEN + 1];
	struct vfio_device *vdev;

	sysfs_uuid_str(mdev, uuid);
	if (vfio_device_get_from_name(uuid, &vdev))
		return false;
	vfio_put_device(vdev);
	return true;
}

int sysfs_parents_load(struct sysfs_parents *pl)
{
	struct mdev_parent **parents;
	char path[SYSFS_PATH_MAX];
	ssize_t n = mdev_parents_list(&parents);

	memset(pl, 0, sizeof(*pl));
	if (n < 0)
		return (int)n;
	pl->parents = parents;
	pl->count = (size_t)n;
	pl->paths = calloc(pl->count ? pl->count : 1, sizeof(*pl->paths));
	if (!pl->paths) {
		sysfs_parents_release(pl);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pl->count; i++) {
		if (sysfs_dev_path(mdev_parent_device(parents[i]), path, sizeof(path)) < 0)
			continue;
		pl->paths[i] = strdup(path);
		if (!pl->paths[i]) {
			sysfs_parents_release(pl);
			return -ENOMEM;
		}
	}
	return 0;
}

void sysfs_parents_release(struct sysfs_parents *pl)
{
	if (pl->paths)
		for (size_t i = 0; i < pl->count; i++)
			free(pl->paths[i]);
	free(pl->paths);
	if (pl->parents)
		mdev_parents_free(pl->parents, pl->count);
	memset(pl, 0, sizeof(*pl));
}

/* One device against the filters; calls @fn. True ends the iteration. */
static bool device_visit(struct sysfs_walk *w, struct mdev_device *mdev,
			 struct mdev_parent *parent, struct mdev_type *type, const char *drv,
			 sysfs_dev_fn fn)
{
	struct mdev_parent *p = sysfs_mdev_parent(mdev);
	char ppath[SYSFS_PATH_MAX];
	unsigned int num;

	if ((parent && p != parent) || (type && mdev_get_type(mdev) != type))
		return false;
	if (drv) {
		const char *bound = sysfs_bound_driver(mdev_dev(mdev));

		if (!bound || strcmp(bound, drv))
			return false;
	}
	/* a lookup may find a device in any state; only active ones are in the tree */
	if (!w->any_state && !mdev_device_is_active(mdev))
		return false;
	if (sysfs_dev_num(w->tree, mdev, &num))
		return false; /* never seen active: not in the tree */
	if (sysfs_dev_path(mdev_parent_device(p), ppath, sizeof(ppath)) < 0)
		return false;
	return fn(w, mdev, p, ppath, num);
}

/* Parses "<digits>" without leading zeros into @num. */
static bool parse_num(const char *s, unsigned int *num)
{
	unsigned long v = 0;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 9)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*num = (unsigned int)v;
	return true;
}

/* The device a lookup wants (a reference), or NULL. */
static struct mdev_device *wanted_device(struct sysfs_walk *w, enum sysfs_dev_key key)
{
	char canon[UUID_STRING_LEN + 1];
	struct mdev_device *mdev;
	unsigned int num;
	guid_t uuid;

	switch (key) {
	case SYSFS_KEY_UUID:
		if (mdev_uuid_parse(w->want, &uuid))
			return NULL;
		mdev_uuid_format(&uuid, canon);
		if (strcmp(canon, w->want)) /* only the lower-case name exists */
			return NULL;
		return mdev_device_get_by_uuid(&uuid, &mdev) ? NULL : mdev;
	case SYSFS_KEY_NUM:
		return parse_num(w->want, &num) ? sysfs_dev_by_num(w->tree, num) : NULL;
	case SYSFS_KEY_VFIO:
		if (strncmp(w->want, "vfio", 4) || !parse_num(w->want + 4, &num))
			return NULL;
		return sysfs_dev_by_num(w->tree, num);
	}
	return NULL;
}

int sysfs_for_each_device(struct sysfs_walk *w, struct mdev_parent *parent,
			  struct mdev_type *type, const char *drv, enum sysfs_dev_key key,
			  sysfs_dev_fn fn)
{
	struct sysfs_parents pl = { 0 };
	struct mdev_device **devs;
	ssize_t n;
	int ret;

	/* counting subdirectories: the callers that emit device directories count them with
	 * sysfs_count_devices(); links and groups are no directories of this one */
	if (w->mode == SYSFS_WALK_COUNT)
		return 0;
	if (w->mode == SYSFS_WALK_LOOKUP) {
		struct mdev_device *mdev = wanted_device(w, key);

		if (mdev) {
			device_visit(w, mdev, parent, type, drv, fn);
			mdev_device_put(mdev);
		}
		return 0;
	}
	if (type || parent) {
		n = type ? mdev_type_devices(type, &devs) : mdev_parent_devices(parent, &devs);
		if (n < 0)
			return (int)n;
		for (ssize_t i = 0; i < n; i++)
			if (device_visit(w, devs[i], parent, type, drv, fn))
				break;
		mdev_devices_free(devs, (size_t)n);
		return 0;
	}
	ret = sysfs_parents_load(&pl);
	if (ret)
		return ret;
	for (size_t p = 0; p < pl.count && !w->err; p++) {
		bool stop = false;

		n = mdev_parent_devices(pl.parents[p], &devs);
		if (n < 0) {
			ret = (int)n;
			break;
		}
		for (ssize_t i = 0; i < n && !stop; i++)
			stop = device_visit(w, devs[i], NULL, NULL, drv, fn);
		mdev_devices_free(devs, (size_t)n);
		if (stop)
			break;
	}
	sysfs_parents_release(&pl);
	return ret;
}

bool sysfs_walk_attrs(struct sysfs_walk *w, const struct attribute_group *group,
		      enum sysfs_kind kind, const struct sysfs_obj *base)
{
	struct sysfs_obj obj = *base;

	if (!group->attrs)
		return false;
	obj.group = group;
	for (struct attribute **a = group->attrs; *a; a++) {
		obj.attr = *a;
		if ((*a)->name && sysfs_walk_emit(w, (*a)->name, kind, &obj, NULL))
			return true;
	}
	return false;
}

bool sysfs_walk_group(struct sysfs_walk *w, const struct attribute_group *group,
		      enum sysfs_kind kind, enum sysfs_kind dir_kind,
		      const struct sysfs_obj *base)
{
	struct sysfs_obj obj = *base;

	if (!group->name)
		return sysfs_walk_attrs(w, group, kind, base);
	obj.group = group;
	return sysfs_walk_emit(w, group->name, dir_kind, &obj, NULL);
}
