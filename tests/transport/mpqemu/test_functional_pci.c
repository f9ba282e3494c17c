/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mpqemu server as QEMU's proxy uses it, part 1: the guest's PCI accesses. Config reads
 * and writes of null and mtty, the proxy's realize-time probe done exactly as QEMU 7.2 does
 * it (qemu-transports.md, B), BARs programmed through config writes and then reached by bus
 * address (mtty's loopback through THR/RBR on both ports, null's memory BAR, bardev's 64-bit
 * BAR), accesses that no BAR decodes, DEVICE_RESET, and RET order with pipelined requests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/serial_reg.h>

#include <umdev/vfio_device_fd.h>

#include "bardev.h"
#include "mpq_client.h"

/* Where the tests put mtty's ports: SeaBIOS's choice in the prototype run. */
#define PORT0 0xc010u
#define PORT1 0xc018u
#define NULL_BAR 0xfebf0000u

/* Programs mtty's BARs as a guest's firmware does (BAR1 only when @ports is 2). */
static void mtty_program(int fd, unsigned int ports)
{
	CHECK_EQ(CFG_WR(fd, 0x10, PORT0, 4), 0);
	CHECK_EQ(CFG_RD(fd, 0x10, 4), PORT0 | 1);
	if (ports > 1) {
		CHECK_EQ(CFG_WR(fd, 0x14, PORT1, 4), 0);
		CHECK_EQ(CFG_RD(fd, 0x14, 4), PORT1 | 1);
	}
}

/* ---- config space ---- */

MQ_TEST(config_ids_null, mq_null)
{
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	CHECK_EQ(CFG_RD(fd, 0x00, 2), 0x1234);
	CHECK_EQ(CFG_RD(fd, 0x02, 2), 0x6e75);
	CHECK_EQ(CFG_RD(fd, 0x00, 4), NULL_ID);
	CHECK_EQ(CFG_RD(fd, 0x0b, 1), 0xff);  /* class: unassigned */
	CHECK_EQ(CFG_RD(fd, 0x2c, 4), NULL_ID); /* subsystem */
	CHECK_EQ(CFG_RD(fd, 0xff, 1), 0);	/* the last byte */
	CHECK_EQ(mq_stats(h, 0).connections, 1);
	close(fd);
}

MQ_TEST(config_ids_mtty, mq_mtty2)
{
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	CHECK_EQ(CFG_RD(fd, 0x00, 2), 0x4348);
	CHECK_EQ(CFG_RD(fd, 0x02, 2), 0x3253);
	CHECK_EQ(CFG_RD(fd, 0x08, 4), 0x07000210); /* serial 16550, revision 0x10 */
	CHECK_EQ(CFG_RD(fd, 0x3d, 1), 1);	    /* the remote reports INTA itself */
	/* the interrupt line is writable, byte and word writes land where they should */
	CHECK_EQ(CFG_WR(fd, 0x3c, 0x0b, 1), 0);
	CHECK_EQ(CFG_RD(fd, 0x3c, 2), 0x010b);
	CHECK_EQ(CFG_WR(fd, 0x3c, 0x0a, 2), 0); /* pin is read-only */
	CHECK_EQ(CFG_RD(fd, 0x3c, 4), 0x0000010a);
	/* an unaligned read across registers */
	CHECK_EQ(CFG_RD(fd, 0x01, 2), 0x5343);
	close(fd);
}

/* ---- the realize-time probe of QEMU's proxy ---- */

struct probe {
	uint32_t ids[4];	   /* 0x00, 0x02, 0x0a, 0x2e */
	uint32_t orig[7], sized[7]; /* 0x10 + 4i, i = 0..6 (0x28, not 0x30, is the 7th) */
};

/* probe_pci_info() of QEMU 7.2: four ID reads, then read, write ~0, read, restore. */
static void qemu_probe(int fd, struct probe *p)
{
	static const uint32_t id_regs[4] = { 0x00, 0x02, 0x0a, 0x2e };

	for (int i = 0; i < 4; i++)
		p->ids[i] = (uint32_t)CFG_RD(fd, id_regs[i], 2);
	for (uint32_t i = 0; i < 7; i++) {
		uint32_t off = 0x10 + 4 * i;

		p->orig[i] = (uint32_t)CFG_RD(fd, off, 4);
		CHECK_EQ(CFG_WR(fd, off, 0xffffffff, 4), 0);
		p->sized[i] = (uint32_t)CFG_RD(fd, off, 4);
		CHECK_EQ(CFG_WR(fd, off, p->orig[i], 4), 0);
	}
}

