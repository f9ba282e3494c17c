/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target of the control socket (src/mgmt/ctl/, docs/control-protocol.md): the
 * real server (ctl_server_start(): accept thread, one thread per connection, dispatcher,
 * commands) with the null and mtty drivers built into the process and a temporary conf dir.
 * The server only listens on a path, so each input is one client connected to
 * <tmp>/control.sock; the input is a sequence of records
 *
 *	[u16 len, little endian][len bytes]
 *
 * each sent with one send(): a record may hold part of a request line, one, or several.
 * Replies (and events, once subscribed) are read as they come. Then the client shuts down
 * its writing side, reads until the server closes, and closes. What came back must be JSON
 * lines, each an event or a reply (an error reply with a positive errno and a message), one
 * reply per request line (docs/control-protocol.md).
 *
 * Each input must leave the process as it found it. After it the target removes every
 * device and definition the input made, and then checks that the server let every
 * connection go, the mdev core's UUID table is empty (no leaked reservation), every type's
 * available_instances is back to its first value, and no fd was leaked. A server that stops
 * reading or does not close after the client's end within FUZZ_TIMEOUT_MS is a hang.
 * These abort with a message (a finding), as do crashes, sanitizer reports and leaks.
 *
 * Built with replay_main.c (ctl_fuzz_replay), the same code replays fuzz/corpus/ctl/ as a
 * test. See docs/fuzzing.md.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <umdev/mdev_manage.h>
#include <umdev/module.h>

#include "mdev/mdev_private.h" /* the UUID table, to find leaked reservations */
#include "mgmt/ctl/ctl_private.h" /* the live connections, to wait for them */
#include "mgmt/ops.h"
#include "mgmt/persist/mdevctl_json.h"
#include "fuzz_util.h"
#include "replay_main.h"

extern const struct umdev_driver_module umdev_builtin_null;
extern const struct umdev_driver_module umdev_builtin_mtty;

/* Bound of every wait on the server. */
#define FUZZ_TIMEOUT_MS 10000
/* Types whose available_instances are watched. */
#define FUZZ_MAX_TYPES 16

static struct {
	bool ready;
	char dir[256], conf[300], run[300], socket[320];
	struct ctl_server *srv;
	unsigned long lines, oks; /* lines received, and replies with "ok":true (for the replay) */
	size_t ntypes;
	struct {
		char parent[64];
		char instances[UMDEV_ATTR_BUF_SIZE + 1];
	} types[FUZZ_MAX_TYPES];
} fz;

/* What the server sent during the current input. */
static struct {
	char *data;
	size_t len, cap;
} rx;


/*
 * Reads every type's available_instances; with @check, compares them with the first
 * reading (@check false: records it).
 */
