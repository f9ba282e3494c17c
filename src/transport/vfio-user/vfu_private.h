/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vfio-user server's private structures, shared by the files of this directory.
 *
 * A server owns one device's listening socket and at most one client connection; both are
 * sources of one worker and every field below is touched only on that worker's thread,
 * unless said otherwise. A connection reads into a buffer (one recvmsg usually brings a
 * whole message), hands each complete message to the dispatcher, and writes replies with
 * non-blocking sends, queueing what the socket does not take.
 */
#ifndef UMDEV_VFU_PRIVATE_H
#define UMDEV_VFU_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_dma.h>
#include <umdev/vfio_user_server.h>

#include "transport/vfio-user/vfio_user_proto.h"
#include "transport/worker.h"
#include "util/list.h"

/* ---- limits (each enforced and tested) ---- */

/* Largest REGION_READ/WRITE, DMA_READ/WRITE and MIG_DATA count we accept or send. */
#define VFU_MAX_DATA_XFER (1u << 20)
/* Most fds one message may carry (a SET_IRQS chunk). */
#define VFU_MAX_MSG_FDS 16
/* Largest message: a transfer of VFU_MAX_DATA_XFER plus its fixed part. */
#define VFU_MAX_MSG_SIZE (VFU_MAX_DATA_XFER + 64)
/* Largest JSON a VERSION may carry. */
#define VFU_VERSION_MAX_JSON 4096
/* Largest argsz we honour for replies that carry capabilities or bitmaps. */
#define VFU_MAX_ARGSZ (64u * 1024)
/* Queued output past which a connection stops reading requests until its client has read
 * everything (backpressure): a client that does not read its replies holds this much (plus
 * the reply that crossed it) and no time of the worker. */
#define VFU_OUTPUT_PAUSE (64u << 10)
/* The same for the fds queued replies carry (each a duplicate the server holds). */
#define VFU_OUTPUT_PAUSE_FDS 16
/* Output queued for a client in spite of that (messages the server starts itself, such as
 * DMA requests of other threads), before it is disconnected: bytes, and fds they carry (each
 * a duplicate the server holds). */
#define VFU_MAX_QUEUED_OUTPUT (8u << 20)
#define VFU_MAX_QUEUED_FDS 64
/* Messages handled in one go before other sources of the worker get their turn. */
#define VFU_MESSAGES_PER_ROUND 64
/* Refused connections waiting to be told so, per server. */
#define VFU_MAX_REFUSED 4
/* A refused connection that sends nothing is closed after this long. */
#define VFU_REFUSE_TIMEOUT_MS 2000
/* Server-to-client DMA requests wait this long for their reply. */
#define VFU_DMA_TIMEOUT_MS 5000
/* Most regions and IRQ indexes of a device that we describe. */
#define VFU_MAX_REGIONS 256

struct vfu_conn;
struct vfu_out_chunk;

struct vfu_region {
	bool known;	 /* info fetched from the driver */
	uint32_t flags;	 /* VFIO_REGION_INFO_FLAG_* */
	uint64_t size;
	uint64_t offset; /* device-file offset of the region */
};

struct vfio_user_server {
	struct vfio_device *vdev; /* referenced */
	struct worker *worker;
	struct worker_source listen;
	char *path;		/* the socket's, or the device's name without one */
	bool listening;
	uid_t owner;
	gid_t group;
	bool has_group;
	struct vfu_conn *client;	/* the connection that owns the device, or NULL */
	struct vfu_conn *refused[VFU_MAX_REFUSED]; /* connections being told no */
	bool closing;
	struct vfio_user_server_stats stats; /* updated on the worker, read under stats_lock */
	pthread_mutex_t stats_lock;
};

struct vfu_fd_slot {
	size_t msg_offset; /* position in the input of the message the fds came with */
	int fds[VFU_MAX_MSG_FDS];
	size_t nfds;
	bool overflow;	   /* more fds were sent than a message may carry */
};

struct vfu_conn {
	struct worker_source src;
	struct vfio_user_server *srv;
	bool refused;		/* answers its first message with refuse_errno, then closes */
	int refuse_errno;
	int timer_fd;		/* closes a silent refused connection */
	struct worker_source timer;

	/* input: in[0, in_len) is buffered, messages start at in_pos */
	uint8_t *in;
	size_t in_len, in_cap, in_pos;
	struct vfu_fd_slot *fd_slots; /* fds received, by the message they belong to */
	size_t nslots, slots_cap;
	bool in_dispatch;	/* a message is being handled */

	/* output that the socket did not take yet */
	struct vfu_out_chunk *out_head;
	struct vfu_out_chunk *out_tail;	/* the last of out_head's list, NULL when empty */
	size_t out_len;
	size_t out_fds;		/* fds held by queued output */

	unsigned int refs;	/* the connection itself, a running dispatch, a continuation */
	bool continuation;	/* a call to go on with buffered messages is posted */
	bool paused;		/* output passed VFU_OUTPUT_PAUSE: no input read until flushed */

	/* session */
	bool versioned;
	uint32_t client_max_fds;
	uint64_t client_max_xfer;
	struct vfio_dma_space *space;
	bool open;		/* the device is open for this client */
	uint32_t num_regions, num_irqs;
	struct vfu_region regions[VFU_MAX_REGIONS];
	bool dead;		/* disconnected; freed when the current dispatch returns */

