/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bardev (bardev.h): config space with write masks, three BARs backed by memory, and the
 * ioctls a transport asks. Device-file offsets put the region index in bits 40 and up.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/device.h>
#include <umdev/vfio_device_fd.h>

#include "bardev.h"

#define SHIFT 40
#define CFG_MAX 256

struct bardev_state {
	struct device dev;
	struct bardev_knobs k;
	pthread_mutex_t lock; /* guards the bytes below: the worker and the test touch them */
	uint8_t cfg[CFG_MAX];
	uint8_t bar0[BARDEV_BAR0_SIZE];
	uint8_t bar2[BARDEV_BAR2_SIZE];
	uint8_t bar3[BARDEV_BAR3_SIZE];
};

struct bardev {
	struct vfio_device vdev; /* first, for vfio_alloc_device() */
	struct bardev_state *s;
};

static struct bardev_state *state(struct vfio_device *vdev)
{
	return container_of(vdev, struct bardev, vdev)->s;
}

static uint32_t cfg_size(const struct bardev_state *s)
{
	return s->k.cfg_size ? s->k.cfg_size : CFG_MAX;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void cfg_init(struct bardev_state *s)
{
	memset(s->cfg, 0, sizeof(s->cfg));
	put32(s->cfg + 0x00, BARDEV_ID);
	put32(s->cfg + 0x08, 0xff000001);  /* class: unassigned, revision 1 */
	put32(s->cfg + 0x10, 0x00000004);  /* BAR0: 64-bit memory */
	put32(s->cfg + 0x18, 0x00000001);  /* BAR2: I/O */
	put32(s->cfg + 0x1c, 0x00000000);  /* BAR3: 32-bit memory */
}

/* The bits of config byte @off that a write changes. */
static uint8_t write_mask(unsigned int off)
{
	uint32_t dword;

	switch (off & ~3u) {
	case 0x04:
		return off == 0x04 ? 0x03 : 0;	/* I/O and memory decode */
	case 0x10:
		dword = ~(uint32_t)(BARDEV_BAR0_SIZE - 1);
		break;
	case 0x14:
		dword = 0xffffffff;		/* upper half of BAR0 */
		break;
	case 0x18:
		dword = ~(uint32_t)(BARDEV_BAR2_SIZE - 1);
		break;
	case 0x1c:
		dword = ~(uint32_t)(BARDEV_BAR3_SIZE - 1);
		break;
	case 0x3c:
		return off == 0x3c ? 0xff : 0;	/* interrupt line */
	default:
		return 0;
	}
	return (uint8_t)(dword >> (8 * (off & 3)));
}

static ssize_t bd_access(struct vfio_device *vdev, char *buf, size_t count, uint64_t pos,
			 bool write)
{
	struct bardev_state *s = state(vdev);
	uint64_t index = pos >> SHIFT, off = pos & ((1ull << SHIFT) - 1);
	uint8_t *mem;
	size_t size;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		mem = s->cfg;
		size = cfg_size(s);
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		mem = s->bar0;
		size = sizeof(s->bar0);
		break;
	case VFIO_PCI_BAR2_REGION_INDEX:
		mem = s->bar2;
		size = sizeof(s->bar2);
		break;
	case VFIO_PCI_BAR3_REGION_INDEX:
		if (write)
			return -EINVAL;
		mem = s->bar3;
		size = sizeof(s->bar3);
		break;
	default:
		return -EINVAL;
	}
	if (off >= size || count > size - off)
		return -EINVAL;
	if (index != VFIO_PCI_CONFIG_REGION_INDEX && s->k.fail_io)
		return -EIO;
	pthread_mutex_lock(&s->lock);
	if (!write)
		memcpy(buf, mem + off, count);
	else if (index != VFIO_PCI_CONFIG_REGION_INDEX)
		memcpy(mem + off, buf, count);
	else
		for (size_t i = 0; i < count; i++) {
			uint8_t m = write_mask((unsigned int)(off + i));

			mem[off + i] = (uint8_t)((mem[off + i] & ~m) | ((uint8_t)buf[i] & m));
		}
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)count;
}

