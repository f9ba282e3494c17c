/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devices/ and what is under a parent: the directories on the way to a parent
 * (devices/virtual/<class>/ ...), the parent's directory (uevent, subsystem, power/,
 * mdev_supported_types/, its dev_attr_groups, its mediated devices), the types and each
 * type's create, attributes and devices/.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mgmt/sysfs/sysfs_private.h"

/* The part of @path below @prefix ("" for devices/ itself), or NULL if not below it. */
static const char *below(const char *path, const char *prefix)
{
	size_t len = strlen(prefix);

	if (!len)
		return path;
	if (strncmp(path, prefix, len) || path[len] != '/')
		return NULL;
	return path + len + 1;
}

/*
 * The children of the directory at devices/@prefix that lead to parents: the parents
 * right below it, then the directories on the way to deeper ones (each name once).
 */
static int list_below(struct sysfs_walk *w, const char *prefix)
{
	char sub[SYSFS_PATH_MAX], comp[SYSFS_NAME_MAX + 1];
	struct sysfs_parents pl;
	int ret = sysfs_parents_load(&pl);

	if (ret)
		return ret;
	for (size_t i = 0; i < pl.count; i++) {
		const char *rest = pl.paths[i] ? below(pl.paths[i], prefix) : NULL;
		struct sysfs_obj obj = { .parent = pl.parents[i] };

		if (rest && !strchr(rest, '/') && sysfs_walk_emit(w, rest, SK_PARENT, &obj, NULL))
			goto out;
	}
	for (size_t i = 0; i < pl.count; i++) {
		const char *rest = pl.paths[i] ? below(pl.paths[i], prefix) : NULL;
		struct sysfs_obj obj = { .str = sub };
		size_t len;
		bool seen = false;

		if (!rest || !strchr(rest, '/'))
			continue;
		len = strcspn(rest, "/");
		if (len > SYSFS_NAME_MAX)
			continue;
		/* emitted already: as a parent, or on the way to an earlier one */
		for (size_t j = 0; j < pl.count && !seen; j++) {
			const char *r = pl.paths[j] ? below(pl.paths[j], prefix) : NULL;

			if (!r || (j >= i && strchr(r, '/')))
				continue;
			seen = !strncmp(r, rest, len) && (r[len] == '\0' || r[len] == '/');
		}
		if (seen)
			continue;
		memcpy(comp, rest, len);
		comp[len] = '\0';
		if (sysfs_join(sub, sizeof(sub), prefix, comp) < 0)
			continue;
		if (sysfs_walk_emit(w, comp, SK_DEVPREFIX, &obj, NULL))
			goto out;
	}
out:
	sysfs_parents_release(&pl);
	return 0;
}

int sysfs_list_devprefix(struct sysfs_walk *w)
{
	return list_below(w, w->dir->obj.str);
}

static bool emit_mdev_dir(struct sysfs_walk *w, struct mdev_device *mdev,
			  struct mdev_parent *parent, const char *ppath, unsigned int num)
{
	struct sysfs_obj obj = { .parent = parent, .mdev = mdev, .num = num };
	char uuid[UUID_STRING_LEN + 1];

	(void)ppath;
	sysfs_uuid_str(mdev, uuid);
	return sysfs_walk_emit(w, uuid, SK_MDEV, &obj, NULL);
}

int sysfs_list_parent(struct sysfs_walk *w)
{
	struct mdev_parent *parent = w->dir->obj.parent;
	const struct mdev_parent_ops *ops = mdev_parent_get_ops(parent);
	const struct device *dev = mdev_parent_device(parent);
	const char *class = sysfs_parent_class(parent), *bus = sysfs_parent_bus(parent);
	struct sysfs_obj base = { .parent = parent };
	char ppath[SYSFS_PATH_MAX], target[SYSFS_PATH_MAX];
	int ret;

	if (sysfs_walk_emit(w, "uevent", SK_PARENT_UEVENT, &base, NULL))
		return 0;
	/* subsystem: the class's directory, or the bus's */
	if (class)
		ret = snprintf(target, sizeof(target), "class/%s", class);
	else if (bus)
		ret = snprintf(target, sizeof(target), "bus/%s", bus);
	else
		ret = -1;
	if (ret > 0 && (size_t)ret < sizeof(target) &&
	    sysfs_walk_emit(w, "subsystem", SK_LINK, &base, target))
		return 0;
	if (sysfs_walk_emit(w, "power", SK_POWER, &base, NULL) ||
	    sysfs_walk_emit(w, "mdev_supported_types", SK_TYPES, &base, NULL))
		return 0;
	for (const struct attribute_group **g = ops->dev_attr_groups; g && *g; g++)
		if (sysfs_walk_group(w, *g, SK_PARENT_ATTR, SK_PARENT_GROUP, &base))
			return 0;
	if (w->mode == SYSFS_WALK_COUNT)
		w->ndirs += sysfs_count_devices(w->tree, parent);
	ret = sysfs_for_each_device(w, parent, NULL, NULL, SYSFS_KEY_UUID, emit_mdev_dir);
	if (ret || w->err || w->found)
		return ret;
	/* parents below this one (class devices whose parent device this is) */
	if (sysfs_dev_path(dev, ppath, sizeof(ppath)) < 0)
		return 0;
	return list_below(w, ppath);
}

int sysfs_list_parent_group(struct sysfs_walk *w)
{
	sysfs_walk_attrs(w, w->dir->obj.group, SK_PARENT_ATTR, &w->dir->obj);
	return 0;
}

int sysfs_list_types(struct sysfs_walk *w)
{
	struct mdev_parent *parent = w->dir->obj.parent;
	unsigned int n = mdev_parent_num_types(parent);

	for (unsigned int i = 0; i < n; i++) {
		struct sysfs_obj obj = { .parent = parent, .type = mdev_parent_type(parent, i) };

		if (obj.type && sysfs_walk_emit(w, mtype_get_name(obj.type), SK_TYPE, &obj, NULL))
			break;
	}
	return 0;
}

int sysfs_list_type(struct sysfs_walk *w)
{
	const struct sysfs_obj *base = &w->dir->obj;
	const struct attribute_group *group = mtype_get_group(base->type);
	struct sysfs_obj obj = *base;

	if (sysfs_walk_emit(w, "create", SK_CREATE, base, NULL) ||
	    sysfs_walk_emit(w, "devices", SK_TYPE_DEVICES, base, NULL))
		return 0;
	for (struct attribute **a = group->attrs; a && *a; a++) {
		/* the core's own names win over a vendor attribute of the same name */
		if (!(*a)->name || !strcmp((*a)->name, "create") || !strcmp((*a)->name, "devices"))
			continue;
		obj.group = group;
		obj.attr = *a;
		if (sysfs_walk_emit(w, (*a)->name, SK_TYPE_ATTR, &obj, NULL))
			break;
	}
	return 0;
}

int sysfs_list_type_devices(struct sysfs_walk *w)
{
	const struct sysfs_obj *obj = &w->dir->obj;

	return sysfs_for_each_device(w, obj->parent, obj->type, NULL, SYSFS_KEY_UUID,
				     sysfs_emit_device_link);
}
