/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The directory of a mediated device, <parent>/<uuid>/: remove, uevent, power/, the links
 * mdev_type, driver (when bound), subsystem and iommu_group, vfio-dev/vfio<N>/ (while the
 * device has a vfio device) and the vendor's mdev_attr_groups.
 */
#include <stdarg.h>
#include <stdio.h>

#include "mgmt/sysfs/sysfs_private.h"

/* Emits a link @name to the tree path printed from @fmt; true ends the walk. */
static bool emit_link(struct sysfs_walk *w, const char *name, const struct sysfs_obj *obj,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static bool emit_link(struct sysfs_walk *w, const char *name, const struct sysfs_obj *obj,
		      const char *fmt, ...)
{
	char target[SYSFS_PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(target, sizeof(target), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(target))
		return false;
	return sysfs_walk_emit(w, name, SK_LINK, obj, target);
}

int sysfs_list_mdev(struct sysfs_walk *w)
{
	const struct sysfs_obj *obj = &w->dir->obj;
	const struct mdev_parent_ops *ops = mdev_parent_get_ops(obj->parent);
	const char *drv = sysfs_bound_driver(mdev_dev(obj->mdev));
	char ppath[SYSFS_PATH_MAX];

	if (sysfs_dev_path(mdev_parent_device(obj->parent), ppath, sizeof(ppath)) < 0)
		return 0;
	if (sysfs_walk_emit(w, "remove", SK_REMOVE, obj, NULL) ||
	    emit_link(w, "mdev_type", obj, "devices/%s/mdev_supported_types/%s", ppath,
		      mtype_get_name(mdev_get_type(obj->mdev))) ||
	    (drv && emit_link(w, "driver", obj, "bus/mdev/drivers/%s", drv)) ||
	    emit_link(w, "subsystem", obj, "bus/mdev") ||
	    sysfs_walk_emit(w, "uevent", SK_MDEV_UEVENT, obj, NULL) ||
	    sysfs_walk_emit(w, "power", SK_POWER, obj, NULL) ||
	    emit_link(w, "iommu_group", obj, "kernel/iommu_groups/%u", obj->num))
		return 0;
	if (sysfs_mdev_has_vfio(obj->mdev) &&
	    sysfs_walk_emit(w, "vfio-dev", SK_VFIO_DEV, obj, NULL))
		return 0;
	for (const struct attribute_group **g = ops->mdev_attr_groups; g && *g; g++)
		if (sysfs_walk_group(w, *g, SK_MDEV_ATTR, SK_MDEV_GROUP, obj))
			break;
	return 0;
}

int sysfs_list_mdev_group(struct sysfs_walk *w)
{
	sysfs_walk_attrs(w, w->dir->obj.group, SK_MDEV_ATTR, &w->dir->obj);
	return 0;
}

int sysfs_list_vfio_dev(struct sysfs_walk *w)
{
	char name[16];

	snprintf(name, sizeof(name), "vfio%u", w->dir->obj.num);
	sysfs_walk_emit(w, name, SK_VFIO_DEV_N, &w->dir->obj, NULL);
	return 0;
}

int sysfs_list_vfio_dev_n(struct sysfs_walk *w)
{
	const struct sysfs_obj *obj = &w->dir->obj;
	char ppath[SYSFS_PATH_MAX], uuid[UUID_STRING_LEN + 1];

	if (sysfs_dev_path(mdev_parent_device(obj->parent), ppath, sizeof(ppath)) < 0)
		return 0;
	sysfs_uuid_str(obj->mdev, uuid);
	if (emit_link(w, "device", obj, "devices/%s/%s", ppath, uuid) ||
	    sysfs_walk_emit(w, "power", SK_POWER, obj, NULL) ||
	    emit_link(w, "subsystem", obj, "class/vfio-dev"))
		return 0;
	sysfs_walk_emit(w, "uevent", SK_EMPTY_UEVENT, obj, NULL);
	return 0;
}
