/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the core does to a struct device that drivers may not: binding it to a driver.
 */
#ifndef UMDEV_MDEV_DEVICE_PRIVATE_H
#define UMDEV_MDEV_DEVICE_PRIVATE_H

#include <stdbool.h>

#include <umdev/device.h>

/* Records the bound driver (NULL: unbound); readers see it through dev_driver_string(). */
void device_set_driver_name(struct device *dev, const char *driver_name);

/*
 * Takes a reference unless the last one is already gone (a lookup under a lock can meet a
 * device whose release is waiting for that lock); false then.
 */
bool get_device_unless_zero(struct device *dev);

#endif
