/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the mdev core's life cycle rules (kernel-mdev-semantics.md sections 1-2): parent
 * registration and type names, the `create` and `remove` input rules, the global UUID
 * reservation (EEXIST across parents, held until the last reference), EAGAIN in the
 * transition windows, no per-parent serialisation, removal of an open device, and parent
 * unregistration.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <umdev/vfio_device_fd.h>

#include "tap.h"
#include "test_parent.h"
#include "vfio/vfio_private.h"
#include "waitpoint.h"

#define U1 "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define U1_UPPER "83B8F4F2-509F-382F-3C1E-E6BFE0FA1001"
#define U2 "0d3a9a2e-2c51-4a3b-9f0e-6d2c1b0a9e8f"

static struct mdev_device *get(const char *uuid)
{
	guid_t u = tp_uuid(uuid);
	struct mdev_device *m;

	return mdev_device_get_by_uuid(&u, &m) ? NULL : m;
}

static int create(struct test_parent *tp, unsigned int type, const char *uuid)
{
	guid_t u = tp_uuid(uuid);

	return mdev_device_create(tp_type(tp, type), &u, NULL);
}

static int remove_uuid(const char *uuid)
{
	struct mdev_device *m = get(uuid);
	int ret;

	if (!m)
		return -ENODEV;
	ret = mdev_device_remove(m);
	mdev_device_put(m);
	return ret;
}

TEST(register_rejects_bad_parents)
{
	struct test_parent tp, other;
	struct attribute_group nameless = { NULL, NULL }, slash = { "a/b", NULL };
	struct attribute_group *bad_groups[] = { &nameless, NULL };

	tp_init(&tp, "tp", "tp", 2, NULL, false, false);
	CHECK_EQ(mdev_register_device(NULL, &tp.ops), -EINVAL);
	CHECK_EQ(mdev_register_device(&tp.dev, NULL), -EINVAL);
	tp.ops.create = NULL;
	CHECK_EQ(tp_register(&tp), -EINVAL);
	tp_fini(&tp);

	tp_init(&tp, "tp", "tp", 2, NULL, false, false);
	tp.ops.supported_type_groups = bad_groups;
	CHECK_EQ(tp_register(&tp), -EINVAL);
	bad_groups[0] = &slash;
	CHECK_EQ(tp_register(&tp), -EINVAL);
	tp_fini(&tp);

	/* two types of the same name */
	static const char *const twice[] = { "x", "x" };
	tp_init(&tp, "tp", "tp", 2, twice, false, false);
	CHECK_EQ(tp_register(&tp), -EEXIST);
	tp_fini(&tp);

	tp_init(&tp, "tp", "tp", 2, NULL, false, false);
	CHECK_EQ(tp_register(&tp), 0);
	CHECK_EQ(tp_register(&tp), -EEXIST);
	tp_init(&other, "tp", "other", 1, NULL, false, false); /* same name, other device */
	CHECK_EQ(tp_register(&other), -EEXIST);
	tp_fini(&other);
	tp_unregister(&tp);
	tp_unregister(&tp); /* not registered any more: ignored */
	tp_fini(&tp);
}

TEST(type_names_use_the_driver_string)
{
	struct test_parent a, b;
	struct mdev_parent *p;

	tp_init(&a, "card0", "vgpu", 2, NULL, false, false); /* class only: "vgpu-1" */
	tp_init(&b, "0000:00:02.0", "drm", 1, NULL, false, false);
	b.dev.bus_name = "pci"; /* a bus wins over the class */
	REQUIRE_EQ(tp_register(&a), 0);
	REQUIRE_EQ(tp_register(&b), 0);
	CHECK_STR(mtype_get_name(tp_type(&a, 0)), "vgpu-1");
	CHECK_STR(mtype_get_name(tp_type(&a, 1)), "vgpu-2");
	CHECK_STR(mtype_get_name(tp_type(&b, 0)), "pci-1");
	CHECK(tp_type(&a, 2) == NULL);
	REQUIRE_EQ(mdev_parent_get_by_name("card0", &p), 0);
	CHECK(mdev_parent_find_type(p, "vgpu-2") == tp_type(&a, 1));
	CHECK(mdev_parent_find_type(p, "vgpu-3") == NULL);
	CHECK_EQ(mdev_parent_num_types(p), 2);
	CHECK(mdev_parent_is_registered(p));
	tp_unregister(&a);
	CHECK(!mdev_parent_is_registered(p)); /* the reference keeps the structure */
	CHECK_STR(mtype_get_name(mdev_parent_type(p, 0)), "vgpu-1");
	mdev_parent_put(p);
	CHECK_EQ(mdev_parent_get_by_name("card0", &p), -ENODEV);
	tp_unregister(&b);
	tp_fini(&a);
	tp_fini(&b);
}

