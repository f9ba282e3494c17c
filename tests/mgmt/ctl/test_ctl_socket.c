/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket as a socket: malformed requests (not JSON, not an object, unknown
 * command or field, wrong types) answered with a clear error on a connection that stays
 * usable; many requests in one write answered in order; an oversized line answered and the
 * connection closed; the socket's mode and the
 * peer credentials (root, the daemon's user, the configured group; others refused); the
 * connection limit; the event stream and a subscriber that does not read; starting over a
 * stale socket, and refusing to start over a live one or another file.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <umdev/module.h>

#include "ctl_fixture.h"
#include "mgmt/ctl/ctl_private.h"
#include "mgmt/persist/mdevctl_json.h"

extern const struct umdev_driver_module umdev_builtin_mtty;

static void check_reply(int fd, const char *line, const char *expect)
{
	struct json_object *r;
	char *text = NULL;

	if (!CHECK(client_send(fd, line)))
		return;
	r = client_read(fd);
	if (r)
		text = mdevctl_json_print(r, false);
	if (!CHECK_STR(text ? text : "(no reply)", expect))
		tap_diag("request: %s", line);
	free(text);
	json_object_put(r);
}

CTL_TEST(malformed_requests_get_clear_errors, true)
{
	int fd = client_connect(f);

	REQUIRE(fd >= 0);
	check_reply(fd, "not json",
		    "{\"ok\":false,\"errno\":22,\"error\":\"invalid request: not JSON: expected ident "
		    "at line 1 column 2\"}");
	check_reply(fd, "{\"command\":\"list\"",
		    "{\"ok\":false,\"errno\":22,\"error\":\"invalid request: not JSON: EOF while "
		    "parsing an object at line 1 column 17\"}");
	check_reply(fd, "[1]", "{\"ok\":false,\"errno\":22,\"error\":\"invalid request: not a JSON "
			       "object\"}");
	check_reply(fd, "{}", "{\"ok\":false,\"errno\":22,\"error\":\"invalid request: missing "
			      "field 'command'\"}");
	check_reply(fd, "{\"command\":5,\"id\":1}",
		    "{\"ok\":false,\"errno\":22,\"error\":\"invalid request: field 'command' must be "
		    "a string\",\"id\":1}");
	check_reply(fd, "{\"command\":\"bogus\"}",
		    "{\"ok\":false,\"errno\":95,\"error\":\"unknown command 'bogus'\"}");
	check_reply(fd, "{\"command\":\"list\",\"bogus\":1}",
		    "{\"ok\":false,\"errno\":22,\"error\":\"unknown field 'bogus' for command "
		    "'list'\"}");
	check_reply(fd, "{\"command\":\"list\",\"defined\":\"yes\"}",
		    "{\"ok\":false,\"errno\":22,\"error\":\"field 'defined' must be true or "
		    "false\"}");
	check_reply(fd, "{\"command\":\"list\",\"uuid\":\"xyz\"}",
		    "{\"ok\":false,\"errno\":22,\"error\":\"field 'uuid' is not a UUID: invalid "
		    "character: expected an optional prefix of `urn:uuid:` followed by "
		    "[0-9a-zA-Z], found `x` at 1\"}");
	check_reply(fd, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"index\":-1}",
		    "{\"ok\":false,\"errno\":22,\"error\":\"field 'index' must be an integer from 0 "
		    "to 4294967295\"}");
	check_reply(fd, "{\"command\":\"remove\",\"uuid\":[]}",
		    "{\"ok\":false,\"errno\":22,\"error\":\"field 'uuid' must be a string\"}");
	check_reply(fd, "{\"command\":\"types\",\"parent\":\"\\u0000\"}",
		    "{\"ok\":false,\"errno\":22,\"error\":\"field 'parent' contains a NUL "
		    "character\"}");
	/* the same connection still serves, echoes ids, and skips empty lines */
	CHECK(client_send(fd, ""));
	check_reply(fd, "{\"id\":\"x7\",\"command\":\"list\",\"defined\":true}",
		    "{\"ok\":true,\"devices\":[],\"id\":\"x7\"}");
	close(fd);
}

/*
 * Many requests in one write (pipelined): every reply comes, in order, with its request's
 * id; together they pass CTL_REPLY_BUFFER_KEEP, so the batch of replies goes out in parts.
 */
CTL_TEST(pipelined_requests_answered_in_order, true)
{
	enum { N = 400 };
	char *batch = malloc(N * 48);
	size_t len = 0, reply_bytes = 0;
	int fd = client_connect(f);

	REQUIRE(fd >= 0 && batch);
	for (int i = 0; i < N; i++)
		len += (size_t)sprintf(batch + len, "{\"id\":%d,\"command\":\"types\"}\n", i);
	CHECK(send(fd, batch, len, MSG_NOSIGNAL) == (ssize_t)len);
	for (int i = 0; i < N; i++) {
		struct json_object *r = client_read(fd), *id = NULL;

		if (!CHECK(reply_ok(r) && json_object_object_get_ex(r, "id", &id))) {
			json_object_put(r);
			break;
		}
		CHECK_EQ(json_object_get_int(id), i);
		reply_bytes += strlen(json_object_to_json_string(r)) + 1;
		json_object_put(r);
	}
	CHECK(reply_bytes > CTL_REPLY_BUFFER_KEEP);
	close(fd);
	free(batch);
}

CTL_TEST(oversized_request_is_answered_and_closed, true)
{
	char *big = malloc(CTL_MAX_REQUEST + 16);
	struct json_object *r;
	int fd = client_connect(f);
	char c;

	REQUIRE(fd >= 0 && big);
	/* a line of exactly the limit (newline included) is served */
	memset(big, ' ', CTL_MAX_REQUEST);
	memcpy(big, "{\"command\":\"types\"}", 19);
	big[CTL_MAX_REQUEST - 1] = '\0';
	CHECK(client_send(fd, big));
	r = client_read(fd);
	CHECK(reply_ok(r));
	json_object_put(r);
	/* one byte more is not */
	memset(big, ' ', CTL_MAX_REQUEST + 1);
	big[CTL_MAX_REQUEST + 1] = '\0';
	CHECK(send(fd, big, CTL_MAX_REQUEST + 1, MSG_NOSIGNAL) == CTL_MAX_REQUEST + 1);
	r = client_read(fd);
	CHECK_STR(reply_error(r), "request too long (a line has at most 65536 bytes)");
	CHECK_EQ(reply_errno(r), EMSGSIZE);
	json_object_put(r);
	CHECK(recv(fd, &c, 1, 0) == 0); /* then closed: the end of the stream, not a reset */
	close(fd);
	free(big);
}

CTL_TEST(socket_is_private, true)
{
	struct stat st;

	REQUIRE(stat(f->socket, &st) == 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
}

/* In a child that drops to uid 65534 (and @gid, with @group as supplementary group when not
 * -1): connects and sends types; exits 0 if the reply is ok, 1 if refused, 2 otherwise. */
static int as_other_user(struct fixture *f, gid_t gid, gid_t group)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		struct json_object *r;
		int fd;

		if ((group != (gid_t)-1 ? setgroups(1, &group) : setgroups(0, NULL)) < 0 ||
		    setgid(gid) < 0 || setuid(65534) < 0)
			_exit(3);
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%.107s", f->socket);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			_exit(4);
		client_send(fd, "{\"command\":\"types\"}");
		r = client_read(fd);
		if (reply_ok(r))
			_exit(0);
		_exit(strstr(reply_error(r), "permission denied: uid 65534 is not root") ? 1 : 2);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

CTL_TEST(credentials_root_owner_or_group, true)
{
	struct ctl_server_config cfg = { f->socket, f->conf_dir, f->run_dir, 4242 };
	struct stat st;

	if (geteuid() != 0) {
		tap_diag("not root: the credential cases need setuid(); skipped");
		return;
	}
	/* the file mode keeps others out; open it up to reach the credential check */
	CHECK(chmod(f->dir, 0755) == 0);
	CHECK(chmod(f->run_dir, 0755) == 0);
	CHECK(chmod(f->socket, 0666) == 0);
	CHECK_EQ(as_other_user(f, 65534, (gid_t)-1), 1);
	ctl_server_stop(f->srv);
	f->srv = NULL;
	/* with a group: mode 0660 and the group's members get in, as primary or supplementary */
	REQUIRE_EQ(ctl_server_start(&cfg, &f->srv), 0);
	REQUIRE(stat(f->socket, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 0660);
	CHECK_EQ(st.st_gid, 4242);
	CHECK(chmod(f->socket, 0666) == 0);
	CHECK_EQ(as_other_user(f, 4242, (gid_t)-1), 0);
	CHECK_EQ(as_other_user(f, 65534, 4242), 0);
	CHECK_EQ(as_other_user(f, 65534, (gid_t)-1), 1);
}

CTL_TEST(connection_limit, true)
{
	int fds[CTL_MAX_CONNECTIONS + 1], fd = -1;
	bool served = false;
	struct json_object *r;
	struct timespec start, now;

	for (int i = 0; i < CTL_MAX_CONNECTIONS; i++) {
		fds[i] = client_connect(f);
		CHECK(client_send(fds[i], "{\"command\":\"list\"}"));
		r = client_read(fds[i]); /* served: admitted */
		CHECK(reply_ok(r));
		json_object_put(r);
	}
	fds[CTL_MAX_CONNECTIONS] = client_connect(f);
	r = client_read(fds[CTL_MAX_CONNECTIONS]);
	CHECK_STR(reply_error(r), "too many connections (at most 32)");
	CHECK_EQ(reply_errno(r), EUSERS);
	json_object_put(r);
	for (int i = 0; i <= CTL_MAX_CONNECTIONS; i++)
		close(fds[i]);
	/* the slots come back once the server has seen the closes */
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		fd = client_connect(f);
		client_send(fd, "{\"command\":\"list\"}");
		r = client_read(fd);
		close(fd);
		served = reply_ok(r);
		json_object_put(r);
		if (!served)
			usleep(10000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (!served && now.tv_sec - start.tv_sec < WAIT_MS / 1000);
	CHECK(served);
}

static bool read_event(int fd, const char *expect)
{
	struct json_object *r = client_read(fd);
	char *text = r ? mdevctl_json_print(r, false) : NULL;
	bool ok = CHECK_STR(text ? text : "(nothing)", expect);

	free(text);
	json_object_put(r);
	return ok;
}

CTL_TEST(event_stream, true)
{
	struct json_object *r;
	int fd = client_connect(f);

	REQUIRE(fd >= 0);
	CHECK(client_send(fd, "{\"command\":\"events\",\"id\":1}"));
	read_event(fd, "{\"ok\":true,\"id\":1}");
	json_object_put(request(f, "{\"command\":\"create\",\"parent\":\"mtty\","
				   "\"mdev_type\":\"mtty-2\",\"uuid\":\"" UA "\"}"));
	read_event(fd, "{\"event\":\"device_added\",\"uuid\":\"" UA "\",\"parent\":\"mtty\","
		       "\"mdev_type\":\"mtty-2\"}");
	json_object_put(request(f, "{\"command\":\"remove\",\"uuid\":\"" UA "\"}"));
	read_event(fd, "{\"event\":\"device_removed\",\"uuid\":\"" UA "\",\"parent\":\"mtty\","
		       "\"mdev_type\":\"mtty-2\"}");
	/* a subscriber is still a client */
	CHECK(client_send(fd, "{\"command\":\"events\"}"));
	r = client_read(fd);
	CHECK_STR(reply_error(r), "already subscribed to events");
	json_object_put(r);
	/* the parents' events: stopping mtty removes nothing left, then the parent */
	umdev_builtin_mtty.exit();
	read_event(fd, "{\"event\":\"parent_removed\",\"parent\":\"mtty\"}");
	CHECK_EQ(umdev_builtin_mtty.init(), 0);
	read_event(fd, "{\"event\":\"parent_added\",\"parent\":\"mtty\"}");
	close(fd);
}

CTL_TEST(subscriber_that_does_not_read_is_cut, true)
{
	char line[256];
	unsigned int events = 0;
	bool overflow = false;
	int fd = client_connect(f);
	int size = 4096;

	REQUIRE(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	CHECK(client_send(fd, "{\"command\":\"events\"}"));
	json_object_put(client_read(fd));
	/* far more events than the queue and the socket's buffers hold */
	for (int i = 0; i < 1500; i++) {
		char uuid[MDEVCTL_UUID_SIZE];
		char err[MGMT_ERR_SIZE];

		if (mgmt_start_device("null", "null-1", NULL, NULL, 0, uuid, err, sizeof(err)))
			break;
		mgmt_stop_device(uuid, err, sizeof(err));
	}
	/* the server gives up on it (after CTL_WRITE_TIMEOUT_MS); read what came */
	for (;;) {
		struct json_object *r = client_read(fd);
		const char *ev;

		if (!r)
			break;
		ev = json_object_get_string(json_object_object_get(r, "event"));
		if (ev && !strcmp(ev, "overflow"))
			overflow = true;
		else
			events++;
		json_object_put(r);
	}
	snprintf(line, sizeof(line), "%u events before the cut, overflow line: %s", events,
		 overflow ? "yes" : "no");
	tap_diag("%s", line);
	CHECK(events < 3000);
	close(fd);
}

CTL_TEST(start_over_stale_socket_not_over_live_one, true)
{
	struct ctl_server_config cfg = { f->socket, f->conf_dir, f->run_dir, (gid_t)-1 };
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct ctl_server *other;
	char path[600];
	int fd;

	CHECK_EQ(ctl_server_start(&cfg, &other), -EADDRINUSE);
	ctl_server_stop(f->srv);
	f->srv = NULL;
	/* a socket file nobody listens on is replaced */
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%.107s", f->socket);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	close(fd);
	CHECK_EQ(ctl_server_start(&cfg, &f->srv), 0);
	json_object_put(request(f, "{\"command\":\"types\"}"));
	/* another kind of file is left alone */
	snprintf(path, sizeof(path), "%s/file", f->run_dir);
	fclose(fopen(path, "w"));
	cfg.socket_path = path;
	CHECK_EQ(ctl_server_start(&cfg, &other), -EEXIST);
	cfg.socket_path = NULL;
	CHECK_EQ(ctl_server_start(&cfg, &other), -EINVAL);
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	cfg.socket_path = path;
	CHECK_EQ(ctl_server_start(&cfg, &other), -ENAMETOOLONG);
}
