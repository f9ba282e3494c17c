/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs tree of the management plane, without FUSE: a path resolver that renders the
 * kernel's mdev sysfs layout (docs/sysfs-layout.md) on demand from the mdev core's current
 * state, so that nothing can go stale. The FUSE adapter (sysfs.h) is a thin layer over it;
 * tests and other code use it directly.
 *
 * Paths are relative to the root of the tree, which stands for /sys: "" or "/" is the root,
 * "class/mdev_bus/mtty" or "/class/mdev_bus/mtty" a link in it. Each component must be an
 * existing name; symbolic links are not followed (the kernel resolves them through
 * sysfs_readlink(), as it does for the real sysfs).
 *
 * A node is a directory, an attribute file or a symbolic link. Attribute files follow the
 * rules of sysfs (kernfs): open checks the mode bits, even for root; a read renders at most
 * one page and an open file keeps that snapshot for reads at offsets > 0 (a read at offset
 * 0 renders anew); every write() is one store call of at most a page, at any offset, whose
 * -errno is the write's result. Inode numbers are stable: a path keeps its number while its
 * object exists, and a number is never given to another object.
 *
 * All functions are thread-safe. They call into the mdev core and so must not be called
 * from inside a vendor driver's callbacks.
 */
#ifndef UMDEV_MGMT_SYSFS_TREE_H
#define UMDEV_MGMT_SYSFS_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The longest path in the tree, and the size of an attribute's contents (a page). */
#define SYSFS_PATH_MAX 4096
#define SYSFS_PAGE_SIZE 4096

enum sysfs_type {
	SYSFS_DIR,
	SYSFS_FILE,
	SYSFS_LINK,
};

struct sysfs_tree; /* the resolver's state: inode numbers, device numbers */
struct sysfs_node; /* one resolved path, holding references on what it names */
struct sysfs_file; /* an open attribute file */

/*
 * Creates a tree; it follows the mdev core's notifications (to retire the inode numbers
 * of removed devices and parents) until sysfs_tree_free(). 0, -ENOMEM or the notifier's
 * error.
 */
int sysfs_tree_new(struct sysfs_tree **ret_tree);
void sysfs_tree_free(struct sysfs_tree *tree);

/*
 * Resolves @path. -ENOENT (no such node, or a component is "", "." or ".."), -ENOTDIR (a
 * component below a file or link), -ENAMETOOLONG, -ENOMEM. Free with sysfs_node_free().
 */
int sysfs_lookup(struct sysfs_tree *tree, const char *path, struct sysfs_node **ret_node);
void sysfs_node_free(struct sysfs_node *node);

enum sysfs_type sysfs_node_type(const struct sysfs_node *node);
/* Permission bits: 0755 for directories, 0777 for links, the attribute's for files. */
mode_t sysfs_node_mode(const struct sysfs_node *node);
uint64_t sysfs_node_ino(const struct sysfs_node *node);
/* A link's target, relative to the link's directory as the kernel writes it; else NULL. */
const char *sysfs_node_target(const struct sysfs_node *node);
/*
 * What stat() shows: the type and mode, the inode number, nlink (2 + subdirectories for a
 * directory), st_size 4096 for an attribute and 0 otherwise, the tree's owner, and the time
 * the object appeared.
 */
void sysfs_node_stat(struct sysfs_tree *tree, const struct sysfs_node *node, struct stat *st);

/* sysfs_lookup() then sysfs_node_stat(). */
int sysfs_getattr(struct sysfs_tree *tree, const char *path, struct stat *st);
/* A link's target, NUL-terminated; -EINVAL if @path is not a link, -ENAMETOOLONG. */
int sysfs_readlink(struct sysfs_tree *tree, const char *path, char *buf, size_t size);

/*
 * Lists a directory: @fill is called for each entry (not "." and "..") with its name and
 * what sysfs_node_stat() gives; a non-zero return stops the listing. 0, -ENOTDIR, or the
 * errors of sysfs_lookup().
 */
typedef int (*sysfs_fill_fn)(void *ctx, const char *name, const struct stat *st);
int sysfs_readdir(struct sysfs_tree *tree, const char *path, sysfs_fill_fn fill, void *ctx);

/*
 * Opens an attribute file with open(2)'s @flags (O_ACCMODE; O_TRUNC, O_CREAT, O_APPEND are
 * accepted and ignored). -EACCES when the mode bits forbid the access (whoever asks, as
 * kernfs), -EISDIR for a directory, -ELOOP for a link, or the errors of sysfs_lookup().
 */
int sysfs_file_open(struct sysfs_tree *tree, const char *path, int flags,
		    struct sysfs_file **ret_file);
/*
 * Reads from @offset. A read at offset 0, or the first read, renders the attribute (its
 * show()) into the file's snapshot; other reads continue that snapshot. The byte count, 0
 * at the end, or show()'s -errno (-ENODEV once the attribute's object is gone).
 */
ssize_t sysfs_file_read(struct sysfs_file *file, char *buf, size_t size, uint64_t offset);
/*
 * One store call with the first min(@size, 4096) bytes, whatever @offset: its result (the
 * bytes consumed, or -errno), 0 for a write of 0 bytes, -ENODEV once the object is gone.
 */
ssize_t sysfs_file_write(struct sysfs_file *file, const char *buf, size_t size,
			 uint64_t offset);
void sysfs_file_close(struct sysfs_file *file);

/* truncate(2) on a node: 0 for an attribute (its size does not change), -EISDIR, ... */
int sysfs_truncate(struct sysfs_tree *tree, const char *path);

#endif
