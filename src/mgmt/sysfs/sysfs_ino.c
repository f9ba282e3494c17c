/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inode numbers of the sysfs tree: a table from (owner, path) to a number, handed out from
 * a counter that only grows, so that a number never names two objects. The owner is the
 * object a path belongs to (a device or parent record, whose id is never reused, or 0 for
 * the tree's own directories); when a device or parent goes, its entries are retired and a
 * later object at the same path gets new numbers.
 *
 * A chained hash table that doubles when it holds twice as many entries as buckets; each
 * entry is also on its owner's singly linked list. The caller holds tree->lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/sysfs/sysfs_private.h"

#define SYSFS_INO_BUCKETS 256 /* initial; a power of two */

struct sysfs_ino_entry {
	struct sysfs_ino_entry *hnext; /* in the bucket */
	struct sysfs_ino_entry *onext; /* in the owner's list */
	uint64_t owner;
	uint64_t hash;
	uint64_t ino;
	char path[];
};

struct sysfs_ino_table {
	struct sysfs_ino_entry **buckets;
	size_t nbuckets;
	size_t count;
	uint64_t next_ino;
};

int sysfs_ino_table_new(struct sysfs_ino_table **ret_table)
{
	struct sysfs_ino_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->buckets = calloc(SYSFS_INO_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	t->nbuckets = SYSFS_INO_BUCKETS;
	t->next_ino = SYSFS_ROOT_INO + 1;
	*ret_table = t;
	return 0;
}

void sysfs_ino_table_free(struct sysfs_ino_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct sysfs_ino_entry *e = t->buckets[i];

		while (e) {
			struct sysfs_ino_entry *next = e->hnext;

			free(e);
			e = next;
		}
	}
	free(t->buckets);
	free(t);
}

/* FNV-1a over the owner and the path. */
static uint64_t ino_hash(uint64_t owner, const char *path)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (unsigned int i = 0; i < 8; i++) {
		h ^= (owner >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Doubles the buckets; on failure the table keeps working, only slower. */
static void ino_grow(struct sysfs_ino_table *t)
{
	size_t n = t->nbuckets * 2;
	struct sysfs_ino_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct sysfs_ino_entry *e = t->buckets[i];

		while (e) {
			struct sysfs_ino_entry *next = e->hnext;
			size_t j = e->hash & (n - 1);

			e->hnext = b[j];
			b[j] = e;
			e = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

uint64_t sysfs_ino_fresh(struct sysfs_ino_table *t)
{
	return t->next_ino++;
}

uint64_t sysfs_ino_get(struct sysfs_ino_table *t, uint64_t owner, const char *path,
		       struct sysfs_ino_entry **list)
{
	uint64_t hash = ino_hash(owner, path);
	size_t len = strlen(path);
	struct sysfs_ino_entry *e;

	for (e = t->buckets[hash & (t->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == hash && e->owner == owner && !strcmp(e->path, path))
			return e->ino;

	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return sysfs_ino_fresh(t);
	e->owner = owner;
	e->hash = hash;
	e->ino = sysfs_ino_fresh(t);
	memcpy(e->path, path, len + 1);
	e->hnext = t->buckets[hash & (t->nbuckets - 1)];
	t->buckets[hash & (t->nbuckets - 1)] = e;
	e->onext = NULL;
	if (list) {
		e->onext = *list;
		*list = e;
	}
	if (++t->count > 2 * t->nbuckets)
		ino_grow(t);
	return e->ino;
}

void sysfs_ino_retire(struct sysfs_ino_table *t, struct sysfs_ino_entry **list)
{
	struct sysfs_ino_entry *e = *list;

	while (e) {
		struct sysfs_ino_entry *next = e->onext;
		struct sysfs_ino_entry **pp = &t->buckets[e->hash & (t->nbuckets - 1)];

		while (*pp && *pp != e)
			pp = &(*pp)->hnext;
		if (*pp)
			*pp = e->hnext;
		t->count--;
		free(e);
		e = next;
	}
	*list = NULL;
}
