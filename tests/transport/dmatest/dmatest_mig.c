/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmatest's migration (VFIO migration v2, with STOP_COPY, P2P and PRE_COPY), after the
 * kernel's mtty sample: the driver walks the core's path to the target state one arc at a
 * time (vfio_mig_get_next_state()) and carries out each arc itself (step_locked()).
 *
 * Streams (dmatest.h has their format): STOP -> STOP_COPY opens a saving stream with the
 * header, the registers, config space and the BAR2 buffer; RUNNING(_P2P) -> PRE_COPY(_P2P)
 * opens one with the header only, whose VFIO_MIG_GET_PRECOPY_INFO gives the unread bytes as
 * initial_bytes, and PRE_COPY_P2P -> STOP_COPY appends the rest to it (no new stream);
 * STOP -> RESUMING opens a write-only stream, and RESUMING -> STOP checks it (-EINVAL for an
 * incomplete or inconsistent stream, the device staying in RESUMING) and loads it. Leaving
 * a saving state, and loading, disable the streams: their reads and writes fail with
 * -ENODEV. Entering a stopped state (STOP and the states past it) quiesces the device
 * (dmatest_quiesce_locked()).
 *
 * A stream is a struct vfio_mig_file whose private data is a struct dmatest_stream that does
 * not point back at the device: the core holds its own reference (the device's current
 * stream) and the client reads or writes it on its own thread, under the stream's lock, so
 * the stream may outlive the device's interest in it. The driver keeps a reference to its
 * open streams in s->saving and s->resuming (guarded by s->lock), dropped when it disables
 * them. Lock order: s->lock, then a stream's lock.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dmatest_priv.h"

#define HDR_SIZE sizeof(struct dmatest_mig_header)
#define REGS_SIZE sizeof(struct dmatest_mig_regs)

struct dmatest_stream {
	pthread_mutex_t lock; /* guards the fields below and data */
	size_t len;	      /* bytes filled (saving) or written (resuming) */
	size_t pos;	      /* bytes read (saving) */
	bool disabled;	      /* reads and writes fail with -ENODEV */
	bool precopy;	      /* the device is in PRE_COPY(_P2P): GET_PRECOPY_INFO answers */
	uint8_t data[DMATEST_MIG_STREAM_SIZE];
};

static struct dmatest_stream *to_stream(struct vfio_mig_file *file)
{
	return file->private_data;
}

/* ---- the stream's operations (the client's thread) ---- */

