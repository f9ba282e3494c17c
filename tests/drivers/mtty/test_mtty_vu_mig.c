/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty's migration over vfio-user, between two devices each served by its own server with
 * its own client: DEVICE_FEATURE (MIGRATION, MIG_DATA_SIZE, MIG_DEVICE_STATE) and the stream
 * through MIG_DATA_READ on the source and MIG_DATA_WRITE on the destination. The round
 * trips go through STOP_COPY and through PRE_COPY; the guest's state on both ports (FIFO
 * contents with a wrapped ring, registers, the divisor, an overrun, a latched THRE, unread
 * modem-status deltas, the pending interrupt) must reach the destination as the guest reads
 * it. Also: the stream's bytes in the kernel's format, an untrusted stream's errors, and a
 * client that goes away in the middle of a migration.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mtty_suite_common.h"
#include "mtty_vu_fixture.h"

#define HDR sizeof(struct mtty_mig_header)
#define PORT sizeof(struct mtty_mig_port)

static uint8_t vu_access_rd(void *dev, unsigned int port, unsigned int reg)
{
	return vu_rd(dev, port, reg);
}

static void vu_access_wr(void *dev, unsigned int port, unsigned int reg, uint8_t val)
{
	vu_wr(dev, port, reg, val);
}

static void vu_access_wr_posted(void *dev, unsigned int port, unsigned int reg, uint8_t val)
{
	vu_wr_posted(dev, port, reg, val);
}

/* mtty_suite_common.h's script over vfio-user, with posted writes where QEMU posts them. */
static void make_state(struct vu_dev *d, unsigned int seed)
{
	struct uart_access a = { d, d->ports, vu_access_rd, vu_access_wr, vu_access_wr_posted };

	guest_state_make(&a, seed);
}

static void check_state(struct vu_dev *d, unsigned int seed)
{
	struct uart_access a = { d, d->ports, vu_access_rd, vu_access_wr, vu_access_wr_posted };

	guest_state_check(&a, seed);
}

VU_CASE(vu_mig_features)
{
	struct vfio_device_feature_migration mig = { 0 };
	struct vfio_device_feature_mig_data_size size = { 0 };
	struct vu_dev *d1, *d2;

	REQUIRE((d1 = vu_open(e, 1, 1)));
	REQUIRE((d2 = vu_open(e, 2, 2)));
	CHECK_EQ(vu_feature_get(d1, VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig)), 0);
	CHECK_EQ(mig.flags, VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				    VFIO_MIGRATION_PRE_COPY);
	CHECK_EQ(vu_feature_get(d1, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size, sizeof(size)), 0);
	CHECK_EQ(size.stop_copy_length, MTTY_MIG_SIZE(1));
	CHECK_EQ(vu_feature_get(d2, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size, sizeof(size)), 0);
	CHECK_EQ(size.stop_copy_length, MTTY_MIG_SIZE(2));
	CHECK_EQ(vu_mig_get(d1), VFIO_DEVICE_STATE_RUNNING);
	/* no stream yet */
	CHECK(umdev_client_mig_data_read(d1->c, &mig, 1) < 0);
	CHECK_EQ(vu_mig_set(d1, VFIO_DEVICE_STATE_ERROR), -EINVAL);
	CHECK_EQ(vu_mig_get(d1), VFIO_DEVICE_STATE_RUNNING);
	vu_destroy(d1);
	vu_destroy(d2);
}

/*
 * Checks the stream @s of a make_state(@seed) field by field, at the kernel's offsets;
 * @scr0 is port 0's scratch register.
 */
