/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * serde_json's two output formats over json-c values (mdevctl_json.h): to_string_pretty()
 * (what mdevctl writes to its config files and prints with --dumpjson) and to_string()
 * (what it prints for a JSON value inside a message). Floats are written as serde_json's
 * ryu does: the shortest digits that read back to the same double, in plain notation when
 * the decimal point falls between 5 places left and 16 places right of the first digit,
 * else as d.ddde<exp>; always with a fraction (".0") in plain notation.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/persist/mdevctl_json.h"

void mdevctl_buf_add(struct mdevctl_buf *b, const char *s, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *d;

		while (cap < b->len + len + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void mdevctl_buf_addf(struct mdevctl_buf *b, const char *fmt, ...)
{
	char small[256], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		mdevctl_buf_add(b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	mdevctl_buf_add(b, big, (size_t)n);
	free(big);
}

char *mdevctl_buf_take(struct mdevctl_buf *b)
{
	char *s = b->failed ? NULL : b->data;

	if (!s && !b->failed)
		s = strdup("");
	if (b->failed)
		free(b->data);
	*b = (struct mdevctl_buf){ 0 };
	return s;
}

void mdevctl_buf_add_json_string(struct mdevctl_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	mdevctl_buf_add(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		mdevctl_buf_add(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': mdevctl_buf_add(b, "\\\"", 2); break;
		case '\\': mdevctl_buf_add(b, "\\\\", 2); break;
		case '\b': mdevctl_buf_add(b, "\\b", 2); break;
		case '\f': mdevctl_buf_add(b, "\\f", 2); break;
		case '\n': mdevctl_buf_add(b, "\\n", 2); break;
		case '\r': mdevctl_buf_add(b, "\\r", 2); break;
		case '\t': mdevctl_buf_add(b, "\\t", 2); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			mdevctl_buf_add(b, esc, 6);
		}
	}
	mdevctl_buf_add(b, s + start, len - start);
	mdevctl_buf_add(b, "\"", 1);
}

/* A finite double as ryu formats it for serde_json. */
static void add_double(struct mdevctl_buf *b, double d)
{
	char sci[40], digits[24];
	int prec, exp, nd = 0, point;
	const char *e;

	/* the shortest %e form that reads back to @d */
	for (prec = 0; prec < 17; prec++) {
		snprintf(sci, sizeof(sci), "%.*e", prec, d);
		if (strtod(sci, NULL) == d)
			break;
	}
	if (d < 0)
		mdevctl_buf_add(b, "-", 1);
	for (const char *p = sci; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	e = strchr(sci, 'e');
	exp = e ? atoi(e + 1) : 0;
	point = exp + 1; /* digits before the decimal point */
	if (nd == 1 && digits[0] == '0') {
		mdevctl_buf_add(b, "0.0", 3);
	} else if (point > 0 && point <= 16) {
		if (nd <= point) {
			mdevctl_buf_add(b, digits, (size_t)nd);
			for (int i = nd; i < point; i++)
				mdevctl_buf_add(b, "0", 1);
			mdevctl_buf_add(b, ".0", 2);
		} else {
			mdevctl_buf_add(b, digits, (size_t)point);
			mdevctl_buf_add(b, ".", 1);
			mdevctl_buf_add(b, digits + point, (size_t)(nd - point));
		}
	} else if (point > -5 && point <= 0) {
		mdevctl_buf_add(b, "0.", 2);
		for (int i = point; i < 0; i++)
			mdevctl_buf_add(b, "0", 1);
		mdevctl_buf_add(b, digits, (size_t)nd);
	} else {
		mdevctl_buf_add(b, digits, 1);
		if (nd > 1) {
			mdevctl_buf_add(b, ".", 1);
			mdevctl_buf_add(b, digits + 1, (size_t)(nd - 1));
		}
		mdevctl_buf_addf(b, "e%d", exp);
	}
}

static void indent(struct mdevctl_buf *b, unsigned int level)
{
	for (unsigned int i = 0; i < level; i++)
		mdevctl_buf_add(b, "  ", 2);
}

static void print_value(struct mdevctl_buf *b, struct json_object *o, bool pretty,
			unsigned int level)
{
	size_t n, i = 0;

	switch (json_object_get_type(o)) {
	case json_type_null:
		mdevctl_buf_add(b, "null", 4);
		break;
	case json_type_boolean:
		if (json_object_get_boolean(o))
			mdevctl_buf_add(b, "true", 4);
		else
			mdevctl_buf_add(b, "false", 5);
		break;
	case json_type_int:
		if (json_object_get_int64(o) == INT64_MAX)
			mdevctl_buf_addf(b, "%llu",
					 (unsigned long long)json_object_get_uint64(o));
		else
			mdevctl_buf_addf(b, "%lld", (long long)json_object_get_int64(o));
		break;
	case json_type_double:
		add_double(b, json_object_get_double(o));
		break;
	case json_type_string:
		mdevctl_buf_add_json_string(b, json_object_get_string(o),
					    (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		n = json_object_array_length(o);
		mdevctl_buf_add(b, "[", 1);
		for (i = 0; i < n; i++) {
			if (i)
				mdevctl_buf_add(b, ",", 1);
			if (pretty) {
				mdevctl_buf_add(b, "\n", 1);
				indent(b, level + 1);
			}
			print_value(b, json_object_array_get_idx(o, i), pretty, level + 1);
		}
		if (pretty && n) {
			mdevctl_buf_add(b, "\n", 1);
			indent(b, level);
		}
		mdevctl_buf_add(b, "]", 1);
		break;
	case json_type_object:
		mdevctl_buf_add(b, "{", 1);
		json_object_object_foreach(o, key, val) {
			if (i++)
				mdevctl_buf_add(b, ",", 1);
			if (pretty) {
				mdevctl_buf_add(b, "\n", 1);
				indent(b, level + 1);
			}
			mdevctl_buf_add_json_string(b, key, strlen(key));
			mdevctl_buf_add(b, pretty ? ": " : ":", pretty ? 2 : 1);
			print_value(b, val, pretty, level + 1);
		}
		if (pretty && i) {
			mdevctl_buf_add(b, "\n", 1);
			indent(b, level);
		}
		mdevctl_buf_add(b, "}", 1);
		break;
	}
}

char *mdevctl_json_print(struct json_object *obj, bool pretty)
{
	struct mdevctl_buf b = { 0 };

	print_value(&b, obj, pretty, 0);
	return mdevctl_buf_take(&b);
}
