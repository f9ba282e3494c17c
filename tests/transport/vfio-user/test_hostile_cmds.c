/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile clients, part 2: the payload of every command. Each command's payload one byte
 * shorter and one byte longer than allowed, then each field that the server checks (argsz,
 * indexes, offsets, counts, flags) out of range, each answered with its errno while the
 * connection goes on, and a valid request of the same command to show that the check is the
 * one that fired. The null device has 9 regions (BAR0: 4 KiB, config: 256 bytes), 5 IRQ
 * indexes with no interrupts, and no migration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile.h"

/* vfio's flag values, as the wire carries them */
#define REGION_FLAG_READ 0x1u
#define REGION_FLAG_WRITE 0x2u
#define DEVICE_FLAGS_RESET 0x1u
#define DEVICE_FLAGS_PCI 0x2u
#define IRQ_DATA_NONE 0x1u
#define IRQ_DATA_BOOL 0x2u
#define IRQ_DATA_EVENTFD 0x4u
#define IRQ_ACTION_MASK 0x8u
#define IRQ_ACTION_TRIGGER 0x20u
#define FEATURE_GET (1u << 16)
#define FEATURE_SET (1u << 17)
#define FEATURE_PROBE (1u << 18)
#define FEATURE_MIGRATION 1u
#define FEATURE_DMA_LOGGING_START 6u
#define FEATURE_DMA_LOGGING_REPORT 8u

/* The largest VERSION JSON (vfu_dispatch.c) and REGION_WRITE_MULTI entry count (QEMU's). */
#define VERSION_MAX_JSON 4096
#define WRITE_MULTI_MAX 200

/* Sends @cmd with @len bytes of @fill as payload; returns the id. */
static uint16_t send_filled(int fd, uint16_t cmd, size_t len, uint8_t fill)
{
	uint16_t id = next_id();
	struct mb m;

	mb_start(&m, id, cmd, 0);
	mb_fill(&m, fill, len);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	return id;
}

/* The u32 at @off of a reply's payload. */
static uint32_t pl32(const struct reply *r, size_t off)
{
	uint32_t v = 0;

	if (off + 4 <= r->len)
		memcpy(&v, r->payload + off, 4);
	return v;
}

static uint64_t pl64(const struct reply *r, size_t off)
{
	uint64_t v = 0;

	if (off + 8 <= r->len)
		memcpy(&v, r->payload + off, 8);
	return v;
}

/* Sends a message of u32 fields. */
static uint16_t send_u32s(int fd, uint16_t cmd, uint32_t flags, const uint32_t *v, size_t n)
{
	uint16_t id = next_id();
	struct mb m;

	mb_start(&m, id, cmd, flags);
	for (size_t i = 0; i < n; i++)
		mb_u32(&m, v[i]);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	return id;
}

#define SEND_U32S(fd, cmd, ...)                                                       \
	send_u32s(fd, cmd, 0, (const uint32_t[]){ __VA_ARGS__ },                      \
		  sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))

/* A REGION_READ or REGION_WRITE header; @data of @datalen follows for a write. */
static uint16_t send_access(int fd, uint16_t cmd, uint32_t flags, uint64_t off, uint32_t region,
			    uint32_t count, const void *data, size_t datalen)
{
	uint16_t id = next_id();
	struct mb m;

	mb_start(&m, id, cmd, flags);
	mb_u64(&m, off);
	mb_u32(&m, region);
	mb_u32(&m, count);
	mb_bytes(&m, data, datalen);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	return id;
}

/* ---- sizes ---- */

struct size_rule {
	uint16_t cmd;
	size_t min, max; /* of the payload */
};

