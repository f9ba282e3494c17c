/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of the sysfs suites: the built-in drivers null and mtty started as umdevd
 * starts them (their umdev_builtin_* modules), the tree mounted through FUSE at a fresh
 * temporary directory, file helpers on paths in the mount, and programs (sh, bash,
 * mdevctl) run with a bounded wait and their output captured.
 */
#ifndef UMDEV_TESTS_SYSFS_FIXTURE_H
#define UMDEV_TESTS_SYSFS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <umdev/module.h>

#include "mgmt/sysfs/sysfs.h"
#include "tap.h"

extern const struct umdev_driver_module umdev_builtin_null;
extern const struct umdev_driver_module umdev_builtin_mtty;

/* Drivers to start. */
#define FX_NULL 1u
#define FX_MTTY 2u

#define MTTY_DIR "devices/virtual/mtty/mtty"
#define MTTY_TYPES MTTY_DIR "/mdev_supported_types"
#define NULL_DIR "devices/virtual/null/null"
#define NULL_TYPES NULL_DIR "/mdev_supported_types"
/* The UUID of the ground truth (kernel-mtty-ground-truth.md). */
#define GT_UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

struct fx {
	char mnt[64];		/* the mount point, a temporary directory */
	struct sysfs_fs *fs;
	unsigned int drivers;	/* started */
};

/* Sends the library's warnings and errors to stderr. */
void fx_log_init(void);
/*
 * When this process cannot mount FUSE (not root, no /dev/fuse), prints a TAP plan with one
 * skipped case naming the reason and returns true: main() then returns 0.
 */
bool fx_skip_without_fuse(void);

bool fx_start_drivers(unsigned int drivers);
void fx_stop_drivers(unsigned int drivers);
/* Starts @drivers and mounts the tree; false (checks failed) if anything fails. */
bool fx_mount(struct fx *fx, unsigned int drivers);
void fx_unmount(struct fx *fx);

/* "<mnt>/<rel>" into @buf (a static-size PATH_MAX buffer is enough). */
const char *fx_path(struct fx *fx, char *buf, size_t size, const char *rel);
/* One open(O_WRONLY), one write(), close: the write's result or -errno. */
ssize_t fx_write(struct fx *fx, const char *rel, const void *data, size_t len);
/* fx_write() of a string. */
ssize_t fx_puts(struct fx *fx, const char *rel, const char *s);
/* Reads the whole file into @buf (NUL-terminated): the length or -errno. */
ssize_t fx_read(struct fx *fx, const char *rel, char *buf, size_t size);
/* readlink(), NUL-terminated: the length or -errno. */
ssize_t fx_readlink(struct fx *fx, const char *rel, char *buf, size_t size);
/* lstat(): 0 or -errno. */
int fx_lstat(struct fx *fx, const char *rel, struct stat *st);

/* A program run (fx_run). argv[0] is an absolute path. */
struct fx_cmd {
	const char *const *argv;
	const char *cwd;	/* NULL: unchanged */
	int fd3;		/* >= 0: given to the program as its fd 3 */
	const char *input;	/* NULL: stdin is /dev/null */
	int timeout_s;		/* 0: 60 */
	int status;		/* exit status; -1 if killed (timeout) or not started */
	char out[16384];
	size_t out_len;
	char err[16384];
	size_t err_len;
};

/* Runs the program and waits (bounded) for it; false if it could not run or timed out. */
bool fx_run(struct fx_cmd *cmd);

/* Starts a program with its output thrown away: its pid, or -1. */
pid_t fx_spawn(const char *const *argv, const char *cwd);
/* Waits for @pids until @timeout_s; kills what is left. True if all exited with 0. */
bool fx_wait_all(const pid_t *pids, size_t n, int timeout_s);

#endif
