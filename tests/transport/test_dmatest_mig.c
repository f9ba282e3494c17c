/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of dmatest's migration (dmatest_mig.c) through the core's VFIO_DEVICE_FEATURE and
 * the device's current stream: the features, a round trip through STOP_COPY and one through
 * PRE_COPY (saved from one device, resumed into another: registers, config space and buffer
 * equal), pre-copy info, every pair of states, the errors of a resuming stream, and what a
 * stopped device does with GO and RAISE.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmatest_fixture.h"

#define HDR sizeof(struct dmatest_mig_header)

/* Gives a device state worth migrating: registers, config, buffer, a pending interrupt. */
static void make_state(struct dev *d, unsigned int seed)
{
	uint8_t *buf = malloc(DMATEST_BAR2_SIZE);

	REQUIRE(buf);
	pattern(buf, DMATEST_BAR2_SIZE, seed);
	bar2_wr(d, 0, buf, DMATEST_BAR2_SIZE);
	if (d->space) {
		pattern(d->guest, PAGE_SIZE, seed + 1);
		CHECK_EQ(dma_go(d, GUEST_IOVA + 5, 3000, 777, DMATEST_CTRL_PIN), 0);
	}
	wr64(d, DMATEST_REG_SCRATCH, 0x5ca1ab1e00000000ull | seed);
	wr64(d, DMATEST_REG_DMA_ADDR, 0xabcdef000ull + seed);
	wr32(d, DMATEST_REG_DMA_LEN, 1234);
	wr32(d, DMATEST_REG_DMA_BUF_OFF, 4321);
	wr32(d, DMATEST_REG_DMA_CTRL, DMATEST_CTRL_TO_GUEST | DMATEST_CTRL_HOLD);
	wr32(d, DMATEST_REG_IRQ_CTRL, DMATEST_IRQ_CTRL_RAISE);
	cfg_wr(d, 0x04, 0x0006, 2);
	cfg_wr(d, 0x10, 0xfebf1000, 4);
	cfg_wr(d, 0x18, 0xfeb00000, 4);
	cfg_wr(d, 0x3c, 10, 1);
	cfg_wr(d, DMATEST_MSI_CAP + 4, 0xfee00000, 4);
	cfg_wr(d, DMATEST_MSI_CAP + 8, 0x4021, 2);
	free(buf);
}

/* The device state of @a and @b is the same (registers but PINNED_PAGES, config, buffer). */
static void same_state(struct dev *a, struct dev *b)
{
	uint8_t *ba = malloc(DMATEST_BAR2_SIZE), *bb = malloc(DMATEST_BAR2_SIZE);

	for (uint64_t off = 0; off < DMATEST_REG_END; off += 4)
		if (off != DMATEST_REG_PINNED_PAGES)
			CHECK_EQ(rd32(a, off), rd32(b, off));
	for (unsigned int off = 0; off < DMATEST_CONFIG_SIZE; off += 4)
		CHECK_EQ(cfg_rd(a, off, 4), cfg_rd(b, off, 4));
	if (CHECK(ba && bb)) {
		bar2_rd(a, 0, ba, DMATEST_BAR2_SIZE);
		bar2_rd(b, 0, bb, DMATEST_BAR2_SIZE);
		CHECK(!memcmp(ba, bb, DMATEST_BAR2_SIZE));
	}
	free(ba);
	free(bb);
}

/* Resumes @stream into @d and runs it. */
static void resume(struct dev *d, const uint8_t *stream, size_t len)
{
	CHECK_EQ(mig_set(d, VFIO_DEVICE_STATE_RESUMING), 0);
	CHECK_EQ(mig_get(d), VFIO_DEVICE_STATE_RESUMING);
	CHECK_EQ(mig_write_all(d, stream, len), 0);
	CHECK_EQ(mig_set(d, VFIO_DEVICE_STATE_STOP), 0);
	CHECK_EQ(mig_set(d, VFIO_DEVICE_STATE_RUNNING), 0);
}

