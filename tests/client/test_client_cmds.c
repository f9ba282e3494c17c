/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of libumdev-client's commands that move data: the bytes of DEVICE_SET_IRQS (eventfds
 * split by the server's max_msg_fds, boolean data, none), REGION_READ and REGION_WRITE
 * (short reads, posted writes that are not waited for, reply checks), REGION_WRITE_MULTI,
 * DEVICE_RESET, DEVICE_FEATURE and the migration data commands. Message 0 of every recording
 * is VERSION.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <umdev/client.h>

#include "client_test.h"

#define SET_TRIGGER_EVENTFD (VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)

/* ---- DEVICE_SET_IRQS ---- */

TEST(set_irqs_eventfds_in_chunks)
{
	static const struct fake_canned ok[8];
	/* runs: 3 valid (2 + 1 with max_msg_fds 2), 3 de-assigned (2 + 1), 1 valid */
	static const struct {
		uint32_t start, count;
		size_t first; /* index into fds of the chunk's first fd */
		bool valid;
	} want[] = {
		{ 1, 2, 0, true }, { 3, 1, 2, true }, { 4, 2, 3, false },
		{ 6, 1, 5, false }, { 7, 1, 6, true },
	};
	int e[4], fds[7];
	struct fake_server fs;
	struct umdev_client *c = NULL;

	for (int i = 0; i < 4; i++)
		e[i] = eventfd(0, EFD_CLOEXEC);
	fds[0] = e[0], fds[1] = e[1], fds[2] = e[2], fds[3] = fds[4] = fds[5] = -1, fds[6] = e[3];
	REQUIRE_EQ(fake_connect_canned(&fs, "{\"capabilities\":{\"max_msg_fds\":2}}", ok, 5, &c),
		   0);
	CHECK_EQ(umdev_client_set_irqs(c, 1, SET_TRIGGER_EVENTFD, 1, 7, fds), 0);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 6);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct fake_msg *m = &fs.msgs[i + 1];

		CHECK_HDR(m, i + 1, VFU_CMD_DEVICE_SET_IRQS, 36, 0);
		CHECK_EQ(fake_u32(m, 0), 20); /* argsz: no data in the payload */
		CHECK_EQ(fake_u32(m, 4), SET_TRIGGER_EVENTFD);
		CHECK_EQ(fake_u32(m, 8), 1);
		CHECK_EQ(fake_u32(m, 12), want[i].start);
		CHECK_EQ(fake_u32(m, 16), want[i].count);
		if (!CHECK_EQ(m->nfds, want[i].valid ? want[i].count : 0))
			continue;
		for (size_t k = 0; k < m->nfds; k++)
			CHECK(fake_same_file(m->fds[k], fds[want[i].first + k]));
	}
	fake_cleanup(&fs);
	for (int i = 0; i < 4; i++)
		close(e[i]);
}

TEST(set_irqs_bool_none_and_errors)
{
	static const uint8_t bools[3] = { 1, 0, 1 };
	const struct fake_canned replies[] = { { .len = 0 }, { .len = 0 }, { .error = EINVAL } };
	int e = eventfd(0, EFD_CLOEXEC), fds[3] = { e, e, e }, bad[2] = { e, -2 };
	struct fake_server fs;
	struct umdev_client *c = NULL;
	const struct fake_msg *m;

	REQUIRE_EQ(fake_connect_canned(&fs, "{\"capabilities\":{\"max_msg_fds\":1}}",
				       CANNED(replies), &c),
		   0);
	CHECK_EQ(umdev_client_set_irqs(c, 0,
				       VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK, 0, 3,
				       bools),
		 0);
	CHECK_EQ(umdev_client_set_irqs(c, 2,
				       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
				       NULL),
		 0);
	/* the first chunk fails: the others are not sent */
	CHECK_EQ(umdev_client_set_irqs(c, 1, SET_TRIGGER_EVENTFD, 0, 3, fds), -EINVAL);
	/* refused before sending */
	CHECK_EQ(umdev_client_set_irqs(c, 1, SET_TRIGGER_EVENTFD, 0, 2, bad), -EBADF);
	CHECK_EQ(umdev_client_set_irqs(c, 1, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_NONE, 0,
				       1, bools),
		 -EINVAL);
	CHECK_EQ(umdev_client_set_irqs(c, 1, SET_TRIGGER_EVENTFD, UINT32_MAX, 2, fds), -EINVAL);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 4);
	m = &fs.msgs[1];
	CHECK_HDR(m, 1, VFU_CMD_DEVICE_SET_IRQS, 39, 0);
	CHECK_EQ(fake_u32(m, 0), 23);
	CHECK_EQ(fake_u32(m, 4), VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK);
	CHECK_EQ(fake_u32(m, 16), 3);
	CHECK(m->len == 23 && !memcmp(m->payload + 20, bools, 3));
	m = &fs.msgs[2];
	CHECK_HDR(m, 2, VFU_CMD_DEVICE_SET_IRQS, 36, 0);
	CHECK_EQ(fake_u32(m, 0), 20);
	CHECK_EQ(fake_u32(m, 8), 2);
	CHECK_EQ(fake_u32(m, 16), 0);
	CHECK_EQ(m->nfds, 0);
	m = &fs.msgs[3];
	CHECK_EQ(fake_u32(m, 16), 1); /* max_msg_fds 1: one fd per message */
	CHECK_EQ(m->nfds, 1);
	fake_cleanup(&fs);
	close(e);
}

