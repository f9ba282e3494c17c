/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kstrtoul(buf, 0, &val) as the kernel applies it to sysfs writes (see strparse.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "util/strparse.h"

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

int kstrtoul_auto(const char *buf, size_t count, unsigned long *out)
{
	size_t i = 0, n = 0;
	unsigned base = 10;
	unsigned long val = 0;
	bool overflow = false;

	/* the kernel parses a NUL-terminated copy: a NUL ends the input */
	while (n < count && buf[n])
		n++;

	if (i < n && buf[i] == '+')
		i++;
	if (i + 2 < n && buf[i] == '0' && (buf[i + 1] == 'x' || buf[i + 1] == 'X') &&
	    digit_value(buf[i + 2]) < 16) {
		base = 16;
		i += 2;
	} else if (i < n && buf[i] == '0') {
		base = 8;
	}

	size_t first_digit = i;

	for (; i < n && digit_value(buf[i]) < (int)base; i++) {
		unsigned d = (unsigned)digit_value(buf[i]);

		if (val > (ULONG_MAX - d) / base)
			overflow = true;
		val = val * base + d;
	}
	if (i == first_digit)
		return -EINVAL;
	if (i < n && buf[i] == '\n')
		i++;
	if (i != n)
		return -EINVAL;
	if (overflow)
		return -ERANGE;
	*out = val;
	return 0;
}
