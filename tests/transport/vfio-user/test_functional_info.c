/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Functional tests of the information commands: DEVICE_GET_INFO, DEVICE_GET_REGION_INFO for
 * every region of null and dmatest (dmatest's BAR2 with the argsz retry that brings its
 * sparse-mmap capability, and its fd, whose mapping at the reported offset plus the area's
 * offset sees the same bytes as REGION_READ), DEVICE_GET_REGION_IO_FDS and
 * DEVICE_GET_IRQ_INFO, with their error paths.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "functional.h"

static const uint32_t RW = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

static void device_info(struct fx *f)
{
	struct umdev_client *c = fx_client(f, 0);
	struct vfio_device_info info;

	REQUIRE(c);
	memset(&info, 0xa5, sizeof(info));
	CHECK_EQ(umdev_client_get_info(c, &info), 0);
	CHECK_EQ(info.argsz, 16);
	CHECK_EQ(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	CHECK_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(info.num_irqs, VFIO_PCI_NUM_IRQS);
	CHECK_EQ(info.cap_offset, 0);
	umdev_client_close(c);
}

FUNC_TEST(device_info_null, FX_NULL, 1, 1)
{
	device_info(f);
}

FUNC_TEST(device_info_dmatest, FX_DMATEST, 1, 1)
{
	device_info(f);
}

/* Checks region @index's info against the expected size and flags; no capabilities, no fd. */
static void plain_region_at(struct umdev_client *c, uint32_t index, uint64_t size,
			    uint32_t flags, SRCPOS)
{
	struct vfio_region_info *info = NULL;
	int fd = -2;

	if (!tap_check_eq(umdev_client_get_region_info(c, index, &info, &fd), 0,
			  "umdev_client_get_region_info()", "0", file, line))
		return;
	tap_check_eq(info->argsz, sizeof(*info), "argsz", "32", file, line);
	tap_check_eq(info->index, index, "index", "asked", file, line);
	tap_check_eq(info->size, size, "size", "expected", file, line);
	tap_check_eq(info->flags, flags, "flags", "expected", file, line);
	tap_check_eq(info->cap_offset, 0, "cap_offset", "0", file, line);
	tap_check_eq(info->offset, 0, "offset (no fd)", "0", file, line);
	tap_check_eq(fd, -1, "fd", "none", file, line);
	if (fd >= 0)
		close(fd);
	free(info);
}
#define PLAIN_REGION(c, index, size, flags) plain_region_at(c, index, size, flags, AT)

FUNC_TEST(region_info_null, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct vfio_region_info *info = NULL;

	REQUIRE(c);
	for (uint32_t i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		if (i == R_CFG)
			PLAIN_REGION(c, i, NULL_CFG_SIZE, RW);
		else if (i == R_BAR0)
			PLAIN_REGION(c, i, NULL_BAR0_SIZE, RW);
		else
			PLAIN_REGION(c, i, 0, 0);
	}
	CHECK_EQ(umdev_client_get_region_info(c, VFIO_PCI_NUM_REGIONS, &info, NULL), -EINVAL);
	CHECK_EQ(umdev_client_get_region_info(c, UINT32_MAX, &info, NULL), -EINVAL);
	CHECK(info == NULL);
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	umdev_client_close(c);
}

/* The sparse-mmap capability of dmatest's BAR2 in a reply of @len bytes. */
static void check_bar2_caps_at(const struct vfio_region_info *info, size_t len, SRCPOS)
{
	struct vfio_region_info_cap_sparse_mmap sparse;
	struct vfio_region_sparse_mmap_area area;

	tap_check_eq(info->size, DMATEST_BAR2_SIZE, "size", "64 KiB", file, line);
	tap_check_eq(info->flags, RW | VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS,
		     "flags", "rw|mmap|caps", file, line);
	tap_check_eq(info->argsz, sizeof(*info) + sizeof(sparse) + sizeof(area), "argsz", "64",
		     file, line);
	if (!tap_check_eq(info->cap_offset, sizeof(*info), "cap_offset", "32", file, line) ||
	    !tap_check(len >= info->cap_offset + sizeof(sparse) + sizeof(area), "room", file,
		       line))
		return;
	memcpy(&sparse, (const uint8_t *)info + info->cap_offset, sizeof(sparse));
	memcpy(&area, (const uint8_t *)info + info->cap_offset + sizeof(sparse), sizeof(area));
	tap_check_eq(sparse.header.id, VFIO_REGION_INFO_CAP_SPARSE_MMAP, "cap id", "sparse",
		     file, line);
	tap_check_eq(sparse.header.version, 1, "cap version", "1", file, line);
	tap_check_eq(sparse.header.next, 0, "cap next", "0", file, line);
	tap_check_eq(sparse.nr_areas, 1, "nr_areas", "1", file, line);
	tap_check_eq(area.offset, DMATEST_BAR2_MMAP_OFFSET, "area offset", "32 KiB", file, line);
	tap_check_eq(area.size, DMATEST_BAR2_MMAP_SIZE, "area size", "32 KiB", file, line);
}
#define CHECK_BAR2_CAPS(info, len) check_bar2_caps_at(info, len, AT)

FUNC_TEST(region_info_dmatest, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct vfio_region_info *info = NULL;
	int fd = -2;

	REQUIRE(c);
	for (uint32_t i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		if (i == R_CFG)
			PLAIN_REGION(c, i, DMATEST_CONFIG_SIZE, RW);
		else if (i == R_BAR0)
			PLAIN_REGION(c, i, DMATEST_BAR0_SIZE, RW);
		else if (i != R_BAR2)
			PLAIN_REGION(c, i, 0, 0);
	}
	if (CHECK_EQ(umdev_client_get_region_info(c, R_BAR2, &info, &fd), 0)) {
		CHECK_EQ(info->index, R_BAR2);
		CHECK_BAR2_CAPS(info, info->argsz);
		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
		free(info);
		info = NULL;
	}
	CHECK_EQ(umdev_client_get_region_info(c, VFIO_PCI_NUM_REGIONS, &info, NULL), -EINVAL);
	CHECK(info == NULL);
	umdev_client_close(c);
}

/* A DEVICE_GET_REGION_INFO of BAR2 with @argsz, sent raw; the reply in @r, its fds in @fds. */
static int bar2_info_raw(struct umdev_client *c, uint16_t id, uint32_t argsz, uint8_t *r,
			 size_t cap, int *fds, size_t *nfds)
{
	struct vfu_region_info req = { .argsz = argsz, .index = R_BAR2 };

	*nfds = 2;
	return raw_call(c, id, VFU_CMD_DEVICE_GET_REGION_INFO, &req, sizeof(req), NULL, 0, r, cap,
			fds, nfds);
}

FUNC_TEST(region_info_bar2_argsz_retry, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	union {
		struct vfu_hdr hdr;
		uint8_t raw[16 + 8192];
	} r;
	struct vfio_region_info info;
	int fds[2];
	size_t nfds;
	int n;

	REQUIRE(c);
	/* too small for the capability: told the size, CAPS set, no capability, no fd */
	n = bar2_info_raw(c, 0x500, sizeof(info), r.raw, sizeof(r), fds, &nfds);
	if (CHECK_EQ(n, 16 + sizeof(info))) {
		CHECK_EQ(r.hdr.flags, VFU_FLAG_TYPE_REPLY);
		CHECK_EQ(r.hdr.msg_id, 0x500);
		memcpy(&info, r.raw + 16, sizeof(info));
		CHECK_EQ(info.argsz, 64);
		CHECK_EQ(info.index, R_BAR2);
		CHECK_EQ(info.size, DMATEST_BAR2_SIZE);
		CHECK(info.flags & VFIO_REGION_INFO_FLAG_CAPS);
		CHECK(info.flags & VFIO_REGION_INFO_FLAG_MMAP);
		CHECK_EQ(info.cap_offset, 0);
		CHECK_EQ(nfds, 0);
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
	}

	/* asked again with that size: the capability and the fd */
	n = bar2_info_raw(c, 0x501, 64, r.raw, sizeof(r), fds, &nfds);
	if (CHECK_EQ(n, 16 + 64)) {
		CHECK_EQ(r.hdr.flags, VFU_FLAG_TYPE_REPLY);
		CHECK_BAR2_CAPS((const struct vfio_region_info *)(const void *)(r.raw + 16), 64);
		CHECK_EQ(nfds, 1);
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
	}

	/* a larger argsz is room, not the size needed: the same 64 bytes (specification:
	 * the reply's argsz is the size required for the full reply payload) */
	n = bar2_info_raw(c, 0x502, 4096, r.raw, sizeof(r), fds, &nfds);
	if (CHECK(n > 16)) {
		memcpy(&info, r.raw + 16, sizeof(info));
		CHECK_EQ(n, 16 + 64);
		CHECK_EQ(info.argsz, 64);
		CHECK_BAR2_CAPS((const struct vfio_region_info *)(const void *)(r.raw + 16), 64);
		CHECK_EQ(nfds, 1);
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
	}
	/* the raw exchanges left the session in step */
	CHECK_EQ(RD32(c, DMATEST_REG_ID), DMATEST_ID);
	umdev_client_close(c);
}

FUNC_TEST(region_bar2_mmap_matches_region_read, FX_DMATEST, 1, 1)
{
	uint8_t *buf = malloc(DMATEST_BAR2_SIZE), *back = malloc(DMATEST_BAR2_SIZE);
	struct umdev_client *c = fx_client(f, 0);
	struct vfio_region_info_cap_sparse_mmap sparse;
	struct vfio_region_sparse_mmap_area area;
	struct vfio_region_info *info = NULL;
	struct guest g = { .fd = -1 };
	uint8_t *map = MAP_FAILED;
	int fd = -1;

	if (!CHECK(c && buf && back) || !guest_new(&g, GUEST_SIZE))
		goto out;
	if (!CHECK_EQ(umdev_client_get_region_info(c, R_BAR2, &info, &fd), 0) || !CHECK(fd >= 0))
		goto out;
	memcpy(&sparse, (uint8_t *)info + info->cap_offset, sizeof(sparse));
	memcpy(&area, (uint8_t *)info + info->cap_offset + sizeof(sparse), sizeof(area));
	pattern(buf, DMATEST_BAR2_SIZE, 21);
	BAR2_WR(c, 0, buf, DMATEST_BAR2_SIZE);

	/* the client maps the fd at the reported offset plus the area's offset */
	map = mmap(NULL, area.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)(info->offset + area.offset));
	if (!CHECK(map != MAP_FAILED))
		goto out;
	BAR2_RD(c, (uint32_t)area.offset, back, (uint32_t)area.size);
	CHECK(!memcmp(map, back, area.size));
	CHECK(!memcmp(map, buf + area.offset, area.size));

	/* a store through the mapping is what REGION_READ sees, and the other way round */
	pattern(map, area.size, 22);
	BAR2_RD(c, (uint32_t)area.offset, back, (uint32_t)area.size);
	CHECK(!memcmp(map, back, area.size));
	pattern(buf, area.size, 23);
	BAR2_WR(c, (uint32_t)area.offset, buf, (uint32_t)area.size);
	CHECK(!memcmp(map, buf, area.size));
	/* the trapped half is untouched by the stores */
	pattern(buf, DMATEST_BAR2_SIZE, 21);
	BAR2_RD(c, 0, back, (uint32_t)area.offset);
	CHECK(!memcmp(back, buf, area.offset));

	/* and what the device DMAs into that half shows in the mapping */
	pattern(g.mem, 8192, 24);
	if (CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0,
					  VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE),
		     0)) {
		CHECK_EQ(DMA_GO(c, GUEST_IOVA, 8192, (uint32_t)area.offset + 100, 0), 0);
		CHECK(!memcmp(map + 100, g.mem, 8192));
	}
