/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The definition format (definitions.h): a definition from a parsed JSON value with
 * mdevctl's rules and messages, a definition to JSON and to file text, and the helpers
 * that copy and edit a definition's attribute list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/persist/definitions.h"
#include "mgmt/persist/mdevctl_json.h"

void definition_clear(struct mdev_definition *def)
{
	if (!def)
		return;
	for (size_t i = 0; i < def->nattrs; i++) {
		free(def->attrs[i].name);
		free(def->attrs[i].value);
	}
	free(def->attrs);
	free(def->mdev_type);
	def->attrs = NULL;
	def->nattrs = 0;
	def->mdev_type = NULL;
}

int definition_attr_insert(struct mdev_definition *def, size_t index, const char *name,
			   const char *value)
{
	struct mdev_definition_attr *attrs, a;

	if (def->nattrs >= DEFINITION_MAX_ATTRS)
		return -E2BIG;
	if (index > def->nattrs)
		return -EINVAL;
	a.name = strdup(name);
	a.value = strdup(value);
	attrs = realloc(def->attrs, (def->nattrs + 1) * sizeof(*attrs));
	if (!a.name || !a.value || !attrs) {
		free(a.name);
		free(a.value);
		if (attrs)
			def->attrs = attrs;
		return -ENOMEM;
	}
	memmove(&attrs[index + 1], &attrs[index], (def->nattrs - index) * sizeof(*attrs));
	attrs[index] = a;
	def->attrs = attrs;
	def->nattrs++;
	return 0;
}

void definition_attr_delete(struct mdev_definition *def, size_t index)
{
	if (index >= def->nattrs)
		return;
	free(def->attrs[index].name);
	free(def->attrs[index].value);
	memmove(&def->attrs[index], &def->attrs[index + 1],
		(def->nattrs - index - 1) * sizeof(*def->attrs));
	def->nattrs--;
}

