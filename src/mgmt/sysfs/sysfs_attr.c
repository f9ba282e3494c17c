/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The attribute files of the sysfs tree: what a show renders and a store does, per kind.
 * create and remove go to the mdev core's store functions (the kernel's input rules are
 * theirs); vendor attributes to the core's show/store dispatch; uevent shows DRIVER= of a
 * bound device and accepts the kernel's synthetic-uevent syntax (no event is sent: the
 * tree has no netlink). @buf of a show is one page (SYSFS_PAGE_SIZE); @buf of a store is
 * NUL-terminated after @count bytes.
 */
#include <errno.h>
#include <string.h>

#include "mgmt/sysfs/sysfs_private.h"

ssize_t sysfs_show_vendor(struct sysfs_tree *tree, const struct sysfs_node *node, char *buf)
{
	const struct sysfs_obj *o = &node->obj;

	(void)tree;
	switch (node->kind) {
	case SK_TYPE_ATTR:
		if (!mdev_parent_is_registered(o->parent))
			return -ENODEV;
		return mdev_type_attr_show(o->type, o->attr, buf);
	case SK_PARENT_ATTR:
		if (!mdev_parent_is_registered(o->parent))
			return -ENODEV;
		return mdev_dev_attr_show(mdev_parent_device(o->parent), o->attr, buf);
	case SK_MDEV_ATTR:
		/* the core refuses a device that is not active */
		return mdev_dev_attr_show(mdev_dev(o->mdev), o->attr, buf);
	default:
		return -EIO;
	}
}

ssize_t sysfs_store_vendor(struct sysfs_tree *tree, const struct sysfs_node *node,
			   const char *buf, size_t count)
{
	const struct sysfs_obj *o = &node->obj;

	(void)tree;
	switch (node->kind) {
	case SK_TYPE_ATTR:
		if (!mdev_parent_is_registered(o->parent))
			return -ENODEV;
		return mdev_type_attr_store(o->type, o->attr, buf, count);
	case SK_PARENT_ATTR:
		if (!mdev_parent_is_registered(o->parent))
			return -ENODEV;
		return mdev_dev_attr_store(mdev_parent_device(o->parent), o->attr, buf, count);
	case SK_MDEV_ATTR:
		return mdev_dev_attr_store(mdev_dev(o->mdev), o->attr, buf, count);
	default:
		return -EIO;
	}
}

ssize_t sysfs_store_create(struct sysfs_tree *tree, const struct sysfs_node *node,
			   const char *buf, size_t count)
{
	char text[UUID_STRING_LEN + 1];
	struct mdev_device *mdev;
	unsigned int num;
	ssize_t ret;
	guid_t uuid;

	ret = mdev_type_create_store(node->obj.type, buf, count);
	if (ret < 0)
		return ret;
	/* number the device now, in creation order, as the kernel's iommu groups are */
	memcpy(text, buf, UUID_STRING_LEN);
	text[UUID_STRING_LEN] = '\0';
	if (!mdev_uuid_parse(text, &uuid) && !mdev_device_get_by_uuid(&uuid, &mdev)) {
		sysfs_dev_num(tree, mdev, &num);
		mdev_device_put(mdev);
	}
	return ret;
}

ssize_t sysfs_store_remove(struct sysfs_tree *tree, const struct sysfs_node *node,
			   const char *buf, size_t count)
{
	(void)tree;
	return mdev_device_remove_store(node->obj.mdev, buf, count);
}

ssize_t sysfs_show_uevent(struct sysfs_tree *tree, const struct sysfs_node *node, char *buf)
{
	const struct device *dev = node->kind == SK_MDEV_UEVENT
					   ? mdev_dev(node->obj.mdev)
					   : mdev_parent_device(node->obj.parent);
	const char *drv = sysfs_bound_driver(dev);

	(void)tree;
	return drv ? sysfs_emit(buf, "DRIVER=%s\n", drv) : 0;
}

ssize_t sysfs_show_empty(struct sysfs_tree *tree, const struct sysfs_node *node, char *buf)
{
	(void)tree;
	(void)node;
	(void)buf;
	return 0;
}

ssize_t sysfs_show_group_name(struct sysfs_tree *tree, const struct sysfs_node *node,
			      char *buf)
{
	(void)tree;
	(void)node;
	return sysfs_emit(buf, "%s\n", SYSFS_IOMMU_GROUP_NAME);
}

/* An argument of a synthetic uevent after the UUID: KEY=VALUE, KEY of [A-Za-z0-9_]. */
static bool uevent_env_ok(const char *s, size_t len)
{
	size_t k = 0;

	while (k < len && s[k] != '=') {
		char c = s[k];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
		k++;
	}
	return k > 0 && k < len;
}

/*
 * The kernel's kobject_synth_uevent() syntax: "<action> [<uuid> [KEY=VALUE ...]]", with
 * action add, remove, change, move, online, offline, bind or unbind, and one optional
 * trailing newline. -EINVAL otherwise.
 */
ssize_t sysfs_store_uevent(struct sysfs_tree *tree, const struct sysfs_node *node,
			   const char *buf, size_t count)
{
	static const char *const actions[] = {
		"add", "remove", "change", "move", "online", "offline", "bind", "unbind",
	};
	size_t n = count, first, i;
	const char *p;

	(void)tree;
	(void)node;
	if (n && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	p = memchr(buf, ' ', n);
	first = p ? (size_t)(p - buf) : n;
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strlen(actions[i]) == first && !memcmp(actions[i], buf, first))
			break;
	if (!n || i == sizeof(actions) / sizeof(actions[0]))
		return -EINVAL;
	if (p) {
		const char *end = buf + n;
		char text[UUID_STRING_LEN + 1];
		guid_t uuid;

		p++;
		if (end - p < UUID_STRING_LEN || (end - p > UUID_STRING_LEN &&
						  p[UUID_STRING_LEN] != ' '))
			return -EINVAL;
		memcpy(text, p, UUID_STRING_LEN);
		text[UUID_STRING_LEN] = '\0';
		if (mdev_uuid_parse(text, &uuid))
			return -EINVAL;
		p += UUID_STRING_LEN;
		while (p < end) {
			const char *q;

			p++; /* the ' ' */
			q = memchr(p, ' ', (size_t)(end - p));
			if (!q)
				q = end;
			if (!uevent_env_ok(p, (size_t)(q - p)))
				return -EINVAL;
			p = q;
		}
	}
	return (ssize_t)count;
}
