/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the null driver's device file, as a transport drives it: open and close,
 * VFIO_DEVICE_GET_INFO, GET_REGION_INFO, GET_IRQ_INFO, SET_IRQS, RESET, unknown ioctls, mmap,
 * and the config space and BAR0 accesses with their limits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/vfio_dma.h>

#include "null_fixture.h"

/* ---- the device file: ioctls ---- */

NULL_TEST(open_close)
{
	struct vfio_dma_space *space;
	struct dev d;

	REQUIRE(dev_create_open(f, 10, &d));
	CHECK(vfio_device_is_open(d.vdev));
	/* a second open by the same client counts; another client is refused */
	CHECK_EQ(vfio_device_open(d.vdev, NULL), 0);
	if (CHECK_EQ(vfio_dma_space_create(&space), 0)) {
		CHECK_EQ(vfio_device_open(d.vdev, space), -EBUSY);
		vfio_dma_space_destroy(space);
	}
	vfio_device_close(d.vdev);
	CHECK(vfio_device_is_open(d.vdev));
	vfio_device_close(d.vdev);
	CHECK(!vfio_device_is_open(d.vdev));
	/* open again, now with a DMA space (null does no DMA, but accepts one) */
	if (CHECK_EQ(vfio_dma_space_create(&space), 0)) {
		if (CHECK_EQ(vfio_device_open(d.vdev, space), 0)) {
			CHECK_EQ(cfg_read(d.vdev, 0x00, 2), 0x1234);
			vfio_device_close(d.vdev);
		}
		vfio_dma_space_destroy(space);
	}
	/* dev_close_remove() closes the open that is left */
	CHECK_EQ(vfio_device_open(d.vdev, NULL), 0);
	dev_close_remove(&d);
}

NULL_TEST(get_info)
{
	struct vfio_device_info info;
	struct dev d;

	REQUIRE(dev_create_open(f, 11, &d));
	memset(&info, 0xff, sizeof(info));
	info.argsz = sizeof(info);
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_INFO, &info), 0);
	CHECK_EQ(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	CHECK_EQ(info.num_regions, 9);
	CHECK_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(info.num_irqs, 5);
	CHECK_EQ(info.num_irqs, VFIO_PCI_NUM_IRQS);
	/* the minimum is up to num_irqs: 16 bytes */
	memset(&info, 0, sizeof(info));
	info.argsz = 16;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_INFO, &info), 0);
	CHECK_EQ(info.num_regions, 9);
	for (uint32_t argsz = 0; argsz < 16; argsz++) {
		info.argsz = argsz;
		CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_INFO, &info), -EINVAL);
	}
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_INFO, NULL), -EFAULT);
	dev_close_remove(&d);
}

NULL_TEST(get_region_info)
{
	struct vfio_region_info info;
	struct dev d;

	REQUIRE(dev_create_open(f, 12, &d));
	for (uint32_t i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		memset(&info, 0xff, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		if (!CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &info), 0))
			continue;
		CHECK_EQ(info.index, i);
		CHECK(info.offset == REGION(i));
		CHECK_EQ(info.cap_offset, 0);
		if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			CHECK_EQ(info.size, CONFIG_SIZE);
			CHECK_EQ(info.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
		} else if (i == VFIO_PCI_BAR0_REGION_INDEX) {
			CHECK_EQ(info.size, BAR0_SIZE);
			CHECK_EQ(info.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
		} else {
			if (!CHECK_EQ(info.size, 0))
				tap_diag("region %u", i);
			CHECK_EQ(info.flags, 0);
		}
	}
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	info.index = VFIO_PCI_NUM_REGIONS;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &info), -EINVAL);
	info.index = 0xffffffff;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &info), -EINVAL);
	/* the minimum is up to offset: 32 bytes */
	info.index = VFIO_PCI_BAR0_REGION_INDEX;
	info.argsz = 31;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &info), -EINVAL);
	info.argsz = 32;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &info), 0);
	CHECK_EQ(info.size, BAR0_SIZE);
	dev_close_remove(&d);
}

