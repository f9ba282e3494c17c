/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A JSON parser with serde_json's grammar and error reports (mdevctl_json.h), building
 * json-c objects. It follows serde_json's recursive descent step by step, because the
 * message and position of an error depend on the step that finds it: an error found by
 * looking ahead at a byte reports that byte's column ("peek" position), an error found after
 * consuming bytes reports the column of the last one consumed ("current" position); both
 * count bytes from 1 after the last newline, and at the end of the input give the length
 * of the last line.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/persist/mdevctl_json.h"

/* serde_json's error messages (its ErrorCode's Display). */
#define E_EOF_LIST "EOF while parsing a list"
#define E_EOF_OBJECT "EOF while parsing an object"
#define E_EOF_STRING "EOF while parsing a string"
#define E_EOF_VALUE "EOF while parsing a value"
#define E_COLON "expected `:`"
#define E_LIST_COMMA "expected `,` or `]`"
#define E_OBJECT_COMMA "expected `,` or `}`"
#define E_IDENT "expected ident"
#define E_VALUE "expected value"
#define E_ESCAPE "invalid escape"
#define E_NUMBER "invalid number"
#define E_RANGE "number out of range"
#define E_CODE_POINT "invalid unicode code point"
#define E_CONTROL "control character (\\u0000-\\u001F) found while parsing a string"
#define E_KEY "key must be a string"
#define E_SURROGATE "lone leading surrogate in hex escape"
#define E_TRAILING_COMMA "trailing comma"
#define E_TRAILING "trailing characters"
#define E_HEX_END "unexpected end of hex escape"
#define E_DEPTH "recursion limit exceeded"
/* umdev's own refusals, beyond serde_json's grammar */
#define E_KEY_NUL "key contains a NUL character"

struct parser {
	const unsigned char *s;
	size_t len, i;
	unsigned int depth; /* containers still allowed */
	char *err;
	size_t errlen;
	int ret; /* -EINVAL or -ENOMEM once failed */
};

static void fail_at(struct parser *p, const char *msg, size_t index)
{
	size_t line = 1, column = 0;

	if (p->ret)
		return;
	for (size_t k = 0; k < index; k++) {
		if (p->s[k] == '\n') {
			line++;
			column = 0;
		} else {
			column++;
		}
	}
	snprintf(p->err, p->errlen, "%s at line %zu column %zu", msg, line, column);
	p->ret = -EINVAL;
}

/* An error found by looking at the next byte (serde_json's peek_error). */
static void peek_error(struct parser *p, const char *msg)
{
	fail_at(p, msg, p->i + 1 < p->len ? p->i + 1 : p->len);
}

/* An error found after consuming bytes (serde_json's error). */
static void cur_error(struct parser *p, const char *msg)
{
	fail_at(p, msg, p->i);
}

static void *oom(struct parser *p)
{
	if (!p->ret)
		snprintf(p->err, p->errlen, "out of memory");
	p->ret = -ENOMEM;
	return NULL;
}

/* Skips whitespace; the next byte, or -1 at the end. */
static int skip_ws(struct parser *p)
{
	while (p->i < p->len) {
		unsigned char c = p->s[p->i];

		if (c != ' ' && c != '\n' && c != '\t' && c != '\r')
			return c;
		p->i++;
	}
	return -1;
}

static int peek_or_null(struct parser *p)
{
	return p->i < p->len ? p->s[p->i] : 0;
}

static bool valid_utf8(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* ---- strings ---- */

struct sbuf {
	char *d;
	size_t len, cap;
};

static bool sbuf_put(struct sbuf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->d, cap);
		if (!d)
			return false;
		b->d = d;
		b->cap = cap;
	}
	memcpy(b->d + b->len, data, n);
	b->len += n;
	b->d[b->len] = '\0';
	return true;
}

static bool put_utf8(struct sbuf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return sbuf_put(b, u, n);
}

/* Four hex digits of a \u escape; -1 after an error. */
static long hex4(struct parser *p)
{
	long n = 0;

	if (p->i + 4 > p->len) {
		p->i = p->len;
		cur_error(p, E_EOF_STRING);
		return -1;
	}
	for (int k = 0; k < 4; k++) {
		unsigned char c = p->s[p->i++];
		int v = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;

		if (v < 0) {
			cur_error(p, E_ESCAPE);
			return -1;
		}
		n = n << 4 | v;
	}
	return n;
}

