/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI device an mtty client sees: device and region info, config space byte for byte
 * (the seed's lspci dump) with its write masks and BAR sizing, bounds checks on every
 * region, the UARTs through their BARs (loopback on both ports, LSR/IIR/MSR values,
 * overrun, the divisor latch, wide accesses), and VFIO_DEVICE_RESET.
 */
#include <errno.h>
#include <string.h>

#include "mtty_fixture.h"
#include "mtty_suite_common.h"

MTTY_TEST(device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct dev d;

	REQUIRE(dev_create(f, 2, 1, &d));
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_INFO, &info), 0);
	CHECK_EQ(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	CHECK_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(info.num_irqs, VFIO_PCI_NUM_IRQS);
	info.argsz = 15;
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_INFO, &info), -EINVAL);
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info), -ENOTTY);
	dev_destroy(&d);
}

static void check_region(struct dev *d, uint32_t index, uint64_t size)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };
	uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

	CHECK_EQ(vfio_device_ioctl(d->vdev, VFIO_DEVICE_GET_REGION_INFO, &info), 0);
	CHECK_EQ(info.size, size);
	CHECK_EQ(info.offset, MTTY_REGION_OFFSET(index));
	CHECK_EQ(info.flags, size ? rw : 0);
	CHECK_EQ(info.cap_offset, 0);
}

MTTY_TEST(region_info)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = VFIO_PCI_NUM_REGIONS };
	struct dev d1, d2;

	REQUIRE(dev_create(f, 1, 1, &d1));
	REQUIRE(dev_create(f, 2, 2, &d2));
	for (uint32_t i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		uint64_t size = i == VFIO_PCI_CONFIG_REGION_INDEX ? MTTY_CONFIG_SIZE
				: i == VFIO_PCI_BAR0_REGION_INDEX ? MTTY_BAR_SIZE
								  : 0;

		check_region(&d1, i, size);
		check_region(&d2, i, i == VFIO_PCI_BAR1_REGION_INDEX ? MTTY_BAR_SIZE : size);
	}
	CHECK_EQ(vfio_device_ioctl(d2.vdev, VFIO_DEVICE_GET_REGION_INFO, &info), -EINVAL);
	info.index = 0;
	info.argsz = 31;
	CHECK_EQ(vfio_device_ioctl(d2.vdev, VFIO_DEVICE_GET_REGION_INFO, &info), -EINVAL);
	dev_destroy(&d1);
	dev_destroy(&d2);
}

MTTY_TEST(config_space_image)
{
	uint8_t want[MTTY_CONFIG_SIZE], got[MTTY_CONFIG_SIZE];

	for (unsigned int ports = 1; ports <= 2; ports++) {
		struct dev d;

		REQUIRE(dev_create(f, ports, ports, &d));
		mtty_expected_config(want, ports);
		CHECK_EQ(vfio_device_read(d.vdev, got, sizeof(got), CFG), sizeof(got));
		CHECK(!memcmp(got, want, sizeof(got)));
		CHECK_EQ(cfg_rd(&d, 0x00, 4), 0x32534348);
		CHECK_EQ(cfg_rd(&d, 0x08, 4), 0x07000210);
		CHECK_EQ(cfg_rd(&d, 0x2c, 4), 0x32534348);
		dev_destroy(&d);
	}
}

