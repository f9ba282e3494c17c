/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of mtty's 16550A model (drivers/mtty/uart16550.c) on its own, without umdev:
 * the reset values, the loopback and its flow control, the receiver with and without FIFO,
 * overrun, the divisor latch, each register's values, the interrupt sources and their
 * priority in IIR, the modem lines in loopback mode, the host side (transmit callback,
 * receive and its room), and the validity check a migration load relies on.
 */
#include <string.h>

#include "tap.h"
#include "uart16550.h"

/* IIR values: "no interrupt" and each source, without and with the FIFO bits. */
#define IIR_NONE UART_IIR_NO_INT
#define FIFO_BITS 0xc0

static void fifo_on(struct uart16550 *u)
{
	uart16550_write(u, UART_FCR, UART_FCR_ENABLE_FIFO);
}

/* A host side that records what it is sent. */
struct sink {
	uint8_t bytes[64];
	size_t n;
};

static void sink_transmit(void *opaque, uint8_t byte)
{
	struct sink *k = opaque;

	if (k->n < sizeof(k->bytes))
		k->bytes[k->n] = byte;
	k->n++;
}

TEST(reset_values)
{
	struct uart16550 u;

	uart16550_init(&u);
	CHECK_EQ(uart16550_read(&u, UART_IER), 0);
	CHECK_EQ(uart16550_read(&u, UART_IIR), IIR_NONE); /* FIFOs off: bits 7:6 clear */
	CHECK_EQ(uart16550_read(&u, UART_LCR), 0);
	CHECK_EQ(uart16550_read(&u, UART_MCR), 0);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(uart16550_read(&u, UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	CHECK_EQ(uart16550_read(&u, UART_SCR), 0);
	CHECK_EQ(uart16550_read(&u, UART_RX), 0); /* empty receiver */
	CHECK_EQ(uart16550_pending(&u), 0);
	CHECK(uart16550_valid(&u));

	/* a reset brings everything back, the wiring excepted */
	uart16550_write(&u, UART_IER, 0x0f);
	uart16550_write(&u, UART_LCR, 0x1b);
	uart16550_write(&u, UART_MCR, 0x1f);
	uart16550_write(&u, UART_SCR, 0x5a);
	fifo_on(&u);
	uart16550_write(&u, UART_TX, 'x');
	uart16550_reset(&u);
	CHECK_EQ(uart16550_read(&u, UART_IER), 0);
	CHECK_EQ(uart16550_read(&u, UART_LCR), 0);
	CHECK_EQ(uart16550_read(&u, UART_MCR), 0);
	CHECK_EQ(uart16550_read(&u, UART_SCR), 0);
	CHECK_EQ(uart16550_read(&u, UART_IIR), IIR_NONE);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(u.depth, 1);
}

TEST(loopback_fifo)
{
	static const char msg[] = "Hello, mtty!";
	struct uart16550 u;
	char got[sizeof(msg)] = { 0 };

	uart16550_init(&u);
	fifo_on(&u);
	for (size_t i = 0; i < sizeof(msg) - 1; i++)
		uart16550_write(&u, UART_TX, (uint8_t)msg[i]);
	/* the looped transmitter is busy until everything has been read back */
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_DR);
	for (size_t i = 0; i < sizeof(msg) - 1; i++) {
		CHECK_EQ(uart16550_read(&u, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
		got[i] = (char)uart16550_read(&u, UART_RX);
	}
	CHECK_STR(got, msg);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK(uart16550_valid(&u));
}

TEST(overrun_with_fifo)
{
	struct uart16550 u;

	uart16550_init(&u);
	fifo_on(&u);
	for (unsigned int i = 0; i < UART16550_FIFO_SIZE; i++)
		uart16550_write(&u, UART_TX, (uint8_t)i);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_DR); /* full, no error yet */
	uart16550_write(&u, UART_TX, 0xee);		      /* one too many: lost */
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_DR | UART_LSR_OE);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_DR); /* reading LSR cleared OE */
	for (unsigned int i = 0; i < UART16550_FIFO_SIZE; i++)
		CHECK_EQ(uart16550_read(&u, UART_RX), i);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
}

TEST(overrun_without_fifo)
{
	struct uart16550 u;

	uart16550_init(&u); /* FIFOs off: a single holding register */
	uart16550_write(&u, UART_TX, 'a');
	uart16550_write(&u, UART_TX, 'b');
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_DR | UART_LSR_OE);
	CHECK_EQ(uart16550_read(&u, UART_RX), 'a');
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
}

