/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A driver in miniature that uses the macros and inline helpers of every public header, for
 * check_headers.py: it is compiled as C and as C++ (a C++ driver must be possible) into a
 * plugin, whose UMDEV_DRIVER_MODULE() symbol must be exported under its C name, and with
 * UMDEV_BUILTIN_DRIVER into an object with the built-in symbol. It is never run.
 */
#include <errno.h>
#include <stdlib.h>

#include <umdev/device.h>
#include <umdev/kernel.h>
#include <umdev/log.h>
#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/notifier.h>
#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_dma.h>

struct usage_state {
	struct vfio_device vdev; /* first: vfio_alloc_device() */
	int value;
};

static struct device usage_parent;

static ssize_t flavour_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	(void)attr;
	dev_dbg(dev, "flavour read");
	return sysfs_emit(buf, "%s\n", dev_name(dev));
}
static DEVICE_ATTR_RO(flavour);

static struct attribute *usage_dev_attrs[] = { &dev_attr_flavour.attr, NULL };
static const struct attribute_group usage_dev_group = { "usage", usage_dev_attrs };
static const struct attribute_group *usage_dev_groups[] = { &usage_dev_group, NULL };

static ssize_t name_show(struct mdev_type *mtype, struct mdev_type_attribute *attr, char *buf)
{
	(void)attr;
	return sysfs_emit(buf, "%s\n", mtype_get_name(mtype));
}
static MDEV_TYPE_ATTR_RO(name);

static struct attribute *usage_type_attrs[] = { &mdev_type_attr_name.attr, NULL };
static struct attribute_group usage_type_group = { "1", usage_type_attrs };
static struct attribute_group *usage_type_groups[] = { &usage_type_group, NULL };

static int usage_vfio_init(struct vfio_device *vdev)
{
	struct usage_state *s = container_of(vdev, struct usage_state, vdev);

	s->value = 1;
	return 0;
}

static struct vfio_device_ops usage_vfio_ops; /* filled in by usage_init() */

static int usage_create(struct mdev_device *mdev)
{
	struct usage_state *s = vfio_alloc_device(usage_state, vdev, mdev_dev(mdev), &usage_vfio_ops);
	struct page *page = NULL;
	uint8_t b = 0;

	if (IS_ERR(s))
		return (int)PTR_ERR(s);
	if (vfio_pin_pages(&s->vdev, PAGE_SIZE, 1, IOMMU_READ | IOMMU_WRITE, &page) == 1) {
		b = *(uint8_t *)page_address(page);
		vfio_unpin_pages(&s->vdev, PAGE_SIZE, 1);
	}
	if (vfio_dma_rw(&s->vdev, PAGE_SIZE, &b, 1, false))
		dev_warn(mdev_dev(mdev), "no DMA");
	mdev_set_drvdata(mdev, s);
	return 0;
}

static int usage_remove(struct mdev_device *mdev)
{
	struct usage_state *s = (struct usage_state *)mdev_get_drvdata(mdev);

	vfio_put_device(&s->vdev);
	return 0;
}

static long usage_ioctl(struct mdev_device *mdev, unsigned int cmd, unsigned long arg)
{
	struct vfio_device_info *info = (struct vfio_device_info *)arg;

	(void)mdev;
	if (cmd != VFIO_DEVICE_GET_INFO)
		return -ENOTTY;
	info->flags = VFIO_DEVICE_FLAGS_PCI;
	info->num_regions = VFIO_PCI_NUM_REGIONS;
	info->num_irqs = VFIO_PCI_NUM_IRQS;
	return 0;
}

static struct mdev_parent_ops usage_ops;

static int usage_init(void)
{
	int ret;

	usage_vfio_ops.name = "usage";
	usage_vfio_ops.init = usage_vfio_init;
	usage_ops.dev_attr_groups = usage_dev_groups;
	usage_ops.supported_type_groups = usage_type_groups;
	usage_ops.create = usage_create;
	usage_ops.remove = usage_remove;
	usage_ops.ioctl = usage_ioctl;
	device_initialize(&usage_parent);
	usage_parent.class_name = "usage";
	ret = dev_set_name(&usage_parent, "usage%d", 0);
	if (!ret)
		ret = mdev_register_device(&usage_parent, &usage_ops);
	if (ret) {
		dev_err(&usage_parent, "cannot register: %d", ret);
		put_device(&usage_parent);
	}
	return ret;
}

static void usage_exit(void)
{
	mdev_unregister_device(&usage_parent);
	put_device(&usage_parent);
}

UMDEV_DRIVER_MODULE(usage, usage_init, usage_exit);