/* ---- REGION_READ, REGION_WRITE ---- */

/* A REGION_READ/REGION_WRITE reply: offset, region, count, then data. */
struct access_reply {
	struct vfu_region_access hdr;
	uint8_t data[8];
};

TEST(region_read_request_and_replies)
{
	struct access_reply full = { { 0x40, 7, 4 }, { 1, 2, 3, 4 } };
	struct access_reply part = { { 0x40, 7, 2 }, { 9, 8 } };
	struct access_reply more = { { 0x40, 7, 5 }, { 0 } };
	struct access_reply other = { { 0x44, 7, 4 }, { 0 } };
	const struct fake_canned replies[] = {
		{ .payload = &full, .len = 16 + 4 },
		{ .payload = &part, .len = 16 + 2 },
	};
	const struct fake_canned bad[][1] = {
		{ { .payload = &more, .len = 16 + 5 } },  /* more than asked */
		{ { .payload = &full, .len = 16 + 3 } },  /* count says 4, 3 came */
		{ { .payload = &other, .len = 16 + 4 } }, /* another offset */
	};
	struct fake_server fs;
	struct umdev_client *c = NULL;
	uint8_t buf[8] = { 0 };

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_region_read(c, 7, 0x40, buf, 4), 4);
	CHECK(!memcmp(buf, full.data, 4));
	CHECK_EQ(umdev_client_region_read(c, 7, 0x40, buf, 4), 2); /* a short read */
	CHECK(buf[0] == 9 && buf[1] == 8);
	CHECK_EQ(umdev_client_region_read(c, 7, 0, buf, (1u << 20) + 1), -EINVAL);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 3);
	CHECK_HDR(&fs.msgs[1], 1, VFU_CMD_REGION_READ, 32, 0);
	CHECK_EQ(fake_u64(&fs.msgs[1], 0), 0x40);
	CHECK_EQ(fake_u32(&fs.msgs[1], 8), 7);
	CHECK_EQ(fake_u32(&fs.msgs[1], 12), 4);
	fake_cleanup(&fs);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(bad[i]), &c), 0);
		CHECK_EQ(umdev_client_region_read(c, 7, 0x40, buf, 4), -EPROTO);
		FINISH(&fs, c);
		fake_cleanup(&fs);
	}
}

TEST(region_write_synchronous_and_posted)
{
	static const uint8_t data[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct vfu_region_access ack = { 0x10, 2, 4 }, ack_more = { 0x10, 2, 5 };
	struct vfu_device_info info = { 16, VFIO_DEVICE_FLAGS_PCI, 9, 5 };
	const struct fake_canned replies[] = {
		{ .payload = &ack, .len = sizeof(ack) },
		{ .silent = true }, /* the posted write */
		{ .payload = &info, .len = sizeof(info) },
		{ .payload = &ack_more, .len = sizeof(ack_more) },
	};
	struct fake_server fs;
	struct umdev_client *c = NULL;
	struct vfio_device_info out;
	const struct fake_msg *m;

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_region_write(c, 2, 0x10, data, 4, false), 4);
	/* posted: returns at once, nothing is waited for */
	CHECK_EQ(umdev_client_region_write(c, 2, 0x20, data, 2, true), 2);
	CHECK_EQ(umdev_client_get_info(c, &out), 0);
	CHECK_EQ(out.num_regions, 9);
	CHECK_EQ(umdev_client_region_write(c, 2, 0x10, data, 4, false), -EPROTO);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 5);
	m = &fs.msgs[1];
	CHECK_HDR(m, 1, VFU_CMD_REGION_WRITE, 36, 0);
	CHECK_EQ(fake_u64(m, 0), 0x10);
	CHECK_EQ(fake_u32(m, 8), 2);
	CHECK_EQ(fake_u32(m, 12), 4);
	CHECK(m->len == 20 && !memcmp(m->payload + 16, data, 4));
	m = &fs.msgs[2];
	CHECK_HDR(m, 2, VFU_CMD_REGION_WRITE, 34, VFU_FLAG_NO_REPLY);
	CHECK_EQ(fake_u64(m, 0), 0x20);
	CHECK_EQ(fake_u32(m, 12), 2);
	CHECK_HDR(&fs.msgs[3], 3, VFU_CMD_DEVICE_GET_INFO, 32, 0);
	fake_cleanup(&fs);
}

