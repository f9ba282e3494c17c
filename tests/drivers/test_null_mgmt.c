/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the null driver from the management side: the module descriptor, the parent "null"
 * and its type "null-1", creating and removing devices (directly and through the `create` and
 * `remove` files, with their input rules), and the type, parent and device attributes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "null_fixture.h"

/* ---- the module and its parent ---- */

TEST(module_parent_and_type)
{
	struct mdev_parent *parent, *again;
	struct mdev_type *type;
	struct device *pdev;

	/* the module descriptor, as umdevd checks it */
	CHECK_EQ(MOD->abi_version, UMDEV_DRIVER_ABI_VERSION);
	CHECK_STR(MOD->name, "null");
	REQUIRE(MOD->init != NULL && MOD->exit != NULL);

	REQUIRE_EQ(mdev_parent_get_by_name("null", &parent), -ENODEV);
	REQUIRE_EQ(MOD->init(), 0);
	if (!CHECK_EQ(mdev_parent_get_by_name("null", &parent), 0)) {
		MOD->exit();
		return;
	}
	pdev = mdev_parent_device(parent);
	CHECK_STR(dev_name(pdev), "null");
	CHECK_STR(dev_driver_string(pdev), "null");
	CHECK(mdev_parent_is_registered(parent));
	CHECK_EQ(mdev_parent_num_types(parent), 1);
	type = mdev_parent_find_type(parent, "null-1");
	CHECK(type != NULL);
	CHECK(mdev_parent_type(parent, 0) == type);
	CHECK(mdev_parent_type(parent, 1) == NULL);
	CHECK(mdev_parent_find_type(parent, "null-2") == NULL);
	CHECK(mdev_parent_find_type(parent, "1") == NULL);
	if (type) {
		CHECK_STR(mtype_get_name(type), "null-1");
		CHECK(mtype_get_parent(type) == parent);
		CHECK(mtype_get_parent_dev(type) == pdev);
		CHECK_EQ(mtype_get_type_group_id(type), 0);
		CHECK_STR(mtype_get_group(type)->name, "1");
	}

	/* the parent is listed */
	{
		struct mdev_parent **list;
		ssize_t n = mdev_parents_list(&list);
		bool found = false;

		CHECK(n >= 1);
		for (ssize_t i = 0; i < n; i++)
			found |= list[i] == parent;
		CHECK(found);
		if (n >= 0)
			mdev_parents_free(list, (size_t)n);
	}

	/* exit unregisters it; a reference held across exit still answers */
	MOD->exit();
	CHECK(!mdev_parent_is_registered(parent));
	CHECK_EQ(mdev_parent_get_by_name("null", &again), -ENODEV);
	mdev_parent_put(parent);

	/* and the module starts again */
	REQUIRE_EQ(MOD->init(), 0);
	CHECK_EQ(mdev_parent_get_by_name("null", &again), 0);
	mdev_parent_put(again);
	MOD->exit();
}

/* ---- creating and removing devices ---- */

struct event_log {
	struct notifier_block nb;
	pthread_mutex_t lock;
	unsigned long events[16];
	void *data[16];
	int n;
};

static void event_log_call(struct notifier_block *nb, unsigned long event, void *data)
{
	struct event_log *log = container_of(nb, struct event_log, nb);

	pthread_mutex_lock(&log->lock);
	if (log->n < 16) {
		log->events[log->n] = event;
		log->data[log->n] = data;
		log->n++;
	}
	pthread_mutex_unlock(&log->lock);
}

