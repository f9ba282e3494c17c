/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging of libumdev and of drivers. The library never prints on its own: every message goes
 * to a handler that the program installs (umdevd writes them to stderr or the journal). With
 * no handler installed, messages are dropped.
 *
 * Levels are syslog's. Drivers normally log through dev_err()/dev_warn()/dev_info()/dev_dbg()
 * of <umdev/device.h>, which prefix the device's name.
 */
#ifndef UMDEV_LOG_H
#define UMDEV_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

enum umdev_log_level {
	UMDEV_LOG_ERR = 3,
	UMDEV_LOG_WARNING = 4,
	UMDEV_LOG_NOTICE = 5,
	UMDEV_LOG_INFO = 6,
	UMDEV_LOG_DEBUG = 7,
};

/* Receives one formatted message, without a trailing newline. May be called from any thread. */
typedef void (*umdev_log_fn)(int level, const char *message, void *userdata);

/* Installs @fn (NULL: drop messages). Messages above @max_level are not formatted at all. */
void umdev_set_log_handler(umdev_log_fn fn, void *userdata, int max_level);

/* Formats (up to 1023 bytes) and hands one message to the handler. */
void umdev_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
