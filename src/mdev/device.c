/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device model of <umdev/device.h>: naming, reference counting, the driver string,
 * sysfs_emit() and dev_printk().
 *
 * `refcount` and `driver_name` are read from any thread (sysfs renders, logs), so they are
 * accessed with atomic builtins; the rest of a device is set up before it is shared.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <umdev/device.h>

#include "mdev/device_private.h"
#include "util/log_level.h"

void device_initialize(struct device *dev)
{
	__atomic_store_n(&dev->refcount, 1, __ATOMIC_RELAXED);
}

int dev_set_name(struct device *dev, const char *fmt, ...)
{
	char *name;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&name, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return -ENOMEM;
	free(dev->name);
	dev->name = name;
	return 0;
}

struct device *get_device(struct device *dev)
{
	if (dev)
		__atomic_add_fetch(&dev->refcount, 1, __ATOMIC_RELAXED);
	return dev;
}

bool get_device_unless_zero(struct device *dev)
{
	unsigned long old = __atomic_load_n(&dev->refcount, __ATOMIC_RELAXED);

	do {
		if (!old)
			return false;
	} while (!__atomic_compare_exchange_n(&dev->refcount, &old, old + 1, true,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return true;
}

void put_device(struct device *dev)
{
	char *name;

	if (!dev || __atomic_sub_fetch(&dev->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	/* the release callback may free the structure, and with it the name pointer */
	name = dev->name;
	dev->name = NULL;
	if (dev->release)
		dev->release(dev);
	free(name);
}

void device_set_driver_name(struct device *dev, const char *driver_name)
{
	__atomic_store_n(&dev->driver_name, driver_name, __ATOMIC_RELEASE);
}

const char *dev_driver_string(const struct device *dev)
{
	const char *drv = __atomic_load_n(&dev->driver_name, __ATOMIC_ACQUIRE);

	if (drv)
		return drv;
	if (dev->bus_name)
		return dev->bus_name;
	if (dev->class_name)
		return dev->class_name;
	return "";
}

int sysfs_emit(char *buf, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (!buf)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(buf, UMDEV_ATTR_BUF_SIZE, fmt, ap);
	va_end(ap);
	if (len < 0)
		return 0;
	return len >= UMDEV_ATTR_BUF_SIZE ? UMDEV_ATTR_BUF_SIZE - 1 : len;
}

void dev_printk(int level, const struct device *dev, const char *fmt, ...)
{
	char message[768];
	va_list ap;

	if (!umdev_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	umdev_log(level, "%s %s: %s", dev_driver_string(dev), dev_name(dev), message);
}
