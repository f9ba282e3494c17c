/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transports' listening UNIX socket at a path (unix_listen.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "transport/unix_listen.h"

/* Binds @fd at @addr, replacing a stale socket there but never another kind of file. */
static int bind_replacing(int fd, const struct sockaddr_un *addr)
{
	struct stat st;

	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
		return 0;
	if (errno != EADDRINUSE)
		return -errno;
	if (lstat(addr->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -EEXIST;
	unlink(addr->sun_path);
	return bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 ? -errno : 0;
}

int unix_listen_at(const char *path, uid_t owner, gid_t group)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	bool has_group = group != (gid_t)-1;
	bool set_owner = owner != (uid_t)-1 || has_group;
	mode_t mode = has_group ? 0660 : 0600, old;
	int fd, ret;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* with an owner to set, no access at all until it is set; else the final mode at once */
	old = umask(set_owner ? 0777 : 0777 & ~mode);
	ret = bind_replacing(fd, &addr);
	umask(old);
	if (ret < 0)
		goto err_close;
	if (set_owner && (chown(path, owner, group) < 0 || chmod(path, mode) < 0)) {
		ret = -errno;
		goto err_unlink;
	}
	if (listen(fd, 8) < 0) {
		ret = -errno;
		goto err_unlink;
	}
	return fd;

err_unlink:
	unlink(path);
err_close:
	close(fd);
	return ret;
}
