/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The helpers of persist_test.h and the suite's main().
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persist_test.h"

bool make_temp_dir(char *buf, size_t size)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, size, "%s/umdev-persist-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return CHECK(mkdtemp(buf) != NULL);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

bool put_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[1024];
	int fd;
	bool ok;

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (!CHECK(fd >= 0))
		return false;
	ok = CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
	return ok;
}

char *get_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = (size_t)n;
	}
	return buf;
}

void collect_report(const char *path, const char *message, void *userdata)
{
	struct reports *r = userdata;

	if (r->count < 8) {
		snprintf(r->path[r->count], sizeof(r->path[0]), "%s", path);
		snprintf(r->message[r->count], sizeof(r->message[0]), "%s", message);
	}
	r->count++;
}

void make_def(struct mdev_definition *def, const char *parent, const char *uuid,
	      const char *type, bool autostart, unsigned int nattrs)
{
	char name[16], value[16];

	memset(def, 0, sizeof(*def));
	snprintf(def->parent, sizeof(def->parent), "%s", parent);
	snprintf(def->uuid, sizeof(def->uuid), "%s", uuid);
	def->mdev_type = strdup(type);
	def->autostart = autostart;
	for (unsigned int i = 0; i < nattrs; i++) {
		snprintf(name, sizeof(name), "a%u", i);
		snprintf(value, sizeof(value), "v%u", i);
		definition_attr_insert(def, def->nattrs, name, value);
	}
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
