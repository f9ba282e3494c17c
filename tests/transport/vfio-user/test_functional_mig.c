/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Functional tests of DEVICE_FEATURE and of MIG_DATA_READ/MIG_DATA_WRITE: the migration
 * features (MIGRATION, MIG_DEVICE_STATE GET/SET/PROBE, MIG_DATA_SIZE) and their errors; DMA
 * dirty-page logging (START, REPORT, STOP) with the pages a dmatest transfer writes into
 * guest memory, with an fd and without, reported in the bitmap; and whole migrations of a
 * dmatest device from one server to another on a two-worker pool (STOP_COPY, and PRE_COPY
 * first), after which the destination's registers, config space and BAR2 equal the
 * source's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "functional.h"
#include "transport/vfio-user/vfu_private.h" /* which worker serves a device */

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define GET VFIO_DEVICE_FEATURE_GET
#define SET VFIO_DEVICE_FEATURE_SET
#define PROBE VFIO_DEVICE_FEATURE_PROBE

/* A feature request: the header and up to 256 bytes of data (a bitmap, ranges). */
union feature_buf {
	struct vfio_device_feature hdr;
	uint64_t raw[1 + 32];
};

/*
 * DEVICE_FEATURE with @flags: @inlen bytes of @in as the data, room for @outcap bytes back;
 * the reply's data goes to @out. Returns the reply's size or -errno.
 */
static int feature(struct umdev_client *c, uint32_t flags, const void *in, size_t inlen,
		   void *out, size_t outcap)
{
	union feature_buf b;
	int n;

	memset(&b, 0, sizeof(b));
	b.hdr.argsz = (uint32_t)(sizeof(b.hdr) + (inlen > outcap ? inlen : outcap));
	b.hdr.flags = flags;
	if (inlen)
		memcpy(b.hdr.data, in, inlen);
	n = umdev_client_device_feature(c, &b.hdr);
	if (n >= (int)sizeof(b.hdr) && out)
		memcpy(out, b.hdr.data, (size_t)n - sizeof(b.hdr) < outcap ?
					(size_t)n - sizeof(b.hdr) : outcap);
	return n;
}

static int mig_set(struct umdev_client *c, uint32_t state)
{
	struct vfio_device_feature_mig_state st = { .device_state = state, .data_fd = -1 };
	int n = feature(c, SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st), NULL, 0);

	return n < 0 ? n : 0;
}

static uint32_t mig_get(struct umdev_client *c)
{
	struct vfio_device_feature_mig_state st = { 0 };

	CHECK_EQ(feature(c, GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, NULL, 0, &st, sizeof(st)),
		 8 + sizeof(st));
	return st.device_state;
}

FUNC_TEST(feature_migration, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct vfio_device_feature_migration mig = { 0 };
	struct vfio_device_feature_mig_data_size size = { 0 };
	struct vfio_device_feature_mig_state st = { 0 };
	uint8_t b[16];

	REQUIRE(c);
	CHECK_EQ(feature(c, GET | VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0, &mig, sizeof(mig)), 16);
	CHECK_EQ(mig.flags, VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				    VFIO_MIGRATION_PRE_COPY);
	CHECK_EQ(feature(c, PROBE | GET | VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0, NULL, 8), 8);
	CHECK_EQ(feature(c, SET | VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig), NULL, 0),
		 -EINVAL);
	CHECK_EQ(feature(c, GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, NULL, 0, &size,
			 sizeof(size)),
		 16);
	CHECK_EQ(size.stop_copy_length, DMATEST_MIG_STREAM_SIZE);
	CHECK_EQ(mig_get(c), VFIO_DEVICE_STATE_RUNNING);
	CHECK_EQ(feature(c, PROBE | SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, NULL, 0, NULL, 8),
		 8);
	/* no stream before a transition opens one */
	CHECK_EQ(umdev_client_mig_data_read(c, b, sizeof(b)), -EINVAL);
	CHECK_EQ(umdev_client_mig_data_write(c, b, sizeof(b)), -EINVAL);

	/* SET repeats the request; GET tells the state */
	st.device_state = VFIO_DEVICE_STATE_STOP;
	st.data_fd = -1;
	CHECK_EQ(feature(c, SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st), &st,
			 sizeof(st)),
		 8 + sizeof(st));
	CHECK_EQ(st.device_state, VFIO_DEVICE_STATE_STOP);
	CHECK_EQ(mig_get(c), VFIO_DEVICE_STATE_STOP);
	/* a stopped device does not run transfers or interrupts */
	WR32(c, DMATEST_REG_IRQ_CTRL, DMATEST_IRQ_CTRL_RAISE);
	CHECK_EQ(RD32(c, DMATEST_REG_IRQ_STATUS), 0);
	CHECK_EQ(mig_set(c, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(mig_get(c), VFIO_DEVICE_STATE_RUNNING);
	/* states that do not exist or cannot be reached */
	CHECK_EQ(mig_set(c, VFIO_DEVICE_STATE_ERROR), -EINVAL);
	CHECK_EQ(mig_set(c, 100), -EINVAL);
	CHECK_EQ(mig_get(c), VFIO_DEVICE_STATE_RUNNING);
	/* a feature nobody answers */
	CHECK_EQ(feature(c, GET | 0x3ff, NULL, 0, b, 8), -EINVAL);
	/* GET and SET at once */
	CHECK_EQ(feature(c, GET | SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st),
			 NULL, 0),
		 -EINVAL);
	CHECK_EQ(RD32(c, DMATEST_REG_ID), DMATEST_ID);
	umdev_client_close(c);
}

