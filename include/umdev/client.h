/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libumdev-client: a vfio-user client (QEMU's docs/interop/vfio-user.rst, protocol 0.0), one
 * call per protocol command. A client is one connection to one device's UNIX socket; the
 * first message on it is VERSION, which umdev_client_connect() sends, and the server's reply
 * sets the limits the client keeps to (fds per message, bytes per data transfer).
 *
 * Conventions:
 *   - every call returns 0 (or a count) on success and -errno on failure, and prints nothing;
 *   - an error reply from the server gives -error (-EIO when the server gave no errno);
 *   - a reply that breaks the protocol (wrong message id or command, not a reply, a size the
 *     command's reply cannot have, a framing error) gives -EPROTO and shuts the connection
 *     down: later calls give -EPIPE. The socket itself stays open until umdev_client_close();
 *   - a call waits at most the client's timeout (UMDEV_CLIENT_DEFAULT_TIMEOUT_MS unless
 *     umdev_client_set_timeout() says otherwise) and then gives -ETIMEDOUT; a reply that comes
 *     later is recognised and dropped. A timeout in the middle of a message shuts the
 *     connection down, as the stream cannot be resynchronised;
 *   - the server closing the connection gives -ECONNRESET or -EPIPE;
 *   - the client checks only what it needs to build a well-formed message; whether the
 *     values make sense (region indexes, alignment, flags) is the server's to judge.
 *
 * Thread safety: a client may be used from several threads; a mutex lets one request (and
 * its reply) through at a time. The DMA handler runs with that mutex held and must not call
 * the client (such a call fails with -EDEADLK).
 *
 * File descriptors: fds the caller passes stay the caller's (they are duplicated into the
 * message by the kernel); fds that come with a reply are handed to the caller where the call
 * says so and closed otherwise. Every fd the library opens has FD_CLOEXEC set.
 */
#ifndef UMDEV_CLIENT_H
#define UMDEV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/vfio.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct umdev_client;

/* Most fds the client accepts in one message (it says so in VERSION as max_msg_fds). */
#define UMDEV_CLIENT_MAX_FDS 16
/* Largest DMA_READ/DMA_WRITE count the client accepts (VERSION's max_data_xfer_size). */
#define UMDEV_CLIENT_MAX_DATA_XFER (1u << 20)
/* How long a call waits for its reply unless umdev_client_set_timeout() says otherwise. */
#define UMDEV_CLIENT_DEFAULT_TIMEOUT_MS 10000
/* REGION_WRITE_MULTI: entries per message, bytes per entry (the most QEMU sends). */
#define UMDEV_CLIENT_WRITE_MULTI_MAX 200
#define UMDEV_CLIENT_WRITE_MULTI_DATA 8

/* One write of umdev_client_region_write_multi(): @count (at most 8) bytes of @data. */
struct umdev_client_write {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
	uint8_t data[UMDEV_CLIENT_WRITE_MULTI_DATA];
};

/*
 * Serves a DMA request of the server for a mapping made without an fd: copies @count bytes
 * from guest address @addr into @buf (@write false, DMA_READ) or from @buf to @addr (@write
 * true, DMA_WRITE). Returns 0 or -errno, which the server gets as the reply's error.
 */
typedef int (*umdev_client_dma_handler_t)(void *opaque, uint64_t addr, void *buf,
					  uint64_t count, bool write);

/* ---- connection ---- */

/*
 * Connects to the vfio-user socket at @socket_path and negotiates the version: sends VERSION
 * 0.0 with the client's capabilities and checks the reply (major 0, minor 0, valid JSON whose
 * "capabilities" are within the protocol's limits). Errors: the server's error reply (e.g.
 * -EBUSY), -EPROTONOSUPPORT for another version, -EPROTO for a malformed reply,
 * -ENAMETOOLONG, and those of socket(2) and connect(2).
 */
int umdev_client_connect(const char *socket_path, struct umdev_client **ret_client);

