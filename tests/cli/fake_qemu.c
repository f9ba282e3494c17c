/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake_qemu: the QEMU that tests/cli/umdevctl_qemu.sh gives `umdevctl qemu`. It records the
 * command line it was run with and checks each -device argument as QEMU would use it:
 *
 *   fake_qemu --out FILE [--exit N] [--hold] [ANY...] [-device VALUE]...
 *
 *   x-pci-proxy-dev,id=ID,fd=N   fd N must be an open, connected UNIX stream socket (an
 *                                inherited one: nothing else opened it) on which the device
 *                                answers mpqemu PCI_CFGREADs
 *   {"driver":"vfio-user-pci",...}  exactly the keys driver, id, socket {path, type "unix"};
 *                                the device at the path answers over vfio-user
 *
 * FILE gets "pid P", "argv I ARG" for every argument, then per device "device ID TRANSPORT
 * vendor=0x.... device=0x.... class=0x...... revision=0x..", or "error WHY" (exit 1). No
 * socket other than the devices' may be open (umdevctl's own are close-on-exec). --hold
 * writes "held" and keeps the devices until stdin ends; --exit N exits N after success.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <umdev/client.h>

#include "transport/mpqemu/mpqemu_proto.h"

#define MAX_DEVICES 64

static FILE *out;
static int device_fds[MAX_DEVICES];
static size_t ndevice_fds;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("error ", out);
	fputs("fake_qemu: ", stderr);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fputc('\n', stderr);
	return -1;
}

static int read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

static int mpq_cfgread(int fd, uint32_t addr, int32_t len, uint32_t *val)
{
	struct {
		struct mpq_hdr hdr;
		struct mpq_pci_conf conf;
	} req = { { MPQ_CMD_PCI_CFGREAD, 0, sizeof(struct mpq_pci_conf) }, { addr, 0, len } };
	struct mpq_ret_msg reply;
	size_t size = sizeof(req.hdr) + sizeof(req.conf);
	int ret;

	if (send(fd, &req, size, MSG_NOSIGNAL) != (ssize_t)size)
		return -errno;
	ret = read_all(fd, &reply, sizeof(reply));
	if (ret)
		return ret;
	if (reply.hdr.cmd != MPQ_CMD_RET || reply.hdr.size != sizeof(reply.ret) ||
	    reply.ret.value == MPQ_RET_ERROR)
		return -EPROTO;
	*val = (uint32_t)reply.ret.value;
	return 0;
}

static void report(const char *id, const char *transport, uint16_t vendor, uint16_t device,
		   uint32_t class_rev)
{
	fprintf(out, "device %s %s vendor=0x%04x device=0x%04x class=0x%06x revision=0x%02x\n",
		id, transport, vendor, device, class_rev >> 8, class_rev & 0xff);
}