/* The size QEMU registers for a probed value (it masks with ~0xf for I/O too). */
static uint32_t qemu_size(uint32_t v)
{
	return ~(v & 0xfffffff0u) + 1;
}

MQ_TEST(realize_probe_mtty, mq_mtty2)
{
	struct probe p;
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	qemu_probe(fd, &p);
	CHECK_EQ(p.ids[0], 0x4348);
	CHECK_EQ(p.ids[1], 0x3253);
	CHECK_EQ(p.ids[2], 0x0700);
	CHECK_EQ(p.ids[3], 0x3253);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(p.orig[i], 0x1);	   /* I/O, not yet placed */
		CHECK_EQ(p.sized[i], 0xfffffff9); /* full 32-bit sizing of 8 bytes */
		CHECK_EQ(qemu_size(p.sized[i]), 16); /* the 16-byte registration quirk */
	}
	for (int i = 2; i < 7; i++) {
		CHECK_EQ(p.orig[i], 0);
		CHECK_EQ(p.sized[i], 0); /* no BAR; 0x28 (CardBus CIS) reads 0 */
	}
	/* restored */
	CHECK_EQ(CFG_RD(fd, 0x10, 4), 1);
	CHECK_EQ(CFG_RD(fd, 0x14, 4), 1);
	close(fd);
}

MQ_TEST(realize_probe_mtty1, mq_mtty1)
{
	struct probe p;
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	qemu_probe(fd, &p);
	CHECK_EQ(p.sized[0], 0xfffffff9);
	for (int i = 1; i < 7; i++)
		CHECK_EQ(p.sized[i], 0);
	close(fd);
}

MQ_TEST(realize_probe_null, mq_null)
{
	struct probe p;
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	qemu_probe(fd, &p);
	CHECK_EQ(p.ids[0], 0x1234);
	CHECK_EQ(p.ids[1], 0x6e75);
	CHECK_EQ(p.sized[0], 0xfffff000); /* 32-bit memory, 4 KiB */
	CHECK_EQ(qemu_size(p.sized[0]), 4096);
	for (int i = 1; i < 7; i++)
		CHECK_EQ(p.sized[i], 0);
	close(fd);
}

/* ---- BARs by bus address ---- */

/* A byte through THR comes back through RBR on the same port. */
static void loopback(int fd, uint32_t port, uint8_t byte)
{
	CHECK_EQ(IO_WR(fd, port + UART_TX, byte, 1), 0);
	CHECK_EQ(IO_RD(fd, port + UART_LSR, 1) & UART_LSR_DR, UART_LSR_DR);
	CHECK_EQ(IO_RD(fd, port + UART_RX, 1), byte);
	CHECK_EQ(IO_RD(fd, port + UART_LSR, 1) & UART_LSR_DR, 0);
}

MQ_TEST(bar_loopback_mtty, mq_mtty2)
{
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	mtty_program(fd, 2);
	loopback(fd, PORT0, 'A');
	loopback(fd, PORT1, 'B');
	/* the ports are separate UARTs */
	CHECK_EQ(IO_WR(fd, PORT0 + UART_SCR, 0x5a, 1), 0);
	CHECK_EQ(IO_RD(fd, PORT0 + UART_SCR, 1), 0x5a);
	CHECK_EQ(IO_RD(fd, PORT1 + UART_SCR, 1), 0);
	CHECK_EQ(IO_WR(fd, PORT0 + UART_TX, 'x', 1), 0);
	CHECK_EQ(IO_WR(fd, PORT1 + UART_TX, 'y', 1), 0);
	CHECK_EQ(IO_RD(fd, PORT1 + UART_RX, 1), 'y');
	CHECK_EQ(IO_RD(fd, PORT0 + UART_RX, 1), 'x');
	/* a 2-byte access is two register accesses, in ascending order: LCR, MCR */
	CHECK_EQ(IO_WR(fd, PORT0 + UART_LCR, 0x0303, 2), 0);
	CHECK_EQ(IO_RD(fd, PORT0 + UART_LCR, 2), 0x0303);
	close(fd);
}

/*
 * QEMU registers each 8-byte I/O BAR as 16 bytes, so accesses to BAR0's upper half reach the
 * server. They decode by the device's own BARs: to port 1 while BAR1 is right there, and to
 * nothing once the guest moves BAR1 away.
 */
