/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of libumdev-client against a scripted fake server (fake_server.h): connecting and the
 * VERSION exchange (the request's bytes, good replies, every kind of bad one), the checks on
 * every reply (id, command, type, size, error replies, stray fds), DMA_MAP/DMA_UNMAP and the
 * information commands, including the region-info argsz retry. Message 0 of every recording
 * is VERSION; the calls of a case follow from message 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <umdev/client.h>

#include "client_test.h"

static const char client_json[] =
	"{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,"
	"\"pgsizes\":4096,\"max_dma_maps\":65535,\"write_multiple\":true}}";

/* ---- VERSION ---- */

/* Answers VERSION with the version numbers only (no JSON). */
static void version_no_json(struct fake_server *fs)
{
	struct vfu_version ver = { 0, 0 };
	struct fake_msg *m = fake_recv(fs);

	if (m)
		fake_reply(fs, m, &ver, sizeof(ver), NULL, 0);
}

TEST(version_request_bytes_and_defaults)
{
	struct fake_server fs;
	struct umdev_client *c = NULL;
	struct fake_msg *m;
	int fd;

	REQUIRE_EQ(fake_start(&fs, version_no_json, NULL, &fd), 0);
	CHECK_EQ(umdev_client_connect_fd(fd, &c), 0);
	CHECK(c != NULL);
	if (c) {
		/* the protocol's defaults where the server says nothing */
		CHECK_EQ(umdev_client_max_msg_fds(c), 1);
		CHECK_EQ(umdev_client_max_data_xfer_size(c), 1 << 20);
		CHECK_EQ(umdev_client_pgsizes(c), 4096);
		CHECK_EQ(umdev_client_max_dma_maps(c), 65535);
		CHECK(!umdev_client_write_multiple(c));
		CHECK_EQ(umdev_client_fd(c), fd);
	}
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 1);
	m = &fs.msgs[0];
	CHECK_HDR(m, 0, VFU_CMD_VERSION, 16 + 4 + sizeof(client_json), 0);
	CHECK_EQ(m->nfds, 0);
	REQUIRE_EQ(m->len, 4 + sizeof(client_json));
	CHECK_EQ(fake_u32(m, 0), 0); /* major 0, minor 0 */
	CHECK_EQ(m->payload[m->len - 1], '\0');
	CHECK_STR((const char *)m->payload + 4, client_json);
	fake_cleanup(&fs);
}

TEST(version_reply_capabilities_taken)
{
	static const char caps[] =
		" {\"other\":[1,2.5e3,{\"a\":null},\"x\\u00e9\\n\"],\"capabilities\":"
		"{\"migration\":{\"pgsize\":4096,\"max_bitmap_size\":268435456},"
		"\"max_msg_fds\":4,\"max_data_xfer_size\":65536,\"pgsizes\":12288,"
		"\"max_dma_maps\":10,\"twin_socket\":{\"supported\":false},"
		"\"write_multiple\":true}}\n";
	struct fake_server fs;
	struct umdev_client *c = NULL;

	CHECK_EQ(fake_connect(&fs, caps, NULL, NULL, &c), 0);
	if (c) {
		CHECK_EQ(umdev_client_max_msg_fds(c), 4);
		CHECK_EQ(umdev_client_max_data_xfer_size(c), 65536);
		CHECK_EQ(umdev_client_pgsizes(c), 12288);
		CHECK_EQ(umdev_client_max_dma_maps(c), 10);
		CHECK(umdev_client_write_multiple(c));
	}
	FINISH(&fs, c);
	fake_cleanup(&fs);
}

/* A VERSION reply of one bad kind. */
struct bad_version {
	const char *what;
	uint16_t major, minor;
	const char *json; /* NULL: none */
	size_t json_len;  /* 0: strlen + 1 (the NUL) */
	uint32_t flags;	  /* 0: reply */
	int id_delta;
	uint16_t command; /* 0: VERSION */
	uint32_t error;
	size_t big;	  /* > 0: a JSON string of this length */
	bool short_payload, close;
	int expect;
};

