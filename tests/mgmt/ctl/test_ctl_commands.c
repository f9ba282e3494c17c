/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every command of the control socket and its errors, over a real socket to an in-process
 * server, with the null and mtty drivers (docs/control-protocol.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_fixture.h"
#include "mgmt/persist/mdevctl_json.h"

static const char *str(struct json_object *o, const char *key)
{
	const char *s = json_object_get_string(json_object_object_get(o, key));

	return s ? s : "";
}

static struct json_object *idx(struct json_object *array, size_t i)
{
	return json_object_is_type(array, json_type_array) && i < json_object_array_length(array)
		       ? json_object_array_get_idx(array, i)
		       : NULL;
}

static size_t len_of(struct json_object *o, const char *key)
{
	struct json_object *a = json_object_object_get(o, key);

	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* The reply's compact text, for exact comparisons. */
static char *compact(struct json_object *o)
{
	return mdevctl_json_print(o, false);
}

#define CHECK_REPLY(reply, text)                        \
	do {                                            \
		char *t_ = compact(reply);              \
		CHECK_STR(t_, text);                    \
		free(t_);                               \
	} while (0)

CTL_TEST(types_lists_parents_and_types_sorted, true)
{
	struct json_object *r = request(f, "{\"command\":\"types\"}"), *mtty;

	REQUIRE(reply_ok(r));
	REQUIRE_EQ(len_of(r, "parents"), 2);
	mtty = idx(json_object_object_get(r, "parents"), 0);
	CHECK_STR(str(mtty, "parent"), "mtty");
	CHECK_STR(str(idx(json_object_object_get(r, "parents"), 1), "parent"), "null");
	CHECK_REPLY(json_object_object_get(mtty, "types"),
		    "[{\"type\":\"mtty-1\",\"available_instances\":24,\"device_api\":\"vfio-pci\","
		    "\"name\":\"Single port serial\"},{\"type\":\"mtty-2\",\"available_instances\":12,"
		    "\"device_api\":\"vfio-pci\",\"name\":\"Dual port serial\"}]");
	json_object_put(r);
	r = request(f, "{\"command\":\"types\",\"parent\":\"null\"}");
	CHECK_EQ(len_of(r, "parents"), 1);
	json_object_put(r);
	r = request(f, "{\"command\":\"types\",\"parent\":\"none\"}");
	CHECK_REPLY(r, "{\"ok\":true,\"parents\":[]}");
	json_object_put(r);
}

CTL_TEST(create_list_remove, true)
{
	struct json_object *r;
	char value[64];

	r = request(f, "{\"command\":\"create\",\"parent\":\"mtty\",\"mdev_type\":\"mtty-2\","
		       "\"uuid\":\"" UA "\",\"attrs\":[{\"vendor/port0_backend\":\"loopback\"}]}");
	CHECK_REPLY(r, "{\"ok\":true,\"uuid\":\"" UA "\"}");
	json_object_put(r);
	CHECK(read_dev_attr(UA, "vendor/port0_backend", value, sizeof(value)) &&
	      !strncmp(value, "loopback", 8));
	r = request(f, "{\"command\":\"create\",\"parent\":\"null\",\"mdev_type\":\"null-1\"}");
	CHECK(reply_ok(r) && mdevctl_uuid_is_canonical(str(r, "uuid")));
	json_object_put(r);
	r = request(f, "{\"command\":\"list\",\"parent\":\"mtty\"}");
	CHECK_REPLY(r, "{\"ok\":true,\"devices\":[{\"uuid\":\"" UA "\",\"parent\":\"mtty\","
		       "\"mdev_type\":\"mtty-2\",\"defined\":false}]}");
	json_object_put(r);
	r = request(f, "{\"command\":\"list\"}");
	CHECK_EQ(len_of(r, "devices"), 2);
	json_object_put(r);
	r = request(f, "{\"command\":\"list\",\"uuid\":\"83B8F4F2-509F-382F-3C1E-E6BFE0FA1001\"}");
	CHECK_EQ(len_of(r, "devices"), 1);
	json_object_put(r);

	r = request(f, "{\"command\":\"create\",\"parent\":\"mtty\",\"mdev_type\":\"mtty-2\","
		       "\"uuid\":\"" UA "\"}");
	CHECK_REPLY(r, "{\"ok\":false,\"errno\":17,\"error\":\"Device already exists\"}");
	json_object_put(r);
	r = request(f, "{\"command\":\"create\",\"parent\":\"mtty\",\"mdev_type\":\"mtty-1\","
		       "\"uuid\":\"" UB "\",\"attrs\":[{\"vendor/nope\":\"1\"}]}");
	CHECK_STR(reply_error(r), "Invalid attribute 'vendor/nope'");
	CHECK(!device_exists(UB));
	json_object_put(r);
	r = request(f, "{\"command\":\"create\",\"parent\":\"mtty\",\"mdev_type\":\"mtty-1\","
		       "\"attrs\":{\"a\":\"b\"}}");
	CHECK_STR(reply_error(r), "attributes field is not an array");
	json_object_put(r);
	r = request(f, "{\"command\":\"create\",\"mdev_type\":\"mtty-1\"}");
	CHECK_STR(reply_error(r), "missing field 'parent'");
	json_object_put(r);

	r = request(f, "{\"command\":\"remove\",\"uuid\":\"" UA "\"}");
	CHECK_REPLY(r, "{\"ok\":true}");
	json_object_put(r);
	r = request(f, "{\"command\":\"remove\",\"uuid\":\"" UA "\"}");
	CHECK_REPLY(r, "{\"ok\":false,\"errno\":2,\"error\":\"Error removing device " UA
		       "\\n\\nCaused by:\\n    No such file or directory (os error 2)\"}");
	json_object_put(r);
}

static const char contract_attrs[] = "{\n  \"mdev_type\": \"mtty-1\",\n  \"start\": \"auto\",\n"
				     "  \"attrs\": [\n    {\n      \"foo\": \"bar\"\n    },\n"
				     "    {\n      \"baz\": \"1 2\"\n    }\n  ]\n}";

static char *def_file(struct fixture *f, const char *parent, const char *uuid)
{
	char path[700];
	FILE *fp;
	char *buf = calloc(1, 65536);

	snprintf(path, sizeof(path), "%s/%s/%s", f->conf_dir, parent, uuid);
	fp = fopen(path, "r");
	if (fp) {
		size_t n = fread(buf, 1, 65535, fp);

		buf[n] = '\0';
		fclose(fp);
	}
	return buf;
}

CTL_TEST(define_modify_undefine, true)
{
	struct json_object *r;
	char *text;

	r = request(f, "{\"command\":\"define\",\"parent\":\"mtty\",\"mdev_type\":\"mtty-1\","
		       "\"uuid\":\"" UA "\",\"start\":\"auto\"}");
	CHECK_REPLY(r, "{\"ok\":true,\"uuid\":\"" UA "\"}");
	json_object_put(r);
	r = request(f, "{\"command\":\"define\",\"parent\":\"mtty\",\"mdev_type\":\"mtty-2\","
		       "\"uuid\":\"" UA "\"}");
	CHECK_REPLY(r, "{\"ok\":false,\"errno\":17,\"error\":\"Device " UA
		       " on mtty already defined\"}");
	json_object_put(r);
	r = request(f, "{\"command\":\"define\",\"parent\":\"mtty\",\"mdev_type\":\"mtty-1\","
		       "\"start\":\"later\"}");
	CHECK_STR(reply_error(r), "field 'start' must be \"auto\" or \"manual\"");
	json_object_put(r);

	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"addattr\":\"foo\","
		       "\"value\":\"bar\"}");
	CHECK(reply_ok(r));
	json_object_put(r);
	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"addattr\":\"baz\","
		       "\"value\":\"1 2\"}");
	CHECK_REPLY(json_object_object_get(r, "definition"),
		    "{\"mdev_type\":\"mtty-1\",\"start\":\"auto\",\"attrs\":[{\"foo\":\"bar\"},"
		    "{\"baz\":\"1 2\"}]}");
	json_object_put(r);
	text = def_file(f, "mtty", UA);
	CHECK_STR(text, contract_attrs);
	free(text);

	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"delattr\":true,\"index\":5}");
	CHECK_STR(reply_error(r), "Attribute index 5 is invalid");
	json_object_put(r);
	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"addattr\":\"x\","
		       "\"value\":\"y\",\"index\":3}");
	CHECK_STR(reply_error(r), "Attribute index 3 is invalid");
	json_object_put(r);
	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"addattr\":\"x\"}");
	CHECK_STR(reply_error(r), "No attribute value provided");
	json_object_put(r);
	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"addattr\":\"first\","
		       "\"value\":\"0\",\"index\":0,\"start\":\"manual\",\"mdev_type\":\"mtty-2\"}");
	CHECK_REPLY(json_object_object_get(r, "definition"),
		    "{\"mdev_type\":\"mtty-2\",\"start\":\"manual\",\"attrs\":[{\"first\":\"0\"},"
		    "{\"foo\":\"bar\"},{\"baz\":\"1 2\"}]}");
	json_object_put(r);
	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"delattr\":true,\"index\":1}");
	json_object_put(r);
	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"delattr\":true}");
	CHECK_REPLY(json_object_object_get(r, "definition"),
		    "{\"mdev_type\":\"mtty-2\",\"start\":\"manual\",\"attrs\":[{\"first\":\"0\"}]}");
	json_object_put(r);
	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UB "\",\"start\":\"auto\"}");
	CHECK_REPLY(r, "{\"ok\":false,\"errno\":2,\"error\":\"Mediated device " UB
		       " is not defined\"}");
	json_object_put(r);
	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"parent\":\"nope\"}");
	CHECK_STR(reply_error(r), "Mediated device nope/" UA " is not defined");
	json_object_put(r);

	/* one UUID under two parents */
	r = request(f, "{\"command\":\"define\",\"parent\":\"null\",\"mdev_type\":\"null-1\","
		       "\"uuid\":\"" UA "\"}");
	json_object_put(r);
	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UA "\",\"start\":\"auto\"}");
	CHECK_STR(reply_error(r), "Multiple definitions found for " UA ", specify a parent");
	json_object_put(r);
	r = request(f, "{\"command\":\"list\",\"defined\":true}");
	CHECK_REPLY(json_object_object_get(r, "devices"),
		    "[{\"uuid\":\"" UA "\",\"parent\":\"mtty\",\"mdev_type\":\"mtty-2\","
		    "\"start\":\"manual\",\"attrs\":[{\"first\":\"0\"}],\"active\":false},"
		    "{\"uuid\":\"" UA "\",\"parent\":\"null\",\"mdev_type\":\"null-1\","
		    "\"start\":\"manual\",\"attrs\":[],\"active\":false}]");
	json_object_put(r);
	r = request(f, "{\"command\":\"undefine\",\"uuid\":\"" UA "\",\"parent\":\"null\"}");
	CHECK_REPLY(r, "{\"ok\":true}");
	json_object_put(r);
	r = request(f, "{\"command\":\"undefine\",\"uuid\":\"" UA "\"}");
	CHECK(reply_ok(r));
	json_object_put(r);
	r = request(f, "{\"command\":\"undefine\",\"uuid\":\"" UA "\"}");
	CHECK_REPLY(r, "{\"ok\":false,\"errno\":2,\"error\":\"No devices match the specified uuid\"}");
	json_object_put(r);
	r = request(f, "{\"command\":\"define\",\"parent\":\"mtty\",\"mdev_type\":\"mtty-1\"}");
	CHECK(reply_ok(r) && mdevctl_uuid_is_canonical(str(r, "uuid")));
	json_object_put(r);
}

