/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Functional tests of region access and reset: REGION_READ and REGION_WRITE of 1, 2, 4 and 8
 * bytes and of whole regions (null's BAR0, dmatest's 64 KiB BAR2 in one message), posted
 * writes (NO_REPLY) that later reads see in order, the out-of-range errors, and
 * REGION_WRITE_MULTI (null's BAR0 against a model, a dmatest transfer programmed in one
 * message); DEVICE_RESET of both devices, checked in their registers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "functional.h"

static uint8_t buf[DMATEST_BAR2_SIZE], back[DMATEST_BAR2_SIZE];

FUNC_TEST(region_sizes_null, FX_NULL, 1, 1)
{
	static const uint64_t offs[] = { 0, 1, 3, 0x100, 0x7ff, NULL_BAR0_SIZE - 8 };
	struct umdev_client *c = fx_client(f, 0);

	REQUIRE(c);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (unsigned int len = 1; len <= 8; len *= 2) {
			uint64_t v = 0x8877665544332211ull >> (8 * (8 - len));

			v ^= offs[i] * 0x0101010101010101ull;
			if (len < 8)
				v &= (1ull << (8 * len)) - 1;
			reg_wr_at(c, R_BAR0, offs[i], v, len, AT);
			CHECK_EQ(reg_rd_at(c, R_BAR0, offs[i], len, AT), v);
		}
	}
	/* 8 bytes in, read back in pieces, little endian */
	WR64(c, 0x200, 0x0807060504030201ull);
	CHECK_EQ(RD32(c, 0x200), 0x04030201);
	CHECK_EQ(RD32(c, 0x204), 0x08070605);
	CHECK_EQ(reg_rd_at(c, R_BAR0, 0x202, 2, AT), 0x0403);
	CHECK_EQ(reg_rd_at(c, R_BAR0, 0x207, 1, AT), 0x08);
	/* config space: identity, and the writable bits only */
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	CHECK_EQ(CFG_RD(c, 0, 2), 0x1234);
	CHECK_EQ(CFG_RD(c, 2, 2), 0x6e75);
	CHECK_EQ(CFG_RD(c, 0, 1), 0x34);
	CFG_WR(c, 0x04, 0xffff, 2);
	CHECK_EQ(CFG_RD(c, 0x04, 2), 0x0006);
	CFG_WR(c, 0x3c, 0xab, 1);
	CHECK_EQ(CFG_RD(c, 0x3c, 1), 0xab);
	CFG_WR(c, 0x00, 0xffffffff, 4); /* read-only */
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	umdev_client_close(c);
}

FUNC_TEST(region_sizes_dmatest, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	uint8_t b[8] = { 0 };

	REQUIRE(c);
	/* BAR0 registers: 4 or 8 naturally aligned bytes, the driver refuses the rest */
	CHECK_EQ(RD32(c, DMATEST_REG_ID), DMATEST_ID);
	WR64(c, DMATEST_REG_SCRATCH, 0x1122334455667788ull);
	CHECK_EQ(RD64(c, DMATEST_REG_SCRATCH), 0x1122334455667788ull);
	CHECK_EQ(RD32(c, DMATEST_REG_SCRATCH + 4), 0x11223344);
	WR32(c, DMATEST_REG_SCRATCH, 0xa5a5a5a5);
	CHECK_EQ(RD64(c, DMATEST_REG_SCRATCH), 0x11223344a5a5a5a5ull);
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, DMATEST_REG_ID, b, 1), -EINVAL);
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, DMATEST_REG_ID, b, 2), -EINVAL);
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, DMATEST_REG_SCRATCH + 2, b, 4), -EINVAL);
	CHECK_EQ(umdev_client_region_write(c, R_BAR0, DMATEST_REG_SCRATCH + 4, b, 8, false),
		 -EINVAL);
	CHECK_EQ(RD64(c, DMATEST_REG_SCRATCH), 0x11223344a5a5a5a5ull);
	/* config space, any size */
	CHECK_EQ(CFG_RD(c, 0, 2), DMATEST_PCI_VENDOR_ID);
	CHECK_EQ(CFG_RD(c, 2, 2), DMATEST_PCI_DEVICE_ID);
	CHECK_EQ(CFG_RD(c, 8, 1), DMATEST_PCI_REVISION);
	CHECK_EQ(CFG_RD(c, 0x34, 1), DMATEST_MSI_CAP);
	CFG_WR(c, 0x04, 0xffff, 2);
	CHECK_EQ(CFG_RD(c, 0x04, 2), DMATEST_PCI_COMMAND_WMASK);
	/* BAR2, any size and alignment */
	for (unsigned int len = 1; len <= 8; len *= 2) {
		uint64_t v = 0x0102030405060708ull >> (8 * (8 - len));

		reg_wr_at(c, R_BAR2, 3 * len + 1, v, len, AT);
		CHECK_EQ(reg_rd_at(c, R_BAR2, 3 * len + 1, len, AT), v);
	}
	umdev_client_close(c);
}

