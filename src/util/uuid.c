/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing and printing of UUIDs with the kernel's rules (see uuid.h).
 */
#include <errno.h>
#include <stdio.h>

#include "util/uuid.h"

static bool is_dash_position(int i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool uuid_text_is_valid(const char *s)
{
	for (int i = 0; i < UUID_STRING_LEN; i++) {
		if (is_dash_position(i) ? s[i] != '-' : hex_value(s[i]) < 0)
			return false;
	}
	return true;
}

int uuid_parse(const char *s, guid_t *out)
{
	int n = 0;

	if (!uuid_text_is_valid(s))
		return -EINVAL;
	for (int i = 0; i < UUID_STRING_LEN; i++) {
		if (is_dash_position(i))
			continue;
		if (n % 2 == 0)
			out->b[n / 2] = (uint8_t)(hex_value(s[i]) << 4);
		else
			out->b[n / 2] |= (uint8_t)hex_value(s[i]);
		n++;
	}
	return 0;
}

void uuid_format(const guid_t *u, char out[UUID_STRING_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	/* by hand: it runs on every create and remove, and snprintf() showed in profiles */
	for (unsigned int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u->b[i] >> 4];
		out[o++] = hex[u->b[i] & 0xf];
	}
	out[o] = '\0';
}
