/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of ctl_fixture.h.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <umdev/module.h>

#include "ctl_fixture.h"
#include "mgmt/persist/mdevctl_json.h"

extern const struct umdev_driver_module umdev_builtin_null;
extern const struct umdev_driver_module umdev_builtin_mtty;

bool fixture_setup(struct fixture *f, bool serve)
{
	const char *tmp = getenv("TMPDIR");
	struct ctl_server_config cfg;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/umdev-ctl-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!CHECK(mkdtemp(f->dir)))
		return false;
	snprintf(f->run_dir, sizeof(f->run_dir), "%s/run", f->dir);
	snprintf(f->conf_dir, sizeof(f->conf_dir), "%s/conf", f->dir);
	snprintf(f->socket, sizeof(f->socket), "%s/control.sock", f->run_dir);
	mkdir(f->run_dir, 0755);
	mkdir(f->conf_dir, 0755);
	if (!CHECK_EQ(umdev_builtin_null.init(), 0))
		return false;
	if (!CHECK_EQ(umdev_builtin_mtty.init(), 0)) {
		umdev_builtin_null.exit();
		return false;
	}
	f->drivers = true;
	if (!serve)
		return true;
	cfg = (struct ctl_server_config){ f->socket, f->conf_dir, f->run_dir, (gid_t)-1 };
	return CHECK_EQ(ctl_server_start(&cfg, &f->srv), 0);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void fixture_teardown(struct fixture *f)
{
	ctl_server_stop(f->srv);
	f->srv = NULL;
	if (f->drivers) {
		umdev_builtin_mtty.exit();
		umdev_builtin_null.exit();
	}
	if (f->dir[0] && !strstr(f->dir, "XXXXXX"))
		nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int client_connect(struct fixture *f)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%.107s", f->socket);
	if (!CHECK(fd >= 0))
		return -1;
	if (!CHECK(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

bool client_send(int fd, const char *line)
{
	size_t len = strlen(line);
	char *buf = malloc(len + 1);
	bool ok;

	memcpy(buf, line, len);
	buf[len] = '\n';
	ok = send(fd, buf, len + 1, MSG_NOSIGNAL) == (ssize_t)(len + 1);
	free(buf);
	return ok;
}

struct json_object *client_read(int fd)
{
	char buf[1 << 16], err[256];
	struct json_object *o = NULL;
	size_t len = 0;

	while (len < sizeof(buf)) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, WAIT_MS) <= 0)
			return NULL;
		n = recv(fd, buf + len, 1, 0); /* byte by byte: never past the line */
		if (n <= 0)
			return NULL;
		if (buf[len] == '\n')
			break;
		len++;
	}
	if (len == sizeof(buf) || mdevctl_json_parse(buf, len, &o, err, sizeof(err)))
		return NULL;
	return o;
}

struct json_object *request(struct fixture *f, const char *line)
{
	struct json_object *reply = NULL;
	int fd = client_connect(f);

	if (fd >= 0 && client_send(fd, line))
		reply = client_read(fd);
	if (fd >= 0)
		close(fd);
	if (!CHECK(reply))
		tap_diag("no reply to %s", line);
	return reply;
}

struct json_object *requestf(struct fixture *f, const char *fmt, ...)
{
	char line[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return request(f, line);
}

bool reply_ok(struct json_object *reply)
{
	return json_object_get_boolean(json_object_object_get(reply, "ok"));
}

const char *reply_error(struct json_object *reply)
{
	const char *e = json_object_get_string(json_object_object_get(reply, "error"));

	return e ? e : "";
}

int reply_errno(struct json_object *reply)
{
	return json_object_get_int(json_object_object_get(reply, "errno"));
}

bool device_exists(const char *uuid)
{
	struct mdev_device *mdev;
	guid_t g;

	if (mdev_uuid_parse(uuid, &g) || mdev_device_get_by_uuid(&g, &mdev))
		return false;
	mdev_device_put(mdev);
	return true;
}

bool put_definition(struct fixture *f, const char *parent, const char *uuid, const char *text)
{
	char path[700];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->conf_dir, parent);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", f->conf_dir, parent, uuid);
	fp = fopen(path, "w");
	if (!CHECK(fp))
		return false;
	fputs(text, fp);
	return CHECK(fclose(fp) == 0);
}

bool read_dev_attr(const char *uuid, const char *name, char *buf, size_t size)
{
	const struct attribute_group *const *groups;
	const char *slash = strchr(name, '/');
	struct mdev_device *mdev;
	char page[UMDEV_ATTR_BUF_SIZE + 1];
	bool found = false;
	guid_t g;

	if (!slash || mdev_uuid_parse(uuid, &g) || mdev_device_get_by_uuid(&g, &mdev))
		return false;
	groups = mdev_parent_get_ops(mtype_get_parent(mdev_get_type(mdev)))->mdev_attr_groups;
	for (; groups && *groups && !found; groups++) {
		if (!(*groups)->name || strncmp((*groups)->name, name, (size_t)(slash - name)))
			continue;
		for (struct attribute **a = (*groups)->attrs; *a && !found; a++) {
			ssize_t n;

			if (strcmp((*a)->name, slash + 1))
				continue;
			n = mdev_dev_attr_show(mdev_dev(mdev), *a, page);
			found = n >= 0;
			if (found) {
				page[n] = '\0';
				snprintf(buf, size, "%s", page);
			}
		}
	}
	mdev_device_put(mdev);
	return found;
}