FUNC_TEST(feature_null_does_not_migrate, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct vfio_device_feature_migration mig = { 0 };
	uint8_t b[8];

	REQUIRE(c);
	CHECK_EQ(feature(c, GET | VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0, &mig, sizeof(mig)),
		 -ENOTTY);
	CHECK_EQ(mig_set(c, VFIO_DEVICE_STATE_STOP), -ENOTTY);
	CHECK_EQ(umdev_client_mig_data_read(c, b, sizeof(b)), -EINVAL);
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	umdev_client_close(c);
}

/* ---- DMA dirty-page logging ---- */

struct range {
	uint64_t iova, length;
};

static int logging_start(struct umdev_client *c, uint64_t page_size, const struct range *r,
			 uint32_t n, uint64_t *ret_page_size)
{
	uint8_t data[16 + 4 * sizeof(struct range)], back[sizeof(data)];
	int ret;

	memset(data, 0, sizeof(data));
	memcpy(data, &page_size, 8);
	memcpy(data + 8, &n, 4);
	memcpy(data + 16, r, n * sizeof(*r));
	ret = feature(c, SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, data, 16 + n * sizeof(*r),
		      back, 16 + n * sizeof(*r));
	if (ret >= 16)
		memcpy(ret_page_size, back, 8);
	return ret;
}

/* REPORT of [iova, iova+length) at @page_size into @bitmap (@bytes of it). */
static int logging_report(struct umdev_client *c, uint64_t iova, uint64_t length,
			  uint64_t page_size, uint64_t *bitmap, size_t bytes)
{
	uint64_t req[3] = { iova, length, page_size }, out[3 + 16];
	int n;

	n = feature(c, GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, req, sizeof(req), out,
		    sizeof(req) + bytes);
	if (n == (int)(8 + sizeof(req) + bytes)) {
		CHECK(out[0] == iova && out[1] == length && out[2] == page_size);
		memcpy(bitmap, out + 3, bytes);
	}
	return n;
}