/* "x-pci-proxy-dev,id=ID,fd=N" */
static int check_mpqemu(const char *value)
{
	const char *prefix = "x-pci-proxy-dev,id=", *fdp = strstr(value, ",fd=");
	uint32_t ids, class_rev;
	struct sockaddr_un peer;
	socklen_t len = sizeof(int), plen = sizeof(peer);
	int type = 0, domain = 0, fd;
	char id[128], *end;
	struct stat st;
	long n;

	if (strncmp(value, prefix, strlen(prefix)) || !fdp ||
	    (size_t)(fdp - value) - strlen(prefix) >= sizeof(id))
		return fail("not x-pci-proxy-dev,id=ID,fd=N: %s", value);
	snprintf(id, sizeof(id), "%.*s", (int)((size_t)(fdp - value) - strlen(prefix)),
		 value + strlen(prefix));
	errno = 0;
	n = strtol(fdp + 4, &end, 10);
	if (errno || *end || end == fdp + 4 || n < 0 || n > 65535)
		return fail("%s: fd is no decimal number: %s", id, fdp + 4);
	fd = (int)n;
	if (fstat(fd, &st))
		return fail("%s: fd %d is not open: %s", id, fd, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return fail("%s: fd %d is no socket", id, fd);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) || domain != AF_UNIX ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM)
		return fail("%s: fd %d is no UNIX stream socket", id, fd);
	if (getpeername(fd, (struct sockaddr *)&peer, &plen))
		return fail("%s: fd %d is not connected: %s", id, fd, strerror(errno));
	if (ndevice_fds == MAX_DEVICES)
		return fail("too many devices");
	device_fds[ndevice_fds++] = fd;
	if (mpq_cfgread(fd, PCI_VENDOR_ID, 4, &ids) ||
	    mpq_cfgread(fd, PCI_CLASS_REVISION, 4, &class_rev))
		return fail("%s: fd %d: no mpqemu answer to PCI_CFGREAD", id, fd);
	report(id, "mpqemu", (uint16_t)ids, (uint16_t)(ids >> 16), class_rev);
	return 0;
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* {"driver":"vfio-user-pci","id":ID,"socket":{"path":PATH,"type":"unix"}} */
static int check_vfio_user(const char *value)
{
	struct json_object *dev = json_tokener_parse(value), *sock = NULL;
	const char *driver, *id, *path, *type;
	struct umdev_client *c = NULL;
	uint32_t ids = 0, class_rev = 0;
	int ret = -1;

	if (!json_object_is_type(dev, json_type_object))
		goto fail_syntax;
	driver = json_str(dev, "driver");
	id = json_str(dev, "id");
	json_object_object_get_ex(dev, "socket", &sock);
	path = json_str(sock, "path");
	type = json_str(sock, "type");
	if (!driver || strcmp(driver, "vfio-user-pci") || !id || !path || !type ||
	    strcmp(type, "unix") || json_object_object_length(dev) != 3 ||
	    json_object_object_length(sock) != 2)
		goto fail_syntax;
	if (path[0] != '/') {
		fail("%s: socket path is not absolute: %s", id, path);
		goto put;
	}
	ret = umdev_client_connect(path, &c);
	if (ret) {
		fail("%s: cannot connect over vfio-user to %s: %s", id, path, strerror(-ret));
		ret = -1;
		goto put;
	}
	if (umdev_client_region_read(c, VFIO_PCI_CONFIG_REGION_INDEX, PCI_VENDOR_ID, &ids, 4) != 4 ||
	    umdev_client_region_read(c, VFIO_PCI_CONFIG_REGION_INDEX, PCI_CLASS_REVISION,
				     &class_rev, 4) != 4) {
		fail("%s: config read over vfio-user failed", id);
		goto close_client;
	}
	report(id, "vfio-user", (uint16_t)ids, (uint16_t)(ids >> 16), class_rev);
	ret = 0;
close_client:
	umdev_client_close(c);
put:
	json_object_put(dev);
	return ret;
fail_syntax:
	json_object_put(dev);
	return fail("not vfio-user-pci's JSON -device: %s", value);
}

/* Any socket open besides the devices' is one umdevctl leaked. */
static int check_no_other_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int ret = 0;

	if (!d)
		return fail("/proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		bool ours = fd == dirfd(d) || e->d_name[0] == '.';
		struct stat st;

		for (size_t i = 0; i < ndevice_fds && !ours; i++)
			ours = device_fds[i] == fd;
		if (!ours && !fstat(fd, &st) && S_ISSOCK(st.st_mode))
			ret = fail("fd %d is a socket nobody named", fd);
	}
	closedir(d);
	return ret;
}

int main(int argc, char **argv)
{
	const char *out_path = NULL;
	int exit_status = 0, i = 1, ret = 0;
	bool hold = false;

	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out_path = argv[++i];
		else if (!strcmp(argv[i], "--exit") && i + 1 < argc)
			exit_status = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--hold"))
			hold = true;
		else
			break;
	}
	if (!out_path) {
		fprintf(stderr, "usage: fake_qemu --out FILE [--exit N] [--hold] [ARGS...]\n");
		return 2;
	}
	out = fopen(out_path, "we");
	if (!out) {
		fprintf(stderr, "fake_qemu: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	fprintf(out, "pid %d\n", (int)getpid());
	for (int k = 0; k < argc; k++)
		fprintf(out, "argv %d %s\n", k, argv[k]);
	for (; i < argc && !ret; i++) {
		if (strcmp(argv[i], "-device"))
			continue;
		if (i + 1 == argc)
			ret = fail("-device without a value");
		else if (argv[++i][0] == '{')
			ret = check_vfio_user(argv[i]);
		else
			ret = check_mpqemu(argv[i]);
	}
	if (!ret)
		ret = check_no_other_sockets();
	if (!ret && hold) {
		char c;

		fputs("held\n", out);
		fflush(out);
		while (read(STDIN_FILENO, &c, 1) > 0)
			;
	}
	if (fclose(out))
		return 1;
	return ret ? 1 : exit_status;
}
