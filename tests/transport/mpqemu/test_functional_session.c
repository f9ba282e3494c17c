/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mpqemu server as QEMU's proxy uses it, part 2: the session. Guest RAM through
 * SYNC_SYSMEM, seen by the driver with vfio_dma_rw(); INTx through SET_IRQFD with mtty,
 * automasked and re-fired through the resample eventfd; one client at a time (on this and
 * on another transport), reconnecting, disconnecting from the server's side, the listening
 * socket's modes, and devices the transport cannot serve.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/serial_reg.h>

#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_dma.h>

#include "bardev.h"
#include "mpq_client.h"

#define PORT0 0xc010u
#define PORT1 0xc018u

/* The byte pattern of memfd_pattern() at offset @i. */
static uint8_t pat(size_t i, uint8_t seed)
{
	return (uint8_t)(i * 7 + seed);
}

/* @len bytes at @iova through the driver's DMA API match the pattern at @off. */
static bool dma_sees(struct vfio_device *vdev, uint64_t iova, size_t off, size_t len,
		     uint8_t seed)
{
	uint8_t buf[256];

	if (len > sizeof(buf) || !CHECK_EQ(vfio_dma_rw(vdev, iova, buf, len, false), 0))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!CHECK_EQ(buf[i], pat(off + i, seed)))
			return false;
	return true;
}

/* ---- SYNC_SYSMEM ---- */

MQ_TEST(sysmem_dma, mq_null)
{
	struct vfio_device *vdev = h->dev[0].vdev;
	int a = memfd_pattern(0x10000, 1), b = memfd_pattern(0x4000, 2);
	int fd = mq_client(h, 0), before, fds[3];
	uint64_t gpa[3], size[3];
	int64_t off[3];
	uint8_t *p, byte;

	REQUIRE(fd >= 0);
	/* as QEMU sends them: low RAM, and RAM above 1 MiB at its offset in the backend */
	gpa[0] = 0;
	size[0] = 0x8000;
	off[0] = 0;
	gpa[1] = 0x100000;
	size[1] = 0x3000;
	off[1] = 0x1000;
	fds[0] = a;
	fds[1] = b;
	before = count_fds();
	SYSMEM(fd, 2, gpa, size, off, fds);
	CHECK(ALIVE(fd, NULL_ID));
	CHECK_EQ(count_fds(), before); /* the received copies are closed once mapped */
	CHECK(dma_sees(vdev, 0x10, 0x10, 64, 1));
	CHECK(dma_sees(vdev, 0x100000 + 0x200, 0x1200, 64, 2));
	CHECK(dma_sees(vdev, 0x7ff0, 0x7ff0, 16, 1));
	CHECK_EQ(vfio_dma_rw(vdev, 0x8000, &byte, 1, false), -EINVAL); /* between sections */
	/* a device write lands in the client's memory */
	CHECK_EQ(vfio_dma_rw(vdev, 0x100000 + 0x20, "hello", 5, true), 0);
	p = mmap(NULL, 0x4000, PROT_READ, MAP_SHARED, b, 0);
	REQUIRE(p != MAP_FAILED);
	CHECK(!memcmp(p + 0x1020, "hello", 5));
	munmap(p, 0x4000);

	/* the next layout replaces the first; a zero-size section is skipped */
	gpa[0] = 0x200000;
	size[0] = 0x10000;
	off[0] = 0;
	gpa[1] = 0x300000;
	size[1] = 0;
	off[1] = 0;
	gpa[2] = 0x100000;
	size[2] = 0x3000;
	off[2] = 0x1000;
	fds[0] = a;
	fds[1] = a;
	fds[2] = b;
	SYSMEM(fd, 3, gpa, size, off, fds);
	CHECK(ALIVE(fd, NULL_ID));
	CHECK_EQ(count_fds(), before);
	CHECK_EQ(vfio_dma_rw(vdev, 0x10, &byte, 1, false), -EINVAL);
	CHECK_EQ(vfio_dma_rw(vdev, 0x300000, &byte, 1, false), -EINVAL);
	CHECK(dma_sees(vdev, 0x200000 + 0xfff0, 0xfff0, 16, 1));
	/* the section that stayed still holds the device's write */
	{
		char hello[6] = { 0 };

		CHECK_EQ(vfio_dma_rw(vdev, 0x100000 + 0x20, hello, 5, false), 0);
		CHECK_STR(hello, "hello");
	}

	/* the client goes: its memory goes with it */
	close(fd);
	CHECK(mq_wait_gone(h, 0));
	CHECK_EQ(vfio_dma_rw(vdev, 0x200000, &byte, 1, false), -EINVAL);
	close(a);
	close(b);
}

