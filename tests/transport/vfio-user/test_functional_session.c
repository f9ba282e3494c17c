/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Functional tests of a client's session as a whole: a client that goes with mappings, pins,
 * eventfds, dirty logging and a migration stream in place leaves nothing behind (the
 * process's fds and the memfd mappings are back to what they were) and the device serves
 * the next client with its state; a client that goes while the server's worker, or a driver
 * thread, waits for its DMA reply; many clients in turn; two devices on two workers driven
 * at once, and one client shared by two threads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "functional.h"

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* Mappings of the process whose line in /proc/self/maps mentions @name. */
static int count_maps(const char *name)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (!maps)
		return -1;
	while (fgets(line, sizeof(line), maps))
		n += strstr(line, name) != NULL;
	fclose(maps);
	return n;
}

static int set_fd(struct umdev_client *c, uint32_t index, int fd)
{
	return umdev_client_set_irqs(c, index,
				     VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
				     &fd);
}

/* Everything a client can leave in place, then the client goes. */
static void busy_client_goes(struct fx *f)
{
	struct umdev_client *c = fx_client(f, 0);
	struct guest g = { .fd = -1 }, g2 = { .fd = -1 };
	struct vfio_region_info *info = NULL;
	uint8_t data[16 + 16] = { 0 };
	int intx = efd_new(true), req = efd_new(true), rfd = -1;
	uint64_t page = 4096;
	uint32_t one = 1;
	union {
		struct vfio_device_feature hdr;
		uint64_t raw[8];
	} b;
	struct vfio_device_feature_mig_state st = { .device_state = VFIO_DEVICE_STATE_PRE_COPY,
						    .data_fd = -1 };
	void *map = MAP_FAILED;

	if (!CHECK(c) || !guest_new(&g, GUEST_SIZE) || !guest_new(&g2, 64 * 1024))
		goto out;
	CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RW), 0);
	CHECK_EQ(umdev_client_dma_map(c, 0x400000, 64 * 1024, g2.fd, 0, VFIO_DMA_MAP_FLAG_READ),
		 0);
	CHECK_EQ(umdev_client_dma_map(c, 0x800000, 64 * 1024, -1, 0, RW), 0);
	CHECK_EQ(set_fd(c, VFIO_PCI_INTX_IRQ_INDEX, intx), 0);
	CHECK_EQ(set_fd(c, VFIO_PCI_REQ_IRQ_INDEX, req), 0);
	if (CHECK_EQ(umdev_client_get_region_info(c, R_BAR2, &info, &rfd), 0) && CHECK(rfd >= 0))
		map = mmap(NULL, DMATEST_BAR2_MMAP_SIZE, PROT_READ, MAP_SHARED, rfd,
			   (off_t)(info->offset + DMATEST_BAR2_MMAP_OFFSET));
	CHECK(map != MAP_FAILED);
	WR64(c, DMATEST_REG_SCRATCH, 0xfeedfacecafebeefull);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA + 4096, 8192, 0,
			DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD | DMATEST_CTRL_TO_GUEST),
		 0);
	CHECK_EQ(RD32(c, DMATEST_REG_PINNED_PAGES), 2);
	/* dirty logging of the guest memory */
	memcpy(data, &page, 8);
	memcpy(data + 8, &one, 4);
	memcpy(data + 16, &(uint64_t){ GUEST_IOVA }, 8);
	memcpy(data + 24, &(uint64_t){ GUEST_SIZE }, 8);
	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(b.hdr) + sizeof(data);
	b.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	memcpy(b.hdr.data, data, sizeof(data));
	CHECK_EQ(umdev_client_device_feature(c, &b.hdr), 8 + sizeof(data));
	/* a migration stream open */
	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(b.hdr) + sizeof(st);
	b.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	memcpy(b.hdr.data, &st, sizeof(st));
	CHECK_EQ(umdev_client_device_feature(c, &b.hdr), 8 + sizeof(st));
	CHECK_EQ(umdev_client_mig_data_read(c, data, 4), 4);
out:
	umdev_client_close(c);
	if (map != MAP_FAILED)
		munmap(map, DMATEST_BAR2_MMAP_SIZE);
	if (rfd >= 0)
		close(rfd);
	free(info);
	guest_free(&g);
	guest_free(&g2);
	close(intx);
	close(req);
}