MQ_TEST(bar_16_byte_window, mq_mtty2)
{
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	mtty_program(fd, 2);
	CHECK_EQ(IO_WR(fd, PORT1 + UART_SCR, 0x11, 1), 0);
	CHECK_EQ(IO_RD(fd, PORT0 + 8 + UART_SCR, 1), 0x11);
	CHECK_EQ(CFG_WR(fd, 0x14, 0xd000, 4), 0);
	CHECK_EQ(IO_RD(fd, PORT0 + 8 + UART_SCR, 1), 0xff);
	CHECK_EQ(IO_RD(fd, 0xd000 + UART_SCR, 1), 0x11);
	loopback(fd, 0xd000, 'C');
	close(fd);
}

MQ_TEST(bar_miss_reads_ones, mq_mtty2)
{
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	/* before the BARs are placed they decode at 0: nothing up here answers */
	CHECK_EQ(IO_RD(fd, PORT0, 1), 0xff);
	mtty_program(fd, 2);
	CHECK_EQ(IO_RD(fd, 0x1234, 1), 0xff);
	CHECK_EQ(IO_RD(fd, 0x1234, 2), 0xffff);
	CHECK_EQ(IO_RD(fd, 0x1234, 4), 0xffffffff);
	CHECK_EQ(IO_RD(fd, 0x1234, 8), UINT64_MAX);
	CHECK_EQ(IO_WR(fd, 0x1234, 0x55, 1), 0); /* dropped, not an error */
	/* memory space at the ports' addresses: not the BARs */
	CHECK_EQ(MEM_RD(fd, PORT0 + UART_SCR, 1), 0xff);
	CHECK_EQ(MEM_WR(fd, PORT0 + UART_SCR, 0x66, 1), 0);
	CHECK_EQ(IO_RD(fd, PORT0 + UART_SCR, 1), 0);
	/* an access that straddles the two BARs belongs to neither */
	CHECK_EQ(IO_RD(fd, PORT0 + 6, 4), 0xffffffff);
	/* nor one that runs past the end of the last */
	CHECK_EQ(IO_RD(fd, PORT1 + 6, 4), 0xffffffff);
	CHECK_EQ(mq_stats(h, 0).error_replies, 0);
	close(fd);
}

MQ_TEST(bar_memory_null, mq_null)
{
	uint8_t b[4];
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	CHECK_EQ(CFG_WR(fd, 0x10, NULL_BAR, 4), 0);
	/* memory decoding is off until COMMAND says so */
	CHECK_EQ(MEM_RD(fd, NULL_BAR + 0x40, 4), 0xffffffff);
	CHECK_EQ(CFG_WR(fd, 0x04, 0x2, 2), 0);
	CHECK_EQ(MEM_WR(fd, NULL_BAR + 0x40, 0x11223344, 4), 0);
	CHECK_EQ(MEM_RD(fd, NULL_BAR + 0x40, 4), 0x11223344);
	CHECK_EQ(MEM_RD(fd, NULL_BAR + 0x40, 2), 0x3344);
	CHECK_EQ(MEM_RD(fd, NULL_BAR + 0x43, 1), 0x11);
	CHECK_EQ(MEM_WR(fd, NULL_BAR + 0xff8, 0x0102030405060708ull, 8), 0);
	CHECK_EQ(MEM_RD(fd, NULL_BAR + 0xff8, 8), 0x0102030405060708ull);
	CHECK_EQ(MEM_RD(fd, NULL_BAR + 0xffc, 8), UINT64_MAX); /* past the end */
	/* the device holds the bytes little endian, as PCI has them */
	CHECK_EQ(vfio_device_read(h->dev[0].vdev, b, 4, 0x40), 4);
	CHECK(b[0] == 0x44 && b[1] == 0x33 && b[2] == 0x22 && b[3] == 0x11);
	/* I/O space at the same address is not the BAR */
	CHECK_EQ(IO_RD(fd, NULL_BAR + 0x40, 4), 0xffffffff);
	/* decoding off again, and moved */
	CHECK_EQ(CFG_WR(fd, 0x04, 0, 2), 0);
	CHECK_EQ(MEM_RD(fd, NULL_BAR + 0x40, 4), 0xffffffff);
	CHECK_EQ(CFG_WR(fd, 0x10, 0xe0000000, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x04, 0x2, 2), 0);
	CHECK_EQ(MEM_RD(fd, NULL_BAR + 0x40, 4), 0xffffffff);
	CHECK_EQ(MEM_RD(fd, 0xe0000040, 4), 0x11223344);
	close(fd);
}

