/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The I/O of an mtty device's host-side backends: attaching a backend to a port, sending
 * what the UART transmits, and the device's I/O thread, which moves what the backends
 * receive into the UARTs.
 *
 * The thread is started by the first backend that has an fd and runs until the device is
 * removed. It polls the wake-up eventfd and the fd of every port that can receive now (a
 * connected backend, a running device, room in the receiver); a port that cannot is
 * marked rx_blocked, and whoever gives it room again (a guest's read of RBR, a reset, the
 * device running again) kicks the thread through the eventfd. So the thread sleeps while
 * there is nothing it may do, and a host that sends faster than the guest reads waits in
 * its own buffer.
 *
 * Sending needs no thread: the UART's transmit callback writes the byte to the backend
 * there and then, under s->lock, without waiting (mtty_backend_send()).
 *
 * Replacing a backend (mtty_port_set_backend()) happens with s->backend_lock and s->lock
 * held and bumps the port's generation. The thread polls outside s->lock, and before it
 * reads a port it checks under s->lock that the generation is the one it polled: an fd
 * that was replaced meanwhile is never read, and a stale poll only costs a turn of the loop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mtty_priv.h"

static void port_transmit(void *opaque, uint8_t byte)
{
	struct mtty_port *p = opaque;

	mtty_backend_send(&p->backend, byte);
}

/* Wakes the thread's poll(); any thread, any lock. */
static void io_wake(struct mtty_state *s)
{
	uint64_t one = 1;

	/* non-blocking: a counter that cannot take one more already means "wake up" */
	if (write(s->io.wake_fd, &one, sizeof(one)) < 0)
		return;
}

/* Resets the wake-up counter (the I/O thread, after its poll() saw it). */
static void io_drain(struct mtty_state *s)
{
	uint64_t count;

	if (read(s->io.wake_fd, &count, sizeof(count)) < 0)
		return; /* -EAGAIN: nothing was left to drain */
}

void mtty_io_kick_locked(struct mtty_state *s)
{
	if (!mtty_running_locked(s))
		return;
	for (unsigned int i = 0; i < s->nr_ports; i++) {
		struct mtty_port *p = &s->port[i];

		if (p->rx_blocked && uart16550_rx_room(&p->uart)) {
			p->rx_blocked = false;
			io_wake(s);
		}
	}
}

/* ---- the thread ---- */

/*
 * Moves what port @p's backend has into its receiver. Returns false when the backend's
 * peer has gone (the port is marked disconnected; the caller reports it).
 */
static bool port_receive_locked(struct mtty_state *s, struct mtty_port *p)
{
	uint8_t buf[UART16550_FIFO_SIZE];
	size_t room = mtty_running_locked(s) ? uart16550_rx_room(&p->uart) : 0;
	ssize_t n;

	if (!room || !p->backend.connected)
		return true;
	n = mtty_backend_recv(&p->backend, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n < 0) {
		p->backend.connected = false;
		return false;
	}
	if (n) {
		uart16550_receive(&p->uart, buf, (size_t)n);
		mtty_irq_update_locked(s);
	}
	return true;
}

/* Fills @pfd (from index 1) with the ports that can receive now; returns their number. */
static nfds_t io_poll_set_locked(struct mtty_state *s, struct pollfd *pfd, unsigned int *port,
				 uint64_t *gen)
{
	nfds_t n = 0;

	for (unsigned int i = 0; i < s->nr_ports; i++) {
		struct mtty_port *p = &s->port[i];

		p->rx_blocked = false;
		if (p->backend.fd < 0 || !p->backend.connected)
			continue;
		if (!mtty_running_locked(s) || !uart16550_rx_room(&p->uart)) {
			p->rx_blocked = true;
			continue;
		}
		pfd[1 + n] = (struct pollfd){ .fd = p->backend.fd, .events = POLLIN };
		port[n] = i;
		gen[n] = p->gen;
		n++;
	}
	return n;
}

