/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile clients, part 1: the stream and the session. Framing that cannot be trusted (a
 * size below the header or above VFU_MAX_MSG_SIZE, a message type that is neither command
 * nor reply, a reply nobody asked for) ends the connection; everything else well framed gets
 * a header-only error reply echoing msg_id and command, and the connection goes on. Also:
 * VERSION rules, flags, fds where none belong, posted writes, pipelining, partial reads, and
 * that the device keeps its state and serves the next client after each disconnect.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile.h"

/* Sends a header-only message with any header values. */
static int send_hdr(int fd, uint16_t id, uint16_t cmd, uint32_t size, uint32_t flags,
		    uint32_t error)
{
	struct mb m;

	mb_start(&m, id, cmd, flags);
	mb_set_size(&m, size);
	mb_set_error(&m, error);
	return mb_send(fd, &m, NULL, 0);
}

/* A client that wrote @marker to BAR0 is gone: the next one finds it there. */
static void check_next_client_sees(struct hs *h, uint32_t marker)
{
	int fd;

	if (!CHECK(hs_wait_gone(h, 0)))
		return;
	fd = hs_client_v(h, 0);
	if (fd < 0)
		return;
	CHECK_EQ(BAR0_READ32(fd, 0x40), marker);
	close(fd);
	hs_wait_gone(h, 0);
}

/* ---- framing ---- */

HOSTILE_TEST(framing_size_below_header)
{
	const uint32_t sizes[] = { 0, 1, 8, 15 };

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t errors = hs_stats(h, 0).protocol_errors;
		int fd = hs_client_v(h, 0);

		if (fd < 0)
			return;
		BAR0_WRITE32(fd, 0x40, 0xc0de0000u + i);
		CHECK_EQ(send_hdr(fd, next_id(), CMD_GET_INFO, sizes[i], 0, 0), 0);
		CHECK(EXPECT_EOF(fd));
		close(fd);
		check_next_client_sees(h, 0xc0de0000u + i);
		CHECK_EQ(hs_stats(h, 0).protocol_errors, errors + 1);
	}
}

HOSTILE_TEST(framing_size_above_limit)
{
	const uint32_t sizes[] = { VFU_MAX_MSG_SIZE + 1, 0x7fffffffu, 0xffffffffu };

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int fd = hs_client_v(h, 0);

		if (fd < 0)
			return;
		BAR0_WRITE32(fd, 0x40, 0xb16b0000u + i);
		CHECK_EQ(send_hdr(fd, next_id(), CMD_REGION_WRITE, sizes[i], 0, 0), 0);
		CHECK(EXPECT_EOF(fd));
		close(fd);
		check_next_client_sees(h, 0xb16b0000u + i);
	}
}

/* A message of exactly VFU_MAX_MSG_SIZE is framed: it gets its error reply. */
HOSTILE_TEST(framing_size_at_limit)
{
	int fd = hs_client_v(h, 0);
	uint16_t id = next_id();
	struct mb m;

	if (fd < 0)
		return;
	mb_start(&m, id, CMD_REGION_WRITE, 0);
	mb_u64(&m, 0);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, VFU_MAX_MSG_SIZE - HDR_SIZE - 16);
	mb_fill(&m, 0xaa, VFU_MAX_MSG_SIZE - HDR_SIZE - 16);
	CHECK_EQ(m.len, VFU_MAX_MSG_SIZE);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	ALIVE(fd);
	close(fd);
}

/* A client that leaves inside a header or a payload: the server closes, nothing leaks. */
HOSTILE_TEST(framing_truncated_then_eof)
{
	static const size_t cut[] = { 1, 10, 15, 16, 20, 31 };

	for (unsigned int i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		int fd = hs_client_v(h, 0), rd, wr;
		struct mb m;

		if (fd < 0)
			return;
		BAR0_WRITE32(fd, 0x40, 0x7a110000u + i);
		mb_get_info(&m, next_id(), 0);
		wr = probe_make(&rd);
		CHECK_EQ(raw_send(fd, mb_done(&m), cut[i], &wr, 1), 0);
		mb_free(&m);
		close(wr);
		CHECK_EQ(shutdown(fd, SHUT_WR), 0);
		CHECK(EXPECT_EOF(fd));
		close(fd);
		check_next_client_sees(h, 0x7a110000u + i);
		CHECK(probe_closed(rd)); /* the fd of the unfinished message */
		close(rd);
	}
}

