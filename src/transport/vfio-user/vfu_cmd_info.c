/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The information commands: DEVICE_GET_INFO, DEVICE_GET_REGION_INFO (with capabilities, the
 * argsz retry protocol and the fd of mmappable regions), DEVICE_GET_REGION_IO_FDS and
 * DEVICE_GET_IRQ_INFO. Each asks the driver with the kernel's ioctl and structures, and
 * replies with exactly the payload the specification gives the command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/log.h>

#include "transport/vfio-user/vfu_private.h"

int vfu_cmd_get_info(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfu_device_info req, rep;
	long ret;

	memcpy(&req, msg->payload, sizeof(req));
	if (req.argsz < sizeof(rep))
		return -EINVAL;
	ret = vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_GET_INFO, &info);
	if (ret)
		return (int)ret;
	rep.argsz = sizeof(rep);
	rep.flags = info.flags & ~VFIO_DEVICE_FLAGS_CAPS; /* no device capabilities travel */
	rep.num_regions = info.num_regions;
	rep.num_irqs = info.num_irqs;
	return vfu_reply(conn, msg, &rep, sizeof(rep), NULL, 0, NULL, 0);
}

/*
 * The first sparse mmap area of the region, if its capability chain (in the first @len
 * bytes of @info) has one; false otherwise.
 */
static bool first_sparse_area(const struct vfio_region_info *info, size_t len,
			      struct vfio_region_sparse_mmap_area *area)
{
	const uint8_t *base = (const uint8_t *)info;
	uint32_t next = info->cap_offset;

	for (unsigned int hops = 0; next && hops < 32; hops++) {
		struct vfio_region_info_cap_sparse_mmap sparse;
		struct vfio_info_cap_header hdr;

		if (next < sizeof(*info) || next > len || len - next < sizeof(hdr))
			return false;
		memcpy(&hdr, base + next, sizeof(hdr));
		if (hdr.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			if (len - next < sizeof(sparse) + sizeof(*area))
				return false;
			memcpy(&sparse, base + next, sizeof(sparse));
			if (!sparse.nr_areas)
				return false;
			memcpy(area, base + next + sizeof(sparse), sizeof(*area));
			return true;
		}
		if (hdr.next <= next)
			return false;
		next = hdr.next;
	}
	return false;
}

/*
 * Asks the driver which fd backs the mmappable region: for its first sparse area if it has
 * sparse areas, else for the whole region. Stores where the region starts in the fd (the
 * client maps each area at that base plus the area's offset). -1 if the driver gives none.
 */
static int region_mmap_fd(struct vfu_conn *conn, const struct vfio_region_info *info,
			  size_t len, uint64_t *fd_base)
{
	struct vfio_region_sparse_mmap_area area = { 0, info->size };
	struct vm_area_struct vma;
	int ret;

	if (info->flags & VFIO_REGION_INFO_FLAG_CAPS) {
		if (!info->cap_offset)
			return -1; /* the capabilities did not fit: the client asks again */
		if (!first_sparse_area(info, len, &area))
			area = (struct vfio_region_sparse_mmap_area){ 0, info->size };
	}
	vma = (struct vm_area_struct){
		.vm_end = (unsigned long)area.size,
		.vm_pgoff = (unsigned long)((info->offset + area.offset) >> PAGE_SHIFT),
		.vm_flags = VM_SHARED | ((info->flags & VFIO_REGION_INFO_FLAG_READ) ? VM_READ : 0) |
			    ((info->flags & VFIO_REGION_INFO_FLAG_WRITE) ? VM_WRITE : 0),
	};
	ret = vfio_device_mmap(conn->srv->vdev, &vma);
	if (ret || vma.vm_fd < 0 || vma.vm_fd_offset < area.offset) {
		umdev_log(UMDEV_LOG_WARNING,
			  "vfio-user %s: region %u is mmappable but the driver gives no fd (%d)",
			  conn->srv->path, info->index, ret);
		return -1;
	}
	*fd_base = vma.vm_fd_offset - area.offset;
	return vma.vm_fd;
}

