/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Life cycle of a vfio device: allocation (ops->init), references (ops->release on the last
 * one), registration in the process-wide registry that transports look devices up in, and
 * unregistration, which waits for the client to let go while calling ops->request().
 *
 * A registered device is found by its device's name (a hash lookup) or, for drivers with a
 * match op, by asking each such device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <umdev/log.h>

#include "util/cond.h"
#include "util/notifier_chain.h"
#include "vfio/vfio_private.h"

/* Guards the registry: by_name and with_match. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hmap by_name = { NULL, NULL, 0, 0 };
static struct list_head with_match = LIST_HEAD_INIT(with_match);
static bool registry_ready;

static struct notifier_chain device_notifiers = NOTIFIER_CHAIN_INIT;

static _Atomic unsigned int request_interval_ms = 10000;

void vfio_set_request_interval_ms(unsigned int ms)
{
	request_interval_ms = ms ? ms : 1;
}

unsigned int vfio_get_request_interval_ms(void)
{
	return request_interval_ms;
}

/* Caller holds registry_lock. */
static void registry_init_locked(void)
{
	if (!registry_ready) {
		hmap_init(&by_name);
		registry_ready = true;
	}
}

/* A registered device already has @name (caller holds registry_lock). */
static bool registry_name_taken(const char *name)
{
	HMAP_FOR_EACH_WITH_HASH(node, &by_name, hash_string(name)) {
		if (!strcmp(container_of(node, struct vfio_device_private, name_node)->name, name))
			return true;
	}
	list_for_each_entry(p, &with_match, struct vfio_device_private, match_node)
		if (!strcmp(p->name, name))
			return true;
	return false;
}

struct vfio_device *_vfio_alloc_device(size_t size, struct device *dev,
				       const struct vfio_device_ops *ops)
{
	struct vfio_device_private *priv;
	struct vfio_device *vdev;
	int ret;

	if (!dev || !ops || size < sizeof(*vdev))
		return ERR_PTR(-EINVAL);
	vdev = calloc(1, size);
	if (!vdev)
		return ERR_PTR(-ENOMEM);
	priv = calloc(1, sizeof(*priv));
	if (!priv) {
		ret = -ENOMEM;
		goto err_free_vdev;
	}
	priv->vdev = vdev;
	priv->refcount = 1;
	pthread_mutex_init(&priv->lock, NULL);
	cond_init_monotonic(&priv->closed);
	pthread_mutex_init(&priv->pin_lock, NULL);
	hmap_init(&priv->pins);
	dma_gate_init(&priv->gate);
	list_init(&priv->match_node);
	list_init(&priv->space_node);
	vdev->dev = dev;
	vdev->ops = ops;
	vdev->priv = priv;

	if (ops->init) {
		ret = ops->init(vdev);
		if (ret)
			goto err_free_priv;
	}
	return vdev;

err_free_priv:
	dma_gate_destroy(&priv->gate);
	hmap_destroy(&priv->pins);
	pthread_mutex_destroy(&priv->pin_lock);
	pthread_cond_destroy(&priv->closed);
	pthread_mutex_destroy(&priv->lock);
	free(priv);
err_free_vdev:
	free(vdev);
	return ERR_PTR(ret < 0 ? ret : -EINVAL);
}

struct vfio_device *vfio_get_device(struct vfio_device *vdev)
{
	__atomic_add_fetch(&vdev->priv->refcount, 1, __ATOMIC_RELAXED);
	return vdev;
}

