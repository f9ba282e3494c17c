/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty: the kernel's sample mediated device (samples/vfio-mdev/mtty.c, seed 003) for
 * umdev. The parent "mtty" offers PCI serial cards with one (mtty-1) or two (mtty-2) 16550A
 * UARTs, out of a pool of 24 ports that all its devices share. A guest's Linux binds its
 * `serial` driver to them. Each port loops back what it sends, as the sample's do, or is
 * connected to a host pty or UNIX socket (its vendor/port<n>_backend attribute), which
 * makes the card a serial console for the VM. Devices migrate (VFIO migration v2) in the
 * sample's stream format. docs/drivers/mtty.md describes the device and its use; mtty.h
 * has its interface.
 *
 * Shape: a current-kernel (E3) driver, docs/driver-api.md section 4.4. The parent names its
 * own bus driver (mdev_parent_ops.device_driver), whose probe allocates the vfio device
 * with full vfio_device_ops (init sets the migration flags and ops) and registers it as an
 * emulated-IOMMU device named after the UUID. The parent's create() reserves the ports and
 * allocates the device's state, which its remove() frees: the state belongs to the mediated
 * device, so that its attributes can reach it whether a vfio device exists or not.
 *
 * This file: the module and its parameters, the parent and its type attributes, create and
 * remove, the bus driver, and the device file (regions, ioctls). mtty_priv.h says what the
 * other files do and how the device's state is locked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/module.h>

#include "drv_parent.h"
#include "mtty_priv.h"

static struct device mtty_parent;
static bool mtty_registered; /* init() and exit() are called once each, in turn */
static struct drv_pool mtty_ports; /* of the MTTY_POOL_PORTS */
/* The backend each new device's ports get (the driver's parameters, read at init). */
static struct mtty_backend_spec mtty_default_backend[MTTY_MAX_PORTS];

/* ---- regions ---- */

static ssize_t config_access(struct mtty_state *s, char *buf, size_t count, uint64_t off,
			     bool write)
{
	if (off >= MTTY_CONFIG_SIZE || count > MTTY_CONFIG_SIZE - off)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	if (write)
		mtty_config_write(s, (unsigned int)off, (const uint8_t *)buf, count);
	else
		memcpy(buf, s->config + off, count);
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)count;
}

/*
 * A port's registers: each byte of an access is one register access, in ascending order,
 * as the byte lanes of a wider I/O cycle would be on a real card.
 */
static ssize_t bar_access(struct mtty_state *s, unsigned int index, char *buf, size_t count,
			  uint64_t off, bool write)
{
	struct mtty_port *p;

	if (index >= s->nr_ports || off >= MTTY_BAR_SIZE || count > MTTY_BAR_SIZE - off)
		return -EINVAL;
	p = &s->port[index];
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < count; i++) {
		unsigned int reg = (unsigned int)off + (unsigned int)i;

		if (write)
			uart16550_write(&p->uart, reg, (uint8_t)buf[i]);
		else
			buf[i] = (char)uart16550_read(&p->uart, reg);
	}
	mtty_io_kick_locked(s);
	mtty_irq_update_locked(s);
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)count;
}

static ssize_t mtty_access(struct vfio_device *vdev, char *buf, size_t count, uint64_t pos,
			   bool write)
{
	struct mtty_state *s = vdev_to_mtty(vdev);
	uint64_t index = pos >> MTTY_REGION_SHIFT, off = pos & MTTY_REGION_MASK;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return config_access(s, buf, count, off, write);
	case VFIO_PCI_BAR0_REGION_INDEX:
	case VFIO_PCI_BAR1_REGION_INDEX:
		return bar_access(s, (unsigned int)index, buf, count, off, write);
	default:
		return -EINVAL;
	}
}

static ssize_t mtty_read(struct vfio_device *vdev, char *buf, size_t count, uint64_t *ppos)
{
	return mtty_access(vdev, buf, count, *ppos, false);
}

static ssize_t mtty_write(struct vfio_device *vdev, const char *buf, size_t count,
			  uint64_t *ppos)
{
	return mtty_access(vdev, (char *)buf, count, *ppos, true);
}

/* ---- ioctls ---- */

