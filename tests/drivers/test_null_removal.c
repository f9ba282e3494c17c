/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the null driver going away under a client: removing an open device (directly and
 * through the `remove` file) and null_exit() with devices left waits, since null has no
 * request op, until the client closes the device; and concurrent creates, uses and removes,
 * and concurrent accesses to one device.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "null_fixture.h"
#include "vfio/vfio_private.h"

/* ---- removal of an open device, and exit with devices left ---- */

/* Follows the vfio notifier events of one device. */
struct watch {
	struct notifier_block nb;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vfio_device *vdev; /* set before registration */
	int unregistering, unregistered;
};

static void watch_call(struct notifier_block *nb, unsigned long event, void *data)
{
	struct watch *w = container_of(nb, struct watch, nb);

	if (data != w->vdev)
		return;
	pthread_mutex_lock(&w->lock);
	if (event == VFIO_DEVICE_EVENT_UNREGISTERING)
		w->unregistering++;
	else if (event == VFIO_DEVICE_EVENT_UNREGISTERED)
		w->unregistered++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static bool watch_start(struct watch *w, struct vfio_device *vdev)
{
	pthread_condattr_t attr;

	memset(w, 0, sizeof(*w));
	w->nb.notifier_call = watch_call;
	w->vdev = vdev;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	return CHECK_EQ(vfio_register_device_notifier(&w->nb), 0);
}

static void watch_stop(struct watch *w)
{
	CHECK_EQ(vfio_unregister_device_notifier(&w->nb), 0);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

/* Waits until the device is unregistering: the removal is under way. False on timeout. */
static bool watch_wait_unregistering(struct watch *w)
{
	struct timespec deadline;
	int err = 0;

	deadline_in(&deadline, WAIT_TIMEOUT_S);
	pthread_mutex_lock(&w->lock);
	while (!w->unregistering && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&w->cond, &w->lock, &deadline);
	err = w->unregistering ? 0 : ETIMEDOUT;
	pthread_mutex_unlock(&w->lock);
	return err == 0;
}

static int watch_count(struct watch *w, bool unregistered)
{
	int n;

	pthread_mutex_lock(&w->lock);
	n = unregistered ? w->unregistered : w->unregistering;
	pthread_mutex_unlock(&w->lock);
	return n;
}

/* A removal (or a module exit) on its own thread. */
struct remover {
	struct mdev_device *mdev;
	const char *store; /* NULL: mdev_device_remove(); else written to `remove` */
	bool module_exit;  /* instead: MOD->exit() */
	long ret;
	atomic_bool done;
};

static void *remover_main(void *arg)
{
	struct remover *r = arg;

	if (r->module_exit) {
		MOD->exit();
		r->ret = 0;
	} else if (r->store) {
		r->ret = mdev_device_remove_store(r->mdev, r->store, strlen(r->store));
	} else {
		r->ret = mdev_device_remove(r->mdev);
	}
	atomic_store(&r->done, true);
	return NULL;
}

/*
 * Removes an open device from another thread: the removal makes the device unreachable at
 * once, then waits, since null has no request op to ask the client, until the client closes.
 */
static void remove_open_device(struct fixture *f, unsigned int n, const char *store)
{
	unsigned int interval = vfio_get_request_interval_ms();
	struct remover r = { .store = store };
	struct vfio_device *other;
	struct mdev_device *m;
	struct watch w;
	pthread_t thread;
	struct dev d;
	guid_t u;

	REQUIRE(dev_create_open(f, n, &d));
	u = *mdev_uuid(d.mdev);
	if (!watch_start(&w, d.vdev)) {
		dev_close_remove(&d);
		return;
	}
	vfio_set_request_interval_ms(2);
	r.mdev = d.mdev;
	atomic_init(&r.done, false);
	if (!CHECK_EQ(pthread_create(&thread, NULL, remover_main, &r), 0)) {
		watch_stop(&w);
		dev_close_remove(&d);
		vfio_set_request_interval_ms(interval);
		return;
	}
	CHECK(watch_wait_unregistering(&w));

	/* being removed: unreachable, no longer active, a second remove is told to wait */
	CHECK_EQ(vfio_device_get_from_name(d.uuid, &other), -ENODEV);
	CHECK(!mdev_device_is_active(d.mdev));
	CHECK_EQ(mdev_device_remove(d.mdev), -EAGAIN);
	CHECK_EQ(mdev_device_remove_store(d.mdev, "1", 1), -EAGAIN);
	/* the client still has a working device, and the removal waits for it */
	CHECK(vfio_device_is_open(d.vdev));
	CHECK_EQ(cfg_read(d.vdev, 0x00, 4), 0x6e751234);
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
	CHECK(!atomic_load(&r.done));
	CHECK_EQ(watch_count(&w, true), 0);
	CHECK_EQ(available(f->type), NULL_MAX_INSTANCES - 1);

	/* the client lets go: the removal completes */
	vfio_device_close(d.vdev);
	CHECK_EQ(pthread_join(thread, NULL), 0);
	CHECK(atomic_load(&r.done));
	CHECK_EQ(r.ret, store ? (long)strlen(store) : 0);
	CHECK_EQ(watch_count(&w, false), 1);
	CHECK_EQ(watch_count(&w, true), 1);
	watch_stop(&w);
	vfio_set_request_interval_ms(interval);

	/* the transport's reference outlives the device; it cannot be opened again */
	CHECK(!vfio_device_is_open(d.vdev));
	CHECK_EQ(vfio_device_open(d.vdev, NULL), -ENODEV);
	vfio_put_device(d.vdev);
	CHECK_EQ(mdev_device_remove(d.mdev), -ENODEV);
	CHECK_EQ(available(f->type), NULL_MAX_INSTANCES);
	mdev_device_put(d.mdev);
	CHECK_EQ(mdev_device_get_by_uuid(&u, &m), -ENODEV);
}

NULL_TEST(remove_open_device_waits_for_close)
{
	remove_open_device(f, 50, NULL);
}

NULL_TEST(remove_store_open_device_waits_for_close)
{
	remove_open_device(f, 51, "1\n");
}

TEST(exit_removes_remaining_devices)
{
	struct mdev_device *m[3];
	struct mdev_parent *parent;
	struct fixture fx;
	unsigned int created = 0;

	if (!setup(&fx))
		return;
	for (unsigned int i = 0; i < 3; i++) {
		guid_t u = make_uuid(60 + i, NULL);

		if (CHECK_EQ(mdev_device_create(fx.type, &u, &m[created]), 0))
			created++;
	}
	/* one more left without a reference held by the test */
	{
		guid_t u = make_uuid(63, NULL);

		CHECK_EQ(mdev_device_create(fx.type, &u, NULL), 0);
	}
	CHECK_EQ(available(fx.type), NULL_MAX_INSTANCES - 4);
	teardown(&fx);

	CHECK_EQ(mdev_parent_get_by_name("null", &parent), -ENODEV);
	for (unsigned int i = 0; i < created; i++) {
		CHECK(!mdev_device_is_active(m[i]));
		CHECK(mdev_vfio_device(m[i]) == NULL);
		CHECK_EQ(mdev_device_remove(m[i]), -ENODEV);
		mdev_device_put(m[i]);
	}
	for (unsigned int i = 0; i < 4; i++) {
		guid_t u = make_uuid(60 + i, NULL);
		struct mdev_device *found;

		CHECK_EQ(mdev_device_get_by_uuid(&u, &found), -ENODEV);
	}

	/* the driver's accounting went back to zero: a new start offers every instance */
	if (setup(&fx)) {
		CHECK_EQ(available(fx.type), NULL_MAX_INSTANCES);
		teardown(&fx);
	}
}

TEST(exit_waits_for_open_device)
{
	unsigned int interval = vfio_get_request_interval_ms();
	struct remover r = { .module_exit = true };
	struct mdev_device *closed_one;
	struct mdev_parent *parent;
	struct fixture fx;
	struct watch w;
	pthread_t thread;
	struct dev d;
	guid_t u = make_uuid(71, NULL), other = make_uuid(72, NULL);

	if (!setup(&fx))
		return;
	if (!CHECK_EQ(mdev_device_create(fx.type, &u, &closed_one), 0)) {
		teardown(&fx);
		return;
	}
	if (!dev_create_open(&fx, 70, &d)) {
		mdev_device_put(closed_one);
		teardown(&fx);
		return;
	}
	if (!watch_start(&w, d.vdev)) {
		dev_close_remove(&d);
		mdev_device_put(closed_one);
		teardown(&fx);
		return;
	}
	vfio_set_request_interval_ms(2);
	/* the test's parent reference is not needed by the exit */
	mdev_parent_put(fx.parent);
	atomic_init(&r.done, false);
	if (!CHECK_EQ(pthread_create(&thread, NULL, remover_main, &r), 0)) {
		vfio_device_close(d.vdev);
		MOD->exit();
	} else {
		CHECK(watch_wait_unregistering(&w));
		/* the parent is going: no lookups, no creates, no removes */
		CHECK_EQ(mdev_parent_get_by_name("null", &parent), -ENODEV);
		CHECK_EQ(mdev_device_create(fx.type, &other, NULL), -ENODEV);
		CHECK_EQ(mdev_device_remove(d.mdev), -ENODEV);
		CHECK(vfio_device_is_open(d.vdev));
		CHECK_EQ(cfg_read(d.vdev, 0x02, 2), 0x6e75);
		CHECK(!atomic_load(&r.done));

		vfio_device_close(d.vdev);
		CHECK_EQ(pthread_join(thread, NULL), 0);
		CHECK(atomic_load(&r.done));
	}
	CHECK_EQ(watch_count(&w, true), 1);
	watch_stop(&w);
	vfio_set_request_interval_ms(interval);

	CHECK(!mdev_device_is_active(d.mdev));
	CHECK(!mdev_device_is_active(closed_one));
	CHECK_EQ(vfio_device_open(d.vdev, NULL), -ENODEV);
	vfio_put_device(d.vdev);
	mdev_device_put(d.mdev);
	mdev_device_put(closed_one);
	CHECK_EQ(mdev_device_get_by_uuid(&u, &closed_one), -ENODEV);
}

/* ---- concurrency ---- */

#define STRESS_THREADS 4
#define STRESS_DEVICES 24

struct stress {
	struct mdev_type *type;
	unsigned int id;
	int errors; /* counted here, checked by the test after the join */
};

static void *stress_main(void *arg)
{
	struct stress *s = arg;

	for (unsigned int i = 0; i < STRESS_DEVICES; i++) {
		char text[UUID_STRING_SIZE];
		guid_t u = make_uuid(0x10000 * (s->id + 1) + i, text);
		struct vfio_device_info info = { .argsz = sizeof(info) };
		struct mdev_device *m;
		struct vfio_device *vdev;
		uint64_t v = 0x0102030405060708ULL * (i + 1), r = 0;

		if (mdev_device_create(s->type, &u, &m)) {
			s->errors++;
			continue;
		}
		if (vfio_device_get_from_name(text, &vdev) == 0) {
			if (vfio_device_open(vdev, NULL) == 0) {
				s->errors += vfio_device_write(vdev, &v, 8, BAR0 + 8 * i) != 8;
				s->errors += vfio_device_read(vdev, &r, 8, BAR0 + 8 * i) != 8;
				s->errors += r != v;
				s->errors +=
					vfio_device_ioctl(vdev, VFIO_DEVICE_GET_INFO, &info) != 0;
				s->errors += info.num_regions != VFIO_PCI_NUM_REGIONS;
				vfio_device_close(vdev);
			} else {
				s->errors++;
			}
			vfio_put_device(vdev);
		} else {
			s->errors++;
		}
		/* every other device is removed at once, the rest at the end */
		if (i % 2 == 0)
			s->errors += mdev_device_remove(m) != 0;
		mdev_device_put(m);
	}
	for (unsigned int i = 1; i < STRESS_DEVICES; i += 2) {
		guid_t u = make_uuid(0x10000 * (s->id + 1) + i, NULL);
		struct mdev_device *m;

		if (mdev_device_get_by_uuid(&u, &m)) {
			s->errors++;
			continue;
		}
		s->errors += mdev_device_remove_store(m, "1", 1) != 1;
		mdev_device_put(m);
	}
	return NULL;
}

NULL_TEST(concurrent_create_use_remove)
{
	struct stress s[STRESS_THREADS];
	pthread_t threads[STRESS_THREADS];
	unsigned int started = 0;
	struct mdev_device **devs;
	ssize_t n;

	for (unsigned int i = 0; i < STRESS_THREADS; i++) {
		s[i] = (struct stress){ .type = f->type, .id = i };
		if (CHECK_EQ(pthread_create(&threads[i], NULL, stress_main, &s[i]), 0))
			started++;
		else
			break;
	}
	/* the management plane reads the type meanwhile */
	for (unsigned int i = 0; i < 50; i++) {
		long avail = available(f->type);

		CHECK(avail > NULL_MAX_INSTANCES - STRESS_THREADS * STRESS_DEVICES &&
		      avail <= NULL_MAX_INSTANCES);
	}
	for (unsigned int i = 0; i < started; i++) {
		CHECK_EQ(pthread_join(threads[i], NULL), 0);
		if (!CHECK_EQ(s[i].errors, 0))
			tap_diag("thread %u", i);
	}
	CHECK_EQ(available(f->type), NULL_MAX_INSTANCES);
	n = mdev_type_devices(f->type, &devs);
	CHECK_EQ(n, 0);
	if (n >= 0)
		mdev_devices_free(devs, (size_t)n);
}

#define SHARED_THREADS 4
#define SHARED_ROUNDS 200

struct shared {
	struct vfio_device *vdev;
	unsigned int id;
	int errors;
};

static void *shared_main(void *arg)
{
	struct shared *s = arg;

	for (unsigned int i = 0; i < SHARED_ROUNDS; i++) {
		uint32_t v = s->id << 16 | i, r;
		uint8_t cfg[4];

		s->errors += vfio_device_write(s->vdev, &v, 4, BAR0 + 4 * s->id) != 4;
		s->errors += vfio_device_read(s->vdev, &r, 4, BAR0 + 4 * s->id) != 4;
		/* another thread may reset in between: the value or zero */
		s->errors += r != v && r != 0;
		s->errors += vfio_device_read(s->vdev, cfg, 4, CFG) != 4;
		s->errors += get_le(cfg, 4) != 0x6e751234;
		if (s->id == 0 && i % 16 == 0)
			s->errors += vfio_device_ioctl(s->vdev, VFIO_DEVICE_RESET, NULL) != 0;
	}
	return NULL;
}

NULL_TEST(concurrent_accesses_to_one_device)
{
	struct shared s[SHARED_THREADS];
	pthread_t threads[SHARED_THREADS];
	unsigned int started = 0;
	struct dev d;

	REQUIRE(dev_create_open(f, 80, &d));
	for (unsigned int i = 0; i < SHARED_THREADS; i++) {
		s[i] = (struct shared){ .vdev = d.vdev, .id = i };
		if (CHECK_EQ(pthread_create(&threads[i], NULL, shared_main, &s[i]), 0))
			started++;
		else
			break;
	}
	for (unsigned int i = 0; i < started; i++) {
		CHECK_EQ(pthread_join(threads[i], NULL), 0);
		if (!CHECK_EQ(s[i].errors, 0))
			tap_diag("thread %u", i);
	}
	dev_close_remove(&d);
}