/* Messages split into 1-byte sends (partial reads), the header included. */
HOSTILE_TEST(framing_one_byte_sends)
{
	int fd = hs_client_v(h, 0);
	uint16_t wid = next_id(), rid = next_id();
	const uint8_t *p;
	struct reply r;
	struct mb m;
	uint32_t v;

	if (fd < 0)
		return;
	mb_start(&m, wid, CMD_REGION_WRITE, 0);
	mb_u64(&m, 0x80);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, 4);
	mb_u32(&m, 0x12345678);
	p = mb_done(&m);
	for (size_t i = 0; i < m.len; i++)
		CHECK_EQ(raw_send(fd, p + i, 1, NULL, 0), 0);
	mb_free(&m);
	EXPECT_OK(fd, wid, CMD_REGION_WRITE, NULL);

	mb_start(&m, rid, CMD_REGION_READ, 0);
	mb_u64(&m, 0x80);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, 4);
	p = mb_done(&m);
	for (size_t i = 0; i < m.len; i++)
		CHECK_EQ(raw_send(fd, p + i, 1, NULL, 0), 0);
	mb_free(&m);
	if (EXPECT_OK(fd, rid, CMD_REGION_READ, &r)) {
		REQUIRE_EQ(r.len, 20);
		memcpy(&v, r.payload + 16, 4);
		CHECK_EQ(v, 0x12345678);
		reply_free(&r);
	}
	close(fd);
}

/* Several messages in one send: handled in order, replies in order. */
HOSTILE_TEST(pipelining)
{
	int fd = hs_client_v(h, 0);
	uint16_t ids[6];
	struct mb all, m;
	struct reply r;
	uint32_t v;

	if (fd < 0)
		return;
	for (int i = 0; i < 6; i++)
		ids[i] = next_id();
	all.p = NULL;
	all.len = all.cap = 0;
	mb_start(&m, ids[0], CMD_REGION_WRITE, 0); /* write 1 */
	mb_u64(&m, 0x100);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, 4);
	mb_u32(&m, 1);
	mb_bytes(&all, mb_done(&m), m.len);
	mb_free(&m);
	mb_start(&m, ids[1], CMD_REGION_READ, 0); /* reads 1 */
	mb_u64(&m, 0x100);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, 4);
	mb_bytes(&all, mb_done(&m), m.len);
	mb_free(&m);
	mb_start(&m, ids[2], 14, 0); /* ENOSYS */
	mb_bytes(&all, mb_done(&m), m.len);
	mb_free(&m);
	mb_start(&m, ids[3], CMD_REGION_WRITE, F_NO_REPLY); /* posted write 2 */
	mb_u64(&m, 0x100);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, 4);
	mb_u32(&m, 2);
	mb_bytes(&all, mb_done(&m), m.len);
	mb_free(&m);
	mb_get_info(&m, ids[4], 0);
	mb_bytes(&all, mb_done(&m), m.len);
	mb_free(&m);
	mb_start(&m, ids[5], CMD_REGION_READ, 0); /* reads 2 */
	mb_u64(&m, 0x100);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, 4);
	mb_bytes(&all, mb_done(&m), m.len);
	mb_free(&m);
	CHECK_EQ(raw_send(fd, all.p, all.len, NULL, 0), 0);
	free(all.p);

	EXPECT_OK(fd, ids[0], CMD_REGION_WRITE, NULL);
	if (EXPECT_OK(fd, ids[1], CMD_REGION_READ, &r)) {
		memcpy(&v, r.payload + 16, 4);
		CHECK_EQ(v, 1);
		reply_free(&r);
	}
	EXPECT_ERROR(fd, ids[2], 14, ENOSYS);
	EXPECT_OK(fd, ids[4], CMD_GET_INFO, NULL);
	if (EXPECT_OK(fd, ids[5], CMD_REGION_READ, &r)) {
		memcpy(&v, r.payload + 16, 4);
		CHECK_EQ(v, 2);
		reply_free(&r);
	}
	close(fd);
}

