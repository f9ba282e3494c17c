/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The raw client and the server fixture of hostile.h, and the main() of the hostile-client
 * suite. Messages are built and parsed at explicit byte offsets (host byte order, as the
 * protocol has it); the server runs in this process, on a one-thread worker pool, serving
 * devices of the null driver compiled into the test (UMDEV_BUILTIN_DRIVER).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <umdev/log.h>

#include "hostile.h"

/* Defined by UMDEV_DRIVER_MODULE() in null.c, built with UMDEV_BUILTIN_DRIVER. */
extern const struct umdev_driver_module umdev_builtin_null;

/* ---- building messages ---- */

static void mb_reserve(struct mb *m, size_t n)
{
	if (m->len + n <= m->cap)
		return;
	while (m->cap < m->len + n)
		m->cap = m->cap ? m->cap * 2 : 256;
	m->p = realloc(m->p, m->cap);
	if (!m->p)
		abort();
}

static void put(uint8_t *p, const void *v, size_t n)
{
	memcpy(p, v, n);
}

void mb_start(struct mb *m, uint16_t id, uint16_t cmd, uint32_t flags)
{
	m->p = NULL;
	m->len = m->cap = 0;
	m->size_set = false;
	mb_u16(m, id);		/* 0: msg_id */
	mb_u16(m, cmd);		/* 2: command */
	mb_u32(m, 0);		/* 4: msg_size, set by mb_done() */
	mb_u32(m, flags);	/* 8: flags */
	mb_u32(m, 0);		/* 12: error */
}

void mb_bytes(struct mb *m, const void *data, size_t len)
{
	mb_reserve(m, len);
	if (len)
		memcpy(m->p + m->len, data, len);
	m->len += len;
}

void mb_fill(struct mb *m, uint8_t byte, size_t n)
{
	mb_reserve(m, n);
	memset(m->p + m->len, byte, n);
	m->len += n;
}

void mb_u8(struct mb *m, uint8_t v)
{
	mb_bytes(m, &v, 1);
}

void mb_u16(struct mb *m, uint16_t v)
{
	mb_bytes(m, &v, 2);
}

void mb_u32(struct mb *m, uint32_t v)
{
	mb_bytes(m, &v, 4);
}

void mb_u64(struct mb *m, uint64_t v)
{
	mb_bytes(m, &v, 8);
}

void mb_str0(struct mb *m, const char *s)
{
	mb_bytes(m, s, strlen(s) + 1);
}

void mb_set_size(struct mb *m, uint32_t msg_size)
{
	put(m->p + 4, &msg_size, 4);
	m->size_set = true;
}

void mb_set_error(struct mb *m, uint32_t error)
{
	put(m->p + 12, &error, 4);
}

const uint8_t *mb_done(struct mb *m)
{
	if (!m->size_set) {
		uint32_t size = (uint32_t)m->len;

		put(m->p + 4, &size, 4);
	}
	return m->p;
}

void mb_free(struct mb *m)
{
	free(m->p);
	m->p = NULL;
	m->len = m->cap = 0;
}

int raw_send(int fd, const void *buf, size_t len, const int *fds, size_t nfds)
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
	/* a blocking socket with SO_SNDTIMEO: a server that stops reading fails the send */
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	while ((size_t)n < len) { /* the rest, without fds */
		ssize_t m = send(fd, p + n, len - (size_t)n, MSG_NOSIGNAL);

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0)
			return -errno;
		n += m;
	}
	return 0;
}

int mb_send(int fd, struct mb *m, const int *fds, size_t nfds)
{
	int ret = raw_send(fd, mb_done(m), m->len, fds, nfds);

	mb_free(m);
	return ret;
}

void mb_get_info(struct mb *m, uint16_t id, uint32_t flags)
{
	mb_start(m, id, CMD_GET_INFO, flags);
	mb_u32(m, 16);
	mb_u32(m, 0);
	mb_u32(m, 0);
	mb_u32(m, 0);
}

uint16_t next_id(void)
{
	static uint16_t id = 0x100;

	return id++;
}

/* ---- reading replies ---- */

static int wait_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&pfd, 1, RAW_TIMEOUT_MS);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -EAGAIN;
}

static int recv_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n;
		int ret = wait_readable(fd);

		if (ret)
			return ret;
		n = recv(fd, buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE; /* EOF inside a message */
		got += (size_t)n;
	}
	return 0;
}

