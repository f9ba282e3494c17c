/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Definitions of the VFIO uapi that Debian 12's <linux/vfio.h> (Linux 6.1) does not have yet:
 * the PRE_COPY migration states and flag, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE and the pre-copy
 * info ioctl of a migration stream (all Linux 6.2). Each group is defined only when the
 * installed header lacks it, with the kernel's values.
 */
#ifndef UMDEV_VFIO_UAPI_COMPAT_H
#define UMDEV_VFIO_UAPI_COMPAT_H

#include <linux/types.h>
#include <linux/vfio.h>

#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY (1 << 2)
/* enum vfio_device_mig_state values added with PRE_COPY */
#define VFIO_DEVICE_STATE_PRE_COPY 6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P 7
#endif

#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};
#endif

#ifndef VFIO_MIG_GET_PRECOPY_INFO
struct vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};
#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21)
#endif

/* The highest migration state value. */
#define UMDEV_VFIO_DEVICE_STATE_MAX VFIO_DEVICE_STATE_PRE_COPY_P2P

#endif
