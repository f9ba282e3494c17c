/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Number parsing with the kernel's kstrtoul(buf, 0, &val) rules, which sysfs attributes such
 * as `remove` apply to what userspace writes: an optional '+', the base taken from the prefix
 * ("0x"/"0X" followed by a hex digit: 16, a leading "0": 8, else 10), at least one digit, and
 * at most one trailing '\n'. Nothing else: no spaces, no sign '-'.
 */
#ifndef UMDEV_UTIL_STRPARSE_H
#define UMDEV_UTIL_STRPARSE_H

#include <stddef.h>

/*
 * Parses the first @count bytes of @buf (or fewer, up to a NUL, as the kernel reads a
 * NUL-terminated copy). 0 on success, -EINVAL for bad syntax, -ERANGE on overflow.
 */
int kstrtoul_auto(const char *buf, size_t count, unsigned long *out);

#endif