int raw_recv(int fd, struct reply *r)
{
	char control[CMSG_SPACE(sizeof(int) * VFU_MAX_MSG_FDS)];
	uint8_t hdr[HDR_SIZE];
	struct iovec iov = { hdr, HDR_SIZE };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	ssize_t n;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = wait_readable(fd);
	if (ret)
		return ret;
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < k && r->nfds < VFU_MAX_MSG_FDS; i++)
			memcpy(&r->fds[r->nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	if ((size_t)n < HDR_SIZE) {
		ret = recv_all(fd, hdr + n, HDR_SIZE - (size_t)n);
		if (ret)
			goto err;
	}
	memcpy(&r->id, hdr, 2);
	memcpy(&r->cmd, hdr + 2, 2);
	memcpy(&r->size, hdr + 4, 4);
	memcpy(&r->flags, hdr + 8, 4);
	memcpy(&r->error, hdr + 12, 4);
	if (r->size < HDR_SIZE || r->size > VFU_MAX_MSG_SIZE + 4096) {
		ret = -EPROTO;
		goto err;
	}
	r->len = r->size - HDR_SIZE;
	r->payload = malloc(r->len ? r->len : 1);
	if (!r->payload)
		abort();
	ret = recv_all(fd, r->payload, r->len);
	if (ret)
		goto err;
	return 1;

err:
	reply_free(r);
	return ret;
}

void reply_free(struct reply *r)
{
	for (size_t i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	r->nfds = 0;
	free(r->payload);
	r->payload = NULL;
}

/* Reads the next message for a check; false (reported at @line) if there is none. */
static bool recv_for(int fd, struct reply *r, SRCPOS)
{
	int ret = raw_recv(fd, r);

	if (ret == 1)
		return true;
	tap_check_eq(ret, 1, "raw_recv() (0: EOF, <0: -errno)", "a message", file, line);
	return false;
}

bool expect_error_at(int fd, uint16_t id, uint16_t cmd, int err, SRCPOS)
{
	struct reply r;
	bool ok;

	if (!recv_for(fd, &r, file, line))
		return false;
	ok = tap_check_eq(r.error, err, "reply.error", "errno", file, line);
	ok &= tap_check_eq(r.flags, F_REPLY | F_ERROR, "reply.flags", "reply|error", file, line);
	ok &= tap_check_eq(r.id, id, "reply.msg_id", "msg_id", file, line);
	ok &= tap_check_eq(r.cmd, cmd, "reply.command", "command", file, line);
	ok &= tap_check_eq(r.size, HDR_SIZE, "reply.msg_size", "header only", file, line);
	ok &= tap_check_eq((long long)r.nfds, 0, "reply fds", "0", file, line);
	reply_free(&r);
	return ok;
}

bool expect_ok_at(int fd, uint16_t id, uint16_t cmd, struct reply *out, SRCPOS)
{
	struct reply r;
	bool ok;

	if (!recv_for(fd, &r, file, line))
		return false;
	ok = tap_check_eq(r.flags, F_REPLY, "reply.flags", "reply", file, line);
	ok &= tap_check_eq(r.error, 0, "reply.error", "0", file, line);
	ok &= tap_check_eq(r.id, id, "reply.msg_id", "msg_id", file, line);
	ok &= tap_check_eq(r.cmd, cmd, "reply.command", "command", file, line);
	if (out && ok)
		*out = r;
	else
		reply_free(&r);
	return ok;
}

bool expect_eof_at(int fd, SRCPOS)
{
	struct reply r;
	int ret = raw_recv(fd, &r);

	if (ret == 1) {
		tap_diag("%s:%d: a message (id %u, command %u, flags 0x%x, error %u) instead of EOF",
			 file, line, r.id, r.cmd, r.flags, r.error);
		reply_free(&r);
	}
	return tap_check_eq(ret, 0, "raw_recv()", "EOF", file, line);
}

bool drain_to_eof(int fd)
{
	static uint8_t buf[1 << 16];

	for (;;) {
		ssize_t n;

		if (wait_readable(fd))
			return false;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return true;
		if (n < 0 && errno != EINTR)
			return errno == ECONNRESET;
	}
}

/* ---- talking to the null device ---- */

/* What QEMU's client proposes (qemu-transports.md, A). */
static const char qemu_caps[] =
	"{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,\"pgsizes\":4096,"
	"\"max_dma_maps\":65535,\"write_multiple\":true,"
	"\"migration\":{\"pgsize\":4096,\"max_bitmap_size\":268435456}}}";

bool handshake_at(int fd, SRCPOS)
{
	uint16_t id = next_id(), major, minor;
	struct reply r;
	struct mb m;
	size_t req_size;
	bool ok;

	mb_start(&m, id, CMD_VERSION, 0);
	mb_u16(&m, 0);
	mb_u16(&m, 0);
	mb_str0(&m, qemu_caps);
	req_size = m.len;
	if (!tap_check_eq(mb_send(fd, &m, NULL, 0), 0, "send VERSION", "0", file, line))
		return false;
	if (!expect_ok_at(fd, id, CMD_VERSION, &r, file, line))
		return false;
	ok = tap_check(r.len >= 4, "VERSION reply has major and minor", file, line);
	if (ok) {
		memcpy(&major, r.payload, 2);
		memcpy(&minor, r.payload + 2, 2);
		ok &= tap_check_eq(major, 0, "major", "0", file, line);
		ok &= tap_check_eq(minor, 0, "minor", "0", file, line);
		/* the JSON, if any, is NUL-terminated; the reply fits the request's buffer */
		ok &= tap_check(r.len == 4 || (r.payload[r.len - 1] == '\0' &&
					       strlen((char *)r.payload + 4) == r.len - 5),
				"VERSION reply JSON NUL-terminated", file, line);
		ok &= tap_check(r.size <= req_size, "VERSION reply <= request", file, line);
	}
	reply_free(&r);
	return ok;
}

bool region_write_at(int fd, uint32_t region, uint64_t off, const void *data, uint32_t len,
		     SRCPOS)
{
	uint16_t id = next_id();
	struct reply r;
	struct mb m;
	bool ok;
	uint32_t count;

	mb_start(&m, id, CMD_REGION_WRITE, 0);
	mb_u64(&m, off);
	mb_u32(&m, region);
	mb_u32(&m, len);
	mb_bytes(&m, data, len);
	if (!tap_check_eq(mb_send(fd, &m, NULL, 0), 0, "send REGION_WRITE", "0", file, line))
		return false;
	if (!expect_ok_at(fd, id, CMD_REGION_WRITE, &r, file, line))
		return false;
	ok = tap_check_eq((long long)r.len, 16, "REGION_WRITE reply payload", "16", file, line);
	if (ok) {
		memcpy(&count, r.payload + 12, 4);
		ok &= tap_check_eq(count, len, "REGION_WRITE reply count", "len", file, line);
	}
	reply_free(&r);
	return ok;
}

bool region_read_at(int fd, uint32_t region, uint64_t off, void *data, uint32_t len, SRCPOS)
{
	uint16_t id = next_id();
	uint64_t roff;
	uint32_t rregion, count;
	struct reply r;
	struct mb m;
	bool ok;

	mb_start(&m, id, CMD_REGION_READ, 0);
	mb_u64(&m, off);
	mb_u32(&m, region);
	mb_u32(&m, len);
	if (!tap_check_eq(mb_send(fd, &m, NULL, 0), 0, "send REGION_READ", "0", file, line))
		return false;
	if (!expect_ok_at(fd, id, CMD_REGION_READ, &r, file, line))
		return false;
	ok = tap_check_eq((long long)r.len, 16 + (long long)len, "REGION_READ reply payload",
			  "16 + count", file, line);
	if (ok) {
		memcpy(&roff, r.payload, 8);
		memcpy(&rregion, r.payload + 8, 4);
		memcpy(&count, r.payload + 12, 4);
		ok &= tap_check_eq((long long)roff, (long long)off, "reply offset", "offset", file,
				   line);
		ok &= tap_check_eq(rregion, region, "reply region", "region", file, line);
		ok &= tap_check_eq(count, len, "reply count", "count", file, line);
		memcpy(data, r.payload + 16, len);
	}
	reply_free(&r);
	return ok;
}

bool alive_at(int fd, SRCPOS)
{
	uint32_t v = 0;

	if (!region_read_at(fd, NULL_CFG, 0, &v, 4, file, line))
		return false;
	return tap_check_eq(v, NULL_ID, "config dword 0", "NULL_ID", file, line);
}

uint32_t bar0_read32_at(int fd, uint64_t off, SRCPOS)
{
	uint32_t v = 0;

	region_read_at(fd, NULL_BAR0, off, &v, 4, file, line);
	return v;
}

/* ---- the server ---- */

static void set_timeouts(int fd)
{
	struct timeval tv = { RAW_TIMEOUT_MS / 1000, (RAW_TIMEOUT_MS % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

const struct hs_driver hs_null = { &umdev_builtin_null, "null", "null-1" };

/* The type of @drv, its module started (once) and its parent found. */
static struct mdev_type *hs_type(struct hs *h, const struct hs_driver *drv)
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

bool hs_start_with(struct hs *h, unsigned int ndev, const struct hs_driver *const *drivers,
		   bool listen)
{
	memset(h, 0, sizeof(*h));
	if (!CHECK(ndev <= HS_MAX_DEV) || !CHECK_EQ(umdev_workers_create(1, &h->workers), 0)) {
		h->workers = NULL;
		return false;
	}
	if (listen) {
		strcpy(h->dir, "/tmp/umdev-hostile-XXXXXX");
		if (!CHECK(mkdtemp(h->dir))) {
			h->dir[0] = '\0';
			return false;
		}
	}
	for (unsigned int i = 0; i < ndev; i++) {
		struct hs_dev *d = &h->dev[i];
		struct vfio_user_server_config cfg = {
			.workers = h->workers, .owner = (uid_t)-1, .group = (gid_t)-1
		};
		struct mdev_type *type = hs_type(h, drivers[i]);
		char text[UUID_STRING_LEN + 1];
		guid_t u;

		if (!CHECK(type))
			return false;
		h->ndev = i + 1;
		snprintf(text, sizeof(text), "6e756c6c-0000-4000-8000-00000000f0%02x",
			 (unsigned int)(uint8_t)i);
		if (!CHECK_EQ(mdev_uuid_parse(text, &u), 0) ||
		    !CHECK_EQ(mdev_device_create(type, &u, &d->mdev), 0)) {
			d->mdev = NULL;
			return false;
		}
		if (!CHECK_EQ(vfio_device_get_from_name(text, &d->vdev), 0)) {
			d->vdev = NULL;
			return false;
		}
		if (listen) {
			snprintf(d->path, sizeof(d->path), "%s/dev%u.sock", h->dir, i);
			cfg.socket_path = d->path;
		}
		if (!CHECK_EQ(vfio_user_server_create(d->vdev, &cfg, &d->srv), 0)) {
			d->srv = NULL;
			return false;
		}
	}
	return true;
}

bool hs_start(struct hs *h, unsigned int ndev, bool listen)
{
	const struct hs_driver *drivers[HS_MAX_DEV] = { &hs_null, &hs_null };

	return hs_start_with(h, ndev, drivers, listen);
}

void hs_stop(struct hs *h)
{
	for (unsigned int i = 0; i < h->ndev; i++) {
		struct hs_dev *d = &h->dev[i];

		vfio_user_server_destroy(d->srv);
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

int hs_client(struct hs *h, unsigned int i)
{
	int sv[2];

	if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0))
		return -1;
	set_timeouts(sv[0]);
	if (!CHECK_EQ(vfio_user_server_add_client(h->dev[i].srv, sv[1]), 0)) {
		close(sv[0]);
		return -1;
	}
	return sv[0];
}

int hs_connect(struct hs *h, unsigned int i)
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

int hs_client_v(struct hs *h, unsigned int i)
{
	int fd = hs_client(h, i);

	if (fd >= 0 && !HANDSHAKE(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void noop(void *arg)
{
	(void)arg;
}

void hs_barrier(struct hs *h, unsigned int i)
{
	CHECK_EQ(worker_call(h->dev[i].srv->worker, noop, NULL, true), 0);
}

bool hs_wait_gone(struct hs *h, unsigned int i)
{
	for (int ms = 0; vfio_user_server_has_client(h->dev[i].srv); ms++) {
		if (!CHECK(ms < RAW_TIMEOUT_MS))
			return false;
		usleep(1000);
	}
	/* the connection is freed by the callback that closed it, which has returned now */
	hs_barrier(h, i);
	return true;
}

size_t hs_send_until_full(struct hs *h, unsigned int i, int fd, void (*make)(struct mb *m, size_t n),
			  struct mb *m, size_t *partial)
{
	size_t sent = 0;

	*partial = 0;
	make(m, 0);
	mb_done(m);
	for (int idle = 0; idle < 20;) {
		ssize_t n = send(fd, m->p + *partial, m->len - *partial, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (!CHECK(errno == EAGAIN))
				break;
			hs_barrier(h, i);
			usleep(10000);
			idle++;
			continue;
		}
		idle = 0;
		*partial += (size_t)n;
		if (*partial == m->len) {
			*partial = 0;
			mb_free(m);
			make(m, ++sent);
			mb_done(m);
		}
	}
	return sent;
}

void hs_read_filled(int fd, const struct mb *m, size_t sent, size_t partial, uint16_t cmd,
		    uint32_t size, size_t nfds)
{
	for (size_t i = 0; i <= sent; i++) {
		struct reply r;

		if (i == sent) {
			if (!partial)
				break;
			CHECK_EQ(raw_send(fd, m->p + partial, m->len - partial, NULL, 0), 0);
		}
		if (!CHECK(EXPECT_OK(fd, HS_FILL_ID(i), cmd, &r)))
			break;
		if (size)
			CHECK_EQ(r.size, size);
		CHECK_EQ(r.nfds, nfds);
		reply_free(&r);
	}
}

struct vfio_user_server_stats hs_stats(struct hs *h, unsigned int i)
{
	struct vfio_user_server_stats st;

	vfio_user_server_get_stats(h->dev[i].srv, &st);
	return st;
}

/* HOSTILE_LOG=1 in the environment: the server's log on stderr, to see why it did what. */
static void log_to_stderr(int level, const char *message, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "umdev[%d]: %s\n", level, message);
}

int main(int argc, char **argv)
{
	if (getenv("HOSTILE_LOG"))
		umdev_set_log_handler(log_to_stderr, NULL, UMDEV_LOG_DEBUG);
	return tap_main(argc, argv);
}
