/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Eventfd contexts, after the kernel's: how a driver keeps an interrupt eventfd that a client
 * handed over in VFIO_DEVICE_SET_IRQS, and signals it. eventfd_ctx_fdget() takes the driver's
 * own reference (a duplicate of the fd), so the transport may close its copy when the ioctl
 * returns; eventfd_signal() adds 1 to the counter, from any thread; eventfd_ctx_put() drops it.
 *
 * Self-contained; compiles as C and as C++.
 */
#ifndef UMDEV_EVENTFD_H
#define UMDEV_EVENTFD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct eventfd_ctx;

/*
 * A context for the eventfd @fd, or ERR_PTR(-EBADF) for a bad fd, ERR_PTR(-EINVAL) for an fd
 * that is not an eventfd, ERR_PTR(-ENOMEM)/(-EMFILE) when it cannot be duplicated.
 */
struct eventfd_ctx *eventfd_ctx_fdget(int fd);

/* Adds 1 to the eventfd's counter (wakes its reader); nothing when the counter is full. */
void eventfd_signal(struct eventfd_ctx *ctx);

/* Drops the context; NULL is ignored. */
void eventfd_ctx_put(struct eventfd_ctx *ctx);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
