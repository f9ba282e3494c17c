/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The atomic write of a definition (definitions.h, DESIGN.md 4): the text goes to a new
 * hidden temporary file next to the definition (".<uuid>.<random>", created exclusively,
 * mode 0644 whatever the umask), which is flushed to disk, renamed over the definition and
 * followed by an fsync of the directory so that the rename itself is durable. Until the
 * rename the old definition is untouched; after it the new one is complete. A crash leaves
 * at most the temporary file, which the loader ignores.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgmt/persist/definitions.h"

/* Creates @path and its missing ancestors (mode 0755), as mkdir -p. */
static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (!len || len >= sizeof(buf))
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
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Creates a new temporary file in @dirfd for @uuid; its fd, its name in @name. */
static int create_temp(int dirfd, const char *uuid, char *name, size_t size)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		unsigned int rnd;
		int fd;

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (unsigned int)getpid() ^ (unsigned int)attempt << 20;
		snprintf(name, size, ".%s.%08x", uuid, rnd);
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			    0644);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Opens (creating) <conf_dir>/<parent>, a real directory; its fd or -errno. */
static int open_parent_dir(const char *conf_dir, const char *parent)
{
	int conffd, fd, ret;

	ret = mkdir_p(conf_dir);
	if (ret)
		return ret;
	conffd = open(conf_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (conffd < 0)
		return -errno;
	if (mkdirat(conffd, parent, 0755) == 0) {
		fsync(conffd); /* the new directory's entry is durable before its files */
	} else if (errno != EEXIST) {
		ret = -errno;
		close(conffd);
		return ret;
	}
	fd = openat(conffd, parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ret = fd < 0 ? -errno : fd;
	close(conffd);
	return ret;
}

int definition_write(const char *conf_dir, const struct mdev_definition *def)
{
	char tmp[MDEVCTL_UUID_SIZE + 16], err[256];
	char *text;
	int dirfd, fd, ret;

	ret = definition_validate(def, err, sizeof(err));
	if (ret)
		return ret;
	text = definition_format(def);
	if (!text)
		return -ENOMEM;
	dirfd = open_parent_dir(conf_dir, def->parent);
	if (dirfd < 0) {
		ret = dirfd;
		goto out_free;
	}
	fd = create_temp(dirfd, def->uuid, tmp, sizeof(tmp));
	if (fd < 0) {
		ret = fd;
		goto out_close_dir;
	}
	ret = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (!ret)
		ret = write_all(fd, text, strlen(text));
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret)
		goto out_unlink;
	if (renameat(dirfd, tmp, dirfd, def->uuid) < 0) {
		ret = -errno;
		goto out_unlink;
	}
	if (fsync(dirfd) < 0)
		ret = -errno;
	goto out_close_dir;

out_unlink:
	unlinkat(dirfd, tmp, 0);
out_close_dir:
	close(dirfd);
out_free:
	free(text);
	return ret;
}
