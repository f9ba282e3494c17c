/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the mdev bus and of what hangs off it: bus drivers (probe, remove, a parent's own
 * device_driver, registering and unregistering drivers with devices present), the vfio_mdev
 * forwarding of the device file to the parent's ops, fault injection in create/probe/open
 * (nothing left behind), change notifications, accessors, and attribute dispatch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_dma.h>

#include "tap.h"
#include "test_parent.h"

#define U1 "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define U2 "0d3a9a2e-2c51-4a3b-9f0e-6d2c1b0a9e8f"

static struct mdev_device *create_get(struct test_parent *tp, unsigned int type,
				      const char *uuid, int *ret)
{
	guid_t u = tp_uuid(uuid);
	struct mdev_device *m = NULL;

	*ret = mdev_device_create(tp_type(tp, type), &u, &m);
	return m;
}

static bool uuid_exists(const char *uuid)
{
	guid_t u = tp_uuid(uuid);
	struct mdev_device *m;

	if (mdev_device_get_by_uuid(&u, &m))
		return false;
	mdev_device_put(m);
	return true;
}

/* ---- a bus driver of the test's own ---- */

static int probe_result;
static int probes, bus_removes;
static struct device *last_probed;

static int test_probe(struct device *dev)
{
	probes++;
	last_probed = dev;
	return probe_result;
}

static void test_bus_remove(struct device *dev)
{
	(void)dev;
	bus_removes++;
}

static struct mdev_driver test_bus = { "test_bus", test_probe, test_bus_remove };

TEST(parent_device_driver_binds_its_devices)
{
	struct test_parent tp;
	struct mdev_device *m;
	int ret;

	probes = bus_removes = 0;
	probe_result = 0;
	tp_init(&tp, "tp", "tp", 1, NULL, false, false);
	tp.ops.device_driver = &test_bus;
	REQUIRE_EQ(tp_register(&tp), 0);

	/* the parent's driver is not registered: creation fails and leaves nothing */
	m = create_get(&tp, 0, U1, &ret);
	CHECK_EQ(ret, -ENODEV);
	CHECK(!m && !uuid_exists(U1));
	CHECK_EQ(atomic_load(&tp.removes), 1); /* the vendor's create was undone */

	REQUIRE_EQ(mdev_register_driver(&test_bus), 0);
	CHECK_EQ(mdev_register_driver(&test_bus), -EEXIST);
	m = create_get(&tp, 0, U1, &ret);
	REQUIRE_EQ(ret, 0);
	CHECK_EQ(probes, 1);
	CHECK(last_probed == mdev_dev(m));
	CHECK_STR(dev_driver_string(mdev_dev(m)), "test_bus");
	CHECK(mdev_vfio_device(m) == NULL);

	/* unregistering the driver unbinds it; the device stays, on the bus */
	mdev_unregister_driver(&test_bus);
	CHECK_EQ(bus_removes, 1);
	CHECK(mdev_device_is_active(m));
	CHECK_STR(dev_driver_string(mdev_dev(m)), "mdev");
	/* registering it again probes the unbound device */
	REQUIRE_EQ(mdev_register_driver(&test_bus), 0);
	CHECK_EQ(probes, 2);
	CHECK_STR(dev_driver_string(mdev_dev(m)), "test_bus");

	CHECK_EQ(mdev_device_remove(m), 0);
	CHECK_EQ(bus_removes, 2);
	mdev_device_put(m);
	mdev_unregister_driver(&test_bus);
	CHECK_EQ(bus_removes, 2);
	tp_unregister(&tp);
	tp_fini(&tp);
}

TEST(register_driver_rejects_bad_drivers)
{
	struct mdev_driver nameless = { NULL, test_probe, NULL };
	struct mdev_driver no_probe = { "x", NULL, NULL };
	struct mdev_driver same_name = { "vfio_mdev", test_probe, NULL };

	CHECK_EQ(mdev_register_driver(NULL), -EINVAL);
	CHECK_EQ(mdev_register_driver(&nameless), -EINVAL);
	CHECK_EQ(mdev_register_driver(&no_probe), -EINVAL);
	CHECK_EQ(mdev_register_driver(&same_name), -EEXIST);
	mdev_unregister_driver(&same_name); /* not registered: ignored */
}

