/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vfio layer for drivers: a `struct vfio_device` with the kernel's `vfio_device_ops`,
 * its life cycle (vfio_alloc_device, vfio_register_group_dev,
 * vfio_register_emulated_iommu_dev, vfio_unregister_group_dev, vfio_put_device), and the DMA
 * translation API (vfio_pin_pages, vfio_unpin_pages, vfio_dma_rw, the dma_unmap callback).
 *
 * What the kernel types become in userspace:
 *   - a device file's ioctl() receives the same commands and structures as in the kernel,
 *     from <linux/vfio.h>; `arg` points at a buffer of at least the request's `argsz`
 *     bytes in the daemon's memory (the transport copied it in and copies the reply out).
 *   - read()/write() see the device-file offset (`*ppos`) that the driver's region layout
 *     defines, as in the kernel, and a buffer in the daemon's memory.
 *   - mmap() fills in the fd and the offset that the client maps (struct vm_area_struct).
 *   - the iommufd context of bind_iommufd() is the client's DMA address space
 *     (struct vfio_dma_space, <umdev/vfio_dma.h>).
 *   - a pinned `struct page *` is the host virtual address of the page: page_address().
 *
 * Self-contained; compiles as C and as C++.
 */
#ifndef UMDEV_VFIO_H
#define UMDEV_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/vfio.h>

#include <umdev/device.h>
#include <umdev/kernel.h>
#include <umdev/vfio_uapi_compat.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct vfio_device;
struct vfio_device_private;
struct vfio_dma_space;

/* A pinned page; its address is the host virtual address of the guest page. */
struct page;

static inline void *page_address(const struct page *page)
{
	return (void *)page;
}

/* What mmap() of a region asks the driver for (the kernel's VMA, reduced to its meaning). */
struct vm_area_struct {
	/* Set by the core from the client's request. */
	unsigned long vm_start;	 /* always 0: the mapping is made by the client */
	unsigned long vm_end;	 /* so vm_end is the length of the mapping */
	unsigned long vm_pgoff;	 /* device-file offset of the mapping, in pages */
	unsigned long vm_flags;	 /* VM_READ, VM_WRITE, VM_SHARED */
	/* Set by the driver: the fd the client maps (the driver keeps it open) and the offset
	 * in it that corresponds to vm_pgoff. */
	int vm_fd;
	uint64_t vm_fd_offset;
};

#define VM_READ 0x1UL
#define VM_WRITE 0x2UL
#define VM_SHARED 0x8UL

/*
 * The operations of a vfio device, with the meaning they have in the kernel
 * (Documentation/driver-api/vfio.rst). Every member is optional unless said otherwise.
 */
struct vfio_device_ops {
	const char *name;
	/* Called by vfio_alloc_device() to set up the driver's state; an error frees the device. */
	int (*init)(struct vfio_device *vdev);
	/* Called when the last reference is dropped (vfio_put_device); frees the driver's state. */
	void (*release)(struct vfio_device *vdev);
	/* A client binds its DMA address space to the device, before open_device(). */
	int (*bind_iommufd)(struct vfio_device *vdev, struct vfio_dma_space *space,
			    uint32_t *out_device_id);
	void (*unbind_iommufd)(struct vfio_device *vdev);
	int (*attach_ioas)(struct vfio_device *vdev, uint32_t *pt_id);
	/* First open by a client / last close. */
	int (*open_device)(struct vfio_device *vdev);
	void (*close_device)(struct vfio_device *vdev);
	/* Region access; return the number of bytes done or -errno. Missing: -EINVAL. */
	ssize_t (*read)(struct vfio_device *vdev, char *buf, size_t count, uint64_t *ppos);
	ssize_t (*write)(struct vfio_device *vdev, const char *buf, size_t count, uint64_t *ppos);
	/* VFIO_DEVICE_* commands (not VFIO_DEVICE_FEATURE, which the core dispatches). The
	 * eventfds of a VFIO_DEVICE_SET_IRQS are the transport's and valid only during the
	 * call: keep one with eventfd_ctx_fdget() (<umdev/eventfd.h>), as in the kernel. */
	long (*ioctl)(struct vfio_device *vdev, unsigned int cmd, unsigned long arg);
	int (*mmap)(struct vfio_device *vdev, struct vm_area_struct *vma);
	/* The device is being unregistered while a client has it open: ask the client to
	 * release it. Called with count 0, 1, 2... until the client closes the device. */
	void (*request)(struct vfio_device *vdev, unsigned int count);
	/* Name matching for vfio_device_get_from_name(): >0 match, 0 no match, <0 abort. */
	int (*match)(struct vfio_device *vdev, char *buf);
	/* [iova, iova+length) is being unmapped: unpin every page pinned in it before
	 * returning (or soon after: the unmap completes when the last such pin is released).
	 * Required for vfio_pin_pages(). May be called before open_device(). */
	void (*dma_unmap)(struct vfio_device *vdev, uint64_t iova, uint64_t length);
	/* VFIO_DEVICE_FEATURE features that the core does not handle itself. */
	int (*device_feature)(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz);
};

