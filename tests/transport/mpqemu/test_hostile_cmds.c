/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile clients, part 2: well-framed messages with bad contents. Requests with a reply
 * get RET UINT64_MAX for a payload of the wrong size, fds they do not take, too many fds,
 * config accesses of a bad length or outside config space, and BAR accesses of a bad size,
 * space or range; the stream goes on. SYNC_SYSMEM that cannot be honoured (fds and
 * sections that do not match, overlap, overflow, misalignment, fds that cannot be mapped
 * read-write) leaves no guest memory mapped (nor does a layout of sections that are not
 * page-aligned, which cannot be mapped); SET_IRQFD without the right two eventfds is
 * ignored. Every fd sent is closed by the server.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/serial_reg.h>

#include <umdev/vfio_device_fd.h>

#include "mpq_client.h"

/* Sends @m with @nfds fds and expects RET UINT64_MAX. */
static bool refused_at(int fd, struct mb *m, const int *fds, size_t nfds, SRCPOS)
{
	if (!tap_check_eq(mb_send(fd, m, fds, nfds), 0, "send", "0", file, line))
		return false;
	return expect_ret_at(fd, MQ_ERR, file, line);
}
#define REFUSED(fd, m, fds, nfds) refused_at(fd, m, fds, nfds, AT)

/* ---- payloads and fds of requests with a reply ---- */

HOSTILE_TEST(payload_size_mismatch, mq_null)
{
	static const struct {
		int32_t cmd;
		size_t len;
	} bad[] = {
		{ MQ_CFGREAD, 0 },   { MQ_CFGREAD, 8 },   { MQ_CFGREAD, 11 },  { MQ_CFGREAD, 13 },
		{ MQ_CFGREAD, 16 },  { MQ_CFGWRITE, 0 },  { MQ_CFGWRITE, 24 }, { MQ_BAR_READ, 0 },
		{ MQ_BAR_READ, 12 }, { MQ_BAR_READ, 23 }, { MQ_BAR_READ, 32 }, { MQ_BAR_WRITE, 8 },
		{ MQ_BAR_WRITE, 25 }, { MQ_RESET, 1 },	  { MQ_RESET, 8 },     { MQ_RESET, 192 },
	};
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	CHECK_EQ(CFG_WR(fd, 0x3c, 0x33, 1), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mb m;

		mb_start(&m, bad[i].cmd);
		/* a write that would change the interrupt line if it were taken */
		mb_u32(&m, 0x3c);
		mb_u32(&m, 0x77);
		mb_u32(&m, 1);
		mb_fill(&m, 0, 192);
		m.len = MQ_HDR_SIZE + bad[i].len;
		if (!REFUSED(fd, &m, NULL, 0))
			tap_diag("command %d with %zu bytes", bad[i].cmd, bad[i].len);
	}
	CHECK_EQ(CFG_RD(fd, 0x3c, 1), 0x33);
	CHECK(ALIVE(fd, NULL_ID));
	CHECK_EQ(mq_stats(h, 0).error_replies, 16);
	CHECK_EQ(mq_stats(h, 0).protocol_errors, 0);
	close(fd);
}

HOSTILE_TEST(fds_on_requests, mq_mtty1)
{
	int fd = mq_client(h, 0), rd[4], wr[4];
	struct mb m;

	REQUIRE(fd >= 0);
	for (int i = 0; i < 4; i++)
		wr[i] = probe_make(&rd[i]);
	mb_conf(&m, MQ_CFGREAD, 0, 0, 4);
	CHECK(REFUSED(fd, &m, &wr[0], 1));
	mb_conf(&m, MQ_CFGWRITE, 0x3c, 1, 1);
	CHECK(REFUSED(fd, &m, &wr[1], 1));
	mb_bar(&m, MQ_BAR_READ, 0, 0, 1, 0);
	CHECK(REFUSED(fd, &m, &wr[2], 1));
	mb_start(&m, MQ_RESET);
	CHECK(REFUSED(fd, &m, wr, 4));
	for (int i = 0; i < 4; i++) {
		close(wr[i]);
		CHECK(probe_closed(rd[i]));
		close(rd[i]);
	}
	CHECK_EQ(CFG_RD(fd, 0x3c, 1), 0);
	CHECK(ALIVE(fd, MTTY_ID));
	close(fd);
}