out:
	if (map != MAP_FAILED)
		munmap(map, area.size);
	if (fd >= 0)
		close(fd);
	free(info);
	umdev_client_close(c);
	guest_free(&g);
	free(buf);
	free(back);
}

static void io_fds_at(struct umdev_client *c, uint32_t index, SRCPOS)
{
	struct vfu_region_io_fds rep;
	uint8_t buf[256];
	int fds[4];
	size_t nfds = 4;

	memset(buf, 0xa5, sizeof(buf));
	if (!tap_check_eq(umdev_client_get_region_io_fds(c, index, buf, sizeof(buf), fds, &nfds),
			  sizeof(rep), "umdev_client_get_region_io_fds()", "16", file, line))
		return;
	memcpy(&rep, buf, sizeof(rep));
	tap_check_eq(rep.argsz, sizeof(rep), "argsz", "16", file, line);
	tap_check_eq(rep.flags, 0, "flags", "0", file, line);
	tap_check_eq(rep.index, index, "index", "asked", file, line);
	tap_check_eq(rep.count, 0, "count", "0", file, line);
	tap_check_eq((long long)nfds, 0, "fds", "0", file, line);
}

FUNC_TEST(region_io_fds_empty, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	uint8_t buf[16];
	size_t nfds = 0;

	REQUIRE(c);
	for (uint32_t i = 0; i < VFIO_PCI_NUM_REGIONS; i++)
		io_fds_at(c, i, AT);
	CHECK_EQ(umdev_client_get_region_io_fds(c, VFIO_PCI_NUM_REGIONS, buf, sizeof(buf), NULL,
						&nfds),
		 -EINVAL);
	CHECK_EQ(RD32(c, DMATEST_REG_ID), DMATEST_ID);
	umdev_client_close(c);
}