NULL_TEST(get_irq_info)
{
	struct vfio_irq_info info;
	struct dev d;

	REQUIRE(dev_create_open(f, 13, &d));
	for (uint32_t i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&info, 0xff, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), 0);
		CHECK_EQ(info.index, i);
		CHECK_EQ(info.count, 0);
		CHECK_EQ(info.flags, 0);
	}
	CHECK_EQ(VFIO_PCI_NUM_IRQS, 5);
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	for (uint32_t i = VFIO_PCI_NUM_IRQS; i < VFIO_PCI_NUM_IRQS + 3; i++) {
		info.index = i;
		CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), -EINVAL);
	}
	info.index = 0;
	info.argsz = sizeof(info) - 1;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO, &info), -EINVAL);
	dev_close_remove(&d);
}

NULL_TEST(set_irqs_refused)
{
	struct {
		struct vfio_irq_set hdr;
		int32_t fds[2];
	} req;
	static const struct {
		uint32_t flags, index, start, count;
	} cases[] = {
		{ VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, 0 },
		{ VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, 1 },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, 1 },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2 },
		{ VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1 },
		{ VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1 },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, 1 },
		{ VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_NUM_IRQS, 0, 0 },
	};
	struct dev d;

	REQUIRE(dev_create_open(f, 14, &d));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.hdr.argsz = sizeof(req);
		req.hdr.flags = cases[i].flags;
		req.hdr.index = cases[i].index;
		req.hdr.start = cases[i].start;
		req.hdr.count = cases[i].count;
		req.fds[0] = req.fds[1] = -1;
		if (!CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_SET_IRQS, &req), -EINVAL))
			tap_diag("SET_IRQS case %zu accepted", i);
	}
	memset(&req, 0, sizeof(req));
	req.hdr.argsz = 4;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_SET_IRQS, &req), -EINVAL);
	dev_close_remove(&d);
}

NULL_TEST(unknown_ioctls)
{
	uint8_t buf[256];
	struct vfio_device_feature *feature = (struct vfio_device_feature *)buf;
	struct dev d;

	REQUIRE(dev_create_open(f, 15, &d));
	memset(buf, 0, sizeof(buf));
	*(uint32_t *)buf = sizeof(buf);
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_IOEVENTFD, buf), -ENOTTY);
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_QUERY_GFX_PLANE, buf), -ENOTTY);
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, buf), -ENOTTY);
	CHECK_EQ(vfio_device_ioctl(d.vdev, _IO(VFIO_TYPE, VFIO_BASE + 99), buf), -ENOTTY);
	CHECK_EQ(vfio_device_ioctl(d.vdev, 0, buf), -ENOTTY);
	/* device features: the core's migration features are absent, others unknown */
	memset(buf, 0, sizeof(buf));
	feature->argsz = sizeof(buf);
	feature->flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			 VFIO_DEVICE_FEATURE_MIGRATION;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_FEATURE, feature), -ENOTTY);
	feature->flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | 0x7fff;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_FEATURE, feature), -EINVAL);
	dev_close_remove(&d);
}

NULL_TEST(mmap_refused)
{
	struct vm_area_struct vma;
	struct dev d;

	REQUIRE(dev_create_open(f, 16, &d));
	for (unsigned int i = 0; i < 2; i++) {
		memset(&vma, 0, sizeof(vma));
		vma.vm_end = i ? BAR0_SIZE : CONFIG_SIZE;
		vma.vm_pgoff = (unsigned long)((i ? BAR0 : CFG) >> PAGE_SHIFT);
		vma.vm_flags = VM_READ | VM_WRITE | VM_SHARED;
		vma.vm_fd = 1234;
		CHECK_EQ(vfio_device_mmap(d.vdev, &vma), -EINVAL);
		CHECK_EQ(vma.vm_fd, -1);
	}
	dev_close_remove(&d);
}

