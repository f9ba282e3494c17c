/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A port plugged into a host pty, with the guest on the far side of vfio-user. The backend
 * is chosen as an administrator will through umdevd's sysfs tree (vendor/port<n>_backend)
 * before the VMM connects; mtty opens the pty and the test plays the terminal on the slave
 * path that vendor/port<n>_pty gives. Bytes the guest transmits through BAR writes appear
 * on the terminal; bytes typed there arrive in the guest's RBR and raise RDI on INTx, which
 * the guest handles as its driver does (drain while LSR.DR, then the VMM's UNMASK). Also:
 * flow control towards the guest, and a migration into a device whose port is a pty (the
 * FIFO contents move, the backend stays the destination's).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mtty_suite_common.h"
#include "mtty_vu_fixture.h"

static char attr[UMDEV_ATTR_BUF_SIZE + 1];

/* Makes port @p of the (not yet served) device @d a pty and opens its slave in raw mode, as
 * a terminal program does; -1 on failure. */
static int plug_pty(struct vu_env *e, struct vu_dev *d, unsigned int p)
{
	char name[16];

	snprintf(name, sizeof(name), "port%u_backend", p);
	if (!CHECK_EQ(vu_attr_store(e, d, name, "pty\n"), 4) ||
	    !CHECK_EQ(vu_attr_show(e, d, name, attr), 4) || !CHECK_STR(attr, "pty\n"))
		return -1;
	snprintf(name, sizeof(name), "port%u_pty", p);
	if (!CHECK(vu_attr_show(e, d, name, attr) > 9) || !CHECK(!strncmp(attr, "/dev/pts/", 9)))
		return -1;
	return pty_open_raw(attr);
}

/* Reads exactly @n bytes from the terminal @fd, each wait bounded; true if all came. */
static bool host_read(int fd, uint8_t *out, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r;

		if (!fd_wait(fd))
			return false;
		r = read(fd, out + got, n - got);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* Nothing more waits on the terminal @fd. */
static bool host_quiet(int fd)
{
	uint8_t c;

	return read(fd, &c, 1) < 0 && errno == EAGAIN;
}

/* The guest's set-up of port @p for an interrupt-driven console, INTx on @efd. */
static bool guest_setup(struct vu_dev *d, unsigned int p, int efd)
{
	vu_wr_posted(d, p, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	vu_wr_posted(d, p, UART_LCR, UART_LCR_WLEN8);
	vu_wr_posted(d, p, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	vu_wr_posted(d, p, UART_IER, UART_IER_RDI | UART_IER_RLSI);
	return CHECK_EQ(vu_irq_fd(d, INTX, TRIGGER, efd), 0);
}

static void guest_send(struct vu_dev *d, unsigned int p, const char *text)
{
	for (; *text; text++)
		vu_wr_posted(d, p, UART_TX, (uint8_t)*text);
}

/*
 * Receives @n bytes on port @p as the guest's driver does: reads while LSR says there is
 * data, else unmasks INTx and waits (bounded) for it. An interrupt shows RDI in IIR, or
 * nothing when its bytes were already read by the loop (the eventfd counted an earlier
 * assertion of the line). Never sees an overrun.
 */
static bool guest_receive(struct vu_dev *d, unsigned int p, int efd, uint8_t *out, size_t n)
{
	size_t got = 0;

	while (got < n) {
		uint8_t lsr = vu_rd(d, p, UART_LSR), iir;

		if (!CHECK(!(lsr & UART_LSR_OE)))
			return false;
		if (lsr & UART_LSR_DR) {
			out[got++] = vu_rd(d, p, UART_RX);
			continue;
		}
		if (!vu_unmask(d) || !CHECK(fd_wait(efd)))
			return false;
		efd_take(efd);
		iir = vu_rd(d, p, UART_IIR);
		if (iir != (0xc0 | UART_IIR_RDI) && !CHECK_EQ(iir, 0xc0 | UART_IIR_NO_INT))
			return false;
	}
	return true;
}

VU_CASE(vu_pty_console)
{
	static const char boot[] = "Linux version 6.1 (ttyS1 on a pty)\r\n";
	uint8_t got[64];
	int efd = efd_new(), pty;
	struct vu_dev *d;

	REQUIRE((d = vu_create(e, 2, 1)));
	pty = plug_pty(e, d, 0);
	REQUIRE(pty >= 0);
	CHECK_EQ(vu_attr_show(e, d, "port1_pty", attr), 0); /* port 1 loops back */
	REQUIRE(vu_connect(d));
	REQUIRE(guest_setup(d, 0, efd));
	CHECK_EQ(efd_take(efd), 0);

	/* guest to host: the transmitter never waits, nothing loops back */
	guest_send(d, 0, boot);
	CHECK_EQ(vu_rd(d, 0, UART_LSR), LSR_IDLE);
	CHECK(host_read(pty, got, sizeof(boot) - 1));
	CHECK(!memcmp(got, boot, sizeof(boot) - 1));
	CHECK(host_quiet(pty));
	CHECK_EQ(vu_rd(d, 0, UART_IIR), 0xc1);
	CHECK_EQ(efd_take(efd), 0);
	/* port 1 still loops */
	vu_wr(d, 1, UART_TX, '1');
	CHECK_EQ(vu_rd(d, 1, UART_RX), '1');

	/* host to guest: a key raises RDI (INTx is unmasked, the line was low until now) */
	CHECK_EQ(write(pty, "q", 1), 1);
	CHECK(fd_wait(efd));
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_rd(d, 0, UART_IIR), 0xc0 | UART_IIR_RDI);
	CHECK_EQ(vu_rd(d, 0, UART_LSR), UART_LSR_DR | LSR_IDLE);
	CHECK_EQ(vu_rd(d, 0, UART_RX), 'q');
	CHECK_EQ(vu_rd(d, 0, UART_IIR), 0xc1);
	/* then a line, received as the driver does */
	CHECK_EQ(write(pty, "login: root\n", 12), 12);
	CHECK(guest_receive(d, 0, efd, got, 12));
	CHECK(!memcmp(got, "login: root\n", 12));
	CHECK_EQ(vu_rd(d, 0, UART_LSR), LSR_IDLE);

	/* THRE towards the host: the transmitter is always idle, so THRI fires at once */
	REQUIRE(vu_unmask(d)); /* the line is low: nothing more can come */
	efd_take(efd);
	vu_wr(d, 0, UART_IER, UART_IER_RDI | UART_IER_THRI);
	CHECK(fd_wait(efd));
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_rd(d, 0, UART_IIR), 0xc0 | UART_IIR_THRI);
	vu_wr(d, 0, UART_TX, '$');
	CHECK_EQ(vu_rd(d, 0, UART_IIR), 0xc0 | UART_IIR_THRI); /* idle again at once */
	CHECK(host_read(pty, got, 1));
	CHECK_EQ(got[0], '$');
	vu_destroy(d);
	close(pty);
	close(efd);
}

VU_CASE(vu_pty_flow_control)
{
	uint8_t in[300], got[300];
	int efd = efd_new(), pty;
	struct vu_dev *d;

	REQUIRE((d = vu_create(e, 1, 1)));
	pty = plug_pty(e, d, 0);
	REQUIRE(pty >= 0);
	REQUIRE(vu_connect(d));
	REQUIRE(guest_setup(d, 0, efd));
	/* far more than the FIFO holds: the rest waits in the pty, nothing overruns */
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 1);
	CHECK_EQ(write(pty, in, sizeof(in)), sizeof(in));
	CHECK(guest_receive(d, 0, efd, got, sizeof(got)));
	CHECK(!memcmp(got, in, sizeof(in)));
	vu_destroy(d);
	close(pty);
	close(efd);
}

VU_CASE(vu_pty_migration_keeps_the_backend)
{
	uint8_t s[MTTY_MIG_SIZE(1)], got[8];
	int efd = efd_new(), pty;
	struct vu_dev *src, *dst;

	/* the source loops back and holds "abc"; the destination's port is a pty */
	REQUIRE((src = vu_open(e, 1, 1)));
	REQUIRE((dst = vu_create(e, 1, 2)));
	pty = plug_pty(e, dst, 0);
	REQUIRE(pty >= 0);
	REQUIRE(vu_connect(dst));
	vu_wr_posted(src, 0, UART_FCR, UART_FCR_ENABLE_FIFO);
	vu_wr_posted(src, 0, UART_LCR, UART_LCR_WLEN8);
	guest_send(src, 0, "abc");
	vu_wr(src, 0, UART_IER, UART_IER_RDI);

	REQUIRE_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	REQUIRE_EQ(vu_mig_read_all(src, s, sizeof(s), 64), sizeof(s));
	CHECK_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_STOP), 0);
	REQUIRE_EQ(vu_irq_fd(dst, INTX, TRIGGER, efd), 0);
	REQUIRE_EQ(vu_mig_set(dst, VFIO_DEVICE_STATE_RESUMING), 0);
	REQUIRE_EQ(vu_mig_write_all(dst, s, sizeof(s), 64), 0);
	REQUIRE_EQ(vu_mig_set(dst, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(vu_attr_show(e, dst, "port0_backend", attr), 4);

	/* the bytes the guest had not read yet, with their interrupt */
	CHECK(fd_wait(efd));
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_rd(dst, 0, UART_IIR), 0xc4);
	/* the transmitter faces the pty now: idle while the FIFO still holds data */
	CHECK_EQ(vu_rd(dst, 0, UART_LSR), UART_LSR_DR | LSR_IDLE);
	for (unsigned int i = 0; i < 3; i++)
		got[i] = vu_rd(dst, 0, UART_RX);
	CHECK(!memcmp(got, "abc", 3));
	/* what the guest sends goes to the destination's terminal, and back */
	guest_send(dst, 0, "moved");
	CHECK_EQ(vu_rd(dst, 0, UART_LSR), LSR_IDLE);
	CHECK(host_read(pty, got, 5));
	CHECK(!memcmp(got, "moved", 5));
	CHECK_EQ(write(pty, "ok", 2), 2);
	CHECK(guest_receive(dst, 0, efd, got, 2));
	CHECK(!memcmp(got, "ok", 2));
	vu_destroy(src);
	vu_destroy(dst);
	close(pty);
	close(efd);
}