FUNC_TEST(region_whole_regions, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	uint8_t cfg[DMATEST_CONFIG_SIZE];

	REQUIRE(c);
	/* all of BAR2 in one message each way */
	pattern(buf, sizeof(buf), 1);
	BAR2_WR(c, 0, buf, sizeof(buf));
	memset(back, 0, sizeof(back));
	BAR2_RD(c, 0, back, sizeof(back));
	CHECK(!memcmp(back, buf, sizeof(buf)));
	/* across the boundary of the mmappable half */
	pattern(buf, 200, 2);
	BAR2_WR(c, DMATEST_BAR2_MMAP_OFFSET - 100, buf, 200);
	BAR2_RD(c, DMATEST_BAR2_MMAP_OFFSET - 101, back, 202);
	CHECK(!memcmp(back + 1, buf, 200));
	/* the last byte */
	BAR2_RD(c, DMATEST_BAR2_SIZE - 1, back, 1);
	pattern(buf, sizeof(buf), 1);
	CHECK_EQ(back[0], buf[DMATEST_BAR2_SIZE - 1]);
	/* all of config space */
	CHECK_EQ(umdev_client_region_read(c, R_CFG, 0, cfg, sizeof(cfg)), sizeof(cfg));
	CHECK_EQ(cfg[0] | cfg[1] << 8, DMATEST_PCI_VENDOR_ID);
	CHECK_EQ(cfg[0x40], 0x05); /* the MSI capability */
	umdev_client_close(c);
}

FUNC_TEST(region_whole_bar_null, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);

	REQUIRE(c);
	pattern(buf, NULL_BAR0_SIZE, 3);
	CHECK_EQ(umdev_client_region_write(c, R_BAR0, 0, buf, NULL_BAR0_SIZE, false),
		 NULL_BAR0_SIZE);
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, 0, back, NULL_BAR0_SIZE), NULL_BAR0_SIZE);
	CHECK(!memcmp(back, buf, NULL_BAR0_SIZE));
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, 96, back, 4000), 4000);
	CHECK(!memcmp(back, buf + 96, 4000));
	umdev_client_close(c);
}

