/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configurable test parent of test_parent.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_parent.h"
#include "util/hmap.h"
#include "util/uuid.h"

/* ---- the process-wide set of existing UUIDs ---- */

struct live_uuid {
	struct hmap_node node;
	guid_t uuid;
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hmap live_set = { NULL, NULL, 0, 0 };
static bool live_ready;
static int duplicates;

static void live_add(const guid_t *uuid)
{
	uint64_t h = hash_bytes(uuid->b, 16);
	struct live_uuid *e;

	pthread_mutex_lock(&live_lock);
	if (!live_ready) {
		hmap_init(&live_set);
		live_ready = true;
	}
	HMAP_FOR_EACH_WITH_HASH(node, &live_set, h) {
		if (uuid_equal(&container_of(node, struct live_uuid, node)->uuid, uuid))
			duplicates++;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	e->uuid = *uuid;
	hmap_insert(&live_set, &e->node, h);
	pthread_mutex_unlock(&live_lock);
}

static void live_del(const guid_t *uuid)
{
	uint64_t h = hash_bytes(uuid->b, 16);

	pthread_mutex_lock(&live_lock);
	HMAP_FOR_EACH_WITH_HASH(node, &live_set, h) {
		struct live_uuid *e = container_of(node, struct live_uuid, node);

		if (uuid_equal(&e->uuid, uuid)) {
			hmap_remove(&live_set, &e->node);
			free(e);
			break;
		}
	}
	if (!hmap_count(&live_set))
		hmap_destroy(&live_set);
	pthread_mutex_unlock(&live_lock);
}

int tp_live_uuids(void)
{
	int n;

	pthread_mutex_lock(&live_lock);
	n = live_ready ? (int)hmap_count(&live_set) : 0;
	pthread_mutex_unlock(&live_lock);
	return n;
}

int tp_duplicates_seen(void)
{
	int n;

	pthread_mutex_lock(&live_lock);
	n = duplicates;
	pthread_mutex_unlock(&live_lock);
	return n;
}

guid_t tp_uuid(const char *text)
{
	guid_t u;

	if (uuid_parse(text, &u))
		abort();
	return u;
}

/* ---- callbacks ---- */

static struct test_parent *tp_of(struct mdev_device *mdev)
{
	return container_of(mdev_parent_dev(mdev), struct test_parent, dev);
}

static int tp_create(struct mdev_device *mdev)
{
	struct test_parent *tp = tp_of(mdev);

	atomic_fetch_add(&tp->creates, 1);
	if (tp->create_hook)
		tp->create_hook(tp, mdev, 0);
	if (tp->fail_create) {
		atomic_fetch_add(&tp->create_failures, 1);
		return tp->fail_create;
	}
	if (atomic_fetch_add(&tp->live, 1) >= tp->max_instances) {
		atomic_fetch_sub(&tp->live, 1);
		atomic_fetch_add(&tp->create_failures, 1);
		return -ENOSPC;
	}
	live_add(mdev_uuid(mdev));
	mdev_set_drvdata(mdev, tp);
	return 0;
}

static int tp_remove(struct mdev_device *mdev)
{
	struct test_parent *tp = tp_of(mdev);

	if (tp->remove_hook)
		tp->remove_hook(tp, mdev, 0);
	atomic_fetch_add(&tp->removes, 1);
	live_del(mdev_uuid(mdev));
	atomic_fetch_sub(&tp->live, 1);
	mdev_set_drvdata(mdev, NULL);
	return 0;
}

static int tp_open(struct mdev_device *mdev)
{
	struct test_parent *tp = tp_of(mdev);

	if (tp->open_hook)
		tp->open_hook(tp, mdev, 0);
	if (tp->fail_open)
		return tp->fail_open;
	atomic_fetch_add(&tp->opens, 1);
	return 0;
}

static void tp_release(struct mdev_device *mdev)
{
	atomic_fetch_add(&tp_of(mdev)->releases, 1);
}

static ssize_t tp_read(struct mdev_device *mdev, char *buf, size_t count, uint64_t *ppos)
{
	struct test_parent *tp = tp_of(mdev);

	atomic_fetch_add(&tp->reads, 1);
	if (*ppos >= TP_CONFIG_BYTES || count > TP_CONFIG_BYTES - *ppos)
		return -EINVAL;
	for (size_t i = 0; i < count; i++)
		buf[i] = (char)(*ppos + i);
	return (ssize_t)count;
}

static ssize_t tp_write(struct mdev_device *mdev, const char *buf, size_t count,
			uint64_t *ppos)
{
	(void)buf;
	(void)ppos;
	atomic_fetch_add(&tp_of(mdev)->writes, 1);
	return (ssize_t)count;
}

static long tp_ioctl(struct mdev_device *mdev, unsigned int cmd, unsigned long arg)
{
	atomic_fetch_add(&tp_of(mdev)->ioctls, 1);
	if (cmd == VFIO_DEVICE_RESET)
		return 0;
	if (cmd == VFIO_DEVICE_GET_INFO) {
		struct vfio_device_info *info = (struct vfio_device_info *)arg;

		info->flags = VFIO_DEVICE_FLAGS_PCI;
		info->num_regions = 1;
		info->num_irqs = 0;
		return 0;
	}
	return -ENOTTY;
}

static int tp_mmap(struct mdev_device *mdev, struct vm_area_struct *vma)
{
	atomic_fetch_add(&tp_of(mdev)->mmaps, 1);
	vma->vm_fd = 42;
	vma->vm_fd_offset = vma->vm_pgoff << 12;
	return 0;
}

static void tp_request(struct mdev_device *mdev, unsigned int count)
{
	struct test_parent *tp = tp_of(mdev);

	atomic_fetch_add(&tp->requests, 1);
	if (tp->request_hook)
		tp->request_hook(tp, mdev, count);
}

static void tp_dma_unmap(struct mdev_device *mdev, uint64_t iova, uint64_t length)
{
	struct test_parent *tp = tp_of(mdev);

	(void)iova;
	(void)length;
	atomic_fetch_add(&tp->dma_unmaps, 1);
	if (tp->dma_unmap_hook)
		tp->dma_unmap_hook(tp, mdev, 0);
}

/* ---- device attributes ---- */

/* vendor/owner: reads the vendor's per-device state, which remove() takes away */
static ssize_t owner_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct mdev_device *mdev = mdev_from_dev(dev);
	struct test_parent *tp = mdev_get_drvdata(mdev);

	(void)attr;
	if (!tp)
		return sysfs_emit(buf, "freed\n");
	if (tp->attr_hook)
		tp->attr_hook(tp, mdev, 0);
	return sysfs_emit(buf, "%s\n", dev_name(&tp->dev));
}
static DEVICE_ATTR_RO(owner);

static struct attribute *tp_mdev_attrs[] = { &dev_attr_owner.attr, NULL };
static const struct attribute_group tp_mdev_group = { "vendor", tp_mdev_attrs };

/* ---- type attributes ---- */

static struct test_parent *tp_of_type(struct mdev_type *mtype)
{
	return container_of(mtype_get_parent_dev(mtype), struct test_parent, dev);
}

static ssize_t name_show(struct mdev_type *mtype, struct mdev_type_attribute *attr, char *buf)
{
	(void)attr;
	return sysfs_emit(buf, "Test type %u\n", mtype_get_type_group_id(mtype));
}
static MDEV_TYPE_ATTR_RO(name);

static ssize_t device_api_show(struct mdev_type *mtype, struct mdev_type_attribute *attr,
			       char *buf)
{
	(void)mtype;
	(void)attr;
	return sysfs_emit(buf, "vfio-pci\n");
}
static MDEV_TYPE_ATTR_RO(device_api);

static ssize_t available_instances_show(struct mdev_type *mtype,
					struct mdev_type_attribute *attr, char *buf)
{
	struct test_parent *tp = tp_of_type(mtype);

