/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket's queries: types (parents and their types, with the attributes that
 * `mdevctl types` shows), list (active devices with their definitions, or definitions with
 * whether they are active, as `mdevctl list [--defined]` sees them) and info (a device's
 * sockets and the QEMU argument that connects to it). Parents, types and devices come
 * sorted in byte order, as mdevctl prints them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mgmt/ctl/ctl_private.h"
#include "mgmt/persist/mdevctl_json.h"

/* ---- types ---- */

static int cmp_parent(const void *a, const void *b)
{
	return strcmp(mgmt_parent_name(*(struct mdev_parent *const *)a),
		      mgmt_parent_name(*(struct mdev_parent *const *)b));
}

static int cmp_type(const void *a, const void *b)
{
	return strcmp(mtype_get_name(*(struct mdev_type *const *)a),
		      mtype_get_name(*(struct mdev_type *const *)b));
}

/* Reads a type attribute as mdevctl does (trimmed); -errno with its message when @required. */
static int read_type_attr(struct ctl_request *req, struct mdev_type *mtype, const char *name,
			  bool required, char *buf, char **out)
{
	ssize_t n = mgmt_type_attr_read(mtype, name, buf);

	if (n < 0) {
		*out = NULL;
		if (!required && n == -ENOENT)
			return 0;
		mgmt_os_error(req->err, sizeof(req->err), (int)-n);
		return (int)n;
	}
	*out = mgmt_trim(buf);
	return 0;
}

/* {"type", "available_instances", "device_api"[, "name"][, "description"]} of @mtype. */
static int type_object(struct ctl_request *req, struct mdev_type *mtype, char *buf,
		       struct json_object *o)
{
	char *text;
	int avail, ret;

	json_object_object_add(o, "type", json_object_new_string(mtype_get_name(mtype)));
	ret = read_type_attr(req, mtype, "available_instances", true, buf, &text);
	if (!ret)
		ret = mgmt_parse_i32(text, &avail, req->err, sizeof(req->err));
	if (ret)
		return ret;
	json_object_object_add(o, "available_instances", json_object_new_int(avail));
	ret = read_type_attr(req, mtype, "device_api", true, buf, &text);
	if (ret)
		return ret;
	json_object_object_add(o, "device_api", json_object_new_string(text));
	ret = read_type_attr(req, mtype, "name", false, buf, &text);
	if (!ret && text && *text)
		json_object_object_add(o, "name", json_object_new_string(text));
	if (!ret)
		ret = read_type_attr(req, mtype, "description", false, buf, &text);
	if (!ret && text && *text) {
		struct mdevctl_buf b = { 0 };
		char *joined;

		/* mdevctl joins the lines of a description with ", " */
		for (char *line = text, *nl; line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			mdevctl_buf_add(&b, line, nl ? (size_t)(nl - line) : strlen(line));
			if (nl)
				mdevctl_buf_add(&b, ", ", 2);
		}
		joined = mdevctl_buf_take(&b);
		if (!joined)
			return ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
		json_object_object_add(o, "description", json_object_new_string(joined));
		free(joined);
	}
	return ret;
}

static int parent_types(struct ctl_request *req, struct mdev_parent *parent, char *buf,
			struct json_object *types)
{
	unsigned int n = mdev_parent_num_types(parent);
	struct mdev_type **list = calloc(n ? n : 1, sizeof(*list));
	int ret = 0;

	if (!list)
		return ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
	for (unsigned int i = 0; i < n; i++)
		list[i] = mdev_parent_type(parent, i);
	qsort(list, n, sizeof(*list), cmp_type);
	for (unsigned int i = 0; i < n && !ret; i++) {
		struct json_object *o = json_object_new_object();

		if (!o) {
			ret = ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
			break;
		}
		ret = type_object(req, list[i], buf, o);
		json_object_array_add(types, o);
	}
	free(list);
	return ret;
}

static int cmd_types(struct ctl_request *req)
{
	struct json_object *out = json_object_new_array();
	struct mdev_parent **parents = NULL;
	const char *filter = NULL;
	char *buf = malloc(UMDEV_ATTR_BUF_SIZE + 1);
	ssize_t n = 0;
	int ret;

	ret = ctl_arg_string(req, "parent", false, DEFINITION_MAX_NAME, &filter);
	if (ret && ret != -ENOENT)
		goto out;
	ret = 0;
	if (!out || !buf) {
		ret = ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
		goto out;
	}
	n = mdev_parents_list(&parents);
	if (n < 0) {
		ret = ctl_fail(req, (int)n, "%s", strerror((int)-n));
		goto out;
	}
	qsort(parents, (size_t)n, sizeof(*parents), cmp_parent);
	for (ssize_t i = 0; i < n && !ret; i++) {
		struct json_object *p, *types;

		if (filter && strcmp(filter, mgmt_parent_name(parents[i])))
			continue;
		p = json_object_new_object();
		types = json_object_new_array();
		json_object_object_add(p, "parent",
				       json_object_new_string(mgmt_parent_name(parents[i])));
		json_object_object_add(p, "types", types);
		json_object_array_add(out, p);
		ret = parent_types(req, parents[i], buf, types);
	}
	if (!ret && ctl_reply_set(req, "parents", out))
		out = NULL;
	else if (!ret)
		ret = ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
out:
	if (n > 0)
		mdev_parents_free(parents, (size_t)n);
	json_object_put(out);
	free(buf);
	return ret;
}