FUNC_TEST(region_out_of_range, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct vfio_user_server_stats st0, st1;
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static uint8_t big[(1 << 20) + 1];

	REQUIRE(c);
	WR32(c, NULL_BAR0_SIZE - 4, 0xcafef00d);
	st0 = fx_stats(f, 0);
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, NULL_BAR0_SIZE, b, 1), -EINVAL);
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, NULL_BAR0_SIZE - 1, b, 2), -EINVAL);
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, UINT64_MAX, b, 1), -EINVAL);
	CHECK_EQ(umdev_client_region_write(c, R_BAR0, NULL_BAR0_SIZE - 2, b, 4, false), -EINVAL);
	CHECK_EQ(umdev_client_region_write(c, R_BAR0, UINT64_MAX - 1, b, 4, false), -EINVAL);
	CHECK_EQ(umdev_client_region_read(c, R_CFG, NULL_CFG_SIZE, b, 1), -EINVAL);
	CHECK_EQ(umdev_client_region_read(c, 1, 0, b, 1), -EINVAL); /* BAR1: size 0 */
	CHECK_EQ(umdev_client_region_write(c, 1, 0, b, 1, false), -EINVAL);
	CHECK_EQ(umdev_client_region_read(c, VFIO_PCI_NUM_REGIONS, 0, b, 1), -EINVAL);
	CHECK_EQ(umdev_client_region_read(c, UINT32_MAX, 0, b, 1), -EINVAL);
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, 0, big, 1 << 20), -EINVAL); /* > 4 KiB */
	st1 = fx_stats(f, 0);
	CHECK_EQ(st1.error_replies - st0.error_replies, 11);
	/* beyond max_data_xfer_size: the client does not send it */
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, 0, big, sizeof(big)), -EINVAL);
	CHECK_EQ(umdev_client_region_write(c, R_BAR0, 0, big, sizeof(big), false), -EINVAL);
	CHECK_EQ(fx_stats(f, 0).messages, st1.messages);
	/* a posted write out of range: no reply, no effect, the connection goes on */
	CHECK_EQ(umdev_client_region_write(c, R_BAR0, NULL_BAR0_SIZE - 2, b, 4, true), 4);
	CHECK_EQ(RD32(c, NULL_BAR0_SIZE - 4), 0xcafef00d);
	CHECK_EQ(fx_stats(f, 0).error_replies - st1.error_replies, 1);
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	umdev_client_close(c);
}

FUNC_TEST(region_posted_writes, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	uint32_t model[NULL_BAR0_SIZE / 4] = { 0 }, got[NULL_BAR0_SIZE / 4];

	REQUIRE(c);
	/* more than the socket buffers: the client keeps sending, the server keeps order */
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t slot = (i * 7) % (NULL_BAR0_SIZE / 4), v = i * 2654435761u;

		model[slot] = v;
		if (!CHECK_EQ(umdev_client_region_write(c, R_BAR0, slot * 4, &v, 4, true), 4))
			break;
	}
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, 0, got, sizeof(got)), sizeof(got));
	CHECK(!memcmp(got, model, sizeof(got)));
	/* a posted write is applied before the next request is answered */
	for (uint32_t i = 0; i < 100; i++) {
		uint8_t v = (uint8_t)i;

		CHECK_EQ(umdev_client_region_write(c, R_CFG, 0x3c, &v, 1, true), 1);
		if (!CHECK_EQ(CFG_RD(c, 0x3c, 1), v))
			break;
	}
	umdev_client_close(c);
}

FUNC_TEST(region_posted_writes_dmatest, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	uint64_t v = 0x0123456789abcdefull;

	REQUIRE(c);
	CHECK_EQ(umdev_client_region_write(c, R_BAR0, DMATEST_REG_SCRATCH, &v, 8, true), 8);
	CHECK_EQ(RD64(c, DMATEST_REG_SCRATCH), v);
	pattern(buf, sizeof(buf), 4);
	CHECK_EQ(umdev_client_region_write(c, R_BAR2, 0, buf, sizeof(buf), true), sizeof(buf));
	BAR2_RD(c, 0, back, sizeof(back));
	CHECK(!memcmp(back, buf, sizeof(buf)));
	umdev_client_close(c);
}

