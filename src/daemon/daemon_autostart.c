/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The autostart queue (see daemon_autostart.h): parent names pushed by the mdev notifier,
 * popped by the main loop, which starts their `auto` definitions as `mdevctl
 * start-parent-mdevs` would (src/mgmt/ops.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <umdev/log.h>
#include <umdev/mdev_manage.h>

#include "daemon/daemon_autostart.h"
#include "mgmt/ops.h"
#include "util/list.h"

struct pending_parent {
	struct list_head node;
	char name[];
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER; /* guards queue */
static struct list_head queue = LIST_HEAD_INIT(queue);
static int queue_fd = -1;
static const char *conf_dir;

static void log_line(int level, const char *message, void *userdata)
{
	(void)userdata;
	umdev_log(level, "%s", message);
}

static void on_mdev_event(struct notifier_block *nb, unsigned long event, void *data)
{
	struct pending_parent *p;
	const char *name;
	uint64_t one = 1;

	(void)nb;
	if (event != MDEV_EVENT_PARENT_ADDED)
		return;
	name = mgmt_parent_name(data);
	p = malloc(sizeof(*p) + strlen(name) + 1);
	if (!p) {
		umdev_log(UMDEV_LOG_ERR, "%s: out of memory: its auto devices are not started",
			  name);
		return;
	}
	strcpy(p->name, name);
	pthread_mutex_lock(&queue_lock);
	list_add_tail(&p->node, &queue);
	pthread_mutex_unlock(&queue_lock);
	if (write(queue_fd, &one, sizeof(one)) < 0)
		umdev_log(UMDEV_LOG_ERR, "cannot wake the main loop: %s", strerror(errno));
}

static struct notifier_block mdev_events = { .notifier_call = on_mdev_event };

int autostart_start(const struct daemon_config *cfg)
{
	int ret;

	conf_dir = cfg->conf_dir;
	queue_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (queue_fd < 0)
		return -errno;
	ret = mdev_register_notifier(&mdev_events);
	if (ret) {
		close(queue_fd);
		queue_fd = -1;
	}
	return ret;
}

int autostart_fd(void)
{
	return queue_fd;
}

static struct pending_parent *pop(void)
{
	struct pending_parent *p = NULL;

	pthread_mutex_lock(&queue_lock);
	if (!list_empty(&queue)) {
		p = list_first_entry(&queue, struct pending_parent, node);
		list_del(&p->node);
	}
	pthread_mutex_unlock(&queue_lock);
	return p;
}

void autostart_run_pending(void)
{
	struct pending_parent *p;
	uint64_t count;

	if (read(queue_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		umdev_log(UMDEV_LOG_WARNING, "autostart queue: %s", strerror(errno));
	while ((p = pop())) {
		int n = mgmt_autostart_parent(conf_dir, p->name, log_line, NULL);

		if (n < 0)
			umdev_log(UMDEV_LOG_ERR, "%s: cannot read the definitions in %s: %s",
				  p->name, conf_dir, strerror(-n));
		else if (n > 0)
			umdev_log(UMDEV_LOG_NOTICE, "%s: started %d auto device%s", p->name, n,
				  n == 1 ? "" : "s");
		free(p);
	}
}

void autostart_stop(void)
{
	struct pending_parent *p;

	if (queue_fd < 0)
		return;
	mdev_unregister_notifier(&mdev_events);
	while ((p = pop()))
		free(p);
	close(queue_fd);
	queue_fd = -1;
}