/* The same layout again and again (QEMU resends it on every memory commit). */
MQ_TEST(sysmem_repeated, mq_null)
{
	struct vfio_device *vdev = h->dev[0].vdev;
	int a = memfd_pattern(0x2000, 5), fd = mq_client(h, 0);
	const uint64_t gpa = 0x1000, size = 0x2000;
	const int64_t off = 0;

	REQUIRE(fd >= 0);
	for (int i = 0; i < 100; i++)
		SYSMEM(fd, 1, &gpa, &size, &off, &a);
	CHECK(ALIVE(fd, NULL_ID));
	CHECK(dma_sees(vdev, 0x1000, 0, 32, 5));
	CHECK_EQ(mq_stats(h, 0).messages, 101);
	close(fd);
	close(a);
}

/* A section that is not made of whole pages is left out; the rest of the layout is mapped. */
MQ_TEST(sysmem_unaligned_left_out, mq_null)
{
	struct vfio_device *vdev = h->dev[0].vdev;
	int a = memfd_pattern(0x4000, 6), fd = mq_client(h, 0), fds[3] = { a, a, a };
	const uint64_t gpa[3] = { 0x10000, 0x20800, 0x30000 }, size[3] = { 0x1000, 0x800, 0x1800 };
	const int64_t off[3] = { 0x1000, 0, 0 };
	uint8_t byte;

	REQUIRE(fd >= 0);
	SYSMEM(fd, 3, gpa, size, off, fds);
	CHECK(ALIVE(fd, NULL_ID));
	CHECK(dma_sees(vdev, 0x10000, 0x1000, 32, 6));
	CHECK_EQ(vfio_dma_rw(vdev, 0x20800, &byte, 1, false), -EINVAL);
	CHECK_EQ(vfio_dma_rw(vdev, 0x30000, &byte, 1, false), -EINVAL);
	close(fd);
	close(a);
}

/* ---- INTx ---- */

