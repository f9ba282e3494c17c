/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The temporary files a killed writer leaves behind: definition_write() writes
 * "<parent>/.<uuid>.<8 hex digits>" and renames it over "<parent>/<uuid>", so a daemon killed
 * between the two leaves the temporary. The loader ignores them (hidden files); umdevd sweeps
 * them once at start, while it holds the run dir's lock and before it writes anything, so no
 * writer of ours can still own one. Only names of exactly that form are touched; mdevctl's
 * own files (written in place) and anything else in the directory are left alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgmt/persist/definitions.h"
#include "mgmt/persist/mdevctl_uuid.h"

/* ".<canonical uuid>.<8 lower-case hex digits>" */
static bool is_temporary_name(const char *name)
{
	char uuid[MDEVCTL_UUID_SIZE];
	size_t ulen = MDEVCTL_UUID_SIZE - 1;

	if (name[0] != '.' || strlen(name) != 1 + ulen + 1 + 8 || name[1 + ulen] != '.')
		return false;
	memcpy(uuid, name + 1, ulen);
	uuid[ulen] = '\0';
	if (!mdevctl_uuid_is_canonical(uuid))
		return false;
	for (const char *p = name + 1 + ulen + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* Sweeps one parent directory, opened as @fd (consumed); the files removed. */
static int sweep_parent(int fd)
{
	struct dirent *de;
	DIR *dir = fdopendir(fd);
	int removed = 0;

	if (!dir) {
		close(fd);
		return 0;
	}
	while ((de = readdir(dir))) {
		struct stat st;

		if (!is_temporary_name(de->d_name) ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0)
			removed++;
	}
	closedir(dir);
	return removed;
}

int definitions_sweep_temporaries(const char *conf_dir)
{
	struct dirent *de;
	int conffd, removed = 0;
	DIR *dir;

	conffd = open(conf_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (conffd < 0)
		return errno == ENOENT ? 0 : -errno;
	dir = fdopendir(conffd);
	if (!dir) {
		close(conffd);
		return -errno;
	}
	while ((de = readdir(dir))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		/* a parent directory itself, not a link to one (as the loader) */
		fd = openat(conffd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			removed += sweep_parent(fd);
	}
	closedir(dir);
	return removed;
}
