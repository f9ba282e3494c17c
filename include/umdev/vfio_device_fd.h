/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device file of a vfio device: what the kernel's /dev/vfio device fd gives a VMM, for
 * umdev's transports (vfio-user, mpqemu) and for programs that embed umdev. A transport
 * finds a registered device, opens it for a client together with the client's DMA address
 * space, forwards region accesses and ioctls, and closes it when the client goes.
 *
 * One client at a time: a device open with one DMA space refuses another (-EBUSY), as a VFIO
 * group belongs to one container.
 */
#ifndef UMDEV_VFIO_DEVICE_FD_H
#define UMDEV_VFIO_DEVICE_FD_H

#include <stdint.h>
#include <sys/types.h>

#include <umdev/notifier.h>
#include <umdev/vfio.h>
#include <umdev/vfio_dma.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/*
 * Finds a registered device by name (its device's name, or its ops->match) and takes a
 * reference (drop it with vfio_put_device()). -ENODEV if none matches; a match op's error.
 */
int vfio_device_get_from_name(const char *name, struct vfio_device **ret_vdev);

/*
 * Opens the device for a client whose DMA address space is @space (NULL: a client without
 * DMA). The first open binds the space and calls bind_iommufd, attach_ioas and open_device;
 * a later open with the same space only counts. -ENODEV if not registered, -EBUSY if open
 * with another space, or the driver's error (nothing is left bound then).
 */
int vfio_device_open(struct vfio_device *vdev, struct vfio_dma_space *space);

/* Undoes one vfio_device_open(); the last close calls close_device and unbinds the space. */
void vfio_device_close(struct vfio_device *vdev);

/* True while a client has the device open. */
bool vfio_device_is_open(struct vfio_device *vdev);

/*
 * The calls below are the device file's operations: the caller must have the device open
 * (vfio_device_open()) and must not call them after its vfio_device_close().
 */

/* Region access at the device-file offset @pos; the driver's return value, or -EINVAL. */
ssize_t vfio_device_read(struct vfio_device *vdev, void *buf, size_t count, uint64_t pos);
ssize_t vfio_device_write(struct vfio_device *vdev, const void *buf, size_t count,
			  uint64_t pos);

/*
 * A VFIO_DEVICE_* command. @arg points at the command's structure, in a buffer of at least
 * its argsz bytes. VFIO_DEVICE_FEATURE is handled by the core (and passed on to the driver's
 * device_feature for features the core does not know); others go to the driver's ioctl.
 *
 * DMA logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_START, _STOP, _REPORT) is implemented by the
 * core for every device registered with vfio_register_emulated_iommu_dev(), without driver
 * code: the core sees each write the device makes to guest memory (vfio_dma_rw() with
 * write, and pages pinned with IOMMU_WRITE). Other devices answer -ENOTTY. The `ranges` of
 * START and the `bitmap` of REPORT are addresses in this process.
 *   START (SET, PROBE): page_size a power of two; the core tracks at max(page_size,
 *     PAGE_SIZE) and writes that back into page_size. 1 to 256 ranges (the kernel's
 *     LOG_MAX_RANGES), each non-empty, aligned to page_size, disjoint. -EINVAL (also when
 *     no DMA space is bound), -E2BIG (more than 256 ranges, or bitmaps of more than 64 MiB
 *     together: ask for a bigger page_size), -EOVERFLOW (a range reaching past the end of
 *     the IOVA space), -EFAULT (ranges is 0), -EBUSY (logging already on). Only writes
 *     inside the ranges are logged.
 *   STOP (SET): ends logging; 0 also when it is off. The device's last close ends it too.
 *   REPORT (GET): page_size a power of two >= PAGE_SIZE, [iova, iova+length) non-empty,
 *     inside the logged ranges, logging on; -EINVAL otherwise, -EOVERFLOW if the range wraps,
 *     -EFAULT if bitmap is 0.
 *     Sets (never clears) bit i of the u64 words at `bitmap` when the i-th page_size unit of
 *     the range holds bytes written since START or since they were last reported, or a page
 *     pinned for writing now; a tracking unit bigger than page_size sets all its units.
 *     Reported units are cleared, but a tracking unit that reaches outside the range stays
 *     marked. `bitmap` must hold DIV_ROUND_UP(DIV_ROUND_UP(length, page_size), 64) words.
 */
long vfio_device_ioctl(struct vfio_device *vdev, unsigned int cmd, void *arg);

/* Asks the driver which fd and offset back a mmap of the device file. */
int vfio_device_mmap(struct vfio_device *vdev, struct vm_area_struct *vma);

/*
 * The device's current migration stream: the one the last VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE
 * transition opened (the kernel's data_fd; vfio-user's MIG_DATA_READ/MIG_DATA_WRITE). Read
 * returns the bytes read (0 at the end), write the bytes taken; -EINVAL without a stream or
 * when it cannot be read or written; the stream's own errors. A later transition that opens
 * a stream, and the last close of the device, drop the current one.
 */
ssize_t vfio_device_mig_read(struct vfio_device *vdev, void *buf, size_t len);
ssize_t vfio_device_mig_write(struct vfio_device *vdev, const void *buf, size_t len);
long vfio_device_mig_ioctl(struct vfio_device *vdev, unsigned int cmd, void *arg);

/* Events of the vfio device notifier chain; `data` is the struct vfio_device. */
enum vfio_device_event {
	VFIO_DEVICE_EVENT_REGISTERED,	 /* reachable by name now */
	VFIO_DEVICE_EVENT_UNREGISTERING, /* no longer reachable; clients are asked to let go */
	VFIO_DEVICE_EVENT_UNREGISTERED,	 /* the last client has closed it */
};

int vfio_register_device_notifier(struct notifier_block *nb);
int vfio_unregister_device_notifier(struct notifier_block *nb);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