/* ---- the device file: config space ---- */

NULL_TEST(config_reads)
{
	uint8_t cfg[CONFIG_SIZE], b[4];
	struct dev d;

	REQUIRE(dev_create_open(f, 20, &d));
	CHECK_EQ(cfg_read(d.vdev, 0x00, 2), 0x1234);		/* vendor */
	CHECK_EQ(cfg_read(d.vdev, 0x02, 2), 0x6e75);		/* device */
	CHECK_EQ(cfg_read(d.vdev, 0x00, 4), 0x6e751234);
	CHECK_EQ(cfg_read(d.vdev, 0x08, 1), 0x01);		/* revision */
	CHECK_EQ(cfg_read(d.vdev, 0x08, 4) >> 8, 0xff0000);	/* class code */
	CHECK_EQ(cfg_read(d.vdev, 0x0b, 1), 0xff);		/* base class */
	CHECK_EQ(cfg_read(d.vdev, 0x2c, 2), 0x1234);		/* subsystem vendor */
	CHECK_EQ(cfg_read(d.vdev, 0x2e, 2), 0x6e75);		/* subsystem */
	CHECK_EQ(cfg_read(d.vdev, 0x04, 2), 0);			/* command */
	CHECK_EQ(cfg_read(d.vdev, 0x10, 4), 0);			/* BAR0: 32-bit memory */
	CHECK_EQ(cfg_read(d.vdev, 0x14, 4), 0);			/* no BAR1 */
	CHECK_EQ(cfg_read(d.vdev, 0x0e, 1), 0);			/* header type 0 */

	/* the whole space at once agrees, and a single byte at the end */
	memset(cfg, 0xee, sizeof(cfg));
	CHECK_EQ(vfio_device_read(d.vdev, cfg, sizeof(cfg), CFG), CONFIG_SIZE);
	CHECK_EQ(get_le(cfg, 4), 0x6e751234);
	CHECK_EQ(get_le(cfg + 0x08, 4), 0xff000001);
	CHECK_EQ(get_le(cfg + 0x2c, 4), 0x6e751234);
	CHECK_EQ(cfg[0xff], 0);
	CHECK_EQ(vfio_device_read(d.vdev, b, 1, CFG + 0xff), 1);

	/* out of range */
	CHECK_EQ(vfio_device_read(d.vdev, cfg, sizeof(cfg) + 1, CFG), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 1, CFG + CONFIG_SIZE), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 2, CFG + CONFIG_SIZE - 1), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 4, CFG + (1ULL << 39)), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 4, CFG + REGION(1) - 4), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 4, CFG + ~0ULL - 2), -EINVAL);
	dev_close_remove(&d);
}

NULL_TEST(config_bar0_sizing)
{
	struct dev d;

	REQUIRE(dev_create_open(f, 21, &d));
	cfg_write(d.vdev, 0x10, 0xffffffff, 4);
	CHECK_EQ(cfg_read(d.vdev, 0x10, 4), 0xfffff000);
	/* an address: the bits below the size and the type bits read as zero */
	cfg_write(d.vdev, 0x10, 0xfebc1234, 4);
	CHECK_EQ(cfg_read(d.vdev, 0x10, 4), 0xfebc1000);
	cfg_write(d.vdev, 0x10, 0xfe000000, 4);
	CHECK_EQ(cfg_read(d.vdev, 0x10, 4), 0xfe000000);
	/* byte-wise writes of the same */
	for (unsigned int i = 0; i < 4; i++)
		cfg_write(d.vdev, 0x10 + i, 0xff, 1);
	CHECK_EQ(cfg_read(d.vdev, 0x10, 4), 0xfffff000);
	cfg_write(d.vdev, 0x12, 0x1234, 2);
	CHECK_EQ(cfg_read(d.vdev, 0x10, 4), 0x1234f000);
	/* BAR1 and up are not implemented */
	cfg_write(d.vdev, 0x14, 0xffffffff, 4);
	CHECK_EQ(cfg_read(d.vdev, 0x14, 4), 0);
	cfg_write(d.vdev, 0x24, 0xffffffff, 4);
	CHECK_EQ(cfg_read(d.vdev, 0x24, 4), 0);
	dev_close_remove(&d);
}

