/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Create+remove cycles of a null-1 device per second, with 10, 1,000 and 10,000 devices
 * already alive, through three ways in:
 *   core     mdev_device_create() and mdev_device_remove() in this process (no sockets)
 *   control  a real umdevd's control socket: a `create` and a `remove` request line, each
 *            waiting for its reply (what umdevctl start/stop does, without the exec)
 *   control ×32  the same requests of PIPELINE cycles written at once, then their replies
 *            read: what a manager that starts and stops many devices sees (the requests of
 *            one connection are still served one after the other, in order)
 *   control 4×32  as "control ×32" on CTL_CONNS connections at once, from as many threads
 *            (each connection has its own thread in umdevd)
 *   fuse     the same umdevd's sysfs tree: write() of the UUID to the type's `create`, of
 *            "1" to the device's `remove` (as root; skipped otherwise), opened once by their
 *            full paths and once relative to directories held open
 * Each cost is printed as a ratio to the floor (a raw UNIX-socket ping-pong of a request's
 * size, measured in the same run) and to the same way's cost at 10 alive devices. On a
 * shared machine wall time moves with the other processes' load, so the CPU time a cycle
 * costs (this process and umdevd together, from /proc/PID/stat) is printed too: it is what
 * grows when something scans the alive devices.
 *
 *   bench_lifecycle [CYCLES]     (UMDEVD=path overrides the umdevd that meson built;
 *                                 BENCH_CORE_ONLY=1 measures the core alone)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umdev/mdev_manage.h>
#include <umdev/module.h>

#include "bench_daemon.h"
#include "bench_floor.h"
#include "bench_util.h"

extern const struct umdev_driver_module umdev_builtin_null;

#define LEVELS 3
static const unsigned int alive_levels[LEVELS] = { 10, 1000, 10000 };
#define CYCLE_BASE 0x100000u /* UUID numbers of the cycled devices */

#define PIPELINE 32 /* cycles in flight in the pipelined control way */
#define CTL_CONNS 4 /* connections of the parallel control way */
#define CONN_UUIDS 0x100000u /* UUID numbers apart between the connections */

enum way {
	WAY_CORE,
	WAY_CONTROL,
	WAY_CONTROL_PIPE,
	WAY_CONTROL_PAR,
	WAY_FUSE_PATH,
	WAY_FUSE_AT,
	WAY_FUSE_PAR,
	NWAYS
};
static const char *const way_names[NWAYS] = { "core",	      "control",      "control x32",
					       "control 4x32", "fuse (paths)", "fuse (dirfd)",
					       "fuse 4x dirfd" };
static double cost_ns[NWAYS][LEVELS], cpu_ns[NWAYS][LEVELS];

/* CPU time of this process, and of @pid (0: none) from /proc/PID/stat, in nanoseconds. */
static uint64_t cpu_now(pid_t pid)
{
	struct timespec ts;
	uint64_t ns;
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (!pid)
		return ns;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return ns;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* after "comm)": state and 10 more fields, then utime and stime in clock ticks */
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			&st) == 2)
		ns += (ut + st) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
	return ns;
}

/* ---- core ---- */

static struct mdev_type *core_type;
static struct mdev_device **core_alive;
static unsigned int core_nalive;

static int core_uuid(unsigned int n, guid_t *g)
{
	char text[37];

	bench_uuid(n, text);
	return mdev_uuid_parse(text, g);
}

static int core_fill(unsigned int alive)
{
	for (; core_nalive < alive; core_nalive++) {
		guid_t g;

		if (core_uuid(core_nalive, &g) ||
		    mdev_device_create(core_type, &g, &core_alive[core_nalive]))
			return -1;
	}
	return 0;
}

static int core_cycle(unsigned int n)
{
	struct mdev_device *mdev;
	guid_t g;

	if (core_uuid(CYCLE_BASE + n, &g) || mdev_device_create(core_type, &g, &mdev))
		return -1;
	if (mdev_device_remove(mdev)) {
		mdev_device_put(mdev);
		return -1;
	}
	mdev_device_put(mdev);
	return 0;
}