FUNC_TEST(region_write_multi_null, FX_NULL, 1, 1)
{
	struct umdev_client_write *w = calloc(450, sizeof(*w));
	struct umdev_client *c = fx_client(f, 0), *plain = NULL;
	uint8_t model[NULL_BAR0_SIZE] = { 0 }, got[NULL_BAR0_SIZE];

	if (!CHECK(c && w))
		goto out;
	/* 450 writes of 1 to 8 bytes: three messages (200, 200, 50), applied in order */
	for (uint32_t i = 0; i < 450; i++) {
		w[i].region = R_BAR0;
		w[i].count = i % 8 + 1;
		w[i].offset = (i * 37) % (NULL_BAR0_SIZE - 8);
		pattern(w[i].data, w[i].count, i);
		memcpy(model + w[i].offset, w[i].data, w[i].count);
	}
	CHECK_EQ(umdev_client_region_write_multi(c, w, 450), 450);
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, 0, got, sizeof(got)), sizeof(got));
	CHECK(!memcmp(got, model, sizeof(got)));
	/* config and BAR0 in one message */
	w[0] = (struct umdev_client_write){ .offset = 0x3c, .region = R_CFG, .count = 1,
					    .data = { 0x42 } };
	w[1] = (struct umdev_client_write){ .offset = 0x10, .region = R_BAR0, .count = 4,
					    .data = { 9, 8, 7, 6 } };
	CHECK_EQ(umdev_client_region_write_multi(c, w, 2), 2);
	CHECK_EQ(CFG_RD(c, 0x3c, 1), 0x42);
	CHECK_EQ(RD32(c, 0x10), 0x06070809);
	/* an entry out of range: no reply (always posted); what came before it was applied,
	 * and the connection goes on */
	w[0] = (struct umdev_client_write){ .offset = 0x20, .region = R_BAR0, .count = 2,
					    .data = { 0xaa, 0xbb } };
	w[1] = (struct umdev_client_write){ .offset = NULL_BAR0_SIZE - 1, .region = R_BAR0,
					    .count = 2 };
	CHECK_EQ(umdev_client_region_write_multi(c, w, 2), 2);
	CHECK_EQ(reg_rd_at(c, R_BAR0, 0x20, 2, AT), 0xbbaa);
	/* more than 8 bytes in an entry: the client refuses */
	w[0].count = 9;
	CHECK_EQ(umdev_client_region_write_multi(c, w, 1), -EINVAL);
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	umdev_client_close(c);
	c = NULL;
	REQUIRE(fx_wait_gone(f, 0));
	/* a client that was not offered write_multiple does not use it */
	plain = fx_client_unversioned(f, 0);
	if (CHECK(plain) && fx_version_raw(plain, "{\"capabilities\":{\"max_msg_fds\":16}}")) {
		CHECK(!umdev_client_write_multiple(plain));
		CHECK_EQ(umdev_client_region_write_multi(plain, w, 1), -EOPNOTSUPP);
	}
out:
	umdev_client_close(c);
	umdev_client_close(plain);
	free(w);
}

FUNC_TEST(region_write_multi_programs_transfer, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 };
	uint64_t addr = GUEST_IOVA + 0x2001;
	uint32_t len = 5000, off = 300, go = DMATEST_CTRL_GO;
	struct umdev_client_write w[4] = {
		{ .offset = DMATEST_REG_DMA_ADDR, .region = R_BAR0, .count = 8 },
		{ .offset = DMATEST_REG_DMA_LEN, .region = R_BAR0, .count = 4 },
		{ .offset = DMATEST_REG_DMA_BUF_OFF, .region = R_BAR0, .count = 4 },
		{ .offset = DMATEST_REG_DMA_CTRL, .region = R_BAR0, .count = 4 },
	};

	if (!CHECK(c) || !guest_new(&g, GUEST_SIZE) ||
	    !CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0,
					   VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE),
		      0))
		goto out;
	memcpy(w[0].data, &addr, 8);
	memcpy(w[1].data, &len, 4);
	memcpy(w[2].data, &off, 4);
	memcpy(w[3].data, &go, 4);
	pattern(g.mem, GUEST_SIZE, 5);
	CHECK_EQ(umdev_client_region_write_multi(c, w, 4), 4);
	CHECK_EQ(RD32(c, DMATEST_REG_DMA_STATUS), 0);
	CHECK_EQ(RD64(c, DMATEST_REG_XFER_COUNT), 1);
	BAR2_RD(c, off, back, len);
	CHECK(!memcmp(back, g.mem + 0x2001, len));
