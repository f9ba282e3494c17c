/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty's management side: the parent and its attribute, the two types and their
 * attributes with the kernel's exact text (kernel-mtty-ground-truth.md), the shared pool of
 * 24 ports (available_instances, ENOSPC, ports returned on removal, concurrent creates that
 * never overdraw it), the device's vendor attributes, and the driver's parameters.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mtty_fixture.h"

static char buf[UMDEV_ATTR_BUF_SIZE + 1];

MTTY_TEST(parent_and_types)
{
	struct device *parent = mdev_parent_device(f->parent);

	CHECK_STR(dev_name(parent), "mtty");
	CHECK_STR(dev_driver_string(parent), "mtty");
	CHECK_EQ(mdev_parent_num_types(f->parent), 2);
	CHECK_STR(mtype_get_name(f->type[0]), "mtty-1");
	CHECK_STR(mtype_get_name(f->type[1]), "mtty-2");
	CHECK_EQ(parent_attr_show(f, "sample_mtty_dev", buf), 19);
	CHECK_STR(buf, "This is phy device\n");

	CHECK_EQ(type_attr_show(f->type[0], "name", buf), 19);
	CHECK_STR(buf, "Single port serial\n");
	CHECK_EQ(type_attr_show(f->type[1], "name", buf), 17);
	CHECK_STR(buf, "Dual port serial\n");
	for (unsigned int t = 0; t < 2; t++) {
		CHECK_EQ(type_attr_show(f->type[t], "device_api", buf), 9);
		CHECK_STR(buf, "vfio-pci\n");
		/* no description, as in the kernel */
		CHECK_EQ(type_attr_show(f->type[t], "description", buf), -ENOENT);
	}
	CHECK_EQ(type_attr_show(f->type[0], "available_instances", buf), 3);
	CHECK_STR(buf, "24\n");
	CHECK_EQ(type_attr_show(f->type[1], "available_instances", buf), 3);
	CHECK_STR(buf, "12\n");
}

MTTY_TEST(vendor_attributes)
{
	struct dev d1, d2;

	REQUIRE(dev_create(f, 1, 1, &d1));
	REQUIRE(dev_create(f, 2, 2, &d2));
	CHECK_EQ(dev_attr_show(f, &d2, "sample_mdev_dev", buf), 50);
	CHECK_STR(buf, "This is MDEV 6d747479-0000-4000-8000-000000000002\n");
	CHECK_EQ(dev_attr_show(f, &d2, "port0_backend", buf), 9);
	CHECK_STR(buf, "loopback\n");
	CHECK_EQ(dev_attr_show(f, &d2, "port1_backend", buf), 9);
	CHECK_STR(buf, "loopback\n");
	CHECK_EQ(dev_attr_show(f, &d2, "port0_pty", buf), 0); /* not a pty: empty */
	/* an mtty-1 device has no port 1 */
	CHECK_EQ(dev_attr_show(f, &d1, "port0_backend", buf), 9);
	CHECK_EQ(dev_attr_show(f, &d1, "port1_backend", buf), -ENODEV);
	CHECK_EQ(dev_attr_show(f, &d1, "port1_pty", buf), -ENODEV);
	CHECK_EQ(dev_attr_store(f, &d1, "port1_backend", "loopback"), -ENODEV);
	dev_destroy(&d1);
	dev_destroy(&d2);
}

MTTY_TEST(pool_accounting)
{
	struct mdev_device *m[25];
	unsigned int n = 0;

	/* the kernel's ground truth: one mtty-2 leaves 22 and 11 */
	REQUIRE_EQ(dev_create_raw(f, 2, 100, &m[n++]), 0);
	CHECK_EQ(type_attr_show(f->type[0], "available_instances", buf), 3);
	CHECK_STR(buf, "22\n");
	CHECK_EQ(type_attr_show(f->type[1], "available_instances", buf), 3);
	CHECK_STR(buf, "11\n");
	/* 21 more single ports leave one: no dual port fits any more */
	for (unsigned int i = 0; i < 21; i++)
		REQUIRE_EQ(dev_create_raw(f, 1, 101 + i, &m[n++]), 0);
	CHECK_EQ(type_attr_show(f->type[0], "available_instances", buf), 2);
	CHECK_STR(buf, "1\n");
	CHECK_EQ(type_attr_show(f->type[1], "available_instances", buf), 2);
	CHECK_STR(buf, "0\n");
	CHECK_EQ(dev_create_raw(f, 2, 200, NULL), -ENOSPC);
	REQUIRE_EQ(dev_create_raw(f, 1, 122, &m[n++]), 0);
	CHECK_EQ(dev_create_raw(f, 1, 201, NULL), -ENOSPC);
	CHECK_EQ(type_attr_show(f->type[0], "available_instances", buf), 2);
	CHECK_STR(buf, "0\n");
	/* a failed create leaves its UUID free */
	CHECK_EQ(dev_create_raw(f, 1, 201, NULL), -ENOSPC);

	/* removal returns the ports */
	CHECK_EQ(mdev_device_remove(m[0]), 0);
	CHECK_EQ(type_attr_show(f->type[1], "available_instances", buf), 2);
	CHECK_STR(buf, "1\n");
	for (unsigned int i = 1; i < n; i++)
		CHECK_EQ(mdev_device_remove(m[i]), 0);
	CHECK_EQ(type_attr_show(f->type[0], "available_instances", buf), 3);
	CHECK_STR(buf, "24\n");
	for (unsigned int i = 0; i < n; i++)
		mdev_device_put(m[i]);
}

