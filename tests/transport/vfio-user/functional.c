/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture and helpers of functional.h, and the main() of each functional executable:
 * the null and dmatest modules (UMDEV_BUILTIN_DRIVER) started per case, devices created by
 * UUID, one vfio-user server per device listening in a temporary directory, and clients of
 * libumdev-client on its socket or on a socketpair.
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
#include <time.h>
#include <unistd.h>

#include "functional.h"
#include "transport/vfio-user/vfu_private.h" /* the server's worker, for barriers */
#include "transport/worker.h"
#include "util/cond.h"

extern const struct umdev_driver_module umdev_builtin_null;
extern const struct umdev_driver_module umdev_builtin_dmatest;

/* ---- the fixture ---- */

static const struct umdev_driver_module *module_of(enum fx_driver driver)
{
	return driver == FX_NULL ? &umdev_builtin_null : &umdev_builtin_dmatest;
}

static bool dev_start(struct fx *f, unsigned int i)
{
	struct fx_dev *d = &f->dev[i];
	struct vfio_user_server_config cfg = {
		.socket_path = d->path, .workers = f->workers, .owner = (uid_t)-1,
		.group = (gid_t)-1,
	};
	guid_t u;

	snprintf(d->uuid, sizeof(d->uuid), "%s-0000-4000-8000-%012x",
		 f->driver == FX_NULL ? "6e756c6c" : "646d6174", 0xf000 + (i & 0xff));
	snprintf(d->path, sizeof(d->path), "%s/dev%u.sock", f->dir, i);
	if (!CHECK_EQ(mdev_uuid_parse(d->uuid, &u), 0))
		return false;
	if (!CHECK_EQ(mdev_device_create(f->type, &u, &d->mdev), 0)) {
		d->mdev = NULL;
		return false;
	}
	if (!CHECK_EQ(vfio_device_get_from_name(d->uuid, &d->vdev), 0)) {
		d->vdev = NULL;
		return false;
	}
	if (!CHECK_EQ(vfio_user_server_create(d->vdev, &cfg, &d->srv), 0)) {
		d->srv = NULL;
		return false;
	}
	return true;
}

bool fx_start(struct fx *f, enum fx_driver driver, unsigned int nthreads, unsigned int ndev)
{
	memset(f, 0, sizeof(*f));
	f->driver = driver;
	if (!CHECK_EQ(umdev_workers_create(nthreads, &f->workers), 0)) {
		f->workers = NULL;
		return false;
	}
	if (!CHECK_EQ(module_of(driver)->init(), 0))
		return false;
	f->module_started = true;
	if (!CHECK_EQ(mdev_parent_get_by_name(driver == FX_NULL ? "null" : DMATEST_PARENT_NAME,
					      &f->parent),
		      0)) {
		f->parent = NULL;
		return false;
	}
	f->type = mdev_parent_find_type(f->parent,
					driver == FX_NULL ? "null-1" : DMATEST_TYPE_NAME);
	if (!CHECK(f->type))
		return false;
	strcpy(f->dir, "/tmp/umdev-func-XXXXXX");
	if (!CHECK(mkdtemp(f->dir))) {
		f->dir[0] = '\0';
		return false;
	}
	for (unsigned int i = 0; i < ndev; i++) {
		f->ndev = i + 1;
		if (!dev_start(f, i))
			return false;
	}
	return true;
}

void fx_stop(struct fx *f)
{
	for (unsigned int i = 0; i < f->ndev; i++) {
		struct fx_dev *d = &f->dev[i];

		vfio_user_server_destroy(d->srv);
		if (d->vdev)
			vfio_put_device(d->vdev);
		if (d->mdev) {
			if (!d->removed)
				CHECK_EQ(mdev_device_remove(d->mdev), 0);
			mdev_device_put(d->mdev);
		}
	}
	if (f->parent)
		mdev_parent_put(f->parent);
	if (f->module_started)
		module_of(f->driver)->exit();
	umdev_workers_destroy(f->workers);
	if (f->dir[0])
		CHECK_EQ(rmdir(f->dir), 0);
}

static struct umdev_client *client_setup(struct umdev_client *c)
{
	umdev_client_set_timeout(c, FX_TIMEOUT_MS);
	return c;
}

struct umdev_client *fx_client(struct fx *f, unsigned int i)
{
	struct umdev_client *c;
	int sv[2], ret;

	if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0))
		return NULL;
	if (!CHECK_EQ(vfio_user_server_add_client(f->dev[i].srv, sv[1]), 0)) {
		close(sv[0]);
		return NULL;
	}
	ret = umdev_client_connect_fd(sv[0], &c);
	if (!CHECK_EQ(ret, 0))
		return NULL;
	return client_setup(c);
}

struct umdev_client *fx_connect(struct fx *f, unsigned int i)
{
	struct umdev_client *c;

	if (!CHECK_EQ(umdev_client_connect(f->dev[i].path, &c), 0))
		return NULL;
	return client_setup(c);
}