MQ_TEST(intx_mtty, mq_mtty2)
{
	int fd = mq_client(h, 0), intx = efd_new(), resample = efd_new(), before;
	uint64_t one = 1;

	REQUIRE(fd >= 0);
	CHECK_EQ(CFG_WR(fd, 0x10, PORT0, 4), 0);
	CHECK_EQ(CFG_WR(fd, 0x14, PORT1, 4), 0);
	before = count_fds();
	SET_IRQFD(fd, intx, resample);
	CHECK(ALIVE(fd, MTTY_ID));
	/* the driver keeps a duplicate of the trigger, the server the resample fd */
	CHECK_EQ(count_fds(), before + 2);
	CHECK_EQ(efd_take(intx), 0);

	/* THRE of an idle transmitter, enabled: the line goes up, INTx fires and masks */
	CHECK_EQ(IO_WR(fd, PORT0 + UART_IER, UART_IER_THRI, 1), 0);
	CHECK(fd_readable(intx, MQ_TIMEOUT_MS));
	CHECK_EQ(efd_take(intx), 1);
	CHECK_EQ(IO_RD(fd, PORT0 + UART_LSR, 1) & UART_LSR_THRE, UART_LSR_THRE);
	CHECK(!fd_readable(intx, MQ_QUIET_MS)); /* masked */

	/* the guest's EOI resamples: still asserted, so it fires again, as often as asked */
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(write(resample, &one, sizeof(one)), 8);
		CHECK(fd_readable(intx, MQ_TIMEOUT_MS));
		CHECK_EQ(efd_take(intx), 1);
	}

	/* reading IIR takes the THRE interrupt: the line drops, a resample fires nothing */
	CHECK_EQ(IO_RD(fd, PORT0 + UART_IIR, 1) & UART_IIR_ID, UART_IIR_THRI);
	CHECK_EQ(write(resample, &one, sizeof(one)), 8);
	mq_barrier(h, 0);
	CHECK(!fd_readable(intx, MQ_QUIET_MS));

	/* received data on port 1, enabled: fires at once (unmasked now) */
	CHECK_EQ(IO_WR(fd, PORT1 + UART_IER, UART_IER_RDI, 1), 0);
	CHECK_EQ(IO_WR(fd, PORT1 + UART_TX, 'i', 1), 0);
	CHECK(fd_readable(intx, MQ_TIMEOUT_MS));
	CHECK_EQ(efd_take(intx), 1);
	CHECK_EQ(IO_RD(fd, PORT1 + UART_RX, 1), 'i');
	CHECK_EQ(write(resample, &one, sizeof(one)), 8);
	mq_barrier(h, 0);
	CHECK(!fd_readable(intx, MQ_QUIET_MS));

	/* the client goes: the trigger is dropped, the resample fd closed (and both ends of
	 * the socketpair) */
	close(fd);
	CHECK(mq_wait_gone(h, 0));
	CHECK_EQ(count_fds(), before - 2);
	close(intx);
	close(resample);
}

/* A second SET_IRQFD replaces the first pair. */
MQ_TEST(intx_rewired, mq_mtty1)
{
	int fd = mq_client(h, 0), intx1 = efd_new(), rs1 = efd_new(), intx2 = efd_new(),
	    rs2 = efd_new(), before = count_fds();
	uint64_t one = 1;

	REQUIRE(fd >= 0);
	CHECK_EQ(CFG_WR(fd, 0x10, PORT0, 4), 0);
	SET_IRQFD(fd, intx1, rs1);
	SET_IRQFD(fd, intx2, rs2);
	CHECK(ALIVE(fd, MTTY_ID));
	CHECK_EQ(count_fds(), before + 2);
	CHECK_EQ(IO_WR(fd, PORT0 + UART_IER, UART_IER_THRI, 1), 0);
	CHECK(fd_readable(intx2, MQ_TIMEOUT_MS));
	CHECK_EQ(efd_take(intx2), 1);
	CHECK_EQ(efd_take(intx1), 0);
	/* the old resample fd is not watched any more */
	CHECK_EQ(write(rs1, &one, sizeof(one)), 8);
	mq_barrier(h, 0);
	CHECK(!fd_readable(intx2, MQ_QUIET_MS));
	CHECK_EQ(write(rs2, &one, sizeof(one)), 8);
	CHECK(fd_readable(intx2, MQ_TIMEOUT_MS));
	close(fd);
	CHECK(mq_wait_gone(h, 0));
	CHECK_EQ(count_fds(), before - 2); /* the eventfds and the socketpair's ends */
	close(intx1);
	close(rs1);
	close(intx2);
	close(rs2);
}

/* A device without INTx (null): SET_IRQFD is ignored and its fds are closed. */
MQ_TEST(intx_none, mq_null)
{
	int fd = mq_client(h, 0), intx = efd_new(), resample = efd_new(), before = count_fds();

	REQUIRE(fd >= 0);
	SET_IRQFD(fd, intx, resample);
	CHECK(ALIVE(fd, NULL_ID));
	CHECK_EQ(count_fds(), before);
	close(fd);
	close(intx);
	close(resample);
}

/* ---- clients ---- */

