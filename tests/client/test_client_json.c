/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the client's JSON parser alone (client_parse_caps(), src/client/client_json.c):
 * the values it takes, the documents it rejects, and that it never reads past its input (each
 * input sits in a buffer of exactly its length, without a NUL, so that ASan sees any
 * over-read), including every prefix of a good document and many mutated ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_private.h"
#include "tap.h"

/* Parses @len bytes of @text from a buffer of exactly that size. */
static int parse_n(const char *text, size_t len, struct client_caps_json *out)
{
	char *buf = malloc(len ? len : 1);
	int r;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	r = client_parse_caps(buf, len, out);
	free(buf);
	return r;
}

static int parse(const char *text, struct client_caps_json *out)
{
	return parse_n(text, strlen(text), out);
}

static const char good[] =
	"{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,"
	"\"pgsizes\":4096,\"max_dma_maps\":65535,\"write_multiple\":true},"
	"\"other\":[1,-2.5e+3,0.0,true,false,null,\"s\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"]}";

TEST(json_values_taken)
{
	struct client_caps_json j;

	CHECK_EQ(parse(good, &j), 0);
	CHECK(j.has_max_msg_fds && j.max_msg_fds == 16);
	CHECK(j.has_max_data_xfer_size && j.max_data_xfer_size == 1048576);
	CHECK(j.has_pgsizes && j.pgsizes == 4096);
	CHECK(j.has_max_dma_maps && j.max_dma_maps == 65535);
	CHECK(j.has_write_multiple && j.write_multiple);

	CHECK_EQ(parse(" \t\r\n{ \"capabilities\" : { \"write_multiple\" : false } } \n", &j), 0);
	CHECK(j.has_write_multiple && !j.write_multiple);
	CHECK(!j.has_max_msg_fds && !j.has_pgsizes);

	/* an escaped key is the same key */
	CHECK_EQ(parse("{\"capabilities\":{\"max\\u005fmsg_fds\":3}}", &j), 0);
	CHECK(j.has_max_msg_fds && j.max_msg_fds == 3);
	/* "capabilities" counts only at the top */
	CHECK_EQ(parse("{\"x\":{\"capabilities\":{\"max_msg_fds\":3}}}", &j), 0);
	CHECK(!j.has_max_msg_fds);
	CHECK_EQ(parse("{}", &j), 0);
	CHECK_EQ(parse("{\"capabilities\":{}}", &j), 0);
	CHECK_EQ(parse("{\"capabilities\":{\"max_dma_maps\":18446744073709551615}}", &j), 0);
	CHECK(j.max_dma_maps == UINT64_MAX);
	CHECK_EQ(parse("{\"capabilities\":{\"pgsizes\":0}}", &j), 0);
	CHECK(j.has_pgsizes && j.pgsizes == 0);
	/* UTF-8 of 2, 3 and 4 bytes, and escaped surrogates */
	CHECK_EQ(parse("{\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\":\"\\ud83d\\ude00\"}", &j), 0);
	/* unknown keys of any type, nested */
	CHECK_EQ(parse("{\"capabilities\":{\"migration\":{\"pgsize\":4096,\"a\":[[],{}]},"
		       "\"twin_socket\":{\"supported\":false},\"k\":\"v\",\"n\":null}}",
		       &j),
		 0);
}