static ssize_t bd_read(struct vfio_device *vdev, char *buf, size_t count, uint64_t *ppos)
{
	return bd_access(vdev, buf, count, *ppos, false);
}

static ssize_t bd_write(struct vfio_device *vdev, const char *buf, size_t count,
			uint64_t *ppos)
{
	return bd_access(vdev, (char *)buf, count, *ppos, true);
}

static long bd_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	struct bardev_state *s = state(vdev);
	struct vfio_device_info *info = (void *)arg;
	struct vfio_region_info *ri = (void *)arg;
	struct vfio_irq_info *ii = (void *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		info->flags = (s->k.not_pci ? 0 : VFIO_DEVICE_FLAGS_PCI) | VFIO_DEVICE_FLAGS_RESET;
		info->num_regions = VFIO_PCI_NUM_REGIONS;
		info->num_irqs = VFIO_PCI_NUM_IRQS;
		return 0;
	case VFIO_DEVICE_GET_REGION_INFO:
		if (ri->index >= VFIO_PCI_NUM_REGIONS)
			return -EINVAL;
		ri->offset = (uint64_t)ri->index << SHIFT;
		ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		switch (ri->index) {
		case VFIO_PCI_BAR0_REGION_INDEX:
			ri->size = BARDEV_BAR0_SIZE;
			break;
		case VFIO_PCI_BAR2_REGION_INDEX:
			ri->size = BARDEV_BAR2_SIZE;
			break;
		case VFIO_PCI_BAR3_REGION_INDEX:
			ri->size = BARDEV_BAR3_SIZE;
			ri->flags = VFIO_REGION_INFO_FLAG_READ;
			break;
		case VFIO_PCI_CONFIG_REGION_INDEX:
			ri->size = cfg_size(s);
			break;
		default:
			ri->size = 0;
			ri->flags = 0;
		}
		return 0;
	case VFIO_DEVICE_GET_IRQ_INFO:
		ii->flags = 0;
		ii->count = 0;
		return 0;
	case VFIO_DEVICE_SET_IRQS:
		return -EINVAL; /* no interrupts */
	case VFIO_DEVICE_RESET:
		if (s->k.fail_reset)
			return -EIO;
		pthread_mutex_lock(&s->lock);
		cfg_init(s);
		memset(s->bar0, 0, sizeof(s->bar0));
		memset(s->bar2, 0, sizeof(s->bar2));
		pthread_mutex_unlock(&s->lock);
		return 0;
	default:
		return -ENOTTY;
	}
}

static const struct vfio_device_ops bardev_ops = {
	.name = "bardev",
	.read = bd_read,
	.write = bd_write,
	.ioctl = bd_ioctl,
};

struct vfio_device *bardev_create(const char *name, const struct bardev_knobs *knobs)
{
	struct bardev_state *s = calloc(1, sizeof(*s));
	struct bardev *bd;

	if (!s)
		return NULL;
	if (knobs)
		s->k = *knobs;
	pthread_mutex_init(&s->lock, NULL);
	cfg_init(s);
	for (unsigned int i = 0; i < sizeof(s->bar3); i++)
		s->bar3[i] = (uint8_t)(0xa0 + i);
	device_initialize(&s->dev);
	if (dev_set_name(&s->dev, "%s", name))
		goto err_put;
	bd = vfio_alloc_device(bardev, vdev, &s->dev, &bardev_ops);
	if (IS_ERR(bd))
		goto err_put;
	bd->s = s;
	if (vfio_register_emulated_iommu_dev(&bd->vdev)) {
		vfio_put_device(&bd->vdev);
		goto err_put;
	}
	return &bd->vdev;

err_put:
	put_device(&s->dev);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

void bardev_destroy(struct vfio_device *vdev)
{
	struct bardev_state *s;

	if (!vdev)
		return;
	s = state(vdev);
	vfio_unregister_group_dev(vdev);
	vfio_put_device(vdev);
	put_device(&s->dev);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

uint8_t *bardev_bar(struct vfio_device *vdev, unsigned int index)
{
	struct bardev_state *s = state(vdev);

	return index == 0 ? s->bar0 : index == 2 ? s->bar2 : s->bar3;
}
