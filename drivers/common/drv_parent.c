/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The module-level helpers of drv_parent.h: parent and bus driver registration, the bus
 * driver's probe and remove, the unit pool, and the answers every PCI type gives alike.
 */
#include <errno.h>

#include "drv_parent.h"

/* ---- the parent and the bus driver ---- */

int drv_parent_register(struct device *parent, const char *class_name, const char *name,
			const struct mdev_parent_ops *ops, struct mdev_driver *drv)
{
	int ret;

	if (drv) {
		ret = mdev_register_driver(drv); /* before the parent that names it */
		if (ret)
			return ret;
	}
	device_initialize(parent);
	parent->class_name = class_name;
	ret = dev_set_name(parent, "%s", name);
	if (ret)
		goto err_put;
	ret = mdev_register_device(parent, ops);
	if (ret)
		goto err_put;
	return 0;

err_put:
	put_device(parent);
	if (drv)
		mdev_unregister_driver(drv);
	return ret;
}

void drv_parent_unregister(struct device *parent, struct mdev_driver *drv)
{
	mdev_unregister_device(parent); /* removes every device through the bus driver */
	if (drv)
		mdev_unregister_driver(drv);
	put_device(parent);
}

int drv_vfio_probe(struct device *dev, struct vfio_device *vdev)
{
	int ret = vfio_register_emulated_iommu_dev(vdev);

	if (ret) {
		vfio_put_device(vdev);
		return ret;
	}
	dev_set_drvdata(dev, vdev);
	return 0;
}

void drv_vfio_remove(struct device *dev)
{
	struct vfio_device *vdev = dev_get_drvdata(dev);

	vfio_unregister_group_dev(vdev); /* waits for the client, calling request() */
	dev_set_drvdata(dev, NULL);
	vfio_put_device(vdev);
}

/* ---- the pool ---- */

void drv_pool_init(struct drv_pool *pool, unsigned int size)
{
	atomic_store(&pool->free, size);
}

int drv_pool_take(struct drv_pool *pool, unsigned int n)
{
	unsigned int free = atomic_load(&pool->free);

	do {
		if (free < n)
			return -ENOSPC;
	} while (!atomic_compare_exchange_weak(&pool->free, &free, free - n));
	return 0;
}

void drv_pool_put(struct drv_pool *pool, unsigned int n)
{
	atomic_fetch_add(&pool->free, n);
}

unsigned int drv_pool_free(struct drv_pool *pool)
{
	return atomic_load(&pool->free);
}

/* ---- what every PCI type answers alike ---- */

static ssize_t device_api_pci_show(struct mdev_type *mtype, struct mdev_type_attribute *attr,
				   char *buf)
{
	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "%s\n", VFIO_DEVICE_API_PCI_STRING);
}

struct mdev_type_attribute drv_type_attr_device_api_pci =
	__ATTR(device_api, 0444, device_api_pci_show, NULL);

long drv_pci_get_info(unsigned long arg, uint32_t flags)
{
	struct vfio_device_info *info = (struct vfio_device_info *)arg;
	size_t minsz = offsetof(struct vfio_device_info, num_irqs) + sizeof(info->num_irqs);

	if (info->argsz < minsz)
		return -EINVAL;
	info->flags = VFIO_DEVICE_FLAGS_PCI | flags;
	info->num_regions = VFIO_PCI_NUM_REGIONS;
	info->num_irqs = VFIO_PCI_NUM_IRQS;
	return 0;
}
