/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers that drivers call from their ioctl and device_feature ops, with the checks of the
 * kernel's helpers of the same names (see <umdev/vfio.h>).
 */
#include <errno.h>

#include <umdev/vfio.h>

#define IRQ_SET_MINSZ (offsetof(struct vfio_irq_set, count) + sizeof(uint32_t))

int vfio_set_irqs_validate_and_prepare(const struct vfio_irq_set *hdr, unsigned int num_irqs,
				       unsigned int max_irq_type, size_t *data_size)
{
	const uint32_t known = VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK;
	size_t size = 0;

	if (hdr->argsz < IRQ_SET_MINSZ || hdr->index >= max_irq_type ||
	    hdr->count >= UINT32_MAX - hdr->start || (hdr->flags & ~known))
		return -EINVAL;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(uint8_t);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}

	if (size) {
		if (hdr->argsz - IRQ_SET_MINSZ < (size_t)hdr->count * size)
			return -EINVAL;
		if (!data_size)
			return -EINVAL;
		*data_size = (size_t)hdr->count * size;
	} else if (data_size) {
		*data_size = 0;
	}

	if (hdr->start >= num_irqs || hdr->start + hdr->count > num_irqs)
		return -EINVAL;
	return 0;
}

int vfio_check_feature(uint32_t flags, size_t argsz, uint32_t supported_ops, size_t minsz)
{
	const uint32_t rw = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET;

	if ((flags & rw) & ~supported_ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!(flags & rw))
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}

int vfio_iommufd_emulated_bind(struct vfio_device *vdev, struct vfio_dma_space *space,
			       uint32_t *out_device_id)
{
	(void)vdev;
	(void)space;
	if (out_device_id)
		*out_device_id = 0;
	return 0;
}

void vfio_iommufd_emulated_unbind(struct vfio_device *vdev)
{
	(void)vdev;
}

int vfio_iommufd_emulated_attach_ioas(struct vfio_device *vdev, uint32_t *pt_id)
{
	(void)vdev;
	(void)pt_id;
	return 0;
}