DMATEST_TEST(mig_features)
{
	struct vfio_device_feature_migration mig = { 0 };
	struct vfio_device_feature_mig_data_size size = { 0 };
	union feature_buf b;
	struct dev d;

	REQUIRE(dev_create_open(f, 200, &d, false));
	CHECK_EQ(feature_get(&d, VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig)), 0);
	CHECK_EQ(mig.flags,
		 VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY);
	CHECK_EQ(feature_get(&d, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size, sizeof(size)), 0);
	CHECK_EQ(size.stop_copy_length, DMATEST_MIG_STREAM_SIZE);
	CHECK_EQ(DMATEST_MIG_STREAM_SIZE, 24 + 64 + 256 + 65536);
	CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_RUNNING);
	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(b.hdr);
	b.hdr.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_FEATURE, &b.hdr), 0);
	/* no stream before a transition opens one */
	CHECK_EQ(vfio_device_mig_read(d.vdev, &b, 1), -EINVAL);
	/* states that do not exist or are not reachable */
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_ERROR), -EINVAL);
	CHECK_EQ(mig_set(&d, UMDEV_VFIO_DEVICE_STATE_MAX + 1), -EINVAL);
	CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_RUNNING);
	dev_destroy(&d);
}

DMATEST_TEST(mig_round_trip_stop_copy)
{
	uint8_t *stream = malloc(DMATEST_MIG_STREAM_SIZE + 1), extra;
	struct dmatest_mig_header h;
	struct dev a, b;

	REQUIRE(stream);
	if (!dev_create_open(f, 201, &a, true) || !dev_create_open(f, 202, &b, false))
		goto out;
	make_state(&a, 1);
	CHECK_EQ(mig_set(&a, VFIO_DEVICE_STATE_STOP_COPY), 0);
	CHECK_EQ(mig_get(&a), VFIO_DEVICE_STATE_STOP_COPY);
	CHECK_EQ(precopy_info(&a, &(struct vfio_precopy_info){ 0 }), -EINVAL);
	CHECK_EQ(mig_read_all(&a, stream, DMATEST_MIG_STREAM_SIZE + 1), DMATEST_MIG_STREAM_SIZE);
	memcpy(&h, stream, sizeof(h));
	CHECK_EQ(le64toh(h.magic), DMATEST_MIG_MAGIC);
	CHECK_EQ(le32toh(h.version), DMATEST_MIG_VERSION);
	CHECK_EQ(h.flags, 0);
	CHECK_EQ(le64toh(h.length), DMATEST_MIG_PAYLOAD_SIZE);
	/* the saving stream is not writable; once STOP is reached it is gone */
	CHECK_EQ(vfio_device_mig_write(a.vdev, stream, 1), -EINVAL);
	CHECK_EQ(mig_set(&a, VFIO_DEVICE_STATE_STOP), 0);
	CHECK_EQ(vfio_device_mig_read(a.vdev, &extra, 1), -ENODEV);
	CHECK_EQ(mig_set(&a, VFIO_DEVICE_STATE_RUNNING), 0);

	resume(&b, stream, DMATEST_MIG_STREAM_SIZE);
	same_state(&a, &b);
	CHECK_EQ(rd32(&b, DMATEST_REG_IRQ_STATUS), DMATEST_IRQ_STATUS_PENDING);
	CHECK_EQ(rd64(&b, DMATEST_REG_XFER_COUNT), 1);
	/* the resuming stream went with the load */
	CHECK_EQ(vfio_device_mig_write(b.vdev, stream, 1), -ENODEV);
	/* the source runs on */
	CHECK_EQ(dma_go(&a, GUEST_IOVA, 16, 0, 0), 0);
out:
	dev_destroy(&a);
	dev_destroy(&b);
	free(stream);
}

