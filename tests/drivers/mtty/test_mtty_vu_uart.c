/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI device and its UARTs as a VMM reaches them over vfio-user: device and region
 * info, config space (region 7) byte for byte with its write masks and the BAR sizing
 * QEMU's probe does, the bounds the server and driver keep, and the 16550As behind BAR0 and
 * BAR1 through byte accesses at offsets 0-7: loopback on both ports, the values of LSR, IIR
 * and MSR, overrun, the divisor latch, wide accesses, reset, and state that outlives a
 * client. BAR writes are posted where QEMU posts them; a later read is answered only after
 * they have been applied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mtty_suite_common.h"
#include "mtty_vu_fixture.h"

#define RW (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)

static void check_region(struct vu_dev *d, uint32_t index, uint64_t size)
{
	struct vfio_region_info *ri = NULL;
	int fd = -2;

	if (!CHECK_EQ(umdev_client_get_region_info(d->c, index, &ri, &fd), 0))
		return;
	CHECK_EQ(ri->index, index);
	CHECK_EQ(ri->size, size);
	CHECK_EQ(ri->flags, size ? RW : 0);
	CHECK_EQ(ri->cap_offset, 0);
	CHECK_EQ(fd, -1); /* nothing to mmap */
	free(ri);
}

VU_CASE(vu_device_and_region_info)
{
	struct vfio_region_info *ri = NULL;
	struct vfio_device_info info;
	struct vu_dev *d1, *d2;

	REQUIRE((d1 = vu_open(e, 1, 1)));
	REQUIRE((d2 = vu_open(e, 2, 2)));
	CHECK_EQ(umdev_client_get_info(d2->c, &info), 0);
	CHECK_EQ(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	CHECK_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(info.num_irqs, VFIO_PCI_NUM_IRQS);
	for (uint32_t i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		uint64_t size = i == VU_CFG ? MTTY_CONFIG_SIZE : i == VU_BAR(0) ? MTTY_BAR_SIZE : 0;

		check_region(d1, i, size);
		check_region(d2, i, i == VU_BAR(1) ? MTTY_BAR_SIZE : size);
	}
	CHECK_EQ(umdev_client_get_region_info(d2->c, VFIO_PCI_NUM_REGIONS, &ri, NULL), -EINVAL);
	vu_destroy(d1);
	vu_destroy(d2);
}

VU_CASE(vu_config_space_image)
{
	uint8_t want[MTTY_CONFIG_SIZE], got[MTTY_CONFIG_SIZE];

	for (unsigned int ports = 1; ports <= 2; ports++) {
		struct vu_dev *d;

		REQUIRE((d = vu_open(e, ports, ports)));
		mtty_expected_config(want, ports);
		/* the whole of it in one REGION_READ, as QEMU reads the header */
		memset(got, 0xaa, sizeof(got));
		CHECK_EQ(umdev_client_region_read(d->c, VU_CFG, 0, got, sizeof(got)), sizeof(got));
		CHECK(!memcmp(got, want, sizeof(got)));
		/* and in the widths a guest uses, at every offset they fit */
		for (unsigned int len = 1; len <= 4; len *= 2) {
			for (unsigned int off = 0; off < MTTY_CONFIG_SIZE; off += len) {
				uint32_t v = 0;

				for (unsigned int i = len; i-- > 0;)
					v = v << 8 | want[off + i];
				if (!CHECK_EQ(vu_cfg_rd(d, off, len), v))
					tap_diag("mtty-%u: config 0x%02x, %u bytes", ports, off, len);
			}
		}
		CHECK_EQ(vu_cfg_rd(d, 0x00, 4), 0x32534348);
		CHECK_EQ(vu_cfg_rd(d, 0x08, 4), 0x07000210); /* rev 0x10, class 0x070002 */
		CHECK_EQ(vu_cfg_rd(d, 0x2c, 4), 0x32534348);
		CHECK_EQ(vu_cfg_rd(d, 0x34, 1), 0); /* no capabilities, no MSI capability */
		vu_destroy(d);
	}
}

VU_CASE(vu_config_writes_and_bar_sizing)
{
	uint8_t want[MTTY_CONFIG_SIZE], got[MTTY_CONFIG_SIZE], ones[MTTY_CONFIG_SIZE];
	struct vu_dev *d1, *d2;

	REQUIRE((d1 = vu_open(e, 1, 1)));
	REQUIRE((d2 = vu_open(e, 2, 2)));
	/* QEMU's probe: each BAR and the ROM BAR sized with all ones, then restored */
	for (unsigned int ports = 1; ports <= 2; ports++) {
		struct vu_dev *d = ports == 1 ? d1 : d2;

		for (unsigned int bar = 0; bar < 7; bar++) {
			unsigned int off = bar < 6 ? 0x10 + 4 * bar : 0x30;
			uint32_t orig = vu_cfg_rd(d, off, 4), size = 0;

			if (bar == 0 || (bar == 1 && ports == 2))
				size = 0xfffffff9; /* an 8-byte I/O BAR, in all 32 bits */
			vu_cfg_wr(d, off, bar == 6 ? 0xfffff800 : 0xffffffff, 4);
			if (!CHECK_EQ(vu_cfg_rd(d, off, 4), size))
				tap_diag("mtty-%u: BAR %u", ports, bar);
			vu_cfg_wr(d, off, orig, 4);
			CHECK_EQ(vu_cfg_rd(d, off, 4), orig);
		}
	}
	/* an address keeps its bits above the size; the I/O bit stays */
	vu_cfg_wr(d2, 0x10, 0xc150, 4);
	CHECK_EQ(vu_cfg_rd(d2, 0x10, 4), 0xc151);
	vu_cfg_wr(d2, 0x14, 0xc15f, 4);
	CHECK_EQ(vu_cfg_rd(d2, 0x14, 4), 0xc159);
	/* byte and word writes reach the same bits */
	vu_cfg_wr(d2, 0x11, 0xd0, 1);
	CHECK_EQ(vu_cfg_rd(d2, 0x10, 4), 0xd051);
	vu_cfg_wr(d2, 0x12, 0x1234, 2);
	CHECK_EQ(vu_cfg_rd(d2, 0x10, 4), 0x1234d051);
	vu_cfg_wr(d2, 0x10, 0xff, 1); /* the low bits of an I/O BAR are not address bits */
	CHECK_EQ(vu_cfg_rd(d2, 0x10, 4), 0x1234d0f9);
	/* interrupt line: read/write; pin: read-only; command: read-only */
	vu_cfg_wr(d1, 0x3c, 0x040a, 2);
	CHECK_EQ(vu_cfg_rd(d1, 0x3c, 2), 0x010a);
	vu_cfg_wr(d1, 0x04, 0x0007, 2);
	CHECK_EQ(vu_cfg_rd(d1, 0x04, 4), 0x02000001);

	/* everything else ignores writes: ids, unimplemented BARs, ROM, vendor bytes */
	memset(ones, 0xff, sizeof(ones));
	CHECK_EQ(umdev_client_region_write(d1->c, VU_CFG, 0, ones, sizeof(ones), false),
		 sizeof(ones));
	mtty_expected_config(want, 1);
	want[0x10] = 0xf9;
	want[0x11] = want[0x12] = want[0x13] = 0xff;
	want[0x3c] = 0xff;
	CHECK_EQ(umdev_client_region_read(d1->c, VU_CFG, 0, got, sizeof(got)), sizeof(got));
	CHECK(!memcmp(got, want, sizeof(got)));
	vu_destroy(d1);
	vu_destroy(d2);
}

VU_CASE(vu_bounds)
{
	uint8_t b[16] = { 0 };
	struct vu_dev *d1, *d2;

	REQUIRE((d1 = vu_open(e, 1, 1)));
	REQUIRE((d2 = vu_open(e, 2, 2)));
	/* config: 256 bytes; a dword at 0xfc is the last one */
	CHECK_EQ(umdev_client_region_read(d2->c, VU_CFG, 0xfc, b, 4), 4);
	CHECK_EQ(umdev_client_region_read(d2->c, VU_CFG, 0xfe, b, 4), -EINVAL);
	CHECK_EQ(umdev_client_region_read(d2->c, VU_CFG, 0x100, b, 1), -EINVAL);
	CHECK_EQ(umdev_client_region_write(d2->c, VU_CFG, 0xff, b, 2, false), -EINVAL);
	/* BARs: 8 bytes; BAR1 only on mtty-2 */
	CHECK_EQ(umdev_client_region_read(d2->c, VU_BAR(0), 8, b, 1), -EINVAL);
	CHECK_EQ(umdev_client_region_read(d2->c, VU_BAR(0), 0, b, 9), -EINVAL);
	CHECK_EQ(umdev_client_region_write(d2->c, VU_BAR(1), 7, b, 2, false), -EINVAL);
	CHECK_EQ(umdev_client_region_read(d1->c, VU_BAR(1), 0, b, 1), -EINVAL);
	CHECK_EQ(umdev_client_region_write(d1->c, VU_BAR(1), 0, b, 1, false), -EINVAL);
	/* the regions of size 0, and one past the last */
	for (uint32_t i = 2; i <= VFIO_PCI_NUM_REGIONS; i++)
		if (i != VU_CFG)
			CHECK_EQ(umdev_client_region_read(d2->c, i, 0, b, 1), -EINVAL);
	CHECK_EQ(umdev_client_region_read(d2->c, VU_BAR(0), UINT64_MAX, b, 1), -EINVAL);
	/* a refused access changes nothing, and the connection goes on */
	CHECK_EQ(vu_rd(d2, 0, UART_LSR), LSR_IDLE);
	CHECK_EQ(vu_rd(d1, 0, UART_SCR), 0);
	vu_destroy(d1);
	vu_destroy(d2);
}

VU_CASE(vu_loopback_on_both_ports)
{
	static const char msg[2][12] = { "port zero!!", "PORT ONE..." };
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 2, 1)));
	for (unsigned int p = 0; p < 2; p++) {
		vu_wr_posted(d, p, UART_FCR, UART_FCR_ENABLE_FIFO);
		vu_wr_posted(d, p, UART_LCR, UART_LCR_WLEN8);
	}
	/* interleaved, so that a port that heard the other would show it */
	for (unsigned int i = 0; i < 11; i++)
		for (unsigned int p = 0; p < 2; p++)
			vu_wr_posted(d, p, UART_TX, (uint8_t)msg[p][i]);
	for (unsigned int p = 0; p < 2; p++) {
		char got[12] = { 0 };

		for (unsigned int i = 0; i < 11; i++) {
			/* data ready; the looped transmitter is busy until all is read */
			CHECK_EQ(vu_rd(d, p, UART_LSR), UART_LSR_DR);
			got[i] = (char)vu_rd(d, p, UART_RX);
		}
		CHECK_STR(got, msg[p]);
		CHECK_EQ(vu_rd(d, p, UART_LSR), LSR_IDLE);
		CHECK_EQ(vu_rd(d, p, UART_RX), 0); /* empty: 0 */
	}
	vu_destroy(d);
}

