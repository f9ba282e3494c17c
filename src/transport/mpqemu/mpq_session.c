/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A client's session with the device, and where bus addresses go.
 *
 * mpqemu has no handshake: a session starts when the connection is accepted. The device is
 * opened with a fresh DMA address space (one client per device across all transports: a
 * device open elsewhere refuses the connection), and the driver describes, once, what the
 * session needs: that it is a PCI device, its config region (7) and BAR regions (0-5), and
 * whether INTx takes an eventfd. Closing the session unwires INTx, closes the device and
 * releases every guest-memory mapping.
 *
 * The proxy sends BAR accesses by bus address (the guest's I/O port or physical address),
 * not by BAR, so the server decodes them as the device would on a bus: a BAR claims
 * [base, base + region size) of its space when config space has the space's decode bit
 * in COMMAND set, with the base and space from the BAR register (a 64-bit memory BAR takes
 * its upper half from the next one). The device's config space is the truth: the table is
 * read from it through the driver, and read again after every config write and reset,
 * which are the only ways the client changes it.
 */
#include <errno.h>
#include <string.h>

#include <umdev/log.h>

#include "transport/mpqemu/mpq_private.h"
#include "util/macros.h"

static int get_region(struct mpq_conn *conn, uint32_t index, struct mpq_region *r)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };
	long ret = vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_GET_REGION_INFO, &info);

	memset(r, 0, sizeof(*r));
	if (ret)
		return (int)ret;
	if (!info.size)
		return 0;
	r->flags = info.flags;
	r->size = info.size;
	r->offset = info.offset;
	return 0;
}

/* The device's INTx takes a trigger eventfd. */
static bool has_intx(struct mpq_conn *conn, uint32_t num_irqs)
{
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = VFIO_PCI_INTX_IRQ_INDEX };

	if (num_irqs <= VFIO_PCI_INTX_IRQ_INDEX ||
	    vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_GET_IRQ_INFO, &irq))
		return false;
	return irq.count >= 1 && (irq.flags & VFIO_IRQ_INFO_EVENTFD);
}

int mpq_session_open(struct mpq_conn *conn)
{
	struct vfio_device *vdev = conn->srv->vdev;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	int ret;

	ret = vfio_dma_space_create(&conn->space);
	if (ret)
		return ret;
	ret = vfio_device_open(vdev, conn->space);
	if (ret)
		goto err_destroy_space;
	conn->open = true;
	ret = (int)vfio_device_ioctl(vdev, VFIO_DEVICE_GET_INFO, &info);
	if (ret)
		goto err_close;
	/* the proxy is a PCI function: config space is all it has to go on */
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		ret = -ENODEV;
		goto err_close;
	}
	ret = get_region(conn, VFIO_PCI_CONFIG_REGION_INDEX, &conn->cfg);
	if (ret)
		goto err_close;
	if (conn->cfg.size < MPQ_CFG_MIN_SIZE || (conn->cfg.flags & rw) != rw) {
		ret = -ENODEV;
		goto err_close;
	}
	for (uint32_t i = 0; i < MPQ_NUM_BARS; i++)
		if (i >= info.num_regions || get_region(conn, i, &conn->bar_regions[i]))
			memset(&conn->bar_regions[i], 0, sizeof(conn->bar_regions[i]));
	conn->intx_capable = has_intx(conn, info.num_irqs);
	conn->bars_valid = false;
	return 0;

err_close:
	umdev_log(UMDEV_LOG_WARNING, "mpqemu %s: the device cannot be served: %d",
		  conn->srv->path, ret);
	vfio_device_close(vdev);
	conn->open = false;
err_destroy_space:
	vfio_dma_space_destroy(conn->space);
	conn->space = NULL;
	return ret;
}

