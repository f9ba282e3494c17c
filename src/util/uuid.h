/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UUIDs in the kernel's text rules: exactly 36 characters, '-' at positions 8, 13, 18 and 23,
 * hexadecimal digits of either case everywhere else; no braces, prefixes or spaces. The
 * canonical form that umdev prints is lower case.
 */
#ifndef UMDEV_UTIL_UUID_H
#define UMDEV_UTIL_UUID_H

#include <stdbool.h>

#include <umdev/kernel.h>

/* The canonical text plus its NUL. */
#define UUID_STRING_SIZE (UUID_STRING_LEN + 1)

/* True when the first 36 characters of @s are a UUID; @s must hold at least 36 bytes. */
bool uuid_text_is_valid(const char *s);

/* Parses the first 36 characters of @s; -EINVAL when they are not a UUID. */
int uuid_parse(const char *s, guid_t *out);

/* Writes the canonical lower-case form and a NUL into @out. */
void uuid_format(const guid_t *uuid, char out[UUID_STRING_SIZE]);

static inline bool uuid_equal(const guid_t *a, const guid_t *b)
{
	for (int i = 0; i < 16; i++)
		if (a->b[i] != b->b[i])
			return false;
	return true;
}

#endif
