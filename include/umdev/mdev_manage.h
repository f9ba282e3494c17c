/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The management side of the mdev core: what umdevd's sysfs tree and control socket, and
 * programs that embed umdev, use to list parents and types, create and remove mediated
 * devices, read and write attributes, and follow changes.
 *
 * Objects handed out here carry a reference that the caller drops (mdev_parent_put(),
 * mdev_device_put()). A held mediated device keeps its UUID reserved, as an open sysfs file
 * does in the kernel: the UUID becomes free again when the last reference goes.
 */
#ifndef UMDEV_MDEV_MANAGE_H
#define UMDEV_MDEV_MANAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <umdev/mdev.h>
#include <umdev/notifier.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct mdev_parent; /* a registered parent */

/* ---- parents and types ---- */

/* Finds a registered parent by its device name. -ENODEV if there is none. */
int mdev_parent_get_by_name(const char *name, struct mdev_parent **ret_parent);
struct mdev_parent *mdev_parent_get(struct mdev_parent *parent);
void mdev_parent_put(struct mdev_parent *parent);

/*
 * The registered parents in registration order, each with a reference; free the array with
 * mdev_parents_free(). Returns the count or -ENOMEM.
 */
ssize_t mdev_parents_list(struct mdev_parent ***ret_parents);
void mdev_parents_free(struct mdev_parent **parents, size_t count);

struct device *mdev_parent_device(struct mdev_parent *parent);
const struct mdev_parent_ops *mdev_parent_get_ops(struct mdev_parent *parent);
/* False once the parent has started unregistering. */
bool mdev_parent_is_registered(struct mdev_parent *parent);

unsigned int mdev_parent_num_types(struct mdev_parent *parent);
/* The @index-th type (supported_type_groups order), or NULL. */
struct mdev_type *mdev_parent_type(struct mdev_parent *parent, unsigned int index);
/* The type named @name ("mtty-2"), or NULL. */
struct mdev_type *mdev_parent_find_type(struct mdev_parent *parent, const char *name);
struct mdev_parent *mtype_get_parent(struct mdev_type *mtype);
/* The vendor's attribute group of the type. */
const struct attribute_group *mtype_get_group(struct mdev_type *mtype);

/* ---- mediated devices ---- */

/*
 * Creates a mediated device of @mtype with @uuid. On success stores a reference in
 * *ret_mdev if it is not NULL. Errors:
 *   -EEXIST  the UUID is reserved (a device with it exists or is being created or removed,
 *            under any parent)
 *   -ENODEV  the parent is unregistering, or the type's bus driver is not registered
 *   the vendor's create() error, or the bus driver's probe() error
 */
int mdev_device_create(struct mdev_type *mtype, const guid_t *uuid,
		       struct mdev_device **ret_mdev);

/*
 * Removes a mediated device: unbinds its bus driver (for vfio_mdev this waits until the
 * client has released the device, calling request()), calls the vendor's remove() and drops
 * the core's reference. -EAGAIN while the device is being created or removed, -ENODEV once
 * removed or when its parent is unregistering.
 */
int mdev_device_remove(struct mdev_device *mdev);

/* Finds a device by UUID, in any state, and takes a reference; -ENODEV if none. */
int mdev_device_get_by_uuid(const guid_t *uuid, struct mdev_device **ret_mdev);
struct mdev_device *mdev_device_get(struct mdev_device *mdev);
void mdev_device_put(struct mdev_device *mdev);

/* True between the end of its creation and the start of its removal. */
bool mdev_device_is_active(struct mdev_device *mdev);

/*
 * The active devices of a type (@mtype) or of a parent (@parent), each with a reference;
 * free with mdev_devices_free(). Returns the count or -ENOMEM.
 */
ssize_t mdev_type_devices(struct mdev_type *mtype, struct mdev_device ***ret_devices);
ssize_t mdev_parent_devices(struct mdev_parent *parent, struct mdev_device ***ret_devices);
void mdev_devices_free(struct mdev_device **devices, size_t count);

/* ---- what userspace writes, with the kernel's sysfs input rules ---- */

/*
 * A write of @count bytes to a type's `create` file: 36 or 37 bytes (the 37th is not
 * looked at), a UUID in any case. Returns @count or -errno (-EINVAL for bad input).
 */
ssize_t mdev_type_create_store(struct mdev_type *mtype, const char *buf, size_t count);

/*
 * A write to a device's `remove` file: a number as kstrtoul(buf, 0) reads it; 0 does
 * nothing, any other value removes. Returns @count or -errno (-EINVAL for bad input).
 */
ssize_t mdev_device_remove_store(struct mdev_device *mdev, const char *buf, size_t count);

/* Reads or writes a vendor type attribute; -EIO when it has no show/store. */
ssize_t mdev_type_attr_show(struct mdev_type *mtype, struct attribute *attr, char *buf);
ssize_t mdev_type_attr_store(struct mdev_type *mtype, struct attribute *attr, const char *buf,
			     size_t count);
/* Reads or writes a device attribute (a parent's or a mediated device's); -EIO likewise. */
ssize_t mdev_dev_attr_show(struct device *dev, struct attribute *attr, char *buf);
ssize_t mdev_dev_attr_store(struct device *dev, struct attribute *attr, const char *buf,
			    size_t count);

/* ---- UUIDs in the kernel's text rules ---- */

/* Parses the 36 characters of a UUID (either case); -EINVAL. */
int mdev_uuid_parse(const char *text, guid_t *uuid);
/* Writes the canonical lower-case form and a NUL (37 bytes). */
void mdev_uuid_format(const guid_t *uuid, char out[UUID_STRING_LEN + 1]);

/* ---- change notifications ---- */

/* Events of the mdev notifier chain. */
enum mdev_event {
	MDEV_EVENT_PARENT_ADDED,   /* data: struct mdev_parent * */
	MDEV_EVENT_PARENT_REMOVED, /* data: struct mdev_parent *, after its devices went */
	MDEV_EVENT_DEVICE_ADDED,   /* data: struct mdev_device *, now active */
	MDEV_EVENT_DEVICE_REMOVED, /* data: struct mdev_device *, removed */
};

int mdev_register_notifier(struct notifier_block *nb);
int mdev_unregister_notifier(struct notifier_block *nb);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
