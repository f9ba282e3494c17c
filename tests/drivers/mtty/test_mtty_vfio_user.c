/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty served over vfio-user, driven through libumdev-client as a VMM would drive it: the
 * driver is linked in (umdev_builtin_mtty), each device is served in-process by its own
 * server on a one-thread worker pool, and the client talks to it over a socketpair. The
 * cases follow what QEMU's vfio-user-pci does with the card: device, region and IRQ info,
 * config space and BAR sizing, loopback on both ports, INTx with its unmask, reset,
 * migration from one served device to another (DEVICE_FEATURE, MIG_DATA_READ and
 * MIG_DATA_WRITE), and a port connected to a host pty.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <umdev/client.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_user_server.h>
#include <umdev/workers.h>

#include "mtty.h"
#include "tap.h"
#include "uart16550.h"

extern const struct umdev_driver_module umdev_builtin_mtty;

#define CFG VFIO_PCI_CONFIG_REGION_INDEX
#define WAIT_MS 30000
#define NDEV 2

/* A served device and its client. */
struct vu_dev {
	struct mdev_device *mdev; /* a reference */
	struct vfio_device *vdev; /* a reference */
	struct vfio_user_server *srv;
	struct umdev_client *client;
};

struct vu {
	struct umdev_workers *workers;
	struct mdev_parent *parent; /* a reference */
	bool started;
	struct vu_dev dev[NDEV];
};

static void vu_stop(struct vu *v)
{
	for (unsigned int i = 0; i < NDEV; i++) {
		struct vu_dev *d = &v->dev[i];

		umdev_client_close(d->client);
		vfio_user_server_destroy(d->srv);
		if (d->vdev)
			vfio_put_device(d->vdev);
		if (d->mdev) {
			CHECK_EQ(mdev_device_remove(d->mdev), 0);
			mdev_device_put(d->mdev);
		}
	}
	mdev_parent_put(v->parent);
	if (v->started)
		umdev_builtin_mtty.exit();
	umdev_workers_destroy(v->workers);
}

/* Device i of type mtty-@ports, served, with a connected client; checked. */
static bool vu_start(struct vu *v, unsigned int ports)
{
	memset(v, 0, sizeof(*v));
	if (!CHECK_EQ(umdev_workers_create(1, &v->workers), 0) ||
	    !CHECK_EQ(umdev_builtin_mtty.init(), 0))
		return false;
	v->started = true;
	if (!CHECK_EQ(mdev_parent_get_by_name(MTTY_PARENT_NAME, &v->parent), 0))
		return false;
	for (unsigned int i = 0; i < NDEV; i++) {
		struct vfio_user_server_config cfg = {
			.socket_path = NULL, .workers = v->workers,
			.owner = (uid_t)-1, .group = (gid_t)-1,
		};
		struct mdev_type *type = mdev_parent_find_type(v->parent, ports == 1 ? MTTY_TYPE_1
										   : MTTY_TYPE_2);
		struct vu_dev *d = &v->dev[i];
		char text[UUID_STRING_LEN + 1];
		guid_t uuid;
		int sv[2];

		snprintf(text, sizeof(text), "83b8f4f2-509f-382f-3c1e-e6bfe0fa10%02u", i + 1);
		if (!CHECK(type) || !CHECK_EQ(mdev_uuid_parse(text, &uuid), 0) ||
		    !CHECK_EQ(mdev_device_create(type, &uuid, &d->mdev), 0)) {
			d->mdev = NULL;
			return false;
		}
		if (!CHECK_EQ(vfio_device_get_from_name(text, &d->vdev), 0)) {
			d->vdev = NULL;
			return false;
		}
		if (!CHECK_EQ(vfio_user_server_create(d->vdev, &cfg, &d->srv), 0)) {
			d->srv = NULL;
			return false;
		}
		if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0))
			return false;
		if (!CHECK_EQ(vfio_user_server_add_client(d->srv, sv[1]), 0)) {
			close(sv[0]);
			return false;
		}
		if (!CHECK_EQ(umdev_client_connect_fd(sv[0], &d->client), 0)) {
			d->client = NULL;
			return false;
		}
		umdev_client_set_timeout(d->client, WAIT_MS);
	}
	return true;
}

#define VU_TEST(name, ports)                           \
	static void name##_body(struct vu *v);         \
	TEST(name)                                     \
	{                                              \
		struct vu vu;                          \
		if (vu_start(&vu, ports))              \
			name##_body(&vu);              \
		vu_stop(&vu);                          \
	}                                              \
	static void name##_body(struct vu *v)

/* ---- accesses ---- */

static uint8_t rd(struct umdev_client *c, unsigned int port, unsigned int reg)
{
	uint8_t b = 0;

	CHECK_EQ(umdev_client_region_read(c, VFIO_PCI_BAR0_REGION_INDEX + port, reg, &b, 1), 1);
	return b;
}