/* Every command's payload one byte short of and one byte past what it may be. */
HOSTILE_TEST(payload_sizes)
{
	static const struct size_rule rules[] = {
		{ CMD_DMA_MAP, 32, 32 },
		{ CMD_DMA_UNMAP, 24, 24 },
		{ CMD_GET_INFO, 16, 16 },
		{ CMD_GET_REGION_INFO, 32, 32 },
		{ CMD_GET_REGION_IO_FDS, 16, 16 },
		{ CMD_GET_IRQ_INFO, 16, 16 },
		{ CMD_SET_IRQS, 20, 20 + VFU_MAX_ARGSZ },
		{ CMD_REGION_READ, 16, 16 },
		{ CMD_REGION_WRITE, 16, 16 + VFU_MAX_DATA_XFER },
		{ CMD_RESET, 0, 0 },
		{ CMD_WRITE_MULTI, 8, 8 + WRITE_MULTI_MAX * 24 },
		{ CMD_DEVICE_FEATURE, 8, 8 + VFU_MAX_ARGSZ },
		{ CMD_MIG_DATA_READ, 8, 8 },
		{ CMD_MIG_DATA_WRITE, 8, 8 + VFU_MAX_DATA_XFER },
	};
	int fd = hs_client(h, 0);
	uint16_t id;

	if (fd < 0)
		return;
	/* VERSION, before the session: 4 bytes of version, JSON up to VERSION_MAX_JSON */
	id = send_filled(fd, CMD_VERSION, 3, 0);
	EXPECT_ERROR(fd, id, CMD_VERSION, EINVAL);
	id = send_filled(fd, CMD_VERSION, 4 + VERSION_MAX_JSON + 1, 0);
	EXPECT_ERROR(fd, id, CMD_VERSION, EINVAL);
	if (!HANDSHAKE(fd))
		goto out;
	for (unsigned int i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct size_rule *r = &rules[i];

		if (r->min) {
			id = send_filled(fd, r->cmd, r->min - 1, 0);
			if (!EXPECT_ERROR(fd, id, r->cmd, EINVAL))
				tap_diag("command %u, payload %zu", r->cmd, r->min - 1);
		}
		id = send_filled(fd, r->cmd, r->max + 1, 0);
		if (!EXPECT_ERROR(fd, id, r->cmd, EINVAL))
			tap_diag("command %u, payload %zu", r->cmd, r->max + 1);
	}
	ALIVE(fd);
out:
	close(fd);
}

/* ---- information ---- */

HOSTILE_TEST(get_info)
{
	int fd = hs_client_v(h, 0);
	struct reply r;
	uint16_t id;

	if (fd < 0)
		return;
	id = SEND_U32S(fd, CMD_GET_INFO, 15, 0, 0, 0);
	EXPECT_ERROR(fd, id, CMD_GET_INFO, EINVAL);
	id = SEND_U32S(fd, CMD_GET_INFO, 0, 0, 0, 0);
	EXPECT_ERROR(fd, id, CMD_GET_INFO, EINVAL);
	/* a bigger argsz is fine: the reply is 16 bytes */
	id = SEND_U32S(fd, CMD_GET_INFO, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu);
	if (EXPECT_OK(fd, id, CMD_GET_INFO, &r)) {
		CHECK_EQ(r.len, 16);
		CHECK_EQ(pl32(&r, 0), 16);
		CHECK_EQ(pl32(&r, 4), DEVICE_FLAGS_PCI | DEVICE_FLAGS_RESET);
		CHECK_EQ(pl32(&r, 8), NULL_NUM_REGIONS);
		CHECK_EQ(pl32(&r, 12), NULL_NUM_IRQS);
		reply_free(&r);
	}
	close(fd);
}