static void check_stream(const uint8_t *s, unsigned int ports, unsigned int seed, uint8_t scr0)
{
	struct mtty_mig_header h;

	memcpy(&h, s, HDR);
	CHECK_EQ(le64toh(h.magic), MTTY_MIG_MAGIC);
	CHECK_EQ(le32toh(h.major), MTTY_MIG_MAJOR);
	CHECK_EQ(le32toh(h.minor), MTTY_MIG_MINOR);
	CHECK_EQ(le32toh(h.nr_ports), ports);
	CHECK_EQ(h.flags, 0);
	for (unsigned int p = 0; p < ports; p++) {
		const uint8_t *q = s + HDR + p * PORT;
		struct mtty_mig_port m;

		memcpy(&m, q, PORT);
		CHECK_EQ(m.uart_reg[UART_IER], UART_IER_RDI | UART_IER_RLSI | UART_IER_MSI);
		CHECK_EQ(m.uart_reg[UART_LCR], UART_LCR_WLEN8 | UART_LCR_STOP);
		CHECK_EQ(m.uart_reg[UART_SCR], p ? 0xa0 + seed + p : scr0);
		CHECK_EQ(m.count, p ? 16 : 13);
		CHECK_EQ(m.tail, 5); /* the ring wrapped */
		CHECK_EQ(m.head, p ? 5 : 2);
		CHECK_EQ(m.fifo[5], (uint8_t)(seed * 16 + p * 64));
		CHECK_EQ(m.dlab, 0);
		CHECK_EQ(m.overrun, p);
		CHECK_EQ(q[30] | q[31] << 8, 0x100 + seed + p); /* divisor, little endian */
		CHECK_EQ(m.fcr, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_4);
		CHECK_EQ(m.max_fifo_size, 16);
		CHECK_EQ(m.intr_trigger_level, 1);
		CHECK_EQ(m.pad0 | m.pad1, 0);
	}
}

VU_CASE(vu_mig_round_trip_stop_copy)
{
	uint8_t s[128];
	int efd = efd_new(), n;
	struct vu_dev *src, *dst;

	REQUIRE((src = vu_open(e, 2, 1)));
	REQUIRE((dst = vu_open(e, 2, 2)));
	make_state(src, 3);
	/* the destination's VMM has set up its interrupt before the state arrives */
	REQUIRE_EQ(vu_irq_fd(dst, INTX, TRIGGER, efd), 0);
	CHECK_EQ(efd_take(efd), 0);

	/* source: RUNNING -> STOP -> STOP_COPY, the stream in odd-sized reads */
	REQUIRE_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_STOP), 0);
	REQUIRE_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	CHECK_EQ(vu_mig_get(src), VFIO_DEVICE_STATE_STOP_COPY);
	n = vu_mig_read_all(src, s, sizeof(s), 7);
	REQUIRE_EQ(n, MTTY_MIG_SIZE(2));
	CHECK_EQ(umdev_client_mig_data_read(src->c, s + n, 1), 0); /* the end, again */
	check_stream(s, 2, 3, 0xa3);
	CHECK_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_STOP), 0);
	CHECK(umdev_client_mig_data_read(src->c, s + n, 1) < 0); /* the stream went */

	/* destination: RESUMING, the stream in other pieces, then RUNNING */
	REQUIRE_EQ(vu_mig_set(dst, VFIO_DEVICE_STATE_STOP), 0);
	REQUIRE_EQ(vu_mig_set(dst, VFIO_DEVICE_STATE_RESUMING), 0);
	REQUIRE_EQ(vu_mig_write_all(dst, s, (size_t)n, 11), 0);
	CHECK_EQ(umdev_client_mig_data_write(dst->c, s, 1), -ENOMEM); /* nothing past the end */
	REQUIRE_EQ(vu_mig_set(dst, VFIO_DEVICE_STATE_STOP), 0);
	CHECK_EQ(efd_take(efd), 0); /* stopped: held back */
	REQUIRE_EQ(vu_mig_set(dst, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(vu_mig_get(dst), VFIO_DEVICE_STATE_RUNNING);
	/* the destination's line is up with the source's pending interrupts */
	CHECK(fd_wait(efd));
	CHECK_EQ(efd_take(efd), 1);
	check_state(dst, 3);
	/* the source, resumed, still has its own state */
	CHECK_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_RUNNING), 0);
	check_state(src, 3);
	vu_destroy(src);
	vu_destroy(dst);
	close(efd);
}

