/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uart16550: the registers of one 16550A UART as a guest's serial driver sees them, as a
 * state machine of its own. It knows nothing of umdev, PCI, locks or threads: its owner (an
 * mtty port, or a unit test) calls it under whatever lock guards it, one register access at
 * a time, and asks it afterwards whether its interrupt output is raised.
 *
 * The model (register names and bits are those of <linux/serial_reg.h>):
 *   - Offsets 0-7 of the port's I/O BAR. With LCR.DLAB set, offsets 0 and 1 are the
 *     divisor latch (DLL, DLM), which holds whatever was written; nothing is timed by it.
 *   - The receiver has a FIFO of UART16550_FIFO_SIZE bytes while FCR.ENABLE_FIFO is set and
 *     a single holding register otherwise (the reset state). A byte that finds it full is
 *     lost and sets LSR.OE, which a read of LSR clears.
 *   - The line: the port is wired either to a loopback "cable" (the default, as in the kernel
 *     sample: every transmitted byte is received by the same port) or to a host side that
 *     takes each transmitted byte at once (struct uart16550_host). MCR.LOOP loops the port
 *     back internally whatever it is wired to, and feeds MCR's outputs to MSR's inputs, as on
 *     the chip. Outside MCR.LOOP the cable holds CTS, DSR and DCD asserted and RI off.
 *   - The transmitter: on the host side it empties at once, so THRE and TEMT stay set. Looped
 *     back, it is busy until the receiver has handed every looped byte to the guest: THRE and
 *     TEMT are set only while the receive FIFO is empty. (This is the kernel sample's flow
 *     control, and it keeps a guest that writes while it reads from losing data.)
 *   - Interrupts, in the chip's priority order, each gated by its IER bit: receiver line
 *     status (LSR.OE), received data available (any byte: the trigger level of FCR is
 *     recorded but the receiver has no clock to time out on, so data is reported at once),
 *     transmitter holding register empty (latched when the transmitter becomes idle or
 *     IER.THRI is enabled while it is; cleared by reading IIR when it is the interrupt shown,
 *     or by writing THR), modem status (any MSR delta bit; cleared by reading MSR). IIR shows
 *     the highest one, and reads 0xC0 in bits 7:6 while the FIFOs are enabled.
 *   - No parity, framing or break errors: the virtual line does not make them.
 *
 * Every field of struct uart16550 is state that a migration saves; uart16550_valid() says
 * whether a set of values (for instance from a migration stream) is one the model can reach.
 */
#ifndef UMDEV_DRIVERS_MTTY_UART16550_H
#define UMDEV_DRIVERS_MTTY_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/serial_reg.h>

#define UART16550_NR_REGS 8
#define UART16550_FIFO_SIZE 16

/* The bits of IER, MCR and FCR that the chip keeps (the others read back as 0). */
#define UART16550_IER_BITS (UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI)
#define UART16550_MCR_BITS \
	(UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT1 | UART_MCR_OUT2 | UART_MCR_LOOP)
#define UART16550_FCR_BITS (UART_FCR_ENABLE_FIFO | UART_FCR_DMA_SELECT | UART_FCR_TRIGGER_MASK)

/* The host side of a port that is not looped back (a pty, a socket). */
struct uart16550_host {
	/* The transmitter sends @byte: the host side takes it or drops it, never waits. */
	void (*transmit)(void *opaque, uint8_t byte);
	void *opaque;
};

/* The interrupt sources, as uart16550_pending() reports them. */
#define UART16550_SRC_RLS (1u << 0) /* receiver line status: overrun */
#define UART16550_SRC_RDA (1u << 1) /* received data available */
#define UART16550_SRC_THRE (1u << 2) /* transmitter holding register empty */
#define UART16550_SRC_MS (1u << 3)  /* modem status: an MSR delta bit */

struct uart16550 {
	/* What the line is wired to; not state of the chip (see uart16550_set_host()). */
	const struct uart16550_host *host; /* NULL: the loopback cable */

	/* Registers. */
	uint8_t ier;	   /* UART_IER_* bits 3:0 */
	uint8_t lcr;	   /* as written; UART_LCR_DLAB selects the divisor latch */
	uint8_t mcr;	   /* UART_MCR_* bits 4:0 */
	uint8_t scr;	   /* scratch, as written */
	uint8_t fcr;	   /* the last FCR written, without its self-clearing bits */
	uint16_t divisor;  /* DLM:DLL */
	uint8_t msr_delta; /* UART_MSR_ANY_DELTA bits not yet read */
	bool overrun;	   /* LSR.OE */
	bool thre_pending; /* the THRE interrupt is latched */

	/* The receiver: a ring of FIFO_SIZE bytes, of which `depth` are usable. */
	uint8_t fifo[UART16550_FIFO_SIZE];
	uint8_t head;  /* where the next byte goes */
	uint8_t tail;  /* where the next byte comes from */
	uint8_t count; /* bytes held */
	uint8_t depth; /* UART16550_FIFO_SIZE with FCR.ENABLE_FIFO, else 1 */
};

/* Initialises @u to its reset state, wired to the loopback cable. */
void uart16550_init(struct uart16550 *u);

/* The chip's master reset: registers and FIFO to their power-on values; wiring kept. */
void uart16550_reset(struct uart16550 *u);

/*
 * Rewires the line: @host NULL loops it back. Bytes already received stay; the transmitter's
 * state follows the new wiring (a port moved off the loopback becomes idle).
 */
void uart16550_set_host(struct uart16550 *u, const struct uart16550_host *host);

/* A guest's byte access to register @reg (0-7), with the chip's side effects. */
uint8_t uart16550_read(struct uart16550 *u, unsigned int reg);
void uart16550_write(struct uart16550 *u, unsigned int reg, uint8_t val);

/*
 * The host side delivers bytes: takes at most uart16550_rx_room() of the @len at @buf and
 * returns how many it took.
 */
size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);

/*
 * How many bytes the host side may deliver now without an overrun: the free room of the
 * receiver, or 0 while the port is looped back (its receiver hears only itself then).
 */
size_t uart16550_rx_room(const struct uart16550 *u);

/* The UART16550_SRC_* interrupts that are pending and enabled; 0: the output is low. */
unsigned int uart16550_pending(const struct uart16550 *u);

/* True when @u holds values the model can reach (indexes in range, FIFO within depth...). */
bool uart16550_valid(const struct uart16550 *u);

#endif
