/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What userspace writes to the mdev core's own files, with the kernel's input rules (the
 * `create` file of a type, the `remove` file of a device), and the dispatch of attribute
 * reads and writes to the vendor's show() and store() callbacks. umdevd's sysfs tree calls
 * these; they know nothing of FUSE.
 */
#include <errno.h>

#include "mdev/mdev_private.h"
#include "util/strparse.h"
#include "util/uuid.h"

ssize_t mdev_type_create_store(struct mdev_type *mtype, const char *buf, size_t count)
{
	guid_t uuid;
	int ret;

	/* a UUID, optionally followed by one byte of any value (usually '\n') */
	if (!buf || count < UUID_STRING_LEN || count > UUID_STRING_LEN + 1)
		return -EINVAL;
	if (uuid_parse(buf, &uuid))
		return -EINVAL;
	ret = mdev_device_create(mtype, &uuid, NULL);
	return ret ? ret : (ssize_t)count;
}

ssize_t mdev_device_remove_store(struct mdev_device *mdev, const char *buf, size_t count)
{
	unsigned long val;
	int ret;

	if (!buf || kstrtoul_auto(buf, count, &val))
		return -EINVAL;
	if (!val)
		return (ssize_t)count;
	ret = mdev_device_remove(mdev);
	return ret ? ret : (ssize_t)count;
}

ssize_t mdev_type_attr_show(struct mdev_type *mtype, struct attribute *attr, char *buf)
{
	struct mdev_type_attribute *a = to_mdev_type_attr(attr);

	return a->show ? a->show(mtype, a, buf) : -EIO;
}

ssize_t mdev_type_attr_store(struct mdev_type *mtype, struct attribute *attr, const char *buf,
			     size_t count)
{
	struct mdev_type_attribute *a = to_mdev_type_attr(attr);

	return a->store ? a->store(mtype, a, buf, count) : -EIO;
}

ssize_t mdev_dev_attr_show(struct device *dev, struct attribute *attr, char *buf)
{
	struct device_attribute *a = to_dev_attr(attr);

	return a->show ? a->show(dev, a, buf) : -EIO;
}

ssize_t mdev_dev_attr_store(struct device *dev, struct attribute *attr, const char *buf,
			    size_t count)
{
	struct device_attribute *a = to_dev_attr(attr);

	return a->store ? a->store(dev, a, buf, count) : -EIO;
}
