/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs tree's own state: a record per device and per parent it has seen, which gives
 * the object an owner id for its inode numbers (sysfs_ino.c) and, for a device, its number
 * (iommu group and vfio index: the lowest free one, as the kernel allocates them).
 *
 * A device's record is made when the core reports it created (MDEV_EVENT_DEVICE_ADDED, before
 * the create returns, so numbers follow creation order), or when the tree starts for the
 * devices already there; a parent's when the tree first meets it. Only for an object still
 * active (device) or registered (parent), checked under tree->lock. Records are counted per
 * parent, so that a directory's nlink does not walk thousands of devices. They go when the core reports the object's removal (MDEV_EVENT_*_REMOVED,
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
	struct hmap_node node;	  /* in tree->devs, by the device's address */
	struct mdev_device *mdev; /* identity only */
	struct mdev_parent *parent; /* its parent's (identity only), for the counts */
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

/*
 * Device records are found by the device's address (tree->devs) and by their number
 * (tree->by_num, indexed like the bitmap): with thousands of devices, every lookup of a
 * path below a device and every removal would otherwise walk them all.
 */
static uint64_t dev_hash(const struct mdev_device *mdev)
{
	return hash_u64((uint64_t)(uintptr_t)mdev);
}

static struct sysfs_dev_rec *dev_rec_find(struct sysfs_tree *t, struct mdev_device *mdev)
{
	HMAP_FOR_EACH_WITH_HASH(node, &t->devs, dev_hash(mdev)) {
		struct sysfs_dev_rec *r = container_of(node, struct sysfs_dev_rec, node);

		if (r->mdev == mdev)
			return r;
	}
	return NULL;
}

/* Makes room in by_num for the numbers of the bitmap; 0 or -ENOMEM. */
static int by_num_fit(struct sysfs_tree *t)
{
	size_t n = t->nums_words * 64;
	struct sysfs_dev_rec **b;

	if (t->by_num_len >= n)
		return 0;
	b = realloc(t->by_num, n * sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(b + t->by_num_len, 0, (n - t->by_num_len) * sizeof(*b));
	t->by_num = b;
	t->by_num_len = n;
	return 0;
}

/* The count of @parent's records, made if @make; NULL when not there (or no memory). */
static struct sysfs_parent_count *count_find(struct sysfs_tree *t, struct mdev_parent *parent,
					     bool make)
{
	struct sysfs_parent_count *c;

	for (c = t->counts; c; c = c->next) /* a handful of parents */
		if (c->parent == parent)
			return c;
	if (!make || !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->parent = parent;
	c->next = t->counts;
	t->counts = c;
	return c;
}

static void count_drop(struct sysfs_tree *t, struct mdev_parent *parent)
{
	for (struct sysfs_parent_count **pp = &t->counts; *pp; pp = &(*pp)->next) {
		struct sysfs_parent_count *c = *pp;

		if (c->parent == parent) {
			if (!--c->n) {
				*pp = c->next;
				free(c);
			}
			return;
		}
	}
}

static void dev_rec_drop(struct sysfs_tree *t, struct sysfs_dev_rec *r)
{
	count_drop(t, r->parent);
	hmap_remove(&t->devs, &r->node);
	t->by_num[r->num] = NULL;
	sysfs_ino_retire(t->inos, &r->inos);
	num_free(t, r->num);
	free(r);
}

/* The record of an active device, made if needed; NULL if inactive or out of memory. */
static struct sysfs_dev_rec *dev_rec_get(struct sysfs_tree *t, struct mdev_device *mdev)
{
	struct sysfs_dev_rec *r = dev_rec_find(t, mdev);
	struct sysfs_parent_count *count;

	if (r)
		return r;
	if (!mdev_device_is_active(mdev))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (num_alloc(t, &r->num)) {
		free(r);
		return NULL;
	}
	r->parent = sysfs_mdev_parent(mdev);
	count = count_find(t, r->parent, true);
	if (!count || by_num_fit(t)) {
		num_free(t, r->num);
		free(r);
		return NULL;
	}
	count->n++;
	r->mdev = mdev;
	r->id = t->next_owner_id++;
	r->time = time(NULL);
	hmap_insert(&t->devs, &r->node, dev_hash(mdev));
	t->by_num[r->num] = r;
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
	if (num < t->by_num_len && t->by_num[num])
		/* alive: the core drops its reference only after the removal notification,
		 * which waits for t->lock to drop the record */
		mdev = mdev_device_get(t->by_num[num]->mdev);
	pthread_mutex_unlock(&t->lock);
	return mdev;
}

unsigned int sysfs_count_devices(struct sysfs_tree *t, struct mdev_parent *parent)
{
	struct sysfs_parent_count *c;
	unsigned int n;

	pthread_mutex_lock(&t->lock);
	if (parent) {
		c = count_find(t, parent, false);
		n = c ? c->n : 0;
	} else {
		n = (unsigned int)hmap_count(&t->devs);
	}
	pthread_mutex_unlock(&t->lock);
	return n;
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
	if (event == MDEV_EVENT_DEVICE_ADDED) {
		dev_rec_get(t, data); /* numbered in creation order, and counted */
	} else if (event == MDEV_EVENT_DEVICE_REMOVED) {
		struct sysfs_dev_rec *r = dev_rec_find(t, data);

		if (r)
			dev_rec_drop(t, r);
	} else if (event == MDEV_EVENT_PARENT_REMOVED) {
		struct sysfs_parent_rec **pp = parent_rec_find(t, data);

		if (*pp)
			parent_rec_drop(t, pp);
	}
	pthread_mutex_unlock(&t->lock);
}

/* Records the devices that were there before the tree (those created later are recorded by
 * their MDEV_EVENT_DEVICE_ADDED; recording twice is harmless). Out of memory: the devices not
 * recorded here are recorded when first looked up, and are missing from the counts. */
static void record_existing(struct sysfs_tree *t)
{
	struct mdev_parent **parents;
	ssize_t np = mdev_parents_list(&parents);

	for (ssize_t p = 0; p < np; p++) {
		struct mdev_device **devs;
		ssize_t nd = mdev_parent_devices(parents[p], &devs);

		pthread_mutex_lock(&t->lock);
		for (ssize_t i = 0; i < nd; i++)
			dev_rec_get(t, devs[i]);
		pthread_mutex_unlock(&t->lock);
		if (nd >= 0)
			mdev_devices_free(devs, (size_t)nd);
	}
	if (np >= 0)
		mdev_parents_free(parents, (size_t)np);
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
	hmap_init(&t->devs);
	t->uid = geteuid();
	t->gid = getegid();
	t->time = time(NULL);
	t->next_owner_id = 1; /* 0 is the tree's own */
	t->nb.notifier_call = sysfs_tree_notify;
	ret = mdev_register_notifier(&t->nb);
	if (ret)
		goto err_inos;
	record_existing(t);
	*ret_tree = t;
	return 0;

err_inos:
	hmap_destroy(&t->devs);
	pthread_mutex_destroy(&t->lock);
	sysfs_ino_table_free(t->inos);
err_free:
	free(t);
	return ret;
}

void sysfs_tree_free(struct sysfs_tree *t)
{
	struct hmap_node *node;

	if (!t)
		return;
	/* waits for a notification in flight (the chain's lock) */
	mdev_unregister_notifier(&t->nb);
	while ((node = hmap_first(&t->devs)))
		dev_rec_drop(t, container_of(node, struct sysfs_dev_rec, node));
	hmap_destroy(&t->devs);
	free(t->by_num);
	while (t->counts) {
		struct sysfs_parent_count *c = t->counts;

		t->counts = c->next;
		free(c);
	}
	while (t->parents)
		parent_rec_drop(t, &t->parents);
	free(t->nums);
	sysfs_ino_table_free(t->inos);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