/* Receives exactly @len bytes on a socket with a receive timeout. */
static int recv_exact(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		got += (size_t)n;
	}
	return 0;
}

struct answer {
	int fd;
	int result;
};

/* Answers the library's VERSION on a->fd with a bare 0.0 (no capabilities). */
static void *answer_version(void *arg)
{
	struct answer *a = arg;
	int fd = a->fd;
	struct {
		struct vfu_hdr hdr;
		struct vfu_version v;
	} rep;
	struct vfu_hdr hdr;
	uint8_t payload[512];

	if (recv_exact(fd, &hdr, sizeof(hdr)) || hdr.command != VFU_CMD_VERSION ||
	    hdr.msg_size < sizeof(hdr) || hdr.msg_size - sizeof(hdr) > sizeof(payload) ||
	    recv_exact(fd, payload, hdr.msg_size - sizeof(hdr))) {
		a->result = -EPROTO;
		return NULL;
	}
	memset(&rep, 0, sizeof(rep));
	rep.hdr.msg_id = hdr.msg_id;
	rep.hdr.command = VFU_CMD_VERSION;
	rep.hdr.msg_size = sizeof(rep);
	rep.hdr.flags = VFU_FLAG_TYPE_REPLY;
	a->result = send(fd, &rep, sizeof(rep), MSG_NOSIGNAL) == sizeof(rep) ? 0 : -EPIPE;
	return NULL;
}

struct umdev_client *fx_client_unversioned(struct fx *f, unsigned int i)
{
	struct timeval tv = { FX_TIMEOUT_MS / 1000, 0 };
	struct umdev_client *c = NULL;
	struct answer a;
	pthread_t t;
	int sv[2], ret;

	if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0))
		return NULL;
	setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	a = (struct answer){ sv[1], -EINPROGRESS };
	if (!thread_start(&t, answer_version, &a)) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	ret = umdev_client_connect_fd(sv[0], &c); /* takes sv[0] */
	thread_join(t); /* bounded by the socket's receive timeout */
	CHECK_EQ(ret, 0);
	CHECK_EQ(a.result, 0);
	if (ret || a.result) {
		umdev_client_close(ret ? NULL : c);
		close(sv[1]);
		return NULL;
	}
	if (!CHECK_EQ(vfio_user_server_add_client(f->dev[i].srv, sv[1]), 0)) {
		umdev_client_close(c);
		return NULL;
	}
	return client_setup(c);
}

static void noop(void *arg)
{
	(void)arg;
}

void fx_barrier(struct fx *f, unsigned int i)
{
	CHECK_EQ(worker_call(f->dev[i].srv->worker, noop, NULL, true), 0);
}

bool fx_wait_gone(struct fx *f, unsigned int i)
{
	for (int ms = 0; vfio_user_server_has_client(f->dev[i].srv); ms++) {
		if (!CHECK(ms < FX_TIMEOUT_MS))
			return false;
		usleep(1000);
	}
	/* the connection is freed by the callback that closed it, which has returned now */
	fx_barrier(f, i);
	return true;
}

struct vfio_user_server_stats fx_stats(struct fx *f, unsigned int i)
{
	struct vfio_user_server_stats st;

	vfio_user_server_get_stats(f->dev[i].srv, &st);
	return st;
}

/* ---- raw messages ---- */

int raw_call(struct umdev_client *c, uint16_t id, uint16_t cmd, const void *payload,
	     size_t len, const int *fds, size_t nfds, void *reply, size_t cap, int *rfds,
	     size_t *nrfds)
{
	struct vfu_hdr hdr = {
		.msg_id = id,
		.command = cmd,
		.msg_size = (uint32_t)(sizeof(hdr) + len),
		.flags = VFU_FLAG_TYPE_COMMAND,
	};
	uint8_t *msg = malloc(sizeof(hdr) + len);
	int ret;

	if (!msg)
		return -ENOMEM;
	memcpy(msg, &hdr, sizeof(hdr));
	if (len)
		memcpy(msg + sizeof(hdr), payload, len);
	ret = umdev_client_send_raw(c, msg, sizeof(hdr) + len, fds, nfds);
	free(msg);
	if (ret < 0)
		return ret;
	return umdev_client_recv_raw(c, reply, cap, rfds, nrfds, FX_TIMEOUT_MS);
}

bool fx_version_raw(struct umdev_client *c, const char *json)
{
	size_t jlen = strlen(json) + 1;
	uint8_t *payload = calloc(1, 4 + jlen), reply[16 + 4096];
	struct vfu_hdr hdr;
	int n;

	if (!CHECK(payload))
		return false;
	memcpy(payload + 4, json, jlen);
	n = raw_call(c, 0x7ff, VFU_CMD_VERSION, payload, 4 + jlen, NULL, 0, reply, sizeof(reply),
		     NULL, NULL);
	free(payload);
	if (!CHECK(n >= (int)sizeof(hdr) + 4))
		return false;
	memcpy(&hdr, reply, sizeof(hdr));
	return CHECK_EQ(hdr.flags, VFU_FLAG_TYPE_REPLY) && CHECK_EQ(hdr.msg_id, 0x7ff);
}