/* More than VFU_MESSAGES_PER_ROUND messages in one send: all answered, in order. */
HOSTILE_TEST(pipelining_many)
{
	const unsigned int n = 5 * VFU_MESSAGES_PER_ROUND + 3;
	int fd = hs_client_v(h, 0);
	uint16_t first = 0;
	struct mb all = { 0 };

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < n; i++) {
		uint16_t id = next_id();
		struct mb m;

		if (!i)
			first = id;
		mb_get_info(&m, id, 0);
		mb_bytes(&all, mb_done(&m), m.len);
		mb_free(&m);
	}
	CHECK_EQ(raw_send(fd, all.p, all.len, NULL, 0), 0);
	free(all.p);
	for (unsigned int i = 0; i < n; i++)
		if (!EXPECT_OK(fd, (uint16_t)(first + i), CMD_GET_INFO, NULL))
			break;
	ALIVE(fd);
	close(fd);
}

/* ---- VERSION ---- */

HOSTILE_TEST(version_not_first)
{
	int fd = hs_client(h, 0);
	uint16_t id;
	struct mb m;

	if (fd < 0)
		return;
	id = next_id();
	mb_get_info(&m, id, 0);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	EXPECT_ERROR(fd, id, CMD_GET_INFO, EINVAL);
	id = next_id();
	mb_start(&m, id, CMD_REGION_READ, 0);
	mb_u64(&m, 0);
	mb_u32(&m, NULL_CFG);
	mb_u32(&m, 4);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	EXPECT_ERROR(fd, id, CMD_REGION_READ, EINVAL);
	id = next_id();
	CHECK_EQ(send_hdr(fd, id, CMD_RESET, HDR_SIZE, 0, 0), 0);
	EXPECT_ERROR(fd, id, CMD_RESET, EINVAL);
	/* the session starts with a VERSION after all that */
	if (HANDSHAKE(fd))
		ALIVE(fd);
	close(fd);
}

HOSTILE_TEST(version_twice)
{
	int fd = hs_client_v(h, 0);
	uint16_t id = next_id();
	struct mb m;

	if (fd < 0)
		return;
	mb_start(&m, id, CMD_VERSION, 0);
	mb_u16(&m, 0);
	mb_u16(&m, 0);
	mb_str0(&m, "{}");
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	EXPECT_ERROR(fd, id, CMD_VERSION, EINVAL);
	ALIVE(fd);
	close(fd);
}

/* An unsupported major version is answered, then the connection is closed. */
HOSTILE_TEST(version_major)
{
	const uint16_t majors[] = { 1, 0xffff };

	for (unsigned int i = 0; i < 2; i++) {
		int fd = hs_client(h, 0);
		uint16_t id = next_id();
		struct mb m;

		if (fd < 0)
			return;
		mb_start(&m, id, CMD_VERSION, 0);
		mb_u16(&m, majors[i]);
		mb_u16(&m, 0);
		mb_str0(&m, "{}");
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		EXPECT_ERROR(fd, id, CMD_VERSION, ENOTSUP);
		CHECK(EXPECT_EOF(fd));
		close(fd);
		CHECK(hs_wait_gone(h, 0));
	}
	/* the device was not left open */
	int fd = hs_client_v(h, 0);

	if (fd >= 0) {
		ALIVE(fd);
		close(fd);
	}
}

/* A higher minor version is answered with 0.0; an empty proposal with no JSON. */
HOSTILE_TEST(version_minor_and_empty)
{
	for (unsigned int i = 0; i < 3; i++) {
		int fd = hs_client(h, 0);
		uint16_t id = next_id(), major, minor;
		struct reply r;
		struct mb m;

		if (fd < 0)
			return;
		mb_start(&m, id, CMD_VERSION, 0);
		mb_u16(&m, 0);
		mb_u16(&m, i == 0 ? 7 : 0);
		if (i == 1)
			mb_str0(&m, "{}"); /* no room for any capability: reply without JSON */
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		if (EXPECT_OK(fd, id, CMD_VERSION, &r)) {
			CHECK(r.len >= 4);
			memcpy(&major, r.payload, 2);
			memcpy(&minor, r.payload + 2, 2);
			CHECK_EQ(major, 0);
			CHECK_EQ(minor, 0);
			if (i)
				CHECK_EQ(r.len, 4);
			reply_free(&r);
		}
		ALIVE(fd);
		close(fd);
		CHECK(hs_wait_gone(h, 0));
	}
}