static int run_core(int cycles)
{
	struct mdev_parent *parent;

	core_alive = calloc(alive_levels[LEVELS - 1], sizeof(*core_alive));
	if (!core_alive || umdev_builtin_null.init() || mdev_parent_get_by_name("null", &parent))
		return -1;
	core_type = mdev_parent_find_type(parent, "null-1");
	for (int l = 0; l < LEVELS; l++) {
		uint64_t t0, c0;

		if (core_fill(alive_levels[l]))
			return -1;
		for (int i = 0; i < cycles / 10; i++) /* warm-up */
			if (core_cycle((unsigned int)i))
				return -1;
		t0 = bench_now_ns();
		c0 = cpu_now(0);
		for (int i = 0; i < cycles; i++)
			if (core_cycle((unsigned int)i))
				return -1;
		cost_ns[WAY_CORE][l] = (double)(bench_now_ns() - t0) / cycles;
		cpu_ns[WAY_CORE][l] = (double)(cpu_now(0) - c0) / cycles;
	}
	for (unsigned int i = 0; i < core_nalive; i++) {
		mdev_device_remove(core_alive[i]);
		mdev_device_put(core_alive[i]);
	}
	mdev_parent_put(parent);
	umdev_builtin_null.exit();
	free(core_alive);
	return 0;
}

/* ---- control socket ---- */

static int control_cycle(struct bench_daemon *d, unsigned int n)
{
	return bench_ctl_create(d, CYCLE_BASE + n) || bench_ctl_remove(d, CYCLE_BASE + n) ? -1 : 0;
}

/* Cycles @first .. @first + PIPELINE - 1: all the request lines in one write, then the
 * replies, each of which must say ok. */
static int control_pipelined(int ctl, unsigned int first)
{
	char req[PIPELINE * 2 * 128], buf[16384];
	size_t len = 0, got = 0, off = 0;
	unsigned int lines = 0;

	for (unsigned int i = 0; i < PIPELINE; i++) {
		char uuid[37];

		bench_uuid(CYCLE_BASE + first + i, uuid);
		len += (size_t)snprintf(req + len, sizeof(req) - len,
					"{\"command\":\"create\",\"parent\":\"null\","
					"\"mdev_type\":\"null-1\",\"uuid\":\"%s\"}\n"
					"{\"command\":\"remove\",\"uuid\":\"%s\"}\n",
					uuid, uuid);
	}
	while (off < len) {
		ssize_t n = write(ctl, req + off, len - off);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	while (lines < 2 * PIPELINE) {
		ssize_t n = read(ctl, buf + got, sizeof(buf) - 1 - got);
		char *line = buf, *nl;

		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		while ((nl = memchr(line, '\n', got - (size_t)(line - buf)))) {
			*nl = '\0';
			if (!strstr(line, "\"ok\":true")) {
				fprintf(stderr, "control x%d: %s\n", PIPELINE, line);
				return -1;
			}
			lines++;
			line = nl + 1;
		}
		got -= (size_t)(line - buf);
		memmove(buf, line, got);
		if (got == sizeof(buf) - 1)
			return -1;
	}
	return 0;
}

/* ---- FUSE ---- */

struct fuse_dirs {
	char type_dir[PATH_MAX], dev_dir[PATH_MAX];
	int type_fd, dev_fd;
};

static int write_file(int dirfd, const char *path, const char *text)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(text), n;

	if (fd < 0)
		return -1;
	n = write(fd, text, (size_t)len);
	close(fd);
	return n == len ? 0 : -1;
}

static int fuse_cycle(struct fuse_dirs *f, unsigned int n, bool at)
{
	char uuid[37], path[PATH_MAX + 64];

	bench_uuid(CYCLE_BASE + n, uuid);
	if (at) {
		snprintf(path, sizeof(path), "%s/remove", uuid);
		return write_file(f->type_fd, "create", uuid) || write_file(f->dev_fd, path, "1")
			       ? -1 : 0;
	}
	snprintf(path, sizeof(path), "%s/create", f->type_dir);
	if (write_file(AT_FDCWD, path, uuid))
		return -1;
	snprintf(path, sizeof(path), "%s/%s/remove", f->dev_dir, uuid);
	return write_file(AT_FDCWD, path, "1");
}

