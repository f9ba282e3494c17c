/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mpqemu client and the fixture of mpq_client.h, and the main() of the mpqemu suites.
 * Messages are built and parsed at explicit byte offsets, in host byte order as the protocol
 * has it; the servers run in this process, on a one-thread worker pool.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <umdev/log.h>
#include <umdev/vfio_device_fd.h>

#include "mpq_client.h"
#include "transport/worker.h" /* worker_call(), for a barrier */
#include "transport/mpqemu/mpq_private.h" /* the server's worker */

/* Defined by UMDEV_DRIVER_MODULE() in null.c and mtty.c, built with UMDEV_BUILTIN_DRIVER. */
extern const struct umdev_driver_module umdev_builtin_null;
extern const struct umdev_driver_module umdev_builtin_mtty;

const struct mq_driver mq_null = { &umdev_builtin_null, "null", "null-1", NULL_ID };
const struct mq_driver mq_mtty1 = { &umdev_builtin_mtty, "mtty", "mtty-1", MTTY_ID };
const struct mq_driver mq_mtty2 = { &umdev_builtin_mtty, "mtty", "mtty-2", MTTY_ID };

/* ---- building messages ---- */

static void put(struct mb *m, const void *v, size_t n)
{
	if (m->len + n > sizeof(m->p))
		abort();
	memcpy(m->p + m->len, v, n);
	m->len += n;
}

void mb_start(struct mb *m, int32_t cmd)
{
	memset(m, 0, sizeof(*m));
	put(m, &cmd, 4);	/* 0: cmd */
	mb_u32(m, 0);		/* 4: padding */
	mb_u64(m, 0);		/* 8: size, set by mb_done() */
}

void mb_u8(struct mb *m, uint8_t v)
{
	put(m, &v, 1);
}

void mb_u32(struct mb *m, uint32_t v)
{
	put(m, &v, 4);
}

void mb_u64(struct mb *m, uint64_t v)
{
	put(m, &v, 8);
}

void mb_fill(struct mb *m, uint8_t byte, size_t n)
{
	while (n--)
		mb_u8(m, byte);
}

void mb_set_size(struct mb *m, uint64_t size)
{
	memcpy(m->p + 8, &size, 8);
	m->size_set = true;
}

void mb_set_pad(struct mb *m, uint32_t pad)
{
	memcpy(m->p + 4, &pad, 4);
}

const uint8_t *mb_done(struct mb *m)
{
	if (!m->size_set) {
		uint64_t size = m->len - MQ_HDR_SIZE;

		memcpy(m->p + 8, &size, 8);
	}
	return m->p;
}

void mb_conf(struct mb *m, int32_t cmd, uint32_t addr, uint32_t val, int32_t len)
{
	mb_start(m, cmd);
	mb_u32(m, addr);		/* 0: addr */
	mb_u32(m, val);			/* 4: val */
	put(m, &len, 4);		/* 8: len */
}

void mb_bar(struct mb *m, int32_t cmd, uint64_t addr, uint64_t val, uint32_t size,
	    uint8_t memory)
{
	mb_start(m, cmd);
	mb_u64(m, addr);		/* 0: addr */
	mb_u64(m, val);			/* 8: val */
	mb_u32(m, size);		/* 16: size */
	mb_u8(m, memory);		/* 20: memory */
	mb_fill(m, 0, 3);		/* 21: padding */
}

void mb_sysmem(struct mb *m, size_t n, const uint64_t *gpa, const uint64_t *size,
	       const int64_t *offset)
{
	mb_start(m, MQ_SYNC_SYSMEM);
	for (size_t i = 0; i < 8; i++)	/* 0: gpas[8] */
		mb_u64(m, i < n ? gpa[i] : 0);
	for (size_t i = 0; i < 8; i++)	/* 64: sizes[8] */
		mb_u64(m, i < n ? size[i] : 0);
	for (size_t i = 0; i < 8; i++)	/* 128: offsets[8] */
		mb_u64(m, i < n ? (uint64_t)offset[i] : 0);
}