static long mtty_get_region_info(struct mtty_state *s, unsigned long arg)
{
	struct vfio_region_info *info = (struct vfio_region_info *)arg;
	size_t minsz = offsetof(struct vfio_region_info, offset) + sizeof(info->offset);

	if (info->argsz < minsz || info->index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info->offset = MTTY_REGION_OFFSET(info->index);
	info->cap_offset = 0;
	switch (info->index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info->size = MTTY_CONFIG_SIZE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
	case VFIO_PCI_BAR1_REGION_INDEX:
		info->size = info->index < s->nr_ports ? MTTY_BAR_SIZE : 0;
		break;
	default:
		info->size = 0;
		break;
	}
	/* a region that does not exist cannot be read or written (the sample says RW) */
	info->flags = info->size ? VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE : 0;
	return 0;
}

/*
 * VFIO_DEVICE_RESET: the UARTs to their power-on state (the sample leaves them as they are)
 * and migration back to RUNNING. Config space, the interrupt set-up and the backends stay,
 * as they do over a vfio-pci function reset.
 */
static long mtty_reset(struct mtty_state *s)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned int i = 0; i < s->nr_ports; i++)
		uart16550_reset(&s->port[i].uart);
	mtty_irq_forget_locked(s);
	mtty_mig_reset_locked(s);
	mtty_io_kick_locked(s);
	mtty_irq_update_locked(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static long mtty_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	struct mtty_state *s = vdev_to_mtty(vdev);

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		/* RESET is implemented, so it is advertised (the sample does not say so) */
		return drv_pci_get_info(arg, VFIO_DEVICE_FLAGS_RESET);
	case VFIO_DEVICE_GET_REGION_INFO:
		return mtty_get_region_info(s, arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return mtty_get_irq_info(arg);
	case VFIO_DEVICE_SET_IRQS:
		return mtty_set_irqs(s, arg);
	case VFIO_DEVICE_RESET:
		return mtty_reset(s);
	default:
		return -ENOTTY;
	}
}

/* ---- the vfio device's life ---- */

static int mtty_vfio_init(struct vfio_device *vdev)
{
	struct mdev_device *mdev = mdev_from_dev(vdev->dev);
	struct mtty_vdev *mv = container_of(vdev, struct mtty_vdev, vdev);

	mv->s = mdev ? mdev_get_drvdata(mdev) : NULL;
	if (!mv->s)
		return -ENODEV; /* not one of our mediated devices */
	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				VFIO_MIGRATION_PRE_COPY;
	vdev->mig_ops = &mtty_mig_ops;
	return 0;
}