static ssize_t stream_read(struct vfio_mig_file *file, char *buf, size_t len)
{
	struct dmatest_stream *st = to_stream(file);
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
	struct dmatest_stream *st = to_stream(file);
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

/* Checks the header in the first HDR_SIZE bytes of @data. */
static int header_check(const uint8_t *data)
{
	struct dmatest_mig_header h;

	memcpy(&h, data, sizeof(h));
	if (le64toh(h.magic) != DMATEST_MIG_MAGIC || le32toh(h.version) != DMATEST_MIG_VERSION ||
	    h.flags != 0 || le64toh(h.length) != DMATEST_MIG_PAYLOAD_SIZE)
		return -EINVAL;
	return 0;
}

static ssize_t stream_write(struct vfio_mig_file *file, const char *buf, size_t len)
{
	struct dmatest_stream *st = to_stream(file);
	ssize_t ret = (ssize_t)len;
	size_t old;

	pthread_mutex_lock(&st->lock);
	old = st->len;
	if (st->disabled) {
		ret = -ENODEV;
	} else if (len > sizeof(st->data) - old) {
		ret = -ENOMEM; /* more than a stream holds, as mtty answers */
	} else {
		memcpy(st->data + old, buf, len);
		st->len += len;
		/* refuse a wrong header as soon as it is complete */
		if (old < HDR_SIZE && st->len >= HDR_SIZE && header_check(st->data)) {
			st->len = old;
			ret = -EINVAL;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static void stream_release(struct vfio_mig_file *file)
{
	struct dmatest_stream *st = to_stream(file);

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

bool dmatest_running_locked(const struct dmatest_state *s)
{
	return state_runs((unsigned int)s->mig_state);
}

/* A new stream with one reference, or NULL. */
static struct vfio_mig_file *stream_new(const struct vfio_mig_file_ops *ops)
{
	struct dmatest_stream *st = calloc(1, sizeof(*st));
	struct vfio_mig_file *file;

	if (!st)
		return NULL;
	pthread_mutex_init(&st->lock, NULL);
	file = vfio_mig_file_alloc(ops, st);
	if (!file) {
		pthread_mutex_destroy(&st->lock);
		free(st);
	}
	return file;
}

static void stream_disable(struct vfio_mig_file **slot)
{
	struct dmatest_stream *st;

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

static void streams_disable_locked(struct dmatest_state *s)
{
	stream_disable(&s->saving);
	stream_disable(&s->resuming);
}

void dmatest_mig_reset_locked(struct dmatest_state *s)
{
	streams_disable_locked(s);
	s->mig_state = VFIO_DEVICE_STATE_RUNNING;
}

/* The header, for a payload that follows (or will follow) it. */
static void put_header(uint8_t *p)
{
	struct dmatest_mig_header h = {
		.magic = htole64(DMATEST_MIG_MAGIC),
		.version = htole32(DMATEST_MIG_VERSION),
		.flags = 0,
		.length = htole64(DMATEST_MIG_PAYLOAD_SIZE),
	};

	memcpy(p, &h, sizeof(h));
}

/* The payload: registers, config space, buffer (DMATEST_MIG_PAYLOAD_SIZE bytes). */
static void put_payload(const struct dmatest_state *s, uint8_t *p)
{
	const struct dmatest_regs *r = &s->regs;
	struct dmatest_mig_regs m = {
		.dma_addr = htole64(r->dma_addr),
		.dma_len = htole32(r->dma_len),
		.dma_buf_off = htole32(r->dma_buf_off),
		.dma_ctrl = htole32(r->dma_ctrl),
		.dma_status = htole32(r->dma_status),
		.irq_status = htole32(r->irq_status),
		.unmap_calls = htole32(r->unmap_calls),
		.scratch = htole64(r->scratch),
		.xfer_count = htole64(r->xfer_count),
		.unmap_pages = htole64(r->unmap_pages),
		.reserved = 0,
	};

	memcpy(p, &m, REGS_SIZE);
	memcpy(p + REGS_SIZE, s->config, DMATEST_CONFIG_SIZE);
	memcpy(p + REGS_SIZE + DMATEST_CONFIG_SIZE, s->buf, DMATEST_BAR2_SIZE);
}

/* STOP -> STOP_COPY (@payload) or RUNNING(_P2P) -> PRE_COPY(_P2P): a new saving stream. */
static struct vfio_mig_file *save_open(struct dmatest_state *s, bool payload)
{
	struct vfio_mig_file *file = stream_new(&saving_ops);
	struct dmatest_stream *st;

	if (!file)
		return ERR_PTR(-ENOMEM);
	st = to_stream(file);
	put_header(st->data);
	st->len = HDR_SIZE;
	if (payload) {
		put_payload(s, st->data + HDR_SIZE);
		st->len = DMATEST_MIG_STREAM_SIZE;
	} else {
		st->precopy = true;
	}
	/* nobody else sees the stream yet: no need for its lock */
	streams_disable_locked(s);
	s->saving = file;
	return vfio_mig_file_get(file); /* the core's reference */
}

/* PRE_COPY(_P2P) -> STOP_COPY: the rest of the data, after the header already given. */
static struct vfio_mig_file *save_append(struct dmatest_state *s)
{
	struct dmatest_stream *st;

	if (!s->saving)
		return ERR_PTR(-EINVAL);
	st = to_stream(s->saving);
	pthread_mutex_lock(&st->lock);
	put_payload(s, st->data + HDR_SIZE);
	st->len = DMATEST_MIG_STREAM_SIZE;
	st->precopy = false;
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

static struct vfio_mig_file *resume_open(struct dmatest_state *s)
{
	struct vfio_mig_file *file = stream_new(&resuming_ops);

	if (!file)
		return ERR_PTR(-ENOMEM);
	streams_disable_locked(s);
	s->resuming = file;
	return vfio_mig_file_get(file);
}

/* RESUMING -> STOP: checks the whole stream, then loads it; -EINVAL and nothing changed. */
static int resume_load(struct dmatest_state *s)
{
	struct dmatest_mig_regs m;
	struct dmatest_stream *st;
	struct dmatest_regs *r = &s->regs;
	int ret = -EINVAL;

	if (!s->resuming)
		return -EINVAL;
	st = to_stream(s->resuming);
	pthread_mutex_lock(&st->lock);
	if (st->len != DMATEST_MIG_STREAM_SIZE || header_check(st->data))
		goto out_unlock;
	memcpy(&m, st->data + HDR_SIZE, sizeof(m));
	if (m.reserved)
		goto out_unlock;
	r->dma_addr = le64toh(m.dma_addr);
	r->dma_len = le32toh(m.dma_len);
	r->dma_buf_off = le32toh(m.dma_buf_off);
	r->dma_ctrl = le32toh(m.dma_ctrl) & DMATEST_CTRL_STORED;
	r->dma_status = le32toh(m.dma_status);
	r->irq_status = le32toh(m.irq_status) & DMATEST_IRQ_STATUS_PENDING;
	r->unmap_calls = le32toh(m.unmap_calls);
	r->scratch = le64toh(m.scratch);
	r->xfer_count = le64toh(m.xfer_count);
	r->unmap_pages = le64toh(m.unmap_pages);
	dmatest_config_load(s->config, st->data + HDR_SIZE + REGS_SIZE);
	memcpy(s->buf, st->data + HDR_SIZE + REGS_SIZE + DMATEST_CONFIG_SIZE, DMATEST_BAR2_SIZE);
	ret = 0;
out_unlock:
	pthread_mutex_unlock(&st->lock);
	return ret;
}

/*
 * Carries out one arc from s->mig_state to @next (mtty_step_state()); returns the stream it
 * opens, NULL, or ERR_PTR(-errno). Pins that a stop takes back are appended to @pins.
 */
static struct vfio_mig_file *step_locked(struct dmatest_state *s, unsigned int next,
					 struct dmatest_pinset *pins, int *npins)
{
	unsigned int cur = (unsigned int)s->mig_state;
	int ret;

	if (state_runs(cur) && !state_runs(next))
		*npins += dmatest_quiesce_locked(s, pins + *npins);

	switch (cur) {
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

static struct vfio_mig_file *dmatest_set_state(struct vfio_device *vdev,
					       enum vfio_device_mig_state new_state)
{
	struct dmatest_state *s = to_dmatest(vdev);
	struct dmatest_pinset pins[4]; /* a path enters the stopped states once */
	struct vfio_mig_file *res = NULL;
	enum vfio_device_mig_state next;
	int npins = 0, ret;

	pthread_mutex_lock(&s->lock);
	while (s->mig_state != new_state) {
		ret = vfio_mig_get_next_state(vdev, s->mig_state, new_state, &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = step_locked(s, (unsigned int)next, pins, &npins);
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
	pthread_mutex_unlock(&s->lock);
	dmatest_unpin(s, pins, npins);
	return res;
}

static int dmatest_get_state(struct vfio_device *vdev, enum vfio_device_mig_state *curr_state)
{
	struct dmatest_state *s = to_dmatest(vdev);

	pthread_mutex_lock(&s->lock);
	*curr_state = s->mig_state;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int dmatest_get_data_size(struct vfio_device *vdev, unsigned long *stop_copy_length)
{
	(void)vdev;
	*stop_copy_length = DMATEST_MIG_STREAM_SIZE;
	return 0;
}

const struct vfio_migration_ops dmatest_mig_ops = {
	.migration_set_state = dmatest_set_state,
	.migration_get_state = dmatest_get_state,
	.migration_get_data_size = dmatest_get_data_size,
};
