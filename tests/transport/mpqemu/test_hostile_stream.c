/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile clients, part 1: the stream. Headers that cannot be framed, commands that are not
 * the proxy's (unknown ones, RET), messages that come a byte at a time or with their fds on
 * a later byte, clients that go away mid-message or stop reading their replies, and many bad
 * clients in a row. Each case checks the close (or the answer), that the device serves the
 * next client, and that no fd is left behind (the harness also counts fds per case).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <umdev/vfio_device_fd.h>

#include "mpq_client.h"

/* The connection @fd was closed by the server, which serves the next client. */
static void closed_then_next(struct mq *h, int fd, uint32_t id)
{
	CHECK(EXPECT_EOF(fd));
	close(fd);
	CHECK(mq_wait_gone(h, 0));
	fd = mq_client(h, 0);
	if (fd >= 0) {
		CHECK(ALIVE(fd, id));
		close(fd);
		CHECK(mq_wait_gone(h, 0));
	}
}

/* ---- framing ---- */

HOSTILE_TEST(payload_size_cannot_be_framed, mq_null)
{
	static const uint64_t sizes[] = { 193, 256, 0x10000, 1ull << 32, 1ull << 63, UINT64_MAX };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int fd = mq_client(h, 0), rd, wr = probe_make(&rd);
		struct mb m;

		if (fd < 0)
			break;
		mb_conf(&m, MQ_CFGREAD, 0, 0, 4);
		mb_set_size(&m, sizes[i]);
		CHECK_EQ(mb_send(fd, &m, &wr, 1), 0);
		close(wr);
		closed_then_next(h, fd, NULL_ID);
		CHECK(probe_closed(rd));
		close(rd);
	}
	CHECK_EQ(mq_stats(h, 0).protocol_errors, 6);
}

/* The largest payload is fine, for a command whose payload it is not: an error reply. */
HOSTILE_TEST(largest_payload, mq_null)
{
	int fd = mq_client(h, 0);
	struct mb m;

	REQUIRE(fd >= 0);
	mb_conf(&m, MQ_CFGREAD, 0, 0, 4);
	mb_fill(&m, 0, MQ_MAX_PAYLOAD - MQ_CONF_SIZE);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	CHECK(EXPECT_RET(fd, MQ_ERR));
	CHECK(ALIVE(fd, NULL_ID));
	close(fd);
}

/* Commands that are not the proxy's: the stream cannot be followed, the connection ends. */
HOSTILE_TEST(unknown_commands, mq_null)
{
	static const int32_t cmds[] = { 8, 9, 100, -1, INT32_MIN, INT32_MAX };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int fd = mq_client(h, 0);
		struct mb m;

		if (fd < 0)
			break;
		mb_conf(&m, cmds[i], 0, 0, 4);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		closed_then_next(h, fd, NULL_ID);
	}
	CHECK_EQ(mq_stats(h, 0).protocol_errors, 6);
	CHECK_EQ(mq_stats(h, 0).error_replies, 0);
}

/* RET is the remote's: one from the client closes the connection, whatever its size. */
HOSTILE_TEST(ret_from_client, mq_null)
{
	for (int i = 0; i < 2; i++) {
		int fd = mq_client(h, 0);
		struct mb m;

		if (fd < 0)
			break;
		/* a valid request first: answered before the close */
		mb_conf(&m, MQ_CFGREAD, 0, 0, 2);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		mb_start(&m, MQ_RET);
		if (i == 0)
			mb_u64(&m, 0);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		CHECK(EXPECT_RET(fd, 0x1234));
		closed_then_next(h, fd, NULL_ID);
	}
}

/* The header's padding is not looked at (QEMU sends zeroes). */
HOSTILE_TEST(padding_ignored, mq_null)
{
	int fd = mq_client(h, 0);
	struct mb m;

	REQUIRE(fd >= 0);
	mb_conf(&m, MQ_CFGREAD, 0, 0, 4);
	mb_set_pad(&m, 0xdeadbeef);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	CHECK(EXPECT_RET(fd, NULL_ID));
	close(fd);
}

/* ---- messages in pieces ---- */

/* Sends @m one byte per send(), its fds with byte @fd_at. */
static void send_bytewise(int fd, struct mb *m, const int *fds, size_t nfds, size_t fd_at)
{
	const uint8_t *p = mb_done(m);

	for (size_t i = 0; i < m->len; i++) {
		CHECK_EQ(mq_raw_send(fd, p + i, 1, i == fd_at ? fds : NULL, i == fd_at ? nfds : 0),
			 0);
		if (i % 8 == 0)
			usleep(200);
	}
}

