/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether a message of a level would reach the log handler, so that callers that prefix
 * and format messages themselves (dev_printk) skip the work for filtered ones.
 */
#ifndef UMDEV_UTIL_LOG_LEVEL_H
#define UMDEV_UTIL_LOG_LEVEL_H

#include <stdbool.h>

bool umdev_log_enabled(int level);

#endif
