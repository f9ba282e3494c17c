/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parents: registration of a parent device with its types, lookup, and unregistration,
 * which removes every mediated device of the parent first. Also the core's global state and
 * its one-time set-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/log.h>

#include "mdev/mdev_private.h"

pthread_mutex_t mdev_list_lock = PTHREAD_MUTEX_INITIALIZER;
struct hmap mdev_uuids;
struct notifier_chain mdev_notifiers = NOTIFIER_CHAIN_INIT;

static pthread_mutex_t mdev_parents_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head mdev_parents = LIST_HEAD_INIT(mdev_parents);
static pthread_once_t mdev_core_once = PTHREAD_ONCE_INIT;

static void mdev_core_setup(void)
{
	hmap_init(&mdev_uuids);
	if (mdev_bus_register_driver(&vfio_mdev_driver))
		umdev_log(UMDEV_LOG_ERR, "mdev: cannot register the vfio_mdev bus driver");
}

void mdev_core_init(void)
{
	pthread_once(&mdev_core_once, mdev_core_setup);
}

int mdev_register_notifier(struct notifier_block *nb)
{
	return notifier_chain_register(&mdev_notifiers, nb);
}

int mdev_unregister_notifier(struct notifier_block *nb)
{
	return notifier_chain_unregister(&mdev_notifiers, nb);
}

struct mdev_parent *mdev_parent_get(struct mdev_parent *parent)
{
	__atomic_add_fetch(&parent->refcount, 1, __ATOMIC_RELAXED);
	return parent;
}

static void mdev_parent_free(struct mdev_parent *parent)
{
	for (unsigned int i = 0; i < parent->ntypes; i++)
		free(parent->types[i].name);
	free(parent->types);
	pthread_rwlock_destroy(&parent->unreg_sem);
	put_device(parent->dev);
	free(parent);
}

void mdev_parent_put(struct mdev_parent *parent)
{
	if (parent && !__atomic_sub_fetch(&parent->refcount, 1, __ATOMIC_ACQ_REL))
		mdev_parent_free(parent);
}

/* A type name must be usable as a file name. */
static bool type_name_is_valid(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

static int mdev_parent_add_types(struct mdev_parent *parent)
{
	struct attribute_group **groups = parent->ops->supported_type_groups;
	const char *prefix = dev_driver_string(parent->dev);
	unsigned int n = 0;

	while (groups[n])
		n++;
	parent->types = calloc(n ? n : 1, sizeof(*parent->types));
	if (!parent->types)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		struct mdev_type *t = &parent->types[i];

		if (!groups[i]->name)
			return -EINVAL;
		if (asprintf(&t->name, "%s-%s", prefix, groups[i]->name) < 0) {
			t->name = NULL;
			return -ENOMEM;
		}
		parent->ntypes = i + 1;
		if (!type_name_is_valid(groups[i]->name))
			return -EINVAL;
		for (unsigned int j = 0; j < i; j++)
			if (!strcmp(parent->types[j].name, t->name))
				return -EEXIST;
		t->parent = parent;
		t->group = groups[i];
		t->group_id = i;
		list_init(&t->devices);
	}
	return 0;
}

/* Caller holds mdev_parents_lock. */
static struct mdev_parent *mdev_parent_find_locked(const struct device *dev, const char *name)
{
	list_for_each_entry(p, &mdev_parents, struct mdev_parent, next)
		if (p->dev == dev || !strcmp(dev_name(p->dev), name))
			return p;
	return NULL;
}

int mdev_register_device(struct device *dev, const struct mdev_parent_ops *ops)
{
	pthread_rwlockattr_t rwattr;
	struct mdev_parent *parent;
	int ret;

	if (!dev || !ops || !ops->create || !ops->remove || !ops->supported_type_groups ||
	    !type_name_is_valid(dev_name(dev)))
		return -EINVAL;
	mdev_core_init();

	parent = calloc(1, sizeof(*parent));
	if (!parent)
		return -ENOMEM;
	parent->dev = dev;
	parent->ops = ops;
	parent->refcount = 1;
	pthread_rwlockattr_init(&rwattr);
	/* like the kernel's down_read_trylock(): fails once unregistration is waiting */
	pthread_rwlockattr_setkind_np(&rwattr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&parent->unreg_sem, &rwattr);
	pthread_rwlockattr_destroy(&rwattr);
	list_init(&parent->devices);
	list_init(&parent->next);
	ret = mdev_parent_add_types(parent);
	if (ret)
		goto err_free;

	pthread_mutex_lock(&mdev_parents_lock);
	if (mdev_parent_find_locked(dev, dev_name(dev))) {
		pthread_mutex_unlock(&mdev_parents_lock);
		ret = -EEXIST;
		goto err_free;
	}
	get_device(dev);
	list_add_tail(&parent->next, &mdev_parents);
	pthread_mutex_unlock(&mdev_parents_lock);

	notifier_chain_call(&mdev_notifiers, MDEV_EVENT_PARENT_ADDED, parent);
	return 0;

err_free:
	for (unsigned int i = 0; i < parent->ntypes; i++)
		free(parent->types[i].name);
	free(parent->types);
	pthread_rwlock_destroy(&parent->unreg_sem);
	free(parent);
	return ret;
}

