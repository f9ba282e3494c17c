/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the mpqemu suites (test_functional*.c and test_hostile*.c, two executables) share:
 *   - a small mpqemu client written again from the protocol description
 *     (../shared/spec/qemu-transports.md, section B), byte by byte at the wire offsets,
 *     without the server's own wire header, so that the suites check the server against
 *     the description and not against itself: messages sent with one sendmsg() carrying
 *     their fds, and RET replies read back;
 *   - a fixture that serves devices in-process, each with its own mpqemu server, on a
 *     one-thread worker pool: the null driver (drivers/null, a 4 KiB memory BAR), mtty
 *     (drivers/mtty, one 16550A per 8-byte I/O BAR, INTx) and bardev (bardev.h, a test
 *     device with a 64-bit BAR and knobs to misbehave).
 *
 * Every wait on the server is bounded (SO_RCVTIMEO/SO_SNDTIMEO and poll timeouts of
 * MQ_TIMEOUT_MS): a server that hangs fails the case instead of the suite.
 */
#ifndef UMDEV_TESTS_MPQ_CLIENT_H
#define UMDEV_TESTS_MPQ_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/mpqemu_server.h>
#include <umdev/vfio.h>
#include <umdev/workers.h>

#include "fds_events.h"
#include "tap.h"

/* Bound of every wait on the server. */
#define MQ_TIMEOUT_MS 10000
/* How long "no reply" is waited for. */
#define MQ_QUIET_MS 100

/* The checking helpers report failures at their caller's line. */
#define AT __FILE__, __LINE__
#define SRCPOS const char *file, int line

/* ---- the wire ---- */

enum {
	MQ_SYNC_SYSMEM = 0,
	MQ_RET = 1,
	MQ_CFGWRITE = 2,
	MQ_CFGREAD = 3,
	MQ_BAR_WRITE = 4,
	MQ_BAR_READ = 5,
	MQ_SET_IRQFD = 6,
	MQ_RESET = 7,
};

#define MQ_HDR_SIZE 16	    /* i32 cmd, 4 bytes of padding, u64 size */
#define MQ_MAX_PAYLOAD 192
#define MQ_CONF_SIZE 12	    /* u32 addr, u32 val, i32 len */
#define MQ_BAR_SIZE 24	    /* u64 addr, u64 val, u32 size, bool memory, 3 bytes padding */
#define MQ_SYSMEM_SIZE 192  /* u64 gpas[8], u64 sizes[8], i64 offsets[8] */
#define MQ_RET_SIZE 24	    /* header + u64 */
#define MQ_ERR UINT64_MAX   /* RET of a failed request */
#define MQ_MAX_FDS 8	    /* a message with this many fds is invalid */

/* A message under construction (header, then what mb_* appends). */
struct mb {
	uint8_t p[MQ_HDR_SIZE + 512];
	size_t len;
	bool size_set; /* the header's size was set by hand; otherwise it is the payload's */
};

void mb_start(struct mb *m, int32_t cmd);
void mb_u8(struct mb *m, uint8_t v);
void mb_u32(struct mb *m, uint32_t v);
void mb_u64(struct mb *m, uint64_t v);
void mb_fill(struct mb *m, uint8_t byte, size_t n);
/* Sets the header's size field (a lie, for hostile cases). */
void mb_set_size(struct mb *m, uint64_t size);
/* Sets the 4 padding bytes of the header. */
void mb_set_pad(struct mb *m, uint32_t pad);
/* Fills in the size (unless set by hand) and returns the bytes (m->len of them). */
const uint8_t *mb_done(struct mb *m);

void mb_conf(struct mb *m, int32_t cmd, uint32_t addr, uint32_t val, int32_t len);
void mb_bar(struct mb *m, int32_t cmd, uint64_t addr, uint64_t val, uint32_t size,
	    uint8_t memory);
/* SYNC_SYSMEM with @n sections (the rest zero). */
void mb_sysmem(struct mb *m, size_t n, const uint64_t *gpa, const uint64_t *size,
	       const int64_t *offset);

/* One sendmsg() of @len bytes with @nfds fds, the rest without; 0 or -errno. */
int mq_raw_send(int fd, const void *buf, size_t len, const int *fds, size_t nfds);
/* mb_done() and mq_raw_send(). */
int mb_send(int fd, struct mb *m, const int *fds, size_t nfds);

/* Reads one RET: 1 (value in *@value), 0 at EOF, -EPROTO for anything but a RET, or -errno
 * (-EAGAIN: nothing within MQ_TIMEOUT_MS). */
int mq_recv_ret(int fd, uint64_t *value);

/* The next message is RET @value. */
bool expect_ret_at(int fd, uint64_t value, SRCPOS);
#define EXPECT_RET(fd, v) expect_ret_at(fd, v, AT)
/* The server closed the connection, with nothing before the EOF. */
bool expect_eof_at(int fd, SRCPOS);
#define EXPECT_EOF(fd) expect_eof_at(fd, AT)
/* Nothing comes within MQ_QUIET_MS. */
bool expect_quiet_at(int fd, SRCPOS);
#define EXPECT_QUIET(fd) expect_quiet_at(fd, AT)

/* ---- requests; each checks the send and returns the RET value (MQ_ERR on any failure) ---- */

