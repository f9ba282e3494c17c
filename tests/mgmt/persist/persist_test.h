/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the persist suite (tests/mgmt/persist/): temporary configuration directories,
 * files written and read whole, and the collector of the loader's bad-file reports.
 */
#ifndef UMDEV_TESTS_MGMT_PERSIST_TEST_H
#define UMDEV_TESTS_MGMT_PERSIST_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include "mgmt/persist/definitions.h"
#include "tap.h"

#define UA "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define UB "11111111-2222-4333-8444-555555555555"
#define UC "22222222-509f-382f-3c1e-e6bfe0fa1001"

/* A new empty directory under $TMPDIR (or /tmp), its path in @buf (checked). */
bool make_temp_dir(char *buf, size_t size);
/* rm -rf @path. */
void remove_tree(const char *path);
/* Writes @len bytes to dir/name (creating dir); checked. */
bool put_file(const char *dir, const char *name, const char *data, size_t len);
/* The content of @path (malloc'd, NUL-terminated) or NULL; its length in *@len. */
char *get_file(const char *path, size_t *len);

/* What definitions_load() reported. */
struct reports {
	unsigned int count;
	char path[8][512];
	char message[8][768];
};
void collect_report(const char *path, const char *message, void *userdata);

/* A definition of mtty-1 with @nattrs attributes "a<i>" = "v<i>". */
void make_def(struct mdev_definition *def, const char *parent, const char *uuid,
	      const char *type, bool autostart, unsigned int nattrs);

#endif
