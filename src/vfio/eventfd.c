/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Eventfd contexts (<umdev/eventfd.h>): a duplicate of the client's eventfd that the driver
 * owns. Signalling adds 1 unless the counter is full, which already means "signalled", so
 * that a client that fills its own counter cannot make a driver thread wait. (A client that
 * empties and refills it exactly between the check and the write still can, until it reads
 * the counter again: the write stays a system call on a description the client controls.)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umdev/eventfd.h>
#include <umdev/kernel.h>

struct eventfd_ctx {
	int fd;
};

/* True when @fd is an eventfd: its /proc link reads "anon_inode:[eventfd]". */
static int fd_is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0 ? 0 : -EINVAL;
}

struct eventfd_ctx *eventfd_ctx_fdget(int fd)
{
	struct eventfd_ctx *ctx;
	int ret;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return ERR_PTR(-EBADF);
	ret = fd_is_eventfd(fd);
	if (ret)
		return ERR_PTR(ret);
	ctx = malloc(sizeof(*ctx));
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	ctx->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (ctx->fd < 0) {
		ret = -errno;
		free(ctx);
		return ERR_PTR(ret);
	}
	return ctx;
}

void eventfd_signal(struct eventfd_ctx *ctx)
{
	struct pollfd pfd = { .fd = ctx->fd, .events = POLLOUT };
	uint64_t one = 1;
	ssize_t n;

	/*
	 * The client owns the eventfd's file description (we cannot make it non-blocking
	 * without changing its own fd), and a write that would overflow the counter blocks.
	 * A full counter already means "signalled": skip the write then, as the kernel's
	 * eventfd_signal() saturates instead of waiting.
	 */
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT))
		return;
	do {
		n = write(ctx->fd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
}

void eventfd_ctx_put(struct eventfd_ctx *ctx)
{
	if (!ctx)
		return;
	close(ctx->fd);
	free(ctx);
}