NULL_TEST(create_lookup_remove)
{
	struct event_log log = { .nb = { .notifier_call = event_log_call } };
	char text[UUID_STRING_SIZE];
	guid_t u = make_uuid(1, text);
	struct mdev_device *m, *found, **devs;
	struct vfio_device *vdev, *byname;
	ssize_t n;

	pthread_mutex_init(&log.lock, NULL);
	REQUIRE_EQ(mdev_register_notifier(&log.nb), 0);
	if (!CHECK_EQ(mdev_device_create(f->type, &u, &m), 0)) {
		mdev_unregister_notifier(&log.nb);
		pthread_mutex_destroy(&log.lock);
		return;
	}
	CHECK(mdev_device_is_active(m));
	CHECK(uuid_equal(mdev_uuid(m), &u));
	CHECK(mdev_get_type(m) == f->type);
	CHECK_EQ(mdev_get_type_group_id(m), 0);
	CHECK(mdev_parent_dev(m) == mdev_parent_device(f->parent));
	CHECK(mdev_dev(m)->parent == mdev_parent_device(f->parent));
	CHECK_STR(dev_name(mdev_dev(m)), text);
	CHECK_STR(dev_driver_string(mdev_dev(m)), "vfio_mdev");
	CHECK(mdev_from_dev(mdev_dev(m)) == m);
	CHECK(mdev_from_dev(mdev_parent_device(f->parent)) == NULL);
	CHECK(mdev_get_drvdata(m) != NULL);

	/* the vfio device: by the mdev and by its UUID */
	vdev = mdev_vfio_device(m);
	CHECK(vdev != NULL);
	if (CHECK_EQ(vfio_device_get_from_name(text, &byname), 0)) {
		CHECK(byname == vdev);
		CHECK(byname->dev == mdev_dev(m));
		CHECK(!vfio_device_is_open(byname));
		vfio_put_device(byname);
	}
	CHECK_EQ(vfio_device_get_from_name("6e756c6c-0000-4000-8000-00000000ffff", &byname),
		 -ENODEV);

	/* lookups */
	if (CHECK_EQ(mdev_device_get_by_uuid(&u, &found), 0)) {
		CHECK(found == m);
		mdev_device_put(found);
	}
	n = mdev_type_devices(f->type, &devs);
	if (CHECK_EQ(n, 1)) {
		CHECK(devs[0] == m);
		mdev_devices_free(devs, (size_t)n);
	} else if (n >= 0) {
		mdev_devices_free(devs, (size_t)n);
	}
	n = mdev_parent_devices(f->parent, &devs);
	if (CHECK_EQ(n, 1)) {
		CHECK(devs[0] == m);
		mdev_devices_free(devs, (size_t)n);
	} else if (n >= 0) {
		mdev_devices_free(devs, (size_t)n);
	}

	/* the UUID is taken */
	CHECK_EQ(mdev_device_create(f->type, &u, NULL), -EEXIST);

	/* remove */
	CHECK_EQ(mdev_device_remove(m), 0);
	CHECK(!mdev_device_is_active(m));
	CHECK(mdev_vfio_device(m) == NULL);
	CHECK_EQ(vfio_device_get_from_name(text, &byname), -ENODEV);
	CHECK_EQ(mdev_device_remove(m), -ENODEV);
	n = mdev_type_devices(f->type, &devs);
	CHECK_EQ(n, 0);
	if (n >= 0)
		mdev_devices_free(devs, (size_t)n);
	/* held, the UUID stays reserved; dropped, it is free */
	CHECK_EQ(mdev_device_create(f->type, &u, NULL), -EEXIST);
	mdev_device_put(m);
	CHECK_EQ(mdev_device_get_by_uuid(&u, &found), -ENODEV);

	mdev_unregister_notifier(&log.nb);
	pthread_mutex_lock(&log.lock);
	CHECK_EQ(log.n, 2);
	if (log.n == 2) {
		CHECK_EQ(log.events[0], MDEV_EVENT_DEVICE_ADDED);
		CHECK_EQ(log.events[1], MDEV_EVENT_DEVICE_REMOVED);
		CHECK(log.data[0] == (void *)m && log.data[1] == (void *)m);
	}
	pthread_mutex_unlock(&log.lock);
	pthread_mutex_destroy(&log.lock);

	/* and the UUID can be used again */
	CHECK_EQ(mdev_device_create(f->type, &u, NULL), 0);
	if (CHECK_EQ(mdev_device_get_by_uuid(&u, &found), 0)) {
		CHECK_EQ(mdev_device_remove(found), 0);
		mdev_device_put(found);
	}
}