HOSTILE_TEST(get_region_info)
{
	const uint32_t bad_index[] = { NULL_NUM_REGIONS, 255, 256, 0x80000000u, 0xffffffffu };
	int fd = hs_client_v(h, 0);
	struct reply r;
	uint16_t id;

	if (fd < 0)
		return;
	for (uint32_t argsz = 0; argsz < 32; argsz += 31) {
		id = SEND_U32S(fd, CMD_GET_REGION_INFO, argsz, 0, NULL_BAR0, 0, 0, 0, 0, 0);
		EXPECT_ERROR(fd, id, CMD_GET_REGION_INFO, EINVAL);
	}
	for (unsigned int i = 0; i < sizeof(bad_index) / sizeof(bad_index[0]); i++) {
		id = SEND_U32S(fd, CMD_GET_REGION_INFO, 32, 0, bad_index[i], 0, 0, 0, 0, 0);
		EXPECT_ERROR(fd, id, CMD_GET_REGION_INFO, EINVAL);
	}
	/* BAR0 and config space, with any argsz from 32 up */
	id = SEND_U32S(fd, CMD_GET_REGION_INFO, 0xffffffffu, 0, NULL_BAR0, 0, 0, 0, 0, 0);
	if (EXPECT_OK(fd, id, CMD_GET_REGION_INFO, &r)) {
		CHECK_EQ(r.len, 32);
		CHECK_EQ(pl32(&r, 0), 32);
		CHECK_EQ(pl32(&r, 4), REGION_FLAG_READ | REGION_FLAG_WRITE);
		CHECK_EQ(pl32(&r, 8), NULL_BAR0);
		CHECK_EQ(pl32(&r, 12), 0);
		CHECK_EQ(pl64(&r, 16), NULL_BAR0_SIZE);
		CHECK_EQ(r.nfds, 0);
		reply_free(&r);
	}
	id = SEND_U32S(fd, CMD_GET_REGION_INFO, 32, 0, NULL_CFG, 0, 0, 0, 0, 0);
	if (EXPECT_OK(fd, id, CMD_GET_REGION_INFO, &r)) {
		CHECK_EQ(pl32(&r, 8), NULL_CFG);
		CHECK_EQ(pl64(&r, 16), NULL_CFG_SIZE);
		reply_free(&r);
	}
	close(fd);
}

HOSTILE_TEST(get_region_io_fds)
{
	int fd = hs_client_v(h, 0);
	struct reply r;
	uint16_t id;

	if (fd < 0)
		return;
	id = SEND_U32S(fd, CMD_GET_REGION_IO_FDS, 15, 0, 0, 0);
	EXPECT_ERROR(fd, id, CMD_GET_REGION_IO_FDS, EINVAL);
	id = SEND_U32S(fd, CMD_GET_REGION_IO_FDS, 16, 1, 0, 0); /* flags */
	EXPECT_ERROR(fd, id, CMD_GET_REGION_IO_FDS, EINVAL);
	id = SEND_U32S(fd, CMD_GET_REGION_IO_FDS, 16, 0, NULL_NUM_REGIONS, 0);
	EXPECT_ERROR(fd, id, CMD_GET_REGION_IO_FDS, EINVAL);
	id = SEND_U32S(fd, CMD_GET_REGION_IO_FDS, 16, 0, 0, 1); /* count */
	EXPECT_ERROR(fd, id, CMD_GET_REGION_IO_FDS, EINVAL);
	id = SEND_U32S(fd, CMD_GET_REGION_IO_FDS, 64, 0, NULL_BAR0, 0);
	if (EXPECT_OK(fd, id, CMD_GET_REGION_IO_FDS, &r)) {
		CHECK_EQ(r.len, 16);
		CHECK_EQ(pl32(&r, 12), 0); /* no ioeventfds */
		CHECK_EQ(r.nfds, 0);
		reply_free(&r);
	}
	close(fd);
}

HOSTILE_TEST(get_irq_info)
{
	int fd = hs_client_v(h, 0);
	struct reply r;
	uint16_t id;

	if (fd < 0)
		return;
	id = SEND_U32S(fd, CMD_GET_IRQ_INFO, 15, 0, 0, 0);
	EXPECT_ERROR(fd, id, CMD_GET_IRQ_INFO, EINVAL);
	id = SEND_U32S(fd, CMD_GET_IRQ_INFO, 16, 0, NULL_NUM_IRQS, 0);
	EXPECT_ERROR(fd, id, CMD_GET_IRQ_INFO, EINVAL);
	id = SEND_U32S(fd, CMD_GET_IRQ_INFO, 16, 0, 0xffffffffu, 0);
	EXPECT_ERROR(fd, id, CMD_GET_IRQ_INFO, EINVAL);
	for (uint32_t index = 0; index < NULL_NUM_IRQS; index++) {
		id = SEND_U32S(fd, CMD_GET_IRQ_INFO, 16, 0, index, 0);
		if (EXPECT_OK(fd, id, CMD_GET_IRQ_INFO, &r)) {
			CHECK_EQ(r.len, 16);
			CHECK_EQ(pl32(&r, 8), index);
			CHECK_EQ(pl32(&r, 12), 0); /* the null device has no interrupts */
			reply_free(&r);
		}
	}
	close(fd);
}