/* ---- migration (VFIO migration v2) ------------------------------------------------------ */

struct vfio_mig_file;

/*
 * A migration data stream: what the kernel's migration_set_state() returns as a struct file
 * (its data_fd). A saving stream is read, a resuming stream written; reads return 0 at the
 * end of the data. ioctl answers VFIO_MIG_GET_PRECOPY_INFO. release frees the driver's part
 * when the last reference goes.
 */
struct vfio_mig_file_ops {
	ssize_t (*read)(struct vfio_mig_file *file, char *buf, size_t len);
	ssize_t (*write)(struct vfio_mig_file *file, const char *buf, size_t len);
	long (*ioctl)(struct vfio_mig_file *file, unsigned int cmd, unsigned long arg);
	void (*release)(struct vfio_mig_file *file);
};

struct vfio_mig_file {
	const struct vfio_mig_file_ops *f_op; /* set by vfio_mig_file_alloc() */
	void *private_data;		      /* the driver's */
	unsigned long refcount;		      /* private to the core */
};

/* A stream with one reference (the caller's), or NULL. */
struct vfio_mig_file *vfio_mig_file_alloc(const struct vfio_mig_file_ops *ops, void *private_data);
struct vfio_mig_file *vfio_mig_file_get(struct vfio_mig_file *file);
/* Drops a reference; the last calls f_op->release and frees. NULL is ignored. */
void vfio_mig_file_put(struct vfio_mig_file *file);

/*
 * The migration ops of a device that supports migration (set with migration_flags in init).
 * migration_set_state() moves the device to @new_state, walking the arcs that
 * vfio_mig_get_next_state() gives, and returns the stream that the last arc opened (a new
 * reference for the core, which keeps it as the device's current stream), NULL when the arc
 * opens none, or ERR_PTR(-errno).
 */
struct vfio_migration_ops {
	struct vfio_mig_file *(*migration_set_state)(struct vfio_device *vdev,
						     enum vfio_device_mig_state new_state);
	int (*migration_get_state)(struct vfio_device *vdev, enum vfio_device_mig_state *curr_state);
	int (*migration_get_data_size)(struct vfio_device *vdev, unsigned long *stop_copy_length);
};

struct vfio_device {
	struct device *dev;		    /* core: the device served (for an mdev, the mdev) */
	const struct vfio_device_ops *ops;  /* core: as given to vfio_alloc_device() */
	/* driver, in ops->init: VFIO_MIGRATION_* flags and ops, for a device that migrates */
	uint32_t migration_flags;
	const struct vfio_migration_ops *mig_ops;
	struct vfio_device_private *priv;   /* private to the core */
};

/*
 * The next state on the way from @cur_fsm to @new_fsm, for a device with the migration
 * flags of @vdev: the kernel's rules (shortest path; no saving state inside a path, except on
 * one that stays in the saving group, as PRE_COPY -> PRE_COPY_P2P -> STOP_COPY; only states
 * the flags support, each needing STOP_COPY; STOP_COPY -> PRE_COPY(_P2P) blocked). 0, or
 * -EINVAL when @new_fsm cannot be reached.
 */
int vfio_mig_get_next_state(struct vfio_device *vdev, enum vfio_device_mig_state cur_fsm,
			    enum vfio_device_mig_state new_fsm,
			    enum vfio_device_mig_state *next_fsm);

/*
 * Allocates a zeroed driver structure of @size bytes that starts with a struct vfio_device,
 * and runs ops->init. Returns the vfio_device or ERR_PTR(-errno). Use vfio_alloc_device().
 */
struct vfio_device *_vfio_alloc_device(size_t size, struct device *dev,
				       const struct vfio_device_ops *ops);

/*
 * vfio_alloc_device(struct my_state, vdev, dev, &my_ops): allocates struct my_state, whose
 * first member `vdev` is a struct vfio_device, and returns a pointer to it (or an error
 * pointer: test with IS_ERR()).
 */