/* Takes the next active device of an unregistering parent for removal, or NULL. */
static struct mdev_device *mdev_parent_next_victim(struct mdev_parent *parent)
{
	struct mdev_device *victim = NULL;

	pthread_mutex_lock(&mdev_list_lock);
	list_for_each_entry(m, &parent->devices, struct mdev_device, parent_node) {
		if (m->state == MDEV_STATE_ACTIVE) {
			m->state = MDEV_STATE_REMOVING;
			victim = m;
			get_device(&m->dev);
			break;
		}
	}
	pthread_mutex_unlock(&mdev_list_lock);
	return victim;
}

void mdev_unregister_device(struct device *dev)
{
	struct mdev_parent *parent = NULL;
	struct mdev_device *victim;

	if (!dev)
		return;
	pthread_mutex_lock(&mdev_parents_lock);
	list_for_each_entry(p, &mdev_parents, struct mdev_parent, next) {
		if (p->dev == dev) {
			parent = p;
			list_del(&p->next);
			break;
		}
	}
	pthread_mutex_unlock(&mdev_parents_lock);
	if (!parent)
		return;

	dev_info(dev, "unregistering mdev parent");
	pthread_rwlock_wrlock(&parent->unreg_sem);
	parent->unregistered = true;
	while ((victim = mdev_parent_next_victim(parent))) {
		mdev_device_remove_common(victim);
		put_device(&victim->dev);
	}
	pthread_rwlock_unlock(&parent->unreg_sem);

	notifier_chain_call(&mdev_notifiers, MDEV_EVENT_PARENT_REMOVED, parent);
	mdev_parent_put(parent);
}

int mdev_parent_get_by_name(const char *name, struct mdev_parent **ret_parent)
{
	struct mdev_parent *found = NULL;

	if (!name || !ret_parent)
		return -EINVAL;
	pthread_mutex_lock(&mdev_parents_lock);
	list_for_each_entry(p, &mdev_parents, struct mdev_parent, next) {
		if (!strcmp(dev_name(p->dev), name)) {
			found = mdev_parent_get(p);
			break;
		}
	}
	pthread_mutex_unlock(&mdev_parents_lock);
	if (!found)
		return -ENODEV;
	*ret_parent = found;
	return 0;
}

ssize_t mdev_parents_list(struct mdev_parent ***ret_parents)
{
	struct mdev_parent **array;
	size_t n = 0, i = 0;

	pthread_mutex_lock(&mdev_parents_lock);
	list_for_each_entry(p, &mdev_parents, struct mdev_parent, next)
		n++;
	array = calloc(n ? n : 1, sizeof(*array));
	if (!array) {
		pthread_mutex_unlock(&mdev_parents_lock);
		return -ENOMEM;
	}
	list_for_each_entry(p, &mdev_parents, struct mdev_parent, next)
		array[i++] = mdev_parent_get(p);
	pthread_mutex_unlock(&mdev_parents_lock);
	*ret_parents = array;
	return (ssize_t)n;
}

void mdev_parents_free(struct mdev_parent **parents, size_t count)
{
	for (size_t i = 0; i < count; i++)
		mdev_parent_put(parents[i]);
	free(parents);
}

struct device *mdev_parent_device(struct mdev_parent *parent)
{
	return parent->dev;
}

const struct mdev_parent_ops *mdev_parent_get_ops(struct mdev_parent *parent)
{
	return parent->ops;
}

bool mdev_parent_is_registered(struct mdev_parent *parent)
{
	bool registered;

	pthread_mutex_lock(&mdev_parents_lock);
	registered = !list_empty(&parent->next);
	pthread_mutex_unlock(&mdev_parents_lock);
	return registered;
}

unsigned int mdev_parent_num_types(struct mdev_parent *parent)
{
	return parent->ntypes;
}

struct mdev_type *mdev_parent_type(struct mdev_parent *parent, unsigned int index)
{
	return index < parent->ntypes ? &parent->types[index] : NULL;
}

struct mdev_type *mdev_parent_find_type(struct mdev_parent *parent, const char *name)
{
	for (unsigned int i = 0; i < parent->ntypes; i++)
		if (!strcmp(parent->types[i].name, name))
			return &parent->types[i];
	return NULL;
}

struct mdev_parent *mtype_get_parent(struct mdev_type *mtype)
{
	return mtype->parent;
}

const struct attribute_group *mtype_get_group(struct mdev_type *mtype)
{
	return mtype->group;
}

unsigned int mtype_get_type_group_id(struct mdev_type *mtype)
{
	return mtype->group_id;
}

struct device *mtype_get_parent_dev(struct mdev_type *mtype)
{
	return mtype->parent->dev;
}

const char *mtype_get_name(struct mdev_type *mtype)
{
	return mtype->name;
}