/* bardev: a 64-bit memory BAR, a 16-byte I/O BAR and a read-only memory BAR. */
TEST(bar_64bit_and_read_only)
{
	const struct mq_driver *none[1] = { NULL };
	struct vfio_device *vdev = bardev_create("bardev-64", NULL);
	struct mq h;
	int fd = -1, i;

	REQUIRE(vdev);
	if (!mq_start(&h, 0, none, false))
		goto out;
	i = mq_serve(&h, vdev);
	if (i < 0)
		goto out;
	fd = mq_client(&h, (unsigned int)i);
	if (fd < 0)
		goto out;
	CHECK_EQ(CFG_RD(fd, 0, 4), BARDEV_ID);
	/* sizing: the 64-bit BAR's halves, the I/O BAR */
	CHECK_EQ(CFG_WR(fd, 0x10, 0xffffffff, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x14, 0xffffffff, 4), 0);
	CHECK_EQ(CFG_RD(fd, 0x10, 4), 0xfffff004);
	CHECK_EQ(CFG_RD(fd, 0x14, 4), 0xffffffff);
	CHECK_EQ(CFG_WR(fd, 0x18, 0xffffffff, 4), 0);
	CHECK_EQ(CFG_RD(fd, 0x18, 4), 0xfffffff1);
	/* placed above 4 GiB, at I/O 0x2000 and at 0xfe000000; decoding on */
	CHECK_EQ(CFG_WR(fd, 0x10, 0xc0000000, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x14, 0x1, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x18, 0x2000, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x1c, 0xfe000000, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x04, 0x3, 2), 0);
	CHECK_EQ(MEM_WR(fd, 0x1c0000010ull, 0xdeadbeef, 4), 0);
	CHECK_EQ(bardev_bar(vdev, 0)[0x10], 0xef);
	CHECK_EQ(bardev_bar(vdev, 0)[0x13], 0xde);
	CHECK_EQ(MEM_RD(fd, 0x1c0000010ull, 4), 0xdeadbeef);
	CHECK_EQ(MEM_RD(fd, 0xc0000010ull, 4), 0xffffffff); /* the upper half matters */
	CHECK_EQ(IO_WR(fd, 0x200f, 0x77, 1), 0);
	CHECK_EQ(bardev_bar(vdev, 2)[15], 0x77);
	CHECK_EQ(IO_RD(fd, 0x200f, 1), 0x77);
	CHECK_EQ(IO_RD(fd, 0x2010, 1), 0xff);
	CHECK_EQ(MEM_RD(fd, 0xfe000000, 4), 0xa3a2a1a0);
	CHECK_EQ(MEM_RD(fd, 0xfe0000fc, 4), 0x9f9e9d9c); /* (0xa0 + i) wraps at 0x100 */
	/* a BAR whose region is read-only: the write fails */
	CHECK_EQ(MEM_WR(fd, 0xfe000000, 1, 4), MQ_ERR);
	CHECK_EQ(MEM_RD(fd, 0xfe000000, 4), 0xa3a2a1a0);
	CHECK_EQ(mq_stats(&h, (unsigned int)i).error_replies, 1);
out:
	if (fd >= 0)
		close(fd);
	mq_stop(&h);
	bardev_destroy(vdev);
}

/* A driver that fails its BAR accesses: RET says so, config space still works. */
TEST(bar_driver_fails)
{
	const struct bardev_knobs knobs = { .fail_io = true, .fail_reset = true };
	const struct mq_driver *none[1] = { NULL };
	struct vfio_device *vdev = bardev_create("bardev-fail", &knobs);
	struct mq h;
	int fd = -1, i;

	REQUIRE(vdev);
	if (!mq_start(&h, 0, none, false))
		goto out;
	i = mq_serve(&h, vdev);
	if (i < 0)
		goto out;
	fd = mq_client(&h, (unsigned int)i);
	if (fd < 0)
		goto out;
	CHECK_EQ(CFG_WR(fd, 0x18, 0x2000, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x04, 0x1, 2), 0);
	CHECK_EQ(IO_RD(fd, 0x2000, 1), MQ_ERR);
	CHECK_EQ(IO_WR(fd, 0x2000, 1, 1), MQ_ERR);
	CHECK_EQ(IO_RD(fd, 0x3000, 1), 0xff); /* a miss is not the driver's */
	CHECK_EQ(RESET(fd), MQ_ERR);
	CHECK(ALIVE(fd, BARDEV_ID));
	CHECK_EQ(mq_stats(&h, (unsigned int)i).error_replies, 3);
out:
	if (fd >= 0)
		close(fd);
	mq_stop(&h);
	bardev_destroy(vdev);
}