FUNC_TEST(dma_logging, FX_DMATEST, 1, 1)
{
	const struct range ranges[2] = { { GUEST_IOVA, GUEST_SIZE }, { 0x400000, 0x100000 } };
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 };
	uint64_t bm[4], page = 0;
	struct fdless m;

	if (!fdless_new(&m, 0x400000, 0x100000) || !CHECK(c) || !guest_new(&g, GUEST_SIZE) ||
	    !CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RW), 0) ||
	    !CHECK_EQ(umdev_client_dma_map(c, 0x400000, 0x100000, -1, 0, RW), 0))
		goto out;
	umdev_client_set_dma_handler(c, fdless_handler, &m);
	/* nothing logged yet */
	CHECK_EQ(logging_report(c, GUEST_IOVA, GUEST_SIZE, 4096, bm, 32), -EINVAL);
	CHECK_EQ(logging_start(c, 0, ranges, 2, &page), -EINVAL);
	CHECK_EQ(logging_start(c, 4096, ranges, 2, &page), 8 + 16 + 2 * 16);
	CHECK_EQ(page, 4096);
	CHECK_EQ(logging_start(c, 4096, ranges, 1, &page), -EBUSY);

	/* writes to the guest: pages 3-5 (rw), 32 (pinned), page 0x10 of the fd-less range;
	 * a read from the guest (page 16) dirties nothing */
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + 0x3000 + 100, 8192, 0, DMATEST_CTRL_TO_GUEST), 0);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + 0x20000, 4096, 0,
			DMATEST_CTRL_TO_GUEST | DMATEST_CTRL_PIN),
		 0);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + 0x10000, 4096, 0, 0), 0);
	CHECK_EQ(DMA_GO(c, 0x410000 + 8, 16, 0, DMATEST_CTRL_TO_GUEST), 0);
	CHECK_EQ(m.writes, 1);

	memset(bm, 0xff, sizeof(bm));
	CHECK_EQ(logging_report(c, GUEST_IOVA, GUEST_SIZE, 4096, bm, 32), 8 + 24 + 32);
	CHECK_EQ(bm[0], 0x38 | 1ull << 32);
	CHECK_EQ(bm[1] | bm[2] | bm[3], 0);
	memset(bm, 0xff, sizeof(bm));
	CHECK_EQ(logging_report(c, 0x400000, 0x100000, 4096, bm, 32), 8 + 24 + 32);
	CHECK_EQ(bm[0], 1ull << 16);
	CHECK_EQ(bm[1] | bm[2] | bm[3], 0);
	/* a report clears what it reported */
	CHECK_EQ(logging_report(c, GUEST_IOVA, GUEST_SIZE, 4096, bm, 32), 8 + 24 + 32);
	CHECK_EQ(bm[0] | bm[1] | bm[2] | bm[3], 0);

	/* at a larger page size: 8 KiB units */
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + 0x5000, 16, 0, DMATEST_CTRL_TO_GUEST), 0);
	CHECK_EQ(logging_report(c, GUEST_IOVA, GUEST_SIZE, 8192, bm, 16), 8 + 24 + 16);
	CHECK_EQ(bm[0], 1ull << 2);
	CHECK_EQ(bm[1], 0);
	/* outside the logged ranges, or a bitmap that does not fit */
	CHECK_EQ(logging_report(c, 0x800000, 4096, 4096, bm, 8), -EINVAL);
	CHECK_EQ(logging_report(c, GUEST_IOVA, GUEST_SIZE, 4096, bm, 8), -EINVAL);

	CHECK_EQ(feature(c, SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0, NULL, 0), 8);
	CHECK_EQ(logging_report(c, GUEST_IOVA, GUEST_SIZE, 4096, bm, 32), -EINVAL);
	CHECK_EQ(feature(c, SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0, NULL, 0), 8);
	/* and again from the start */
	CHECK_EQ(logging_start(c, 4096, ranges, 1, &page), 8 + 16 + 16);
	CHECK_EQ(logging_report(c, GUEST_IOVA, GUEST_SIZE, 4096, bm, 32), 8 + 24 + 32);
	CHECK_EQ(bm[0] | bm[1] | bm[2] | bm[3], 0);
out:
	umdev_client_close(c);
	guest_free(&g);
	fdless_free(&m);
}

/* ---- a migration from device 0 to device 1 ---- */

/* Gives the source a state worth migrating: registers, config, buffer, a pending IRQ. */
static void make_state(struct umdev_client *c, struct guest *g)
{
	static uint8_t buf[DMATEST_BAR2_SIZE];

	pattern(buf, sizeof(buf), 201);
	BAR2_WR(c, 0, buf, sizeof(buf));
	pattern(g->mem, 4096, 202);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + 5, 3000, 777, DMATEST_CTRL_PIN), 0);
	WR64(c, DMATEST_REG_SCRATCH, 0x5ca1ab1e12345678ull);
	WR64(c, DMATEST_REG_DMA_ADDR, 0xabcdef000ull);
	WR32(c, DMATEST_REG_DMA_LEN, 1234);
	WR32(c, DMATEST_REG_DMA_BUF_OFF, 4321);
	WR32(c, DMATEST_REG_DMA_CTRL, DMATEST_CTRL_TO_GUEST | DMATEST_CTRL_HOLD);
	WR32(c, DMATEST_REG_IRQ_CTRL, DMATEST_IRQ_CTRL_RAISE);
	CFG_WR(c, 0x04, 0x0006, 2);
	CFG_WR(c, 0x10, 0xfebf1000, 4);
	CFG_WR(c, 0x18, 0xfeb00000, 4);
	CFG_WR(c, 0x3c, 10, 1);
	CFG_WR(c, DMATEST_MSI_CAP + 4, 0xfee00000, 4);
	CFG_WR(c, DMATEST_MSI_CAP + 8, 0x4021, 2);
}

