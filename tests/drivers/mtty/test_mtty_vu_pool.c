/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Instance accounting with every device in use: devices are created through their type's
 * `create` file (mdev_type_create_store, as umdevd's sysfs tree will write it) until the
 * parent's pool of 24 ports answers ENOSPC, available_instances of both types is read after
 * each create and each remove, and every device created is served and driven by its own
 * client (its BAR1 as its type says, its UART its own) while the others exist.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mtty_vu_fixture.h"

/* Writes device @n's UUID and a newline to mtty-@ports's create file. */
static ssize_t create_store(struct vu_env *e, unsigned int ports, unsigned int n)
{
	char text[UUID_STRING_LEN + 2];
	guid_t uuid;

	vu_make_uuid(n, text, &uuid);
	text[UUID_STRING_LEN] = '\n';
	text[UUID_STRING_LEN + 1] = '\0';
	return mdev_type_create_store(e->type[ports - 1], text, UUID_STRING_LEN + 1);
}

static bool check_available(struct vu_env *e, unsigned int free_ports)
{
	bool ok = CHECK_EQ(vu_available(e, 1), free_ports);

	ok &= CHECK_EQ(vu_available(e, 2), free_ports / 2);
	if (!ok)
		tap_diag("expected %u free ports", free_ports);
	return ok;
}

/* Nothing exists by device @n's UUID. */
static void check_absent(unsigned int n)
{
	char text[UUID_STRING_LEN + 1];
	struct mdev_device *m = NULL;
	guid_t uuid;

	vu_make_uuid(n, text, &uuid);
	if (!CHECK_EQ(mdev_device_get_by_uuid(&uuid, &m), -ENODEV))
		mdev_device_put(m);
}

/* The device just created (@n): served, and checked through its own client. */
static struct vu_dev *serve_new(struct vu_env *e, unsigned int ports, unsigned int n)
{
	struct vfio_region_info *ri = NULL;
	struct vu_dev *d = vu_adopt(e, ports, n);

	if (!d || !vu_connect(d))
		return NULL;
	if (!CHECK_EQ(umdev_client_get_region_info(d->c, VU_BAR(1), &ri, NULL), 0))
		return NULL;
	CHECK_EQ(ri->size, ports == 2 ? MTTY_BAR_SIZE : 0);
	free(ri);
	CHECK_EQ(vu_cfg_rd(d, 0x14, 4), ports == 2 ? 1 : 0);
	/* mark the device's UART: a scratch value and a byte of its own */
	vu_wr_posted(d, 0, UART_SCR, (uint8_t)(0x40 + n));
	vu_wr_posted(d, 0, UART_TX, (uint8_t)n);
	return CHECK_EQ(vu_rd(d, 0, UART_LSR), UART_LSR_DR) ? d : NULL;
}

VU_CASE(vu_pool_create_until_enospc)
{
	struct vu_dev *d[MTTY_POOL_PORTS], *x;
	unsigned int n = 0, free_ports = MTTY_POOL_PORTS;

	REQUIRE(check_available(e, free_ports));
	/* two dual ports, then single ports until one port is left; each served while the
	 * others are (a failed REQUIRE leaves them to the environment) */
	while (free_ports > 1) {
		unsigned int ports = n < 2 ? 2 : 1;

		REQUIRE_EQ(create_store(e, ports, n), UUID_STRING_LEN + 1);
		free_ports -= ports;
		check_available(e, free_ports);
		REQUIRE((d[n] = serve_new(e, ports, n)));
		n++;
	}
	/* one port left: no dual port fits; the failed create leaves no device behind */
	CHECK_EQ(create_store(e, 2, 100), -ENOSPC);
	check_absent(100);
	check_available(e, 1);
	REQUIRE_EQ(create_store(e, 1, n), UUID_STRING_LEN + 1);
	free_ports--;
	check_available(e, 0);
	REQUIRE((d[n] = serve_new(e, 1, n)));
	n++;
	CHECK_EQ(create_store(e, 1, 101), -ENOSPC);
	CHECK_EQ(create_store(e, 2, 100), -ENOSPC);
	check_absent(101);
	check_available(e, 0);
	CHECK_EQ(n, 2 + (MTTY_POOL_PORTS - 4));

	/* every device is its own, and all are in use at once */
	for (unsigned int i = 0; i < n; i++) {
		CHECK_EQ(vu_rd(d[i], 0, UART_SCR), 0x40 + i);
		CHECK_EQ(vu_rd(d[i], 0, UART_RX), i);
		CHECK_EQ(vu_rd(d[i], 0, UART_LSR), LSR_IDLE);
	}

	/* removal through the remove file returns the ports, one device at a time; a UUID
	 * refused for want of room can then be used */
	for (unsigned int i = n; i-- > 0;) {
		unsigned int ports = d[i]->ports;

		vu_unserve(d[i]);
		CHECK_EQ(mdev_device_remove_store(d[i]->mdev, "1\n", 2), 2);
		vu_release(d[i]);
		free_ports += ports;
		check_available(e, free_ports);
		if (i == n - 2) {
			CHECK_EQ(create_store(e, 2, 100), UUID_STRING_LEN + 1);
			check_available(e, free_ports - 2);
			x = serve_new(e, 2, 100);
			if (CHECK(x))
				CHECK_EQ(vu_rd(x, 1, UART_LSR), LSR_IDLE); /* BAR1 is there */
			vu_destroy(x);
			check_available(e, free_ports);
		}
	}
	CHECK_EQ(free_ports, MTTY_POOL_PORTS);
}
