/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SYNC_SYSMEM: the guest's RAM, as the proxy's memory listener sees it after every change
 * of the memory map (about a hundred times per boot). Each message is the whole picture:
 * section i maps [offsets[i], +sizes[i]) of fd i at guest physical address gpas[i], and
 * the session's DMA space is made to hold exactly those sections, read-write. Drivers
 * reach them with vfio_dma_rw() and vfio_pin_pages() (<umdev/vfio.h>).
 *
 * Most messages repeat the layout. A section that is already mapped from the same file
 * (device and inode) at the same offset is kept, so that pages a driver pinned in it stay
 * pinned; sections that went are unmapped (their pins released through the driver's
 * dma_unmap first), new ones mapped, and every received fd is closed afterwards (the
 * mapping keeps the memory).
 *
 * The message has no reply. Whatever is wrong with it (the sections do not match the fds,
 * a size or offset wraps, sections overlap, an fd cannot be mapped read-write) leaves no
 * guest memory reachable at all: a stale or partial layout would be worse than none, and the
 * next good message restores it. Zero-size sections are skipped, and so are sections that
 * are not made of whole pages (they cannot be mapped; the rest of the layout can).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <umdev/log.h>

#include "transport/mpqemu/mpq_private.h"
#include "util/macros.h"

void mpq_sysmem_drop(struct mpq_conn *conn)
{
	if (conn->space)
		vfio_dma_unmap_all(conn->space);
	conn->nsysmem = 0;
}

static bool same_section(const struct mpq_section *a, const struct mpq_section *b)
{
	return a->gpa == b->gpa && a->size == b->size && a->offset == b->offset &&
	       a->dev == b->dev && a->ino == b->ino;
}

/*
 * The sections of @m with their fds (@fds, @nfds of them) that can be mapped, in
 * @want/@want_fd; their count, or -errno for a message that cannot be honoured. A section
 * that is not made of whole pages is valid but cannot be mapped: it is left out (*@skipped),
 * as QEMU's own VFIO listener leaves out the sections it cannot map.
 */
static int parse_sections(const struct mpq_sync_sysmem *m, const int *fds, size_t nfds,
			  struct mpq_section *want, int *want_fd, size_t *skipped)
{
	uint64_t first[MPQ_MAX_FDS], last[MPQ_MAX_FDS];
	size_t n = 0, nranges = 0;

	*skipped = 0;
	for (size_t i = 0; i < MPQ_MAX_FDS; i++) {
		uint64_t gpa = m->gpas[i], size = m->sizes[i], end;
		struct stat st;

		if (i >= nfds) {
			/* entries past the fds are unused; QEMU leaves them zero */
			if (gpa || size || m->offsets[i])
				return -EINVAL;
			continue;
		}
		if (!size)
			continue;
		if (m->offsets[i] < 0 || size > (uint64_t)INT64_MAX)
			return -EINVAL;
		if (add_overflows_u64(gpa, size - 1, &last[nranges]) ||
		    add_overflows_u64((uint64_t)m->offsets[i], size, &end) ||
		    end > (uint64_t)INT64_MAX)
			return -EOVERFLOW;
		/* sections of one address space never overlap, mapped or not */
		for (size_t k = 0; k < nranges; k++)
			if (gpa <= last[k] && first[k] <= last[nranges])
				return -EEXIST;
		first[nranges++] = gpa;
		if (!IS_ALIGNED(gpa | size | (uint64_t)m->offsets[i], PAGE_SIZE)) {
			(*skipped)++;
			continue;
		}
		if (fstat(fds[i], &st) < 0)
			return -errno;
		want[n] = (struct mpq_section){ .gpa = gpa, .size = size,
						.offset = (uint64_t)m->offsets[i],
						.dev = st.st_dev, .ino = st.st_ino };
		want_fd[n] = fds[i];
		n++;
	}
	return (int)n;
}

int mpq_cmd_sync_sysmem(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value)
{
	struct mpq_section want[MPQ_MAX_FDS];
	int want_fd[MPQ_MAX_FDS], n, ret = 0;
	struct mpq_sync_sysmem m;
	size_t kept = 0, skipped;

	(void)value;
	memcpy(&m, msg->payload, sizeof(m));
	n = parse_sections(&m, msg->fds, msg->nfds, want, want_fd, &skipped);
	if (n < 0) {
		ret = n;
		goto err_drop;
	}
	if (skipped && !conn->warned_unaligned) {
		umdev_log(UMDEV_LOG_WARNING,
			  "mpqemu %s: %zu guest RAM sections are not page-aligned; the device "
			  "cannot reach them", conn->srv->path, skipped);
		conn->warned_unaligned = true; /* QEMU resends the layout on every change */
	}
	/* the sections that went, first: what stays never overlaps them */
	for (size_t i = 0; i < conn->nsysmem; i++) {
		const struct mpq_section *cur = &conn->sysmem[i];
		bool wanted = false;

		for (int k = 0; k < n && !wanted; k++)
			wanted = same_section(cur, &want[k]);
		if (wanted) {
			conn->sysmem[kept++] = *cur;
			continue;
		}
		if (vfio_dma_unmap(conn->space, cur->gpa, cur->size) < 0) {
			ret = -EIO; /* the table and the space disagree: start over */
			goto err_drop;
		}
	}
	conn->nsysmem = kept;
	for (int k = 0; k < n; k++) {
		bool mapped = false;

		for (size_t i = 0; i < kept && !mapped; i++)
			mapped = same_section(&conn->sysmem[i], &want[k]);
		if (mapped)
			continue;
		ret = vfio_dma_map(conn->space, want[k].gpa, want[k].size, want_fd[k],
				   want[k].offset, IOMMU_READ | IOMMU_WRITE);
		if (ret)
			goto err_drop;
		conn->sysmem[conn->nsysmem++] = want[k];
	}
	return 0;

err_drop:
	umdev_log(UMDEV_LOG_WARNING,
		  "mpqemu %s: SYNC_SYSMEM with %zu fds cannot be honoured (%d); guest memory "
		  "is unreachable until the next one", conn->srv->path, msg->nfds, ret);
	mpq_sysmem_drop(conn);
	return ret;
}
