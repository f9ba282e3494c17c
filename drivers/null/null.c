/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * null: the smallest complete umdev driver, and the template to copy for a new one.
 *
 * The parent device "null" (class "null") offers one type, null-1 ("Null PCI device"): a PCI
 * function with a 256-byte config space and BAR0, a 4 KiB memory BAR that stores whatever is
 * written to it and reads it back. It has no interrupts and does no DMA. A device reset
 * clears BAR0 and restores the config space. Up to NULL_MAX_INSTANCES devices exist at once.
 *
 * It shows each part of the driver interface once:
 *   - a parent device and its registration (null_init/null_exit),
 *   - a parent attribute (null_dev/description), a per-device attribute
 *     (vendor/scratch_bytes) and the type attributes (name, device_api,
 *     available_instances, description),
 *   - create/remove with the driver's own accounting and locking,
 *   - the device file: VFIO_DEVICE_GET_INFO, GET_REGION_INFO, GET_IRQ_INFO, SET_IRQS and
 *     RESET in ioctl, region accesses in read/write with a `index << 40` offset layout.
 * See docs/driver-api.md for the walk-through.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/mdev.h>
#include <umdev/module.h>
#include <umdev/vfio.h>

#define NULL_MAX_INSTANCES 65536
#define NULL_CONFIG_SIZE 256
#define NULL_BAR0_SIZE 4096

#define NULL_PCI_VENDOR_ID 0x1234 /* the vendor ID QEMU's test devices use */
#define NULL_PCI_DEVICE_ID 0x6e75
#define NULL_PCI_CLASS 0xff0000u  /* unassigned class */

/* Region index in bits 40 and up of the device-file offset, as in the kernel's samples. */
#define NULL_OFFSET_SHIFT 40
#define NULL_OFFSET_TO_INDEX(off) ((off) >> NULL_OFFSET_SHIFT)
#define NULL_INDEX_TO_OFFSET(index) ((uint64_t)(index) << NULL_OFFSET_SHIFT)
#define NULL_OFFSET_MASK ((1ULL << NULL_OFFSET_SHIFT) - 1)

/* The state of one mediated device. */
struct null_state {
	pthread_mutex_t lock; /* guards config and bar0: accesses may come from any thread */
	uint8_t config[NULL_CONFIG_SIZE];
	uint8_t bar0[NULL_BAR0_SIZE];
};

static struct device null_parent;
static bool null_registered;	  /* init() and exit() are called once each, in turn */
static atomic_int null_instances; /* devices that exist */

/* ---- PCI config space ---- */

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void null_reset_config(struct null_state *s)
{
	uint8_t *c = s->config;

	memset(c, 0, sizeof(s->config));
	put_le16(c + 0x00, NULL_PCI_VENDOR_ID);
	put_le16(c + 0x02, NULL_PCI_DEVICE_ID);
	put_le32(c + 0x08, (NULL_PCI_CLASS << 8) | 0x01); /* class code, revision */
	put_le32(c + 0x10, 0x00000000);			/* BAR0: 32-bit memory */
	put_le16(c + 0x2c, NULL_PCI_VENDOR_ID);		/* subsystem vendor */
	put_le16(c + 0x2e, NULL_PCI_DEVICE_ID);		/* subsystem */
}

/* Applies a config write of @len bytes at @off (byte by byte, with the writable bits). */
static void null_config_write(struct null_state *s, unsigned int off, const uint8_t *buf,
			      unsigned int len)
{
	for (unsigned int i = 0; i < len; i++, off++) {
		if (off == 0x04) /* command: memory space enable and bus master */
			s->config[off] = buf[i] & 0x06;
		else if (off >= 0x10 && off < 0x14) /* BAR0: size alignment, type bits fixed */
			s->config[off] = off == 0x10 ? buf[i] & 0xf0 : buf[i];
		else if (off == 0x3c) /* interrupt line */
			s->config[off] = buf[i];
	}
	/* BAR0 sizing: the address bits below the size read back as zero */
	put_le32(s->config + 0x10, get_le32(s->config + 0x10) & ~(uint32_t)(NULL_BAR0_SIZE - 1));
}

