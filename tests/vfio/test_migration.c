/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the core's migration layer (src/vfio/vfio_migration.c; spec section 3,
 * VFIO_DEVICE_FEATURE): vfio_mig_get_next_state() for every pair of states and every set of
 * migration flags against a table this file derives from the rules (shortest path over the
 * direct arcs, the saving group, the blocked STOP_COPY -> PRE_COPY arcs) and against the
 * kernel's list of multi-step paths; then the MIGRATION, MIG_DEVICE_STATE and MIG_DATA_SIZE
 * features through vfio_device_ioctl() and the device's current stream
 * (vfio_device_mig_read/write/ioctl), with a threaded case for ThreadSanitizer.
 *
 * The test device (struct mdev) has a small migration state machine in the manner of mtty:
 * its set_state op walks the arcs that vfio_mig_get_next_state() gives and records them;
 * STOP -> STOP_COPY and RUNNING(_P2P) -> PRE_COPY(_P2P) open a saving stream with a fixed
 * blob, PRE_COPY(_P2P) -> STOP_COPY appends the rest to the open one and opens none,
 * STOP -> RESUMING opens a resuming stream that collects what is written, RESUMING -> STOP
 * loads it. Streams count their releases.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/device.h>
#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>

#include "tap.h"
#include "vfio/vfio_private.h"

#define ERROR VFIO_DEVICE_STATE_ERROR
#define STOP VFIO_DEVICE_STATE_STOP
#define RUNNING VFIO_DEVICE_STATE_RUNNING
#define STOP_COPY VFIO_DEVICE_STATE_STOP_COPY
#define RESUMING VFIO_DEVICE_STATE_RESUMING
#define RUNNING_P2P VFIO_DEVICE_STATE_RUNNING_P2P
#define PRE_COPY VFIO_DEVICE_STATE_PRE_COPY
#define PRE_COPY_P2P VFIO_DEVICE_STATE_PRE_COPY_P2P
#define NSTATES 8
#define F_SC VFIO_MIGRATION_STOP_COPY
#define F_P2P VFIO_MIGRATION_P2P
#define F_PRE VFIO_MIGRATION_PRE_COPY
#define F_ALL (F_SC | F_P2P | F_PRE)

static const char *const state_names[NSTATES] = {
	"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P", "PRE_COPY",
	"PRE_COPY_P2P",
};

/* ---- the expected table, from the rules ---- */

/* A state exists for a device when it has the features the state needs: every state needs
 * STOP_COPY; RUNNING_P2P needs P2P, PRE_COPY needs PRE_COPY, PRE_COPY_P2P both. */
static bool exp_supported(uint32_t flags, int s)
{
	if (s <= ERROR || s >= NSTATES || !(flags & F_SC))
		return false;
	if ((s == RUNNING_P2P || s == PRE_COPY_P2P) && !(flags & F_P2P))
		return false;
	if ((s == PRE_COPY || s == PRE_COPY_P2P) && !(flags & F_PRE))
		return false;
	return true;
}

/* The direct arcs of a device with every feature (linux/vfio.h, and the PRE_COPY arcs of
 * Linux 6.2). */
static const int full_arcs[][2] = {
	{ RUNNING_P2P, STOP }, { STOP_COPY, STOP }, { RESUMING, STOP },
	{ RUNNING_P2P, RUNNING }, { RUNNING, RUNNING_P2P }, { STOP, RUNNING_P2P },
	{ STOP, STOP_COPY }, { STOP, RESUMING },
	{ RUNNING, PRE_COPY }, { PRE_COPY, RUNNING },
	{ RUNNING_P2P, PRE_COPY_P2P }, { PRE_COPY_P2P, RUNNING_P2P },
	{ PRE_COPY, PRE_COPY_P2P }, { PRE_COPY_P2P, PRE_COPY },
	{ PRE_COPY_P2P, STOP_COPY },
};

/*
 * What a state is for a device without some features: "for the purpose of specification the
 * states behave as though the device was fully running if not supported" - a P2P state is its
 * plain twin without P2P - and arcs touching PRE_COPY states are removed without PRE_COPY.
 */
static int exp_collapse(uint32_t flags, int s)
{
	if (exp_supported(flags, s))
		return s;
	if (!(flags & F_SC))
		return -1;
	if (s == RUNNING_P2P)
		return RUNNING;
	if (s == PRE_COPY_P2P && (flags & F_PRE))
		return PRE_COPY;
	return -1;
}

static void exp_arcs(uint32_t flags, bool arc[NSTATES][NSTATES])
{
	memset(arc, 0, sizeof(bool) * NSTATES * NSTATES);
	for (size_t i = 0; i < sizeof(full_arcs) / sizeof(full_arcs[0]); i++) {
		int a = exp_collapse(flags, full_arcs[i][0]), b = exp_collapse(flags, full_arcs[i][1]);

		if (a >= 0 && b >= 0 && a != b)
			arc[a][b] = true;
	}
}

static bool saving(int s)
{
	return s == STOP_COPY || s == PRE_COPY || s == PRE_COPY_P2P;
}

/*
 * A path may not have a state of the saving group inside it, except a path from a saving
 * state to a saving state that stays inside the group (the kernel's PRE_COPY -> PRE_COPY_P2P
 * -> STOP_COPY: "not an interior arc" in the uapi's reading).
 */
static bool path_allowed(const int *path, int len)
{
	bool in_group = saving(path[0]) && saving(path[len - 1]);

	for (int i = 1; i < len - 1; i++) {
		if (saving(path[i]) && !in_group)
			return false;
		if (!saving(path[i]) && in_group) {
			/* left the group: no saving state after this one but the end */
			for (int j = i + 1; j < len - 1; j++)
				if (saving(path[j]))
					return false;
			return true;
		}
	}
	return true;
}

struct search {
	bool (*arc)[NSTATES];
	int target;
	int path[NSTATES];
	int best_len;	     /* states in the shortest allowed path found, 0 if none */
	int best_first;	     /* its first step */
	bool ambiguous;	     /* two shortest paths with different first steps */
};

