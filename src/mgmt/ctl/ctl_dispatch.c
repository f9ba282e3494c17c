/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Serving one request of the control socket: the line is parsed (serde_json's grammar, so
 * a malformed request is answered with serde_json's description of what is wrong), checked
 * to be an object with a known "command" and only that command's fields, and handed to the
 * command's handler from the table below. Every request gets exactly one reply:
 *
 *   {"ok":true, <the command's fields>[, "warnings":[...]][, "id":<the request's id>]}
 *   {"ok":false,"errno":<errno>,"error":"<message>"[, "id":...]}
 *
 * The argument helpers validate each field's type and size before a handler uses it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/ctl/ctl_private.h"
#include "mgmt/persist/mdevctl_json.h"

static const struct ctl_command *const commands[] = {
	&ctl_cmd_types,	 &ctl_cmd_list,	    &ctl_cmd_info,	   &ctl_cmd_create,
	&ctl_cmd_remove, &ctl_cmd_define,   &ctl_cmd_undefine,	   &ctl_cmd_modify,
	&ctl_cmd_events, &ctl_cmd_start_parent,
};

struct json_object *ctl_error_reply(int errnum, const char *message)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "errno", json_object_new_int(errnum));
	json_object_object_add(o, "error", json_object_new_string(message));
	return o;
}

int ctl_fail(struct ctl_request *req, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->err, sizeof(req->err), fmt, ap);
	va_end(ap);
	return ret;
}

bool ctl_reply_set(struct ctl_request *req, const char *key, struct json_object *val)
{
	if (!val || json_object_object_add(req->reply, key, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}

void ctl_warn(struct ctl_request *req, const char *text)
{
	if (!req->warnings)
		req->warnings = json_object_new_array();
	if (req->warnings)
		json_object_array_add(req->warnings, json_object_new_string(text));
}

void ctl_bad_file(const char *path, const char *message, void *userdata)
{
	struct ctl_request *req = userdata;

	(void)path;
	ctl_warn(req, message);
	umdev_log(UMDEV_LOG_WARNING, "%s", message);
}

int ctl_arg_string(struct ctl_request *req, const char *key, bool required, size_t max,
		   const char **out)
{
	struct json_object *v = json_object_object_get(req->args, key);

	if (!v) {
		if (required)
			return ctl_fail(req, -EINVAL, "missing field '%s'", key);
		return -ENOENT;
	}
	if (!json_object_is_type(v, json_type_string))
		return ctl_fail(req, -EINVAL, "field '%s' must be a string", key);
	if ((size_t)json_object_get_string_len(v) > max)
		return ctl_fail(req, -EINVAL, "field '%s' is longer than %zu bytes", key, max);
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return ctl_fail(req, -EINVAL, "field '%s' contains a NUL character", key);
	*out = json_object_get_string(v);
	return 0;
}

int ctl_arg_bool(struct ctl_request *req, const char *key, bool *out)
{
	struct json_object *v = json_object_object_get(req->args, key);

	if (!v)
		return -ENOENT;
	if (!json_object_is_type(v, json_type_boolean))
		return ctl_fail(req, -EINVAL, "field '%s' must be true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

int ctl_arg_index(struct ctl_request *req, const char *key, size_t *out)
{
	struct json_object *v = json_object_object_get(req->args, key);
	int64_t n;

	if (!v)
		return -ENOENT;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < 0 || n > UINT32_MAX)
		return ctl_fail(req, -EINVAL, "field '%s' must be an integer from 0 to %u", key,
				UINT32_MAX);
	*out = (size_t)n;
	return 0;
}

int ctl_arg_uuid(struct ctl_request *req, const char *key, bool required,
		 char out[MDEVCTL_UUID_SIZE])
{
	const char *text;
	char why[160];
	int ret = ctl_arg_string(req, key, required, 64, &text);

	if (ret)
		return ret;
	if (mdevctl_uuid_parse(text, out, why, sizeof(why)))
		return ctl_fail(req, -EINVAL, "field '%s' is not a UUID: %s", key, why);
	return 0;
}

int ctl_arg_parent(struct ctl_request *req, bool required, const char **out)
{
	int ret = ctl_arg_string(req, "parent", required, DEFINITION_MAX_NAME, out);

	if (!ret && !definition_parent_name_ok(*out))
		return ctl_fail(req, -EINVAL, "field 'parent' is not a device name");
	return ret;
}

int ctl_arg_attrs(struct ctl_request *req, struct mdev_definition *def)
{
	return definition_attrs_from_json(json_object_object_get(req->args, "attrs"), def,
					  req->err, sizeof(req->err));
}

static const struct ctl_command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static bool field_allowed(const struct ctl_command *cmd, const char *key)
{
	if (!strcmp(key, "command") || !strcmp(key, "id"))
		return true;
	for (const char *const *f = cmd->fields; f && *f; f++)
		if (!strcmp(*f, key))
			return true;
	return false;
}

/* Runs the request's command; 0 or -errno with req->err. */
static int run_request(struct ctl_request *req)
{
	const struct ctl_command *cmd;
	const char *name;
	int ret;

	if (!json_object_is_type(req->args, json_type_object))
		return ctl_fail(req, -EINVAL, "invalid request: not a JSON object");
	ret = ctl_arg_string(req, "command", true, 64, &name);
	if (ret) {
		char why[sizeof(req->err)];

		memcpy(why, req->err, sizeof(why));
		return ctl_fail(req, ret, "invalid request: %.900s", why);
	}
	cmd = find_command(name);
	if (!cmd)
		return ctl_fail(req, -EOPNOTSUPP, "unknown command '%s'", name);
	json_object_object_foreach(req->args, key, val) {
		(void)val;
		if (!field_allowed(cmd, key))
			return ctl_fail(req, -EINVAL, "unknown field '%.200s' for command '%s'",
					key, name);
	}
	return cmd->run(req);
}

struct json_object *ctl_dispatch(struct ctl_conn *conn, const char *line, size_t len,
				 bool *subscribe)
{
	struct ctl_request req = { .srv = conn->srv, .conn = conn };
	struct json_object *reply, *id = NULL;
	char why[256], msg[300];
	int ret;

	*subscribe = false;
	ret = mdevctl_json_parse(line, len, &req.args, why, sizeof(why));
	if (ret) {
		snprintf(msg, sizeof(msg), "invalid request: not JSON: %s", why);
		return ctl_error_reply(-ret, msg);
	}
	req.reply = json_object_new_object();
	if (!req.reply) {
		json_object_put(req.args);
		return NULL;
	}
	json_object_object_add(req.reply, "ok", json_object_new_boolean(1));
	ret = run_request(&req);
	if (json_object_is_type(req.args, json_type_object))
		id = json_object_object_get(req.args, "id");
	if (ret) {
		json_object_put(req.reply);
		reply = ctl_error_reply(-ret, req.err);
	} else {
		reply = req.reply;
		if (req.warnings) {
			json_object_object_add(reply, "warnings", req.warnings);
			req.warnings = NULL;
		}
		*subscribe = req.subscribe;
	}
	if (reply && id)
		json_object_object_add(reply, "id", json_object_get(id));
	json_object_put(req.warnings);
	json_object_put(req.args);
	return reply;
}
