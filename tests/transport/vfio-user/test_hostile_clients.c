/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile clients, part 5: clients as a whole. A second client is refused with EBUSY (through
 * add_client and through the listening socket), a refused client that says nothing is closed
 * after VFU_REFUSE_TIMEOUT_MS and one past VFU_MAX_REFUSED at once, a client that does not
 * read its replies stops being read (backpressure) without stalling another device on the
 * same worker and loses nothing, and many bad clients leave the server with the fds it
 * started with.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hostile.h"

/* ---- clients ---- */

/* A second client is told EBUSY in reply to its first message, then closed. */
HOSTILE_TEST(second_client_busy)
{
	int a = hs_client_v(h, 0), b;
	uint16_t id;
	struct mb m;

	if (a < 0)
		return;
	BAR0_WRITE32(a, 0x40, 0xb05e);
	for (int i = 0; i < 2; i++) {
		b = hs_client(h, 0);
		if (b < 0)
			break;
		id = next_id();
		if (i == 0) {
			mb_start(&m, id, CMD_VERSION, 0);
			mb_u16(&m, 0);
			mb_u16(&m, 0);
			mb_str0(&m, "{}");
		} else {
			mb_get_info(&m, id, F_NO_REPLY); /* told even so */
		}
		CHECK_EQ(mb_send(b, &m, NULL, 0), 0);
		EXPECT_ERROR(b, id, i == 0 ? CMD_VERSION : CMD_GET_INFO, EBUSY);
		CHECK(EXPECT_EOF(b));
		close(b);
	}
	CHECK_EQ(hs_stats(h, 0).refused, 2);
	CHECK_EQ(hs_stats(h, 0).connections, 1);
	CHECK_EQ(BAR0_READ32(a, 0x40), 0xb05e);
	close(a);
}

/* The same through the listening socket; and the next client after a disconnect. */
TEST(second_client_busy_socket)
{
	struct hs h;
	int a, b;

	if (!hs_start(&h, 1, true))
		goto out;
	a = hs_connect(&h, 0);
	if (a < 0)
		goto out;
	if (HANDSHAKE(a)) {
		uint16_t id = next_id();
		struct mb m;

		BAR0_WRITE32(a, 0x40, 0x50c4e7);
		b = hs_connect(&h, 0);
		if (b >= 0) {
			mb_start(&m, id, CMD_VERSION, 0);
			mb_u16(&m, 0);
			mb_u16(&m, 0);
			CHECK_EQ(mb_send(b, &m, NULL, 0), 0);
			EXPECT_ERROR(b, id, CMD_VERSION, EBUSY);
			CHECK(EXPECT_EOF(b));
			close(b);
		}
		ALIVE(a);
	}
	close(a);
	if (!CHECK(hs_wait_gone(&h, 0)))
		goto out;
	b = hs_connect(&h, 0);
	if (b >= 0) {
		if (HANDSHAKE(b))
			CHECK_EQ(BAR0_READ32(b, 0x40), 0x50c4e7);
		close(b);
	}
out:
	hs_stop(&h);
}

/* A refused client that says nothing is closed after VFU_REFUSE_TIMEOUT_MS. */
HOSTILE_TEST(refused_silent_client)
{
	int a = hs_client_v(h, 0), b[VFU_MAX_REFUSED + 1];

	if (a < 0)
		return;
	/* one more than may wait to be told: that one is closed at once */
	for (int i = 0; i < VFU_MAX_REFUSED + 1; i++)
		b[i] = hs_client(h, 0);
	for (int i = 0; i < VFU_MAX_REFUSED + 1; i++) {
		if (b[i] < 0)
			continue;
		/* bounded by RAW_TIMEOUT_MS, well above VFU_REFUSE_TIMEOUT_MS */
		CHECK(EXPECT_EOF(b[i]));
		close(b[i]);
	}
	CHECK_EQ(hs_stats(h, 0).refused, VFU_MAX_REFUSED + 1);
	ALIVE(a);
	close(a);
}

/* The n-th request of a client that does not read: a 4 KiB read of BAR0. */
static void make_bar0_read(struct mb *m, size_t n)
{
	mb_start(m, HS_FILL_ID(n), CMD_REGION_READ, 0);
	mb_u64(m, 0);
	mb_u32(m, NULL_BAR0);
	mb_u32(m, NULL_BAR0_SIZE);
}

/*
 * A client that sends 4 KiB reads and never reads the replies: once VFU_OUTPUT_PAUSE of them
 * are queued the server stops reading from it (nothing more goes in), holding no more than
 * that; another device on the same worker is served meanwhile. Once the client reads, every
 * reply comes, in order and whole, and the server goes on with the requests that waited.
 */