/* ---- DEVICE_RESET ---- */

MQ_TEST(reset_mtty, mq_mtty2)
{
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	mtty_program(fd, 2);
	CHECK_EQ(IO_WR(fd, PORT0 + UART_SCR, 0x5a, 1), 0);
	CHECK_EQ(IO_WR(fd, PORT1 + UART_IER, UART_IER_RDI, 1), 0);
	CHECK_EQ(RESET(fd), 0);
	/* the UARTs are back to power-on; config space (the BARs) stays, as over FLR here */
	CHECK_EQ(IO_RD(fd, PORT0 + UART_SCR, 1), 0);
	CHECK_EQ(IO_RD(fd, PORT1 + UART_IER, 1), 0);
	loopback(fd, PORT1, 'R');
	close(fd);
}

MQ_TEST(reset_null, mq_null)
{
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	CHECK_EQ(CFG_WR(fd, 0x10, NULL_BAR, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x04, 0x2, 2), 0);
	CHECK_EQ(MEM_WR(fd, NULL_BAR, 0xabcd, 4), 0);
	CHECK_EQ(RESET(fd), 0);
	/* null's reset restores config space: decoding is off, the BAR unplaced */
	CHECK_EQ(CFG_RD(fd, 0x10, 4), 0);
	CHECK_EQ(MEM_RD(fd, NULL_BAR, 4), 0xffffffff);
	CHECK_EQ(CFG_WR(fd, 0x10, NULL_BAR, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x04, 0x2, 2), 0);
	CHECK_EQ(MEM_RD(fd, NULL_BAR, 4), 0); /* and BAR0 cleared */
	close(fd);
}

/* ---- pipelining ---- */

/*
 * Requests sent back to back without waiting, the reply-less commands among them (with
 * their fds), more than the server handles in one round: one RET per request with a reply,
 * in order, and nothing for the others.
 */
MQ_TEST(pipelined_in_order, mq_mtty2)
{
	enum { N = 150 };
	static uint8_t batch[N * 2 * (MQ_HDR_SIZE + MQ_BAR_SIZE)];
	int fd = mq_client(h, 0), memfd = memfd_pattern(8192, 0), intx = efd_new(),
	    resample = efd_new();
	const uint64_t gpa = 0, size = 8192;
	const int64_t off = 0;
	size_t len = 0;
	struct mb m;

	REQUIRE(fd >= 0);
	mtty_program(fd, 2);
	for (unsigned int k = 0; k < N; k++) {
		/* SCR of port k % 2 := k, then read back; every 10th, a config read instead */
		uint32_t port = k % 2 ? PORT1 : PORT0;

		if (k % 10 == 9)
			mb_conf(&m, MQ_CFGREAD, 0x02, 0, 2);
		else
			mb_bar(&m, MQ_BAR_WRITE, port + UART_SCR, k & 0xff, 1, 0);
		memcpy(batch + len, mb_done(&m), m.len);
		len += m.len;
		mb_bar(&m, MQ_BAR_READ, port + UART_SCR, 0, 1, 0);
		memcpy(batch + len, mb_done(&m), m.len);
		len += m.len;
		if (k == N / 2) {
			/* the reply-less ones, with their fds, in the middle of the stream */
			CHECK_EQ(mq_raw_send(fd, batch, len, NULL, 0), 0);
			len = 0;
			SYSMEM(fd, 1, &gpa, &size, &off, &memfd);
			SET_IRQFD(fd, intx, resample);
			mb_start(&m, MQ_RESET);
			CHECK_EQ(mb_send(fd, &m, NULL, 0), 0);
		}
	}
	CHECK_EQ(mq_raw_send(fd, batch, len, NULL, 0), 0);
	for (unsigned int k = 0; k < N; k++) {
		if (k % 10 == 9) {
			/* SCR of port 1 holds what the write of request k - 2 put there (the
			 * reset comes between two requests of one port, never here) */
			if (!EXPECT_RET(fd, 0x3253) || !EXPECT_RET(fd, (k - 2) & 0xff))
				break;
		} else {
			if (!EXPECT_RET(fd, 0) || !EXPECT_RET(fd, k & 0xff))
				break;
		}
		if (k == N / 2 && !EXPECT_RET(fd, 0)) /* the reset */
			break;
	}
	EXPECT_QUIET(fd);
	CHECK(ALIVE(fd, MTTY_ID));
	CHECK_EQ(mq_stats(h, 0).messages, 4 + 2 * N + 3 + 1);
	close(fd);
	close(memfd);
	close(intx);
	close(resample);
}