FUNC_TEST(disconnect_releases_everything, FX_DMATEST, 1, 1)
{
	struct umdev_client *c;
	struct guest g = { .fd = -1 };
	uint64_t bm[4], req[3] = { GUEST_IOVA, GUEST_SIZE, 4096 };
	union {
		struct vfio_device_feature hdr;
		uint64_t raw[8];
	} b;
	int fds0, maps0;

	fx_barrier(f, 0);
	fds0 = count_fds();
	maps0 = count_maps("func-guest");
	busy_client_goes(f);
	REQUIRE(fx_wait_gone(f, 0));
	/* nothing of the client is left in the process */
	CHECK_EQ(count_fds(), fds0);
	CHECK_EQ(count_maps("func-guest"), maps0);
	CHECK_EQ(fx_stats(f, 0).disconnects, 1);

	/* the next client finds the device's state, and none of the session's */
	c = fx_client(f, 0);
	REQUIRE(c);
	CHECK_EQ(RD64(c, DMATEST_REG_SCRATCH), 0xfeedfacecafebeefull);
	CHECK_EQ(RD32(c, DMATEST_REG_PINNED_PAGES), 0);
	CHECK_EQ(umdev_client_dma_unmap(c, GUEST_IOVA, GUEST_SIZE, 0), -ENOENT);
	CHECK_EQ(DMA_GO(c, GUEST_IOVA, 16, 0, 0), -EINVAL);
	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(b.hdr) + 24 + sizeof(bm);
	b.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	memcpy(b.hdr.data, req, sizeof(req));
	CHECK_EQ(umdev_client_device_feature(c, &b.hdr), -EINVAL); /* logging stopped */
	memset(&b, 0, sizeof(b));
	b.hdr.argsz = sizeof(b.hdr) + sizeof(struct vfio_device_feature_mig_state);
	b.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	CHECK_EQ(umdev_client_device_feature(c, &b.hdr), 16);
	CHECK_EQ(((struct vfio_device_feature_mig_state *)(void *)b.hdr.data)->device_state,
		 VFIO_DEVICE_STATE_RUNNING);
	/* and works as ever */
	if (guest_new(&g, GUEST_SIZE) &&
	    CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RW), 0)) {
		pattern(g.mem, 4096, 9);
		CHECK_EQ(DMA_GO(c, GUEST_IOVA, 4096, 0, DMATEST_CTRL_PIN), 0);
	}
	umdev_client_close(c);
	guest_free(&g);
	REQUIRE(fx_wait_gone(f, 0));
	CHECK_EQ(count_fds(), fds0);
}

FUNC_TEST(disconnect_while_server_waits_for_dma, FX_DMATEST, 1, 1)
{
	struct umdev_client *c = NULL;
	struct guest g = { .fd = -1 };
	struct vfu_hdr hdr = {
		.msg_id = 0x4242,
		.command = VFU_CMD_REGION_WRITE,
		.msg_size = sizeof(struct vfu_hdr) + sizeof(struct vfu_region_access) + 4,
		.flags = VFU_FLAG_TYPE_COMMAND,
	};
	struct vfu_region_access acc = {
		.offset = DMATEST_REG_DMA_CTRL, .region = R_BAR0, .count = 4
	};
	uint32_t go = DMATEST_CTRL_GO;
	uint8_t msg[sizeof(hdr) + sizeof(acc) + 4];
	union {
		struct vfu_hdr hdr;
		uint8_t raw[256];
	} r;
	uint64_t count;
	int fds0, status;

	fx_barrier(f, 0);
	fds0 = count_fds();
	c = fx_client(f, 0);
	if (!CHECK(c) ||
	    !CHECK_EQ(umdev_client_dma_map(c, 0x400000, 0x100000, -1, 0, RW), 0))
		goto out;
	count = RD64(c, DMATEST_REG_XFER_COUNT);
	WR64(c, DMATEST_REG_DMA_ADDR, 0x400000);
	WR32(c, DMATEST_REG_DMA_LEN, 4096);
	WR32(c, DMATEST_REG_DMA_BUF_OFF, 0);
	/* GO, sent by hand: the server's DMA_READ comes instead of the reply */
	memcpy(msg, &hdr, sizeof(hdr));
	memcpy(msg + sizeof(hdr), &acc, sizeof(acc));
	memcpy(msg + sizeof(hdr) + sizeof(acc), &go, 4);
	CHECK_EQ(umdev_client_send_raw(c, msg, sizeof(msg), NULL, 0), sizeof(msg));
	if (CHECK_EQ(umdev_client_recv_raw(c, r.raw, sizeof(r), NULL, NULL, FX_TIMEOUT_MS),
		     sizeof(struct vfu_hdr) + sizeof(struct vfu_dma_rw))) {
		CHECK_EQ(r.hdr.command, VFU_CMD_DMA_READ);
		CHECK_EQ(r.hdr.flags, VFU_FLAG_TYPE_COMMAND);
	}
	/* and the client goes without answering */
	umdev_client_close(c);
	c = NULL;
	REQUIRE(fx_wait_gone(f, 0));
	CHECK_EQ(count_fds(), fds0);

	c = fx_client(f, 0);
	if (!CHECK(c))
		goto out;
	/* the transfer failed (or was dropped with the session); the device is fine */
	status = (int)RD32(c, DMATEST_REG_DMA_STATUS);
	if (RD64(c, DMATEST_REG_XFER_COUNT) == count + 1)
		CHECK(status < 0);
	else
		CHECK_EQ(RD64(c, DMATEST_REG_XFER_COUNT), count);
	tap_diag("the transfer's status: %d", status);
	if (guest_new(&g, GUEST_SIZE) &&
	    CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RW), 0))
		CHECK_EQ(DMA_GO(c, GUEST_IOVA, 4096, 0, 0), 0);