static void *io_thread(void *arg)
{
	struct mtty_state *s = arg;
	struct pollfd pfd[1 + MTTY_MAX_PORTS];
	unsigned int port[MTTY_MAX_PORTS];
	uint64_t gen[MTTY_MAX_PORTS];
	bool gone[MTTY_MAX_PORTS];
	nfds_t n;

	pthread_mutex_lock(&s->lock);
	while (!s->io.stop) {
		n = io_poll_set_locked(s, pfd, port, gen);
		pthread_mutex_unlock(&s->lock);

		pfd[0] = (struct pollfd){ .fd = s->io.wake_fd, .events = POLLIN };
		/* fails only with EINTR or ENOMEM, either worth another turn */
		if (poll(pfd, 1 + n, -1) > 0 && (pfd[0].revents & POLLIN))
			io_drain(s);

		pthread_mutex_lock(&s->lock);
		for (nfds_t k = 0; k < n; k++) {
			struct mtty_port *p = &s->port[port[k]];

			gone[k] = false;
			if (pfd[1 + k].revents && p->gen == gen[k])
				gone[k] = !port_receive_locked(s, p);
		}
		pthread_mutex_unlock(&s->lock);

		for (nfds_t k = 0; k < n; k++)
			if (gone[k])
				dev_printk(UMDEV_LOG_NOTICE, mdev_dev(s->mdev),
					   "port %u: the peer went away; what the port sends is "
					   "dropped until port%u_backend is written again",
					   port[k], port[k]);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Starts the thread if it does not run; caller holds s->backend_lock. 0 or -errno. */
static int io_start(struct mtty_state *s)
{
	sigset_t all, old;
	int ret;

	if (s->io.running)
		return 0;
	/* the thread takes no signals: they are for the program's own threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&s->io.thread, NULL, io_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	pthread_setname_np(s->io.thread, "mtty-io");
	s->io.running = true;
	return 0;
}

/* ---- set-up and tear-down ---- */

int mtty_io_init(struct mtty_state *s)
{
	s->io.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->io.wake_fd < 0)
		return -errno;
	s->io.running = false;
	s->io.stop = false;
	for (unsigned int i = 0; i < MTTY_MAX_PORTS; i++) {
		struct mtty_port *p = &s->port[i];

		p->host = (struct uart16550_host){ .transmit = port_transmit, .opaque = p };
		p->backend.fd = -1;
		p->backend.hold_fd = -1;
	}
	return 0;
}

void mtty_io_destroy(struct mtty_state *s)
{
	pthread_mutex_lock(&s->backend_lock);
	if (s->io.running) {
		pthread_mutex_lock(&s->lock);
		s->io.stop = true;
		pthread_mutex_unlock(&s->lock);
		io_wake(s);
		pthread_join(s->io.thread, NULL);
		s->io.running = false;
	}
	pthread_mutex_lock(&s->lock);
	for (unsigned int i = 0; i < MTTY_MAX_PORTS; i++)
		mtty_backend_close(&s->port[i].backend);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->backend_lock);
	close(s->io.wake_fd);
	s->io.wake_fd = -1;
}

int mtty_port_set_backend(struct mtty_state *s, unsigned int index,
			  const struct mtty_backend_spec *spec)
{
	struct mtty_port *p = &s->port[index];
	struct mtty_backend new, old;
	int ret;

	pthread_mutex_lock(&s->backend_lock);
	ret = mtty_backend_open(spec, &new);
	if (ret)
		goto out_unlock;
	if (new.fd >= 0) {
		ret = io_start(s);
		if (ret) {
			mtty_backend_close(&new);
			goto out_unlock;
		}
	}

	pthread_mutex_lock(&s->lock);
	old = p->backend;
	p->backend = new;
	p->gen++;
	uart16550_set_host(&p->uart, new.fd >= 0 ? &p->host : NULL);
	mtty_irq_update_locked(s); /* a port taken off the loopback may become idle */
	pthread_mutex_unlock(&s->lock);
	io_wake(s); /* to poll the new fd */
	mtty_backend_close(&old);

	if (new.spec.kind == MTTY_PTY)
		dev_printk(UMDEV_LOG_NOTICE, mdev_dev(s->mdev), "port %u is the pty %s", index,
			   new.pty_path);
out_unlock:
	pthread_mutex_unlock(&s->backend_lock);
	return ret;
}