/* ---- SET_IRQS (the null device has no interrupts: every request fails, fds are closed) ---- */

struct irq_case {
	uint32_t argsz, flags, index, start, count;
	size_t extra; /* bytes after the header */
	size_t nfds;
};

HOSTILE_TEST(set_irqs)
{
	static const struct irq_case cases[] = {
		{ 19, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER, 0, 0, 0, 0, 0 },	  /* argsz */
		{ 20, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER, NULL_NUM_IRQS, 0, 0, 0, 0 },
		{ 20, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER, 0xffffffffu, 0, 1, 0, 0 },
		{ 20, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER, 2, 1, 0xffffffffu, 0, 0 }, /* overflow */
		{ 20, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER, 2, 0xffffffffu, 1, 0, 0 },
		{ 20, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER, 2, 0x80000000u, 0x80000000u, 0, 0 },
		{ 20, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER, 2, 0, 1, 4, 0 },	  /* NONE + data */
		{ 20, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER, 2, 0, 1, 0, 1 },	  /* NONE + fd */
		{ 24, IRQ_DATA_BOOL | IRQ_ACTION_TRIGGER, 2, 0, 4, 3, 0 },	  /* bool bytes */
		{ 24, IRQ_DATA_BOOL | IRQ_ACTION_TRIGGER, 2, 0, 2, 3, 0 },
		{ 24, IRQ_DATA_BOOL | IRQ_ACTION_TRIGGER, 2, 0, 1, 1, 1 },	  /* BOOL + fd */
		{ 20, IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER, 2, 0, 2, 0, 1 },	  /* fds < count */
		{ 20, IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER, 2, 0, 1, 0, 2 },	  /* fds > count */
		{ 20, IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER, 2, 0, 1, 4, 1 },	  /* + data */
		{ 20, IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER, 2, 0, 0x7fffffffu, 0, 0 },
		{ 20, IRQ_DATA_NONE | IRQ_DATA_BOOL | IRQ_ACTION_TRIGGER, 2, 0, 1, 1, 0 },
		{ 20, IRQ_DATA_BOOL | IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER, 2, 0, 1, 0, 1 },
		{ 20, IRQ_DATA_NONE | IRQ_DATA_BOOL | IRQ_DATA_EVENTFD, 2, 0, 1, 0, 0 },
		{ 20, 0, 2, 0, 1, 0, 0 },					  /* no type */
		{ 20, IRQ_DATA_NONE | IRQ_ACTION_MASK | IRQ_ACTION_TRIGGER, 0, 0, 1, 0, 0 },
		{ 20, IRQ_DATA_NONE | 0x80000000u, 0, 0, 1, 0, 0 },		  /* unknown flag */
		{ 20, IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER, 2, 0, VFU_MAX_MSG_FDS,
		  0, VFU_MAX_MSG_FDS },
		/* what QEMU sends to disable: the null device has nothing to disable */
		{ 20, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER, 0, 0, 0, 0, 0 },
	};
	int fd = hs_client_v(h, 0);

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct irq_case *c = &cases[i];
		int rd[VFU_MAX_MSG_FDS], wr[VFU_MAX_MSG_FDS];
		uint16_t id = next_id();
		struct mb m;

		for (size_t k = 0; k < c->nfds; k++)
			wr[k] = probe_make(&rd[k]);
		mb_start(&m, id, CMD_SET_IRQS, 0);
		mb_u32(&m, c->argsz);
		mb_u32(&m, c->flags);
		mb_u32(&m, c->index);
		mb_u32(&m, c->start);
		mb_u32(&m, c->count);
		mb_fill(&m, 1, c->extra);
		CHECK_EQ(mb_send(fd, &m, wr, c->nfds), 0);
		for (size_t k = 0; k < c->nfds; k++)
			close(wr[k]);
		if (!EXPECT_ERROR(fd, id, CMD_SET_IRQS, EINVAL))
			tap_diag("SET_IRQS case %u", i);
		ALIVE(fd);
		for (size_t k = 0; k < c->nfds; k++) {
			if (!CHECK(probe_closed(rd[k])))
				tap_diag("SET_IRQS case %u: fd %zu kept", i, k);
			close(rd[k]);
		}
	}
	close(fd);
}

