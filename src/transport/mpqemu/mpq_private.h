/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mpqemu server's private structures, shared by the files of this directory.
 *
 * A server owns one device's listening socket and at most one client connection. Both are
 * sources of one worker, and every field below is touched only on that worker's thread,
 * unless said otherwise. A connection is a session with the device from the moment it is
 * accepted (the protocol has no handshake): the device is opened with a fresh DMA address
 * space, and closed when the connection goes.
 *
 * Files: mpq_server.c (sockets, accepting, teardown), mpq_conn.c (reading messages and
 * writing replies), mpq_dispatch.c (the command table), mpq_session.c (opening the device
 * and decoding bus addresses to BARs), mpq_cmd_pci.c (config, BAR and reset commands),
 * mpq_cmd_sysmem.c (guest memory), mpq_cmd_irq.c (INTx).
 */
#ifndef UMDEV_MPQ_PRIVATE_H
#define UMDEV_MPQ_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <umdev/mpqemu_server.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_dma.h>

#include "transport/mpqemu/mpqemu_proto.h"
#include "transport/worker.h"

/* ---- limits (each enforced and tested) ---- */

/* Messages handled in one go before other sources of the worker get their turn. */
#define MPQ_MESSAGES_PER_ROUND 64
/* Room for fds in one read: more than a message may carry, so that excess is seen. */
#define MPQ_RECV_FDS 16
/* BARs of a type-0 PCI header, and the config region's smallest acceptable size. */
#define MPQ_NUM_BARS 6
#define MPQ_CFG_MIN_SIZE 0x40u

/* ---- PCI config space registers that the server reads itself ---- */

#define MPQ_PCI_COMMAND 0x04u
#define MPQ_PCI_COMMAND_IO 0x1u
#define MPQ_PCI_COMMAND_MEMORY 0x2u
#define MPQ_PCI_BAR0 0x10u
#define MPQ_PCI_BAR_IO 0x1u
#define MPQ_PCI_BAR_IO_MASK 0xfffffffcu
#define MPQ_PCI_BAR_MEM_TYPE_MASK 0x6u
#define MPQ_PCI_BAR_MEM_TYPE_64 0x4u
#define MPQ_PCI_BAR_MEM_MASK 0xfffffff0u

struct mpq_conn;

/* A region of the device file, as the driver described it at the session's start. */
struct mpq_region {
	uint32_t flags;	 /* VFIO_REGION_INFO_FLAG_*; 0 when absent */
	uint64_t size;	 /* 0 when absent */
	uint64_t offset; /* device-file offset of the region */
};

/* Where a BAR decodes now, from the device's config space. */
struct mpq_bar {
	bool decodes;	/* programmed type matches a region and decoding is enabled */
	bool io;	/* I/O space, else memory space */
	uint64_t base;	/* bus address */
};

/* A guest RAM section mapped into the DMA space (from SYNC_SYSMEM). */
struct mpq_section {
	uint64_t gpa, size, offset;
	dev_t dev;	/* the backing file, to recognise the same section again */
	ino_t ino;
};

struct mpqemu_server {
	struct vfio_device *vdev; /* referenced */
	struct worker *worker;
	struct worker_source listen;
	char *path;		/* the socket's, or the device's name without one */
	bool listening;
	uid_t owner;
	gid_t group;
	bool has_group;
	struct mpq_conn *client; /* the connection that owns the device, or NULL */
	bool closing;
	struct mpqemu_server_stats stats; /* updated on the worker, read under stats_lock */
	pthread_mutex_t stats_lock;
};

struct mpq_conn {
	struct worker_source src;
	struct mpqemu_server *srv;
	bool busy;		/* its callback is running: freeing waits for the end */
	bool dead;		/* closed; freed when not busy */

	/* the message being read: header, then payload; fds that came with either */
	uint8_t hdr_buf[sizeof(struct mpq_hdr)];
	size_t hdr_len;
	struct mpq_hdr hdr;	/* valid once hdr_len is complete */
	uint8_t payload[MPQ_MAX_PAYLOAD];
	size_t payload_len;
	int fds[MPQ_MAX_FDS];
	size_t nfds;
	bool fds_overflow;	/* MPQ_MAX_FDS or more were sent, or some were cut off */

