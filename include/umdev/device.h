/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device model of umdev, after the kernel's driver core: a `struct device` has a name, a
 * parent, the names of its bus, class and bound driver, driver data and a reference count.
 * Devices carry attribute groups, named files with show()/store() callbacks; umdevd's sysfs
 * tree renders exactly these attributes, with their names and mode bits.
 *
 * A vendor driver creates the struct device of its parent ("physical") device, gives it a
 * name and a class or bus, and registers it with the mdev core (<umdev/mdev.h>). The mdev
 * core creates the struct device of every mediated device.
 *
 * Self-contained; compiles as C and as C++.
 */
#ifndef UMDEV_DEVICE_H
#define UMDEV_DEVICE_H

#include <stddef.h>
#include <sys/types.h>

#include <umdev/kernel.h>
#include <umdev/log.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct device {
	/* Set by the owner before the device is used. */
	struct device *parent;
	const char *bus_name;	/* the kernel's dev->bus->name, or NULL */
	const char *class_name; /* the kernel's dev->class->name, or NULL */
	/* Called when the last reference is dropped; frees the structure. May be NULL. */
	void (*release)(struct device *dev);

	/* Private to the core: use dev_name(), dev_driver_string(), dev_get_drvdata()... */
	char *name;
	const char *driver_name; /* the bound driver, NULL when unbound */
	void *driver_data;
	unsigned long refcount;
};

/* Prepares a device for use: one reference, held by the caller. */
void device_initialize(struct device *dev);

/* Sets the device's name (printf-style); 0 or -ENOMEM. */
int dev_set_name(struct device *dev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline const char *dev_name(const struct device *dev)
{
	return dev->name ? dev->name : "";
}

/* Takes a reference; returns @dev. NULL is passed through. */
struct device *get_device(struct device *dev);

/* Drops a reference; the last one frees the name and calls dev->release. NULL is ignored. */
void put_device(struct device *dev);

/*
 * The name a device is known by to userspace tools: the bound driver's name, else the bus
 * name, else the class name, else "". The mdev core names a parent's types
 * "<dev_driver_string(parent)>-<group name>".
 */
const char *dev_driver_string(const struct device *dev);

static inline void *dev_get_drvdata(const struct device *dev)
{
	return dev->driver_data;
}

static inline void dev_set_drvdata(struct device *dev, void *data)
{
	dev->driver_data = data;
}

/* ---- attributes ---------------------------------------------------------------------------- */

/* What show() fills and store() reads: at most one page, as in sysfs. */
#define UMDEV_ATTR_BUF_SIZE 4096

struct attribute {
	const char *name;
	unsigned short mode; /* permission bits: 0444 readable, 0200 writable, 0644 both */
};

/*
 * A set of attributes; with a name they appear in a subdirectory of that name. For the types
 * of a parent (mdev_parent_ops.supported_type_groups) the name is the type's name.
 */
struct attribute_group {
	const char *name;
	struct attribute **attrs; /* NULL-terminated */
};

/*
 * An attribute of a device. show() writes at most UMDEV_ATTR_BUF_SIZE bytes into @buf (use
 * sysfs_emit()) and returns their number or -errno; store() consumes @count bytes and
 * returns @count (or how many it used) or -errno.
 */
struct device_attribute {
	struct attribute attr;
	ssize_t (*show)(struct device *dev, struct device_attribute *attr, char *buf);
	ssize_t (*store)(struct device *dev, struct device_attribute *attr, const char *buf,
			 size_t count);
};

#define to_dev_attr(a) container_of(a, struct device_attribute, attr)

#define __ATTR(_name, _mode, _show, _store) \
	{ { #_name, _mode }, _show, _store }

#define DEVICE_ATTR_RO(_name) \
	struct device_attribute dev_attr_##_name = __ATTR(_name, 0444, _name##_show, NULL)
#define DEVICE_ATTR_WO(_name) \
	struct device_attribute dev_attr_##_name = __ATTR(_name, 0200, NULL, _name##_store)
#define DEVICE_ATTR_RW(_name) \
	struct device_attribute dev_attr_##_name = __ATTR(_name, 0644, _name##_show, _name##_store)

/* printf into a show() buffer; returns the number of bytes written (at most a page). */
int sysfs_emit(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- logging ------------------------------------------------------------------------------- */

/*
 * Logs "<dev_driver_string> <dev_name>: message" through the handler of <umdev/log.h>; a
 * filtered level costs no formatting. The message is cut at 767 bytes.
 */
void dev_printk(int level, const struct device *dev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define dev_err(dev, ...) dev_printk(UMDEV_LOG_ERR, dev, __VA_ARGS__)
#define dev_warn(dev, ...) dev_printk(UMDEV_LOG_WARNING, dev, __VA_ARGS__)
#define dev_info(dev, ...) dev_printk(UMDEV_LOG_INFO, dev, __VA_ARGS__)
#define dev_dbg(dev, ...) dev_printk(UMDEV_LOG_DEBUG, dev, __VA_ARGS__)

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
