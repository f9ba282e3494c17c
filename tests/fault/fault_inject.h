/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Countdown fault injection for test_inject: the test is linked with `-Wl,--wrap=F` for each
 * allocation and system call F that umdev's code calls (the list is in meson.build), so that
 * every call of F from the objects linked into the test, the static core and drivers
 * included, goes through __wrap_F (fault_inject.c). While armed on a thread, the wrappers
 * count that thread's calls and make the @fail_at-th one fail as the real call would when
 * out of memory or resources (NULL or -1 with errno ENOMEM, EMFILE, ENOSPC...); other
 * threads and unarmed calls pass straight through. write() fails only on regular files
 * (an eventfd's cannot fail), epoll_ctl() never for EPOLL_CTL_DEL. Linker wrapping, unlike an LD_PRELOAD
 * shim, leaves the sanitizers' own malloc in place, so this works in every build.
 */
#ifndef UMDEV_TESTS_FAULT_INJECT_H
#define UMDEV_TESTS_FAULT_INJECT_H

#include <stdbool.h>

/* Arms the calling thread: its @fail_at-th wrapped call from now fails (0: none fails). */
void fault_arm(unsigned long fail_at);

/* Disarms the calling thread; returns how many wrapped calls it made while armed. */
unsigned long fault_disarm(void);

/* The function whose call was made to fail since the last fault_arm(), or NULL. */
const char *fault_failed_call(void);

#endif
