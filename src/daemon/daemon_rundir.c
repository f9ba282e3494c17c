/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd's run directory (see daemon_rundir.h). Only names the daemon itself creates are
 * ever removed: a stale tree is cleaned, never an unknown file.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umdev/log.h>

#include "daemon/daemon_rundir.h"

extern char **environ;

/* @dir/@name into @buf (PATH_MAX); -ENAMETOOLONG when it does not fit. */
static int join(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int rundir_clear_stale_mount(const char *path)
{
	struct stat st;
	char probe[PATH_MAX];

	/* a name inside, not the root: the kernel may answer a stat of the root from the
	 * attributes it keeps, while a lookup of a name needs the (dead) daemon */
	if (snprintf(probe, sizeof(probe), "%s/umdev-probe", path) >= (int)sizeof(probe))
		return -ENAMETOOLONG;
	if (lstat(probe, &st) == 0 || errno != ENOTCONN)
		return 0;
	umdev_log(UMDEV_LOG_NOTICE, "removing the stale sysfs mount at %s", path);
	if (umount2(path, MNT_DETACH) == 0)
		return 0;
	/* not root: the FUSE helper unmounts what this user mounted */
	char *argv[] = { "fusermount3", "-u", "-z", (char *)path, NULL };
	pid_t pid;
	int status;

	if (posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ) == 0 &&
	    waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	umdev_log(UMDEV_LOG_ERR, "cannot unmount the stale sysfs mount at %s", path);
	return -EBUSY;
}

/* Removes <dir>/<uuid>/{vfio-user,mpqemu}.sock (sockets, or mpqemu.sock's link to the
 * other) and the emptied <uuid> dirs. */
static void clear_device_sockets(const char *devices)
{
	DIR *d = opendir(devices);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		static const char *const socks[] = { "vfio-user.sock", "mpqemu.sock" };
		char path[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
			struct stat st;

			if (snprintf(path, sizeof(path), "%s/%s/%s", devices, e->d_name, socks[i]) <
				    (int)sizeof(path) &&
			    lstat(path, &st) == 0 && (S_ISSOCK(st.st_mode) || S_ISLNK(st.st_mode)))
				unlink(path);
		}
		if (snprintf(path, sizeof(path), "%s/%s", devices, e->d_name) < (int)sizeof(path))
			rmdir(path); /* only if empty */
	}
	closedir(d);
}

int rundir_prepare(const struct daemon_config *cfg, int *ret_lock_fd)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, ret;

	ret = mkdir_p(cfg->run_dir, 0755);
	if (ret) {
		umdev_log(UMDEV_LOG_ERR, "cannot create the run dir %s: %s", cfg->run_dir,
			  strerror(-ret));
		return ret;
	}
	ret = join(path, cfg->run_dir, "umdevd.lock");
	if (ret)
		return ret;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		umdev_log(UMDEV_LOG_ERR, "cannot open %s: %s", path, strerror(errno));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		umdev_log(UMDEV_LOG_ERR, "another umdevd is running with the run dir %s",
			  cfg->run_dir);
		close(fd);
		return ret;
	}
	/* the lock file names the daemon holding it, for scripts and `kill` */
	if (ftruncate(fd, 0) < 0 || dprintf(fd, "%ld\n", (long)getpid()) < 0)
		umdev_log(UMDEV_LOG_WARNING, "cannot write the pid into %s: %s", path,
			  strerror(errno));
	/* what a daemon that was killed left behind */
	if (!join(path, cfg->run_dir, "control.sock") && lstat(path, &st) == 0 &&
	    S_ISSOCK(st.st_mode))
		unlink(path);
	ret = join(path, cfg->run_dir, "devices");
	if (!ret) {
		clear_device_sockets(path);
		ret = mkdir_p(path, 0755);
	}
	if (!ret && cfg->sysfs_dir[0]) {
		ret = rundir_clear_stale_mount(cfg->sysfs_dir);
		if (!ret)
			ret = mkdir_p(cfg->sysfs_dir, 0755);
	}
	if (ret) {
		umdev_log(UMDEV_LOG_ERR, "cannot prepare the run dir %s: %s", cfg->run_dir,
			  strerror(-ret));
		close(fd);
		return ret;
	}
	*ret_lock_fd = fd;
	return 0;
}

void rundir_release(const struct daemon_config *cfg, int lock_fd)
{
	char path[PATH_MAX];

	if (!join(path, cfg->run_dir, "devices")) {
		clear_device_sockets(path);
		rmdir(path);
	}
	if (lock_fd >= 0)
		close(lock_fd); /* the lock goes with it; the file stays, harmlessly */
}
