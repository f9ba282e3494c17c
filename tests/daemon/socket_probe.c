/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * socket_probe: what a VMM first does with a device socket, for the shell tests of umdevd and
 * umdev-serve. It prints one line and exits 0, or prints the error and exits 1.
 *
 *   socket_probe vfio-user PATH   negotiates, reads the PCI vendor and device IDs from the
 *                                 config region: "vendor=0x1234 device=0x6e75"
 *   socket_probe mpqemu PATH      the same with mpqemu PCI_CFGREAD requests
 *   socket_probe hold PATH        connects over vfio-user, prints "connected", then holds the
 *                                 device until its socket is closed by the server or stdin
 *                                 ends; prints "closed" or "released"
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <umdev/client.h>

/* mpqemu's wire format (see src/transport/mpqemu/mpqemu_proto.h). */
enum { MPQ_CMD_RET = 1, MPQ_CMD_PCI_CFGREAD = 3 };

struct mpq_header {
	int32_t cmd;
	uint32_t pad;
	uint64_t size;
};

struct mpq_conf {
	uint32_t addr, val;
	int32_t len;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "socket_probe: %s: %s\n", what, strerror(err));
	return 1;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static int full_read(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

static int mpq_cfgread(int fd, uint32_t addr, uint32_t *val)
{
	struct {
		struct mpq_header h;
		struct mpq_conf c;
	} req = { { MPQ_CMD_PCI_CFGREAD, 0, sizeof(struct mpq_conf) }, { addr, 0, 2 } };
	struct {
		struct mpq_header h;
		uint64_t ret;
	} reply;
	size_t len = sizeof(req.h) + sizeof(req.c); /* not sizeof(req): no tail padding */
	int ret;

	if (write(fd, &req, len) != (ssize_t)len)
		return -EIO;
	ret = full_read(fd, &reply, sizeof(reply));
	if (ret)
		return ret;
	if (reply.h.cmd != MPQ_CMD_RET || reply.h.size != 8 || reply.ret == UINT64_MAX)
		return -EPROTO;
	*val = (uint32_t)reply.ret;
	return 0;
}

static int probe_mpqemu(const char *path)
{
	uint32_t vendor, device;
	int fd = connect_unix(path), ret;

	if (fd < 0)
		return fail(path, -fd);
	ret = mpq_cfgread(fd, PCI_VENDOR_ID, &vendor);
	if (!ret)
		ret = mpq_cfgread(fd, PCI_DEVICE_ID, &device);
	close(fd);
	if (ret)
		return fail("PCI_CFGREAD", -ret);
	printf("vendor=0x%04x device=0x%04x\n", vendor, device);
	return 0;
}

static int probe_vfio_user(const char *path, int hold)
{
	struct umdev_client *c = NULL;
	uint16_t ids[2];
	int ret = umdev_client_connect(path, &c);

	if (ret)
		return fail(path, -ret);
	ret = umdev_client_region_read(c, VFIO_PCI_CONFIG_REGION_INDEX, 0, ids, sizeof(ids));
	if (ret != (int)sizeof(ids)) {
		umdev_client_close(c);
		return fail("config read", ret < 0 ? -ret : EIO);
	}
	if (!hold) {
		printf("vendor=0x%04x device=0x%04x\n", ids[0], ids[1]);
		umdev_client_close(c);
		return 0;
	}
	printf("connected\n");
	fflush(stdout);
	struct pollfd pfd[2] = { { .fd = umdev_client_fd(c), .events = POLLIN },
				 { .fd = STDIN_FILENO, .events = POLLIN } };

	/* the server sends nothing unasked: anything readable on the socket is its end */
	while (poll(pfd, 2, -1) < 0 && errno == EINTR)
		;
	printf(pfd[0].revents ? "closed\n" : "released\n");
	umdev_client_close(c);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "vfio-user"))
		return probe_vfio_user(argv[2], 0);
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return probe_vfio_user(argv[2], 1);
	if (argc == 3 && !strcmp(argv[1], "mpqemu"))
		return probe_mpqemu(argv[2]);
	fprintf(stderr, "usage: socket_probe vfio-user|mpqemu|hold PATH\n");
	return 2;
}
