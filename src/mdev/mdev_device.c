/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices: creation and removal with the kernel's semantics since 2018, lookup by
 * UUID, and the accessors drivers use.
 *
 * Life of a device (its `state`, under mdev_list_lock):
 *   create: the UUID is checked against every device of every parent and reserved in the
 *           global table (CREATING); vendor create(); device_add and bus probe; ACTIVE.
 *   remove: ACTIVE -> REMOVING (a remove in CREATING or REMOVING gets -EAGAIN); bus driver
 *           unbound (vfio_mdev waits for the client); vendor remove(); REMOVED; the core
 *           drops its reference. The UUID stays reserved until the last reference goes.
 * Any failure during create undoes what was done, in reverse order, and frees the UUID.
 */
#include <errno.h>
#include <stdlib.h>

#include <umdev/log.h>

#include "mdev/device_private.h"
#include "mdev/mdev_private.h"
#include "util/uuid.h"

static uint64_t uuid_hash(const guid_t *uuid)
{
	return hash_bytes(uuid->b, sizeof(uuid->b));
}

/* Caller holds mdev_list_lock. */
static struct mdev_device *mdev_find_locked(const guid_t *uuid)
{
	HMAP_FOR_EACH_WITH_HASH(node, &mdev_uuids, uuid_hash(uuid)) {
		struct mdev_device *m = container_of(node, struct mdev_device, uuid_node);

		if (uuid_equal(&m->uuid, uuid))
			return m;
	}
	return NULL;
}

/* The last reference is gone: free the UUID and the structure. */
static void mdev_device_release(struct device *dev)
{
	struct mdev_device *mdev = to_mdev_device(dev);

	pthread_mutex_lock(&mdev_list_lock);
	if (mdev->in_table)
		hmap_remove(&mdev_uuids, &mdev->uuid_node);
	pthread_mutex_unlock(&mdev_list_lock);
	mdev_parent_put(mdev->parent);
	free(mdev);
}

static int mdev_device_alloc(struct mdev_type *mtype, const guid_t *uuid,
			     struct mdev_device **ret_mdev)
{
	char name[UUID_STRING_SIZE];
	struct mdev_device *mdev = calloc(1, sizeof(*mdev));

	if (!mdev)
		return -ENOMEM;
	uuid_format(uuid, name);
	if (dev_set_name(&mdev->dev, "%s", name)) {
		free(mdev);
		return -ENOMEM;
	}
	device_initialize(&mdev->dev); /* the core's reference, dropped by remove */
	mdev->dev.parent = mtype->parent->dev;
	mdev->dev.bus_name = MDEV_BUS_NAME;
	mdev->dev.release = mdev_device_release;
	mdev->uuid = *uuid;
	mdev->type = mtype;
	mdev->parent = mdev_parent_get(mtype->parent);
	mdev->state = MDEV_STATE_CREATING;
	list_init(&mdev->parent_node);
	list_init(&mdev->type_node);
	*ret_mdev = mdev;
	return 0;
}

int mdev_device_create(struct mdev_type *mtype, const guid_t *uuid,
		       struct mdev_device **ret_mdev)
{
	struct mdev_parent *parent;
	struct mdev_device *mdev;
	int ret;

	if (!mtype || !uuid)
		return -EINVAL;
	mdev_core_init();
	parent = mtype->parent;
	if (pthread_rwlock_tryrdlock(&parent->unreg_sem))
		return -ENODEV;
	if (parent->unregistered) {
		ret = -ENODEV;
		goto out_unlock;
	}
	ret = mdev_device_alloc(mtype, uuid, &mdev);
	if (ret)
		goto out_unlock;

	pthread_mutex_lock(&mdev_list_lock);
	if (mdev_find_locked(uuid)) {
		pthread_mutex_unlock(&mdev_list_lock);
		ret = -EEXIST;
		goto err_put;
	}
	hmap_insert(&mdev_uuids, &mdev->uuid_node, uuid_hash(uuid));
	mdev->in_table = true;
	pthread_mutex_unlock(&mdev_list_lock);

