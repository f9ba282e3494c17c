/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every fuzz target needs around its harness: stop on a finding, count the process's
 * open file descriptors (a leak is a finding), and time the bounded waits (a hang is one).
 */
#ifndef UMDEV_FUZZ_UTIL_H
#define UMDEV_FUZZ_UTIL_H

#include <time.h>

/* Prints "<program>: @what" to stderr and aborts: libFuzzer keeps the input. */
_Noreturn void fuzz_die(const char *what);
/* The open file descriptors of the process, the listing's own included (compare two
 * counts), or -1. */
int fuzz_count_fds(void);
/* Milliseconds of CLOCK_MONOTONIC since @t0. */
long fuzz_ms_since(const struct timespec *t0);

#endif
