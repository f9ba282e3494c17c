/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevctl types and list: the daemon's answer to the types and list commands, printed
 * exactly as mdevctl 1.2.0 prints the same state (mdevctl-contract.md (b)):
 *
 *   - text outputs get println!'s extra newline after text that already ends in one (so
 *     an empty listing is a single "\n"); JSON outputs are serde_json's pretty form and one
 *     newline;
 *   - list --dumpjson with -u and at most one device prints that device's bare config
 *     object ({"mdev_type","start","attrs"}), or [];
 *   - an active device shows the start and attributes of its definition, whose type wins
 *     over the running one with mdevctl's warning ("Overwriting mdev type ...").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "mgmt/persist/mdevctl_json.h"

static const char *str_field(struct json_object *o, const char *key)
{
	struct json_object *v = json_object_object_get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static struct json_object *array_field(struct json_object *o, const char *key)
{
	struct json_object *v = json_object_object_get(o, key);

	return json_object_is_type(v, json_type_array) ? v : NULL;
}

static size_t alen(struct json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

/* Prints text output as mdevctl's println!("{}", output) does; 0. */
static int print_text(struct mdevctl_buf *b)
{
	char *text = mdevctl_buf_take(b);

	if (!text)
		return cli_error("%s", strerror(ENOMEM));
	printf("%s\n", text);
	free(text);
	return 0;
}

/* ---- types ---- */

static void type_text(struct mdevctl_buf *b, struct json_object *t)
{
	struct json_object *name = json_object_object_get(t, "name");
	struct json_object *desc = json_object_object_get(t, "description");

	mdevctl_buf_addf(b, "  %s\n    Available instances: %d\n    Device API: %s\n",
			 str_field(t, "type"),
			 json_object_get_int(json_object_object_get(t, "available_instances")),
			 str_field(t, "device_api"));
	if (name)
		mdevctl_buf_addf(b, "    Name: %s\n", json_object_get_string(name));
	if (desc)
		mdevctl_buf_addf(b, "    Description: %s\n", json_object_get_string(desc));
}

/* {"<type>": {"available_instances", "device_api"[, "name"][, "description"]}} */
static struct json_object *type_json(struct json_object *t)
{
	static const char *const keys[] = { "available_instances", "device_api", "name",
					    "description" };
	struct json_object *inner = json_object_new_object(), *outer = json_object_new_object();

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct json_object *v = json_object_object_get(t, keys[i]);

		if (v)
			json_object_object_add(inner, keys[i], json_object_get(v));
	}
	json_object_object_add(outer, str_field(t, "type"), inner);
	return outer;
}

static int run_types(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct json_object *req = cli_new_request("types"), *reply, *parents;
	struct json_object *all = json_object_new_object(), *out = json_object_new_array();
	struct mdevctl_buf b = { 0 };
	int ret = 0;

	if (cli_get(args, "parent"))
		json_object_object_add(req, "parent", json_object_new_string(cli_get(args, "parent")));
	reply = cli_request(ctx, req);
	json_object_put(req);
	if (!reply) {
		ret = 1;
		goto out;
	}
	parents = array_field(reply, "parents");
	for (size_t i = 0; i < alen(parents); i++) {
		struct json_object *p = json_object_array_get_idx(parents, i);
		struct json_object *types = array_field(p, "types"), *list = json_object_new_array();

		mdevctl_buf_addf(&b, "%s\n", str_field(p, "parent"));
		for (size_t k = 0; k < alen(types); k++) {
			type_text(&b, json_object_array_get_idx(types, k));
			json_object_array_add(list, type_json(json_object_array_get_idx(types, k)));
		}
		json_object_object_add(all, str_field(p, "parent"), list);
	}
	if (cli_has(args, "dumpjson")) {
		free(mdevctl_buf_take(&b));
		if (alen(parents))
			json_object_array_add(out, json_object_get(all));
		ret = cli_print_json(out);
	} else {
		ret = print_text(&b);
	}
	json_object_put(reply);
out:
	json_object_put(all);
	json_object_put(out);
	return ret;
}

static const struct cli_opt types_opts[] = {
	{ .id = "parent", .short_name = 'p', .long_name = "parent", .value_name = "PARENT",
	  .kind = CLI_STRING, .help = "Show only the types of this parent" },
	{ .id = "dumpjson", .long_name = "dumpjson", .kind = CLI_FLAG,
	  .help = "Print the types as JSON" },
	{ 0 },
};

const struct cli_verb cli_verb_types = {
	.name = "types",
	.about = "List available mediated device types",
	.opts = types_opts,
	.run = run_types,
	.hidden = false,
};

/* ---- list ---- */

/* A device as mdevctl shows it. */
struct shown {
	const char *uuid, *parent, *type;
	bool autostart, mark; /* mark: " (defined)" or " (active)" */
	struct json_object *attrs;
};

/* The device of a list reply item, with its definition applied (active listings). */
static void shown_from(const struct cli_ctx *ctx, struct json_object *d, bool defined,
		       struct shown *s)
{
	struct json_object *def = json_object_object_get(d, "definition");

	s->uuid = str_field(d, "uuid");
	s->parent = str_field(d, "parent");
	s->type = str_field(d, "mdev_type");
	s->autostart = !strcmp(str_field(d, "start"), "auto");
	s->attrs = array_field(d, "attrs");
	s->mark = json_object_get_boolean(json_object_object_get(d, defined ? "active" : "defined"));
	if (defined || !json_object_is_type(def, json_type_object))
		return;
	if (strcmp(s->type, str_field(def, "mdev_type")))
		cli_warn(ctx, "::mdev", "Overwriting mdev type for mdev %s: %s => %s", s->uuid,
			 s->type, str_field(def, "mdev_type"));
	s->type = str_field(def, "mdev_type");
	s->autostart = !strcmp(str_field(def, "start"), "auto");
	s->attrs = array_field(def, "attrs");
}

static void shown_text(struct mdevctl_buf *b, const struct shown *s, bool defined, bool verbose)
{
	mdevctl_buf_addf(b, "%s %s %s %s%s\n", s->uuid, s->parent, s->type,
			 s->autostart ? "auto" : "manual",
			 !s->mark ? "" : defined ? " (active)" : " (defined)");
	if (!verbose || !alen(s->attrs))
		return;
	mdevctl_buf_add(b, "  Attrs:\n", 9);
	for (size_t i = 0; i < alen(s->attrs); i++) {
		struct json_object *a = json_object_array_get_idx(s->attrs, i);

		if (!json_object_is_type(a, json_type_object))
			continue;
		json_object_object_foreach(a, k, v)
			mdevctl_buf_addf(b, "    @{%zu}: {\"%s\":\"%s\"}\n", i, k,
					 json_object_get_string(v));
	}
}

/* {"mdev_type", "start", "attrs"}: the config object of a device. */
static struct json_object *shown_json(const struct shown *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "mdev_type", json_object_new_string(s->type));
	json_object_object_add(o, "start", json_object_new_string(s->autostart ? "auto" : "manual"));
	json_object_object_add(o, "attrs",
			       s->attrs ? json_object_get(s->attrs) : json_object_new_array());
	return o;
}