/* The same on an already connected stream socket. Takes ownership of @fd: it is closed by
 * umdev_client_close(), or before returning when the call fails. */
int umdev_client_connect_fd(int fd, struct umdev_client **ret_client);

/* Closes the socket, drops any fds still held, frees the client (no call of it may still be
 * running). NULL is ignored. */
void umdev_client_close(struct umdev_client *client);

/* The socket (for poll(2): readable when the server sent a DMA request). */
int umdev_client_fd(const struct umdev_client *client);

/* How long a call waits for its reply, in ms; a negative value waits forever. */
void umdev_client_set_timeout(struct umdev_client *client, int timeout_ms);

/* The server's capabilities, as negotiated (the protocol's defaults where the server gave
 * none: 1 fd, 1 MiB, 4 KiB pages, 65535 mappings, no REGION_WRITE_MULTI). */
uint32_t umdev_client_max_msg_fds(const struct umdev_client *client);
uint32_t umdev_client_max_data_xfer_size(const struct umdev_client *client);
uint64_t umdev_client_pgsizes(const struct umdev_client *client);
uint32_t umdev_client_max_dma_maps(const struct umdev_client *client);
bool umdev_client_write_multiple(const struct umdev_client *client);

/* ---- DMA_MAP, DMA_UNMAP ---- */

/*
 * Makes [iova, iova+size) of guest memory known to the server with access @prot
 * (VFIO_DMA_MAP_FLAG_READ 1 | VFIO_DMA_MAP_FLAG_WRITE 2). With @fd >= 0 the memory is
 * [offset, offset+size) of @fd, which is sent along; with @fd -1 the server reaches it
 * through DMA_READ/DMA_WRITE (umdev_client_set_dma_handler()). -EOPNOTSUPP when the server
 * takes no fds.
 */
int umdev_client_dma_map(struct umdev_client *client, uint64_t iova, uint64_t size, int fd,
			 uint64_t offset, uint32_t prot);

/* Removes a mapping; @flags may be VFIO_DMA_UNMAP_FLAG_ALL. */
int umdev_client_dma_unmap(struct umdev_client *client, uint64_t iova, uint64_t size,
			   uint32_t flags);

/* ---- device, region and IRQ information ---- */

/* Fills @info (argsz, flags, num_regions, num_irqs: the 16 bytes that travel; the rest of the
 * structure is zeroed). */
int umdev_client_get_info(struct umdev_client *client, struct vfio_device_info *info);

/*
 * Region @index: *@ret_info gets a malloc'd struct vfio_region_info followed by its
 * capabilities, of the size in (*ret_info)->argsz (asking again with a larger argsz when the
 * server says the capabilities do not fit); the capability chain is checked to stay within
 * that size. *@ret_fd (may be NULL) gets the fd of an mmap'able region, or -1. The caller
 * frees the info and closes the fd.
 */
int umdev_client_get_region_info(struct umdev_client *client, uint32_t index,
				 struct vfio_region_info **ret_info, int *ret_fd);

/*
 * DEVICE_GET_REGION_IO_FDS for region @index: the reply payload (struct
 * vfio_user_region_io_fds_reply, then the sub-regions) is copied into @buf, whose size
 * @bufsz (at least 16) is the argsz sent; a reply argsz larger than @bufsz means the buffer
 * was too small. *@nfds holds the capacity of @fds on entry and the number of fds received on
 * return (the caller closes them); -ENOBUFS, with all fds closed, when there were more.
 * Returns the number of bytes copied into @buf.
 */
int umdev_client_get_region_io_fds(struct umdev_client *client, uint32_t index, void *buf,
				   size_t bufsz, int *fds, size_t *nfds);

/* IRQ index @info->index: fills @info. */
int umdev_client_get_irq_info(struct umdev_client *client, struct vfio_irq_info *info);

