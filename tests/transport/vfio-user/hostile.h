/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the hostile-client suite (test_hostile*.c, one executable) shares: an in-process
 * vfio-user server of the null driver's device on a one-thread worker pool, and a raw client
 * that builds every message by hand, byte by byte at the offsets of the specification
 * (QEMU's docs/interop/vfio-user.rst), without the client library or the server's own wire
 * header, so that the suite checks the server against the specification and not against
 * itself. Only the server's limits come from vfu_private.h.
 *
 * Every wait on the server is bounded (SO_RCVTIMEO/SO_SNDTIMEO and poll timeouts of
 * RAW_TIMEOUT_MS): a server that hangs fails the case instead of the suite.
 */
#ifndef UMDEV_TESTS_HOSTILE_H
#define UMDEV_TESTS_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio.h>
#include <umdev/vfio_user_server.h>
#include <umdev/workers.h>

#include "fds_events.h" /* fd probes, count_fds() */
#include "tap.h"
#include "transport/vfio-user/vfu_private.h" /* the limits: VFU_MAX_*, VFU_REFUSE_TIMEOUT_MS */

/* Bound of every wait on the server. */
#define RAW_TIMEOUT_MS 10000

/* The checking helpers report failures at their caller's line. */
#define AT __FILE__, __LINE__
#define SRCPOS const char *file, int line

/* ---- the wire, written out again from the specification ---- */

enum {
	CMD_VERSION = 1,
	CMD_DMA_MAP = 2,
	CMD_DMA_UNMAP = 3,
	CMD_GET_INFO = 4,
	CMD_GET_REGION_INFO = 5,
	CMD_GET_REGION_IO_FDS = 6,
	CMD_GET_IRQ_INFO = 7,
	CMD_SET_IRQS = 8,
	CMD_REGION_READ = 9,
	CMD_REGION_WRITE = 10,
	CMD_DMA_READ = 11,
	CMD_DMA_WRITE = 12,
	CMD_RESET = 13,
	CMD_DIRTY_PAGES = 14,
	CMD_WRITE_MULTI = 15,
	CMD_DEVICE_FEATURE = 16,
	CMD_MIG_DATA_READ = 17,
	CMD_MIG_DATA_WRITE = 18,
};

#define HDR_SIZE 16
#define F_REPLY 0x1u
#define F_NO_REPLY 0x10u
#define F_ERROR 0x20u

/* The null device (drivers/null/null.c) as a client sees it. */
#define NULL_BAR0 0		/* region index of BAR0: 4 KiB, read/write */
#define NULL_BAR0_SIZE 4096
#define NULL_CFG 7		/* region index of config space: 256 bytes */
#define NULL_CFG_SIZE 256
#define NULL_NUM_REGIONS 9
#define NULL_NUM_IRQS 5
#define NULL_ID 0x6e751234u	/* config dword 0: device 0x6e75, vendor 0x1234 */

/* ---- building messages ---- */

/* A message under construction: the header, then what the mb_* calls append. */
struct mb {
	uint8_t *p;
	size_t len, cap;
	bool size_set; /* msg_size was set by hand; otherwise it is the length */
};

/* Starts a message (a command unless @flags says otherwise). */
void mb_start(struct mb *m, uint16_t id, uint16_t cmd, uint32_t flags);
void mb_u8(struct mb *m, uint8_t v);
void mb_u16(struct mb *m, uint16_t v);
void mb_u32(struct mb *m, uint32_t v);
void mb_u64(struct mb *m, uint64_t v);
void mb_bytes(struct mb *m, const void *data, size_t len);
void mb_fill(struct mb *m, uint8_t byte, size_t n);
void mb_str0(struct mb *m, const char *s); /* with its NUL */
void mb_set_size(struct mb *m, uint32_t msg_size);
void mb_set_error(struct mb *m, uint32_t error);
/* Sets msg_size (unless set by hand) and returns the bytes; mb_free() releases them. */
const uint8_t *mb_done(struct mb *m);
void mb_free(struct mb *m);
/* mb_done(), one sendmsg() with @nfds fds, mb_free(); 0 or -errno (checked by the caller). */
int mb_send(int fd, struct mb *m, const int *fds, size_t nfds);

/* One sendmsg() of @len bytes with @nfds fds (all of it, or -errno). */
int raw_send(int fd, const void *buf, size_t len, const int *fds, size_t nfds);

/* GET_INFO with argsz 16, which every device answers. */
void mb_get_info(struct mb *m, uint16_t id, uint32_t flags);

/* A fresh message id. */
uint16_t next_id(void);

/* ---- reading replies ---- */

struct reply {
	uint16_t id, cmd;
	uint32_t size, flags, error;
	uint8_t *payload; /* size - HDR_SIZE bytes */
	size_t len;
	int fds[VFU_MAX_MSG_FDS];
	size_t nfds;
};

/* Reads one message: 1, 0 at EOF, or -errno (-EAGAIN: nothing within RAW_TIMEOUT_MS). */
int raw_recv(int fd, struct reply *r);
void reply_free(struct reply *r);

/* The next message is a header-only error reply to (@id, @cmd) with @err. */
bool expect_error_at(int fd, uint16_t id, uint16_t cmd, int err, SRCPOS);
#define EXPECT_ERROR(fd, id, cmd, err) expect_error_at(fd, id, cmd, err, AT)
/* The next message is a successful reply to (@id, @cmd); kept in @r if not NULL. */
bool expect_ok_at(int fd, uint16_t id, uint16_t cmd, struct reply *r, SRCPOS);
#define EXPECT_OK(fd, id, cmd, r) expect_ok_at(fd, id, cmd, r, AT)
/* The server closed the connection: EOF, with no message before it. */
bool expect_eof_at(int fd, SRCPOS);
#define EXPECT_EOF(fd) expect_eof_at(fd, AT)
/* Reads and drops messages until EOF; false if none comes within the bound. */
bool drain_to_eof(int fd);

/* ---- talking to the null device ---- */

/* VERSION with QEMU's capabilities; checks the reply. */
bool handshake_at(int fd, SRCPOS);
#define HANDSHAKE(fd) handshake_at(fd, AT)
bool region_write_at(int fd, uint32_t region, uint64_t off, const void *data, uint32_t len,
		     SRCPOS);
bool region_read_at(int fd, uint32_t region, uint64_t off, void *data, uint32_t len, SRCPOS);
/* The connection still works: config dword 0 reads NULL_ID. */
bool alive_at(int fd, SRCPOS);
#define ALIVE(fd) alive_at(fd, AT)
#define BAR0_WRITE32(fd, off, v)                                                      \
	do {                                                                          \
		uint32_t v_ = (v);                                                    \
		region_write_at(fd, NULL_BAR0, off, &v_, 4, AT);                      \
	} while (0)
uint32_t bar0_read32_at(int fd, uint64_t off, SRCPOS);
#define BAR0_READ32(fd, off) bar0_read32_at(fd, off, AT)

/* ---- the server ---- */

struct hs_dev {
	struct mdev_device *mdev;	  /* a reference */
	struct vfio_device *vdev;	  /* a reference */
	struct vfio_user_server *srv;
	char path[128];			  /* the socket, when listening */
};

/* A driver to serve: its module (built in), parent and type. */
struct hs_driver {
	const struct umdev_driver_module *module;
	const char *parent, *type;
};

/* The null driver (drivers/null/null.c, compiled into the suite). */
extern const struct hs_driver hs_null;

#define HS_MAX_DEV 2

/* Drivers started, devices of them, each served by its own server, all on one worker. */
struct hs {
	struct umdev_workers *workers;
	unsigned int nmods;
	const struct umdev_driver_module *mods[HS_MAX_DEV]; /* started */
	struct mdev_parent *parents[HS_MAX_DEV];	     /* references, by module */
	unsigned int ndev;
	struct hs_dev dev[HS_MAX_DEV];
	char dir[64];		    /* temporary directory of the sockets, or "" */
};

/*
 * Starts @ndev devices of the null driver (checked); hs_stop() undoes whatever was done, also
 * after a failure. hs_start_with() serves a device of drivers[i] as device i.
 */
bool hs_start(struct hs *h, unsigned int ndev, bool listen);
bool hs_start_with(struct hs *h, unsigned int ndev, const struct hs_driver *const *drivers,
		   bool listen);
void hs_stop(struct hs *h);
/* A client of device @i on a socketpair (vfio_user_server_add_client), or -1 (checked). */
int hs_client(struct hs *h, unsigned int i);
/* A client of device @i through its listening socket, or -1 (checked). */
int hs_connect(struct hs *h, unsigned int i);
/* hs_client() and a handshake; -1 (checked) on failure. */
int hs_client_v(struct hs *h, unsigned int i);
/* Waits (bounded) until device @i has no client and its worker has finished with it. */
bool hs_wait_gone(struct hs *h, unsigned int i);
/* Returns once the worker of device @i has handled everything it had at the call. */
void hs_barrier(struct hs *h, unsigned int i);
struct vfio_user_server_stats hs_stats(struct hs *h, unsigned int i);
/*
 * Sends the requests @make builds (the n-th into @m, n from 0) to device @i on @fd without
 * reading a reply, until nothing more goes in for 200 ms: the server stopped reading. Returns
 * how many went in whole; @m is left holding the next one, of which *@partial bytes went in
 * (0: none; mb_free() it either way).
 */
size_t hs_send_until_full(struct hs *h, unsigned int i, int fd, void (*make)(struct mb *m, size_t n),
			  struct mb *m, size_t *partial);
/* The message id @make gives the n-th request, so that the replies can be checked. */
#define HS_FILL_ID(n) ((uint16_t)(0x1000 + (n)))
/*
 * Then reads the replies to those @sent requests and, once the rest of the one cut short
 * (*@m, @partial bytes sent) is sent, to it too: each an OK reply to @cmd with HS_FILL_ID(n),
 * in order, of @size bytes (0: any) and with @nfds fds. Checked; stops at the first that is
 * not.
 */
void hs_read_filled(int fd, const struct mb *m, size_t sent, size_t partial, uint16_t cmd,
		    uint32_t size, size_t nfds);

/* A case with one device served on a socketpair-only server. */
#define HOSTILE_TEST(name)                               \
	static void name##_body(struct hs *h);           \
	TEST(name)                                       \
	{                                                \
		struct hs hs_;                           \
		if (hs_start(&hs_, 1, false))            \
			name##_body(&hs_);               \
		hs_stop(&hs_);                           \
	}                                                \
	static void name##_body(struct hs *h)

#endif
