/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmatest: a DMA-capable PCI test device, for the functional tests of the transports. It
 * gives a client something to exercise every protocol command with: DMA to and from its
 * memory (with vfio_dma_rw() or with pinning, so that DMA_UNMAP has pins to take back), a
 * region with a sparse-mmap capability and an fd, INTx/MSI/REQ eventfds with mask semantics,
 * and migration data. dmatest.h has the device's interface (regions, registers, stream).
 *
 * Shape: a current-kernel (E3) driver, docs/driver-api.md section 4.4. The parent "dmatest"
 * (class "dmatest", type dmatest-1) names its own bus driver in mdev_parent_ops.device_driver;
 * the bus driver's probe allocates the vfio_device with the full vfio_device_ops below
 * (init sets the migration flags and ops) and registers it as an emulated-IOMMU device
 * named after the UUID. The parent's create/remove only count instances.
 *
 * Files: this one has the module, the parent, the bus driver, the vfio_device_ops and the
 * region and ioctl dispatch; dmatest_config.c config space, dmatest_dma.c BAR0 and the
 * transfers and dma_unmap, dmatest_irq.c the interrupts, dmatest_mig.c migration.
 *
 * Locking, and who owns a pin:
 *   - s->lock guards all of a device's state (dmatest_priv.h) and the contents of the BAR2
 *     buffer. Callbacks run on any thread: region accesses and ioctls on the transport's,
 *     dma_unmap on the unmapping thread, request on the remover's.
 *   - s->lock is never held across a call of the DMA API. The core calls dma_unmap with the
 *     DMA space's lock held, and vfio_dma_rw() of memory without an fd waits for the
 *     transport's worker, which may itself be inside dma_unmap: holding s->lock there
 *     would deadlock with the dma_unmap that waits for it. So a transfer copies through a
 *     bounce buffer (vfio_dma_rw) or pins without the lock and takes it only to copy
 *     between the pinned pages and the buffer.
 *   - Nothing waits for a transfer. One transfer runs at a time per device (xfer_busy); a GO
 *     during one completes at once with -EBUSY. Reset, close and a migration stop bump
 *     s->gen and take the transfer's pins: the transfer sees that when it next takes
 *     s->lock and ends without completing.
 *   - A set of pins has one owner. The transfer owns what it pinned; once it records them
 *     (PINNED) whoever takes them out of the state under s->lock (dma_unmap, reset, close,
 *     stop, RELEASE or the next GO) owns them and unpins them after dropping s->lock. A
 *     transfer still inside vfio_pin_pages() is only marked (xfer_revoked) and unpins what it
 *     got itself. Hence dma_unmap never waits for a transfer and never calls
 *     vfio_unpin_pages() with s->lock held; the unmap completes as soon as dma_unmap returns
 *     (or, for pins still being taken, as soon as the transfer has let them go), and the
 *     transfer finds its pins gone before it touches the memory (-ECANCELED): its copy runs
 *     under s->lock, which the taker needed, so the memory cannot go away under it.
 *   - Lock order: s->lock, then a migration stream's lock. eventfd_signal() (which never
 *     blocks) is called under s->lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <umdev/module.h>

#include "dmatest_priv.h"
#include "drv_parent.h"

static struct device dmatest_parent;
static bool dmatest_registered;		/* init() and exit() are called once each, in turn */
static struct drv_pool dmatest_instances; /* devices that may still be created */

/* ---- regions ---- */

