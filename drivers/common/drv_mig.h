/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VFIO migration v2 for a driver whose device state fits one buffer (a header, then a
 * payload): the saving and resuming streams, and the arcs of the core's state table with
 * STOP_COPY, P2P and PRE_COPY, as the kernel's mtty sample carries them out. Used by mtty
 * (drivers/mtty/mtty_mig.c) and the test device dmatest (tests/transport/dmatest/).
 *
 * The arcs: RUNNING <-> RUNNING_P2P <-> STOP and PRE_COPY <-> PRE_COPY_P2P only start or
 * stop the device; RUNNING(_P2P) -> PRE_COPY(_P2P) opens a saving stream with the header
 * alone (VFIO_MIG_GET_PRECOPY_INFO reports its unread bytes as initial_bytes);
 * PRE_COPY_P2P -> STOP_COPY appends the payload to it; STOP -> STOP_COPY opens a saving
 * stream with both; STOP -> RESUMING opens a write-only stream, checked header-first as it
 * is written and loaded whole by RESUMING -> STOP (-EINVAL, the device staying in RESUMING,
 * for a short stream or one its driver refuses). Leaving a saving state, and loading,
 * disable the streams: their reads and writes fail with -ENODEV.
 *
 * A stream does not point back at the device: the core holds its own reference and the
 * client reads or writes it on its own thread, under the stream's lock. struct drv_mig
 * keeps the device's references to its open streams. Every drv_mig_* function but
 * drv_mig_state_runs() runs under the driver's device lock; lock order: that lock, then a
 * stream's lock.
 */
#ifndef UMDEV_DRIVERS_COMMON_DRV_MIG_H
#define UMDEV_DRIVERS_COMMON_DRV_MIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umdev/vfio.h>

/* What a driver tells drv_mig about its stream format and its device (set by the driver). */
struct drv_mig_ops {
	size_t header_size;
	/* Writes the header for a device of @variant (struct drv_mig.variant). */
	void (*header_put)(uint8_t *hdr, unsigned int variant);
	/*
	 * 0, or the -errno a resuming write gets once the header is complete and not for a
	 * device of @variant. Runs on the client's thread: it sees the stream, not the device.
	 */
	int (*header_check)(const uint8_t *hdr, unsigned int variant);
	/* Writes the payload (stream size - header_size bytes) from the device @dev. */
	void (*payload_put)(void *dev, uint8_t *payload);
	/* Loads a payload into @dev: 0, or -EINVAL with nothing changed. */
	int (*payload_load)(void *dev, const uint8_t *payload);
	/* Optional: an arc from a running state to a stopped one is about to be taken. */
	void (*stopping)(void *dev);
};

struct drv_mig {
	const struct drv_mig_ops *ops; /* set by drv_mig_init(), then read-only */
	size_t stream_size;	       /* header and payload; set by drv_mig_init() */
	unsigned int variant;	       /* given to header_put and header_check */
	enum vfio_device_mig_state state;
	struct vfio_mig_file *saving;	/* our references to the open streams, or NULL */
	struct vfio_mig_file *resuming;
};

/* A device in RUNNING with no stream. */
void drv_mig_init(struct drv_mig *m, const struct drv_mig_ops *ops, size_t stream_size,
		  unsigned int variant);
/* True for the states where a device runs (may DMA, receive and interrupt). */
bool drv_mig_state_runs(enum vfio_device_mig_state state);
bool drv_mig_running(const struct drv_mig *m);
/* Back to RUNNING with the streams disabled (reset, open, close, remove). */
void drv_mig_reset(struct drv_mig *m);
/*
 * migration_set_state's work: walks the core's path (vfio_mig_get_next_state()) from the
 * current state to @new_state one arc at a time, calling the driver's ops with @dev. Returns
 * the stream the last arc opens (the core's reference), NULL, or ERR_PTR(-errno), the
 * device then staying in the state it reached.
 */
struct vfio_mig_file *drv_mig_set_state(struct drv_mig *m, struct vfio_device *vdev,
					enum vfio_device_mig_state new_state, void *dev);

#endif
