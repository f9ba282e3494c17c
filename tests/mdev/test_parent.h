/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A configurable parent driver for the mdev core's tests: it counts every callback, can fail
 * create/open on demand, lets a test block inside create, remove, open or request through
 * hooks, serves a small device file, and records the UUIDs of the devices that exist in a
 * process-wide set, so that a test can prove no UUID ever exists twice.
 */
#ifndef UMDEV_TESTS_TEST_PARENT_H
#define UMDEV_TESTS_TEST_PARENT_H

#include <stdatomic.h>

#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>

#define TP_MAX_TYPES 4
#define TP_CONFIG_BYTES 64

struct test_parent;

typedef void (*tp_hook)(struct test_parent *tp, struct mdev_device *mdev, unsigned int count);

struct test_parent {
	struct device dev;
	struct mdev_parent_ops ops;
	const struct attribute_group *mdev_groups[2];
	struct attribute_group groups[TP_MAX_TYPES];
	struct attribute_group *group_ptrs[TP_MAX_TYPES + 1];
	int max_instances; /* per parent; create fails with -ENOSPC beyond */

	/* fault injection: the errno (negative) a callback returns, 0 to succeed */
	int fail_create;
	int fail_open;

	/* hooks, called at the start of the callback */
	tp_hook create_hook;
	tp_hook remove_hook;
	tp_hook open_hook;
	tp_hook request_hook;
	tp_hook dma_unmap_hook;
	tp_hook attr_hook; /* in the show() of the device attribute vendor/owner */
	void *hook_data;

	atomic_int creates, create_failures, removes, opens, releases, requests, dma_unmaps;
	atomic_int live;	  /* devices that exist (create done, remove not yet) */
	atomic_int reads, writes, ioctls, mmaps;
};

/*
 * Sets up @tp as parent @name of class @class_name with @ntypes types named by @type_names
 * (NULL-terminated groups "1", "2"... if @type_names is NULL). @with_io adds read, write,
 * ioctl, mmap, open, release and request; @with_dma_unmap adds dma_unmap.
 */
void tp_init(struct test_parent *tp, const char *name, const char *class_name,
	     unsigned int ntypes, const char *const *type_names, bool with_io, bool with_dma_unmap);
int tp_register(struct test_parent *tp);
void tp_unregister(struct test_parent *tp);
/* Drops the test's reference on the parent struct device (after unregistering). */
void tp_fini(struct test_parent *tp);

struct mdev_type *tp_type(struct test_parent *tp, unsigned int index);

/* The process-wide set of existing UUIDs and the duplicates ever seen. */
int tp_live_uuids(void);
int tp_duplicates_seen(void);

/* Parses a UUID literal (aborts the test program on a bad one). */
guid_t tp_uuid(const char *text);

#endif
