/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of sysfs_fixture.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <umdev/log.h>

#include "sysfs_fixture.h"

static void log_stderr(int level, const char *message, void *userdata)
{
	(void)level;
	(void)userdata;
	fprintf(stderr, "umdev: %s\n", message);
}

void fx_log_init(void)
{
	umdev_set_log_handler(log_stderr, NULL, UMDEV_LOG_WARNING);
}

bool fx_skip_without_fuse(void)
{
	const char *why = NULL;

	if (geteuid() != 0)
		why = "needs root (mounts FUSE with allow_other)";
	else if (access("/dev/fuse", R_OK | W_OK))
		why = "needs /dev/fuse";
	if (!why)
		return false;
	printf("1..1\nok 1 # SKIP %s\n", why);
	return true;
}

static const struct umdev_driver_module *fx_module(unsigned int bit)
{
	return bit == FX_NULL ? &umdev_builtin_null : &umdev_builtin_mtty;
}

bool fx_start_drivers(unsigned int drivers)
{
	for (unsigned int bit = FX_NULL; bit <= FX_MTTY; bit <<= 1) {
		if (!(drivers & bit))
			continue;
		if (!CHECK_EQ(fx_module(bit)->init(), 0)) {
			fx_stop_drivers(drivers & (bit - 1));
			return false;
		}
	}
	return true;
}

void fx_stop_drivers(unsigned int drivers)
{
	for (unsigned int bit = FX_MTTY; bit; bit >>= 1)
		if (drivers & bit)
			fx_module(bit)->exit();
}

bool fx_mount(struct fx *fx, unsigned int drivers)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->mnt, sizeof(fx->mnt), "/tmp/umdev-sysfs-XXXXXX");
	if (!CHECK(mkdtemp(fx->mnt)))
		return false;
	if (!fx_start_drivers(drivers)) {
		rmdir(fx->mnt);
		return false;
	}
	fx->drivers = drivers;
	if (!CHECK_EQ(sysfs_fs_mount(fx->mnt, &fx->fs), 0)) {
		fx_stop_drivers(drivers);
		rmdir(fx->mnt);
		return false;
	}
	return true;
}

void fx_unmount(struct fx *fx)
{
	sysfs_fs_unmount(fx->fs);
	fx->fs = NULL;
	fx_stop_drivers(fx->drivers);
	fx->drivers = 0;
	CHECK_EQ(rmdir(fx->mnt), 0);
}

const char *fx_path(struct fx *fx, char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", fx->mnt, rel);
	return buf;
}

