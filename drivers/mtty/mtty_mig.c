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
 * A stream is a struct vfio_mig_file whose private data (struct mtty_stream) does not point
 * back at the device: the core holds its own reference and the client reads or writes it on
 * its own thread, under the stream's lock. The device keeps a reference to its open streams
 * in s->saving and s->resuming (s->lock), dropped when it disables them. Lock order: s->lock,
 * then a stream's lock.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mtty_priv.h"

#define HDR_SIZE sizeof(struct mtty_mig_header)
#define PORT_SIZE sizeof(struct mtty_mig_port)

struct mtty_stream {
	pthread_mutex_t lock;	/* guards the fields below and data */
	unsigned int nr_ports;	/* the device's: what the header must say */
	size_t len;		/* bytes filled (saving) or written (resuming) */
	size_t pos;		/* bytes read (saving) */
	bool disabled;		/* reads and writes fail with -ENODEV */
	bool precopy;		/* the device is in PRE_COPY(_P2P): GET_PRECOPY_INFO answers */
	uint8_t data[MTTY_MIG_SIZE(MTTY_MAX_PORTS)];
};

static struct mtty_stream *to_stream(struct vfio_mig_file *file)
{
	return file->private_data;
}

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

/* ---- the stream's operations (the client's thread) ---- */