/* ---- several at once ---- */

struct par_thread {
	pthread_t thread;
	enum way way;
	int fd;			/* a control connection (control 4x32) */
	struct fuse_dirs *f;	/* (fuse 4x dirfd) */
	unsigned int first, cycles;
	int ret;
};

static void *par_thread_main(void *arg)
{
	struct par_thread *t = arg;

	t->ret = 0;
	for (unsigned int i = 0; i < t->cycles && !t->ret;) {
		if (t->way == WAY_CONTROL_PAR) {
			t->ret = control_pipelined(t->fd, t->first + i);
			i += PIPELINE;
		} else {
			t->ret = fuse_cycle(t->f, t->first + i, true);
			i++;
		}
	}
	return NULL;
}

/* @cycles cycles (a multiple of CTL_CONNS * PIPELINE) of @way from CTL_CONNS threads at once
 * (each with its own control connection); cycle numbers from @first, CONN_UUIDS apart between
 * the threads. */
static int run_parallel(enum way way, struct bench_daemon *d, struct fuse_dirs *f,
			unsigned int first, unsigned int cycles)
{
	struct par_thread t[CTL_CONNS];
	unsigned int started = 0;
	int ret = 0;

	for (; started < CTL_CONNS; started++) {
		t[started] = (struct par_thread){ .way = way, .f = f, .fd = -1,
						  .first = first + started * CONN_UUIDS,
						  .cycles = cycles / CTL_CONNS };
		if (way == WAY_CONTROL_PAR)
			t[started].fd = bench_ctl_connect(d);
		if ((way == WAY_CONTROL_PAR && t[started].fd < 0) ||
		    pthread_create(&t[started].thread, NULL, par_thread_main, &t[started])) {
			if (t[started].fd >= 0)
				close(t[started].fd);
			ret = -1;
			break;
		}
	}
	for (unsigned int i = 0; i < started; i++) {
		pthread_join(t[i].thread, NULL);
		if (t[i].fd >= 0)
			close(t[i].fd);
		ret |= t[i].ret;
	}
	return ret;
}

/* ---- the daemon's ways, level by level ---- */

/* A parallel way: a warm-up of a tenth, then @cycles timed, each in one go. */
static int time_parallel(enum way w, int l, int cycles, struct bench_daemon *d,
			 struct fuse_dirs *f)
{
	const int step = CTL_CONNS * PIPELINE;
	int warm = (cycles / 10 + step - 1) / step * step;
	uint64_t t0, c0;

	cycles = (cycles + step - 1) / step * step;
	if (run_parallel(w, d, f, 0, (unsigned int)warm))
		goto fail;
	t0 = bench_now_ns();
	c0 = cpu_now(d->pid);
	if (run_parallel(w, d, f, (unsigned int)warm, (unsigned int)cycles))
		goto fail;
	cost_ns[w][l] = (double)(bench_now_ns() - t0) / cycles;
	cpu_ns[w][l] = (double)(cpu_now(d->pid) - c0) / cycles;
	return 0;
fail:
	fprintf(stderr, "%s: failed\n", way_names[w]);
	return -1;
}

static int time_way(enum way w, int l, int cycles, struct bench_daemon *d, struct fuse_dirs *f)
{
	int step = w == WAY_CONTROL_PIPE ? PIPELINE : 1;
	uint64_t t0 = 0, c0 = 0;

	if (w == WAY_CONTROL_PAR || w == WAY_FUSE_PAR)
		return time_parallel(w, l, cycles, d, f);
	cycles = (cycles + step - 1) / step * step;
	for (int i = -(cycles / 10 / step * step); i < cycles; i += step) {
		int ret;

		if (i == 0) {
			t0 = bench_now_ns();
			c0 = cpu_now(d->pid);
		}
		if (w == WAY_CONTROL)
			ret = control_cycle(d, (unsigned int)(i + cycles));
		else if (w == WAY_CONTROL_PIPE)
			ret = control_pipelined(d->ctl, (unsigned int)(i + cycles));
		else
			ret = fuse_cycle(f, (unsigned int)(i + cycles), w == WAY_FUSE_AT);
		if (ret) {
			fprintf(stderr, "%s: cycle %d failed\n", way_names[w], i);
			return -1;
		}
	}
	cost_ns[w][l] = (double)(bench_now_ns() - t0) / cycles;
	cpu_ns[w][l] = (double)(cpu_now(d->pid) - c0) / cycles;
	return 0;
}

