/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and removing definitions (definitions.h): the walk over <conf-dir>/<parent>/<uuid>
 * with mdevctl's rules for what is a parent and what is a definition, each file read with
 * a bound and without following links or blocking on special files, and bad files reported
 * and skipped one by one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgmt/persist/definitions.h"

/* What a walk collects. */
struct collect {
	struct mdev_definition *defs;
	size_t count, cap;
	definition_bad_file_fn bad_file;
	void *userdata;
	const char *conf_dir;
};

/* Reports a skipped file; @msg NULL: a bad definition, whose @why is prefixed by its path. */
static void report(struct collect *c, const char *parent, const char *name, const char *msg,
		   const char *why)
{
	char path[4096 + 2 * DEFINITION_MAX_NAME + 4], text[sizeof(path) + 600];

	if (!c->bad_file)
		return;
	snprintf(path, sizeof(path), "%s/%s/%s", c->conf_dir, parent, name);
	if (!msg) {
		snprintf(text, sizeof(text), "%s: %s", path, why);
		msg = text;
	}
	c->bad_file(path, msg, c->userdata);
}

/* Rust's rendering of an OS error, as mdevctl prints one. */
static void os_error(char *err, size_t errlen, int errnum)
{
	snprintf(err, errlen, "%s (os error %d)", strerror(errnum), errnum);
}

/*
 * Reads the regular file @name of @dirfd (not through a symlink, not blocking on a FIFO)
 * into a malloc'd buffer of at most DEFINITION_MAX_FILE_SIZE bytes. 0, -EFBIG, -errno.
 */
static int read_file_at(int dirfd, const char *name, char **ret_buf, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, ret;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out_close;
	}
	buf = malloc(DEFINITION_MAX_FILE_SIZE + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out_close;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, DEFINITION_MAX_FILE_SIZE + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > DEFINITION_MAX_FILE_SIZE) {
			ret = -EFBIG;
			goto out_free;
		}
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	close(fd);
	return 0;

out_free:
	free(buf);
out_close:
	close(fd);
	return ret;
}

/* Reads and parses one definition file; 0, or -errno with a message. */
static int load_file_at(int dirfd, const char *name, struct mdev_definition *def, char *err,
			size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	ret = read_file_at(dirfd, name, &buf, &len);
	if (ret == -EFBIG)
		snprintf(err, errlen, "file is larger than %d bytes", DEFINITION_MAX_FILE_SIZE);
	else if (ret)
		os_error(err, errlen, -ret);
	if (ret)
		return ret;
	ret = definition_parse(buf, len, def, err, errlen);
	free(buf);
	return ret;
}

static int collect_add(struct collect *c, struct mdev_definition *def)
{
	if (c->count == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct mdev_definition *defs = realloc(c->defs, cap * sizeof(*defs));

		if (!defs)
			return -ENOMEM;
		c->defs = defs;
		c->cap = cap;
	}
	c->defs[c->count++] = *def;
	return 0;
}

/* Loads the definitions in the directory @parent (already opened as @dirfd). */
static int load_parent(struct collect *c, int dirfd, const char *parent)
{
	char err[512], canon[MDEVCTL_UUID_SIZE];
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	dir = fdopendir(dirfd);
	if (!dir) {
		close(dirfd);
		return -errno;
	}
	while ((errno = 0, de = readdir(dir))) {
		struct mdev_definition def = { 0 };
		struct stat st;

		if (de->d_name[0] == '.')
			continue; /* ".", "..", and hidden files such as our temporaries */
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!mdevctl_uuid_is_canonical(de->d_name)) {
			if (mdevctl_uuid_parse(de->d_name, canon, err, sizeof(err))) {
				snprintf(err, sizeof(err), "Can't determine uuid for file '%s'",
					 de->d_name);
				report(c, parent, de->d_name, err, NULL);
			}
			continue; /* a UUID in another form: mdevctl 1.2.0 ignores it */
		}
		if (c->count >= DEFINITIONS_MAX_COUNT) {
			snprintf(err, sizeof(err), "more than %d definitions, not loaded",
				 DEFINITIONS_MAX_COUNT);
			report(c, parent, de->d_name, NULL, err);
			continue;
		}
		ret = load_file_at(dirfd, de->d_name, &def, err, sizeof(err));
		if (ret == -ENOMEM)
			break;
		if (ret) {
			report(c, parent, de->d_name, NULL, err);
			ret = 0;
			continue;
		}
		snprintf(def.parent, sizeof(def.parent), "%s", parent);
		memcpy(def.uuid, de->d_name, MDEVCTL_UUID_SIZE);
		ret = collect_add(c, &def);
		if (ret) {
			definition_clear(&def);
			break;
		}
	}
	if (!ret && errno)
		ret = -errno;
	closedir(dir);
	return ret;
}

