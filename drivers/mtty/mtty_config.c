/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty's PCI config space: a type-0 header with the kernel sample's values, so that a
 * guest's lspci prints what seed 003 shows, and write masks as a real function has them.
 *
 *   0x00  vendor 0x4348, device 0x3253
 *   0x04  command 0x0001 (I/O space; read-only: the card always decodes its BARs)
 *   0x06  status 0x0200 (DEVSEL medium, no capability list)
 *   0x08  revision 0x10, class 0x070002 (serial controller, 16550)
 *   0x10  BAR0: I/O, 8 bytes;  0x14  BAR1: I/O, 8 bytes on mtty-2, 0 on mtty-1
 *   0x2c  subsystem vendor 0x4348, subsystem 0x3253
 *   0x3c  interrupt line (read/write), 0x3d interrupt pin INTA
 *   0x40-0x4c and 0x60-0x6e  the sample's vendor-specific bytes
 *
 * Writable bits: the address bits of the implemented BARs (so that writing all ones and
 * reading back sizes them: 0xfffffff9) and the interrupt line. Everything else, the
 * unimplemented BARs and the ROM BAR included, reads as initialised and ignores writes.
 * Caller holds s->lock.
 */
#include <string.h>

#include "mtty_priv.h"

#define CFG_BAR0 0x10
#define CFG_BAR1 0x14
#define CFG_INTERRUPT_LINE 0x3c
#define BAR_IO_SPACE 0x01u
#define BAR_ADDR_MASK (~(uint32_t)(MTTY_BAR_SIZE - 1))

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

void mtty_config_init(struct mtty_state *s)
{
	static const char vendor_text[] = "PCI Serial/UART"; /* at 0x60, without its NUL */
	uint8_t *c = s->config;

	memset(c, 0, MTTY_CONFIG_SIZE);
	put_le16(c + 0x00, MTTY_PCI_VENDOR_ID);
	put_le16(c + 0x02, MTTY_PCI_DEVICE_ID);
	put_le16(c + 0x04, 0x0001); /* command: I/O space */
	put_le16(c + 0x06, 0x0200); /* status: DEVSEL medium */
	put_le32(c + 0x08, MTTY_PCI_CLASS << 8 | MTTY_PCI_REVISION);
	put_le32(c + CFG_BAR0, BAR_IO_SPACE);
	if (s->nr_ports > 1)
		put_le32(c + CFG_BAR1, BAR_IO_SPACE);
	put_le16(c + 0x2c, MTTY_PCI_VENDOR_ID);
	put_le16(c + 0x2e, MTTY_PCI_DEVICE_ID);
	c[0x3d] = 0x01; /* interrupt pin INTA */
	c[0x40] = 0x23;
	c[0x43] = 0x80;
	c[0x44] = 0x23;
	c[0x48] = 0x23;
	c[0x4c] = 0x23;
	memcpy(c + 0x60, vendor_text, sizeof(vendor_text) - 1);
}

/* The bits of config byte @off that a write changes. */
static uint8_t write_mask(const struct mtty_state *s, unsigned int off)
{
	unsigned int bars_end = CFG_BAR0 + 4 * s->nr_ports;

	if (off >= CFG_BAR0 && off < bars_end)
		return (uint8_t)(BAR_ADDR_MASK >> (8 * (off % 4)));
	if (off == CFG_INTERRUPT_LINE)
		return 0xff;
	return 0;
}

void mtty_config_write(struct mtty_state *s, unsigned int off, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++, off++) {
		uint8_t mask = write_mask(s, off);

		s->config[off] = (uint8_t)((s->config[off] & ~mask) | (buf[i] & mask));
	}
}