TEST(failing_create_probe_or_open_leaves_nothing)
{
	struct test_parent tp;
	struct mdev_device *m;
	int ret;

	probes = bus_removes = 0;
	tp_init(&tp, "tp", "tp", 1, NULL, true, false);
	REQUIRE_EQ(tp_register(&tp), 0);

	tp.fail_create = -ENOMEM;
	m = create_get(&tp, 0, U1, &ret);
	CHECK_EQ(ret, -ENOMEM);
	CHECK(!m && !uuid_exists(U1));
	CHECK_EQ(atomic_load(&tp.removes), 0);
	CHECK_EQ(atomic_load(&tp.live), 0);
	tp.fail_create = 0;

	/* the bus driver's probe fails: its errno reaches the creator, the vendor's create is
	 * undone, the UUID is free */
	tp.ops.device_driver = &test_bus;
	probe_result = -ENOSPC;
	REQUIRE_EQ(mdev_register_driver(&test_bus), 0);
	m = create_get(&tp, 0, U1, &ret);
	CHECK_EQ(ret, -ENOSPC);
	CHECK(!m && !uuid_exists(U1));
	CHECK_EQ(atomic_load(&tp.removes), 1);
	CHECK_EQ(atomic_load(&tp.live), 0);
	CHECK_EQ(bus_removes, 0);
	probe_result = 0;
	mdev_unregister_driver(&test_bus);
	tp.ops.device_driver = NULL;

	/* the parent's open fails: the client gets its errno and nothing stays bound */
	m = create_get(&tp, 0, U1, &ret);
	REQUIRE_EQ(ret, 0);
	struct vfio_device *vdev = mdev_vfio_device(m);
	REQUIRE(vdev);
	tp.fail_open = -EIO;
	CHECK_EQ(vfio_device_open(vdev, NULL), -EIO);
	CHECK(!vfio_device_is_open(vdev));
	CHECK_EQ(atomic_load(&tp.releases), 0);
	tp.fail_open = 0;
	CHECK_EQ(vfio_device_open(vdev, NULL), 0);
	vfio_device_close(vdev);
	CHECK_EQ(atomic_load(&tp.releases), 1);
	/* and the device removes without waiting for anyone */
	CHECK_EQ(mdev_device_remove(m), 0);
	CHECK_EQ(atomic_load(&tp.requests), 0);
	mdev_device_put(m);
	CHECK(!uuid_exists(U1));
	tp_unregister(&tp);
	tp_fini(&tp);
}

