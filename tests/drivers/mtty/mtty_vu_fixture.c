/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture and helpers of mtty_vu_fixture.h, and the main() of the suite over
 * vfio-user (its cases are in test_mtty_vu_*.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <umdev/vfio_device_fd.h>

#include "mtty_suite_common.h"
#include "mtty_vu_fixture.h"

/* ---- the driver ---- */

bool vu_env_start(struct vu_env *e)
{
	memset(e, 0, sizeof(*e));
	if (!CHECK_EQ(umdev_workers_create(1, &e->workers), 0)) {
		e->workers = NULL;
		return false;
	}
	if (!CHECK_EQ(umdev_builtin_mtty.init(), 0))
		return false;
	e->started = true;
	if (!CHECK_EQ(mdev_parent_get_by_name(MTTY_PARENT_NAME, &e->parent), 0)) {
		e->parent = NULL;
		return false;
	}
	e->type[0] = mdev_parent_find_type(e->parent, MTTY_TYPE_1);
	e->type[1] = mdev_parent_find_type(e->parent, MTTY_TYPE_2);
	return CHECK(e->type[0]) && CHECK(e->type[1]);
}

void vu_env_stop(struct vu_env *e)
{
	for (unsigned int i = 0; i < VU_MAX_DEVS; i++)
		if (e->devs[i])
			vu_release(e->devs[i]);
	mdev_parent_put(e->parent);
	if (e->started)
		umdev_builtin_mtty.exit();
	umdev_workers_destroy(e->workers);
	memset(e, 0, sizeof(*e));
}

/* ---- devices ---- */

void vu_make_uuid(unsigned int n, char text[UUID_STRING_LEN + 1], guid_t *uuid)
{
	snprintf(text, UUID_STRING_LEN + 1, "6d747479-7675-4000-8000-%012x", n);
	if (mdev_uuid_parse(text, uuid))
		abort();
}

/* A new device record of @e for device @n; NULL when the case has too many. */
static struct vu_dev *dev_new(struct vu_env *e, unsigned int ports, unsigned int n,
			      guid_t *uuid)
{
	struct vu_dev *d;

	for (unsigned int i = 0; i < VU_MAX_DEVS; i++) {
		if (e->devs[i])
			continue;
		d = calloc(1, sizeof(*d));
		if (!CHECK(d))
			return NULL;
		d->env = e;
		d->ports = ports;
		vu_make_uuid(n, d->uuid, uuid);
		e->devs[i] = d;
		return d;
	}
	CHECK(!"too many devices");
	return NULL;
}

/* Finds the vfio device of @d, or releases @d. */
static struct vu_dev *get_vdev(struct vu_dev *d)
{
	if (!CHECK_EQ(vfio_device_get_from_name(d->uuid, &d->vdev), 0)) {
		d->vdev = NULL;
		vu_release(d);
		return NULL;
	}
	return d;
}

struct vu_dev *vu_create(struct vu_env *e, unsigned int ports, unsigned int n)
{
	struct vu_dev *d;
	guid_t uuid;

	d = dev_new(e, ports, n, &uuid);
	if (!d)
		return NULL;
	if (!CHECK_EQ(mdev_device_create(e->type[ports - 1], &uuid, &d->mdev), 0)) {
		d->mdev = NULL;
		vu_release(d);
		return NULL;
	}
	return get_vdev(d);
}

struct vu_dev *vu_adopt(struct vu_env *e, unsigned int ports, unsigned int n)
{
	struct vu_dev *d;
	guid_t uuid;

	d = dev_new(e, ports, n, &uuid);
	if (!d)
		return NULL;
	if (!CHECK_EQ(mdev_device_get_by_uuid(&uuid, &d->mdev), 0)) {
		d->mdev = NULL;
		vu_release(d);
		return NULL;
	}
	return get_vdev(d);
}

bool vu_connect(struct vu_dev *d)
{
	int sv[2];

	if (!d->srv) {
		struct vfio_user_server_config cfg = {
			.socket_path = NULL, /* clients come through add_client */
			.workers = d->env->workers,
			.owner = (uid_t)-1,
			.group = (gid_t)-1,
		};

		if (!CHECK_EQ(vfio_user_server_create(d->vdev, &cfg, &d->srv), 0)) {
			d->srv = NULL;
			return false;
		}
	}
	if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0))
		return false;
	if (!CHECK_EQ(vfio_user_server_add_client(d->srv, sv[1]), 0)) {
		close(sv[0]);
		return false;
	}
	if (!CHECK_EQ(umdev_client_connect_fd(sv[0], &d->c), 0)) {
		d->c = NULL;
		return false;
	}
	umdev_client_set_timeout(d->c, VU_WAIT_MS);
	return true;
}

