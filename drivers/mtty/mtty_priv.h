/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state of one mtty device and what the driver's files share. mtty.c has the module,
 * the parent, the bus driver and the device file; mtty_config.c config space; mtty_irq.c
 * interrupts; mtty_mig.c migration; mtty_backend.c the host side of a port (loopback, pty,
 * UNIX socket); mtty_io.c the I/O thread that serves it; mtty_attrs.c the attributes.
 *
 * Lifetimes. A device's struct mtty_state belongs to the mediated device: the parent's
 * create() allocates it and its remove() frees it, after the core has drained the device's
 * attribute callbacks. The vfio device (struct mtty_vdev), which the bus driver's probe
 * allocates, only points at it: every vfio callback but release runs between open_device
 * and close_device, hence while the state exists, and release touches nothing of it.
 *
 * Locking:
 *   - s->lock guards the config space, the ports (their UART, their backend's `connected`,
 *     rx_blocked and irq_prev), the interrupt set-up and the migration state. It is taken
 *     by the device-file callbacks (a transport's thread), the attributes, and the I/O
 *     thread. Nothing blocks while holding it: eventfd_signal() and the writes to a backend
 *     and to the wake-up eventfd are all non-blocking.
 *   - s->backend_lock serialises the changes of a port's backend (attribute writes, create,
 *     remove) and guards io.running. It is taken before s->lock, never after, and never by
 *     the I/O thread, so a change may wait for that thread.
 *   - A backend's fds are replaced with both locks held; its readers hold either. The I/O
 *     thread polls fds outside the lock, and checks the port's generation under the lock
 *     before it reads, so it never reads an fd that was replaced.
 *   - Lock order: s->backend_lock, s->lock, a migration stream's lock.
 */
#ifndef UMDEV_DRIVERS_MTTY_PRIV_H
#define UMDEV_DRIVERS_MTTY_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include <umdev/eventfd.h>
#include <umdev/mdev.h>
#include <umdev/vfio.h>

#include "drv_irq.h"
#include "drv_mig.h"
#include "mtty.h"
#include "uart16550.h"

/* ---- backends (mtty_backend.c) ---- */

enum mtty_backend_kind {
	MTTY_LOOPBACK,
	MTTY_PTY,
	MTTY_UNIX,
};

/* A port<n>_backend value, parsed. */
struct mtty_backend_spec {
	enum mtty_backend_kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* MTTY_UNIX: the socket */
};

/* The host side of a port. */
struct mtty_backend {
	struct mtty_backend_spec spec;
	int fd;		   /* pty master or socket; -1 for the loopback */
	int hold_fd;	   /* MTTY_PTY: our own descriptor of the slave, or -1 */
	char pty_path[64]; /* MTTY_PTY: the slave's path */
	bool connected;	   /* the peer is there (a socket's peer may go) */
};

/*
 * Parses @count bytes of untrusted text (one trailing newline allowed): 0, or -EINVAL for
 * anything but "loopback", "pty" and "unix:" followed by an absolute path of printable
 * characters, -ENAMETOOLONG for a path that does not fit a UNIX socket address.
 */
int mtty_backend_parse(const char *buf, size_t count, struct mtty_backend_spec *spec);
/* Room for the text of any spec, newline and NUL included. */
#define MTTY_BACKEND_TEXT_SIZE (sizeof(((struct mtty_backend_spec *)0)->path) + 16)
/* The text of @spec for port<n>_backend, with a newline; returns its length. */
int mtty_backend_format(const struct mtty_backend_spec *spec, char *buf, size_t size);
/*
 * Opens the host side @spec asks for: nothing for the loopback, a new pty, or a connection
 * to a listening SOCK_STREAM socket (never waits: -EAGAIN when its backlog is full). 0 or
 * -errno; @b is left closed on failure.
 */
int mtty_backend_open(const struct mtty_backend_spec *spec, struct mtty_backend *b);
void mtty_backend_close(struct mtty_backend *b);
/* Sends one byte, or drops it (no peer, or the peer's buffer is full); never blocks. */
void mtty_backend_send(struct mtty_backend *b, uint8_t byte);
/* Reads at most @len bytes: the count, 0 when there is nothing now, -errno when the peer
 * has gone (end of file or an error). */