MTTY_TEST(config_writes_and_bar_sizing)
{
	uint8_t want[MTTY_CONFIG_SIZE], got[MTTY_CONFIG_SIZE], ones[MTTY_CONFIG_SIZE];
	struct dev d1, d2;

	REQUIRE(dev_create(f, 1, 1, &d1));
	REQUIRE(dev_create(f, 2, 2, &d2));

	/* sizing: all ones reads back the size of an 8-byte I/O BAR, in all 32 bits */
	cfg_wr(&d2, 0x10, 0xffffffff, 4);
	CHECK_EQ(cfg_rd(&d2, 0x10, 4), 0xfffffff9);
	cfg_wr(&d2, 0x14, 0xffffffff, 4);
	CHECK_EQ(cfg_rd(&d2, 0x14, 4), 0xfffffff9);
	/* an address keeps its bits above the size; the I/O bit stays */
	cfg_wr(&d2, 0x10, 0xc150, 4);
	CHECK_EQ(cfg_rd(&d2, 0x10, 4), 0xc151);
	cfg_wr(&d2, 0x14, 0xc15f, 4);
	CHECK_EQ(cfg_rd(&d2, 0x14, 4), 0xc159);
	/* byte and word writes reach the same bits */
	cfg_wr(&d2, 0x11, 0xd0, 1);
	CHECK_EQ(cfg_rd(&d2, 0x10, 4), 0xd051);
	cfg_wr(&d2, 0x12, 0x1234, 2);
	CHECK_EQ(cfg_rd(&d2, 0x10, 4), 0x1234d051);
	/* mtty-1 has no BAR1 */
	cfg_wr(&d1, 0x14, 0xffffffff, 4);
	CHECK_EQ(cfg_rd(&d1, 0x14, 4), 0);
	/* interrupt line: writable; pin: not */
	cfg_wr(&d1, 0x3c, 0x010a, 2);
	CHECK_EQ(cfg_rd(&d1, 0x3c, 2), 0x010a);
	cfg_wr(&d1, 0x3d, 0x04, 1);
	CHECK_EQ(cfg_rd(&d1, 0x3d, 1), 0x01);

	/* everything else ignores writes: ids, command, unimplemented BARs, ROM, vendor bytes */
	memset(ones, 0xff, sizeof(ones));
	CHECK_EQ(vfio_device_write(d1.vdev, ones, sizeof(ones), CFG), sizeof(ones));
	mtty_expected_config(want, 1);
	want[0x10] = 0xf9;
	want[0x11] = want[0x12] = want[0x13] = 0xff;
	want[0x3c] = 0xff;
	CHECK_EQ(vfio_device_read(d1.vdev, got, sizeof(got), CFG), sizeof(got));
	CHECK(!memcmp(got, want, sizeof(got)));
	dev_destroy(&d1);
	dev_destroy(&d2);
}

MTTY_TEST(bounds_checks)
{
	uint8_t b[16] = { 0 };
	struct dev d1, d2;

	REQUIRE(dev_create(f, 1, 1, &d1));
	REQUIRE(dev_create(f, 2, 2, &d2));
	/* config: the kernel sample reads past its buffer here; mtty refuses */
	CHECK_EQ(vfio_device_read(d2.vdev, b, 4, CFG + 0xfe), -EINVAL);
	CHECK_EQ(vfio_device_read(d2.vdev, b, 1, CFG + 0x100), -EINVAL);
	CHECK_EQ(vfio_device_write(d2.vdev, b, 2, CFG + 0xff), -EINVAL);
	CHECK_EQ(vfio_device_read(d2.vdev, b, 1, CFG + 0xff), 1);
	CHECK_EQ(vfio_device_read(d2.vdev, b, 4, CFG + 0xfc), 4);
	/* BARs: 8 bytes; BAR1 only on mtty-2 */
	CHECK_EQ(vfio_device_read(d2.vdev, b, 1, BAR(0) + 8), -EINVAL);
	CHECK_EQ(vfio_device_read(d2.vdev, b, 9, BAR(0)), -EINVAL);
	CHECK_EQ(vfio_device_write(d2.vdev, b, 2, BAR(1) + 7), -EINVAL);
	CHECK_EQ(vfio_device_read(d1.vdev, b, 1, BAR(1)), -EINVAL);
	CHECK_EQ(vfio_device_write(d1.vdev, b, 1, BAR(1)), -EINVAL);
	/* other regions, and offsets far into one */
	for (unsigned int i = 2; i < 16; i++)
		if (i != VFIO_PCI_CONFIG_REGION_INDEX)
			CHECK_EQ(vfio_device_read(d2.vdev, b, 1, MTTY_REGION_OFFSET(i)), -EINVAL);
	CHECK_EQ(vfio_device_read(d2.vdev, b, 1, BAR(0) + (1ull << 39)), -EINVAL);
	CHECK_EQ(vfio_device_read(d2.vdev, b, 1, UINT64_MAX), -EINVAL);
	dev_destroy(&d1);
	dev_destroy(&d2);
}

MTTY_TEST(loopback_on_both_ports)
{
	static const char msg[2][12] = { "port zero!!", "PORT ONE..." };
	struct dev d;

	REQUIRE(dev_create(f, 2, 1, &d));
	for (unsigned int p = 0; p < 2; p++) {
		reg_wr(&d, p, UART_FCR, UART_FCR_ENABLE_FIFO);
		reg_wr(&d, p, UART_LCR, UART_LCR_WLEN8);
	}
	/* interleaved, so that a port that heard the other would show it */
	for (unsigned int i = 0; i < 11; i++)
		for (unsigned int p = 0; p < 2; p++)
			reg_wr(&d, p, UART_TX, (uint8_t)msg[p][i]);
	for (unsigned int p = 0; p < 2; p++) {
		char got[12] = { 0 };

		for (unsigned int i = 0; i < 11; i++) {
			CHECK_EQ(reg_rd(&d, p, UART_LSR), UART_LSR_DR);
			got[i] = (char)reg_rd(&d, p, UART_RX);
		}
		CHECK_STR(got, msg[p]);
		CHECK_EQ(reg_rd(&d, p, UART_LSR), LSR_IDLE);
	}
	dev_destroy(&d);
}

