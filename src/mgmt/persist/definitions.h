/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persistent mediated-device definitions, in mdevctl 1.2.0's format and layout
 * (mdevctl-contract.md (b)): one file per device, <conf-dir>/<parent>/<uuid>, holding
 *
 *   {
 *     "mdev_type": "mtty-1",
 *     "start": "auto",
 *     "attrs": [
 *       {
 *         "foo": "bar"
 *       }
 *     ]
 *   }
 *
 * (serde_json's pretty form, two-space indent, keys in this order, no trailing newline).
 *
 * Reading follows mdevctl (its load_from_json()), with umdev's refusals of what crashes it:
 *   - the file is JSON (serde_json's grammar and messages, mdevctl_json.h), at most
 *     DEFINITION_MAX_FILE_SIZE bytes;
 *   - "mdev_type" and "start" must be present and not null ("invalid json"); "mdev_type"
 *     must be a string (mdevctl panics otherwise); "start" is "auto" for autostart and
 *     anything else, string or not, means manual, exactly as mdevctl reads it;
 *   - "attrs" is absent, null, or an array of objects with one key each, whose value is a
 *     string (mdevctl 1.2.0 panics on other values; its later wording is used); their order
 *     is the order in which they are written to the device when it starts;
 *   - other keys are ignored; the names, counts and sizes are bounded by the limits below.
 * Entries of <conf-dir> and <conf-dir>/<parent> are taken as mdevctl takes them: parents are
 * real directories (not followed through symlinks), definitions are regular files named
 * by a canonical (lower-case) UUID. Other names that parse as UUIDs (upper case, ...) are
 * ignored silently, as mdevctl 1.2.0 does; names that are no UUID at all are reported
 * ("Can't determine uuid for file 'x'", mdevctl's warning) and skipped; hidden files
 * (a leading '.', such as the temporary files of definition_write()) are ignored.
 *
 * Writing is atomic (DESIGN.md 4): a temporary file in the same directory, fsync, rename
 * over the definition, fsync of the directory. A crash at any point leaves the old or the
 * new content, never a torn file (at worst a stale hidden temporary file).
 *
 * Functions return 0 or -errno and, where they take @err, write a message for the user.
 */
#ifndef UMDEV_MGMT_PERSIST_DEFINITIONS_H
#define UMDEV_MGMT_PERSIST_DEFINITIONS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "mgmt/persist/mdevctl_uuid.h"

/* Limits on untrusted definitions (files, requests, command lines). */
#define DEFINITION_MAX_FILE_SIZE 65536 /* bytes of one definition file */
#define DEFINITION_MAX_ATTRS 128       /* attributes of one definition */
#define DEFINITION_MAX_NAME 255	       /* bytes of a parent, type or attribute name */
#define DEFINITION_MAX_VALUE 4096      /* bytes of an attribute value (one sysfs page) */
#define DEFINITIONS_MAX_COUNT 65536    /* definitions loaded by one definitions_load() */

struct mdev_definition_attr {
	char *name;  /* as mdevctl writes it under /sys/bus/mdev/devices/U/: "vendor/x" */
	char *value; /* written verbatim, without a newline */
};

struct mdev_definition {
	char parent[DEFINITION_MAX_NAME + 1];
	char uuid[MDEVCTL_UUID_SIZE]; /* canonical, lower case */
	char *mdev_type;
	bool autostart; /* "start": "auto" */
	size_t nattrs;
	struct mdev_definition_attr *attrs;
};

/*
 * Called for a file that is skipped: its path, and the warning to show, which names the
 * file: "<path>: <why>" for a definition that cannot be read or parsed ("...: EOF while
 * parsing an object at line 1 column 21"), or mdevctl's "Can't determine uuid for file
 * '<name>'" for a name that is no UUID.
 */
typedef void (*definition_bad_file_fn)(const char *path, const char *message, void *userdata);

/*
 * Loads the definitions under @conf_dir, of one parent or (NULL) of all, sorted by parent
 * then UUID (byte order, as mdevctl lists them). A file that cannot be read or parsed is
 * reported through @bad_file (may be NULL) and skipped; the others load. A missing
 * @conf_dir (or parent directory) is no error: no definitions. Returns 0 and an array of
 * *@count definitions in *@defs (free with definitions_free()), or -errno (@conf_dir cannot
 * be read, -ENOMEM).
 */
int definitions_load(const char *conf_dir, const char *parent,
		     struct mdev_definition **defs, size_t *count,
		     definition_bad_file_fn bad_file, void *userdata);

/*
 * Loads the one definition <conf_dir>/<parent>/<uuid> into @def (cleared first; free its
 * fields with definition_clear()). -ENOENT when there is none; other errors with a message
 * in @err.
 */
int definition_load_one(const char *conf_dir, const char *parent, const char *uuid,
			struct mdev_definition *def, char *err, size_t errlen);

/* True when <conf_dir>/<parent>/<uuid> exists (as mdevctl's is_defined()). */
bool definition_exists(const char *conf_dir, const char *parent, const char *uuid);

/*
 * Writes @def to <conf_dir>/<def->parent>/<def->uuid> atomically, creating the directories
 * as needed (mode 0755; files 0644, as mdevctl's). -EINVAL for a definition that breaks the
 * limits or names; -errno of the file system.
 */
int definition_write(const char *conf_dir, const struct mdev_definition *def);

/*
 * Removes the definition @uuid of @parent, or (NULL) of every parent. -ENOENT when none
 * existed; the parent directories stay (as with mdevctl).
 */
int definition_remove(const char *conf_dir, const char *parent, const char *uuid);

/*
 * Removes the temporary files "<parent>/.<uuid>.<8 hex>" that a writer killed between write
 * and rename left in @conf_dir (definition_sweep.c); only for a caller that knows no writer
 * runs. The number removed (0 without @conf_dir), or -errno.
 */
int definitions_sweep_temporaries(const char *conf_dir);
void definitions_free(struct mdev_definition *defs, size_t count);

/* ---- the format (definition_json.c) ---- */

/* Frees the fields of @def (not @def) and zeroes them. */
void definition_clear(struct mdev_definition *def);
/* A deep copy of @src into @dst; 0 or -ENOMEM. */
int definition_copy(struct mdev_definition *dst, const struct mdev_definition *src);
/* Appends attribute @name=@value at @index (nattrs: at the end); 0, -ENOMEM or -E2BIG. */
int definition_attr_insert(struct mdev_definition *def, size_t index, const char *name,
			   const char *value);
void definition_attr_delete(struct mdev_definition *def, size_t index);

/*
 * Fills the type, start and attributes of @def from a parsed JSON value, with mdevctl's
 * rules and messages ("invalid json", "attributes field is not an array", ...). 0, -EINVAL
 * (message in @err) or -ENOMEM.
 */
int definition_from_json(struct json_object *val, struct mdev_definition *def, char *err,
			 size_t errlen);
/*
 * Appends the attributes of an "attrs" value (NULL: none) to @def, with the same rules and
 * messages ("attributes field is not an array", ...).
 */
int definition_attrs_from_json(struct json_object *attrs, struct mdev_definition *def,
			       char *err, size_t errlen);
/* Parses @len bytes of definition text (the JSON grammar, then definition_from_json()). */
int definition_parse(const char *text, size_t len, struct mdev_definition *def, char *err,
		     size_t errlen);
/* {"mdev_type", "start", "attrs"} of @def as a new json-c object; NULL on ENOMEM. */
struct json_object *definition_to_json(const struct mdev_definition *def);
/* The file content of @def (serde_json pretty, no newline); malloc'd, or NULL on ENOMEM. */
char *definition_format(const struct mdev_definition *def);

/* Checks a parent name: not empty, ".", ".." or with a '/', at most DEFINITION_MAX_NAME. */
bool definition_parent_name_ok(const char *name);
/* Checks @def against the limits; 0 or -EINVAL with a message in @err. */
int definition_validate(const struct mdev_definition *def, char *err, size_t errlen);

#endif
