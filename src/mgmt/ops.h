/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The management operations that the control socket and umdevd's autostart share: start a
 * mediated device as `mdevctl start` does (create it, then write its attributes in order),
 * stop one as `mdevctl stop` does, and start every "auto" definition of a parent as
 * `mdevctl start-parent-mdevs` does. They go through the public API of libumdev only.
 *
 * Errors are returned as -errno with a message for the user in the caller's @err buffer,
 * worded as mdevctl 1.2.0 words them (mdevctl-contract.md). Where mdevctl reports an error
 * with its cause, the message is "<error>" MGMT_CAUSED_BY "<cause>", which is how mdevctl
 * prints it after "Error: " (and a cause of an OS error reads "<strerror> (os error N)").
 */
#ifndef UMDEV_MGMT_OPS_H
#define UMDEV_MGMT_OPS_H

#include <stddef.h>

#include <umdev/log.h>
#include <umdev/mdev_manage.h>

#include "mgmt/persist/definitions.h"

/* Between an error and its cause in a message (anyhow's rendering of one cause). */
#define MGMT_CAUSED_BY "\n\nCaused by:\n    "

/* Bytes of an error message; callers' buffers of this size never truncate one. */
#define MGMT_ERR_SIZE 1024

/*
 * Starts a mediated device: @type of @parent, with @uuid (36 characters, either case) or,
 * when NULL, a new random (version 4) UUID; then writes @nattrs attributes in order through
 * mdev_dev_attr_store(), each by its name under the device as mdevctl writes
 * /sys/bus/mdev/devices/U/<name>: "group/attr" for an attribute of a named group of the
 * parent's mdev_attr_groups ("vendor/port0_backend"), "attr" for one of an unnamed group.
 * A value longer than a page is stored page by page, as a write to sysfs would be.
 *
 * The checks and their messages are mdevctl's: an active device with the UUID ("Device
 * already exists", "Device exists under different parent", "... with different type"), the
 * parent ("Unable to find parent device 'X'. Did you mean 'x'?"), the type ("Parent P does
 * not support mdev type T"), available_instances ("No available instances of T on P"), the
 * creation ("Failed to create mdev U, type T on P" + cause). When an attribute fails
 * ("Invalid attribute 'k'", "Failed to write v to attribute k" + cause), the device is
 * removed again and the attribute's error returned (or the removal's, if that fails too).
 *
 * On success writes the UUID to @uuid_out (may be NULL) and returns 0.
 */
int mgmt_start_device(const char *parent, const char *type, const char *uuid,
		      const struct mdev_definition_attr *attrs, size_t nattrs,
		      char uuid_out[MDEVCTL_UUID_SIZE], char *err, size_t errlen);

/*
 * Stops (removes) the mediated device @uuid as a write of "1" to its `remove` file does.
 * Any error reads "Error removing device U" + cause: "No such file or directory (os error
 * 2)" when there is no such device, "Resource temporarily unavailable (os error 11)" while
 * it is being created or removed.
 */
int mgmt_stop_device(const char *uuid, char *err, size_t errlen);

/*
 * Starts every definition of @parent under @conf_dir whose start is "auto", in UUID order,
 * as `mdevctl start-parent-mdevs` does: a device that fails is logged through @log at
 * UMDEV_LOG_WARNING, one message per line of mdevctl's error chain ("Device already
 * exists"), and the others go on; a definition file that cannot be read is logged
 * ("<path>: <why>") and skipped. @log may be NULL. Returns the number of devices started,
 * or -errno when the definitions cannot be read at all.
 */
int mgmt_autostart_parent(const char *conf_dir, const char *parent, umdev_log_fn log,
			  void *userdata);

/* ---- helpers shared with the control socket (ops_util.c) ---- */

/* The parent's name (its device's name) and the device's type name. */
const char *mgmt_parent_name(struct mdev_parent *parent);
const char *mgmt_device_parent_name(struct mdev_device *mdev);
const char *mgmt_device_type_name(struct mdev_device *mdev);
/* The canonical UUID of @mdev. */
void mgmt_device_uuid(struct mdev_device *mdev, char out[MDEVCTL_UUID_SIZE]);

/*
 * Finds the registered parent @name (a reference in *@ret), or writes mdevctl's message for
 * a missing one (with its "Did you mean" hint for a name that differs only in case) and
 * returns -ENODEV.
 */
int mgmt_find_parent(const char *name, struct mdev_parent **ret, char *err, size_t errlen);

/*
 * Reads the type attribute @name ("available_instances", "device_api", "name",
 * "description") into @buf (UMDEV_ATTR_BUF_SIZE + 1 bytes, NUL-terminated); its length,
 * or -ENOENT when the type has no such attribute, or the show() error.
 */
ssize_t mgmt_type_attr_read(struct mdev_type *mtype, const char *name, char *buf);

/*
 * Parses @text as mdevctl parses available_instances (trimmed, then Rust's i32 parser),
 * with Rust's messages ("invalid digit found in string", ...); 0 or -EINVAL.
 */
int mgmt_parse_i32(const char *text, int *val, char *err, size_t errlen);

/* Rust's trim(): @s without leading and trailing whitespace, in place; returns @s. */
char *mgmt_trim(char *s);

/* "<strerror(errnum)> (os error <errnum>)", as Rust prints an OS error. */
void mgmt_os_error(char *buf, size_t size, int errnum);

#endif