/* Eight fds or more (QEMU's limit), also more than fit the server's receive buffer. */
HOSTILE_TEST(too_many_fds, mq_mtty1)
{
	int fd = mq_client(h, 0), memfd = memfd_pattern(0x1000, 0), intx = efd_new(), fds[24];
	const uint64_t gpa[8] = { 0 }, size[8] = { 0x1000 };
	const int64_t off[8] = { 0 };
	int before = count_fds();
	struct mb m;

	REQUIRE(fd >= 0);
	for (int i = 0; i < 24; i++)
		fds[i] = i % 2 ? intx : memfd;
	mb_conf(&m, MQ_CFGREAD, 0, 0, 4);
	CHECK(REFUSED(fd, &m, fds, 8));
	CHECK(REFUSED(fd, &m, fds, 24));
	/* a SYNC_SYSMEM of 8 sections */
	for (int i = 0; i < 24; i++)
		fds[i] = memfd;
	SYSMEM(fd, 8, gpa, size, off, fds);
	CHECK(ALIVE(fd, MTTY_ID));
	{
		uint8_t b;

		CHECK_EQ(vfio_dma_rw(h->dev[0].vdev, 0, &b, 1, false), -EINVAL);
	}
	/* SET_IRQFD with eight eventfds */
	for (int i = 0; i < 24; i++)
		fds[i] = intx;
	mb_start(&m, MQ_SET_IRQFD);
	CHECK_EQ(mb_send(fd, &m, fds, 8), 0);
	CHECK_EQ(CFG_WR(fd, 0x10, 0xc010, 4), 0);
	CHECK_EQ(IO_WR(fd, 0xc010 + UART_IER, UART_IER_THRI, 1), 0);
	CHECK(!fd_readable(intx, MQ_QUIET_MS)); /* not wired */
	CHECK_EQ(count_fds(), before);
	close(fd);
	close(memfd);
	close(intx);
}

/* ---- config accesses ---- */

HOSTILE_TEST(config_bad_access, mq_null)
{
	static const struct {
		uint32_t addr;
		int32_t len;
	} bad[] = {
		{ 0, 0 },      { 0, 3 },      { 0, 5 },		 { 0, 8 },	   { 0, -1 },
		{ 0, -4 },     { 0, INT32_MIN }, { 0x100, 1 },	 { 0xfd, 4 },	   { 0xff, 2 },
		{ 0xffffffff, 1 }, { 0xfffffffe, 4 }, { 0x80000000, 4 },
	};
	int fd = mq_client(h, 0);
	struct mb m;

	REQUIRE(fd >= 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mb_conf(&m, MQ_CFGREAD, bad[i].addr, 0, bad[i].len);
		CHECK(REFUSED(fd, &m, NULL, 0));
		mb_conf(&m, MQ_CFGWRITE, bad[i].addr, 0xffffffff, bad[i].len);
		CHECK(REFUSED(fd, &m, NULL, 0));
	}
	/* the edges that are inside */
	CHECK_EQ(CFG_RD(fd, 0xfc, 4), 0);
	CHECK_EQ(CFG_RD(fd, 0xff, 1), 0);
	CHECK_EQ(CFG_RD(fd, 0, 4), NULL_ID);
	CHECK_EQ(mq_stats(h, 0).error_replies, 26);
	close(fd);
}

/* ---- BAR accesses ---- */

HOSTILE_TEST(bar_bad_access, mq_null)
{
	static const struct {
		uint64_t addr;
		uint32_t size;
		uint8_t memory;
	} bad[] = {
		{ 0xfebf0000, 0, 1 },	 { 0xfebf0000, 3, 1 },	{ 0xfebf0000, 5, 1 },
		{ 0xfebf0000, 6, 1 },	 { 0xfebf0000, 7, 1 },	{ 0xfebf0000, 16, 1 },
		{ 0xfebf0000, UINT32_MAX, 1 }, { 0xfebf0000, 4, 2 }, { 0xfebf0000, 4, 0xff },
		{ UINT64_MAX, 2, 1 },	 { UINT64_MAX - 2, 4, 0 }, { UINT64_MAX - 6, 8, 1 },
	};
	int fd = mq_client(h, 0);
	struct mb m;

	REQUIRE(fd >= 0);
	CHECK_EQ(CFG_WR(fd, 0x10, 0xfebf0000, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x04, 0x2, 2), 0);
	CHECK_EQ(MEM_WR(fd, 0xfebf0000, 0x5a5a5a5a, 4), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mb_bar(&m, MQ_BAR_READ, bad[i].addr, 0, bad[i].size, bad[i].memory);
		CHECK(REFUSED(fd, &m, NULL, 0));
		mb_bar(&m, MQ_BAR_WRITE, bad[i].addr, 0, bad[i].size, bad[i].memory);
		CHECK(REFUSED(fd, &m, NULL, 0));
	}
	CHECK_EQ(MEM_RD(fd, 0xfebf0000, 4), 0x5a5a5a5a);
	/* the last byte of the bus is fine, and decodes to nothing */
	CHECK_EQ(MEM_RD(fd, UINT64_MAX, 1), 0xff);
	CHECK_EQ(IO_RD(fd, UINT64_MAX - 3, 4), 0xffffffff);
	CHECK_EQ(mq_stats(h, 0).error_replies, 24);
	close(fd);
}