static ssize_t dmatest_access(struct vfio_device *vdev, char *buf, size_t count, uint64_t pos,
			      bool write)
{
	struct dmatest_state *s = to_dmatest(vdev);
	uint64_t index = pos >> DMATEST_REGION_SHIFT, off = pos & DMATEST_REGION_MASK;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		if (off >= DMATEST_CONFIG_SIZE || count > DMATEST_CONFIG_SIZE - off)
			return -EINVAL;
		pthread_mutex_lock(&s->lock);
		if (write)
			dmatest_config_write(s->config, (unsigned int)off, (const uint8_t *)buf,
					     count);
		else
			memcpy(buf, s->config + off, count);
		pthread_mutex_unlock(&s->lock);
		return (ssize_t)count;
	case VFIO_PCI_BAR0_REGION_INDEX:
		return dmatest_bar0_access(s, buf, count, off, write);
	case VFIO_PCI_BAR2_REGION_INDEX:
		/* the whole BAR, mmappable half included, as the kernel requires */
		if (off >= DMATEST_BAR2_SIZE || count > DMATEST_BAR2_SIZE - off)
			return -EINVAL;
		pthread_mutex_lock(&s->lock);
		if (write)
			memcpy(s->buf + off, buf, count);
		else
			memcpy(buf, s->buf + off, count);
		pthread_mutex_unlock(&s->lock);
		return (ssize_t)count;
	default:
		return -EINVAL;
	}
}

static ssize_t dmatest_read(struct vfio_device *vdev, char *buf, size_t count, uint64_t *ppos)
{
	return dmatest_access(vdev, buf, count, *ppos, false);
}

static ssize_t dmatest_write(struct vfio_device *vdev, const char *buf, size_t count,
			     uint64_t *ppos)
{
	return dmatest_access(vdev, (char *)buf, count, *ppos, true);
}

/* Only the sparse-mmap area of BAR2, shared, may be mapped: the client maps our memfd. */
static int dmatest_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct dmatest_state *s = to_dmatest(vdev);
	uint64_t pos = (uint64_t)vma->vm_pgoff << PAGE_SHIFT;
	uint64_t off = pos & DMATEST_REGION_MASK, len = vma->vm_end - vma->vm_start;

	if (vma->vm_end <= vma->vm_start || !(vma->vm_flags & VM_SHARED) ||
	    pos >> DMATEST_REGION_SHIFT != VFIO_PCI_BAR2_REGION_INDEX)
		return -EINVAL;
	if (off < DMATEST_BAR2_MMAP_OFFSET ||
	    off - DMATEST_BAR2_MMAP_OFFSET >= DMATEST_BAR2_MMAP_SIZE ||
	    len > DMATEST_BAR2_MMAP_SIZE - (off - DMATEST_BAR2_MMAP_OFFSET))
		return -EINVAL;
	vma->vm_fd = s->buf_fd; /* ours; stays open until release */
	vma->vm_fd_offset = off; /* the memfd holds BAR2 from its offset 0 */
	return 0;
}

/* ---- ioctls ---- */

/* BAR2's capability chain: one SPARSE_MMAP capability with one area. */
struct dmatest_bar2_caps {
	struct vfio_region_info_cap_sparse_mmap sparse;
	struct vfio_region_sparse_mmap_area area;
};
_Static_assert(sizeof(struct dmatest_bar2_caps) == 32, "dmatest_bar2_caps");
_Static_assert(offsetof(struct dmatest_bar2_caps, area) ==
		       offsetof(struct vfio_region_info_cap_sparse_mmap, areas),
	       "the area follows the capability header");

/*
 * The kernel's capability protocol: a region with capabilities sets FLAG_CAPS; when argsz
 * leaves no room for them after the structure, argsz says how much is needed and
 * cap_offset is 0; otherwise they follow the structure and cap_offset points at them.
 */
static void bar2_caps(struct vfio_region_info *info)
{
	size_t need = sizeof(*info) + sizeof(struct dmatest_bar2_caps);
	struct dmatest_bar2_caps caps = {
		.sparse = {
			.header = {
				.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP,
				.version = 1,
				.next = 0,
			},
			.nr_areas = 1,
			.reserved = 0,
		},
		.area = { .offset = DMATEST_BAR2_MMAP_OFFSET, .size = DMATEST_BAR2_MMAP_SIZE },
	};

	info->flags |= VFIO_REGION_INFO_FLAG_CAPS;
	if (info->argsz < need) {
		info->argsz = (uint32_t)need;
		info->cap_offset = 0;
		return;
	}
	memcpy((char *)info + sizeof(*info), &caps, sizeof(caps));
	info->cap_offset = sizeof(*info);
}

