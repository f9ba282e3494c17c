/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of the management suites (tests/mgmt/ctl/): the null and mtty drivers started
 * in the test process (built in), a temporary run directory and configuration directory,
 * and (for the control socket's cases) a control server on <run>/control.sock with a client
 * that sends one request line and reads one reply line.
 */
#ifndef UMDEV_TESTS_MGMT_CTL_FIXTURE_H
#define UMDEV_TESTS_MGMT_CTL_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "mgmt/ctl/ctl_server.h"
#include "mgmt/ops.h"
#include "tap.h"

#define UA "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define UB "11111111-2222-4333-8444-555555555555"
#define UC "22222222-509f-382f-3c1e-e6bfe0fa1001"

/* Bound of every wait for the server. */
#define WAIT_MS 10000

struct fixture {
	char dir[256];	     /* the temporary directory */
	char run_dir[300];   /* <dir>/run */
	char conf_dir[300];  /* <dir>/conf */
	char socket[400];    /* <run_dir>/control.sock */
	struct ctl_server *srv; /* NULL unless started */
	bool drivers;	     /* null and mtty were started */
};

/* Starts the drivers and makes the directories; with @serve, the server too (checked). */
bool fixture_setup(struct fixture *f, bool serve);
/* Stops the server and the drivers (removing their devices), removes the directories. */
void fixture_teardown(struct fixture *f);

#define CTL_TEST(name, serve)                           \
	static void name##_body(struct fixture *f);     \
	TEST(name)                                      \
	{                                               \
		struct fixture fx;                      \
		if (fixture_setup(&fx, serve))          \
			name##_body(&fx);               \
		fixture_teardown(&fx);                  \
	}                                               \
	static void name##_body(__attribute__((unused)) struct fixture *f)

/* A new connection to the server (checked; -1 on failure). */
int client_connect(struct fixture *f);
/* Sends @line (a newline is added); true on success. */
bool client_send(int fd, const char *line);
/* Reads one reply line within WAIT_MS and parses it; NULL at EOF, timeout or bad JSON. */
struct json_object *client_read(int fd);
/* One request on a new connection; the reply (checked not NULL). */
struct json_object *request(struct fixture *f, const char *line);
/* printf into a request line, then request(). */
struct json_object *requestf(struct fixture *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fields of a reply: "ok", "error" ("" if none), "errno". */
bool reply_ok(struct json_object *reply);
const char *reply_error(struct json_object *reply);
int reply_errno(struct json_object *reply);

/* Whether a device with @uuid exists (in any state). */
bool device_exists(const char *uuid);
/* Writes a definition file's raw text under <conf>/<parent>/<uuid>. */
bool put_definition(struct fixture *f, const char *parent, const char *uuid, const char *text);
/* Reads a vendor attribute of device @uuid ("vendor/port0_backend") into @buf. */
bool read_dev_attr(const char *uuid, const char *name, char *buf, size_t size);

#endif
