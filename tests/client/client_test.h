/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the client's test suites share: header checks of recorded messages and the shape of a
 * case (connect to a fake server, call, close, then check what the server got).
 */
#ifndef UMDEV_TESTS_CLIENT_TEST_H
#define UMDEV_TESTS_CLIENT_TEST_H

#include <string.h>

#include "fake_server.h"
#include "tap.h"

/* The header of recorded message @m. */
#define CHECK_HDR(m, id_, cmd_, size_, flags_)               \
	do {                                                 \
		CHECK_EQ((m)->hdr.msg_id, (id_));            \
		CHECK_EQ((m)->hdr.command, (cmd_));          \
		CHECK_EQ((m)->hdr.msg_size, (size_));        \
		CHECK_EQ((m)->hdr.flags, (flags_));          \
		CHECK_EQ((m)->hdr.error, 0);                 \
	} while (0)

/* The replies of fake_connect_canned(), from an array. */
#define CANNED(arr) (arr), (sizeof(arr) / sizeof((arr)[0]))

/* Closes the client and waits for the script; the server must have had no failure. */
#define FINISH(fs, c)                                 \
	do {                                          \
		umdev_client_close(c);                \
		CHECK_EQ(fake_finish(fs), 0);         \
	} while (0)

#endif
