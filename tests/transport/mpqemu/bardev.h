/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bardev: a small PCI device for the mpqemu suites, registered directly as a vfio device
 * (no mdev), with the BARs that null and mtty lack and knobs to misbehave, so that the
 * server's BAR decoding and its handling of a failing driver can be checked:
 *
 *   BAR0+1  64-bit memory BAR, 4 KiB (BAR1 holds its upper half; region 1 has size 0)
 *   BAR2    I/O BAR, 16 bytes
 *   BAR3    32-bit memory BAR, 256 bytes, a read-only region (no WRITE flag)
 *   BAR4-5  none
 *   config  256 bytes (or knobs.cfg_size): vendor 0x1234, device 0x0bad; COMMAND's I/O and
 *           memory decode bits, the BAR address bits and the interrupt line are writable
 *
 * Every BAR stores what is written to it. No interrupts, no DMA. A reset clears the BARs and
 * restores config space.
 */
#ifndef UMDEV_TESTS_BARDEV_H
#define UMDEV_TESTS_BARDEV_H

#include <stdbool.h>
#include <stdint.h>

#include <umdev/vfio.h>

#define BARDEV_ID 0x0bad1234u /* config dword 0 */
#define BARDEV_BAR0_SIZE 4096
#define BARDEV_BAR2_SIZE 16
#define BARDEV_BAR3_SIZE 256

struct bardev_knobs {
	bool not_pci;	   /* GET_INFO without VFIO_DEVICE_FLAGS_PCI */
	uint32_t cfg_size; /* the config region's size; 0: 256 */
	bool fail_io;	   /* BAR reads and writes fail with -EIO */
	bool fail_reset;   /* VFIO_DEVICE_RESET fails with -EIO */
};

/* A registered device named @name, or NULL (checked). bardev_destroy() unregisters it and
 * frees it; every other reference must have been dropped by then. */
struct vfio_device *bardev_create(const char *name, const struct bardev_knobs *knobs);
void bardev_destroy(struct vfio_device *vdev);

/* The bytes of BAR @index's storage (0, 2 or 3), for checks. */
uint8_t *bardev_bar(struct vfio_device *vdev, unsigned int index);

#endif