/* Opens the parent directory @name of @conffd: a real directory, not a link to one. */
static int open_parent(int conffd, const char *name)
{
	int fd = openat(conffd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int def_cmp(const void *a, const void *b)
{
	const struct mdev_definition *x = a, *y = b;
	int r = strcmp(x->parent, y->parent);

	return r ? r : strcmp(x->uuid, y->uuid);
}

int definitions_load(const char *conf_dir, const char *parent,
		     struct mdev_definition **defs, size_t *count,
		     definition_bad_file_fn bad_file, void *userdata)
{
	struct collect c = { .bad_file = bad_file, .userdata = userdata, .conf_dir = conf_dir };
	struct dirent *de;
	DIR *dir = NULL;
	int conffd, fd, ret = 0;

	if (parent && !definition_parent_name_ok(parent))
		goto out_done; /* no such directory can exist */
	conffd = open(conf_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (conffd < 0) {
		if (errno == ENOENT)
			goto out_done;
		return -errno;
	}
	if (parent) {
		fd = open_parent(conffd, parent);
		close(conffd);
		if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
			goto out_done;
		ret = fd < 0 ? fd : load_parent(&c, fd, parent);
		goto out_done;
	}
	dir = fdopendir(conffd);
	if (!dir) {
		ret = -errno;
		close(conffd);
		goto out_done;
	}
	while (!ret && (errno = 0, de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		fd = open_parent(conffd, de->d_name);
		if (fd == -ENOTDIR || fd == -ELOOP || fd == -ENOENT)
			continue; /* not a real directory */
		if (fd < 0 && fd != -ENOMEM) {
			/* an unreadable parent directory is skipped like an unreadable file */
			char path[4096 + DEFINITION_MAX_NAME + 2], why[4096 + 400];

			snprintf(path, sizeof(path), "%s/%s", conf_dir, de->d_name);
			snprintf(why, sizeof(why), "%s: %s (os error %d)", path, strerror(-fd), -fd);
			if (bad_file)
				bad_file(path, why, userdata);
			continue;
		}
		ret = fd < 0 ? fd : load_parent(&c, fd, de->d_name);
	}
	if (!ret && errno)
		ret = -errno;
	closedir(dir);
out_done:
	if (ret) {
		definitions_free(c.defs, c.count);
		return ret;
	}
	if (c.count)
		qsort(c.defs, c.count, sizeof(*c.defs), def_cmp);
	*defs = c.defs;
	*count = c.count;
	return 0;
}

int definition_load_one(const char *conf_dir, const char *parent, const char *uuid,
			struct mdev_definition *def, char *err, size_t errlen)
{
	int conffd, fd, ret;

	memset(def, 0, sizeof(*def));
	if (!definition_parent_name_ok(parent) || !mdevctl_uuid_is_canonical(uuid))
		return -ENOENT;
	conffd = open(conf_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (conffd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	fd = open_parent(conffd, parent);
	close(conffd);
	if (fd < 0)
		return fd == -ENOTDIR || fd == -ELOOP ? -ENOENT : fd;
	ret = load_file_at(fd, uuid, def, err, errlen);
	close(fd);
	if (ret)
		return ret;
	snprintf(def->parent, sizeof(def->parent), "%s", parent);
	memcpy(def->uuid, uuid, MDEVCTL_UUID_SIZE);
	return 0;
}

bool definition_exists(const char *conf_dir, const char *parent, const char *uuid)
{
	char path[4096];
	struct stat st;

	if (!definition_parent_name_ok(parent) || !mdevctl_uuid_is_canonical(uuid))
		return false;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", conf_dir, parent, uuid) >=
	    sizeof(path))
		return false;
	return stat(path, &st) == 0;
}

/* Unlinks <parent>/<uuid> under @conffd and syncs the directory; 0 or -errno. */
static int remove_at(int conffd, const char *parent, const char *uuid)
{
	int fd = open_parent(conffd, parent), ret = 0;

	if (fd < 0)
		return fd == -ENOTDIR || fd == -ELOOP ? -ENOENT : fd;
	if (unlinkat(fd, uuid, 0) < 0)
		ret = -errno;
	else
		fsync(fd);
	close(fd);
	return ret;
}

int definition_remove(const char *conf_dir, const char *parent, const char *uuid)
{
	struct dirent *de;
	bool removed = false;
	int conffd, ret = -ENOENT;
	DIR *dir;

	if (!mdevctl_uuid_is_canonical(uuid) || (parent && !definition_parent_name_ok(parent)))
		return -ENOENT;
	conffd = open(conf_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (conffd < 0)
		return -errno;
	if (parent) {
		ret = remove_at(conffd, parent, uuid);
		close(conffd);
		return ret;
	}
	dir = fdopendir(conffd);
	if (!dir) {
		close(conffd);
		return -errno;
	}
	while ((de = readdir(dir))) {
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = remove_at(conffd, de->d_name, uuid);
		if (!r)
			removed = true;
		else if (r != -ENOENT && r != -ENOTDIR)
			ret = r;
	}
	closedir(dir);
	return removed ? 0 : ret;
}

void definitions_free(struct mdev_definition *defs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		definition_clear(&defs[i]);
	free(defs);
}
