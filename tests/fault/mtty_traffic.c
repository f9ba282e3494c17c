/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VMM's use of an mtty device over vfio-user (mtty_traffic.h). Port 0's registers are
 * bytes 0-7 of BAR0 (region 0), a 16550A: THR/RBR at 0, IER at 1, LSR at 5. The default
 * backend loops back what the port sends, so a byte written to THR is in RBR at once, and
 * with IER.RDI set the device raises INTx, which it masks until the client unmasks it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/serial_reg.h>

#include "mtty_traffic.h"

#define MTTY_VENDOR 0x4348
#define MTTY_DEVICE 0x3253
#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define CFG VFIO_PCI_CONFIG_REGION_INDEX
#define IOVA(w) ((uint64_t)(w) << 20)
#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int mtty_connect(const char *socket_path, int wait_ms, struct umdev_client **ret_client)
{
	long long end = now_ms() + wait_ms;
	int ret;

	for (;;) {
		ret = umdev_client_connect(socket_path, ret_client);
		if (!ret)
			return 0;
		if ((ret != -EBUSY && ret != -ECONNREFUSED && ret != -ENOENT &&
		     ret != -ECONNRESET && ret != -EPIPE) || now_ms() >= end)
			return ret;
		usleep(500);
	}
}

static int reg_write(struct umdev_client *c, unsigned int reg, uint8_t val)
{
	int ret = umdev_client_region_write(c, BAR0, reg, &val, 1, false);

	return ret < 0 ? ret : ret == 1 ? 0 : -EIO;
}

static int reg_read(struct umdev_client *c, unsigned int reg, uint8_t *val)
{
	int ret = umdev_client_region_read(c, BAR0, reg, val, 1);

	return ret < 0 ? ret : ret == 1 ? 0 : -EIO;
}

static int bind_eventfd(struct umdev_client *c, uint32_t index, int fd)
{
	int32_t fds[1] = { fd };

	return umdev_client_set_irqs(c, index,
				     VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0,
				     1, fds);
}

int mtty_session_open(const char *socket_path, int wait_ms, struct mtty_session *s)
{
	int ret;

	*s = (struct mtty_session){ .memfd = -1, .intx_fd = -1, .msi_fd = -1, .msi = false };
	ret = mtty_connect(socket_path, wait_ms, &s->client);
	if (ret)
		return ret;
	/* as QEMU does when it opens a device: what an earlier client left in the UARTs goes */
	ret = umdev_client_reset(s->client);
	if (ret)
		goto err;
	s->memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (s->memfd < 0 ||
	    ftruncate(s->memfd, (off_t)MTTY_TRAFFIC_WINDOWS * MTTY_TRAFFIC_WINDOW) < 0) {
		ret = -errno;
		goto err;
	}
	for (unsigned int w = 0; w < MTTY_TRAFFIC_WINDOWS; w++) {
		ret = umdev_client_dma_map(s->client, IOVA(w), MTTY_TRAFFIC_WINDOW, s->memfd,
					   (uint64_t)w * MTTY_TRAFFIC_WINDOW, RW);
		if (ret)
			goto err;
	}
	s->intx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->msi_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->intx_fd < 0 || s->msi_fd < 0) {
		ret = -errno;
		goto err;
	}
	ret = bind_eventfd(s->client, VFIO_PCI_INTX_IRQ_INDEX, s->intx_fd);
	if (!ret)
		ret = reg_write(s->client, UART_IER, UART_IER_RDI);
	if (!ret)
		return 0;
err:
	mtty_session_close(s);
	return ret;
}

void mtty_session_close(struct mtty_session *s)
{
	umdev_client_close(s->client);
	s->client = NULL;
	if (s->memfd >= 0)
		close(s->memfd);
	if (s->intx_fd >= 0)
		close(s->intx_fd);
	if (s->msi_fd >= 0)
		close(s->msi_fd);
	s->memfd = s->intx_fd = s->msi_fd = -1;
}

/* Waits for and consumes one signal of @fd. */
static int wait_eventfd(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v;
	int n = poll(&p, 1, MTTY_TRAFFIC_WAIT_MS);

	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v) ? 0 : -EIO;
}