DMATEST_TEST(mig_round_trip_precopy)
{
	uint8_t *stream = malloc(DMATEST_MIG_STREAM_SIZE + 1);
	struct vfio_precopy_info info;
	struct dev a, b;
	ssize_t n;

	REQUIRE(stream);
	if (!dev_create_open(f, 203, &a, true) || !dev_create_open(f, 204, &b, false))
		goto out;
	make_state(&a, 2);
	CHECK_EQ(mig_set(&a, VFIO_DEVICE_STATE_PRE_COPY), 0);
	CHECK_EQ(mig_get(&a), VFIO_DEVICE_STATE_PRE_COPY);
	CHECK_EQ(precopy_info(&a, &info), 0);
	CHECK_EQ(info.initial_bytes, HDR);
	CHECK_EQ(info.dirty_bytes, 0);
	CHECK_EQ(vfio_device_mig_read(a.vdev, stream, 10), 10);
	CHECK_EQ(precopy_info(&a, &info), 0);
	CHECK_EQ(info.initial_bytes, HDR - 10);
	/* the device still runs in PRE_COPY; what it does now is in the final data */
	CHECK_EQ(dma_go(&a, GUEST_IOVA + 2 * PAGE_SIZE, 100, 60000, 0), 0);
	CHECK_EQ(mig_set(&a, VFIO_DEVICE_STATE_PRE_COPY_P2P), 0);
	CHECK_EQ(precopy_info(&a, &info), 0);
	CHECK_EQ(info.initial_bytes, HDR - 10);
	CHECK_EQ(dma_go(&a, GUEST_IOVA + 3 * PAGE_SIZE, 100, 61000, 0), 0);
	/* STOP_COPY appends to the same stream */
	CHECK_EQ(mig_set(&a, VFIO_DEVICE_STATE_STOP_COPY), 0);
	CHECK_EQ(precopy_info(&a, &info), -EINVAL);
	n = mig_read_all(&a, stream + 10, DMATEST_MIG_STREAM_SIZE + 1 - 10);
	CHECK_EQ(n, DMATEST_MIG_STREAM_SIZE - 10);
	CHECK_EQ(mig_set(&a, VFIO_DEVICE_STATE_RUNNING), 0);

	resume(&b, stream, DMATEST_MIG_STREAM_SIZE);
	same_state(&a, &b);
	CHECK_EQ(rd64(&b, DMATEST_REG_XFER_COUNT), 3);
out:
	dev_destroy(&a);
	dev_destroy(&b);
	free(stream);
}

DMATEST_TEST(mig_precopy_stream_errors)
{
	struct vfio_precopy_info info;
	uint8_t hdr[HDR];
	struct dev d;

	REQUIRE(dev_create_open(f, 205, &d, false));
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_PRE_COPY), 0);
	info.argsz = sizeof(info) - 1;
	CHECK_EQ(vfio_device_mig_ioctl(d.vdev, VFIO_MIG_GET_PRECOPY_INFO, &info), -EINVAL);
	CHECK_EQ(vfio_device_mig_ioctl(d.vdev, VFIO_MIG_GET_PRECOPY_INFO + 1, &info), -ENOTTY);
	/* back to RUNNING: the stream is disabled */
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(vfio_device_mig_read(d.vdev, hdr, sizeof(hdr)), -ENODEV);
	CHECK_EQ(precopy_info(&d, &info), -EINVAL);
	/* a new PRE_COPY gives a new stream, read to its end */
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_PRE_COPY), 0);
	CHECK_EQ(mig_read_all(&d, hdr, sizeof(hdr)), HDR);
	CHECK_EQ(precopy_info(&d, &info), 0);
	CHECK_EQ(info.initial_bytes, 0);
	/* a reset ends migration */
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
	CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_RUNNING);
	CHECK_EQ(vfio_device_mig_read(d.vdev, hdr, sizeof(hdr)), -ENODEV);
	dev_destroy(&d);
}