CTL_TEST(corrupt_definitions_are_warnings, true)
{
	struct json_object *r;
	char expect[800];

	put_definition(f, "mtty", UA, "{\"mdev_type\":\"mtty-1\",\"start\":\"auto\"}");
	put_definition(f, "mtty", UB, "{\"mdev_type\":");
	r = request(f, "{\"command\":\"list\",\"defined\":true}");
	CHECK_EQ(len_of(r, "devices"), 1);
	snprintf(expect, sizeof(expect), "[\"%s/mtty/%s: EOF while parsing a value at line 1 "
		 "column 13\"]", f->conf_dir, UB);
	{
		char *t = compact(json_object_object_get(r, "warnings"));

		CHECK_STR(t, expect);
		free(t);
	}
	json_object_put(r);
	r = request(f, "{\"command\":\"modify\",\"uuid\":\"" UB "\",\"start\":\"auto\"}");
	snprintf(expect, sizeof(expect), "%s/mtty/%s: EOF while parsing a value at line 1 "
		 "column 13", f->conf_dir, UB);
	CHECK_STR(reply_error(r), expect);
	json_object_put(r);
	/* a corrupt definition can still be undefined */
	r = request(f, "{\"command\":\"undefine\",\"uuid\":\"" UB "\"}");
	CHECK(reply_ok(r));
	json_object_put(r);
}

