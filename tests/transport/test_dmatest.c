/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the dmatest driver through the core API, without a transport: its type and
 * device info, config space, region info with the sparse-mmap capability, mmap, the BAR0
 * registers, transfers in both directions with vfio_dma_rw() and with pinning, their error
 * statuses, held pins and dma_unmap, and reset. Interrupts are in test_dmatest_irq.c,
 * migration in test_dmatest_mig.c, the cases with several threads in test_dmatest_mt.c.
 * Every case creates its devices and removes them; the harness checks that no fd is left.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmatest_fixture.h"

/* ---- the type and the device ---- */

static const char *type_attr(struct mdev_type *mtype, const char *name, char *buf)
{
	const struct attribute_group *g = mtype_get_group(mtype);

	buf[0] = 0;
	for (struct attribute **a = g->attrs; a && *a; a++) {
		if (!strcmp((*a)->name, name)) {
			memset(buf, 0, UMDEV_ATTR_BUF_SIZE);
			CHECK(mdev_type_attr_show(mtype, *a, buf) > 0);
			return buf;
		}
	}
	CHECK(!"attribute missing");
	return buf;
}

DMATEST_TEST(type_attributes)
{
	char buf[UMDEV_ATTR_BUF_SIZE];
	struct dev d;

	CHECK_STR(mtype_get_name(f->type), "dmatest-1");
	CHECK_STR(type_attr(f->type, "name", buf), "DMA test device\n");
	CHECK_STR(type_attr(f->type, "device_api", buf), "vfio-pci\n");
	CHECK_EQ(strtol(type_attr(f->type, "available_instances", buf), NULL, 10),
		 DMATEST_MAX_INSTANCES);
	CHECK(strlen(type_attr(f->type, "description", buf)) > 1);
	if (dev_create_open(f, 1, &d, false))
		CHECK_EQ(strtol(type_attr(f->type, "available_instances", buf), NULL, 10),
			 DMATEST_MAX_INSTANCES - 1);
	dev_destroy(&d);
	CHECK_EQ(strtol(type_attr(f->type, "available_instances", buf), NULL, 10),
		 DMATEST_MAX_INSTANCES);
}

DMATEST_TEST(instance_limit)
{
	struct mdev_device *m[DMATEST_MAX_INSTANCES + 1] = { NULL };
	char text[UUID_STRING_SIZE];
	guid_t u;

	for (unsigned int i = 0; i <= DMATEST_MAX_INSTANCES; i++) {
		snprintf(text, sizeof(text), "646d6174-0000-4000-8000-%012x", 1000 + i);
		uuid_parse(text, &u);
		CHECK_EQ(mdev_device_create(f->type, &u, &m[i]),
			 i < DMATEST_MAX_INSTANCES ? 0 : -ENOSPC);
	}
	for (unsigned int i = 0; i < DMATEST_MAX_INSTANCES; i++) {
		CHECK_EQ(mdev_device_remove(m[i]), 0);
		mdev_device_put(m[i]);
	}
}

DMATEST_TEST(device_info)
{
	struct vfio_device_info info;
	struct dev d;

	REQUIRE(dev_create_open(f, 2, &d, false));
	memset(&info, 0xff, sizeof(info));
	info.argsz = sizeof(info);
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_INFO, &info), 0);
	CHECK_EQ(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	CHECK_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(info.num_irqs, VFIO_PCI_NUM_IRQS);
	info.argsz = 15;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_INFO, &info), -EINVAL);
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_IRQ_INFO + 100, &info), -ENOTTY);
	dev_destroy(&d);
}

/* ---- config space ---- */

