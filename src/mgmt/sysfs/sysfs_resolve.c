/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The resolver: walking a path from the root one component at a time, each a lookup in the
 * directory's list function (sysfs_private.h), and what a node shows to stat(), readdir()
 * and readlink(). Nodes made here hold references on their parent and device until
 * sysfs_node_free(); nothing here keeps state between calls but the inode numbers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/sysfs/sysfs_private.h"

static void node_release_obj(struct sysfs_node *n)
{
	mdev_device_put(n->obj.mdev);
	mdev_parent_put(n->obj.parent);
	free((char *)n->obj.str);
	free((char *)n->path);
	free((char *)n->target);
}

void sysfs_node_free(struct sysfs_node *n)
{
	if (!n)
		return;
	if (n->owned)
		node_release_obj(n);
	free(n);
}

/* An owned copy of a node seen during a walk: references taken, strings copied. */
static struct sysfs_node *node_dup(const struct sysfs_node *src)
{
	struct sysfs_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	*n = *src;
	n->owned = true;
	n->obj.str = NULL;
	n->path = NULL;
	n->target = NULL;
	n->obj.parent = src->obj.parent ? mdev_parent_get(src->obj.parent) : NULL;
	n->obj.mdev = src->obj.mdev ? mdev_device_get(src->obj.mdev) : NULL;
	if (src->obj.str && !(n->obj.str = strdup(src->obj.str)))
		goto err;
	if (!(n->path = strdup(src->path)))
		goto err;
	if (src->target && !(n->target = strdup(src->target)))
		goto err;
	return n;
err:
	node_release_obj(n);
	free(n);
	return NULL;
}

static int walk_run(struct sysfs_walk *w)
{
	int ret = sysfs_kinds[w->dir->kind].list(w);

	if (ret < 0 && !w->err)
		w->err = ret;
	return w->err;
}

/* The number of subdirectories of a directory node. */
static unsigned int node_count_dirs(struct sysfs_tree *tree, const struct sysfs_node *dir)
{
	struct sysfs_walk w = { .tree = tree, .dir = dir, .mode = SYSFS_WALK_COUNT };

	walk_run(&w);
	return w.ndirs;
}

bool sysfs_walk_emit(struct sysfs_walk *w, const char *name, enum sysfs_kind kind,
		     const struct sysfs_obj *obj, const char *target)
{
	char path[SYSFS_PATH_MAX], rel[SYSFS_PATH_MAX];
	struct sysfs_node child;
	struct stat st;

	if (w->err)
		return true;
	if (!sysfs_name_ok(name))
		return false; /* not representable: left out */
	if (w->mode == SYSFS_WALK_LOOKUP && strcmp(name, w->want))
		return false;
	if (w->mode == SYSFS_WALK_COUNT) {
		if (sysfs_kinds[kind].type == SYSFS_DIR)
			w->ndirs++;
		return false;
	}
	if (sysfs_join(path, sizeof(path), w->dir->path, name) < 0)
		return false;
	if (kind == SK_LINK && sysfs_rel_link(w->dir->path, target, rel, sizeof(rel)) < 0)
		return false;

	memset(&child, 0, sizeof(child));
	child.kind = kind;
	child.obj = *obj;
	child.path = path;
	child.target = kind == SK_LINK ? rel : NULL;
	sysfs_ident(w->tree, obj, path, &child.ino, &child.time);

	if (w->mode == SYSFS_WALK_LOOKUP) {
		w->found = node_dup(&child);
		if (!w->found)
			w->err = -ENOMEM;
		return true;
	}
	sysfs_node_stat(w->tree, &child, &st);
	return w->fill(w->ctx, name, &st) != 0;
}

static struct sysfs_node *root_new(struct sysfs_tree *tree)
{
	struct sysfs_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = SK_ROOT;
	n->owned = true;
	n->ino = SYSFS_ROOT_INO;
	n->time = tree->time;
	n->path = strdup("");
	if (!n->path) {
		free(n);
		return NULL;
	}
	return n;
}

int sysfs_resolve(struct sysfs_tree *tree, const char *path, bool any_state,
		  struct sysfs_node **ret_node)
{
	struct sysfs_node *node;
	const char *p = path;
	char name[SYSFS_NAME_MAX + 1];

