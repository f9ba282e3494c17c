/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The event stream of the control socket: one notifier block on the mdev core's chain turns
 * every change into one JSON line,
 *
 *   {"event":"device_added","uuid":"…","parent":"mtty","mdev_type":"mtty-2"}
 *   {"event":"device_removed",…}  {"event":"parent_added","parent":"mtty"}
 *   {"event":"parent_removed","parent":"mtty"}
 *
 * and queues a copy for each subscribed connection, whose thread is woken through an
 * eventfd and writes it out. The notifier runs on whichever thread made the change, so it
 * only formats and queues: a subscriber that lets CTL_MAX_EVENTS_QUEUED lines pile up is
 * marked as overflowed and cut, and never slows the change down.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mgmt/ctl/ctl_private.h"

static const char *const event_names[] = {
	[MDEV_EVENT_PARENT_ADDED] = "parent_added",
	[MDEV_EVENT_PARENT_REMOVED] = "parent_removed",
	[MDEV_EVENT_DEVICE_ADDED] = "device_added",
	[MDEV_EVENT_DEVICE_REMOVED] = "device_removed",
};

/* The event's line, or NULL (unknown event, ENOMEM). */
static char *format_event(unsigned long event, void *data)
{
	struct json_object *o;
	char uuid[MDEVCTL_UUID_SIZE];
	const char *text;
	char *line = NULL;

	if (event >= sizeof(event_names) / sizeof(event_names[0]) || !event_names[event])
		return NULL;
	o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "event", json_object_new_string(event_names[event]));
	if (event == MDEV_EVENT_DEVICE_ADDED || event == MDEV_EVENT_DEVICE_REMOVED) {
		mgmt_device_uuid(data, uuid);
		json_object_object_add(o, "uuid", json_object_new_string(uuid));
		json_object_object_add(o, "parent",
				       json_object_new_string(mgmt_device_parent_name(data)));
		json_object_object_add(o, "mdev_type",
				       json_object_new_string(mgmt_device_type_name(data)));
	} else {
		json_object_object_add(o, "parent",
				       json_object_new_string(mgmt_parent_name(data)));
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text)
		line = strdup(text);
	json_object_put(o);
	return line;
}

static void on_mdev_event(struct notifier_block *nb, unsigned long event, void *data)
{
	struct ctl_events *ev = container_of(nb, struct ctl_events, nb);
	char *line = format_event(event, data);
	uint64_t one = 1;

	if (!line)
		return;
	pthread_mutex_lock(&ev->lock);
	for (struct ctl_subscriber *s = ev->subscribers; s; s = s->next) {
		char *copy;

		if (s->overflow)
			continue;
		copy = s->count < CTL_MAX_EVENTS_QUEUED ? strdup(line) : NULL;
		if (copy) {
			s->lines[(s->head + s->count) % CTL_MAX_EVENTS_QUEUED] = copy;
			s->count++;
		} else {
			s->overflow = true;
		}
		if (write(s->wake_fd, &one, sizeof(one)) < 0) {
			/* the counter is saturated: the thread is awake already */
		}
	}
	pthread_mutex_unlock(&ev->lock);
	free(line);
}

int ctl_events_init(struct ctl_server *srv)
{
	struct ctl_events *ev = &srv->events;
	int ret;

	pthread_mutex_init(&ev->lock, NULL);
	ev->nb.notifier_call = on_mdev_event;
	ret = mdev_register_notifier(&ev->nb);
	if (ret) {
		pthread_mutex_destroy(&ev->lock);
		return ret;
	}
	ev->registered = true;
	return 0;
}

void ctl_events_fini(struct ctl_server *srv)
{
	struct ctl_events *ev = &srv->events;

	if (!ev->registered)
		return;
	mdev_unregister_notifier(&ev->nb);
	ev->registered = false;
	pthread_mutex_destroy(&ev->lock);
}

int ctl_events_subscribe(struct ctl_conn *conn)
{
	struct ctl_events *ev = &conn->srv->events;
	struct ctl_subscriber *s;

	if (conn->sub)
		return -EALREADY;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		int ret = -errno;

		free(s);
		return ret;
	}
	pthread_mutex_lock(&ev->lock);
	s->next = ev->subscribers;
	ev->subscribers = s;
	pthread_mutex_unlock(&ev->lock);
	conn->sub = s;
	return 0;
}

void ctl_events_unsubscribe(struct ctl_conn *conn)
{
	struct ctl_events *ev = &conn->srv->events;
	struct ctl_subscriber *s = conn->sub, **pp;

	if (!s)
		return;
	pthread_mutex_lock(&ev->lock);
	for (pp = &ev->subscribers; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&ev->lock);
	for (size_t i = 0; i < s->count; i++)
		free(s->lines[(s->head + i) % CTL_MAX_EVENTS_QUEUED]);
	close(s->wake_fd);
	free(s);
	conn->sub = NULL;
}

int ctl_events_take(struct ctl_conn *conn, char **line)
{
	struct ctl_events *ev = &conn->srv->events;
	struct ctl_subscriber *s = conn->sub;
	int ret = 0;

	if (!s)
		return 0;
	pthread_mutex_lock(&ev->lock);
	if (s->count) {
		*line = s->lines[s->head];
		s->lines[s->head] = NULL;
		s->head = (s->head + 1) % CTL_MAX_EVENTS_QUEUED;
		s->count--;
		ret = 1;
	} else if (s->overflow) {
		ret = -EOVERFLOW;
	}
	pthread_mutex_unlock(&ev->lock);
	return ret;
}

/* The "events" command: the connection becomes a subscriber (and stays a client). */
static int cmd_events(struct ctl_request *req)
{
	int ret = ctl_events_subscribe(req->conn);

	if (ret == -EALREADY)
		return ctl_fail(req, ret, "already subscribed to events");
	if (ret)
		return ctl_fail(req, ret, "%s", strerror(-ret));
	req->subscribe = true;
	return 0;
}

const struct ctl_command ctl_cmd_events = { "events", cmd_events, NULL };
