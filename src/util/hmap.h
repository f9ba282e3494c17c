/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An intrusive hash map with chaining: each element embeds a `struct hmap_node` and the
 * caller computes the hash and compares keys itself (iterate the candidates with
 * HMAP_FOR_EACH_WITH_HASH). Lookups, inserts and removals are O(1) on average.
 *
 * Inserting never fails: the table starts with one embedded bucket and grows by doubling when
 * it can allocate; when it cannot, chains just get longer. Not thread-safe: the owner's lock
 * guards the map.
 */
#ifndef UMDEV_UTIL_HMAP_H
#define UMDEV_UTIL_HMAP_H

#include <stddef.h>
#include <stdint.h>

#include "util/macros.h"

struct hmap_node {
	struct hmap_node *next;
	uint64_t hash;
};

struct hmap {
	struct hmap_node **buckets;
	struct hmap_node *one; /* the bucket used while the table has a single one */
	size_t mask;	       /* number of buckets - 1 (a power of two minus one) */
	size_t count;
};

void hmap_init(struct hmap *map);
/* Frees the buckets; the elements belong to the caller. */
void hmap_destroy(struct hmap *map);
void hmap_insert(struct hmap *map, struct hmap_node *node, uint64_t hash);
void hmap_remove(struct hmap *map, struct hmap_node *node);

static inline size_t hmap_count(const struct hmap *map)
{
	return map->count;
}

/* First node of the chain that may hold @hash (other hashes may share it). */
static inline struct hmap_node *hmap_bucket(const struct hmap *map, uint64_t hash)
{
	return map->buckets[hash & map->mask];
}

/* Iteration over every node, in no particular order; the map must not change meanwhile. */
struct hmap_node *hmap_first(const struct hmap *map);
struct hmap_node *hmap_next(const struct hmap *map, const struct hmap_node *node);

#define HMAP_FOR_EACH(node, map) \
	for (struct hmap_node *node = hmap_first(map); node; node = hmap_next(map, node))

static inline struct hmap_node *hmap_next_with_hash(struct hmap_node *node, uint64_t hash)
{
	while (node && node->hash != hash)
		node = node->next;
	return node;
}

/*
 * Iterates the nodes that carry @hash (a single loop: `break` leaves it); the body recovers
 * its element with container_of() and compares the keys.
 */
#define HMAP_FOR_EACH_WITH_HASH(node, map, hash)                                      \
	for (struct hmap_node *node = hmap_next_with_hash(hmap_bucket(map, hash), hash); \
	     node; node = hmap_next_with_hash(node->next, hash))

/* Hash functions for the keys umdev uses. */
static inline uint64_t hash_u64(uint64_t x)
{
	/* the finaliser of splitmix64: every input bit affects every output bit */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t hash_bytes(const void *data, size_t len);
uint64_t hash_string(const char *s);

#endif