void vfio_put_device(struct vfio_device *vdev)
{
	struct vfio_device_private *priv;

	if (!vdev || __atomic_sub_fetch(&vdev->priv->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	priv = vdev->priv;
	vfio_mig_file_put(priv->mig_file);
	if (vdev->ops->release)
		vdev->ops->release(vdev);
	dma_gate_destroy(&priv->gate);
	hmap_destroy(&priv->pins);
	pthread_mutex_destroy(&priv->pin_lock);
	pthread_cond_destroy(&priv->closed);
	pthread_mutex_destroy(&priv->lock);
	free(priv->name);
	free(priv);
	free(vdev);
}

static int vfio_register(struct vfio_device *vdev, bool emulated)
{
	struct vfio_device_private *priv;
	const char *name;
	int ret = 0;

	if (!vdev || !vdev->dev)
		return -EINVAL;
	priv = vdev->priv;
	name = dev_name(vdev->dev);
	if (!*name)
		return -EINVAL;

	pthread_mutex_lock(&registry_lock);
	registry_init_locked();
	if (priv->name) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (registry_name_taken(name)) {
		ret = -EEXIST;
		goto out_unlock;
	}
	priv->name = strdup(name);
	if (!priv->name) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	if (!vdev->ops->match)
		hmap_insert(&by_name, &priv->name_node, hash_string(name));
	else
		list_add_tail(&priv->match_node, &with_match);
	pthread_mutex_lock(&priv->lock);
	priv->registered = true;
	priv->emulated = emulated;
	pthread_mutex_unlock(&priv->lock);
	/* the registration holds a reference, dropped in vfio_unregister_group_dev() */
	vfio_get_device(vdev);
out_unlock:
	pthread_mutex_unlock(&registry_lock);
	if (!ret)
		notifier_chain_call(&device_notifiers, VFIO_DEVICE_EVENT_REGISTERED, vdev);
	return ret;
}

int vfio_register_group_dev(struct vfio_device *vdev)
{
	return vfio_register(vdev, false);
}

int vfio_register_emulated_iommu_dev(struct vfio_device *vdev)
{
	return vfio_register(vdev, true);
}

void vfio_unregister_group_dev(struct vfio_device *vdev)
{
	struct vfio_device_private *priv = vdev->priv;
	bool was_registered;

	pthread_mutex_lock(&registry_lock);
	was_registered = priv->name != NULL;
	if (was_registered) {
		if (vdev->ops->match)
			list_del(&priv->match_node);
		else
			hmap_remove(&by_name, &priv->name_node);
		free(priv->name);
		priv->name = NULL;
	}
	pthread_mutex_unlock(&registry_lock);
	if (!was_registered)
		return;

	notifier_chain_call(&device_notifiers, VFIO_DEVICE_EVENT_UNREGISTERING, vdev);

	pthread_mutex_lock(&priv->lock);
	priv->registered = false;
	for (unsigned int count = 0; priv->open_count; count++) {
		struct timespec deadline;

		pthread_mutex_unlock(&priv->lock);
		if (vdev->ops->request)
			vdev->ops->request(vdev, count);
		else if (count == 0)
			umdev_log(UMDEV_LOG_WARNING,
				  "vfio %s: no request callback, blocked until released by the client",
				  dev_name(vdev->dev));
		pthread_mutex_lock(&priv->lock);
		deadline_after_ms(&deadline, vfio_get_request_interval_ms());
		while (priv->open_count && cond_wait_until(&priv->closed, &priv->lock, &deadline))
			;
	}
	pthread_mutex_unlock(&priv->lock);

	notifier_chain_call(&device_notifiers, VFIO_DEVICE_EVENT_UNREGISTERED, vdev);
	vfio_put_device(vdev);
}

int vfio_device_get_from_name(const char *name, struct vfio_device **ret_vdev)
{
	struct vfio_device *found = NULL;
	int ret = -ENODEV;
	uint64_t hash;

	if (!name || !ret_vdev)
		return -EINVAL;
	hash = hash_string(name);
	pthread_mutex_lock(&registry_lock);
	registry_init_locked();
	HMAP_FOR_EACH_WITH_HASH(node, &by_name, hash) {
		struct vfio_device_private *priv =
			container_of(node, struct vfio_device_private, name_node);

		if (!strcmp(priv->name, name)) {
			found = priv->vdev;
			break;
		}
	}
	if (!found) {
		list_for_each_entry(priv, &with_match, struct vfio_device_private, match_node) {
			/* match() takes a writable buffer, as in the kernel */
			char *buf = strdup(name);
			int r;

			if (!buf) {
				ret = -ENOMEM;
				break;
			}
			r = priv->vdev->ops->match(priv->vdev, buf);
			free(buf);
			if (r < 0) {
				ret = r;
				break;
			}
			if (r > 0) {
				found = priv->vdev;
				break;
			}
		}
	}
	if (found) {
		*ret_vdev = vfio_get_device(found);
		ret = 0;
	}
	pthread_mutex_unlock(&registry_lock);
	return ret;
}

int vfio_register_device_notifier(struct notifier_block *nb)
{
	return notifier_chain_register(&device_notifiers, nb);
}

int vfio_unregister_device_notifier(struct notifier_block *nb)
{
	return notifier_chain_unregister(&device_notifiers, nb);
}