	/* the part of a reply that the socket did not take yet; input waits meanwhile */
	uint8_t out[sizeof(struct mpq_ret_msg)];
	size_t out_pos, out_len;

	/* session (mpq_session.c) */
	struct vfio_dma_space *space;
	bool open;		/* the device is open for this client */
	struct mpq_region cfg;	/* region 7 */
	struct mpq_region bar_regions[MPQ_NUM_BARS];
	struct mpq_bar bars[MPQ_NUM_BARS];
	bool bars_valid;	/* bars[] reflects config space (dropped by writes, reset) */

	/* guest memory (mpq_cmd_sysmem.c) */
	struct mpq_section sysmem[MPQ_MAX_FDS];
	size_t nsysmem;
	bool warned_unaligned;	/* sections that cannot be mapped were reported */

	/* INTx (mpq_cmd_irq.c) */
	bool intx_capable;	/* the device has an INTx that takes an eventfd */
	bool intx_wired;	/* a trigger eventfd is set */
	struct worker_source resample; /* fd -1 when none */
};

/* One received message, as handlers see it. */
struct mpq_msg {
	int32_t cmd;
	const uint8_t *payload;
	size_t len;		/* of the payload */
	int *fds;		/* received fds; a handler that keeps one sets it to -1 */
	size_t nfds;
	bool fds_overflow;
};

/* ---- connection (mpq_conn.c) ---- */

/* Takes over @fd as the client and opens the device for it. 0 or -errno (fd not closed). */
int mpq_conn_create(struct mpqemu_server *srv, int fd, struct mpq_conn **ret_conn);
/* Closes the connection: mappings and eventfds released, device closed. Idempotent. */
void mpq_conn_close(struct mpq_conn *conn);
/* Sends RET @value; 0, or -errno when the connection had to be closed. */
int mpq_reply(struct mpq_conn *conn, uint64_t value);

/* ---- dispatch (mpq_dispatch.c) ---- */

/* Handles one message; 0, or -errno for a stream that must be closed. */
int mpq_dispatch(struct mpq_conn *conn, struct mpq_msg *msg);

/* ---- session (mpq_session.c) ---- */

int mpq_session_open(struct mpq_conn *conn);
void mpq_session_close(struct mpq_conn *conn);
/*
 * The region access that the bus address [addr, addr+size) in I/O or memory space hits:
 * the BAR's region index in *@index and the device-file position in *@pos. -ENOENT when no
 * BAR decodes all of it (the access goes nowhere).
 */
int mpq_bar_decode(struct mpq_conn *conn, uint64_t addr, uint32_t size, bool memory,
		   unsigned int *index, uint64_t *pos);
/* Config space may have changed: decode from it afresh. */
void mpq_bars_invalidate(struct mpq_conn *conn);

/* ---- handlers: 0 with *@value the RET value, or -errno (RET MPQ_RET_ERROR); the
 *      commands without a reply ignore @value ---- */

int mpq_cmd_cfg_write(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value);
int mpq_cmd_cfg_read(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value);
int mpq_cmd_bar_write(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value);
int mpq_cmd_bar_read(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value);
int mpq_cmd_reset(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value);
int mpq_cmd_sync_sysmem(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value);
int mpq_cmd_set_irqfd(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value);

/* SYNC_SYSMEM that could not be honoured: no guest memory is reachable any more. */
void mpq_sysmem_drop(struct mpq_conn *conn);
/* Unwires INTx and stops watching the resample eventfd (the session ends). */
void mpq_irq_release(struct mpq_conn *conn);

/* ---- statistics (mpq_server.c) ---- */

void mpq_stat_add(struct mpqemu_server *srv, uint64_t *counter, uint64_t n);

/* On the server's worker: takes a connected socket as the client, or closes it (busy,
 * closing, or credentials not allowed when @check_credentials). 0 or -errno. */
int mpq_server_take_client(struct mpqemu_server *srv, int fd, bool check_credentials);

#endif
