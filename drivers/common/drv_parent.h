/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a current-kernel (E3) driver's module does around its parent, the same way in every
 * driver (docs/driver-api.md section 4.4): registering its bus driver and its parent device,
 * the bus driver's probe and remove that register a vfio device as an emulated-IOMMU device,
 * a pool of units that creates draw from (instances, or mtty's ports), the `device_api`
 * type attribute of a PCI type, and VFIO_DEVICE_GET_INFO of a PCI function. Used by mtty,
 * the test device dmatest and the daemon tests' probe plugin.
 */
#ifndef UMDEV_DRIVERS_COMMON_DRV_PARENT_H
#define UMDEV_DRIVERS_COMMON_DRV_PARENT_H

#include <stdatomic.h>

#include <umdev/mdev.h>
#include <umdev/vfio.h>

/*
 * Registers @drv (when not NULL) and then the parent @parent, of class @class_name, named
 * @name, with @ops: 0, or -errno with nothing registered and @parent put.
 */
int drv_parent_register(struct device *parent, const char *class_name, const char *name,
			const struct mdev_parent_ops *ops, struct mdev_driver *drv);
/* Unregisters the parent (which removes its devices) and then @drv (when not NULL). */
void drv_parent_unregister(struct device *parent, struct mdev_driver *drv);

/*
 * The bus driver's probe, once it has allocated @vdev for @dev: registers it as an
 * emulated-IOMMU device and keeps it as @dev's driver data; 0, or -errno with @vdev put.
 */
int drv_vfio_probe(struct device *dev, struct vfio_device *vdev);
/* The bus driver's remove: unregisters (waiting for the client to close) and puts it. */
void drv_vfio_remove(struct device *dev);

/* Units that creates take and removes give back, all or none, without a lock. */
struct drv_pool {
	atomic_uint free;
};

void drv_pool_init(struct drv_pool *pool, unsigned int size);
/* Takes @n units: 0, or -ENOSPC with nothing taken. */
int drv_pool_take(struct drv_pool *pool, unsigned int n);
void drv_pool_put(struct drv_pool *pool, unsigned int n);
unsigned int drv_pool_free(struct drv_pool *pool);

/* The type attribute `device_api` of a PCI type: "vfio-pci". */
extern struct mdev_type_attribute drv_type_attr_device_api_pci;

/* VFIO_DEVICE_GET_INFO of a PCI function with @flags besides VFIO_DEVICE_FLAGS_PCI. */
long drv_pci_get_info(unsigned long arg, uint32_t flags);

#endif
