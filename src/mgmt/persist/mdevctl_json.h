/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON as mdevctl 1.2.0 reads and writes it (Rust's serde_json with preserve_order), over
 * json-c's objects (whose keys keep their insertion order):
 *
 *   - mdevctl_json_parse() accepts exactly what serde_json::from_str() accepts and refuses
 *     the rest with serde_json's message and position ("EOF while parsing an object at line
 *     1 column 21"), so that umdevctl and the definitions loader report a bad file in
 *     mdevctl's words. Input that is not UTF-8 is refused as Rust's read_to_string() does
 *     ("stream did not contain valid UTF-8"). Nesting is bounded (MDEVCTL_JSON_MAX_DEPTH, as
 *     serde_json's recursion limit). A duplicate key keeps its first position and takes the
 *     last value, as serde_json's map does. JSON null is a NULL json_object, as in json-c.
 *
 *   - mdevctl_json_print() renders a value as serde_json::to_string_pretty() (two-space
 *     indent, "key": value, empty containers as [] and {}) or as serde_json::to_string()
 *     (compact), with serde_json's string escapes. No trailing newline.
 *
 * Plain C over json-c: linked into umdevctl and into the management library.
 */
#ifndef UMDEV_MGMT_PERSIST_MDEVCTL_JSON_H
#define UMDEV_MGMT_PERSIST_MDEVCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* serde_json's recursion limit: containers nested deeper than this are refused. */
#define MDEVCTL_JSON_MAX_DEPTH 127

/*
 * Parses @len bytes of @text. On success stores the value (a new reference; NULL for null)
 * in *ret and returns 0. On failure returns -EINVAL (bad input, with serde_json's message in
 * @err) or -ENOMEM.
 */
int mdevctl_json_parse(const char *text, size_t len, struct json_object **ret, char *err,
		       size_t errlen);

/* Renders @obj pretty (@pretty) or compact; a malloc'd NUL-terminated string, or NULL. */
char *mdevctl_json_print(struct json_object *obj, bool pretty);

/* A growable string, for the printers. */
struct mdevctl_buf {
	char *data;
	size_t len, cap;
	bool failed; /* an allocation failed: data is incomplete */
};

void mdevctl_buf_add(struct mdevctl_buf *b, const char *s, size_t len);
void mdevctl_buf_addf(struct mdevctl_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends @s (of @len bytes) as a JSON string with serde_json's escapes, quotes included. */
void mdevctl_buf_add_json_string(struct mdevctl_buf *b, const char *s, size_t len);
/* Takes the NUL-terminated string out of @b (NULL if an allocation failed); @b is reset. */
char *mdevctl_buf_take(struct mdevctl_buf *b);

#endif