/* ---- region access ---- */

HOSTILE_TEST(region_read)
{
	static const struct {
		uint64_t off;
		uint32_t region, count;
	} bad[] = {
		{ 0, NULL_NUM_REGIONS, 4 },		/* no such region */
		{ 0, 255, 4 },
		{ 0, 0xffffffffu, 4 },
		{ 0, 2, 4 },				/* BAR2: size 0, no access */
		{ NULL_BAR0_SIZE - 2, NULL_BAR0, 4 },	/* past the end */
		{ NULL_BAR0_SIZE, NULL_BAR0, 1 },
		{ NULL_BAR0_SIZE + 1, NULL_BAR0, 0 },
		{ NULL_CFG_SIZE - 1, NULL_CFG, 2 },
		{ 1ull << 63, NULL_BAR0, 4 },
		{ UINT64_MAX - 1, NULL_BAR0, 4 },	/* offset + count wraps */
		{ UINT64_MAX, NULL_CFG, 1 },
		{ 0, NULL_BAR0, NULL_BAR0_SIZE + 1 },
		{ 0, NULL_BAR0, VFU_MAX_DATA_XFER },	/* within the limit, not the region */
		{ 0, NULL_BAR0, VFU_MAX_DATA_XFER + 1 }, /* over the limit */
		{ 0, NULL_BAR0, 0xffffffffu },
	};
	int fd = hs_client_v(h, 0);
	uint8_t buf[NULL_BAR0_SIZE];
	uint16_t id;

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		id = send_access(fd, CMD_REGION_READ, 0, bad[i].off, bad[i].region, bad[i].count,
				 NULL, 0);
		if (!EXPECT_ERROR(fd, id, CMD_REGION_READ, EINVAL))
			tap_diag("REGION_READ case %u", i);
	}
	/* the whole of BAR0 and the last byte of config space */
	CHECK(region_read_at(fd, NULL_BAR0, 0, buf, NULL_BAR0_SIZE, AT));
	CHECK(region_read_at(fd, NULL_CFG, NULL_CFG_SIZE - 1, buf, 1, AT));
	CHECK(region_read_at(fd, NULL_BAR0, 0, buf, 0, AT)); /* an empty read */
	ALIVE(fd);
	close(fd);
}

HOSTILE_TEST(region_write)
{
	uint8_t data[16] = { 0 }, *big;
	int fd = hs_client_v(h, 0);
	uint16_t id;

	if (fd < 0)
		return;
	BAR0_WRITE32(fd, 0x40, 0x600d);
	/* count does not match the data */
	id = send_access(fd, CMD_REGION_WRITE, 0, 0x40, NULL_BAR0, 4, data, 8);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	id = send_access(fd, CMD_REGION_WRITE, 0, 0x40, NULL_BAR0, 8, data, 4);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	id = send_access(fd, CMD_REGION_WRITE, 0, 0x40, NULL_BAR0, 4, data, 0);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	id = send_access(fd, CMD_REGION_WRITE, 0, 0x40, NULL_BAR0, VFU_MAX_DATA_XFER + 1, data, 4);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	id = send_access(fd, CMD_REGION_WRITE, 0, 0x40, NULL_BAR0, 0xffffffffu, data, 4);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	/* region and range */
	id = send_access(fd, CMD_REGION_WRITE, 0, 0x40, NULL_NUM_REGIONS, 4, data, 4);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	id = send_access(fd, CMD_REGION_WRITE, 0, 0, 3, 4, data, 4); /* size 0 */
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	id = send_access(fd, CMD_REGION_WRITE, 0, NULL_BAR0_SIZE - 4, NULL_BAR0, 8, data, 8);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	id = send_access(fd, CMD_REGION_WRITE, 0, UINT64_MAX - 3, NULL_BAR0, 8, data, 8);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	id = send_access(fd, CMD_REGION_WRITE, 0, NULL_CFG_SIZE, NULL_CFG, 1, data, 1);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	/* a 1 MiB write: a legal message, past the region */
	big = calloc(1, VFU_MAX_DATA_XFER);
	REQUIRE(big);
	id = send_access(fd, CMD_REGION_WRITE, 0, 0, NULL_BAR0, VFU_MAX_DATA_XFER, big,
			 VFU_MAX_DATA_XFER);
	free(big);
	EXPECT_ERROR(fd, id, CMD_REGION_WRITE, EINVAL);
	/* none of them wrote anything */
	CHECK_EQ(BAR0_READ32(fd, 0x40), 0x600d);
	CHECK_EQ(BAR0_READ32(fd, NULL_BAR0_SIZE - 4), 0);
	close(fd);
}

