/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What userspace writes to the mdev core's own files, with the kernel's input rules (the
 * `create` file of a type, the `remove` file of a device), and the dispatch of attribute
 * reads and writes to the vendor's show() and store() callbacks. umdevd's sysfs tree calls
 * these; they know nothing of FUSE.
 */
#include <errno.h>
#include <string.h>

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

int mdev_uuid_parse(const char *text, guid_t *uuid)
{
	if (!text || strnlen(text, UUID_STRING_LEN + 1) != UUID_STRING_LEN)
		return -EINVAL;
	return uuid_parse(text, uuid);
}

void mdev_uuid_format(const guid_t *uuid, char out[UUID_STRING_LEN + 1])
{
	uuid_format(uuid, out);
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

/* Calls a device attribute; for a mediated device, only while it is not being removed. */
static ssize_t mdev_dev_attr_call(struct device *dev, struct device_attribute *a, char *buf,
				  const char *in, size_t count)
{
	struct mdev_device *mdev = mdev_from_dev(dev);
	ssize_t ret;

	if (in ? !a->store : !a->show)
		return -EIO;
	if (mdev && mdev_attr_enter(mdev))
		return -ENODEV;
	ret = in ? a->store(dev, a, in, count) : a->show(dev, a, buf);
	if (mdev)
		mdev_attr_leave(mdev);
	return ret;
}

ssize_t mdev_dev_attr_show(struct device *dev, struct attribute *attr, char *buf)
{
	return mdev_dev_attr_call(dev, to_dev_attr(attr), buf, NULL, 0);
}

ssize_t mdev_dev_attr_store(struct device *dev, struct attribute *attr, const char *buf,
			    size_t count)
{
	return mdev_dev_attr_call(dev, to_dev_attr(attr), NULL, buf, count);
}