static void send_bad_version(struct fake_server *fs)
{
	const struct bad_version *b = fs->arg;
	struct fake_msg *m = fake_recv(fs);
	struct vfu_version ver = { b->major, b->minor };
	size_t jlen = b->big ? b->big + 1 : !b->json ? 0 : b->json_len ? b->json_len
								     : strlen(b->json) + 1;
	uint32_t flags = b->flags ? b->flags : VFU_FLAG_TYPE_REPLY;
	size_t plen = b->short_payload ? 2 : sizeof(ver) + jlen;
	uint8_t *payload;

	if (!m)
		return;
	if (b->close) {
		shutdown(fs->fd, SHUT_WR);
		return;
	}
	if ((flags & VFU_FLAG_ERROR) && !b->json)
		plen = 0; /* a proper error reply: the header alone */
	payload = calloc(1, sizeof(ver) + jlen + 1);
	if (!payload) {
		fs->failed++;
		return;
	}
	memcpy(payload, &ver, sizeof(ver));
	if (b->big) {
		memset(payload + sizeof(ver), ' ', b->big);
		payload[sizeof(ver)] = '{';
		payload[sizeof(ver) + b->big - 1] = '}';
	} else if (b->json) {
		memcpy(payload + sizeof(ver), b->json, jlen);
	}
	fake_send_msg(fs, (uint16_t)(m->hdr.msg_id + b->id_delta),
		      b->command ? b->command : VFU_CMD_VERSION,
		      flags, b->error, payload, plen, NULL, 0);
	free(payload);
}

#define CAPS(s) "{\"capabilities\":{" s "}}"

static const struct bad_version bad_versions[] = {
	{ "major 1", .major = 1, .json = "{}", .expect = -EPROTONOSUPPORT },
	{ "minor 1", .minor = 1, .json = "{}", .expect = -EPROTONOSUPPORT },
	{ "no NUL", .json = "{}", .json_len = 2, .expect = -EPROTO },
	{ "bytes after the NUL", .json = "{}\0{}", .json_len = 6, .expect = -EPROTO },
	{ "empty JSON", .json = "", .expect = -EPROTO },
	{ "unclosed object", .json = "{", .expect = -EPROTO },
	{ "an array", .json = "[]", .expect = -EPROTO },
	{ "capabilities not an object", .json = "{\"capabilities\":[]}", .expect = -EPROTO },
	{ "missing value", .json = CAPS("\"max_msg_fds\":"), .expect = -EPROTO },
	{ "trailing garbage", .json = "{} x", .expect = -EPROTO },
	{ "trailing comma", .json = "{\"a\":1,}", .expect = -EPROTO },
	{ "single quotes", .json = "{'a':1}", .expect = -EPROTO },
	{ "leading zero", .json = CAPS("\"max_msg_fds\":01"), .expect = -EPROTO },
	{ "bad escape", .json = "{\"a\\x\":1}", .expect = -EPROTO },
	{ "bad UTF-8", .json = "{\"a\xc0\xaf\":1}", .expect = -EPROTO },
	{ "capabilities twice", .json = "{\"capabilities\":{},\"capabilities\":{}}",
	  .expect = -EPROTO },
	{ "max_msg_fds twice", .json = CAPS("\"max_msg_fds\":1,\"max_msg_fds\":2"),
	  .expect = -EPROTO },
	{ "max_msg_fds 17", .json = CAPS("\"max_msg_fds\":17"), .expect = -EPROTO },
	{ "max_msg_fds 2^32+1", .json = CAPS("\"max_msg_fds\":4294967297"), .expect = -EPROTO },
	{ "max_msg_fds -1", .json = CAPS("\"max_msg_fds\":-1"), .expect = -EPROTO },
	{ "max_msg_fds 1.5", .json = CAPS("\"max_msg_fds\":1.5"), .expect = -EPROTO },
	{ "max_msg_fds 1e0", .json = CAPS("\"max_msg_fds\":1e0"), .expect = -EPROTO },
	{ "max_msg_fds a string", .json = CAPS("\"max_msg_fds\":\"1\""), .expect = -EPROTO },
	{ "max_data_xfer_size 0", .json = CAPS("\"max_data_xfer_size\":0"), .expect = -EPROTO },
	{ "max_data_xfer_size 64M+1", .json = CAPS("\"max_data_xfer_size\":67108865"),
	  .expect = -EPROTO },
	{ "max_data_xfer_size 2^64", .json = CAPS("\"max_data_xfer_size\":18446744073709551616"),
	  .expect = -EPROTO },
	{ "a number of 30 digits", .json = CAPS("\"pgsizes\":999999999999999999999999999999"),
	  .expect = -EPROTO },
	{ "pgsizes 4095", .json = CAPS("\"pgsizes\":4095"), .expect = -EPROTO },
	{ "pgsizes 0", .json = CAPS("\"pgsizes\":0"), .expect = -EPROTO },
	{ "max_dma_maps 65536", .json = CAPS("\"max_dma_maps\":65536"), .expect = -EPROTO },
	{ "write_multiple 1", .json = CAPS("\"write_multiple\":1"), .expect = -EPROTO },
	{ "write_multiple null", .json = CAPS("\"write_multiple\":null"), .expect = -EPROTO },
	{ "error reply EBUSY", .flags = VFU_FLAG_TYPE_REPLY | VFU_FLAG_ERROR, .error = EBUSY,
	  .expect = -EBUSY },
	{ "error reply without errno", .flags = VFU_FLAG_TYPE_REPLY | VFU_FLAG_ERROR,
	  .expect = -EIO },
	{ "error reply with a payload", .json = "{}",
	  .flags = VFU_FLAG_TYPE_REPLY | VFU_FLAG_ERROR, .error = EINVAL, .expect = -EPROTO },
	{ "wrong id", .json = "{}", .id_delta = 1, .expect = -EPROTO },
	{ "wrong command", .json = "{}", .command = VFU_CMD_DMA_MAP, .expect = -EPROTO },
	{ "message type 2", .json = "{}", .flags = 2, .expect = -EPROTO },
	{ "reply with NO_REPLY", .json = "{}", .flags = VFU_FLAG_TYPE_REPLY | VFU_FLAG_NO_REPLY,
	  .expect = -EPROTO },
	{ "2-byte payload", .json = "{}", .short_payload = true, .expect = -EPROTO },
	{ "reply too big", .big = 5000, .expect = -EPROTO },
	{ "server closes", .close = true, .expect = -ECONNRESET },
};