/* One REGION_WRITE_MULTI entry. */
static void mb_wm_entry(struct mb *m, uint64_t off, uint32_t region, uint32_t count, uint32_t v)
{
	mb_u64(m, off);
	mb_u32(m, region);
	mb_u32(m, count);
	mb_u32(m, v);
	mb_u32(m, 0);
}

HOSTILE_TEST(region_write_multi)
{
	static const struct {
		uint64_t wr_cnt;
		unsigned int entries; /* sent */
		uint32_t region, count;
		uint64_t off;
	} bad[] = {
		{ 0, 0, NULL_BAR0, 4, 0 },			/* none */
		{ 0, 1, NULL_BAR0, 4, 0 },
		{ 2, 1, NULL_BAR0, 4, 0 },			/* fewer than said */
		{ 1, 2, NULL_BAR0, 4, 0 },			/* more than said */
		{ WRITE_MULTI_MAX + 1, 1, NULL_BAR0, 4, 0 },
		{ 1ull << 60, 2, NULL_BAR0, 4, 0 },		/* count * 24 wraps */
		{ UINT64_MAX, 1, NULL_BAR0, 4, 0 },
		{ 1, 1, NULL_BAR0, 0, 0 },			/* entry count 0 */
		{ 1, 1, NULL_BAR0, 9, 0 },			/* entry count > 8 */
		{ 1, 1, NULL_BAR0, 0xffffffffu, 0 },
		{ 1, 1, NULL_NUM_REGIONS, 4, 0 },		/* region */
		{ 1, 1, NULL_BAR0, 4, NULL_BAR0_SIZE - 2 },	/* past the end */
	};
	int fd = hs_client_v(h, 0);
	struct reply r;
	uint16_t id;
	struct mb m;

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		id = next_id();
		mb_start(&m, id, CMD_WRITE_MULTI, 0);
		mb_u64(&m, bad[i].wr_cnt);
		for (unsigned int k = 0; k < bad[i].entries; k++)
			mb_wm_entry(&m, bad[i].off, bad[i].region, bad[i].count, 0xbad);
		CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		if (!EXPECT_ERROR(fd, id, CMD_WRITE_MULTI, EINVAL))
			tap_diag("WRITE_MULTI case %u", i);
	}
	/* 201 entries: a payload longer than any allowed */
	id = next_id();
	mb_start(&m, id, CMD_WRITE_MULTI, 0);
	mb_u64(&m, WRITE_MULTI_MAX + 1);
	for (unsigned int k = 0; k < WRITE_MULTI_MAX + 1; k++)
		mb_wm_entry(&m, 4 * k, NULL_BAR0, 4, 0xbad);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	EXPECT_ERROR(fd, id, CMD_WRITE_MULTI, EINVAL);
	CHECK_EQ(BAR0_READ32(fd, 0), 0);

	/* the most entries, then a posted one as QEMU sends them */
	id = next_id();
	mb_start(&m, id, CMD_WRITE_MULTI, 0);
	mb_u64(&m, WRITE_MULTI_MAX);
	for (unsigned int k = 0; k < WRITE_MULTI_MAX; k++)
		mb_wm_entry(&m, 4 * k, NULL_BAR0, 4, 0x1000 + k);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	if (EXPECT_OK(fd, id, CMD_WRITE_MULTI, &r)) {
		CHECK_EQ(pl64(&r, 0), WRITE_MULTI_MAX);
		reply_free(&r);
	}
	CHECK_EQ(BAR0_READ32(fd, 4 * (WRITE_MULTI_MAX - 1)), 0x1000 + WRITE_MULTI_MAX - 1);
	mb_start(&m, next_id(), CMD_WRITE_MULTI, F_NO_REPLY);
	mb_u64(&m, 2);
	mb_wm_entry(&m, 0x10, NULL_BAR0, 1, 0xaa);
	mb_wm_entry(&m, 0x18, NULL_BAR0, 8, 0xbb);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	/* the low byte of what entry 4 of the big write left there */
	CHECK_EQ(BAR0_READ32(fd, 0x10), ((0x1000 + 4) & ~0xffu) | 0xaa);
	CHECK_EQ(BAR0_READ32(fd, 0x18), 0xbb);
	close(fd);
}

