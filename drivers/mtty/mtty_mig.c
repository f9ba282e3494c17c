/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty's migration: VFIO migration v2 with STOP_COPY, P2P and PRE_COPY, in the kernel
 * sample's stream format (mtty.h) and with its arcs:
 *   - RUNNING <-> RUNNING_P2P, RUNNING_P2P <-> STOP, PRE_COPY <-> PRE_COPY_P2P: nothing to
 *     do but start or stop the device (a stopped mtty neither receives from its backends
 *     nor interrupts: bytes wait on the host side);
 *   - RUNNING(_P2P) -> PRE_COPY(_P2P): a saving stream with the header only, whose
 *     VFIO_MIG_GET_PRECOPY_INFO reports the unread bytes as initial_bytes (the header lets
 *     the destination refuse an incompatible stream early);
 *   - PRE_COPY_P2P -> STOP_COPY: the ports are appended to that stream (no new one);
 *   - STOP -> STOP_COPY: a saving stream with the header and the ports;
 *   - STOP -> RESUMING: a write-only stream. Writes past the expected size are -ENOMEM; once
 *     the header is complete a wrong magic, version, flags or port count is -EFAULT (and the
 *     write is not kept). RESUMING -> STOP loads it: -EINVAL, the device staying in RESUMING,
 *     for a stream that is short or whose ports hold values a 16550A cannot have;
 *   - leaving a saving state, and loading, disable the streams: their reads and writes
 *     fail with -ENODEV.
 * The UARTs' host wiring is not part of the stream: each device keeps its own backends.
 *
 * The streams and the walk along the core's table are drivers/common/drv_mig.c's; this file
 * has the format (the header's variant is the port count) and the device's side of each
 * arc. drv_mig calls back with s->lock held; lock order: s->lock, then a stream's lock.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "mtty_priv.h"

#define HDR_SIZE sizeof(struct mtty_mig_header)
#define PORT_SIZE sizeof(struct mtty_mig_port)

/* ---- the format ---- */

static void header_encode(uint8_t *p, unsigned int nr_ports)
{
	struct mtty_mig_header h = {
		.magic = htole64(MTTY_MIG_MAGIC),
		.major = htole32(MTTY_MIG_MAJOR),
		.minor = htole32(MTTY_MIG_MINOR),
		.nr_ports = htole32(nr_ports),
		.flags = 0,
	};

	memcpy(p, &h, sizeof(h));
}

/* 0, or -EFAULT (the sample's answer) for a header that is not for this device. */
static int header_check(const uint8_t *p, unsigned int nr_ports)
{
	struct mtty_mig_header h;

	memcpy(&h, p, sizeof(h));
	if (le64toh(h.magic) != MTTY_MIG_MAGIC || le32toh(h.major) != MTTY_MIG_MAJOR ||
	    le32toh(h.minor) != MTTY_MIG_MINOR || le32toh(h.nr_ports) != nr_ports || h.flags)
		return -EFAULT;
	return 0;
}

static void port_encode(const struct uart16550 *u, uint8_t *p)
{
	struct mtty_mig_port m;

	memset(&m, 0, sizeof(m));
	m.uart_reg[UART_IER] = u->ier;
	m.uart_reg[UART_IIR] = u->thre_pending ? UART_IIR_THRI : 0;
	m.uart_reg[UART_LCR] = u->lcr;
	m.uart_reg[UART_MCR] = u->mcr;
	m.uart_reg[UART_MSR] = u->msr_delta;
	m.uart_reg[UART_SCR] = u->scr;
	memcpy(m.fifo, u->fifo, sizeof(m.fifo));
	m.head = u->head;
	m.tail = u->tail;
	m.count = u->count;
	m.dlab = !!(u->lcr & UART_LCR_DLAB);
	m.overrun = u->overrun;
	m.divisor = htole16(u->divisor);
	m.fcr = u->fcr;
	m.max_fifo_size = u->depth;
	m.intr_trigger_level = 1; /* data is reported from the first byte */
	memcpy(p, &m, sizeof(m));
}

/*
 * Decodes one port into @u (whose wiring is kept): -EINVAL for values the model cannot have.
 * Bits the chip does not keep are dropped, as the sample keeps whole bytes there.
 */
static int port_decode(const uint8_t *p, struct uart16550 *u)
{
	struct mtty_mig_port m;
	struct uart16550 v = { .host = u->host };

	memcpy(&m, p, sizeof(m));
	if (m.dlab > 1 || m.overrun > 1 || m.dlab != !!(m.uart_reg[UART_LCR] & UART_LCR_DLAB) ||
	    m.intr_trigger_level > m.max_fifo_size)
		return -EINVAL;
	v.ier = m.uart_reg[UART_IER] & UART16550_IER_BITS;
	v.lcr = m.uart_reg[UART_LCR];
	v.mcr = m.uart_reg[UART_MCR] & UART16550_MCR_BITS;
	v.scr = m.uart_reg[UART_SCR];
	v.fcr = m.fcr & UART16550_FCR_BITS;
	v.divisor = le16toh(m.divisor);
	v.msr_delta = m.uart_reg[UART_MSR] & UART_MSR_ANY_DELTA;
	v.overrun = m.overrun;
	v.thre_pending = m.uart_reg[UART_IIR] & UART_IIR_THRI;
	memcpy(v.fifo, m.fifo, sizeof(v.fifo));
	v.head = m.head;
	v.tail = m.tail;
	v.count = m.count;
	v.depth = m.max_fifo_size;
	if (!uart16550_valid(&v))
		return -EINVAL;
	*u = v;
	return 0;
}

/* ---- drv_mig's callbacks (s->lock held) ---- */

static void ports_put(void *dev, uint8_t *payload)
{
	const struct mtty_state *s = dev;

	for (unsigned int i = 0; i < s->nr_ports; i++)
		port_encode(&s->port[i].uart, payload + i * PORT_SIZE);
}

/* Checks every port, then loads them all; -EINVAL and nothing changed. */
static int ports_load(void *dev, const uint8_t *payload)
{
	struct uart16550 loaded[MTTY_MAX_PORTS];
	struct mtty_state *s = dev;

	for (unsigned int i = 0; i < s->nr_ports; i++) {
		loaded[i] = s->port[i].uart;
		if (port_decode(payload + i * PORT_SIZE, &loaded[i]))
			return -EINVAL;
	}
	for (unsigned int i = 0; i < s->nr_ports; i++)
		s->port[i].uart = loaded[i];
	mtty_irq_forget_locked(s); /* what is pending is delivered when the device runs */
	return 0;
}

static const struct drv_mig_ops mtty_stream_ops = {
	.header_size = HDR_SIZE,
	.header_put = header_encode,
	.header_check = header_check,
	.payload_put = ports_put,
	.payload_load = ports_load,
};

/* ---- the device's side ---- */

void mtty_mig_init(struct mtty_state *s)
{
	drv_mig_init(&s->mig, &mtty_stream_ops, MTTY_MIG_SIZE(s->nr_ports), s->nr_ports);
}

bool mtty_running_locked(const struct mtty_state *s)
{
	return drv_mig_running(&s->mig);
}

void mtty_mig_reset_locked(struct mtty_state *s)
{
	drv_mig_reset(&s->mig);
}

static struct vfio_mig_file *mtty_set_state(struct vfio_device *vdev,
					    enum vfio_device_mig_state new_state)
{
	struct mtty_state *s = vdev_to_mtty(vdev);
	struct vfio_mig_file *res;
	bool ran;

	pthread_mutex_lock(&s->lock);
	ran = mtty_running_locked(s);
	res = drv_mig_set_state(&s->mig, vdev, new_state, s);
	if (!ran && mtty_running_locked(s)) {
		/* running again: receive what waited, deliver what is pending */
		mtty_io_kick_locked(s);
		mtty_irq_update_locked(s);
	}
	pthread_mutex_unlock(&s->lock);
	return res;
}

static int mtty_get_state(struct vfio_device *vdev, enum vfio_device_mig_state *curr_state)
{
	struct mtty_state *s = vdev_to_mtty(vdev);

	pthread_mutex_lock(&s->lock);
	*curr_state = s->mig.state;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int mtty_get_data_size(struct vfio_device *vdev, unsigned long *stop_copy_length)
{
	*stop_copy_length = MTTY_MIG_SIZE(vdev_to_mtty(vdev)->nr_ports);
	return 0;
}

const struct vfio_migration_ops mtty_mig_ops = {
	.migration_set_state = mtty_set_state,
	.migration_get_state = mtty_get_state,
	.migration_get_data_size = mtty_get_data_size,
};