uint64_t cfg_read_at(int fd, uint32_t addr, int32_t len, SRCPOS);
uint64_t cfg_write_at(int fd, uint32_t addr, uint32_t val, int32_t len, SRCPOS);
uint64_t bar_read_at(int fd, uint64_t addr, uint32_t size, bool memory, SRCPOS);
uint64_t bar_write_at(int fd, uint64_t addr, uint64_t val, uint32_t size, bool memory, SRCPOS);
uint64_t reset_at(int fd, SRCPOS);
#define CFG_RD(fd, a, l) cfg_read_at(fd, a, l, AT)
#define CFG_WR(fd, a, v, l) cfg_write_at(fd, a, v, l, AT)
#define IO_RD(fd, a, s) bar_read_at(fd, a, s, false, AT)
#define IO_WR(fd, a, v, s) bar_write_at(fd, a, v, s, false, AT)
#define MEM_RD(fd, a, s) bar_read_at(fd, a, s, true, AT)
#define MEM_WR(fd, a, v, s) bar_write_at(fd, a, v, s, true, AT)
#define RESET(fd) reset_at(fd, AT)

/* Commands without a reply (the send is checked). */
void set_irqfd_at(int fd, int intx, int resample, SRCPOS);
#define SET_IRQFD(fd, i, r) set_irqfd_at(fd, i, r, AT)
void sysmem_at(int fd, size_t n, const uint64_t *gpa, const uint64_t *size,
	       const int64_t *offset, const int *fds, SRCPOS);
#define SYSMEM(fd, n, g, s, o, fds) sysmem_at(fd, n, g, s, o, fds, AT)

/* A request with a reply went through: everything sent before it has been handled. And
 * the connection still works: config dword 0 reads @id (vendor | device << 16). */
bool alive_at(int fd, uint32_t id, SRCPOS);
#define ALIVE(fd, id) alive_at(fd, id, AT)

/* ---- fds ---- */

/* fd probes and count_fds(): fds_events.h. */
/* A non-blocking eventfd, and its counter taken (0 if not signalled). */
int efd_new(void);
uint64_t efd_take(int efd);
/* Waits up to @ms for @fd to become readable. */
bool fd_readable(int fd, int ms);
/* A memfd of @size bytes whose byte i is (uint8_t)(i * 7 + @seed). */
int memfd_pattern(size_t size, uint8_t seed);

/* ---- the devices and their servers ---- */

/* A driver to serve: its module (built in), parent and type, and its config dword 0. */
struct mq_driver {
	const struct umdev_driver_module *module;
	const char *parent, *type;
	uint32_t id;
};
extern const struct mq_driver mq_null, mq_mtty1, mq_mtty2;

/* The devices as a client sees them. */
#define NULL_ID 0x6e751234u   /* config dword 0 of null: device 0x6e75, vendor 0x1234 */
#define MTTY_ID 0x32534348u   /* of mtty: device 0x3253, vendor 0x4348 */

#define MQ_MAX_DEV 3

struct mq_dev {
	struct mdev_device *mdev; /* a reference, or NULL for a device given to mq_serve() */
	struct vfio_device *vdev; /* a reference */
	struct mpqemu_server *srv;
	uint32_t id;		  /* config dword 0 (for mq_serve() devices: set it) */
	char path[128];		  /* the socket, when listening */
};

struct mq {
	struct umdev_workers *workers;
	unsigned int nmods;
	const struct umdev_driver_module *mods[MQ_MAX_DEV]; /* started */
	struct mdev_parent *parents[MQ_MAX_DEV];	    /* references, by module */
	unsigned int ndev;
	struct mq_dev dev[MQ_MAX_DEV];
	char dir[64];		 /* temporary directory of the sockets, or "" */
};

/*
 * Starts the pool and a device of each of @drivers[0..ndev), each with its own server
 * (listening in a temporary directory with @listen, else socketpairs only); checked.
 * mq_stop() undoes whatever was done, also after a failure.
 */
bool mq_start(struct mq *h, unsigned int ndev, const struct mq_driver *const *drivers,
	      bool listen);
/* Serves an existing registered device too (the fixture takes a reference); its index. */
int mq_serve(struct mq *h, struct vfio_device *vdev);
void mq_stop(struct mq *h);
/* A client of device @i on a socketpair (mpqemu_server_add_client), or -1 (checked). */
int mq_client(struct mq *h, unsigned int i);
/* A client of device @i through its listening socket, or -1 (checked). */
int mq_connect(struct mq *h, unsigned int i);
/* Waits (bounded) until device @i has no client and its worker is done with it. */
bool mq_wait_gone(struct mq *h, unsigned int i);
/* Returns once the worker of device @i has handled everything it had at the call. */
void mq_barrier(struct mq *h, unsigned int i);
struct mpqemu_server_stats mq_stats(struct mq *h, unsigned int i);
/*
 * Once the case's clients of device @i are gone: a new client is served (config dword 0
 * reads the device's id), and leaves. For the end of every hostile case.
 */
bool mq_next_client_ok(struct mq *h, unsigned int i);

/* A case with one device of @drv served on a socketpair-only server. */
#define MQ_TEST(name, drv)                                       \
	static void name##_body(struct mq *h);                   \
	TEST(name)                                               \
	{                                                        \
		const struct mq_driver *drivers_[] = { &(drv) }; \
		struct mq mq_;                                   \
		if (mq_start(&mq_, 1, drivers_, false))          \
			name##_body(&mq_);                       \
		mq_stop(&mq_);                                   \
	}                                                        \
	static void name##_body(struct mq *h)

/* A hostile case: as MQ_TEST, and afterwards the device serves a new client. */
#define HOSTILE_TEST(name, drv)                                  \
	static void name##_body(struct mq *h);                   \
	TEST(name)                                               \
	{                                                        \
		const struct mq_driver *drivers_[] = { &(drv) }; \
		struct mq mq_;                                   \
		if (mq_start(&mq_, 1, drivers_, false)) {        \
			name##_body(&mq_);                       \
			mq_next_client_ok(&mq_, 0);              \
		}                                                \
		mq_stop(&mq_);                                   \
	}                                                        \
	static void name##_body(struct mq *h)

#endif
