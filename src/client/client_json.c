/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The capabilities in the server's VERSION reply, read by a small JSON parser of the
 * client's own.
 *
 * Why not json-c (which the server uses): this is the client's only JSON, a few hundred bytes
 * from which it needs five values. A parser that validates the whole document is about as
 * long as the code to walk json-c's objects and check their types, and keeps
 * libumdev-client's dependencies to libc, which matters for a library that VMMs and test
 * tools link.
 *
 * The parser checks the whole document against RFC 8259: grammar, string escapes, UTF-8
 * (no overlong forms, surrogates or code points above U+10FFFF), number syntax. It never reads
 * past @len (the input need not be NUL-terminated) and bounds nesting at JSON_MAX_DEPTH. Of
 * the document it keeps only the members of the top-level object's "capabilities" object
 * that struct client_caps_json lists: numbers there must be non-negative integers that fit
 * in 64 bits (-ERANGE when larger), write_multiple a boolean, and a known key may not come
 * twice (which one would count?). Everything else is validated and skipped. Errors: -EINVAL
 * for anything malformed, -ERANGE for a number too large.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "client/client_private.h"
#include "util/macros.h"

#define JSON_MAX_DEPTH 32
/* Keys longer than this cannot be known ones; they are validated and skipped. */
#define JSON_KEY_MAX 32

struct json {
	const char *p, *end;
	int depth;
};

typedef int (*json_member_fn)(struct json *j, const char *key, void *opaque);

static int skip_value(struct json *j);

