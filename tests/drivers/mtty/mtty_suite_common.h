/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What mtty's suites through the core API (mtty_fixture.h) and over vfio-user
 * (mtty_vu_fixture.h) share: the config space a guest must see, a pty console opened as a
 * terminal program would, the lookup of an attribute in a driver's groups, and a guest's
 * UART state worth migrating, set up and checked through whatever reaches the ports'
 * registers. The same state script runs on both paths, so a migration over either must
 * carry the same state: FIFO contents with a wrapped ring, registers, the divisor, and on
 * port 1 an overrun, a latched THRE interrupt and unread modem-status deltas.
 */
#ifndef UMDEV_TESTS_MTTY_SUITE_COMMON_H
#define UMDEV_TESTS_MTTY_SUITE_COMMON_H

#include <stdint.h>

#include <umdev/device.h>

#include "mtty.h"

/* Config space as the kernel sample builds it, for a device of @ports ports. */
void mtty_expected_config(uint8_t c[MTTY_CONFIG_SIZE], unsigned int ports);

/*
 * Opens the pty whose path is the attribute text @path (a trailing newline is cut off),
 * non-blocking and raw; the fd, or -1 (checked).
 */
int pty_open_raw(char *path);

/* The attribute @name in the NULL-terminated @groups (in group @group if not NULL). */
struct attribute *attr_find(const struct attribute_group *const *groups, const char *group,
			    const char *name);

/* How a test reaches the registers of a device's ports (set by the test). */
struct uart_access {
	void *dev;
	unsigned int ports; /* 1 or 2 */
	uint8_t (*rd)(void *dev, unsigned int port, unsigned int reg);
	/* A write the device has applied when it returns. */
	void (*wr)(void *dev, unsigned int port, unsigned int reg, uint8_t val);
	/* A write that may be posted (applied before any later access); may be wr. */
	void (*wr_posted)(void *dev, unsigned int port, unsigned int reg, uint8_t val);
};

/* Gives every port a state worth migrating, different per port and @seed. */
void guest_state_make(const struct uart_access *a, unsigned int seed);
/* Checks what guest_state_make(@seed) left, as the guest reads it (and consumes it). */
void guest_state_check(const struct uart_access *a, unsigned int seed);

#endif
