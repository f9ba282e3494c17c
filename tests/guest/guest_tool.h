/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest_tool.h: what the parts of the guest tool share (tests/guest/, docs/guest-tests.md).
 * guest_card.c finds a PCI card and its serial ports the way the guest's kernel shows them
 * (sysfs, TIOCGSERIAL) and moves bytes through a port; guest_tool.c makes the checks of the
 * guest tests; guest_demo.c prints the demo's lspci-style description and loopback.
 */
#ifndef UMDEV_TESTS_GUEST_TOOL_H
#define UMDEV_TESTS_GUEST_TOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/serial.h>

#define MTTY_VENDOR 0x4348
#define MTTY_DEVICE 0x3253
#define MTTY_REVISION 0x10
#define MTTY_CLASS 0x070002 /* serial controller, 16550 compatible */

#define MAX_PORTS 8
#define MAX_BARS 6
#define IORESOURCE_IO 0x100 /* the flags column of a PCI device's sysfs "resource" */

/* What the host asked for (the kernel command line's "umdev.NAME=VALUE" words). */
struct options {
	bool poll, poweroff, unplug, demo;
	unsigned long bytes, ports, timeout_s, latency;
};

struct port {
	char name[32]; /* ttyS<n> */
	struct serial_struct ss;
	bool have_ss;
};

/* A PCI device as /sys/bus/pci/devices/<bdf>/ shows it, with the ttyS ports bound to it. */
struct pci_dev {
	char bdf[64];
	char dir[PATH_MAX];
	unsigned long vendor, device, revision, class_code, sub_vendor, sub_device, irq;
	char driver[64];
	unsigned long bar_start[MAX_BARS], bar_end[MAX_BARS], bar_flags[MAX_BARS];
	struct port port[MAX_PORTS];
	unsigned int nports;
};

/* guest_tool.c: one line on the console, in one write. */
void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* guest_card.c */
double now_s(void);
double uptime_s(void);
unsigned long read_number(const char *dir, const char *file);
int find_pci_dev(unsigned long vendor, unsigned long device, struct pci_dev *ret);
void find_ports(struct pci_dev *d);
unsigned long port_address(const struct port *p);
unsigned long long irq_count(unsigned long irq);
int port_set_polled(struct port *p);
int port_exchange(const struct port *p, const uint8_t *tx, uint8_t *rx, size_t n,
		  unsigned long timeout_s, double *secs, char *why, size_t whylen);

/* guest_demo.c */
void demo(const struct options *o);

#endif
