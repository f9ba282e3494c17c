/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "kill -9 of the daemon mid-write of a definition never leaves a torn file", at the unit
 * level: a child process rewrites one definition in a loop, alternating between two
 * contents of different sizes, and is killed with SIGKILL at a random moment, many times.
 * After every kill the definition must be exactly one of the two contents. Kills that
 * landed while a temporary file existed (mid-write) are counted, the loader must not mind
 * the temporary files left behind, and definitions_sweep_temporaries() removes them.
 * Also: the sweep touches nothing but such temporaries.
 */
#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "persist_test.h"

#define KILLS 200

TEST(kill_9_during_writes_never_tears_a_definition)
{
	struct mdev_definition a, b, *defs;
	char dir[256], sub[300], path[400], *text_a, *text_b;
	unsigned int torn = 0, mid_write = 0;
	char *now_text;
	struct reports r = { 0 };
	size_t count;

	REQUIRE(make_temp_dir(dir, sizeof(dir)));
	make_def(&a, "mtty", UA, "mtty-1", true, 1);
	make_def(&b, "mtty", UA, "mtty-2", false, DEFINITION_MAX_ATTRS); /* ~4 KiB more */
	text_a = definition_format(&a);
	text_b = definition_format(&b);
	REQUIRE_EQ(definition_write(dir, &a), 0);
	snprintf(sub, sizeof(sub), "%s/mtty", dir);
	snprintf(path, sizeof(path), "%s/%s", sub, UA);
	srand((unsigned int)time(NULL));
	for (int k = 0; k < KILLS; k++) {
		pid_t pid = fork();
		char *now;

		REQUIRE(pid >= 0);
		if (pid == 0) {
			for (unsigned long i = 0;; i++)
				definition_write(dir, i & 1 ? &b : &a);
		}
		usleep((useconds_t)(rand() % 4000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		now = get_file(path, NULL);
		if (!now || (strcmp(now, text_a) && strcmp(now, text_b)))
			torn++;
		free(now);
		if (k == KILLS - 1)
			break; /* leave the last temporaries for the loader */
		mid_write += definitions_sweep_temporaries(dir) > 0;
	}
	CHECK_EQ(torn, 0);
	tap_diag("%u of %d kills landed mid-write", mid_write, KILLS);
	REQUIRE_EQ(definitions_load(dir, NULL, &defs, &count, collect_report, &r), 0);
	CHECK_EQ(count, 1);
	CHECK_EQ(r.count, 0);
	definitions_free(defs, count);
	/* what umdevd does at start: the last kill's temporaries go, the definition stays */
	CHECK(definitions_sweep_temporaries(dir) >= 0);
	CHECK_EQ(definitions_sweep_temporaries(dir), 0);
	now_text = get_file(path, NULL);
	CHECK(now_text && (!strcmp(now_text, text_a) || !strcmp(now_text, text_b)));
	free(now_text);
	free(text_a);
	free(text_b);
	definition_clear(&a);
	definition_clear(&b);
	remove_tree(dir);
}

TEST(sweep_removes_only_temporaries)
{
	static const char *const kept[] = {
		UA,				/* the definition itself */
		".notes",			/* someone else's hidden file */
		"." UA ".0123ABCD",		/* upper-case hex: not a name we make */
		"." UA ".0123abc",		/* 7 digits */
		"." UA ".0123abcde",		/* 9 digits */
		".83B8F4F2-509f-382f-3c1e-e6bfe0fa1001.0123abcd", /* not canonical */
	};
	char dir[256], sub[300], other[300], path[700];
	struct mdev_definition a;

	REQUIRE(make_temp_dir(dir, sizeof(dir)));
	make_def(&a, "mtty", UA, "mtty-1", true, 1);
	REQUIRE_EQ(definition_write(dir, &a), 0);
	snprintf(sub, sizeof(sub), "%s/mtty", dir);
	for (size_t i = 1; i < sizeof(kept) / sizeof(kept[0]); i++)
		REQUIRE(put_file(sub, kept[i], "x", 1));
	REQUIRE(put_file(sub, "." UA ".0123abcd", "{", 1));
	REQUIRE(put_file(sub, "." UB ".ffffffff", "", 0));
	/* a temporary inside a directory reached through a link is not ours to remove */
	snprintf(other, sizeof(other), "%s-elsewhere", dir);
	REQUIRE(put_file(other, "." UC ".00000000", "x", 1));
	snprintf(path, sizeof(path), "%s/linked", dir);
	REQUIRE(symlink(other, path) == 0);

	CHECK_EQ(definitions_sweep_temporaries(dir), 2);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", sub, kept[i]);
		if (!CHECK(access(path, F_OK) == 0))
			tap_diag("removed: %s", kept[i]);
	}
	snprintf(path, sizeof(path), "%s/." UA ".0123abcd", sub);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/." UC ".00000000", other);
	CHECK(access(path, F_OK) == 0);
	CHECK_EQ(definitions_sweep_temporaries(dir), 0);
	snprintf(path, sizeof(path), "%s/nowhere", dir);
	CHECK_EQ(definitions_sweep_temporaries(path), 0);

	definition_clear(&a);
	remove_tree(other);
	remove_tree(dir);
}
