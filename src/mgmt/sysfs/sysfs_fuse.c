/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The FUSE adapter of the sysfs tree (sysfs.h): libfuse3's high-level API over the path
 * resolver of sysfs_tree.h.
 *
 * Why the high-level API: the resolver works on paths, which is what the high-level API
 * hands over; libfuse keeps the kernel's node ids and lookup counts, and with use_ino the
 * inode numbers stat() shows are the resolver's stable ones. Nothing here needs the
 * low-level API's extras: with entry and negative timeouts of 0 the kernel looks every name
 * up again on every path walk, so there is nothing to invalidate when devices come and go
 * (mdevctl-contract.md A.9), and direct_io makes every read() and write() a request of its
 * own (the snapshot and store rules of sysfs_file.c). Attributes (mode, owner, size) are
 * kept for ATTR_TIMEOUT_S: nothing in the tree ever changes them (chmod and chown are
 * refused), and without it every permission check of a path walk was a GETATTR of its own,
 * a third of the requests of a create+remove cycle. A removed device still disappears at
 * once: its name's next LOOKUP fails.
 *
 * Permissions: mounted with default_permissions, so the kernel checks the mode bits
 * against the caller's uid as for any file; root passes that check, and the resolver then
 * refuses, as kernfs does even for root, to open a 0200 file for reading or a 0444 file for
 * writing (EACCES). As root the mount also gets allow_other, so that other users and
 * mdevctl see it.
 *
 * Threads: libfuse's multithreaded loop runs in a thread of its own (all signals blocked,
 * so that they go to the daemon's threads) and starts up to SYSFS_FS_MAX_THREADS workers.
 * Stopping: fuse_exit(), then one request of our own (a stat of the mount's root) wakes a
 * worker, which sees the exit and ends the loop; if workers stay busy past the timeout
 * (a remove waiting for a client), the connection is aborted through fusectl when it is
 * mounted.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <umdev/log.h>

#include "mgmt/sysfs/sysfs.h"

struct sysfs_fs {
	struct sysfs_tree *tree;
	struct fuse *fuse;
	char *mountpoint;
	int root_fd;		/* O_PATH on the mount's root: the wake-up request */
	dev_t dev;		/* the mount's st_dev: its fusectl connection */
	pthread_t loop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool loop_done;		/* lock */
	int loop_ret;		/* lock */
	struct fs_open_file *open_files; /* lock: released by fs_free() if FUSE never does */
};

/*
 * An open file. The kernel sends RELEASE asynchronously after the last close(), so at
 * unmount some may never arrive: the files still listed here are closed by fs_free().
 */
struct fs_open_file {
	struct sysfs_file *file;
	struct fs_open_file *prev, *next;
};

static struct sysfs_tree *ctx_tree(void)
{
	return ((struct sysfs_fs *)fuse_get_context()->private_data)->tree;
}

static struct sysfs_fs *ctx_fs(void)
{
	return fuse_get_context()->private_data;
}

static struct fs_open_file *fi_open_file(struct fuse_file_info *fi)
{
	return (struct fs_open_file *)(uintptr_t)fi->fh;
}

static struct sysfs_file *fi_file(struct fuse_file_info *fi)
{
	return fi_open_file(fi)->file;
}

/* How long the kernel keeps a node's attributes (see the top of the file). */
#define ATTR_TIMEOUT_S 1.0

/* ---- operations ---- */

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->use_ino = 1;
	cfg->readdir_ino = 1;
	cfg->entry_timeout = 0;
	cfg->attr_timeout = ATTR_TIMEOUT_S;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	cfg->nullpath_ok = 0;
	return fuse_get_context()->private_data;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	return sysfs_getattr(ctx_tree(), path, st);
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	return sysfs_readlink(ctx_tree(), path, buf, size);
}

struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
	enum fuse_fill_dir_flags flags;
};

