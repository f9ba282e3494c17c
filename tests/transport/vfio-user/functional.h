/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the functional suite of the vfio-user transport (test_functional_*.c, one executable
 * per command group) shares: an in-process server of one or two devices of the null or the
 * dmatest driver (both compiled into the test as built-in modules) on a one- or two-thread
 * worker pool, driven through libumdev-client as a VMM drives it, with the results checked
 * end to end in the device (its registers, its BAR2 buffer, its interrupts) and in the
 * client's memory (memfds the test maps itself).
 *
 * Every wait is bounded (FX_TIMEOUT_MS): a server or driver that hangs fails the case. The
 * helpers that check report failures at their caller's line (the AT argument).
 */
#ifndef UMDEV_TESTS_FUNCTIONAL_H
#define UMDEV_TESTS_FUNCTIONAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umdev/client.h>
#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_user_server.h>
#include <umdev/workers.h>

#include "dmatest.h"
#include "fds_events.h" /* count_fds(), struct event */
#include "tap.h"
#include "transport/vfio-user/vfio_user_proto.h"

/* Bound of every wait: replies, eventfds, other threads. */
#define FX_TIMEOUT_MS 10000

#define AT __FILE__, __LINE__
#define SRCPOS const char *file, int line

/* Region indexes (PCI layout of both drivers). */
#define R_BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define R_BAR2 VFIO_PCI_BAR2_REGION_INDEX
#define R_CFG VFIO_PCI_CONFIG_REGION_INDEX

/* The null device as a client sees it. */
#define NULL_CFG_SIZE 256
#define NULL_BAR0_SIZE 4096
#define NULL_ID 0x6e751234u /* config dword 0: device 0x6e75, vendor 0x1234 */

/* Guest memory of the dmatest cases: GUEST_SIZE bytes at GUEST_IOVA. */
#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (1024 * 1024)

enum fx_driver { FX_NULL, FX_DMATEST };

struct fx_dev {
	char uuid[UUID_STRING_LEN + 1];
	struct mdev_device *mdev; /* a reference */
	struct vfio_device *vdev; /* a reference */
	struct vfio_user_server *srv;
	char path[96];		  /* the server's listening socket */
	bool removed;		  /* the case removed the mediated device itself */
};

/* The driver's module started, @ndev devices each with its server, on one pool. */
struct fx {
	enum fx_driver driver;
	struct umdev_workers *workers;
	bool module_started;
	struct mdev_parent *parent; /* a reference */
	struct mdev_type *type;
	unsigned int ndev;
	struct fx_dev dev[2];
	char dir[64]; /* temporary directory of the sockets */
};

/* Starts everything (checked); fx_stop() undoes what was done, also after a failure. */
bool fx_start(struct fx *f, enum fx_driver driver, unsigned int nthreads, unsigned int ndev);
void fx_stop(struct fx *f);

/*
 * A case with @ndev devices of @driver served on a pool of @nthreads workers. The body gets
 * `f`.
 */
#define FUNC_TEST(name, driver, nthreads, ndev)                  \
	static void name##_body(struct fx *f);                   \
	TEST(name)                                               \
	{                                                        \
		struct fx fx_;                                   \
		if (fx_start(&fx_, driver, nthreads, ndev))      \
			name##_body(&fx_);                       \
		fx_stop(&fx_);                                   \
	}                                                        \
	static void name##_body(struct fx *f)

/* A client of device @i on a socketpair (vfio_user_server_add_client), or NULL (checked). */
struct umdev_client *fx_client(struct fx *f, unsigned int i);
/* A client of device @i through its socket (umdev_client_connect), or NULL (checked). */
struct umdev_client *fx_connect(struct fx *f, unsigned int i);
/*
 * A client of device @i whose VERSION the server has not seen: the library's VERSION is
 * answered by the test (protocol defaults), then the socket is handed to the server, so the
 * first message the server gets is the case's own (umdev_client_send_raw).
 */
struct umdev_client *fx_client_unversioned(struct fx *f, unsigned int i);
/* Waits until device @i has no client and its worker has finished with it. */
bool fx_wait_gone(struct fx *f, unsigned int i);
/* Returns once the worker of device @i has handled everything it had at the call. */
void fx_barrier(struct fx *f, unsigned int i);
struct vfio_user_server_stats fx_stats(struct fx *f, unsigned int i);