NULL_TEST(config_read_only_bytes)
{
	uint8_t before[CONFIG_SIZE], after[CONFIG_SIZE], ones[CONFIG_SIZE];
	struct dev d;

	REQUIRE(dev_create_open(f, 22, &d));
	REQUIRE_EQ(vfio_device_read(d.vdev, before, sizeof(before), CFG), CONFIG_SIZE);
	cfg_write(d.vdev, 0x00, 0xffffffff, 4);
	CHECK_EQ(cfg_read(d.vdev, 0x00, 4), 0x6e751234);
	cfg_write(d.vdev, 0x08, 0, 4);
	CHECK_EQ(cfg_read(d.vdev, 0x08, 4), 0xff000001);
	cfg_write(d.vdev, 0x2c, 0, 4);
	CHECK_EQ(cfg_read(d.vdev, 0x2c, 4), 0x6e751234);
	cfg_write(d.vdev, 0x0e, 0x80, 1);
	CHECK_EQ(cfg_read(d.vdev, 0x0e, 1), 0);
	/* the writable bits: command (memory enable, bus master), interrupt line */
	cfg_write(d.vdev, 0x04, 0xffff, 2);
	CHECK_EQ(cfg_read(d.vdev, 0x04, 2), 0x0006);
	cfg_write(d.vdev, 0x04, 0x0001, 2);
	CHECK_EQ(cfg_read(d.vdev, 0x04, 2), 0x0000);
	cfg_write(d.vdev, 0x3c, 0x0b, 1);
	CHECK_EQ(cfg_read(d.vdev, 0x3c, 1), 0x0b);
	cfg_write(d.vdev, 0x3d, 0x01, 1); /* interrupt pin: none */
	CHECK_EQ(cfg_read(d.vdev, 0x3d, 1), 0);

	/* all ones over the whole space: only those bits change */
	memset(ones, 0xff, sizeof(ones));
	CHECK_EQ(vfio_device_write(d.vdev, ones, sizeof(ones), CFG), CONFIG_SIZE);
	REQUIRE_EQ(vfio_device_read(d.vdev, after, sizeof(after), CFG), CONFIG_SIZE);
	for (unsigned int i = 0; i < CONFIG_SIZE; i++) {
		uint8_t want = before[i];

		if (i == 0x04)
			want = 0x06;
		else if (i == 0x10)
			want = 0x00;
		else if (i == 0x11)
			want = 0xf0;
		else if (i == 0x12 || i == 0x13 || i == 0x3c)
			want = 0xff;
		if (!CHECK_EQ(after[i], want))
			tap_diag("config byte 0x%02x", i);
	}
	/* out-of-range writes change nothing */
	CHECK_EQ(vfio_device_write(d.vdev, ones, 2, CFG + CONFIG_SIZE - 1), -EINVAL);
	CHECK_EQ(vfio_device_write(d.vdev, ones, 1, CFG + CONFIG_SIZE), -EINVAL);
	CHECK_EQ(vfio_device_write(d.vdev, ones, CONFIG_SIZE + 1, CFG), -EINVAL);
	REQUIRE_EQ(vfio_device_read(d.vdev, before, sizeof(before), CFG), CONFIG_SIZE);
	CHECK(!memcmp(before, after, sizeof(before)));
	dev_close_remove(&d);
}

/* ---- the device file: BAR0 ---- */

