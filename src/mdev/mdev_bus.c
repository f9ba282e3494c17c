/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mdev bus: bus drivers (struct mdev_driver) and the binding of mediated devices to
 * them. A device is bound when it is added (device_add): to its parent's device_driver if
 * the parent names one, else to the first registered driver (vfio_mdev, registered when the
 * core starts). A driver registered later is probed on the devices that have none; a driver
 * unregistered is removed from its devices, which stay, unbound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/log.h>

#include "mdev/device_private.h"
#include "mdev/mdev_private.h"

pthread_rwlock_t mdev_drivers_lock = PTHREAD_RWLOCK_INITIALIZER;
/* Registered bus drivers in registration order (mdev_drivers_lock). */
static struct mdev_driver **mdev_drivers;
static size_t mdev_ndrivers;

/* Caller holds mdev_drivers_lock. */
static bool mdev_driver_is_registered(const struct mdev_driver *drv)
{
	for (size_t i = 0; i < mdev_ndrivers; i++)
		if (mdev_drivers[i] == drv)
			return true;
	return false;
}

/* The driver a device of @parent binds to (caller holds mdev_drivers_lock); NULL: none. */
static int mdev_driver_for(struct mdev_parent *parent, struct mdev_driver **ret_drv)
{
	struct mdev_driver *want = parent->ops->device_driver;

	if (want) {
		if (!mdev_driver_is_registered(want))
			return -ENODEV;
		*ret_drv = want;
		return 0;
	}
	*ret_drv = mdev_ndrivers ? mdev_drivers[0] : NULL;
	return 0;
}

/* Probes @drv on @mdev (caller holds mdev_drivers_lock). */
static int mdev_bind(struct mdev_device *mdev, struct mdev_driver *drv)
{
	int ret = drv->probe(&mdev->dev);

	if (ret)
		return ret > 0 ? -EINVAL : ret;
	__atomic_store_n(&mdev->driver, drv, __ATOMIC_RELEASE);
	device_set_driver_name(&mdev->dev, drv->name);
	return 0;
}

static void mdev_unbind(struct mdev_device *mdev)
{
	struct mdev_driver *drv = mdev->driver;

	if (!drv)
		return;
	if (drv->remove)
		drv->remove(&mdev->dev);
	__atomic_store_n(&mdev->driver, NULL, __ATOMIC_RELEASE);
	device_set_driver_name(&mdev->dev, NULL);
}

static void mdev_set_visible(struct mdev_device *mdev, bool visible)
{
	pthread_mutex_lock(&mdev_list_lock);
	if (visible && !mdev->visible) {
		list_add_tail(&mdev->parent_node, &mdev->parent->devices);
		list_add_tail(&mdev->type_node, &mdev->type->devices);
	} else if (!visible && mdev->visible) {
		list_del(&mdev->parent_node);
		list_del(&mdev->type_node);
	}
	mdev->visible = visible;
	pthread_mutex_unlock(&mdev_list_lock);
}

int mdev_bus_add(struct mdev_device *mdev)
{
	struct mdev_driver *drv;
	int ret;

	pthread_rwlock_rdlock(&mdev_drivers_lock);
	ret = mdev_driver_for(mdev->parent, &drv);
	if (ret)
		goto out_unlock;
	mdev_set_visible(mdev, true);
	if (drv) {
		ret = mdev_bind(mdev, drv);
		if (ret) {
			dev_err(&mdev->dev, "probe of %s failed with error %d", dev_name(&mdev->dev),
				ret);
			mdev_set_visible(mdev, false);
		}
	}
out_unlock:
	pthread_rwlock_unlock(&mdev_drivers_lock);
	return ret;
}

void mdev_bus_del(struct mdev_device *mdev)
{
	pthread_rwlock_rdlock(&mdev_drivers_lock);
	mdev_unbind(mdev);
	pthread_rwlock_unlock(&mdev_drivers_lock);
	mdev_set_visible(mdev, false);
}

/*
 * Devices (with a reference each) that @pred selects among the visible, active ones; NULL
 * with *count 0 if there is none or no memory (the caller then skips them, and logs).
 */
static struct mdev_device **mdev_select(bool (*pred)(struct mdev_device *, void *), void *arg,
					size_t *count)
{
	struct mdev_device **array = NULL;
	size_t n = 0, cap = 0;

	pthread_mutex_lock(&mdev_list_lock);
	HMAP_FOR_EACH(node, &mdev_uuids) {
		struct mdev_device *m = container_of(node, struct mdev_device, uuid_node);

		if (!m->visible || m->state != MDEV_STATE_ACTIVE || !pred(m, arg))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct mdev_device **na = realloc(array, ncap * sizeof(*na));

			if (!na) {
				umdev_log(UMDEV_LOG_ERR, "mdev: out of memory while (un)binding");
				break;
			}
			array = na;
			cap = ncap;
		}
		array[n++] = mdev_device_get(m);
	}
	pthread_mutex_unlock(&mdev_list_lock);
	*count = n;
	return array;
}

static bool mdev_wants_driver(struct mdev_device *m, void *arg)
{
	struct mdev_driver *drv = arg;

	return !m->driver && (!m->parent->ops->device_driver || m->parent->ops->device_driver == drv);
}

static bool mdev_bound_to(struct mdev_device *m, void *arg)
{
	return m->driver == arg;
}

int mdev_bus_register_driver(struct mdev_driver *drv)
{
	struct mdev_device **devices;
	struct mdev_driver **na;
	size_t n;
	int ret = 0;

	if (!drv || !drv->name || !drv->probe)
		return -EINVAL;
	pthread_rwlock_wrlock(&mdev_drivers_lock);
	for (size_t i = 0; i < mdev_ndrivers; i++) {
		if (mdev_drivers[i] == drv || !strcmp(mdev_drivers[i]->name, drv->name)) {
			ret = -EEXIST;
			goto out_unlock;
		}
	}
	na = realloc(mdev_drivers, (mdev_ndrivers + 1) * sizeof(*na));
	if (!na) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	mdev_drivers = na;
	mdev_drivers[mdev_ndrivers++] = drv;

	devices = mdev_select(mdev_wants_driver, drv, &n);
	for (size_t i = 0; i < n; i++) {
		if (mdev_bind(devices[i], drv))
			dev_warn(&devices[i]->dev, "probe by %s failed; device stays unbound",
				 drv->name);
	}
	mdev_devices_free(devices, n);
out_unlock:
	pthread_rwlock_unlock(&mdev_drivers_lock);
	return ret;
}

int mdev_register_driver(struct mdev_driver *drv)
{
	mdev_core_init();
	return mdev_bus_register_driver(drv);
}

void mdev_unregister_driver(struct mdev_driver *drv)
{
	struct mdev_device **devices;
	size_t n, i;

	pthread_rwlock_wrlock(&mdev_drivers_lock);
	for (i = 0; i < mdev_ndrivers && mdev_drivers[i] != drv; i++)
		;
	if (i == mdev_ndrivers)
		goto out_unlock;
	memmove(&mdev_drivers[i], &mdev_drivers[i + 1],
		(mdev_ndrivers - i - 1) * sizeof(*mdev_drivers));
	mdev_ndrivers--;

	devices = mdev_select(mdev_bound_to, drv, &n);
	for (i = 0; i < n; i++)
		mdev_unbind(devices[i]);
	mdev_devices_free(devices, n);
out_unlock:
	pthread_rwlock_unlock(&mdev_drivers_lock);
}