int definition_copy(struct mdev_definition *dst, const struct mdev_definition *src)
{
	*dst = (struct mdev_definition){ .autostart = src->autostart };
	memcpy(dst->parent, src->parent, sizeof(dst->parent));
	memcpy(dst->uuid, src->uuid, sizeof(dst->uuid));
	dst->mdev_type = src->mdev_type ? strdup(src->mdev_type) : NULL;
	if (src->mdev_type && !dst->mdev_type)
		return -ENOMEM;
	for (size_t i = 0; i < src->nattrs; i++) {
		if (definition_attr_insert(dst, dst->nattrs, src->attrs[i].name,
					   src->attrs[i].value)) {
			definition_clear(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

bool definition_parent_name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	return len && len <= DEFINITION_MAX_NAME && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/');
}

int definition_validate(const struct mdev_definition *def, char *err, size_t errlen)
{
	if (!definition_parent_name_ok(def->parent)) {
		snprintf(err, errlen, "invalid parent name '%s'", def->parent);
		return -EINVAL;
	}
	if (!mdevctl_uuid_is_canonical(def->uuid)) {
		snprintf(err, errlen, "invalid UUID '%s'", def->uuid);
		return -EINVAL;
	}
	if (!def->mdev_type || strlen(def->mdev_type) > DEFINITION_MAX_NAME) {
		snprintf(err, errlen, "invalid mdev_type (missing, or longer than %d bytes)",
			 DEFINITION_MAX_NAME);
		return -EINVAL;
	}
	if (def->nattrs > DEFINITION_MAX_ATTRS) {
		snprintf(err, errlen, "too many attributes (more than %d)", DEFINITION_MAX_ATTRS);
		return -EINVAL;
	}
	for (size_t i = 0; i < def->nattrs; i++) {
		const struct mdev_definition_attr *a = &def->attrs[i];

		if (!a->name || !a->value || strlen(a->name) > DEFINITION_MAX_NAME ||
		    strlen(a->value) > DEFINITION_MAX_VALUE) {
			snprintf(err, errlen,
				 "invalid attribute %zu (names of at most %d bytes, values of at "
				 "most %d)", i, DEFINITION_MAX_NAME, DEFINITION_MAX_VALUE);
			return -EINVAL;
		}
	}
	return 0;
}

/* @s as Rust's {:?} prints a string: quoted, with \", \\, \t, \r, \n, \0 and \u{..}. */
static void add_debug_string(struct mdevctl_buf *b, const char *s)
{
	mdevctl_buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': mdevctl_buf_add(b, "\\\"", 2); break;
		case '\\': mdevctl_buf_add(b, "\\\\", 2); break;
		case '\t': mdevctl_buf_add(b, "\\t", 2); break;
		case '\r': mdevctl_buf_add(b, "\\r", 2); break;
		case '\n': mdevctl_buf_add(b, "\\n", 2); break;
		default:
			if (c < 0x20 || c == 0x7f)
				mdevctl_buf_addf(b, "\\u{%x}", c);
			else
				mdevctl_buf_add(b, (const char *)&c, 1);
		}
	}
	mdevctl_buf_add(b, "\"", 1);
}

/* mdevctl's message for an attribute whose value is not a string. */
static void bad_value_message(const char *key, struct json_object *val, char *err,
			      size_t errlen)
{
	struct mdevctl_buf b = { 0 };
	char *text = mdevctl_json_print(val, false), *msg;

	mdevctl_buf_add(&b, "invalid JSON format for attribute {", 35);
	add_debug_string(&b, key);
	mdevctl_buf_addf(&b, ", %s}: value must be of type str", text ? text : "?");
	free(text);
	msg = mdevctl_buf_take(&b);
	snprintf(err, errlen, "%s", msg ? msg : "invalid JSON format for attribute");
	free(msg);
}

int definition_attrs_from_json(struct json_object *attrs, struct mdev_definition *def,
			       char *err, size_t errlen)
{
	size_t n;
	int ret;

	if (!attrs)
		return 0;
	if (!json_object_is_type(attrs, json_type_array)) {
		snprintf(err, errlen, "attributes field is not an array");
		return -EINVAL;
	}
	n = json_object_array_length(attrs);
	if (n > DEFINITION_MAX_ATTRS) {
		snprintf(err, errlen, "too many attributes (more than %d)", DEFINITION_MAX_ATTRS);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(attrs, i);

		if (!json_object_is_type(a, json_type_object)) {
			snprintf(err, errlen, "invalid JSON format for attribute: not an object");
			return -EINVAL;
		}
		if (json_object_object_length(a) != 1) {
			snprintf(err, errlen, "invalid JSON format for attribute: too many fields");
			return -EINVAL;
		}
		json_object_object_foreach(a, key, val) {
			const char *v = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string)) {
				bad_value_message(key, val, err, errlen);
				return -EINVAL;
			}
			if (strlen(key) > DEFINITION_MAX_NAME ||
			    (size_t)json_object_get_string_len(val) > DEFINITION_MAX_VALUE ||
			    strlen(v) != (size_t)json_object_get_string_len(val)) {
				snprintf(err, errlen,
					 "invalid attribute '%.64s': names of at most %d bytes, "
					 "values of at most %d and without NUL characters",
					 key, DEFINITION_MAX_NAME, DEFINITION_MAX_VALUE);
				return -EINVAL;
			}
			ret = definition_attr_insert(def, def->nattrs, key, v);
			if (ret) {
				snprintf(err, errlen, "%s", strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

int definition_from_json(struct json_object *val, struct mdev_definition *def, char *err,
			 size_t errlen)
{
	struct json_object *type = NULL, *start = NULL, *attrs = NULL;
	int ret;

	definition_clear(def);
	def->autostart = false;
	if (json_object_is_type(val, json_type_object)) {
		type = json_object_object_get(val, "mdev_type");
		start = json_object_object_get(val, "start");
		attrs = json_object_object_get(val, "attrs");
	}
	if (!type || !start) {
		snprintf(err, errlen, "invalid json");
		return -EINVAL;
	}
	if (!json_object_is_type(type, json_type_string) ||
	    (size_t)json_object_get_string_len(type) > DEFINITION_MAX_NAME ||
	    strlen(json_object_get_string(type)) != (size_t)json_object_get_string_len(type)) {
		snprintf(err, errlen,
			 "invalid JSON format for mdev_type: value must be a string of at most "
			 "%d bytes", DEFINITION_MAX_NAME);
		return -EINVAL;
	}
	def->mdev_type = strdup(json_object_get_string(type));
	if (!def->mdev_type) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	/* mdevctl: "auto" starts the device with its parent, anything else is manual */
	def->autostart = json_object_is_type(start, json_type_string) &&
			 !strcmp(json_object_get_string(start), "auto");
	ret = definition_attrs_from_json(attrs, def, err, errlen);
	if (ret)
		definition_clear(def);
	return ret;
}

int definition_parse(const char *text, size_t len, struct mdev_definition *def, char *err,
		     size_t errlen)
{
	struct json_object *val;
	int ret;

	ret = mdevctl_json_parse(text, len, &val, err, errlen);
	if (ret)
		return ret;
	ret = definition_from_json(val, def, err, errlen);
	json_object_put(val);
	return ret;
}

struct json_object *definition_to_json(const struct mdev_definition *def)
{
	struct json_object *obj = json_object_new_object(), *attrs = json_object_new_array();
	bool ok = obj && attrs;

	ok = ok && !json_object_object_add(obj, "mdev_type",
					   json_object_new_string(def->mdev_type ? def->mdev_type
										 : ""));
	ok = ok && !json_object_object_add(obj, "start",
					   json_object_new_string(def->autostart ? "auto"
										 : "manual"));
	for (size_t i = 0; ok && i < def->nattrs; i++) {
		struct json_object *a = json_object_new_object();

		ok = a && !json_object_object_add(a, def->attrs[i].name,
						  json_object_new_string(def->attrs[i].value)) &&
		     !json_object_array_add(attrs, a);
		if (!ok)
			json_object_put(a);
	}
	if (ok && !json_object_object_add(obj, "attrs", attrs))
		return obj;
	if (!ok)
		json_object_put(attrs);
	json_object_put(obj);
	return NULL;
}

char *definition_format(const struct mdev_definition *def)
{
	struct json_object *obj = definition_to_json(def);
	char *text;

	if (!obj)
		return NULL;
	text = mdevctl_json_print(obj, true);
	json_object_put(obj);
	return text;
}