TEST(version_bad_replies_rejected)
{
	for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
		const struct bad_version *b = &bad_versions[i];
		struct fake_server fs;
		struct umdev_client *c = NULL;
		int fd, r;

		REQUIRE_EQ(fake_start(&fs, send_bad_version, (void *)b, &fd), 0);
		r = umdev_client_connect_fd(fd, &c);
		if (!CHECK_EQ(r, b->expect))
			tap_diag("case: %s", b->what);
		CHECK(c == NULL);
		umdev_client_close(c);
		CHECK_EQ(fake_finish(&fs), 0);
		/* the client's end is closed: the server sees EOF */
		CHECK(fake_wait_eof(&fs, 1000));
		fake_cleanup(&fs);
	}
}

TEST(connect_fd_rejects_other_fds)
{
	struct umdev_client *c = NULL;
	int sv[2];

	CHECK_EQ(umdev_client_connect_fd(-1, &c), -EBADF);
	/* a datagram socket: not a stream; closed all the same */
	REQUIRE_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(umdev_client_connect_fd(sv[0], &c), -EPROTOTYPE);
	close(sv[1]);
	CHECK_EQ(umdev_client_connect_fd(eventfd(0, EFD_CLOEXEC), &c), -ENOTSOCK);
	CHECK(c == NULL);
	umdev_client_close(NULL);
}

TEST(connect_by_path)
{
	char dir[] = "/tmp/umdev-client-XXXXXX", path[128], longpath[200];
	struct fake_server fs;
	struct umdev_client *c = NULL;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dev.sock", dir);
	REQUIRE_EQ(fake_listen(&fs, path, NULL, NULL, NULL), 0);
	CHECK_EQ(umdev_client_connect(path, &c), 0);
	CHECK(c && umdev_client_max_msg_fds(c) == 8);
	FINISH(&fs, c);
	fake_cleanup(&fs);
	unlink(path);

	c = NULL;
	CHECK_EQ(umdev_client_connect(path, &c), -ENOENT);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	CHECK_EQ(umdev_client_connect(longpath, &c), -ENAMETOOLONG);
	CHECK_EQ(umdev_client_connect("", &c), -EINVAL);
	CHECK_EQ(umdev_client_connect(NULL, &c), -EINVAL);
	CHECK(c == NULL);
	rmdir(dir);
}

/* ---- replies checked ---- */

/* Connects with @replies after VERSION, runs umdev_client_reset() and returns its result;
 * @then (may be 0) is what a following reset must give. */