TEST(region_write_multi_batches)
{
	static const struct fake_canned posted[2] = { { .silent = true }, { .silent = true } };
	struct umdev_client_write *w = calloc(250, sizeof(*w));
	struct fake_server fs;
	struct umdev_client *c = NULL;

	REQUIRE(w);
	for (size_t i = 0; i < 250; i++) {
		w[i].offset = i * 4;
		w[i].region = 0;
		w[i].count = 1 + i % 8;
		memset(w[i].data, (int)i, sizeof(w[i].data));
	}
	/* two posted messages, no replies */
	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(posted), &c), 0);
	CHECK_EQ(umdev_client_region_write_multi(c, w, 250), 250);
	w[3].count = 9;
	CHECK_EQ(umdev_client_region_write_multi(c, w, 4), -EINVAL);
	CHECK_EQ(umdev_client_region_write_multi(c, w, 0), 0);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 3);
	CHECK_HDR(&fs.msgs[1], 1, VFU_CMD_REGION_WRITE_MULTI, 16 + 8 + 200 * 24, VFU_FLAG_NO_REPLY);
	CHECK_EQ(fake_u64(&fs.msgs[1], 0), 200);
	CHECK_HDR(&fs.msgs[2], 2, VFU_CMD_REGION_WRITE_MULTI, 16 + 8 + 50 * 24, VFU_FLAG_NO_REPLY);
	CHECK_EQ(fake_u64(&fs.msgs[2], 0), 50);
	w[3].count = 4;
	CHECK(fs.msgs[1].len == 8 + 200 * 24 && !memcmp(fs.msgs[1].payload + 8, w, 200 * 24));
	CHECK(fs.msgs[2].len == 8 + 50 * 24 && !memcmp(fs.msgs[2].payload + 8, w + 200, 50 * 24));
	CHECK_EQ(fake_u64(&fs.msgs[2], 8), 800);	   /* entry 200: offset */
	CHECK_EQ(fake_u32(&fs.msgs[2], 8 + 12), 1); /* count */
	fake_cleanup(&fs);

	/* only when the server said write_multiple */
	REQUIRE_EQ(fake_connect(&fs, "{}", NULL, NULL, &c), 0);
	CHECK_EQ(umdev_client_region_write_multi(c, w, 1), -EOPNOTSUPP);
	FINISH(&fs, c);
	CHECK_EQ(fs.nmsgs, 1);
	fake_cleanup(&fs);
	free(w);
}

/* ---- DEVICE_RESET, DEVICE_FEATURE, MIG_DATA ---- */

TEST(reset_request_and_reply)
{
	static const uint8_t junk[8];
	const struct fake_canned replies[] = { { .len = 0 }, { .payload = junk, .len = 8 } };
	struct fake_server fs;
	struct umdev_client *c = NULL;

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_reset(c), 0);
	CHECK_EQ(umdev_client_reset(c), -EPROTO); /* a payload in its reply */
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 3);
	CHECK_HDR(&fs.msgs[1], 1, VFU_CMD_DEVICE_RESET, 16, 0);
	CHECK_EQ(fs.msgs[1].len, 0);
	fake_cleanup(&fs);
}

/* struct vfio_device_feature with room for data */
struct feature_buf {
	uint32_t argsz, flags;
	uint8_t data[40];
};