NULL_TEST(create_store_input_rules)
{
	char text[UUID_STRING_SIZE], upper[UUID_STRING_SIZE], line[UUID_STRING_SIZE + 1];
	guid_t u1 = make_uuid(0xabcdef, text), u2;
	struct mdev_device *m;
	struct vfio_device *vdev;

	/* 36 bytes, or 37 with anything as the 37th */
	snprintf(line, sizeof(line), "%s\n", text);
	CHECK_EQ(mdev_type_create_store(f->type, line, 37), 37);
	CHECK_EQ(mdev_type_create_store(f->type, line, 37), -EEXIST);
	/* upper case names the same UUID; the device is named in lower case */
	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = (char)(text[i] >= 'a' && text[i] <= 'f' ? text[i] - 'a' + 'A' : text[i]);
	CHECK_EQ(mdev_type_create_store(f->type, upper, 36), -EEXIST);
	make_uuid(0xabcdee, text);
	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = (char)(text[i] >= 'a' && text[i] <= 'f' ? text[i] - 'a' + 'A' : text[i]);
	CHECK_EQ(mdev_type_create_store(f->type, upper, 36), 36);
	if (CHECK_EQ(vfio_device_get_from_name(text, &vdev), 0))
		vfio_put_device(vdev);
	CHECK_EQ(vfio_device_get_from_name(upper, &vdev), -ENODEV);

	/* what the kernel rejects */
	CHECK_EQ(mdev_type_create_store(f->type, line, 35), -EINVAL);
	CHECK_EQ(mdev_type_create_store(f->type, "6e756c6c-0000-4000-8000-000000abcdef\n\n", 38),
		 -EINVAL);
	CHECK_EQ(mdev_type_create_store(f->type, "6e756c6c-0000-4000-8000-00000000000g", 36),
		 -EINVAL);
	CHECK_EQ(mdev_type_create_store(f->type, "{e756c6c-0000-4000-8000-00000000000}", 36),
		 -EINVAL);
	CHECK_EQ(mdev_type_create_store(f->type, "", 0), -EINVAL);
	CHECK_EQ(mdev_type_create_store(f->type, NULL, 36), -EINVAL);

	u2 = make_uuid(0xabcdee, NULL);
	if (CHECK_EQ(mdev_device_get_by_uuid(&u1, &m), 0)) {
		CHECK_EQ(mdev_device_remove_store(m, "1\n", 2), 2);
		mdev_device_put(m);
	}
	if (CHECK_EQ(mdev_device_get_by_uuid(&u2, &m), 0)) {
		CHECK_EQ(mdev_device_remove(m), 0);
		mdev_device_put(m);
	}
	CHECK_EQ(available(f->type), NULL_MAX_INSTANCES);
}

NULL_TEST(remove_store_input_rules)
{
	char text[UUID_STRING_SIZE];
	guid_t u = make_uuid(7, text);
	struct mdev_device *m;

	REQUIRE_EQ(mdev_device_create(f->type, &u, &m), 0);
	/* 0 does nothing; bad numbers are refused */
	CHECK_EQ(mdev_device_remove_store(m, "0", 1), 1);
	CHECK_EQ(mdev_device_remove_store(m, "0x0\n", 4), 4);
	CHECK(mdev_device_is_active(m));
	CHECK_EQ(mdev_device_remove_store(m, "yes", 3), -EINVAL);
	CHECK_EQ(mdev_device_remove_store(m, "-1", 2), -EINVAL);
	CHECK_EQ(mdev_device_remove_store(m, "", 0), -EINVAL);
	CHECK_EQ(mdev_device_remove_store(m, " 1", 2), -EINVAL);
	CHECK(mdev_device_is_active(m));
	CHECK_EQ(available(f->type), NULL_MAX_INSTANCES - 1);
	/* any other number removes */
	CHECK_EQ(mdev_device_remove_store(m, "0x10\n", 5), 5);
	CHECK(!mdev_device_is_active(m));
	CHECK_EQ(mdev_device_remove_store(m, "1", 1), -ENODEV);
	CHECK_EQ(mdev_device_remove_store(m, "0", 1), 1);
	CHECK_EQ(available(f->type), NULL_MAX_INSTANCES);
	mdev_device_put(m);
}

/* ---- attributes ---- */

