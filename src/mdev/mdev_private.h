/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mdev core's private structures and the locks that guard them, shared by the files of
 * src/mdev/.
 *
 * Locks, in the order they nest:
 *   parent->unreg_sem  read: a create or remove in flight on the parent; write: its
 *                      unregistration (so creates and removes of one parent run in
 *                      parallel, and unregistration waits for them)
 *   mdev_drivers_lock  read: binding or unbinding one device; write: (un)registering a bus
 *                      driver
 *   mdev_list_lock     the UUID table, every device's state, and the device lists of
 *                      parents and types; never held across a callback into a driver
 *   mdev_parents_lock  the list of registered parents
 */
#ifndef UMDEV_MDEV_PRIVATE_H
#define UMDEV_MDEV_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>

#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>

#include "util/hmap.h"
#include "util/list.h"
#include "util/notifier_chain.h"

struct mdev_type {
	char *name;			/* "<driver string>-<group name>" */
	struct mdev_parent *parent;	/* the type lives as long as its parent structure */
	struct attribute_group *group;	/* the vendor's, from supported_type_groups */
	unsigned int group_id;		/* index in supported_type_groups */
	struct list_head devices;	/* visible devices of the type (mdev_list_lock) */
};

struct mdev_parent {
	struct device *dev;		/* referenced from registration to the last put */
	const struct mdev_parent_ops *ops;
	unsigned long refcount;		/* atomic builtins; registration holds one */
	pthread_rwlock_t unreg_sem;
	bool unregistered;		/* set under unreg_sem held for writing */
	struct list_head next;		/* in mdev_parents (mdev_parents_lock) */
	unsigned int ntypes;
	struct mdev_type *types;
	struct list_head devices;	/* visible devices of the parent (mdev_list_lock) */
};

enum mdev_state {
	MDEV_STATE_CREATING, /* UUID reserved, vendor create and bus probe running */
	MDEV_STATE_ACTIVE,
	MDEV_STATE_REMOVING, /* bus remove and vendor remove running */
	MDEV_STATE_REMOVED,  /* gone but for references; the UUID is free at the last one */
};

struct mdev_device {
	struct device dev;		/* name: the canonical UUID; bus "mdev"; its refcount
					 * keeps the UUID reserved */
	guid_t uuid;
	void *driver_data;		/* the vendor's (mdev_set_drvdata) */
	struct mdev_type *type;
	struct mdev_parent *parent;	/* holds a parent reference */
	enum mdev_state state;		/* mdev_list_lock */
	bool in_table;			/* in mdev_uuids (mdev_list_lock) */
	struct hmap_node uuid_node;	/* mdev_uuids */
	bool visible;			/* on the parent's and type's lists (device_add) */
	struct list_head parent_node;
	struct list_head type_node;
	struct mdev_driver *driver;	/* bound bus driver (written under mdev_drivers_lock,
					 * read with atomic builtins) */
	unsigned int attr_active;	/* attribute callbacks running (mdev_list_lock) */
};

/* Broadcast when a device's attr_active drops to 0 (with mdev_list_lock). */
extern pthread_cond_t mdev_attr_idle;

#define to_mdev_device(d) container_of(d, struct mdev_device, dev)

extern pthread_mutex_t mdev_list_lock;
extern struct hmap mdev_uuids;
extern pthread_rwlock_t mdev_drivers_lock;
extern struct notifier_chain mdev_notifiers;
extern struct mdev_driver vfio_mdev_driver;

/* Sets up the core once (the UUID table, the vfio_mdev bus driver). */
void mdev_core_init(void);

/* ---- bus (mdev_bus.c) ---- */

/* device_add: makes the device visible and binds it to its bus driver; the probe error. */
int mdev_bus_add(struct mdev_device *mdev);
/* device_del: unbinds the bus driver and hides the device. */
void mdev_bus_del(struct mdev_device *mdev);
/* mdev_register_driver() without the core's set-up (which itself registers vfio_mdev). */
int mdev_bus_register_driver(struct mdev_driver *drv);

/* ---- devices (mdev_device.c) ---- */

/* Removes a device whose state the caller has set to REMOVING (parent unreg_sem held). */
void mdev_device_remove_common(struct mdev_device *mdev);

/*
 * Brackets a callback into the vendor's attributes of a mediated device: enter fails with
 * -ENODEV unless the device is active (created and not being removed), and removal waits
 * until every callback that entered has left, before the vendor's remove() frees what they
 * read.
 */
int mdev_attr_enter(struct mdev_device *mdev);
void mdev_attr_leave(struct mdev_device *mdev);

#endif
