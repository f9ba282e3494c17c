/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting and stopping a mediated device as mdevctl 1.2.0 does it through sysfs (ops.h),
 * done through the mdev core: the same checks in the same order, the same messages, and
 * the attributes written after the creation in their stored order, the device removed
 * again when one fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/ops.h"

/* Parses a 36-character UUID (either case) or makes a new one; 0 or -EINVAL/-errno. */
static int get_uuid(const char *text, guid_t *uuid, char canon[MDEVCTL_UUID_SIZE], char *err,
		    size_t errlen)
{
	char fresh[MDEVCTL_UUID_SIZE];
	int ret;

	if (!text) {
		ret = mdevctl_uuid_generate(fresh);
		if (ret) {
			mgmt_os_error(err, errlen, -ret);
			return ret;
		}
		text = fresh;
	}
	if (strlen(text) != UUID_STRING_LEN || mdev_uuid_parse(text, uuid)) {
		snprintf(err, errlen, "Invalid UUID '%.64s'", text);
		return -EINVAL;
	}
	mdev_uuid_format(uuid, canon);
	return 0;
}

/* mdevctl's check that no device with the UUID is active. */
static int check_not_active(const guid_t *uuid, const char *parent, const char *type,
			    char *err, size_t errlen)
{
	struct mdev_device *mdev;
	int ret = 0;

	if (mdev_device_get_by_uuid(uuid, &mdev))
		return 0;
	if (mdev_device_is_active(mdev)) {
		if (strcmp(mgmt_device_parent_name(mdev), parent))
			snprintf(err, errlen, "Device exists under different parent");
		else if (strcmp(mgmt_device_type_name(mdev), type))
			snprintf(err, errlen, "Device exists with different type");
		else
			snprintf(err, errlen, "Device already exists");
		ret = -EEXIST;
	}
	mdev_device_put(mdev);
	return ret;
}

/* The parent's type @type, checked as mdevctl checks it before writing `create`. */
static int check_type(struct mdev_parent *parent, const char *pname, const char *type,
		      struct mdev_type **ret_type, char *err, size_t errlen)
{
	struct mdev_type *mtype;
	char *buf, msg[128];
	int avail, ret;
	ssize_t n;

	if (!mdev_parent_is_registered(parent)) {
		snprintf(err, errlen, "Parent %s is not currently registered for mdev support",
			 pname);
		return -ENODEV;
	}
	mtype = mdev_parent_find_type(parent, type);
	if (!mtype) {
		snprintf(err, errlen, "Parent %s does not support mdev type %s", pname, type);
		return -EINVAL;
	}
	buf = malloc(UMDEV_ATTR_BUF_SIZE + 1);
	if (!buf) {
		mgmt_os_error(err, errlen, ENOMEM);
		return -ENOMEM;
	}
	n = mgmt_type_attr_read(mtype, "available_instances", buf);
	if (n < 0) {
		mgmt_os_error(err, errlen, (int)-n);
		ret = (int)n;
	} else {
		ret = mgmt_parse_i32(mgmt_trim(buf), &avail, msg, sizeof(msg));
		if (ret)
			snprintf(err, errlen, "%s", msg);
		else if (!avail) {
			snprintf(err, errlen, "No available instances of %s on %s", type, pname);
			ret = -EUSERS;
		}
	}
	free(buf);
	if (!ret)
		*ret_type = mtype;
	return ret;
}

/* The attribute of @mdev that mdevctl's /sys/bus/mdev/devices/U/@name would be. */
static struct attribute *find_dev_attr(struct mdev_device *mdev, const char *name)
{
	struct mdev_parent *parent = mtype_get_parent(mdev_get_type(mdev));
	const struct attribute_group *const *groups = mdev_parent_get_ops(parent)->mdev_attr_groups;
	struct attribute *found = NULL;
	const char *slash = strchr(name, '/');

	for (; !found && groups && *groups; groups++) {
		const struct attribute_group *g = *groups;
		const char *attr = name;

		if (g->name) {
			size_t glen = strlen(g->name);

			if (!slash || (size_t)(slash - name) != glen || strncmp(name, g->name, glen))
				continue;
			attr = slash + 1;
		} else if (slash) {
			continue;
		}
		for (struct attribute **a = g->attrs; a && *a && !found; a++)
			if (!strcmp((*a)->name, attr))
				found = *a;
	}
	return found;
}