/* Asks the driver for the region's info in a buffer of @bufsz bytes (@info must hold them). */
static long ask_region_info(struct vfu_conn *conn, uint32_t index, struct vfio_region_info *info,
			    size_t bufsz)
{
	long ret;

	memset(info, 0, bufsz);
	info->argsz = (uint32_t)bufsz;
	info->index = index;
	ret = vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_GET_REGION_INFO, info);
	if (!ret && info->index != index)
		ret = -EIO;
	return ret;
}

int vfu_cmd_get_region_info(struct vfu_conn *conn, struct vfu_msg *msg)
{
	const size_t minsz = sizeof(struct vfu_region_info);
	struct vfio_region_info *info = NULL, head;
	struct vfu_region_info req;
	size_t need, len;
	uint64_t fd_offset = 0;
	int fd = -1;
	long ret;

	memcpy(&req, msg->payload, sizeof(req));
	if (req.argsz < minsz || req.index >= conn->num_regions)
		return -EINVAL;
	/* first the structure alone: with capabilities, the driver says how much they need */
	ret = ask_region_info(conn, req.index, &head, minsz);
	if (ret)
		return (int)ret;
	need = (head.flags & VFIO_REGION_INFO_FLAG_CAPS) ? head.argsz : minsz;
	if (need < minsz || need > VFU_MAX_ARGSZ)
		return -EIO; /* a driver that asks for what it cannot mean */

	conn->regions[req.index].known = true;
	conn->regions[req.index].flags = head.flags;
	conn->regions[req.index].size = head.size;
	conn->regions[req.index].offset = head.offset;

	if (need > minsz && req.argsz >= need) {
		/* room for the capabilities: ask again with exactly that much */
		info = malloc(need);
		if (!info)
			return -ENOMEM;
		ret = ask_region_info(conn, req.index, info, need);
		if (ret)
			goto out;
		if (!(info->flags & VFIO_REGION_INFO_FLAG_CAPS) || info->argsz != need ||
		    info->cap_offset < minsz || info->cap_offset >= need) {
			ret = -EIO; /* answers that change between two questions */
			goto out;
		}
		len = need;
	} else {
		/* no capabilities, or no room for them: the structure, with the size needed
		 * (the client asks again with it) */
		info = malloc(minsz);
		if (!info)
			return -ENOMEM;
		memcpy(info, &head, minsz);
		info->argsz = (uint32_t)need;
		info->cap_offset = 0;
		len = minsz;
	}

	if (info->flags & VFIO_REGION_INFO_FLAG_MMAP) {
		fd = region_mmap_fd(conn, info, len, &fd_offset);
		/* without an fd the region cannot be mapped, unless the client is only told
		 * to ask again with room for the capabilities */
		if (fd < 0 && (len == need || !(info->flags & VFIO_REGION_INFO_FLAG_CAPS)))
			info->flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
	}
	/* the client mmaps the fd at `offset` (plus a sparse area's offset) */
	info->offset = fd >= 0 ? fd_offset : 0;
	ret = vfu_reply(conn, msg, info, len, NULL, 0, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
out:
	free(info);
	return (int)ret;
}

int vfu_cmd_get_region_io_fds(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfu_region_io_fds req, rep;

	memcpy(&req, msg->payload, sizeof(req));
	if (req.argsz < sizeof(rep) || req.flags || req.count || req.index >= conn->num_regions)
		return -EINVAL;
	/* no driver offers ioeventfds yet: an empty list, no fds */
	rep.argsz = sizeof(rep);
	rep.flags = 0;
	rep.index = req.index;
	rep.count = 0;
	return vfu_reply(conn, msg, &rep, sizeof(rep), NULL, 0, NULL, 0);
}

int vfu_cmd_get_irq_info(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfio_irq_info info = { .argsz = sizeof(info) };
	struct vfu_irq_info req, rep;
	long ret;

	memcpy(&req, msg->payload, sizeof(req));
	if (req.argsz < sizeof(rep) || req.index >= conn->num_irqs)
		return -EINVAL;
	info.index = req.index;
	ret = vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_GET_IRQ_INFO, &info);
	if (ret)
		return (int)ret;
	rep.argsz = sizeof(rep);
	rep.flags = info.flags;
	rep.index = req.index;
	rep.count = info.count;
	return vfu_reply(conn, msg, &rep, sizeof(rep), NULL, 0, NULL, 0);
}
