/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uart16550: the 16550A register model (uart16550.h has the model and its choices).
 *
 * Two derived quantities carry most of the behaviour:
 *   - thr_empty(): whether the transmitter is idle (LSR.THRE and LSR.TEMT). Every change
 *     that can make it idle goes through tx_settle(), which latches the THRE interrupt on the
 *     busy-to-idle edge, as the chip raises it when its holding register empties.
 *   - modem_inputs(): the levels of CTS, DSR, RI and DCD in MSR's upper nibble. Every change
 *     that can move them goes through modem_settle(), which sets the delta bits.
 */
#include <string.h>

#include "uart16550.h"

/* IIR bits 7:6 while the FIFOs are enabled */
#define IIR_FIFO_BITS 0xc0
/* The inputs the cable holds outside loopback mode: a modem that is always ready. */
#define CABLE_INPUTS (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

/* The port hears only itself: the loopback cable, or MCR.LOOP. */
static bool looped(const struct uart16550 *u)
{
	return !u->host || (u->mcr & UART_MCR_LOOP);
}

static bool thr_empty(const struct uart16550 *u)
{
	return !looped(u) || u->count == 0;
}

static void tx_settle(struct uart16550 *u, bool was_empty)
{
	if (!was_empty && thr_empty(u))
		u->thre_pending = true;
}

/* CTS, DSR, RI and DCD: MCR's outputs in loopback mode, the cable's otherwise. */
static uint8_t modem_inputs(const struct uart16550 *u)
{
	uint8_t in = 0;

	if (!(u->mcr & UART_MCR_LOOP))
		return CABLE_INPUTS;
	if (u->mcr & UART_MCR_RTS)
		in |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_DTR)
		in |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_OUT1)
		in |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		in |= UART_MSR_DCD;
	return in;
}

/* Sets the delta bits for the inputs that moved since @before. */
static void modem_settle(struct uart16550 *u, uint8_t before)
{
	uint8_t after = modem_inputs(u), changed = before ^ after;

	if (changed & UART_MSR_CTS)
		u->msr_delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		u->msr_delta |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		u->msr_delta |= UART_MSR_DDCD;
	if ((before & UART_MSR_RI) && !(after & UART_MSR_RI)) /* trailing edge only */
		u->msr_delta |= UART_MSR_TERI;
}

/* ---- the receiver ---- */

static void fifo_clear(struct uart16550 *u)
{
	u->head = 0;
	u->tail = 0;
	u->count = 0;
}

/* One byte arrives: into the FIFO, or lost with an overrun. */
static void fifo_push(struct uart16550 *u, uint8_t byte)
{
	if (u->count >= u->depth) {
		u->overrun = true;
		return;
	}
	u->fifo[u->head] = byte;
	u->head = (uint8_t)((u->head + 1) % UART16550_FIFO_SIZE);
	u->count++;
}

static uint8_t fifo_pop(struct uart16550 *u)
{
	uint8_t byte;

	if (!u->count)
		return 0; /* an empty receiver reads 0 */
	byte = u->fifo[u->tail];
	u->tail = (uint8_t)((u->tail + 1) % UART16550_FIFO_SIZE);
	u->count--;
	return byte;
}

size_t uart16550_rx_room(const struct uart16550 *u)
{
	if (looped(u))
		return 0;
	return u->count < u->depth ? (size_t)(u->depth - u->count) : 0;
}

size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
	size_t room = uart16550_rx_room(u), n = len < room ? len : room;

	for (size_t i = 0; i < n; i++)
		fifo_push(u, buf[i]);
	return n;
}

/* ---- state ---- */

void uart16550_reset(struct uart16550 *u)
{
	const struct uart16550_host *host = u->host;

	memset(u, 0, sizeof(*u));
	u->host = host;
	u->depth = 1; /* FIFOs disabled */
}

void uart16550_init(struct uart16550 *u)
{
	u->host = NULL;
	uart16550_reset(u);
}

void uart16550_set_host(struct uart16550 *u, const struct uart16550_host *host)
{
	bool was_empty = thr_empty(u);

	u->host = host;
	tx_settle(u, was_empty);
}

unsigned int uart16550_pending(const struct uart16550 *u)
{
	unsigned int src = 0;

	if ((u->ier & UART_IER_RLSI) && u->overrun)
		src |= UART16550_SRC_RLS;
	if ((u->ier & UART_IER_RDI) && u->count)
		src |= UART16550_SRC_RDA;
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		src |= UART16550_SRC_THRE;
	if ((u->ier & UART_IER_MSI) && u->msr_delta)
		src |= UART16550_SRC_MS;
	return src;
}