VU_CASE(vu_register_values)
{
	static const uint8_t reset[8] = {
		[UART_RX] = 0, [UART_IER] = 0, [UART_IIR] = UART_IIR_NO_INT, [UART_LCR] = 0,
		[UART_MCR] = 0, [UART_LSR] = LSR_IDLE,
		[UART_MSR] = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS, [UART_SCR] = 0,
	};
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 2, 1)));
	/* the 16550A's reset values, offset by offset, on both ports */
	for (unsigned int p = 0; p < 2; p++)
		for (unsigned int r = 0; r < 8; r++)
			if (!CHECK_EQ(vu_rd(d, p, r), reset[r]))
				tap_diag("port %u, register %u", p, r);
	/* what Linux's 8250 driver sets up for a 16550A, and what it reads back */
	vu_wr_posted(d, 1, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10);
	vu_wr_posted(d, 1, UART_LCR, UART_LCR_WLEN8);
	vu_wr_posted(d, 1, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	vu_wr_posted(d, 1, UART_IER, 0xf0 | UART_IER_RDI | UART_IER_RLSI);
	vu_wr_posted(d, 1, UART_SCR, 0x5a);
	CHECK_EQ(vu_rd(d, 1, UART_IIR), 0xc1); /* FIFOs on, nothing pending */
	CHECK_EQ(vu_rd(d, 1, UART_IER), UART_IER_RDI | UART_IER_RLSI); /* bits 3:0 kept */
	CHECK_EQ(vu_rd(d, 1, UART_MCR), 0x0b);
	CHECK_EQ(vu_rd(d, 1, UART_SCR), 0x5a);
	CHECK_EQ(vu_rd(d, 1, UART_MSR), 0xb0);
	CHECK_EQ(vu_rd(d, 1, UART_LSR), LSR_IDLE);
	vu_wr_posted(d, 1, UART_TX, 'A');
	CHECK_EQ(vu_rd(d, 1, UART_IIR), 0xc4); /* received data */
	CHECK_EQ(vu_rd(d, 1, UART_LSR), UART_LSR_DR);
	CHECK_EQ(vu_rd(d, 1, UART_RX), 'A');
	CHECK_EQ(vu_rd(d, 1, UART_IIR), 0xc1);
	/* THRE: raised when IER.THRI is written while idle, cleared by reading it in IIR */
	vu_wr_posted(d, 1, UART_IER, UART_IER_THRI);
	CHECK_EQ(vu_rd(d, 1, UART_IIR), 0xc2);
	CHECK_EQ(vu_rd(d, 1, UART_IIR), 0xc1);
	/* Linux's loop test: MCR LOOP|OUT2|RTS reads back as CTS and DCD; DSR dropped */
	vu_wr_posted(d, 1, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	CHECK_EQ(vu_rd(d, 1, UART_MSR), UART_MSR_CTS | UART_MSR_DCD | UART_MSR_DDSR);
	CHECK_EQ(vu_rd(d, 1, UART_MSR), 0x90); /* deltas clear on read */
	/* a modem status interrupt, shown as IIR 0x00 (with the FIFO bits) */
	vu_wr_posted(d, 1, UART_IER, UART_IER_MSI);
	vu_wr_posted(d, 1, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	CHECK_EQ(vu_rd(d, 1, UART_IIR), 0xc0);
	CHECK_EQ(vu_rd(d, 1, UART_MSR), UART_MSR_DCD | UART_MSR_DCTS);
	CHECK_EQ(vu_rd(d, 1, UART_IIR), 0xc1);
	/* back on the cable: CTS, DSR and DCD asserted again */
	vu_wr_posted(d, 1, UART_IER, 0);
	vu_wr_posted(d, 1, UART_MCR, 0);
	CHECK_EQ(vu_rd(d, 1, UART_MSR), 0xb0 | UART_MSR_DCTS | UART_MSR_DDSR);
	CHECK_EQ(vu_rd(d, 1, UART_MSR), 0xb0);
	/* without FIFOs IIR's top bits read 0 */
	vu_wr_posted(d, 1, UART_FCR, 0);
	CHECK_EQ(vu_rd(d, 1, UART_IIR), UART_IIR_NO_INT);
	/* port 0 was not touched */
	for (unsigned int r = 1; r < 8; r++)
		CHECK_EQ(vu_rd(d, 0, r), reset[r]);
	vu_destroy(d);
}

VU_CASE(vu_overrun)
{
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 2, 1)));
	/* port 1 with FIFOs: 16 bytes fit, the 17th and 18th are lost */
	vu_wr_posted(d, 1, UART_FCR, UART_FCR_ENABLE_FIFO);
	vu_wr_posted(d, 1, UART_IER, UART_IER_RLSI | UART_IER_RDI);
	for (unsigned int i = 0; i < UART16550_FIFO_SIZE + 2; i++)
		vu_wr_posted(d, 1, UART_TX, (uint8_t)('a' + i));
	CHECK_EQ(vu_rd(d, 1, UART_IIR), 0xc6); /* receiver line status, above data */
	CHECK_EQ(vu_rd(d, 1, UART_LSR), UART_LSR_DR | UART_LSR_OE);
	CHECK_EQ(vu_rd(d, 1, UART_LSR), UART_LSR_DR); /* OE cleared by reading LSR */
	CHECK_EQ(vu_rd(d, 1, UART_IIR), 0xc4);
	for (unsigned int i = 0; i < UART16550_FIFO_SIZE; i++)
		CHECK_EQ(vu_rd(d, 1, UART_RX), 'a' + i);
	CHECK_EQ(vu_rd(d, 1, UART_LSR), LSR_IDLE);
	CHECK_EQ(vu_rd(d, 1, UART_IIR), 0xc1);
	/* port 0 without FIFOs (the reset state): one byte fits */
	vu_wr_posted(d, 0, UART_TX, 'x');
	vu_wr_posted(d, 0, UART_TX, 'y');
	CHECK_EQ(vu_rd(d, 0, UART_LSR), UART_LSR_DR | UART_LSR_OE);
	CHECK_EQ(vu_rd(d, 0, UART_RX), 'x');
	CHECK_EQ(vu_rd(d, 0, UART_LSR), LSR_IDLE);
	vu_destroy(d);
}