/* Every simple path, depth first. */
static void search_from(struct search *s, int len)
{
	int at = s->path[len - 1];

	if (at == s->target) {
		if (!path_allowed(s->path, len))
			return;
		if (!s->best_len || len < s->best_len) {
			s->best_len = len;
			s->best_first = s->path[1];
			s->ambiguous = false;
		} else if (len == s->best_len && s->path[1] != s->best_first) {
			s->ambiguous = true;
		}
		return;
	}
	if (len == NSTATES) /* a simple path holds every state at most once */
		return;
	for (int t = 0; t < NSTATES; t++) {
		bool on_path = false;

		for (int i = 0; i < len; i++)
			on_path |= s->path[i] == t;
		if (!on_path && s->arc[at][t]) {
			s->path[len] = t;
			search_from(s, len + 1);
		}
	}
}

/* The expected result: the next state, or -EINVAL. */
static int exp_next(uint32_t flags, int cur, int new_state, bool *ambiguous)
{
	bool arc[NSTATES][NSTATES];
	struct search s = { .arc = arc, .target = new_state };

	*ambiguous = false;
	if (!exp_supported(flags, cur) || !exp_supported(flags, new_state))
		return -EINVAL;
	if (cur == new_state)
		return new_state;
	/* blocked by the kernel: a finished saving stream does not go back to pre-copy */
	if (cur == STOP_COPY && (new_state == PRE_COPY || new_state == PRE_COPY_P2P))
		return -EINVAL;
	exp_arcs(flags, arc);
	s.path[0] = cur;
	search_from(&s, 1);
	*ambiguous = s.ambiguous;
	return s.best_len ? s.best_first : -EINVAL;
}

static int next_state(uint32_t flags, int cur, int new_state, int *next)
{
	struct vfio_device vd = { .migration_flags = flags };
	enum vfio_device_mig_state n = (enum vfio_device_mig_state)-1;
	int ret;

	ret = vfio_mig_get_next_state(&vd, (enum vfio_device_mig_state)cur,
				      (enum vfio_device_mig_state)new_state, &n);
	*next = (int)n;
	return ret;
}

static const char *sname(int s)
{
	return s >= 0 && s < NSTATES ? state_names[s] : "?";
}

TEST(next_state_matches_the_rules_for_every_pair)
{
	static const uint32_t flag_sets[] = {
		F_SC, F_SC | F_P2P, F_SC | F_PRE, F_ALL,
		/* without STOP_COPY nothing is supported */
		0, F_P2P, F_PRE, F_P2P | F_PRE,
	};
	unsigned int checked = 0, mismatches = 0;

	for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++) {
		uint32_t flags = flag_sets[f];

		for (int cur = 0; cur < NSTATES + 2; cur++) {
			for (int target = 0; target < NSTATES + 2; target++) {
				bool ambiguous;
				int want = exp_next(flags, cur, target, &ambiguous);
				int next, ret = next_state(flags, cur, target, &next);
				int got = ret ? ret : next;

				CHECK(!ambiguous);
				checked++;
				if (got != want) {
					mismatches++;
					tap_diag("flags %#x: %s(%d) -> %s(%d): got %d, want %d",
						 flags, sname(cur), cur, sname(target), target, got,
						 want);
				}
			}
		}
	}
	CHECK_EQ(mismatches, 0);
	CHECK_EQ(checked, 8 * 10 * 10);
}

/* Walks from @from to @to one step at a time; the states visited after @from, or -errno. */
static int walk(uint32_t flags, int from, int to, int *steps, int max)
{
	int n = 0;

	while (from != to) {
		int next, ret = next_state(flags, from, to, &next);

		if (ret)
			return ret;
		if (n == max)
			return -ELOOP;
		steps[n++] = next;
		from = next;
	}
	return n;
}

/* Checks the path from path[0] to path[len-1] for @flags. */
static bool check_path(uint32_t flags, const int *path, int len)
{
	int steps[NSTATES];
	int n = walk(flags, path[0], path[len - 1], steps, NSTATES);
	bool ok = n == len - 1;

	for (int i = 0; ok && i < n; i++)
		ok = steps[i] == path[i + 1];
	if (!ok)
		tap_diag("flags %#x: path %s -> %s differs (%d steps)", flags, sname(path[0]),
			 sname(path[len - 1]), n);
	return ok;
}

#define PATH(flags, ...) \
	CHECK(check_path(flags, (const int[]){ __VA_ARGS__ }, \
			 (int)(sizeof((int[]){ __VA_ARGS__ }) / sizeof(int))))