static int reset_with(const struct fake_canned *replies, size_t n, int then)
{
	struct fake_server fs;
	struct umdev_client *c = NULL;
	int r;

	if (!CHECK_EQ(fake_connect_canned(&fs, NULL, replies, n, &c), 0)) {
		fake_cleanup(&fs);
		return -1;
	}
	r = umdev_client_reset(c);
	CHECK_EQ(umdev_client_reset(c), then);
	FINISH(&fs, c);
	fake_cleanup(&fs);
	return r;
}

TEST(reply_must_match_request)
{
	static const uint8_t junk[4];
	static const struct fake_canned ok = { .len = 0 };
	const struct fake_canned wrong_id[] = { { .id_delta = 1 } };
	const struct fake_canned wrong_cmd[] = { { .command = VFU_CMD_DEVICE_GET_INFO } };
	const struct fake_canned not_reply[] = { { .flags = 3 } };
	const struct fake_canned no_reply_flag[] = { { .flags = VFU_FLAG_TYPE_REPLY |
								  VFU_FLAG_NO_REPLY } };
	const struct fake_canned extra[] = { { .payload = junk, .len = sizeof(junk) } };
	const struct fake_canned err_payload[] = { { .payload = junk, .len = sizeof(junk),
						     .error = EINVAL } };

	/* each breaks the connection: the next call gives -EPIPE without sending */
	CHECK_EQ(reset_with(wrong_id, 1, -EPIPE), -EPROTO);
	CHECK_EQ(reset_with(wrong_cmd, 1, -EPIPE), -EPROTO);
	CHECK_EQ(reset_with(not_reply, 1, -EPIPE), -EPROTO);
	CHECK_EQ(reset_with(no_reply_flag, 1, -EPIPE), -EPROTO);
	CHECK_EQ(reset_with(extra, 1, -EPIPE), -EPROTO);
	CHECK_EQ(reset_with(err_payload, 1, -EPIPE), -EPROTO);
	CHECK_EQ(reset_with((const struct fake_canned[]){ ok, ok }, 2, 0), 0);
}

TEST(error_replies_give_errno)
{
	const struct fake_canned replies[] = {
		{ .error = EINVAL }, { .error = 0, .flags = VFU_FLAG_TYPE_REPLY | VFU_FLAG_ERROR },
		{ .error = 100000 }, { .error = ENODEV }, { .len = 0 },
	};
	struct fake_server fs;
	struct umdev_client *c = NULL;

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_reset(c), -EINVAL);
	CHECK_EQ(umdev_client_reset(c), -EIO);
	CHECK_EQ(umdev_client_reset(c), -EIO);
	CHECK_EQ(umdev_client_reset(c), -ENODEV);
	CHECK_EQ(umdev_client_reset(c), 0); /* still connected */
	FINISH(&fs, c);
	CHECK_EQ(fs.nmsgs, 6);
	for (size_t i = 1; i < fs.nmsgs; i++)
		CHECK_HDR(&fs.msgs[i], i, VFU_CMD_DEVICE_RESET, 16, 0);
	fake_cleanup(&fs);
}

TEST(reply_fds_not_taken_are_closed)
{
	int efd = eventfd(0, EFD_CLOEXEC), many[UMDEV_CLIENT_MAX_FDS + 1];
	const struct fake_canned replies[] = {
		{ .fds = &efd, .nfds = 1 },
		{ .fds = many, .nfds = UMDEV_CLIENT_MAX_FDS + 1 },
	};
	struct fake_server fs;
	struct umdev_client *c = NULL;

	REQUIRE(efd >= 0);
	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		many[i] = efd;
	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_reset(c), 0);
	/* more fds than a message may carry: a broken stream */
	CHECK_EQ(umdev_client_reset(c), -EPROTO);
	FINISH(&fs, c);
	fake_cleanup(&fs);
	close(efd);
	/* (the harness checks that no fd stayed open) */
}

/* Sends a header whose size is below 16. */
static void tiny_header(struct fake_server *fs)
{
	struct fake_msg *m = fake_recv(fs);
	struct vfu_hdr hdr;

	if (!m)
		return;
	hdr = (struct vfu_hdr){ m->hdr.msg_id, m->hdr.command, 8, VFU_FLAG_TYPE_REPLY, 0 };
	fake_send(fs, &hdr, sizeof(hdr), NULL, 0);
}

