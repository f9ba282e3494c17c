/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The directories outside devices/: the root, class/ (mdev_bus, each parent's class,
 * vfio-dev), bus/mdev/ (devices/ and drivers/), bus/<B>/devices/ for parents on a bus B,
 * and kernel/iommu_groups/. Their entries
 * are links into devices/ and a few attributes; docs/sysfs-layout.md lists them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/sysfs/sysfs_private.h"

static const struct sysfs_obj no_obj;

int sysfs_list_root(struct sysfs_walk *w)
{
	struct sysfs_obj devices = { .str = "" };

	if (sysfs_walk_emit(w, "bus", SK_BUS, &no_obj, NULL) ||
	    sysfs_walk_emit(w, "class", SK_CLASS, &no_obj, NULL) ||
	    sysfs_walk_emit(w, "devices", SK_DEVPREFIX, &devices, NULL))
		return 0;
	sysfs_walk_emit(w, "kernel", SK_KERNEL, &no_obj, NULL);
	return 0;
}

int sysfs_list_empty(struct sysfs_walk *w)
{
	(void)w;
	return 0;
}

/* ---- class/ ---- */

int sysfs_list_class(struct sysfs_walk *w)
{
	struct sysfs_parents pl;
	int ret;

	if (sysfs_walk_emit(w, "mdev_bus", SK_CLASS_MDEV_BUS, &no_obj, NULL) ||
	    sysfs_walk_emit(w, "vfio-dev", SK_CLASS_VFIO, &no_obj, NULL))
		return 0;
	ret = sysfs_parents_load(&pl);
	if (ret)
		return ret;
	for (size_t i = 0; i < pl.count; i++) {
		const char *c = sysfs_parent_class(pl.parents[i]);
		struct sysfs_obj obj = { .str = c };
		bool seen = false;

		if (!c || !pl.paths[i])
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = pl.paths[j] && sysfs_parent_class(pl.parents[j]) &&
			       !strcmp(sysfs_parent_class(pl.parents[j]), c);
		if (!seen && sysfs_walk_emit(w, c, SK_CLASS_DIR, &obj, NULL))
			break;
	}
	sysfs_parents_release(&pl);
	return 0;
}

/* Links named after parents (of class @class, on bus @bus, or all) to their directories. */
static int list_parent_links(struct sysfs_walk *w, const char *class, const char *bus)
{
	char target[SYSFS_PATH_MAX];
	struct sysfs_parents pl;
	int ret = sysfs_parents_load(&pl);

	if (ret)
		return ret;
	for (size_t i = 0; i < pl.count; i++) {
		struct sysfs_obj obj = { .parent = pl.parents[i] };
		const char *c = sysfs_parent_class(pl.parents[i]);
		const char *b = sysfs_parent_bus(pl.parents[i]);

		if (!pl.paths[i] || (class && (!c || strcmp(c, class))) ||
		    (bus && (!b || strcmp(b, bus))))
			continue;
		if (sysfs_join(target, sizeof(target), "devices", pl.paths[i]) < 0)
			continue;
		if (sysfs_walk_emit(w, dev_name(mdev_parent_device(pl.parents[i])), SK_LINK, &obj,
				    target))
			break;
	}
	sysfs_parents_release(&pl);
	return 0;
}

int sysfs_list_class_mdev_bus(struct sysfs_walk *w)
{
	return list_parent_links(w, NULL, NULL);
}

int sysfs_list_class_dir(struct sysfs_walk *w)
{
	return list_parent_links(w, w->dir->obj.str, NULL);
}

static bool emit_vfio_link(struct sysfs_walk *w, struct mdev_device *mdev,
			   struct mdev_parent *parent, const char *ppath, unsigned int num)
{
	struct sysfs_obj obj = { .parent = parent, .mdev = mdev, .num = num };
	char uuid[UUID_STRING_LEN + 1], name[16], target[SYSFS_PATH_MAX];
	int n;

	if (!sysfs_mdev_has_vfio(mdev))
		return false;
	sysfs_uuid_str(mdev, uuid);
	snprintf(name, sizeof(name), "vfio%u", num);
	n = snprintf(target, sizeof(target), "devices/%s/%s/vfio-dev/%s", ppath, uuid, name);
	if (n < 0 || (size_t)n >= sizeof(target))
		return false;
	return sysfs_walk_emit(w, name, SK_LINK, &obj, target);
}

int sysfs_list_class_vfio(struct sysfs_walk *w)
{
	return sysfs_for_each_device(w, NULL, NULL, NULL, SYSFS_KEY_VFIO, emit_vfio_link);
}

/* ---- bus/ ---- */

int sysfs_list_bus(struct sysfs_walk *w)
{
	struct sysfs_parents pl;
	int ret;

	if (sysfs_walk_emit(w, "mdev", SK_BUS_MDEV, &no_obj, NULL))
		return 0;
	/* the buses of parents that are not class devices (their subsystem links) */
	ret = sysfs_parents_load(&pl);
	if (ret)
		return ret;
	for (size_t i = 0; i < pl.count; i++) {
		const char *b = sysfs_parent_bus(pl.parents[i]);
		struct sysfs_obj obj = { .str = b };
		bool seen = false;

		if (!b || !pl.paths[i])
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = pl.paths[j] && sysfs_parent_bus(pl.parents[j]) &&
			       !strcmp(sysfs_parent_bus(pl.parents[j]), b);
		if (!seen && sysfs_walk_emit(w, b, SK_BUS_DIR, &obj, NULL))
			break;
	}
	sysfs_parents_release(&pl);
	return 0;
}

int sysfs_list_bus_dir(struct sysfs_walk *w)
{
	sysfs_walk_emit(w, "devices", SK_BUS_DIR_DEVICES, &w->dir->obj, NULL);
	return 0;
}

