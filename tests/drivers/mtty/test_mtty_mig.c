/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mtty's migration through VFIO_DEVICE_FEATURE and the device's current stream: the
 * features, the stream's bytes in the kernel's format, round trips through STOP_COPY and
 * through PRE_COPY (saved from one device, resumed into another: FIFO contents, registers,
 * pending interrupts), pre-copy info, a stream built by hand as the kernel sample writes
 * it, the errors of a resuming stream, disabled streams, and reset during migration.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mtty_fixture.h"
#include "mtty_suite_common.h"

#define HDR sizeof(struct mtty_mig_header)
#define PORT sizeof(struct mtty_mig_port)

static uint8_t core_rd(void *dev, unsigned int port, unsigned int reg)
{
	return reg_rd(dev, port, reg);
}

static void core_wr(void *dev, unsigned int port, unsigned int reg, uint8_t val)
{
	reg_wr(dev, port, reg, val);
}

/* mtty_suite_common.h's script through the core API, where every write is applied at once. */
static void make_state(struct dev *d, unsigned int ports, unsigned int seed)
{
	struct uart_access a = { d, ports, core_rd, core_wr, core_wr };

	guest_state_make(&a, seed);
}

static void check_state(struct dev *d, unsigned int ports, unsigned int seed)
{
	struct uart_access a = { d, ports, core_rd, core_wr, core_wr };

	guest_state_check(&a, seed);
}

MTTY_TEST(mig_features)
{
	struct vfio_device_feature_migration mig = { 0 };
	struct vfio_device_feature_mig_data_size size = { 0 };
	struct dev d1, d2;

	REQUIRE(dev_create(f, 1, 1, &d1));
	REQUIRE(dev_create(f, 2, 2, &d2));
	CHECK_EQ(feature_get(&d1, VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig)), 0);
	CHECK_EQ(mig.flags, VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				    VFIO_MIGRATION_PRE_COPY);
	CHECK_EQ(feature_get(&d1, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size, sizeof(size)), 0);
	CHECK_EQ(size.stop_copy_length, 60);
	CHECK_EQ(feature_get(&d2, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size, sizeof(size)), 0);
	CHECK_EQ(size.stop_copy_length, 96);
	CHECK_EQ(mig_get(&d1), VFIO_DEVICE_STATE_RUNNING);
	dev_destroy(&d1);
	dev_destroy(&d2);
}

