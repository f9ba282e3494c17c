/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The --jsonfile of start and define (cli_jsonfile.c).
 */
#ifndef UMDEV_CLI_CLI_JSONFILE_H
#define UMDEV_CLI_CLI_JSONFILE_H

#include "mgmt/persist/definitions.h"

/* Reads and parses @path (*@val: its JSON value, a reference); 0, or 1 after printing the
 * error. */
int cli_read_jsonfile(const char *path, struct json_object **val);
/* The definition in @val (type, start, attributes); 0, or 1 after printing the error. */
int cli_jsonfile_definition(struct json_object *val, struct mdev_definition *def);

/* @def's attributes as the protocol's "attrs" array; NULL on ENOMEM. */
struct json_object *cli_attrs_json(const struct mdev_definition *def);

#endif