static int run_daemon(const char *umdevd, int cycles, bool fuse)
{
	const char *extra[] = { "--max-devices", "11000", NULL };
	struct fuse_dirs f = { .type_fd = -1, .dev_fd = -1 };
	struct bench_daemon d;
	unsigned int alive = 0;
	int ret = -1;

	if (bench_daemon_start(&d, umdevd, fuse, 0, getenv("BENCH_NO_MAX") ? NULL : extra))
		return -1;
	if (fuse) {
		snprintf(f.type_dir, sizeof(f.type_dir),
			 "%s/class/mdev_bus/null/mdev_supported_types/null-1", d.sys_dir);
		snprintf(f.dev_dir, sizeof(f.dev_dir), "%s/devices/virtual/null/null", d.sys_dir);
		f.type_fd = open(f.type_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		f.dev_fd = open(f.dev_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (f.type_fd < 0 || f.dev_fd < 0) {
			perror(f.type_dir);
			goto out;
		}
	}
	for (int l = 0; l < LEVELS; l++) {
		for (; alive < alive_levels[l]; alive++)
			if (bench_ctl_create(&d, alive))
				goto out;
		if (time_way(WAY_CONTROL, l, cycles, &d, &f) ||
		    time_way(WAY_CONTROL_PIPE, l, cycles, &d, &f) ||
		    time_way(WAY_CONTROL_PAR, l, cycles * 2, &d, &f))
			goto out;
		if (fuse && (time_way(WAY_FUSE_PATH, l, cycles / 4, &d, &f) ||
			     time_way(WAY_FUSE_AT, l, cycles / 4, &d, &f) ||
			     time_way(WAY_FUSE_PAR, l, cycles / 2, &d, &f)))
			goto out;
	}
	ret = 0;
out:
	if (f.type_fd >= 0)
		close(f.type_fd);
	if (f.dev_fd >= 0)
		close(f.dev_fd);
	bench_daemon_stop(&d);
	return ret;
}

int main(int argc, char **argv)
{
	int cycles = argc > 1 ? atoi(argv[1]) : 2000;
	const char *umdevd = getenv("UMDEVD") ? getenv("UMDEVD") : BENCH_UMDEVD;
	bool fuse = geteuid() == 0 && access("/dev/fuse", R_OK | W_OK) == 0;
	double floor_ns;

	if (cycles < 10 || cycles > 100000) {
		fprintf(stderr, "usage: bench_lifecycle [CYCLES, 10 to 100000]\n");
		return 2;
	}
	floor_ns = bench_floor_pingpong_ns(128, 20000);
	printf("floor: raw UNIX-socket ping-pong of 128 bytes, median %.1f us\n", floor_ns / 1e3);
	if (run_core(cycles) || (!getenv("BENCH_CORE_ONLY") && run_daemon(umdevd, cycles, fuse)))
		return 1;
	printf("%-13s %6s %10s %10s %9s %9s %10s %9s\n", "way", "alive", "cycles/s", "us/cycle",
	       "x floor", "x at 10", "cpu us/cyc", "x at 10");
	for (int w = 0; w < NWAYS; w++) {
		if (!cost_ns[w][0])
			continue;
		for (int l = 0; l < LEVELS; l++)
			printf("%-13s %6u %10.0f %10.1f %9.2f %9.2f %10.1f %9.2f\n", way_names[w],
			       alive_levels[l], 1e9 / cost_ns[w][l], cost_ns[w][l] / 1e3,
			       cost_ns[w][l] / floor_ns, cost_ns[w][l] / cost_ns[w][0],
			       cpu_ns[w][l] / 1e3, cpu_ns[w][l] / cpu_ns[w][0]);
	}
	if (!fuse)
		printf("fuse: skipped (needs root and /dev/fuse)\n");
	return 0;
}