out:
	umdev_client_close(c);
	guest_free(&g);
}

FUNC_TEST(many_clients_in_turn, FX_DMATEST, 1, 1)
{
	struct vfio_user_server_stats st;
	int fds0;

	fx_barrier(f, 0);
	fds0 = count_fds();
	for (unsigned int i = 0; i < 20; i++) {
		struct umdev_client *c = i % 2 ? fx_connect(f, 0) : fx_client(f, 0);
		struct guest g = { .fd = -1 };
		int efd = efd_new(true);

		if (!CHECK(c)) {
			close(efd);
			break;
		}
		if (i)
			CHECK_EQ(RD64(c, DMATEST_REG_SCRATCH), i - 1);
		WR64(c, DMATEST_REG_SCRATCH, i);
		if (guest_new(&g, GUEST_SIZE)) {
			CHECK_EQ(umdev_client_dma_map(c, GUEST_IOVA, GUEST_SIZE, g.fd, 0, RW), 0);
			CHECK_EQ(DMA_GO(c, GUEST_IOVA, 4096, 0, DMATEST_CTRL_PIN | DMATEST_CTRL_HOLD),
				 0);
		}
		CHECK_EQ(set_fd(c, VFIO_PCI_MSI_IRQ_INDEX, efd), 0);
		umdev_client_close(c);
		guest_free(&g);
		close(efd);
		if (!fx_wait_gone(f, 0))
			break;
	}
	CHECK_EQ(count_fds(), fds0);
	st = fx_stats(f, 0);
	CHECK_EQ(st.connections, 20);
	CHECK_EQ(st.disconnects, 20);
	CHECK_EQ(st.protocol_errors, 0);
}

struct worker_arg {
	struct umdev_client *c;
	struct guest g;
	unsigned int seed;
	int failures;
};

/* A client's own traffic: register round trips and transfers both ways. */
static void *drive(void *arg)
{
	static _Thread_local uint8_t bar[8192];
	struct worker_arg *w = arg;

	for (unsigned int i = 0; i < 200; i++) {
		uint64_t v = (uint64_t)w->seed << 32 | i, got = 0;
		int st = -1;

		w->failures += umdev_client_region_write(w->c, R_BAR0, DMATEST_REG_SCRATCH, &v, 8,
							 i % 2) != 8;
		w->failures += umdev_client_region_read(w->c, R_BAR0, DMATEST_REG_SCRATCH, &got,
							8) != 8 || got != v;
		if (i % 20)
			continue;
		pattern(w->g.mem, 8192, w->seed + i);
		v = GUEST_IOVA;
		umdev_client_region_write(w->c, R_BAR0, DMATEST_REG_DMA_ADDR, &v, 8, false);
		umdev_client_region_write(w->c, R_BAR0, DMATEST_REG_DMA_LEN, &(uint32_t){ 8192 },
					  4, false);
		umdev_client_region_write(w->c, R_BAR0, DMATEST_REG_DMA_CTRL,
					  &(uint32_t){ DMATEST_CTRL_GO | (i % 40 ? DMATEST_CTRL_PIN
										  : 0) },
					  4, false);
		umdev_client_region_read(w->c, R_BAR0, DMATEST_REG_DMA_STATUS, &st, 4);
		w->failures += st != 0;
		w->failures += umdev_client_region_read(w->c, R_BAR2, 0, bar, 8192) != 8192 ||
			       memcmp(bar, w->g.mem, 8192);
	}
	return NULL;
}