/* Writes one attribute as mdevctl's write_attr() does through sysfs; 0 or -errno. */
static int write_attr(struct mdev_device *mdev, const struct mdev_definition_attr *a,
		      char *err, size_t errlen)
{
	struct attribute *attr = find_dev_attr(mdev, a->name);
	size_t len = strlen(a->value), done = 0;
	char cause[128], *page;
	int ret = 0;

	if (!attr) {
		snprintf(err, errlen, "Invalid attribute '%s'", a->name);
		return -ENOENT;
	}
	/* sysfs refuses to open a file without write permission for writing */
	if (!(attr->mode & 0222)) {
		ret = -EACCES;
		goto out_fail;
	}
	page = malloc(UMDEV_ATTR_BUF_SIZE + 1);
	if (!page) {
		ret = -ENOMEM;
		goto out_fail;
	}
	/* one store() per page, as write_all() through kernfs; nothing for an empty value */
	while (done < len) {
		size_t chunk = len - done > UMDEV_ATTR_BUF_SIZE ? UMDEV_ATTR_BUF_SIZE : len - done;
		ssize_t n;

		memcpy(page, a->value + done, chunk);
		page[chunk] = '\0';
		n = mdev_dev_attr_store(mdev_dev(mdev), attr, page, chunk);
		if (n < 0) {
			ret = (int)n;
			break;
		}
		if (n == 0) {
			ret = -EIO;
			snprintf(cause, sizeof(cause), "failed to write whole buffer");
			free(page);
			snprintf(err, errlen, "Failed to write %s to attribute %s" MGMT_CAUSED_BY "%s",
				 a->value, a->name, cause);
			return ret;
		}
		done += (size_t)n > chunk ? chunk : (size_t)n;
	}
	free(page);
	if (!ret)
		return 0;
out_fail:
	mgmt_os_error(cause, sizeof(cause), -ret);
	snprintf(err, errlen, "Failed to write %s to attribute %s" MGMT_CAUSED_BY "%s", a->value,
		 a->name, cause);
	return ret;
}

/* Removes @mdev as a write of "1" to its `remove` file; 0 or -errno with mdevctl's text. */
static int remove_device(struct mdev_device *mdev, const char *uuid, char *err, size_t errlen)
{
	char cause[128];
	ssize_t ret = mdev_device_remove_store(mdev, "1", 1);

	if (ret >= 0)
		return 0;
	if (ret == -ENODEV)
		ret = -ENOENT; /* gone: its sysfs file would be too */
	mgmt_os_error(cause, sizeof(cause), (int)-ret);
	snprintf(err, errlen, "Error removing device %s" MGMT_CAUSED_BY "%s", uuid, cause);
	return (int)ret;
}

int mgmt_start_device(const char *parent, const char *type, const char *uuid,
		      const struct mdev_definition_attr *attrs, size_t nattrs,
		      char uuid_out[MDEVCTL_UUID_SIZE], char *err, size_t errlen)
{
	char canon[MDEVCTL_UUID_SIZE], cause[128];
	struct mdev_parent *p = NULL;
	struct mdev_device *mdev = NULL;
	struct mdev_type *mtype;
	guid_t g;
	int ret;

	ret = get_uuid(uuid, &g, canon, err, errlen);
	if (ret)
		return ret;
	ret = check_not_active(&g, parent, type, err, errlen);
	if (ret)
		return ret;
	ret = mgmt_find_parent(parent, &p, err, errlen);
	if (ret)
		return ret;
	ret = check_type(p, parent, type, &mtype, err, errlen);
	if (ret)
		goto out_put_parent;
	ret = mdev_device_create(mtype, &g, &mdev);
	if (ret) {
		mgmt_os_error(cause, sizeof(cause), -ret);
		snprintf(err, errlen, "Failed to create mdev %s, type %s on %s" MGMT_CAUSED_BY "%s",
			 canon, type, parent, cause);
		goto out_put_parent;
	}
	for (size_t i = 0; i < nattrs; i++) {
		ret = write_attr(mdev, &attrs[i], err, errlen);
		if (ret) {
			int r = remove_device(mdev, canon, err, errlen);

			ret = r ? r : ret;
			goto out_put_device;
		}
	}
	if (uuid_out)
		memcpy(uuid_out, canon, MDEVCTL_UUID_SIZE);
out_put_device:
	mdev_device_put(mdev);
out_put_parent:
	mdev_parent_put(p);
	return ret;
}

int mgmt_stop_device(const char *uuid, char *err, size_t errlen)
{
	char canon[MDEVCTL_UUID_SIZE], cause[128];
	struct mdev_device *mdev;
	guid_t g;
	int ret;

	if (!uuid)
		return -EINVAL;
	ret = get_uuid(uuid, &g, canon, err, errlen);
	if (ret)
		return ret;
	if (mdev_device_get_by_uuid(&g, &mdev)) {
		mgmt_os_error(cause, sizeof(cause), ENOENT);
		snprintf(err, errlen, "Error removing device %s" MGMT_CAUSED_BY "%s", canon, cause);
		return -ENOENT;
	}
	ret = remove_device(mdev, canon, err, errlen);
	mdev_device_put(mdev);
	return ret;
}
