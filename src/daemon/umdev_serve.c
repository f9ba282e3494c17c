/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdev-serve: serve one mediated device over vfio-user and/or mpqemu, without the
 * management plane. It starts a driver (built in, or a plugin .so), creates one mediated
 * device of the given type and UUID, and serves it on a UNIX socket per transport until
 * SIGTERM or SIGINT; then it disconnects the client, removes the device and stops the driver.
 * For tests, benchmarks, and embedding umdev in a larger program's process layout.
 *
 *   umdev-serve --driver null --type null-1 --uuid UUID --socket PATH [--mpqemu-socket PATH]
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/log.h>
#include <umdev/mdev_manage.h>
#include <umdev/mpqemu_server.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_user_server.h>
#include <umdev/workers.h>

#include "daemon/driver_loader.h"

#define MAX_ATTRS 16

struct options {
	const char *driver, *type, *uuid, *socket, *mpqemu_socket, *owner;
	const char *attrs[MAX_ATTRS]; /* "group/name=value" */
	unsigned int nattrs;
	unsigned int threads;
	int log_level;
};

static void log_to_stderr(int level, const char *message, void *userdata)
{
	(void)userdata;
	(void)level;
	fprintf(stderr, "umdev-serve: %s\n", message);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: umdev-serve --driver NAME|PATH --type TYPE --uuid UUID\n"
		"                   [--socket PATH] [--mpqemu-socket PATH]\n"
		"                   [--attr GROUP/NAME=VALUE]... [--owner USER[:GROUP]]\n"
		"                   [--threads N] [--verbose]\n"
		"Serves one mediated device over vfio-user and/or mpqemu until SIGTERM or SIGINT.\n"
		"  --driver   a built-in driver (null, mtty) or the path of a driver plugin (.so)\n"
		"  --type     the device's type, e.g. null-1\n"
		"  --uuid     the device's UUID\n"
		"  --socket   where to listen for vfio-user clients (mode 0600; 0660 with a group)\n"
		"  --mpqemu-socket\n"
		"             where to listen for mpqemu clients (QEMU 7.2's x-pci-proxy-dev);\n"
		"             at least one of the two sockets is needed\n"
		"  --attr     write a vendor attribute of the device once created,\n"
		"             e.g. vendor/port0_backend=pty (mtty); repeatable\n"
		"  --owner    the socket's owner and group (default: this process's user)\n"
		"  --threads  worker threads (default 1)\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "driver", required_argument, NULL, 'd' }, { "type", required_argument, NULL, 't' },
		{ "uuid", required_argument, NULL, 'u' },   { "socket", required_argument, NULL, 's' },
		{ "owner", required_argument, NULL, 'o' },  { "threads", required_argument, NULL, 'n' },
		{ "attr", required_argument, NULL, 'a' },
		{ "mpqemu-socket", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },	    { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*o = (struct options){ .threads = 1, .log_level = UMDEV_LOG_NOTICE };
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd': o->driver = optarg; break;
		case 't': o->type = optarg; break;
		case 'u': o->uuid = optarg; break;
		case 's': o->socket = optarg; break;
		case 'm': o->mpqemu_socket = optarg; break;
		case 'o': o->owner = optarg; break;
		case 'a':
			if (o->nattrs == MAX_ATTRS || !strchr(optarg, '=') || !strchr(optarg, '/')) {
				fprintf(stderr, "umdev-serve: --attr takes GROUP/NAME=VALUE (at most %d)\n",
					MAX_ATTRS);
				return 2;
			}
			o->attrs[o->nattrs++] = optarg;
			break;
		case 'v': o->log_level = UMDEV_LOG_DEBUG; break;
		case 'n': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end || !n || n > 256) {
				fprintf(stderr, "umdev-serve: --threads takes 1 to 256\n");
				return 2;
			}
			o->threads = (unsigned int)n;
			break;
		}
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !o->driver || !o->type || !o->uuid ||
	    (!o->socket && !o->mpqemu_socket)) {
		fprintf(stderr, "umdev-serve: --driver, --type, --uuid and --socket or "
				"--mpqemu-socket are required\n");
		usage(stderr);
		return 2;
	}
	return 0;
}

/* "user[:group]" to ids; -1 for a part not given. */
static int parse_owner(const char *spec, uid_t *uid, gid_t *gid)
{
	char buf[256], *colon;
	struct passwd *pw;
	struct group *gr;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (!spec)
		return 0;
	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		gr = getgrnam(colon + 1);
		if (!gr)
			return -ENOENT;
		*gid = gr->gr_gid;
	}
	if (*buf) {
		pw = getpwnam(buf);
		if (!pw)
			return -ENOENT;
		*uid = pw->pw_uid;
	}
	return 0;
}

/* Writes "group/name=value" to the device's vendor attribute; 0, or 1 after a message. */
static int write_attr(struct mdev_parent *parent, struct mdev_device *mdev, const char *spec)
{
	const struct attribute_group *const *groups = mdev_parent_get_ops(parent)->mdev_attr_groups;
	const char *slash = strchr(spec, '/'), *eq = strchr(spec, '=');
	size_t glen = (size_t)(slash - spec), nlen;
	ssize_t ret;

	if (!slash || !eq || eq < slash) {
		fprintf(stderr, "umdev-serve: --attr '%s': not GROUP/NAME=VALUE\n", spec);
		return 1;
	}
	nlen = (size_t)(eq - slash - 1);
	for (; groups && *groups; groups++) {
		const struct attribute_group *g = *groups;

		if (!g->name || strlen(g->name) != glen || strncmp(g->name, spec, glen))
			continue;
		for (struct attribute **a = g->attrs; a && *a; a++) {
			if (strlen((*a)->name) != nlen || strncmp((*a)->name, slash + 1, nlen))
				continue;
			if (!((*a)->mode & 0222)) {
				fprintf(stderr, "umdev-serve: %.*s is read-only\n",
					(int)(eq - spec), spec);
				return 1;
			}
			ret = mdev_dev_attr_store(mdev_dev(mdev), *a, eq + 1, strlen(eq + 1));
			if (ret < 0) {
				fprintf(stderr, "umdev-serve: writing %s: %s\n", spec,
					strerror((int)-ret));
				return 1;
			}
			return 0;
		}
	}
	fprintf(stderr, "umdev-serve: the device has no attribute %.*s\n", (int)(eq - spec), spec);
	return 1;
}

