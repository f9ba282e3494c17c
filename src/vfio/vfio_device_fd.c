/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device file of a vfio device (see <umdev/vfio_device_fd.h>): open and close by a
 * client with its DMA address space, and the dispatch of region accesses, ioctls and mmap to
 * the driver's ops.
 *
 * Open order, as in the kernel: bind the DMA space, bind_iommufd, attach_ioas, open_device;
 * an error unwinds what was done. Close order: close_device, unbind_iommufd, unbind the
 * space. Both run under the device's lock, which serialises them with each other and with
 * the unregistration's wait.
 */
#include <errno.h>

#include <umdev/log.h>

#include "vfio/vfio_private.h"

int vfio_device_open(struct vfio_device *vdev, struct vfio_dma_space *space)
{
	struct vfio_device_private *priv = vdev->priv;
	const struct vfio_device_ops *ops = vdev->ops;
	uint32_t device_id = 0, pt_id = 0;
	int ret = 0;

	pthread_mutex_lock(&priv->lock);
	if (!priv->registered) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (priv->open_count) {
		if (priv->space != space)
			ret = -EBUSY;
		else
			priv->open_count++;
		goto out_unlock;
	}

	dma_space_attach(space, vdev);
	if (ops->bind_iommufd) {
		ret = ops->bind_iommufd(vdev, space, &device_id);
		if (ret)
			goto err_detach;
	}
	if (ops->attach_ioas) {
		ret = ops->attach_ioas(vdev, &pt_id);
		if (ret)
			goto err_unbind;
	}
	if (ops->open_device) {
		ret = ops->open_device(vdev);
		if (ret)
			goto err_unbind;
	}
	priv->open_count = 1;
	goto out_unlock;

err_unbind:
	if (ops->unbind_iommufd)
		ops->unbind_iommufd(vdev);
err_detach:
	dma_space_detach(vdev);
out_unlock:
	pthread_mutex_unlock(&priv->lock);
	return ret > 0 ? -EINVAL : ret;
}

void vfio_device_close(struct vfio_device *vdev)
{
	struct vfio_device_private *priv = vdev->priv;
	struct vfio_mig_file *stream = NULL;

	pthread_mutex_lock(&priv->lock);
	if (!priv->open_count) {
		umdev_log(UMDEV_LOG_ERR, "vfio %s: close without open", dev_name(vdev->dev));
		goto out_unlock;
	}
	if (--priv->open_count)
		goto out_unlock;
	if (vdev->ops->close_device)
		vdev->ops->close_device(vdev);
	if (vdev->ops->unbind_iommufd)
		vdev->ops->unbind_iommufd(vdev);
	dma_space_detach(vdev);
	stream = priv->mig_file; /* the client's migration stream goes with the client */
	priv->mig_file = NULL;
	pthread_cond_broadcast(&priv->closed);
out_unlock:
	pthread_mutex_unlock(&priv->lock);
	vfio_mig_file_put(stream);
}

bool vfio_device_is_open(struct vfio_device *vdev)
{
	bool open;

	pthread_mutex_lock(&vdev->priv->lock);
	open = vdev->priv->open_count > 0;
	pthread_mutex_unlock(&vdev->priv->lock);
	return open;
}

ssize_t vfio_device_read(struct vfio_device *vdev, void *buf, size_t count, uint64_t pos)
{
	if (!vdev->ops->read)
		return -EINVAL;
	return vdev->ops->read(vdev, buf, count, &pos);
}

ssize_t vfio_device_write(struct vfio_device *vdev, const void *buf, size_t count, uint64_t pos)
{
	if (!vdev->ops->write)
		return -EINVAL;
	return vdev->ops->write(vdev, buf, count, &pos);
}

long vfio_device_ioctl(struct vfio_device *vdev, unsigned int cmd, void *arg)
{
	if (!arg && cmd != VFIO_DEVICE_RESET)
		return -EFAULT;
	if (cmd == VFIO_DEVICE_FEATURE)
		return vfio_ioctl_device_feature(vdev, arg);
	if (!vdev->ops->ioctl)
		return -EINVAL;
	return vdev->ops->ioctl(vdev, cmd, (unsigned long)arg);
}

int vfio_device_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	if (!vdev->ops->mmap)
		return -EINVAL;
	vma->vm_fd = -1;
	vma->vm_fd_offset = 0;
	return vdev->ops->mmap(vdev, vma);
}