FUNC_TEST(two_devices_two_workers, FX_DMATEST, 2, 2)
{
	struct worker_arg w[2] = { { .g.fd = -1, .seed = 1 }, { .g.fd = -1, .seed = 2 } };
	pthread_t t[2];
	bool started[2] = { false, false };

	for (unsigned int i = 0; i < 2; i++) {
		w[i].c = fx_client(f, i);
		if (!CHECK(w[i].c) || !guest_new(&w[i].g, GUEST_SIZE) ||
		    !CHECK_EQ(umdev_client_dma_map(w[i].c, GUEST_IOVA, GUEST_SIZE, w[i].g.fd, 0,
						   RW),
			      0))
			goto out;
	}
	CHECK(f->dev[0].srv != f->dev[1].srv);
	for (unsigned int i = 0; i < 2; i++)
		started[i] = thread_start(&t[i], drive, &w[i]);
	for (unsigned int i = 0; i < 2; i++)
		if (started[i])
			thread_join(t[i]);
	for (unsigned int i = 0; i < 2; i++) {
		CHECK_EQ(w[i].failures, 0);
		CHECK_EQ(RD64(w[i].c, DMATEST_REG_SCRATCH), (uint64_t)w[i].seed << 32 | 199);
		CHECK_EQ(RD64(w[i].c, DMATEST_REG_XFER_COUNT), 10);
	}
out:
	for (unsigned int i = 0; i < 2; i++) {
		umdev_client_close(w[i].c);
		guest_free(&w[i].g);
	}
}

struct sharer {
	struct umdev_client *c;
	uint32_t base; /* its half of BAR0 */
	int failures;
};

static void *share(void *arg)
{
	struct sharer *s = arg;

	for (uint32_t i = 0; i < 500; i++) {
		uint32_t off = s->base + (i * 4) % (NULL_BAR0_SIZE / 2), v = s->base ^ i, got = 0;

		s->failures += umdev_client_region_write(s->c, R_BAR0, off, &v, 4, i % 3 == 0) != 4;
		s->failures += umdev_client_region_read(s->c, R_BAR0, off, &got, 4) != 4 || got != v;
	}
	return NULL;
}

FUNC_TEST(one_client_two_threads, FX_NULL, 2, 1)
{
	struct umdev_client *c = fx_client(f, 0);
	struct sharer s[2] = { { c, 0, 0 }, { c, NULL_BAR0_SIZE / 2, 0 } };
	bool started[2] = { false, false };
	pthread_t t[2];

	REQUIRE(c);
	for (unsigned int i = 0; i < 2; i++)
		started[i] = thread_start(&t[i], share, &s[i]);
	for (unsigned int i = 0; i < 2; i++)
		if (started[i])
			thread_join(t[i]);
	CHECK_EQ(s[0].failures, 0);
	CHECK_EQ(s[1].failures, 0);
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	umdev_client_close(c);
}

struct go_thread {
	struct vfio_device *vdev;
	ssize_t ret;
};

/* A driver thread that is not the server's worker starts a transfer. */
static void *go_from_thread(void *arg)
{
	struct go_thread *t = arg;
	uint32_t go = DMATEST_CTRL_GO;

	t->ret = vfio_device_write(t->vdev, (const char *)&go, sizeof(go),
				   DMATEST_REGION_OFFSET(R_BAR0) + DMATEST_REG_DMA_CTRL);
	return NULL;
}

/* (last: where the server frees the connection under the thread, ASan stops the run) */
FUNC_TEST(disconnect_while_driver_thread_waits_for_dma, FX_DMATEST, 1, 1)
{
	struct go_thread gt = { .vdev = f->dev[0].vdev, .ret = 0 };
	struct umdev_client *c = NULL;
	union {
		struct vfu_hdr hdr;
		uint8_t raw[256];
	} r;
	bool started = false;
	pthread_t t;
	int fds0;

	fx_barrier(f, 0);
	fds0 = count_fds();
	c = fx_client(f, 0);
	if (!CHECK(c) || !CHECK_EQ(umdev_client_dma_map(c, 0x400000, 0x100000, -1, 0, RW), 0))
		goto out;
	WR64(c, DMATEST_REG_DMA_ADDR, 0x400000);
	WR32(c, DMATEST_REG_DMA_LEN, 4096);
	WR32(c, DMATEST_REG_DMA_BUF_OFF, 0);
	started = thread_start(&t, go_from_thread, &gt);
	if (!started)
		goto out;
	/* the thread's DMA_READ comes; the client goes without answering it, and the thread
	 * is let go by the end of the session */
	if (CHECK_EQ(umdev_client_recv_raw(c, r.raw, sizeof(r), NULL, NULL, FX_TIMEOUT_MS),
		     sizeof(struct vfu_hdr) + sizeof(struct vfu_dma_rw)))
		CHECK_EQ(r.hdr.command, VFU_CMD_DMA_READ);
	umdev_client_close(c);
	c = NULL;
	thread_join(t);
	started = false;
	CHECK_EQ(gt.ret, 4);
	REQUIRE(fx_wait_gone(f, 0));
	CHECK_EQ(count_fds(), fds0);
	c = fx_client(f, 0);
	if (CHECK(c)) {
		tap_diag("the transfer's status: %d", (int)RD32(c, DMATEST_REG_DMA_STATUS));
		CHECK_EQ(RD32(c, DMATEST_REG_ID), DMATEST_ID);
	}
out:
	umdev_client_close(c);
	if (started)
		thread_join(t);
}
