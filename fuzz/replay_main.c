/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The main() of every replay executable (vfio_user_fuzz_replay, mpqemu_fuzz_replay,
 * definition_fuzz_replay, ctl_fuzz_replay): every regular file of the directory argv[1] is
 * given, in name order, to the target's LLVMFuzzerTestOneInput(), with one TAP line per
 * file. A finding aborts the process, so the TAP plan is not met and the test fails. Then
 * fuzz_replay_teardown() lets the target free its process-wide state, so that
 * LeakSanitizer sees only real leaks.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_main.h"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads @path whole into a malloc'd buffer (never NULL on success); NULL on error. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	uint8_t *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		uint8_t *b;
		size_t n;

		if (*len == cap) {
			b = realloc(buf, cap + 4096);
			if (!b) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
			cap += 4096;
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	return buf;
}

/* The names in @dir, sorted; NULL on error. */
static char **list_dir(const char *dir, size_t *count)
{
	char **names = NULL;
	size_t cap = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	*count = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*count == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!nn)
				abort();
			names = nn;
		}
		names[*count] = strdup(e->d_name);
		if (!names[*count])
			abort();
		(*count)++;
	}
	closedir(d);
	if (*count)
		qsort(names, *count, sizeof(*names), cmp_names);
	return names ? names : calloc(1, sizeof(*names));
}

int main(int argc, char **argv)
{
	char **names, path[4096];
	size_t count;
	int failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIRECTORY\n", argv[0]);
		return 2;
	}
	names = list_dir(argv[1], &count);
	if (!names) {
		fprintf(stderr, "%s: cannot read %s: %s\n", argv[0], argv[1], strerror(errno));
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", count);
	for (size_t i = 0; i < count; i++) {
		uint8_t *buf;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", argv[1], names[i]);
		buf = slurp(path, &len);
		if (!buf) {
			printf("not ok %zu - %s # cannot read it\n", i + 1, names[i]);
			failed++;
		} else {
			LLVMFuzzerTestOneInput(buf, len);
			printf("ok %zu - %s\n", i + 1, names[i]);
			free(buf);
		}
		free(names[i]);
	}
	free(names);
	fuzz_replay_teardown();
	return failed ? 1 : 0;
}