TEST(reply_size_below_header_breaks)
{
	struct fake_server fs;
	struct umdev_client *c = NULL;

	REQUIRE_EQ(fake_connect(&fs, NULL, tiny_header, NULL, &c), 0);
	CHECK_EQ(umdev_client_reset(c), -EPROTO);
	CHECK_EQ(umdev_client_reset(c), -EPIPE);
	FINISH(&fs, c);
	fake_cleanup(&fs);
}

/* ---- DMA_MAP, DMA_UNMAP ---- */

TEST(dma_map_unmap_request_bytes)
{
	struct vfu_dma_unmap echo = { 24, VFU_DMA_UNMAP_ALL, 0, 0 };
	const struct fake_canned replies[] = {
		{ .len = 0 }, { .len = 0 }, { .len = 0 }, { .payload = &echo, .len = sizeof(echo) },
	};
	int memfd = memfd_create("guest", MFD_CLOEXEC);
	struct fake_server fs;
	struct umdev_client *c = NULL;
	struct fake_msg *m;

	REQUIRE(memfd >= 0);
	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0x10000, 0x2000, memfd, 0x1000, 3), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0x40000, 0x1000, -1, 0, 1), 0);
	CHECK_EQ(umdev_client_dma_unmap(c, 0x10000, 0x2000, 0), 0);
	CHECK_EQ(umdev_client_dma_unmap(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0, 0x1000, -2, 0, 3), -EBADF);
	FINISH(&fs, c);
	REQUIRE_EQ(fs.nmsgs, 5);

	m = &fs.msgs[1];
	CHECK_HDR(m, 1, VFU_CMD_DMA_MAP, 48, 0);
	CHECK_EQ(fake_u32(m, 0), 32);
	CHECK_EQ(fake_u32(m, 4), 3);
	CHECK_EQ(fake_u64(m, 8), 0x1000);
	CHECK_EQ(fake_u64(m, 16), 0x10000);
	CHECK_EQ(fake_u64(m, 24), 0x2000);
	REQUIRE_EQ(m->nfds, 1);
	CHECK(fake_same_file(m->fds[0], memfd));

	m = &fs.msgs[2];
	CHECK_HDR(m, 2, VFU_CMD_DMA_MAP, 48, 0);
	CHECK_EQ(fake_u32(m, 4), 1);
	CHECK_EQ(fake_u64(m, 8), 0);
	CHECK_EQ(fake_u64(m, 16), 0x40000);
	CHECK_EQ(m->nfds, 0);

	m = &fs.msgs[3];
	CHECK_HDR(m, 3, VFU_CMD_DMA_UNMAP, 40, 0);
	CHECK_EQ(fake_u32(m, 0), 24);
	CHECK_EQ(fake_u32(m, 4), 0);
	CHECK_EQ(fake_u64(m, 8), 0x10000);
	CHECK_EQ(fake_u64(m, 16), 0x2000);

	m = &fs.msgs[4];
	CHECK_HDR(m, 4, VFU_CMD_DMA_UNMAP, 40, 0);
	CHECK_EQ(fake_u32(m, 4), VFIO_DMA_UNMAP_FLAG_ALL);
	fake_cleanup(&fs);
	close(memfd);
}

TEST(dma_unmap_echo_checked)
{
	struct vfu_dma_unmap wrong = { 24, 0, 0x2000, 0x1000 };
	const struct fake_canned bad_echo[] = { { .payload = &wrong, .len = sizeof(wrong) } };
	const struct fake_canned short_echo[] = { { .payload = &wrong, .len = 8 } };
	const struct fake_canned exists[] = { { .error = EEXIST }, { .len = 0 } };
	struct fake_server fs;
	struct umdev_client *c = NULL;

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(bad_echo), &c), 0);
	CHECK_EQ(umdev_client_dma_unmap(c, 0x1000, 0x1000, 0), -EPROTO);
	FINISH(&fs, c);
	fake_cleanup(&fs);

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(short_echo), &c), 0);
	CHECK_EQ(umdev_client_dma_unmap(c, 0x2000, 0x1000, 0), -EPROTO);
	FINISH(&fs, c);
	fake_cleanup(&fs);

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(exists), &c), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0, 0x1000, -1, 0, 3), -EEXIST);
	CHECK_EQ(umdev_client_dma_map(c, 0x1000, 0x1000, -1, 0, 3), 0);
	FINISH(&fs, c);
	fake_cleanup(&fs);
}

