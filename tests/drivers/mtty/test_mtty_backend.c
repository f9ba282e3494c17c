/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty's backends: the syntax of port<n>_backend as untrusted input, a port connected to a
 * host pty (bytes both ways, received ones raising RDI through the I/O thread, flow control
 * towards the guest, MCR.LOOP keeping bytes inside), a port connected to a UNIX socket
 * (both ways, the peer going away, reconnecting), rewiring a port that holds data, and a
 * stopped device that receives nothing until it runs. The guest reads what the host sent
 * through its interrupt: it drains the receiver, unmasks INTx, and waits for the eventfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mtty_fixture.h"
#include "mtty_suite_common.h"

#define INTX VFIO_PCI_INTX_IRQ_INDEX

static char buf[UMDEV_ATTR_BUF_SIZE + 1];

/* ---- helpers ---- */

/* Reads exactly @n bytes from @fd, waiting up to WAIT_TIMEOUT_S for each; true if all came. */
static bool host_read(int fd, uint8_t *out, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r;

		if (!fd_wait(fd))
			return false;
		r = read(fd, out + got, n - got);
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static bool host_write(int fd, const void *data, size_t n)
{
	return write(fd, data, n) == (ssize_t)n;
}

/* Sets up port @p for receiving through INTx (@efd): FIFOs, 8N1, RDI enabled. */
static bool guest_setup(struct dev *d, unsigned int p, int efd)
{
	reg_wr(d, p, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	reg_wr(d, p, UART_LCR, UART_LCR_WLEN8);
	reg_wr(d, p, UART_IER, UART_IER_RDI);
	return CHECK_EQ(irq_set_fd(d, INTX, VFIO_IRQ_SET_ACTION_TRIGGER, efd), 0);
}

/*
 * Receives @n bytes on port @p as an interrupt-driven driver does: reads while LSR says
 * there is data, else unmasks INTx and waits for it. Never sees an overrun.
 */
static bool guest_receive(struct dev *d, unsigned int p, int efd, uint8_t *out, size_t n)
{
	size_t got = 0;

	while (got < n) {
		uint8_t lsr = reg_rd(d, p, UART_LSR);

		if (!CHECK(!(lsr & UART_LSR_OE)))
			return false;
		if (lsr & UART_LSR_DR) {
			out[got++] = reg_rd(d, p, UART_RX);
			continue;
		}
		if (!CHECK_EQ(irq_set_none(d, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1), 0) ||
		    !CHECK(fd_wait(efd)))
			return false;
		efd_take(efd);
	}
	return true;
}

static void guest_send(struct dev *d, unsigned int p, const char *text)
{
	for (; *text; text++)
		reg_wr(d, p, UART_TX, (uint8_t)*text);
}

/* Opens the pty of port @p (from its port<p>_pty attribute) in raw mode; -1 on failure. */
static int open_pty(struct fixture *f, struct dev *d, unsigned int p)
{
	char name[16];

	snprintf(name, sizeof(name), "port%u_pty", p);
	if (!CHECK(dev_attr_show(f, d, name, buf) > 9) || !CHECK(!strncmp(buf, "/dev/pts/", 9)))
		return -1;
	return pty_open_raw(buf);
}

/* A listening UNIX socket in a new temporary directory @dir, at @path. */
static int listen_unix(char dir[64], char path[96])
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	strcpy(dir, "/tmp/umdev-mtty-XXXXXX");
	if (!CHECK(mkdtemp(dir)))
		return -1;
	snprintf(path, 96, "%s/console.sock", dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!CHECK(fd >= 0))
		return -1;
	if (!CHECK_EQ(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0) ||
	    !CHECK_EQ(listen(fd, 4), 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void unlisten_unix(int fd, const char *dir, const char *path)
{
	close(fd);
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(rmdir(dir), 0);
}

/* Accepts one connection, waiting up to WAIT_TIMEOUT_S; -1 on failure. */
static int accept_one(int lfd)
{
	if (!CHECK(fd_wait(lfd)))
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

/* ---- the attribute ---- */

MTTY_TEST(backend_syntax)
{
	static const char *const bad[] = {
		"", "\n", "pty\n\n", "PTY", " pty", "pty ", "loop", "loopback\r\n",
		"unix", "unix:", "unix:\n", "unix:relative/path", "unix:./x", "unix:/tmp/a\tb",
		"unix:/tmp/a\nb", "tcp:localhost:23", "file:/tmp/x",
	};
	char longpath[160];
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_EQ(dev_attr_store(f, &d, "port0_backend", bad[i]), -EINVAL))
			tap_diag("accepted '%s'", bad[i]);
	CHECK_EQ(dev_attr_store_n(f, &d, "port0_backend", "pty\0", 4), -EINVAL);
	CHECK_EQ(dev_attr_store_n(f, &d, "port0_backend", "unix:/a\0b", 9), -EINVAL);
	/* a path that does not fit sun_path */
	memset(longpath, 'x', sizeof(longpath));
	memcpy(longpath, "unix:/", 6);
	longpath[5 + 108] = '\0';
	CHECK_EQ(dev_attr_store(f, &d, "port0_backend", longpath), -ENAMETOOLONG);
	longpath[5 + 107] = '\0'; /* 107 bytes and the NUL: fits, but nobody listens */
	CHECK_EQ(dev_attr_store(f, &d, "port0_backend", longpath), -ENOENT);
	CHECK_EQ(dev_attr_store(f, &d, "port0_backend", "unix:/nonexistent/sock"), -ENOENT);
	/* nothing changed */
	CHECK_EQ(dev_attr_show(f, &d, "port0_backend", buf), 9);
	CHECK_STR(buf, "loopback\n");

	/* good values, with or without the newline echo adds; each read back */
	CHECK_EQ(dev_attr_store(f, &d, "port0_backend", "pty\n"), 4);
	CHECK_EQ(dev_attr_show(f, &d, "port0_backend", buf), 4);
	CHECK_STR(buf, "pty\n");
	/* a failed write keeps the backend that was there */
	CHECK_EQ(dev_attr_store(f, &d, "port0_backend", "unix:/nonexistent/sock"), -ENOENT);
	CHECK_STR((dev_attr_show(f, &d, "port0_backend", buf), buf), "pty\n");
	CHECK(dev_attr_show(f, &d, "port0_pty", buf) > 0);
	CHECK_EQ(dev_attr_store(f, &d, "port0_backend", "loopback"), 8);
	CHECK_STR((dev_attr_show(f, &d, "port0_backend", buf), buf), "loopback\n");
	CHECK_EQ(dev_attr_show(f, &d, "port0_pty", buf), 0);
	dev_destroy(&d);
}

/* ---- pty ---- */

MTTY_TEST(pty_both_ways)
{
	static const char out[] = "Linux version 6.1 (mtty console)\r\n";
	uint8_t got[64];
	int efd = efd_new(), pty;
	struct dev d;

	REQUIRE(dev_create(f, 2, 1, &d));
	REQUIRE_EQ(dev_attr_store(f, &d, "port1_backend", "pty"), 3);
	pty = open_pty(f, &d, 1);
	REQUIRE(pty >= 0);
	REQUIRE(guest_setup(&d, 1, efd));

	/* guest to host: the transmitter never waits, THRE stays up */
	guest_send(&d, 1, out);
	CHECK_EQ(reg_rd(&d, 1, UART_LSR), LSR_IDLE);
	CHECK(host_read(pty, got, sizeof(out) - 1));
	CHECK(!memcmp(got, out, sizeof(out) - 1));
	/* nothing looped back, and port 0 still loops */
	CHECK_EQ(reg_rd(&d, 1, UART_LSR) & UART_LSR_DR, 0);
	reg_wr(&d, 0, UART_TX, '0');
	CHECK_EQ(reg_rd(&d, 0, UART_RX), '0');

	/* host to guest, through the interrupt */
	CHECK(host_write(pty, "login: root\n", 12));
	CHECK(guest_receive(&d, 1, efd, got, 12));
	CHECK(!memcmp(got, "login: root\n", 12));
	dev_destroy(&d);
	close(pty);
	close(efd);
}

MTTY_TEST(pty_flow_control)
{
	uint8_t in[300], got[300];
	int efd = efd_new(), pty;
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	REQUIRE_EQ(dev_attr_store(f, &d, "port0_backend", "pty"), 3);
	pty = open_pty(f, &d, 0);
	REQUIRE(pty >= 0);
	REQUIRE(guest_setup(&d, 0, efd));
	/* far more than the FIFO holds: the rest waits in the pty, nothing overruns */
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 1);
	CHECK(host_write(pty, in, sizeof(in)));
	CHECK(guest_receive(&d, 0, efd, got, sizeof(got)));
	CHECK(!memcmp(got, in, sizeof(in)));
	dev_destroy(&d);
	close(pty);
	close(efd);
}

MTTY_TEST(pty_loop_mode_keeps_bytes_inside)
{
	uint8_t c;
	int pty;
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	REQUIRE_EQ(dev_attr_store(f, &d, "port0_backend", "pty"), 3);
	pty = open_pty(f, &d, 0);
	REQUIRE(pty >= 0);
	reg_wr(&d, 0, UART_MCR, UART_MCR_LOOP);
	reg_wr(&d, 0, UART_TX, 'L');
	CHECK_EQ(reg_rd(&d, 0, UART_LSR), UART_LSR_DR); /* looped: busy until read */
	CHECK_EQ(reg_rd(&d, 0, UART_RX), 'L');
	reg_wr(&d, 0, UART_MCR, 0);
	reg_wr(&d, 0, UART_TX, 'M');
	/* the first byte the host sees is the one sent after the loop ended */
	CHECK(host_read(pty, &c, 1));
	CHECK_EQ(c, 'M');
	dev_destroy(&d);
	close(pty);
}

MTTY_TEST(rewiring_keeps_received_bytes)
{
	uint8_t c;
	int pty;
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	reg_wr(&d, 0, UART_FCR, UART_FCR_ENABLE_FIFO);
	reg_wr(&d, 0, UART_TX, 'a');
	reg_wr(&d, 0, UART_TX, 'b');
	CHECK_EQ(reg_rd(&d, 0, UART_LSR), UART_LSR_DR);
	REQUIRE_EQ(dev_attr_store(f, &d, "port0_backend", "pty"), 3);
	pty = open_pty(f, &d, 0);
	REQUIRE(pty >= 0);
	/* the transmitter is off the loopback: idle at once; the bytes stay to be read */
	CHECK_EQ(reg_rd(&d, 0, UART_LSR), UART_LSR_DR | LSR_IDLE);
	CHECK_EQ(reg_rd(&d, 0, UART_RX), 'a');
	CHECK_EQ(reg_rd(&d, 0, UART_RX), 'b');
	/* back to the loopback: the pty is closed (its slave hangs up) */
	CHECK_EQ(dev_attr_store(f, &d, "port0_backend", "loopback\n"), 9);
	CHECK(fd_wait(pty));
	CHECK(read(pty, &c, 1) <= 0);
	reg_wr(&d, 0, UART_TX, 'c');
	CHECK_EQ(reg_rd(&d, 0, UART_RX), 'c');
	dev_destroy(&d);
	close(pty);
}

MTTY_TEST(stopped_device_receives_nothing)
{
	uint8_t got[4];
	int efd = efd_new(), pty;
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	REQUIRE_EQ(dev_attr_store(f, &d, "port0_backend", "pty"), 3);
	pty = open_pty(f, &d, 0);
	REQUIRE(pty >= 0);
	REQUIRE(guest_setup(&d, 0, efd));
	REQUIRE_EQ(mig_set(&d, VFIO_DEVICE_STATE_STOP), 0);
	CHECK(host_write(pty, "wait", 4));
	/* stopped: the device's state does not change, whatever the I/O thread sees */
	CHECK_EQ(reg_rd(&d, 0, UART_LSR), LSR_IDLE);
	CHECK_EQ(efd_take(efd), 0);
	/* running again: it arrives */
	REQUIRE_EQ(mig_set(&d, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK(guest_receive(&d, 0, efd, got, 4));
	CHECK(!memcmp(got, "wait", 4));
	dev_destroy(&d);
	close(pty);
	close(efd);
}

/* ---- UNIX socket ---- */

MTTY_TEST(unix_socket_console)
{
	char dir[64], path[96], value[160];
	uint8_t got[16];
	int efd = efd_new(), lfd, conn;
	struct dev d;

	lfd = listen_unix(dir, path);
	REQUIRE(lfd >= 0);
	REQUIRE(dev_create(f, 2, 1, &d));
	snprintf(value, sizeof(value), "unix:%s\n", path);
	REQUIRE_EQ(dev_attr_store(f, &d, "port0_backend", value), (ssize_t)strlen(value));
	CHECK_EQ(dev_attr_show(f, &d, "port0_backend", buf), (ssize_t)strlen(value));
	CHECK_STR(buf, value);
	CHECK_EQ(dev_attr_show(f, &d, "port0_pty", buf), 0);
	conn = accept_one(lfd);
	REQUIRE(conn >= 0);
	REQUIRE(guest_setup(&d, 0, efd));

	guest_send(&d, 0, "ping");
	CHECK(host_read(conn, got, 4));
	CHECK(!memcmp(got, "ping", 4));
	CHECK(host_write(conn, "pong", 4));
	CHECK(guest_receive(&d, 0, efd, got, 4));
	CHECK(!memcmp(got, "pong", 4));

	/* the peer goes: what the port sends is dropped, without a SIGPIPE */
	close(conn);
	guest_send(&d, 0, "into the void");
	CHECK_EQ(reg_rd(&d, 0, UART_LSR), LSR_IDLE);

	/* writing the value again reconnects */
	REQUIRE_EQ(dev_attr_store(f, &d, "port0_backend", value), (ssize_t)strlen(value));
	conn = accept_one(lfd);
	REQUIRE(conn >= 0);
	guest_send(&d, 0, "back");
	CHECK(host_read(conn, got, 4));
	CHECK(!memcmp(got, "back", 4));
	dev_destroy(&d);
	close(conn);
	unlisten_unix(lfd, dir, path);
	close(efd);
}

MTTY_TEST(unix_socket_refused)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[64], path[96], value[160];
	int lfd, fd;
	struct dev d;

	lfd = listen_unix(dir, path);
	REQUIRE(lfd >= 0);
	close(lfd); /* the socket file stays, with nobody behind it */
	REQUIRE(dev_create(f, 1, 1, &d));
	snprintf(value, sizeof(value), "unix:%s", path);
	CHECK_EQ(dev_attr_store(f, &d, "port0_backend", value), -ECONNREFUSED);
	/* a datagram socket is not a console */
	CHECK_EQ(unlink(path), 0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	REQUIRE_EQ(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	CHECK_EQ(dev_attr_store(f, &d, "port0_backend", value), -EPROTOTYPE);
	CHECK_STR((dev_attr_show(f, &d, "port0_backend", buf), buf), "loopback\n");
	dev_destroy(&d);
	close(fd);
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(rmdir(dir), 0);
}
