/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mdevctl's UUID rules (see mdevctl_uuid.h). The parser accepts what the uuid crate's
 * parse_str() accepts; when it refuses, it diagnoses the input the way the crate does so that
 * the message is the one mdevctl users see: the first character that is neither a hex digit
 * nor a hyphen (counted from 1, after a brace or URN prefix), else the length of a string
 * without hyphens, else the number of groups, else the first group of the wrong length.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "mgmt/persist/mdevctl_uuid.h"

static const unsigned int group_start[5] = { 0, 9, 14, 19, 24 };
static const unsigned int group_len[5] = { 8, 4, 4, 4, 12 };

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool mdevctl_uuid_is_canonical(const char *s)
{
	for (unsigned int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		unsigned char c = (unsigned char)s[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[36] == '\0';
}

/* 32 hex digits, no hyphens, into @bytes. */
static bool parse_simple(const char *s, unsigned char bytes[16])
{
	for (unsigned int i = 0; i < 16; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		bytes[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* 36 characters, hyphens at the group boundaries, into @bytes. */
static bool parse_hyphenated(const char *s, unsigned char bytes[16])
{
	char simple[33];
	unsigned int n = 0;

	for (unsigned int g = 0; g < 5; g++) {
		if (g && s[group_start[g] - 1] != '-')
			return false;
		for (unsigned int i = 0; i < group_len[g]; i++)
			simple[n++] = s[group_start[g] + i];
	}
	simple[n] = '\0';
	return strchr(simple, '-') == NULL && parse_simple(simple, bytes);
}

/* The length of the UTF-8 sequence starting with @c (1 for ASCII or a stray byte). */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/* The crate's diagnosis of an input that did not parse. */
static void diagnose(const char *input, char *err, size_t errlen)
{
	size_t len = strlen(input), offset = 0, body_len = len, bounds[4] = { 0 };
	const char *body = input;
	unsigned int hyphens = 0;
	bool simple = true;

	if (len >= 2 && input[0] == '{' && input[len - 1] == '}') {
		body = input + 1;
		body_len = len - 2;
		offset = 1;
		simple = false;
	} else if (!strncmp(input, "urn:uuid:", 9)) {
		body = input + 9;
		body_len = len - 9;
		offset = 9;
		simple = false;
	}
	for (size_t i = 0; i < body_len;) {
		unsigned char c = (unsigned char)body[i];
		size_t n = utf8_len(c);

		if (c >= 0x80 || (c != '-' && hexval(c) < 0)) {
			if (n > body_len - i)
				n = body_len - i;
			snprintf(err, errlen,
				 "invalid character: expected an optional prefix of `urn:uuid:` "
				 "followed by [0-9a-zA-Z], found `%.*s` at %zu",
				 (int)n, body + i, i + offset + 1);
			return;
		}
		if (c == '-') {
			if (hyphens < 4)
				bounds[hyphens] = i;
			hyphens++;
		}
		i++;
	}
	if (!hyphens && simple) {
		snprintf(err, errlen, "invalid length: expected length 32 for simple format, found %zu",
			 len);
		return;
	}
	if (hyphens != 4) {
		snprintf(err, errlen, "invalid group count: expected 5, found %u", hyphens + 1);
		return;
	}
	for (unsigned int g = 0; g < 4; g++) {
		if (bounds[g] != group_start[g + 1] - 1) {
			snprintf(err, errlen,
				 "invalid group length in group %u: expected %u, found %zu", g,
				 group_len[g], bounds[g] - group_start[g]);
			return;
		}
	}
	snprintf(err, errlen, "invalid group length in group 4: expected 12, found %zu",
		 len - group_start[4]);
}

static void format_bytes(const unsigned char b[16], char out[MDEVCTL_UUID_SIZE])
{
	snprintf(out, MDEVCTL_UUID_SIZE,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

int mdevctl_uuid_parse(const char *s, char out[MDEVCTL_UUID_SIZE], char *err, size_t errlen)
{
	size_t len = strlen(s);
	unsigned char bytes[16];
	bool ok = false;

	if (len == 32)
		ok = parse_simple(s, bytes);
	else if (len == 36)
		ok = parse_hyphenated(s, bytes);
	else if (len == 38 && s[0] == '{' && s[37] == '}')
		ok = parse_hyphenated(s + 1, bytes);
	else if (len == 45 && !strncmp(s, "urn:uuid:", 9))
		ok = parse_hyphenated(s + 9, bytes);
	if (!ok) {
		diagnose(s, err, errlen);
		return -EINVAL;
	}
	format_bytes(bytes, out);
	return 0;
}

int mdevctl_uuid_generate(char out[MDEVCTL_UUID_SIZE])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	format_bytes(b, out);
	return 0;
}