static int mtty_open_device(struct vfio_device *vdev)
{
	struct mtty_state *s = vdev_to_mtty(vdev);

	pthread_mutex_lock(&s->lock);
	mtty_mig_reset_locked(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The client goes: its eventfds and migration streams go with it; the UARTs stay. */
static void mtty_close_device(struct vfio_device *vdev)
{
	struct mtty_state *s = vdev_to_mtty(vdev);

	pthread_mutex_lock(&s->lock);
	mtty_irq_release_locked(s);
	mtty_mig_reset_locked(s);
	mtty_io_kick_locked(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct vfio_device_ops mtty_vfio_ops = {
	.name = "vfio-mtty",
	.init = mtty_vfio_init,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.open_device = mtty_open_device,
	.close_device = mtty_close_device,
	.read = mtty_read,
	.write = mtty_write,
	.ioctl = mtty_ioctl,
};

/* ---- the bus driver ---- */

static int mtty_probe(struct device *dev)
{
	struct mtty_vdev *mv = vfio_alloc_device(mtty_vdev, vdev, dev, &mtty_vfio_ops);

	if (IS_ERR(mv))
		return (int)PTR_ERR(mv);
	return drv_vfio_probe(dev, &mv->vdev);
}

static struct mdev_driver mtty_mdev_driver = {
	.name = "mtty",
	.probe = mtty_probe,
	.remove = drv_vfio_remove,
};

/* ---- create and remove: the device's state ---- */

static void state_free(struct mtty_state *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->backend_lock);
	free(s);
}

/* Plugs the ports into the backends the driver's parameters name. */
static int apply_default_backends(struct mtty_state *s)
{
	char text[MTTY_BACKEND_TEXT_SIZE];
	int ret;

	for (unsigned int i = 0; i < s->nr_ports; i++) {
		if (mtty_default_backend[i].kind == MTTY_LOOPBACK)
			continue;
		ret = mtty_port_set_backend(s, i, &mtty_default_backend[i]);
		if (ret) {
			mtty_backend_format(&mtty_default_backend[i], text, sizeof(text));
			text[strcspn(text, "\n")] = '\0';
			dev_err(mdev_dev(s->mdev), "port %u: cannot connect to %s: %s", i, text,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int mtty_create(struct mdev_device *mdev)
{
	unsigned int nr_ports = mdev_get_type_group_id(mdev) + 1;
	struct mtty_state *s;
	int ret;

	/* the ports first, so that concurrent creates cannot overdraw the pool */
	ret = drv_pool_take(&mtty_ports, nr_ports);
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = -ENOMEM;
		goto err_ports;
	}
	s->mdev = mdev;
	s->nr_ports = nr_ports;
	pthread_mutex_init(&s->backend_lock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	mtty_config_init(s);
	for (unsigned int i = 0; i < MTTY_MAX_PORTS; i++)
		uart16550_init(&s->port[i].uart);
	mtty_irq_init(s);
	mtty_mig_init(s);
	ret = mtty_io_init(s);
	if (ret)
		goto err_free;
	ret = apply_default_backends(s);
	if (ret)
		goto err_io;
	mdev_set_drvdata(mdev, s);
	return 0;

err_io:
	mtty_io_destroy(s);
err_free:
	state_free(s);
err_ports:
	drv_pool_put(&mtty_ports, nr_ports);
	return ret;
}

/* After the bus driver is gone and the attributes are drained: nobody else uses @s now. */
static int mtty_remove_mdev(struct mdev_device *mdev)
{
	struct mtty_state *s = mdev_get_drvdata(mdev);
	unsigned int nr_ports = s->nr_ports;

	mtty_io_destroy(s);
	pthread_mutex_lock(&s->lock);
	mtty_irq_release_locked(s);
	mtty_mig_reset_locked(s);
	pthread_mutex_unlock(&s->lock);
	mdev_set_drvdata(mdev, NULL);
	state_free(s);
	drv_pool_put(&mtty_ports, nr_ports);
	return 0;
}

/* ---- the parent's and the types' attributes ---- */

static ssize_t sample_mtty_dev_show(struct device *dev, struct device_attribute *attr,
				    char *buf)
{
	(void)dev;
	(void)attr;
	return sysfs_emit(buf, "This is phy device\n");
}
static DEVICE_ATTR_RO(sample_mtty_dev);

static struct attribute *mtty_dev_attrs[] = { &dev_attr_sample_mtty_dev.attr, NULL };
static const struct attribute_group mtty_dev_group = { "mtty_dev", mtty_dev_attrs };
static const struct attribute_group *mtty_dev_groups[] = { &mtty_dev_group, NULL };

/* A type's ports: group "1" (index 0) has one, group "2" two. */
static unsigned int type_ports(struct mdev_type *mtype)
{
	return mtype_get_type_group_id(mtype) + 1;
}

static ssize_t name_show(struct mdev_type *mtype, struct mdev_type_attribute *attr, char *buf)
{
	(void)attr;
	return sysfs_emit(buf, "%s\n",
			  type_ports(mtype) == 1 ? "Single port serial" : "Dual port serial");
}
static MDEV_TYPE_ATTR_RO(name);

static ssize_t available_instances_show(struct mdev_type *mtype,
					struct mdev_type_attribute *attr, char *buf)
{
	(void)attr;
	return sysfs_emit(buf, "%u\n", drv_pool_free(&mtty_ports) / type_ports(mtype));
}
static MDEV_TYPE_ATTR_RO(available_instances);

static struct attribute *mtty_type_attrs[] = {
	&mdev_type_attr_name.attr,
	&drv_type_attr_device_api_pci.attr,
	&mdev_type_attr_available_instances.attr,
	NULL,
};
static struct attribute_group mtty_type1_group = { "1", mtty_type_attrs };
static struct attribute_group mtty_type2_group = { "2", mtty_type_attrs };
static struct attribute_group *mtty_type_groups[] = { &mtty_type1_group, &mtty_type2_group,
						      NULL };

static const struct mdev_parent_ops mtty_parent_ops = {
	.device_driver = &mtty_mdev_driver,
	.dev_attr_groups = mtty_dev_groups,
	.mdev_attr_groups = mtty_mdev_groups,
	.supported_type_groups = mtty_type_groups,
	.create = mtty_create,
	.remove = mtty_remove_mdev,
};

/* ---- module ---- */

/* Reads the driver's parameters (mtty.h): 0, or -EINVAL for a value that does not parse. */
static int params_load(void)
{
	static const char *const names[MTTY_MAX_PORTS] = {
		MTTY_ENV_PORT0_BACKEND,
		MTTY_ENV_PORT1_BACKEND,
	};

	for (unsigned int i = 0; i < MTTY_MAX_PORTS; i++) {
		const char *value = getenv(names[i]);
		int ret;

		memset(&mtty_default_backend[i], 0, sizeof(mtty_default_backend[i]));
		mtty_default_backend[i].kind = MTTY_LOOPBACK;
		if (!value || !*value)
			continue;
		ret = mtty_backend_parse(value, strlen(value), &mtty_default_backend[i]);
		if (ret) {
			umdev_log(UMDEV_LOG_ERR, "mtty: %s='%s' is not loopback, pty or unix:PATH",
				  names[i], value);
			return ret;
		}
	}
	return 0;
}

static int mtty_init(void)
{
	int ret;

	if (mtty_registered)
		return -EBUSY;
	ret = params_load();
	if (ret)
		return ret;
	drv_pool_init(&mtty_ports, MTTY_POOL_PORTS);
	ret = drv_parent_register(&mtty_parent, "mtty", MTTY_PARENT_NAME, &mtty_parent_ops,
				  &mtty_mdev_driver);
	if (ret)
		return ret;
	mtty_registered = true;
	return 0;
}

static void mtty_exit(void)
{
	if (!mtty_registered)
		return;
	drv_parent_unregister(&mtty_parent, &mtty_mdev_driver);
	mtty_registered = false;
}

UMDEV_DRIVER_MODULE(mtty, mtty_init, mtty_exit);