/* The type named @name under any registered parent. */
static struct mdev_type *find_type(const char *name, struct mdev_parent **ret_parent)
{
	struct mdev_parent **parents;
	struct mdev_type *found = NULL;
	ssize_t n = mdev_parents_list(&parents);

	for (ssize_t i = 0; i < n && !found; i++) {
		found = mdev_parent_find_type(parents[i], name);
		if (found)
			*ret_parent = mdev_parent_get(parents[i]);
	}
	if (n >= 0)
		mdev_parents_free(parents, (size_t)n);
	return found;
}

/* Creates the device and serves it until a stop signal; 0 or 1. */
static int serve(const struct options *o, struct vfio_user_server_config *cfg, sigset_t *stop)
{
	char name[UUID_STRING_LEN + 1];
	struct vfio_user_server *server = NULL;
	struct mpqemu_server *mpqemu = NULL;
	struct mdev_parent *parent = NULL;
	struct mdev_device *mdev = NULL;
	struct vfio_device *vdev = NULL;
	struct mdev_type *type;
	guid_t uuid;
	int ret, sig, status = 1;

	if (mdev_uuid_parse(o->uuid, &uuid)) {
		fprintf(stderr, "umdev-serve: '%s' is not a UUID\n", o->uuid);
		return 1;
	}
	mdev_uuid_format(&uuid, name);
	type = find_type(o->type, &parent);
	if (!type) {
		fprintf(stderr, "umdev-serve: no parent offers type '%s'\n", o->type);
		return 1;
	}
	ret = mdev_device_create(type, &uuid, &mdev);
	if (ret) {
		fprintf(stderr, "umdev-serve: cannot create %s of type %s: %s\n", name, o->type,
			strerror(-ret));
		goto out_put_parent;
	}
	for (unsigned int i = 0; i < o->nattrs; i++)
		if (write_attr(parent, mdev, o->attrs[i]))
			goto out_remove;
	ret = vfio_device_get_from_name(name, &vdev);
	if (ret) {
		fprintf(stderr, "umdev-serve: %s has no vfio device (its bus driver is not vfio)\n",
			name);
		goto out_remove;
	}
	ret = umdev_workers_create(o->threads, &cfg->workers);
	if (ret) {
		fprintf(stderr, "umdev-serve: cannot start workers: %s\n", strerror(-ret));
		goto out_put_vdev;
	}
	if (o->socket) {
		cfg->socket_path = o->socket;
		ret = vfio_user_server_create(vdev, cfg, &server);
		if (ret) {
			fprintf(stderr, "umdev-serve: cannot listen on %s: %s\n", o->socket,
				strerror(-ret));
			goto out_servers;
		}
		umdev_log(UMDEV_LOG_NOTICE, "serving %s (%s) over vfio-user at %s", name,
			  o->type, o->socket);
	}
	if (o->mpqemu_socket) {
		struct mpqemu_server_config mcfg = {
			.socket_path = o->mpqemu_socket, .workers = cfg->workers,
			.owner = cfg->owner, .group = cfg->group,
		};

		ret = mpqemu_server_create(vdev, &mcfg, &mpqemu);
		if (ret) {
			fprintf(stderr, "umdev-serve: cannot listen on %s: %s\n", o->mpqemu_socket,
				strerror(-ret));
			goto out_servers;
		}
		umdev_log(UMDEV_LOG_NOTICE, "serving %s (%s) over mpqemu at %s", name, o->type,
			  o->mpqemu_socket);
	}
	sigwait(stop, &sig);
	umdev_log(UMDEV_LOG_NOTICE, "stopping on %s", strsignal(sig));
	status = 0;
out_servers:
	mpqemu_server_destroy(mpqemu);
	vfio_user_server_destroy(server);

	umdev_workers_destroy(cfg->workers);
out_put_vdev:
	vfio_put_device(vdev);
out_remove:
	mdev_device_remove(mdev);
	mdev_device_put(mdev);
out_put_parent:
	mdev_parent_put(parent);
	return status;
}

int main(int argc, char **argv)
{
	struct vfio_user_server_config cfg = { 0 };
	const struct umdev_driver_module *module;
	struct options o;
	char err[512];
	sigset_t stop;
	int ret, status;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	umdev_set_log_handler(log_to_stderr, NULL, o.log_level);
	if (parse_owner(o.owner, &cfg.owner, &cfg.group)) {
		fprintf(stderr, "umdev-serve: unknown user or group in --owner '%s'\n", o.owner);
		return 2;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	if (driver_module_find(o.driver, &module, err, sizeof(err))) {
		fprintf(stderr, "umdev-serve: %s\n", err);
		return 1;
	}
	ret = module->init();
	if (ret) {
		fprintf(stderr, "umdev-serve: driver %s failed to start: %s\n", module->name,
			strerror(-ret));
		return 1;
	}
	status = serve(&o, &cfg, &stop);
	module->exit();
	return status;
}