TEST(client_that_does_not_read)
{
	const size_t reply_size = HDR_SIZE + 16 + NULL_BAR0_SIZE;
	size_t sent = 0, partial = 0;
	struct hs h;
	struct mb m = { 0 };
	int a = -1, b = -1;

	if (!hs_start(&h, 2, false))
		goto out;
	a = hs_client_v(&h, 0);
	b = hs_client_v(&h, 1);
	if (a < 0 || b < 0)
		goto out;
	BAR0_WRITE32(a, 0x40, 0xf100d);
	sent = hs_send_until_full(&h, 0, a, make_bar0_read, &m, &partial);
	tap_diag("%zu requests in before the server stopped reading", sent);
	/* more than the server may queue went in: the rest waits unread */
	CHECK(sent * reply_size > VFU_OUTPUT_PAUSE);
	CHECK(vfio_user_server_has_client(h.dev[0].srv));
	CHECK_EQ(hs_stats(&h, 0).disconnects, 0);
	/* the worker is not stuck on a: b is answered */
	ALIVE(b);
	BAR0_WRITE32(b, 0x40, 0xb);
	CHECK_EQ(BAR0_READ32(b, 0x40), 0xb);
	/* a reads: every reply, in order and whole; then the rest of a request cut in two */
	hs_read_filled(a, &m, sent, partial, CMD_REGION_READ, (uint32_t)reply_size, 0);
	CHECK_EQ(BAR0_READ32(a, 0x40), 0xf100d);
	ALIVE(b);
	CHECK_EQ(hs_stats(&h, 0).disconnects, 0);
out:
	mb_free(&m);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	hs_stop(&h);
}

/* Many bad clients of every kind: the server's fd count is back where it started. */
HOSTILE_TEST(many_bad_clients_leak_nothing)
{
	int memfd = memfd_create("hostile", MFD_CLOEXEC), start, keep;

	REQUIRE(memfd >= 0);
	CHECK_EQ(ftruncate(memfd, 65536), 0);
	start = count_fds();
	for (unsigned int i = 0; i < 60; i++) {
		int fd = hs_client(h, 0), efd = eventfd(0, EFD_CLOEXEC), fds[2] = { memfd, efd };
		struct mb m;

		if (fd < 0 || efd < 0)
			break;
		if (i % 6 != 0)
			HANDSHAKE(fd);
		switch (i % 6) {
		case 0: /* garbage before VERSION */
			mb_start(&m, 1, 0xffff, 0);
			mb_set_size(&m, 3);
			CHECK_EQ(mb_send(fd, &m, fds, 2), 0);
			break;
		case 1: /* a mapping with an fd, then gone */
			mb_start(&m, 2, CMD_DMA_MAP, 0);
			mb_u32(&m, 32);
			mb_u32(&m, 3);
			mb_u64(&m, 0);
			mb_u64(&m, 0x10000);
			mb_u64(&m, 65536);
			CHECK_EQ(mb_send(fd, &m, &memfd, 1), 0);
			EXPECT_OK(fd, 2, CMD_DMA_MAP, NULL);
			break;
		case 2: /* fds with half a message */
			mb_start(&m, 3, CMD_SET_IRQS, 0);
			mb_u32(&m, 20);
			CHECK_EQ(raw_send(fd, mb_done(&m), m.len, fds, 2), 0);
			mb_free(&m);
			break;
		case 3: /* a bad message with fds, then an unasked reply */
			mb_get_info(&m, 4, 0);
			CHECK_EQ(mb_send(fd, &m, fds, 2), 0);
			EXPECT_ERROR(fd, 4, CMD_GET_INFO, EINVAL);
			mb_start(&m, 5, CMD_DMA_READ, F_REPLY);
			CHECK_EQ(mb_send(fd, &m, &efd, 1), 0);
			break;
		case 4: { /* a refused client with fds, while this one is there */
			int b = hs_client(h, 0);

			if (b >= 0) {
				mb_get_info(&m, 6, 0);
				CHECK_EQ(mb_send(b, &m, fds, 2), 0);
				EXPECT_ERROR(b, 6, CMD_GET_INFO, EBUSY);
				close(b);
			}
			break;
		}
		default: /* a posted write flood, then gone */
			for (int k = 0; k < 100; k++) {
				mb_start(&m, 7, CMD_REGION_WRITE, F_NO_REPLY);
				mb_u64(&m, 0);
				mb_u32(&m, NULL_BAR0);
				mb_u32(&m, 4);
				mb_u32(&m, (uint32_t)k);
				CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
			}
			break;
		}
		close(efd);
		close(fd);
		if (!CHECK(hs_wait_gone(h, 0)))
			break;
	}
	hs_barrier(h, 0);
	keep = count_fds();
	CHECK_EQ(keep, start);
	CHECK_EQ(hs_stats(h, 0).disconnects, 60);
	close(memfd);
}
