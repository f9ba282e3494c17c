/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Throughput of a device's access to guest memory through the DMA translation API, against
 * memcpy() between the same buffers (the floor copies through the very mapping the DMA space
 * made of the client's memfd): vfio_dma_rw() reads and writes; access through pages pinned
 * once with vfio_pin_pages() (then a plain copy: the point of pinning); and a pin, copy and
 * unpin per chunk, as a driver that pins for each transfer does. 4 KiB and 1 MiB chunks over
 * a 4 MiB window of a 64 MiB memfd, the guest RAM of a vfio-user client. The figures are
 * taken in interleaved slices so that frequency changes hit them alike. Prints GB/s and the
 * ratio to the floor.
 *
 *   bench_dma [SECONDS_PER_FIGURE]
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_dma.h>

#include "bench_util.h"

#define GUEST_SIZE (64u << 20)
#define GUEST_IOVA 0x100000000ull
/* the part of guest memory the copies cycle over (kept within the last-level cache, so that
 * the API's cost is what differs, not the memory's) */
#define WINDOW (4u << 20)

struct bench_dev {
	struct vfio_device vdev;
};

static void bench_dma_unmap(struct vfio_device *vdev, uint64_t iova, uint64_t length)
{
	(void)vdev;
	(void)iova;
	(void)length;
}

static const struct vfio_device_ops bench_ops = { .name = "bench", .dma_unmap = bench_dma_unmap };

enum method { METHOD_MEMCPY, METHOD_DMA_RW, METHOD_PINNED, METHOD_PIN_EACH, METHOD_COUNT };

/* Moves @chunk-byte pieces with @method for about @ns; adds bytes and time to @acc. */
static int run_slice(enum method m, bool write, size_t chunk, uint64_t ns,
		     struct vfio_device *vdev, uint8_t *guest, uint8_t *local, double acc[2])
{
	static struct page *pages[VFIO_PIN_PAGES_MAX_ENTRIES];
	uint64_t bytes = 0, t0 = bench_now_ns(), now;
	size_t slots = WINDOW / chunk;
	size_t i = 0;

	do {
		for (int k = 0; k < 16; k++, i = (i + 1) % slots) {
			size_t off = i * chunk;
			uint8_t *g = guest + off;
			int npages = (int)(chunk / PAGE_SIZE);

			switch (m) {
			case METHOD_DMA_RW:
				if (vfio_dma_rw(vdev, GUEST_IOVA + off, local + off, chunk, write))
					return -1;
				break;
			case METHOD_PIN_EACH:
				for (int p = 0; p < npages; p += VFIO_PIN_PAGES_MAX_ENTRIES) {
					int n = npages - p < VFIO_PIN_PAGES_MAX_ENTRIES
							? npages - p
							: VFIO_PIN_PAGES_MAX_ENTRIES;
					uint64_t iova = GUEST_IOVA + off + (uint64_t)p * PAGE_SIZE;

					if (vfio_pin_pages(vdev, iova, n, write ? IOMMU_WRITE : IOMMU_READ,
							   pages) != n)
						return -1;
					/* contiguous in the mapping: one copy */
					g = page_address(pages[0]);
					if (write)
						memcpy(g, local + off + (size_t)p * PAGE_SIZE,
						       (size_t)n * PAGE_SIZE);
					else
						memcpy(local + off + (size_t)p * PAGE_SIZE, g,
						       (size_t)n * PAGE_SIZE);
					vfio_unpin_pages(vdev, iova, n);
				}
				break;
			default: /* the floor, and access through the window pinned once */
				if (write)
					memcpy(g, local + off, chunk);
				else
					memcpy(local + off, g, chunk);
				break;
			}
			bytes += chunk;
		}
		__asm__ volatile("" ::: "memory");
		now = bench_now_ns();
	} while (now - t0 < ns);
	acc[0] += (double)bytes;
	acc[1] += (double)(now - t0) / 1e9;
	return 0;
}

/* Pins the whole window; the pages are contiguous in the memfd mapping. */
static uint8_t *pin_window(struct vfio_device *vdev)
{
	static struct page *pages[VFIO_PIN_PAGES_MAX_ENTRIES];
	uint8_t *base = NULL;

	for (uint64_t off = 0; off < WINDOW; off += VFIO_PIN_PAGES_MAX_ENTRIES * PAGE_SIZE) {
		if (vfio_pin_pages(vdev, GUEST_IOVA + off, VFIO_PIN_PAGES_MAX_ENTRIES,
				   IOMMU_READ | IOMMU_WRITE, pages) != VFIO_PIN_PAGES_MAX_ENTRIES)
			return NULL;
		if (!base)
			base = page_address(pages[0]);
	}
	return base;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 0.5;
	struct vfio_dma_space *space;
	struct bench_dev *bd;
	struct device dev = { 0 };
	uint8_t *guest, *local;
	int memfd;

	device_initialize(&dev);
	dev_set_name(&dev, "bench-dma");
	bd = vfio_alloc_device(bench_dev, vdev, &dev, &bench_ops);
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (IS_ERR(bd) || memfd < 0 || ftruncate(memfd, GUEST_SIZE) ||
	    vfio_register_emulated_iommu_dev(&bd->vdev) || vfio_dma_space_create(&space) ||
	    vfio_dma_map(space, GUEST_IOVA, GUEST_SIZE, memfd, 0, IOMMU_READ | IOMMU_WRITE) ||
	    vfio_device_open(&bd->vdev, space)) {
		fprintf(stderr, "bench_dma: set-up failed\n");
		return 1;
	}
	local = aligned_alloc(4096, WINDOW);
	if (!local)
		return 1;
	memset(local, 0xa5, WINDOW);
	/* the window pinned once: its address is the DMA space's own mapping of the memfd,
	 * which the floor copies through too */
	guest = pin_window(&bd->vdev);
	if (!guest) {
		fprintf(stderr, "bench_dma: pinning failed\n");
		return 1;
	}
	memset(guest, 0x5a, WINDOW);
	bench_pin_self(0);

	printf("guest-memory access, %.1f s per figure, over a %u MiB window of a memfd mapping\n",
	       seconds, WINDOW >> 20);
	static const size_t chunks[] = { 4096, 1u << 20 };
	for (size_t c = 0; c < 2; c++) {
		for (int write = 0; write < 2; write++) {
			double acc[METHOD_COUNT][2] = { { 0 } }, gbs[METHOD_COUNT];
			const int slices = 20;

			for (int sl = 0; sl < slices; sl++)
				for (int m = 0; m < METHOD_COUNT; m++)
					if (run_slice((enum method)m, write, chunks[c],
						      (uint64_t)(seconds * 1e9 / slices), &bd->vdev,
						      guest, local, acc[m]))
						return 1;
			for (int m = 0; m < METHOD_COUNT; m++)
				gbs[m] = acc[m][0] / acc[m][1] / 1e9;
			printf("  %-5s %7zu B: memcpy %6.2f GB/s | vfio_dma_rw %6.2f (ratio %.3f) | "
			       "pinned %6.2f (ratio %.3f) | pin+copy+unpin %6.2f (ratio %.3f)\n",
			       write ? "write" : "read", chunks[c], gbs[METHOD_MEMCPY],
			       gbs[METHOD_DMA_RW], gbs[METHOD_DMA_RW] / gbs[METHOD_MEMCPY],
			       gbs[METHOD_PINNED], gbs[METHOD_PINNED] / gbs[METHOD_MEMCPY],
			       gbs[METHOD_PIN_EACH], gbs[METHOD_PIN_EACH] / gbs[METHOD_MEMCPY]);
		}
	}
	for (uint64_t off = 0; off < WINDOW; off += VFIO_PIN_PAGES_MAX_ENTRIES * PAGE_SIZE)
		vfio_unpin_pages(&bd->vdev, GUEST_IOVA + off, VFIO_PIN_PAGES_MAX_ENTRIES);
	vfio_device_close(&bd->vdev);
	vfio_dma_space_destroy(space);
	vfio_unregister_group_dev(&bd->vdev);
	vfio_put_device(&bd->vdev);
	put_device(&dev);
	close(memfd);
	free(local);
	return 0;
}
