/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest's UART state worth migrating, set up and checked through whatever reaches the
 * ports' registers: the core API (test_mtty_mig.c) or vfio-user (test_mtty_vu_mig.c). The
 * same script runs on both, so a migration over either path must carry the same state:
 * FIFO contents with a wrapped ring, registers, the divisor, and on port 1 an overrun, a
 * latched THRE interrupt and unread modem-status deltas.
 */
#ifndef UMDEV_TESTS_MTTY_GUEST_STATE_H
#define UMDEV_TESTS_MTTY_GUEST_STATE_H

#include <stdint.h>

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
