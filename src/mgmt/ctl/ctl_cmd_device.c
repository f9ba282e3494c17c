/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket's device commands: create (mdevctl start with everything given:
 * parent, type, optional UUID and attributes), remove (mdevctl stop) and start_parent
 * (mdevctl start-parent-mdevs), each a call of the shared operations (ops.h), whose
 * mdevctl-worded errors become the reply's error.
 */
#include <errno.h>
#include <string.h>

#include "mgmt/ctl/ctl_private.h"

static int cmd_create(struct ctl_request *req)
{
	struct mdev_definition def = { 0 };
	char uuid[MDEVCTL_UUID_SIZE], out[MDEVCTL_UUID_SIZE];
	const char *parent, *type;
	bool has_uuid;
	int ret;

	ret = ctl_arg_parent(req, true, &parent);
	if (!ret)
		ret = ctl_arg_string(req, "mdev_type", true, DEFINITION_MAX_NAME, &type);
	if (ret)
		return ret;
	ret = ctl_arg_uuid(req, "uuid", false, uuid);
	if (ret && ret != -ENOENT)
		return ret;
	has_uuid = !ret;
	ret = ctl_arg_attrs(req, &def);
	if (!ret)
		ret = mgmt_start_device(parent, type, has_uuid ? uuid : NULL, def.attrs,
					def.nattrs, out, req->err, sizeof(req->err));
	if (!ret && !ctl_reply_set(req, "uuid", json_object_new_string(out)))
		ret = ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
	definition_clear(&def);
	return ret;
}

static const char *const create_fields[] = { "parent", "mdev_type", "uuid", "attrs", NULL };
const struct ctl_command ctl_cmd_create = { "create", cmd_create, create_fields };

static int cmd_remove(struct ctl_request *req)
{
	char uuid[MDEVCTL_UUID_SIZE];
	int ret = ctl_arg_uuid(req, "uuid", true, uuid);

	return ret ? ret : mgmt_stop_device(uuid, req->err, sizeof(req->err));
}

static const char *const remove_fields[] = { "uuid", NULL };
const struct ctl_command ctl_cmd_remove = { "remove", cmd_remove, remove_fields };

/* Collects the warnings of an autostart into the reply (and the daemon's log). */
static void collect_log(int level, const char *message, void *userdata)
{
	struct ctl_request *req = userdata;

	if (level <= UMDEV_LOG_WARNING)
		ctl_warn(req, message);
	umdev_log(level, "start_parent: %s", message);
}

static int cmd_start_parent(struct ctl_request *req)
{
	const char *parent;
	int ret = ctl_arg_parent(req, true, &parent);

	if (ret)
		return ret;
	ret = mgmt_autostart_parent(req->srv->conf_dir, parent, collect_log, req);
	if (ret < 0)
		return ctl_fail(req, ret, "Cannot read %s: %s", req->srv->conf_dir, strerror(-ret));
	return ctl_reply_set(req, "started", json_object_new_int(ret))
		       ? 0
		       : ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
}

static const char *const start_parent_fields[] = { "parent", NULL };
const struct ctl_command ctl_cmd_start_parent = { "start_parent", cmd_start_parent,
						  start_parent_fields };