static const char *const types_fields[] = { "parent", NULL };
const struct ctl_command ctl_cmd_types = { "types", cmd_types, types_fields };

/* ---- list ---- */

struct active_item {
	char parent[DEFINITION_MAX_NAME + 1];
	char uuid[MDEVCTL_UUID_SIZE];
	char type[DEFINITION_MAX_NAME + 1];
};

static int cmp_item(const void *a, const void *b)
{
	const struct active_item *x = a, *y = b;
	int r = strcmp(x->parent, y->parent);

	return r ? r : strcmp(x->uuid, y->uuid);
}

/* The active devices (of @parent, with @uuid, when given), sorted; a count or -errno. */
static ssize_t active_devices(const char *parent, const char *uuid, struct active_item **ret)
{
	struct active_item *items = NULL;
	struct mdev_parent **parents;
	size_t count = 0, cap = 0;
	ssize_t n = mdev_parents_list(&parents);

	if (n < 0)
		return n;
	for (ssize_t i = 0; i < n; i++) {
		struct mdev_device **devs;
		ssize_t m;

		if (parent && strcmp(parent, mgmt_parent_name(parents[i])))
			continue;
		m = mdev_parent_devices(parents[i], &devs);
		for (ssize_t k = 0; k < m; k++) {
			struct active_item it = { 0 };

			mgmt_device_uuid(devs[k], it.uuid);
			if (uuid && strcmp(uuid, it.uuid))
				continue;
			snprintf(it.parent, sizeof(it.parent), "%s", mgmt_parent_name(parents[i]));
			snprintf(it.type, sizeof(it.type), "%s", mgmt_device_type_name(devs[k]));
			if (count == cap) {
				struct active_item *grown;

				cap = cap ? 2 * cap : 16;
				grown = realloc(items, cap * sizeof(*items));
				if (!grown) {
					m = -ENOMEM;
					break;
				}
				items = grown;
			}
			items[count++] = it;
		}
		if (m >= 0)
			mdev_devices_free(devs, (size_t)m);
		if (m < 0) {
			free(items);
			mdev_parents_free(parents, (size_t)n);
			return m;
		}
	}
	mdev_parents_free(parents, (size_t)n);
	if (count)
		qsort(items, count, sizeof(*items), cmp_item);
	*ret = items;
	return (ssize_t)count;
}

static int list_active(struct ctl_request *req, const char *parent, const char *uuid,
		       struct json_object *out)
{
	struct active_item *items = NULL;
	ssize_t n = active_devices(parent, uuid, &items);

	if (n < 0)
		return ctl_fail(req, (int)n, "%s", strerror((int)-n));
	for (ssize_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		struct mdev_definition def;
		bool defined = definition_exists(req->srv->conf_dir, items[i].parent,
						 items[i].uuid);
		char why[256];

		json_object_object_add(o, "uuid", json_object_new_string(items[i].uuid));
		json_object_object_add(o, "parent", json_object_new_string(items[i].parent));
		json_object_object_add(o, "mdev_type", json_object_new_string(items[i].type));
		json_object_object_add(o, "defined", json_object_new_boolean(defined));
		/* like mdevctl, a definition that does not load is left out silently */
		if (defined && !definition_load_one(req->srv->conf_dir, items[i].parent,
						    items[i].uuid, &def, why, sizeof(why))) {
			json_object_object_add(o, "definition", definition_to_json(&def));
			definition_clear(&def);
		}
		json_object_array_add(out, o);
	}
	free(items);
	return 0;
}

/* True when device @uuid is active on @parent with @type (mdevctl's " (active)"). */
static bool is_active_as(const char *uuid, const char *parent, const char *type)
{
	struct mdev_device *mdev;
	guid_t g;
	bool active;

	if (mdev_uuid_parse(uuid, &g) || mdev_device_get_by_uuid(&g, &mdev))
		return false;
	active = mdev_device_is_active(mdev) && !strcmp(mgmt_device_parent_name(mdev), parent) &&
		 !strcmp(mgmt_device_type_name(mdev), type);
	mdev_device_put(mdev);
	return active;
}

static int list_defined(struct ctl_request *req, const char *parent, const char *uuid,
			struct json_object *out)
{
	struct mdev_definition *defs;
	size_t count;
	int ret;