out:
	umdev_client_close(c);
	guest_free(&g);
}

FUNC_TEST(reset_null, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	uint8_t zero[NULL_BAR0_SIZE] = { 0 };

	REQUIRE(c);
	pattern(buf, NULL_BAR0_SIZE, 6);
	CHECK_EQ(umdev_client_region_write(c, R_BAR0, 0, buf, NULL_BAR0_SIZE, false),
		 NULL_BAR0_SIZE);
	CFG_WR(c, 0x04, 0x06, 2);
	CFG_WR(c, 0x3c, 0x0b, 1);
	CHECK_EQ(umdev_client_reset(c), 0);
	CHECK_EQ(umdev_client_region_read(c, R_BAR0, 0, back, NULL_BAR0_SIZE), NULL_BAR0_SIZE);
	CHECK(!memcmp(back, zero, NULL_BAR0_SIZE));
	CHECK_EQ(CFG_RD(c, 0x04, 2), 0);
	CHECK_EQ(CFG_RD(c, 0x3c, 1), 0);
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	CHECK_EQ(umdev_client_reset(c), 0); /* again: nothing to do, still fine */
	umdev_client_close(c);
}

FUNC_TEST(reset_dmatest, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 };
	int efd = efd_new(true), one = 0;
	uint64_t v;

	if (!CHECK(c) || !guest_new(&g, GUEST_SIZE) ||
	    !CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0,
					   VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE),
		      0))
		goto out;
	one = efd;
	CHECK_EQ(umdev_client_set_irqs(c, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0,
				       1, &one),
		 0);
	WR64(c, DMATEST_REG_SCRATCH, 77);
	pattern(buf, sizeof(buf), 7);
	BAR2_WR(c, 0, buf, sizeof(buf));
	CFG_WR(c, 0x04, 0x06, 2);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 8192, 0, DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD), 0);
	CHECK_EQ(RD32(c, DMATEST_REG_PINNED_PAGES), 2);
	CHECK(efd_wait(efd) && efd_take(efd) == 1);

	CHECK_EQ(umdev_client_reset(c), 0);
	CHECK_EQ(RD64(c, DMATEST_REG_SCRATCH), 0);
	CHECK_EQ(RD64(c, DMATEST_REG_XFER_COUNT), 0);
	CHECK_EQ(RD32(c, DMATEST_REG_PINNED_PAGES), 0);
	CHECK_EQ(RD32(c, DMATEST_REG_IRQ_STATUS), 0);
	CHECK_EQ(RD32(c, DMATEST_REG_DMA_CTRL), 0);
	CHECK_EQ(CFG_RD(c, 0x04, 2), 0);
	CHECK_EQ(CFG_RD(c, 0, 2), DMATEST_PCI_VENDOR_ID);
	memset(buf, 0, sizeof(buf));
	BAR2_RD(c, 0, back, sizeof(back));
	CHECK(!memcmp(back, buf, sizeof(buf)));
	/* the interrupt set-up stays (and so does its mask state: unmask first) */
	CHECK_EQ(umdev_client_set_irqs(c, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
				       NULL),
		 0);
	WR32(c, DMATEST_REG_IRQ_CTRL, DMATEST_IRQ_CTRL_RAISE);
	CHECK(efd_wait(efd) && efd_take(efd) == 1);
	/* the mappings stay too */
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 16, 0, 0), 0);
	v = RD64(c, DMATEST_REG_XFER_COUNT);
	CHECK_EQ(v, 1);
out:
	umdev_client_close(c);
	guest_free(&g);
	close(efd);
}