int sysfs_list_bus_dir_devices(struct sysfs_walk *w)
{
	return list_parent_links(w, NULL, w->dir->obj.str);
}

int sysfs_list_bus_mdev(struct sysfs_walk *w)
{
	if (!sysfs_walk_emit(w, "devices", SK_BUS_DEVICES, &no_obj, NULL))
		sysfs_walk_emit(w, "drivers", SK_BUS_DRIVERS, &no_obj, NULL);
	return 0;
}

bool sysfs_emit_device_link(struct sysfs_walk *w, struct mdev_device *mdev,
			    struct mdev_parent *parent, const char *ppath, unsigned int num)
{
	struct sysfs_obj obj = { .parent = parent, .mdev = mdev, .num = num };
	char uuid[UUID_STRING_LEN + 1], target[SYSFS_PATH_MAX];
	int n;

	sysfs_uuid_str(mdev, uuid);
	n = snprintf(target, sizeof(target), "devices/%s/%s", ppath, uuid);
	if (n < 0 || (size_t)n >= sizeof(target))
		return false;
	return sysfs_walk_emit(w, uuid, SK_LINK, &obj, target);
}

int sysfs_list_bus_devices(struct sysfs_walk *w)
{
	return sysfs_for_each_device(w, NULL, NULL, NULL, SYSFS_KEY_UUID, sysfs_emit_device_link);
}

/* Adds @name to the set @names (of @n, room for @cap) unless there; -ENOMEM. */
static int names_add(const char ***names, size_t *n, size_t *cap, const char *name)
{
	if (!name || !sysfs_name_ok(name))
		return 0;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*names)[i], name))
			return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		const char **nn = realloc(*names, ncap * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		*names = nn;
		*cap = ncap;
	}
	(*names)[(*n)++] = name;
	return 0;
}

/*
 * TODO(core): the public API cannot list the registered bus drivers. Until it can, the
 * drivers shown are the core's default one, those the parents name, and those bound to
 * devices; the names are the drivers' own static strings.
 */
int sysfs_list_bus_drivers(struct sysfs_walk *w)
{
	const char **names = NULL;
	size_t n = 0, cap = 0;
	struct sysfs_parents pl;
	int ret = sysfs_parents_load(&pl);

	if (ret)
		return ret;
	ret = names_add(&names, &n, &cap, SYSFS_DEFAULT_BUS_DRIVER);
	for (size_t p = 0; p < pl.count && !ret; p++) {
		const struct mdev_parent_ops *ops = mdev_parent_get_ops(pl.parents[p]);
		struct mdev_device **devs;
		ssize_t nd;

		if (ops->device_driver)
			ret = names_add(&names, &n, &cap, ops->device_driver->name);
		nd = mdev_parent_devices(pl.parents[p], &devs);
		if (nd < 0) {
			ret = (int)nd;
			break;
		}
		for (ssize_t i = 0; i < nd && !ret; i++)
			ret = names_add(&names, &n, &cap, sysfs_bound_driver(mdev_dev(devs[i])));
		mdev_devices_free(devs, (size_t)nd);
	}
	for (size_t i = 0; i < n && !ret; i++) {
		struct sysfs_obj obj = { .str = names[i] };

		if (sysfs_walk_emit(w, names[i], SK_BUS_DRIVER, &obj, NULL))
			break;
	}
	free(names);
	sysfs_parents_release(&pl);
	return ret;
}

int sysfs_list_bus_driver(struct sysfs_walk *w)
{
	if (sysfs_walk_emit(w, "uevent", SK_DRIVER_UEVENT, &no_obj, NULL))
		return 0;
	return sysfs_for_each_device(w, NULL, NULL, w->dir->obj.str, SYSFS_KEY_UUID,
				     sysfs_emit_device_link);
}

/* ---- kernel/iommu_groups/ ---- */

int sysfs_list_kernel(struct sysfs_walk *w)
{
	sysfs_walk_emit(w, "iommu_groups", SK_IOMMU_GROUPS, &no_obj, NULL);
	return 0;
}

static bool emit_group(struct sysfs_walk *w, struct mdev_device *mdev,
		       struct mdev_parent *parent, const char *ppath, unsigned int num)
{
	struct sysfs_obj obj = { .parent = parent, .mdev = mdev, .num = num };
	char name[16];

	(void)ppath;
	snprintf(name, sizeof(name), "%u", num);
	return sysfs_walk_emit(w, name, SK_IOMMU_GROUP, &obj, NULL);
}

int sysfs_list_iommu_groups(struct sysfs_walk *w)
{
	if (w->mode == SYSFS_WALK_COUNT)
		w->ndirs += sysfs_count_devices(w->tree, NULL);
	return sysfs_for_each_device(w, NULL, NULL, NULL, SYSFS_KEY_NUM, emit_group);
}

int sysfs_list_iommu_group(struct sysfs_walk *w)
{
	const struct sysfs_obj *obj = &w->dir->obj;

	if (!sysfs_walk_emit(w, "devices", SK_IOMMU_GROUP_DEVICES, obj, NULL))
		sysfs_walk_emit(w, "name", SK_GROUP_NAME, obj, NULL);
	return 0;
}

int sysfs_list_iommu_group_devices(struct sysfs_walk *w)
{
	const struct sysfs_obj *obj = &w->dir->obj;
	char ppath[SYSFS_PATH_MAX];

	if (sysfs_dev_path(mdev_parent_device(obj->parent), ppath, sizeof(ppath)) < 0)
		return 0;
	sysfs_emit_device_link(w, obj->mdev, obj->parent, ppath, obj->num);
	return 0;
}
