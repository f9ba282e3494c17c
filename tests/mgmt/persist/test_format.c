/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The definition format against mdevctl-contract.md (b), byte for byte, and mdevctl's
 * reading rules and messages; serde_json's grammar and error texts; the uuid crate's
 * messages (as mdevctl 1.2.0 prints them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/persist/mdevctl_json.h"
#include "persist_test.h"

/* The contract's examples, byte for byte (no trailing newline). */
static const char contract_attrs[] = "{\n"
				     "  \"mdev_type\": \"mtty-1\",\n"
				     "  \"start\": \"auto\",\n"
				     "  \"attrs\": [\n"
				     "    {\n"
				     "      \"foo\": \"bar\"\n"
				     "    },\n"
				     "    {\n"
				     "      \"baz\": \"1 2\"\n"
				     "    }\n"
				     "  ]\n"
				     "}";
static const char contract_plain[] =
	"{\n  \"mdev_type\": \"mtty-2\",\n  \"start\": \"manual\",\n  \"attrs\": []\n}";

TEST(format_is_the_contracts)
{
	struct mdev_definition def = { 0 };
	char *text;

	make_def(&def, "mtty", UA, "mtty-1", true, 0);
	definition_attr_insert(&def, 0, "foo", "bar");
	definition_attr_insert(&def, 1, "baz", "1 2");
	text = definition_format(&def);
	CHECK_STR(text, contract_attrs);
	free(text);
	definition_clear(&def);

	make_def(&def, "mtty", UA, "mtty-2", false, 0);
	text = definition_format(&def);
	CHECK_STR(text, contract_plain);
	free(text);
	definition_clear(&def);
}

TEST(parse_round_trips_the_contracts)
{
	struct mdev_definition def = { 0 };
	char err[256], *text;

	REQUIRE_EQ(definition_parse(contract_attrs, strlen(contract_attrs), &def, err, sizeof(err)),
		   0);
	CHECK_STR(def.mdev_type, "mtty-1");
	CHECK(def.autostart);
	REQUIRE_EQ(def.nattrs, 2);
	CHECK_STR(def.attrs[0].name, "foo");
	CHECK_STR(def.attrs[1].value, "1 2");
	snprintf(def.parent, sizeof(def.parent), "mtty");
	text = definition_format(&def);
	CHECK_STR(text, contract_attrs);
	free(text);
	definition_clear(&def);
}

/* Parses @json as a definition; its error message, or "" when it parses. */
static const char *parse_msg(const char *json, struct mdev_definition *def)
{
	static char err[512];

	err[0] = '\0';
	memset(def, 0, sizeof(*def));
	if (!definition_parse(json, strlen(json), def, err, sizeof(err)))
		err[0] = '\0';
	return err;
}

TEST(start_anything_but_auto_is_manual)
{
	static const char *const manual[] = {
		"{\"mdev_type\":\"t\",\"start\":\"manual\"}", "{\"mdev_type\":\"t\",\"start\":\"Auto\"}",
		"{\"mdev_type\":\"t\",\"start\":\"yes\"}",    "{\"mdev_type\":\"t\",\"start\":5}",
		"{\"mdev_type\":\"t\",\"start\":true}",	      "{\"mdev_type\":\"t\",\"start\":[]}",
	};
	struct mdev_definition def;

	for (size_t i = 0; i < sizeof(manual) / sizeof(manual[0]); i++) {
		CHECK_STR(parse_msg(manual[i], &def), "");
		CHECK(!def.autostart);
		definition_clear(&def);
	}
	CHECK_STR(parse_msg("{\"mdev_type\":\"t\",\"start\":\"auto\",\"x\":{}}", &def), "");
	CHECK(def.autostart);
	CHECK_EQ(def.nattrs, 0);
	definition_clear(&def);
	CHECK_STR(parse_msg("{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":null}", &def), "");
	definition_clear(&def);
}

TEST(mdevctl_messages_for_bad_definitions)
{
	static const char *const cases[][2] = {
		{ "{\"mdev_type\": \"mtty-1\"}", "invalid json" },
		{ "{\"start\": \"auto\"}", "invalid json" },
		{ "{\"mdev_type\": \"mtty-1\", \"start\": null}", "invalid json" },
		{ "[1, 2]", "invalid json" },
		{ "\"x\"", "invalid json" },
		{ "{\"mdev_type\":\"t\",\"start\":\"x\",\"attrs\":{\"a\":\"b\"}}",
		  "attributes field is not an array" },
		{ "{\"mdev_type\":\"t\",\"start\":\"x\",\"attrs\":[\"x\"]}",
		  "invalid JSON format for attribute: not an object" },
		{ "{\"mdev_type\":\"t\",\"start\":\"x\",\"attrs\":[{\"a\":\"b\",\"c\":\"d\"}]}",
		  "invalid JSON format for attribute: too many fields" },
		{ "{\"mdev_type\":\"t\",\"start\":\"x\",\"attrs\":[{}]}",
		  "invalid JSON format for attribute: too many fields" },
		{ "{\"mdev_type\":\"t\",\"start\":\"x\",\"attrs\":[{\"a\":1}]}",
		  "invalid JSON format for attribute {\"a\", 1}: value must be of type str" },
		{ "{\"mdev_type\":\"t\",\"start\":\"x\",\"attrs\":[{\"q\\\"\":[true,null]}]}",
		  "invalid JSON format for attribute {\"q\\\"\", [true,null]}: value must be of type "
		  "str" },
		{ "{\"mdev_type\": 5, \"start\": \"auto\"}",
		  "invalid JSON format for mdev_type: value must be a string of at most 255 bytes" },
		/* serde_json's own messages (mdevctl-contract.md A.3) */
		{ "{\"mdev_type\":\"mtty-1\"", "EOF while parsing an object at line 1 column 21" },
		{ "{\"mdev_type\": \"mtty-1\", \"start\": \"x\",",
		  "EOF while parsing a value at line 1 column 37" },
	};
	struct mdev_definition def;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!CHECK_STR(parse_msg(cases[i][0], &def), cases[i][1]))
			tap_diag("input: %s", cases[i][0]);
		CHECK(def.mdev_type == NULL && def.nattrs == 0);
		definition_clear(&def);
	}
}

