/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Open attribute files, with kernfs's rules: open checks the mode bits (and that the
 * attribute has a show for reading, a store for writing) whoever asks; reads are served
 * from a one-page snapshot that a read at offset 0 (or the first read) renders; each
 * write is one store call of at most a page, whatever the offset.
 *
 * An open file remembers its path and inode number, not the objects: every operation
 * resolves the path again and fails with -ENODEV if the object there is not the one that
 * was opened (removed, or removed and created anew). So an open file holds no reference
 * that would keep a removed device's UUID reserved, which matters because FUSE releases
 * files asynchronously, after close() has returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/sysfs/sysfs_private.h"

struct sysfs_file {
	struct sysfs_tree *tree;
	char *path;
	uint64_t ino;
	pthread_mutex_t lock;	/* the snapshot */
	char *snap;		/* SYSFS_PAGE_SIZE bytes once read */
	size_t snap_len;
	bool have_snap;
};

int sysfs_file_open(struct sysfs_tree *tree, const char *path, int flags,
		    struct sysfs_file **ret_file)
{
	int acc = flags & O_ACCMODE;
	struct sysfs_node *node;
	struct sysfs_file *f;
	int ret = sysfs_lookup(tree, path, &node);

	if (ret)
		return ret;
	if (sysfs_node_type(node) != SYSFS_FILE) {
		ret = sysfs_node_type(node) == SYSFS_DIR ? -EISDIR : -ELOOP;
		goto out;
	}
	if (acc != O_RDONLY && acc != O_WRONLY && acc != O_RDWR) {
		ret = -EINVAL;
		goto out;
	}
	if ((acc != O_WRONLY && !sysfs_node_readable(node)) ||
	    (acc != O_RDONLY && !sysfs_node_writable(node))) {
		ret = -EACCES;
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		ret = -ENOMEM;
		goto out;
	}
	f->path = strdup(node->path);
	if (!f->path) {
		free(f);
		ret = -ENOMEM;
		goto out;
	}
	f->tree = tree;
	f->ino = node->ino;
	pthread_mutex_init(&f->lock, NULL);
	*ret_file = f;
out:
	sysfs_node_free(node);
	return ret;
}

void sysfs_file_close(struct sysfs_file *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f->snap);
	free(f->path);
	free(f);
}

/* The node the file was opened on, if it is still there. */
static int file_node(struct sysfs_file *f, struct sysfs_node **ret_node)
{
	struct sysfs_node *node;
	int ret = sysfs_resolve(f->tree, f->path, true, &node);

	if (ret == -ENOENT || ret == -ENOTDIR)
		return -ENODEV;
	if (ret)
		return ret;
	if (node->ino != f->ino) {
		sysfs_node_free(node);
		return -ENODEV;
	}
	*ret_node = node;
	return 0;
}

/* Renders the attribute into the snapshot (f->lock held). */
static int file_render(struct sysfs_file *f)
{
	struct sysfs_node *node;
	ssize_t n;
	int ret;

	f->have_snap = false;
	if (!f->snap) {
		f->snap = malloc(SYSFS_PAGE_SIZE);
		if (!f->snap)
			return -ENOMEM;
	}
	ret = file_node(f, &node);
	if (ret)
		return ret;
	memset(f->snap, 0, SYSFS_PAGE_SIZE);
	n = sysfs_kinds[node->kind].show ? sysfs_kinds[node->kind].show(f->tree, node, f->snap)
					 : -EIO;
	sysfs_node_free(node);
	if (n < 0)
		return (int)n;
	/* as sysfs: a show may fill at most a page less its NUL */
	f->snap_len = (size_t)n >= SYSFS_PAGE_SIZE ? SYSFS_PAGE_SIZE - 1 : (size_t)n;
	f->have_snap = true;
	return 0;
}

ssize_t sysfs_file_read(struct sysfs_file *f, char *buf, size_t size, uint64_t offset)
{
	ssize_t ret = 0;

	pthread_mutex_lock(&f->lock);
	if (!f->have_snap || offset == 0) {
		int err = file_render(f);

		if (err) {
			ret = err;
			goto out;
		}
	}
	if (offset < f->snap_len) {
		size_t n = f->snap_len - (size_t)offset;

		if (n > size)
			n = size;
		memcpy(buf, f->snap + offset, n);
		ret = (ssize_t)n;
	}
out:
	pthread_mutex_unlock(&f->lock);
	return ret;
}

ssize_t sysfs_file_write(struct sysfs_file *f, const char *buf, size_t size, uint64_t offset)
{
	struct sysfs_node *node;
	size_t n = size > SYSFS_PAGE_SIZE ? SYSFS_PAGE_SIZE : size;
	char *copy;
	ssize_t ret;

	(void)offset; /* every write is a store of its own, as in sysfs */
	if (!size)
		return 0;
	ret = file_node(f, &node);
	if (ret)
		return ret;
	if (!sysfs_node_writable(node)) {
		ret = -EACCES;
		goto out;
	}
	copy = malloc(n + 1);
	if (!copy) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(copy, buf, n);
	copy[n] = '\0';
	ret = sysfs_kinds[node->kind].store(f->tree, node, copy, n);
	free(copy);
	if (ret > (ssize_t)n)
		ret = (ssize_t)n;
out:
	sysfs_node_free(node);
	return ret;
}