/* ---- raw messages ---- */

/*
 * Sends a command (header built here, id @id) with @len bytes of @payload and @nfds fds, and
 * receives the next message into @reply (@cap bytes, header included) with its fds; returns
 * the reply's size or -errno.
 */
int raw_call(struct umdev_client *c, uint16_t id, uint16_t cmd, const void *payload,
	     size_t len, const int *fds, size_t nfds, void *reply, size_t cap, int *rfds,
	     size_t *nrfds);

/* Sends VERSION 0.0 with @json (its capabilities) on a client from fx_client_unversioned(); true
 * when the server answered it with success (checked). */
bool fx_version_raw(struct umdev_client *c, const char *json);

/* ---- region access through the client, checked at the caller's line ---- */

uint64_t reg_rd_at(struct umdev_client *c, uint32_t region, uint64_t off, unsigned int len,
		   SRCPOS);
void reg_wr_at(struct umdev_client *c, uint32_t region, uint64_t off, uint64_t val,
	       unsigned int len, SRCPOS);
#define RD32(c, off) ((uint32_t)reg_rd_at(c, R_BAR0, off, 4, AT))
#define RD64(c, off) reg_rd_at(c, R_BAR0, off, 8, AT)
#define WR32(c, off, v) reg_wr_at(c, R_BAR0, off, v, 4, AT)
#define WR64(c, off, v) reg_wr_at(c, R_BAR0, off, v, 8, AT)
#define CFG_RD(c, off, len) ((uint32_t)reg_rd_at(c, R_CFG, off, len, AT))
#define CFG_WR(c, off, v, len) reg_wr_at(c, R_CFG, off, v, len, AT)

/* BAR2 of dmatest in one REGION_READ/REGION_WRITE each. */
void bar2_rd_at(struct umdev_client *c, uint32_t off, void *buf, uint32_t len, SRCPOS);
void bar2_wr_at(struct umdev_client *c, uint32_t off, const void *buf, uint32_t len, SRCPOS);
#define BAR2_RD(c, off, buf, len) bar2_rd_at(c, off, buf, len, AT)
#define BAR2_WR(c, off, buf, len) bar2_wr_at(c, off, buf, len, AT)

/* A dmatest transfer: programs it, writes GO with @ctrl, returns DMA_STATUS (an -errno). */
int dma_go_at(struct umdev_client *c, uint64_t iova, uint32_t len, uint32_t buf_off,
	      uint32_t ctrl, SRCPOS);
#define DMA_GO(c, iova, len, off, ctrl) dma_go_at(c, iova, len, off, ctrl, AT)

/* ---- guest memory ---- */

struct guest {
	int fd;	      /* a memfd of @size bytes */
	uint8_t *mem; /* the test's shared mapping of it */
	size_t size;
};

bool guest_new(struct guest *g, size_t size);
void guest_free(struct guest *g);

/* Guest memory without an fd, served to the server by the client's DMA handler. */
struct fdless {
	uint64_t iova;
	size_t size;
	uint8_t *mem;
	int fail;	    /* an errno the handler answers with, or 0 */
	unsigned int reads, writes; /* requests served */
	uint64_t bytes_read, bytes_written;
};

bool fdless_new(struct fdless *m, uint64_t iova, size_t size);
void fdless_free(struct fdless *m);
/* The umdev_client_dma_handler_t of a struct fdless. */
int fdless_handler(void *opaque, uint64_t addr, void *buf, uint64_t count, bool write);

/* Fills @len bytes with a pattern that depends on @seed. */
void pattern(uint8_t *p, size_t len, unsigned int seed);

/* ---- eventfds ---- */

int efd_new(bool nonblock);
/* Reads and resets the counter; 0 when unsignalled (the fd must be non-blocking). */
uint64_t efd_take(int efd);
/* True once @efd is readable, within FX_TIMEOUT_MS. */
bool efd_wait(int efd);
/* True when @efd is not readable now. */
bool efd_quiet(int efd);

/* ---- threads and events ---- */


/* Starts a thread (checked). */
bool thread_start(pthread_t *t, void *(*fn)(void *), void *arg);
/* Joins it within FX_TIMEOUT_MS; a thread that does not end aborts the suite (it would
 * touch freed state). */
void thread_join(pthread_t t);


#endif