MTTY_TEST(stop_copy_stream_format)
{
	uint8_t buf[128];
	struct mtty_mig_header h;
	struct mtty_mig_port m;
	struct dev d;

	REQUIRE(dev_create(f, 2, 1, &d));
	reg_wr(&d, 1, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_8);
	reg_wr(&d, 1, UART_LCR, UART_LCR_DLAB);
	reg_wr(&d, 1, UART_DLL, 0x34);
	reg_wr(&d, 1, UART_DLM, 0x12);
	reg_wr(&d, 1, UART_LCR, 0x03);
	reg_wr(&d, 1, UART_IER, 0x05);
	reg_wr(&d, 1, UART_MCR, UART_MCR_RTS);
	reg_wr(&d, 1, UART_SCR, 0x77);
	reg_wr(&d, 1, UART_LCR, UART_LCR_DLAB | 0x03); /* stays in DLAB: TX goes to DLL */
	REQUIRE_EQ(mig_set(&d, VFIO_DEVICE_STATE_STOP_COPY), 0);
	CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_STOP_COPY);
	REQUIRE_EQ(mig_read_all(&d, buf, sizeof(buf)), 96);

	memcpy(&h, buf, HDR);
	CHECK_EQ(le64toh(h.magic), 0x7e9d09898c3e2c4eull);
	CHECK_EQ(le32toh(h.major), 1);
	CHECK_EQ(le32toh(h.minor), 0);
	CHECK_EQ(le32toh(h.nr_ports), 2);
	CHECK_EQ(h.flags, 0);
	/* port 0: reset values */
	memcpy(&m, buf + HDR, PORT);
	CHECK_EQ(m.uart_reg[UART_IER] | m.uart_reg[UART_LCR] | m.uart_reg[UART_MCR], 0);
	CHECK_EQ(m.count, 0);
	CHECK_EQ(m.max_fifo_size, 1);
	CHECK_EQ(m.intr_trigger_level, 1);
	/* port 1, field by field at the kernel's offsets */
	memcpy(&m, buf + HDR + PORT, PORT);
	CHECK_EQ(m.uart_reg[UART_IER], 0x05);
	CHECK_EQ(m.uart_reg[UART_LCR], UART_LCR_DLAB | 0x03);
	CHECK_EQ(m.uart_reg[UART_MCR], UART_MCR_RTS);
	CHECK_EQ(m.uart_reg[UART_SCR], 0x77);
	CHECK_EQ(m.dlab, 1);
	CHECK_EQ(m.overrun, 0);
	CHECK_EQ(le16toh(m.divisor), 0x1234);
	CHECK_EQ(buf[HDR + PORT + 30], 0x34); /* divisor, little endian at offset 30 */
	CHECK_EQ(m.fcr, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_8);
	CHECK_EQ(m.max_fifo_size, 16);
	CHECK_EQ(buf[HDR + PORT + 33], 16);
	CHECK_EQ(m.pad0 | m.pad1, 0);
	/* a second read after the end: 0; and the stream goes at STOP */
	CHECK_EQ(vfio_device_mig_read(d.vdev, buf, 1), 0);
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_STOP), 0);
	CHECK_EQ(vfio_device_mig_read(d.vdev, buf, 1), -ENODEV);
	dev_destroy(&d);
}