TEST(dma_map_fd_needs_server_fds)
{
	struct fake_server fs;
	struct umdev_client *c = NULL;
	int efd = eventfd(0, EFD_CLOEXEC);

	REQUIRE(efd >= 0);
	REQUIRE_EQ(fake_connect(&fs, CAPS("\"max_msg_fds\":0"), NULL, NULL, &c), 0);
	CHECK_EQ(umdev_client_max_msg_fds(c), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0, 0x1000, efd, 0, 3), -EOPNOTSUPP);
	FINISH(&fs, c);
	CHECK_EQ(fs.nmsgs, 1); /* nothing sent */
	fake_cleanup(&fs);
	close(efd);
}

/* ---- information ---- */

TEST(get_info_request_and_reply)
{
	struct vfu_device_info out = { 16, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET, 9, 5 };
	struct vfu_device_info small = { 8, 0, 0, 0 };
	const struct fake_canned replies[] = {
		{ .payload = &out, .len = sizeof(out) },
		{ .payload = &small, .len = sizeof(small) },
	};
	const struct fake_canned short_reply[] = { { .payload = &out, .len = 12 } };
	uint8_t big[20] = { 16 };
	const struct fake_canned long_reply[] = { { .payload = big, .len = sizeof(big) } };
	struct fake_server fs;
	struct umdev_client *c = NULL;
	struct vfio_device_info info;

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	memset(&info, 0xff, sizeof(info));
	CHECK_EQ(umdev_client_get_info(c, &info), 0);
	CHECK_EQ(info.argsz, 16);
	CHECK_EQ(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	CHECK_EQ(info.num_regions, 9);
	CHECK_EQ(info.num_irqs, 5);
	CHECK_EQ(umdev_client_get_info(c, &info), -EPROTO); /* argsz below 16 */
	FINISH(&fs, c);
	REQUIRE(fs.nmsgs >= 2);
	CHECK_HDR(&fs.msgs[1], 1, VFU_CMD_DEVICE_GET_INFO, 32, 0);
	CHECK_EQ(fake_u32(&fs.msgs[1], 0), 16);
	CHECK_EQ(fake_u32(&fs.msgs[1], 4), 0);
	CHECK_EQ(fake_u64(&fs.msgs[1], 8), 0);
	fake_cleanup(&fs);

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(short_reply), &c), 0);
	CHECK_EQ(umdev_client_get_info(c, &info), -EPROTO);
	FINISH(&fs, c);
	fake_cleanup(&fs);
	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(long_reply), &c), 0);
	CHECK_EQ(umdev_client_get_info(c, &info), -EPROTO);
	FINISH(&fs, c);
	fake_cleanup(&fs);
}

/* A region-info reply: struct vfu_region_info, then a sparse-mmap capability of 4 areas. */
struct region_reply {
	struct vfu_region_info info;
	struct vfio_region_info_cap_sparse_mmap sparse;
	struct vfio_region_sparse_mmap_area areas[4];
};

static void fill_region_reply(struct region_reply *r, uint32_t argsz)
{
	memset(r, 0, sizeof(*r));
	r->info = (struct vfu_region_info){
		.argsz = argsz,
		.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			 VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS,
		.index = 2,
		.cap_offset = sizeof(r->info),
		.size = 0x10000,
		.offset = 0,
	};
	r->sparse.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	r->sparse.header.version = 1;
	r->sparse.nr_areas = 4;
	for (int i = 0; i < 4; i++)
		r->areas[i] = (struct vfio_region_sparse_mmap_area){ 0x1000 * (i + 1), 0x800 };
}