/* The escape after a backslash (consumed); false after an error. */
static bool parse_escape(struct parser *p, struct sbuf *b)
{
	static const char plain[] = "\"\\/bfnrt", value[] = "\"\\/\b\f\n\r\t";
	const char *at;
	long n1, n2;
	unsigned char c;

	if (p->i >= p->len) {
		cur_error(p, E_EOF_STRING);
		return false;
	}
	c = p->s[p->i++];
	if (c != 'u') {
		at = c ? strchr(plain, c) : NULL;
		if (!at) {
			cur_error(p, E_ESCAPE);
			return false;
		}
		return sbuf_put(b, &value[at - plain], 1) || oom(p);
	}
	n1 = hex4(p);
	if (n1 < 0)
		return false;
	if (n1 >= 0xdc00 && n1 <= 0xdfff) {
		cur_error(p, E_SURROGATE);
		return false;
	}
	if (n1 < 0xd800 || n1 > 0xdbff)
		return put_utf8(b, (uint32_t)n1) || oom(p);
	for (const char *want = "\\u"; *want; want++) {
		if (p->i >= p->len) {
			cur_error(p, E_EOF_STRING);
			return false;
		}
		if (p->s[p->i++] != (unsigned char)*want) {
			cur_error(p, E_HEX_END);
			return false;
		}
	}
	n2 = hex4(p);
	if (n2 < 0)
		return false;
	if (n2 < 0xdc00 || n2 > 0xdfff) {
		cur_error(p, E_SURROGATE);
		return false;
	}
	return put_utf8(b, (uint32_t)((((n1 - 0xd800) << 10) | (n2 - 0xdc00)) + 0x10000)) ||
	       oom(p);
}

/* The string after its opening quote (consumed) into @b; false after an error. */
static bool parse_str(struct parser *p, struct sbuf *b)
{
	b->len = 0;
	if (!sbuf_put(b, "", 0))
		return oom(p);
	for (;;) {
		size_t start = p->i;

		while (p->i < p->len && p->s[p->i] != '"' && p->s[p->i] != '\\' &&
		       p->s[p->i] >= 0x20)
			p->i++;
		if (!sbuf_put(b, p->s + start, p->i - start))
			return oom(p);
		if (p->i == p->len) {
			cur_error(p, E_EOF_STRING);
			return false;
		}
		switch (p->s[p->i++]) {
		case '"':
			return true;
		case '\\':
			if (!parse_escape(p, b))
				return false;
			break;
		default:
			cur_error(p, E_CONTROL);
			return false;
		}
	}
}

/* ---- numbers ---- */

/* A marker for a number too large for a double. */
static char out_of_range_marker;
#define OUT_OF_RANGE ((struct json_object *)(void *)&out_of_range_marker)

/* The json-c value of a number's text: int64, else uint64, else double. */
static struct json_object *number_object(const char *text, bool is_float)
{
	double d;

	if (!is_float) {
		long long v;
		unsigned long long u;

		errno = 0;
		v = strtoll(text, NULL, 10);
		if (!errno)
			return json_object_new_int64(v);
		if (text[0] != '-') {
			errno = 0;
			u = strtoull(text, NULL, 10);
			if (!errno)
				return json_object_new_uint64(u);
		}
	}
	d = strtod(text, NULL);
	if (isinf(d))
		return OUT_OF_RANGE;
	return json_object_new_double(d);
}

static struct json_object *parse_number(struct parser *p, size_t start)
{
	bool is_float = false;
	struct json_object *o;
	unsigned char c;
	char *text;
	int ndigits = 0;

	if (p->i >= p->len) {
		cur_error(p, E_EOF_VALUE);
		return NULL;
	}
	c = p->s[p->i++];
	if (c == '0') {
		if (peek_or_null(p) >= '0' && peek_or_null(p) <= '9') {
			peek_error(p, E_NUMBER);
			return NULL;
		}
	} else if (c >= '1' && c <= '9') {
		while (peek_or_null(p) >= '0' && peek_or_null(p) <= '9')
			p->i++;
	} else {
		cur_error(p, E_NUMBER);
		return NULL;
	}
	if (peek_or_null(p) == '.') {
		is_float = true;
		p->i++;
		while (peek_or_null(p) >= '0' && peek_or_null(p) <= '9') {
			p->i++;
			ndigits++;
		}
		if (!ndigits) {
			peek_error(p, p->i < p->len ? E_NUMBER : E_EOF_VALUE);
			return NULL;
		}
	}
	if (peek_or_null(p) == 'e' || peek_or_null(p) == 'E') {
		is_float = true;
		p->i++;
		if (peek_or_null(p) == '+' || peek_or_null(p) == '-')
			p->i++;
		if (p->i >= p->len) {
			cur_error(p, E_EOF_VALUE);
			return NULL;
		}
		c = p->s[p->i++];
		if (c < '0' || c > '9') {
			cur_error(p, E_NUMBER);
			return NULL;
		}
		while (peek_or_null(p) >= '0' && peek_or_null(p) <= '9')
			p->i++;
	}
	text = strndup((const char *)p->s + start, p->i - start);
	if (!text)
		return oom(p);
	o = number_object(text, is_float);
	free(text);
	if (o == OUT_OF_RANGE) {
		cur_error(p, E_RANGE);
		return NULL;
	}
	return o ? o : oom(p);
}

/* ---- values ---- */

static struct json_object *parse_value(struct parser *p);