VU_CASE(vu_divisor_latch)
{
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 2, 1)));
	/* 115200 / 9600 = 12 on port 0, 115200 / 300 = 384 on port 1 */
	vu_wr_posted(d, 0, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	vu_wr_posted(d, 0, UART_DLL, 12);
	vu_wr_posted(d, 0, UART_DLM, 0);
	vu_wr_posted(d, 1, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN7);
	vu_wr_posted(d, 1, UART_DLL, 384 & 0xff);
	vu_wr_posted(d, 1, UART_DLM, 384 >> 8);
	CHECK_EQ(vu_rd(d, 0, UART_DLL), 12);
	CHECK_EQ(vu_rd(d, 0, UART_DLM), 0);
	CHECK_EQ(vu_rd(d, 1, UART_DLL), 384 & 0xff);
	CHECK_EQ(vu_rd(d, 1, UART_DLM), 384 >> 8);
	CHECK_EQ(vu_rd(d, 1, UART_LCR), UART_LCR_DLAB | UART_LCR_WLEN7);
	/* the latch is no FIFO: nothing was received, nothing was enabled */
	CHECK_EQ(vu_rd(d, 1, UART_LSR), LSR_IDLE);
	vu_wr_posted(d, 0, UART_LCR, UART_LCR_WLEN8);
	CHECK_EQ(vu_rd(d, 0, UART_IER), 0); /* IER, not DLM */
	vu_wr_posted(d, 0, UART_TX, 0x42);  /* THR, not DLL */
	CHECK_EQ(vu_rd(d, 0, UART_RX), 0x42);
	vu_wr_posted(d, 0, UART_LCR, UART_LCR_DLAB);
	CHECK_EQ(vu_rd(d, 0, UART_DLL), 12); /* kept while DLAB was clear */
	vu_wr_posted(d, 0, UART_DLL, 1);     /* a plain register: written, not OR-ed */
	CHECK_EQ(vu_rd(d, 0, UART_DLL), 1);
	vu_destroy(d);
}

