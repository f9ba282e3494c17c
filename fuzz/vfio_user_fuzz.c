/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target of the vfio-user server: the real connection code and dispatcher
 * (src/transport/vfio-user/) serving a device of the null driver, which is compiled in
 * (UMDEV_BUILTIN_DRIVER). One process-wide setup: a one-thread worker pool, the device and a
 * server without a socket path. Each input is one client on a socketpair, handed to the
 * server with vfio_user_server_add_client(); the input is a sequence of records
 *
 *	[u8 fds][u16 len, little endian][len bytes]
 *
 * each sent with one sendmsg() carrying the fds that the first byte names (fds % 8: none, a
 * 64 KiB memfd, an eventfd, memfd + eventfd, two eventfds, two memfds, a pipe, or 17 eventfds,
 * one more than a message may carry). A record may hold part of a message, one, or several.
 * Then the client shuts down its writing side, reads replies until EOF and closes, and the
 * input is over once the server has let the client go. Everything is bounded: a server that
 * stops answering or keeps the client makes the target abort (a hang is a finding), and so
 * does one that keeps file descriptors after the client is gone (a leak).
 *
 * Built with -DVFU_FUZZ_REPLAY and linked with replay_main.c, the same code replays every
 * file of a directory (the corpus, fuzz/corpus/vfio-user/) and prints TAP: one ok line per
 * file. See
 * docs/fuzzing.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio.h>
#include <umdev/vfio_user_server.h>
#include <umdev/workers.h>

#include "fuzz_util.h"
#include "replay_main.h"
#include "transport/vfio-user/vfu_private.h" /* the server's worker, for a barrier */

/* Defined by UMDEV_DRIVER_MODULE() in null.c, built with UMDEV_BUILTIN_DRIVER. */
extern const struct umdev_driver_module umdev_builtin_null;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bound of every wait on the server. */
#define FUZZ_TIMEOUT_MS 10000
#define FUZZ_MEMFD_SIZE 65536
#define FUZZ_MAX_FDS (VFU_MAX_MSG_FDS + 1)
#define FUZZ_UUID "6e756c6c-0000-4000-8000-0000000f0220"

static struct {
	bool ready;
	struct umdev_workers *workers;
	struct mdev_parent *parent;  /* a reference */
	struct mdev_device *mdev;    /* a reference */
	struct vfio_device *vdev;    /* a reference */
	struct vfio_user_server *srv;
	int memfd, eventfd, pipe_rd, pipe_wr;
} fz;


static void setup(void)
{
	struct vfio_user_server_config cfg = { .owner = (uid_t)-1, .group = (gid_t)-1 };
	struct mdev_type *type;
	int p[2];
	guid_t u;

	if (fz.ready)
		return;
	if (umdev_workers_create(1, &fz.workers) || umdev_builtin_null.init() ||
	    mdev_parent_get_by_name("null", &fz.parent))
		fuzz_die("cannot start the null driver");
	type = mdev_parent_find_type(fz.parent, "null-1");
	if (!type || mdev_uuid_parse(FUZZ_UUID, &u) || mdev_device_create(type, &u, &fz.mdev) ||
	    vfio_device_get_from_name(FUZZ_UUID, &fz.vdev))
		fuzz_die("cannot create the device");
	cfg.workers = fz.workers;
	if (vfio_user_server_create(fz.vdev, &cfg, &fz.srv))
		fuzz_die("cannot create the server");
	fz.memfd = memfd_create("vfio_user_fuzz", MFD_CLOEXEC);
	fz.eventfd = eventfd(0, EFD_CLOEXEC);
	if (fz.memfd < 0 || ftruncate(fz.memfd, FUZZ_MEMFD_SIZE) < 0 || fz.eventfd < 0 ||
	    pipe2(p, O_CLOEXEC) < 0)
		fuzz_die("cannot make the fds to send");
	fz.pipe_rd = p[0];
	fz.pipe_wr = p[1];
	fz.ready = true;
}

#ifdef VFU_FUZZ_REPLAY
static void teardown(void)
{
	if (!fz.ready)
		return;
	vfio_user_server_destroy(fz.srv);
	vfio_put_device(fz.vdev);
	mdev_device_remove(fz.mdev);
	mdev_device_put(fz.mdev);
	mdev_parent_put(fz.parent);
	umdev_builtin_null.exit();
	umdev_workers_destroy(fz.workers);
	close(fz.memfd);
	close(fz.eventfd);
	close(fz.pipe_rd);
	close(fz.pipe_wr);
	fz.ready = false;
}
#endif

