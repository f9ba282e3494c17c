/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connections `umdevctl qemu` opens to devices' mpqemu sockets for QEMU to inherit.
 *
 * mpqemu has no handshake, and a device that cannot take a client (it serves one at a time,
 * over any transport) just closes the connection. So that an error is found before QEMU is
 * run rather than by QEMU's x-pci-proxy-dev at realize, the connection is checked with the
 * request QEMU itself starts with: a PCI_CFGREAD of the vendor ID (wire format:
 * transport/mpqemu/mpqemu_proto.h, ../shared/spec/qemu-transports.md section B). The reply
 * is read whole, so the stream is at a message boundary when QEMU takes it over. The fd is
 * never 0, 1 or 2, even when umdevctl was started with one of those closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "cli/cli.h"
#include "transport/mpqemu/mpqemu_proto.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads @len bytes by @deadline (CLOCK_MONOTONIC ms). */
static int read_by(int fd, void *buf, size_t len, long deadline)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

static int probe_vendor(int fd, unsigned int *vendor)
{
	struct {
		struct mpq_hdr hdr;
		struct mpq_pci_conf conf;
	} req;
	struct mpq_ret_msg reply;
	/* the header and the payload, without the struct's tail padding */
	size_t len = sizeof(req.hdr) + sizeof(req.conf);
	int ret;

	memset(&req, 0, sizeof(req));
	req.hdr.cmd = MPQ_CMD_PCI_CFGREAD;
	req.hdr.size = sizeof(req.conf);
	req.conf.addr = PCI_VENDOR_ID;
	req.conf.len = 2;
	if (send(fd, &req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return errno == EPIPE ? -ECONNRESET : -errno;
	ret = read_by(fd, &reply, sizeof(reply), now_ms() + CLI_MPQEMU_PROBE_TIMEOUT_MS);
	if (ret)
		return ret;
	if (reply.hdr.cmd != MPQ_CMD_RET || reply.hdr.size != sizeof(reply.ret) ||
	    reply.ret.value > 0xffff)
		return -EPROTO;
	*vendor = (unsigned int)reply.ret.value;
	return 0;
}

int cli_mpqemu_connect(const char *path, unsigned int *vendor)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	/* no SOCK_CLOEXEC: QEMU inherits it */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		ret = -errno;
		goto close_fd;
	}
	if (fd <= STDERR_FILENO) {
		/* stdin, stdout or stderr was closed: QEMU would take the socket for that */
		int moved = fcntl(fd, F_DUPFD, STDERR_FILENO + 1);

		if (moved < 0) {
			ret = -errno;
			goto close_fd;
		}
		close(fd);
		fd = moved;
	}
	ret = probe_vendor(fd, vendor);
	if (ret)
		goto close_fd;
	return fd;

close_fd:
	close(fd);
	return ret;
}