/* The two devices are the same as their clients see them (PINNED_PAGES aside). */
static void same_state(struct umdev_client *a, struct umdev_client *b)
{
	static uint8_t ba[DMATEST_BAR2_SIZE], bb[DMATEST_BAR2_SIZE];

	for (uint64_t off = 0; off < DMATEST_REG_END; off += 4)
		if (off != DMATEST_REG_PINNED_PAGES)
			CHECK_EQ(RD32(a, off), RD32(b, off));
	for (unsigned int off = 0; off < DMATEST_CONFIG_SIZE; off += 4)
		CHECK_EQ(CFG_RD(a, off, 4), CFG_RD(b, off, 4));
	BAR2_RD(a, 0, ba, sizeof(ba));
	BAR2_RD(b, 0, bb, sizeof(bb));
	CHECK(!memcmp(ba, bb, sizeof(ba)));
}

/* Reads the current stream until a short read, in chunks of varied sizes; the total. */
static size_t read_stream(struct umdev_client *c, uint8_t *buf, size_t cap)
{
	static const uint32_t chunks[] = { 10, 4093, 1 << 20, 64, 30000 };
	size_t total = 0;

	for (unsigned int i = 0;; i++) {
		uint32_t want = chunks[i % 5];
		int n;

		if (want > cap - total)
			want = (uint32_t)(cap - total);
		n = umdev_client_mig_data_read(c, buf + total, want);
		if (!CHECK(n >= 0) || !CHECK((uint32_t)n <= want))
			return total;
		total += (size_t)n;
		if ((uint32_t)n < want || total == cap)
			return total;
	}
}

static void resume(struct umdev_client *c, const uint8_t *stream, size_t len)
{
	CHECK_EQ(mig_set(c, VFIO_DEVICE_STATE_RESUMING), 0);
	CHECK_EQ(mig_get(c), VFIO_DEVICE_STATE_RESUMING);
	for (size_t done = 0; done < len;) {
		uint32_t n = len - done < 5000 ? (uint32_t)(len - done) : 5000;

		if (done == 5000) /* and one big piece */
			n = (uint32_t)(len - done) / 2;
		if (!CHECK_EQ(umdev_client_mig_data_write(c, stream + done, n), 0))
			break;
		done += n;
	}
	CHECK_EQ(mig_set(c, VFIO_DEVICE_STATE_STOP), 0);
	CHECK_EQ(mig_set(c, VFIO_DEVICE_STATE_RUNNING), 0);
}

/* Both clients, guest memory for the source, both on their own worker. */
static bool migration_setup(struct fx *f, struct umdev_client **src, struct umdev_client **dst,
			    struct guest *g)
{
	*src = fx_client(f, 0);
	*dst = fx_client(f, 1);
	return CHECK(*src && *dst) && CHECK(f->dev[0].srv->worker != f->dev[1].srv->worker) &&
	       guest_new(g, GUEST_SIZE) &&
	       CHECK_EQ(umdev_client_dma_map(*src, GUEST_IOVA, GUEST_SIZE, g->fd, 0, RW), 0);
}

