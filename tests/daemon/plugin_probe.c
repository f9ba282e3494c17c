/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A well-formed plugin for the daemon tests: a parent `probe` (class `probe`) with one type,
 * probe-1, whose devices hold no state and answer VFIO_DEVICE_GET_INFO only. It shows that a
 * plugin's parent is hosted next to the built-in ones and goes away cleanly at shutdown.
 * Like the in-tree drivers, it registers through drivers/common (drv_parent.h), a static
 * archive linked into the plugin.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <umdev/mdev.h>
#include <umdev/module.h>
#include <umdev/vfio.h>

#include "drv_parent.h"

static struct device probe_parent;
static atomic_int probe_instances;

static long probe_ioctl(struct mdev_device *mdev, unsigned int cmd, unsigned long arg)
{
	struct vfio_device_info info;
	unsigned long minsz = offsetof(struct vfio_device_info, num_irqs) + sizeof(info.num_irqs);

	(void)mdev;
	if (cmd != VFIO_DEVICE_GET_INFO)
		return -ENOTTY;
	memcpy(&info, (void *)arg, minsz);
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	memcpy((void *)arg, &info, minsz);
	return 0;
}

static int probe_create(struct mdev_device *mdev)
{
	(void)mdev;
	atomic_fetch_add(&probe_instances, 1);
	return 0;
}

static int probe_remove(struct mdev_device *mdev)
{
	(void)mdev;
	atomic_fetch_sub(&probe_instances, 1);
	return 0;
}

static ssize_t name_show(struct mdev_type *mtype, struct mdev_type_attribute *attr, char *buf)
{
	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "Probe device\n");
}
static MDEV_TYPE_ATTR_RO(name);

static ssize_t available_instances_show(struct mdev_type *mtype,
					struct mdev_type_attribute *attr, char *buf)
{
	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "%d\n", 16 - atomic_load(&probe_instances));
}
static MDEV_TYPE_ATTR_RO(available_instances);

static struct attribute *probe_type_attrs[] = {
	&mdev_type_attr_name.attr,
	&drv_type_attr_device_api_pci.attr,
	&mdev_type_attr_available_instances.attr,
	NULL,
};
static struct attribute_group probe_type_group = { "1", probe_type_attrs };
static struct attribute_group *probe_type_groups[] = { &probe_type_group, NULL };

static const struct mdev_parent_ops probe_parent_ops = {
	.supported_type_groups = probe_type_groups,
	.create = probe_create,
	.remove = probe_remove,
	.ioctl = probe_ioctl,
};

static int probe_init(void)
{
	return drv_parent_register(&probe_parent, "probe", "probe", &probe_parent_ops, NULL);
}

static void probe_exit(void)
{
	drv_parent_unregister(&probe_parent, NULL);
}

UMDEV_DRIVER_MODULE(probe, probe_init, probe_exit);
