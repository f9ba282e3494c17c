/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a VMM does with an mtty device over vfio-user, for the fault tests and the soak
 * (tests/fault/, scripts/soak): connect (waiting out the previous client), map guest memory
 * from a memfd, bind the INTx and MSI eventfds, and echo bytes through a port's loopback
 * cable with the receive interrupt on. mtty_check() is the full functional check a device
 * must pass after a fault: identity in config space, the BAR, a DMA map and unmap, an echo
 * that raises INTx, the unmask, reset.
 */
#ifndef UMDEV_TESTS_FAULT_MTTY_TRAFFIC_H
#define UMDEV_TESTS_FAULT_MTTY_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umdev/client.h>

/* Guest memory a session maps: this many 64 KiB windows of one memfd. */
#define MTTY_TRAFFIC_WINDOWS 4
#define MTTY_TRAFFIC_WINDOW (64u << 10)

/* Bound of every wait of these helpers (a connect, an interrupt). */
#define MTTY_TRAFFIC_WAIT_MS 10000

/* A client's hold on a device. Fields are -1 or NULL when not made. */
struct mtty_session {
	struct umdev_client *client;
	int memfd;    /* MTTY_TRAFFIC_WINDOWS windows, each mapped at iova window * 1 MiB */
	int intx_fd;  /* bound to INTx */
	int msi_fd;   /* made, bound by mtty_bind_msi() only */
	bool msi;     /* MSI bound: interrupts come on msi_fd */
};

/*
 * Connects to @socket_path, retrying for up to @wait_ms while the device is still busy with
 * a previous client (-EBUSY) or the socket is not there yet; -errno of the last try.
 */
int mtty_connect(const char *socket_path, int wait_ms, struct umdev_client **ret_client);

/* Connects, resets the device, maps the memfd's windows and binds INTx. On failure what was made is undone. */
int mtty_session_open(const char *socket_path, int wait_ms, struct mtty_session *s);
void mtty_session_close(struct mtty_session *s);

/* One round of traffic: echoes @byte through port 0 with the receive interrupt enabled,
 * waits for the interrupt (INTx, or MSI once bound), reads the byte back and unmasks INTx;
 * 0, or -errno (-EBADMSG for a wrong byte or status). */
int mtty_echo_irq(struct mtty_session *s, uint8_t byte);

/* Disables INTx and binds the MSI eventfd: the device interrupts through MSI from then on. */
int mtty_bind_msi(struct mtty_session *s);

/* Unmaps window @w and maps it again (DMA churn). */
int mtty_remap_window(struct mtty_session *s, unsigned int w);

/*
 * The full functional check of a device through a new client; 0, or -errno with what failed
 * in @why (at least 128 bytes).
 */
int mtty_check(const char *socket_path, char *why, size_t whylen);

#endif
