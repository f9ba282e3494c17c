/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevctl qemu (umdev's own): runs QEMU with running mediated devices attached, so that the
 * user writes no fd numbers and no socket paths.
 *
 *   umdevctl [--run-dir DIR] qemu [--transport mpqemu|vfio-user] UUID... -- QEMU [ARGS...]
 *
 * The first word after "--" is the QEMU program (searched in PATH), the rest its arguments.
 * Each UUID must name a device the daemon runs (asked with the control socket's `info`).
 * mpqemu (the default; QEMU 7.2's x-pci-proxy-dev) connects to the device's mpqemu.sock,
 * checks that the device serves the connection (cli_mpqemu.c) and leaves the socket open
 * across exec: QEMU gets `-device x-pci-proxy-dev,id=umdev-<uuid>,fd=<N>`. vfio-user (QEMU's
 * vfio-user-pci, 10.1 and later) connects nothing: QEMU gets the JSON form of -device with
 * the socket's path. The -device arguments follow the user's, in the order of the UUIDs,
 * and umdevctl then becomes QEMU (exec). Any error is reported before anything runs:
 * usage errors in clap's manner (exit status 2), the others as "Error: ..." (status 1).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

/* Most devices one QEMU gets from one command (each is an fd and two arguments). */
#define CLI_QEMU_MAX_DEVICES 64

#define MORE_INFO "\nFor more information try --help\n"
#define TRANSPORT_ARG "--transport <TRANSPORT>"

enum qemu_transport { QEMU_MPQEMU, QEMU_VFIO_USER };

static const char *const transport_names[] = { [QEMU_MPQEMU] = "mpqemu",
					       [QEMU_VFIO_USER] = "vfio-user" };

/* The parsed command line. */
struct qemu_cmd {
	enum qemu_transport transport;
	bool transport_given;
	char uuid[CLI_QEMU_MAX_DEVICES][MDEVCTL_UUID_SIZE]; /* canonical, in the order given */
	size_t nuuid;
	char **qemu_argv; /* the program and its arguments: the words after "--" */
	int qemu_argc;
};

/* What QEMU gets for one device. */
struct qemu_attach {
	int fd;		/* the inherited mpqemu connection, or -1 */
	char *device;	/* the value of -device (malloc'd) */
};

static void print_usage_line(FILE *out, const struct cli_ctx *ctx)
{
	fprintf(out, "USAGE:\n    %s qemu [OPTIONS] <UUID>... -- <QEMU> [ARGS]...\n", ctx->prog);
}

static int usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	print_usage_line(stderr, ctx);
	fputs(MORE_INFO, stderr);
	return 2;
}

static int print_help(const struct cli_ctx *ctx)
{
	printf("%s-qemu \n%s\n\n", ctx->prog, cli_verb_qemu.about);
	print_usage_line(stdout, ctx);
	printf("\nARGS:\n"
	       "    <UUID>...    The running devices to attach, in this order (each once)\n"
	       "    <QEMU>       The QEMU program (searched in PATH), then its arguments\n"
	       "\nOPTIONS:\n"
	       "    -h, --help                     Print help information\n"
	       "        " TRANSPORT_ARG "    mpqemu (default; QEMU 7.2's x-pci-proxy-dev) or "
	       "vfio-user (QEMU 10.1's vfio-user-pci)\n"
	       "\nFor each device QEMU gets, after the arguments given,\n"
	       "    -device x-pci-proxy-dev,id=umdev-<UUID>,fd=<N>                (mpqemu)\n"
	       "    -device {\"driver\":\"vfio-user-pci\",\"id\":\"umdev-<UUID>\",\"socket\":"
	       "{\"path\":\"<socket>\",\"type\":\"unix\"}}   (vfio-user)\n"
	       "where N is a connection to the device's mpqemu socket that QEMU inherits. %s then\n"
	       "runs QEMU in its place.\n",
	       ctx->prog);
	return CLI_PARSE_DONE;
}

static int take_transport(const struct cli_ctx *ctx, struct qemu_cmd *cmd, const char *value)
{
	if (cmd->transport_given)
		return usage_error(ctx, "The argument '%s' was provided more than once, but cannot "
				   "be used multiple times", TRANSPORT_ARG);
	cmd->transport_given = true;
	for (size_t i = 0; i < sizeof(transport_names) / sizeof(transport_names[0]); i++) {
		if (!strcmp(value, transport_names[i])) {
			cmd->transport = (enum qemu_transport)i;
			return 0;
		}
	}
	fprintf(stderr, "error: \"%s\" isn't a valid value for '" TRANSPORT_ARG "'\n"
			"\t[possible values: mpqemu, vfio-user]\n\n", value);
	print_usage_line(stderr, ctx);
	fputs(MORE_INFO, stderr);
	return 2;
}

/* @dashes: a "--" follows (else a word that is no UUID is likely QEMU's, "--" forgotten) */
static int take_uuid(const struct cli_ctx *ctx, struct qemu_cmd *cmd, const char *arg,
		     bool dashes)
{
	char why[256];

	if (cmd->nuuid == CLI_QEMU_MAX_DEVICES)
		return usage_error(ctx, "More than %d devices given", CLI_QEMU_MAX_DEVICES);
	if (mdevctl_uuid_parse(arg, cmd->uuid[cmd->nuuid], why, sizeof(why))) {
		if (!dashes)
			return usage_error(ctx, "'%s' is no UUID, and no '--' is given: '--' and "
					   "the QEMU command line must follow the UUIDs", arg);
		fprintf(stderr, "error: Invalid value \"%s\" for '<UUID>...': %s\n" MORE_INFO, arg,
			why);
		return 2;
	}
	for (size_t i = 0; i < cmd->nuuid; i++)
		if (!strcmp(cmd->uuid[i], cmd->uuid[cmd->nuuid]))
			return usage_error(ctx, "The device %s is given more than once (a device "
					   "serves one VMM at a time)", cmd->uuid[i]);
	cmd->nuuid++;
	return 0;
}

/* 0, 2 after a usage error, or CLI_PARSE_DONE after the help. */
static int parse(const struct cli_ctx *ctx, int argc, char **argv, struct qemu_cmd *cmd)
{
	bool dashes = false;
	int i, ret = 0;

	memset(cmd, 0, sizeof(*cmd));
	for (i = 0; i < argc && !dashes; i++)
		dashes = !strcmp(argv[i], "--");
	for (i = 0; i < argc && !ret && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return print_help(ctx);
		if (!strcmp(a, "--transport")) {
			if (i + 1 >= argc || !strcmp(argv[i + 1], "--"))
				return usage_error(ctx, "The argument '%s' requires a value but none "
						   "was supplied", TRANSPORT_ARG);
			ret = take_transport(ctx, cmd, argv[++i]);
		} else if (!strncmp(a, "--transport=", 12)) {
			ret = take_transport(ctx, cmd, a + 12);
		} else if (a[0] == '-' && a[1]) {
			ret = usage_error(ctx, "Found argument '%s' which wasn't expected, or isn't "
					  "valid in this context", a);
		} else {
			ret = take_uuid(ctx, cmd, a, dashes);
		}
	}
	if (ret)
		return ret;
	if (!cmd->nuuid)
		return usage_error(ctx, "The following required arguments were not provided:\n"
				   "    %s", "<UUID>...");
	if (i >= argc)
		return usage_error(ctx, "%s", "'--' and the QEMU command line must follow the "
				   "UUIDs");
	if (i + 1 >= argc)
		return usage_error(ctx, "%s", "No QEMU program after '--'");
	if (!argv[i + 1][0])
		return usage_error(ctx, "%s", "The QEMU program after '--' is empty");
	cmd->qemu_argv = argv + i + 1;
	cmd->qemu_argc = argc - i - 1;
	return 0;
}

/* An executable regular file? */
static int executable(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	return access(path, X_OK) ? -errno : 0;
}

/*
 * Finds @prog as execvp() would (a name with a slash as is, else each directory of $PATH,
 * an empty one meaning the current directory) and writes its path to @out; -ENOENT when
 * there is none, -EACCES when none found is executable.
 */
static int find_program(const char *prog, char *out, size_t size)
{
	const char *path = getenv("PATH");
	int ret = -ENOENT;

	if (strchr(prog, '/')) {
		if ((size_t)snprintf(out, size, "%s", prog) >= size)
			return -ENAMETOOLONG;
		return executable(out);
	}
	if (!path)
		path = "/bin:/usr/bin";
	for (const char *dir = path;; dir++) {
		size_t len = strcspn(dir, ":");
		int err;

		if ((size_t)snprintf(out, size, "%.*s%s%s", (int)len, dir, len ? "/" : "",
				     prog) < size) {
			err = executable(out);
			if (!err)
				return 0;
			if (err == -EACCES)
				ret = err;
		}
		dir += len;
		if (!*dir)
			break;
	}
	return ret;
}

static const char *str_field(struct json_object *o, const char *key)
{
	struct json_object *v = json_object_object_get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* The path of @uuid's socket of @transport from the daemon's info reply; NULL after an error. */
static const char *socket_path(struct json_object *info, const char *uuid, const char *transport)
{
	struct json_object *sockets = json_object_object_get(info, "sockets");

	for (size_t i = 0; json_object_is_type(sockets, json_type_array) &&
			   i < json_object_array_length(sockets); i++) {
		struct json_object *s = json_object_array_get_idx(sockets, i);
		const char *t = str_field(s, "transport"), *path = str_field(s, "path");

		if (!t || strcmp(t, transport))
			continue;
		if (!path || path[0] != '/') {
			cli_error("umdevd gave no absolute %s socket path for device %s", transport,
				  uuid);
			return NULL;
		}
		if (!json_object_get_boolean(json_object_object_get(s, "listening"))) {
			cli_error("Device %s has no %s socket listening at %s", uuid, transport,
				  path);
			return NULL;
		}
		return path;
	}
	cli_error("umdevd reported no %s socket for device %s", transport, uuid);
	return NULL;
}

static char *vfio_user_device(const char *uuid, const char *path)
{
	struct json_object *dev = json_object_new_object(), *sock = json_object_new_object();
	char id[MDEVCTL_UUID_SIZE + 8];
	char *text = NULL;

	if (!dev || !sock)
		goto put;
	snprintf(id, sizeof(id), "umdev-%s", uuid);
	json_object_object_add(dev, "driver", json_object_new_string("vfio-user-pci"));
	json_object_object_add(dev, "id", json_object_new_string(id));
	json_object_object_add(sock, "path", json_object_new_string(path));
	json_object_object_add(sock, "type", json_object_new_string("unix"));
	json_object_object_add(dev, "socket", json_object_get(sock));
	text = strdup(json_object_to_json_string_ext(
		dev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
put:
	json_object_put(sock);
	json_object_put(dev);
	return text;
}

/* Asks the daemon for @uuid and prepares QEMU's -device for it; 0, or 1 after the error. */
static int attach(struct cli_ctx *ctx, const char *uuid, enum qemu_transport transport,
		  struct qemu_attach *out)
{
	struct json_object *req = cli_new_request("info"), *info;
	const char *path;
	unsigned int vendor;
	int ret = 1, fd;

	json_object_object_add(req, "uuid", json_object_new_string(uuid));
	info = cli_request(ctx, req); /* "Mediated device <uuid> is not active" */
	json_object_put(req);
	if (!info)
		return 1;
	path = socket_path(info, uuid, transport_names[transport]);
	if (!path)
		goto put_info;
	if (transport == QEMU_VFIO_USER) {
		out->device = vfio_user_device(uuid, path);
		ret = out->device ? 0 : cli_error("%s", strerror(ENOMEM));
		goto put_info;
	}
	fd = cli_mpqemu_connect(path, &vendor);
	if (fd == -ECONNRESET) {
		cli_error("Device %s closed the connection at %s: it serves one client at a time "
			  "(is it in use?)", uuid, path);
		goto put_info;
	}
	if (fd < 0) {
		cli_error("Device %s at %s: %s", uuid, path,
			  fd == -EPROTO ? "not an mpqemu server's answer" : strerror(-fd));
		goto put_info;
	}
	if (asprintf(&out->device, "x-pci-proxy-dev,id=umdev-%s,fd=%d", uuid, fd) < 0) {
		out->device = NULL;
		close(fd);
		cli_error("%s", strerror(ENOMEM));
		goto put_info;
	}
	out->fd = fd;
	ret = 0;
put_info:
	json_object_put(info);
	return ret;
}

static int run_qemu(struct cli_ctx *ctx, int argc, char **argv)
{
	struct qemu_attach att[CLI_QEMU_MAX_DEVICES];
	char program[4096], **qargv = NULL;
	struct qemu_cmd cmd;
	size_t n = 0;
	int ret, err, k = 0;

	ret = parse(ctx, argc, argv, &cmd);
	if (ret)
		return ret == CLI_PARSE_DONE ? 0 : ret;
	if (cli_find_run_dir(ctx))
		return 1;
	err = find_program(cmd.qemu_argv[0], program, sizeof(program));
	if (err == -ENOENT && !strchr(cmd.qemu_argv[0], '/'))
		return cli_error("QEMU program '%s' not found in PATH", cmd.qemu_argv[0]);
	if (err)
		return cli_error("cannot run QEMU program '%s': %s", cmd.qemu_argv[0],
				 strerror(-err));
	for (ret = 0; n < cmd.nuuid && !ret; n++) {
		att[n] = (struct qemu_attach){ .fd = -1 };
		ret = attach(ctx, cmd.uuid[n], cmd.transport, &att[n]);
	}
	if (ret)
		goto release;
	qargv = calloc((size_t)cmd.qemu_argc + 2 * n + 1, sizeof(*qargv));
	if (!qargv) {
		ret = cli_error("%s", strerror(ENOMEM));
		goto release;
	}
	for (k = 0; k < cmd.qemu_argc; k++)
		qargv[k] = cmd.qemu_argv[k];
	for (size_t i = 0; i < n; i++) {
		qargv[k++] = (char *)"-device";
		qargv[k++] = att[i].device;
	}
	fflush(stdout);
	fflush(stderr);
	execv(program, qargv);
	ret = cli_error("cannot run QEMU program '%s': %s", program, strerror(errno));
	free(qargv);
release:
	for (size_t i = 0; i < n; i++) {
		if (att[i].fd >= 0)
			close(att[i].fd);
		free(att[i].device);
	}
	return ret;
}

static const struct cli_opt qemu_opts[] = {
	{ 0 }, /* the verb parses its own command line (parse() above) */
};

const struct cli_verb cli_verb_qemu = {
	.name = "qemu",
	.about = "Run QEMU with running devices attached (the arguments after '--' are QEMU's)",
	.opts = qemu_opts,
	.run_argv = run_qemu,
	.hidden = false,
};