/* ---- region access ---- */

uint64_t reg_rd_at(struct umdev_client *c, uint32_t region, uint64_t off, unsigned int len,
		   SRCPOS)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	int ret = umdev_client_region_read(c, region, off, b, len);

	tap_check_eq(ret, len, "umdev_client_region_read()", "len", file, line);
	for (unsigned int i = len; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

void reg_wr_at(struct umdev_client *c, uint32_t region, uint64_t off, uint64_t val,
	       unsigned int len, SRCPOS)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < len; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	tap_check_eq(umdev_client_region_write(c, region, off, b, len, false), len,
		     "umdev_client_region_write()", "len", file, line);
}

void bar2_rd_at(struct umdev_client *c, uint32_t off, void *buf, uint32_t len, SRCPOS)
{
	tap_check_eq(umdev_client_region_read(c, R_BAR2, off, buf, len), len,
		     "REGION_READ of BAR2", "len", file, line);
}

void bar2_wr_at(struct umdev_client *c, uint32_t off, const void *buf, uint32_t len, SRCPOS)
{
	tap_check_eq(umdev_client_region_write(c, R_BAR2, off, buf, len, false), len,
		     "REGION_WRITE of BAR2", "len", file, line);
}

int dma_go_at(struct umdev_client *c, uint64_t iova, uint32_t len, uint32_t buf_off,
	      uint32_t ctrl, SRCPOS)
{
	reg_wr_at(c, R_BAR0, DMATEST_REG_DMA_ADDR, iova, 8, file, line);
	reg_wr_at(c, R_BAR0, DMATEST_REG_DMA_LEN, len, 4, file, line);
	reg_wr_at(c, R_BAR0, DMATEST_REG_DMA_BUF_OFF, buf_off, 4, file, line);
	reg_wr_at(c, R_BAR0, DMATEST_REG_DMA_CTRL, ctrl | DMATEST_CTRL_GO, 4, file, line);
	return (int)(uint32_t)reg_rd_at(c, R_BAR0, DMATEST_REG_DMA_STATUS, 4, file, line);
}

/* ---- guest memory ---- */

bool guest_new(struct guest *g, size_t size)
{
	void *p;

	g->mem = NULL;
	g->size = size;
	g->fd = memfd_create("func-guest", MFD_CLOEXEC);
	if (!CHECK(g->fd >= 0))
		return false;
	if (!CHECK_EQ(ftruncate(g->fd, (off_t)size), 0))
		goto err;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	if (!CHECK(p != MAP_FAILED))
		goto err;
	g->mem = p;
	return true;
err:
	close(g->fd);
	g->fd = -1;
	return false;
}

void guest_free(struct guest *g)
{
	if (g->mem)
		munmap(g->mem, g->size);
	if (g->fd >= 0)
		close(g->fd);
	g->mem = NULL;
	g->fd = -1;
}

bool fdless_new(struct fdless *m, uint64_t iova, size_t size)
{
	memset(m, 0, sizeof(*m));
	m->iova = iova;
	m->size = size;
	m->mem = calloc(1, size);
	return CHECK(m->mem);
}

void fdless_free(struct fdless *m)
{
	free(m->mem);
	m->mem = NULL;
}

int fdless_handler(void *opaque, uint64_t addr, void *buf, uint64_t count, bool write)
{
	struct fdless *m = opaque;

	if (addr < m->iova || count > m->size || addr - m->iova > m->size - count)
		return -EFAULT;
	if (write)
		m->writes++;
	else
		m->reads++;
	if (m->fail)
		return -m->fail;
	if (write) {
		memcpy(m->mem + (addr - m->iova), buf, count);
		m->bytes_written += count;
	} else {
		memcpy(buf, m->mem + (addr - m->iova), count);
		m->bytes_read += count;
	}
	return 0;
}

void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8) + 1);
}

/* ---- eventfds ---- */

int efd_new(bool nonblock)
{
	int fd = eventfd(0, EFD_CLOEXEC | (nonblock ? EFD_NONBLOCK : 0));

	CHECK(fd >= 0);
	return fd;
}

uint64_t efd_take(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

bool efd_wait(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };

	return poll(&p, 1, FX_TIMEOUT_MS) == 1;
}

bool efd_quiet(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/* ---- threads and events ---- */

bool thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	return CHECK_EQ(pthread_create(t, NULL, fn, arg), 0);
}

void thread_join(pthread_t t)
{
	struct timespec deadline;
	int ret;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += FX_TIMEOUT_MS / 1000;
	ret = pthread_timedjoin_np(t, NULL, &deadline);
	if (ret) {
		tap_diag("a thread of the case did not end (%d): aborting", ret);
		abort();
	}
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
