/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Definitions on disk: the layout <conf-dir>/<parent>/<uuid>, the write and what it leaves
 * behind, the loader's rules for what is a definition (mdevctl's), a corrupt or unreadable
 * file reported by name and skipped while the others load, the size limit, removal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persist_test.h"

TEST(write_creates_the_layout_and_reads_back)
{
	struct mdev_definition def, *defs;
	char dir[256], conf[300], path[400], *text, *expect;
	struct reports r = { 0 };
	struct stat st;
	size_t count;

	REQUIRE(make_temp_dir(dir, sizeof(dir)));
	snprintf(conf, sizeof(conf), "%s/etc/umdev.d", dir); /* created with its parents */
	make_def(&def, "mtty", UA, "mtty-1", true, 2);
	CHECK_EQ(definition_write(conf, &def), 0);
	snprintf(path, sizeof(path), "%s/mtty/%s", conf, UA);
	text = get_file(path, NULL);
	expect = definition_format(&def);
	CHECK_STR(text, expect);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
	CHECK(definition_exists(conf, "mtty", UA));
	CHECK(!definition_exists(conf, "mtty", UB));
	free(text);
	free(expect);

	REQUIRE_EQ(definitions_load(conf, NULL, &defs, &count, collect_report, &r), 0);
	CHECK_EQ(r.count, 0);
	REQUIRE_EQ(count, 1);
	CHECK_STR(defs[0].parent, "mtty");
	CHECK_STR(defs[0].uuid, UA);
	CHECK_STR(defs[0].mdev_type, "mtty-1");
	CHECK(defs[0].autostart);
	REQUIRE_EQ(defs[0].nattrs, 2);
	CHECK_STR(defs[0].attrs[1].name, "a1");
	CHECK_STR(defs[0].attrs[1].value, "v1");
	definitions_free(defs, count);

	/* a rewrite replaces the content and leaves no temporary file */
	def.autostart = false;
	definition_attr_delete(&def, 0);
	CHECK_EQ(definition_write(conf, &def), 0);
	text = get_file(path, NULL);
	expect = definition_format(&def);
	CHECK_STR(text, expect);
	free(text);
	free(expect);
	snprintf(path, sizeof(path), "%s/mtty", conf);
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", path);
		CHECK_EQ(system(cmd), 0);
	}
	definition_clear(&def);

	/* what must not be written is refused */
	make_def(&def, "..", UB, "t", false, 0);
	CHECK_EQ(definition_write(conf, &def), -EINVAL);
	definition_clear(&def);
	remove_tree(dir);
}

TEST(load_sorts_and_filters_by_parent)
{
	struct mdev_definition def, *defs;
	char dir[256];
	size_t count;

	REQUIRE(make_temp_dir(dir, sizeof(dir)));
	make_def(&def, "zeta", UA, "z-1", false, 0);
	definition_write(dir, &def);
	definition_clear(&def);
	make_def(&def, "mtty", UC, "mtty-1", false, 0);
	definition_write(dir, &def);
	definition_clear(&def);
	make_def(&def, "mtty", UB, "mtty-2", true, 0);
	definition_write(dir, &def);
	definition_clear(&def);
	REQUIRE_EQ(definitions_load(dir, NULL, &defs, &count, NULL, NULL), 0);
	REQUIRE_EQ(count, 3);
	CHECK_STR(defs[0].uuid, UB);
	CHECK_STR(defs[1].uuid, UC);
	CHECK_STR(defs[2].parent, "zeta");
	definitions_free(defs, count);
	REQUIRE_EQ(definitions_load(dir, "zeta", &defs, &count, NULL, NULL), 0);
	CHECK_EQ(count, 1);
	definitions_free(defs, count);
	REQUIRE_EQ(definitions_load(dir, "none", &defs, &count, NULL, NULL), 0);
	CHECK_EQ(count, 0);
	definitions_free(defs, count);
	REQUIRE_EQ(definitions_load(dir, "../x", &defs, &count, NULL, NULL), 0);
	CHECK_EQ(count, 0);
	definitions_free(defs, count);
	/* a missing configuration directory has no definitions */
	strcat(dir, "/missing");
	REQUIRE_EQ(definitions_load(dir, NULL, &defs, &count, NULL, NULL), 0);
	CHECK_EQ(count, 0);
	definitions_free(defs, count);
	dir[strlen(dir) - 8] = '\0';
	remove_tree(dir);
}

TEST(corrupt_file_is_reported_by_name_and_skipped)
{
	static const char good[] = "{\"mdev_type\":\"mtty-1\",\"start\":\"auto\"}";
	struct mdev_definition *defs;
	char dir[256], sub[300], expect[700];
	struct reports r = { 0 };
	size_t count;

	REQUIRE(make_temp_dir(dir, sizeof(dir)));
	snprintf(sub, sizeof(sub), "%s/mtty", dir);
	put_file(sub, UA, good, strlen(good));
	put_file(sub, UB, "{\"mdev_type\":\"mtty-1\"", 21); /* torn */
	put_file(sub, UC, good, strlen(good));
	REQUIRE_EQ(definitions_load(dir, NULL, &defs, &count, collect_report, &r), 0);
	CHECK_EQ(count, 2);
	REQUIRE_EQ(r.count, 1);
	snprintf(expect, sizeof(expect), "%s/%s", sub, UB);
	CHECK_STR(r.path[0], expect);
	snprintf(expect, sizeof(expect), "%s/%s: EOF while parsing an object at line 1 column 21",
		 sub, UB);
	CHECK_STR(r.message[0], expect);
	definitions_free(defs, count);

	/* a definition that is JSON but not a valid one */
	unlink(r.path[0]);
	snprintf(expect, sizeof(expect), "{\"mdev_type\":\"x\",\"start\":\"auto\",\"attrs\":[{\"a\":1}]}");
	put_file(sub, UB, expect, strlen(expect));
	memset(&r, 0, sizeof(r));
	REQUIRE_EQ(definitions_load(dir, "mtty", &defs, &count, collect_report, &r), 0);
	CHECK_EQ(count, 2);
	CHECK_EQ(r.count, 1);
	CHECK(strstr(r.message[0], ": invalid JSON format for attribute {\"a\", 1}"));
	definitions_free(defs, count);
	remove_tree(dir);
}

