/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The attributes of an mtty device, in its "vendor" group:
 *
 *   sample_mdev_dev   0444  "This is MDEV <uuid>\n", as the kernel sample prints
 *   port0_backend     0644  the host side of port 0: "loopback", "pty" or "unix:<path>"
 *   port0_pty         0444  the pty's path and a newline while port 0's backend is "pty";
 *                           empty otherwise
 *   port1_backend, port1_pty   the same for port 1; -ENODEV on an mtty-1 device
 *
 * A write to port<n>_backend is untrusted text (mtty_backend_parse() says what it accepts;
 * one trailing newline is allowed, as `echo` adds). It replaces the port's backend at once,
 * while a VM runs or not, and returns -EINVAL (bad text), -ENAMETOOLONG, or the error of
 * opening the new backend (-ENOENT, -ECONNREFUSED, -EACCES, -EAGAIN... for a socket), in
 * which case the old backend stays. Writing the current value again reconnects, or gives
 * a new pty.
 *
 * The core calls these only between the device's create() and remove() (it drains them
 * before remove), on any thread; they take s->lock to read and mtty_port_set_backend()'s
 * locks to write.
 */
#include <errno.h>

#include "mtty_priv.h"

/* A per-port attribute: a device attribute that knows its port. */
struct mtty_port_attribute {
	struct device_attribute attr;
	unsigned int port;
};

/* The device's state and the attribute's port, or NULL when the port does not exist. */
static struct mtty_state *port_of(struct device *dev, struct device_attribute *attr,
				  unsigned int *port)
{
	struct mdev_device *mdev = mdev_from_dev(dev);
	struct mtty_state *s = mdev ? mdev_get_drvdata(mdev) : NULL;

	*port = container_of(attr, struct mtty_port_attribute, attr)->port;
	return s && *port < s->nr_ports ? s : NULL;
}

static ssize_t backend_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct mtty_backend_spec spec;
	struct mtty_state *s;
	unsigned int port;

	s = port_of(dev, attr, &port);
	if (!s)
		return -ENODEV;
	pthread_mutex_lock(&s->lock);
	spec = s->port[port].backend.spec;
	pthread_mutex_unlock(&s->lock);
	return mtty_backend_format(&spec, buf, UMDEV_ATTR_BUF_SIZE);
}

static ssize_t backend_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct mtty_backend_spec spec;
	struct mtty_state *s;
	unsigned int port;
	int ret;

	s = port_of(dev, attr, &port);
	if (!s)
		return -ENODEV;
	ret = mtty_backend_parse(buf, count, &spec);
	if (!ret)
		ret = mtty_port_set_backend(s, port, &spec);
	return ret ? ret : (ssize_t)count;
}

static ssize_t pty_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct mtty_state *s;
	unsigned int port;
	ssize_t len = 0;

	s = port_of(dev, attr, &port);
	if (!s)
		return -ENODEV;
	pthread_mutex_lock(&s->lock);
	if (s->port[port].backend.spec.kind == MTTY_PTY)
		len = sysfs_emit(buf, "%s\n", s->port[port].backend.pty_path);
	pthread_mutex_unlock(&s->lock);
	return len;
}

#define MTTY_PORT_ATTR(_name, _mode, _show, _store, _port)               \
	static struct mtty_port_attribute mtty_attr_##_name = {         \
		.attr = __ATTR(_name, _mode, _show, _store), .port = _port \
	}

MTTY_PORT_ATTR(port0_backend, 0644, backend_show, backend_store, 0);
MTTY_PORT_ATTR(port0_pty, 0444, pty_show, NULL, 0);
MTTY_PORT_ATTR(port1_backend, 0644, backend_show, backend_store, 1);
MTTY_PORT_ATTR(port1_pty, 0444, pty_show, NULL, 1);

static ssize_t sample_mdev_dev_show(struct device *dev, struct device_attribute *attr,
				    char *buf)
{
	(void)attr;
	return sysfs_emit(buf, "This is MDEV %s\n", dev_name(dev));
}
static DEVICE_ATTR_RO(sample_mdev_dev);

static struct attribute *mtty_mdev_attrs[] = {
	&dev_attr_sample_mdev_dev.attr,
	&mtty_attr_port0_backend.attr.attr,
	&mtty_attr_port0_pty.attr.attr,
	&mtty_attr_port1_backend.attr.attr,
	&mtty_attr_port1_pty.attr.attr,
	NULL,
};

static const struct attribute_group mtty_mdev_group = { "vendor", mtty_mdev_attrs };

const struct attribute_group *mtty_mdev_groups[] = { &mtty_mdev_group, NULL };
