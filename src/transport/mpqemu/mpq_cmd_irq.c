/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SET_IRQFD: INTx, the proxy's only interrupt. The proxy hands over two eventfds, which
 * with KVM are an irqfd and its resample fd: writing the first asserts the guest's line,
 * and KVM signals the second when the guest has handled the interrupt (its EOI), after
 * deasserting the line.
 *
 * That is VFIO's INTx contract with the roles spelled out: the first eventfd becomes the
 * device's INTx trigger (VFIO_DEVICE_SET_IRQS, ACTION_TRIGGER, DATA_EVENTFD) and an
 * automasked driver masks itself when it fires; the second is watched on the worker, and
 * each resample unmasks INTx (ACTION_UNMASK, DATA_NONE), which makes a driver whose line
 * is still asserted fire again. A new SET_IRQFD replaces the old pair; the end of the
 * session unwires INTx (ACTION_TRIGGER, DATA_NONE, count 0).
 *
 * The resample eventfd is never read. Its file description is the client's: a read could
 * block the worker if the client made it blocking and emptied the counter itself. It is
 * watched edge-triggered instead, and every write to an eventfd wakes its watchers, so each
 * resample is one event whatever the counter holds (and an unmask needs no count: it looks
 * at the line). The two eventfds must be different files: with one file, the device firing
 * would resample itself and spin the worker for as long as the line is asserted.
 *
 * Under TCG, QEMU 7.2 registers neither fd with anything (it needs KVM's irqfd), so the
 * device fires into an eventfd nobody reads; that is harmless, and the guest must poll.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kcmp.h>

#include <umdev/log.h>

#include "transport/mpqemu/mpq_private.h"

/* VFIO_DEVICE_SET_IRQS on INTx with @flags, for @count entries (0 or 1) and @fd. */
static long intx_set(struct mpq_conn *conn, uint32_t flags, uint32_t count, int32_t fd)
{
	union {
		struct vfio_irq_set set;
		uint8_t bytes[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} u;
	bool eventfd = (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) == VFIO_IRQ_SET_DATA_EVENTFD;

	memset(&u, 0, sizeof(u));
	u.set.argsz = (uint32_t)(sizeof(u.set) + (eventfd ? sizeof(fd) : 0));
	u.set.flags = flags;
	u.set.index = VFIO_PCI_INTX_IRQ_INDEX;
	u.set.start = 0;
	u.set.count = count;
	if (eventfd)
		memcpy(u.bytes + sizeof(u.set), &fd, sizeof(fd));
	return vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_SET_IRQS, &u.set);
}

/* 0 when @fd is an eventfd: its /proc link reads "anon_inode:[eventfd]". */
static int check_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") ? -EINVAL : 0;
}

/* True when @a and @b are the same open file. Without kcmp() (a seccomp filter, a kernel
 * without it) they are taken to differ. */
static bool same_file(int a, int b)
{
	pid_t self = getpid();

	return syscall(SYS_kcmp, self, self, KCMP_FILE, a, b) == 0;
}

static void resample_ready(struct worker_source *src, uint32_t events)
{
	struct mpq_conn *conn = container_of(src, struct mpq_conn, resample);
	long ret;

	(void)events;
	ret = intx_set(conn, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE, 1, -1);
	if (ret)
		umdev_log(UMDEV_LOG_DEBUG, "mpqemu %s: INTx unmask failed: %ld", conn->srv->path,
			  ret);
}

void mpq_irq_release(struct mpq_conn *conn)
{
	if (conn->resample.fd >= 0) {
		worker_remove(conn->srv->worker, &conn->resample);
		close(conn->resample.fd);
		conn->resample.fd = -1;
	}
	if (conn->intx_wired) {
		long ret = intx_set(conn, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE, 0,
				    -1);

		if (ret)
			umdev_log(UMDEV_LOG_WARNING, "mpqemu %s: INTx teardown failed: %ld",
				  conn->srv->path, ret);
		conn->intx_wired = false;
	}
}

static int set_irqfd(struct mpq_conn *conn, struct mpq_msg *msg)
{
	int trigger = msg->fds[0], resample = msg->fds[1];
	long ret;

	if (!conn->intx_capable)
		return -ENODEV; /* the device has no INTx to wire */
	ret = check_eventfd(resample);
	if (ret)
		return (int)ret;
	if (same_file(trigger, resample))
		return -EINVAL;
	/* the old pair goes first, whatever becomes of the new one */
	mpq_irq_release(conn);
	/* the driver checks the trigger and keeps its own reference to it */
	ret = intx_set(conn, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD, 1, trigger);
	if (ret)
		return ret < 0 ? (int)ret : -EINVAL;
	conn->intx_wired = true;
	conn->resample.fd = resample;
	conn->resample.ready = resample_ready;
	ret = worker_add(conn->srv->worker, &conn->resample, EPOLLIN | EPOLLET);
	if (ret) {
		conn->resample.fd = -1;
		mpq_irq_release(conn);
		return (int)ret;
	}
	msg->fds[1] = -1; /* kept: closed by mpq_irq_release() */
	return 0;
}

int mpq_cmd_set_irqfd(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value)
{
	int ret = set_irqfd(conn, msg);

	(void)value;
	if (ret)
		umdev_log(UMDEV_LOG_WARNING, "mpqemu %s: SET_IRQFD cannot be honoured (%d); INTx "
			  "is not wired", conn->srv->path, ret);
	return ret;
}