HOSTILE_TEST(device_reset)
{
	int fd = hs_client_v(h, 0);
	uint16_t id;

	if (fd < 0)
		return;
	BAR0_WRITE32(fd, 0x40, 0x1234);
	id = send_filled(fd, CMD_RESET, 4, 0);
	EXPECT_ERROR(fd, id, CMD_RESET, EINVAL);
	CHECK_EQ(BAR0_READ32(fd, 0x40), 0x1234);
	id = send_filled(fd, CMD_RESET, 0, 0);
	EXPECT_OK(fd, id, CMD_RESET, NULL);
	CHECK_EQ(BAR0_READ32(fd, 0x40), 0); /* the null device clears BAR0 on reset */
	close(fd);
}

/* ---- DEVICE_FEATURE and migration data ---- */

HOSTILE_TEST(device_feature)
{
	int fd = hs_client_v(h, 0);
	uint16_t id;

	if (fd < 0)
		return;
	/* argsz below the header */
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 7, FEATURE_GET | FEATURE_MIGRATION, 0, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 0, FEATURE_PROBE | FEATURE_MIGRATION);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	/* flags the core does not know, GET with SET */
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 16, (1u << 20) | FEATURE_GET | FEATURE_MIGRATION,
		       0, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 16, 0x80000000u | FEATURE_PROBE | 0xffff, 0, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 16, FEATURE_GET | FEATURE_SET | FEATURE_MIGRATION,
		       0, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	/* a feature nobody offers; migration on a device without it */
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 16, FEATURE_GET | 0xfff0, 0, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 16, FEATURE_GET | FEATURE_MIGRATION, 0, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, ENOTTY);
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 0xffffffffu, FEATURE_PROBE | FEATURE_MIGRATION);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, ENOTTY);
	/* DMA logging: malformed, then well formed but unsupported */
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 64, FEATURE_GET | FEATURE_DMA_LOGGING_REPORT, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL); /* 4 bytes, not 24 */
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 64, FEATURE_SET | FEATURE_DMA_LOGGING_REPORT,
		       0, 0, 4096, 0, 4096, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL); /* not GET */
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 64, FEATURE_GET | FEATURE_DMA_LOGGING_REPORT,
		       0, 0, 0, 1, 4096, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL); /* bitmap larger than argsz */
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 64, FEATURE_GET | FEATURE_DMA_LOGGING_REPORT,
		       0, 0, 4096, 0, 3000, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL); /* page size not a power of 2 */
	/* logging was not started */
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 64, FEATURE_GET | FEATURE_DMA_LOGGING_REPORT,
		       0, 0, 4096, 0, 4096, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 64, FEATURE_SET | FEATURE_DMA_LOGGING_START,
		       4096, 0, 5, 0); /* 5 ranges, none sent */
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 64, FEATURE_SET | FEATURE_DMA_LOGGING_START,
		       4096, 0, 0xffffffffu, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 64, FEATURE_SET | FEATURE_DMA_LOGGING_START,
		       4096, 0, 1, 0, 0, 0, 4096, 0, 0); /* a range and 4 bytes more */
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 64, FEATURE_SET | FEATURE_DMA_LOGGING_START, 4096);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL); /* shorter than its fixed part */
	ALIVE(fd);
	close(fd);
}