DMATEST_TEST(config_space)
{
	uint8_t b[4];
	struct dev d;

	REQUIRE(dev_create_open(f, 3, &d, false));
	CHECK_EQ(cfg_rd(&d, 0x00, 2), DMATEST_PCI_VENDOR_ID);
	CHECK_EQ(cfg_rd(&d, 0x02, 2), DMATEST_PCI_DEVICE_ID);
	CHECK_EQ(cfg_rd(&d, 0x00, 4), 0x646d1234);
	CHECK_EQ(cfg_rd(&d, 0x08, 4), DMATEST_PCI_CLASS << 8 | DMATEST_PCI_REVISION);
	CHECK_EQ(cfg_rd(&d, 0x06, 2), 0x0010); /* capability list */
	CHECK_EQ(cfg_rd(&d, 0x0e, 1), 0);      /* header type 0 */
	CHECK_EQ(cfg_rd(&d, 0x2c, 4), 0x646d1234);
	CHECK_EQ(cfg_rd(&d, 0x34, 1), DMATEST_MSI_CAP);
	CHECK_EQ(cfg_rd(&d, 0x3d, 1), 1); /* INTA */
	CHECK_EQ(cfg_rd(&d, DMATEST_MSI_CAP, 2), 0x0005); /* MSI, last capability */
	CHECK_EQ(cfg_rd(&d, DMATEST_MSI_CAP + 2, 2), 0);  /* one vector, 32-bit */

	/* read-only fields keep their value */
	cfg_wr(&d, 0x00, 0xffffffff, 4);
	CHECK_EQ(cfg_rd(&d, 0x00, 4), 0x646d1234);
	cfg_wr(&d, 0x08, 0, 4);
	CHECK_EQ(cfg_rd(&d, 0x08, 4), DMATEST_PCI_CLASS << 8 | DMATEST_PCI_REVISION);
	cfg_wr(&d, 0x3d, 0, 1);
	CHECK_EQ(cfg_rd(&d, 0x3d, 1), 1);
	/* command: memory, bus master and INTx disable only; status is read-only */
	cfg_wr(&d, 0x04, 0xffffffff, 4);
	CHECK_EQ(cfg_rd(&d, 0x04, 2), DMATEST_PCI_COMMAND_WMASK);
	CHECK_EQ(cfg_rd(&d, 0x06, 2), 0x0010);
	cfg_wr(&d, 0x04, 0x0002, 2);
	CHECK_EQ(cfg_rd(&d, 0x04, 2), 0x0002);

	/* BAR sizing: ~0 reads back as the size mask; unimplemented BARs stay 0 */
	for (unsigned int bar = 0x10; bar <= 0x24; bar += 4)
		cfg_wr(&d, bar, 0xffffffff, 4);
	CHECK_EQ(cfg_rd(&d, 0x10, 4), ~(uint32_t)(DMATEST_BAR0_SIZE - 1));
	CHECK_EQ(cfg_rd(&d, 0x14, 4), 0);
	CHECK_EQ(cfg_rd(&d, 0x18, 4), ~(uint32_t)(DMATEST_BAR2_SIZE - 1));
	CHECK_EQ(cfg_rd(&d, 0x1c, 4), 0);
	CHECK_EQ(cfg_rd(&d, 0x20, 4), 0);
	CHECK_EQ(cfg_rd(&d, 0x24, 4), 0);
	cfg_wr(&d, 0x30, 0xffffffff, 4);
	CHECK_EQ(cfg_rd(&d, 0x30, 4), 0); /* no ROM */
	cfg_wr(&d, 0x10, 0xfebf1234, 4);
	CHECK_EQ(cfg_rd(&d, 0x10, 4), 0xfebf1000);
	cfg_wr(&d, 0x18, 0xfeb12345, 4);
	CHECK_EQ(cfg_rd(&d, 0x18, 4), 0xfeb10000);
	/* byte writes into a BAR */
	cfg_wr(&d, 0x13, 0xaa, 1);
	CHECK_EQ(cfg_rd(&d, 0x10, 4), 0xaabf1000);

	/* interrupt line; MSI enable, address and data */
	cfg_wr(&d, 0x3c, 0x0b, 1);
	CHECK_EQ(cfg_rd(&d, 0x3c, 1), 0x0b);
	cfg_wr(&d, DMATEST_MSI_CAP + 2, 0xffff, 2);
	CHECK_EQ(cfg_rd(&d, DMATEST_MSI_CAP + 2, 2), 1);
	cfg_wr(&d, DMATEST_MSI_CAP + 4, 0xfee00003, 4);
	CHECK_EQ(cfg_rd(&d, DMATEST_MSI_CAP + 4, 4), 0xfee00000);
	cfg_wr(&d, DMATEST_MSI_CAP + 8, 0x4041, 2);
	CHECK_EQ(cfg_rd(&d, DMATEST_MSI_CAP + 8, 2), 0x4041);
	cfg_wr(&d, DMATEST_MSI_CAP, 0xffff, 2);
	CHECK_EQ(cfg_rd(&d, DMATEST_MSI_CAP, 2), 0x0005);

	/* bounds */
	CHECK_EQ(vfio_device_read(d.vdev, b, 4, CFG + 254), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 1, CFG + 256), -EINVAL);
	CHECK_EQ(vfio_device_write(d.vdev, b, 2, CFG + 255), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 2, CFG + 254), 2);
	/* other regions */
	CHECK_EQ(vfio_device_read(d.vdev, b, 4, DMATEST_REGION_OFFSET(1)), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 4, DMATEST_REGION_OFFSET(9)), -EINVAL);
	dev_destroy(&d);
}

/* ---- region info and mmap ---- */

