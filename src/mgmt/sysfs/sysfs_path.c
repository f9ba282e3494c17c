/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths of the sysfs tree: names fit for it, where a parent's device lives under devices/
 * (the kernel's get_device_parent() rules), and the relative text of a link as kernfs
 * writes it (kernfs_get_target_path()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mgmt/sysfs/sysfs_private.h"

bool sysfs_name_ok(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, SYSFS_NAME_MAX + 1);
	return len && len <= SYSFS_NAME_MAX && !memchr(name, '/', len) && strcmp(name, ".") &&
	       strcmp(name, "..");
}

int sysfs_join(char *buf, size_t size, const char *a, const char *b)
{
	int n = *a ? snprintf(buf, size, "%s/%s", a, b) : snprintf(buf, size, "%s", b);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

/* Appends "/@name" (or "@name" to an empty @buf); -ENAMETOOLONG. */
static int path_append(char *buf, size_t size, size_t *len, const char *name)
{
	int n = snprintf(buf + *len, size - *len, "%s%s", *len ? "/" : "", name);

	if (n < 0 || (size_t)n >= size - *len)
		return -ENAMETOOLONG;
	*len += (size_t)n;
	return 0;
}

int sysfs_dev_path(const struct device *dev, char *buf, size_t size)
{
	const struct device *chain[SYSFS_MAX_DEPTH];
	unsigned int n = 0;
	size_t len = 0;
	int ret;

	if (!size)
		return -ENAMETOOLONG;
	for (const struct device *d = dev; d; d = d->parent) {
		if (n == SYSFS_MAX_DEPTH)
			return -EINVAL;
		chain[n++] = d;
	}
	buf[0] = '\0';
	for (unsigned int i = n; i-- > 0;) {
		const struct device *d = chain[i];
		const struct device *up = i + 1 < n ? chain[i + 1] : NULL;

		if (!sysfs_name_ok(dev_name(d)))
			return -EINVAL;
		if (d->class_name) {
			if (!sysfs_name_ok(d->class_name))
				return -EINVAL;
			/* no parent: virtual/<class>/; a parent without a class: a glue
			 * directory <parent>/<class>/; a class parent: directly below it */
			if (!up)
				ret = path_append(buf, size, &len, "virtual");
			else
				ret = 0;
			if (!ret && (!up || !up->class_name))
				ret = path_append(buf, size, &len, d->class_name);
			if (ret)
				return ret;
		}
		ret = path_append(buf, size, &len, dev_name(d));
		if (ret)
			return ret;
	}
	return (int)len;
}

static size_t comp_len(const char *s)
{
	return strcspn(s, "/");
}

/* Moves @p past one component and its '/'. */
static const char *comp_next(const char *p)
{
	p += comp_len(p);
	return *p == '/' ? p + 1 : p;
}

int sysfs_rel_link(const char *dir, const char *target, char *buf, size_t size)
{
	const char *slash = strrchr(target, '/');
	size_t tdir_len = slash ? (size_t)(slash - target) : 0;
	const char *d = dir, *t = target;
	size_t len = 0;
	int n;

	/* the common ancestor: of @dir and of the target's directory (kernfs never makes
	 * the target itself the base, so its name always appears) */
	while (*d && (size_t)(t - target) < tdir_len) {
		size_t dl = comp_len(d), tl = comp_len(t);

		if (dl != tl || memcmp(d, t, dl))
			break;
		d = comp_next(d);
		t = comp_next(t);
	}
	for (; *d; d = comp_next(d)) {
		if (len + 3 >= size)
			return -ENAMETOOLONG;
		memcpy(buf + len, "../", 3);
		len += 3;
	}
	n = snprintf(buf + len, size - len, "%s", t);
	if (n < 0 || (size_t)n >= size - len)
		return -ENAMETOOLONG;
	return (int)(len + (size_t)n);
}

void sysfs_uuid_str(struct mdev_device *mdev, char out[UUID_STRING_LEN + 1])
{
	mdev_uuid_format(mdev_uuid(mdev), out);
}