DMATEST_TEST(mig_resume_errors)
{
	uint8_t *stream = malloc(DMATEST_MIG_STREAM_SIZE + 1);
	const size_t half = DMATEST_MIG_STREAM_SIZE / 2;
	struct dmatest_mig_header h;
	struct dev a, b;

	REQUIRE(stream);
	if (!dev_create_open(f, 206, &a, false) || !dev_create_open(f, 207, &b, false))
		goto out;
	make_state(&a, 3);
	CHECK_EQ(mig_set(&a, VFIO_DEVICE_STATE_STOP_COPY), 0);
	CHECK_EQ(mig_read_all(&a, stream, DMATEST_MIG_STREAM_SIZE), DMATEST_MIG_STREAM_SIZE);

	/* incomplete: STOP fails and the device stays RESUMING; the rest makes it */
	CHECK_EQ(mig_set(&b, VFIO_DEVICE_STATE_RESUMING), 0);
	CHECK_EQ(vfio_device_mig_read(b.vdev, stream + DMATEST_MIG_STREAM_SIZE, 1), -EINVAL);
	CHECK_EQ(mig_set(&b, VFIO_DEVICE_STATE_STOP), -EINVAL);
	CHECK_EQ(mig_write_all(&b, stream, half), 0);
	CHECK_EQ(mig_set(&b, VFIO_DEVICE_STATE_RUNNING), -EINVAL);
	CHECK_EQ(mig_get(&b), VFIO_DEVICE_STATE_RESUMING);
	CHECK_EQ(mig_write_all(&b, stream + half, DMATEST_MIG_STREAM_SIZE - half), 0);
	/* nothing past the end */
	CHECK_EQ(vfio_device_mig_write(b.vdev, stream, 1), -ENOMEM);
	CHECK_EQ(mig_set(&b, VFIO_DEVICE_STATE_RUNNING), 0);
	same_state(&a, &b);

	/* a wrong header is refused as soon as it is complete */
	memcpy(&h, stream, sizeof(h));
	for (int bad = 0; bad < 4; bad++) {
		struct dmatest_mig_header w = h;

		if (bad == 0)
			w.magic ^= 1;
		else if (bad == 1)
			w.version = htole32(DMATEST_MIG_VERSION + 1);
		else if (bad == 2)
			w.flags = 1;
		else
			w.length = htole64(DMATEST_MIG_PAYLOAD_SIZE - 1);
		CHECK_EQ(vfio_device_ioctl(b.vdev, VFIO_DEVICE_RESET, NULL), 0);
		CHECK_EQ(mig_set(&b, VFIO_DEVICE_STATE_RESUMING), 0);
		CHECK_EQ(vfio_device_mig_write(b.vdev, &w, HDR - 1), HDR - 1);
		CHECK_EQ(vfio_device_mig_write(b.vdev, (uint8_t *)&w + HDR - 1, 1), -EINVAL);
		/* still wrong with the right last byte: the field is in the first ones */
		CHECK_EQ(vfio_device_mig_write(b.vdev, stream + HDR - 1, 1), -EINVAL);
		CHECK_EQ(mig_set(&b, VFIO_DEVICE_STATE_STOP), -EINVAL);
	}
	/* a bad reserved field of the registers is found at the load */
	CHECK_EQ(vfio_device_ioctl(b.vdev, VFIO_DEVICE_RESET, NULL), 0);
	CHECK_EQ(mig_set(&b, VFIO_DEVICE_STATE_RESUMING), 0);
	stream[HDR + offsetof(struct dmatest_mig_regs, reserved)] = 1;
	CHECK_EQ(mig_write_all(&b, stream, DMATEST_MIG_STREAM_SIZE), 0);
	CHECK_EQ(mig_set(&b, VFIO_DEVICE_STATE_STOP), -EINVAL);
	CHECK_EQ(mig_get(&b), VFIO_DEVICE_STATE_RESUMING);
out:
	dev_destroy(&a);
	dev_destroy(&b);
	free(stream);
}