struct bad_json {
	const char *json;
	size_t len; /* 0: strlen + 1 (with its NUL) */
	int err;
};

HOSTILE_TEST(version_bad_json)
{
	static const struct bad_json cases[] = {
		{ "{}", 2, EINVAL },				/* not NUL-terminated */
		{ "{\"capabilities\":{}}xx", 0, EINVAL },		/* trailing garbage */
		{ "{\"capabilities\":{}", 0, EINVAL },		/* invalid */
		{ "{}\0{}", 6, EINVAL },			/* NUL inside */
		{ "", 1, EINVAL },				/* just a NUL */
		{ "[]", 0, EINVAL },				/* not an object */
		{ "42", 0, EINVAL },
		{ "{\"capabilities\":[]}", 0, EINVAL },
		{ "{\"capabilities\":{\"max_msg_fds\":\"8\"}}", 0, EINVAL },
		{ "{\"capabilities\":{\"max_msg_fds\":-1}}", 0, EINVAL },
		{ "{\"capabilities\":{\"max_msg_fds\":1.5}}", 0, EINVAL },
		{ "{\"capabilities\":{\"max_data_xfer_size\":0}}", 0, EINVAL },
		{ "{\"capabilities\":{\"max_data_xfer_size\":true}}", 0, EINVAL },
		{ "{\"capabilities\":{\"max_dma_maps\":0}}", 0, EINVAL },
		{ "{\"capabilities\":{\"pgsizes\":\"4096\"}}", 0, EINVAL },
		{ "{\"capabilities\":{\"write_multiple\":1}}", 0, EINVAL },
		{ "{\"capabilities\":{\"migration\":1}}", 0, EINVAL },
		{ "{\"capabilities\":{\"twin_socket\":true}}", 0, EINVAL },
		/* nested deeper than the parser allows */
		{ "{\"capabilities\":{\"x\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}}", 0, EINVAL },
		/* page sizes without 4 KiB: umdev maps DMA in 4 KiB pages */
		{ "{\"capabilities\":{\"pgsizes\":8192}}", 0, ENOTSUP },
		{ "{\"capabilities\":{\"pgsizes\":0}}", 0, ENOTSUP },
	};
	int fd = hs_client(h, 0);

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_json *c = &cases[i];
		uint16_t id = next_id();
		struct mb m;

		mb_start(&m, id, CMD_VERSION, 0);
		mb_u16(&m, 0);
		mb_u16(&m, 0);
		mb_bytes(&m, c->json, c->len ? c->len : strlen(c->json) + 1);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		if (!EXPECT_ERROR(fd, id, CMD_VERSION, c->err))
			tap_diag("case %u: %s", i, c->json);
	}
	/* none of them started the session: this one does */
	if (HANDSHAKE(fd))
		ALIVE(fd);
	close(fd);
}

/* The JSON may be 4096 bytes with its NUL (vfu_dispatch.c: VFU_VERSION_MAX_JSON), no more. */
HOSTILE_TEST(version_json_size_limit)
{
	for (unsigned int extra = 0; extra < 2; extra++) {
		const char *head = "{\"capabilities\":{},\"pad\":\"", *tail = "\"}";
		size_t pad = 4096 - 1 - strlen(head) - strlen(tail) + extra;
		int fd = hs_client(h, 0);
		uint16_t id = next_id();
		struct mb m;

		if (fd < 0)
			return;
		mb_start(&m, id, CMD_VERSION, 0);
		mb_u16(&m, 0);
		mb_u16(&m, 0);
		mb_bytes(&m, head, strlen(head));
		mb_fill(&m, 'x', pad);
		mb_str0(&m, tail);
		CHECK_EQ(m.len, HDR_SIZE + 4 + 4096 + extra);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		if (extra) {
			EXPECT_ERROR(fd, id, CMD_VERSION, EINVAL);
		} else if (EXPECT_OK(fd, id, CMD_VERSION, NULL)) {
			ALIVE(fd);
		}
		close(fd);
		CHECK(hs_wait_gone(h, 0));
	}
}

