/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The intrusive hash map of hmap.h: bucket array management, growth and the hash functions.
 */
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"

void hmap_init(struct hmap *map)
{
	map->one = NULL;
	map->buckets = &map->one;
	map->mask = 0;
	map->count = 0;
}

void hmap_destroy(struct hmap *map)
{
	if (map->buckets != &map->one)
		free(map->buckets);
	hmap_init(map);
}

/* Doubles the bucket array when the map is as full as it has buckets; best effort. */
static void hmap_maybe_grow(struct hmap *map)
{
	size_t old_n = map->mask + 1, new_n = old_n * 2;
	struct hmap_node **nb;

	if (map->count < old_n || new_n > SIZE_MAX / sizeof(*nb))
		return;
	nb = calloc(new_n, sizeof(*nb));
	if (!nb)
		return;
	for (size_t i = 0; i < old_n; i++) {
		struct hmap_node *node = map->buckets[i], *next;

		for (; node; node = next) {
			struct hmap_node **b = &nb[node->hash & (new_n - 1)];

			next = node->next;
			node->next = *b;
			*b = node;
		}
	}
	if (map->buckets != &map->one)
		free(map->buckets);
	map->buckets = nb;
	map->mask = new_n - 1;
}

void hmap_insert(struct hmap *map, struct hmap_node *node, uint64_t hash)
{
	struct hmap_node **b;

	hmap_maybe_grow(map);
	b = &map->buckets[hash & map->mask];
	node->hash = hash;
	node->next = *b;
	*b = node;
	map->count++;
}

void hmap_remove(struct hmap *map, struct hmap_node *node)
{
	struct hmap_node **p = &map->buckets[node->hash & map->mask];

	while (*p != node)
		p = &(*p)->next;
	*p = node->next;
	node->next = NULL;
	map->count--;
}

static struct hmap_node *hmap_first_from(const struct hmap *map, size_t bucket)
{
	for (size_t i = bucket; i <= map->mask; i++)
		if (map->buckets[i])
			return map->buckets[i];
	return NULL;
}

struct hmap_node *hmap_first(const struct hmap *map)
{
	return map->count ? hmap_first_from(map, 0) : NULL;
}

struct hmap_node *hmap_next(const struct hmap *map, const struct hmap_node *node)
{
	if (node->next)
		return node->next;
	return hmap_first_from(map, (node->hash & map->mask) + 1);
}

uint64_t hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return hash_u64(h);
}

uint64_t hash_string(const char *s)
{
	return hash_bytes(s, strlen(s));
}