int mq_raw_send(int fd, const void *buf, size_t len, const int *fds, size_t nfds)
{
	char control[CMSG_SPACE(sizeof(int) * 32)];
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	const uint8_t *p = buf;
	ssize_t n;

	if (nfds > 32)
		return -E2BIG;
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
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	while ((size_t)n < len) { /* the rest, without fds */
		ssize_t k = send(fd, p + n, len - (size_t)n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		n += k;
	}
	return 0;
}

int mb_send(int fd, struct mb *m, const int *fds, size_t nfds)
{
	return mq_raw_send(fd, mb_done(m), m->len, fds, nfds);
}

/* ---- reading replies ---- */

bool fd_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&pfd, 1, ms);
	} while (n < 0 && errno == EINTR);
	return n == 1;
}

int mq_recv_ret(int fd, uint64_t *value)
{
	uint8_t msg[MQ_RET_SIZE];
	size_t got = 0;
	int32_t cmd;
	uint64_t size;

	while (got < sizeof(msg)) {
		ssize_t n;

		if (!fd_readable(fd, MQ_TIMEOUT_MS))
			return -EAGAIN;
		n = recv(fd, msg + got, sizeof(msg) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ECONNRESET && !got ? 0 : -errno;
		if (n == 0)
			return got ? -EPIPE : 0; /* EOF inside a message, or between */
		got += (size_t)n;
		if (got >= MQ_HDR_SIZE) {
			memcpy(&cmd, msg, 4);
			memcpy(&size, msg + 8, 8);
			if (cmd != MQ_RET || size != 8)
				return -EPROTO;
		}
	}
	memcpy(value, msg + MQ_HDR_SIZE, 8);
	return 1;
}

bool expect_ret_at(int fd, uint64_t value, SRCPOS)
{
	uint64_t v = 0;
	int ret = mq_recv_ret(fd, &v);

	if (!tap_check_eq(ret, 1, "mq_recv_ret() (0: EOF, <0: -errno)", "a RET", file, line))
		return false;
	if (v != value) {
		tap_diag("%s:%d: RET 0x%llx, expected 0x%llx", file, line, (unsigned long long)v,
			 (unsigned long long)value);
		return tap_check(false, "RET value", file, line);
	}
	return true;
}

bool expect_eof_at(int fd, SRCPOS)
{
	uint64_t v;
	int ret = mq_recv_ret(fd, &v);

	if (ret == 1)
		tap_diag("%s:%d: RET 0x%llx instead of EOF", file, line, (unsigned long long)v);
	return tap_check_eq(ret, 0, "mq_recv_ret()", "EOF", file, line);
}

bool expect_quiet_at(int fd, SRCPOS)
{
	return tap_check(!fd_readable(fd, MQ_QUIET_MS), "no message", file, line);
}

/* ---- requests ---- */

static uint64_t request(int fd, struct mb *m, const char *what, SRCPOS)
{
	uint64_t v = MQ_ERR;
	int ret;

	if (!tap_check_eq(mb_send(fd, m, NULL, 0), 0, what, "sent", file, line))
		return MQ_ERR;
	ret = mq_recv_ret(fd, &v);
	if (!tap_check_eq(ret, 1, "mq_recv_ret() (0: EOF, <0: -errno)", "a RET", file, line))
		return MQ_ERR;
	return v;
}

uint64_t cfg_read_at(int fd, uint32_t addr, int32_t len, SRCPOS)
{
	struct mb m;

	mb_conf(&m, MQ_CFGREAD, addr, 0, len);
	return request(fd, &m, "PCI_CFGREAD", file, line);
}

uint64_t cfg_write_at(int fd, uint32_t addr, uint32_t val, int32_t len, SRCPOS)
{
	struct mb m;

	mb_conf(&m, MQ_CFGWRITE, addr, val, len);
	return request(fd, &m, "PCI_CFGWRITE", file, line);
}

uint64_t bar_read_at(int fd, uint64_t addr, uint32_t size, bool memory, SRCPOS)
{
	struct mb m;

	mb_bar(&m, MQ_BAR_READ, addr, 0, size, memory);
	return request(fd, &m, "BAR_READ", file, line);
}

uint64_t bar_write_at(int fd, uint64_t addr, uint64_t val, uint32_t size, bool memory, SRCPOS)
{
	struct mb m;

	mb_bar(&m, MQ_BAR_WRITE, addr, val, size, memory);
	return request(fd, &m, "BAR_WRITE", file, line);
}

uint64_t reset_at(int fd, SRCPOS)
{
	struct mb m;

	mb_start(&m, MQ_RESET);
	return request(fd, &m, "DEVICE_RESET", file, line);
}

void set_irqfd_at(int fd, int intx, int resample, SRCPOS)
{
	int fds[2] = { intx, resample };
	struct mb m;

	mb_start(&m, MQ_SET_IRQFD);
	tap_check_eq(mb_send(fd, &m, fds, 2), 0, "SET_IRQFD", "sent", file, line);
}

void sysmem_at(int fd, size_t n, const uint64_t *gpa, const uint64_t *size,
	       const int64_t *offset, const int *fds, SRCPOS)
{
	struct mb m;

	mb_sysmem(&m, n, gpa, size, offset);
	tap_check_eq(mb_send(fd, &m, fds, n), 0, "SYNC_SYSMEM", "sent", file, line);
}

bool alive_at(int fd, uint32_t id, SRCPOS)
{
	uint64_t v = cfg_read_at(fd, 0, 4, file, line);

	return tap_check_eq((long long)v, (long long)id, "config dword 0", "id", file, line);
}

/* ---- fds ---- */

int efd_new(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		abort();
	return fd;
}

uint64_t efd_take(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

int memfd_pattern(size_t size, uint8_t seed)
{
	int fd = memfd_create("mpqemu-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	uint8_t *p;

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		abort();
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		abort();
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 7 + seed);
	munmap(p, size);
	return fd;
}

/* ---- the servers ---- */

static void set_timeouts(int fd)
{
	struct timeval tv = { MQ_TIMEOUT_MS / 1000, (MQ_TIMEOUT_MS % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The type of @drv, its module started (once) and its parent found. */
static struct mdev_type *mq_type(struct mq *h, const struct mq_driver *drv)
{
	unsigned int m;

	for (m = 0; m < h->nmods && h->mods[m] != drv->module; m++)
		;
	if (m == h->nmods) {
		if (!CHECK_EQ(drv->module->init(), 0))
			return NULL;
		h->mods[h->nmods++] = drv->module;
		if (!CHECK_EQ(mdev_parent_get_by_name(drv->parent, &h->parents[m]), 0)) {
			h->parents[m] = NULL;
			return NULL;
		}
	}
	if (!h->parents[m])
		return NULL;
	return mdev_parent_find_type(h->parents[m], drv->type);
}

static bool mq_add_server(struct mq *h, struct mq_dev *d, unsigned int i)
{
	struct mpqemu_server_config cfg = {
		.workers = h->workers, .owner = (uid_t)-1, .group = (gid_t)-1
	};

	if (h->dir[0]) {
		snprintf(d->path, sizeof(d->path), "%s/dev%u.sock", h->dir, i);
		cfg.socket_path = d->path;
	}
	if (!CHECK_EQ(mpqemu_server_create(d->vdev, &cfg, &d->srv), 0)) {
		d->srv = NULL;
		return false;
	}
	return true;
}

bool mq_start(struct mq *h, unsigned int ndev, const struct mq_driver *const *drivers,
	      bool listen)
{
	memset(h, 0, sizeof(*h));
	if (!CHECK(ndev <= MQ_MAX_DEV) || !CHECK_EQ(umdev_workers_create(1, &h->workers), 0)) {
		h->workers = NULL;
		return false;
	}
	if (listen) {
		strcpy(h->dir, "/tmp/umdev-mpqemu-XXXXXX");
		if (!CHECK(mkdtemp(h->dir))) {
			h->dir[0] = '\0';
			return false;
		}
	}
	for (unsigned int i = 0; i < ndev; i++) {
		struct mq_dev *d = &h->dev[i];
		struct mdev_type *type = mq_type(h, drivers[i]);
		char text[UUID_STRING_LEN + 1];
		guid_t u;

		if (!CHECK(type))
			return false;
		h->ndev = i + 1;
		snprintf(text, sizeof(text), "6d707165-6d75-4000-8000-00000000f0%02x", (uint8_t)i);
		if (!CHECK_EQ(mdev_uuid_parse(text, &u), 0) ||
		    !CHECK_EQ(mdev_device_create(type, &u, &d->mdev), 0)) {
			d->mdev = NULL;
			return false;
		}
		if (!CHECK_EQ(vfio_device_get_from_name(text, &d->vdev), 0)) {
			d->vdev = NULL;
			return false;
		}
		d->id = drivers[i]->id;
		if (!mq_add_server(h, d, i))
			return false;
	}
	return true;
}

int mq_serve(struct mq *h, struct vfio_device *vdev)
{
	unsigned int i = h->ndev;
	struct mq_dev *d = &h->dev[i];

	if (!CHECK(i < MQ_MAX_DEV) || !CHECK(vdev))
		return -1;
	h->ndev = i + 1;
	d->vdev = vfio_get_device(vdev);
	return mq_add_server(h, d, i) ? (int)i : -1;
}

void mq_stop(struct mq *h)
{
	for (unsigned int i = 0; i < h->ndev; i++) {
		struct mq_dev *d = &h->dev[i];

		mpqemu_server_destroy(d->srv);
		if (d->vdev)
			vfio_put_device(d->vdev);
		if (d->mdev) {
			CHECK_EQ(mdev_device_remove(d->mdev), 0);
			mdev_device_put(d->mdev);
		}
	}
	for (unsigned int m = h->nmods; m-- > 0;) {
		if (h->parents[m])
			mdev_parent_put(h->parents[m]);
		h->mods[m]->exit();
	}
	umdev_workers_destroy(h->workers);
	if (h->dir[0])
		CHECK_EQ(rmdir(h->dir), 0);
}

int mq_client(struct mq *h, unsigned int i)
{
	int sv[2];

	if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0))
		return -1;
	set_timeouts(sv[0]);
	if (!CHECK_EQ(mpqemu_server_add_client(h->dev[i].srv, sv[1]), 0)) {
		close(sv[0]);
		return -1;
	}
	return sv[0];
}

int mq_connect(struct mq *h, unsigned int i)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (!CHECK(fd >= 0))
		return -1;
	set_timeouts(fd);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", h->dev[i].path);
	if (!CHECK_EQ(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void noop(void *arg)
{
	(void)arg;
}

void mq_barrier(struct mq *h, unsigned int i)
{
	CHECK_EQ(worker_call(h->dev[i].srv->worker, noop, NULL, true), 0);
}

bool mq_wait_gone(struct mq *h, unsigned int i)
{
	for (int ms = 0; mpqemu_server_has_client(h->dev[i].srv); ms++) {
		if (!CHECK(ms < MQ_TIMEOUT_MS))
			return false;
		usleep(1000);
	}
	/* the connection is freed by the callback that closed it, which has returned now */
	mq_barrier(h, i);
	return true;
}

bool mq_next_client_ok(struct mq *h, unsigned int i)
{
	bool ok;
	int fd;

	if (!mq_wait_gone(h, i))
		return false;
	fd = mq_client(h, i);
	if (fd < 0)
		return false;
	ok = ALIVE(fd, h->dev[i].id);
	close(fd);
	return mq_wait_gone(h, i) && ok;
}

struct mpqemu_server_stats mq_stats(struct mq *h, unsigned int i)
{
	struct mpqemu_server_stats st;

	mpqemu_server_get_stats(h->dev[i].srv, &st);
	return st;
}

/* MPQ_LOG=1 in the environment: the server's log on stderr, to see why it did what. */
static void log_to_stderr(int level, const char *message, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "umdev[%d]: %s\n", level, message);
}

int main(int argc, char **argv)
{
	if (getenv("MPQ_LOG"))
		umdev_set_log_handler(log_to_stderr, NULL, UMDEV_LOG_DEBUG);
	return tap_main(argc, argv);
}
