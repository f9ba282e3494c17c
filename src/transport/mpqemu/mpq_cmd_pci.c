/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The requests a guest's PCI accesses become: PCI_CFGREAD and PCI_CFGWRITE (config space,
 * region 7), BAR_READ and BAR_WRITE (by bus address, decoded to a BAR region by
 * mpq_session.c), and DEVICE_RESET. Each is answered with RET: the value read, 0 for a
 * write or reset, or MPQ_RET_ERROR when the request is invalid or the driver fails it.
 *
 * Values travel in host byte order; the device's registers are little endian (PCI), so
 * the bytes of a region access are assembled and split explicitly. Everything is checked
 * against the region's size and rights before the driver sees it:
 *   - config: len 1, 2 or 4, and addr + len within the config region;
 *   - BAR: size 1, 2, 4 or 8 (what the proxy's memory regions issue), `memory` a C bool,
 *     addr + size not wrapping. An access that no BAR decodes goes nowhere, as on a bus:
 *     a read returns all ones of its size and a write is dropped; neither is an error.
 */
#include <errno.h>
#include <string.h>

#include "transport/mpqemu/mpq_private.h"
#include "util/macros.h"

static uint64_t le_value(const uint8_t *b, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void le_bytes(uint64_t v, uint8_t *b, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

/* ---- config space ---- */

/* The device-file position of a valid config access, or -errno. */
static int64_t cfg_pos(struct mpq_conn *conn, const struct mpq_pci_conf *c, uint32_t need)
{
	uint64_t pos;

	if (c->len != 1 && c->len != 2 && c->len != 4)
		return -EINVAL;
	if ((uint64_t)c->addr + (uint64_t)c->len > conn->cfg.size)
		return -EINVAL;
	if (!(conn->cfg.flags & need))
		return -EACCES;
	if (add_overflows_u64(conn->cfg.offset, c->addr, &pos) || pos > INT64_MAX)
		return -EINVAL; /* a driver's layout that cannot be addressed */
	return (int64_t)pos;
}

int mpq_cmd_cfg_read(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value)
{
	struct mpq_pci_conf c;
	uint8_t b[4];
	int64_t pos;
	ssize_t n;

	memcpy(&c, msg->payload, sizeof(c));
	pos = cfg_pos(conn, &c, VFIO_REGION_INFO_FLAG_READ);
	if (pos < 0)
		return (int)pos;
	n = vfio_device_read(conn->srv->vdev, b, (size_t)c.len, (uint64_t)pos);
	if (n != c.len)
		return n < 0 ? (int)n : -EIO;
	*value = le_value(b, (unsigned int)c.len);
	return 0;
}

int mpq_cmd_cfg_write(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value)
{
	struct mpq_pci_conf c;
	uint8_t b[4];
	int64_t pos;
	ssize_t n;

	memcpy(&c, msg->payload, sizeof(c));
	pos = cfg_pos(conn, &c, VFIO_REGION_INFO_FLAG_WRITE);
	if (pos < 0)
		return (int)pos;
	le_bytes(c.val, b, (unsigned int)c.len);
	n = vfio_device_write(conn->srv->vdev, b, (size_t)c.len, (uint64_t)pos);
	/* a BAR or COMMAND may have changed (even by a write that failed half-way) */
	mpq_bars_invalidate(conn);
	if (n != c.len)
		return n < 0 ? (int)n : -EIO;
	*value = 0;
	return 0;
}

/* ---- BARs ---- */

static int bar_check(const struct mpq_bar_access *a)
{
	uint64_t last;

	if (a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8)
		return -EINVAL;
	if (a->memory > 1)
		return -EINVAL;
	if (add_overflows_u64(a->addr, (uint64_t)a->size - 1, &last))
		return -EINVAL;
	return 0;
}

int mpq_cmd_bar_read(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value)
{
	struct mpq_bar_access a;
	unsigned int index;
	uint64_t pos;
	uint8_t b[8];
	ssize_t n;
	int ret;

	memcpy(&a, msg->payload, sizeof(a));
	ret = bar_check(&a);
	if (ret)
		return ret;
	if (mpq_bar_decode(conn, a.addr, a.size, a.memory, &index, &pos)) {
		/* nobody answers: the bus reads all ones */
		*value = a.size == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * a.size)) - 1;
		return 0;
	}
	if (!(conn->bar_regions[index].flags & VFIO_REGION_INFO_FLAG_READ))
		return -EACCES;
	n = vfio_device_read(conn->srv->vdev, b, a.size, pos);
	if (n != (ssize_t)a.size)
		return n < 0 ? (int)n : -EIO;
	*value = le_value(b, a.size);
	return 0;
}

int mpq_cmd_bar_write(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value)
{
	struct mpq_bar_access a;
	unsigned int index;
	uint64_t pos;
	uint8_t b[8];
	ssize_t n;
	int ret;

	memcpy(&a, msg->payload, sizeof(a));
	ret = bar_check(&a);
	if (ret)
		return ret;
	*value = 0;
	if (mpq_bar_decode(conn, a.addr, a.size, a.memory, &index, &pos))
		return 0; /* nobody answers: the write is lost, as on a bus */
	if (!(conn->bar_regions[index].flags & VFIO_REGION_INFO_FLAG_WRITE))
		return -EACCES;
	le_bytes(a.val, b, a.size);
	n = vfio_device_write(conn->srv->vdev, b, a.size, pos);
	if (n != (ssize_t)a.size)
		return n < 0 ? (int)n : -EIO;
	return 0;
}

/* ---- reset ---- */

int mpq_cmd_reset(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value)
{
	long ret;

	(void)msg;
	ret = vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_RESET, NULL);
	mpq_bars_invalidate(conn); /* a reset may restore config space */
	if (ret)
		return ret < 0 ? (int)ret : -EIO;
	*value = 0;
	return 0;
}