VU_CASE(vu_wide_accesses_are_byte_lanes)
{
	uint8_t b[8];
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 1, 1)));
	/* a 4-byte write at offset 4: MCR, LSR (ignored), MSR (ignored), SCR */
	memcpy(b, "\x03\xff\xff\x77", 4);
	CHECK_EQ(umdev_client_region_write(d->c, VU_BAR(0), 4, b, 4, false), 4);
	CHECK_EQ(vu_rd(d, 0, UART_MCR), 0x03);
	CHECK_EQ(vu_rd(d, 0, UART_SCR), 0x77);
	/* an 8-byte read returns every register, each with its side effects, in order */
	vu_wr(d, 0, UART_TX, 'w');
	CHECK_EQ(umdev_client_region_read(d->c, VU_BAR(0), 0, b, 8), 8);
	CHECK_EQ(b[UART_RX], 'w');
	CHECK_EQ(b[UART_IER], 0);
	CHECK_EQ(b[UART_IIR], UART_IIR_NO_INT);
	CHECK_EQ(b[UART_MCR], 0x03);
	CHECK_EQ(b[UART_LSR], LSR_IDLE); /* after RBR was read */
	CHECK_EQ(b[UART_SCR], 0x77);
	vu_destroy(d);
}

/* One byte write to port @p's register @reg, as an entry of REGION_WRITE_MULTI. */
static struct umdev_client_write wm(unsigned int p, unsigned int reg, uint8_t val)
{
	return (struct umdev_client_write){
		.offset = reg, .region = VU_BAR(p), .count = 1, .data = { val },
	};
}