/* A second client is closed at once (mpqemu cannot say why); the first goes on. */
TEST(second_client_refused)
{
	const struct mq_driver *drivers[] = { &mq_mtty2 };
	int a = -1, b, sv[2];
	struct mq h;

	if (!mq_start(&h, 1, drivers, true))
		goto out;
	a = mq_connect(&h, 0);
	if (a < 0)
		goto out;
	CHECK_EQ(CFG_WR(a, 0x10, PORT0, 4), 0);
	/* through the socket: accepted by the kernel, then closed */
	b = mq_connect(&h, 0);
	if (b >= 0) {
		CHECK(EXPECT_EOF(b));
		close(b);
	}
	/* through add_client: told so */
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK_EQ(mpqemu_server_add_client(h.dev[0].srv, sv[1]), -EBUSY);
	CHECK(EXPECT_EOF(sv[0]));
	close(sv[0]);
	CHECK_EQ(mq_stats(&h, 0).refused, 2);
	CHECK_EQ(mq_stats(&h, 0).connections, 1);
	CHECK(mpqemu_server_has_client(h.dev[0].srv));
	CHECK_EQ(CFG_RD(a, 0x10, 4), PORT0 | 1);
out:
	if (a >= 0)
		close(a);
	mq_stop(&h);
}

/* The next client finds the device as the last one left it; its memory is gone. */
MQ_TEST(reconnect, mq_mtty2)
{
	int fd = mq_client(h, 0);

	REQUIRE(fd >= 0);
	CHECK_EQ(CFG_WR(fd, 0x14, PORT1, 4), 0);
	CHECK_EQ(IO_WR(fd, PORT1 + UART_SCR, 0x42, 1), 0);
	close(fd);
	REQUIRE(mq_wait_gone(h, 0));
	CHECK(!vfio_device_is_open(h->dev[0].vdev));
	for (int round = 0; round < 3; round++) {
		fd = mq_client(h, 0);
		REQUIRE(fd >= 0);
		CHECK_EQ(CFG_RD(fd, 0x14, 4), PORT1 | 1);
		CHECK_EQ(IO_RD(fd, PORT1 + UART_SCR, 1), 0x42);
		close(fd);
		CHECK(mq_wait_gone(h, 0));
	}
	CHECK_EQ(mq_stats(h, 0).connections, 4);
	CHECK_EQ(mq_stats(h, 0).disconnects, 4);
}

/* The device open on another transport (here, directly): refused until it is closed. */
MQ_TEST(busy_on_another_transport, mq_null)
{
	struct vfio_dma_space *space;
	int sv[2], fd;

	REQUIRE(vfio_dma_space_create(&space) == 0);
	REQUIRE(vfio_device_open(h->dev[0].vdev, space) == 0);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK_EQ(mpqemu_server_add_client(h->dev[0].srv, sv[1]), -EBUSY);
	CHECK(EXPECT_EOF(sv[0]));
	close(sv[0]);
	CHECK(!mpqemu_server_has_client(h->dev[0].srv));
	vfio_device_close(h->dev[0].vdev);
	vfio_dma_space_destroy(space);
	fd = mq_client(h, 0);
	if (fd >= 0) {
		CHECK(ALIVE(fd, NULL_ID));
		close(fd);
	}
}

/* The server lets go of its client (a daemon removing the device): EOF, device closed. */
MQ_TEST(server_disconnects, mq_mtty1)
{
	int fd = mq_client(h, 0), intx = efd_new(), resample = efd_new(), before = count_fds();

	REQUIRE(fd >= 0);
	SET_IRQFD(fd, intx, resample);
	CHECK(ALIVE(fd, MTTY_ID));
	mpqemu_server_disconnect(h->dev[0].srv);
	CHECK(!mpqemu_server_has_client(h->dev[0].srv));
	CHECK(!vfio_device_is_open(h->dev[0].vdev));
	CHECK(EXPECT_EOF(fd));
	CHECK_EQ(count_fds(), before - 1); /* the server's end of the socketpair too */
	mpqemu_server_disconnect(h->dev[0].srv); /* no client: nothing */
	close(fd);
	fd = mq_client(h, 0);
	if (fd >= 0) {
		CHECK(ALIVE(fd, MTTY_ID));
		close(fd);
	}
	close(intx);
	close(resample);
}