ssize_t mtty_backend_recv(struct mtty_backend *b, uint8_t *buf, size_t len);

/* ---- the device ---- */

struct mtty_port {
	struct uart16550 uart;
	struct uart16550_host host;  /* the UART's view of the backend below */
	struct mtty_backend backend;
	uint64_t gen;		     /* bumped when the backend's fds are replaced */
	bool rx_blocked;	     /* the I/O thread waits for room in the receiver */
	unsigned int irq_prev;	     /* the UART's pending interrupts at the last delivery */
};

struct mtty_state {
	struct mdev_device *mdev;
	unsigned int nr_ports; /* 1 or 2, from the type */

	pthread_mutex_t backend_lock;
	/* The I/O thread (mtty_io.c): started by the first backend with an fd, joined by
	 * remove. wake_fd (an eventfd) lives as long as the state. */
	struct {
		pthread_t thread;
		bool running; /* backend_lock */
		bool stop;    /* lock: asks the thread to return */
		int wake_fd;
	} io;

	pthread_mutex_t lock;
	uint8_t config[MTTY_CONFIG_SIZE];
	struct mtty_port port[MTTY_MAX_PORTS];

	/* Interrupts (mtty_irq.c): the eventfd contexts are ours, dropped at close. */
	struct drv_irqs irqs;

	/* Migration (mtty_mig.c): the state and our references to the open streams. */
	struct drv_mig mig;
};

/* The vfio device of a mediated device (mtty.c). */
struct mtty_vdev {
	struct vfio_device vdev; /* first: vfio_alloc_device() checks it */
	struct mtty_state *s;	 /* the mediated device's state; outlives every callback */
};

static inline struct mtty_state *vdev_to_mtty(struct vfio_device *vdev)
{
	return container_of(vdev, struct mtty_vdev, vdev)->s;
}

/* mtty_config.c */
void mtty_config_init(struct mtty_state *s);
/* A write of @len bytes at @off (in range) through the registers' write masks. */
void mtty_config_write(struct mtty_state *s, unsigned int off, const uint8_t *buf, size_t len);

/* mtty_irq.c */
long mtty_get_irq_info(unsigned long arg);
long mtty_set_irqs(struct mtty_state *s, unsigned long arg);
/* No interrupt in use (create). */
void mtty_irq_init(struct mtty_state *s);
/* After the UARTs changed: delivers what their interrupt outputs ask for. */
void mtty_irq_update_locked(struct mtty_state *s);
/* Drops the eventfds and disables the interrupts (close). */
void mtty_irq_release_locked(struct mtty_state *s);
/* Forgets which interrupts were delivered (reset, migration load). */
void mtty_irq_forget_locked(struct mtty_state *s);

/* mtty_mig.c */
extern const struct vfio_migration_ops mtty_mig_ops;
/* RUNNING, no stream (create, once nr_ports is set). */
void mtty_mig_init(struct mtty_state *s);
/* True in the states where the device runs: it receives and interrupts. */
bool mtty_running_locked(const struct mtty_state *s);
/* Back to RUNNING with the streams disabled (reset, open, close). */
void mtty_mig_reset_locked(struct mtty_state *s);

/* mtty_io.c */
int mtty_io_init(struct mtty_state *s);
/* Stops the I/O thread and closes every backend (remove). Takes s->backend_lock. */
void mtty_io_destroy(struct mtty_state *s);
/* Gives port @index the backend @spec asks for; the old one is closed. 0 or -errno. */
int mtty_port_set_backend(struct mtty_state *s, unsigned int index,
			  const struct mtty_backend_spec *spec);
/* After a change that may let a port receive again (room, or the device running). */
void mtty_io_kick_locked(struct mtty_state *s);

/* mtty_attrs.c */
extern const struct attribute_group *mtty_mdev_groups[];

#endif
