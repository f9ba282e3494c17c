/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel-style helpers that umdev's driver interface is written in, so that a kernel vendor
 * driver ports with few changes: container_of(), error pointers (ERR_PTR, IS_ERR, PTR_ERR),
 * PAGE_SIZE, dma_addr_t, the IOMMU_READ/IOMMU_WRITE protection bits and guid_t.
 *
 * Self-contained; compiles as C and as C++.
 */
#ifndef UMDEV_KERNEL_H
#define UMDEV_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* Recovers the structure that embeds @ptr as its @member. */
#ifndef container_of
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

/*
 * umdev's DMA page: the unit of vfio_pin_pages(), DMA mappings and their alignment. It is the
 * page size of the vfio-user "pgsizes" capability and of the kernel on x86-64.
 */
#define UMDEV_PAGE_SHIFT 12
#define UMDEV_PAGE_SIZE ((uint64_t)1 << UMDEV_PAGE_SHIFT)
#define UMDEV_PAGE_MASK (~(UMDEV_PAGE_SIZE - 1))
#ifndef PAGE_SIZE
#define PAGE_SHIFT UMDEV_PAGE_SHIFT
#define PAGE_SIZE UMDEV_PAGE_SIZE
#define PAGE_MASK UMDEV_PAGE_MASK
#endif

/* An I/O virtual address: an address in the client's (the VM's) DMA address space. */
typedef uint64_t dma_addr_t;

/* Access rights of a DMA mapping and of a pin request (same values as the kernel's). */
#define IOMMU_READ (1 << 0)
#define IOMMU_WRITE (1 << 1)

/*
 * A UUID as the mdev core stores it: the 16 bytes in the order they are written in the
 * canonical text form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
 */
typedef struct {
	uint8_t b[16];
} guid_t;

/* Length of the canonical text form of a UUID, without the terminating NUL. */
#define UUID_STRING_LEN 36

/*
 * Error pointers: a function that returns a pointer may return ERR_PTR(-errno) instead; the
 * top 4095 values of the address space are never valid objects.
 */
#define MAX_ERRNO 4095

static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return (uintptr_t)ptr >= (uintptr_t)-MAX_ERRNO;
}

static inline bool IS_ERR_OR_NULL(const void *ptr)
{
	return !ptr || IS_ERR(ptr);
}

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