TEST(limits_of_definitions)
{
	struct mdev_definition def;
	static char json[64 * 1024];
	char err[256];
	size_t len;

	/* DEFINITION_MAX_ATTRS attributes load; one more does not */
	for (unsigned int n = DEFINITION_MAX_ATTRS; n <= DEFINITION_MAX_ATTRS + 1; n++) {
		len = (size_t)sprintf(json, "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[");
		for (unsigned int i = 0; i < n; i++)
			len += (size_t)sprintf(json + len, "%s{\"a\":\"b\"}", i ? "," : "");
		strcpy(json + len, "]}");
		if (n == DEFINITION_MAX_ATTRS) {
			CHECK_STR(parse_msg(json, &def), "");
			CHECK_EQ(def.nattrs, DEFINITION_MAX_ATTRS);
		} else {
			CHECK_STR(parse_msg(json, &def), "too many attributes (more than 128)");
		}
		definition_clear(&def);
	}
	/* a value of a page loads, one byte more does not */
	for (unsigned int n = DEFINITION_MAX_VALUE; n <= DEFINITION_MAX_VALUE + 1; n++) {
		len = (size_t)sprintf(json, "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[{\"a\":\"");
		memset(json + len, 'x', n);
		strcpy(json + len + n, "\"}]}");
		CHECK_EQ(!!*parse_msg(json, &def), n > DEFINITION_MAX_VALUE);
		definition_clear(&def);
	}
	/* definition_validate() refuses what definition_write() must not write */
	make_def(&def, "..", UA, "t", false, 0);
	CHECK_EQ(definition_validate(&def, err, sizeof(err)), -EINVAL);
	snprintf(def.parent, sizeof(def.parent), "a/b");
	CHECK_EQ(definition_validate(&def, err, sizeof(err)), -EINVAL);
	snprintf(def.parent, sizeof(def.parent), "mtty");
	CHECK_EQ(definition_validate(&def, err, sizeof(err)), 0);
	snprintf(def.uuid, sizeof(def.uuid), "83B8F4F2-509F-382F-3C1E-E6BFE0FA1001");
	CHECK_EQ(definition_validate(&def, err, sizeof(err)), -EINVAL);
	definition_clear(&def);
	make_def(&def, "mtty", UA, "t", false, DEFINITION_MAX_ATTRS);
	CHECK_EQ(definition_attr_insert(&def, 0, "x", "y"), -E2BIG);
	definition_clear(&def);
}