struct vu_dev *vu_open(struct vu_env *e, unsigned int ports, unsigned int n)
{
	struct vu_dev *d = vu_create(e, ports, n);

	if (d && !vu_connect(d)) {
		vu_destroy(d);
		return NULL;
	}
	return d;
}

bool vu_disconnect(struct vu_dev *d)
{
	struct timespec step = { .tv_nsec = 1000000 };

	umdev_client_close(d->c);
	d->c = NULL;
	if (!d->srv)
		return true;
	/* the server's worker sees the hang-up and closes the device: bounded */
	for (int i = 0; i < VU_WAIT_MS && vfio_user_server_has_client(d->srv); i++)
		nanosleep(&step, NULL);
	return CHECK(!vfio_user_server_has_client(d->srv));
}

void vu_unserve(struct vu_dev *d)
{
	umdev_client_close(d->c);
	d->c = NULL;
	vfio_user_server_destroy(d->srv);
	d->srv = NULL;
	if (d->vdev)
		vfio_put_device(d->vdev);
	d->vdev = NULL;
}

void vu_release(struct vu_dev *d)
{
	struct vu_env *e = d->env;

	vu_unserve(d);
	mdev_device_put(d->mdev);
	for (unsigned int i = 0; i < VU_MAX_DEVS; i++)
		if (e->devs[i] == d)
			e->devs[i] = NULL;
	free(d);
}

void vu_destroy(struct vu_dev *d)
{
	if (!d)
		return;
	vu_unserve(d);
	if (d->mdev)
		CHECK_EQ(mdev_device_remove(d->mdev), 0);
	vu_release(d);
}

/* ---- region accesses ---- */

uint8_t vu_rd(struct vu_dev *d, unsigned int port, unsigned int reg)
{
	uint8_t b = 0;

	CHECK_EQ(umdev_client_region_read(d->c, VU_BAR(port), reg, &b, 1), 1);
	return b;
}

void vu_wr(struct vu_dev *d, unsigned int port, unsigned int reg, uint8_t val)
{
	CHECK_EQ(umdev_client_region_write(d->c, VU_BAR(port), reg, &val, 1, false), 1);
}

void vu_wr_posted(struct vu_dev *d, unsigned int port, unsigned int reg, uint8_t val)
{
	CHECK_EQ(umdev_client_region_write(d->c, VU_BAR(port), reg, &val, 1, true), 1);
}