/* ---- the device file ---- */

static ssize_t null_access(struct mdev_device *mdev, char *buf, size_t count, uint64_t pos,
			   bool write)
{
	struct null_state *s = mdev_get_drvdata(mdev);
	unsigned int index = NULL_OFFSET_TO_INDEX(pos);
	uint64_t off = pos & NULL_OFFSET_MASK;
	uint8_t *mem;
	size_t size;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		mem = s->config;
		size = NULL_CONFIG_SIZE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		mem = s->bar0;
		size = NULL_BAR0_SIZE;
		break;
	default:
		return -EINVAL;
	}
	if (off >= size || count > size - off)
		return -EINVAL;

	pthread_mutex_lock(&s->lock);
	if (!write)
		memcpy(buf, mem + off, count);
	else if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		null_config_write(s, (unsigned int)off, (const uint8_t *)buf, (unsigned int)count);
	else
		memcpy(mem + off, buf, count);
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)count;
}

static ssize_t null_read(struct mdev_device *mdev, char *buf, size_t count, uint64_t *ppos)
{
	return null_access(mdev, buf, count, *ppos, false);
}

static ssize_t null_write(struct mdev_device *mdev, const char *buf, size_t count,
			  uint64_t *ppos)
{
	return null_access(mdev, (char *)buf, count, *ppos, true);
}

static long null_get_info(unsigned long arg)
{
	struct vfio_device_info *info = (struct vfio_device_info *)arg;
	size_t minsz = offsetof(struct vfio_device_info, num_irqs) + sizeof(info->num_irqs);

	if (info->argsz < minsz)
		return -EINVAL;
	info->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info->num_regions = VFIO_PCI_NUM_REGIONS;
	info->num_irqs = VFIO_PCI_NUM_IRQS;
	return 0;
}

static long null_get_region_info(unsigned long arg)
{
	struct vfio_region_info *info = (struct vfio_region_info *)arg;
	size_t minsz = offsetof(struct vfio_region_info, offset) + sizeof(info->offset);

	if (info->argsz < minsz || info->index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info->offset = NULL_INDEX_TO_OFFSET(info->index);
	info->cap_offset = 0;
	switch (info->index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info->size = NULL_CONFIG_SIZE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		info->size = NULL_BAR0_SIZE;
		break;
	default:
		info->size = 0;
		info->flags = 0;
		return 0;
	}
	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	return 0;
}

static long null_get_irq_info(unsigned long arg)
{
	struct vfio_irq_info *info = (struct vfio_irq_info *)arg;
	size_t minsz = offsetof(struct vfio_irq_info, count) + sizeof(info->count);

	if (info->argsz < minsz || info->index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info->flags = 0;
	info->count = 0; /* no interrupts */
	return 0;
}

static long null_set_irqs(unsigned long arg)
{
	struct vfio_irq_set *hdr = (struct vfio_irq_set *)arg;
	size_t data_size;

	/* every index has zero interrupts, so any request that names one is invalid */
	return vfio_set_irqs_validate_and_prepare(hdr, 0, VFIO_PCI_NUM_IRQS, &data_size);
}

static long null_ioctl(struct mdev_device *mdev, unsigned int cmd, unsigned long arg)
{
	struct null_state *s = mdev_get_drvdata(mdev);

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return null_get_info(arg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return null_get_region_info(arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return null_get_irq_info(arg);
	case VFIO_DEVICE_SET_IRQS:
		return null_set_irqs(arg);
	case VFIO_DEVICE_RESET:
		pthread_mutex_lock(&s->lock);
		null_reset_config(s);
		memset(s->bar0, 0, sizeof(s->bar0));
		pthread_mutex_unlock(&s->lock);
		return 0;
	default:
		return -ENOTTY;
	}
}

/* ---- create and remove ---- */

static int null_create(struct mdev_device *mdev)
{
	struct null_state *s;

	/* reserve an instance first, so that concurrent creates cannot overshoot */
	if (atomic_fetch_add(&null_instances, 1) >= NULL_MAX_INSTANCES) {
		atomic_fetch_sub(&null_instances, 1);
		return -ENOSPC;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		atomic_fetch_sub(&null_instances, 1);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	null_reset_config(s);
	mdev_set_drvdata(mdev, s);
	return 0;
}

static int null_remove(struct mdev_device *mdev)
{
	struct null_state *s = mdev_get_drvdata(mdev);

	pthread_mutex_destroy(&s->lock);
	free(s);
	mdev_set_drvdata(mdev, NULL);
	atomic_fetch_sub(&null_instances, 1);
	return 0;
}

/* ---- attributes ---- */

static ssize_t description_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	(void)dev;
	(void)attr;
	return sysfs_emit(buf, "umdev null parent device\n");
}
static DEVICE_ATTR_RO(description);

static struct attribute *null_dev_attrs[] = { &dev_attr_description.attr, NULL };
static const struct attribute_group null_dev_group = { "null_dev", null_dev_attrs };
static const struct attribute_group *null_dev_groups[] = { &null_dev_group, NULL };

static ssize_t scratch_bytes_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	(void)dev;
	(void)attr;
	return sysfs_emit(buf, "%d\n", NULL_BAR0_SIZE);
}
static DEVICE_ATTR_RO(scratch_bytes);

static struct attribute *null_mdev_attrs[] = { &dev_attr_scratch_bytes.attr, NULL };
static const struct attribute_group null_mdev_group = { "vendor", null_mdev_attrs };
static const struct attribute_group *null_mdev_groups[] = { &null_mdev_group, NULL };

static ssize_t name_show(struct mdev_type *mtype, struct mdev_type_attribute *attr, char *buf)
{
	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "Null PCI device\n");
}
static MDEV_TYPE_ATTR_RO(name);

static ssize_t device_api_show(struct mdev_type *mtype, struct mdev_type_attribute *attr,
			       char *buf)
{
	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "%s\n", VFIO_DEVICE_API_PCI_STRING);
}
static MDEV_TYPE_ATTR_RO(device_api);