static void skip_ws(struct json *j)
{
	while (j->p < j->end &&
	       (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static size_t left(const struct json *j)
{
	return (size_t)(j->end - j->p);
}

static bool take(struct json *j, char ch)
{
	if (j->p == j->end || *j->p != ch)
		return false;
	j->p++;
	return true;
}

static bool take_word(struct json *j, const char *word)
{
	size_t n = strlen(word);

	if (left(j) < n || memcmp(j->p, word, n))
		return false;
	j->p += n;
	return true;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Skips one UTF-8 sequence whose first byte is >= 0x80; -EINVAL unless well-formed. */
static int skip_utf8(struct json *j)
{
	const unsigned char *s = (const unsigned char *)j->p;
	uint32_t cp, min;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return -EINVAL;
	}
	if (left(j) < n)
		return -EINVAL;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -EINVAL;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -EINVAL;
	j->p += n;
	return 0;
}

/* The escape after a backslash; *@ch gets the character when it is ASCII other than NUL,
 * else 0. */
static int parse_escape(struct json *j, char *ch)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	uint32_t v = 0;

	if (j->p == j->end)
		return -EINVAL;
	e = memchr(from, *j->p, sizeof(from) - 1);
	if (e) {
		*ch = to[e - from];
		j->p++;
		return 0;
	}
	if (*j->p != 'u' || left(j) < 5)
		return -EINVAL;
	for (int i = 1; i <= 4; i++) {
		int h = hex_digit(j->p[i]);

		if (h < 0)
			return -EINVAL;
		v = v << 4 | (uint32_t)h;
	}
	j->p += 5;
	*ch = v > 0 && v < 0x80 ? (char)v : 0;
	return 0;
}

/* A string. When @key is given it gets the string if that is short ASCII, else "" (which is
 * no known key). */
static int parse_string(struct json *j, char *key, size_t keysz)
{
	size_t n = 0;
	bool fits = true;

	if (!take(j, '"'))
		return -EINVAL;
	for (;;) {
		unsigned char u;
		char ch;
		int r;

		if (j->p == j->end)
			return -EINVAL;
		u = (unsigned char)*j->p;
		if (u == '"') {
			j->p++;
			break;
		}
		if (u < 0x20)
			return -EINVAL;
		if (u >= 0x80) {
			r = skip_utf8(j);
			if (r)
				return r;
			fits = false;
			continue;
		}
		if (u == '\\') {
			j->p++;
			r = parse_escape(j, &ch);
			if (r)
				return r;
			if (!ch)
				fits = false;
		} else {
			ch = (char)u;
			j->p++;
		}
		if (fits && key && n + 1 < keysz)
			key[n++] = ch;
		else
			fits = false;
	}
	if (key)
		key[fits ? n : 0] = '\0';
	return 0;
}

/*
 * A number (RFC 8259 syntax). *@val gets its value and *@status 0 when it is a non-negative
 * integer that fits in 64 bits, -ERANGE when it is a larger one, -EINVAL when it is negative
 * or has a fraction or exponent.
 */
static int parse_number(struct json *j, uint64_t *val, int *status)
{
	uint64_t v = 0;
	bool neg, overflow = false, integer = true;

	neg = take(j, '-');
	if (j->p == j->end || !is_digit(*j->p))
		return -EINVAL;
	if (*j->p == '0') {
		j->p++;
	} else {
		while (j->p < j->end && is_digit(*j->p)) {
			unsigned int d = (unsigned int)(*j->p++ - '0');

			if (v > (UINT64_MAX - d) / 10)
				overflow = true;
			else
				v = v * 10 + d;
		}
	}
	if (take(j, '.')) {
		integer = false;
		if (j->p == j->end || !is_digit(*j->p))
			return -EINVAL;
		while (j->p < j->end && is_digit(*j->p))
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		integer = false;
		j->p++;
		if (!take(j, '+'))
			take(j, '-');
		if (j->p == j->end || !is_digit(*j->p))
			return -EINVAL;
		while (j->p < j->end && is_digit(*j->p))
			j->p++;
	}
	*val = v;
	*status = neg || !integer ? -EINVAL : overflow ? -ERANGE : 0;
	return 0;
}

/* An object at j->p: calls @fn (which must consume the value) for each member, or skips the
 * values when @fn is NULL. */
static int parse_object(struct json *j, json_member_fn fn, void *opaque)
{
	int r;

	if (++j->depth > JSON_MAX_DEPTH || !take(j, '{'))
		return -EINVAL;
	skip_ws(j);
	if (take(j, '}'))
		goto done;
	for (;;) {
		char key[JSON_KEY_MAX];

		skip_ws(j);
		r = parse_string(j, key, sizeof(key));
		if (r)
			return r;
		skip_ws(j);
		if (!take(j, ':'))
			return -EINVAL;
		skip_ws(j);
		r = fn ? fn(j, key, opaque) : skip_value(j);
		if (r)
			return r;
		skip_ws(j);
		if (take(j, ','))
			continue;
		if (take(j, '}'))
			break;
		return -EINVAL;
	}
done:
	j->depth--;
	return 0;
}

static int skip_array(struct json *j)
{
	int r;

	if (++j->depth > JSON_MAX_DEPTH || !take(j, '['))
		return -EINVAL;
	skip_ws(j);
	if (take(j, ']'))
		goto done;
	for (;;) {
		skip_ws(j);
		r = skip_value(j);
		if (r)
			return r;
		skip_ws(j);
		if (take(j, ','))
			continue;
		if (take(j, ']'))
			break;
		return -EINVAL;
	}
done:
	j->depth--;
	return 0;
}

static int skip_value(struct json *j)
{
	uint64_t v;
	int status;

	if (j->p == j->end)
		return -EINVAL;
	switch (*j->p) {
	case '{':
		return parse_object(j, NULL, NULL);
	case '[':
		return skip_array(j);
	case '"':
		return parse_string(j, NULL, 0);
	case 't':
		return take_word(j, "true") ? 0 : -EINVAL;
	case 'f':
		return take_word(j, "false") ? 0 : -EINVAL;
	case 'n':
		return take_word(j, "null") ? 0 : -EINVAL;
	default:
		return parse_number(j, &v, &status);
	}
}

/* The members of "capabilities" the client reads: where their value and presence go. */
static const struct caps_key {
	const char *name;
	size_t has;
	size_t value;
	bool boolean;
} caps_keys[] = {
#define CAPS_NUMBER(k) { #k, offsetof(struct client_caps_json, has_##k), \
			 offsetof(struct client_caps_json, k), false }
	CAPS_NUMBER(max_msg_fds),
	CAPS_NUMBER(max_data_xfer_size),
	CAPS_NUMBER(pgsizes),
	CAPS_NUMBER(max_dma_maps),
#undef CAPS_NUMBER
	{ "write_multiple", offsetof(struct client_caps_json, has_write_multiple),
	  offsetof(struct client_caps_json, write_multiple), true },
};

static int caps_member(struct json *j, const char *key, void *opaque)
{
	struct client_caps_json *out = opaque;
	const struct caps_key *k = NULL;
	bool *has;
	int r, status;

	for (size_t i = 0; i < ARRAY_SIZE(caps_keys); i++)
		if (!strcmp(key, caps_keys[i].name))
			k = &caps_keys[i];
	if (!k)
		return skip_value(j);
	has = (bool *)((char *)out + k->has);
	if (*has)
		return -EINVAL;
	*has = true;
	if (k->boolean) {
		bool *b = (bool *)((char *)out + k->value);

		if (take_word(j, "true"))
			*b = true;
		else if (take_word(j, "false"))
			*b = false;
		else
			return -EINVAL;
		return 0;
	}
	if (j->p == j->end || !(is_digit(*j->p) || *j->p == '-'))
		return -EINVAL;
	r = parse_number(j, (uint64_t *)((char *)out + k->value), &status);
	return r ? r : status;
}

/* The top-level object: its "capabilities" (once, an object) are read, the rest skipped. */
struct caps_parse {
	struct client_caps_json *out;
	bool seen;
};

static int top_member(struct json *j, const char *key, void *opaque)
{
	struct caps_parse *cp = opaque;

	if (strcmp(key, "capabilities"))
		return skip_value(j);
	if (cp->seen || j->p == j->end || *j->p != '{')
		return -EINVAL;
	cp->seen = true;
	return parse_object(j, caps_member, cp->out);
}

int client_parse_caps(const char *json, size_t len, struct client_caps_json *out)
{
	struct json j = { .p = json, .end = json + len };
	struct caps_parse cp = { .out = out };
	int r;

	memset(out, 0, sizeof(*out));
	skip_ws(&j);
	if (j.p == j.end || *j.p != '{')
		return -EINVAL;
	r = parse_object(&j, top_member, &cp);
	if (r)
		return r;
	skip_ws(&j);
	return j.p == j.end ? 0 : -EINVAL;
}