	ret = parent->ops->create(mdev);
	if (ret)
		goto err_put;
	ret = mdev_bus_add(mdev);
	if (ret)
		goto err_vendor_remove;

	pthread_mutex_lock(&mdev_list_lock);
	mdev->state = MDEV_STATE_ACTIVE;
	pthread_mutex_unlock(&mdev_list_lock);
	notifier_chain_call(&mdev_notifiers, MDEV_EVENT_DEVICE_ADDED, mdev);
	if (ret_mdev)
		*ret_mdev = mdev_device_get(mdev);
	goto out_unlock;

err_vendor_remove:
	parent->ops->remove(mdev);
err_put:
	pthread_mutex_lock(&mdev_list_lock);
	mdev->state = MDEV_STATE_REMOVED;
	pthread_mutex_unlock(&mdev_list_lock);
	put_device(&mdev->dev);
out_unlock:
	pthread_rwlock_unlock(&parent->unreg_sem);
	return ret > 0 ? -EINVAL : ret;
}

pthread_cond_t mdev_attr_idle = PTHREAD_COND_INITIALIZER;

int mdev_attr_enter(struct mdev_device *mdev)
{
	int ret = 0;

	pthread_mutex_lock(&mdev_list_lock);
	/* only an active device: the vendor's state exists from the end of create() and
	 * until remove(), and a failed create calls remove() without waiting for anyone */
	if (mdev->state != MDEV_STATE_ACTIVE)
		ret = -ENODEV;
	else
		mdev->attr_active++;
	pthread_mutex_unlock(&mdev_list_lock);
	return ret;
}

void mdev_attr_leave(struct mdev_device *mdev)
{
	pthread_mutex_lock(&mdev_list_lock);
	if (!--mdev->attr_active)
		pthread_cond_broadcast(&mdev_attr_idle);
	pthread_mutex_unlock(&mdev_list_lock);
}

/* The state is REMOVING, so no callback enters any more: wait for those inside. */
static void mdev_attr_drain(struct mdev_device *mdev)
{
	pthread_mutex_lock(&mdev_list_lock);
	while (mdev->attr_active)
		pthread_cond_wait(&mdev_attr_idle, &mdev_list_lock);
	pthread_mutex_unlock(&mdev_list_lock);
}

void mdev_device_remove_common(struct mdev_device *mdev)
{
	int ret;

	mdev_bus_del(mdev);
	mdev_attr_drain(mdev);
	ret = mdev->parent->ops->remove(mdev);
	if (ret)
		dev_err(&mdev->dev, "vendor remove failed: %d", ret);
	pthread_mutex_lock(&mdev_list_lock);
	mdev->state = MDEV_STATE_REMOVED;
	pthread_mutex_unlock(&mdev_list_lock);
	notifier_chain_call(&mdev_notifiers, MDEV_EVENT_DEVICE_REMOVED, mdev);
	put_device(&mdev->dev);
}

int mdev_device_remove(struct mdev_device *mdev)
{
	struct mdev_parent *parent;
	int ret = 0;

	if (!mdev)
		return -EINVAL;
	parent = mdev->parent;
	if (pthread_rwlock_tryrdlock(&parent->unreg_sem))
		return -ENODEV;
	if (parent->unregistered) {
		ret = -ENODEV;
		goto out_unlock;
	}
	pthread_mutex_lock(&mdev_list_lock);
	switch (mdev->state) {
	case MDEV_STATE_ACTIVE:
		mdev->state = MDEV_STATE_REMOVING;
		break;
	case MDEV_STATE_CREATING:
	case MDEV_STATE_REMOVING:
		ret = -EAGAIN;
		break;
	case MDEV_STATE_REMOVED:
		ret = -ENODEV;
		break;
	}
	pthread_mutex_unlock(&mdev_list_lock);
	if (!ret)
		mdev_device_remove_common(mdev);
out_unlock:
	pthread_rwlock_unlock(&parent->unreg_sem);
	return ret;
}