/* Every state to every state, through the core's paths; what each target leaves open. */
DMATEST_TEST(mig_all_arcs)
{
	uint8_t *buf = malloc(DMATEST_MIG_STREAM_SIZE + 1);
	struct dev d;

	REQUIRE(buf);
	if (!dev_create_open(f, 208, &d, false))
		goto out;
	for (uint32_t from = 1; from <= UMDEV_VFIO_DEVICE_STATE_MAX; from++) {
		for (uint32_t to = 1; to <= UMDEV_VFIO_DEVICE_STATE_MAX; to++) {
			CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
			if (!CHECK_EQ(mig_set(&d, from), 0))
				continue;
			if (from == VFIO_DEVICE_STATE_RESUMING && to != from) {
				/* the way out loads, and nothing was written */
				CHECK_EQ(mig_set(&d, to), -EINVAL);
				CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_RESUMING);
				continue;
			}
			if (from == VFIO_DEVICE_STATE_STOP_COPY &&
			    (to == VFIO_DEVICE_STATE_PRE_COPY ||
			     to == VFIO_DEVICE_STATE_PRE_COPY_P2P)) {
				/* blocked, as in the kernel's table */
				CHECK_EQ(mig_set(&d, to), -EINVAL);
				CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_STOP_COPY);
				continue;
			}
			if (!CHECK_EQ(mig_set(&d, to), 0)) {
				tap_diag("from %u to %u", from, to);
				continue;
			}
			CHECK_EQ(mig_get(&d), to);
			switch (to) {
			case VFIO_DEVICE_STATE_STOP_COPY:
				CHECK_EQ(mig_read_all(&d, buf, DMATEST_MIG_STREAM_SIZE + 1),
					 DMATEST_MIG_STREAM_SIZE);
				break;
			case VFIO_DEVICE_STATE_PRE_COPY:
			case VFIO_DEVICE_STATE_PRE_COPY_P2P:
				CHECK_EQ(mig_read_all(&d, buf, DMATEST_MIG_STREAM_SIZE + 1), HDR);
				break;
			case VFIO_DEVICE_STATE_RESUMING:
				CHECK_EQ(vfio_device_mig_write(d.vdev, buf, 1), 1);
				break;
			default:
				/* a stream left from `from` is disabled, if there is one */
				CHECK(vfio_device_mig_read(d.vdev, buf, 1) < 0);
				break;
			}
		}
	}
out:
	dev_destroy(&d);
	free(buf);
}

/* A stopped device neither transfers nor interrupts; it does again once running. */
DMATEST_TEST(mig_stopped_device)
{
	static const uint32_t stopped[] = { VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_STOP_COPY,
					    VFIO_DEVICE_STATE_RESUMING };
	struct dev d;
	int efd = -1;

	if (!dev_create_open(f, 209, &d, true))
		goto out;
	efd = efd_new();
	CHECK_EQ(irq_set_fd(&d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, efd), 0);
	for (size_t i = 0; i < sizeof(stopped) / sizeof(stopped[0]); i++) {
		CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
		CHECK_EQ(mig_set(&d, stopped[i]), 0);
		CHECK_EQ(dma_go(&d, GUEST_IOVA, 16, 0, 0), 0);
		wr32(&d, DMATEST_REG_IRQ_CTRL, DMATEST_IRQ_CTRL_RAISE);
		CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 0);
		CHECK_EQ(rd32(&d, DMATEST_REG_IRQ_STATUS), 0);
		CHECK_EQ(efd_take(efd), 0);
		/* the rest of the device answers */
		wr64(&d, DMATEST_REG_SCRATCH, 7);
		CHECK_EQ(rd64(&d, DMATEST_REG_SCRATCH), 7);
		CHECK_EQ(cfg_rd(&d, 0, 2), DMATEST_PCI_VENDOR_ID);
	}
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_RUNNING_P2P), 0);
	CHECK_EQ(dma_go(&d, GUEST_IOVA, 16, 0, 0), 0);
	CHECK_EQ(rd64(&d, DMATEST_REG_XFER_COUNT), 1);
	CHECK_EQ(efd_take(efd), 1);
out:
	dev_destroy(&d);
	if (efd >= 0)
		close(efd);
}

/* The last close ends migration: the next client finds the device RUNNING, no stream. */
DMATEST_TEST(mig_close_resets)
{
	uint8_t byte;
	struct dev d;

	REQUIRE(dev_create_open(f, 210, &d, false));
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_STOP_COPY), 0);
	dev_close(&d);
	if (CHECK_EQ(vfio_device_open(d.vdev, NULL), 0)) {
		d.open = true;
		CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_RUNNING);
		CHECK_EQ(vfio_device_mig_read(d.vdev, &byte, 1), -EINVAL);
	}
	dev_destroy(&d);
}