static void wr(struct umdev_client *c, unsigned int port, unsigned int reg, uint8_t val)
{
	CHECK_EQ(umdev_client_region_write(c, VFIO_PCI_BAR0_REGION_INDEX + port, reg, &val, 1,
					   false),
		 1);
}

static uint32_t cfg_rd32(struct umdev_client *c, unsigned int off)
{
	uint32_t v = 0;

	CHECK_EQ(umdev_client_region_read(c, CFG, off, &v, 4), 4);
	return le32toh(v);
}

static void cfg_wr32(struct umdev_client *c, unsigned int off, uint32_t val)
{
	uint32_t v = htole32(val);

	CHECK_EQ(umdev_client_region_write(c, CFG, off, &v, 4, false), 4);
}

static bool efd_wait(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };

	return poll(&p, 1, WAIT_MS) == 1;
}

static uint64_t efd_take(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* ---- cases ---- */

VU_TEST(vu_info_and_config, 2)
{
	static const uint8_t seed_dump[0x40] = {
		0x48, 0x43, 0x53, 0x32, 0x01, 0x00, 0x00, 0x02, 0x10, 0x02, 0x00, 0x07,
		0x00, 0x00, 0x00, 0x00, 0x51, 0xc1, 0x00, 0x00, 0x59, 0xc1, 0x00, 0x00,
		[0x2c] = 0x48, 0x43, 0x53, 0x32, [0x3c] = 0x0a, 0x01,
	};
	struct umdev_client *c = v->dev[0].client;
	struct vfio_device_info info;
	struct vfio_region_info *ri;
	struct vfio_irq_info irq = { .argsz = sizeof(irq) };
	uint8_t config[MTTY_CONFIG_SIZE];
	int fd;

	CHECK_EQ(umdev_client_get_info(c, &info), 0);
	CHECK_EQ(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	CHECK_EQ(info.num_regions, 9);
	CHECK_EQ(info.num_irqs, 5);
	REQUIRE_EQ(umdev_client_get_region_info(c, CFG, &ri, &fd), 0);
	CHECK_EQ(ri->size, MTTY_CONFIG_SIZE);
	CHECK_EQ(fd, -1);
	free(ri);
	for (uint32_t i = 0; i < 2; i++) {
		REQUIRE_EQ(umdev_client_get_region_info(c, i, &ri, NULL), 0);
		CHECK_EQ(ri->size, MTTY_BAR_SIZE);
		CHECK_EQ(ri->flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
		free(ri);
	}
	irq.index = VFIO_PCI_INTX_IRQ_INDEX;
	CHECK_EQ(umdev_client_get_irq_info(c, &irq), 0);
	CHECK_EQ(irq.flags, 0x7);
	CHECK_EQ(irq.count, 1);
	irq.index = VFIO_PCI_ERR_IRQ_INDEX; /* QEMU asks; the card has none */
	CHECK_EQ(umdev_client_get_irq_info(c, &irq), -EINVAL);

	/* QEMU's probe: each BAR sized with all ones, then restored */
	for (unsigned int bar = 0; bar < 6; bar++) {
		unsigned int off = 0x10 + 4 * bar;
		uint32_t orig = cfg_rd32(c, off);

		cfg_wr32(c, off, 0xffffffff);
		CHECK_EQ(cfg_rd32(c, off), bar < 2 ? 0xfffffff9 : 0);
		cfg_wr32(c, off, orig);
	}
	/* SeaBIOS and Linux place the BARs and route the interrupt as in the seed */
	cfg_wr32(c, 0x10, 0xc150);
	cfg_wr32(c, 0x14, 0xc158);
	cfg_wr32(c, 0x3c, 0x0000010a);
	CHECK_EQ(umdev_client_region_read(c, CFG, 0, config, sizeof(config)), sizeof(config));
	CHECK(!memcmp(config, seed_dump, sizeof(seed_dump)));
	CHECK(!memcmp(config + 0x60, "PCI Serial/UART", 15));
	/* the server checks bounds before the driver does */
	CHECK(umdev_client_region_read(c, CFG, 0xfe, config, 4) < 0);
	CHECK(umdev_client_region_read(c, VFIO_PCI_BAR0_REGION_INDEX, 8, config, 1) < 0);
}

VU_TEST(vu_loopback_both_ports, 2)
{
	struct umdev_client *c = v->dev[1].client;

	for (unsigned int p = 0; p < 2; p++) {
		wr(c, p, UART_FCR, UART_FCR_ENABLE_FIFO);
		wr(c, p, UART_LCR, UART_LCR_WLEN8);
		for (const char *s = p ? "ttyS2" : "ttyS1"; *s; s++)
			wr(c, p, UART_TX, (uint8_t)*s);
	}
	for (unsigned int p = 0; p < 2; p++) {
		char got[6] = { 0 };

		for (unsigned int i = 0; i < 5; i++) {
			CHECK_EQ(rd(c, p, UART_LSR), UART_LSR_DR);
			got[i] = (char)rd(c, p, UART_RX);
		}
		CHECK_STR(got, p ? "ttyS2" : "ttyS1");
		CHECK_EQ(rd(c, p, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
		CHECK_EQ(rd(c, p, UART_IIR), 0xc1);
		CHECK_EQ(rd(c, p, UART_MSR), 0xb0);
	}
}

VU_TEST(vu_intx_and_reset, 1)
{
	struct umdev_client *c = v->dev[0].client;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	REQUIRE(efd >= 0);
	CHECK_EQ(umdev_client_set_irqs(c, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0,
				       1, &efd),
		 0);
	wr(c, 0, UART_FCR, UART_FCR_ENABLE_FIFO);
	wr(c, 0, UART_IER, UART_IER_THRI); /* THRE, at once */
	CHECK(efd_wait(efd));
	CHECK_EQ(efd_take(efd), 1);
	/* QEMU without KVM: after the guest's EOI it unmasks; the line is still up */
	CHECK_EQ(umdev_client_set_irqs(c, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
				       NULL),
		 0);
	CHECK(efd_wait(efd));
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(rd(c, 0, UART_IIR), 0xc2); /* the guest acknowledges THRE */
	CHECK_EQ(umdev_client_set_irqs(c, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
				       NULL),
		 0);
	/* RDI from a looped-back byte */
	wr(c, 0, UART_IER, UART_IER_RDI);
	wr(c, 0, UART_TX, '#');
	CHECK(efd_wait(efd));
	CHECK_EQ(efd_take(efd), 1);
	/* QEMU's machine reset: interrupts off, DEVICE_RESET */
	CHECK_EQ(umdev_client_set_irqs(c, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
				       NULL),
		 0);
	CHECK_EQ(umdev_client_reset(c), 0);
	CHECK_EQ(rd(c, 0, UART_IER), 0);
	CHECK_EQ(rd(c, 0, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(rd(c, 0, UART_IIR), UART_IIR_NO_INT);
	close(efd);
}

/* DEVICE_FEATURE SET of MIG_DEVICE_STATE. */
static int set_state(struct umdev_client *c, uint32_t state)
{
	union {
		struct vfio_device_feature hdr;
		uint64_t raw[3];
	} b;
	struct vfio_device_feature_mig_state st = { .device_state = state, .data_fd = -1 };
	int ret;

	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(b.hdr) + sizeof(st);
	b.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	memcpy(b.hdr.data, &st, sizeof(st));
	ret = umdev_client_device_feature(c, &b.hdr);
	return ret < 0 ? ret : 0;
}

static uint64_t get_u64_feature(struct umdev_client *c, uint32_t feature)
{
	union {
		struct vfio_device_feature hdr;
		uint64_t raw[3];
	} b;
	uint64_t v = 0;

	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(b.hdr) + sizeof(uint64_t);
	b.hdr.flags = VFIO_DEVICE_FEATURE_GET | feature;
	if (CHECK(umdev_client_device_feature(c, &b.hdr) >= 0))
		memcpy(&v, b.hdr.data, sizeof(v));
	return v;
}

VU_TEST(vu_migration_round_trip, 2)
{
	struct umdev_client *src = v->dev[0].client, *dst = v->dev[1].client;
	uint8_t stream[128];
	int n, len = 0;

	CHECK_EQ(get_u64_feature(src, VFIO_DEVICE_FEATURE_MIGRATION),
		 VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY);
	CHECK_EQ(get_u64_feature(src, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE), 96);

	/* a guest mid-transfer: bytes in both FIFOs, an odd divisor, scratch values */
	for (unsigned int p = 0; p < 2; p++) {
		wr(src, p, UART_FCR, UART_FCR_ENABLE_FIFO);
		wr(src, p, UART_LCR, UART_LCR_DLAB);
		wr(src, p, UART_DLL, (uint8_t)(5 + p));
		wr(src, p, UART_LCR, UART_LCR_WLEN8 | UART_LCR_PARITY);
		wr(src, p, UART_SCR, (uint8_t)(0x10 + p));
		wr(src, p, UART_IER, UART_IER_RDI);
		for (unsigned int i = 0; i < 10; i++)
			wr(src, p, UART_TX, (uint8_t)('A' + p * 16 + i));
	}

	/* source: RUNNING -> PRE_COPY (header) -> STOP_COPY (the rest), as QEMU does */
	REQUIRE_EQ(set_state(src, VFIO_DEVICE_STATE_PRE_COPY), 0);
	while ((n = umdev_client_mig_data_read(src, stream + len, 16)) > 0)
		len += n;
	CHECK_EQ(len, 24);
	REQUIRE_EQ(set_state(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	while ((n = umdev_client_mig_data_read(src, stream + len, 16)) > 0)
		len += n;
	CHECK_EQ(n, 0);
	REQUIRE_EQ(len, 96);
	CHECK_EQ(set_state(src, VFIO_DEVICE_STATE_STOP), 0);

	/* destination: RESUMING, the stream in two pieces, then RUNNING */
	REQUIRE_EQ(set_state(dst, VFIO_DEVICE_STATE_RESUMING), 0);
	CHECK_EQ(umdev_client_mig_data_write(dst, stream, 30), 0);
	CHECK_EQ(umdev_client_mig_data_write(dst, stream + 30, 66), 0);
	CHECK(umdev_client_mig_data_write(dst, stream, 1) < 0); /* nothing past the end */
	REQUIRE_EQ(set_state(dst, VFIO_DEVICE_STATE_RUNNING), 0);

	for (unsigned int p = 0; p < 2; p++) {
		CHECK_EQ(rd(dst, p, UART_IER), UART_IER_RDI);
		CHECK_EQ(rd(dst, p, UART_LCR), UART_LCR_WLEN8 | UART_LCR_PARITY);
		CHECK_EQ(rd(dst, p, UART_SCR), 0x10 + p);
		CHECK_EQ(rd(dst, p, UART_IIR), 0xc4);
		for (unsigned int i = 0; i < 10; i++)
			CHECK_EQ(rd(dst, p, UART_RX), 'A' + p * 16 + i);
		CHECK_EQ(rd(dst, p, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
		wr(dst, p, UART_LCR, UART_LCR_DLAB);
		CHECK_EQ(rd(dst, p, UART_DLL), 5 + p);
	}
	/* a wrong stream is refused as soon as its header is complete */
	stream[0] ^= 0xff;
	REQUIRE_EQ(set_state(dst, VFIO_DEVICE_STATE_RESUMING), 0);
	CHECK_EQ(umdev_client_mig_data_write(dst, stream, 24), -EFAULT);
	CHECK_EQ(umdev_client_reset(dst), 0);
}

VU_TEST(vu_pty_console, 2)
{
	const struct attribute_group *const *groups =
		mdev_parent_get_ops(v->parent)->mdev_attr_groups;
	struct attribute *backend = NULL, *pty_attr = NULL;
	struct umdev_client *c = v->dev[0].client;
	char path[UMDEV_ATTR_BUF_SIZE + 1] = { 0 };
	struct termios tio;
	uint8_t got[8];
	size_t n = 0;
	int pty, efd;

	for (struct attribute **a = groups[0]->attrs; *a; a++) {
		if (!strcmp((*a)->name, "port1_backend"))
			backend = *a;
		if (!strcmp((*a)->name, "port1_pty"))
			pty_attr = *a;
	}
	REQUIRE(backend && pty_attr);
	/* what `echo pty > .../vendor/port1_backend` will do through umdevd's sysfs tree */
	REQUIRE_EQ(mdev_dev_attr_store(mdev_dev(v->dev[0].mdev), backend, "pty\n", 4), 4);
	REQUIRE(mdev_dev_attr_show(mdev_dev(v->dev[0].mdev), pty_attr, path) > 0);
	path[strcspn(path, "\n")] = '\0';
	pty = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	REQUIRE(pty >= 0);
	CHECK_EQ(tcgetattr(pty, &tio), 0);
	cfmakeraw(&tio);
	CHECK_EQ(tcsetattr(pty, TCSANOW, &tio), 0);

	/* the guest prints on ttyS2 */
	wr(c, 1, UART_FCR, UART_FCR_ENABLE_FIFO);
	for (const char *s = "boot ok"; *s; s++)
		wr(c, 1, UART_TX, (uint8_t)*s);
	while (n < 7 && efd_wait(pty)) {
		ssize_t r = read(pty, got + n, 7 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	CHECK_EQ(n, 7);
	CHECK(!memcmp(got, "boot ok", 7));

	/* a key pressed in the terminal reaches the guest with an interrupt */
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	REQUIRE(efd >= 0);
	CHECK_EQ(umdev_client_set_irqs(c, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0,
				       1, &efd),
		 0);
	wr(c, 1, UART_IER, UART_IER_RDI);
	CHECK_EQ(write(pty, "q", 1), 1);
	CHECK(efd_wait(efd));
	CHECK_EQ(rd(c, 1, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	CHECK_EQ(rd(c, 1, UART_RX), 'q');
	close(efd);
	close(pty);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
