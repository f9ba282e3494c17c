/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs tree's own state: a record per device and per parent it has seen, which gives
 * the object an owner id for its inode numbers (sysfs_ino.c) and, for a device, its number
 * (iommu group and vfio index: the lowest free one, as the kernel allocates them).
 *
 * Records are made when the tree first meets an object (a create through the tree makes
 * the device's record before the write returns, so numbers follow creation order), and
 * only for an object still active (device) or registered (parent), checked under
 * tree->lock. They go when the core reports the object's removal (MDEV_EVENT_*_REMOVED,
 * sent after the state change and before the core drops its reference), so that a record
 * never outlives its object. A record identifies its object by pointer, without holding a
 * reference: it is only compared with objects the caller holds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mgmt/sysfs/sysfs_private.h"

struct sysfs_dev_rec {
	struct sysfs_dev_rec *next;
	struct mdev_device *mdev; /* identity only */
	uint64_t id;
	unsigned int num;
	time_t time;
	struct sysfs_ino_entry *inos;
};

struct sysfs_parent_rec {
	struct sysfs_parent_rec *next;
	struct mdev_parent *parent; /* identity only */
	uint64_t id;
	time_t time;
	struct sysfs_ino_entry *inos;
};

/* ---- device numbers: a bitmap, lowest free first (tree->lock) ---- */

static int num_alloc(struct sysfs_tree *t, unsigned int *ret_num)
{
	size_t w;

	for (w = 0; w < t->nums_words; w++)
		if (~t->nums[w])
			break;
	if (w == t->nums_words) {
		size_t n = t->nums_words ? t->nums_words * 2 : 4;
		uint64_t *nums;

		if (n > UINT32_MAX / 64)
			return -ENOSPC;
		nums = realloc(t->nums, n * sizeof(*nums));
		if (!nums)
			return -ENOMEM;
		memset(nums + t->nums_words, 0, (n - t->nums_words) * sizeof(*nums));
		t->nums = nums;
		t->nums_words = n;
	}
	for (unsigned int b = 0; b < 64; b++) {
		if (!(t->nums[w] & (1ULL << b))) {
			t->nums[w] |= 1ULL << b;
			*ret_num = (unsigned int)(w * 64 + b);
			return 0;
		}
	}
	return -ENOSPC; /* not reached: word w has a free bit */
}

static void num_free(struct sysfs_tree *t, unsigned int num)
{
	if (num / 64 < t->nums_words)
		t->nums[num / 64] &= ~(1ULL << (num % 64));
}

/* ---- records (tree->lock) ---- */

static struct sysfs_dev_rec **dev_rec_find(struct sysfs_tree *t, struct mdev_device *mdev)
{
	struct sysfs_dev_rec **pp;

	for (pp = &t->devs; *pp; pp = &(*pp)->next)
		if ((*pp)->mdev == mdev)
			break;
	return pp;
}

static void dev_rec_drop(struct sysfs_tree *t, struct sysfs_dev_rec **pp)
{
	struct sysfs_dev_rec *r = *pp;

	*pp = r->next;
	sysfs_ino_retire(t->inos, &r->inos);
	num_free(t, r->num);
	free(r);
}

/* The record of an active device, made if needed; NULL if inactive or out of memory. */
static struct sysfs_dev_rec *dev_rec_get(struct sysfs_tree *t, struct mdev_device *mdev)
{
	struct sysfs_dev_rec **pp = dev_rec_find(t, mdev);
	struct sysfs_dev_rec *r;

	if (*pp)
		return *pp;
	if (!mdev_device_is_active(mdev))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (num_alloc(t, &r->num)) {
		free(r);
		return NULL;
	}
	r->mdev = mdev;
	r->id = t->next_owner_id++;
	r->time = time(NULL);
	*pp = r;
	return r;
}

static struct sysfs_parent_rec **parent_rec_find(struct sysfs_tree *t,
						 struct mdev_parent *parent)
{
	struct sysfs_parent_rec **pp;

	for (pp = &t->parents; *pp; pp = &(*pp)->next)
		if ((*pp)->parent == parent)
			break;
	return pp;
}

static void parent_rec_drop(struct sysfs_tree *t, struct sysfs_parent_rec **pp)
{
	struct sysfs_parent_rec *r = *pp;

	*pp = r->next;
	sysfs_ino_retire(t->inos, &r->inos);
	free(r);
}