static ssize_t available_instances_show(struct mdev_type *mtype,
					struct mdev_type_attribute *attr, char *buf)
{
	int used = atomic_load(&null_instances);

	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "%d\n", used < NULL_MAX_INSTANCES ? NULL_MAX_INSTANCES - used : 0);
}
static MDEV_TYPE_ATTR_RO(available_instances);

static ssize_t description_type_show(struct mdev_type *mtype, struct mdev_type_attribute *attr,
				     char *buf)
{
	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "4 KiB memory BAR, no interrupts, no DMA\n");
}
static struct mdev_type_attribute mdev_type_attr_description =
	__ATTR(description, 0444, description_type_show, NULL);

static struct attribute *null_type1_attrs[] = {
	&mdev_type_attr_name.attr,
	&mdev_type_attr_device_api.attr,
	&mdev_type_attr_available_instances.attr,
	&mdev_type_attr_description.attr,
	NULL,
};
static struct attribute_group null_type1_group = { "1", null_type1_attrs };
static struct attribute_group *null_type_groups[] = { &null_type1_group, NULL };

static const struct mdev_parent_ops null_parent_ops = {
	.dev_attr_groups = null_dev_groups,
	.mdev_attr_groups = null_mdev_groups,
	.supported_type_groups = null_type_groups,
	.create = null_create,
	.remove = null_remove,
	.read = null_read,
	.write = null_write,
	.ioctl = null_ioctl,
};

/* ---- module ---- */

static int null_init(void)
{
	int ret;

	if (null_registered)
		return -EBUSY;
	device_initialize(&null_parent);
	null_parent.class_name = "null";
	ret = dev_set_name(&null_parent, "null");
	if (ret)
		goto err_put;
	ret = mdev_register_device(&null_parent, &null_parent_ops);
	if (ret)
		goto err_put;
	null_registered = true;
	return 0;

err_put:
	put_device(&null_parent);
	return ret;
}

static void null_exit(void)
{
	if (!null_registered)
		return;
	mdev_unregister_device(&null_parent);
	put_device(&null_parent);
	null_registered = false;
}

UMDEV_DRIVER_MODULE(null, null_init, null_exit);
