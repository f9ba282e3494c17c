/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of the control server, shared by its files:
 *
 *   ctl_server.c     the listening socket, credentials, the accept thread, start and stop
 *   ctl_conn.c       a connection's thread: bounded line reading, replies, events out
 *   ctl_dispatch.c   parsing a request, the command table, replies and errors
 *   ctl_cmd_query.c  types, list, info
 *   ctl_cmd_device.c create, remove, start_parent
 *   ctl_cmd_define.c define, undefine, modify
 *   ctl_events.c     the mdev notifier and the subscribers' queues
 *
 * Locks: srv->lock guards the connection list and count; srv->defs_lock serialises the
 * commands that change definitions (each a read-modify-write); srv->events.lock guards the
 * subscribers and their queues. None is held while calling into the mdev core, whose
 * notifier runs on the changing thread and takes events.lock.
 */
#ifndef UMDEV_MGMT_CTL_CTL_PRIVATE_H
#define UMDEV_MGMT_CTL_CTL_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include <umdev/notifier.h>

#include "mgmt/ctl/ctl_server.h"
#include "mgmt/ops.h"

struct ctl_conn;

/* One subscriber's queue of event lines (guarded by ctl_events.lock). */
struct ctl_subscriber {
	struct ctl_subscriber *next;
	char *lines[CTL_MAX_EVENTS_QUEUED];
	size_t head, count;
	bool overflow; /* it fell too far behind: the connection is cut */
	int wake_fd;   /* an eventfd the connection's thread polls */
};

struct ctl_events {
	pthread_mutex_t lock;
	struct ctl_subscriber *subscribers;
	struct notifier_block nb;
	bool registered;
};

struct ctl_server {
	char *socket_path, *conf_dir, *run_dir;
	gid_t group;
	uid_t owner; /* the daemon's effective uid, always admitted */
	int listen_fd;
	int stop_fd; /* an eventfd: readable once stopping */
	pthread_t accept_thread;

	pthread_mutex_t lock;
	struct ctl_conn *conns; /* live and finished connections, joined by the acceptor */
	unsigned int nconns;	/* live connections */

	pthread_mutex_t defs_lock;
	struct ctl_events events;
};

/* A connection (ctl_conn.c). */
/* Replies queued past this many bytes are written before the next line is served, and a
 * reply buffer grown past it is freed once written. */
#define CTL_REPLY_BUFFER_KEEP 65536

struct ctl_conn {
	struct ctl_conn *next;
	struct ctl_server *srv;
	int fd;
	pthread_t thread;
	bool done; /* the thread has finished: join it (under srv->lock) */
	struct ctl_subscriber *sub; /* set once subscribed to events */
	char buf[CTL_MAX_REQUEST];
	size_t len;
	char *out; /* replies to the lines of one read, written together */
	size_t out_len, out_cap;
};

/* ---- ctl_conn.c ---- */
void *ctl_conn_main(void *arg);
/* Writes all of @len bytes within CTL_WRITE_TIMEOUT_MS; 0 or -errno (-ETIMEDOUT). */
int ctl_write_all(int fd, const char *buf, size_t len, int stop_fd);
/* Queues @obj as one line, to be written with the other replies of the same read; 0 or
 * -ENOMEM. */
int ctl_queue_reply(struct ctl_conn *conn, struct json_object *obj);

/* ---- ctl_dispatch.c ---- */

/* One request being served. */
struct ctl_request {
	struct ctl_server *srv;
	struct ctl_conn *conn;
	struct json_object *args;  /* the request object */
	struct json_object *reply; /* filled by a command on success */
	struct json_object *warnings; /* an array, added to the reply when not empty */
	char err[MGMT_ERR_SIZE];   /* the message of a failing command */
	bool subscribe;		   /* the command made the connection a subscriber */
};

struct ctl_command {
	const char *name;
	int (*run)(struct ctl_request *req);
	const char *const *fields; /* allowed besides "command" and "id"; NULL-terminated */
};

/* Serves one request line (without its newline); the reply object, never NULL. */
struct json_object *ctl_dispatch(struct ctl_conn *conn, const char *line, size_t len,
				 bool *subscribe);
/* An error reply {"ok": false, "errno": N, "error": "..."}. */
struct json_object *ctl_error_reply(int errnum, const char *message);

/* Arguments: 0, -ENOENT when absent (and not @required), -EINVAL with a message. */
int ctl_arg_string(struct ctl_request *req, const char *key, bool required, size_t max,
		   const char **out);
int ctl_arg_bool(struct ctl_request *req, const char *key, bool *out);
int ctl_arg_index(struct ctl_request *req, const char *key, size_t *out);
/* A UUID argument (36 characters, any case) in canonical form. */
int ctl_arg_uuid(struct ctl_request *req, const char *key, bool required,
		 char out[MDEVCTL_UUID_SIZE]);
/* A parent name argument. */
int ctl_arg_parent(struct ctl_request *req, bool required, const char **out);
/* "attrs": [{"name": "value"}, ...] into @def's attributes. */
int ctl_arg_attrs(struct ctl_request *req, struct mdev_definition *def);
/* Sets a field of the reply; false on ENOMEM. */
bool ctl_reply_set(struct ctl_request *req, const char *key, struct json_object *val);
/* Adds a warning (a copy of @text) to the reply's "warnings". */
void ctl_warn(struct ctl_request *req, const char *text);
/* A definition_bad_file_fn that adds the warning to the request (@userdata). */
void ctl_bad_file(const char *path, const char *message, void *userdata);
/* Sets req->err to @fmt... and returns @ret. */
int ctl_fail(struct ctl_request *req, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

extern const struct ctl_command ctl_cmd_types, ctl_cmd_list, ctl_cmd_info;
extern const struct ctl_command ctl_cmd_create, ctl_cmd_remove, ctl_cmd_start_parent;
extern const struct ctl_command ctl_cmd_define, ctl_cmd_undefine, ctl_cmd_modify;
extern const struct ctl_command ctl_cmd_events;

/* ---- ctl_events.c ---- */
int ctl_events_init(struct ctl_server *srv);
void ctl_events_fini(struct ctl_server *srv);
/* Makes @conn a subscriber; 0 or -errno. */
int ctl_events_subscribe(struct ctl_conn *conn);
void ctl_events_unsubscribe(struct ctl_conn *conn);
/*
 * Takes the next queued line of @conn (malloc'd, the caller frees) into *@line; 1 when
 * one was taken, 0 when the queue is empty, -EOVERFLOW when the subscriber was cut.
 */
int ctl_events_take(struct ctl_conn *conn, char **line);

#endif
