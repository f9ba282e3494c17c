/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small test harness that prints TAP. A suite defines cases with TEST(name) { ... } and
 * calls tap_main() from main(); each case runs in the suite's process, in definition order
 * (or only those named on the command line), and fails if any CHECK fails or if it leaves
 * more file descriptors open than it found. REQUIRE stops the case at the first failure.
 */
#ifndef UMDEV_TESTS_TAP_H
#define UMDEV_TESTS_TAP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*tap_case_fn)(void);

void tap_register(const char *name, tap_case_fn fn);
int tap_main(int argc, char **argv);

bool tap_check(bool ok, const char *expr, const char *file, int line);
bool tap_check_eq(long long a, long long b, const char *ea, const char *eb, const char *file,
		  int line);
bool tap_check_str(const char *a, const char *b, const char *ea, const char *eb,
		   const char *file, int line);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define TEST(name)                                                        \
	static void name(void);                                           \
	__attribute__((constructor)) static void name##_register(void)    \
	{                                                                 \
		tap_register(#name, name);                                \
	}                                                                 \
	static void name(void)

#define CHECK(cond) tap_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b) tap_check_eq((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) tap_check_str((a), (b), #a, #b, __FILE__, __LINE__)

#define REQUIRE(cond)               \
	do {                        \
		if (!CHECK(cond))   \
			return;     \
	} while (0)
#define REQUIRE_EQ(a, b)              \
	do {                          \
		if (!CHECK_EQ(a, b))  \
			return;       \
	} while (0)

#endif
