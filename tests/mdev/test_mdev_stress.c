/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Concurrency of the mdev core: 8 threads create and remove devices with UUIDs drawn from a
 * small shared pool, on the types of several parents, for thousands of rounds, while some
 * also open and close the devices they find. Checks, throughout and at the end, that no
 * UUID ever exists twice (the test parents record every live UUID in one set), that every
 * error is one the rules allow (EEXIST, EAGAIN, ENODEV), and that the instance counts
 * balance: every successful create is matched by exactly one remove. Run under TSan by
 * scripts/run-tests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <umdev/vfio_device_fd.h>

#include "tap.h"
#include "test_parent.h"

#define THREADS 8
#define ROUNDS 3000
#define POOL 24
#define PARENTS 3

static struct test_parent parents[PARENTS];
static guid_t pool[POOL];
static atomic_int created, removed, unexpected;

static void count_unexpected(const char *what, int ret)
{
	if (atomic_fetch_add(&unexpected, 1) < 5)
		tap_diag("unexpected %s result %d", what, ret);
}

static void do_create(unsigned int *seed)
{
	struct test_parent *tp = &parents[rand_r(seed) % PARENTS];
	struct mdev_type *t = tp_type(tp, (unsigned int)rand_r(seed) % 2);
	int ret;

	if (!t) {
		count_unexpected("type lookup", -ENOENT);
		return;
	}
	ret = mdev_device_create(t, &pool[rand_r(seed) % POOL], NULL);
	if (ret == 0)
		atomic_fetch_add(&created, 1);
	else if (ret != -EEXIST)
		count_unexpected("create", ret);
}

static void do_remove(unsigned int *seed)
{
	struct mdev_device *m;
	int ret;

	if (mdev_device_get_by_uuid(&pool[rand_r(seed) % POOL], &m))
		return;
	ret = mdev_device_remove(m);
	if (ret == 0)
		atomic_fetch_add(&removed, 1);
	else if (ret != -EAGAIN && ret != -ENODEV)
		count_unexpected("remove", ret);
	mdev_device_put(m);
}

static void do_open_close(unsigned int *seed)
{
	struct vfio_device *vdev;
	char name[40];
	const guid_t *u = &pool[rand_r(seed) % POOL];
	int ret;

	snprintf(name, sizeof(name),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u->b[0],
		 u->b[1], u->b[2], u->b[3], u->b[4], u->b[5], u->b[6], u->b[7], u->b[8], u->b[9],
		 u->b[10], u->b[11], u->b[12], u->b[13], u->b[14], u->b[15]);
	if (vfio_device_get_from_name(name, &vdev))
		return;
	ret = vfio_device_open(vdev, NULL);
	if (ret == 0)
		vfio_device_close(vdev);
	else if (ret != -ENODEV)
		count_unexpected("open", ret);
	vfio_put_device(vdev);
}

static void *worker(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 7919u + 1;

	for (int i = 0; i < ROUNDS; i++) {
		int op = rand_r(&seed) % 8;

		if (op < 4)
			do_create(&seed);
		else if (op < 7)
			do_remove(&seed);
		else
			do_open_close(&seed);
		if (tp_duplicates_seen())
			break;
	}
	return NULL;
}

TEST(concurrent_create_remove_keeps_uuids_unique_and_counts_balanced)
{
	static const char *const names[PARENTS] = { "sa", "sb", "sc" };
	pthread_t threads[THREADS];
	unsigned int seed = 12345;
	int creates = 0, removes = 0;

	for (int i = 0; i < POOL; i++)
		for (int b = 0; b < 16; b++)
			pool[i].b[b] = (uint8_t)rand_r(&seed);
	for (int p = 0; p < PARENTS; p++) {
		tp_init(&parents[p], names[p], names[p], 2, NULL, true, false);
		REQUIRE_EQ(tp_register(&parents[p]), 0);
	}

	for (int t = 0; t < THREADS; t++)
		pthread_create(&threads[t], NULL, worker, (void *)(uintptr_t)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);

	CHECK_EQ(tp_duplicates_seen(), 0);
	CHECK_EQ(atomic_load(&unexpected), 0);
	CHECK(atomic_load(&created) > ROUNDS / 4); /* the pool really was contended */
	tap_diag("%d creates, %d removes succeeded", atomic_load(&created), atomic_load(&removed));

	for (int p = 0; p < PARENTS; p++) {
		tp_unregister(&parents[p]);
		CHECK_EQ(atomic_load(&parents[p].live), 0);
		creates += atomic_load(&parents[p].creates) - atomic_load(&parents[p].create_failures);
		removes += atomic_load(&parents[p].removes);
		tp_fini(&parents[p]);
	}
	/* every vendor create was matched by one vendor remove */
	CHECK_EQ(creates, removes);
	CHECK_EQ(creates, atomic_load(&created));
	CHECK_EQ(tp_live_uuids(), 0);
	for (int i = 0; i < POOL; i++) {
		struct mdev_device *m;

		CHECK_EQ(mdev_device_get_by_uuid(&pool[i], &m), -ENODEV);
	}
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