static int fill_one(void *ctx, const char *name, const struct stat *st)
{
	struct fill_ctx *c = ctx;

	return c->filler(c->buf, name, st, 0, c->flags);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fill_ctx c = {
		.buf = buf,
		.filler = filler,
		.flags = (flags & FUSE_READDIR_PLUS) ? FUSE_FILL_DIR_PLUS : 0,
	};

	(void)offset; /* everything at once: libfuse serves the offsets */
	(void)fi;
	if (filler(buf, ".", NULL, 0, 0) || filler(buf, "..", NULL, 0, 0))
		return -ENOMEM;
	return sysfs_readdir(ctx_tree(), path, fill_one, &c);
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct sysfs_fs *fs = ctx_fs();
	struct fs_open_file *of = calloc(1, sizeof(*of));
	int ret;

	if (!of)
		return -ENOMEM;
	ret = sysfs_file_open(fs->tree, path, fi->flags, &of->file);
	if (ret) {
		free(of);
		return ret;
	}
	pthread_mutex_lock(&fs->lock);
	of->next = fs->open_files;
	if (of->next)
		of->next->prev = of;
	fs->open_files = of;
	pthread_mutex_unlock(&fs->lock);
	fi->fh = (uint64_t)(uintptr_t)of;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t offset,
		   struct fuse_file_info *fi)
{
	(void)path;
	if (offset < 0)
		return -EINVAL;
	return (int)sysfs_file_read(fi_file(fi), buf, size, (uint64_t)offset);
}

static int fs_write(const char *path, const char *buf, size_t size, off_t offset,
		    struct fuse_file_info *fi)
{
	(void)path;
	if (offset < 0)
		return -EINVAL;
	return (int)sysfs_file_write(fi_file(fi), buf, size, (uint64_t)offset);
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct sysfs_fs *fs = ctx_fs();
	struct fs_open_file *of = fi_open_file(fi);

	(void)path;
	pthread_mutex_lock(&fs->lock);
	if (of->prev)
		of->prev->next = of->next;
	else
		fs->open_files = of->next;
	if (of->next)
		of->next->prev = of->prev;
	pthread_mutex_unlock(&fs->lock);
	sysfs_file_close(of->file);
	free(of);
	return 0;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)size;
	(void)fi;
	return sysfs_truncate(ctx_tree(), path);
}

/* Setting times is accepted and has no effect, as far as stat() shows. */
static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct stat st;

	(void)tv;
	(void)fi;
	return sysfs_getattr(ctx_tree(), path, &st);
}

/* Creating a file in a sysfs directory: EACCES, as the kernel (no create op). */
static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EACCES;
}

static int fs_mknod(const char *path, mode_t mode, dev_t rdev)
{
	(void)path;
	(void)mode;
	(void)rdev;
	return -EPERM;
}

static int fs_mkdir(const char *path, mode_t mode)
{
	(void)path;
	(void)mode;
	return -EPERM;
}

static int fs_unlink(const char *path)
{
	(void)path;
	return -EPERM;
}

static int fs_symlink(const char *target, const char *path)
{
	(void)target;
	(void)path;
	return -EPERM;
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
	(void)from;
	(void)to;
	(void)flags;
	return -EPERM;
}

static int fs_link(const char *from, const char *to)
{
	(void)from;
	(void)to;
	return -EPERM;
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EPERM;
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)path;
	(void)uid;
	(void)gid;
	(void)fi;
	return -EPERM;
}

static const struct fuse_operations sysfs_fuse_ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.release = fs_release,
	.truncate = fs_truncate,
	.utimens = fs_utimens,
	.create = fs_create,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_unlink,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.chmod = fs_chmod,
	.chown = fs_chown,
};

/* ---- libfuse's messages go to umdev's log ---- */

static void fs_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char msg[512];
	size_t len;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	umdev_log(level <= FUSE_LOG_ERR ? UMDEV_LOG_ERR
		  : level == FUSE_LOG_WARNING ? UMDEV_LOG_WARNING
		  : level <= FUSE_LOG_INFO ? UMDEV_LOG_INFO : UMDEV_LOG_DEBUG,
		  "sysfs: libfuse: %s", msg);
}

