/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The migration streams and arcs of drv_mig.h. A stream (struct drv_mig_stream) is the
 * private data of a struct vfio_mig_file: a buffer of the device's stream size, filled by
 * the device (saving) or by the client (resuming), with the few facts about the format that
 * the client's thread needs to check a header, copied in so that it never reaches the device.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "drv_mig.h"

struct drv_mig_stream {
	pthread_mutex_t lock; /* guards the fields below and data */
	size_t size;	      /* what the device's stream holds, header included */
	size_t header_size;
	int (*header_check)(const uint8_t *hdr, unsigned int variant);
	unsigned int variant;
	size_t len;    /* bytes filled (saving) or written (resuming) */
	size_t pos;    /* bytes read (saving) */
	bool disabled; /* reads and writes fail with -ENODEV */
	bool precopy;  /* the device is in PRE_COPY(_P2P): GET_PRECOPY_INFO answers */
	uint8_t data[];
};

static struct drv_mig_stream *to_stream(struct vfio_mig_file *file)
{
	return file->private_data;
}

/* ---- the stream's operations (the client's thread) ---- */

static ssize_t stream_read(struct vfio_mig_file *file, char *buf, size_t len)
{
	struct drv_mig_stream *st = to_stream(file);
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
	struct drv_mig_stream *st = to_stream(file);
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
	struct drv_mig_stream *st = to_stream(file);
	ssize_t ret = (ssize_t)len;
	size_t old;
	int err;

	pthread_mutex_lock(&st->lock);
	old = st->len;
	if (st->disabled) {
		ret = -ENODEV;
	} else if (len > st->size - old) {
		ret = -ENOMEM; /* more than the device's state, as mtty answers */
	} else {
		memcpy(st->data + old, buf, len);
		st->len += len;
		/* refuse a stream of another device as soon as its header is complete */
		if (old < st->header_size && st->len >= st->header_size) {
			err = st->header_check(st->data, st->variant);
			if (err) {
				st->len = old;
				ret = err;
			}
		}
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static void stream_release(struct vfio_mig_file *file)
{
	struct drv_mig_stream *st = to_stream(file);

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

/* ---- the device's side (the driver's device lock held) ---- */

void drv_mig_init(struct drv_mig *m, const struct drv_mig_ops *ops, size_t stream_size,
		  unsigned int variant)
{
	memset(m, 0, sizeof(*m));
	m->ops = ops;
	m->stream_size = stream_size;
	m->variant = variant;
	m->state = VFIO_DEVICE_STATE_RUNNING;
}

bool drv_mig_state_runs(enum vfio_device_mig_state state)
{
	return state == VFIO_DEVICE_STATE_RUNNING || state == VFIO_DEVICE_STATE_RUNNING_P2P ||
	       state == VFIO_DEVICE_STATE_PRE_COPY || state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

bool drv_mig_running(const struct drv_mig *m)
{
	return drv_mig_state_runs(m->state);
}

/* A new stream with one reference, or NULL. */
static struct vfio_mig_file *stream_new(const struct drv_mig *m,
					const struct vfio_mig_file_ops *ops)
{
	struct drv_mig_stream *st = calloc(1, sizeof(*st) + m->stream_size);
	struct vfio_mig_file *file;

	if (!st)
		return NULL;
	pthread_mutex_init(&st->lock, NULL);
	st->size = m->stream_size;
	st->header_size = m->ops->header_size;
	st->header_check = m->ops->header_check;
	st->variant = m->variant;
	file = vfio_mig_file_alloc(ops, st);
	if (!file) {
		pthread_mutex_destroy(&st->lock);
		free(st);
	}
	return file;
}

static void stream_disable(struct vfio_mig_file **slot)
{
	struct drv_mig_stream *st;

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

static void streams_disable(struct drv_mig *m)
{
	stream_disable(&m->saving);
	stream_disable(&m->resuming);
}

void drv_mig_reset(struct drv_mig *m)
{
	streams_disable(m);
	m->state = VFIO_DEVICE_STATE_RUNNING;
}

/* Appends the payload to a saving stream that holds the header (its lock held, or unseen). */
static void put_payload(struct drv_mig *m, struct drv_mig_stream *st, void *dev)
{
	m->ops->payload_put(dev, st->data + m->ops->header_size);
	st->len = m->stream_size;
	st->precopy = false;
}

/* STOP -> STOP_COPY (@payload) or RUNNING(_P2P) -> PRE_COPY(_P2P): a new saving stream. */
static struct vfio_mig_file *save_open(struct drv_mig *m, bool payload, void *dev)
{
	struct vfio_mig_file *file = stream_new(m, &saving_ops);
	struct drv_mig_stream *st;

	if (!file)
		return ERR_PTR(-ENOMEM);
	st = to_stream(file);
	/* nobody else sees the stream yet: no need for its lock */
	m->ops->header_put(st->data, m->variant);
	st->len = m->ops->header_size;
	if (payload)
		put_payload(m, st, dev);
	else
		st->precopy = true;
	streams_disable(m);
	m->saving = file;
	return vfio_mig_file_get(file); /* the core's reference */
}

/* PRE_COPY_P2P -> STOP_COPY: the payload, after the header already given. */
static struct vfio_mig_file *save_append(struct drv_mig *m, void *dev)
{
	struct drv_mig_stream *st;

	if (!m->saving)
		return ERR_PTR(-EINVAL);
	st = to_stream(m->saving);
	pthread_mutex_lock(&st->lock);
	put_payload(m, st, dev);
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

static struct vfio_mig_file *resume_open(struct drv_mig *m)
{
	struct vfio_mig_file *file = stream_new(m, &resuming_ops);

	if (!file)
		return ERR_PTR(-ENOMEM);
	streams_disable(m);
	m->resuming = file;
	return vfio_mig_file_get(file);
}

/* RESUMING -> STOP: checks the whole stream, then loads it; -EINVAL and nothing changed. */
static int resume_load(struct drv_mig *m, void *dev)
{
	struct drv_mig_stream *st;
	int ret = -EINVAL;

	if (!m->resuming)
		return -EINVAL;
	st = to_stream(m->resuming);
	pthread_mutex_lock(&st->lock);
	if (st->len == m->stream_size && !m->ops->header_check(st->data, m->variant))
		ret = m->ops->payload_load(dev, st->data + m->ops->header_size);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

/* Carries out one arc of the core's table; the stream it opens, NULL, or ERR_PTR(-errno). */
static struct vfio_mig_file *step(struct drv_mig *m, enum vfio_device_mig_state next,
				  void *dev)
{
	int ret;

	if (m->ops->stopping && drv_mig_state_runs(m->state) && !drv_mig_state_runs(next))
		m->ops->stopping(dev);

	switch ((unsigned int)m->state) { /* the uapi enum may lack PRE_COPY */
	case VFIO_DEVICE_STATE_RUNNING:
		if (next == VFIO_DEVICE_STATE_PRE_COPY)
			return save_open(m, false, dev);
		if (next == VFIO_DEVICE_STATE_RUNNING_P2P || next == VFIO_DEVICE_STATE_STOP)
			return NULL;
		break;
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		if (next == VFIO_DEVICE_STATE_PRE_COPY_P2P)
			return save_open(m, false, dev);
		if (next == VFIO_DEVICE_STATE_RUNNING || next == VFIO_DEVICE_STATE_STOP)
			return NULL;
		break;
	case VFIO_DEVICE_STATE_STOP:
		if (next == VFIO_DEVICE_STATE_STOP_COPY)
			return save_open(m, true, dev);
		if (next == VFIO_DEVICE_STATE_RESUMING)
			return resume_open(m);
		if (next == VFIO_DEVICE_STATE_RUNNING || next == VFIO_DEVICE_STATE_RUNNING_P2P)
			return NULL;
		break;
	case VFIO_DEVICE_STATE_PRE_COPY:
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		if (next == VFIO_DEVICE_STATE_PRE_COPY || next == VFIO_DEVICE_STATE_PRE_COPY_P2P)
			return NULL;
		if (next == VFIO_DEVICE_STATE_STOP_COPY)
			return save_append(m, dev);
		if (next == VFIO_DEVICE_STATE_RUNNING || next == VFIO_DEVICE_STATE_RUNNING_P2P) {
			streams_disable(m);
			return NULL;
		}
		break;
	case VFIO_DEVICE_STATE_STOP_COPY:
		if (next == VFIO_DEVICE_STATE_STOP) {
			streams_disable(m);
			return NULL;
		}
		break;
	case VFIO_DEVICE_STATE_RESUMING:
		if (next == VFIO_DEVICE_STATE_STOP) {
			ret = resume_load(m, dev);
			if (ret)
				return ERR_PTR(ret);
			streams_disable(m);
			return NULL;
		}
		break;
	default:
		break;
	}
	return ERR_PTR(-EINVAL); /* not an arc of the core's table */
}

struct vfio_mig_file *drv_mig_set_state(struct drv_mig *m, struct vfio_device *vdev,
					enum vfio_device_mig_state new_state, void *dev)
{
	struct vfio_mig_file *res = NULL;
	enum vfio_device_mig_state next;
	int ret;

	while (m->state != new_state) {
		ret = vfio_mig_get_next_state(vdev, m->state, new_state, &next);
		if (ret)
			return ERR_PTR(ret);
		res = step(m, next, dev);
		if (IS_ERR(res))
			return res;
		m->state = next;
		/* only the last arc of a path may open a stream */
		if (res && next != new_state) {
			vfio_mig_file_put(res);
			return ERR_PTR(-EINVAL);
		}
	}
	return res;
}