DMATEST_TEST(region_info)
{
	struct vfio_region_info info;
	struct dev d;

	REQUIRE(dev_create_open(f, 4, &d, false));
	for (uint32_t i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		uint64_t size = 0;
		uint32_t flags = 0;

		memset(&info, 0xee, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		if (!CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &info), 0))
			continue;
		if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			size = DMATEST_CONFIG_SIZE;
			flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		} else if (i == VFIO_PCI_BAR0_REGION_INDEX) {
			size = DMATEST_BAR0_SIZE;
			flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		} else if (i == VFIO_PCI_BAR2_REGION_INDEX) {
			size = DMATEST_BAR2_SIZE;
			flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
		}
		CHECK_EQ(info.index, i);
		CHECK_EQ(info.size, size);
		CHECK_EQ(info.flags, flags);
		CHECK_EQ(info.offset, DMATEST_REGION_OFFSET(i));
		CHECK_EQ(info.cap_offset, 0); /* BAR2: the caps did not fit */
	}
	info.argsz = sizeof(info);
	info.index = VFIO_PCI_NUM_REGIONS;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &info), -EINVAL);
	info.argsz = sizeof(info) - 1;
	info.index = 0;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &info), -EINVAL);
	dev_destroy(&d);
}

/* A region info buffer with room for capabilities. */
union info_buf {
	struct vfio_region_info info;
	uint8_t raw[4096];
};

DMATEST_TEST(region_info_caps)
{
	const size_t need = sizeof(struct vfio_region_info) + 32;
	struct vfio_region_info_cap_sparse_mmap sparse;
	struct vfio_region_sparse_mmap_area area;
	union info_buf *b = calloc(1, sizeof(*b));
	struct dev d;

	REQUIRE(b);
	if (!dev_create_open(f, 5, &d, false))
		goto out;

	/* too small: the needed size, cap_offset 0, nothing written past the structure */
	for (uint32_t argsz = sizeof(b->info); argsz < need; argsz += 8) {
		memset(b, 0xaa, sizeof(*b));
		b->info.argsz = argsz;
		b->info.index = VFIO_PCI_BAR2_REGION_INDEX;
		CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &b->info), 0);
		CHECK_EQ(b->info.argsz, need);
		CHECK_EQ(b->info.cap_offset, 0);
		CHECK(b->info.flags & VFIO_REGION_INFO_FLAG_CAPS);
		CHECK_EQ(b->info.size, DMATEST_BAR2_SIZE);
		for (size_t i = sizeof(b->info); i < sizeof(b->raw); i++)
			if (!CHECK_EQ(b->raw[i], 0xaa))
				break;
	}

	/* big enough (exactly, and more): the chain follows the structure */
	for (uint32_t argsz = (uint32_t)need; argsz <= sizeof(*b); argsz += sizeof(*b) - need) {
		memset(b, 0xaa, sizeof(*b));
		b->info.argsz = argsz;
		b->info.index = VFIO_PCI_BAR2_REGION_INDEX;
		CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &b->info), 0);
		CHECK_EQ(b->info.argsz, argsz); /* the kernel leaves a big argsz alone */
		CHECK_EQ(b->info.cap_offset, sizeof(b->info));
		CHECK_EQ(b->info.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
						VFIO_REGION_INFO_FLAG_MMAP |
						VFIO_REGION_INFO_FLAG_CAPS);
		memcpy(&sparse, b->raw + b->info.cap_offset, sizeof(sparse));
		memcpy(&area, b->raw + b->info.cap_offset + sizeof(sparse), sizeof(area));
		CHECK_EQ(sparse.header.id, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
		CHECK_EQ(sparse.header.version, 1);
		CHECK_EQ(sparse.header.next, 0);
		CHECK_EQ(sparse.nr_areas, 1);
		CHECK_EQ(area.offset, DMATEST_BAR2_MMAP_OFFSET);
		CHECK_EQ(area.size, DMATEST_BAR2_MMAP_SIZE);
		CHECK_EQ(b->raw[need], 0xaa);
	}

	/* regions without caps leave the space after the structure alone */
	memset(b, 0xaa, sizeof(*b));
	b->info.argsz = sizeof(*b);
	b->info.index = VFIO_PCI_BAR0_REGION_INDEX;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_REGION_INFO, &b->info), 0);
	CHECK_EQ(b->info.cap_offset, 0);
	CHECK(!(b->info.flags & VFIO_REGION_INFO_FLAG_CAPS));
	CHECK_EQ(b->raw[sizeof(b->info)], 0xaa);
out:
	dev_destroy(&d);
	free(b);
}