TEST(next_state_known_paths)
{
	int next;

	/* the kernel's multi-step paths with every feature (vfio_main.c) */
	PATH(F_ALL, PRE_COPY, PRE_COPY_P2P, STOP_COPY);
	PATH(F_ALL, PRE_COPY, RUNNING, RUNNING_P2P);
	PATH(F_ALL, PRE_COPY, RUNNING, RUNNING_P2P, STOP);
	PATH(F_ALL, PRE_COPY, RUNNING, RUNNING_P2P, STOP, RESUMING);
	PATH(F_ALL, PRE_COPY_P2P, RUNNING_P2P, RUNNING);
	PATH(F_ALL, PRE_COPY_P2P, RUNNING_P2P, STOP);
	PATH(F_ALL, PRE_COPY_P2P, RUNNING_P2P, STOP, RESUMING);
	PATH(F_ALL, RESUMING, STOP, RUNNING_P2P);
	PATH(F_ALL, RESUMING, STOP, RUNNING_P2P, PRE_COPY_P2P);
	PATH(F_ALL, RESUMING, STOP, RUNNING_P2P, RUNNING);
	PATH(F_ALL, RESUMING, STOP, RUNNING_P2P, RUNNING, PRE_COPY);
	PATH(F_ALL, RESUMING, STOP, STOP_COPY);
	PATH(F_ALL, RUNNING, RUNNING_P2P, PRE_COPY_P2P);
	PATH(F_ALL, RUNNING, RUNNING_P2P, STOP);
	PATH(F_ALL, RUNNING, RUNNING_P2P, STOP, RESUMING);
	PATH(F_ALL, RUNNING, RUNNING_P2P, STOP, STOP_COPY);
	PATH(F_ALL, RUNNING_P2P, RUNNING, PRE_COPY);
	PATH(F_ALL, RUNNING_P2P, STOP, RESUMING);
	PATH(F_ALL, RUNNING_P2P, STOP, STOP_COPY);
	PATH(F_ALL, STOP, RUNNING_P2P, PRE_COPY_P2P);
	PATH(F_ALL, STOP, RUNNING_P2P, RUNNING);
	PATH(F_ALL, STOP, RUNNING_P2P, RUNNING, PRE_COPY);
	PATH(F_ALL, STOP_COPY, STOP, RESUMING);
	PATH(F_ALL, STOP_COPY, STOP, RUNNING_P2P);
	PATH(F_ALL, STOP_COPY, STOP, RUNNING_P2P, RUNNING);
	/* blocked */
	CHECK_EQ(next_state(F_ALL, STOP_COPY, PRE_COPY, &next), -EINVAL);
	CHECK_EQ(next_state(F_ALL, STOP_COPY, PRE_COPY_P2P, &next), -EINVAL);
	CHECK_EQ(next_state(F_SC | F_PRE, STOP_COPY, PRE_COPY, &next), -EINVAL);

	/* with P2P, RUNNING and STOP are not neighbours */
	PATH(F_SC | F_P2P, RUNNING, RUNNING_P2P, STOP);
	PATH(F_SC | F_P2P, STOP, RUNNING_P2P, RUNNING);
	/* PRE_COPY -> STOP leaves the saving group at once */
	PATH(F_ALL, PRE_COPY, RUNNING, RUNNING_P2P, STOP);
	PATH(F_SC | F_PRE, PRE_COPY, RUNNING, STOP);
	/* without P2P, PRE_COPY -> STOP_COPY is a direct arc */
	PATH(F_SC | F_PRE, PRE_COPY, STOP_COPY);
	PATH(F_SC | F_PRE, RUNNING, STOP, STOP_COPY);
	PATH(F_SC | F_PRE, RESUMING, STOP, RUNNING, PRE_COPY);
	PATH(F_SC, RUNNING, STOP, RESUMING);
	PATH(F_SC, STOP_COPY, STOP, RUNNING);
	PATH(F_SC, RESUMING, STOP, STOP_COPY);

	/* ERROR, unsupported and unknown states */
	CHECK_EQ(next_state(F_ALL, ERROR, STOP, &next), -EINVAL);
	CHECK_EQ(next_state(F_ALL, STOP, ERROR, &next), -EINVAL);
	CHECK_EQ(next_state(F_ALL, ERROR, ERROR, &next), -EINVAL);
	CHECK_EQ(next_state(F_ALL, STOP, 8, &next), -EINVAL);
	CHECK_EQ(next_state(F_ALL, 8, STOP, &next), -EINVAL);
	CHECK_EQ(next_state(F_SC, RUNNING, RUNNING_P2P, &next), -EINVAL);
	CHECK_EQ(next_state(F_SC, RUNNING_P2P, RUNNING_P2P, &next), -EINVAL);
	CHECK_EQ(next_state(F_SC | F_P2P, RUNNING, PRE_COPY_P2P, &next), -EINVAL);
	CHECK_EQ(next_state(F_P2P | F_PRE, RUNNING, RUNNING, &next), -EINVAL);
	/* already there */
	CHECK_EQ(next_state(F_ALL, PRE_COPY_P2P, PRE_COPY_P2P, &next), 0);
	CHECK_EQ(next, PRE_COPY_P2P);
	CHECK_EQ(next_state(F_SC, RESUMING, RESUMING, &next), 0);
	CHECK_EQ(next, RESUMING);
}

/* ---- the test device ---- */

#define SAVE_PRE "pre-copy data;"
#define SAVE_FINAL "final device state"
#define STREAM_MAX 256
#define MAX_ARCS 64

struct mdev {
	struct vfio_device vdev;

	pthread_mutex_t lock; /* guards everything below but the atomics */
	enum vfio_device_mig_state state;
	int arcs[MAX_ARCS][2];
	int narcs;
	int fail_from, fail_to, fail_err; /* the arc that fails, with fail_err */
	int get_state_err;
	unsigned long data_size;
	int data_size_err;
	struct vfio_mig_file *saving;	/* the driver's reference to its open streams */
	struct vfio_mig_file *resuming;
	char loaded[STREAM_MAX];	/* what RESUMING -> STOP took in */
	size_t nloaded;

	atomic_int opened, released;
};

/* A stream's data: a saving stream's bytes to read, a resuming stream's bytes written. */
struct stream {
	struct mdev *m;
	pthread_mutex_t lock;
	char data[STREAM_MAX];
	size_t len, pos;
};

static struct mdev *to_mdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct mdev, vdev);
}

static ssize_t stream_read(struct vfio_mig_file *f, char *buf, size_t len)
{
	struct stream *s = f->private_data;
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = len < s->len - s->pos ? len : s->len - s->pos;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)n;
}

