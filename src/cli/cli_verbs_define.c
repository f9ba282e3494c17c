/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevctl define, undefine and modify: definitions in mdevctl's format, kept by umdevd.
 *
 * define follows mdevctl 1.2.0: with --jsonfile a parent is required, an existing
 * definition of the given UUID is not overwritten, and the file gives type, start and
 * attributes; else a UUID of a running device supplies its parent and type when they are
 * not given. A generated UUID is printed. modify and undefine are single daemon commands
 * (modify's read-change-write is atomic there).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_jsonfile.h"

static const char *str_field(struct json_object *o, const char *key)
{
	struct json_object *v = json_object_object_get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static size_t count_devices(struct json_object *reply)
{
	struct json_object *d = json_object_object_get(reply, "devices");

	return json_object_is_type(d, json_type_array) ? json_object_array_length(d) : 0;
}

/* list (active or defined) of one UUID; the reply, or NULL after an error. */
static struct json_object *lookup(struct cli_ctx *ctx, bool defined, const char *uuid,
				  const char *parent)
{
	struct json_object *req = cli_new_request("list"), *reply;

	json_object_object_add(req, "defined", json_object_new_boolean(defined));
	json_object_object_add(req, "uuid", json_object_new_string(uuid));
	if (parent)
		json_object_object_add(req, "parent", json_object_new_string(parent));
	reply = cli_request(ctx, req);
	json_object_put(req);
	return reply;
}

/* Sends define; prints the UUID when it was generated. */
static int send_define(struct cli_ctx *ctx, const char *parent, const char *type,
		       const char *uuid, bool autostart, struct json_object *attrs)
{
	struct json_object *req = cli_new_request("define"), *reply;

	json_object_object_add(req, "parent", json_object_new_string(parent));
	json_object_object_add(req, "mdev_type", json_object_new_string(type));
	if (uuid)
		json_object_object_add(req, "uuid", json_object_new_string(uuid));
	json_object_object_add(req, "start", json_object_new_string(autostart ? "auto" : "manual"));
	if (attrs)
		json_object_object_add(req, "attrs", json_object_get(attrs));
	reply = cli_request(ctx, req);
	json_object_put(req);
	if (reply && !uuid)
		printf("%s\n", str_field(reply, "uuid"));
	json_object_put(reply);
	return reply ? 0 : 1;
}

static int define_jsonfile(struct cli_ctx *ctx, const struct cli_args *args)
{
	const char *path = cli_get(args, "jsonfile"), *parent = cli_get(args, "parent");
	const char *uuid = cli_has(args, "uuid") ? args->uuid : NULL;
	struct mdev_definition def = { 0 };
	struct json_object *reply, *attrs, *val = NULL;
	char quoted[4200];
	int ret;

	if (!parent) {
		cli_debug_path(path, quoted, sizeof(quoted));
		return cli_error("Parent device required to define device via %s", quoted);
	}
	if (uuid) {
		reply = lookup(ctx, true, uuid, parent);
		if (!reply)
			return 1;
		ret = count_devices(reply) ? cli_error("Cowardly refusing to overwrite existing "
						       "config for %s/%s", parent, uuid)
					   : 0;
		json_object_put(reply);
		if (ret)
			return ret;
	}
	ret = cli_read_jsonfile(path, &val);
	if (!ret)
		ret = cli_jsonfile_definition(val, &def);
	json_object_put(val);
	if (!ret) {
		attrs = cli_attrs_json(&def);
		ret = send_define(ctx, parent, def.mdev_type, uuid, def.autostart, attrs);
		json_object_put(attrs);
	}
	definition_clear(&def);
	return ret;
}

static int run_define(struct cli_ctx *ctx, const struct cli_args *args)
{
	const char *uuid = cli_has(args, "uuid") ? args->uuid : NULL;
	const char *parent = cli_get(args, "parent"), *type = cli_get(args, "type");
	struct json_object *active = NULL, *reply = NULL;
	int ret;

	if (cli_get(args, "jsonfile"))
		return define_jsonfile(ctx, args);
	if (uuid) {
		reply = lookup(ctx, false, uuid, NULL);
		if (!reply)
			return 1;
		if (count_devices(reply))
			active = json_object_array_get_idx(json_object_object_get(reply, "devices"), 0);
		if (!parent && (!active || type)) {
			json_object_put(reply);
			return cli_error("No parent specified");
		}
	}
	if (!parent)
		parent = str_field(active, "parent");
	if (!type && active)
		type = str_field(active, "mdev_type");
	if (!parent)
		ret = cli_error("No parent specified");
	else if (!type)
		ret = cli_error("No type specified");
	else
		ret = send_define(ctx, parent, type, uuid, cli_has(args, "auto"), NULL);
	json_object_put(reply);
	return ret;
}

static const struct cli_opt define_opts[] = {
	{ .id = "uuid", .short_name = 'u', .long_name = "uuid", .value_name = "UUID",
	  .kind = CLI_UUID, .required_unless = "parent",
	  .help = "The device's UUID (of a running device: its parent and type by default)" },
	{ .id = "auto", .short_name = 'a', .long_name = "auto", .kind = CLI_FLAG,
	  .help = "Start the device when its parent registers" },
	{ .id = "parent", .short_name = 'p', .long_name = "parent", .value_name = "PARENT",
	  .kind = CLI_STRING, .required_unless = "uuid", .help = "The parent device" },
	{ .id = "type", .short_name = 't', .long_name = "type", .value_name = "type",
	  .kind = CLI_STRING, .help = "The mdev type" },
	{ .id = "jsonfile", .long_name = "jsonfile", .value_name = "JSONFILE", .kind = CLI_STRING,
	  .conflicts = { "type", "auto" },
	  .help = "Take the type, start and attributes from this JSON file" },
	{ 0 },
};

const struct cli_verb cli_verb_define = {
	.name = "define",
	.about = "Define a persistent mediated device",
	.opts = define_opts,
	.run = run_define,
	.hidden = false,
};

static int run_undefine(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct json_object *req = cli_new_request("undefine"), *reply;

	json_object_object_add(req, "uuid", json_object_new_string(args->uuid));
	if (cli_get(args, "parent"))
		json_object_object_add(req, "parent", json_object_new_string(cli_get(args, "parent")));
	reply = cli_request(ctx, req);
	json_object_put(req);
	json_object_put(reply);
	return reply ? 0 : 1;
}

static const struct cli_opt undefine_opts[] = {
	{ .id = "uuid", .short_name = 'u', .long_name = "uuid", .value_name = "UUID",
	  .kind = CLI_UUID, .required = true, .help = "The device to undefine" },
	{ .id = "parent", .short_name = 'p', .long_name = "parent", .value_name = "PARENT",
	  .kind = CLI_STRING, .help = "Only its definition under this parent" },
	{ 0 },
};

const struct cli_verb cli_verb_undefine = {
	.name = "undefine",
	.about = "Undefine a persistent mediated device",
	.opts = undefine_opts,
	.run = run_undefine,
	.hidden = false,
};

static int run_modify(struct cli_ctx *ctx, const struct cli_args *args)
{
	static const char *const strings[][2] = {
		{ "parent", "parent" }, { "type", "mdev_type" }, { "addattr", "addattr" },
		{ "value", "value" },
	};
	struct json_object *req = cli_new_request("modify"), *reply;

	json_object_object_add(req, "uuid", json_object_new_string(args->uuid));
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (cli_get(args, strings[i][0]))
			json_object_object_add(req, strings[i][1],
					       json_object_new_string(cli_get(args, strings[i][0])));
	if (cli_has(args, "auto") || cli_has(args, "manual"))
		json_object_object_add(req, "start",
				       json_object_new_string(cli_has(args, "auto") ? "auto"
										    : "manual"));
	if (cli_has(args, "delattr"))
		json_object_object_add(req, "delattr", json_object_new_boolean(1));
	if (cli_has(args, "index"))
		json_object_object_add(req, "index", json_object_new_int64((int64_t)args->number));
	reply = cli_request(ctx, req);
	json_object_put(req);
	json_object_put(reply);
	return reply ? 0 : 1;
}

static const struct cli_opt modify_opts[] = {
	{ .id = "uuid", .short_name = 'u', .long_name = "uuid", .value_name = "UUID",
	  .kind = CLI_UUID, .required = true, .help = "The defined device to modify" },
	{ .id = "parent", .short_name = 'p', .long_name = "parent", .value_name = "PARENT",
	  .kind = CLI_STRING, .help = "Its parent, when the UUID is defined under several" },
	{ .id = "type", .short_name = 't', .long_name = "type", .value_name = "type",
	  .kind = CLI_STRING, .help = "A new mdev type" },
	{ .id = "addattr", .long_name = "addattr", .value_name = "attr_name", .kind = CLI_STRING,
	  .requires = "value", .conflicts = { "delattr" },
	  .help = "Add an attribute (at the end, or at --index)" },
	{ .id = "delattr", .long_name = "delattr", .kind = CLI_FLAG,
	  .help = "Delete an attribute (the last, or the one at --index)" },
	{ .id = "index", .short_name = 'i', .long_name = "index", .value_name = "INDEX",
	  .kind = CLI_U32, .help = "The position of the attribute to add or delete" },
	{ .id = "value", .long_name = "value", .value_name = "attr_value", .kind = CLI_STRING,
	  .help = "The value of the attribute of --addattr" },
	{ .id = "auto", .short_name = 'a', .long_name = "auto", .kind = CLI_FLAG,
	  .help = "Start the device when its parent registers" },
	{ .id = "manual", .short_name = 'm', .long_name = "manual", .kind = CLI_FLAG,
	  .conflicts = { "auto" }, .help = "Start the device only when asked to" },
	{ 0 },
};

const struct cli_verb cli_verb_modify = {
	.name = "modify",
	.about = "Modify the definition of a mediated device",
	.opts = modify_opts,
	.run = run_modify,
	.hidden = false,
};
