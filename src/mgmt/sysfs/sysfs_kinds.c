/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dispatch table of the sysfs tree: per node kind, whether it is a directory, a file
 * or a link, its mode, the function listing a directory's children and the show/store of a
 * file. Vendor attributes (SK_*_ATTR) take their mode from the attribute itself and go
 * through the mdev core's show/store dispatch. docs/sysfs-layout.md describes each node.
 */
#include "mgmt/sysfs/sysfs_private.h"

#define DIR(fn) { SYSFS_DIR, 0755, fn, NULL, NULL }
#define FILE_(mode, show, store) { SYSFS_FILE, mode, NULL, show, store }

const struct sysfs_kind_ops sysfs_kinds[SK_NR_KINDS] = {
	[SK_ROOT] = DIR(sysfs_list_root),
	[SK_CLASS] = DIR(sysfs_list_class),
	[SK_CLASS_MDEV_BUS] = DIR(sysfs_list_class_mdev_bus),
	[SK_CLASS_DIR] = DIR(sysfs_list_class_dir),
	[SK_CLASS_VFIO] = DIR(sysfs_list_class_vfio),
	[SK_BUS] = DIR(sysfs_list_bus),
	[SK_BUS_MDEV] = DIR(sysfs_list_bus_mdev),
	[SK_BUS_DEVICES] = DIR(sysfs_list_bus_devices),
	[SK_BUS_DRIVERS] = DIR(sysfs_list_bus_drivers),
	[SK_BUS_DRIVER] = DIR(sysfs_list_bus_driver),
	[SK_BUS_DIR] = DIR(sysfs_list_bus_dir),
	[SK_BUS_DIR_DEVICES] = DIR(sysfs_list_bus_dir_devices),
	[SK_KERNEL] = DIR(sysfs_list_kernel),
	[SK_IOMMU_GROUPS] = DIR(sysfs_list_iommu_groups),
	[SK_IOMMU_GROUP] = DIR(sysfs_list_iommu_group),
	[SK_IOMMU_GROUP_DEVICES] = DIR(sysfs_list_iommu_group_devices),
	[SK_DEVPREFIX] = DIR(sysfs_list_devprefix),
	[SK_PARENT] = DIR(sysfs_list_parent),
	[SK_POWER] = DIR(sysfs_list_empty),
	[SK_PARENT_GROUP] = DIR(sysfs_list_parent_group),
	[SK_TYPES] = DIR(sysfs_list_types),
	[SK_TYPE] = DIR(sysfs_list_type),
	[SK_TYPE_DEVICES] = DIR(sysfs_list_type_devices),
	[SK_MDEV] = DIR(sysfs_list_mdev),
	[SK_MDEV_GROUP] = DIR(sysfs_list_mdev_group),
	[SK_VFIO_DEV] = DIR(sysfs_list_vfio_dev),
	[SK_VFIO_DEV_N] = DIR(sysfs_list_vfio_dev_n),

	[SK_CREATE] = FILE_(0200, NULL, sysfs_store_create),
	[SK_REMOVE] = FILE_(0200, NULL, sysfs_store_remove),
	[SK_TYPE_ATTR] = FILE_(0, sysfs_show_vendor, sysfs_store_vendor),
	[SK_PARENT_ATTR] = FILE_(0, sysfs_show_vendor, sysfs_store_vendor),
	[SK_MDEV_ATTR] = FILE_(0, sysfs_show_vendor, sysfs_store_vendor),
	[SK_PARENT_UEVENT] = FILE_(0644, sysfs_show_uevent, sysfs_store_uevent),
	[SK_MDEV_UEVENT] = FILE_(0644, sysfs_show_uevent, sysfs_store_uevent),
	[SK_EMPTY_UEVENT] = FILE_(0644, sysfs_show_empty, sysfs_store_uevent),
	[SK_DRIVER_UEVENT] = FILE_(0200, NULL, sysfs_store_uevent),
	[SK_GROUP_NAME] = FILE_(0444, sysfs_show_group_name, NULL),

	[SK_LINK] = { SYSFS_LINK, 0777, NULL, NULL, NULL },
};