/* ---- commands and flags ---- */

HOSTILE_TEST(unknown_commands)
{
	const uint16_t cmds[] = { 0, CMD_DIRTY_PAGES, 19, 20, 0x100, 0xffff };
	int fd = hs_client_v(h, 0);

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		uint16_t id = next_id();
		struct mb m;

		mb_start(&m, id, cmds[i], 0);
		mb_u64(&m, 0); /* any payload */
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		EXPECT_ERROR(fd, id, cmds[i], ENOSYS);
	}
	ALIVE(fd);
	close(fd);
}

/* DMA_READ and DMA_WRITE are the server's commands, not the client's. */
HOSTILE_TEST(client_sends_dma_commands)
{
	int fd = hs_client_v(h, 0);

	if (fd < 0)
		return;
	for (uint16_t cmd = CMD_DMA_READ; cmd <= CMD_DMA_WRITE; cmd++) {
		uint16_t id = next_id();
		struct mb m;

		mb_start(&m, id, cmd, 0);
		mb_u64(&m, 0x1000);
		mb_u64(&m, 4);
		if (cmd == CMD_DMA_WRITE)
			mb_u32(&m, 0xffffffff);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		EXPECT_ERROR(fd, id, cmd, EINVAL);
	}
	ALIVE(fd);
	close(fd);
}

HOSTILE_TEST(bad_flags_and_error)
{
	const uint32_t flags[] = { 0x40, 0x80, 0x100, 0x80000000u, F_ERROR, F_ERROR | 0x40 };
	int fd = hs_client_v(h, 0);
	uint16_t id;
	struct mb m;

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		id = next_id();
		mb_get_info(&m, id, flags[i]);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		EXPECT_ERROR(fd, id, CMD_GET_INFO, EINVAL);
	}
	/* a nonzero error field in a command */
	id = next_id();
	mb_get_info(&m, id, 0);
	mb_set_error(&m, EIO);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	EXPECT_ERROR(fd, id, CMD_GET_INFO, EINVAL);
	ALIVE(fd);
	close(fd);
}

/* A message type that is neither command nor reply cannot be answered: disconnect. */
HOSTILE_TEST(unknown_message_type)
{
	const uint32_t types[] = { 2, 0xf };

	for (unsigned int i = 0; i < 2; i++) {
		int fd = hs_client_v(h, 0);
		struct mb m;

		if (fd < 0)
			return;
		BAR0_WRITE32(fd, 0x40, 0x7e700000u + i);
		mb_get_info(&m, next_id(), types[i]);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		CHECK(EXPECT_EOF(fd));
		close(fd);
		check_next_client_sees(h, 0x7e700000u + i);
	}
}

/* A reply the server did not ask for: the stream cannot be trusted. */
HOSTILE_TEST(unexpected_reply)
{
	const uint16_t cmds[] = { CMD_DMA_READ, CMD_DMA_WRITE, CMD_GET_INFO };

	for (unsigned int i = 0; i < 3; i++) {
		uint64_t errors = hs_stats(h, 0).protocol_errors;
		int fd = hs_client_v(h, 0);
		struct mb m;

		if (fd < 0)
			return;
		BAR0_WRITE32(fd, 0x40, 0x5e1f0000u + i);
		mb_start(&m, 0, cmds[i], F_REPLY);
		mb_u64(&m, 0);
		mb_u64(&m, 0);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		CHECK(EXPECT_EOF(fd));
		close(fd);
		check_next_client_sees(h, 0x5e1f0000u + i);
		CHECK_EQ(hs_stats(h, 0).protocol_errors, errors + 1);
	}
	/* also before VERSION */
	int fd = hs_client(h, 0);
	struct mb m;

	if (fd < 0)
		return;
	mb_start(&m, 1, CMD_VERSION, F_REPLY | F_ERROR);
	mb_set_error(&m, EIO);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	CHECK(EXPECT_EOF(fd));
	close(fd);
	CHECK(hs_wait_gone(h, 0));
}

