/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevctl start, stop, start-parent-mdevs and info.
 *
 * start follows mdevctl 1.2.0's resolution: with --jsonfile the file gives the type and
 * attributes (a parent is required); else a UUID names a definition when one exists (its
 * parent, type and attributes are used; a different -t is an error); else parent and type
 * must both be given. The daemon's create does the rest, with mdevctl's checks and
 * messages. A generated UUID is printed.
 *
 * info (umdev's own) prints a running device's sockets and the QEMU -device argument that
 * connects to its vfio-user socket, quoted for a POSIX shell.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_jsonfile.h"

static const char *str_field(struct json_object *o, const char *key)
{
	struct json_object *v = json_object_object_get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* The one definition of @uuid (of @parent if given), for start -u; see run_start(). */
static int find_definition(struct cli_ctx *ctx, const char *uuid, const char *parent,
			   struct json_object **found, struct json_object **reply)
{
	struct json_object *req = cli_new_request("list"), *devices;
	size_t n;

	json_object_object_add(req, "defined", json_object_new_boolean(1));
	json_object_object_add(req, "uuid", json_object_new_string(uuid));
	if (parent)
		json_object_object_add(req, "parent", json_object_new_string(parent));
	*reply = cli_request(ctx, req);
	json_object_put(req);
	if (!*reply)
		return 1;
	devices = json_object_object_get(*reply, "devices");
	n = json_object_is_type(devices, json_type_array) ? json_object_array_length(devices) : 0;
	if (n > 1)
		return cli_error("Multiple definitions found for device %s. Please specify a parent.",
				 uuid);
	*found = n ? json_object_array_get_idx(devices, 0) : NULL;
	return 0;
}

static int run_start(struct cli_ctx *ctx, const struct cli_args *args)
{
	const char *uuid = cli_has(args, "uuid") ? args->uuid : NULL;
	const char *parent = cli_get(args, "parent"), *type = cli_get(args, "type");
	struct json_object *req = NULL, *reply = NULL, *lookup = NULL, *found = NULL;
	struct json_object *attrs = NULL;
	struct mdev_definition def = { 0 };
	int ret;

	if (cli_get(args, "jsonfile")) {
		struct json_object *val = NULL;

		/* mdevctl reads the file, then wants a parent, then looks at the content */
		ret = cli_read_jsonfile(cli_get(args, "jsonfile"), &val);
		if (!ret && !parent)
			ret = cli_error("Parent device required to start device via json file");
		if (!ret)
			ret = cli_jsonfile_definition(val, &def);
		json_object_put(val);
		if (ret)
			goto out;
		type = def.mdev_type;
		attrs = cli_attrs_json(&def);
	} else {
		if (uuid) {
			ret = find_definition(ctx, uuid, parent, &found, &lookup);
			if (ret)
				goto out;
		}
		if (found && type && strcmp(type, str_field(found, "mdev_type"))) {
			ret = cli_error("Device %s already exists on parent %s with type %s", uuid,
					str_field(found, "parent"), str_field(found, "mdev_type"));
			goto out;
		}
		if (found) {
			parent = str_field(found, "parent");
			type = str_field(found, "mdev_type");
			attrs = json_object_get(json_object_object_get(found, "attrs"));
		} else if (type && !parent) {
			ret = cli_error("can't provide type without parent");
			goto out;
		} else if (!type || !parent) {
			ret = cli_error("Device is insufficiently specified");
			goto out;
		}
	}
	req = cli_new_request("create");
	json_object_object_add(req, "parent", json_object_new_string(parent));
	json_object_object_add(req, "mdev_type", json_object_new_string(type));
	if (uuid)
		json_object_object_add(req, "uuid", json_object_new_string(uuid));
	if (attrs)
		json_object_object_add(req, "attrs", json_object_get(attrs));
	reply = cli_request(ctx, req);
	ret = reply ? 0 : 1;
	if (reply && !uuid)
		printf("%s\n", str_field(reply, "uuid"));
out:
	json_object_put(attrs);
	json_object_put(req);
	json_object_put(reply);
	json_object_put(lookup);
	definition_clear(&def);
	return ret;
}

static const struct cli_opt start_opts[] = {
	{ .id = "uuid", .short_name = 'u', .long_name = "uuid", .value_name = "UUID",
	  .kind = CLI_UUID, .required_unless = "parent",
	  .help = "The device's UUID (a defined device needs no more)" },
	{ .id = "parent", .short_name = 'p', .long_name = "parent", .value_name = "PARENT",
	  .kind = CLI_STRING, .required_unless = "uuid", .help = "The parent device" },
	{ .id = "type", .short_name = 't', .long_name = "type", .value_name = "type",
	  .kind = CLI_STRING, .help = "The mdev type" },
	{ .id = "jsonfile", .long_name = "jsonfile", .value_name = "JSONFILE", .kind = CLI_STRING,
	  .conflicts = { "type" }, .help = "Take the type and attributes from this JSON file" },
	{ 0 },
};

const struct cli_verb cli_verb_start = {
	.name = "start",
	.about = "Start a mediated device",
	.opts = start_opts,
	.run = run_start,
	.hidden = false,
};

static int run_stop(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct json_object *req = cli_new_request("remove"), *reply;

	json_object_object_add(req, "uuid", json_object_new_string(args->uuid));
	reply = cli_request(ctx, req);
	json_object_put(req);
	json_object_put(reply);
	return reply ? 0 : 1;
}

static const struct cli_opt stop_opts[] = {
	{ .id = "uuid", .short_name = 'u', .long_name = "uuid", .value_name = "UUID",
	  .kind = CLI_UUID, .required = true, .help = "The device to stop" },
	{ 0 },
};

const struct cli_verb cli_verb_stop = {
	.name = "stop",
	.about = "Stop a mediated device",
	.opts = stop_opts,
	.run = run_stop,
	.hidden = false,
};

static int run_start_parent(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct json_object *req = cli_new_request("start_parent"), *reply;

	json_object_object_add(req, "parent", json_object_new_string(cli_get(args, "parent")));
	reply = cli_request(ctx, req);
	json_object_put(req);
	json_object_put(reply);
	return reply ? 0 : 1;
}

static const struct cli_opt start_parent_opts[] = {
	{ .id = "parent", .value_name = "PARENT", .kind = CLI_STRING, .required = true,
	  .help = "The parent whose automatic devices start" },
	{ 0 },
};

const struct cli_verb cli_verb_start_parent_mdevs = {
	.name = "start-parent-mdevs",
	.about = "Start the automatic devices defined for a parent",
	.opts = start_parent_opts,
	.run = run_start_parent,
	.hidden = true,
};

/* @s in single quotes for a POSIX shell. */
static void print_shell_quoted(const char *s)
{
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

static int run_info(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct json_object *req = cli_new_request("info"), *reply, *sockets;

	json_object_object_add(req, "uuid", json_object_new_string(args->uuid));
	reply = cli_request(ctx, req);
	json_object_put(req);
	if (!reply)
		return 1;
	printf("%s %s %s\n", str_field(reply, "uuid"), str_field(reply, "parent"),
	       str_field(reply, "mdev_type"));
	sockets = json_object_object_get(reply, "sockets");
	for (size_t i = 0; json_object_is_type(sockets, json_type_array) &&
			   i < json_object_array_length(sockets); i++) {
		struct json_object *s = json_object_array_get_idx(sockets, i);
		bool listening = json_object_get_boolean(json_object_object_get(s, "listening"));

		if (!listening && strcmp(str_field(s, "transport"), "vfio-user"))
			continue; /* only vfio-user is shown when it is not there (yet) */
		printf("  %s socket: %s%s\n", str_field(s, "transport"), str_field(s, "path"),
		       listening ? "" : " (not listening)");
	}
	printf("  QEMU: -device ");
	print_shell_quoted(str_field(reply, "qemu_device"));
	printf("\n");
	json_object_put(reply);
	return 0;
}

static const struct cli_opt info_opts[] = {
	{ .id = "uuid", .value_name = "UUID", .kind = CLI_UUID, .required = true,
	  .help = "The running device" },
	{ 0 },
};

const struct cli_verb cli_verb_info = {
	.name = "info",
	.about = "Show a running device's sockets and the QEMU argument that connects to it",
	.opts = info_opts,
	.run = run_info,
	.hidden = false,
};