TEST(region_info_argsz_retry)
{
	struct region_reply full;
	int memfd = memfd_create("bar", MFD_CLOEXEC);
	struct fake_canned replies[2] = {
		{ .payload = &full, .len = sizeof(full.info) },
		{ .payload = &full, .len = sizeof(full), .fds = &memfd, .nfds = 1 },
	};
	struct fake_server fs;
	struct umdev_client *c = NULL;
	struct vfio_region_info *info = NULL;
	int fd = -2;

	_Static_assert(sizeof(struct region_reply) == 112, "region reply");
	REQUIRE(memfd >= 0);
	fill_region_reply(&full, sizeof(full));
	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_get_region_info(c, 2, &info, &fd), 0);
	FINISH(&fs, c);
	REQUIRE(info != NULL);
	CHECK_EQ(info->argsz, sizeof(full));
	CHECK_EQ(info->index, 2);
	CHECK_EQ(info->size, 0x10000);
	CHECK_EQ(info->cap_offset, 32);
	CHECK(!memcmp(info, &full, sizeof(full)));
	CHECK(fd >= 0 && fake_same_file(fd, memfd));
	REQUIRE_EQ(fs.nmsgs, 3);
	/* first with 32 + 64, then with what the server asked for */
	CHECK_HDR(&fs.msgs[1], 1, VFU_CMD_DEVICE_GET_REGION_INFO, 48, 0);
	CHECK_EQ(fake_u32(&fs.msgs[1], 0), 96);
	CHECK_EQ(fake_u32(&fs.msgs[1], 8), 2);
	CHECK_EQ(fake_u32(&fs.msgs[1], 4) | fake_u32(&fs.msgs[1], 12), 0);
	CHECK_HDR(&fs.msgs[2], 2, VFU_CMD_DEVICE_GET_REGION_INFO, 48, 0);
	CHECK_EQ(fake_u32(&fs.msgs[2], 0), sizeof(full));
	fake_cleanup(&fs);
	free(info);
	if (fd >= 0)
		close(fd);
	close(memfd);
}

TEST(region_info_without_caps)
{
	struct vfu_region_info plain = { 32, VFIO_REGION_INFO_FLAG_READ, 7, 0, 256, 0 };
	int efd = eventfd(0, EFD_CLOEXEC);
	const struct fake_canned replies[] = {
		{ .payload = &plain, .len = sizeof(plain) },
		{ .payload = &plain, .len = sizeof(plain), .fds = &efd, .nfds = 1 },
	};
	struct fake_server fs;
	struct umdev_client *c = NULL;
	struct vfio_region_info *info = NULL;
	int fd = -2;

	REQUIRE(efd >= 0);
	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_get_region_info(c, 7, &info, &fd), 0);
	CHECK_EQ(fd, -1);
	REQUIRE(info != NULL);
	CHECK_EQ(info->argsz, 32);
	CHECK_EQ(info->size, 256);
	free(info);
	info = NULL;
	/* an fd the caller does not take is closed */
	CHECK_EQ(umdev_client_get_region_info(c, 7, &info, NULL), 0);
	free(info);
	FINISH(&fs, c);
	fake_cleanup(&fs);
	close(efd);
}

/* Bad region-info replies, each for index 2: a first reply of 32 bytes that asks for 112,
 * then (for some) the second. */
struct bad_region {
	const char *what;
	struct fake_canned replies[2];
	size_t n;
};

TEST(region_info_bad_replies)
{
	struct region_reply ok, r[7];
	int efd = eventfd(0, EFD_CLOEXEC), two[2] = { efd, efd };
	struct bad_region cases[8];
	size_t n = 0;

	REQUIRE(efd >= 0);
	fill_region_reply(&ok, sizeof(ok));
	for (int i = 0; i < 7; i++)
		fill_region_reply(&r[i], sizeof(r[i]));
	r[0].info.index = 3;
	cases[n++] = (struct bad_region){ "wrong index", { { .payload = &r[0], .len = 32 } }, 1 };
	r[1].info.argsz = 40;
	cases[n++] = (struct bad_region){ "less than argsz says", { { .payload = &r[1], .len = 32 } }, 1 };
	r[2].info.cap_offset = 200;
	cases[n++] = (struct bad_region){ "capability outside", { { .payload = &ok, .len = 32 }, { .payload = &r[2], .len = 112 } }, 2 };
	r[3].sparse.header.next = 32;
	cases[n++] = (struct bad_region){ "capability loop", { { .payload = &ok, .len = 32 }, { .payload = &r[3], .len = 112 } }, 2 };
	r[4].info.cap_offset = 108;
	cases[n++] = (struct bad_region){ "capability cut", { { .payload = &ok, .len = 32 }, { .payload = &r[4], .len = 112 } }, 2 };
	r[5].info.argsz = 200;
	cases[n++] = (struct bad_region){ "argsz grows again", { { .payload = &ok, .len = 32 }, { .payload = &r[5], .len = 112 } }, 2 };
	r[6].info.argsz = 1u << 20;
	cases[n++] = (struct bad_region){ "argsz too big", { { .payload = &r[6], .len = 32 } }, 1 };
	cases[n++] = (struct bad_region){
		"two fds", { { .payload = &ok, .len = 32 }, { .payload = &ok, .len = 112, .fds = two, .nfds = 2 } }, 2
	};

	for (size_t i = 0; i < n; i++) {
		struct fake_server fs;
		struct umdev_client *c = NULL;
		struct vfio_region_info *info = NULL;
		int fd = -2;

		REQUIRE_EQ(fake_connect_canned(&fs, NULL, cases[i].replies, cases[i].n, &c), 0);
		if (!CHECK_EQ(umdev_client_get_region_info(c, 2, &info, &fd), -EPROTO))
			tap_diag("case: %s", cases[i].what);
		CHECK(info == NULL);
		CHECK_EQ(fd, -2); /* untouched on failure */
		FINISH(&fs, c);
		fake_cleanup(&fs);
	}
	close(efd);
}