static int try_mmap(struct dev *d, uint64_t pos, uint64_t len, unsigned long flags,
		    struct vm_area_struct *vma)
{
	memset(vma, 0, sizeof(*vma));
	vma->vm_end = (unsigned long)len;
	vma->vm_pgoff = (unsigned long)(pos >> PAGE_SHIFT);
	vma->vm_flags = flags;
	return vfio_device_mmap(d->vdev, vma);
}

DMATEST_TEST(mmap_sparse_area)
{
	const unsigned long rws = VM_READ | VM_WRITE | VM_SHARED;
	const uint64_t half = DMATEST_BAR2_MMAP_OFFSET;
	struct vm_area_struct vma;
	uint8_t buf[64], back[64];
	uint8_t *map;
	struct dev d;

	REQUIRE(dev_create_open(f, 6, &d, false));
	/* the area, and a page inside it */
	CHECK_EQ(try_mmap(&d, BAR2 + half, DMATEST_BAR2_MMAP_SIZE, rws, &vma), 0);
	CHECK(vma.vm_fd >= 0);
	CHECK_EQ(vma.vm_fd_offset, half);
	CHECK_EQ(try_mmap(&d, BAR2 + half + PAGE_SIZE, PAGE_SIZE, VM_READ | VM_SHARED, &vma), 0);
	CHECK_EQ(vma.vm_fd_offset, half + PAGE_SIZE);
	/* outside the area, not shared, too long, empty, other regions */
	CHECK_EQ(try_mmap(&d, BAR2, DMATEST_BAR2_SIZE, rws, &vma), -EINVAL);
	CHECK_EQ(try_mmap(&d, BAR2, PAGE_SIZE, rws, &vma), -EINVAL);
	CHECK_EQ(try_mmap(&d, BAR2 + half - PAGE_SIZE, 2 * PAGE_SIZE, rws, &vma), -EINVAL);
	CHECK_EQ(try_mmap(&d, BAR2 + half, DMATEST_BAR2_MMAP_SIZE, VM_READ | VM_WRITE, &vma),
		 -EINVAL);
	CHECK_EQ(try_mmap(&d, BAR2 + half, DMATEST_BAR2_MMAP_SIZE + PAGE_SIZE, rws, &vma),
		 -EINVAL);
	CHECK_EQ(try_mmap(&d, BAR2 + DMATEST_BAR2_SIZE, PAGE_SIZE, rws, &vma), -EINVAL);
	CHECK_EQ(try_mmap(&d, BAR2 + half, 0, rws, &vma), -EINVAL);
	CHECK_EQ(try_mmap(&d, BAR0, PAGE_SIZE, rws, &vma), -EINVAL);
	CHECK_EQ(try_mmap(&d, CFG, PAGE_SIZE, rws, &vma), -EINVAL);

	/* the client's mapping and the region accesses see the same memory */
	REQUIRE_EQ(try_mmap(&d, BAR2 + half, DMATEST_BAR2_MMAP_SIZE, rws, &vma), 0);
	map = mmap(NULL, DMATEST_BAR2_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vma.vm_fd,
		   (off_t)vma.vm_fd_offset);
	if (CHECK(map != MAP_FAILED)) {
		pattern(buf, sizeof(buf), 1);
		bar2_wr(&d, (uint32_t)half + 100, buf, sizeof(buf));
		CHECK(!memcmp(map + 100, buf, sizeof(buf)));
		pattern(buf, sizeof(buf), 2);
		memcpy(map + DMATEST_BAR2_MMAP_SIZE - sizeof(buf), buf, sizeof(buf));
		bar2_rd(&d, DMATEST_BAR2_SIZE - sizeof(back), back, sizeof(back));
		CHECK(!memcmp(back, buf, sizeof(buf)));
		munmap(map, DMATEST_BAR2_MMAP_SIZE);
	}
	/* the first half is reached by read/write only */
	pattern(buf, sizeof(buf), 3);
	bar2_wr(&d, 0, buf, sizeof(buf));
	bar2_rd(&d, 0, back, sizeof(back));
	CHECK(!memcmp(back, buf, sizeof(buf)));
	CHECK_EQ(vfio_device_read(d.vdev, back, 2, BAR2 + DMATEST_BAR2_SIZE - 1), -EINVAL);
	dev_destroy(&d);
}

/* ---- BAR0 registers ---- */