NULL_TEST(bar0_read_write)
{
	static const struct {
		uint64_t off;
		size_t len;
	} acc[] = { { 0, 1 }, { 1, 1 }, { 2, 2 }, { 3, 2 }, { 4, 4 }, { 9, 4 },
		    { 16, 8 }, { 27, 8 }, { 4088, 8 }, { 4095, 1 }, { 4092, 4 }, { 4094, 2 } };
	uint8_t *shadow = calloc(1, BAR0_SIZE), *buf = calloc(1, BAR0_SIZE), b[8];
	struct dev d;

	if (!CHECK(shadow && buf) || !dev_create_open(f, 30, &d)) {
		free(shadow);
		free(buf);
		return;
	}
	/* a new device's BAR0 reads as zero */
	CHECK_EQ(vfio_device_read(d.vdev, buf, BAR0_SIZE, BAR0), BAR0_SIZE);
	CHECK(!memcmp(buf, shadow, BAR0_SIZE));

	for (size_t i = 0; i < sizeof(acc) / sizeof(acc[0]); i++) {
		for (size_t k = 0; k < acc[i].len; k++)
			b[k] = (uint8_t)(0x11 * (i + 1) + k);
		CHECK_EQ(vfio_device_write(d.vdev, b, acc[i].len, BAR0 + acc[i].off), acc[i].len);
		memcpy(shadow + acc[i].off, b, acc[i].len);
		memset(b, 0, sizeof(b));
		CHECK_EQ(vfio_device_read(d.vdev, b, acc[i].len, BAR0 + acc[i].off), acc[i].len);
		if (!CHECK(!memcmp(b, shadow + acc[i].off, acc[i].len)))
			tap_diag("access of %zu bytes at %llu", acc[i].len,
				 (unsigned long long)acc[i].off);
	}
	CHECK_EQ(vfio_device_read(d.vdev, buf, BAR0_SIZE, BAR0), BAR0_SIZE);
	CHECK(!memcmp(buf, shadow, BAR0_SIZE));

	/* 4096 bytes at once */
	for (size_t k = 0; k < BAR0_SIZE; k++)
		shadow[k] = (uint8_t)(k * 7 + 3);
	CHECK_EQ(vfio_device_write(d.vdev, shadow, BAR0_SIZE, BAR0), BAR0_SIZE);
	memset(buf, 0, BAR0_SIZE);
	CHECK_EQ(vfio_device_read(d.vdev, buf, BAR0_SIZE, BAR0), BAR0_SIZE);
	CHECK(!memcmp(buf, shadow, BAR0_SIZE));
	/* pieces of it */
	CHECK_EQ(vfio_device_read(d.vdev, b, 8, BAR0 + 1000), 8);
	CHECK(!memcmp(b, shadow + 1000, 8));

	/* out of range: past the end, across it, other regions; nothing changes */
	memset(b, 0xaa, sizeof(b));
	CHECK_EQ(vfio_device_write(d.vdev, b, 1, BAR0 + BAR0_SIZE), -EINVAL);
	CHECK_EQ(vfio_device_write(d.vdev, b, 2, BAR0 + BAR0_SIZE - 1), -EINVAL);
	CHECK_EQ(vfio_device_write(d.vdev, b, 8, BAR0 + BAR0_SIZE - 4), -EINVAL);
	CHECK_EQ(vfio_device_write(d.vdev, buf, BAR0_SIZE, BAR0 + 1), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 1, BAR0 + BAR0_SIZE), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 8, BAR0 + BAR0_SIZE - 7), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, buf, BAR0_SIZE, BAR0 + 1), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 4, BAR0 + (1ULL << 39)), -EINVAL);
	for (unsigned int r = VFIO_PCI_BAR1_REGION_INDEX; r <= VFIO_PCI_NUM_REGIONS + 1; r++) {
		if (r == VFIO_PCI_CONFIG_REGION_INDEX)
			continue;
		if (!CHECK_EQ(vfio_device_write(d.vdev, b, 4, REGION(r)), -EINVAL) ||
		    !CHECK_EQ(vfio_device_read(d.vdev, b, 4, REGION(r)), -EINVAL))
			tap_diag("region %u", r);
	}
	CHECK_EQ(vfio_device_read(d.vdev, b, 4, ~0ULL - 3), -EINVAL);
	memset(buf, 0, BAR0_SIZE);
	CHECK_EQ(vfio_device_read(d.vdev, buf, BAR0_SIZE, BAR0), BAR0_SIZE);
	CHECK(!memcmp(buf, shadow, BAR0_SIZE));

	dev_close_remove(&d);
	free(shadow);
	free(buf);
}