/* serde_json's verdict on @text: "" when it parses. */
static const char *json_msg(const char *text, size_t len)
{
	static char err[256];
	struct json_object *o = NULL;

	if (mdevctl_json_parse(text, len, &o, err, sizeof(err)))
		return err;
	json_object_put(o);
	return "";
}

TEST(serde_json_errors)
{
	static const char *const cases[][2] = {
		{ "", "EOF while parsing a value at line 1 column 0" },
		{ "   ", "EOF while parsing a value at line 1 column 3" },
		{ "{", "EOF while parsing an object at line 1 column 1" },
		{ "[", "EOF while parsing a list at line 1 column 1" },
		{ "[1,", "EOF while parsing a value at line 1 column 3" },
		{ "[1 2]", "expected `,` or `]` at line 1 column 4" },
		{ "{\"a\" 1}", "expected `:` at line 1 column 6" },
		{ "{\"a\":1 \"b\":2}", "expected `,` or `}` at line 1 column 8" },
		{ "{1:2}", "key must be a string at line 1 column 2" },
		{ "{\"a\":1,}", "trailing comma at line 1 column 8" },
		{ "[1,]", "trailing comma at line 1 column 4" },
		{ "{} x", "trailing characters at line 1 column 4" },
		{ "\n\n  x", "expected value at line 3 column 3" },
		{ "tru", "EOF while parsing a value at line 1 column 3" },
		{ "trux", "expected ident at line 1 column 4" },
		{ "01", "invalid number at line 1 column 2" },
		{ "1.", "EOF while parsing a value at line 1 column 2" },
		{ "1.x", "invalid number at line 1 column 3" },
		{ "-", "EOF while parsing a value at line 1 column 1" },
		{ "-x", "invalid number at line 1 column 2" },
		{ "1e", "EOF while parsing a value at line 1 column 2" },
		{ "1e400", "number out of range at line 1 column 5" },
		{ "\"abc", "EOF while parsing a string at line 1 column 4" },
		{ "\"a\\x\"", "invalid escape at line 1 column 4" },
		{ "\"\\u12x4\"", "invalid escape at line 1 column 6" },
		{ "\"\\udc00\"", "lone leading surrogate in hex escape at line 1 column 7" },
		{ "\"\\ud800x\"", "unexpected end of hex escape at line 1 column 8" },
		{ "\"a\tb\"", "control character (\\u0000-\\u001F) found while parsing a string at "
			      "line 1 column 3" },
		{ "\"\\ud800\\u0041\"", "lone leading surrogate in hex escape at line 1 column 13" },
		{ "\"\\ud800\\", "EOF while parsing a string at line 1 column 8" },
		{ "\"\\ud800\\x\"", "unexpected end of hex escape at line 1 column 9" },
		{ "[\"\\ud83d\\ude00\", 1.5e3, -0, 18446744073709551615]", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!CHECK_STR(json_msg(cases[i][0], strlen(cases[i][0])), cases[i][1]))
			tap_diag("input: %s", cases[i][0]);
	CHECK_STR(json_msg("\"\xff\"", 3), "stream did not contain valid UTF-8");
	CHECK_STR(json_msg("\"a\0b\"", 5), "control character (\\u0000-\\u001F) found while "
					  "parsing a string at line 1 column 3");
}

TEST(serde_json_recursion_limit)
{
	char deep[300];

	memset(deep, '[', 127);
	memset(deep + 127, ']', 127);
	CHECK_STR(json_msg(deep, 254), "");
	memset(deep, '[', 128);
	memset(deep + 128, ']', 128);
	CHECK_STR(json_msg(deep, 256), "recursion limit exceeded at line 1 column 128");
}

TEST(serde_json_output)
{
	struct json_object *o = NULL;
	char err[128], *text;
	const char *in = "{\"s\":\"q\\\"b\\\\ \\u0001\\n\\t/\\u00e9\",\"e\":{},\"l\":[],"
			 "\"n\":[1,-2,1.5,100.0,1e21,0.000001,12345678901234567890]}";

	REQUIRE_EQ(mdevctl_json_parse(in, strlen(in), &o, err, sizeof(err)), 0);
	text = mdevctl_json_print(o, false);
	CHECK_STR(text, "{\"s\":\"q\\\"b\\\\ \\u0001\\n\\t/\xc3\xa9\",\"e\":{},\"l\":[],"
			"\"n\":[1,-2,1.5,100.0,1e21,1e-6,12345678901234567890]}");
	free(text);
	text = mdevctl_json_print(o, true);
	CHECK_STR(text, "{\n  \"s\": \"q\\\"b\\\\ \\u0001\\n\\t/\xc3\xa9\",\n  \"e\": {},\n"
			"  \"l\": [],\n  \"n\": [\n    1,\n    -2,\n    1.5,\n    100.0,\n"
			"    1e21,\n    1e-6,\n    12345678901234567890\n  ]\n}");
	free(text);
	json_object_put(o);
}

TEST(uuid_crate_messages)
{
	static const char *const cases[][2] = {
		{ "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" },
		{ "83B8F4F2-509F-382F-3C1E-E6BFE0FA1001", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" },
		{ "83b8f4f2509f382f3c1ee6bfe0fa1001", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" },
		{ "{83b8f4f2-509f-382f-3c1e-e6bfe0fa1001}", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" },
		{ "urn:uuid:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
		  "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" },
		/* what mdevctl 1.2.0 prints after "Invalid value ... for '--uuid <UUID>': " */
		{ "xyz", "invalid character: expected an optional prefix of `urn:uuid:` followed by "
			 "[0-9a-zA-Z], found `x` at 1" },
		{ "123", "invalid length: expected length 32 for simple format, found 3" },
		{ "", "invalid length: expected length 32 for simple format, found 0" },
		{ "83b8f4f2-509f-382f-3c1e-e6bfe0fa100",
		  "invalid group length in group 4: expected 12, found 11" },
		{ "83b8f4f2-509f-382f-3c1e-e6bfe0fa10011",
		  "invalid group length in group 4: expected 12, found 13" },
		{ "83b8f4f2-509f-382f3c1e-e6bfe0fa1001", "invalid group count: expected 5, found 4" },
		{ "83b8f4f2-509f-382f-3c1e-e6bfe0fa100g",
		  "invalid character: expected an optional prefix of `urn:uuid:` followed by "
		  "[0-9a-zA-Z], found `g` at 36" },
	};
	char out[MDEVCTL_UUID_SIZE], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = !mdevctl_uuid_parse(cases[i][0], out, err, sizeof(err));

		if (!CHECK_STR(ok ? out : err, cases[i][1]))
			tap_diag("input: '%s'", cases[i][0]);
	}
	CHECK(mdevctl_uuid_is_canonical(UA));
	CHECK(!mdevctl_uuid_is_canonical("83B8F4F2-509F-382F-3C1E-E6BFE0FA1001"));
	CHECK(!mdevctl_uuid_is_canonical(UA "x"));
	REQUIRE_EQ(mdevctl_uuid_generate(out), 0);
	CHECK(mdevctl_uuid_is_canonical(out));
	CHECK(out[14] == '4' && strchr("89ab", out[19]));
}
