/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The helpers of mtty_suite_common.h, for mtty's core-API and vfio-user suites.
 */
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "mtty_suite_common.h"

#include "tap.h"
#include "uart16550.h"

/* LSR of an idle port with an empty receiver. */
#define LSR_IDLE (UART_LSR_THRE | UART_LSR_TEMT)

void mtty_expected_config(uint8_t c[MTTY_CONFIG_SIZE], unsigned int ports)
{
	static const uint8_t head[0x40] = {
		0x48, 0x43, 0x53, 0x32, 0x01, 0x00, 0x00, 0x02, /* ids, command, status */
		0x10, 0x02, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, /* rev, class, header 0 */
		0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* BAR0, BAR1: I/O */
		[0x2c] = 0x48, 0x43, 0x53, 0x32,		/* subsystem */
		[0x3d] = 0x01,					/* INTA */
	};

	memset(c, 0, MTTY_CONFIG_SIZE);
	memcpy(c, head, sizeof(head));
	if (ports == 1)
		c[0x14] = 0;
	c[0x40] = 0x23;
	c[0x43] = 0x80;
	c[0x44] = 0x23;
	c[0x48] = 0x23;
	c[0x4c] = 0x23;
	memcpy(c + 0x60, "PCI Serial/UART", 15);
}

int pty_open_raw(char *path)
{
	struct termios tio;
	int fd;

	path[strcspn(path, "\n")] = '\0';
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (!CHECK(fd >= 0))
		return -1;
	if (!CHECK_EQ(tcgetattr(fd, &tio), 0)) {
		close(fd);
		return -1;
	}
	cfmakeraw(&tio);
	CHECK_EQ(tcsetattr(fd, TCSANOW, &tio), 0);
	return fd;
}

struct attribute *attr_find(const struct attribute_group *const *groups, const char *group,
			    const char *name)
{
	for (; groups && *groups; groups++) {
		if (group && (!(*groups)->name || strcmp((*groups)->name, group)))
			continue;
		for (struct attribute **a = (*groups)->attrs; *a; a++)
			if (!strcmp((*a)->name, name))
				return *a;
	}
	return NULL;
}

void guest_state_make(const struct uart_access *a, unsigned int seed)
{
	for (unsigned int p = 0; p < a->ports; p++) {
		uint8_t base = (uint8_t)(seed * 16 + p * 64);

		a->wr_posted(a->dev, p, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_4);
		a->wr_posted(a->dev, p, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
		a->wr_posted(a->dev, p, UART_DLL, (uint8_t)(seed + p));
		a->wr_posted(a->dev, p, UART_DLM, 0x01);
		a->wr_posted(a->dev, p, UART_LCR, UART_LCR_WLEN8 | UART_LCR_STOP);
		a->wr_posted(a->dev, p, UART_MCR, UART_MCR_DTR | UART_MCR_OUT2);
		a->wr_posted(a->dev, p, UART_SCR, (uint8_t)(0xa0 + seed + p));
		/* wrap the ring: 5 in, 5 out, then 13 in */
		for (unsigned int i = 0; i < 5; i++)
			a->wr_posted(a->dev, p, UART_TX, 0);
		for (unsigned int i = 0; i < 5; i++)
			a->rd(a->dev, p, UART_RX);
		for (unsigned int i = 0; i < 13; i++)
			a->wr_posted(a->dev, p, UART_TX, (uint8_t)(base + i));
		a->wr(a->dev, p, UART_IER, UART_IER_RDI | UART_IER_RLSI | UART_IER_MSI);
	}
	if (a->ports == 2) {
		/* port 1: an overrun and a latched THRE interrupt, with MSR deltas unread (DTR
		 * stays, DCD and CTS drop) */
		for (unsigned int i = 0; i < 4; i++)
			a->wr_posted(a->dev, 1, UART_TX, 0xee);
		a->wr(a->dev, 1, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	}
}

void guest_state_check(const struct uart_access *a, unsigned int seed)
{
	for (unsigned int p = 0; p < a->ports; p++) {
		uint8_t base = (uint8_t)(seed * 16 + p * 64);

		CHECK_EQ(a->rd(a->dev, p, UART_IER), UART_IER_RDI | UART_IER_RLSI | UART_IER_MSI);
		CHECK_EQ(a->rd(a->dev, p, UART_LCR), UART_LCR_WLEN8 | UART_LCR_STOP);
		CHECK_EQ(a->rd(a->dev, p, UART_SCR), 0xa0 + seed + p);
		if (p == 1) {
			CHECK_EQ(a->rd(a->dev, p, UART_MCR), UART_MCR_LOOP | UART_MCR_DTR);
			CHECK_EQ(a->rd(a->dev, p, UART_IIR), 0xc6); /* the overrun, first */
			CHECK_EQ(a->rd(a->dev, p, UART_LSR), UART_LSR_DR | UART_LSR_OE);
			CHECK_EQ(a->rd(a->dev, p, UART_IIR), 0xc4);
		} else {
			CHECK_EQ(a->rd(a->dev, p, UART_MCR), UART_MCR_DTR | UART_MCR_OUT2);
			CHECK_EQ(a->rd(a->dev, p, UART_IIR), 0xc4);
			CHECK_EQ(a->rd(a->dev, p, UART_LSR), UART_LSR_DR);
		}
		for (unsigned int i = 0; i < 13; i++)
			CHECK_EQ(a->rd(a->dev, p, UART_RX), (uint8_t)(base + i));
		if (p == 1) {
			for (unsigned int i = 0; i < 3; i++)
				CHECK_EQ(a->rd(a->dev, p, UART_RX), 0xee);
			/* modem status next, then nothing */
			CHECK_EQ(a->rd(a->dev, p, UART_IIR), 0xc0);
			CHECK_EQ(a->rd(a->dev, p, UART_MSR),
				 UART_MSR_DSR | UART_MSR_DCTS | UART_MSR_DDCD);
		}
		CHECK_EQ(a->rd(a->dev, p, UART_LSR), LSR_IDLE);
		CHECK_EQ(a->rd(a->dev, p, UART_IIR), 0xc1);
		a->wr(a->dev, p, UART_LCR, UART_LCR_DLAB);
		CHECK_EQ(a->rd(a->dev, p, UART_DLL), (uint8_t)(seed + p));
		CHECK_EQ(a->rd(a->dev, p, UART_DLM), 0x01);
		a->wr(a->dev, p, UART_LCR, 0);
		/* FIFOs still on: 16 bytes fit */
		for (unsigned int i = 0; i < UART16550_FIFO_SIZE; i++)
			a->wr_posted(a->dev, p, UART_TX, (uint8_t)i);
		CHECK_EQ(a->rd(a->dev, p, UART_LSR), UART_LSR_DR);
	}
}