/* Saves @src (through @path: STOP_COPY directly, or by way of PRE_COPY) into @dst. */
static void migrate(struct dev *src, struct dev *dst, size_t size, bool precopy)
{
	struct vfio_precopy_info info;
	uint8_t buf[128];
	ssize_t n, got = 0;

	if (precopy) {
		REQUIRE_EQ(mig_set(src, VFIO_DEVICE_STATE_PRE_COPY), 0);
		CHECK_EQ(precopy_info(src, &info), 0);
		CHECK_EQ(info.initial_bytes, HDR); /* the header only */
		CHECK_EQ(info.dirty_bytes, 0);
		n = vfio_device_mig_read(src->vdev, buf, 10);
		REQUIRE_EQ(n, 10);
		CHECK_EQ(precopy_info(src, &info), 0);
		CHECK_EQ(info.initial_bytes, HDR - 10);
		n = mig_read_all(src, buf + 10, sizeof(buf) - 10);
		REQUIRE_EQ(n, HDR - 10);
		CHECK_EQ(precopy_info(src, &info), 0);
		CHECK_EQ(info.initial_bytes, 0);
		got = HDR;
		/* the guest keeps running in PRE_COPY_P2P; STOP_COPY appends to the stream */
		REQUIRE_EQ(mig_set(src, VFIO_DEVICE_STATE_PRE_COPY_P2P), 0);
		REQUIRE_EQ(mig_set(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
		CHECK_EQ(precopy_info(src, &info), -EINVAL);
	} else {
		REQUIRE_EQ(mig_set(src, VFIO_DEVICE_STATE_STOP_COPY), 0);
	}
	n = mig_read_all(src, buf + got, sizeof(buf) - (size_t)got);
	REQUIRE(n >= 0);
	REQUIRE_EQ((size_t)(got + n), size);
	CHECK_EQ(mig_set(src, VFIO_DEVICE_STATE_STOP), 0);

	REQUIRE_EQ(mig_set(dst, VFIO_DEVICE_STATE_RESUMING), 0);
	REQUIRE_EQ(mig_write_all(dst, buf, size), 0);
	REQUIRE_EQ(mig_set(dst, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(mig_get(dst), VFIO_DEVICE_STATE_RUNNING);
}

MTTY_TEST(round_trip_stop_copy)
{
	int efd = efd_new();
	struct dev a, b;

	REQUIRE(dev_create(f, 2, 1, &a));
	REQUIRE(dev_create(f, 2, 2, &b));
	make_state(&a, 2, 3);
	REQUIRE_EQ(irq_set_fd(&b, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, efd), 0);
	migrate(&a, &b, 96, false);
	/* the destination's line is up with the source's pending interrupts */
	CHECK_EQ(efd_take(efd), 1);
	check_state(&b, 2, 3);
	/* the source, stopped and resumed, still has its own state */
	CHECK_EQ(mig_set(&a, VFIO_DEVICE_STATE_RUNNING), 0);
	check_state(&a, 2, 3);
	dev_destroy(&a);
	dev_destroy(&b);
	close(efd);
}

MTTY_TEST(round_trip_pre_copy)
{
	struct dev a, b;

	REQUIRE(dev_create(f, 1, 1, &a));
	REQUIRE(dev_create(f, 1, 2, &b));
	make_state(&a, 1, 7);
	migrate(&a, &b, 60, true);
	check_state(&b, 1, 7);
	dev_destroy(&a);
	dev_destroy(&b);
}

/* A stream as the kernel sample writes it for an mtty-1: built here byte by byte. */
MTTY_TEST(kernel_stream_loads)
{
	uint8_t s[60] = { 0 };
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	memcpy(s, "\x4e\x2c\x3e\x8c\x89\x09\x9d\x7e", 8); /* magic, little endian */
	s[8] = 1;					  /* major */
	s[16] = 1;					  /* nr_ports */
	/* the port: IER with bits the sample keeps, LCR, MCR with AFE, SCR */
	s[24 + UART_IER] = 0xf1;
	s[24 + UART_LCR] = 0x03;
	s[24 + UART_MCR] = 0x2b;
	s[24 + UART_SCR] = 0x42;
	/* FIFO: "hey" at 14, 15, 0 (head 1, tail 14, count 3) */
	s[24 + 8 + 14] = 'h';
	s[24 + 8 + 15] = 'e';
	s[24 + 8 + 0] = 'y';
	s[24 + 24] = 1;	    /* head */
	s[24 + 25] = 14;    /* tail */
	s[24 + 26] = 3;	    /* count */
	s[24 + 30] = 12;    /* divisor */
	s[24 + 32] = 0xc7;  /* fcr as written, clear bits included */
	s[24 + 33] = 16;    /* max_fifo_size */
	s[24 + 34] = 0;	    /* the sample's trigger level before FCR is written */
	REQUIRE_EQ(mig_set(&d, VFIO_DEVICE_STATE_RESUMING), 0);
	REQUIRE_EQ(mig_write_all(&d, s, sizeof(s)), 0);
	REQUIRE_EQ(mig_set(&d, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(reg_rd(&d, 0, UART_IER), 0x01);
	CHECK_EQ(reg_rd(&d, 0, UART_MCR), 0x0b);
	CHECK_EQ(reg_rd(&d, 0, UART_SCR), 0x42);
	CHECK_EQ(reg_rd(&d, 0, UART_IIR), 0xc4);
	CHECK_EQ(reg_rd(&d, 0, UART_RX), 'h');
	CHECK_EQ(reg_rd(&d, 0, UART_RX), 'e');
	CHECK_EQ(reg_rd(&d, 0, UART_RX), 'y');
	CHECK_EQ(reg_rd(&d, 0, UART_LSR), LSR_IDLE);
	reg_wr(&d, 0, UART_LCR, UART_LCR_DLAB);
	CHECK_EQ(reg_rd(&d, 0, UART_DLL), 12);
	dev_destroy(&d);
}

/* A valid 60-byte stream of an mtty-1, saved from a fresh device. */
static void fresh_stream(struct fixture *f, uint8_t s[60])
{
	struct dev d;

	REQUIRE(dev_create(f, 1, 99, &d));
	REQUIRE_EQ(mig_set(&d, VFIO_DEVICE_STATE_STOP_COPY), 0);
	CHECK_EQ(mig_read_all(&d, s, 60), 60);
	dev_destroy(&d);
}

/*
 * Resumes @d from @len bytes of @s, starting over from a reset: the error of the write,
 * else of RESUMING -> STOP.
 */
static long resume(struct dev *d, const uint8_t *s, size_t len)
{
	long ret;

	if (!CHECK_EQ(vfio_device_ioctl(d->vdev, VFIO_DEVICE_RESET, NULL), 0) ||
	    !CHECK_EQ(mig_set(d, VFIO_DEVICE_STATE_RESUMING), 0))
		return -EIO;
	ret = vfio_device_mig_write(d->vdev, s, len);
	if (ret < 0)
		return ret;
	CHECK_EQ(ret, (long)len);
	return mig_set(d, VFIO_DEVICE_STATE_STOP);
}

MTTY_TEST(resume_errors)
{
	uint8_t good[60], s[61];
	struct dev d;

	fresh_stream(f, good);
	REQUIRE(dev_create(f, 1, 1, &d));

	/* the header is checked once complete: -EFAULT, as in the sample */
	memcpy(s, good, 60);
	s[0] ^= 1;
	CHECK_EQ(resume(&d, s, 24), -EFAULT);
	CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_RESUMING);
	CHECK_EQ(vfio_device_mig_write(d.vdev, s, 23), 23); /* incomplete: not checked yet */
	CHECK_EQ(vfio_device_mig_write(d.vdev, s + 23, 1), -EFAULT);
	memcpy(s, good, 60);
	s[16] = 2; /* nr_ports of an mtty-2 */
	CHECK_EQ(resume(&d, s, 60), -EFAULT);
	memcpy(s, good, 60);
	s[12] = 1; /* minor 1 */
	CHECK_EQ(resume(&d, s, 60), -EFAULT);
	memcpy(s, good, 60);
	s[20] = 1; /* flags */
	CHECK_EQ(resume(&d, s, 60), -EFAULT);
	/* more than the device's state */
	CHECK_EQ(resume(&d, good, 61), -ENOMEM);
	/* short: refused at RESUMING -> STOP, and the device stays in RESUMING */
	CHECK_EQ(resume(&d, good, 59), -EINVAL);
	CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_RESUMING);
	/* ports that no 16550A can have */
	memcpy(s, good, 60);
	s[24 + 24] = 16; /* head out of the ring */
	CHECK_EQ(resume(&d, s, 60), -EINVAL);
	memcpy(s, good, 60);
	s[24 + 26] = 2; /* count beyond a one-byte receiver, and head/tail disagree */
	CHECK_EQ(resume(&d, s, 60), -EINVAL);
	memcpy(s, good, 60);
	s[24 + 27] = 2; /* dlab not a bool */
	CHECK_EQ(resume(&d, s, 60), -EINVAL);
	memcpy(s, good, 60);
	s[24 + 27] = 1; /* dlab without LCR.DLAB */
	CHECK_EQ(resume(&d, s, 60), -EINVAL);
	memcpy(s, good, 60);
	s[24 + 28] = 7; /* overrun not a bool */
	CHECK_EQ(resume(&d, s, 60), -EINVAL);
	memcpy(s, good, 60);
	s[24 + 33] = 8; /* max_fifo_size */
	CHECK_EQ(resume(&d, s, 60), -EINVAL);
	memcpy(s, good, 60);
	s[24 + 34] = 2; /* trigger level above a one-byte receiver */
	CHECK_EQ(resume(&d, s, 60), -EINVAL);
	/* and the good one loads */
	CHECK_EQ(resume(&d, good, 60), 0);
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_RUNNING), 0);
	dev_destroy(&d);
}

MTTY_TEST(streams_are_disabled)
{
	struct vfio_precopy_info info;
	uint8_t b[8];
	struct dev d;

	REQUIRE(dev_create(f, 1, 1, &d));
	/* no stream yet */
	CHECK_EQ(vfio_device_mig_read(d.vdev, b, 1), -EINVAL);
	/* PRE_COPY -> RUNNING closes the pre-copy stream */
	REQUIRE_EQ(mig_set(&d, VFIO_DEVICE_STATE_PRE_COPY), 0);
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_RUNNING), 0);
	CHECK_EQ(vfio_device_mig_read(d.vdev, b, 1), -ENODEV);
	CHECK_EQ(precopy_info(&d, &info), -EINVAL);
	/* a resuming stream is write-only, and gone once loaded */
	REQUIRE_EQ(mig_set(&d, VFIO_DEVICE_STATE_RESUMING), 0);
	CHECK_EQ(vfio_device_mig_read(d.vdev, b, 1), -EINVAL);
	CHECK_EQ(vfio_device_mig_ioctl(d.vdev, VFIO_MIG_GET_PRECOPY_INFO, &info), -ENOTTY);
	/* a reset takes the device back to RUNNING and disables the stream */
	CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
	CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_RUNNING);
	CHECK_EQ(vfio_device_mig_write(d.vdev, b, 1), -ENODEV);
	/* precopy info: argsz and other commands */
	REQUIRE_EQ(mig_set(&d, VFIO_DEVICE_STATE_PRE_COPY_P2P), 0);
	info.argsz = 23;
	CHECK_EQ(vfio_device_mig_ioctl(d.vdev, VFIO_MIG_GET_PRECOPY_INFO, &info), -EINVAL);
	CHECK_EQ(vfio_device_mig_ioctl(d.vdev, VFIO_DEVICE_GET_INFO, &info), -ENOTTY);
	CHECK_EQ(precopy_info(&d, &info), 0);
	CHECK_EQ(info.initial_bytes, HDR);
	/* not a state to ask for */
	CHECK_EQ(mig_set(&d, VFIO_DEVICE_STATE_ERROR), -EINVAL);
	CHECK_EQ(mig_set(&d, 8), -EINVAL);
	CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_PRE_COPY_P2P);
	/* closing the device drops the stream */
	dev_close(&d);
	REQUIRE_EQ(vfio_device_open(d.vdev, NULL), 0);
	d.open = true;
	CHECK_EQ(mig_get(&d), VFIO_DEVICE_STATE_RUNNING);
	CHECK_EQ(vfio_device_mig_read(d.vdev, b, 1), -EINVAL);
	dev_destroy(&d);
}