	/* server-to-client DMA (vfu_dma.c) */
	size_t cur_end;		/* end of the message being handled, while in_dispatch */
	uint8_t *side;		/* input read while a handler waits for a reply */
	size_t side_len, side_cap;
	struct vfu_fd_slot *side_slots; /* their fds, by offset in `side` */
	size_t side_nslots, side_slots_cap;
	pthread_mutex_t dma_lock; /* guards the three fields below; any thread */
	pthread_cond_t dma_done;
	struct list_head dma_pending;
	uint16_t next_msg_id;
	bool dma_dead;		/* the session ended: waiters give up */
	unsigned int dma_waiting; /* the worker waits for a reply in a handler (worker only) */
	int side_error;		/* the socket failed during such a wait (worker only) */
};

/* One received message, as handlers see it. */
struct vfu_msg {
	struct vfu_hdr hdr;
	const uint8_t *payload;
	size_t len;		/* of the payload */
	int *fds;		/* received fds; a handler that keeps one sets it to -1 */
	size_t nfds;
	bool fds_overflow;	/* the client sent more than VFU_MAX_MSG_FDS */
};

/* ---- connection (vfu_conn.c) ---- */

int vfu_conn_create(struct vfio_user_server *srv, int fd, bool refused, int refuse_errno,
		    struct vfu_conn **ret_conn);
/* Closes the connection: the device is closed, mappings and fds released. */
void vfu_conn_close(struct vfu_conn *conn);
/* Asks the worker for the events the connection waits for now (after `dma_waiting`
 * changed: a handler waiting for a DMA reply reads even while output is paused). */
void vfu_conn_watch(struct vfu_conn *conn);

/*
 * Sends a reply to @msg (nothing when it asked for none): the header, then @len bytes of
 * @payload, then @len2 bytes of @payload2, with @nfds fds. 0, or -errno when the connection
 * had to be closed.
 */
int vfu_reply(struct vfu_conn *conn, const struct vfu_msg *msg, const void *payload, size_t len,
	      const void *payload2, size_t len2, const int *fds, size_t nfds);
/* A header-only error reply carrying @err (a positive errno). */
int vfu_reply_error(struct vfu_conn *conn, const struct vfu_msg *msg, int err);
/* Sends a whole message (header included) without waiting. */
int vfu_send(struct vfu_conn *conn, const void *msg, size_t len, const void *extra,
	     size_t extra_len, const int *fds, size_t nfds);

/* ---- dispatch (vfu_dispatch.c) ---- */

/* Handles one message; returns 0, or -errno for a stream that must be closed. */
int vfu_dispatch(struct vfu_conn *conn, struct vfu_msg *msg);

/* ---- session (vfu_session.c) ---- */

/* Opens the device for the connection (after VERSION). 0 or -errno. */
int vfu_session_open(struct vfu_conn *conn);
void vfu_session_close(struct vfu_conn *conn);
/* The region @index, its info fetched from the driver if needed; NULL if it does not exist. */
const struct vfu_region *vfu_region_get(struct vfu_conn *conn, uint32_t index);

/* ---- server-to-client DMA (vfu_dma.c) ---- */

void vfu_dma_init(struct vfu_conn *conn);
/* The space ops that reach the client's fd-less mappings with DMA_READ/DMA_WRITE. */
extern const struct vfio_dma_space_ops vfu_dma_space_ops;
/* Makes every waiting and future request fail (the session ends). */
void vfu_dma_shutdown(struct vfu_conn *conn);
void vfu_dma_destroy(struct vfu_conn *conn);
/* A reply from the client: hands it to the request that waits for it; -EPROTO if none. */
int vfu_dma_deliver(struct vfu_conn *conn, const struct vfu_msg *msg);
/* The connection's readiness while the worker waits for a reply: into the side buffer. */
void vfu_dma_side_ready(struct vfu_conn *conn, uint32_t events);
/* After a handler returns: input read while it waited goes back into the input buffer. */
int vfu_dma_merge_side_input(struct vfu_conn *conn);

/* Buffered input helpers shared with vfu_dma.c (vfu_conn.c). */
/*
 * The start of the last message that begins before @end in buf[from, len), walking the
 * headers from @from (a message start); headers that cannot be walked stop the walk, the
 * dispatcher rejects them. Received fds belong to that message.
 */
size_t vfu_last_message_start(const uint8_t *buf, size_t from, size_t len, size_t end);
int vfu_slot_add(struct vfu_fd_slot **slots, size_t *nslots, size_t *cap, size_t msg_offset,
		 const int *fds, size_t n, bool truncated);
void vfu_close_fds(int *fds, size_t n);

/* ---- handlers (vfu_cmd_*.c): 0 when replied (or the error reply was sent), or -errno to
 *      have the dispatcher send the error reply; a stream to close is vfu_conn_close()d ---- */

int vfu_cmd_version(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_dma_map(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_dma_unmap(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_get_info(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_get_region_info(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_get_region_io_fds(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_get_irq_info(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_set_irqs(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_region_read(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_region_write(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_region_write_multi(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_reset(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_device_feature(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_mig_data_read(struct vfu_conn *conn, struct vfu_msg *msg);
int vfu_cmd_mig_data_write(struct vfu_conn *conn, struct vfu_msg *msg);

/* ---- statistics ---- */

void vfu_stat_add(struct vfio_user_server *srv, uint64_t *counter, uint64_t n);

/* On the server's worker: takes a connected socket as the client, or as a connection being
 * refused (busy, closing, or credentials not allowed when @check_credentials). */
void vfu_server_take_client(struct vfio_user_server *srv, int fd, bool check_credentials);

#endif