/* ---- SYNC_SYSMEM that cannot be honoured ---- */

#define GOOD_GPA 0x100000u

static bool mapped(struct mq *h)
{
	uint8_t b;

	return vfio_dma_rw(h->dev[0].vdev, GOOD_GPA, &b, 1, false) == 0;
}

/* Maps one good section at GOOD_GPA, checked. */
static void map_good(struct mq *h, int fd, int memfd)
{
	const uint64_t gpa = GOOD_GPA, size = 0x4000;
	const int64_t off = 0;

	SYSMEM(fd, 1, &gpa, &size, &off, &memfd);
	CHECK(ALIVE(fd, NULL_ID));
	CHECK(mapped(h));
}

/* A SYNC_SYSMEM of @n sections with @nfds fds leaves nothing mapped, and no fd behind. */
static void sysmem_refused_at(struct mq *h, int fd, int memfd, size_t n, const uint64_t *gpa,
			      const uint64_t *size, const int64_t *off, const int *fds,
			      size_t nfds, SRCPOS)
{
	int before = count_fds();
	struct mb m;

	map_good(h, fd, memfd);
	mb_sysmem(&m, n, gpa, size, off);
	tap_check_eq(mb_send(fd, &m, fds, nfds), 0, "send", "0", file, line);
	alive_at(fd, NULL_ID, file, line);
	tap_check(!mapped(h), "nothing mapped", file, line);
	tap_check_eq(count_fds(), before, "fds", "before", file, line);
}
#define SYSMEM_REFUSED(n, g, s, o, fds, nfds) \
	sysmem_refused_at(h, fd, memfd, n, g, s, o, fds, nfds, AT)

HOSTILE_TEST(sysmem_bad, mq_null)
{
	int fd = mq_client(h, 0), memfd = memfd_pattern(0x10000, 4), efd = efd_new();
	int sealed = memfd_pattern(0x10000, 0), rd, wr = probe_make(&rd), fds[2];
	uint64_t g[3] = { 0 }, s[3] = { 0 };
	int64_t o[3] = { 0 };
	char tmpl[] = "/tmp/umdev-mpqemu-ro-XXXXXX";
	int tmp = mkstemp(tmpl), ro;

	REQUIRE(fd >= 0);
	REQUIRE(tmp >= 0);
	CHECK_EQ(ftruncate(tmp, 0x10000), 0);
	ro = open(tmpl, O_RDONLY | O_CLOEXEC);
	unlink(tmpl);
	close(tmp);
	REQUIRE(ro >= 0);
	CHECK_EQ(fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE), 0);
	fds[0] = fds[1] = memfd;

	/* no fds at all */
	s[0] = 0x1000;
	SYSMEM_REFUSED(1, g, s, o, NULL, 0);
	/* two sections, one fd; or an entry past the fds that is not empty */
	g[1] = 0x10000;
	s[1] = 0x1000;
	SYSMEM_REFUSED(2, g, s, o, fds, 1);
	s[1] = 0;
	SYSMEM_REFUSED(2, g, s, o, fds, 1);
	g[1] = 0;
	o[1] = 0x1000;
	SYSMEM_REFUSED(2, g, s, o, fds, 1);
	o[1] = 0;
	/* overlapping sections */
	g[0] = 0;
	s[0] = 0x2000;
	g[1] = 0x1000;
	s[1] = 0x1000;
	SYSMEM_REFUSED(2, g, s, o, fds, 2);
	g[1] = 0;
	s[1] = 0x10000;
	SYSMEM_REFUSED(2, g, s, o, fds, 2);
	/* wrapping: the address range, the file range, sizes and offsets out of range */
	g[0] = 0xfffffffffffff000ull;
	s[0] = 0x2000;
	SYSMEM_REFUSED(1, g, s, o, fds, 1);
	g[0] = 0;
	o[0] = -0x1000;
	SYSMEM_REFUSED(1, g, s, o, fds, 1);
	o[0] = 0x7ffffffffffff000ll;
	SYSMEM_REFUSED(1, g, s, o, fds, 1);
	o[0] = 0;
	s[0] = 0x8000000000000000ull;
	SYSMEM_REFUSED(1, g, s, o, fds, 1);
	/* not page-aligned: valid, but such a section cannot be mapped (the rest of a layout
	 * can, test_functional_session.c) */
	s[0] = 0x1800;
	SYSMEM_REFUSED(1, g, s, o, fds, 1);
	s[0] = 0x1000;
	g[0] = 0x800;
	SYSMEM_REFUSED(1, g, s, o, fds, 1);
	g[0] = 0;
	o[0] = 0x10;
	SYSMEM_REFUSED(1, g, s, o, fds, 1);
	o[0] = 0;
	/* past the end of the file */
	s[0] = 0x20000;
	SYSMEM_REFUSED(1, g, s, o, fds, 1);
	s[0] = 0x1000;
	o[0] = 0x10000;
	SYSMEM_REFUSED(1, g, s, o, fds, 1);
	o[0] = 0;
	/* fds that cannot be mapped read-write: sealed, read-only, not memory */
	SYSMEM_REFUSED(1, g, s, o, &sealed, 1);
	SYSMEM_REFUSED(1, g, s, o, &ro, 1);
	SYSMEM_REFUSED(1, g, s, o, &efd, 1);
	SYSMEM_REFUSED(1, g, s, o, &wr, 1);
	/* a good section and a bad one: neither stays */
	g[1] = 0x10000;
	s[1] = 0x1000;
	fds[1] = sealed;
	SYSMEM_REFUSED(2, g, s, o, fds, 2);
	{
		uint8_t b;

		CHECK_EQ(vfio_dma_rw(h->dev[0].vdev, 0, &b, 1, false), -EINVAL);
	}
	/* the wrong payload size */
	{
		int before = count_fds();
		struct mb m;

		map_good(h, fd, memfd);
		mb_sysmem(&m, 1, g, s, o);
		m.len -= 8;
		CHECK_EQ(mb_send(fd, &m, &memfd, 1), 0);
		CHECK(ALIVE(fd, NULL_ID));
		CHECK(!mapped(h));
		CHECK_EQ(count_fds(), before);
	}
	/* only empty sections: valid, and nothing mapped */
	s[0] = 0;
	SYSMEM_REFUSED(1, g, s, o, fds, 1);
	/* after all that, a good one works */
	map_good(h, fd, memfd);
	close(wr);
	CHECK(probe_closed(rd));
	close(rd);
	CHECK_EQ(mq_stats(h, 0).error_replies, 0);
	close(fd);
	close(memfd);
	close(sealed);
	close(ro);
	close(efd);
}