	ret = definitions_load(req->srv->conf_dir, parent, &defs, &count, ctl_bad_file, req);
	if (ret)
		return ctl_fail(req, ret, "Cannot read %s: %s", req->srv->conf_dir,
				strerror(-ret));
	for (size_t i = 0; i < count; i++) {
		struct json_object *o, *def;

		if (uuid && strcmp(uuid, defs[i].uuid))
			continue;
		o = json_object_new_object();
		def = definition_to_json(&defs[i]);
		if (!o || !def) {
			json_object_put(o);
			json_object_put(def);
			definitions_free(defs, count);
			return ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
		}
		json_object_object_add(o, "uuid", json_object_new_string(defs[i].uuid));
		json_object_object_add(o, "parent", json_object_new_string(defs[i].parent));
		json_object_object_foreach(def, key, val)
			json_object_object_add(o, key, json_object_get(val));
		json_object_put(def);
		json_object_object_add(o, "active",
				       json_object_new_boolean(is_active_as(
					       defs[i].uuid, defs[i].parent, defs[i].mdev_type)));
		json_object_array_add(out, o);
	}
	definitions_free(defs, count);
	return 0;
}

static int cmd_list(struct ctl_request *req)
{
	struct json_object *out;
	char uuid[MDEVCTL_UUID_SIZE];
	const char *parent = NULL;
	bool defined = false, has_uuid;
	int ret;

	ret = ctl_arg_bool(req, "defined", &defined);
	if (ret && ret != -ENOENT)
		return ret;
	ret = ctl_arg_uuid(req, "uuid", false, uuid);
	if (ret && ret != -ENOENT)
		return ret;
	has_uuid = !ret;
	ret = ctl_arg_string(req, "parent", false, DEFINITION_MAX_NAME, &parent);
	if (ret && ret != -ENOENT)
		return ret;
	out = json_object_new_array();
	if (!out)
		return ctl_fail(req, -ENOMEM, "%s", strerror(ENOMEM));
	if (defined)
		ret = list_defined(req, parent, has_uuid ? uuid : NULL, out);
	else
		ret = list_active(req, parent, has_uuid ? uuid : NULL, out);
	if (ret) {
		json_object_put(out);
		return ret;
	}
	return ctl_reply_set(req, "devices", out) ? 0 : ctl_fail(req, -ENOMEM, "out of memory");
}

static const char *const list_fields[] = { "defined", "uuid", "parent", NULL };
const struct ctl_command ctl_cmd_list = { "list", cmd_list, list_fields };

/* ---- info ---- */

/* {"transport", "path", "listening"} of the device's socket for @transport. */
static struct json_object *socket_object(const char *run_dir, const char *uuid,
					 const char *transport)
{
	struct json_object *o = json_object_new_object();
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/devices/%s/%s.sock", run_dir, uuid, transport);
	json_object_object_add(o, "transport", json_object_new_string(transport));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "listening",
			       json_object_new_boolean(stat(path, &st) == 0 && S_ISSOCK(st.st_mode)));
	return o;
}

/* The value of QEMU's -device for the device's vfio-user socket at @path. */
static struct json_object *qemu_device(const char *path)
{
	struct json_object *dev = json_object_new_object(), *sock = json_object_new_object();
	struct json_object *text;

	json_object_object_add(dev, "driver", json_object_new_string("vfio-user-pci"));
	json_object_object_add(sock, "path", json_object_new_string(path));
	json_object_object_add(sock, "type", json_object_new_string("unix"));
	json_object_object_add(dev, "socket", sock);
	text = json_object_new_string(json_object_to_json_string_ext(
		dev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(dev);
	return text;
}

static int cmd_info(struct ctl_request *req)
{
	struct json_object *sockets, *vu;
	char uuid[MDEVCTL_UUID_SIZE];
	struct mdev_device *mdev;
	guid_t g;
	int ret;

	ret = ctl_arg_uuid(req, "uuid", true, uuid);
	if (ret)
		return ret;
	if (mdev_uuid_parse(uuid, &g) || mdev_device_get_by_uuid(&g, &mdev))
		return ctl_fail(req, -ENODEV, "Mediated device %s is not active", uuid);
	if (!mdev_device_is_active(mdev)) {
		mdev_device_put(mdev);
		return ctl_fail(req, -ENODEV, "Mediated device %s is not active", uuid);
	}
	ctl_reply_set(req, "uuid", json_object_new_string(uuid));
	ctl_reply_set(req, "parent", json_object_new_string(mgmt_device_parent_name(mdev)));
	ctl_reply_set(req, "mdev_type", json_object_new_string(mgmt_device_type_name(mdev)));
	mdev_device_put(mdev);
	sockets = json_object_new_array();
	vu = socket_object(req->srv->run_dir, uuid, "vfio-user");
	json_object_array_add(sockets, vu);
	json_object_array_add(sockets, socket_object(req->srv->run_dir, uuid, "mpqemu"));
	ctl_reply_set(req, "qemu_device",
		      qemu_device(json_object_get_string(json_object_object_get(vu, "path"))));
	ctl_reply_set(req, "sockets", sockets);
	return 0;
}

static const char *const info_fields[] = { "uuid", NULL };
const struct ctl_command ctl_cmd_info = { "info", cmd_info, info_fields };
