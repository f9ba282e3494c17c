/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target of the mpqemu server: the real connection code and dispatcher
 * (src/transport/mpqemu/) serving a device of mtty (two 8-byte I/O BARs, INTx) or of null
 * (a 4 KiB memory BAR, no interrupts), both compiled in (UMDEV_BUILTIN_DRIVER). One
 * process-wide setup: a one-thread worker pool, one device of each driver and a server
 * without a socket path for each. Each input is one client on a socketpair, handed to the
 * server with mpqemu_server_add_client(). The input is
 *
 *	[u8 device] then records [u8 fds][u16 len, little endian][len bytes]
 *
 * device % 2 picks mtty (0) or null (1); each record is sent with one sendmsg() carrying the
 * fds that its first byte names (fds % 16: 0 none, 1 a 64 KiB memfd, 2 an eventfd, 3 memfd +
 * eventfd, 4 two different eventfds (a SET_IRQFD pair), 5 two memfds, 6 a pipe, 7 eight
 * eventfds (QEMU's limit, one too many), 8 seventeen eventfds (more than the server reads at
 * once), 9 seven memfds (the most sections), 10 one eventfd twice, 11 a write-sealed memfd,
 * 12-15 none). A record may hold part of a message, one, or several. Then the client shuts
 * down its writing side, reads replies until EOF and closes, and the input is over once the
 * server has let the client go. Everything is bounded: a server that stops answering or
 * keeps the client makes the target abort (a hang is a finding), and so does one that keeps
 * file descriptors after the client is gone (a leak).
 *
 * Built with -DMPQ_FUZZ_REPLAY and linked with replay_main.c, the same code replays every
 * file of a directory (the corpus, fuzz/corpus/mpqemu/, written by make_mpqemu_seeds.py)
 * and prints TAP: one ok line per file. See docs/mpqemu.md and docs/fuzzing.md.
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
#include <umdev/mpqemu_server.h>
#include <umdev/vfio.h>
#include <umdev/workers.h>

#include "fuzz_util.h"
#include "replay_main.h"
#include "transport/mpqemu/mpq_private.h" /* the server's worker, for a barrier */

/* Defined by UMDEV_DRIVER_MODULE() in null.c and mtty.c, built with UMDEV_BUILTIN_DRIVER. */
extern const struct umdev_driver_module umdev_builtin_null;
extern const struct umdev_driver_module umdev_builtin_mtty;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bound of every wait on the server. */
#define FUZZ_TIMEOUT_MS 10000
#define FUZZ_MEMFD_SIZE 65536
#define FUZZ_MAX_FDS 17

static const struct {
	const struct umdev_driver_module *module;
	const char *parent, *type, *uuid;
} fz_devices[2] = {
	{ &umdev_builtin_mtty, "mtty", "mtty-2", "6d707165-6d75-4000-8000-0000000f0230" },
	{ &umdev_builtin_null, "null", "null-1", "6d707165-6d75-4000-8000-0000000f0231" },
};

static struct {
	bool ready;
	struct umdev_workers *workers;
	struct mdev_parent *parent[2]; /* references */
	struct mdev_device *mdev[2];   /* references */
	struct vfio_device *vdev[2];   /* references */
	struct mpqemu_server *srv[2];
	int memfd, sealed, eventfd, eventfd2, pipe_rd, pipe_wr;
} fz;


static void setup(void)
{
	struct mpqemu_server_config cfg = { .owner = (uid_t)-1, .group = (gid_t)-1 };
	int p[2];

	if (fz.ready)
		return;
	if (umdev_workers_create(1, &fz.workers))
		fuzz_die("cannot start the workers");
	cfg.workers = fz.workers;
	for (int i = 0; i < 2; i++) {
		struct mdev_type *type;
		guid_t u;

		if (fz_devices[i].module->init() ||
		    mdev_parent_get_by_name(fz_devices[i].parent, &fz.parent[i]))
			fuzz_die("cannot start a driver");
		type = mdev_parent_find_type(fz.parent[i], fz_devices[i].type);
		if (!type || mdev_uuid_parse(fz_devices[i].uuid, &u) ||
		    mdev_device_create(type, &u, &fz.mdev[i]) ||
		    vfio_device_get_from_name(fz_devices[i].uuid, &fz.vdev[i]))
			fuzz_die("cannot create a device");
		if (mpqemu_server_create(fz.vdev[i], &cfg, &fz.srv[i]))
			fuzz_die("cannot create a server");
	}
	fz.memfd = memfd_create("mpqemu_fuzz", MFD_CLOEXEC);
	fz.sealed = memfd_create("mpqemu_fuzz_sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	fz.eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fz.eventfd2 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fz.memfd < 0 || ftruncate(fz.memfd, FUZZ_MEMFD_SIZE) < 0 || fz.sealed < 0 ||
	    ftruncate(fz.sealed, FUZZ_MEMFD_SIZE) < 0 ||
	    fcntl(fz.sealed, F_ADD_SEALS, F_SEAL_WRITE) < 0 || fz.eventfd < 0 ||
	    fz.eventfd2 < 0 || pipe2(p, O_CLOEXEC) < 0)
		fuzz_die("cannot make the fds to send");
	fz.pipe_rd = p[0];
	fz.pipe_wr = p[1];
	fz.ready = true;
}