FUNC_TEST(migration_stop_copy, FX_DMATEST, 2, 2)
{
	uint8_t *stream = malloc(DMATEST_MIG_STREAM_SIZE + 4096);
	struct umdev_client *src = NULL, *dst = NULL;
	struct guest g = { .fd = -1 }, g2 = { .fd = -1 };
	struct dmatest_mig_header h;

	if (!CHECK(stream) || !migration_setup(f, &src, &dst, &g))
		goto out;
	make_state(src, &g);
	CHECK_EQ(RD64(src, DMATEST_REG_XFER_COUNT), 1);

	CHECK_EQ(mig_set(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	CHECK_EQ(mig_get(src), VFIO_DEVICE_STATE_STOP_COPY);
	CHECK_EQ(umdev_client_mig_data_write(src, stream, 16), -EINVAL); /* a saving stream */
	CHECK_EQ(read_stream(src, stream, DMATEST_MIG_STREAM_SIZE + 4096),
		 DMATEST_MIG_STREAM_SIZE);
	memcpy(&h, stream, sizeof(h));
	CHECK_EQ(h.magic, DMATEST_MIG_MAGIC);
	CHECK_EQ(h.length, DMATEST_MIG_PAYLOAD_SIZE);
	CHECK_EQ(umdev_client_mig_data_read(src, stream + DMATEST_MIG_STREAM_SIZE, 16), 0);
	CHECK_EQ(mig_set(src, VFIO_DEVICE_STATE_STOP), 0);
	CHECK_EQ(mig_set(src, VFIO_DEVICE_STATE_RUNNING), 0);

	resume(dst, stream, DMATEST_MIG_STREAM_SIZE);
	same_state(src, dst);
	CHECK_EQ(RD64(dst, DMATEST_REG_XFER_COUNT), 1);
	CHECK_EQ(RD32(dst, DMATEST_REG_IRQ_STATUS), DMATEST_IRQ_STATUS_PENDING);
	CHECK_EQ(RD64(dst, DMATEST_REG_SCRATCH), 0x5ca1ab1e12345678ull);
	/* the stream went with the load */
	CHECK(umdev_client_mig_data_write(dst, stream, 16) < 0);

	/* both run on: the destination with its own guest memory */
	CHECK_EQ(DMA_GO(src, GUEST_IOVA, 16, 0, 0), 0);
	if (guest_new(&g2, GUEST_SIZE) &&
	    CHECK_EQ(umdev_client_dma_map(dst, GUEST_IOVA, GUEST_SIZE, g2.fd, 0, RW), 0)) {
		pattern(g2.mem, 64, 203);
		CHECK_EQ(DMA_GO(dst, GUEST_IOVA, 64, 100, 0), 0);
		CHECK_EQ(RD64(dst, DMATEST_REG_XFER_COUNT), 2);
	}
out:
	umdev_client_close(src);
	umdev_client_close(dst);
	guest_free(&g);
	guest_free(&g2);
	free(stream);
}

FUNC_TEST(migration_pre_copy, FX_DMATEST, 2, 2)
{
	uint8_t *stream = malloc(DMATEST_MIG_STREAM_SIZE + 4096);
	struct umdev_client *src = NULL, *dst = NULL;
	struct guest g = { .fd = -1 };
	size_t initial, rest;

	if (!CHECK(stream) || !migration_setup(f, &src, &dst, &g))
		goto out;
	make_state(src, &g);
	CHECK_EQ(mig_set(src, VFIO_DEVICE_STATE_PRE_COPY), 0);
	/* what there is to read while the device still runs: the header */
	initial = read_stream(src, stream, DMATEST_MIG_STREAM_SIZE + 4096);
	CHECK_EQ(initial, sizeof(struct dmatest_mig_header));
	/* the device runs in PRE_COPY; what it does now is in the final data */
	CHECK_EQ(DMA_GO(src, GUEST_IOVA + 8192, 100, 60000, 0), 0);
	CHECK_EQ(mig_set(src, VFIO_DEVICE_STATE_PRE_COPY_P2P), 0);
	CHECK_EQ(mig_set(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	rest = read_stream(src, stream + initial, DMATEST_MIG_STREAM_SIZE + 4096 - initial);
	CHECK_EQ(initial + rest, DMATEST_MIG_STREAM_SIZE);
	CHECK_EQ(mig_set(src, VFIO_DEVICE_STATE_RUNNING), 0);

	resume(dst, stream, DMATEST_MIG_STREAM_SIZE);
	same_state(src, dst);
	CHECK_EQ(RD64(dst, DMATEST_REG_XFER_COUNT), 2);
out:
	umdev_client_close(src);
	umdev_client_close(dst);
	guest_free(&g);
	free(stream);
}