/* ---- SET_IRQFD without the right two eventfds ---- */

HOSTILE_TEST(set_irqfd_bad, mq_mtty1)
{
	int fd = mq_client(h, 0), intx = efd_new(), rs = efd_new(), rd, wr = probe_make(&rd);
	int before, fds[3];
	uint64_t one = 1;
	struct mb m;

	REQUIRE(fd >= 0);
	CHECK_EQ(CFG_WR(fd, 0x10, 0xc010, 4), 0);
	before = count_fds();
	fds[0] = intx;
	fds[1] = rs;
	fds[2] = rs;
	mb_start(&m, MQ_SET_IRQFD);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);	/* none */
	CHECK_EQ(mb_send(fd, &m, fds, 1), 0);	/* one */
	CHECK_EQ(mb_send(fd, &m, fds, 3), 0);	/* three */
	mb_u64(&m, 0);
	CHECK_EQ(mb_send(fd, &m, fds, 2), 0);	/* a payload */
	mb_start(&m, MQ_SET_IRQFD);
	fds[1] = wr;
	CHECK_EQ(mb_send(fd, &m, fds, 2), 0);	/* the resample fd is a pipe */
	fds[0] = wr;
	fds[1] = rs;
	CHECK_EQ(mb_send(fd, &m, fds, 2), 0);	/* the trigger is a pipe */
	fds[0] = fds[1] = intx;
	CHECK_EQ(mb_send(fd, &m, fds, 2), 0);	/* one eventfd for both */
	fds[1] = dup(intx);
	CHECK_EQ(mb_send(fd, &m, fds, 2), 0);	/* the same file through two fds */
	close(fds[1]);
	CHECK(ALIVE(fd, MTTY_ID));
	CHECK_EQ(count_fds(), before);
	/* nothing is wired: an interrupt goes nowhere, a resample does nothing */
	CHECK_EQ(IO_WR(fd, 0xc010 + UART_IER, UART_IER_THRI, 1), 0);
	CHECK_EQ(write(rs, &one, sizeof(one)), 8);
	CHECK(!fd_readable(intx, MQ_QUIET_MS));
	efd_take(rs);
	/* a good pair still works after all that */
	SET_IRQFD(fd, intx, rs);
	CHECK(fd_readable(intx, MQ_TIMEOUT_MS));
	CHECK_EQ(efd_take(intx), 1);
	CHECK_EQ(write(rs, &one, sizeof(one)), 8);
	CHECK(fd_readable(intx, MQ_TIMEOUT_MS));
	close(wr);
	CHECK(probe_closed(rd));
	close(rd);
	close(fd);
	CHECK(mq_wait_gone(h, 0));
	close(intx);
	close(rs);
}
