/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inside of libumdev-client: the client structure, its limits, and the layers its
 * files share. From the bottom up:
 *   client_io.c     bytes and fds on the socket, with deadlines (poll + non-blocking calls);
 *   client_msg.c    whole messages, and the request/reply cycle (message ids, reply checks,
 *                   late replies, serving the server's requests while waiting);
 *   client_serve.c  the server's requests (DMA_READ, DMA_WRITE), by a dispatch table;
 *   client_json.c   the bounded parser of the VERSION reply's capabilities;
 * and one file per group of commands above them (connect, dma, info, irqs, region, device,
 * raw). Every call takes the client's lock and builds its request as an iovec, so payloads
 * the caller owns are sent without copying.
 */
#ifndef UMDEV_CLIENT_PRIVATE_H
#define UMDEV_CLIENT_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <umdev/client.h>

#include "transport/vfio-user/vfio_user_proto.h"

/* ---- limits (every one enforced; DESIGN.md section 4) ---- */

/* The largest max_data_xfer_size a server may announce (QEMU's client has the same limit). */
#define CLIENT_SERVER_MAX_XFER (64u << 20)
/* The most mappings a server may announce (the value the client proposes; only lowered). */
#define CLIENT_MAX_DMA_MAPS 65535u
/* The largest VERSION reply payload taken (version numbers and JSON). */
#define CLIENT_VERSION_REPLY_MAX 4096u
/* The first argsz of DEVICE_GET_REGION_INFO, and the largest one the client asks again with. */
#define CLIENT_REGION_INFO_ARGSZ (32u + 64u)
#define CLIENT_REGION_INFO_MAX (64u * 1024u)
/* Requests whose reply timed out and whose late reply is still to be dropped. */
#define CLIENT_STALE_MAX 16
/* Most pieces of one request. */
#define CLIENT_MAX_IOV 4

/* The capabilities of the server, from its VERSION reply (fixed after connecting). */
struct client_caps {
	uint32_t max_msg_fds;
	uint32_t max_data_xfer_size;
	uint64_t pgsizes;
	uint32_t max_dma_maps;
	bool write_multiple;
};

/* What client_parse_caps() found: each value with whether it was there. */
struct client_caps_json {
	bool has_max_msg_fds, has_max_data_xfer_size, has_pgsizes, has_max_dma_maps;
	bool has_write_multiple;
	uint64_t max_msg_fds, max_data_xfer_size, pgsizes, max_dma_maps;
	bool write_multiple;
};

struct umdev_client {
	/* Serialises calls (an error-checking mutex: a DMA handler calling back gets -EDEADLK)
	 * and guards every field below but caps, which is fixed once connected. */
	pthread_mutex_t lock;
	int fd;		  /* the socket, owned; closed by umdev_client_close() */
	bool broken;	  /* the connection was shut down: calls give -EPIPE */
	uint16_t next_id; /* id of the next message sent */
	int timeout_ms;	  /* per call; negative: none */
	struct client_caps caps;
	umdev_client_dma_handler_t dma_handler; /* set by the caller, may be NULL */
	void *dma_opaque;
	/* requests that timed out: their late replies are dropped */
	struct {
		uint16_t id;
		uint16_t command;
	} stale[CLIENT_STALE_MAX];
	size_t nstale;
};

/* A message received: the header, the payload (malloc'd, NULL when empty) and its fds (a
 * taken fd is set to -1; client_msg_release() closes the others). */
struct client_msg {
	struct vfu_hdr hdr;
	uint8_t *payload;
	size_t len;
	int fds[UMDEV_CLIENT_MAX_FDS];
	size_t nfds;
};

/* A request, and the payload sizes its reply may have. */
struct client_request {
	uint16_t command;
	bool no_reply;
	const struct iovec *iov; /* the payload, in pieces */
	size_t niov;
	const int *fds;
	size_t nfds;
	size_t reply_min, reply_max;
};

/* ---- client_io.c ---- */

/* Deadlines are CLOCK_MONOTONIC times in ms; CLIENT_FOREVER never passes. */
#define CLIENT_FOREVER INT64_MAX
int64_t client_deadline(int timeout_ms);

int client_send(struct umdev_client *c, const struct iovec *iov, size_t niov, const int *fds,
		size_t nfds, int64_t deadline);
int client_recv(struct umdev_client *c, void *buf, size_t len, struct client_msg *m,
		int64_t deadline, size_t *got);
int client_wait_readable(struct umdev_client *c, int64_t deadline);
void client_close_fds(int *fds, size_t nfds);

/* ---- client_msg.c ---- */

int client_lock(struct umdev_client *c);
void client_unlock(struct umdev_client *c);
int client_break(struct umdev_client *c);
void client_msg_release(struct client_msg *m);
int client_msg_take_fd(struct client_msg *m);
size_t client_max_incoming(const struct umdev_client *c);
int client_recv_header(struct umdev_client *c, struct client_msg *m, int64_t first_deadline,
		       int64_t *rest_deadline);
int client_recv_payload(struct umdev_client *c, struct client_msg *m, size_t max,
			int64_t deadline);
int client_call(struct umdev_client *c, const struct client_request *req,
		struct client_msg *reply);
int client_call_locked(struct umdev_client *c, const struct client_request *req,
		       struct client_msg *reply);
/* client_call_locked() of a request with one payload piece and no fds. */
int client_call_simple_locked(struct umdev_client *c, uint16_t command, const struct iovec *iov,
			      size_t reply_min, size_t reply_max, struct client_msg *reply);
bool client_drop_stale(struct umdev_client *c, const struct vfu_hdr *hdr);

/* ---- client_serve.c ---- */

int client_serve_request(struct umdev_client *c, struct client_msg *m, int64_t deadline);

/* ---- client_json.c ---- */

int client_parse_caps(const char *json, size_t len, struct client_caps_json *out);

#endif