TEST(vfio_mdev_forwards_the_device_file)
{
	struct test_parent tp, bare;
	struct vfio_device *vdev, *found;
	struct mdev_device *m, *mb;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vm_area_struct vma = { .vm_pgoff = 3, .vm_end = 4096 };
	char buf[8];
	int ret;

	tp_init(&tp, "tp", "tp", 1, NULL, true, false);
	tp_init(&bare, "bare", "bare", 1, NULL, false, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	REQUIRE_EQ(tp_register(&bare), 0);
	m = create_get(&tp, 0, U1, &ret);
	REQUIRE_EQ(ret, 0);
	vdev = mdev_vfio_device(m);
	REQUIRE(vdev);
	CHECK(vdev->dev == mdev_dev(m));
	CHECK_STR(vdev->ops->name, "vfio-mdev");
	REQUIRE_EQ(vfio_device_get_from_name(U1, &found), 0);
	CHECK(found == vdev);
	vfio_put_device(found);

	/* open on the first open by a client, release on its last close */
	REQUIRE_EQ(vfio_device_open(vdev, NULL), 0);
	REQUIRE_EQ(vfio_device_open(vdev, NULL), 0);
	CHECK_EQ(atomic_load(&tp.opens), 1);
	CHECK_EQ(vfio_device_read(vdev, buf, 4, 10), 4);
	CHECK_EQ(buf[0], 10);
	CHECK_EQ(buf[3], 13);
	CHECK_EQ(vfio_device_read(vdev, buf, 4, 62), -EINVAL);
	CHECK_EQ(vfio_device_write(vdev, buf, 2, 0), 2);
	CHECK_EQ(vfio_device_ioctl(vdev, VFIO_DEVICE_GET_INFO, &info), 0);
	CHECK_EQ(info.flags, VFIO_DEVICE_FLAGS_PCI);
	CHECK_EQ(vfio_device_ioctl(vdev, VFIO_DEVICE_RESET, NULL), 0);
	CHECK_EQ(vfio_device_ioctl(vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), -ENOTTY);
	CHECK_EQ(vfio_device_mmap(vdev, &vma), 0);
	CHECK_EQ(vma.vm_fd, 42);
	CHECK_EQ(vma.vm_fd_offset, 3 << 12);
	CHECK_EQ(atomic_load(&tp.reads), 2);
	CHECK_EQ(atomic_load(&tp.writes), 1);
	CHECK_EQ(atomic_load(&tp.mmaps), 1);
	vfio_device_close(vdev);
	CHECK_EQ(atomic_load(&tp.releases), 0);
	vfio_device_close(vdev);
	CHECK_EQ(atomic_load(&tp.releases), 1);

	/* a parent without the ops: -EINVAL, and opening needs no open op */
	mb = create_get(&bare, 0, U2, &ret);
	REQUIRE_EQ(ret, 0);
	vdev = mdev_vfio_device(mb);
	REQUIRE_EQ(vfio_device_open(vdev, NULL), 0);
	CHECK_EQ(vfio_device_read(vdev, buf, 1, 0), -EINVAL);
	CHECK_EQ(vfio_device_write(vdev, buf, 1, 0), -EINVAL);
	CHECK_EQ(vfio_device_ioctl(vdev, VFIO_DEVICE_RESET, NULL), -EINVAL);
	CHECK_EQ(vfio_device_mmap(vdev, &vma), -EINVAL);
	vfio_device_close(vdev);

	mdev_device_put(m);
	mdev_device_put(mb);
	tp_unregister(&tp);
	tp_unregister(&bare);
	tp_fini(&tp);
	tp_fini(&bare);
}

TEST(vfio_mdev_pins_only_with_a_dma_unmap_op)
{
	struct test_parent with, without;
	struct vfio_dma_space *space;
	struct mdev_device *mw, *mo;
	struct page *pages[1];
	int ret;

	tp_init(&with, "with", "with", 1, NULL, true, true);
	tp_init(&without, "without", "without", 1, NULL, true, false);
	REQUIRE_EQ(tp_register(&with), 0);
	REQUIRE_EQ(tp_register(&without), 0);
	REQUIRE_EQ(vfio_dma_space_create(&space), 0);
	mw = create_get(&with, 0, U1, &ret);
	REQUIRE_EQ(ret, 0);
	mo = create_get(&without, 0, U2, &ret);
	REQUIRE_EQ(ret, 0);
	/* a mapping without memory here: pinning reaches the mapping check (-EFAULT) only
	 * when the device may pin at all */
	REQUIRE_EQ(vfio_dma_map(space, 0x10000, 0x1000, -1, 0, IOMMU_READ | IOMMU_WRITE), 0);

	struct vfio_device *vw = mdev_vfio_device(mw), *vo = mdev_vfio_device(mo);

	REQUIRE_EQ(vfio_device_open(vw, space), 0);
	CHECK_EQ(vfio_pin_pages(vw, 0x10000, 1, IOMMU_READ, pages), -EFAULT);
	vfio_device_close(vw);
	REQUIRE_EQ(vfio_device_open(vo, space), 0);
	CHECK_EQ(vfio_pin_pages(vo, 0x10000, 1, IOMMU_READ, pages), -EINVAL);
	vfio_device_close(vo);

	vfio_dma_space_destroy(space);
	mdev_device_put(mw);
	mdev_device_put(mo);
	tp_unregister(&with);
	tp_unregister(&without);
	tp_fini(&with);
	tp_fini(&without);
}

/* ---- notifications ---- */

static char events[256];
static struct mdev_device *event_device;

static void record_event(struct notifier_block *nb, unsigned long event, void *data)
{
	static const char letters[] = { 'P', 'p', 'D', 'd' };
	size_t n = strlen(events);

	(void)nb;
	if (n + 1 < sizeof(events))
		events[n] = letters[event];
	if (event == MDEV_EVENT_DEVICE_ADDED) {
		/* the device is active and complete when it is announced */
		event_device = data;
		if (!mdev_device_is_active(data) || !mdev_vfio_device(data))
			events[n] = '!';
	}
}

TEST(notifications_follow_changes)
{
	struct notifier_block nb = { .notifier_call = record_event };
	struct test_parent tp;
	struct mdev_device *m;
	int ret;

	memset(events, 0, sizeof(events));
	REQUIRE_EQ(mdev_register_notifier(&nb), 0);
	tp_init(&tp, "tp", "tp", 1, NULL, false, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	m = create_get(&tp, 0, U1, &ret);
	CHECK(event_device == m);
	mdev_device_put(create_get(&tp, 0, U2, &ret));
	tp.fail_create = -EIO;
	create_get(&tp, 0, "11111111-1111-1111-1111-111111111111", &ret);
	CHECK_EQ(ret, -EIO);
	CHECK_EQ(mdev_device_remove(m), 0);
	mdev_device_put(m);
	tp_unregister(&tp); /* removes U2 before the parent goes */
	CHECK_STR(events, "PDDddp");
	CHECK_EQ(mdev_unregister_notifier(&nb), 0);
	tp_fini(&tp);
}

/* ---- accessors and attributes ---- */

static ssize_t dev_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	(void)attr;
	return sysfs_emit(buf, "hello %s\n", dev_name(dev));
}

static ssize_t dev_store(struct device *dev, struct device_attribute *attr, const char *buf,
			 size_t count)
{
	(void)dev;
	(void)attr;
	return buf[0] == 'x' ? -EINVAL : (ssize_t)count;
}

static struct device_attribute dev_attr_greeting = __ATTR(greeting, 0644, dev_show, dev_store);
static struct device_attribute dev_attr_mute = __ATTR(mute, 0200, NULL, NULL);

TEST(accessors_and_attributes)
{
	struct test_parent tp;
	struct mdev_device *m, **devices;
	struct mdev_parent **parents;
	char buf[UMDEV_ATTR_BUF_SIZE];
	int ret;

	tp_init(&tp, "tp", "tp", 2, NULL, false, false);
	REQUIRE_EQ(tp_register(&tp), 0);
	m = create_get(&tp, 1, U1, &ret);
	REQUIRE_EQ(ret, 0);

	CHECK(mdev_parent_dev(m) == &tp.dev);
	CHECK(mdev_from_dev(mdev_dev(m)) == m);
	CHECK(mdev_from_dev(&tp.dev) == NULL);
	CHECK(mdev_dev(m)->parent == &tp.dev);
	CHECK(mdev_get_drvdata(m) == &tp);
	CHECK_EQ(mdev_get_type_group_id(m), 1);
	CHECK(mdev_get_type(m) == tp_type(&tp, 1));
	CHECK_EQ(mtype_get_type_group_id(tp_type(&tp, 1)), 1);
	CHECK(mtype_get_parent_dev(tp_type(&tp, 1)) == &tp.dev);
	CHECK(mtype_get_group(tp_type(&tp, 1)) == &tp.groups[1]);
	const guid_t want = tp_uuid(U1);
	CHECK(!memcmp(mdev_uuid(m), &want, sizeof(want)));

	/* type attributes, as the sysfs tree reads them */
	struct attribute **attrs = mtype_get_group(tp_type(&tp, 1))->attrs;
	CHECK_EQ(mdev_type_attr_show(tp_type(&tp, 1), attrs[0], buf), 12);
	CHECK(!strncmp(buf, "Test type 1\n", 12));
	mdev_type_attr_show(tp_type(&tp, 1), attrs[2], buf);
	CHECK_EQ(atoi(buf), (1 << 20) - 1);
	CHECK_EQ(mdev_type_attr_show(tp_type(&tp, 1), attrs[3], buf), -EIO);
	CHECK_EQ(mdev_type_attr_store(tp_type(&tp, 1), attrs[0], "1", 1), -EIO);
	CHECK_EQ(mdev_dev_attr_show(mdev_dev(m), &dev_attr_greeting.attr, buf),
		 (ssize_t)strlen("hello " U1 "\n"));
	CHECK_EQ(mdev_dev_attr_store(mdev_dev(m), &dev_attr_greeting.attr, "ok", 2), 2);
	CHECK_EQ(mdev_dev_attr_store(mdev_dev(m), &dev_attr_greeting.attr, "x", 1), -EINVAL);
	CHECK_EQ(mdev_dev_attr_show(mdev_dev(m), &dev_attr_mute.attr, buf), -EIO);

	/* lists: of a type, of a parent, of parents */
	ssize_t n = mdev_type_devices(tp_type(&tp, 1), &devices);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK(devices[0] == m);
	mdev_devices_free(devices, (size_t)n);
	n = mdev_type_devices(tp_type(&tp, 0), &devices);
	CHECK_EQ(n, 0);
	mdev_devices_free(devices, 0);
	n = mdev_parent_devices(mtype_get_parent(tp_type(&tp, 0)), &devices);
	CHECK_EQ(n, 1);
	mdev_devices_free(devices, (size_t)n);
	n = mdev_parents_list(&parents);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK(mdev_parent_device(parents[0]) == &tp.dev);
	mdev_parents_free(parents, (size_t)n);

	mdev_device_put(m);
	tp_unregister(&tp);
	tp_fini(&tp);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
