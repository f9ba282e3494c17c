/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intrusive doubly linked lists, in the kernel's shape: a `struct list_head` is embedded in
 * each element and the list head is a sentinel that points at itself when empty. The element
 * is recovered from its node with container_of(). No allocation, O(1) insert and delete.
 */
#ifndef UMDEV_UTIL_LIST_H
#define UMDEV_UTIL_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "util/macros.h"

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void list_init(struct list_head *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

static inline void list_insert_between(struct list_head *node, struct list_head *prev,
				       struct list_head *next)
{
	next->prev = node;
	node->next = next;
	node->prev = prev;
	prev->next = node;
}

/* Appends @node at the end of @head. */
static inline void list_add_tail(struct list_head *node, struct list_head *head)
{
	list_insert_between(node, head->prev, head);
}

/* Unlinks @node and leaves it pointing at itself, so a second list_del() is harmless. */
static inline void list_del(struct list_head *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	list_init(node);
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

#define list_first_entry(head, type, member) list_entry((head)->next, type, member)

#define list_for_each_entry(pos, head, type, member)                                      \
	for (type *pos = list_entry((head)->next, type, member); &pos->member != (head); \
	     pos = list_entry(pos->member.next, type, member))

/* Safe against removal of the current element. */
#define list_for_each_entry_safe(pos, head, type, member)                                   \
	for (type *pos = list_entry((head)->next, type, member),                           \
		  *pos##_next = list_entry(pos->member.next, type, member);                 \
	     &pos->member != (head);                                                        \
	     pos = pos##_next, pos##_next = list_entry(pos##_next->member.next, type, member))

#endif
