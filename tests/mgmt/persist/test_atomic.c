/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "kill -9 of the daemon mid-write of a definition never leaves a torn file", at the unit
 * level: a child process rewrites one definition in a loop, alternating between two
 * contents of different sizes, and is killed with SIGKILL at a random moment, many times.
 * After every kill the definition must be exactly one of the two contents. Kills that
 * landed while a temporary file existed (mid-write) are counted, and the loader must not
 * mind the temporary files left behind.
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

/* Removes the temporaries left in @dir; how many there were. */
static unsigned int sweep_temporaries(const char *dir)
{
	unsigned int n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	char path[600];

	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.' || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

TEST(kill_9_during_writes_never_tears_a_definition)
{
	struct mdev_definition a, b, *defs;
	char dir[256], sub[300], path[400], *text_a, *text_b;
	unsigned int torn = 0, mid_write = 0;
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
		mid_write += sweep_temporaries(sub) > 0;
	}
	CHECK_EQ(torn, 0);
	tap_diag("%u of %d kills landed mid-write", mid_write, KILLS);
	REQUIRE_EQ(definitions_load(dir, NULL, &defs, &count, collect_report, &r), 0);
	CHECK_EQ(count, 1);
	CHECK_EQ(r.count, 0);
	definitions_free(defs, count);
	free(text_a);
	free(text_b);
	definition_clear(&a);
	definition_clear(&b);
	remove_tree(dir);
}
