/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket's definition commands: define, undefine and modify, with mdevctl's
 * rules and messages. Each runs under the server's defs_lock, so that a modify (read,
 * change, atomic write) never loses a concurrent change made through the socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/ctl/ctl_private.h"

/* "start": "auto" or "manual" into @autostart; -ENOENT when absent. */
static int arg_start(struct ctl_request *req, bool *autostart)
{
	const char *start;
	int ret = ctl_arg_string(req, "start", false, 16, &start);

	if (ret)
		return ret;
	if (strcmp(start, "auto") && strcmp(start, "manual"))
		return ctl_fail(req, -EINVAL, "field 'start' must be \"auto\" or \"manual\"");
	*autostart = !strcmp(start, "auto");
	return 0;
}

/* Writes @def, with mdevctl's message on failure. */
static int write_def(struct ctl_request *req, const struct mdev_definition *def)
{
	char cause[128];
	int ret = definition_validate(def, req->err, sizeof(req->err));

	if (ret)
		return ret;
	ret = definition_write(req->srv->conf_dir, def);
	if (ret) {
		mgmt_os_error(cause, sizeof(cause), -ret);
		return ctl_fail(req, ret, "Failed to write config for device %s" MGMT_CAUSED_BY "%s",
				def->uuid, cause);
	}
	return 0;
}

static int do_define(struct ctl_request *req, struct mdev_definition *def)
{
	char uuid[MDEVCTL_UUID_SIZE];
	const char *parent, *type;
	int ret;

	ret = ctl_arg_parent(req, true, &parent);
	if (!ret)
		ret = ctl_arg_string(req, "mdev_type", true, DEFINITION_MAX_NAME, &type);
	if (ret)
		return ret;
	ret = ctl_arg_uuid(req, "uuid", false, uuid);
	if (ret == -ENOENT)
		ret = mdevctl_uuid_generate(uuid);
	if (ret)
		return ret < 0 && !*req->err ? ctl_fail(req, ret, "%s", strerror(-ret)) : ret;
	ret = arg_start(req, &def->autostart);
	if (ret && ret != -ENOENT)
		return ret;
	ret = ctl_arg_attrs(req, def);
	if (ret)
		return ret;
	snprintf(def->parent, sizeof(def->parent), "%s", parent);
	memcpy(def->uuid, uuid, sizeof(uuid));
	def->mdev_type = strdup(type);
	if (!def->mdev_type)
		return ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
	if (definition_exists(req->srv->conf_dir, parent, uuid))
		return ctl_fail(req, -EEXIST, "Device %s on %s already defined", uuid, parent);
	ret = write_def(req, def);
	if (!ret && !ctl_reply_set(req, "uuid", json_object_new_string(uuid)))
		ret = ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
	return ret;
}

static int cmd_define(struct ctl_request *req)
{
	struct mdev_definition def = { 0 };
	int ret;

	pthread_mutex_lock(&req->srv->defs_lock);
	ret = do_define(req, &def);
	pthread_mutex_unlock(&req->srv->defs_lock);
	definition_clear(&def);
	return ret;
}

static const char *const define_fields[] = { "parent", "mdev_type", "uuid", "start", "attrs",
					     NULL };
const struct ctl_command ctl_cmd_define = { "define", cmd_define, define_fields };

static int cmd_undefine(struct ctl_request *req)
{
	char uuid[MDEVCTL_UUID_SIZE], cause[128];
	const char *parent = NULL;
	int ret;

	ret = ctl_arg_uuid(req, "uuid", true, uuid);
	if (ret)
		return ret;
	ret = ctl_arg_parent(req, false, &parent);
	if (ret && ret != -ENOENT)
		return ret;
	pthread_mutex_lock(&req->srv->defs_lock);
	ret = definition_remove(req->srv->conf_dir, ret ? NULL : parent, uuid);
	pthread_mutex_unlock(&req->srv->defs_lock);
	if (ret == -ENOENT)
		return ctl_fail(req, ret, "No devices match the specified uuid");
	if (ret) {
		mgmt_os_error(cause, sizeof(cause), -ret);
		return ctl_fail(req, ret, "Failed to undefine %s" MGMT_CAUSED_BY "%s", uuid, cause);
	}
	return 0;
}

static const char *const undefine_fields[] = { "uuid", "parent", NULL };
const struct ctl_command ctl_cmd_undefine = { "undefine", cmd_undefine, undefine_fields };

/* ---- modify ---- */

struct modify_ctx {
	struct ctl_request *req;
	const char *uuid;
	char bad[MGMT_ERR_SIZE]; /* the warning about the definition's own file, if any */
};

static void modify_bad_file(const char *path, const char *message, void *userdata)
{
	struct modify_ctx *m = userdata;
	size_t len = strlen(path);

	if (len > 36 && !strcmp(path + len - 36, m->uuid))
		snprintf(m->bad, sizeof(m->bad), "%s", message);
	ctl_bad_file(path, message, m->req);
}

/* The one definition of @uuid (of @parent if given), as mdevctl's get_defined_device(). */
static int find_definition(struct ctl_request *req, const char *uuid, const char *parent,
			   struct mdev_definition *out)
{
	struct modify_ctx m = { .req = req, .uuid = uuid };
	struct mdev_definition *defs, *found = NULL;
	size_t count, matches = 0;
	int ret;

