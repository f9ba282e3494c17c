/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd's device sockets (see daemon_devices.h): a vfio device notifier that gives each
 * registered device one listening socket for both transports (<umdev/device_socket.h>:
 * vfio-user.sock, and mpqemu.sock a symbolic link to it) and destroys it when the device's
 * unregistration completes. An idle device so costs one fd. Sockets are kept in a hash map
 * by device name. The device itself accepts one client at a time, whichever protocol it
 * speaks.
 *
 * The notifier runs on the thread that registers or unregisters the device (a management
 * request, a driver starting or stopping), never on a worker, so creating and destroying
 * sockets there is allowed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <umdev/device_socket.h>
#include <umdev/log.h>
#include <umdev/vfio_device_fd.h>

#include "daemon/daemon_devices.h"
#include "util/hmap.h"

struct served {
	struct hmap_node node;
	char *name;
	char *dir;
	struct umdev_device_socket *socket;
};

static pthread_mutex_t served_lock = PTHREAD_MUTEX_INITIALIZER; /* guards `served` */
static struct hmap served;
static const struct daemon_config *config;
static struct umdev_workers *pool;

static struct served *served_find_locked(const char *name)
{
	HMAP_FOR_EACH_WITH_HASH(node, &served, hash_string(name)) {
		struct served *s = container_of(node, struct served, node);

		if (!strcmp(s->name, name))
			return s;
	}
	return NULL;
}

/* A device name becomes a directory name: no '/' and not "." or "..". */
static bool name_is_safe(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/* <dir>/<leaf> into @path (PATH_MAX); -ENAMETOOLONG when it does not fit. */
static int socket_path(char *path, const char *dir, const char *leaf)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dir, leaf);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static void served_free(struct served *s)
{
	umdev_device_socket_destroy(s->socket);
	rmdir(s->dir);
	free(s->dir);
	free(s->name);
	free(s);
}

static void device_registered(struct vfio_device *vdev)
{
	const char *name = dev_name(vdev->dev);
	struct umdev_device_socket_config cfg = {
		.workers = pool, .owner = config->socket_owner, .group = config->socket_group,
	};
	char path[PATH_MAX], alias[PATH_MAX];
	struct served *s;
	int ret;

	if (!name_is_safe(name))
		return;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto err_nomem;
	if (!(s->name = strdup(name)) ||
	    asprintf(&s->dir, "%s/devices/%s", config->run_dir, name) < 0) {
		s->dir = NULL;
		ret = -ENOMEM;
		goto err_log;
	}
	if (socket_path(path, s->dir, "vfio-user.sock") ||
	    socket_path(alias, s->dir, "mpqemu.sock")) {
		ret = -ENAMETOOLONG;
		goto err_log;
	}
	if (mkdir(s->dir, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		goto err_log;
	}
	cfg.socket_path = path;
	cfg.alias_path = alias;
	ret = umdev_device_socket_create(vdev, &cfg, &s->socket);
	if (ret)
		goto err_rmdir;
	pthread_mutex_lock(&served_lock);
	hmap_insert(&served, &s->node, hash_string(name));
	pthread_mutex_unlock(&served_lock);
	umdev_log(UMDEV_LOG_INFO, "serving %s at %s", name, s->dir);
	return;

err_rmdir:
	rmdir(s->dir);
err_log:
	umdev_log(UMDEV_LOG_ERR, "cannot serve %s: %s", name, strerror(-ret));
	free(s->dir);
	free(s->name);
	free(s);
	return;
err_nomem:
	umdev_log(UMDEV_LOG_ERR, "cannot serve %s: out of memory", name);
}

static void device_unregistered(struct vfio_device *vdev)
{
	struct served *s;

	pthread_mutex_lock(&served_lock);
	s = served_find_locked(dev_name(vdev->dev));
	if (s)
		hmap_remove(&served, &s->node);
	pthread_mutex_unlock(&served_lock);
	if (s)
		served_free(s);
}

static void on_vfio_event(struct notifier_block *nb, unsigned long event, void *data)
{
	(void)nb;
	if (event == VFIO_DEVICE_EVENT_REGISTERED)
		device_registered(data);
	else if (event == VFIO_DEVICE_EVENT_UNREGISTERED)
		device_unregistered(data);
}

static struct notifier_block vfio_events = { .notifier_call = on_vfio_event };

int devices_start(const struct daemon_config *cfg, struct umdev_workers *workers)
{
	config = cfg;
	pool = workers;
	hmap_init(&served);
	return vfio_register_device_notifier(&vfio_events);
}

void devices_disconnect_all(void)
{
	pthread_mutex_lock(&served_lock);
	HMAP_FOR_EACH(node, &served) {
		struct served *s = container_of(node, struct served, node);

		umdev_device_socket_disconnect(s->socket);
	}
	pthread_mutex_unlock(&served_lock);
}

size_t devices_count(void)
{
	size_t n;

	pthread_mutex_lock(&served_lock);
	n = hmap_count(&served);
	pthread_mutex_unlock(&served_lock);
	return n;
}

void devices_stop(void)
{
	struct hmap_node *node;

	vfio_unregister_device_notifier(&vfio_events);
	pthread_mutex_lock(&served_lock);
	while ((node = hmap_first(&served))) {
		struct served *s = container_of(node, struct served, node);

		hmap_remove(&served, node);
		served_free(s);
	}
	hmap_destroy(&served);
	pthread_mutex_unlock(&served_lock);
}
