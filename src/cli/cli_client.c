/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevctl's side of the control socket (docs/control-protocol.md) and its reports: one
 * connection per request, the request as one JSON line, the reply read up to its newline
 * (at most CLI_MAX_REPLY bytes, within CLI_REPLY_TIMEOUT_S). Errors are printed as mdevctl
 * prints them ("Error: <message>", exit status 1); the reply's warnings as env_logger
 * prints mdevctl's ("[2026-11-21T08:40:22Z WARN  mdevctl] Device already exists"), unless
 * MDEVCTL_LOG asks for errors only.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mgmt/persist/mdevctl_json.h"

/* Bytes of one reply (a listing of many definitions). */
#define CLI_MAX_REPLY (64u << 20)

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

void cli_warn(const struct cli_ctx *ctx, const char *module, const char *fmt, ...)
{
	const char *filter = getenv("MDEVCTL_LOG");
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	if (filter && (!strcasecmp(filter, "error") || !strcasecmp(filter, "off")))
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "[%s WARN  %s%s] ", stamp, ctx->prog, module);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct json_object *cli_new_request(const char *command)
{
	struct json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, "command", json_object_new_string(command));
	return o;
}

void cli_debug_path(const char *path, char *buf, size_t size)
{
	size_t len = 0;

	for (const char *p = path; *p && len + 8 < size; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\')
			len += (size_t)snprintf(buf + len, size - len, "%s\\%c", len ? "" : "\"", c);
		else if (c == '\n' || c == '\t' || c == '\r')
			len += (size_t)snprintf(buf + len, size - len, "%s\\%c", len ? "" : "\"",
						c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
		else if (c < 0x20 || c == 0x7f)
			len += (size_t)snprintf(buf + len, size - len, "%s\\u{%x}", len ? "" : "\"",
						c);
		else
			len += (size_t)snprintf(buf + len, size - len, "%s%c", len ? "" : "\"", c);
	}
	snprintf(buf + len, size - len, "%s\"", len ? "" : "\"");
}

int cli_print_json(struct json_object *obj)
{
	char *text = mdevctl_json_print(obj, true);

	if (!text)
		return cli_error("%s", strerror(ENOMEM));
	printf("%s\n", text);
	free(text);
	return 0;
}

static int connect_daemon(const struct cli_ctx *ctx, char *path, size_t size)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(path, size, "%s/control.sock", ctx->run_dir) >= size ||
	    strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static int send_line(int fd, const char *text)
{
	size_t len = strlen(text);
	char *line = malloc(len + 1);
	size_t done = 0;
	int ret = 0;

	if (!line)
		return -ENOMEM;
	memcpy(line, text, len);
	line[len++] = '\n';
	while (done < len) {
		ssize_t n = send(fd, line + done, len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		done += (size_t)n;
	}
	free(line);
	return ret;
}

/* Reads one reply line (malloc'd, NUL-terminated, without its newline) into *@out. */
static int read_line(int fd, char **out, size_t *out_len)
{
	time_t deadline = time(NULL) + CLI_REPLY_TIMEOUT_S;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nl = NULL;

	if (!buf)
		return -ENOMEM;
	while (!nl) {
		struct pollfd p = { fd, POLLIN, 0 };
		time_t left = deadline - time(NULL);
		ssize_t n;

		if (left <= 0) {
			free(buf);
			return -ETIMEDOUT;
		}
		if (poll(&p, 1, (int)left * 1000) < 0 && errno != EINTR) {
			free(buf);
			return -errno;
		}
		if (!p.revents)
			continue;
		if (len + 1 >= cap) {
			char *grown = cap >= CLI_MAX_REPLY ? NULL : realloc(buf, 2 * cap);

			if (!grown) {
				free(buf);
				return cap >= CLI_MAX_REPLY ? -EMSGSIZE : -ENOMEM;
			}
			buf = grown;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -ECONNRESET;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	*nl = '\0';
	*out = buf;
	*out_len = (size_t)(nl - buf);
	return 0;
}

struct json_object *cli_request(struct cli_ctx *ctx, struct json_object *request)
{
	struct json_object *reply = NULL, *ok, *warnings;
	char path[4200], why[256], *line = NULL;
	size_t len = 0;
	int fd, ret;

	fd = connect_daemon(ctx, path, sizeof(path));
	if (fd < 0) {
		cli_error("cannot reach umdevd at %s: %s", path, strerror(-fd));
		return NULL;
	}
	ret = send_line(fd, json_object_to_json_string_ext(
				    request, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!ret)
		ret = read_line(fd, &line, &len);
	close(fd);
	if (ret) {
		cli_error("no reply from umdevd at %s: %s", path, strerror(-ret));
		return NULL;
	}
	ret = mdevctl_json_parse(line, len, &reply, why, sizeof(why));
	free(line);
	if (ret || !json_object_is_type(reply, json_type_object)) {
		cli_error("invalid reply from umdevd: %s", ret ? why : "not an object");
		json_object_put(reply);
		return NULL;
	}
	ok = json_object_object_get(reply, "ok");
	if (!json_object_get_boolean(ok)) {
		const char *msg = json_object_get_string(json_object_object_get(reply, "error"));

		cli_error("%s", msg ? msg : "umdevd refused the request");
		json_object_put(reply);
		return NULL;
	}
	warnings = json_object_object_get(reply, "warnings");
	if (!json_object_is_type(warnings, json_type_array))
		return reply;
	for (size_t i = 0; i < json_object_array_length(warnings); i++)
		cli_warn(ctx, "", "%s",
			 json_object_get_string(json_object_array_get_idx(warnings, i)));
	return reply;
}