#ifdef MPQ_FUZZ_REPLAY
static void teardown(void)
{
	if (!fz.ready)
		return;
	for (int i = 0; i < 2; i++) {
		mpqemu_server_destroy(fz.srv[i]);
		vfio_put_device(fz.vdev[i]);
		mdev_device_remove(fz.mdev[i]);
		mdev_device_put(fz.mdev[i]);
		mdev_parent_put(fz.parent[i]);
		fz_devices[i].module->exit();
	}
	umdev_workers_destroy(fz.workers);
	close(fz.memfd);
	close(fz.sealed);
	close(fz.eventfd);
	close(fz.eventfd2);
	close(fz.pipe_rd);
	close(fz.pipe_wr);
	fz.ready = false;
}
#endif

/* The fds a record carries, by its first byte. */
static size_t record_fds(uint8_t code, int *fds)
{
	size_t n = 0;

	switch (code % 16) {
	case 1:
		fds[n++] = fz.memfd;
		break;
	case 2:
		fds[n++] = fz.eventfd;
		break;
	case 3:
		fds[n++] = fz.memfd;
		fds[n++] = fz.eventfd;
		break;
	case 4:
		fds[n++] = fz.eventfd;
		fds[n++] = fz.eventfd2;
		break;
	case 5:
		fds[n++] = fz.memfd;
		fds[n++] = fz.memfd;
		break;
	case 6:
		fds[n++] = fz.pipe_wr;
		break;
	case 7:
		while (n < 8)
			fds[n++] = fz.eventfd;
		break;
	case 8:
		while (n < FUZZ_MAX_FDS)
			fds[n++] = fz.eventfd;
		break;
	case 9:
		while (n < 7)
			fds[n++] = fz.memfd;
		break;
	case 10:
		fds[n++] = fz.eventfd2;
		fds[n++] = fz.eventfd2;
		break;
	case 11:
		fds[n++] = fz.sealed;
		break;
	default:
		break;
	}
	return n;
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
	struct mpqemu_server *srv;
	struct timespec t0;
	size_t pos = 1;
	int sv[2], fds_before, n;
	uint64_t counter;

	setup();
	if (!size)
		return 0;
	srv = fz.srv[data[0] % 2];
	/* counted per input: libFuzzer itself may open fds between inputs (its symbolizer) */
	fds_before = fuzz_count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_die("socketpair");
	if (mpqemu_server_add_client(srv, sv[1]))
		fuzz_die("mpqemu_server_add_client");

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
	while (mpqemu_server_has_client(srv)) {
		if (fuzz_ms_since(&t0) > FUZZ_TIMEOUT_MS)
			fuzz_die("the server still has the client (hang)");
		usleep(100);
	}
	if (worker_call(srv->worker, noop, NULL, true))
		fuzz_die("worker_call");
	/* interrupts the device sent: not this input's business */
	while (read(fz.eventfd, &counter, sizeof(counter)) > 0 ||
	       read(fz.eventfd2, &counter, sizeof(counter)) > 0)
		;
	n = fuzz_count_fds();
	if (n != fds_before) {
		fprintf(stderr, "mpqemu_fuzz: %d fds open after the input, %d before\n", n,
			fds_before);
		fuzz_die("file descriptors leaked");
	}
	return 0;
}

#ifdef MPQ_FUZZ_REPLAY
/* After the corpus (replay_main.c): the server's statistics, then everything freed. */
void fuzz_replay_teardown(void)
{
	for (int i = 0; fz.ready && i < 2; i++) {
		struct mpqemu_server_stats st;

		mpqemu_server_get_stats(fz.srv[i], &st);
		printf("# %s: %llu clients, %llu messages, %llu error replies, %llu protocol "
		       "errors\n", fz_devices[i].type, (unsigned long long)st.connections,
		       (unsigned long long)st.messages, (unsigned long long)st.error_replies,
		       (unsigned long long)st.protocol_errors);
	}
	teardown();
}
#endif