void mpq_session_close(struct mpq_conn *conn)
{
	/* INTx first: tearing it down is a request to the open device */
	mpq_irq_release(conn);
	if (conn->open) {
		vfio_device_close(conn->srv->vdev);
		conn->open = false;
	}
	vfio_dma_space_destroy(conn->space); /* every guest-memory mapping goes with it */
	conn->space = NULL;
	conn->nsysmem = 0;
}

/* ---- BAR decoding ---- */

/* A little-endian config register of @len bytes at @off. 0 or -errno. */
static int cfg_reg(struct mpq_conn *conn, uint32_t off, unsigned int len, uint32_t *val)
{
	uint8_t b[4];
	ssize_t n;

	if (off + len > conn->cfg.size)
		return -EINVAL;
	n = vfio_device_read(conn->srv->vdev, b, len, conn->cfg.offset + off);
	if (n != (ssize_t)len)
		return n < 0 ? (int)n : -EIO;
	*val = 0;
	for (unsigned int i = 0; i < len; i++)
		*val |= (uint32_t)b[i] << (8 * i);
	return 0;
}

void mpq_bars_invalidate(struct mpq_conn *conn)
{
	conn->bars_valid = false;
}

/* Reads where each BAR decodes now. A config read that fails leaves the table invalid
 * (nothing decodes, and the next access tries again). */
static void bars_refresh(struct mpq_conn *conn)
{
	uint32_t command = 0;

	memset(conn->bars, 0, sizeof(conn->bars));
	if (cfg_reg(conn, MPQ_PCI_COMMAND, 2, &command))
		return;
	for (unsigned int i = 0; i < MPQ_NUM_BARS; i++) {
		const struct mpq_region *r = &conn->bar_regions[i];
		uint32_t off = MPQ_PCI_BAR0 + 4 * i, v = 0, hi = 0;
		unsigned int first = i; /* a 64-bit BAR is decoded under its first index */
		uint64_t base, last;
		bool io;

		if (!r->size || cfg_reg(conn, off, 4, &v))
			continue;
		io = v & MPQ_PCI_BAR_IO;
		if (io) {
			if (!(command & MPQ_PCI_COMMAND_IO))
				continue;
			base = v & MPQ_PCI_BAR_IO_MASK;
		} else {
			switch (v & MPQ_PCI_BAR_MEM_TYPE_MASK) {
			case 0x0: /* 32-bit */
			case 0x2: /* 32-bit, below 1 MiB (legacy) */
				break;
			case MPQ_PCI_BAR_MEM_TYPE_64:
				/* the next register is the upper half; it is not a BAR itself */
				if (i + 1 == MPQ_NUM_BARS || cfg_reg(conn, off + 4, 4, &hi))
					continue;
				i++;
				break;
			default: /* reserved */
				continue;
			}
			if (!(command & MPQ_PCI_COMMAND_MEMORY))
				continue;
			base = (v & MPQ_PCI_BAR_MEM_MASK) | (uint64_t)hi << 32;
		}
		if (add_overflows_u64(base, r->size - 1, &last))
			continue;
		conn->bars[first] = (struct mpq_bar){ .decodes = true, .io = io, .base = base };
	}
	conn->bars_valid = true;
}

int mpq_bar_decode(struct mpq_conn *conn, uint64_t addr, uint32_t size, bool memory,
		   unsigned int *index, uint64_t *pos)
{
	uint64_t last;

	if (!size || add_overflows_u64(addr, size - 1, &last))
		return -ENOENT;
	if (!conn->bars_valid)
		bars_refresh(conn);
	for (unsigned int i = 0; i < MPQ_NUM_BARS; i++) {
		const struct mpq_bar *b = &conn->bars[i];
		const struct mpq_region *r = &conn->bar_regions[i];

		if (!b->decodes || b->io == memory || addr < b->base ||
		    last - b->base > r->size - 1)
			continue;
		if (add_overflows_u64(r->offset, addr - b->base, pos))
			continue;
		*index = i;
		return 0;
	}
	return -ENOENT;
}