bool uart16550_valid(const struct uart16550 *u)
{
	if (u->depth != 1 && u->depth != UART16550_FIFO_SIZE)
		return false;
	if (u->head >= UART16550_FIFO_SIZE || u->tail >= UART16550_FIFO_SIZE ||
	    u->count > u->depth || (u->tail + u->count) % UART16550_FIFO_SIZE != u->head)
		return false;
	return !(u->ier & ~UART16550_IER_BITS) && !(u->mcr & ~UART16550_MCR_BITS) &&
	       !(u->fcr & ~UART16550_FCR_BITS) && !(u->msr_delta & ~UART_MSR_ANY_DELTA);
}

/* ---- register reads ---- */

/* The highest-priority interrupt as IIR shows it; reading it acknowledges a THRE one. */
static uint8_t read_iir(struct uart16550 *u)
{
	unsigned int src = uart16550_pending(u);
	uint8_t iir;

	if (src & UART16550_SRC_RLS) {
		iir = UART_IIR_RLSI;
	} else if (src & UART16550_SRC_RDA) {
		iir = UART_IIR_RDI;
	} else if (src & UART16550_SRC_THRE) {
		iir = UART_IIR_THRI;
		u->thre_pending = false;
	} else if (src & UART16550_SRC_MS) {
		iir = UART_IIR_MSI;
	} else {
		iir = UART_IIR_NO_INT;
	}
	if (u->fcr & UART_FCR_ENABLE_FIFO)
		iir |= IIR_FIFO_BITS;
	return iir;
}

static uint8_t read_lsr(struct uart16550 *u)
{
	uint8_t lsr = 0;

	if (u->count)
		lsr |= UART_LSR_DR;
	if (u->overrun)
		lsr |= UART_LSR_OE;
	if (thr_empty(u))
		lsr |= UART_LSR_THRE | UART_LSR_TEMT;
	u->overrun = false; /* reading LSR clears the error bits */
	return lsr;
}

uint8_t uart16550_read(struct uart16550 *u, unsigned int reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB, was_empty = thr_empty(u);
	uint8_t val;

	switch (reg) {
	case UART_RX:
		if (dlab)
			return (uint8_t)u->divisor;
		val = fifo_pop(u);
		tx_settle(u, was_empty); /* a looped transmitter idles once all is read */
		return val;
	case UART_IER:
		return dlab ? (uint8_t)(u->divisor >> 8) : u->ier;
	case UART_IIR:
		return read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return read_lsr(u);
	case UART_MSR:
		val = modem_inputs(u) | u->msr_delta;
		u->msr_delta = 0;
		return val;
	case UART_SCR:
		return u->scr;
	default:
		return 0xff; /* not a register: nothing drives the bus */
	}
}

/* ---- register writes ---- */

static void write_thr(struct uart16550 *u, uint8_t byte)
{
	u->thre_pending = false; /* writing THR acknowledges the THRE interrupt */
	if (looped(u)) {
		fifo_push(u, byte); /* busy until the guest has read it back */
		return;
	}
	u->host->transmit(u->host->opaque, byte);
	u->thre_pending = true; /* the host side took it: idle again at once */
}

static void write_fcr(struct uart16550 *u, uint8_t val)
{
	bool was_empty = thr_empty(u);

	/* switching the FIFOs on or off, or asking for it, empties the receiver */
	if (((u->fcr ^ val) & UART_FCR_ENABLE_FIFO) || (val & UART_FCR_CLEAR_RCVR))
		fifo_clear(u);
	u->fcr = val & UART16550_FCR_BITS;
	u->depth = (val & UART_FCR_ENABLE_FIFO) ? UART16550_FIFO_SIZE : 1;
	/* UART_FCR_CLEAR_XMIT: the transmitter holds nothing to clear */
	tx_settle(u, was_empty);
}

static void write_mcr(struct uart16550 *u, uint8_t val)
{
	uint8_t inputs = modem_inputs(u);
	bool was_empty = thr_empty(u);

	u->mcr = val & UART16550_MCR_BITS;
	modem_settle(u, inputs);
	tx_settle(u, was_empty);
}

void uart16550_write(struct uart16550 *u, unsigned int reg, uint8_t val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_TX:
		if (dlab)
			u->divisor = (uint16_t)((u->divisor & 0xff00) | val);
		else
			write_thr(u, val);
		break;
	case UART_IER:
		if (dlab) {
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | val << 8);
			break;
		}
		/* enabling the THRE interrupt while the transmitter is idle raises it */
		if ((val & UART_IER_THRI) && thr_empty(u))
			u->thre_pending = true;
		u->ier = val & UART16550_IER_BITS;
		break;
	case UART_FCR:
		write_fcr(u, val);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		write_mcr(u, val);
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:
		break; /* LSR and MSR are read-only */
	}
}