static long dmatest_get_region_info(unsigned long arg)
{
	struct vfio_region_info *info = (struct vfio_region_info *)arg;
	size_t minsz = offsetof(struct vfio_region_info, offset) + sizeof(info->offset);
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

	if (info->argsz < minsz || info->index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info->offset = DMATEST_REGION_OFFSET(info->index);
	info->cap_offset = 0;
	switch (info->index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info->size = DMATEST_CONFIG_SIZE;
		info->flags = rw;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		info->size = DMATEST_BAR0_SIZE;
		info->flags = rw;
		break;
	case VFIO_PCI_BAR2_REGION_INDEX:
		info->size = DMATEST_BAR2_SIZE;
		info->flags = rw | VFIO_REGION_INFO_FLAG_MMAP;
		bar2_caps(info);
		break;
	default:
		info->size = 0;
		info->flags = 0;
		break;
	}
	return 0;
}

/* VFIO_DEVICE_RESET: registers, config space and buffer to their reset values, DMA
 * stopped and pins released, migration back to RUNNING; the IRQ set-up stays. */
static long dmatest_reset(struct dmatest_state *s)
{
	struct dmatest_pinset pins[2];
	int n;

	pthread_mutex_lock(&s->lock);
	n = dmatest_quiesce_locked(s, pins);
	memset(&s->regs, 0, sizeof(s->regs));
	dmatest_config_reset(s->config);
	memset(s->buf, 0, DMATEST_BAR2_SIZE);
	dmatest_mig_reset_locked(s);
	pthread_mutex_unlock(&s->lock);
	dmatest_unpin(s, pins, n);
	return 0;
}

static long dmatest_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	struct dmatest_state *s = to_dmatest(vdev);

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return drv_pci_get_info(arg, VFIO_DEVICE_FLAGS_RESET);
	case VFIO_DEVICE_GET_REGION_INFO:
		return dmatest_get_region_info(arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return dmatest_get_irq_info(arg);
	case VFIO_DEVICE_SET_IRQS:
		return dmatest_set_irqs(s, arg);
	case VFIO_DEVICE_RESET:
		return dmatest_reset(s);
	default:
		return -ENOTTY;
	}
}

/* ---- the vfio device's life ---- */