VU_CASE(vu_mig_round_trip_pre_copy)
{
	uint8_t s[128];
	int n, len;
	struct vu_dev *src, *dst;

	REQUIRE((src = vu_open(e, 1, 1)));
	REQUIRE((dst = vu_open(e, 1, 2)));
	make_state(src, 7);
	/* as QEMU: PRE_COPY while the guest runs (the header), PRE_COPY_P2P, STOP_COPY */
	REQUIRE_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_PRE_COPY), 0);
	len = vu_mig_read_all(src, s, sizeof(s), 16);
	REQUIRE_EQ(len, HDR);
	/* the guest still runs in PRE_COPY: what it changes now is in the final data */
	vu_wr(src, 0, UART_SCR, 0x11);
	REQUIRE_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_PRE_COPY_P2P), 0);
	REQUIRE_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	n = vu_mig_read_all(src, s + len, sizeof(s) - (size_t)len, 16);
	REQUIRE_EQ(n, PORT);
	len += n;
	check_stream(s, 1, 7, 0x11);
	CHECK_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_STOP), 0);

	REQUIRE_EQ(vu_mig_set(dst, VFIO_DEVICE_STATE_RESUMING), 0);
	REQUIRE_EQ(vu_mig_write_all(dst, s, (size_t)len, (uint32_t)len), 0);
	REQUIRE_EQ(vu_mig_set(dst, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(vu_rd(dst, 0, UART_SCR), 0x11);
	vu_wr(dst, 0, UART_SCR, 0xa7);
	check_state(dst, 7);
	vu_destroy(src);
	vu_destroy(dst);
}

VU_CASE(vu_mig_latched_interrupts_over_msi)
{
	uint8_t s[MTTY_MIG_SIZE(1)];
	int efd = efd_new();
	struct vu_dev *src, *dst;

	REQUIRE((src = vu_open(e, 1, 1)));
	REQUIRE((dst = vu_open(e, 1, 2)));
	/* THRE latched, and MSR deltas unread: state the kernel's format keeps in IIR and MSR */
	vu_wr(src, 0, UART_IER, UART_IER_THRI | UART_IER_MSI);
	vu_wr(src, 0, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS); /* DSR and DCD drop */
	REQUIRE_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	REQUIRE_EQ(vu_mig_read_all(src, s, sizeof(s), 8), sizeof(s));
	CHECK_EQ(s[HDR + UART_IIR], UART_IIR_THRI);
	CHECK_EQ(s[HDR + UART_MSR], UART_MSR_DDSR | UART_MSR_DDCD);
	CHECK_EQ(vu_mig_set(src, VFIO_DEVICE_STATE_STOP), 0);

	/* the destination uses MSI: one message when it runs with the loaded sources */
	REQUIRE_EQ(vu_irq_fd(dst, MSI, TRIGGER, efd), 0);
	REQUIRE_EQ(vu_mig_set(dst, VFIO_DEVICE_STATE_RESUMING), 0);
	REQUIRE_EQ(vu_mig_write_all(dst, s, sizeof(s), 5), 0);
	CHECK_EQ(efd_take(efd), 0);
	REQUIRE_EQ(vu_mig_set(dst, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK(fd_wait(efd));
	CHECK_EQ(efd_take(efd), 1);
	CHECK_EQ(vu_rd(dst, 0, UART_IIR), UART_IIR_THRI);
	CHECK_EQ(vu_rd(dst, 0, UART_IIR), UART_IIR_MSI);
	CHECK_EQ(vu_rd(dst, 0, UART_MSR), UART_MSR_CTS | UART_MSR_DDSR | UART_MSR_DDCD);
	CHECK_EQ(vu_rd(dst, 0, UART_IIR), UART_IIR_NO_INT);
	CHECK_EQ(vu_rd(dst, 0, UART_MCR), UART_MCR_LOOP | UART_MCR_RTS);
	CHECK_EQ(efd_take(efd), 0);
	vu_destroy(src);
	vu_destroy(dst);
	close(efd);
}

/* Resumes @d from @len bytes of @s after a reset: the write's error, else RESUMING -> STOP's. */
static int resume(struct vu_dev *d, const uint8_t *s, size_t len)
{
	int ret;

	if (!CHECK_EQ(umdev_client_reset(d->c), 0) ||
	    !CHECK_EQ(vu_mig_set(d, VFIO_DEVICE_STATE_RESUMING), 0))
		return -EIO;
	ret = umdev_client_mig_data_write(d->c, s, (uint32_t)len);
	if (ret)
		return ret;
	return vu_mig_set(d, VFIO_DEVICE_STATE_STOP);
}

VU_CASE(vu_mig_resume_errors)
{
	uint8_t good[MTTY_MIG_SIZE(1)], two[MTTY_MIG_SIZE(2)], s[MTTY_MIG_SIZE(1) + 1];
	struct vu_dev *d1, *d2;

	REQUIRE((d1 = vu_open(e, 1, 1)));
	REQUIRE((d2 = vu_open(e, 2, 2)));
	REQUIRE_EQ(vu_mig_set(d1, VFIO_DEVICE_STATE_STOP_COPY), 0);
	REQUIRE_EQ(vu_mig_read_all(d1, good, sizeof(good), 64), sizeof(good));
	REQUIRE_EQ(vu_mig_set(d2, VFIO_DEVICE_STATE_STOP_COPY), 0);
	REQUIRE_EQ(vu_mig_read_all(d2, two, sizeof(two), 64), sizeof(two));
	CHECK_EQ(umdev_client_reset(d2->c), 0);
	CHECK_EQ(vu_mig_get(d2), VFIO_DEVICE_STATE_RUNNING);

	/* the header is checked once complete: -EFAULT, as in the sample */
	memcpy(s, good, sizeof(good));
	s[0] ^= 1;
	CHECK_EQ(resume(d1, s, HDR), -EFAULT);
	CHECK_EQ(vu_mig_get(d1), VFIO_DEVICE_STATE_RESUMING);
	CHECK_EQ(umdev_client_mig_data_write(d1->c, s, HDR - 1), 0); /* incomplete: not yet */
	CHECK_EQ(umdev_client_mig_data_write(d1->c, s + HDR - 1, 1), -EFAULT);
	/* another device's stream: the port count differs */
	CHECK_EQ(resume(d1, two, sizeof(good)), -EFAULT);
	CHECK_EQ(resume(d2, good, sizeof(good)), -EFAULT);
	/* more than the device's state; less than it */
	memcpy(s, good, sizeof(good));
	s[sizeof(good)] = 0;
	CHECK_EQ(resume(d1, s, sizeof(s)), -ENOMEM);
	CHECK_EQ(resume(d1, good, sizeof(good) - 1), -EINVAL);
	CHECK_EQ(vu_mig_get(d1), VFIO_DEVICE_STATE_RESUMING);
	/* ports that no 16550A can have */
	memcpy(s, good, sizeof(good));
	s[HDR + 24] = 16; /* head out of the ring */
	CHECK_EQ(resume(d1, s, sizeof(good)), -EINVAL);
	memcpy(s, good, sizeof(good));
	s[HDR + 27] = 1; /* dlab without LCR.DLAB */
	CHECK_EQ(resume(d1, s, sizeof(good)), -EINVAL);
	/* the good ones load */
	CHECK_EQ(resume(d1, good, sizeof(good)), 0);
	CHECK_EQ(vu_mig_set(d1, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(resume(d2, two, sizeof(two)), 0);
	CHECK_EQ(vu_mig_set(d2, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(vu_rd(d2, 1, UART_LSR), LSR_IDLE);
	vu_destroy(d1);
	vu_destroy(d2);
}

VU_CASE(vu_mig_client_goes_mid_migration)
{
	uint8_t s[MTTY_MIG_SIZE(2)];
	struct vu_dev *d;

	REQUIRE((d = vu_open(e, 2, 1)));
	vu_wr(d, 1, UART_SCR, 0x66);
	vu_wr(d, 1, UART_TX, 'z');
	REQUIRE_EQ(vu_mig_set(d, VFIO_DEVICE_STATE_STOP_COPY), 0);
	REQUIRE_EQ(umdev_client_mig_data_read(d->c, s, 10), 10);
	/* the VMM dies: its stream goes with it, and the device runs again */
	REQUIRE(vu_disconnect(d));
	REQUIRE(vu_connect(d));
	CHECK_EQ(vu_mig_get(d), VFIO_DEVICE_STATE_RUNNING);
	CHECK(umdev_client_mig_data_read(d->c, s, 1) < 0);
	CHECK_EQ(vu_rd(d, 1, UART_SCR), 0x66);
	CHECK_EQ(vu_rd(d, 1, UART_RX), 'z');
	/* and a new migration starts from the beginning */
	REQUIRE_EQ(vu_mig_set(d, VFIO_DEVICE_STATE_STOP_COPY), 0);
	CHECK_EQ(vu_mig_read_all(d, s, sizeof(s), 32), sizeof(s));
	CHECK_EQ(vu_mig_set(d, VFIO_DEVICE_STATE_RUNNING), 0);
	vu_destroy(d);
}