HOSTILE_TEST(mig_data)
{
	int fd = hs_client_v(h, 0);
	uint16_t id;
	struct mb m;

	if (fd < 0)
		return;
	/* MIG_DATA_READ: {argsz, size} */
	id = SEND_U32S(fd, CMD_MIG_DATA_READ, 7, 0);
	EXPECT_ERROR(fd, id, CMD_MIG_DATA_READ, EINVAL);
	id = SEND_U32S(fd, CMD_MIG_DATA_READ, 16, 9); /* more than argsz holds */
	EXPECT_ERROR(fd, id, CMD_MIG_DATA_READ, EINVAL);
	id = SEND_U32S(fd, CMD_MIG_DATA_READ, 0xffffffffu, VFU_MAX_DATA_XFER + 1);
	EXPECT_ERROR(fd, id, CMD_MIG_DATA_READ, EINVAL);
	id = SEND_U32S(fd, CMD_MIG_DATA_READ, 0xffffffffu, 0xffffffffu);
	EXPECT_ERROR(fd, id, CMD_MIG_DATA_READ, EINVAL);
	/* well formed, but there is no migration stream */
	id = SEND_U32S(fd, CMD_MIG_DATA_READ, 8 + 64, 64);
	EXPECT_ERROR(fd, id, CMD_MIG_DATA_READ, EINVAL);
	id = SEND_U32S(fd, CMD_MIG_DATA_READ, 8 + VFU_MAX_DATA_XFER, VFU_MAX_DATA_XFER);
	EXPECT_ERROR(fd, id, CMD_MIG_DATA_READ, EINVAL);

	/* MIG_DATA_WRITE: size must match the data */
	id = next_id();
	mb_start(&m, id, CMD_MIG_DATA_WRITE, 0);
	mb_u32(&m, 16);
	mb_u32(&m, 16);
	mb_fill(&m, 0, 8);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	EXPECT_ERROR(fd, id, CMD_MIG_DATA_WRITE, EINVAL);
	id = next_id();
	mb_start(&m, id, CMD_MIG_DATA_WRITE, 0);
	mb_u32(&m, 16);
	mb_u32(&m, 0xffffffffu);
	mb_fill(&m, 0, 8);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	EXPECT_ERROR(fd, id, CMD_MIG_DATA_WRITE, EINVAL);
	id = next_id();
	mb_start(&m, id, CMD_MIG_DATA_WRITE, 0);
	mb_u32(&m, 16);
	mb_u32(&m, 8);
	mb_fill(&m, 0, 8);
	CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
	EXPECT_ERROR(fd, id, CMD_MIG_DATA_WRITE, EINVAL); /* no stream */
	ALIVE(fd);
	close(fd);
}

/*
 * DMA_LOGGING_REPORT of 2^64 - 1 pages of one byte: the bitmap cannot fit any argsz, so the
 * request is refused before the device sees it (the size computation must not wrap).
 */
HOSTILE_TEST(device_feature_logging_report_bitmap_overflow)
{
	int fd = hs_client_v(h, 0);
	uint16_t id;

	if (fd < 0)
		return;
	/* {iova 0, length 2^64 - 1, page_size 1} */
	id = SEND_U32S(fd, CMD_DEVICE_FEATURE, 64, FEATURE_GET | FEATURE_DMA_LOGGING_REPORT,
		       0, 0, 0xffffffffu, 0xffffffffu, 1, 0);
	EXPECT_ERROR(fd, id, CMD_DEVICE_FEATURE, EINVAL);
	ALIVE(fd);
	close(fd);
}
