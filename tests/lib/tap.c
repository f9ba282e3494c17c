/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TAP harness of tap.h: case registry, checks, the per-case fd-leak check and the
 * "1..N / ok / not ok" output that scripts/run-tests counts.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#define TAP_MAX_CASES 512

static struct {
	const char *name;
	tap_case_fn fn;
} cases[TAP_MAX_CASES];
static int ncases;
static int case_failures;

void tap_register(const char *name, tap_case_fn fn)
{
	if (ncases == TAP_MAX_CASES) {
		fprintf(stderr, "tap: too many cases\n");
		exit(2);
	}
	cases[ncases].name = name;
	cases[ncases].fn = fn;
	ncases++;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

bool tap_check(bool ok, const char *expr, const char *file, int line)
{
	if (!ok) {
		case_failures++;
		tap_diag("%s:%d: check failed: %s", file, line, expr);
	}
	return ok;
}

bool tap_check_eq(long long a, long long b, const char *ea, const char *eb, const char *file,
		  int line)
{
	if (a != b) {
		case_failures++;
		tap_diag("%s:%d: %s == %s failed: %lld != %lld", file, line, ea, eb, a, b);
	}
	return a == b;
}

bool tap_check_str(const char *a, const char *b, const char *ea, const char *eb,
		   const char *file, int line)
{
	bool ok = a && b && !strcmp(a, b);

	if (!ok) {
		case_failures++;
		tap_diag("%s:%d: %s == %s failed: \"%s\" != \"%s\"", file, line, ea, eb,
			 a ? a : "(null)", b ? b : "(null)");
	}
	return ok;
}

static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static bool selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

int tap_main(int argc, char **argv)
{
	int planned = 0, failed = 0, n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < ncases; i++)
		planned += selected(cases[i].name, argc, argv);
	printf("1..%d\n", planned);
	for (int i = 0; i < ncases; i++) {
		int before, after;

		if (!selected(cases[i].name, argc, argv))
			continue;
		case_failures = 0;
		before = count_open_fds();
		cases[i].fn();
		after = count_open_fds();
		if (after != before) {
			case_failures++;
			tap_diag("%s: file descriptors: %d open before, %d after", cases[i].name,
				 before, after);
		}
		n++;
		if (case_failures) {
			failed++;
			printf("not ok %d - %s\n", n, cases[i].name);
		} else {
			printf("ok %d - %s\n", n, cases[i].name);
		}
	}
	return failed ? 1 : 0;
}
