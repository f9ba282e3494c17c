/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VFIO migration v2 in the core: the migration features of VFIO_DEVICE_FEATURE (MIGRATION,
 * MIG_DEVICE_STATE, MIG_DATA_SIZE) for devices with mig_ops, the state machine's path rule
 * (vfio_mig_get_next_state), and the migration streams.
 *
 * Where the kernel hands the stream of a transition to userspace as a file descriptor, the
 * core keeps it as the device's current stream, and transports read or write it for their
 * client (vfio-user MIG_DATA_READ/MIG_DATA_WRITE). A transition that opens no stream leaves
 * the current one in place (a driver may go on appending to it, as PRE_COPY_P2P -> STOP_COPY
 * does); the device's last close drops it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/vfio_private.h"

/* ---- streams ---- */

struct vfio_mig_file *vfio_mig_file_alloc(const struct vfio_mig_file_ops *ops, void *private_data)
{
	struct vfio_mig_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->f_op = ops;
	f->private_data = private_data;
	f->refcount = 1;
	return f;
}

struct vfio_mig_file *vfio_mig_file_get(struct vfio_mig_file *file)
{
	__atomic_add_fetch(&file->refcount, 1, __ATOMIC_RELAXED);
	return file;
}

void vfio_mig_file_put(struct vfio_mig_file *file)
{
	if (!file || __atomic_sub_fetch(&file->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	if (file->f_op && file->f_op->release)
		file->f_op->release(file);
	free(file);
}

/* Sets the device's current stream (NULL drops it); takes over @file's reference. */
void vfio_device_set_mig_file(struct vfio_device *vdev, struct vfio_mig_file *file)
{
	struct vfio_device_private *p = vdev->priv;
	struct vfio_mig_file *old;

	pthread_mutex_lock(&p->lock);
	old = p->mig_file;
	p->mig_file = file;
	pthread_mutex_unlock(&p->lock);
	vfio_mig_file_put(old);
}

static struct vfio_mig_file *current_stream(struct vfio_device *vdev)
{
	struct vfio_device_private *p = vdev->priv;
	struct vfio_mig_file *f;

	pthread_mutex_lock(&p->lock);
	f = p->mig_file ? vfio_mig_file_get(p->mig_file) : NULL;
	pthread_mutex_unlock(&p->lock);
	return f;
}

ssize_t vfio_device_mig_read(struct vfio_device *vdev, void *buf, size_t len)
{
	struct vfio_mig_file *f = current_stream(vdev);
	ssize_t n = -EINVAL;

	if (f && f->f_op->read)
		n = f->f_op->read(f, buf, len);
	vfio_mig_file_put(f);
	return n;
}

ssize_t vfio_device_mig_write(struct vfio_device *vdev, const void *buf, size_t len)
{
	struct vfio_mig_file *f = current_stream(vdev);
	ssize_t n = -EINVAL;

	if (f && f->f_op->write)
		n = f->f_op->write(f, buf, len);
	vfio_mig_file_put(f);
	return n;
}

long vfio_device_mig_ioctl(struct vfio_device *vdev, unsigned int cmd, void *arg)
{
	struct vfio_mig_file *f = current_stream(vdev);
	long ret = -EINVAL;

	if (f)
		ret = f->f_op->ioctl ? f->f_op->ioctl(f, cmd, (unsigned long)arg) : -ENOTTY;
	vfio_mig_file_put(f);
	return ret;
}

/* ---- the state machine's paths ---- */

#define MIG_NSTATES (UMDEV_VFIO_DEVICE_STATE_MAX + 1)

/* The migration flags a state needs, as the kernel's state_flags_table: every state needs
 * STOP_COPY, and the optional ones their features too. */
static bool state_supported(uint32_t flags, unsigned int s)
{
	uint32_t need;

	switch (s) {
	case VFIO_DEVICE_STATE_STOP:
	case VFIO_DEVICE_STATE_RUNNING:
	case VFIO_DEVICE_STATE_STOP_COPY:
	case VFIO_DEVICE_STATE_RESUMING:
		need = VFIO_MIGRATION_STOP_COPY;
		break;
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		need = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
		break;
	case VFIO_DEVICE_STATE_PRE_COPY:
		need = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
		break;
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		need = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY;
		break;
	default:
		return false; /* ERROR, and values beyond the last state */
	}
	return (flags & need) == need;
}

/*
 * The saving group. A path may not stop in one of these on its way between other states; it
 * may only cross them when it runs from a saving state to a saving state without leaving the
 * group (the kernel's PRE_COPY -> PRE_COPY_P2P -> STOP_COPY).
 */
static bool state_is_saving(unsigned int s)
{
	return s == VFIO_DEVICE_STATE_STOP_COPY || s == VFIO_DEVICE_STATE_PRE_COPY ||
	       s == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

/* The arcs a driver implements directly, for a device with @flags (linux/vfio.h). */
static bool arc_exists(uint32_t flags, unsigned int from, unsigned int to)
{
	bool p2p = flags & VFIO_MIGRATION_P2P;

	if (!state_supported(flags, from) || !state_supported(flags, to))
		return false;
	switch (from) {
	case VFIO_DEVICE_STATE_STOP:
		return to == VFIO_DEVICE_STATE_STOP_COPY || to == VFIO_DEVICE_STATE_RESUMING ||
		       to == (p2p ? VFIO_DEVICE_STATE_RUNNING_P2P : VFIO_DEVICE_STATE_RUNNING);
	case VFIO_DEVICE_STATE_RUNNING:
		return to == VFIO_DEVICE_STATE_PRE_COPY ||
		       to == (p2p ? VFIO_DEVICE_STATE_RUNNING_P2P : VFIO_DEVICE_STATE_STOP);
	case VFIO_DEVICE_STATE_STOP_COPY:
	case VFIO_DEVICE_STATE_RESUMING:
		return to == VFIO_DEVICE_STATE_STOP;
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		return to == VFIO_DEVICE_STATE_STOP || to == VFIO_DEVICE_STATE_RUNNING ||
		       to == VFIO_DEVICE_STATE_PRE_COPY_P2P;
	case VFIO_DEVICE_STATE_PRE_COPY:
		return to == VFIO_DEVICE_STATE_RUNNING ||
		       to == (p2p ? VFIO_DEVICE_STATE_PRE_COPY_P2P : VFIO_DEVICE_STATE_STOP_COPY);
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		return to == VFIO_DEVICE_STATE_RUNNING_P2P || to == VFIO_DEVICE_STATE_PRE_COPY ||
		       to == VFIO_DEVICE_STATE_STOP_COPY;
	default:
		return false;
	}
}

int vfio_mig_get_next_state(struct vfio_device *vdev, enum vfio_device_mig_state cur_fsm,
			    enum vfio_device_mig_state new_fsm, enum vfio_device_mig_state *next_fsm)
{
	unsigned int cur = (unsigned int)cur_fsm, target = (unsigned int)new_fsm;
	unsigned int queue[MIG_NSTATES], first_step[MIG_NSTATES];
	bool seen[MIG_NSTATES] = { false };
	uint32_t flags = vdev->migration_flags;
	unsigned int head = 0, tail = 0;
	bool in_group;

	if (!state_supported(flags, cur) || !state_supported(flags, target))
		return -EINVAL;
	if (cur == target) {
		*next_fsm = new_fsm;
		return 0;
	}
	/* a stream that STOP_COPY has finished cannot go back to pre-copy (blocked, as in the
	 * kernel, although STOP_COPY -> STOP -> ... -> PRE_COPY has no saving state inside) */
	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    (target == VFIO_DEVICE_STATE_PRE_COPY || target == VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return -EINVAL;
	in_group = state_is_saving(cur) && state_is_saving(target);

	/* breadth first: the first arc of a shortest path */
	seen[cur] = true;
	queue[tail++] = cur;
	while (head < tail) {
		unsigned int s = queue[head++];

		for (unsigned int t = 0; t < MIG_NSTATES; t++) {
			if (seen[t] || !arc_exists(flags, s, t))
				continue;
			/* a saving state inside the path: only on a path within the group (a
			 * saving @s was itself reached within the group) */
			if (t != target && state_is_saving(t) && !(in_group && state_is_saving(s)))
				continue;
			seen[t] = true;
			first_step[t] = s == cur ? t : first_step[s];
			if (t == target) {
				*next_fsm = (enum vfio_device_mig_state)first_step[t];
				return 0;
			}
			queue[tail++] = t;
		}
	}
	return -EINVAL;
}

/* ---- the migration features ---- */

static int feature_migration(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz)
{
	struct vfio_device_feature_migration mig = { .flags = vdev->migration_flags };
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(mig));

	if (ret != 1)
		return ret;
	memcpy(arg, &mig, sizeof(mig));
	return 0;
}

static int feature_mig_device_state(struct vfio_device *vdev, uint32_t flags, void *arg,
				    size_t argsz)
{
	struct vfio_device_feature_mig_state mig;
	struct vfio_mig_file *file;
	enum vfio_device_mig_state state;
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET,
				 sizeof(mig));
	if (ret != 1)
		return ret;
	memcpy(&mig, arg, sizeof(mig));
	ret = 0;
	if (flags & VFIO_DEVICE_FEATURE_GET) {
		ret = vdev->mig_ops->migration_get_state(vdev, &state);
		if (ret)
			return ret;
		mig.device_state = (uint32_t)state;
	} else if (mig.device_state > UMDEV_VFIO_DEVICE_STATE_MAX) {
		ret = -EINVAL;
	} else {
		file = vdev->mig_ops->migration_set_state(
			vdev, (enum vfio_device_mig_state)mig.device_state);
		if (IS_ERR(file))
			ret = (int)PTR_ERR(file);
		else if (file)
			vfio_device_set_mig_file(vdev, file);
	}
	/* no fd: the stream is reached through vfio_device_mig_read/write. As the kernel, a
	 * failed SET also answers data_fd -1. */
	mig.data_fd = -1;
	memcpy(arg, &mig, sizeof(mig));
	return ret;
}

static int feature_mig_data_size(struct vfio_device *vdev, uint32_t flags, void *arg,
				 size_t argsz)
{
	struct vfio_device_feature_mig_data_size size;
	unsigned long length;
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(size));

	if (ret != 1)
		return ret;
	if (!vdev->mig_ops->migration_get_data_size)
		return -ENOTTY;
	ret = vdev->mig_ops->migration_get_data_size(vdev, &length);
	if (ret)
		return ret;
	size.stop_copy_length = length;
	memcpy(arg, &size, sizeof(size));
	return 0;
}

int vfio_migration_feature(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz)
{
	if (!vdev->mig_ops)
		return -ENOTTY;
	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		return feature_migration(vdev, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		return feature_mig_device_state(vdev, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return feature_mig_data_size(vdev, flags, arg, argsz);
	default:
		return -EINVAL;
	}
}