static bool parse_ident(struct parser *p, const char *rest)
{
	for (; *rest; rest++) {
		if (p->i >= p->len) {
			cur_error(p, E_EOF_VALUE);
			return false;
		}
		if (p->s[p->i++] != (unsigned char)*rest) {
			cur_error(p, E_IDENT);
			return false;
		}
	}
	return true;
}

static struct json_object *parse_array(struct parser *p)
{
	struct json_object *arr = json_object_new_array(), *v;
	bool first = true;

	if (!arr)
		return oom(p);
	for (;;) {
		int c = skip_ws(p);

		if (c == ']') {
			p->i++;
			return arr;
		}
		if (c == ',' && !first) {
			p->i++;
			c = skip_ws(p);
		} else if (c < 0) {
			peek_error(p, E_EOF_LIST);
			break;
		} else if (!first) {
			peek_error(p, E_LIST_COMMA);
			break;
		}
		first = false;
		if (c == ']') {
			peek_error(p, E_TRAILING_COMMA);
			break;
		}
		if (c < 0) {
			peek_error(p, E_EOF_VALUE);
			break;
		}
		v = parse_value(p);
		if (p->ret)
			break;
		if (json_object_array_add(arr, v)) {
			json_object_put(v);
			oom(p);
			break;
		}
	}
	json_object_put(arr);
	return NULL;
}

static struct json_object *parse_object(struct parser *p)
{
	struct json_object *obj = json_object_new_object(), *v;
	struct sbuf key = { 0 };
	bool first = true;

	if (!obj)
		return oom(p);
	for (;;) {
		int c = skip_ws(p);

		if (c == '}') {
			p->i++;
			free(key.d);
			return obj;
		}
		if (c == ',' && !first) {
			p->i++;
			c = skip_ws(p);
		} else if (c < 0) {
			peek_error(p, E_EOF_OBJECT);
			break;
		} else if (!first) {
			peek_error(p, E_OBJECT_COMMA);
			break;
		}
		first = false;
		if (c != '"') {
			peek_error(p, c == '}' ? E_TRAILING_COMMA : c < 0 ? E_EOF_VALUE : E_KEY);
			break;
		}
		p->i++;
		if (!parse_str(p, &key))
			break;
		if (strlen(key.d) != key.len) {
			cur_error(p, E_KEY_NUL);
			break;
		}
		c = skip_ws(p);
		if (c != ':') {
			peek_error(p, c < 0 ? E_EOF_OBJECT : E_COLON);
			break;
		}
		p->i++;
		v = parse_value(p);
		if (p->ret)
			break;
		if (json_object_object_add(obj, key.d, v)) {
			json_object_put(v);
			oom(p);
			break;
		}
	}
	free(key.d);
	json_object_put(obj);
	return NULL;
}

static struct json_object *parse_container(struct parser *p, bool array)
{
	struct json_object *o;

	if (--p->depth == 0) {
		peek_error(p, E_DEPTH);
		return NULL;
	}
	p->i++;
	o = array ? parse_array(p) : parse_object(p);
	p->depth++;
	return o;
}

static struct json_object *parse_value(struct parser *p)
{
	struct json_object *o;
	struct sbuf str = { 0 };
	size_t start;
	int c = skip_ws(p);

	switch (c) {
	case -1:
		peek_error(p, E_EOF_VALUE);
		return NULL;
	case 'n':
		p->i++;
		parse_ident(p, "ull");
		return NULL;
	case 't':
	case 'f':
		p->i++;
		if (!parse_ident(p, c == 't' ? "rue" : "alse"))
			return NULL;
		o = json_object_new_boolean(c == 't');
		return o ? o : oom(p);
	case '-':
		start = p->i++;
		return parse_number(p, start);
	case '"':
		p->i++;
		if (!parse_str(p, &str)) {
			free(str.d);
			return NULL;
		}
		o = json_object_new_string_len(str.d, (int)str.len);
		free(str.d);
		return o ? o : oom(p);
	case '[':
	case '{':
		return parse_container(p, c == '[');
	default:
		if (c >= '0' && c <= '9')
			return parse_number(p, p->i);
		peek_error(p, E_VALUE);
		return NULL;
	}
}

int mdevctl_json_parse(const char *text, size_t len, struct json_object **ret, char *err,
		       size_t errlen)
{
	struct parser p = {
		.s = (const unsigned char *)text,
		.len = len,
		.depth = MDEVCTL_JSON_MAX_DEPTH + 1,
		.err = err,
		.errlen = errlen,
	};
	struct json_object *o;

	if (len > INT32_MAX) {
		snprintf(err, errlen, "input too large");
		return -EINVAL;
	}
	if (!valid_utf8(p.s, len)) {
		snprintf(err, errlen, "stream did not contain valid UTF-8");
		return -EINVAL;
	}
	o = parse_value(&p);
	if (!p.ret && skip_ws(&p) >= 0)
		peek_error(&p, E_TRAILING);
	if (p.ret) {
		json_object_put(o);
		return p.ret;
	}
	*ret = o;
	return 0;
}