DMATEST_TEST(bar0_registers)
{
	uint8_t b[8];
	struct dev d;

	REQUIRE(dev_create_open(f, 7, &d, false));
	CHECK_EQ(rd32(&d, DMATEST_REG_ID), DMATEST_ID);
	/* 64-bit registers, whole and in halves */
	wr64(&d, DMATEST_REG_SCRATCH, 0x0123456789abcdefull);
	CHECK_EQ(rd64(&d, DMATEST_REG_SCRATCH), 0x0123456789abcdefull);
	CHECK_EQ(rd32(&d, DMATEST_REG_SCRATCH), 0x89abcdef);
	CHECK_EQ(rd32(&d, DMATEST_REG_SCRATCH + 4), 0x01234567);
	wr32(&d, DMATEST_REG_SCRATCH + 4, 0xfeedface);
	CHECK_EQ(rd64(&d, DMATEST_REG_SCRATCH), 0xfeedface89abcdefull);
	wr64(&d, DMATEST_REG_DMA_ADDR, 0x1122334455667788ull);
	CHECK_EQ(rd64(&d, DMATEST_REG_DMA_ADDR), 0x1122334455667788ull);
	/* an 8-byte access over two 32-bit registers */
	wr64(&d, DMATEST_REG_DMA_LEN, 0x0000200000001000ull);
	CHECK_EQ(rd32(&d, DMATEST_REG_DMA_LEN), 0x1000);
	CHECK_EQ(rd32(&d, DMATEST_REG_DMA_BUF_OFF), 0x2000);
	/* DMA_CTRL keeps the options, not GO or RELEASE; GO in this write would start */
	wr32(&d, DMATEST_REG_DMA_CTRL, DMATEST_CTRL_STORED | DMATEST_CTRL_RELEASE | 0xff00);
	CHECK_EQ(rd32(&d, DMATEST_REG_DMA_CTRL), DMATEST_CTRL_STORED);
	/* read-only registers ignore writes */
	wr32(&d, DMATEST_REG_ID, 0);
	wr32(&d, DMATEST_REG_DMA_STATUS, 0x1234);
	wr64(&d, DMATEST_REG_XFER_COUNT, 99);
	wr64(&d, DMATEST_REG_UNMAP_PAGES, 99);
	wr32(&d, DMATEST_REG_UNMAP_CALLS, 99);
	wr32(&d, DMATEST_REG_PINNED_PAGES, 99);
	CHECK_EQ(rd32(&d, DMATEST_REG_ID), DMATEST_ID);
	CHECK_EQ(rd32(&d, DMATEST_REG_DMA_STATUS), 0);
	CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 0);
	CHECK_EQ(rd64(&d, DMATEST_REG_UNMAP_PAGES), 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_UNMAP_CALLS), 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_IRQ_CTRL), 0);
	/* unused offsets read 0 and ignore writes */
	wr32(&d, DMATEST_REG_END, 0xffffffff);
	CHECK_EQ(rd32(&d, DMATEST_REG_END), 0);
	CHECK_EQ(rd64(&d, DMATEST_BAR0_SIZE - 8), 0);
	/* only 4- and 8-byte naturally aligned accesses inside the BAR */
	CHECK_EQ(vfio_device_read(d.vdev, b, 1, BAR0), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 2, BAR0), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 4, BAR0 + 2), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 8, BAR0 + 4), -EINVAL);
	CHECK_EQ(vfio_device_write(d.vdev, b, 3, BAR0 + DMATEST_REG_SCRATCH), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 4, BAR0 + DMATEST_BAR0_SIZE), -EINVAL);
	CHECK_EQ(vfio_device_read(d.vdev, b, 8, BAR0 + DMATEST_BAR0_SIZE - 4), -EINVAL);
	dev_destroy(&d);
}

/* ---- transfers ---- */

