/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the management operations (ops.h): names of parents, types and devices, the
 * parent lookup with mdevctl's hint, type attributes, and the parsing and error texts of
 * Rust that mdevctl's messages are made of.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mgmt/ops.h"

const char *mgmt_parent_name(struct mdev_parent *parent)
{
	return dev_name(mdev_parent_device(parent));
}

const char *mgmt_device_parent_name(struct mdev_device *mdev)
{
	return dev_name(mdev_parent_dev(mdev));
}

const char *mgmt_device_type_name(struct mdev_device *mdev)
{
	return mtype_get_name(mdev_get_type(mdev));
}

void mgmt_device_uuid(struct mdev_device *mdev, char out[MDEVCTL_UUID_SIZE])
{
	mdev_uuid_format(mdev_uuid(mdev), out);
}

void mgmt_os_error(char *buf, size_t size, int errnum)
{
	snprintf(buf, size, "%s (os error %d)", strerror(errnum), errnum);
}

int mgmt_find_parent(const char *name, struct mdev_parent **ret, char *err, size_t errlen)
{
	struct mdev_parent **parents;
	const char *hint = NULL;
	ssize_t n;

	if (!mdev_parent_get_by_name(name, ret))
		return 0;
	n = mdev_parents_list(&parents);
	for (ssize_t i = 0; i < n && !hint; i++)
		if (!strcasecmp(mgmt_parent_name(parents[i]), name))
			hint = mgmt_parent_name(parents[i]);
	if (hint)
		snprintf(err, errlen, "Unable to find parent device '%s'. Did you mean '%s'?", name,
			 hint);
	else
		snprintf(err, errlen, "Unable to find parent device '%s'", name);
	if (n >= 0)
		mdev_parents_free(parents, (size_t)n);
	return -ENODEV;
}

ssize_t mgmt_type_attr_read(struct mdev_type *mtype, const char *name, char *buf)
{
	const struct attribute_group *g = mtype_get_group(mtype);
	ssize_t n;

	buf[0] = '\0';
	for (struct attribute **a = g ? g->attrs : NULL; a && *a; a++) {
		if (strcmp((*a)->name, name))
			continue;
		n = mdev_type_attr_show(mtype, *a, buf);
		if (n < 0)
			return n;
		if (n > UMDEV_ATTR_BUF_SIZE)
			n = UMDEV_ATTR_BUF_SIZE;
		buf[n] = '\0';
		return n;
	}
	return -ENOENT;
}

char *mgmt_trim(char *s)
{
	size_t len;

	while (*s && isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

int mgmt_parse_i32(const char *text, int *val, char *err, size_t errlen)
{
	const char *p = text;
	bool negative = false;
	long long v = 0;

	if (!*p) {
		snprintf(err, errlen, "cannot parse integer from empty string");
		return -EINVAL;
	}
	if (*p == '+' || *p == '-') {
		negative = *p == '-';
		p++;
	}
	if (!*p) {
		snprintf(err, errlen, "invalid digit found in string");
		return -EINVAL;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(err, errlen, "invalid digit found in string");
			return -EINVAL;
		}
		v = v * 10 + (*p - '0');
		if (v > (long long)INT_MAX + 1 || (!negative && v > INT_MAX)) {
			snprintf(err, errlen, "number too %s to fit in target type",
				 negative ? "small" : "large");
			return -EINVAL;
		}
	}
	*val = (int)(negative ? -v : v);
	return 0;
}
