/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small macros used throughout umdev's sources: array sizes, min/max, alignment, branch hints
 * and the cleanup of locks. container_of() comes from the public <umdev/kernel.h>.
 */
#ifndef UMDEV_UTIL_MACROS_H
#define UMDEV_UTIL_MACROS_H

#include <stddef.h>
#include <stdint.h>

#include <umdev/kernel.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define IS_ALIGNED(x, a) (((x) & ((a)-1)) == 0)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Marks a printf-like function so that the compiler checks its format strings. */
#define UMDEV_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* Returns true when a + b overflows uint64_t; stores the sum in *sum otherwise. */
static inline int add_overflows_u64(uint64_t a, uint64_t b, uint64_t *sum)
{
	return __builtin_add_overflow(a, b, sum);
}

#endif