uint32_t vu_cfg_rd(struct vu_dev *d, unsigned int off, unsigned int len)
{
	uint8_t b[4] = { 0 };
	uint32_t v = 0;

	CHECK_EQ(umdev_client_region_read(d->c, VU_CFG, off, b, len), (int)len);
	for (unsigned int i = len; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

void vu_cfg_wr(struct vu_dev *d, unsigned int off, uint32_t val, unsigned int len)
{
	uint8_t b[4];

	for (unsigned int i = 0; i < len; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	CHECK_EQ(umdev_client_region_write(d->c, VU_CFG, off, b, len, false), (int)len);
}

/* ---- interrupts ---- */

int efd_new(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		abort();
	return fd;
}

uint64_t efd_take(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

bool fd_wait(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, VU_WAIT_MS);
	while (r < 0 && errno == EINTR);
	return r == 1;
}

int vu_irq_fd(struct vu_dev *d, uint32_t index, uint32_t action, int fd)
{
	int32_t fds[1] = { fd };

	return umdev_client_set_irqs(d->c, index, VFIO_IRQ_SET_DATA_EVENTFD | action, 0, 1, fds);
}

int vu_irq_none(struct vu_dev *d, uint32_t index, uint32_t action, uint32_t start,
		uint32_t count)
{
	return umdev_client_set_irqs(d->c, index, VFIO_IRQ_SET_DATA_NONE | action, start, count,
				     NULL);
}

int vu_irq_bool(struct vu_dev *d, uint32_t index, uint32_t action, uint8_t value)
{
	return umdev_client_set_irqs(d->c, index, VFIO_IRQ_SET_DATA_BOOL | action, 0, 1, &value);
}

bool vu_unmask(struct vu_dev *d)
{
	return CHECK_EQ(vu_irq_none(d, INTX, UNMASK, 0, 1), 0);
}

/* ---- migration ---- */

/* A feature request with up to 24 bytes of data. */
union feature_buf {
	struct vfio_device_feature hdr;
	uint64_t raw[4];
};

int vu_feature_get(struct vu_dev *d, uint32_t feature, void *out, size_t len)
{
	union feature_buf b;
	int ret;

	memset(&b, 0, sizeof(b));
	b.hdr.argsz = (uint32_t)(sizeof(b.hdr) + len);
	b.hdr.flags = VFIO_DEVICE_FEATURE_GET | feature;
	ret = umdev_client_device_feature(d->c, &b.hdr);
	if (ret < 0)
		return ret;
	if (!CHECK_EQ(ret, (int)(sizeof(b.hdr) + len)))
		return -EPROTO;
	memcpy(out, b.hdr.data, len);
	return 0;
}

int vu_mig_set(struct vu_dev *d, uint32_t state)
{
	struct vfio_device_feature_mig_state st = { .device_state = state, .data_fd = -1 };
	union feature_buf b;
	int ret;

	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(b.hdr) + sizeof(st);
	b.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	memcpy(b.hdr.data, &st, sizeof(st));
	ret = umdev_client_device_feature(d->c, &b.hdr);
	return ret < 0 ? ret : 0;
}

uint32_t vu_mig_get(struct vu_dev *d)
{
	struct vfio_device_feature_mig_state st = { 0 };

	if (!CHECK_EQ(vu_feature_get(d, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st)),
		      0))
		return VFIO_DEVICE_STATE_ERROR;
	return st.device_state;
}

int vu_mig_read_all(struct vu_dev *d, uint8_t *buf, size_t cap, uint32_t chunk)
{
	size_t got = 0;

	for (;;) {
		uint32_t want = chunk < cap - got ? chunk : (uint32_t)(cap - got);
		uint8_t more;
		int n;

		if (!want) /* full: the stream must end here */
			n = umdev_client_mig_data_read(d->c, &more, 1);
		else
			n = umdev_client_mig_data_read(d->c, buf + got, want);
		if (n > 0 && !want)
			return -ENOBUFS;
		if (n < 0)
			return n;
		if (n == 0)
			return (int)got;
		got += (size_t)n;
	}
}

int vu_mig_write_all(struct vu_dev *d, const uint8_t *buf, size_t len, uint32_t chunk)
{
	for (size_t done = 0; done < len;) {
		uint32_t n = chunk < len - done ? chunk : (uint32_t)(len - done);
		int ret = umdev_client_mig_data_write(d->c, buf + done, n);

		if (ret)
			return ret;
		done += n;
	}
	return 0;
}

/* ---- attributes ---- */

ssize_t vu_attr_show(struct vu_env *e, struct vu_dev *d, const char *name, char *buf)
{
	struct attribute *a =
		attr_find(mdev_parent_get_ops(e->parent)->mdev_attr_groups, "vendor", name);
	ssize_t n;

	buf[0] = '\0';
	if (!a)
		return -ENOENT;
	n = mdev_dev_attr_show(mdev_dev(d->mdev), a, buf);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

ssize_t vu_attr_store(struct vu_env *e, struct vu_dev *d, const char *name, const char *text)
{
	struct attribute *a =
		attr_find(mdev_parent_get_ops(e->parent)->mdev_attr_groups, "vendor", name);

	if (!a)
		return -ENOENT;
	return mdev_dev_attr_store(mdev_dev(d->mdev), a, text, strlen(text));
}

long vu_available(struct vu_env *e, unsigned int ports)
{
	const struct attribute_group *groups[] = { mtype_get_group(e->type[ports - 1]), NULL };
	struct attribute *a = attr_find(groups, NULL, "available_instances");
	char buf[UMDEV_ATTR_BUF_SIZE + 1];
	char *end;
	ssize_t n;
	long v;

	if (!CHECK(a))
		return -1;
	n = mdev_type_attr_show(e->type[ports - 1], a, buf);
	if (!CHECK(n > 1 && n < (ssize_t)sizeof(buf)))
		return -1;
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	if (!CHECK(end != buf && !strcmp(end, "\n")))
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
