/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the core does to a struct device that drivers may not: binding it to a driver.
 */
#ifndef UMDEV_MDEV_DEVICE_PRIVATE_H
#define UMDEV_MDEV_DEVICE_PRIVATE_H

#include <umdev/device.h>

/* Records the bound driver (NULL: unbound); readers see it through dev_driver_string(). */
void device_set_driver_name(struct device *dev, const char *driver_name);

#endif