CTL_TEST(start_parent_and_active_listing, true)
{
	struct json_object *r;

	put_definition(f, "mtty", UA, "{\"mdev_type\":\"mtty-2\",\"start\":\"auto\",\"attrs\":"
				      "[{\"vendor/port0_backend\":\"loopback\"}]}");
	r = request(f, "{\"command\":\"start_parent\",\"parent\":\"mtty\"}");
	CHECK_REPLY(r, "{\"ok\":true,\"started\":1}");
	json_object_put(r);
	r = request(f, "{\"command\":\"start_parent\",\"parent\":\"mtty\"}");
	CHECK_REPLY(r, "{\"ok\":true,\"started\":0,\"warnings\":[\"Device already exists\"]}");
	json_object_put(r);
	r = request(f, "{\"command\":\"list\"}");
	CHECK_REPLY(json_object_object_get(r, "devices"),
		    "[{\"uuid\":\"" UA "\",\"parent\":\"mtty\",\"mdev_type\":\"mtty-2\","
		    "\"defined\":true,\"definition\":{\"mdev_type\":\"mtty-2\",\"start\":\"auto\","
		    "\"attrs\":[{\"vendor/port0_backend\":\"loopback\"}]}}]");
	json_object_put(r);
	r = request(f, "{\"command\":\"list\",\"defined\":true}");
	CHECK(json_object_get_boolean(
		json_object_object_get(idx(json_object_object_get(r, "devices"), 0), "active")));
	json_object_put(r);
	r = request(f, "{\"command\":\"start_parent\",\"parent\":\"../etc\"}");
	CHECK_STR(reply_error(r), "field 'parent' is not a device name");
	json_object_put(r);
}