/* ---- concurrent creates ---- */

#define RACERS 8
#define RACER_TRIES 6

struct racer {
	struct fixture *f;
	unsigned int id;
	unsigned int created;
	struct mdev_device *m[RACER_TRIES];
};

static void *race_creates(void *arg)
{
	struct racer *r = arg;

	for (unsigned int i = 0; i < RACER_TRIES; i++) {
		struct mdev_device *m;
		int ret = dev_create_raw(r->f, 2, 1000 + r->id * RACER_TRIES + i, &m);

		if (!ret)
			r->m[r->created++] = m;
		else if (ret != -ENOSPC)
			tap_diag("racer %u: unexpected %d", r->id, ret);
	}
	return NULL;
}

MTTY_TEST(concurrent_creates_share_the_pool)
{
	struct racer r[RACERS];
	pthread_t t[RACERS];
	unsigned int total = 0;

	for (unsigned int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ .f = f, .id = i };
		REQUIRE_EQ(pthread_create(&t[i], NULL, race_creates, &r[i]), 0);
	}
	for (unsigned int i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		total += r[i].created;
	}
	/* 48 attempts at two ports each: exactly the pool's 12 succeed */
	CHECK_EQ(total, MTTY_POOL_PORTS / 2);
	CHECK_EQ(type_attr_show(f->type[0], "available_instances", buf), 2);
	CHECK_STR(buf, "0\n");
	for (unsigned int i = 0; i < RACERS; i++) {
		for (unsigned int k = 0; k < r[i].created; k++) {
			CHECK_EQ(mdev_device_remove(r[i].m[k]), 0);
			mdev_device_put(r[i].m[k]);
		}
	}
	CHECK_EQ(type_attr_show(f->type[1], "available_instances", buf), 3);
	CHECK_STR(buf, "12\n");
}

/* ---- the driver's parameters ---- */

TEST(parameters_give_new_devices_a_backend)
{
	struct fixture fx;
	struct dev d;

	setenv(MTTY_ENV_PORT1_BACKEND, "pty", 1);
	if (setup(&fx)) {
		if (dev_create(&fx, 2, 1, &d)) {
			CHECK_EQ(dev_attr_show(&fx, &d, "port0_backend", buf), 9);
			CHECK_STR(buf, "loopback\n");
			CHECK_EQ(dev_attr_show(&fx, &d, "port1_backend", buf), 4);
			CHECK_STR(buf, "pty\n");
			CHECK(dev_attr_show(&fx, &d, "port1_pty", buf) > 0);
			CHECK(!strncmp(buf, "/dev/pts/", 9));
		}
		dev_destroy(&d);
		teardown(&fx);
	}
	unsetenv(MTTY_ENV_PORT1_BACKEND);
}

TEST(parameters_are_checked)
{
	struct fixture fx;

	setenv(MTTY_ENV_PORT0_BACKEND, "tcp:localhost:23", 1);
	CHECK_EQ(MOD->init(), -EINVAL);
	/* a backend that cannot be opened fails the create, and gives the ports back */
	setenv(MTTY_ENV_PORT0_BACKEND, "unix:/nonexistent/mtty-test.sock", 1);
	if (setup(&fx)) {
		CHECK_EQ(dev_create_raw(&fx, 1, 1, NULL), -ENOENT);
		CHECK_EQ(type_attr_show(fx.type[0], "available_instances", buf), 3);
		CHECK_STR(buf, "24\n");
		/* the parameters are read when the driver starts, not at each create */
		unsetenv(MTTY_ENV_PORT0_BACKEND);
		CHECK_EQ(dev_create_raw(&fx, 1, 1, NULL), -ENOENT);
		teardown(&fx);
	}
	unsetenv(MTTY_ENV_PORT0_BACKEND);
}