/* Guest -> BAR2 and back to another place, with @how (0 or DMATEST_CTRL_PIN). */
static void transfer_round_trip(struct dev *d, uint32_t how)
{
	const uint64_t src = 0x1234, dst = 0x40000 + 0x777; /* offsets in guest memory */
	const uint32_t len = 3 * PAGE_SIZE + 1000, off = 0x2345;
	uint8_t *buf = malloc(DMATEST_BAR2_SIZE);

	REQUIRE(buf);
	pattern(d->guest + src, len, how + 10);
	memset(d->guest + dst, 0, len + 1);
	/* guest -> device: the buffer gets the bytes, and only those */
	CHECK_EQ(dma_go(d, GUEST_IOVA + src, len, off, how), 0);
	CHECK_EQ(rd64(d, DMATEST_REG_XFER_COUNT), 1);
	bar2_rd(d, 0, buf, DMATEST_BAR2_SIZE);
	CHECK(!memcmp(buf + off, d->guest + src, len));
	CHECK_EQ(buf[off - 1], 0);
	CHECK_EQ(buf[off + len], 0);
	/* device -> guest */
	CHECK_EQ(dma_go(d, GUEST_IOVA + dst, len, off, how | DMATEST_CTRL_TO_GUEST), 0);
	CHECK_EQ(rd64(d, DMATEST_REG_XFER_COUNT), 2);
	CHECK(!memcmp(d->guest + dst, d->guest + src, len));
	CHECK_EQ(d->guest[dst + len], 0);
	/* the whole buffer, page aligned, one byte, the last byte */
	pattern(d->guest, DMATEST_BAR2_SIZE, how + 11);
	CHECK_EQ(dma_go(d, GUEST_IOVA, DMATEST_BAR2_SIZE, 0, how), 0);
	bar2_rd(d, 0, buf, DMATEST_BAR2_SIZE);
	CHECK(!memcmp(buf, d->guest, DMATEST_BAR2_SIZE));
	CHECK_EQ(dma_go(d, GUEST_IOVA + GUEST_SIZE - 1, 1, 5, how | DMATEST_CTRL_TO_GUEST), 0);
	CHECK_EQ(d->guest[GUEST_SIZE - 1], buf[5]);
	CHECK_EQ(rd64(d, DMATEST_REG_XFER_COUNT), 4);
	/* no pins left behind: nothing to ask dma_unmap about */
	CHECK_EQ(rd32(d, DMATEST_REG_PINNED_PAGES), 0);
	CHECK_EQ(vfio_dma_unmap(d->space, GUEST_IOVA, GUEST_SIZE), GUEST_SIZE);
	CHECK_EQ(rd32(d, DMATEST_REG_UNMAP_CALLS), 0);
	free(buf);
}

DMATEST_TEST(dma_rw_both_directions)
{
	struct dev d;

	if (dev_create_open(f, 8, &d, true))
		transfer_round_trip(&d, 0);
	dev_destroy(&d);
}

DMATEST_TEST(dma_pin_both_directions)
{
	struct dev d;

	if (dev_create_open(f, 9, &d, true))
		transfer_round_trip(&d, DMATEST_CTRL_PIN);
	dev_destroy(&d);
}

/* Transfers that span two mappings, one page each side of the seam. */
DMATEST_TEST(dma_across_mappings)
{
	const uint64_t seam = GUEST_IOVA + GUEST_SIZE;
	uint8_t out[2 * PAGE_SIZE], back[2 * PAGE_SIZE];
	uint8_t *second = NULL;
	struct dev d;
	int fd = -1;

	if (!dev_create_open(f, 10, &d, true))
		goto out;
	fd = memfd_create("dmatest-guest2", MFD_CLOEXEC);
	if (!CHECK(fd >= 0))
		goto out;
	if (!CHECK_EQ(ftruncate(fd, PAGE_SIZE), 0) ||
	    !CHECK_EQ(vfio_dma_map(d.space, seam, PAGE_SIZE, fd, 0, IOMMU_READ | IOMMU_WRITE), 0))
		goto out;
	second = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!CHECK(second != MAP_FAILED)) {
		second = NULL;
		goto out;
	}
	for (uint32_t how = 0; how <= DMATEST_CTRL_PIN; how += DMATEST_CTRL_PIN) {
		pattern(out, sizeof(out), how + 20);
		memcpy(d.guest + GUEST_SIZE - PAGE_SIZE, out, PAGE_SIZE);
		memcpy(second, out + PAGE_SIZE, PAGE_SIZE);
		CHECK_EQ(dma_go(&d, seam - PAGE_SIZE, 2 * PAGE_SIZE, 0, how), 0);
		bar2_rd(&d, 0, back, sizeof(back));
		CHECK(!memcmp(back, out, sizeof(out)));
		memset(second, 0, PAGE_SIZE);
		CHECK_EQ(dma_go(&d, seam - 100, 200, 1000, how | DMATEST_CTRL_TO_GUEST), 0);
		CHECK(!memcmp(second, out + 1000 + 100, 100));
	}
out:
	if (second)
		munmap(second, PAGE_SIZE);
	if (d.space)
		vfio_dma_unmap(d.space, seam, PAGE_SIZE);
	if (fd >= 0)
		close(fd);
	dev_destroy(&d);
}