static ssize_t stream_write(struct vfio_mig_file *f, const char *buf, size_t len)
{
	struct stream *s = f->private_data;
	ssize_t ret = (ssize_t)len;

	pthread_mutex_lock(&s->lock);
	if (len > sizeof(s->data) - s->len) {
		ret = -ENOMEM;
	} else {
		memcpy(s->data + s->len, buf, len);
		s->len += len;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static long stream_ioctl(struct vfio_mig_file *f, unsigned int cmd, unsigned long arg)
{
	struct vfio_precopy_info *info = (struct vfio_precopy_info *)arg;
	struct stream *s = f->private_data;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (info->argsz < sizeof(*info))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	info->initial_bytes = s->len - s->pos;
	info->dirty_bytes = 0;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void stream_release(struct vfio_mig_file *f)
{
	struct stream *s = f->private_data;

	atomic_fetch_add(&s->m->released, 1);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct vfio_mig_file_ops saving_fops = {
	.read = stream_read,
	.ioctl = stream_ioctl,
	.release = stream_release,
};

static const struct vfio_mig_file_ops resuming_fops = {
	.write = stream_write,
	.release = stream_release,
};

/* A new stream holding @data; the core's reference is returned, the driver keeps another. */
static struct vfio_mig_file *stream_open(struct mdev *m, const struct vfio_mig_file_ops *fops,
					 const char *data, struct vfio_mig_file **keep)
{
	struct stream *s = calloc(1, sizeof(*s));
	struct vfio_mig_file *f;

	if (!s)
		return ERR_PTR(-ENOMEM);
	s->m = m;
	pthread_mutex_init(&s->lock, NULL);
	s->len = strlen(data);
	memcpy(s->data, data, s->len);
	f = vfio_mig_file_alloc(fops, s);
	if (!f) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return ERR_PTR(-ENOMEM);
	}
	atomic_fetch_add(&m->opened, 1);
	vfio_mig_file_put(*keep);
	*keep = vfio_mig_file_get(f);
	return f;
}

/* Drops the driver's reference to a stream (the core may keep its own). */
static void stream_drop(struct vfio_mig_file **keep)
{
	vfio_mig_file_put(*keep);
	*keep = NULL;
}

/* One arc (caller holds m->lock): the new stream, NULL, or an error pointer. */
static struct vfio_mig_file *mdev_step(struct mdev *m, int from, int to)
{
	if (m->narcs < MAX_ARCS) {
		m->arcs[m->narcs][0] = from;
		m->arcs[m->narcs][1] = to;
	}
	m->narcs++;
	if (from == m->fail_from && to == m->fail_to)
		return ERR_PTR(m->fail_err);

	if (from == STOP && to == STOP_COPY)
		return stream_open(m, &saving_fops, SAVE_PRE SAVE_FINAL, &m->saving);
	if ((from == RUNNING && to == PRE_COPY) || (from == RUNNING_P2P && to == PRE_COPY_P2P))
		return stream_open(m, &saving_fops, SAVE_PRE, &m->saving);
	if ((from == PRE_COPY || from == PRE_COPY_P2P) && to == STOP_COPY) {
		/* the rest goes into the stream already open: no new one */
		struct stream *s = m->saving->private_data;

		pthread_mutex_lock(&s->lock);
		memcpy(s->data + s->len, SAVE_FINAL, strlen(SAVE_FINAL));
		s->len += strlen(SAVE_FINAL);
		pthread_mutex_unlock(&s->lock);
		return NULL;
	}
	if (from == STOP && to == RESUMING)
		return stream_open(m, &resuming_fops, "", &m->resuming);
	if (from == RESUMING && to == STOP) {
		struct stream *s = m->resuming->private_data;

		pthread_mutex_lock(&s->lock);
		memcpy(m->loaded, s->data, s->len);
		m->nloaded = s->len;
		pthread_mutex_unlock(&s->lock);
		stream_drop(&m->resuming);
		return NULL;
	}
	if ((from == STOP_COPY && to == STOP) || (from == PRE_COPY && to == RUNNING) ||
	    (from == PRE_COPY_P2P && to == RUNNING_P2P))
		stream_drop(&m->saving);
	return NULL;
}

static struct vfio_mig_file *mdev_set_state(struct vfio_device *vdev,
					    enum vfio_device_mig_state new_state)
{
	struct mdev *m = to_mdev(vdev);
	struct vfio_mig_file *res = NULL;

	pthread_mutex_lock(&m->lock);
	while (m->state != new_state) {
		enum vfio_device_mig_state next;
		int ret = vfio_mig_get_next_state(vdev, m->state, new_state, &next);

		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = mdev_step(m, m->state, next);
		if (IS_ERR(res))
			break;
		m->state = next;
		/* only the last arc may open a stream */
		if (res && next != new_state) {
			vfio_mig_file_put(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return res;
}

static int mdev_get_state(struct vfio_device *vdev, enum vfio_device_mig_state *state)
{
	struct mdev *m = to_mdev(vdev);
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = m->get_state_err;
	if (!ret)
		*state = m->state;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int mdev_data_size(struct vfio_device *vdev, unsigned long *len)
{
	struct mdev *m = to_mdev(vdev);
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = m->data_size_err;
	if (!ret)
		*len = m->data_size;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static const struct vfio_migration_ops mig_ops = {
	.migration_set_state = mdev_set_state,
	.migration_get_state = mdev_get_state,
	.migration_get_data_size = mdev_data_size,
};

static const struct vfio_migration_ops mig_ops_no_size = {
	.migration_set_state = mdev_set_state,
	.migration_get_state = mdev_get_state,
};

static uint32_t next_flags = F_ALL;
static const struct vfio_migration_ops *next_mig_ops = &mig_ops;

static int mdev_init(struct vfio_device *vdev)
{
	struct mdev *m = to_mdev(vdev);

	pthread_mutex_init(&m->lock, NULL);
	m->state = RUNNING;
	m->fail_from = m->fail_to = -1;
	vdev->migration_flags = next_flags;
	vdev->mig_ops = next_mig_ops;
	return 0;
}

static void mdev_close_device(struct vfio_device *vdev)
{
	struct mdev *m = to_mdev(vdev);

	pthread_mutex_lock(&m->lock);
	stream_drop(&m->saving);
	stream_drop(&m->resuming);
	m->state = RUNNING;
	pthread_mutex_unlock(&m->lock);
}

static void mdev_release(struct vfio_device *vdev)
{
	struct mdev *m = to_mdev(vdev);

	stream_drop(&m->saving);
	stream_drop(&m->resuming);
	pthread_mutex_destroy(&m->lock);
}

static const struct vfio_device_ops mdev_ops = {
	.name = "test-mig",
	.init = mdev_init,
	.release = mdev_release,
	.close_device = mdev_close_device,
};

struct fixture {
	struct device dev;
	struct mdev *m;
	struct vfio_device *vdev;
	bool open;
};

/* A registered device with @flags and @ops (NULL: none), open without DMA. */
static bool fixture_setup(struct fixture *fx, const char *name, uint32_t flags,
			  const struct vfio_migration_ops *ops)
{
	memset(fx, 0, sizeof(*fx));
	device_initialize(&fx->dev);
	dev_set_name(&fx->dev, "%s", name);
	next_flags = flags;
	next_mig_ops = ops;
	fx->m = vfio_alloc_device(mdev, vdev, &fx->dev, &mdev_ops);
	if (IS_ERR(fx->m)) {
		fx->m = NULL;
		return false;
	}
	fx->vdev = &fx->m->vdev;
	if (vfio_register_emulated_iommu_dev(fx->vdev) || vfio_device_open(fx->vdev, NULL))
		return false;
	fx->open = true;
	return true;
}

static void fixture_teardown(struct fixture *fx)
{
	if (fx->open)
		vfio_device_close(fx->vdev);
	if (fx->m) {
		vfio_unregister_group_dev(fx->vdev);
		vfio_put_device(fx->vdev);
	}
	put_device(&fx->dev);
}

/* ---- feature helpers ---- */

static long feature_sz(struct vfio_device *vdev, uint32_t flags, void *data, size_t size,
		       uint32_t argsz)
{
	uint64_t raw[1 + 4] = { 0 };
	struct vfio_device_feature *f = (struct vfio_device_feature *)raw;
	long ret;

	f->argsz = argsz;
	f->flags = flags;
	if (size)
		memcpy(f->data, data, size);
	ret = vfio_device_ioctl(vdev, VFIO_DEVICE_FEATURE, f);
	if (size)
		memcpy(data, f->data, size);
	return ret;
}

static long feature(struct vfio_device *vdev, uint32_t flags, void *data, size_t size)
{
	return feature_sz(vdev, flags, data, size,
			  (uint32_t)(sizeof(struct vfio_device_feature) + size));
}

#define F_GET VFIO_DEVICE_FEATURE_GET
#define F_SET VFIO_DEVICE_FEATURE_SET
#define F_PROBE VFIO_DEVICE_FEATURE_PROBE

/* SET MIG_DEVICE_STATE; *data_fd gets what the core answered. */
static long set_state(struct fixture *fx, uint32_t state, int32_t *data_fd)
{
	struct vfio_device_feature_mig_state mig = { .device_state = state, .data_fd = 1234 };
	long ret = feature(fx->vdev, F_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig,
			   sizeof(mig));

	if (data_fd)
		*data_fd = mig.data_fd;
	return ret;
}

/* GET MIG_DEVICE_STATE: the state, or -errno. */
static long get_state(struct fixture *fx)
{
	struct vfio_device_feature_mig_state mig = { .device_state = 99, .data_fd = 1234 };
	long ret = feature(fx->vdev, F_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig,
			   sizeof(mig));

	if (ret)
		return ret;
	if (mig.data_fd != -1)
		return -1000;
	return mig.device_state;
}

/* The arcs the driver took since the last call, as "A>B,B>C". */
static const char *arcs(struct fixture *fx)
{
	static char buf[1024];
	size_t at = 0;

	buf[0] = 0;
	pthread_mutex_lock(&fx->m->lock);
	for (int i = 0; i < fx->m->narcs && i < MAX_ARCS; i++) {
		const char *a = sname(fx->m->arcs[i][0]), *b = sname(fx->m->arcs[i][1]);

		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%s>%s", i ? "," : "", a, b);
	}
	fx->m->narcs = 0;
	pthread_mutex_unlock(&fx->m->lock);
	return buf;
}

/* Reads the current stream to its end into @buf (a NUL-terminated string); -errno. */
static long read_all(struct fixture *fx, char *buf, size_t size)
{
	size_t at = 0;

	for (;;) {
		ssize_t n = vfio_device_mig_read(fx->vdev, buf + at, MIN(size - 1 - at, 5));

		if (n < 0)
			return n;
		if (n == 0)
			break;
		at += (size_t)n;
	}
	buf[at] = 0;
	return (long)at;
}

/* ---- the features ---- */

TEST(feature_migration)
{
	struct vfio_device_feature_migration mig = { 0 };
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "mig-flags", F_SC | F_P2P, &mig_ops));
	CHECK_EQ(feature(fx.vdev, F_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig)), 0);
	CHECK_EQ(mig.flags, F_SC | F_P2P);
	CHECK_EQ(feature(fx.vdev, F_GET | F_PROBE | VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0), 0);
	CHECK_EQ(feature(fx.vdev, F_PROBE | VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0), 0);
	CHECK_EQ(feature(fx.vdev, F_SET | F_PROBE | VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0),
		 -EINVAL);
	CHECK_EQ(feature(fx.vdev, F_SET | VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig)),
		 -EINVAL);
	/* argsz too small for the flags */
	CHECK_EQ(feature_sz(fx.vdev, F_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig),
			    sizeof(struct vfio_device_feature) + sizeof(mig) - 1),
		 -EINVAL);
	/* GET and SET together without PROBE: the core's header check */
	CHECK_EQ(feature(fx.vdev, F_GET | F_SET | VFIO_DEVICE_FEATURE_MIGRATION, &mig,
			 sizeof(mig)),
		 -EINVAL);
	fixture_teardown(&fx);
}

TEST(device_without_mig_ops_is_enotty)
{
	struct vfio_device_feature_mig_state st = { 0 };
	struct vfio_device_feature_migration mig = { 0 };
	struct vfio_device_feature_mig_data_size sz = { 0 };
	struct fixture fx;
	char buf[8];

	REQUIRE(fixture_setup(&fx, "mig-none", 0, NULL));
	CHECK_EQ(feature(fx.vdev, F_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig)),
		 -ENOTTY);
	CHECK_EQ(feature(fx.vdev, F_PROBE | F_GET | VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0),
		 -ENOTTY);
	CHECK_EQ(feature(fx.vdev, F_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st)),
		 -ENOTTY);
	CHECK_EQ(feature(fx.vdev, F_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &sz, sizeof(sz)),
		 -ENOTTY);
	CHECK_EQ(vfio_device_mig_read(fx.vdev, buf, sizeof(buf)), -EINVAL);
	fixture_teardown(&fx);
}

TEST(device_state_get_and_set_walk_the_arcs)
{
	struct fixture fx;
	char buf[STREAM_MAX];
	int32_t fd = 0;

	REQUIRE(fixture_setup(&fx, "mig-walk", F_ALL, &mig_ops));
	CHECK_EQ(get_state(&fx), RUNNING);
	CHECK_EQ(feature(fx.vdev, F_PROBE | F_GET | F_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			 NULL, 0),
		 0);

	/* a multi-step arc, one call */
	CHECK_EQ(set_state(&fx, STOP, &fd), 0);
	CHECK_EQ(fd, -1);
	CHECK_STR(arcs(&fx), "RUNNING>RUNNING_P2P,RUNNING_P2P>STOP");
	CHECK_EQ(get_state(&fx), STOP);
	/* the same state again: nothing to do */
	CHECK_EQ(set_state(&fx, STOP, &fd), 0);
	CHECK_STR(arcs(&fx), "");

	/* STOP_COPY opens the saving stream; data_fd stays -1 (streams go through the core) */
	CHECK_EQ(set_state(&fx, STOP_COPY, &fd), 0);
	CHECK_EQ(fd, -1);
	CHECK_STR(arcs(&fx), "STOP>STOP_COPY");
	CHECK_EQ(read_all(&fx, buf, sizeof(buf)), (long)strlen(SAVE_PRE SAVE_FINAL));
	CHECK_STR(buf, SAVE_PRE SAVE_FINAL);
	CHECK_EQ(vfio_device_mig_read(fx.vdev, buf, sizeof(buf)), 0);

	/* back to RUNNING: the arcs open no stream, the current one stays */
	CHECK_EQ(set_state(&fx, RUNNING, &fd), 0);
	CHECK_STR(arcs(&fx), "STOP_COPY>STOP,STOP>RUNNING_P2P,RUNNING_P2P>RUNNING");
	CHECK_EQ(atomic_load(&fx.m->released), 0);
	CHECK_EQ(vfio_device_mig_read(fx.vdev, buf, sizeof(buf)), 0);

	/* PRE_COPY opens a new stream: the old one is released, once */
	CHECK_EQ(set_state(&fx, PRE_COPY, &fd), 0);
	CHECK_STR(arcs(&fx), "RUNNING>PRE_COPY");
	CHECK_EQ(atomic_load(&fx.m->released), 1);
	{
		struct vfio_precopy_info info = { .argsz = sizeof(info) };

		CHECK_EQ(vfio_device_mig_ioctl(fx.vdev, VFIO_MIG_GET_PRECOPY_INFO, &info), 0);
		CHECK_EQ(info.initial_bytes, strlen(SAVE_PRE));
		/* the stream's own errors come back */
		info.argsz = 4;
		CHECK_EQ(vfio_device_mig_ioctl(fx.vdev, VFIO_MIG_GET_PRECOPY_INFO, &info), -EINVAL);
		CHECK_EQ(vfio_device_mig_ioctl(fx.vdev, VFIO_DEVICE_RESET, &info), -ENOTTY);
	}
	CHECK_EQ(read_all(&fx, buf, sizeof(buf)), (long)strlen(SAVE_PRE));
	CHECK_STR(buf, SAVE_PRE);
	/* a saving stream cannot be written */
	CHECK_EQ(vfio_device_mig_write(fx.vdev, "x", 1), -EINVAL);

	/* PRE_COPY -> STOP_COPY goes through PRE_COPY_P2P; its last arc appends to the open
	 * stream and opens none: the stream is kept and has the rest */
	CHECK_EQ(set_state(&fx, STOP_COPY, &fd), 0);
	CHECK_EQ(fd, -1);
	CHECK_STR(arcs(&fx), "PRE_COPY>PRE_COPY_P2P,PRE_COPY_P2P>STOP_COPY");
	CHECK_EQ(atomic_load(&fx.m->released), 1);
	CHECK_EQ(read_all(&fx, buf, sizeof(buf)), (long)strlen(SAVE_FINAL));
	CHECK_STR(buf, SAVE_FINAL);

	/* RESUMING: a new stream to write into; the saving one is released */
	CHECK_EQ(set_state(&fx, RESUMING, &fd), 0);
	CHECK_STR(arcs(&fx), "STOP_COPY>STOP,STOP>RESUMING");
	CHECK_EQ(atomic_load(&fx.m->released), 2);
	CHECK_EQ(vfio_device_mig_write(fx.vdev, "abc", 3), 3);
	CHECK_EQ(vfio_device_mig_write(fx.vdev, "defg", 4), 4);
	CHECK_EQ(vfio_device_mig_read(fx.vdev, buf, 4), -EINVAL);
	CHECK_EQ(vfio_device_mig_ioctl(fx.vdev, VFIO_MIG_GET_PRECOPY_INFO, buf), -ENOTTY);
	{
		char big[STREAM_MAX];

		memset(big, 'z', sizeof(big));
		CHECK_EQ(vfio_device_mig_write(fx.vdev, big, sizeof(big)), -ENOMEM);
	}
	/* RESUMING -> RUNNING loads what was written on its first arc */
	CHECK_EQ(set_state(&fx, RUNNING, &fd), 0);
	CHECK_STR(arcs(&fx), "RESUMING>STOP,STOP>RUNNING_P2P,RUNNING_P2P>RUNNING");
	CHECK_EQ(fx.m->nloaded, 7);
	CHECK(!memcmp(fx.m->loaded, "abcdefg", 7));
	CHECK_EQ(get_state(&fx), RUNNING);
	CHECK_EQ(atomic_load(&fx.m->opened), 3);
	CHECK_EQ(atomic_load(&fx.m->released), 2);
	fixture_teardown(&fx);
}

TEST(device_state_walks_without_p2p)
{
	struct fixture fx;
	int32_t fd;

	REQUIRE(fixture_setup(&fx, "mig-nop2p", F_SC | F_PRE, &mig_ops));
	CHECK_EQ(set_state(&fx, STOP_COPY, &fd), 0);
	CHECK_STR(arcs(&fx), "RUNNING>STOP,STOP>STOP_COPY");
	CHECK_EQ(set_state(&fx, PRE_COPY, &fd), -EINVAL);
	CHECK_STR(arcs(&fx), "");
	CHECK_EQ(set_state(&fx, RUNNING_P2P, &fd), -EINVAL);
	CHECK_EQ(set_state(&fx, PRE_COPY_P2P, &fd), -EINVAL);
	CHECK_EQ(set_state(&fx, RUNNING, &fd), 0);
	CHECK_EQ(set_state(&fx, PRE_COPY, &fd), 0);
	CHECK_EQ(set_state(&fx, STOP_COPY, &fd), 0);
	CHECK_STR(arcs(&fx), "STOP_COPY>STOP,STOP>RUNNING,RUNNING>PRE_COPY,PRE_COPY>STOP_COPY");
	fixture_teardown(&fx);
}

TEST(device_state_errors)
{
	struct vfio_device_feature_mig_state mig = { .device_state = STOP };
	struct fixture fx;
	int32_t fd = 0;

	REQUIRE(fixture_setup(&fx, "mig-errors", F_ALL, &mig_ops));
	/* states beyond the last one: -EINVAL, data_fd -1, the driver not asked */
	CHECK_EQ(set_state(&fx, 8, &fd), -EINVAL);
	CHECK_EQ(fd, -1);
	CHECK_EQ(set_state(&fx, UINT32_MAX, &fd), -EINVAL);
	CHECK_STR(arcs(&fx), "");
	/* ERROR cannot be asked for: the driver's vfio_mig_get_next_state() says -EINVAL */
	fd = 0;
	CHECK_EQ(set_state(&fx, ERROR, &fd), -EINVAL);
	CHECK_EQ(fd, -1);
	CHECK_EQ(get_state(&fx), RUNNING);
	/* a blocked arc */
	CHECK_EQ(set_state(&fx, STOP_COPY, &fd), 0);
	CHECK_EQ(set_state(&fx, PRE_COPY, &fd), -EINVAL);
	CHECK_EQ(set_state(&fx, PRE_COPY_P2P, &fd), -EINVAL);
	CHECK_EQ(get_state(&fx), STOP_COPY);
	CHECK_EQ(set_state(&fx, RUNNING, &fd), 0);
	(void)arcs(&fx);

	/* the driver's error comes back, with the state where the walk stopped */
	pthread_mutex_lock(&fx.m->lock);
	fx.m->fail_from = RUNNING_P2P;
	fx.m->fail_to = STOP;
	fx.m->fail_err = -EIO;
	pthread_mutex_unlock(&fx.m->lock);
	fd = 0;
	CHECK_EQ(set_state(&fx, STOP, &fd), -EIO);
	CHECK_EQ(fd, -1);
	CHECK_STR(arcs(&fx), "RUNNING>RUNNING_P2P,RUNNING_P2P>STOP");
	CHECK_EQ(get_state(&fx), RUNNING_P2P);
	pthread_mutex_lock(&fx.m->lock);
	fx.m->fail_from = -1;
	fx.m->get_state_err = -EIO;
	pthread_mutex_unlock(&fx.m->lock);
	CHECK_EQ(get_state(&fx), -EIO);
	pthread_mutex_lock(&fx.m->lock);
	fx.m->get_state_err = 0;
	pthread_mutex_unlock(&fx.m->lock);

	/* argsz too small; PROBE; GET and SET together */
	CHECK_EQ(feature_sz(fx.vdev, F_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig,
			    sizeof(mig), sizeof(struct vfio_device_feature) + 4),
		 -EINVAL);
	CHECK_EQ(feature_sz(fx.vdev, F_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig,
			    sizeof(mig), sizeof(struct vfio_device_feature) + 4),
		 -EINVAL);
	CHECK_EQ(feature(fx.vdev, F_PROBE | F_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, NULL,
			 0),
		 0);
	CHECK_EQ(feature(fx.vdev, F_GET | F_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig,
			 sizeof(mig)),
		 -EINVAL);
	CHECK_EQ(get_state(&fx), RUNNING_P2P);
	fixture_teardown(&fx);
}

TEST(data_size)
{
	struct vfio_device_feature_mig_data_size sz = { 0 };
	struct fixture fx;

	REQUIRE(fixture_setup(&fx, "mig-size", F_SC, &mig_ops));
	pthread_mutex_lock(&fx.m->lock);
	fx.m->data_size = 123456789;
	pthread_mutex_unlock(&fx.m->lock);
	CHECK_EQ(feature(fx.vdev, F_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &sz, sizeof(sz)), 0);
	CHECK_EQ(sz.stop_copy_length, 123456789);
	CHECK_EQ(feature(fx.vdev, F_GET | F_PROBE | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, NULL, 0), 0);
	CHECK_EQ(feature(fx.vdev, F_SET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &sz, sizeof(sz)),
		 -EINVAL);
	CHECK_EQ(feature_sz(fx.vdev, F_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &sz, sizeof(sz),
			    sizeof(struct vfio_device_feature) + 4),
		 -EINVAL);
	pthread_mutex_lock(&fx.m->lock);
	fx.m->data_size_err = -EIO;
	pthread_mutex_unlock(&fx.m->lock);
	CHECK_EQ(feature(fx.vdev, F_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &sz, sizeof(sz)),
		 -EIO);
	fixture_teardown(&fx);

	/* a driver without the op */
	REQUIRE(fixture_setup(&fx, "mig-size-none", F_SC, &mig_ops_no_size));
	CHECK_EQ(feature(fx.vdev, F_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &sz, sizeof(sz)),
		 -ENOTTY);
	fixture_teardown(&fx);
}

/* ---- the current stream ---- */

TEST(stream_calls_without_a_stream)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };
	struct fixture fx;
	char buf[8];

	REQUIRE(fixture_setup(&fx, "mig-nostream", F_ALL, &mig_ops));
	CHECK_EQ(vfio_device_mig_read(fx.vdev, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(vfio_device_mig_write(fx.vdev, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(vfio_device_mig_ioctl(fx.vdev, VFIO_MIG_GET_PRECOPY_INFO, &info), -EINVAL);
	/* transitions that open none leave none */
	CHECK_EQ(set_state(&fx, STOP, NULL), 0);
	CHECK_EQ(vfio_device_mig_read(fx.vdev, buf, sizeof(buf)), -EINVAL);
	fixture_teardown(&fx);
}

TEST(stream_is_dropped_at_the_last_close)
{
	struct fixture fx;
	char buf[8];

	REQUIRE(fixture_setup(&fx, "mig-close", F_ALL, &mig_ops));
	CHECK_EQ(set_state(&fx, PRE_COPY, NULL), 0);
	/* a second open: its close is not the last */
	REQUIRE_EQ(vfio_device_open(fx.vdev, NULL), 0);
	vfio_device_close(fx.vdev);
	CHECK_EQ(vfio_device_mig_read(fx.vdev, buf, 3), 3);
	CHECK_EQ(atomic_load(&fx.m->released), 0);
	/* the last close: the driver drops its reference in close_device, the core its own */
	vfio_device_close(fx.vdev);
	fx.open = false;
	CHECK_EQ(atomic_load(&fx.m->released), 1);
	REQUIRE_EQ(vfio_device_open(fx.vdev, NULL), 0);
	fx.open = true;
	CHECK_EQ(vfio_device_mig_read(fx.vdev, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(get_state(&fx), RUNNING);
	/* and a stream left open at the end of the test goes at teardown (ASan sees leaks) */
	CHECK_EQ(set_state(&fx, RESUMING, NULL), 0);
	fixture_teardown(&fx);
}

/* The core's stream holds its own reference: a driver that dropped its reference early
 * (or never kept one) leaves the stream readable until it is replaced. */
TEST(stream_outlives_the_driver_reference)
{
	struct fixture fx;
	char buf[STREAM_MAX];

	REQUIRE(fixture_setup(&fx, "mig-ref", F_ALL, &mig_ops));
	CHECK_EQ(set_state(&fx, STOP_COPY, NULL), 0);
	pthread_mutex_lock(&fx.m->lock);
	stream_drop(&fx.m->saving);
	pthread_mutex_unlock(&fx.m->lock);
	CHECK_EQ(atomic_load(&fx.m->released), 0);
	CHECK_EQ(read_all(&fx, buf, sizeof(buf)), (long)strlen(SAVE_PRE SAVE_FINAL));
	CHECK_EQ(set_state(&fx, RESUMING, NULL), 0);
	CHECK_EQ(atomic_load(&fx.m->released), 1);
	CHECK_EQ(atomic_load(&fx.m->opened), 2);
	fixture_teardown(&fx);
}

/* ---- threads ---- */

#define NREADERS 3
#define SWITCHES 300

struct race {
	struct fixture *fx;
	atomic_bool done;
	atomic_int errors;
	atomic_long bytes;
	atomic_long calls; /* reader rounds, for the switcher to wait on */
};

/* Reads and asks the current stream, whichever it is, until told to stop. */
static void *reader_thread(void *arg)
{
	struct race *race = arg;
	char buf[4];

	while (!atomic_load(&race->done)) {
		struct vfio_precopy_info info = { .argsz = sizeof(info) };
		ssize_t n = vfio_device_mig_read(race->fx->vdev, buf, sizeof(buf));
		long r = vfio_device_mig_ioctl(race->fx->vdev, VFIO_MIG_GET_PRECOPY_INFO, &info);

		if (n > 0)
			atomic_fetch_add(&race->bytes, n);
		else if (n < 0 && n != -EINVAL)
			atomic_fetch_add(&race->errors, 1);
		if (r && r != -EINVAL && r != -ENOTTY)
			atomic_fetch_add(&race->errors, 1);
		atomic_fetch_add(&race->calls, 1);
	}
	return NULL;
}

TEST(threaded_streams_replaced_while_read)
{
	pthread_t threads[NREADERS];
	struct race race = { 0 };
	struct fixture fx;
	unsigned int n = 0;
	int opened;

	REQUIRE(fixture_setup(&fx, "mig-race", F_ALL, &mig_ops));
	race.fx = &fx;
	for (int i = 0; i < NREADERS; i++) {
		if (pthread_create(&threads[i], NULL, reader_thread, &race))
			break;
		n++;
	}
	CHECK_EQ(n, NREADERS);
	/* each round replaces the stream: RUNNING -> PRE_COPY, or STOP -> STOP_COPY */
	for (int i = 0; i < SWITCHES; i++) {
		uint32_t to = i % 4 == 0 ? PRE_COPY : i % 4 == 1 ? RUNNING :
			      i % 4 == 2 ? STOP_COPY : RESUMING;
		long seen = atomic_load(&race.calls);

		if (!CHECK_EQ(set_state(&fx, to, NULL), 0))
			break;
		/* let the readers use this stream: progress, not time */
		while (n && atomic_load(&race.calls) < seen + NREADERS)
			sched_yield();
	}
	atomic_store(&race.done, true);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	CHECK_EQ(atomic_load(&race.errors), 0);
	tap_diag("%ld bytes read", atomic_load(&race.bytes));
	opened = atomic_load(&fx.m->opened);
	/* every stream but the current one is gone */
	CHECK_EQ(atomic_load(&fx.m->released), opened - 1);
	vfio_device_close(fx.vdev);
	fx.open = false;
	CHECK_EQ(atomic_load(&fx.m->released), opened);
	fixture_teardown(&fx);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