NULL_TEST(type_attributes)
{
	static const char *const names[] = { "name", "device_api", "available_instances",
					     "description" };
	const struct attribute_group *g = mtype_get_group(f->type);
	char buf[UMDEV_ATTR_BUF_SIZE], line[UUID_STRING_SIZE + 1];
	struct mdev_device *m;
	size_t count = 0;

	REQUIRE(g && g->attrs);
	for (struct attribute **a = g->attrs; *a; a++)
		count++;
	CHECK_EQ(count, 4);
	for (size_t i = 0; i < 4; i++) {
		struct attribute *a = find_attr(g, names[i]);

		if (!CHECK(a)) {
			tap_diag("no type attribute %s", names[i]);
			continue;
		}
		CHECK_EQ(a->mode, 0444);
		/* read-only: a write gets -EIO */
		CHECK_EQ(mdev_type_attr_store(f->type, a, "1", 1), -EIO);
	}
	CHECK_STR(type_attr(f->type, "name", buf), "Null PCI device\n");
	CHECK_STR(type_attr(f->type, "device_api", buf), "vfio-pci\n");
	CHECK_STR(type_attr(f->type, "available_instances", buf), "65536\n");
	CHECK_STR(type_attr(f->type, "description", buf),
		  "4 KiB memory BAR, no interrupts, no DMA\n");

	/* available_instances goes down by one per device and back up on removal */
	for (unsigned int i = 0; i < 3; i++) {
		char text[UUID_STRING_SIZE];

		make_uuid(100 + i, text);
		snprintf(line, sizeof(line), "%s\n", text);
		CHECK_EQ(mdev_type_create_store(f->type, line, 37), 37);
		CHECK_EQ(available(f->type), NULL_MAX_INSTANCES - 1 - (long)i);
	}
	/* a failed create does not count */
	CHECK_EQ(mdev_type_create_store(f->type, line, 37), -EEXIST);
	CHECK_EQ(available(f->type), NULL_MAX_INSTANCES - 3);
	for (unsigned int i = 0; i < 3; i++) {
		guid_t u = make_uuid(100 + i, NULL);

		if (!CHECK_EQ(mdev_device_get_by_uuid(&u, &m), 0))
			continue;
		CHECK_EQ(mdev_device_remove_store(m, "1", 1), 1);
		mdev_device_put(m);
		CHECK_EQ(available(f->type), NULL_MAX_INSTANCES - 2 + (long)i);
	}
	CHECK_STR(type_attr(f->type, "available_instances", buf), "65536\n");
}

NULL_TEST(parent_attribute)
{
	const struct mdev_parent_ops *ops = mdev_parent_get_ops(f->parent);
	struct device *pdev = mdev_parent_device(f->parent);
	char buf[UMDEV_ATTR_BUF_SIZE];
	const struct attribute_group *g;
	struct attribute *a;
	ssize_t n;

	REQUIRE(ops && ops->dev_attr_groups);
	g = ops->dev_attr_groups[0];
	REQUIRE(g);
	CHECK(ops->dev_attr_groups[1] == NULL);
	CHECK_STR(g->name, "null_dev");
	a = find_attr(g, "description");
	REQUIRE(a);
	CHECK(g->attrs[1] == NULL);
	CHECK_EQ(a->mode, 0444);
	memset(buf, 0, sizeof(buf));
	n = mdev_dev_attr_show(pdev, a, buf);
	CHECK_STR(buf, "umdev null parent device\n");
	CHECK_EQ(n, strlen("umdev null parent device\n"));
	CHECK_EQ(mdev_dev_attr_store(pdev, a, "x", 1), -EIO);
}

NULL_TEST(device_attribute)
{
	const struct mdev_parent_ops *ops = mdev_parent_get_ops(f->parent);
	char buf[UMDEV_ATTR_BUF_SIZE];
	const struct attribute_group *g;
	struct mdev_device *m;
	struct attribute *a;
	guid_t u = make_uuid(9, NULL);

	REQUIRE(ops && ops->mdev_attr_groups);
	g = ops->mdev_attr_groups[0];
	REQUIRE(g);
	CHECK(ops->mdev_attr_groups[1] == NULL);
	CHECK_STR(g->name, "vendor");
	a = find_attr(g, "scratch_bytes");
	REQUIRE(a);
	CHECK(g->attrs[1] == NULL);
	CHECK_EQ(a->mode, 0444);
	REQUIRE_EQ(mdev_device_create(f->type, &u, &m), 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(mdev_dev_attr_show(mdev_dev(m), a, buf), 5);
	CHECK_STR(buf, "4096\n");
	CHECK_EQ(mdev_dev_attr_store(mdev_dev(m), a, "1", 1), -EIO);
	CHECK_EQ(mdev_device_remove(m), 0);
	mdev_device_put(m);
}
