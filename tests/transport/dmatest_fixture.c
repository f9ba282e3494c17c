/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture and helpers of dmatest_fixture.h, and the main() of dmatest's test executable
 * (its cases are in test_dmatest*.c).
 */
#include <stdio.h>

#include "dmatest_fixture.h"

/* ---- fixture ---- */

bool setup(struct fixture *f)
{
	f->type = NULL;
	if (!module_start(MOD, DMATEST_PARENT_NAME, &f->parent))
		return false;
	f->type = mdev_parent_find_type(f->parent, DMATEST_TYPE_NAME);
	if (!CHECK(f->type)) {
		teardown(f);
		return false;
	}
	return true;
}

void teardown(struct fixture *f)
{
	module_stop(MOD, f->parent);
}

/* ---- devices ---- */

bool dev_create_open(struct fixture *f, unsigned int n, struct dev *d, bool with_dma)
{
	char uuid[UUID_STRING_SIZE];
	bool ok;

	snprintf(uuid, sizeof(uuid), "646d6174-0000-4000-8000-%012x", n);
	ok = dev_create_open_on(f->type, uuid, d, with_dma);
	/* odd-sized chunks, to cross every boundary of the stream's layout */
	d->mig_read_chunk = 4093;
	d->mig_write_chunk = 5000;
	return ok;
}

/* ---- region accesses ---- */

uint32_t rd32(struct dev *d, uint64_t off)
{
	return (uint32_t)region_rd(d, BAR0 + off, 4);
}

uint64_t rd64(struct dev *d, uint64_t off)
{
	return region_rd(d, BAR0 + off, 8);
}

void wr32(struct dev *d, uint64_t off, uint32_t v)
{
	region_wr(d, BAR0 + off, v, 4);
}

void wr64(struct dev *d, uint64_t off, uint64_t v)
{
	region_wr(d, BAR0 + off, v, 8);
}

uint32_t cfg_rd(struct dev *d, unsigned int off, unsigned int len)
{
	return (uint32_t)region_rd(d, CFG + off, len);
}

void cfg_wr(struct dev *d, unsigned int off, uint32_t v, unsigned int len)
{
	region_wr(d, CFG + off, v, len);
}

void bar2_rd(struct dev *d, uint32_t off, void *buf, size_t len)
{
	CHECK_EQ(vfio_device_read(d->vdev, buf, len, BAR2 + off), len);
}

void bar2_wr(struct dev *d, uint32_t off, const void *buf, size_t len)
{
	CHECK_EQ(vfio_device_write(d->vdev, buf, len, BAR2 + off), len);
}

int dma_go(struct dev *d, uint64_t iova, uint32_t len, uint32_t buf_off, uint32_t ctrl)
{
	wr64(d, DMATEST_REG_DMA_ADDR, iova);
	wr32(d, DMATEST_REG_DMA_LEN, len);
	wr32(d, DMATEST_REG_DMA_BUF_OFF, buf_off);
	wr32(d, DMATEST_REG_DMA_CTRL, ctrl | DMATEST_CTRL_GO);
	return (int)rd32(d, DMATEST_REG_DMA_STATUS);
}

void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