	ret = definitions_load(req->srv->conf_dir, parent, &defs, &count, modify_bad_file, &m);
	if (ret)
		return ctl_fail(req, ret, "Cannot read %s: %s", req->srv->conf_dir,
				strerror(-ret));
	for (size_t i = 0; i < count; i++) {
		if (!strcmp(defs[i].uuid, uuid)) {
			found = found ? found : &defs[i];
			matches++;
		}
	}
	if (!matches && m.bad[0])
		ret = ctl_fail(req, -EINVAL, "%s", m.bad);
	else if (!matches && parent)
		ret = ctl_fail(req, -ENOENT, "Mediated device %s/%s is not defined", parent, uuid);
	else if (!matches)
		ret = ctl_fail(req, -ENOENT, "Mediated device %s is not defined", uuid);
	else if (matches > 1)
		ret = ctl_fail(req, -EEXIST, "Multiple definitions found for %s, specify a parent",
			       uuid);
	else
		ret = definition_copy(out, found);
	definitions_free(defs, count);
	return ret == -ENOMEM ? ctl_fail(req, ret, "%s", strerror(ENOMEM)) : ret;
}

/* What a modify asks for, every field checked before anything is looked up. */
struct modify_args {
	char uuid[MDEVCTL_UUID_SIZE];
	const char *parent, *type, *addattr, *value;
	bool has_start, autostart, delattr, has_index;
	size_t index;
};

/* Stores an optional argument's result: 0 whether given or not, else the error. */
static int optional(int ret, bool *given)
{
	if (given)
		*given = !ret;
	return ret == -ENOENT ? 0 : ret;
}

static int modify_parse(struct ctl_request *req, struct modify_args *a)
{
	int ret;

	ret = ctl_arg_uuid(req, "uuid", true, a->uuid);
	if (!ret)
		ret = optional(ctl_arg_parent(req, false, &a->parent), NULL);
	if (!ret)
		ret = optional(ctl_arg_string(req, "mdev_type", false, DEFINITION_MAX_NAME, &a->type),
			       NULL);
	if (!ret)
		ret = optional(arg_start(req, &a->autostart), &a->has_start);
	if (!ret)
		ret = optional(ctl_arg_string(req, "addattr", false, DEFINITION_MAX_NAME,
					      &a->addattr), NULL);
	if (!ret)
		ret = optional(ctl_arg_string(req, "value", false, DEFINITION_MAX_VALUE, &a->value),
			       NULL);
	if (!ret)
		ret = optional(ctl_arg_bool(req, "delattr", &a->delattr), NULL);
	if (!ret)
		ret = optional(ctl_arg_index(req, "index", &a->index), &a->has_index);
	if (!ret && a->addattr && !a->value)
		ret = ctl_fail(req, -EINVAL, "No attribute value provided");
	return ret;
}

/* --addattr/--value/--index and --delattr/--index, as mdevctl applies them. */
static int edit_attrs(struct ctl_request *req, const struct modify_args *a,
		      struct mdev_definition *def)
{
	int ret;

	if (a->addattr) {
		if (a->has_index && a->index > def->nattrs)
			return ctl_fail(req, -EINVAL, "Attribute index %zu is invalid", a->index);
		ret = definition_attr_insert(def, a->has_index ? a->index : def->nattrs, a->addattr,
					     a->value);
		if (ret == -E2BIG)
			return ctl_fail(req, ret, "too many attributes (at most %d)",
					DEFINITION_MAX_ATTRS);
		return ret ? ctl_fail(req, ret, "%s", strerror(-ret)) : 0;
	}
	if (!a->delattr)
		return 0;
	if (a->has_index && a->index >= def->nattrs)
		return ctl_fail(req, -EINVAL, "Attribute index %zu is invalid", a->index);
	if (def->nattrs)
		definition_attr_delete(def, a->has_index ? a->index : def->nattrs - 1);
	return 0;
}

static int do_modify(struct ctl_request *req, struct mdev_definition *def)
{
	struct modify_args a = { 0 };
	int ret;

	ret = modify_parse(req, &a);
	if (!ret)
		ret = find_definition(req, a.uuid, a.parent, def);
	if (ret)
		return ret;
	if (a.type) {
		char *copy = strdup(a.type);

		if (!copy)
			return ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
		free(def->mdev_type);
		def->mdev_type = copy;
	}
	if (a.has_start)
		def->autostart = a.autostart;
	ret = edit_attrs(req, &a, def);
	if (!ret)
		ret = write_def(req, def);
	if (!ret && !ctl_reply_set(req, "definition", definition_to_json(def)))
		ret = ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
	return ret;
}

static int cmd_modify(struct ctl_request *req)
{
	struct mdev_definition def = { 0 };
	int ret;

	pthread_mutex_lock(&req->srv->defs_lock);
	ret = do_modify(req, &def);
	pthread_mutex_unlock(&req->srv->defs_lock);
	definition_clear(&def);
	return ret;
}

static const char *const modify_fields[] = { "uuid",  "parent",	 "mdev_type", "start",
					     "addattr", "value", "delattr", "index", NULL };
const struct ctl_command ctl_cmd_modify = { "modify", cmd_modify, modify_fields };