static struct sysfs_parent_rec *parent_rec_get(struct sysfs_tree *t, struct mdev_parent *parent)
{
	struct sysfs_parent_rec **pp = parent_rec_find(t, parent);
	struct sysfs_parent_rec *r;

	if (*pp)
		return *pp;
	if (!mdev_parent_is_registered(parent))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->parent = parent;
	r->id = t->next_owner_id++;
	r->time = time(NULL);
	*pp = r;
	return r;
}

/* ---- what the rest of the resolver asks ---- */

int sysfs_dev_num(struct sysfs_tree *t, struct mdev_device *mdev, unsigned int *ret_num)
{
	struct sysfs_dev_rec *r;
	int ret = -ENODEV;

	pthread_mutex_lock(&t->lock);
	r = dev_rec_get(t, mdev);
	if (r) {
		*ret_num = r->num;
		ret = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

struct mdev_device *sysfs_dev_by_num(struct sysfs_tree *t, unsigned int num)
{
	struct mdev_device *mdev = NULL;

	pthread_mutex_lock(&t->lock);
	for (struct sysfs_dev_rec *r = t->devs; r; r = r->next) {
		if (r->num == num) {
			/* alive: the core drops its reference only after the removal
			 * notification, which waits for t->lock to drop the record */
			mdev = mdev_device_get(r->mdev);
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return mdev;
}

void sysfs_ident(struct sysfs_tree *t, const struct sysfs_obj *obj, const char *path,
		 uint64_t *ret_ino, time_t *ret_time)
{
	if (!*path) {
		*ret_ino = SYSFS_ROOT_INO;
		*ret_time = t->time;
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (obj->mdev) {
		struct sysfs_dev_rec *r = dev_rec_get(t, obj->mdev);

		*ret_ino = r ? sysfs_ino_get(t->inos, r->id, path, &r->inos)
			     : sysfs_ino_fresh(t->inos);
		*ret_time = r ? r->time : time(NULL);
	} else if (obj->parent) {
		struct sysfs_parent_rec *r = parent_rec_get(t, obj->parent);

		*ret_ino = r ? sysfs_ino_get(t->inos, r->id, path, &r->inos)
			     : sysfs_ino_fresh(t->inos);
		*ret_time = r ? r->time : time(NULL);
	} else {
		*ret_ino = sysfs_ino_get(t->inos, 0, path, NULL);
		*ret_time = t->time;
	}
	pthread_mutex_unlock(&t->lock);
}

/* The core's notifications: a removed object's record and inode numbers go. */
static void sysfs_tree_notify(struct notifier_block *nb, unsigned long event, void *data)
{
	struct sysfs_tree *t = container_of(nb, struct sysfs_tree, nb);

	pthread_mutex_lock(&t->lock);
	if (event == MDEV_EVENT_DEVICE_REMOVED) {
		struct sysfs_dev_rec **pp = dev_rec_find(t, data);

		if (*pp)
			dev_rec_drop(t, pp);
	} else if (event == MDEV_EVENT_PARENT_REMOVED) {
		struct sysfs_parent_rec **pp = parent_rec_find(t, data);

		if (*pp)
			parent_rec_drop(t, pp);
	}
	pthread_mutex_unlock(&t->lock);
}

int sysfs_tree_new(struct sysfs_tree **ret_tree)
{
	struct sysfs_tree *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	ret = sysfs_ino_table_new(&t->inos);
	if (ret)
		goto err_free;
	pthread_mutex_init(&t->lock, NULL);
	t->uid = geteuid();
	t->gid = getegid();
	t->time = time(NULL);
	t->next_owner_id = 1; /* 0 is the tree's own */
	t->nb.notifier_call = sysfs_tree_notify;
	ret = mdev_register_notifier(&t->nb);
	if (ret)
		goto err_inos;
	*ret_tree = t;
	return 0;

err_inos:
	pthread_mutex_destroy(&t->lock);
	sysfs_ino_table_free(t->inos);
err_free:
	free(t);
	return ret;
}

void sysfs_tree_free(struct sysfs_tree *t)
{
	if (!t)
		return;
	/* waits for a notification in flight (the chain's lock) */
	mdev_unregister_notifier(&t->nb);
	while (t->devs)
		dev_rec_drop(t, &t->devs);
	while (t->parents)
		parent_rec_drop(t, &t->parents);
	free(t->nums);
	sysfs_ino_table_free(t->inos);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
