/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host side of an mtty port: what its serial line is plugged into.
 *
 *   loopback      the kernel sample's behaviour and the default: what the port sends, it
 *                 receives (the UART does this itself; the backend has no fd).
 *   pty           a new pseudo-terminal; its slave's path (/dev/pts/N) is where a terminal
 *                 program (screen, minicom, picocom) attaches. mtty keeps a descriptor of
 *                 the slave open itself, in raw mode, so that the line stays up while no
 *                 terminal is attached: what the guest sends meanwhile waits in the pty's
 *                 buffer (some 20 KiB) for the next terminal.
 *   unix:PATH     a connection to the listening SOCK_STREAM socket at the absolute PATH,
 *                 made as the driver's process. When the peer closes it the port keeps no
 *                 line (it sends into the void) until port<n>_backend is written again.
 *
 * The line has no flow control towards the host: a byte the host side cannot take at once
 * (nobody drains the pty, the peer stopped reading its socket) is dropped, as on a serial
 * line without handshake, so that a guest's console never waits for a host. Towards the
 * guest nothing is lost: the I/O thread reads only as much as the receiver has room for,
 * and the rest waits on the host side.
 *
 * These functions hold no lock of their own; mtty_io.c says who calls them under which.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "mtty_priv.h"

#define UNIX_PREFIX_LEN (sizeof(MTTY_BACKEND_UNIX_PREFIX) - 1)

static bool text_is(const char *buf, size_t len, const char *word)
{
	return len == strlen(word) && !memcmp(buf, word, len);
}

int mtty_backend_parse(const char *buf, size_t count, struct mtty_backend_spec *spec)
{
	const char *path;
	size_t len;

	if (count && buf[count - 1] == '\n')
		count--;
	memset(spec, 0, sizeof(*spec));
	if (text_is(buf, count, MTTY_BACKEND_LOOPBACK)) {
		spec->kind = MTTY_LOOPBACK;
		return 0;
	}
	if (text_is(buf, count, MTTY_BACKEND_PTY)) {
		spec->kind = MTTY_PTY;
		return 0;
	}
	if (count <= UNIX_PREFIX_LEN || memcmp(buf, MTTY_BACKEND_UNIX_PREFIX, UNIX_PREFIX_LEN))
		return -EINVAL;
	path = buf + UNIX_PREFIX_LEN;
	len = count - UNIX_PREFIX_LEN;
	if (path[0] != '/')
		return -EINVAL; /* relative to what? the daemon's directory is nobody's business */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return -EINVAL; /* control characters, NUL and newlines included */
	if (len >= sizeof(spec->path))
		return -ENAMETOOLONG;
	memcpy(spec->path, path, len);
	spec->kind = MTTY_UNIX;
	return 0;
}

int mtty_backend_format(const struct mtty_backend_spec *spec, char *buf, size_t size)
{
	switch (spec->kind) {
	case MTTY_PTY:
		return snprintf(buf, size, "%s\n", MTTY_BACKEND_PTY);
	case MTTY_UNIX:
		return snprintf(buf, size, "%s%s\n", MTTY_BACKEND_UNIX_PREFIX, spec->path);
	case MTTY_LOOPBACK:
	default:
		return snprintf(buf, size, "%s\n", MTTY_BACKEND_LOOPBACK);
	}
}

/* ---- opening ---- */

/* A new pty: the master in b->fd, our raw-mode descriptor of the slave in b->hold_fd. */
static int pty_open(struct mtty_backend *b)
{
	struct termios tio;
	int ret;

	b->fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (b->fd < 0)
		return -errno;
	if (grantpt(b->fd) || unlockpt(b->fd))
		goto err_errno;
	ret = ptsname_r(b->fd, b->pty_path, sizeof(b->pty_path));
	if (ret) {
		ret = -ret;
		goto err_close;
	}
	/* the slave by the master, not by its path, which another process could replace */
	b->hold_fd = ioctl(b->fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (b->hold_fd < 0)
		goto err_errno;
	/* no echo and no line editing: bytes pass as they are until a terminal sets its own */
	if (tcgetattr(b->hold_fd, &tio))
		goto err_errno;
	cfmakeraw(&tio);
	if (tcsetattr(b->hold_fd, TCSANOW, &tio))
		goto err_errno;
	return 0;

err_errno:
	ret = -errno;
err_close:
	mtty_backend_close(b);
	return ret;
}

static int unix_connect(struct mtty_backend *b)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int ret;

	b->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->fd < 0)
		return -errno;
	memcpy(addr.sun_path, b->spec.path, sizeof(addr.sun_path));
	/* non-blocking: a listener whose backlog is full gives -EAGAIN instead of a wait */
	if (connect(b->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		ret = -errno;
		mtty_backend_close(b);
		return ret;
	}
	return 0;
}

int mtty_backend_open(const struct mtty_backend_spec *spec, struct mtty_backend *b)
{
	int ret = 0;

	memset(b, 0, sizeof(*b));
	b->spec = *spec;
	b->fd = -1;
	b->hold_fd = -1;
	switch (spec->kind) {
	case MTTY_LOOPBACK:
		return 0;
	case MTTY_PTY:
		ret = pty_open(b);
		break;
	case MTTY_UNIX:
		ret = unix_connect(b);
		break;
	}
	if (!ret)
		b->connected = true;
	return ret;
}

void mtty_backend_close(struct mtty_backend *b)
{
	if (b->hold_fd >= 0)
		close(b->hold_fd);
	if (b->fd >= 0)
		close(b->fd);
	b->hold_fd = -1;
	b->fd = -1;
	b->connected = false;
}

/* ---- data ---- */

void mtty_backend_send(struct mtty_backend *b, uint8_t byte)
{
	ssize_t n;

	if (b->fd < 0 || !b->connected)
		return;
	do {
		if (b->spec.kind == MTTY_UNIX)
			n = send(b->fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			n = write(b->fd, &byte, 1);
	} while (n < 0 && errno == EINTR);
	/* n < 0: the host side is full, or its peer went (the I/O thread will notice): dropped */
}

ssize_t mtty_backend_recv(struct mtty_backend *b, uint8_t *buf, size_t len)
{
	ssize_t n;

	do {
		if (b->spec.kind == MTTY_UNIX)
			n = recv(b->fd, buf, len, MSG_DONTWAIT);
		else
			n = read(b->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n == 0)
		return -ECONNRESET; /* the peer closed its end */
	return errno == EAGAIN ? 0 : -errno;
}