TEST(create_input_rules)
{
	struct test_parent tp;
	struct mdev_type *t;
	char buf[64];

	tp_init(&tp, "tp", "tp", 1, NULL, false, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	t = tp_type(&tp, 0);

	CHECK_EQ(mdev_type_create_store(t, U1, 35), -EINVAL);
	CHECK_EQ(mdev_type_create_store(t, U1 "\n\n", 38), -EINVAL);
	CHECK_EQ(mdev_type_create_store(t, "{" U1 "}", 38), -EINVAL);
	CHECK_EQ(mdev_type_create_store(t, " 83b8f4f2-509f-382f-3c1e-e6bfe0fa100", 36), -EINVAL);
	CHECK_EQ(mdev_type_create_store(t, "83b8f4f2-509f-382f-3c1e-e6bfe0fa100z", 36), -EINVAL);
	CHECK_EQ(atomic_load(&tp.creates), 0);

	/* 36 bytes; 37 with any last byte, even a letter or a NUL */
	CHECK_EQ(mdev_type_create_store(t, U1, 36), 36);
	CHECK_EQ(remove_uuid(U1), 0);
	CHECK_EQ(mdev_type_create_store(t, U1 "\n", 37), 37);
	CHECK_EQ(remove_uuid(U1), 0);
	CHECK_EQ(mdev_type_create_store(t, U1 "x", 37), 37);
	CHECK_EQ(remove_uuid(U1), 0);
	memcpy(buf, U1, 36);
	buf[36] = '\0';
	CHECK_EQ(mdev_type_create_store(t, buf, 37), 37);

	/* upper case creates the canonical lower-case device and collides with it */
	CHECK_EQ(mdev_type_create_store(t, U1_UPPER, 36), -EEXIST);
	struct mdev_device *m = get(U1_UPPER);
	REQUIRE(m);
	CHECK_STR(dev_name(mdev_dev(m)), U1);
	mdev_device_put(m);
	CHECK_EQ(remove_uuid(U1), 0);
	CHECK_EQ(mdev_type_create_store(t, U1_UPPER "\n", 37), 37);
	m = get(U1);
	REQUIRE(m);
	CHECK_STR(dev_name(mdev_dev(m)), U1);
	CHECK_STR(dev_driver_string(mdev_dev(m)), "vfio_mdev");
	mdev_device_put(m);

	tp_unregister(&tp);
	CHECK_EQ(atomic_load(&tp.live), 0);
	tp_fini(&tp);
}

TEST(remove_input_rules)
{
	static const char *const bad[] = { "-1", " 1", "yes", "", "1 ", "0x", "1\n\n" };
	struct test_parent tp;
	struct mdev_device *m;

	tp_init(&tp, "tp", "tp", 1, NULL, false, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	REQUIRE_EQ(create(&tp, 0, U1), 0);
	m = get(U1);
	REQUIRE(m);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(mdev_device_remove_store(m, bad[i], strlen(bad[i])), -EINVAL);
	CHECK_EQ(mdev_device_remove_store(m, "0", 1), 1);
	CHECK_EQ(mdev_device_remove_store(m, "0\n", 2), 2);
	CHECK(mdev_device_is_active(m));
	CHECK_EQ(mdev_device_remove_store(m, "0x10\n", 5), 5);
	CHECK(!mdev_device_is_active(m));
	CHECK_EQ(atomic_load(&tp.removes), 1);
	/* removed already: the held reference keeps the structure, remove says ENODEV */
	CHECK_EQ(mdev_device_remove_store(m, "1", 1), -ENODEV);
	mdev_device_put(m);

	REQUIRE_EQ(create(&tp, 0, U1), 0);
	m = get(U1);
	REQUIRE(m);
	CHECK_EQ(mdev_device_remove_store(m, "2", 1), 1);
	mdev_device_put(m);
	CHECK(get(U1) == NULL);
	tp_unregister(&tp);
	tp_fini(&tp);
}

TEST(uuid_is_global_across_parents)
{
	struct test_parent a, b;

	tp_init(&a, "pa", "pa", 1, NULL, false, false);
	tp_init(&b, "pb", "pb", 2, NULL, false, false);
	REQUIRE_EQ(tp_register(&a), 0);
	REQUIRE_EQ(tp_register(&b), 0);
	CHECK_EQ(create(&a, 0, U1), 0);
	CHECK_EQ(create(&b, 1, U1), -EEXIST);
	CHECK_EQ(create(&b, 0, U1_UPPER), -EEXIST);
	CHECK_EQ(create(&a, 0, U1), -EEXIST);
	CHECK_EQ(atomic_load(&b.creates), 0); /* refused before the vendor is asked */
	CHECK_EQ(create(&b, 0, U2), 0);
	CHECK_EQ(remove_uuid(U1), 0);
	CHECK_EQ(create(&b, 1, U1), 0);
	CHECK_EQ(atomic_load(&b.live), 2);
	tp_unregister(&a);
	tp_unregister(&b);
	CHECK_EQ(atomic_load(&b.live), 0);
	CHECK_EQ(tp_live_uuids(), 0);
	tp_fini(&a);
	tp_fini(&b);
}

TEST(uuid_stays_reserved_until_the_last_reference)
{
	struct test_parent tp;
	struct mdev_device *held;

	tp_init(&tp, "tp", "tp", 1, NULL, false, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	REQUIRE_EQ(create(&tp, 0, U1), 0);
	held = get(U1);
	REQUIRE(held);
	CHECK_EQ(mdev_device_remove(held), 0);
	CHECK_EQ(atomic_load(&tp.removes), 1);
	CHECK_EQ(create(&tp, 0, U1), -EEXIST);
	CHECK_EQ(mdev_device_remove(held), -ENODEV);
	mdev_device_put(held);
	CHECK_EQ(create(&tp, 0, U1), 0);
	tp_unregister(&tp);
	tp_fini(&tp);
}

struct in_flight {
	struct waitpoint wp;
	struct test_parent *tp;
	const char *uuid;
	int ret;
};

static void hold_hook(struct test_parent *tp, struct mdev_device *mdev, unsigned int count)
{
	(void)mdev;
	(void)count;
	wp_arrive(&((struct in_flight *)tp->hook_data)->wp);
}

static void *create_thread(void *arg)
{
	struct in_flight *f = arg;

	f->ret = create(f->tp, 0, f->uuid);
	return NULL;
}

static void *remove_thread(void *arg)
{
	struct in_flight *f = arg;

	f->ret = remove_uuid(f->uuid);
	return NULL;
}

TEST(eagain_while_being_created_and_removed)
{
	struct test_parent tp, other;
	struct in_flight f = { .uuid = U1 };
	pthread_t t;

	tp_init(&tp, "tp", "tp", 1, NULL, false, false);
	tp_init(&other, "other", "other", 1, NULL, false, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	REQUIRE_EQ(tp_register(&other), 0);
	f.tp = &tp;
	tp.hook_data = &f;

	/* held inside the vendor's create: the UUID is reserved, remove says EAGAIN */
	wp_init(&f.wp);
	tp.create_hook = hold_hook;
	pthread_create(&t, NULL, create_thread, &f);
	CHECK(wp_wait_arrived(&f.wp, 1));
	CHECK_EQ(remove_uuid(U1), -EAGAIN);
	CHECK_EQ(create(&other, 0, U1), -EEXIST);
	struct mdev_device *m = get(U1);
	CHECK(m && !mdev_device_is_active(m));
	/* the vendor's attributes wait for the end of create() */
	char abuf[UMDEV_ATTR_BUF_SIZE];

	if (m)
		CHECK_EQ(mdev_dev_attr_show(mdev_dev(m), tp.ops.mdev_attr_groups[0]->attrs[0], abuf),
			 -ENODEV);
	mdev_device_put(m);
	wp_release(&f.wp);
	pthread_join(t, NULL);
	CHECK_EQ(f.ret, 0);
	tp.create_hook = NULL;
	wp_destroy(&f.wp);

	/* held inside the vendor's remove: EAGAIN again, still reserved, then gone */
	wp_init(&f.wp);
	tp.remove_hook = hold_hook;
	pthread_create(&t, NULL, remove_thread, &f);
	CHECK(wp_wait_arrived(&f.wp, 1));
	CHECK_EQ(remove_uuid(U1), -EAGAIN);
	CHECK_EQ(create(&other, 0, U1), -EEXIST);
	wp_release(&f.wp);
	pthread_join(t, NULL);
	CHECK_EQ(f.ret, 0);
	tp.remove_hook = NULL;
	wp_destroy(&f.wp);
	CHECK(get(U1) == NULL);
	CHECK_EQ(create(&other, 0, U1), 0);

	tp_unregister(&tp);
	tp_unregister(&other);
	tp_fini(&tp);
	tp_fini(&other);
}

TEST(creates_of_one_parent_are_not_serialised)
{
	struct test_parent tp;
	struct in_flight f = { .uuid = U1 };
	pthread_t t;

	tp_init(&tp, "tp", "tp", 1, NULL, false, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	f.tp = &tp;
	tp.hook_data = &f;
	wp_init(&f.wp);
	tp.create_hook = hold_hook;
	pthread_create(&t, NULL, create_thread, &f);
	CHECK(wp_wait_arrived(&f.wp, 1));
	/* with the first create held inside the vendor, a second one runs to the same point */
	tp.create_hook = NULL;
	CHECK_EQ(create(&tp, 0, U2), 0);
	CHECK_EQ(remove_uuid(U2), 0);
	wp_release(&f.wp);
	pthread_join(t, NULL);
	CHECK_EQ(f.ret, 0);
	wp_destroy(&f.wp);
	tp_unregister(&tp);
	tp_fini(&tp);
}

struct open_client {
	struct waitpoint wp; /* reached when request() is called */
	struct vfio_device *vdev;
	atomic_int removes_at_request;
	atomic_int releases_at_request;
	atomic_uint max_count;
};

static void request_hook(struct test_parent *tp, struct mdev_device *mdev, unsigned int count)
{
	struct open_client *c = tp->hook_data;

	(void)mdev;
	if (count > atomic_load(&c->max_count))
		atomic_store(&c->max_count, count);
	if (count == 0) {
		atomic_store(&c->removes_at_request, atomic_load(&tp->removes));
		atomic_store(&c->releases_at_request, atomic_load(&tp->releases));
		pthread_mutex_lock(&c->wp.lock);
		c->wp.arrived++;
		pthread_cond_broadcast(&c->wp.cond);
		pthread_mutex_unlock(&c->wp.lock);
	}
}

TEST(removing_an_open_device_waits_for_the_client)
{
	struct test_parent tp;
	struct open_client c = { 0 };
	struct in_flight f = { .uuid = U1 };
	struct mdev_device *m;
	pthread_t t;

	vfio_set_request_interval_ms(20);
	tp_init(&tp, "tp", "tp", 1, NULL, true, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	REQUIRE_EQ(create(&tp, 0, U1), 0);
	m = get(U1);
	REQUIRE(m);
	c.vdev = mdev_vfio_device(m);
	REQUIRE(c.vdev);
	REQUIRE_EQ(vfio_device_open(c.vdev, NULL), 0);
	CHECK_EQ(atomic_load(&tp.opens), 1);

	wp_init(&c.wp);
	tp.hook_data = &c;
	tp.request_hook = request_hook;
	f.tp = &tp;
	pthread_create(&t, NULL, remove_thread, &f);
	CHECK(wp_wait_arrived(&c.wp, 1));
	/* the client still has it: nothing has been freed under it */
	CHECK_EQ(atomic_load(&c.removes_at_request), 0);
	CHECK_EQ(atomic_load(&c.releases_at_request), 0);
	CHECK(!mdev_device_is_active(m));
	CHECK_EQ(remove_uuid(U1), -EAGAIN);
	/* let a few request intervals pass: request() is repeated with a growing count */
	while (atomic_load(&c.max_count) < 2)
		sched_yield();
	CHECK_EQ(atomic_load(&tp.removes), 0);
	vfio_device_close(c.vdev);
	pthread_join(t, NULL);
	CHECK_EQ(f.ret, 0);
	CHECK_EQ(atomic_load(&tp.releases), 1);
	CHECK_EQ(atomic_load(&tp.removes), 1);
	CHECK(atomic_load(&tp.requests) >= 3);
	mdev_device_put(m);
	wp_destroy(&c.wp);
	tp_unregister(&tp);
	tp_fini(&tp);
	vfio_set_request_interval_ms(10000);
}

static struct attribute *owner_attr(struct test_parent *tp)
{
	return tp->ops.mdev_attr_groups[0]->attrs[0];
}

struct attr_reader {
	struct mdev_device *mdev;
	struct test_parent *tp;
	char buf[UMDEV_ATTR_BUF_SIZE];
	ssize_t ret;
};

static void *attr_thread(void *arg)
{
	struct attr_reader *r = arg;

	r->ret = mdev_dev_attr_show(mdev_dev(r->mdev), owner_attr(r->tp), r->buf);
	return NULL;
}

TEST(removal_waits_for_attribute_callbacks)
{
	struct test_parent tp;
	struct in_flight f = { .uuid = U1 };
	struct attr_reader r = { 0 };
	pthread_t reader, remover;
	char buf[UMDEV_ATTR_BUF_SIZE];

	tp_init(&tp, "tp", "tp", 1, NULL, false, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	REQUIRE_EQ(create(&tp, 0, U1), 0);
	r.mdev = get(U1);
	r.tp = &tp;
	REQUIRE(r.mdev);
	CHECK_EQ(mdev_dev_attr_show(mdev_dev(r.mdev), owner_attr(&tp), buf), 3);

	/* a show() is inside the vendor's attribute when the removal starts */
	wp_init(&f.wp);
	f.tp = &tp;
	tp.hook_data = &f;
	tp.attr_hook = hold_hook;
	pthread_create(&reader, NULL, attr_thread, &r);
	CHECK(wp_wait_arrived(&f.wp, 1));
	pthread_create(&remover, NULL, remove_thread, &f);
	/* the removal has begun (the device is no longer active) but waits for the reader */
	while (mdev_device_is_active(r.mdev))
		sched_yield();
	CHECK_EQ(mdev_dev_attr_show(mdev_dev(r.mdev), owner_attr(&tp), buf), -ENODEV);
	CHECK_EQ(atomic_load(&tp.removes), 0);
	wp_release(&f.wp);
	pthread_join(reader, NULL);
	pthread_join(remover, NULL);
	CHECK_EQ(r.ret, 3);
	CHECK(!strncmp(r.buf, "tp\n", 3));
	CHECK_EQ(f.ret, 0);
	CHECK_EQ(atomic_load(&tp.removes), 1);
	CHECK_EQ(mdev_dev_attr_show(mdev_dev(r.mdev), owner_attr(&tp), buf), -ENODEV);
	mdev_device_put(r.mdev);
	wp_destroy(&f.wp);
	tp_unregister(&tp);
	tp_fini(&tp);
}

static void *unregister_thread(void *arg)
{
	tp_unregister(arg);
	return NULL;
}

TEST(unregistering_a_parent_removes_its_devices)
{
	static const char *const uuids[] = { U1, U2, "11111111-2222-3333-4444-555555555555" };
	struct test_parent tp;
	struct open_client c = { 0 };
	struct mdev_parent *parent;
	struct mdev_device *m;
	guid_t late = tp_uuid("99999999-2222-3333-4444-555555555555");
	pthread_t t;

	vfio_set_request_interval_ms(20);
	tp_init(&tp, "tp", "tp", 2, NULL, true, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	REQUIRE_EQ(mdev_parent_get_by_name("tp", &parent), 0);
	for (int i = 0; i < 3; i++)
		REQUIRE_EQ(create(&tp, (unsigned int)i % 2, uuids[i]), 0);
	m = get(U2);
	REQUIRE(m);
	c.vdev = mdev_vfio_device(m);
	REQUIRE_EQ(vfio_device_open(c.vdev, NULL), 0);
	wp_init(&c.wp);
	tp.hook_data = &c;
	tp.request_hook = request_hook;

	pthread_create(&t, NULL, unregister_thread, &tp);
	CHECK(wp_wait_arrived(&c.wp, 1));
	/* unregistering: creates and removes on the parent fail with ENODEV */
	CHECK(!mdev_parent_is_registered(parent));
	CHECK_EQ(mdev_device_create(mdev_parent_type(parent, 0), &late, NULL), -ENODEV);
	CHECK_EQ(mdev_device_remove(m), -ENODEV);
	vfio_device_close(c.vdev);
	pthread_join(t, NULL);
	CHECK_EQ(atomic_load(&tp.removes), 3);
	CHECK_EQ(atomic_load(&tp.live), 0);
	for (int i = 0; i < 3; i++) {
		struct mdev_device *left = get(uuids[i]);

		/* only the one this test still holds is known, and it is removed */
		CHECK(left == NULL || (left == m && !mdev_device_is_active(left)));
		mdev_device_put(left);
	}
	mdev_device_put(m);
	CHECK(get(U2) == NULL);
	/* after unregistration the held parent refuses creates too */
	CHECK_EQ(mdev_device_create(mdev_parent_type(parent, 0), &late, NULL), -ENODEV);
	mdev_parent_put(parent);
	wp_destroy(&c.wp);
	tp_fini(&tp);
	vfio_set_request_interval_ms(10000);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
