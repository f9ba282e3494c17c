/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The log handler of libumdev: one process-wide handler, installed by the program, that
 * receives every message of the library and of the drivers. See <umdev/log.h>.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include <umdev/log.h>

#include "util/log_level.h"

/* Guards the three fields below; held only to copy them, never while the handler runs. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static umdev_log_fn log_fn;
static void *log_userdata;
static int log_max_level = UMDEV_LOG_INFO;

void umdev_set_log_handler(umdev_log_fn fn, void *userdata, int max_level)
{
	pthread_mutex_lock(&log_lock);
	log_fn = fn;
	log_userdata = userdata;
	log_max_level = max_level;
	pthread_mutex_unlock(&log_lock);
}

bool umdev_log_enabled(int level)
{
	bool enabled;

	pthread_mutex_lock(&log_lock);
	enabled = log_fn && level <= log_max_level;
	pthread_mutex_unlock(&log_lock);
	return enabled;
}

void umdev_log(int level, const char *fmt, ...)
{
	char message[1024];
	umdev_log_fn fn;
	void *userdata;
	va_list ap;

	pthread_mutex_lock(&log_lock);
	fn = log_fn;
	userdata = log_userdata;
	if (level > log_max_level)
		fn = NULL;
	pthread_mutex_unlock(&log_lock);
	if (!fn)
		return;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	fn(level, message, userdata);
}
