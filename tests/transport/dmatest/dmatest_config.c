/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmatest's PCI config space: a type-0 header (vendor 0x1234, device 0x646d) with two 32-bit
 * memory BARs and an MSI capability. Writes go through a per-byte mask of the writable bits,
 * as hardware has it: read-only fields keep their value, and a BAR keeps the address bits
 * below its size at zero, so that writing ~0 and reading back gives its size (BAR sizing).
 * The caller holds the device's lock.
 */
#include <string.h>

#include "dmatest_priv.h"

#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_REVISION 0x08
#define CFG_BAR0 0x10
#define CFG_BAR2 0x18
#define CFG_SUBSYS_VENDOR 0x2c
#define CFG_SUBSYS_ID 0x2e
#define CFG_CAP_PTR 0x34
#define CFG_INTR_LINE 0x3c
#define CFG_INTR_PIN 0x3d

#define CFG_STATUS_CAP_LIST 0x0010
#define PCI_CAP_ID_MSI 0x05
#define MSI_CONTROL (DMATEST_MSI_CAP + 2)
#define MSI_ADDRESS (DMATEST_MSI_CAP + 4)
#define MSI_DATA (DMATEST_MSI_CAP + 8)
#define MSI_CONTROL_ENABLE 0x0001

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

/* The writable bits of each byte; built once, read-only afterwards. */
static uint8_t wmask[DMATEST_CONFIG_SIZE];
static pthread_once_t wmask_once = PTHREAD_ONCE_INIT;

static void wmask_init(void)
{
	put_le16(wmask + CFG_COMMAND, DMATEST_PCI_COMMAND_WMASK);
	put_le32(wmask + CFG_BAR0, ~(uint32_t)(DMATEST_BAR0_SIZE - 1));
	put_le32(wmask + CFG_BAR2, ~(uint32_t)(DMATEST_BAR2_SIZE - 1));
	wmask[CFG_INTR_LINE] = 0xff;
	put_le16(wmask + MSI_CONTROL, MSI_CONTROL_ENABLE);
	put_le32(wmask + MSI_ADDRESS, 0xfffffffcu);
	put_le16(wmask + MSI_DATA, 0xffff);
}

void dmatest_config_reset(uint8_t config[DMATEST_CONFIG_SIZE])
{
	uint8_t *c = config;

	pthread_once(&wmask_once, wmask_init);
	memset(c, 0, DMATEST_CONFIG_SIZE);
	put_le16(c + 0x00, DMATEST_PCI_VENDOR_ID);
	put_le16(c + 0x02, DMATEST_PCI_DEVICE_ID);
	put_le16(c + CFG_STATUS, CFG_STATUS_CAP_LIST);
	put_le32(c + CFG_REVISION, DMATEST_PCI_CLASS << 8 | DMATEST_PCI_REVISION);
	/* BAR0 and BAR2: 32-bit non-prefetchable memory, address 0; the type bits are 0 */
	put_le16(c + CFG_SUBSYS_VENDOR, DMATEST_PCI_VENDOR_ID);
	put_le16(c + CFG_SUBSYS_ID, DMATEST_PCI_DEVICE_ID);
	c[CFG_CAP_PTR] = DMATEST_MSI_CAP;
	c[CFG_INTR_PIN] = 0x01; /* INTA */
	/* MSI: one vector (multiple message capable 0), 32-bit address, no masking */
	c[DMATEST_MSI_CAP] = PCI_CAP_ID_MSI;
	c[DMATEST_MSI_CAP + 1] = 0; /* last capability */
}

void dmatest_config_write(uint8_t config[DMATEST_CONFIG_SIZE], unsigned int off,
			  const uint8_t *buf, size_t len)
{
	pthread_once(&wmask_once, wmask_init);
	for (size_t i = 0; i < len && off + i < DMATEST_CONFIG_SIZE; i++) {
		uint8_t m = wmask[off + i];

		config[off + i] = (uint8_t)((config[off + i] & ~m) | (buf[i] & m));
	}
}

void dmatest_config_load(uint8_t config[DMATEST_CONFIG_SIZE],
			 const uint8_t saved[DMATEST_CONFIG_SIZE])
{
	dmatest_config_reset(config);
	dmatest_config_write(config, 0, saved, DMATEST_CONFIG_SIZE);
}