ssize_t fx_write(struct fx *fx, const char *rel, const void *data, size_t len)
{
	char path[4200];
	ssize_t n;
	int fd = open(fx_path(fx, path, sizeof(path), rel), O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

ssize_t fx_puts(struct fx *fx, const char *rel, const char *s)
{
	return fx_write(fx, rel, s, strlen(s));
}

ssize_t fx_read(struct fx *fx, const char *rel, char *buf, size_t size)
{
	char path[4200];
	size_t len = 0;
	int fd = open(fx_path(fx, path, sizeof(path), rel), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return (ssize_t)len;
}

ssize_t fx_readlink(struct fx *fx, const char *rel, char *buf, size_t size)
{
	char path[4200];
	ssize_t n = readlink(fx_path(fx, path, sizeof(path), rel), buf, size - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

int fx_lstat(struct fx *fx, const char *rel, struct stat *st)
{
	char path[4200];

	return lstat(fx_path(fx, path, sizeof(path), rel), st) ? -errno : 0;
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * Waits up to 5 s for a killed child: one stuck in an uninterruptible wait on the mount
 * cannot die before the mount goes, and waiting for it would hang the suite.
 */
static void reap_bounded(pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	tap_diag("process %d does not die; left behind", (int)pid);
}

/* In the child, after fork(): only async-signal-safe calls until exec. */
static void child_exec(const struct fx_cmd *c, int in, int out, int err)
{
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	if (c->fd3 == 3 ? fcntl(3, F_SETFD, 0) : c->fd3 >= 0 && dup2(c->fd3, 3) < 0)
		_exit(126);
	if (c->cwd && chdir(c->cwd))
		_exit(126);
	execv(c->argv[0], (char *const *)c->argv);
	_exit(127);
}

bool fx_run(struct fx_cmd *c)
{
	int pin[2] = { -1, -1 }, pout[2], perr[2], devnull = -1, status;
	struct timespec deadline;
	struct pollfd pfd[2];
	bool ok = false;
	pid_t pid;

	c->status = -1;
	c->out_len = c->err_len = 0;
	c->out[0] = c->err[0] = '\0';
	if (pipe2(pout, O_CLOEXEC))
		return false;
	if (pipe2(perr, O_CLOEXEC))
		goto close_out;
	if (c->input ? pipe2(pin, O_CLOEXEC) : (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		goto close_err;
	pid = fork();
	if (pid < 0)
		goto close_in;
	if (pid == 0)
		child_exec(c, c->input ? pin[0] : devnull, pout[1], perr[1]);
	close(pout[1]);
	close(perr[1]);
	pout[1] = perr[1] = -1;
	if (c->input) {
		close(pin[0]);
		pin[0] = -1;
		if (write(pin[1], c->input, strlen(c->input)) < 0)
			tap_diag("fx_run: writing the input: %s", strerror(errno));
		close(pin[1]);
		pin[1] = -1;
	}

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += c->timeout_s ? c->timeout_s : 60;
	pfd[0].fd = pout[0];
	pfd[1].fd = perr[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while ((pfd[0].fd >= 0 || pfd[1].fd >= 0) && ms_left(&deadline) > 0) {
		if (poll(pfd, 2, (int)ms_left(&deadline)) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			char *buf = i ? c->err : c->out;
			size_t *len = i ? &c->err_len : &c->out_len;
			size_t room = (i ? sizeof(c->err) : sizeof(c->out)) - 1 - *len;
			char sink[512];
			ssize_t n;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = room ? read(pfd[i].fd, buf + *len, room) : read(pfd[i].fd, sink, sizeof(sink));
			if (n <= 0) {
				pfd[i].fd = -1;
				continue;
			}
			if (room) {
				*len += (size_t)n;
				buf[*len] = '\0';
			}
		}
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (ms_left(&deadline) <= 0) {
			tap_diag("fx_run: %s timed out; killing it", c->argv[0]);
			kill(pid, SIGKILL);
			reap_bounded(pid);
			goto close_in;
		}
		usleep(10000);
	}
	c->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	ok = c->status >= 0;
close_in:
	if (devnull >= 0)
		close(devnull);
	if (pin[0] >= 0)
		close(pin[0]);
	if (pin[1] >= 0)
		close(pin[1]);
close_err:
	close(perr[0]);
	if (perr[1] >= 0)
		close(perr[1]);
close_out:
	close(pout[0]);
	if (pout[1] >= 0)
		close(pout[1]);
	return ok;
}

pid_t fx_spawn(const char *const *argv, const char *cwd)
{
	struct fx_cmd c = { .argv = argv, .cwd = cwd, .fd3 = -1 };
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid;

	if (devnull < 0)
		return -1;
	pid = fork();
	if (pid == 0)
		child_exec(&c, devnull, devnull, devnull);
	close(devnull);
	return pid;
}

bool fx_wait_all(const pid_t *pids, size_t n, int timeout_s)
{
	struct timespec deadline;
	size_t left = n;
	bool ok = true;
	bool done[64] = { false };

	if (n > 64)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_s;
	while (left && ms_left(&deadline) > 0) {
		for (size_t i = 0; i < n; i++) {
			int status;

			if (done[i] || waitpid(pids[i], &status, WNOHANG) != pids[i])
				continue;
			done[i] = true;
			left--;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				tap_diag("fx_wait_all: process %d ended with status %#x", (int)pids[i],
					 status);
				ok = false;
			}
		}
		if (left)
			usleep(20000);
	}
	for (size_t i = 0; i < n; i++) {
		if (!done[i]) {
			tap_diag("fx_wait_all: process %d timed out; killing it", (int)pids[i]);
			kill(pids[i], SIGKILL);
			reap_bounded(pids[i]);
			ok = false;
		}
	}
	return ok;
}