MTTY_TEST(register_values)
{
	struct dev d;

	REQUIRE(dev_create(f, 2, 1, &d));
	/* after creation: the 16550A's reset values */
	CHECK_EQ(reg_rd(&d, 1, UART_IER), 0);
	CHECK_EQ(reg_rd(&d, 1, UART_IIR), UART_IIR_NO_INT);
	CHECK_EQ(reg_rd(&d, 1, UART_LCR), 0);
	CHECK_EQ(reg_rd(&d, 1, UART_MCR), 0);
	CHECK_EQ(reg_rd(&d, 1, UART_LSR), LSR_IDLE);
	CHECK_EQ(reg_rd(&d, 1, UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	CHECK_EQ(reg_rd(&d, 1, UART_SCR), 0);
	/* what Linux's 8250 driver sets up for a 16550A, and what it reads back */
	reg_wr(&d, 1, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10);
	reg_wr(&d, 1, UART_LCR, UART_LCR_WLEN8);
	reg_wr(&d, 1, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	reg_wr(&d, 1, UART_IER, UART_IER_RDI | UART_IER_RLSI);
	reg_wr(&d, 1, UART_SCR, 0x5a);
	CHECK_EQ(reg_rd(&d, 1, UART_IIR), 0xc1);
	CHECK_EQ(reg_rd(&d, 1, UART_IER), UART_IER_RDI | UART_IER_RLSI);
	CHECK_EQ(reg_rd(&d, 1, UART_MCR), 0x0b);
	CHECK_EQ(reg_rd(&d, 1, UART_SCR), 0x5a);
	CHECK_EQ(reg_rd(&d, 1, UART_MSR), 0xb0);
	reg_wr(&d, 1, UART_TX, 'A');
	CHECK_EQ(reg_rd(&d, 1, UART_IIR), 0xc4); /* received data */
	CHECK_EQ(reg_rd(&d, 1, UART_LSR), UART_LSR_DR);
	CHECK_EQ(reg_rd(&d, 1, UART_RX), 'A');
	CHECK_EQ(reg_rd(&d, 1, UART_IIR), 0xc1);
	/* port 0 was not touched */
	CHECK_EQ(reg_rd(&d, 0, UART_SCR), 0);
	CHECK_EQ(reg_rd(&d, 0, UART_IIR), UART_IIR_NO_INT);
	dev_destroy(&d);
}

MTTY_TEST(overrun)
{
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	reg_wr(&d, 0, UART_FCR, UART_FCR_ENABLE_FIFO);
	reg_wr(&d, 0, UART_IER, UART_IER_RLSI);
	for (unsigned int i = 0; i < UART16550_FIFO_SIZE + 2; i++)
		reg_wr(&d, 0, UART_TX, (uint8_t)('a' + i));
	CHECK_EQ(reg_rd(&d, 0, UART_IIR), 0xc6); /* receiver line status */
	CHECK_EQ(reg_rd(&d, 0, UART_LSR), UART_LSR_DR | UART_LSR_OE);
	CHECK_EQ(reg_rd(&d, 0, UART_LSR), UART_LSR_DR);
	CHECK_EQ(reg_rd(&d, 0, UART_IIR), 0xc1);
	/* the first 16 bytes are kept, the rest was lost */
	for (unsigned int i = 0; i < UART16550_FIFO_SIZE; i++)
		CHECK_EQ(reg_rd(&d, 0, UART_RX), 'a' + i);
	CHECK_EQ(reg_rd(&d, 0, UART_LSR), LSR_IDLE);
	dev_destroy(&d);
}

MTTY_TEST(divisor_latch)
{
	struct dev d;

	REQUIRE(dev_create(f, 2, 1, &d));
	/* 115200 / 9600 = 12 on port 0, 115200 / 300 = 384 on port 1 */
	reg_wr(&d, 0, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	reg_wr(&d, 0, UART_DLL, 12);
	reg_wr(&d, 0, UART_DLM, 0);
	reg_wr(&d, 1, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN7);
	reg_wr(&d, 1, UART_DLL, 384 & 0xff);
	reg_wr(&d, 1, UART_DLM, 384 >> 8);
	CHECK_EQ(reg_rd(&d, 0, UART_DLL), 12);
	CHECK_EQ(reg_rd(&d, 0, UART_DLM), 0);
	CHECK_EQ(reg_rd(&d, 1, UART_DLL), 384 & 0xff);
	CHECK_EQ(reg_rd(&d, 1, UART_DLM), 384 >> 8);
	reg_wr(&d, 0, UART_LCR, UART_LCR_WLEN8);
	CHECK_EQ(reg_rd(&d, 0, UART_IER), 0); /* IER, not DLM */
	reg_wr(&d, 0, UART_TX, 0x42);	      /* THR, not DLL */
	CHECK_EQ(reg_rd(&d, 0, UART_RX), 0x42);
	reg_wr(&d, 0, UART_LCR, UART_LCR_DLAB);
	CHECK_EQ(reg_rd(&d, 0, UART_DLL), 12); /* kept while DLAB was clear */
	dev_destroy(&d);
}

MTTY_TEST(wide_accesses_are_byte_lanes)
{
	uint8_t b[8];
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	/* a 4-byte write at offset 4: MCR, LSR (ignored), MSR (ignored), SCR */
	memcpy(b, "\x03\xff\xff\x77", 4);
	CHECK_EQ(vfio_device_write(d.vdev, b, 4, BAR(0) + 4), 4);
	CHECK_EQ(reg_rd(&d, 0, UART_MCR), 0x03);
	CHECK_EQ(reg_rd(&d, 0, UART_SCR), 0x77);
	/* an 8-byte read returns every register, each with its side effects */
	reg_wr(&d, 0, UART_TX, 'w');
	CHECK_EQ(vfio_device_read(d.vdev, b, 8, BAR(0)), 8);
	CHECK_EQ(b[UART_RX], 'w');
	CHECK_EQ(b[UART_IER], 0);
	CHECK_EQ(b[UART_IIR], UART_IIR_NO_INT);
	CHECK_EQ(b[UART_MCR], 0x03);
	CHECK_EQ(b[UART_LSR], LSR_IDLE); /* after RBR was read */
	CHECK_EQ(b[UART_SCR], 0x77);
	dev_destroy(&d);
}

MTTY_TEST(reset_restores_the_uarts)
{
	struct dev d;

	REQUIRE(dev_create(f, 2, 1, &d));
	cfg_wr(&d, 0x10, 0xc150, 4);
	for (unsigned int p = 0; p < 2; p++) {
		reg_wr(&d, p, UART_FCR, UART_FCR_ENABLE_FIFO);
		reg_wr(&d, p, UART_IER, 0x0f);
		reg_wr(&d, p, UART_LCR, 0x83);
		reg_wr(&d, p, UART_DLL, 1);
		reg_wr(&d, p, UART_LCR, 0x03);
		reg_wr(&d, p, UART_SCR, 0x99);
		reg_wr(&d, p, UART_TX, 'r');
	}
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
	for (unsigned int p = 0; p < 2; p++) {
		CHECK_EQ(reg_rd(&d, p, UART_IER), 0);
		CHECK_EQ(reg_rd(&d, p, UART_IIR), UART_IIR_NO_INT);
		CHECK_EQ(reg_rd(&d, p, UART_LCR), 0);
		CHECK_EQ(reg_rd(&d, p, UART_SCR), 0);
		CHECK_EQ(reg_rd(&d, p, UART_LSR), LSR_IDLE); /* the FIFO was emptied */
		reg_wr(&d, p, UART_LCR, UART_LCR_DLAB);
		CHECK_EQ(reg_rd(&d, p, UART_DLL), 0);
	}
	/* config space stays, as over a vfio-pci function reset */
	CHECK_EQ(cfg_rd(&d, 0x10, 4), 0xc151);
	dev_destroy(&d);
}

MTTY_TEST(state_survives_clients)
{
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	reg_wr(&d, 0, UART_SCR, 0x31);
	reg_wr(&d, 0, UART_TX, 'k');
	dev_close(&d);
	REQUIRE_EQ(vfio_device_open(d.vdev, NULL), 0);
	d.open = true;
	CHECK_EQ(reg_rd(&d, 0, UART_SCR), 0x31);
	CHECK_EQ(reg_rd(&d, 0, UART_RX), 'k');
	dev_destroy(&d);
}