/* ---- file descriptors ---- */

/* fds on commands that take none: EINVAL, and the server closes them. */
HOSTILE_TEST(fds_where_none_belong)
{
	int fd = hs_client(h, 0), rd[4], wr;
	uint16_t id;
	struct mb m;

	if (fd < 0)
		return;
	/* VERSION takes no fd */
	id = next_id();
	mb_start(&m, id, CMD_VERSION, 0);
	mb_u16(&m, 0);
	mb_u16(&m, 0);
	mb_str0(&m, "{}");
	wr = probe_make(&rd[0]);
	CHECK_EQ(mb_send(fd, &m, &wr, 1), 0);
	close(wr);
	EXPECT_ERROR(fd, id, CMD_VERSION, EINVAL);
	if (!HANDSHAKE(fd))
		goto out;

	id = next_id();
	mb_get_info(&m, id, 0);
	wr = probe_make(&rd[1]);
	CHECK_EQ(mb_send(fd, &m, &wr, 1), 0);
	close(wr);
	EXPECT_ERROR(fd, id, CMD_GET_INFO, EINVAL);

	id = next_id();
	mb_start(&m, id, CMD_REGION_READ, 0);
	mb_u64(&m, 0);
	mb_u32(&m, NULL_CFG);
	mb_u32(&m, 4);
	wr = probe_make(&rd[2]);
	CHECK_EQ(mb_send(fd, &m, &wr, 1), 0);
	close(wr);
	EXPECT_ERROR(fd, id, CMD_REGION_READ, EINVAL);

	id = next_id();
	mb_start(&m, id, CMD_DMA_UNMAP, 0);
	mb_u32(&m, 24);
	mb_u32(&m, 2); /* all */
	mb_u64(&m, 0);
	mb_u64(&m, 0);
	wr = probe_make(&rd[3]);
	CHECK_EQ(mb_send(fd, &m, &wr, 1), 0);
	close(wr);
	EXPECT_ERROR(fd, id, CMD_DMA_UNMAP, EINVAL);

	ALIVE(fd); /* by now the fds of the messages before are closed */
	for (int i = 0; i < 4; i++) {
		CHECK(probe_closed(rd[i]));
		close(rd[i]);
	}
out:
	close(fd);
}

/* More fds than a message may carry (VFU_MAX_MSG_FDS): EINVAL, none kept. */
HOSTILE_TEST(fds_over_the_limit)
{
	int fd = hs_client_v(h, 0), rd[VFU_MAX_MSG_FDS + 1], wr[VFU_MAX_MSG_FDS + 1];
	uint16_t id;
	struct mb m;

	if (fd < 0)
		return;
	for (int i = 0; i < VFU_MAX_MSG_FDS + 1; i++)
		wr[i] = probe_make(&rd[i]);
	/* SET_IRQS, the command that takes most fds: EVENTFD|TRIGGER on MSI-X 0..16 */
	id = next_id();
	mb_start(&m, id, CMD_SET_IRQS, 0);
	mb_u32(&m, 20);
	mb_u32(&m, 0x4 | 0x20);
	mb_u32(&m, 2);
	mb_u32(&m, 0);
	mb_u32(&m, VFU_MAX_MSG_FDS + 1);
	CHECK_EQ(mb_send(fd, &m, wr, VFU_MAX_MSG_FDS + 1), 0);
	EXPECT_ERROR(fd, id, CMD_SET_IRQS, EINVAL);
	/* and a GET_INFO with 17 fds */
	id = next_id();
	mb_get_info(&m, id, 0);
	CHECK_EQ(mb_send(fd, &m, wr, VFU_MAX_MSG_FDS + 1), 0);
	EXPECT_ERROR(fd, id, CMD_GET_INFO, EINVAL);
	for (int i = 0; i < VFU_MAX_MSG_FDS + 1; i++)
		close(wr[i]);
	ALIVE(fd);
	for (int i = 0; i < VFU_MAX_MSG_FDS + 1; i++) {
		CHECK(probe_closed(rd[i]));
		close(rd[i]);
	}
	CHECK(hs_stats(h, 0).protocol_errors == 0);
	close(fd);
}