DMATEST_TEST(dma_status_errors)
{
	const uint64_t ro_iova = 0x10000000;
	uint8_t before[256], after[256];
	uint64_t count;
	struct dev d;
	int fd = -1;

	REQUIRE(dev_create_open(f, 11, &d, true));
	pattern(before, sizeof(before), 30);
	bar2_wr(&d, 0, before, sizeof(before));
	for (uint32_t how = 0; how <= DMATEST_CTRL_PIN; how += DMATEST_CTRL_PIN) {
		/* nothing mapped there, in either direction */
		CHECK_EQ(dma_go(&d, 0x1000, 16, 0, how), -EINVAL);
		CHECK_EQ(dma_go(&d, 0x1000, 16, 0, how | DMATEST_CTRL_TO_GUEST), -EINVAL);
		/* running off the end of the mapping: nothing is stored in the buffer */
		CHECK_EQ(dma_go(&d, GUEST_IOVA + GUEST_SIZE - 100, 200, 0, how), -EINVAL);
		/* the length and the buffer's bounds */
		CHECK_EQ(dma_go(&d, GUEST_IOVA, 0, 0, how), -EINVAL);
		CHECK_EQ(dma_go(&d, GUEST_IOVA, DMATEST_BAR2_SIZE + 1, 0, how), -EINVAL);
		CHECK_EQ(dma_go(&d, GUEST_IOVA, 2, DMATEST_BAR2_SIZE - 1, how), -EINVAL);
		CHECK_EQ(dma_go(&d, GUEST_IOVA, 1, UINT32_MAX, how), -EINVAL);
		/* an IOVA range that wraps */
		CHECK_EQ(dma_go(&d, UINT64_MAX - 10, 100, 0, how), -EINVAL);
		/* a success clears the status */
		CHECK_EQ(dma_go(&d, GUEST_IOVA, 1, 300, how), 0);
	}
	bar2_rd(&d, 0, after, sizeof(after));
	CHECK(!memcmp(before, after, sizeof(after)));
	/* every GO completed, failures too */
	CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 18);

	/* a read-only mapping: the device may read it, not write it */
	fd = memfd_create("dmatest-ro", MFD_CLOEXEC);
	if (CHECK(fd >= 0) && CHECK_EQ(ftruncate(fd, PAGE_SIZE), 0) &&
	    CHECK_EQ(vfio_dma_map(d.space, ro_iova, PAGE_SIZE, fd, 0, IOMMU_READ), 0)) {
		CHECK_EQ(dma_go(&d, ro_iova, 64, 0, 0), 0);
		CHECK_EQ(dma_go(&d, ro_iova, 64, 0, DMATEST_CTRL_TO_GUEST), -EPERM);
		CHECK_EQ(dma_go(&d, ro_iova, 64, 0, DMATEST_CTRL_PIN), 0);
		CHECK_EQ(dma_go(&d, ro_iova, 64, 0, DMATEST_CTRL_PIN | DMATEST_CTRL_TO_GUEST),
			 -EPERM);
		CHECK_EQ(vfio_dma_unmap(d.space, ro_iova, PAGE_SIZE), PAGE_SIZE);
	}
	if (fd >= 0)
		close(fd);
	/* a mapping without memory here and no transport to reach it */
	if (CHECK_EQ(vfio_dma_map(d.space, ro_iova, PAGE_SIZE, -1, 0, IOMMU_READ), 0)) {
		CHECK_EQ(dma_go(&d, ro_iova, 64, 0, 0), -EFAULT);
		CHECK_EQ(dma_go(&d, ro_iova, 64, 0, DMATEST_CTRL_PIN), -EFAULT);
		CHECK_EQ(vfio_dma_unmap(d.space, ro_iova, PAGE_SIZE), PAGE_SIZE);
	}
	count = rd64(&d, DMATEST_REG_XFER_COUNT);
	CHECK_EQ(count, 24);
	dev_destroy(&d);
}

DMATEST_TEST(dma_without_space)
{
	struct dev d;

	REQUIRE(dev_create_open(f, 12, &d, false));
	CHECK_EQ(dma_go(&d, GUEST_IOVA, 16, 0, 0), -EINVAL);
	CHECK_EQ(dma_go(&d, GUEST_IOVA, 16, 0, DMATEST_CTRL_PIN), -EINVAL);
	CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 2);
	dev_destroy(&d);
}

/* ---- held pins and dma_unmap ---- */

DMATEST_TEST(hold_then_unmap)
{
	const uint32_t len = 2 * PAGE_SIZE + 0x11; /* from 0xff0: 4 pages */
	struct dev d;

	REQUIRE(dev_create_open(f, 13, &d, true));
	pattern(d.guest + 0xff0, len, 40);
	CHECK_EQ(dma_go(&d, GUEST_IOVA + 0xff0, len, 0,
			DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD),
		 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 4);
	/* an unmap elsewhere is nothing to us; of the pinned range calls dma_unmap */
	CHECK_EQ(rd32(&d, DMATEST_REG_UNMAP_CALLS), 0);
	CHECK_EQ(vfio_dma_unmap(d.space, GUEST_IOVA, GUEST_SIZE), GUEST_SIZE);
	CHECK_EQ(rd32(&d, DMATEST_REG_UNMAP_CALLS), 1);
	CHECK_EQ(rd64(&d, DMATEST_REG_UNMAP_PAGES), 4);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 0);
	CHECK_EQ(vfio_dma_space_count(d.space), 0);
	CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 1);
	CHECK_EQ(rd32(&d, DMATEST_REG_DMA_STATUS), 0);
	dev_destroy(&d);
}