TEST(fcr_clears_and_switches)
{
	struct uart16550 u;

	uart16550_init(&u);
	fifo_on(&u);
	CHECK_EQ(uart16550_read(&u, UART_IIR), IIR_NONE | FIFO_BITS);
	uart16550_write(&u, UART_TX, '1');
	uart16550_write(&u, UART_TX, '2');
	/* clearing the receiver empties it and idles the looped transmitter */
	uart16550_write(&u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(u.fcr, UART_FCR_ENABLE_FIFO); /* the clear bits do not stay */
	/* switching the FIFOs off empties the receiver too */
	uart16550_write(&u, UART_TX, '3');
	uart16550_write(&u, UART_FCR, UART_FCR_TRIGGER_8);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(uart16550_read(&u, UART_IIR), IIR_NONE);
	CHECK_EQ(u.depth, 1);
	CHECK_EQ(u.fcr, UART_FCR_TRIGGER_8);
	/* a trigger level is recorded, but data is reported from the first byte */
	uart16550_write(&u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_14);
	uart16550_write(&u, UART_IER, UART_IER_RDI);
	uart16550_write(&u, UART_TX, '4');
	CHECK_EQ(uart16550_read(&u, UART_IIR), UART_IIR_RDI | FIFO_BITS);
}

TEST(divisor_latch)
{
	struct uart16550 u;

	uart16550_init(&u);
	uart16550_write(&u, UART_IER, UART_IER_RDI);
	uart16550_write(&u, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	uart16550_write(&u, UART_DLL, 0x0c);
	uart16550_write(&u, UART_DLM, 0x01);
	CHECK_EQ(uart16550_read(&u, UART_DLL), 0x0c);
	CHECK_EQ(uart16550_read(&u, UART_DLM), 0x01);
	CHECK_EQ(u.divisor, 0x010c);
	/* a second write replaces the value (the sample ORs them together) */
	uart16550_write(&u, UART_DLL, 0x03);
	CHECK_EQ(uart16550_read(&u, UART_DLL), 0x03);
	CHECK_EQ(uart16550_read(&u, UART_LCR), UART_LCR_DLAB | UART_LCR_WLEN8);
	/* the divisor latch does not touch THR, RBR or IER */
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	uart16550_write(&u, UART_LCR, UART_LCR_WLEN8);
	CHECK_EQ(uart16550_read(&u, UART_IER), UART_IER_RDI);
	uart16550_write(&u, UART_TX, 'z');
	CHECK_EQ(uart16550_read(&u, UART_RX), 'z');
	/* the latch keeps its value while DLAB is clear */
	uart16550_write(&u, UART_LCR, UART_LCR_DLAB);
	CHECK_EQ(uart16550_read(&u, UART_DLL), 0x03);
	CHECK_EQ(uart16550_read(&u, UART_DLM), 0x01);
	/* IIR is not behind the latch */
	CHECK_EQ(uart16550_read(&u, UART_IIR), IIR_NONE);
}

TEST(registers_keep_their_bits)
{
	struct uart16550 u;

	uart16550_init(&u);
	uart16550_write(&u, UART_IER, 0xff);
	CHECK_EQ(uart16550_read(&u, UART_IER), 0x0f);
	uart16550_write(&u, UART_IER, 0);
	uart16550_write(&u, UART_MCR, 0xff);
	CHECK_EQ(uart16550_read(&u, UART_MCR), 0x1f);
	uart16550_write(&u, UART_MCR, 0);
	/* RI (OUT1 looped back) fell when the loop ended */
	CHECK_EQ(uart16550_read(&u, UART_MSR) & UART_MSR_ANY_DELTA, UART_MSR_TERI);
	uart16550_write(&u, UART_SCR, 0xa5);
	CHECK_EQ(uart16550_read(&u, UART_SCR), 0xa5);
	uart16550_write(&u, UART_LCR, 0x5b);
	CHECK_EQ(uart16550_read(&u, UART_LCR), 0x5b);
	/* LSR and MSR ignore writes */
	uart16550_write(&u, UART_LSR, 0xff);
	uart16550_write(&u, UART_MSR, 0xff);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(uart16550_read(&u, UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
}

TEST(thre_interrupt)
{
	struct uart16550 u;

	uart16550_init(&u);
	fifo_on(&u);
	/* enabling THRI while the transmitter is idle raises it */
	uart16550_write(&u, UART_IER, UART_IER_THRI);
	CHECK_EQ(uart16550_pending(&u), UART16550_SRC_THRE);
	/* reading IIR while it shows THRE acknowledges it */
	CHECK_EQ(uart16550_read(&u, UART_IIR), UART_IIR_THRI | FIFO_BITS);
	CHECK_EQ(uart16550_pending(&u), 0);
	CHECK_EQ(uart16550_read(&u, UART_IIR), IIR_NONE | FIFO_BITS);
	/* rewriting IER raises it again (Linux's THRE test relies on this) */
	uart16550_write(&u, UART_IER, 0);
	uart16550_write(&u, UART_IER, UART_IER_THRI);
	CHECK_EQ(uart16550_read(&u, UART_IIR), UART_IIR_THRI | FIFO_BITS);
	/* looped back: writing THR acknowledges it, the transmitter is busy until read back */
	uart16550_write(&u, UART_IER, UART_IER_THRI);
	uart16550_write(&u, UART_TX, 'q');
	CHECK_EQ(uart16550_pending(&u), 0);
	CHECK_EQ(uart16550_read(&u, UART_RX), 'q');
	CHECK_EQ(uart16550_pending(&u), UART16550_SRC_THRE); /* idle again */
	/* masked sources are latched but not pending */
	uart16550_write(&u, UART_IER, 0);
	CHECK_EQ(uart16550_pending(&u), 0);
	CHECK_EQ(uart16550_read(&u, UART_IIR), IIR_NONE | FIFO_BITS);
	uart16550_write(&u, UART_IER, UART_IER_THRI);
	CHECK_EQ(uart16550_pending(&u), UART16550_SRC_THRE);
}

TEST(iir_priority)
{
	struct uart16550 u;

	uart16550_init(&u);
	fifo_on(&u);
	uart16550_write(&u, UART_MCR, UART_MCR_LOOP); /* inputs drop: a modem status change */
	uart16550_write(&u, UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI);
	for (unsigned int i = 0; i <= UART16550_FIFO_SIZE; i++)
		uart16550_write(&u, UART_TX, (uint8_t)i); /* full, and one overrun */
	uart16550_write(&u, UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI);
	CHECK_EQ(uart16550_pending(&u),
		 UART16550_SRC_RLS | UART16550_SRC_RDA | UART16550_SRC_MS);

	/* one at a time, highest first: line status, data, THRE, modem status */
	CHECK_EQ(uart16550_read(&u, UART_IIR), UART_IIR_RLSI | FIFO_BITS);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_DR | UART_LSR_OE);
	CHECK_EQ(uart16550_read(&u, UART_IIR), UART_IIR_RDI | FIFO_BITS);
	for (unsigned int i = 0; i < UART16550_FIFO_SIZE; i++)
		CHECK_EQ(uart16550_read(&u, UART_RX), i);
	CHECK_EQ(uart16550_read(&u, UART_IIR), UART_IIR_THRI | FIFO_BITS); /* now idle */
	CHECK_EQ(uart16550_read(&u, UART_IIR), UART_IIR_MSI | FIFO_BITS);
	CHECK_EQ(uart16550_read(&u, UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	CHECK_EQ(uart16550_read(&u, UART_IIR), IIR_NONE | FIFO_BITS);
	CHECK_EQ(uart16550_pending(&u), 0);
}

TEST(modem_lines_in_loop_mode)
{
	struct uart16550 u;

	uart16550_init(&u);
	/* Linux's loopback test: RTS and OUT2 come back as CTS and DCD */
	uart16550_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	CHECK_EQ(uart16550_read(&u, UART_MSR) & 0xf0, UART_MSR_CTS | UART_MSR_DCD);
	uart16550_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1 | UART_MCR_DTR);
	CHECK_EQ(uart16550_read(&u, UART_MSR),
		 UART_MSR_RI | UART_MSR_DSR | UART_MSR_DDCD | UART_MSR_DDSR | UART_MSR_DCTS);
	/* RI: only its trailing edge is reported */
	uart16550_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	CHECK_EQ(uart16550_read(&u, UART_MSR), UART_MSR_DSR | UART_MSR_TERI);
	CHECK_EQ(uart16550_read(&u, UART_MSR), UART_MSR_DSR); /* deltas clear on read */
	/* a modem status interrupt while a delta is unread */
	uart16550_write(&u, UART_IER, UART_IER_MSI);
	CHECK_EQ(uart16550_pending(&u), 0);
	uart16550_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS);
	CHECK_EQ(uart16550_pending(&u), UART16550_SRC_MS);
	CHECK_EQ(uart16550_read(&u, UART_IIR), UART_IIR_MSI);
	CHECK_EQ(uart16550_read(&u, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCTS);
	CHECK_EQ(uart16550_pending(&u), 0);
	/* back on the cable: CTS, DSR and DCD asserted again */
	uart16550_write(&u, UART_MCR, 0);
	CHECK_EQ(uart16550_read(&u, UART_MSR),
		 UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS | UART_MSR_DDCD);
}

TEST(host_side)
{
	struct sink k = { .n = 0 };
	struct uart16550_host host = { .transmit = sink_transmit, .opaque = &k };
	static const uint8_t in[20] = "from the host side!";
	struct uart16550 u;

	uart16550_init(&u);
	uart16550_set_host(&u, &host);
	fifo_on(&u);
	uart16550_write(&u, UART_IER, UART_IER_THRI | UART_IER_RDI);
	CHECK_EQ(uart16550_read(&u, UART_IIR), UART_IIR_THRI | FIFO_BITS);
	uart16550_write(&u, UART_TX, 'o');
	uart16550_write(&u, UART_TX, 'k');
	CHECK_EQ(k.n, 2);
	CHECK_EQ(k.bytes[0], 'o');
	CHECK_EQ(k.bytes[1], 'k');
	/* the host side takes bytes at once: idle, and THRE raised again */
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(uart16550_pending(&u), UART16550_SRC_THRE);
	CHECK_EQ(uart16550_read(&u, UART_RX), 0); /* nothing looped back */

	/* receiving: at most the room of the FIFO */
	CHECK_EQ(uart16550_rx_room(&u), UART16550_FIFO_SIZE);
	CHECK_EQ(uart16550_receive(&u, in, sizeof(in)), UART16550_FIFO_SIZE);
	CHECK_EQ(uart16550_rx_room(&u), 0);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(uart16550_read(&u, UART_IIR), UART_IIR_RDI | FIFO_BITS);
	for (unsigned int i = 0; i < UART16550_FIFO_SIZE; i++)
		CHECK_EQ(uart16550_read(&u, UART_RX), in[i]);
	CHECK_EQ(uart16550_rx_room(&u), UART16550_FIFO_SIZE);

	/* MCR.LOOP: the port hears only itself, the host side hears nothing */
	uart16550_write(&u, UART_MCR, UART_MCR_LOOP);
	CHECK_EQ(uart16550_rx_room(&u), 0);
	uart16550_write(&u, UART_TX, '!');
	CHECK_EQ(k.n, 2);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_DR);
	CHECK_EQ(uart16550_read(&u, UART_RX), '!');
	uart16550_write(&u, UART_MCR, 0);
	CHECK_EQ(uart16550_rx_room(&u), UART16550_FIFO_SIZE);
}

TEST(rewiring)
{
	struct sink k = { .n = 0 };
	struct uart16550_host host = { .transmit = sink_transmit, .opaque = &k };
	struct uart16550 u;

	uart16550_init(&u);
	fifo_on(&u);
	uart16550_write(&u, UART_TX, 'a');
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_DR); /* looped: busy */
	/* moved to a host side, the transmitter idles and raises THRE; the byte stays */
	uart16550_set_host(&u, &host);
	uart16550_write(&u, UART_IER, UART_IER_THRI);
	CHECK_EQ(uart16550_read(&u, UART_LSR), UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(uart16550_read(&u, UART_RX), 'a');
	uart16550_set_host(&u, NULL);
	CHECK_EQ(uart16550_rx_room(&u), 0);
	/* a reset keeps the wiring */
	uart16550_set_host(&u, &host);
	uart16550_reset(&u);
	CHECK(u.host == &host);
}

TEST(validity)
{
	struct uart16550 u, v;

	uart16550_init(&u);
	fifo_on(&u);
	uart16550_write(&u, UART_TX, 1);
	uart16550_write(&u, UART_TX, 2);
	CHECK(uart16550_valid(&u));

	v = u;
	v.head = UART16550_FIFO_SIZE;
	CHECK(!uart16550_valid(&v));
	v = u;
	v.count = 3; /* does not match head and tail */
	CHECK(!uart16550_valid(&v));
	v = u;
	v.depth = 8;
	CHECK(!uart16550_valid(&v));
	v = u;
	v.depth = 1; /* two bytes in a one-byte receiver */
	CHECK(!uart16550_valid(&v));
	v = u;
	v.ier = 0x10;
	CHECK(!uart16550_valid(&v));
	v = u;
	v.msr_delta = UART_MSR_CTS;
	CHECK(!uart16550_valid(&v));
	/* a full ring: head back at tail */
	uart16550_init(&v);
	fifo_on(&v);
	for (unsigned int i = 0; i < UART16550_FIFO_SIZE; i++)
		uart16550_write(&v, UART_TX, (uint8_t)i);
	CHECK_EQ(v.head, v.tail);
	CHECK(uart16550_valid(&v));
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