int mdev_device_get_by_uuid(const guid_t *uuid, struct mdev_device **ret_mdev)
{
	struct mdev_device *mdev;

	if (!uuid || !ret_mdev)
		return -EINVAL;
	mdev_core_init();
	pthread_mutex_lock(&mdev_list_lock);
	mdev = mdev_find_locked(uuid);
	/* a device whose last reference is gone is being released: it is not there any more */
	if (mdev && !get_device_unless_zero(&mdev->dev))
		mdev = NULL;
	pthread_mutex_unlock(&mdev_list_lock);
	if (!mdev)
		return -ENODEV;
	*ret_mdev = mdev;
	return 0;
}

struct mdev_device *mdev_device_get(struct mdev_device *mdev)
{
	get_device(&mdev->dev);
	return mdev;
}

void mdev_device_put(struct mdev_device *mdev)
{
	if (mdev)
		put_device(&mdev->dev);
}

bool mdev_device_is_active(struct mdev_device *mdev)
{
	bool active;

	pthread_mutex_lock(&mdev_list_lock);
	active = mdev->state == MDEV_STATE_ACTIVE;
	pthread_mutex_unlock(&mdev_list_lock);
	return active;
}

/* Collects the active devices of @list (linked through the node at @offset). */
static ssize_t mdev_collect(struct list_head *list, size_t offset,
			    struct mdev_device ***ret_devices)
{
	struct mdev_device **array;
	size_t n = 0, i = 0;

	pthread_mutex_lock(&mdev_list_lock);
	for (struct list_head *l = list->next; l != list; l = l->next)
		n++;
	array = calloc(n ? n : 1, sizeof(*array));
	if (!array) {
		pthread_mutex_unlock(&mdev_list_lock);
		return -ENOMEM;
	}
	for (struct list_head *l = list->next; l != list; l = l->next) {
		struct mdev_device *m = (struct mdev_device *)(void *)((char *)l - offset);

		if (m->state == MDEV_STATE_ACTIVE)
			array[i++] = mdev_device_get(m);
	}
	pthread_mutex_unlock(&mdev_list_lock);
	*ret_devices = array;
	return (ssize_t)i;
}

ssize_t mdev_type_devices(struct mdev_type *mtype, struct mdev_device ***ret_devices)
{
	return mdev_collect(&mtype->devices, offsetof(struct mdev_device, type_node),
			    ret_devices);
}

ssize_t mdev_parent_devices(struct mdev_parent *parent, struct mdev_device ***ret_devices)
{
	return mdev_collect(&parent->devices, offsetof(struct mdev_device, parent_node),
			    ret_devices);
}

void mdev_devices_free(struct mdev_device **devices, size_t count)
{
	for (size_t i = 0; i < count; i++)
		mdev_device_put(devices[i]);
	free(devices);
}

/* ---- accessors ---- */

struct device *mdev_parent_dev(struct mdev_device *mdev)
{
	return mdev->parent->dev;
}

struct device *mdev_dev(struct mdev_device *mdev)
{
	return &mdev->dev;
}

struct mdev_device *mdev_from_dev(struct device *dev)
{
	return dev && dev->release == mdev_device_release ? to_mdev_device(dev) : NULL;
}

const guid_t *mdev_uuid(struct mdev_device *mdev)
{
	return &mdev->uuid;
}

/* Read from any callback thread: atomic, so a driver may set it once in create() and read
 * it anywhere afterwards. */
void *mdev_get_drvdata(struct mdev_device *mdev)
{
	return __atomic_load_n(&mdev->driver_data, __ATOMIC_ACQUIRE);
}

void mdev_set_drvdata(struct mdev_device *mdev, void *data)
{
	__atomic_store_n(&mdev->driver_data, data, __ATOMIC_RELEASE);
}

struct mdev_type *mdev_get_type(struct mdev_device *mdev)
{
	return mdev->type;
}

unsigned int mdev_get_type_group_id(struct mdev_device *mdev)
{
	return mdev->type->group_id;
}
