/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service manager's readiness protocol: a datagram such as "READY=1" to the UNIX socket
 * named by $NOTIFY_SOCKET (an abstract address when it starts with '@'). No socket, no
 * message: umdevd runs the same without systemd.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <umdev/log.h>

#include "daemon/daemon_notify.h"

void daemon_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(addr.sun_path)) {
		umdev_log(UMDEV_LOG_WARNING, "NOTIFY_SOCKET is too long; not notifying");
		return;
	}
	memcpy(addr.sun_path, path, len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		umdev_log(UMDEV_LOG_WARNING, "cannot notify the service manager: %s",
			  strerror(errno));
	close(fd);
}