/* The fds a record carries, by its first byte. */
static size_t record_fds(uint8_t code, int *fds)
{
	switch (code % 8) {
	case 1:
		fds[0] = fz.memfd;
		return 1;
	case 2:
		fds[0] = fz.eventfd;
		return 1;
	case 3:
		fds[0] = fz.memfd;
		fds[1] = fz.eventfd;
		return 2;
	case 4:
		fds[0] = fds[1] = fz.eventfd;
		return 2;
	case 5:
		fds[0] = fds[1] = fz.memfd;
		return 2;
	case 6:
		fds[0] = fz.pipe_wr;
		return 1;
	case 7:
		for (int i = 0; i < FUZZ_MAX_FDS; i++)
			fds[i] = fz.eventfd;
		return FUZZ_MAX_FDS;
	default:
		return 0;
	}
}

/* Reads and drops what the server sent; false at EOF or on an error. */
static bool drain(int fd)
{
	static uint8_t buf[1 << 16];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		return false;
	}
}

/*
 * Sends one record (fds with its first byte), reading replies while the socket is full so
 * that the server is never blocked by us. False once the server has closed.
 */
static bool send_record(int fd, const uint8_t *p, size_t len, const int *fds, size_t nfds)
{
	char control[CMSG_SPACE(sizeof(int) * FUZZ_MAX_FDS)];
	struct timespec t0;
	size_t sent = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < len) {
		struct iovec iov = { (void *)(p + sent), len - sent };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
		ssize_t n;

		if (nfds) {
			struct cmsghdr *cm;

			memset(control, 0, sizeof(control));
			mh.msg_control = control;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
		}
		n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0) {
			sent += (size_t)n;
			nfds = 0; /* the fds went with the first byte */
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return false; /* EPIPE, ECONNRESET: the server closed */
		if (!drain(fd))
			return false;
		if (fuzz_ms_since(&t0) > FUZZ_TIMEOUT_MS)
			fuzz_die("the server stopped reading (hang)");
		poll(&pfd, 1, 100);
	}
	return true;
}

static void noop(void *arg)
{
	(void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timespec t0;
	size_t pos = 0;
	int sv[2], fds_before, n;

	setup();
	/* counted per input: libFuzzer itself may open fds between inputs (its symbolizer) */
	fds_before = fuzz_count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_die("socketpair");
	if (vfio_user_server_add_client(fz.srv, sv[1]))
		fuzz_die("vfio_user_server_add_client");

	/* the records; an empty record with fds sends them alone (with a zero byte) */
	while (pos + 3 <= size) {
		int fds[FUZZ_MAX_FDS];
		uint8_t code = data[pos];
		size_t len = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8, nfds;
		static const uint8_t zero;

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		nfds = record_fds(code, fds);
		if (!send_record(sv[0], len ? data + pos : &zero, len ? len : (nfds ? 1 : 0), fds,
				 nfds))
			break;
		pos += len;
	}

	/* the client is done: the server answers what it has, sees EOF and closes */
	shutdown(sv[0], SHUT_WR);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = sv[0], .events = POLLIN };

		if (!drain(sv[0]))
			break;
		if (fuzz_ms_since(&t0) > FUZZ_TIMEOUT_MS)
			fuzz_die("the server keeps the connection after the client's EOF (hang)");
		poll(&pfd, 1, 100);
	}
	close(sv[0]);

	/* the server lets the client go, and frees it before the next input */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (vfio_user_server_has_client(fz.srv)) {
		if (fuzz_ms_since(&t0) > FUZZ_TIMEOUT_MS)
			fuzz_die("the server still has the client (hang)");
		usleep(100);
	}
	if (worker_call(fz.srv->worker, noop, NULL, true))
		fuzz_die("worker_call");
	n = fuzz_count_fds();
	if (n != fds_before) {
		fprintf(stderr, "vfio_user_fuzz: %d fds open after the input, %d before\n", n,
			fds_before);
		fuzz_die("file descriptors leaked");
	}
	return 0;
}

#ifdef VFU_FUZZ_REPLAY
/* After the corpus (replay_main.c): the server's statistics, then everything freed. */
void fuzz_replay_teardown(void)
{
	if (fz.ready) {
		struct vfio_user_server_stats st;

		vfio_user_server_get_stats(fz.srv, &st);
		printf("# %llu clients, %llu messages, %llu error replies, %llu protocol errors\n",
		       (unsigned long long)st.connections, (unsigned long long)st.messages,
		       (unsigned long long)st.error_replies,
		       (unsigned long long)st.protocol_errors);
	}
	teardown();
}
#endif