MTTY_TEST(every_state_pair)
{
	static const uint32_t states[] = {
		VFIO_DEVICE_STATE_STOP,	       VFIO_DEVICE_STATE_RUNNING,
		VFIO_DEVICE_STATE_STOP_COPY,   VFIO_DEVICE_STATE_RESUMING,
		VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_PRE_COPY,
		VFIO_DEVICE_STATE_PRE_COPY_P2P,
	};
	struct dev d;

	REQUIRE(dev_create(f, 2, 1, &d));
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		for (size_t j = 0; j < sizeof(states) / sizeof(states[0]); j++) {
			uint32_t from = states[i], to = states[j];
			bool blocked = (from == VFIO_DEVICE_STATE_STOP_COPY &&
					(to == VFIO_DEVICE_STATE_PRE_COPY ||
					 to == VFIO_DEVICE_STATE_PRE_COPY_P2P));

			CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
			if (from == VFIO_DEVICE_STATE_RESUMING) {
				/* RESUMING is left only with a complete stream: use the reset */
				if (!CHECK_EQ(mig_set(&d, from), 0))
					continue;
				CHECK_EQ(vfio_device_ioctl(d.vdev, VFIO_DEVICE_RESET, NULL), 0);
				CHECK_EQ(mig_set(&d, to), 0);
				continue;
			}
			if (!CHECK_EQ(mig_set(&d, from), 0))
				continue;
			CHECK_EQ(mig_set(&d, to), blocked ? -EINVAL : 0);
			CHECK_EQ(mig_get(&d), blocked ? from : to);
		}
	}
	dev_destroy(&d);
}