TEST(json_malformed_rejected)
{
	static const char *const bad[] = {
		"",
		" ",
		"[]",
		"\"capabilities\"",
		"null",
		"{",
		"}",
		"{\"a\"}",
		"{\"a\":}",
		"{\"a\" 1}",
		"{\"a\":1,}",
		"{,\"a\":1}",
		"{\"a\":1 \"b\":2}",
		"{a:1}",
		"{'a':1}",
		"{\"a\":1}}",
		"{\"a\":1} {}",
		"{\"a\":[1,]}",
		"{\"a\":[1 2]}",
		"{\"a\":[}",
		"{\"a\":01}",
		"{\"a\":1.}",
		"{\"a\":.5}",
		"{\"a\":1e}",
		"{\"a\":1e+}",
		"{\"a\":-}",
		"{\"a\":+1}",
		"{\"a\":0x10}",
		"{\"a\":tru}",
		"{\"a\":nul}",
		"{\"a\":True}",
		"{\"a\":\"\x01\"}",
		"{\"a\":\"\\u12\"}",
		"{\"a\":\"\\u12G4\"}",
		"{\"a\":\"\\x41\"}",
		"{\"a\":\"unterminated}",
		"{\"a\":\"\x80\"}",
		"{\"a\":\"\xc0\x80\"}",
		"{\"a\":\"\xe0\x80\x80\"}",
		"{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\xf4\x90\x80\x80\"}",
		"{\"a\":\"\xf8\x88\x80\x80\x80\"}",
		"{\"a\":\"\xe2\x82\"}",
		"{\"capabilities\":[]}",
		"{\"capabilities\":1}",
		"{\"capabilities\":{},\"capabilities\":{}}",
		"{\"capabilities\":{\"max_msg_fds\":1,\"max_msg_fds\":1}}",
		"{\"capabilities\":{\"max_msg_fds\":\"1\"}}",
		"{\"capabilities\":{\"max_msg_fds\":-1}}",
		"{\"capabilities\":{\"max_msg_fds\":-0}}",
		"{\"capabilities\":{\"max_msg_fds\":1.0}}",
		"{\"capabilities\":{\"max_msg_fds\":1e2}}",
		"{\"capabilities\":{\"max_msg_fds\":true}}",
		"{\"capabilities\":{\"write_multiple\":1}}",
		"{\"capabilities\":{\"write_multiple\":\"true\"}}",
		"{\"capabilities\":{\"write_multiple\":null}}",
	};
	struct client_caps_json j;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_EQ(parse(bad[i], &j), -EINVAL))
			tap_diag("input: %s", bad[i]);
	/* a NUL inside is not the end */
	CHECK_EQ(parse_n("{}\0", 3, &j), -EINVAL);
	CHECK_EQ(parse_n("{\"a\0\":1}", 8, &j), -EINVAL);
}

TEST(json_numbers_too_large)
{
	struct client_caps_json j;

	CHECK_EQ(parse("{\"capabilities\":{\"pgsizes\":18446744073709551616}}", &j), -ERANGE);
	CHECK_EQ(parse("{\"capabilities\":{\"max_msg_fds\":99999999999999999999999999}}", &j),
		 -ERANGE);
	/* elsewhere any number goes */
	CHECK_EQ(parse("{\"n\":99999999999999999999999999e999}", &j), 0);
}

TEST(json_nesting_bounded)
{
	char doc[1024];
	struct client_caps_json j;
	size_t n = 0;

	/* 31 arrays inside the top object: depth 32, the limit */
	n += (size_t)sprintf(doc + n, "{\"a\":");
	for (int i = 0; i < 31; i++)
		doc[n++] = '[';
	for (int i = 0; i < 31; i++)
		doc[n++] = ']';
	doc[n++] = '}';
	CHECK_EQ(parse_n(doc, n, &j), 0);
	n = 0;
	n += (size_t)sprintf(doc + n, "{\"a\":");
	for (int i = 0; i < 32; i++)
		doc[n++] = '[';
	for (int i = 0; i < 32; i++)
		doc[n++] = ']';
	doc[n++] = '}';
	CHECK_EQ(parse_n(doc, n, &j), -EINVAL);
	/* deep objects too, unbalanced ones included */
	n = 0;
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(doc + n, "{\"\":");
	CHECK_EQ(parse_n(doc, n, &j), -EINVAL);
}

TEST(json_never_reads_past_its_input)
{
	struct client_caps_json j;
	size_t len = strlen(good);

	/* every proper prefix of a good document is cut somewhere */
	for (size_t n = 0; n < len; n++)
		if (!CHECK_EQ(parse_n(good, n, &j), -EINVAL))
			tap_diag("prefix of %zu bytes", n);
}

TEST(json_mutations_survive)
{
	size_t len = strlen(good);
	char *doc = malloc(len);
	struct client_caps_json j;
	unsigned int seed = 12345;
	int odd = 0;

	REQUIRE(doc);
	for (int round = 0; round < 20000; round++) {
		int r;

		memcpy(doc, good, len);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			doc[(seed >> 8) % len] = (char)(seed >> 16);
		}
		r = parse_n(doc, len - (seed >> 24) % 3, &j);
		odd += r != 0 && r != -EINVAL && r != -ERANGE;
	}
	CHECK_EQ(odd, 0);
	free(doc);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