FUNC_TEST(region_io_fds_null, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);

	REQUIRE(c);
	io_fds_at(c, R_BAR0, AT);
	io_fds_at(c, R_CFG, AT);
	umdev_client_close(c);
}

static void irq_info_at(struct umdev_client *c, uint32_t index, uint32_t flags, uint32_t count,
			SRCPOS)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = index };

	if (!tap_check_eq(umdev_client_get_irq_info(c, &info), 0, "umdev_client_get_irq_info()",
			  "0", file, line))
		return;
	tap_check_eq(info.argsz, sizeof(info), "argsz", "16", file, line);
	tap_check_eq(info.index, index, "index", "asked", file, line);
	tap_check_eq(info.flags, flags, "flags", "expected", file, line);
	tap_check_eq(info.count, count, "count", "expected", file, line);
}

FUNC_TEST(irq_info_dmatest, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_NUM_IRQS };

	REQUIRE(c);
	irq_info_at(c, VFIO_PCI_INTX_IRQ_INDEX,
		    VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED, 1,
		    AT);
	irq_info_at(c, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 1,
		    AT);
	irq_info_at(c, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, AT);
	irq_info_at(c, VFIO_PCI_ERR_IRQ_INDEX, 0, 0, AT);
	irq_info_at(c, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD, 1, AT);
	CHECK_EQ(umdev_client_get_irq_info(c, &info), -EINVAL);
	info.index = UINT32_MAX;
	CHECK_EQ(umdev_client_get_irq_info(c, &info), -EINVAL);
	CHECK_EQ(RD32(c, DMATEST_REG_ID), DMATEST_ID);
	umdev_client_close(c);
}

FUNC_TEST(irq_info_null, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_NUM_IRQS };

	REQUIRE(c);
	for (uint32_t i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		irq_info_at(c, i, 0, 0, AT);
	CHECK_EQ(umdev_client_get_irq_info(c, &info), -EINVAL);
	umdev_client_close(c);
}