static pthread_once_t fs_log_once = PTHREAD_ONCE_INIT;

static void fs_log_install(void)
{
	fuse_set_log_func(fs_log);
}

/* ---- the loop thread ---- */

static void *fs_loop(void *arg)
{
	struct sysfs_fs *fs = arg;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int ret;

	if (cfg)
		fuse_loop_cfg_set_max_threads(cfg, SYSFS_FS_MAX_THREADS);
	ret = fuse_loop_mt(fs->fuse, cfg);
	fuse_loop_cfg_destroy(cfg);
	pthread_mutex_lock(&fs->lock);
	fs->loop_done = true;
	fs->loop_ret = ret;
	pthread_cond_broadcast(&fs->cond);
	pthread_mutex_unlock(&fs->lock);
	return NULL;
}

/* The request that wakes a worker to see fuse_exit(). */
static void *fs_poke(void *arg)
{
	struct sysfs_fs *fs = arg;
	struct stat st;

	/* a name the tree does not have: with no negative caching its LOOKUP always reaches a
	 * worker, where a stat of the root may be answered from the attribute cache */
	fstatat(fs->root_fd, "umdev-stop", &st, AT_SYMLINK_NOFOLLOW);
	return NULL;
}

/* Waits up to SYSFS_FS_STOP_TIMEOUT_MS for the loop to end; true if it has. */
static bool fs_wait_loop(struct sysfs_fs *fs)
{
	struct timespec deadline;
	bool done;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += SYSFS_FS_STOP_TIMEOUT_MS / 1000;
	deadline.tv_nsec += (SYSFS_FS_STOP_TIMEOUT_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&fs->lock);
	while (!fs->loop_done)
		if (pthread_cond_timedwait(&fs->cond, &fs->lock, &deadline) == ETIMEDOUT)
			break;
	done = fs->loop_done;
	pthread_mutex_unlock(&fs->lock);
	return done;
}

/* Aborts the FUSE connection (fusectl, when mounted): blocked workers wake with ENODEV. */
static void fs_abort(struct sysfs_fs *fs)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/abort",
		 (major(fs->dev) << 20) | minor(fs->dev));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		umdev_log(UMDEV_LOG_WARNING, "sysfs: cannot abort the FUSE connection of %s: %s",
			  fs->mountpoint, strerror(errno));
		return;
	}
	if (write(fd, "1", 1) != 1)
		umdev_log(UMDEV_LOG_WARNING, "sysfs: aborting the FUSE connection of %s: %s",
			  fs->mountpoint, strerror(errno));
	close(fd);
}

/* ---- mount and unmount ---- */

struct sysfs_tree *sysfs_fs_tree(struct sysfs_fs *fs)
{
	return fs->tree;
}

static void fs_free(struct sysfs_fs *fs)
{
	while (fs->open_files) {
		struct fs_open_file *of = fs->open_files;

		fs->open_files = of->next;
		sysfs_file_close(of->file);
		free(of);
	}
	if (fs->root_fd >= 0)
		close(fs->root_fd);
	if (fs->fuse)
		fuse_destroy(fs->fuse);
	sysfs_tree_free(fs->tree);
	pthread_cond_destroy(&fs->cond);
	pthread_mutex_destroy(&fs->lock);
	free(fs->mountpoint);
	free(fs);
}