DMATEST_TEST(hold_release_and_replace)
{
	struct dev d;

	REQUIRE(dev_create_open(f, 14, &d, true));
	/* RELEASE lets go of held pins: the unmap then has nothing to ask for */
	CHECK_EQ(dma_go(&d, GUEST_IOVA, PAGE_SIZE, 0, DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD), 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 1);
	wr32(&d, DMATEST_REG_DMA_CTRL, DMATEST_CTRL_RELEASE);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 0);
	/* the next GO replaces held pins, whatever its mode */
	CHECK_EQ(dma_go(&d, GUEST_IOVA, PAGE_SIZE, 0, DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD), 0);
	CHECK_EQ(dma_go(&d, GUEST_IOVA + 8 * PAGE_SIZE, 2 * PAGE_SIZE, 0,
			DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD | DMATEST_CTRL_TO_GUEST),
		 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 2);
	CHECK_EQ(dma_go(&d, GUEST_IOVA, 64, 0, 0), 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 0);
	/* HOLD without PIN holds nothing */
	CHECK_EQ(dma_go(&d, GUEST_IOVA, 64, 0, DMATEST_CTRL_HOLD), 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 0);
	CHECK_EQ(vfio_dma_unmap(d.space, GUEST_IOVA, GUEST_SIZE), GUEST_SIZE);
	CHECK_EQ(rd32(&d, DMATEST_REG_UNMAP_CALLS), 0);
	dev_destroy(&d);
}

DMATEST_TEST(close_releases_pins)
{
	struct dev d;

	REQUIRE(dev_create_open(f, 15, &d, true));
	CHECK_EQ(dma_go(&d, GUEST_IOVA, 4 * PAGE_SIZE, 0, DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD),
		 0);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 4);
	dev_close(&d);
	/* closed: the space is unbound, and no pin is left to wait for */
	CHECK_EQ(vfio_dma_unmap(d.space, GUEST_IOVA, GUEST_SIZE), GUEST_SIZE);
	if (CHECK_EQ(vfio_device_open(d.vdev, NULL), 0)) {
		d.open = true;
		CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 0);
		CHECK_EQ(rd32(&d, DMATEST_REG_UNMAP_CALLS), 0);
	}
	dev_destroy(&d);
}

/* ---- reset ---- */

DMATEST_TEST(reset)
{
	uint8_t buf[DMATEST_BAR2_SIZE / 16], zero[sizeof(buf)];
	struct dev d;

	REQUIRE(dev_create_open(f, 16, &d, true));
	memset(zero, 0, sizeof(zero));
	CHECK_EQ(dma_go(&d, GUEST_IOVA, PAGE_SIZE, 0, DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD), 0);
	wr64(&d, DMATEST_REG_SCRATCH, 42);
	wr32(&d, DMATEST_REG_IRQ_CTRL, DMATEST_IRQ_CTRL_RAISE);
	pattern(buf, sizeof(buf), 50);
	bar2_wr(&d, DMATEST_BAR2_SIZE - sizeof(buf), buf, sizeof(buf));
	cfg_wr(&d, 0x04, 0x0006, 2);
	cfg_wr(&d, 0x10, 0xfebf0000, 4);
	CHECK_EQ(rd32(&d, DMATEST_REG_PINNED_PAGES), 1);

	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
	for (uint64_t off = 0; off < DMATEST_REG_END; off += 4)
		CHECK_EQ(rd32(&d, off), off == DMATEST_REG_ID ? DMATEST_ID : 0);
	for (uint32_t off = 0; off < DMATEST_BAR2_SIZE; off += sizeof(buf)) {
		bar2_rd(&d, off, buf, sizeof(buf));
		CHECK(!memcmp(buf, zero, sizeof(buf)));
	}
	CHECK_EQ(cfg_rd(&d, 0x04, 2), 0);
	CHECK_EQ(cfg_rd(&d, 0x10, 4), 0);
	CHECK_EQ(cfg_rd(&d, 0x00, 4), 0x646d1234);
	/* the pins went with the reset */
	CHECK_EQ(vfio_dma_unmap(d.space, GUEST_IOVA, GUEST_SIZE), GUEST_SIZE);
	CHECK_EQ(rd32(&d, DMATEST_REG_UNMAP_CALLS), 0);
	/* and the device works */
	CHECK_EQ(dma_go(&d, GUEST_IOVA, 1, 0, 0), -EINVAL);
	CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 1);
	dev_destroy(&d);
}
