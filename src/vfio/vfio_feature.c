/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VFIO_DEVICE_FEATURE, dispatched by the core as the kernel's vfio_main does: the header is
 * validated here, features the core owns are answered here, and the rest go to the driver's
 * device_feature op. The migration features are answered for devices with migration ops
 * (vfio_migration.c), DMA logging for emulated-IOMMU devices (vfio_dirty.c).
 */
#include <errno.h>

#include "vfio/vfio_private.h"

#define FEATURE_MINSZ (offsetof(struct vfio_device_feature, flags) + sizeof(uint32_t))

long vfio_ioctl_device_feature(struct vfio_device *vdev, struct vfio_device_feature *feature)
{
	const uint32_t known = VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_GET |
			       VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PROBE;
	uint32_t flags = feature->flags;

	if (feature->argsz < FEATURE_MINSZ)
		return -EINVAL;
	if (flags & ~known)
		return -EINVAL;
	/* GET and SET together only make sense for PROBE */
	if (!(flags & VFIO_DEVICE_FEATURE_PROBE) && (flags & VFIO_DEVICE_FEATURE_GET) &&
	    (flags & VFIO_DEVICE_FEATURE_SET))
		return -EINVAL;

	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return vfio_migration_feature(vdev, flags, feature->data,
					      feature->argsz - FEATURE_MINSZ);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		return vfio_dirty_feature(vdev, flags, feature->data,
					  feature->argsz - FEATURE_MINSZ);
	default:
		if (!vdev->ops->device_feature)
			return -EINVAL;
		return vdev->ops->device_feature(vdev, flags, feature->data,
						 feature->argsz - FEATURE_MINSZ);
	}
}