/* fds that come with the second half of a message belong to that message. */
HOSTILE_TEST(fds_mid_message)
{
	int fd = hs_client_v(h, 0), rd, wr;
	uint16_t id = next_id();
	struct reply r;
	struct mb m;
	const uint8_t *p;
	int memfd;

	if (fd < 0)
		return;
	/* GET_INFO: its fd, sent mid-message, is refused and closed */
	mb_get_info(&m, id, 0);
	p = mb_done(&m);
	wr = probe_make(&rd);
	CHECK_EQ(raw_send(fd, p, 8, NULL, 0), 0);
	CHECK_EQ(raw_send(fd, p + 8, m.len - 8, &wr, 1), 0);
	mb_free(&m);
	close(wr);
	EXPECT_ERROR(fd, id, CMD_GET_INFO, EINVAL);
	ALIVE(fd);
	CHECK(probe_closed(rd));
	close(rd);

	/* DMA_MAP with its memfd on the last byte: answered one way or the other */
	memfd = memfd_create("hostile", MFD_CLOEXEC);
	REQUIRE(memfd >= 0);
	CHECK_EQ(ftruncate(memfd, 65536), 0);
	id = next_id();
	mb_start(&m, id, CMD_DMA_MAP, 0);
	mb_u32(&m, 32);
	mb_u32(&m, 3);
	mb_u64(&m, 0);
	mb_u64(&m, 0x100000);
	mb_u64(&m, 65536);
	p = mb_done(&m);
	CHECK_EQ(raw_send(fd, p, m.len - 1, NULL, 0), 0);
	CHECK_EQ(raw_send(fd, p + m.len - 1, 1, &memfd, 1), 0);
	mb_free(&m);
	if (CHECK_EQ(raw_recv(fd, &r), 1)) {
		CHECK_EQ(r.id, id);
		CHECK_EQ(r.cmd, CMD_DMA_MAP);
		reply_free(&r);
	}
	ALIVE(fd);
	close(memfd);
	close(fd);
}

/* ---- posted writes ---- */

/* A posted (NO_REPLY) message gets no reply, not even an error. */
HOSTILE_TEST(posted_writes)
{
	int fd = hs_client_v(h, 0);
	uint16_t id;
	struct mb m;
	uint32_t v;

	if (fd < 0)
		return;
	/* failing posted writes: region out of range, past the end, count mismatch */
	mb_start(&m, next_id(), CMD_REGION_WRITE, F_NO_REPLY);
	mb_u64(&m, 0);
	mb_u32(&m, 99);
	mb_u32(&m, 4);
	mb_u32(&m, 0xdead);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	mb_start(&m, next_id(), CMD_REGION_WRITE, F_NO_REPLY);
	mb_u64(&m, NULL_BAR0_SIZE - 2);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, 4);
	mb_u32(&m, 0xdead);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	mb_start(&m, next_id(), CMD_REGION_WRITE, F_NO_REPLY);
	mb_u64(&m, 0x20);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, 8);
	mb_u32(&m, 0xdead);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	/* unknown and refused commands, posted */
	mb_start(&m, next_id(), 0x4242, F_NO_REPLY);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	mb_get_info(&m, next_id(), F_NO_REPLY | 0x40);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	/* a good posted write */
	mb_start(&m, next_id(), CMD_REGION_WRITE, F_NO_REPLY);
	mb_u64(&m, 0x20);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, 4);
	mb_u32(&m, 0xfeed);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	/* the next reply is the read's, and it sees the posted write */
	id = next_id();
	mb_start(&m, id, CMD_REGION_READ, 0);
	mb_u64(&m, 0x20);
	mb_u32(&m, NULL_BAR0);
	mb_u32(&m, 4);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	struct reply r;

	if (EXPECT_OK(fd, id, CMD_REGION_READ, &r)) {
		memcpy(&v, r.payload + 16, 4);
		CHECK_EQ(v, 0xfeed);
		reply_free(&r);
	}
	CHECK_EQ(BAR0_READ32(fd, NULL_BAR0_SIZE - 4), 0);
	close(fd);
}