/*
 * DEVICE_SET_IRQS, @flags as in struct vfio_irq_set. VFIO_IRQ_SET_DATA_EVENTFD: @data holds
 * @count int32 fds; they are sent in several messages, each of at most max_msg_fds fds and
 * each either all valid fds or all -1 (a run of -1 is sent without fds: de-assign), with its
 * own start and count. VFIO_IRQ_SET_DATA_BOOL: @data holds @count bytes. DATA_NONE: @data is
 * ignored. Stops at the first message that fails.
 */
int umdev_client_set_irqs(struct umdev_client *client, uint32_t index, uint32_t flags,
			  uint32_t start, uint32_t count, const void *data);

/* ---- region access ---- */

/* Reads @count bytes at @offset of @region; returns the number read, which may be fewer.
 * -EINVAL when @count is above umdev_client_max_data_xfer_size(). */
int umdev_client_region_read(struct umdev_client *client, uint32_t region, uint64_t offset,
			     void *buf, uint32_t count);

/* Writes @count bytes; returns the number written. A @posted write asks for no reply
 * (NO_REPLY) and returns @count once sent; the server applies it before answering any later
 * request. */
int umdev_client_region_write(struct umdev_client *client, uint32_t region, uint64_t offset,
			      const void *buf, uint32_t count, bool posted);

/* Sends @n writes as REGION_WRITE_MULTI messages of at most 200 entries, always posted
 * (NO_REPLY). -EOPNOTSUPP unless the server announced write_multiple. Returns @n. */
int umdev_client_region_write_multi(struct umdev_client *client,
				    const struct umdev_client_write *writes, size_t n);

/* ---- reset, features, migration data ---- */

int umdev_client_reset(struct umdev_client *client);

/*
 * DEVICE_FEATURE. @feature->argsz is the size of the buffer at @feature (at least 8) and the
 * largest reply taken. SET sends the whole buffer; PROBE and GET send the 8-byte header
 * (GET of VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT also its 24-byte request). The reply is
 * copied back into the buffer; returns its size.
 */
int umdev_client_device_feature(struct umdev_client *client,
				struct vfio_device_feature *feature);

/* MIG_DATA_READ: returns the number of bytes read, fewer than @size (0) at the end. */
int umdev_client_mig_data_read(struct umdev_client *client, void *buf, uint32_t size);

/* MIG_DATA_WRITE of @size bytes. */
int umdev_client_mig_data_write(struct umdev_client *client, const void *buf, uint32_t size);

/* ---- requests of the server ---- */

/*
 * Sets the handler of the server's DMA_READ/DMA_WRITE requests, which the client serves while
 * it waits for any reply and in umdev_client_serve_pending(). Without a handler (NULL), such
 * requests get an error reply (EFAULT).
 */
void umdev_client_set_dma_handler(struct umdev_client *client,
				  umdev_client_dma_handler_t handler, void *opaque);

/* Waits up to @timeout_ms (negative: forever) for requests of the server, serves them and
 * any that follow at once; returns how many were served (0 when none came). */
int umdev_client_serve_pending(struct umdev_client *client, int timeout_ms);

/* ---- raw messages, for tests that feed the server hostile input ---- */

/* Sends exactly @len bytes of @msg (at most INT_MAX) with @nfds fds attached, as they are;
 * returns @len. */
int umdev_client_send_raw(struct umdev_client *client, const void *msg, size_t len,
			  const int *fds, size_t nfds);

/*
 * Receives one whole message (its header's size says how much) into @buf and returns its
 * size. *@nfds holds the capacity of @fds on entry and the number of fds received on return
 * (@fds may be NULL: they are closed). -EMSGSIZE (the message is dropped) when it does not
 * fit in @bufsz, -ENOBUFS (the fds are closed) when the fds do not fit, -ETIMEDOUT when none
 * started within @timeout_ms (negative: forever), -ECONNRESET or -EPIPE when the server
 * closed the connection.
 */
int umdev_client_recv_raw(struct umdev_client *client, void *buf, size_t bufsz, int *fds,
			  size_t *nfds, int timeout_ms);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