static ssize_t stream_read(struct vfio_mig_file *file, char *buf, size_t len)
{
	struct mtty_stream *st = to_stream(file);
	ssize_t ret;

	pthread_mutex_lock(&st->lock);
	if (st->disabled) {
		ret = -ENODEV;
	} else {
		size_t n = st->len - st->pos < len ? st->len - st->pos : len;

		memcpy(buf, st->data + st->pos, n);
		st->pos += n;
		ret = (ssize_t)n;
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static long stream_ioctl(struct vfio_mig_file *file, unsigned int cmd, unsigned long arg)
{
	struct vfio_precopy_info *info = (struct vfio_precopy_info *)arg;
	size_t minsz = offsetof(struct vfio_precopy_info, dirty_bytes) + sizeof(info->dirty_bytes);
	struct mtty_stream *st = to_stream(file);
	long ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (!info || info->argsz < minsz)
		return -EINVAL;
	pthread_mutex_lock(&st->lock);
	if (!st->precopy) {
		ret = -EINVAL;
	} else if (st->disabled) {
		ret = -ENODEV;
	} else {
		info->initial_bytes = st->len - st->pos;
		info->dirty_bytes = 0;
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static ssize_t stream_write(struct vfio_mig_file *file, const char *buf, size_t len)
{
	struct mtty_stream *st = to_stream(file);
	size_t size = MTTY_MIG_SIZE(st->nr_ports), old;
	ssize_t ret = (ssize_t)len;

	pthread_mutex_lock(&st->lock);
	old = st->len;
	if (st->disabled) {
		ret = -ENODEV;
	} else if (len > size - old) {
		ret = -ENOMEM; /* more than the device's state, as the sample answers */
	} else {
		memcpy(st->data + old, buf, len);
		st->len += len;
		/* refuse a stream of another device as soon as its header is complete */
		if (old < HDR_SIZE && st->len >= HDR_SIZE && header_check(st->data, st->nr_ports)) {
			st->len = old;
			ret = -EFAULT;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static void stream_release(struct vfio_mig_file *file)
{
	struct mtty_stream *st = to_stream(file);

	pthread_mutex_destroy(&st->lock);
	free(st);
}

static const struct vfio_mig_file_ops saving_ops = {
	.read = stream_read,
	.ioctl = stream_ioctl,
	.release = stream_release,
};

static const struct vfio_mig_file_ops resuming_ops = {
	.write = stream_write,
	.release = stream_release,
};

/* ---- the device's side (s->lock held) ---- */

static bool state_runs(unsigned int state)
{
	return state == VFIO_DEVICE_STATE_RUNNING || state == VFIO_DEVICE_STATE_RUNNING_P2P ||
	       state == VFIO_DEVICE_STATE_PRE_COPY || state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

bool mtty_running_locked(const struct mtty_state *s)
{
	return state_runs((unsigned int)s->mig_state);
}

/* A new stream with one reference, or NULL. */
static struct vfio_mig_file *stream_new(const struct vfio_mig_file_ops *ops,
					unsigned int nr_ports)
{
	struct mtty_stream *st = calloc(1, sizeof(*st));
	struct vfio_mig_file *file;

	if (!st)
		return NULL;
	pthread_mutex_init(&st->lock, NULL);
	st->nr_ports = nr_ports;
	file = vfio_mig_file_alloc(ops, st);
	if (!file) {
		pthread_mutex_destroy(&st->lock);
		free(st);
	}
	return file;
}

static void stream_disable(struct vfio_mig_file **slot)
{
	struct mtty_stream *st;

	if (!*slot)
		return;
	st = to_stream(*slot);
	pthread_mutex_lock(&st->lock);
	st->disabled = true;
	st->precopy = false;
	pthread_mutex_unlock(&st->lock);
	vfio_mig_file_put(*slot);
	*slot = NULL;
}

static void streams_disable_locked(struct mtty_state *s)
{
	stream_disable(&s->saving);
	stream_disable(&s->resuming);
}

void mtty_mig_reset_locked(struct mtty_state *s)
{
	streams_disable_locked(s);
	s->mig_state = VFIO_DEVICE_STATE_RUNNING;
}

/* Appends the ports to a saving stream that holds the header (caller holds its lock). */
static void put_ports(const struct mtty_state *s, struct mtty_stream *st)
{
	for (unsigned int i = 0; i < s->nr_ports; i++)
		port_encode(&s->port[i].uart, st->data + HDR_SIZE + i * PORT_SIZE);
	st->len = MTTY_MIG_SIZE(s->nr_ports);
	st->precopy = false;
}

/* STOP -> STOP_COPY (@ports) or RUNNING(_P2P) -> PRE_COPY(_P2P): a new saving stream. */
static struct vfio_mig_file *save_open(struct mtty_state *s, bool ports)
{
	struct vfio_mig_file *file = stream_new(&saving_ops, s->nr_ports);
	struct mtty_stream *st;

	if (!file)
		return ERR_PTR(-ENOMEM);
	st = to_stream(file);
	/* nobody else sees the stream yet: no need for its lock */
	header_encode(st->data, s->nr_ports);
	st->len = HDR_SIZE;
	if (ports)
		put_ports(s, st);
	else
		st->precopy = true;
	streams_disable_locked(s);
	s->saving = file;
	return vfio_mig_file_get(file); /* the core's reference */
}

/* PRE_COPY_P2P -> STOP_COPY: the ports, after the header already given. */
static struct vfio_mig_file *save_append(struct mtty_state *s)
{
	struct mtty_stream *st;

	if (!s->saving)
		return ERR_PTR(-EINVAL);
	st = to_stream(s->saving);
	pthread_mutex_lock(&st->lock);
	put_ports(s, st);
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

static struct vfio_mig_file *resume_open(struct mtty_state *s)
{
	struct vfio_mig_file *file = stream_new(&resuming_ops, s->nr_ports);

	if (!file)
		return ERR_PTR(-ENOMEM);
	streams_disable_locked(s);
	s->resuming = file;
	return vfio_mig_file_get(file);
}

/* RESUMING -> STOP: checks the whole stream, then loads it; -EINVAL and nothing changed. */
static int resume_load(struct mtty_state *s)
{
	struct uart16550 loaded[MTTY_MAX_PORTS];
	struct mtty_stream *st;
	int ret = -EINVAL;

	if (!s->resuming)
		return -EINVAL;
	st = to_stream(s->resuming);
	pthread_mutex_lock(&st->lock);
	if (st->len != MTTY_MIG_SIZE(s->nr_ports) || header_check(st->data, s->nr_ports))
		goto out_unlock;
	for (unsigned int i = 0; i < s->nr_ports; i++) {
		loaded[i] = s->port[i].uart;
		if (port_decode(st->data + HDR_SIZE + i * PORT_SIZE, &loaded[i]))
			goto out_unlock;
	}
	for (unsigned int i = 0; i < s->nr_ports; i++)
		s->port[i].uart = loaded[i];
	mtty_irq_forget_locked(s); /* what is pending is delivered when the device runs */
	ret = 0;
out_unlock:
	pthread_mutex_unlock(&st->lock);
	return ret;
}

/* Carries out one arc of the core's table (mtty's step); the stream it opens, NULL, or
 * ERR_PTR(-errno). */
static struct vfio_mig_file *step_locked(struct mtty_state *s, unsigned int next)
{
	int ret;

	switch ((unsigned int)s->mig_state) {
	case VFIO_DEVICE_STATE_RUNNING:
		if (next == VFIO_DEVICE_STATE_PRE_COPY)
			return save_open(s, false);
		if (next == VFIO_DEVICE_STATE_RUNNING_P2P || next == VFIO_DEVICE_STATE_STOP)
			return NULL;
		break;
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		if (next == VFIO_DEVICE_STATE_PRE_COPY_P2P)
			return save_open(s, false);
		if (next == VFIO_DEVICE_STATE_RUNNING || next == VFIO_DEVICE_STATE_STOP)
			return NULL;
		break;
	case VFIO_DEVICE_STATE_STOP:
		if (next == VFIO_DEVICE_STATE_STOP_COPY)
			return save_open(s, true);
		if (next == VFIO_DEVICE_STATE_RESUMING)
			return resume_open(s);
		if (next == VFIO_DEVICE_STATE_RUNNING || next == VFIO_DEVICE_STATE_RUNNING_P2P)
			return NULL;
		break;
	case VFIO_DEVICE_STATE_PRE_COPY:
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		if (next == VFIO_DEVICE_STATE_PRE_COPY || next == VFIO_DEVICE_STATE_PRE_COPY_P2P)
			return NULL;
		if (next == VFIO_DEVICE_STATE_STOP_COPY)
			return save_append(s);
		if (next == VFIO_DEVICE_STATE_RUNNING || next == VFIO_DEVICE_STATE_RUNNING_P2P) {
			streams_disable_locked(s);
			return NULL;
		}
		break;
	case VFIO_DEVICE_STATE_STOP_COPY:
		if (next == VFIO_DEVICE_STATE_STOP) {
			streams_disable_locked(s);
			return NULL;
		}
		break;
	case VFIO_DEVICE_STATE_RESUMING:
		if (next == VFIO_DEVICE_STATE_STOP) {
			ret = resume_load(s);
			if (ret)
				return ERR_PTR(ret);
			streams_disable_locked(s);
			return NULL;
		}
		break;
	default:
		break;
	}
	return ERR_PTR(-EINVAL); /* not an arc of the core's table */
}

static struct vfio_mig_file *mtty_set_state(struct vfio_device *vdev,
					    enum vfio_device_mig_state new_state)
{
	struct mtty_state *s = vdev_to_mtty(vdev);
	struct vfio_mig_file *res = NULL;
	enum vfio_device_mig_state next;
	bool ran;
	int ret;

	pthread_mutex_lock(&s->lock);
	ran = mtty_running_locked(s);
	while (s->mig_state != new_state) {
		ret = vfio_mig_get_next_state(vdev, s->mig_state, new_state, &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = step_locked(s, (unsigned int)next);
		if (IS_ERR(res))
			break;
		s->mig_state = next;
		/* only the last arc of a path may open a stream */
		if (res && next != new_state) {
			vfio_mig_file_put(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
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
	*curr_state = s->mig_state;
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