int mtty_echo_irq(struct mtty_session *s, uint8_t byte)
{
	uint8_t lsr, got;
	int ret = reg_write(s->client, UART_TX, byte);

	if (!ret)
		ret = wait_eventfd(s->msi ? s->msi_fd : s->intx_fd);
	if (!ret)
		ret = reg_read(s->client, UART_LSR, &lsr);
	if (!ret && !(lsr & UART_LSR_DR))
		ret = -EBADMSG;
	if (!ret)
		ret = reg_read(s->client, UART_RX, &got);
	if (!ret && got != byte)
		ret = -EBADMSG;
	if (!ret && !s->msi) /* MSI is an edge: nothing to unmask */
		ret = umdev_client_set_irqs(s->client, VFIO_PCI_INTX_IRQ_INDEX,
					    VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
					    0, 1, NULL);
	return ret;
}

int mtty_bind_msi(struct mtty_session *s)
{
	/* one of INTx and MSI at a time, as in vfio-pci: INTx is disabled first */
	int ret = umdev_client_set_irqs(s->client, VFIO_PCI_INTX_IRQ_INDEX,
					VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
					NULL);

	if (!ret)
		ret = bind_eventfd(s->client, VFIO_PCI_MSI_IRQ_INDEX, s->msi_fd);

	if (!ret)
		s->msi = true;
	return ret;
}

int mtty_remap_window(struct mtty_session *s, unsigned int w)
{
	int ret = umdev_client_dma_unmap(s->client, IOVA(w), MTTY_TRAFFIC_WINDOW, 0);

	if (!ret)
		ret = umdev_client_dma_map(s->client, IOVA(w), MTTY_TRAFFIC_WINDOW, s->memfd,
					   (uint64_t)w * MTTY_TRAFFIC_WINDOW, RW);
	return ret;
}

/* The steps of mtty_check() after the session is open; @why names the failed one. */
static int check_session(struct mtty_session *s, char *why, size_t whylen)
{
	struct vfio_device_info info;
	struct vfio_region_info *bar = NULL;
	uint16_t id[2];
	uint8_t iir;
	int ret, fd = -1;

	ret = umdev_client_get_info(s->client, &info);
	if (ret || !(info.flags & VFIO_DEVICE_FLAGS_PCI) || info.num_regions <= CFG) {
		snprintf(why, whylen, "DEVICE_GET_INFO: %d, flags %#x, %u regions", ret, info.flags,
			 info.num_regions);
		return ret ? ret : -EBADMSG;
	}
	ret = umdev_client_region_read(s->client, CFG, 0, id, sizeof(id));
	if (ret != (int)sizeof(id) || id[0] != MTTY_VENDOR || id[1] != MTTY_DEVICE) {
		snprintf(why, whylen, "config space identity: %d, %04x:%04x", ret, id[0], id[1]);
		return ret < 0 ? ret : -EBADMSG;
	}
	ret = umdev_client_get_region_info(s->client, BAR0, &bar, &fd);
	if (fd >= 0)
		close(fd);
	if (ret || bar->size != 8) {
		snprintf(why, whylen, "BAR0 info: %d, size %llu", ret,
			 bar ? (unsigned long long)bar->size : 0ULL);
		free(bar);
		return ret ? ret : -EBADMSG;
	}
	free(bar);
	for (unsigned int i = 0; i < 3; i++) {
		ret = mtty_echo_irq(s, (uint8_t)(0x5a + i));
		if (ret) {
			snprintf(why, whylen, "echo with INTx, round %u: %s", i, strerror(-ret));
			return ret;
		}
	}
	ret = mtty_remap_window(s, 1);
	if (ret) {
		snprintf(why, whylen, "DMA unmap and map again: %s", strerror(-ret));
		return ret;
	}
	ret = reg_read(s->client, UART_IIR, &iir);
	if (ret || (iir & UART_IIR_NO_INT) == 0) {
		snprintf(why, whylen, "IIR after the echoes: %d, %#x", ret, iir);
		return ret ? ret : -EBADMSG;
	}
	ret = umdev_client_reset(s->client);
	if (ret)
		snprintf(why, whylen, "DEVICE_RESET: %s", strerror(-ret));
	return ret;
}

int mtty_check(const char *socket_path, char *why, size_t whylen)
{
	struct mtty_session s;
	int ret = mtty_session_open(socket_path, MTTY_TRAFFIC_WAIT_MS, &s);

	if (ret) {
		snprintf(why, whylen, "connect, map DMA and bind INTx: %s", strerror(-ret));
		return ret;
	}
	ret = check_session(&s, why, whylen);
	mtty_session_close(&s);
	return ret;
}