VU_CASE(vu_write_multi_in_order)
{
	struct umdev_client_write w[32];
	size_t n = 0;
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 2, 1)));
	/* the server announces REGION_WRITE_MULTI, so QEMU batches the guest's posted writes */
	REQUIRE(umdev_client_write_multiple(d->c));
	for (unsigned int p = 0; p < 2; p++) {
		w[n++] = wm(p, UART_FCR, UART_FCR_ENABLE_FIFO);
		w[n++] = wm(p, UART_LCR, UART_LCR_DLAB);
		w[n++] = wm(p, UART_DLL, (uint8_t)(3 + p)); /* the divisor: DLAB set just before */
		w[n++] = wm(p, UART_LCR, UART_LCR_WLEN8);
	}
	for (unsigned int i = 0; i < 5; i++) /* then THR, on both ports in turn */
		for (unsigned int p = 0; p < 2; p++)
			w[n++] = wm(p, UART_TX, (uint8_t)("hello"[i] - 32 * p));
	CHECK_EQ(umdev_client_region_write_multi(d->c, w, n), (int)n);
	for (unsigned int p = 0; p < 2; p++) {
		CHECK_EQ(vu_rd(d, p, UART_LCR), UART_LCR_WLEN8);
		CHECK_EQ(vu_rd(d, p, UART_IIR), 0xc1);
		for (unsigned int i = 0; i < 5; i++)
			CHECK_EQ(vu_rd(d, p, UART_RX), (uint8_t)("hello"[i] - 32 * p));
		CHECK_EQ(vu_rd(d, p, UART_LSR), LSR_IDLE);
		vu_wr(d, p, UART_LCR, UART_LCR_DLAB);
		CHECK_EQ(vu_rd(d, p, UART_DLL), 3 + p);
	}
	vu_destroy(d);
}