HOSTILE_TEST(byte_at_a_time, mq_null)
{
	struct vfio_device *vdev = h->dev[0].vdev;
	int fd = mq_client(h, 0), memfd = memfd_pattern(0x2000, 9), before;
	const uint64_t gpa = 0x4000, size = 0x2000;
	const int64_t off = 0;
	uint8_t byte = 0;
	struct mb m;

	REQUIRE(fd >= 0);
	mb_conf(&m, MQ_CFGREAD, 2, 0, 2);
	send_bytewise(fd, &m, NULL, 0, 0);
	CHECK(EXPECT_RET(fd, 0x6e75));
	before = count_fds();
	/* the fds may come with any byte of their message: the first, or a later one */
	for (size_t at = 0; at < 3; at++) {
		mb_sysmem(&m, 1, &gpa, &size, &off);
		send_bytewise(fd, &m, &memfd, 1, at == 0 ? 0 : at == 1 ? 15 : 100);
		CHECK(ALIVE(fd, NULL_ID));
		CHECK_EQ(vfio_dma_rw(vdev, 0x4001, &byte, 1, false), 0);
		CHECK_EQ(byte, 9 + 7);
		CHECK_EQ(count_fds(), before);
	}
	close(fd);
	close(memfd);
}

/* A client that goes away mid-message: closed, what it sent dropped, the next one served. */
HOSTILE_TEST(peer_closes_mid_message, mq_null)
{
	static const size_t cuts[] = { 1, 5, 15, 16, 17, 100 };

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		int fd = mq_client(h, 0), rd, wr = probe_make(&rd), memfd = memfd_pattern(4096, 0);
		const uint64_t gpa = 0, size = 4096;
		const int64_t off = 0;
		int fds[2] = { memfd, wr };
		struct mb m;

		if (fd < 0)
			break;
		mb_sysmem(&m, 1, &gpa, &size, &off);
		CHECK_EQ(mq_raw_send(fd, mb_done(&m), cuts[i], fds, 2), 0);
		close(wr);
		close(memfd);
		close(fd);
		CHECK(mq_wait_gone(h, 0));
		CHECK(probe_closed(rd));
		close(rd);
	}
	CHECK_EQ(mq_stats(h, 0).disconnects, 6);
	CHECK_EQ(mq_stats(h, 0).protocol_errors, 0);
	CHECK_EQ(vfio_device_is_open(h->dev[0].vdev), false);
	{
		int fd = mq_client(h, 0);

		if (fd >= 0) {
			CHECK(ALIVE(fd, NULL_ID));
			close(fd);
		}
	}
}

/* The client shuts its writing side down after its requests: all answered, then EOF. */
HOSTILE_TEST(requests_then_shutdown, mq_mtty1)
{
	int fd = mq_client(h, 0);
	struct mb m;

	REQUIRE(fd >= 0);
	for (int i = 0; i < 10; i++) {
		mb_conf(&m, MQ_CFGREAD, 0, 0, 2);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	}
	CHECK_EQ(shutdown(fd, SHUT_WR), 0);
	for (int i = 0; i < 10; i++)
		CHECK(EXPECT_RET(fd, 0x4348));
	CHECK(EXPECT_EOF(fd));
	close(fd);
	CHECK(mq_wait_gone(h, 0));
}

/* ---- a client that does not read ---- */

/*
 * A client that sends requests and never reads the replies: the server stops reading from
 * it once a reply does not fit its socket, holding no more than that reply; another device
 * on the same worker is served meanwhile. Once the client reads, it gets every reply, in
 * order, and the server goes on.
 */
