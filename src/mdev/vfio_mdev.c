/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio_mdev, the built-in mdev bus driver: it gives each mediated device bound to it a vfio
 * device (registered as an emulated-IOMMU device, named after the mdev's UUID) whose
 * operations forward to the parent's mdev_parent_ops. open_device() calls the parent's open
 * on the first open by a client and close_device() its release on the last close.
 *
 * A parent without a dma_unmap op gets vfio ops without one, so that, as in the kernel,
 * pinning pages fails for a device that could not be told to unpin them.
 */
#include <errno.h>

#include <umdev/log.h>
#include <umdev/mdev.h>

#include "mdev/mdev_private.h"

struct vfio_mdev {
	struct vfio_device vdev; /* first: vfio_alloc_device() */
	struct mdev_device *mdev;
};

static struct mdev_device *vdev_to_mdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct vfio_mdev, vdev)->mdev;
}

static const struct mdev_parent_ops *parent_ops(struct vfio_device *vdev)
{
	return vdev_to_mdev(vdev)->parent->ops;
}

static int vfio_mdev_open_device(struct vfio_device *vdev)
{
	const struct mdev_parent_ops *ops = parent_ops(vdev);

	return ops->open ? ops->open(vdev_to_mdev(vdev)) : 0;
}

static void vfio_mdev_close_device(struct vfio_device *vdev)
{
	const struct mdev_parent_ops *ops = parent_ops(vdev);

	if (ops->release)
		ops->release(vdev_to_mdev(vdev));
}

static ssize_t vfio_mdev_read(struct vfio_device *vdev, char *buf, size_t count, uint64_t *ppos)
{
	const struct mdev_parent_ops *ops = parent_ops(vdev);

	return ops->read ? ops->read(vdev_to_mdev(vdev), buf, count, ppos) : -EINVAL;
}

static ssize_t vfio_mdev_write(struct vfio_device *vdev, const char *buf, size_t count,
			       uint64_t *ppos)
{
	const struct mdev_parent_ops *ops = parent_ops(vdev);

	return ops->write ? ops->write(vdev_to_mdev(vdev), buf, count, ppos) : -EINVAL;
}

static long vfio_mdev_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	const struct mdev_parent_ops *ops = parent_ops(vdev);

	return ops->ioctl ? ops->ioctl(vdev_to_mdev(vdev), cmd, arg) : -EINVAL;
}

static int vfio_mdev_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	const struct mdev_parent_ops *ops = parent_ops(vdev);

	return ops->mmap ? ops->mmap(vdev_to_mdev(vdev), vma) : -EINVAL;
}

static void vfio_mdev_request(struct vfio_device *vdev, unsigned int count)
{
	const struct mdev_parent_ops *ops = parent_ops(vdev);
	struct mdev_device *mdev = vdev_to_mdev(vdev);

	if (ops->request)
		ops->request(mdev, count);
	else if (count == 0)
		dev_info(mdev_dev(mdev),
			 "parent has no request callback; removal waits until the client releases the device");
}

static void vfio_mdev_dma_unmap(struct vfio_device *vdev, uint64_t iova, uint64_t length)
{
	parent_ops(vdev)->dma_unmap(vdev_to_mdev(vdev), iova, length);
}

#define VFIO_MDEV_OPS                                   \
	.name = "vfio-mdev",                            \
	.open_device = vfio_mdev_open_device,           \
	.close_device = vfio_mdev_close_device,         \
	.read = vfio_mdev_read, .write = vfio_mdev_write, \
	.ioctl = vfio_mdev_ioctl, .mmap = vfio_mdev_mmap, \
	.request = vfio_mdev_request

static const struct vfio_device_ops vfio_mdev_ops = { VFIO_MDEV_OPS };
static const struct vfio_device_ops vfio_mdev_dma_ops = { VFIO_MDEV_OPS,
							   .dma_unmap = vfio_mdev_dma_unmap };

static int vfio_mdev_probe(struct device *dev)
{
	struct mdev_device *mdev = mdev_from_dev(dev);
	struct vfio_mdev *vm;
	int ret;

	if (!mdev)
		return -EINVAL;
	vm = vfio_alloc_device(vfio_mdev, vdev, dev,
			       mdev->parent->ops->dma_unmap ? &vfio_mdev_dma_ops : &vfio_mdev_ops);
	if (IS_ERR(vm))
		return (int)PTR_ERR(vm);
	vm->mdev = mdev;
	ret = vfio_register_emulated_iommu_dev(&vm->vdev);
	if (ret) {
		vfio_put_device(&vm->vdev);
		return ret;
	}
	__atomic_store_n(&dev->driver_data, vm, __ATOMIC_RELEASE);
	return 0;
}

static void vfio_mdev_remove(struct device *dev)
{
	struct vfio_mdev *vm = dev_get_drvdata(dev);

	vfio_unregister_group_dev(&vm->vdev);
	__atomic_store_n(&dev->driver_data, NULL, __ATOMIC_RELEASE);
	vfio_put_device(&vm->vdev);
}

struct mdev_driver vfio_mdev_driver = {
	.name = "vfio_mdev",
	.probe = vfio_mdev_probe,
	.remove = vfio_mdev_remove,
};

struct vfio_device *mdev_vfio_device(struct mdev_device *mdev)
{
	struct vfio_mdev *vm = NULL;

	/* no lock: this is called from the parent's callbacks, some of which run while the
	 * bus lock is held for a binding change */
	if (__atomic_load_n(&mdev->driver, __ATOMIC_ACQUIRE) == &vfio_mdev_driver)
		vm = __atomic_load_n(&mdev->dev.driver_data, __ATOMIC_ACQUIRE);
	return vm ? &vm->vdev : NULL;
}
