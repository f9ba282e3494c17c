/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd's sysfs tree, served through FUSE: the kernel's mdev layout (class/mdev_bus,
 * devices/.../mdev_supported_types, bus/mdev/devices, ...) rendered from the mdev core's
 * current state, so that Debian's mdevctl and libvirt manage umdev's devices as they do
 * the kernel's (docs/sysfs-layout.md: the tree, its rules, how to point mdevctl at it).
 *
 * The resolver behind it, usable without FUSE, is in sysfs_tree.h.
 */
#ifndef UMDEV_MGMT_SYSFS_H
#define UMDEV_MGMT_SYSFS_H

#include "mgmt/sysfs/sysfs_tree.h"

struct sysfs_fs;

/* FUSE worker threads at most: a remove waits for the device's client, holding one. */
#define SYSFS_FS_MAX_THREADS 64
/* How long sysfs_fs_unmount() waits for the workers, per attempt. */
#define SYSFS_FS_STOP_TIMEOUT_MS 10000

/*
 * Mounts the tree at @mountpoint (an existing directory) and serves it from background
 * threads. Mounted with default_permissions, and with allow_other when running as root;
 * no attribute, entry or negative caching. 0, or -errno with a message logged through
 * umdev_log(): -ENOENT/-ENOTDIR (mountpoint), -EACCES/-EPERM (no /dev/fuse or no right to
 * mount), -EIO (the mount failed), -ENOMEM.
 */
int sysfs_fs_mount(const char *mountpoint, struct sysfs_fs **ret);

/*
 * Stops serving, unmounts (lazily if the mount is busy) and joins the threads; waits are
 * bounded (SYSFS_FS_STOP_TIMEOUT_MS): workers stuck beyond that are left running and the
 * structure is leaked, with an error logged. NULL is ignored.
 */
void sysfs_fs_unmount(struct sysfs_fs *fs);

/* The resolver the mount serves. */
struct sysfs_tree *sysfs_fs_tree(struct sysfs_fs *fs);

#endif