TEST(client_that_does_not_read)
{
	const struct mq_driver *drivers[] = { &mq_null, &mq_null };
	size_t sent = 0, partial = 0;
	struct mq h;
	int a = -1, b = -1;
	struct mb m;

	if (!mq_start(&h, 2, drivers, false))
		goto out;
	a = mq_client(&h, 0);
	b = mq_client(&h, 1);
	if (a < 0 || b < 0)
		goto out;
	/* until both directions are full: nothing more goes in within 200 ms */
	mb_conf(&m, MQ_CFGREAD, 2, 0, 2);
	mb_done(&m);
	for (int idle = 0; idle < 20;) {
		ssize_t n = send(a, m.p + partial, m.len - partial, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (!CHECK(errno == EAGAIN))
				goto out;
			mq_barrier(&h, 0);
			usleep(10000);
			idle++;
			continue;
		}
		idle = 0;
		partial += (size_t)n;
		if (partial == m.len) {
			partial = 0;
			sent++;
		}
	}
	tap_diag("%zu requests in before the server stopped reading", sent);
	CHECK(sent > 100);
	CHECK(mpqemu_server_has_client(h.dev[0].srv));
	/* the worker is not stuck on a */
	CHECK(ALIVE(b, NULL_ID));
	CHECK_EQ(CFG_RD(b, 0, 2), 0x1234);
	/* a reads: everything comes, in order; then the rest of a request cut in two */
	for (size_t i = 0; i < sent; i++)
		if (!EXPECT_RET(a, 0x6e75))
			break;
	if (partial) {
		CHECK_EQ(mq_raw_send(a, m.p + partial, m.len - partial, NULL, 0), 0);
		CHECK(EXPECT_RET(a, 0x6e75));
	}
	CHECK(ALIVE(a, NULL_ID));
	EXPECT_QUIET(a);
	close(a);
	a = -1;
	mq_next_client_ok(&h, 0);
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	mq_stop(&h);
}

/* ---- many bad clients ---- */

/* Bad clients of every kind, one after another: the fds are back where they started. */
HOSTILE_TEST(many_bad_clients_leak_nothing, mq_null)
{
	int memfd = memfd_pattern(0x4000, 3), start = count_fds();
	const uint64_t gpa[2] = { 0, 0x2000 }, size[2] = { 0x4000, 0x2000 };
	const int64_t off[2] = { 0, 0 };

	for (unsigned int i = 0; i < 60; i++) {
		int fd = mq_client(h, 0), efd = efd_new(), fds[9];
		struct mb m;

		if (fd < 0) {
			close(efd);
			break;
		}
		for (int k = 0; k < 9; k++)
			fds[k] = k % 2 ? efd : memfd;
		switch (i % 6) {
		case 0: /* garbage that cannot be framed, with fds */
			mb_start(&m, 0x7fff);
			mb_set_size(&m, 1000);
			CHECK_EQ(mb_send(fd, &m, fds, 3), 0);
			break;
		case 1: /* memory mapped, IRQ fds handed over, then gone */
			SYSMEM(fd, 1, gpa, size, off, &memfd);
			SET_IRQFD(fd, efd, efd);
			CHECK(ALIVE(fd, NULL_ID));
			break;
		case 2: /* fds with half a message */
			mb_sysmem(&m, 2, gpa, size, off);
			CHECK_EQ(mq_raw_send(fd, mb_done(&m), 40, fds, 2), 0);
			break;
		case 3: /* overlapping sections, too many fds, then an unknown command */
			SYSMEM(fd, 2, gpa, size, off, fds);
			mb_conf(&m, MQ_CFGREAD, 0, 0, 4);
			CHECK_EQ(mb_send(fd, &m, fds, 9), 0);
			CHECK(EXPECT_RET(fd, MQ_ERR));
			mb_start(&m, 42);
			CHECK_EQ(mb_send(fd, &m, &efd, 1), 0);
			CHECK(EXPECT_EOF(fd));
			break;
		case 4: { /* a refused client with fds, while this one is there */
			int sv[2];

			CHECK(ALIVE(fd, NULL_ID));
			if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0))
				break;
			CHECK_EQ(mq_raw_send(sv[0], "x", 1, fds, 2), 0);
			CHECK_EQ(mpqemu_server_add_client(h->dev[0].srv, sv[1]), -EBUSY);
			close(sv[0]);
			break;
		}
		default: /* a flood of writes, unread replies, then gone */
			for (int k = 0; k < 100; k++) {
				mb_conf(&m, MQ_CFGWRITE, 0x3c, (uint32_t)k, 1);
				CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
			}
			break;
		}
		close(efd);
		close(fd);
		if (!CHECK(mq_wait_gone(h, 0)))
			break;
	}
	mq_barrier(h, 0);
	CHECK_EQ(count_fds(), start);
	CHECK_EQ(mq_stats(h, 0).disconnects, 60);
	CHECK_EQ(mq_stats(h, 0).refused, 10);
	close(memfd);
}