VU_CASE(vu_reset_and_the_next_client)
{
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 2, 1)));
	vu_cfg_wr(d, 0x10, 0xc150, 4);
	for (unsigned int p = 0; p < 2; p++) {
		vu_wr_posted(d, p, UART_FCR, UART_FCR_ENABLE_FIFO);
		vu_wr_posted(d, p, UART_SCR, (uint8_t)(0x31 + p));
		vu_wr_posted(d, p, UART_TX, (uint8_t)('k' + p));
	}
	/* a new client (QEMU restarted) finds the UARTs as the last one left them */
	REQUIRE(vu_disconnect(d));
	REQUIRE(vu_connect(d));
	for (unsigned int p = 0; p < 2; p++) {
		CHECK_EQ(vu_rd(d, p, UART_SCR), 0x31 + p);
		CHECK_EQ(vu_rd(d, p, UART_IIR), 0xc1);
		CHECK_EQ(vu_rd(d, p, UART_RX), 'k' + p);
		vu_wr_posted(d, p, UART_IER, 0x0f);
		vu_wr_posted(d, p, UART_LCR, 0x83);
		vu_wr_posted(d, p, UART_DLL, 1);
		vu_wr_posted(d, p, UART_LCR, 0x03);
		vu_wr_posted(d, p, UART_TX, 'r');
	}
	/* DEVICE_RESET: the UARTs' power-on state; config space stays */
	CHECK_EQ(umdev_client_reset(d->c), 0);
	for (unsigned int p = 0; p < 2; p++) {
		CHECK_EQ(vu_rd(d, p, UART_IER), 0);
		CHECK_EQ(vu_rd(d, p, UART_IIR), UART_IIR_NO_INT);
		CHECK_EQ(vu_rd(d, p, UART_LCR), 0);
		CHECK_EQ(vu_rd(d, p, UART_SCR), 0);
		CHECK_EQ(vu_rd(d, p, UART_LSR), LSR_IDLE); /* the FIFO was emptied */
		vu_wr(d, p, UART_LCR, UART_LCR_DLAB);
		CHECK_EQ(vu_rd(d, p, UART_DLL), 0);
	}
	CHECK_EQ(vu_cfg_rd(d, 0x10, 4), 0xc151);
	vu_destroy(d);
}