static void type_instances(bool check)
{
	struct mdev_parent **parents;
	ssize_t np = mdev_parents_list(&parents);
	size_t n = 0;

	if (np < 0)
		fuzz_die("mdev_parents_list");
	for (ssize_t i = 0; i < np; i++) {
		for (unsigned int t = 0; t < mdev_parent_num_types(parents[i]); t++) {
			struct mdev_type *mtype = mdev_parent_type(parents[i], t);
			char buf[UMDEV_ATTR_BUF_SIZE + 1];

			if (n == FUZZ_MAX_TYPES)
				break;
			if (mgmt_type_attr_read(mtype, "available_instances", buf) < 0)
				fuzz_die("cannot read available_instances");
			if (!check) {
				snprintf(fz.types[n].parent, sizeof(fz.types[n].parent), "%s",
					 mgmt_parent_name(parents[i]));
				memcpy(fz.types[n].instances, buf, sizeof(buf));
			} else if (strcmp(fz.types[n].instances, buf)) {
				fprintf(stderr, "ctl_fuzz: a type of %s has %s instances, %s before\n",
					fz.types[n].parent, buf, fz.types[n].instances);
				fuzz_die("available_instances did not come back (a leaked instance)");
			}
			n++;
		}
	}
	mdev_parents_free(parents, (size_t)np);
	if (check && n != fz.ntypes)
		fuzz_die("the parents or types changed");
	fz.ntypes = n;
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	struct ctl_server_config cfg;

	if (fz.ready)
		return;
	umdev_set_log_handler(NULL, NULL, 0); /* the commands' warnings are expected */
	snprintf(fz.dir, sizeof(fz.dir), "%s/umdev-ctlfuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fz.dir))
		fuzz_die("cannot make a temporary directory");
	snprintf(fz.conf, sizeof(fz.conf), "%s/conf", fz.dir);
	snprintf(fz.run, sizeof(fz.run), "%s/run", fz.dir);
	snprintf(fz.socket, sizeof(fz.socket), "%s/control.sock", fz.dir);
	if (mkdir(fz.conf, 0755) || mkdir(fz.run, 0755))
		fuzz_die("cannot make the directories");
	if (umdev_builtin_null.init() || umdev_builtin_mtty.init())
		fuzz_die("cannot start the null and mtty drivers");
	cfg = (struct ctl_server_config){ fz.socket, fz.conf, fz.run, (gid_t)-1 };
	if (ctl_server_start(&cfg, &fz.srv))
		fuzz_die("cannot start the control server");
	type_instances(false);
	fz.ready = true;
	atexit(fuzz_replay_teardown); /* libFuzzer exits without it: no stale tmp dir */
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

void fuzz_replay_teardown(void)
{
	if (!fz.ready)
		return;
	printf("# %lu lines received, %lu of them successful replies\n", fz.lines, fz.oks);
	free(rx.data);
	rx.data = NULL;
	rx.cap = 0;
	ctl_server_stop(fz.srv);
	umdev_builtin_mtty.exit();
	umdev_builtin_null.exit();
	nftw(fz.dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	rmdir(fz.dir);
	fz.ready = false;
}

/* Reads what the server sent into rx; false at EOF or on an error. */
static bool drain(int fd)
{
	for (;;) {
		ssize_t n;

		if (rx.cap - rx.len < 65536) {
			char *d = realloc(rx.data, rx.cap + (1 << 17));

			if (!d)
				fuzz_die("out of memory");
			rx.data = d;
			rx.cap += 1 << 17;
		}
		n = recv(fd, rx.data + rx.len, rx.cap - rx.len, MSG_DONTWAIT);
		if (n > 0) {
			rx.len += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		return false;
	}
}

/*
 * The replies the server owes for the @len bytes sent: one per non-empty line ended by a
 * newline, in order; a line that does not fit CTL_MAX_REQUEST gets one (an error) and ends
 * the connection.
 */
static unsigned long replies_owed(const uint8_t *sent, size_t len)
{
	unsigned long owed = 0;
	size_t start = 0;

	while (start < len) {
		const uint8_t *nl = memchr(sent + start, '\n', len - start);
		size_t line = nl ? (size_t)(nl - (sent + start)) : len - start;

		if (line >= CTL_MAX_REQUEST)
			return owed + 1;
		if (!nl)
			break;
		if (line)
			owed++;
		start += line + 1;
	}
	return owed;
}

static void bad_line(const char *why, const char *line, size_t len)
{
	fprintf(stderr, "ctl_fuzz: %s: %.*s\n", why, (int)(len > 2000 ? 2000 : len), line);
	fuzz_die("a bad line from the server");
}

/*
 * Checks what the server sent: JSON lines, each a reply ({"ok":true,...}, or
 * {"ok":false,"errno":N>0,"error":"<not empty>",...}) or an event ({"event":...}); as many
 * replies as owed (@owed < 0: not known, the server closed while the client was sending),
 * unless the connection was cut for falling behind on events.
 */
static void check_replies(long owed)
{
	unsigned long replies = 0;
	bool overflow = false;
	size_t start = 0;

	while (start < rx.len) {
		char *nl = memchr(rx.data + start, '\n', rx.len - start), *line = rx.data + start;
		struct json_object *o = NULL, *ok, *eno, *msg;
		char err[256];
		size_t len;

		if (!nl)
			bad_line("the last line has no newline", line, rx.len - start);
		len = (size_t)(nl - line);
		if (mdevctl_json_parse(line, len, &o, err, sizeof(err)))
			bad_line("not JSON", line, len);
		if (!json_object_is_type(o, json_type_object))
			bad_line("not an object", line, len);
		if (json_object_object_get_ex(o, "event", NULL)) {
			if (!strcmp(json_object_get_string(json_object_object_get(o, "event")),
				    "overflow"))
				overflow = true;
		} else {
			ok = json_object_object_get(o, "ok");
			eno = json_object_object_get(o, "errno");
			msg = json_object_object_get(o, "error");
			if (!json_object_is_type(ok, json_type_boolean))
				bad_line("a reply without \"ok\"", line, len);
			if (!json_object_get_boolean(ok) &&
			    (!json_object_is_type(eno, json_type_int) ||
			     json_object_get_int(eno) <= 0 || !json_object_is_type(msg, json_type_string) ||
			     !json_object_get_string_len(msg)))
				bad_line("an error reply without a positive errno and a message", line,
					 len);
			replies++;
			if (json_object_get_boolean(ok))
				fz.oks++;
		}
		fz.lines++;
		json_object_put(o);
		start += len + 1;
	}
	if (owed >= 0 && !overflow && replies != (unsigned long)owed) {
		fprintf(stderr, "ctl_fuzz: %lu replies to %ld requests\n", replies, owed);
		fuzz_die("requests and replies do not match");
	}
}

/* Sends one record, reading replies while the socket is full. False once the server closed. */
static bool send_record(int fd, const uint8_t *p, size_t len)
{
	struct timespec t0;
	size_t sent = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
		ssize_t n = send(fd, p + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n >= 0) {
			sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return false; /* EPIPE, ECONNRESET: the server closed */
		if (!drain(fd))
			return false;
		if (fuzz_ms_since(&t0) > FUZZ_TIMEOUT_MS)
			fuzz_die("the server stopped reading (hang)");
		poll(&pfd, 1, 100);
	}
	return drain(fd);
}

static int client_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%.107s", fz.socket);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		fuzz_die("cannot connect to the control socket");
	return fd;
}

/* Waits until the server has no live connection. */
static void wait_connections_gone(const char *what)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		unsigned int n;

		pthread_mutex_lock(&fz.srv->lock);
		n = fz.srv->nconns;
		pthread_mutex_unlock(&fz.srv->lock);
		if (!n)
			return;
		if (fuzz_ms_since(&t0) > FUZZ_TIMEOUT_MS)
			fuzz_die(what);
		usleep(200);
	}
}

/* Removes every device of every parent. */
static void remove_devices(void)
{
	struct mdev_parent **parents;
	ssize_t np = mdev_parents_list(&parents);

	if (np < 0)
		fuzz_die("mdev_parents_list");
	for (ssize_t i = 0; i < np; i++) {
		struct mdev_device **devs;
		ssize_t nd = mdev_parent_devices(parents[i], &devs);

		if (nd < 0)
			fuzz_die("mdev_parent_devices");
		for (ssize_t d = 0; d < nd; d++)
			if (mdev_device_remove(devs[d]))
				fuzz_die("a device the input made cannot be removed");
		mdev_devices_free(devs, (size_t)nd);
	}
	mdev_parents_free(parents, (size_t)np);
}

static void check_no_reservation(void)
{
	size_t n;

	pthread_mutex_lock(&mdev_list_lock);
	n = hmap_count(&mdev_uuids);
	pthread_mutex_unlock(&mdev_list_lock);
	if (n) {
		fprintf(stderr, "ctl_fuzz: %zu UUIDs still reserved\n", n);
		fuzz_die("a UUID reservation was leaked");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timespec t0;
	size_t pos = 0, nsent = 0;
	bool all_sent = true;
	uint8_t *sent;
	int fd, fds_before, n;

	setup();
	fds_before = fuzz_count_fds();
	fd = client_connect();
	rx.len = 0;
	sent = malloc(size ? size : 1);
	if (!sent)
		fuzz_die("out of memory");
	while (pos + 2 <= size) {
		size_t len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;

		pos += 2;
		if (len > size - pos)
			len = size - pos;
		if (!send_record(fd, data + pos, len)) {
			all_sent = false;
			break;
		}
		memcpy(sent + nsent, data + pos, len);
		nsent += len;
		pos += len;
	}

	/* the client is done: the server answers what it has, sees EOF and closes */
	shutdown(fd, SHUT_WR);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (!drain(fd))
			break;
		if (fuzz_ms_since(&t0) > FUZZ_TIMEOUT_MS)
			fuzz_die("the server keeps the connection after the client's EOF (hang)");
		poll(&pfd, 1, 100);
	}
	close(fd);
	check_replies(all_sent ? (long)replies_owed(sent, nsent) : -1);
	free(sent);
	wait_connections_gone("the server keeps a connection after the client closed (hang)");

	/* undo what the input made; a device's mtty backend may hold a connection too */
	remove_devices();
	nftw(fz.conf, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	wait_connections_gone("a connection made by a device outlives it (hang)");

	check_no_reservation();
	type_instances(true);
	n = fuzz_count_fds();
	if (n != fds_before) {
		fprintf(stderr, "ctl_fuzz: %d fds open after the input, %d before\n", n, fds_before);
		fuzz_die("file descriptors leaked");
	}
	return 0;
}