TEST(only_canonical_uuid_regular_files_are_definitions)
{
	static const char good[] = "{\"mdev_type\":\"mtty-1\",\"start\":\"auto\"}";
	struct mdev_definition *defs;
	char dir[256], sub[300], path[400], target[400];
	struct reports r = { 0 };
	size_t count;

	REQUIRE(make_temp_dir(dir, sizeof(dir)));
	snprintf(sub, sizeof(sub), "%s/mtty", dir);
	put_file(sub, UA, good, strlen(good));
	put_file(sub, "83B8F4F2-509F-382F-3C1E-E6BFE0FA1002", good, strlen(good)); /* silently */
	put_file(sub, "{11111111-2222-4333-8444-555555555555}", good, strlen(good));
	put_file(sub, "notauuid", good, strlen(good)); /* mdevctl warns */
	put_file(sub, "." UB ".1234abcd", "{\"md", 4); /* a write's temporary */
	snprintf(path, sizeof(path), "%s/%s", sub, UB);
	snprintf(target, sizeof(target), "%s/%s", sub, UA);
	CHECK(symlink(target, path) == 0); /* not followed */
	snprintf(path, sizeof(path), "%s/%s", sub, UC);
	CHECK(mkfifo(path, 0644) == 0); /* not opened: no hang */
	snprintf(path, sizeof(path), "%s/mtty-link", dir);
	CHECK(symlink(sub, path) == 0); /* a link is no parent */
	put_file(dir, "stray", "x", 1); /* nor a file */

	REQUIRE_EQ(definitions_load(dir, NULL, &defs, &count, collect_report, &r), 0);
	REQUIRE_EQ(count, 1);
	CHECK_STR(defs[0].uuid, UA);
	REQUIRE_EQ(r.count, 1);
	CHECK_STR(r.message[0], "Can't determine uuid for file 'notauuid'");
	definitions_free(defs, count);
	remove_tree(dir);
}

TEST(oversized_file_is_refused)
{
	struct mdev_definition *defs, def;
	char dir[256], sub[300], err[256];
	char *big = malloc(DEFINITION_MAX_FILE_SIZE + 2);
	struct reports r = { 0 };
	size_t count, len;

	REQUIRE(big);
	REQUIRE(make_temp_dir(dir, sizeof(dir)));
	snprintf(sub, sizeof(sub), "%s/mtty", dir);
	/* valid JSON padded with whitespace: exactly the limit loads, one byte more does not */
	len = (size_t)sprintf(big, "{\"mdev_type\":\"mtty-1\",\"start\":\"auto\"}");
	memset(big + len, ' ', DEFINITION_MAX_FILE_SIZE + 1 - len);
	put_file(sub, UA, big, DEFINITION_MAX_FILE_SIZE);
	put_file(sub, UB, big, DEFINITION_MAX_FILE_SIZE + 1);
	REQUIRE_EQ(definitions_load(dir, NULL, &defs, &count, collect_report, &r), 0);
	CHECK_EQ(count, 1);
	REQUIRE_EQ(r.count, 1);
	CHECK(strstr(r.message[0], UB ": file is larger than 65536 bytes"));
	definitions_free(defs, count);
	CHECK_EQ(definition_load_one(dir, "mtty", UB, &def, err, sizeof(err)), -EFBIG);
	CHECK_STR(err, "file is larger than 65536 bytes");
	CHECK_EQ(definition_load_one(dir, "mtty", UA, &def, err, sizeof(err)), 0);
	CHECK_STR(def.parent, "mtty");
	definition_clear(&def);
	CHECK_EQ(definition_load_one(dir, "mtty", UC, &def, err, sizeof(err)), -ENOENT);
	free(big);
	remove_tree(dir);
}

TEST(remove_one_parent_or_all)
{
	struct mdev_definition def, *defs;
	char dir[256];
	size_t count;

	REQUIRE(make_temp_dir(dir, sizeof(dir)));
	make_def(&def, "mtty", UA, "mtty-1", false, 0);
	definition_write(dir, &def);
	snprintf(def.parent, sizeof(def.parent), "other");
	definition_write(dir, &def);
	snprintf(def.uuid, sizeof(def.uuid), "%s", UB);
	definition_write(dir, &def);
	definition_clear(&def);

	CHECK_EQ(definition_remove(dir, "nope", UA), -ENOENT);
	CHECK_EQ(definition_remove(dir, "other", UA), 0);
	CHECK_EQ(definition_remove(dir, "other", UA), -ENOENT);
	CHECK_EQ(definition_remove(dir, NULL, UB), 0);
	CHECK_EQ(definition_remove(dir, NULL, UC), -ENOENT);
	REQUIRE_EQ(definitions_load(dir, NULL, &defs, &count, NULL, NULL), 0);
	REQUIRE_EQ(count, 1);
	CHECK_STR(defs[0].parent, "mtty");
	definitions_free(defs, count);
	CHECK_EQ(definition_remove(dir, NULL, UA), 0);
	CHECK(access(dir, F_OK) == 0); /* the parent directories stay, as with mdevctl */
	remove_tree(dir);
}