/* [{"<parent>": [{"<uuid>": config}, ...], ...}], or [] */
static struct json_object *hierarchy_json(const struct shown *s, size_t n)
{
	struct json_object *parents = json_object_new_object(), *out = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *list = json_object_object_get(parents, s[i].parent);
		struct json_object *entry = json_object_new_object();

		if (!list) {
			list = json_object_new_array();
			json_object_object_add(parents, s[i].parent, list);
		}
		json_object_object_add(entry, s[i].uuid, shown_json(&s[i]));
		json_object_array_add(list, entry);
	}
	if (n)
		json_object_array_add(out, parents);
	else
		json_object_put(parents);
	return out;
}

static int run_list(struct cli_ctx *ctx, const struct cli_args *args)
{
	bool defined = cli_has(args, "defined"), verbose = cli_has(args, "verbose");
	struct json_object *req = cli_new_request("list"), *reply, *devices, *json;
	struct mdevctl_buf b = { 0 };
	struct shown *s;
	size_t n;
	int ret;

	json_object_object_add(req, "defined", json_object_new_boolean(defined));
	if (cli_has(args, "uuid"))
		json_object_object_add(req, "uuid", json_object_new_string(args->uuid));
	if (cli_get(args, "parent"))
		json_object_object_add(req, "parent", json_object_new_string(cli_get(args, "parent")));
	reply = cli_request(ctx, req);
	json_object_put(req);
	if (!reply)
		return 1;
	devices = array_field(reply, "devices");
	n = alen(devices);
	s = calloc(n ? n : 1, sizeof(*s));
	if (!s) {
		json_object_put(reply);
		return cli_error("%s", strerror(ENOMEM));
	}
	for (size_t i = 0; i < n; i++)
		shown_from(ctx, json_object_array_get_idx(devices, i), defined, &s[i]);
	if (cli_has(args, "dumpjson")) {
		if (!cli_has(args, "uuid") || n > 1)
			json = hierarchy_json(s, n);
		else
			json = n ? shown_json(&s[0]) : json_object_new_array();
		ret = cli_print_json(json);
		json_object_put(json);
	} else {
		for (size_t i = 0; i < n; i++)
			shown_text(&b, &s[i], defined, verbose);
		ret = print_text(&b);
	}
	free(s);
	json_object_put(reply);
	return ret;
}

static const struct cli_opt list_opts[] = {
	{ .id = "defined", .short_name = 'd', .long_name = "defined", .kind = CLI_FLAG,
	  .help = "List the defined devices, running or not" },
	{ .id = "dumpjson", .long_name = "dumpjson", .kind = CLI_FLAG,
	  .help = "Print the list as JSON" },
	{ .id = "verbose", .short_name = 'v', .long_name = "verbose", .kind = CLI_FLAG,
	  .help = "Show the devices' attributes too" },
	{ .id = "uuid", .short_name = 'u', .long_name = "uuid", .value_name = "UUID",
	  .kind = CLI_UUID, .help = "Only the device with this UUID" },
	{ .id = "parent", .short_name = 'p', .long_name = "parent", .value_name = "PARENT",
	  .kind = CLI_STRING, .help = "Only the devices of this parent" },
	{ 0 },
};

const struct cli_verb cli_verb_list = {
	.name = "list",
	.about = "List mediated devices",
	.opts = list_opts,
	.run = run_list,
	.hidden = false,
	.has_version = true,
};