#define vfio_alloc_device(dev_struct, member, dev, ops)                                       \
	container_of(_vfio_alloc_device(                                                    \
			     sizeof(struct dev_struct) +                                     \
				     0 * sizeof(char[offsetof(struct dev_struct, member) == 0 \
							      ? 1                             \
							      : -1]),                         \
			     dev, ops),                                                      \
		     struct dev_struct, member)

/* Takes a reference. */
struct vfio_device *vfio_get_device(struct vfio_device *vdev);
/* Drops a reference; the last one calls ops->release and frees the structure. */
void vfio_put_device(struct vfio_device *vdev);

/*
 * Makes the device reachable by clients. A device registered as an emulated-IOMMU device
 * may use the DMA translation API, and the core answers DMA logging for it
 * (<umdev/vfio_device_fd.h>); one registered with vfio_register_group_dev() may not.
 * -EINVAL without a name, -EBUSY if registered already, -EEXIST if the name is taken.
 */
int vfio_register_group_dev(struct vfio_device *vdev);
int vfio_register_emulated_iommu_dev(struct vfio_device *vdev);

/*
 * Makes the device unreachable for new clients and waits until the current client (if
 * any) has closed it, calling ops->request(count) at once and then every request interval
 * (10 s by default) meanwhile. The caller still owns its reference.
 */
void vfio_unregister_group_dev(struct vfio_device *vdev);

/* ---- DMA translation ------------------------------------------------------------------------ */

/* Most pages that one vfio_pin_pages() call may pin. */
#define VFIO_PIN_PAGES_MAX_ENTRIES 512

/*
 * Pins the @npage contiguous IOVA pages starting at the page that holds @iova, for the
 * access @prot (IOMMU_READ and/or IOMMU_WRITE), and stores their host addresses in @pages
 * (the first byte is (char *)page_address(pages[0]) + iova % PAGE_SIZE). All or nothing; pins are counted, so
 * a page pinned twice needs two unpins. Returns @npage, or:
 *   -EINVAL  no pages/npage <= 0, device not open or not emulated-IOMMU, no dma_unmap op,
 *            a page outside the client's mappings (or in one being unmapped)
 *   -E2BIG   npage > VFIO_PIN_PAGES_MAX_ENTRIES
 *   -EPERM   a mapping lacks the access asked for
 *   -EFAULT  a mapping that has no memory in this process (message-based DMA)
 */
int vfio_pin_pages(struct vfio_device *vdev, dma_addr_t iova, int npage, int prot,
		   struct page **pages);

/* Releases pins taken by vfio_pin_pages(); pages that are not pinned are ignored. */
void vfio_unpin_pages(struct vfio_device *vdev, dma_addr_t iova, int npage);

/*
 * Copies @len bytes between @data and guest memory at @iova (write: towards the guest),
 * without pinning; the range may span several mappings. 0, or -EINVAL (no data, len 0, not
 * open, IOVA not mapped), -EPERM (mapping lacks the access), -EFAULT (a mapping without
 * memory here and no transport to reach it), or the transport's error for such a mapping;
 * on an error the chunks before it have been copied.
 */
int vfio_dma_rw(struct vfio_device *vdev, dma_addr_t iova, void *data, size_t len, bool write);

/* ---- helpers for drivers ------------------------------------------------------------------- */

/*
 * Validates a VFIO_DEVICE_SET_IRQS header as the kernel's core helper does, for a device with
 * @num_irqs interrupts at hdr->index (0 if the index does not exist) and @max_irq_type
 * indexes; stores the size of the data that follows the header in *data_size.
 * 0 or -EINVAL.
 */
int vfio_set_irqs_validate_and_prepare(const struct vfio_irq_set *hdr, unsigned int num_irqs,
				       unsigned int max_irq_type, size_t *data_size);

/*
 * For a driver's device_feature(): checks @flags against the operations the feature
 * supports (VFIO_DEVICE_FEATURE_GET/SET) and the payload size. Returns 0 for a PROBE that
 * succeeds (nothing more to do), 1 when the caller should carry out the GET or SET, or
 * -EINVAL.
 */
int vfio_check_feature(uint32_t flags, size_t argsz, uint32_t supported_ops, size_t minsz);

/*
 * The kernel's bind/unbind/attach helpers for emulated-IOMMU drivers; in umdev the core
 * does the binding, so these only succeed. A ported driver may keep them in its ops.
 */
int vfio_iommufd_emulated_bind(struct vfio_device *vdev, struct vfio_dma_space *space,
			       uint32_t *out_device_id);
void vfio_iommufd_emulated_unbind(struct vfio_device *vdev);
int vfio_iommufd_emulated_attach_ioas(struct vfio_device *vdev, uint32_t *pt_id);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