/* Destroying the server with a client: the client sees EOF. */
TEST(destroy_with_client)
{
	const struct mq_driver *drivers[] = { &mq_null };
	struct mq h;
	int fd = -1;

	if (mq_start(&h, 1, drivers, false)) {
		fd = mq_client(&h, 0);
		if (fd >= 0)
			CHECK(ALIVE(fd, NULL_ID));
	}
	mq_stop(&h);
	if (fd >= 0) {
		CHECK(EXPECT_EOF(fd));
		close(fd);
	}
}

/* ---- the socket ---- */

TEST(socket_modes)
{
	const struct mq_driver *drivers[] = { &mq_null };
	struct mpqemu_server *srv = NULL;
	struct mpqemu_server_config cfg = { .owner = getuid(), .group = getgid() };
	char path[192];
	struct stat st;
	struct mq h;
	int fd;

	if (!mq_start(&h, 1, drivers, true))
		goto out;
	REQUIRE(stat(h.dev[0].path, &st) == 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
	/* with a group: 0660, owned as asked */
	snprintf(path, sizeof(path), "%s/group.sock", h.dir);
	cfg.socket_path = path;
	cfg.workers = h.workers;
	if (CHECK_EQ(mpqemu_server_create(h.dev[0].vdev, &cfg, &srv), 0)) {
		CHECK_EQ(stat(path, &st), 0);
		CHECK_EQ(st.st_mode & 0777, 0660);
		CHECK_EQ(st.st_uid, getuid());
		CHECK_EQ(st.st_gid, getgid());
		mpqemu_server_destroy(srv);
		CHECK(access(path, F_OK) < 0); /* unlinked */
	}
	/* a stale socket is replaced; anything else in the way is not */
	CHECK_EQ(mpqemu_server_create(h.dev[0].vdev, &cfg, &srv), 0);
	if (srv) {
		fd = open(path, O_WRONLY);
		CHECK(fd < 0); /* still a socket */
		mpqemu_server_destroy(srv);
	}
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_EQ(mpqemu_server_create(h.dev[0].vdev, &cfg, &srv), -EEXIST);
	unlink(path);
	/* the peer's credentials are ours: accepted */
	fd = mq_connect(&h, 0);
	if (fd >= 0) {
		CHECK(ALIVE(fd, NULL_ID));
		close(fd);
	}
	cfg.workers = NULL;
	CHECK_EQ(mpqemu_server_create(h.dev[0].vdev, &cfg, &srv), -EINVAL);
out:
	mq_stop(&h);
}

/* ---- devices the transport cannot serve ---- */

static void refused_device(const struct bardev_knobs *knobs, const char *name)
{
	const struct mq_driver *none[1] = { NULL };
	struct vfio_device *vdev = bardev_create(name, knobs);
	struct mq h;
	int sv[2], i;

	REQUIRE(vdev);
	if (mq_start(&h, 0, none, false) && (i = mq_serve(&h, vdev)) >= 0 &&
	    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0)) {
		CHECK_EQ(mpqemu_server_add_client(h.dev[i].srv, sv[1]), -ENODEV);
		CHECK(EXPECT_EOF(sv[0]));
		close(sv[0]);
		CHECK(!vfio_device_is_open(vdev));
		CHECK_EQ(mq_stats(&h, (unsigned int)i).refused, 1);
	}
	mq_stop(&h);
	bardev_destroy(vdev);
}

TEST(not_a_pci_device)
{
	const struct bardev_knobs knobs = { .not_pci = true };

	refused_device(&knobs, "bardev-not-pci");
}

TEST(config_region_too_small)
{
	const struct bardev_knobs knobs = { .cfg_size = 0x20 };

	refused_device(&knobs, "bardev-small-cfg");
}