	(void)attr;
	return sysfs_emit(buf, "%d\n", tp->max_instances - atomic_load(&tp->live));
}
static MDEV_TYPE_ATTR_RO(available_instances);

/* an attribute without show(): reading it is -EIO */
static struct mdev_type_attribute mdev_type_attr_broken = __ATTR(broken, 0444, NULL, NULL);

static struct attribute *tp_type_attrs[] = {
	&mdev_type_attr_name.attr,
	&mdev_type_attr_device_api.attr,
	&mdev_type_attr_available_instances.attr,
	&mdev_type_attr_broken.attr,
	NULL,
};

static const char *const default_type_names[] = { "1", "2", "3", "4" };

void tp_init(struct test_parent *tp, const char *name, const char *class_name,
	     unsigned int ntypes, const char *const *type_names, bool with_io, bool with_dma_unmap)
{
	memset(tp, 0, sizeof(*tp));
	device_initialize(&tp->dev);
	tp->dev.class_name = class_name;
	if (dev_set_name(&tp->dev, "%s", name))
		abort();
	tp->max_instances = 1 << 20;
	if (ntypes > TP_MAX_TYPES)
		ntypes = TP_MAX_TYPES;
	for (unsigned int i = 0; i < ntypes; i++) {
		tp->groups[i].name = (type_names ? type_names : default_type_names)[i];
		tp->groups[i].attrs = tp_type_attrs;
		tp->group_ptrs[i] = &tp->groups[i];
	}
	tp->ops.supported_type_groups = tp->group_ptrs;
	tp->mdev_groups[0] = &tp_mdev_group;
	tp->ops.mdev_attr_groups = tp->mdev_groups;
	tp->ops.create = tp_create;
	tp->ops.remove = tp_remove;
	if (with_io) {
		tp->ops.open = tp_open;
		tp->ops.release = tp_release;
		tp->ops.read = tp_read;
		tp->ops.write = tp_write;
		tp->ops.ioctl = tp_ioctl;
		tp->ops.mmap = tp_mmap;
		tp->ops.request = tp_request;
	}
	if (with_dma_unmap)
		tp->ops.dma_unmap = tp_dma_unmap;
}

int tp_register(struct test_parent *tp)
{
	return mdev_register_device(&tp->dev, &tp->ops);
}

void tp_unregister(struct test_parent *tp)
{
	mdev_unregister_device(&tp->dev);
}

void tp_fini(struct test_parent *tp)
{
	put_device(&tp->dev);
}

struct mdev_type *tp_type(struct test_parent *tp, unsigned int index)
{
	struct mdev_parent *parent;
	struct mdev_type *t;

	if (mdev_parent_get_by_name(dev_name(&tp->dev), &parent))
		return NULL;
	t = mdev_parent_type(parent, index);
	mdev_parent_put(parent); /* the type lives as long as the registration */
	return t;
}