NULL_TEST(bar0_is_per_device)
{
	struct dev a, b;
	uint32_t va = 0xa5a5a5a5, vb = 0x5a5a5a5a, r = 0;

	REQUIRE(dev_create_open(f, 31, &a));
	if (!dev_create_open(f, 32, &b)) {
		dev_close_remove(&a);
		return;
	}
	CHECK_EQ(vfio_device_write(a.vdev, &va, 4, BAR0 + 64), 4);
	CHECK_EQ(vfio_device_write(b.vdev, &vb, 4, BAR0 + 64), 4);
	CHECK_EQ(vfio_device_read(a.vdev, &r, 4, BAR0 + 64), 4);
	CHECK_EQ(r, va);
	CHECK_EQ(vfio_device_read(b.vdev, &r, 4, BAR0 + 64), 4);
	CHECK_EQ(r, vb);
	/* the contents stay across a close and an open of the device */
	vfio_device_close(a.vdev);
	CHECK_EQ(vfio_device_open(a.vdev, NULL), 0);
	CHECK_EQ(vfio_device_read(a.vdev, &r, 4, BAR0 + 64), 4);
	CHECK_EQ(r, va);
	dev_close_remove(&b);
	dev_close_remove(&a);
}

NULL_TEST(reset_restores_device)
{
	uint8_t initial[CONFIG_SIZE], cfg[CONFIG_SIZE], *bar = calloc(1, BAR0_SIZE);
	uint8_t *zero = calloc(1, BAR0_SIZE);
	struct dev d;

	if (!CHECK(bar && zero) || !dev_create_open(f, 40, &d)) {
		free(bar);
		free(zero);
		return;
	}
	CHECK_EQ(vfio_device_read(d.vdev, initial, sizeof(initial), CFG), CONFIG_SIZE);
	memset(bar, 0x5c, BAR0_SIZE);
	CHECK_EQ(vfio_device_write(d.vdev, bar, BAR0_SIZE, BAR0), BAR0_SIZE);
	cfg_write(d.vdev, 0x04, 0x0006, 2);
	cfg_write(d.vdev, 0x10, 0xfebf0000, 4);
	cfg_write(d.vdev, 0x3c, 0x0a, 1);
	CHECK_EQ(vfio_device_read(d.vdev, cfg, sizeof(cfg), CFG), CONFIG_SIZE);
	CHECK(memcmp(cfg, initial, sizeof(cfg)) != 0);

	/* RESET takes no argument */
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
	CHECK_EQ(vfio_device_read(d.vdev, cfg, sizeof(cfg), CFG), CONFIG_SIZE);
	CHECK(!memcmp(cfg, initial, sizeof(cfg)));
	CHECK_EQ(vfio_device_read(d.vdev, bar, BAR0_SIZE, BAR0), BAR0_SIZE);
	CHECK(!memcmp(bar, zero, BAR0_SIZE));
	/* and again, on a device already reset */
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
	CHECK_EQ(vfio_device_read(d.vdev, cfg, sizeof(cfg), CFG), CONFIG_SIZE);
	CHECK(!memcmp(cfg, initial, sizeof(cfg)));
	dev_close_remove(&d);
	free(bar);
	free(zero);
}