static int fs_check_mountpoint(const char *mountpoint)
{
	struct stat st;
	int ret;

	if (stat(mountpoint, &st)) {
		ret = -errno;
		umdev_log(UMDEV_LOG_ERR, "sysfs: mount point %s: %s", mountpoint, strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		umdev_log(UMDEV_LOG_ERR, "sysfs: mount point %s is not a directory", mountpoint);
		return -ENOTDIR;
	}
	if (access("/dev/fuse", R_OK | W_OK)) {
		ret = -errno;
		umdev_log(UMDEV_LOG_ERR, "sysfs: cannot use /dev/fuse: %s (is fuse3 installed, "
			  "and the fuse module loaded?)", strerror(-ret));
		return ret;
	}
	return 0;
}

int sysfs_fs_mount(const char *mountpoint, struct sysfs_fs **ret)
{
	/* allow_other needs root (or user_allow_other in /etc/fuse.conf): only as root */
	static char opts_root[] = "default_permissions,allow_other,fsname=umdev-sysfs,"
				  "subtype=umdev-sysfs";
	static char opts_user[] = "default_permissions,fsname=umdev-sysfs,subtype=umdev-sysfs";
	static char name[] = "umdev-sysfs", dash_o[] = "-o";
	char *argv[] = { name, dash_o, geteuid() == 0 ? opts_root : opts_user, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	pthread_condattr_t cattr;
	sigset_t all, old;
	struct sysfs_fs *fs;
	struct stat st;
	int err;

	if (!mountpoint || !ret)
		return -EINVAL;
	err = fs_check_mountpoint(mountpoint);
	if (err)
		return err;
	pthread_once(&fs_log_once, fs_log_install);

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->root_fd = -1;
	pthread_mutex_init(&fs->lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&fs->cond, &cattr);
	pthread_condattr_destroy(&cattr);
	fs->mountpoint = strdup(mountpoint);
	if (!fs->mountpoint) {
		err = -ENOMEM;
		goto err_free;
	}
	err = sysfs_tree_new(&fs->tree);
	if (err)
		goto err_free;

	fs->fuse = fuse_new(&args, &sysfs_fuse_ops, sizeof(sysfs_fuse_ops), fs);
	fuse_opt_free_args(&args);
	if (!fs->fuse) {
		umdev_log(UMDEV_LOG_ERR, "sysfs: cannot set up FUSE");
		err = -ENOMEM;
		goto err_free;
	}
	if (fuse_mount(fs->fuse, mountpoint)) {
		umdev_log(UMDEV_LOG_ERR, "sysfs: cannot mount the tree at %s (are you root, or is "
			  "fusermount3 installed?)", mountpoint);
		err = -EIO;
		goto err_free;
	}

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&fs->loop, NULL, fs_loop, fs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		umdev_log(UMDEV_LOG_ERR, "sysfs: cannot start the FUSE loop: %s", strerror(-err));
		goto err_unmount;
	}

	fs->root_fd = open(mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root_fd < 0 || fstat(fs->root_fd, &st)) {
		err = -errno;
		umdev_log(UMDEV_LOG_ERR, "sysfs: the tree mounted at %s does not answer: %s",
			  mountpoint, strerror(-err));
		sysfs_fs_unmount(fs);
		return err;
	}
	fs->dev = st.st_dev;
	umdev_log(UMDEV_LOG_INFO, "sysfs: tree mounted at %s", mountpoint);
	*ret = fs;
	return 0;

err_unmount:
	fuse_unmount(fs->fuse);
err_free:
	fs_free(fs);
	return err;
}

void sysfs_fs_unmount(struct sysfs_fs *fs)
{
	pthread_t poke;
	bool poked;

	if (!fs)
		return;
	fuse_exit(fs->fuse);
	poked = fs->root_fd >= 0 && !pthread_create(&poke, NULL, fs_poke, fs);
	if (!fs_wait_loop(fs)) {
		umdev_log(UMDEV_LOG_WARNING, "sysfs: %s: FUSE workers still busy, aborting the "
			  "connection", fs->mountpoint);
		fs_abort(fs);
		if (!fs_wait_loop(fs)) {
			umdev_log(UMDEV_LOG_ERR, "sysfs: %s: FUSE workers do not stop; leaving "
				  "them", fs->mountpoint);
			if (poked)
				pthread_detach(poke);
			return;
		}
	}
	pthread_join(fs->loop, NULL);
	/* closes /dev/fuse, which ends the connection, and detaches the mount */
	fuse_unmount(fs->fuse);
	if (poked)
		pthread_join(poke, NULL);
	umdev_log(UMDEV_LOG_INFO, "sysfs: tree unmounted from %s", fs->mountpoint);
	fs_free(fs);
}
