/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a fuzz target linked with replay_main.c provides: the libFuzzer entry point, and a
 * teardown of its process-wide state run after the last file of the corpus.
 */
#ifndef UMDEV_FUZZ_REPLAY_MAIN_H
#define UMDEV_FUZZ_REPLAY_MAIN_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_replay_teardown(void);

#endif