static int dmatest_init(struct vfio_device *vdev)
{
	struct dmatest_state *s = to_dmatest(vdev);
	void *buf;
	int ret;

	s->buf_fd = memfd_create("dmatest-bar2", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->buf_fd < 0)
		return -errno;
	/* the client gets the fd too: it must not be able to shrink it under our mapping */
	if (ftruncate(s->buf_fd, DMATEST_BAR2_SIZE) < 0 ||
	    fcntl(s->buf_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		ret = -errno;
		goto err_close;
	}
	buf = mmap(NULL, DMATEST_BAR2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, s->buf_fd, 0);
	if (buf == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	s->buf = buf;
	pthread_mutex_init(&s->lock, NULL);
	dmatest_config_reset(s->config);
	dmatest_irq_init(s);
	dmatest_mig_init(s);
	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				VFIO_MIGRATION_PRE_COPY;
	vdev->mig_ops = &dmatest_mig_ops;
	return 0;

err_close:
	close(s->buf_fd);
	return ret;
}

/* The last reference: close_device has run if the device was ever opened. */
static void dmatest_release(struct vfio_device *vdev)
{
	struct dmatest_state *s = to_dmatest(vdev);

	pthread_mutex_lock(&s->lock);
	dmatest_irqs_release_locked(s);
	dmatest_mig_reset_locked(s);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_destroy(&s->lock);
	munmap(s->buf, DMATEST_BAR2_SIZE);
	close(s->buf_fd);
}

static int dmatest_open_device(struct vfio_device *vdev)
{
	struct dmatest_state *s = to_dmatest(vdev);

	pthread_mutex_lock(&s->lock);
	dmatest_mig_reset_locked(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The client goes: stop DMA, let go of its pins, eventfds and migration streams. */
static void dmatest_close_device(struct vfio_device *vdev)
{
	struct dmatest_state *s = to_dmatest(vdev);
	struct dmatest_pinset pins[2];
	int n;

	pthread_mutex_lock(&s->lock);
	n = dmatest_quiesce_locked(s, pins);
	dmatest_irqs_release_locked(s);
	dmatest_mig_reset_locked(s);
	pthread_mutex_unlock(&s->lock);
	dmatest_unpin(s, pins, n);
}

static const struct vfio_device_ops dmatest_vfio_ops = {
	.name = "dmatest-vfio",
	.init = dmatest_init,
	.release = dmatest_release,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.open_device = dmatest_open_device,
	.close_device = dmatest_close_device,
	.read = dmatest_read,
	.write = dmatest_write,
	.ioctl = dmatest_ioctl,
	.mmap = dmatest_mmap,
	.request = dmatest_request,
	.dma_unmap = dmatest_dma_unmap,
};

/* ---- the bus driver ---- */

static int dmatest_probe(struct device *dev)
{
	struct dmatest_state *s = vfio_alloc_device(dmatest_state, vdev, dev, &dmatest_vfio_ops);

	if (IS_ERR(s))
		return (int)PTR_ERR(s);
	s->mdev = mdev_from_dev(dev);
	return drv_vfio_probe(dev, &s->vdev);
}

static struct mdev_driver dmatest_mdev_driver = {
	.name = "dmatest",
	.probe = dmatest_probe,
	.remove = drv_vfio_remove, /* waits for the client, calling request() */
};

/* ---- the parent: instance accounting and type attributes ---- */

static int dmatest_create(struct mdev_device *mdev)
{
	(void)mdev;
	/* all or nothing, so that concurrent creates cannot overshoot */
	return drv_pool_take(&dmatest_instances, 1);
}

static int dmatest_remove_mdev(struct mdev_device *mdev)
{
	(void)mdev;
	drv_pool_put(&dmatest_instances, 1);
	return 0;
}

static ssize_t name_show(struct mdev_type *mtype, struct mdev_type_attribute *attr, char *buf)
{
	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "DMA test device\n");
}
static MDEV_TYPE_ATTR_RO(name);

static ssize_t available_instances_show(struct mdev_type *mtype,
					struct mdev_type_attribute *attr, char *buf)
{
	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "%u\n", drv_pool_free(&dmatest_instances));
}
static MDEV_TYPE_ATTR_RO(available_instances);

static ssize_t description_show(struct mdev_type *mtype, struct mdev_type_attribute *attr,
				char *buf)
{
	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "DMA to and from a 64 KiB buffer, INTx/MSI, migration\n");
}
static MDEV_TYPE_ATTR_RO(description);

static struct attribute *dmatest_type1_attrs[] = {
	&mdev_type_attr_name.attr,
	&drv_type_attr_device_api_pci.attr,
	&mdev_type_attr_available_instances.attr,
	&mdev_type_attr_description.attr,
	NULL,
};
static struct attribute_group dmatest_type1_group = { "1", dmatest_type1_attrs };
static struct attribute_group *dmatest_type_groups[] = { &dmatest_type1_group, NULL };

static const struct mdev_parent_ops dmatest_parent_ops = {
	.device_driver = &dmatest_mdev_driver,
	.supported_type_groups = dmatest_type_groups,
	.create = dmatest_create,
	.remove = dmatest_remove_mdev,
};

/* ---- module ---- */

static int dmatest_mod_init(void)
{
	int ret;

	if (dmatest_registered)
		return -EBUSY;
	drv_pool_init(&dmatest_instances, DMATEST_MAX_INSTANCES);
	ret = drv_parent_register(&dmatest_parent, "dmatest", DMATEST_PARENT_NAME,
				  &dmatest_parent_ops, &dmatest_mdev_driver);
	if (ret)
		return ret;
	dmatest_registered = true;
	return 0;
}

static void dmatest_mod_exit(void)
{
	if (!dmatest_registered)
		return;
	drv_parent_unregister(&dmatest_parent, &dmatest_mdev_driver);
	dmatest_registered = false;
}

UMDEV_DRIVER_MODULE(dmatest, dmatest_mod_init, dmatest_mod_exit);