TEST(region_io_fds_request_and_reply)
{
	struct {
		struct vfu_region_io_fds hdr;
		struct vfu_sub_region_ioeventfd sub;
	} reply = { { 56, 0, 1, 1 }, { 0x10, 4, 0, 0, 0, 0, 0 } };
	int efd = eventfd(0, EFD_CLOEXEC);
	const struct fake_canned replies[] = {
		{ .payload = &reply, .len = sizeof(reply), .fds = &efd, .nfds = 1 },
		{ .payload = &reply, .len = sizeof(reply), .fds = &efd, .nfds = 1 },
	};
	struct fake_server fs;
	struct umdev_client *c = NULL;
	uint8_t buf[128];
	int fds[4];
	size_t nfds = 4;

	REQUIRE(efd >= 0);
	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_get_region_io_fds(c, 1, buf, sizeof(buf), fds, &nfds), 56);
	CHECK(!memcmp(buf, &reply, sizeof(reply)));
	REQUIRE_EQ(nfds, 1);
	CHECK(fake_same_file(fds[0], efd));
	close(fds[0]);
	nfds = 0; /* no room for the fd: refused, and closed */
	CHECK_EQ(umdev_client_get_region_io_fds(c, 1, buf, sizeof(buf), fds, &nfds), -ENOBUFS);
	CHECK_EQ(nfds, 0);
	CHECK_EQ(umdev_client_get_region_io_fds(c, 1, buf, 8, fds, &nfds), -EINVAL);
	FINISH(&fs, c);
	REQUIRE(fs.nmsgs >= 2);
	CHECK_HDR(&fs.msgs[1], 1, VFU_CMD_DEVICE_GET_REGION_IO_FDS, 32, 0);
	CHECK_EQ(fake_u32(&fs.msgs[1], 0), sizeof(buf));
	CHECK_EQ(fake_u32(&fs.msgs[1], 8), 1);
	fake_cleanup(&fs);
	close(efd);
}

TEST(irq_info_request_and_reply)
{
	struct vfu_irq_info out = { 16, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 2, 8 };
	struct vfu_irq_info other = { 16, 0, 3, 1 };
	const struct fake_canned replies[] = {
		{ .payload = &out, .len = sizeof(out) },
		{ .payload = &other, .len = sizeof(other) },
	};
	struct fake_server fs;
	struct umdev_client *c = NULL;
	struct vfio_irq_info info = { .index = 2 };

	REQUIRE_EQ(fake_connect_canned(&fs, NULL, CANNED(replies), &c), 0);
	CHECK_EQ(umdev_client_get_irq_info(c, &info), 0);
	CHECK_EQ(info.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	CHECK_EQ(info.count, 8);
	CHECK_EQ(umdev_client_get_irq_info(c, &info), -EPROTO); /* index 3 for 2 */
	FINISH(&fs, c);
	REQUIRE(fs.nmsgs >= 2);
	CHECK_HDR(&fs.msgs[1], 1, VFU_CMD_DEVICE_GET_IRQ_INFO, 32, 0);
	CHECK_EQ(fake_u32(&fs.msgs[1], 0), 16);
	CHECK_EQ(fake_u32(&fs.msgs[1], 4), 0);
	CHECK_EQ(fake_u32(&fs.msgs[1], 8), 2);
	CHECK_EQ(fake_u32(&fs.msgs[1], 12), 0);
	fake_cleanup(&fs);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