	if (!path)
		return -EINVAL;
	if (strnlen(path, SYSFS_PATH_MAX + 1) > SYSFS_PATH_MAX)
		return -ENAMETOOLONG;
	node = root_new(tree);
	if (!node)
		return -ENOMEM;
	if (*p == '/')
		p++;
	while (*p) {
		struct sysfs_walk w = { .tree = tree, .mode = SYSFS_WALK_LOOKUP, .want = name,
					.any_state = any_state };
		size_t len = strcspn(p, "/");
		int ret;

		if (sysfs_kinds[node->kind].type != SYSFS_DIR) {
			sysfs_node_free(node);
			return -ENOTDIR;
		}
		if (len > SYSFS_NAME_MAX) {
			sysfs_node_free(node);
			return -ENAMETOOLONG;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		w.dir = node;
		ret = walk_run(&w); /* an empty, "." or ".." name matches nothing */
		sysfs_node_free(node);
		if (ret) {
			sysfs_node_free(w.found);
			return ret;
		}
		if (!w.found)
			return -ENOENT;
		node = w.found;
		p += len;
		if (*p == '/') {
			p++;
			/* a trailing '/' names a directory */
			if (!*p && sysfs_kinds[node->kind].type != SYSFS_DIR) {
				sysfs_node_free(node);
				return -ENOTDIR;
			}
		}
	}
	*ret_node = node;
	return 0;
}

int sysfs_lookup(struct sysfs_tree *tree, const char *path, struct sysfs_node **ret_node)
{
	return sysfs_resolve(tree, path, false, ret_node);
}

enum sysfs_type sysfs_node_type(const struct sysfs_node *node)
{
	return sysfs_kinds[node->kind].type;
}

static bool kind_is_vendor(enum sysfs_kind kind)
{
	return kind == SK_TYPE_ATTR || kind == SK_PARENT_ATTR || kind == SK_MDEV_ATTR;
}

mode_t sysfs_node_mode(const struct sysfs_node *node)
{
	if (kind_is_vendor(node->kind))
		return node->obj.attr->mode & 0777;
	return sysfs_kinds[node->kind].mode;
}

uint64_t sysfs_node_ino(const struct sysfs_node *node)
{
	return node->ino;
}

const char *sysfs_node_target(const struct sysfs_node *node)
{
	return node->kind == SK_LINK ? node->target : NULL;
}

/*
 * As sysfs: the mode bits decide; a vendor attribute whose show or store is missing
 * opens, and the core's dispatch answers -EIO (as the kernel's kobject sysfs_ops do).
 */
bool sysfs_node_readable(const struct sysfs_node *node)
{
	if (sysfs_node_type(node) != SYSFS_FILE || !(sysfs_node_mode(node) & 0444))
		return false;
	return kind_is_vendor(node->kind) || sysfs_kinds[node->kind].show;
}

bool sysfs_node_writable(const struct sysfs_node *node)
{
	if (sysfs_node_type(node) != SYSFS_FILE || !(sysfs_node_mode(node) & 0222))
		return false;
	return kind_is_vendor(node->kind) || sysfs_kinds[node->kind].store;
}

void sysfs_node_stat(struct sysfs_tree *tree, const struct sysfs_node *node, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = node->ino;
	st->st_uid = tree->uid;
	st->st_gid = tree->gid;
	st->st_blksize = SYSFS_PAGE_SIZE;
	st->st_atim.tv_sec = node->time;
	st->st_mtim.tv_sec = node->time;
	st->st_ctim.tv_sec = node->time;
	switch (sysfs_node_type(node)) {
	case SYSFS_DIR:
		st->st_mode = S_IFDIR | sysfs_node_mode(node);
		st->st_nlink = 2 + node_count_dirs(tree, node);
		break;
	case SYSFS_FILE:
		st->st_mode = S_IFREG | sysfs_node_mode(node);
		st->st_nlink = 1;
		st->st_size = SYSFS_PAGE_SIZE;
		break;
	case SYSFS_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		break;
	}
}

int sysfs_getattr(struct sysfs_tree *tree, const char *path, struct stat *st)
{
	struct sysfs_node *node;
	int ret = sysfs_lookup(tree, path, &node);

	if (ret)
		return ret;
	sysfs_node_stat(tree, node, st);
	sysfs_node_free(node);
	return 0;
}

int sysfs_readlink(struct sysfs_tree *tree, const char *path, char *buf, size_t size)
{
	struct sysfs_node *node;
	int ret = sysfs_lookup(tree, path, &node);

	if (ret)
		return ret;
	if (node->kind != SK_LINK)
		ret = -EINVAL;
	else if (strlen(node->target) >= size)
		ret = -ENAMETOOLONG;
	else
		strcpy(buf, node->target);
	sysfs_node_free(node);
	return ret;
}

int sysfs_readdir(struct sysfs_tree *tree, const char *path, sysfs_fill_fn fill, void *ctx)
{
	struct sysfs_walk w = { .tree = tree, .mode = SYSFS_WALK_LIST, .fill = fill, .ctx = ctx };
	struct sysfs_node *node;
	int ret = sysfs_lookup(tree, path, &node);

	if (ret)
		return ret;
	if (sysfs_node_type(node) != SYSFS_DIR) {
		sysfs_node_free(node);
		return -ENOTDIR;
	}
	w.dir = node;
	ret = walk_run(&w);
	sysfs_node_free(node);
	return ret;
}

int sysfs_truncate(struct sysfs_tree *tree, const char *path)
{
	struct sysfs_node *node;
	int ret = sysfs_lookup(tree, path, &node);

	if (ret)
		return ret;
	switch (sysfs_node_type(node)) {
	case SYSFS_FILE:
		/* kernfs ignores a size change (`echo x > attr` opens with O_TRUNC); the
		 * permission check is the kernel's (default_permissions) */
		ret = 0;
		break;
	case SYSFS_DIR:
		ret = -EISDIR;
		break;
	case SYSFS_LINK:
		ret = -EINVAL;
		break;
	}
	sysfs_node_free(node);
	return ret;
}
