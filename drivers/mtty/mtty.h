/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty as its users see it: the names of its parent, types and attributes, the PCI device a
 * client (a VMM) is given, and the migration stream. docs/drivers/mtty.md explains all of it;
 * the driver's files include this header, and so do its tests.
 *
 * The device: a PCI serial card (class 0x0700, prog-if 16550) with one 16550A UART per port,
 * port n behind the 8-byte I/O BAR n. Device-file offsets put the region index in bits 40
 * and up, as the kernel's sample does:
 *   7 CONFIG  256 bytes, read/write (the kernel sample reports 0xff bytes: see mtty.md)
 *   0 BAR0    8 bytes, read/write: port 0's registers (uart16550.h)
 *   1 BAR1    8 bytes on mtty-2 (port 1), size 0 on mtty-1
 *   others    size 0, no access
 */
#ifndef UMDEV_DRIVERS_MTTY_H
#define UMDEV_DRIVERS_MTTY_H

#include <stddef.h>
#include <stdint.h>

/* ---- parent, types, attributes ---- */

#define MTTY_PARENT_NAME "mtty" /* the parent device, of class "mtty" */
#define MTTY_TYPE_1 "mtty-1"	/* "Single port serial" */
#define MTTY_TYPE_2 "mtty-2"	/* "Dual port serial" */
#define MTTY_MAX_PORTS 2	/* ports of one device */
/* The ports that all devices of the parent share (available_instances = free / ports). */
#define MTTY_POOL_PORTS 24

/*
 * Per-device attributes, in the group "vendor": sample_mdev_dev, and per port n:
 *   port<n>_backend  read/write: "loopback", "pty" or "unix:<absolute path>"
 *   port<n>_pty      read: the pty's path while the backend is "pty", else empty
 * Both answer -ENODEV for port 1 of an mtty-1 device.
 */
#define MTTY_BACKEND_LOOPBACK "loopback"
#define MTTY_BACKEND_PTY "pty"
#define MTTY_BACKEND_UNIX_PREFIX "unix:"

/*
 * The driver's parameters (the kernel's module parameters): the backend that every new
 * device's port n gets, in the syntax of port<n>_backend; read once when the driver starts.
 */
#define MTTY_ENV_PORT0_BACKEND "UMDEV_MTTY_PORT0_BACKEND"
#define MTTY_ENV_PORT1_BACKEND "UMDEV_MTTY_PORT1_BACKEND"

/* ---- regions ---- */

#define MTTY_REGION_SHIFT 40
#define MTTY_REGION_OFFSET(index) ((uint64_t)(index) << MTTY_REGION_SHIFT)
#define MTTY_REGION_MASK ((1ULL << MTTY_REGION_SHIFT) - 1)

#define MTTY_CONFIG_SIZE 256
#define MTTY_BAR_SIZE 8 /* an I/O BAR: the UART's eight registers */

/* ---- PCI config space (mtty_config.c has the whole layout) ---- */

#define MTTY_PCI_VENDOR_ID 0x4348
#define MTTY_PCI_DEVICE_ID 0x3253
#define MTTY_PCI_REVISION 0x10
#define MTTY_PCI_CLASS 0x070002u /* simple communications, serial, 16550 */

/* ---- migration stream (VFIO migration v2) ---- */

/*
 * The kernel sample's format, byte for byte on x86-64 (its struct mtty_data): a header, then
 * one struct mtty_mig_port per port. A PRE_COPY stream holds the header only; STOP_COPY
 * adds the ports. All fields little endian.
 */
#define MTTY_MIG_MAGIC 0x7e9d09898c3e2c4eull
#define MTTY_MIG_MAJOR 1
#define MTTY_MIG_MINOR 0

struct mtty_mig_header {
	uint64_t magic;
	uint32_t major;
	uint32_t minor;
	uint32_t nr_ports; /* 1 or 2: the device's own */
	uint32_t flags;	   /* 0 */
};
_Static_assert(sizeof(struct mtty_mig_header) == 24, "mtty_mig_header");

/*
 * One port: the kernel's struct serial_port with its padding. uart_reg[] is indexed by
 * register offset; the kernel fills IER, LCR, MCR and SCR and leaves the other four 0. mtty
 * also keeps, in two of those, state the kernel does not model: uart_reg[UART_IIR] holds
 * UART_IIR_THRI while the THRE interrupt is latched, uart_reg[UART_MSR] the MSR delta bits
 * not yet read. The FIFO is a ring: head is where the next byte goes, tail where the next
 * one comes from.
 */
struct mtty_mig_port {
	uint8_t uart_reg[8];
	uint8_t fifo[16];
	uint8_t head;
	uint8_t tail;
	uint8_t count;
	uint8_t dlab;	 /* 0 or 1: LCR.DLAB */
	uint8_t overrun; /* 0 or 1: LSR.OE */
	uint8_t pad0;	 /* 0 */
	uint16_t divisor;
	uint8_t fcr;
	uint8_t max_fifo_size;	    /* 16 with FIFOs, 1 without */
	uint8_t intr_trigger_level; /* mtty writes 1; any value up to max_fifo_size loads */
	uint8_t pad1;		    /* 0 */
};
_Static_assert(sizeof(struct mtty_mig_port) == 36, "mtty_mig_port");
_Static_assert(offsetof(struct mtty_mig_port, fifo) == 8, "fifo");
_Static_assert(offsetof(struct mtty_mig_port, head) == 24, "head");
_Static_assert(offsetof(struct mtty_mig_port, dlab) == 27, "dlab");
_Static_assert(offsetof(struct mtty_mig_port, divisor) == 30, "divisor");
_Static_assert(offsetof(struct mtty_mig_port, fcr) == 32, "fcr");
_Static_assert(offsetof(struct mtty_mig_port, intr_trigger_level) == 34, "trigger");

#define MTTY_MIG_SIZE(nr_ports) \
	(sizeof(struct mtty_mig_header) + (nr_ports) * sizeof(struct mtty_mig_port))

#endif
