/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mdev core for drivers: the interfaces of the kernel's mediated device framework
 * (Documentation/vfio-mediated-device.txt, 2016, with the 2018 global-UUID semantics).
 *
 * A vendor ("parent") driver registers its physical device with mdev_register_device() and a
 * struct mdev_parent_ops: the types it supports, as attribute groups named after each type,
 * and the callbacks that create and remove mediated devices and serve their device file.
 * Userspace then creates a mediated device by writing a UUID to a type's `create` file; the
 * core reserves the UUID, calls ops->create, adds the device to the mdev bus, and the bus
 * driver bound to it (vfio_mdev unless ops->device_driver says otherwise) gives it a vfio
 * device whose file operations forward to the parent's open/release/read/write/ioctl/mmap.
 *
 * The core does not serialise create and remove, per parent or otherwise: callbacks for
 * different devices run concurrently and the vendor driver protects its own state.
 *
 * Self-contained; compiles as C and as C++.
 */
#ifndef UMDEV_MDEV_H
#define UMDEV_MDEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <umdev/device.h>
#include <umdev/kernel.h>
#include <umdev/vfio.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* The bus every mediated device is on. */
#define MDEV_BUS_NAME "mdev"

struct mdev_device; /* a mediated device; use the accessors below */
struct mdev_type;   /* a type of a parent; use the accessors below */

/*
 * An attribute of a type (an attribute of a supported_type_groups entry): `name`,
 * `device_api`, `available_instances` and `description` by convention, as in sysfs.
 */
struct mdev_type_attribute {
	struct attribute attr;
	ssize_t (*show)(struct mdev_type *mtype, struct mdev_type_attribute *attr, char *buf);
	ssize_t (*store)(struct mdev_type *mtype, struct mdev_type_attribute *attr,
			 const char *buf, size_t count);
};

#define to_mdev_type_attr(a) container_of(a, struct mdev_type_attribute, attr)

#define MDEV_TYPE_ATTR(_name, _mode, _show, _store) \
	struct mdev_type_attribute mdev_type_attr_##_name = __ATTR(_name, _mode, _show, _store)
#define MDEV_TYPE_ATTR_RO(_name) \
	struct mdev_type_attribute mdev_type_attr_##_name = __ATTR(_name, 0444, _name##_show, NULL)
#define MDEV_TYPE_ATTR_WO(_name) \
	struct mdev_type_attribute mdev_type_attr_##_name = __ATTR(_name, 0200, NULL, _name##_store)

/*
 * A mediated bus driver: it is bound to mediated devices and gives them a function (for
 * vfio_mdev, a vfio device). probe() gets the mediated device's struct device; an error
 * fails the creation with that error.
 */
struct mdev_driver {
	const char *name;
	int (*probe)(struct device *dev);
	void (*remove)(struct device *dev);
};

/*
 * What a parent driver provides. Required: supported_type_groups, create, remove.
 */
struct mdev_parent_ops {
	/* Bus driver for this parent's mediated devices (it must be registered); NULL: the
	 * first registered bus driver, normally vfio_mdev. */
	struct mdev_driver *device_driver;

	/* Attributes of the parent device, of each mediated device, and the types: one group
	 * per type, named after it, holding struct mdev_type_attribute entries. */
	const struct attribute_group **dev_attr_groups;
	const struct attribute_group **mdev_attr_groups;
	struct attribute_group **supported_type_groups;

	/* Allocates the driver's resources for a new mediated device (its type:
	 * mdev_get_type_group_id()); an error fails the creation with it. */
	int (*create)(struct mdev_device *mdev);
	/* Frees them; called once the device can no longer be opened. Errors are logged. */
	int (*remove)(struct mdev_device *mdev);

	/* The device file, through vfio_mdev: open on the first open by a client, release on
	 * the last close; missing read/write/ioctl/mmap answer -EINVAL. */
	int (*open)(struct mdev_device *mdev);
	void (*release)(struct mdev_device *mdev);
	ssize_t (*read)(struct mdev_device *mdev, char *buf, size_t count, uint64_t *ppos);
	ssize_t (*write)(struct mdev_device *mdev, const char *buf, size_t count,
			 uint64_t *ppos);
	long (*ioctl)(struct mdev_device *mdev, unsigned int cmd, unsigned long arg);
	int (*mmap)(struct mdev_device *mdev, struct vm_area_struct *vma);
	/* The device is being removed while open: ask the client to release it. */
	void (*request)(struct mdev_device *mdev, unsigned int count);
	/* umdev: the kernel's DMA-unmap notifier (VFIO_IOMMU_NOTIFY_DMA_UNMAP) as an op; a
	 * parent that pins pages (vfio_pin_pages() on mdev_vfio_device()) must provide it. */
	void (*dma_unmap)(struct mdev_device *mdev, uint64_t iova, uint64_t length);
};

/*
 * Registers @dev as a parent. Type names are "<dev_driver_string(dev)>-<group name>".
 * -EINVAL (a name that is empty, ".", ".." or holds a '/', missing required ops, a group
 * without a name or with one that cannot be a file name), -EEXIST (already registered, or
 * a parent of the same name exists, or two types of the same name), -ENOMEM.
 *
 * The core keeps pointers to @dev and @ops until the last reference to the parent is gone,
 * which may be after mdev_unregister_device() returns (a management request in flight):
 * both must stay valid for the life of the process (umdevd never unloads a plugin).
 */
int mdev_register_device(struct device *dev, const struct mdev_parent_ops *ops);

/*
 * Unregisters a parent: new creates and removes fail with -ENODEV, every mediated device of
 * the parent is removed (waiting for clients to release open ones), then the types go. A
 * device that is not registered is ignored.
 */
void mdev_unregister_device(struct device *dev);

/*
 * Registers a bus driver; devices without a driver are probed with it. -EINVAL without a
 * name or probe, -EEXIST if registered or the name is taken.
 */
int mdev_register_driver(struct mdev_driver *drv);
/* Unbinds the driver from its devices (calling remove) and unregisters it. */
void mdev_unregister_driver(struct mdev_driver *drv);

/* Accessors. */
struct device *mdev_parent_dev(struct mdev_device *mdev);
struct device *mdev_dev(struct mdev_device *mdev);
/* The mediated device of a struct device, or NULL if it is not one. */
struct mdev_device *mdev_from_dev(struct device *dev);
const guid_t *mdev_uuid(struct mdev_device *mdev);
void *mdev_get_drvdata(struct mdev_device *mdev);
void mdev_set_drvdata(struct mdev_device *mdev, void *data);
struct mdev_type *mdev_get_type(struct mdev_device *mdev);
/* Index of the device's type in supported_type_groups. */
unsigned int mdev_get_type_group_id(struct mdev_device *mdev);
unsigned int mtype_get_type_group_id(struct mdev_type *mtype);
struct device *mtype_get_parent_dev(struct mdev_type *mtype);
/* The type's name, e.g. "mtty-2". */
const char *mtype_get_name(struct mdev_type *mtype);
/*
 * The vfio device that vfio_mdev gave the mediated device, or NULL when not bound to it. The
 * pointer stays valid while the device is bound: inside the parent's callbacks, or while
 * the caller holds a reference on the mediated device and does not remove it.
 */
struct vfio_device *mdev_vfio_device(struct mdev_device *mdev);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