CTL_TEST(info_gives_sockets_and_qemu_argument, true)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char path[600], expect[1600];
	struct json_object *r;
	int fd;

	r = request(f, "{\"command\":\"info\",\"uuid\":\"" UA "\"}");
	CHECK_REPLY(r, "{\"ok\":false,\"errno\":19,\"error\":\"Mediated device " UA
		       " is not active\"}");
	json_object_put(r);
	r = request(f, "{\"command\":\"create\",\"parent\":\"null\",\"mdev_type\":\"null-1\","
		       "\"uuid\":\"" UA "\"}");
	json_object_put(r);
	/* a listening vfio-user socket where umdevd would put it */
	snprintf(path, sizeof(path), "%s/devices", f->run_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/devices/" UA, f->run_dir);
	mkdir(path, 0755);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%.90s/vfio-user.sock", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	r = request(f, "{\"command\":\"info\",\"uuid\":\"" UA "\"}");
	snprintf(expect, sizeof(expect),
		 "{\"ok\":true,\"uuid\":\"" UA "\",\"parent\":\"null\",\"mdev_type\":\"null-1\","
		 "\"qemu_device\":\"{\\\"driver\\\":\\\"vfio-user-pci\\\",\\\"socket\\\":"
		 "{\\\"path\\\":\\\"%s\\\",\\\"type\\\":\\\"unix\\\"}}\",\"sockets\":"
		 "[{\"transport\":\"vfio-user\",\"path\":\"%s\",\"listening\":true},"
		 "{\"transport\":\"mpqemu\",\"path\":\"%s/mpqemu.sock\",\"listening\":false}]}",
		 addr.sun_path, addr.sun_path, path);
	CHECK_REPLY(r, expect);
	json_object_put(r);
	close(fd);
}