TEST(device_feature_requests_and_replies)
{
	struct feature_buf set_echo = { 16, VFIO_DEVICE_FEATURE_SET | 2, { 3, 0, 0, 0, 7 } };
	struct feature_buf get_reply = { 16, VFIO_DEVICE_FEATURE_GET | 1, { 1 } };
	struct feature_buf probe_echo = { 8, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | 1,
					  { 0 } };
	struct feature_buf other = { 8, VFIO_DEVICE_FEATURE_GET | 5, { 0 } };
	const struct fake_canned replies[] = {
		{ .payload = &set_echo, .len = 16 },
		{ .payload = &get_reply, .len = 16 },
		{ .payload = &probe_echo, .len = 8 },
		{ .error = ENOTTY },
		{ .payload = &other, .len = 8 },
	};
	struct fake_server fs;
	struct umdev_client *c = NULL;
	struct feature_buf f;

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	/* SET: the whole buffer goes */
	f = (struct feature_buf){ 16, VFIO_DEVICE_FEATURE_SET | 2, { 3, 0, 0, 0, 7 } };
	CHECK_EQ(umdev_client_device_feature(c, (struct vfio_device_feature *)&f), 16);
	/* GET: the header only; the data comes back */
	f = (struct feature_buf){ 48, VFIO_DEVICE_FEATURE_GET | 1, { 0 } };
	CHECK_EQ(umdev_client_device_feature(c, (struct vfio_device_feature *)&f), 16);
	CHECK_EQ(f.argsz, 16);
	CHECK_EQ(f.data[0], 1);
	/* PROBE: the header only */
	f = (struct feature_buf){ 16, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | 1, { 0 } };
	CHECK_EQ(umdev_client_device_feature(c, (struct vfio_device_feature *)&f), 8);
	/* GET of DMA_LOGGING_REPORT: its 24-byte request goes along */
	f = (struct feature_buf){ 48, VFIO_DEVICE_FEATURE_GET |
					      VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, { 0 } };
	CHECK_EQ(umdev_client_device_feature(c, (struct vfio_device_feature *)&f), -ENOTTY);
	/* a reply about another feature */
	f = (struct feature_buf){ 16, VFIO_DEVICE_FEATURE_GET | 1, { 0 } };
	CHECK_EQ(umdev_client_device_feature(c, (struct vfio_device_feature *)&f), -EPROTO);
	f.argsz = 4;
	CHECK_EQ(umdev_client_device_feature(c, (struct vfio_device_feature *)&f), -EINVAL);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 6);
	CHECK_HDR(&fs.msgs[1], 1, VFU_CMD_DEVICE_FEATURE, 32, 0);
	CHECK(!memcmp(fs.msgs[1].payload, &set_echo, 16));
	CHECK_HDR(&fs.msgs[2], 2, VFU_CMD_DEVICE_FEATURE, 24, 0);
	CHECK_EQ(fake_u32(&fs.msgs[2], 0), 48);
	CHECK_EQ(fake_u32(&fs.msgs[2], 4), VFIO_DEVICE_FEATURE_GET | 1);
	CHECK_HDR(&fs.msgs[3], 3, VFU_CMD_DEVICE_FEATURE, 24, 0);
	CHECK_HDR(&fs.msgs[4], 4, VFU_CMD_DEVICE_FEATURE, 48, 0);
	fake_cleanup(&fs);
}

TEST(mig_data_read_and_write)
{
	struct {
		struct vfu_mig_data hdr;
		uint8_t data[5];
	} data5 = { { 13, 5 }, { 'h', 'e', 'l', 'l', 'o' } }, bad = { { 12, 5 }, { 0 } };
	struct vfu_mig_data end = { 8, 0 };
	const struct fake_canned replies[] = {
		{ .payload = &data5, .len = 13 },
		{ .payload = &end, .len = 8 },
		{ .len = 0 },
		{ .payload = &bad, .len = 13 },
	};
	struct fake_server fs;
	struct umdev_client *c = NULL;
	char buf[16] = { 0 };

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_mig_data_read(c, buf, 16), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_EQ(umdev_client_mig_data_read(c, buf, 16), 0); /* the end */
	CHECK_EQ(umdev_client_mig_data_write(c, "abc", 3), 0);
	CHECK_EQ(umdev_client_mig_data_read(c, buf, 16), -EPROTO); /* argsz is not its size */
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 5);
	CHECK_HDR(&fs.msgs[1], 1, VFU_CMD_MIG_DATA_READ, 24, 0);
	CHECK_EQ(fake_u32(&fs.msgs[1], 0), 8 + 16);
	CHECK_EQ(fake_u32(&fs.msgs[1], 4), 16);
	CHECK_HDR(&fs.msgs[3], 3, VFU_CMD_MIG_DATA_WRITE, 16 + 8 + 3, 0);
	CHECK_EQ(fake_u32(&fs.msgs[3], 0), 8 + 3);
	CHECK_EQ(fake_u32(&fs.msgs[3], 4), 3);
	CHECK(fs.msgs[3].len == 11 && !memcmp(fs.msgs[3].payload + 8, "abc", 3));
	fake_cleanup(&fs);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
