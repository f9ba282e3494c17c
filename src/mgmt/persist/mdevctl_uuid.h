/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UUIDs as mdevctl 1.2.0 reads and writes them (it uses the Rust uuid crate 1.x):
 *
 *   - on its command line (-u/--uuid) any of the crate's forms is accepted: hyphenated
 *     (36 characters, either case), simple (32 hex digits), braced ({hyphenated}) and URN
 *     (urn:uuid:hyphenated); a bad one is refused with the crate's own message, which
 *     mdevctl prints in its usage error (mdevctl_uuid_parse());
 *   - in file names, sysfs entries and output, the canonical form: 36 characters, lower
 *     case, hyphens at 8, 13, 18 and 23 (mdevctl_uuid_is_canonical()).
 *
 * Plain C with no umdev types: linked into umdevctl and into the management library.
 */
#ifndef UMDEV_MGMT_PERSIST_MDEVCTL_UUID_H
#define UMDEV_MGMT_PERSIST_MDEVCTL_UUID_H

#include <stdbool.h>
#include <stddef.h>

/* The canonical text and its NUL. */
#define MDEVCTL_UUID_SIZE 37

/* True when @s is exactly a canonical (lower-case, hyphenated) UUID. */
bool mdevctl_uuid_is_canonical(const char *s);

/*
 * Parses @s in any form of the uuid crate and writes its canonical text to @out. On failure
 * returns -EINVAL and writes the crate's message ("invalid length: expected length 32 for
 * simple format, found 3", ...) to @err.
 */
int mdevctl_uuid_parse(const char *s, char out[MDEVCTL_UUID_SIZE], char *err, size_t errlen);

/* A random (version 4) UUID from getrandom(); 0 or -errno. */
int mdevctl_uuid_generate(char out[MDEVCTL_UUID_SIZE]);

#endif
