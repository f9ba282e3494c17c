/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs tree through a real FUSE mount, against the kernel's sysfs ABI: the ground
 * truth's `ls -la` listings for mtty with one mtty-2 device (names, types, modes, sizes,
 * nlink, link targets), create and remove input rules with their errnos and synchronous
 * effects, EACCES from the mode bits even for root (and for another user), the snapshot of
 * an open file, available_instances and vendor attributes, the error texts shells print,
 * stable inode numbers, no negative caching, concurrent shells creating and removing the
 * same UUIDs, and unmounting while busy. Needs root and /dev/fuse (skips without).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umdev/mdev_manage.h>
#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>

#include "sysfs_fixture.h"

#define DEV MTTY_DIR "/" GT_UUID

/* ---- listings as `ls -la` shows them ---- */

struct ls_entry {
	const char *name;
	char type;		/* d, f (attribute: st_size 4096), l */
	mode_t mode;		/* f */
	unsigned int nlink;	/* d */
	const char *target;	/* l */
};

/*
 * Compares the directory @rel with the ground truth's entries @want: each must be there
 * with its type, mode, size, nlink and target. An entry not in @want must be named in
 * @extra (umdev's documented additions, docs/sysfs-layout.md); ground-truth names in
 * @absent are known to be missing in umdev. "." must have nlink @self_nlink plus one per
 * extra directory.
 */
static bool ls_matches(struct fx *fx, const char *rel, const struct ls_entry *want, size_t n,
		       const char *const *extra, const char *const *absent, unsigned int self_nlink)
{
	char path[4200], lpath[4608], target[4200];
	unsigned int extra_dirs = 0;
	struct dirent *de;
	struct stat st;
	bool ok = true;
	DIR *d;

	d = opendir(fx_path(fx, path, sizeof(path), rel));
	if (!d) {
		tap_diag("ls %s: %s", rel, strerror(errno));
		return false;
	}
	while ((de = readdir(d))) {
		bool known = false;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		for (size_t i = 0; i < n && !known; i++)
			known = !strcmp(want[i].name, de->d_name);
		for (size_t i = 0; extra && extra[i] && !known; i++) {
			known = !strcmp(extra[i], de->d_name);
			snprintf(lpath, sizeof(lpath), "%s/%s", path, de->d_name);
			if (known && !lstat(lpath, &st) && S_ISDIR(st.st_mode))
				extra_dirs++;
		}
		if (!known) {
			tap_diag("ls %s: unexpected %s", rel, de->d_name);
			ok = false;
		}
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		const struct ls_entry *w = &want[i];
		bool good = false;

		for (size_t k = 0; absent && absent[k]; k++)
			if (!strcmp(absent[k], w->name))
				goto next;
		snprintf(lpath, sizeof(lpath), "%s/%s", path, w->name);
		if (lstat(lpath, &st)) {
			tap_diag("ls %s: %s missing", rel, w->name);
			ok = false;
			continue;
		}
		switch (w->type) {
		case 'd':
			good = S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755 &&
			       st.st_nlink == w->nlink && st.st_size == 0;
			break;
		case 'f':
			good = S_ISREG(st.st_mode) && (st.st_mode & 07777) == w->mode &&
			       st.st_nlink == 1 && st.st_size == 4096;
			break;
		case 'l': {
			ssize_t len = readlink(lpath, target, sizeof(target) - 1);

			good = S_ISLNK(st.st_mode) && (st.st_mode & 07777) == 0777 && len > 0;
			if (good) {
				target[len] = '\0';
				good = !strcmp(target, w->target);
			}
			break;
		}
		}
		if (st.st_uid != 0 || st.st_gid != 0)
			good = false;
		if (!good) {
			tap_diag("ls %s: %s is mode %o nlink %u size %lld", rel, w->name,
				 (unsigned int)st.st_mode, (unsigned int)st.st_nlink,
				 (long long)st.st_size);
			ok = false;
		}
next:;
	}
	if (stat(path, &st) || st.st_nlink != self_nlink + extra_dirs) {
		tap_diag("ls %s: . has nlink %u, want %u", rel, (unsigned int)st.st_nlink,
			 self_nlink + extra_dirs);
		ok = false;
	}
	return ok;
}

#define LS(...) ((const struct ls_entry[]){ __VA_ARGS__ })
#define NLS(...) (sizeof((const struct ls_entry[]){ __VA_ARGS__ }) / sizeof(struct ls_entry))
#define LS_CHECK(fx, rel, extra, absent, self, ...) \
	CHECK(ls_matches(fx, rel, LS(__VA_ARGS__), NLS(__VA_ARGS__), extra, absent, self))

/* umdev's additions and omissions against the ground truth (docs/sysfs-layout.md) */
static const char *const parent_extra[] = { "mtty_dev", NULL };
static const char *const vendor_extra[] = { "port0_backend", "port0_pty", "port1_backend",
					    "port1_pty", NULL };
static const char *const driver_absent[] = { "bind", "module", "unbind", NULL };

static bool attr_is(struct fx *fx, const char *rel, const char *want)
{
	char buf[4096];
	ssize_t n = fx_read(fx, rel, buf, sizeof(buf));

	if (n < 0 || strcmp(buf, want)) {
		tap_diag("%s: \"%s\" (%zd), want \"%s\"", rel, n < 0 ? strerror((int)-n) : buf, n,
			 want);
		return false;
	}
	return true;
}

TEST(ground_truth_listings)
{
	char buf[256];
	struct fx fx;

	REQUIRE(fx_mount(&fx, FX_MTTY));
	/* occurrence 1: no device */
	LS_CHECK(&fx, "class/mdev_bus", NULL, NULL, 2,
		 { "mtty", 'l', 0, 0, "../../devices/virtual/mtty/mtty" });
	LS_CHECK(&fx, "class/mdev_bus/mtty/", parent_extra, NULL, 4,
		 { "mdev_supported_types", 'd', 0, 4, NULL },
		 { "power", 'd', 0, 2, NULL },
		 { "subsystem", 'l', 0, 0, "../../../../class/mtty" },
		 { "uevent", 'f', 0644, 0, NULL });
	LS_CHECK(&fx, MTTY_TYPES, NULL, NULL, 4,
		 { "mtty-1", 'd', 0, 3, NULL }, { "mtty-2", 'd', 0, 3, NULL });
	LS_CHECK(&fx, MTTY_TYPES "/mtty-1", NULL, NULL, 3,
		 { "available_instances", 'f', 0444, 0, NULL },
		 { "create", 'f', 0200, 0, NULL },
		 { "device_api", 'f', 0444, 0, NULL },
		 { "devices", 'd', 0, 2, NULL },
		 { "name", 'f', 0444, 0, NULL });
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-1/available_instances", "24\n"));
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-1/device_api", "vfio-pci\n"));
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-1/name", "Single port serial\n"));
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-2/available_instances", "12\n"));
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-2/name", "Dual port serial\n"));

	/* occurrence 2: one mtty-2 device, created as mdevctl does */
	REQUIRE_EQ(fx_puts(&fx, "class/mdev_bus/mtty/mdev_supported_types/mtty-2/create", GT_UUID),
		   36);
	LS_CHECK(&fx, "bus/mdev/devices", NULL, NULL, 2,
		 { GT_UUID, 'l', 0, 0, "../../../devices/virtual/mtty/mtty/" GT_UUID });
	{
		struct stat st;

		CHECK(fx_lstat(&fx, "bus/mdev", &st) == 0 && st.st_nlink == 4);
	}
	LS_CHECK(&fx, MTTY_DIR, parent_extra, NULL, 5,
		 { GT_UUID, 'd', 0, 5, NULL },
		 { "mdev_supported_types", 'd', 0, 4, NULL },
		 { "power", 'd', 0, 2, NULL },
		 { "subsystem", 'l', 0, 0, "../../../../class/mtty" },
		 { "uevent", 'f', 0644, 0, NULL });
	LS_CHECK(&fx, DEV, NULL, NULL, 5,
		 { "driver", 'l', 0, 0, "../../../../../bus/mdev/drivers/mtty" },
		 { "iommu_group", 'l', 0, 0, "../../../../../kernel/iommu_groups/0" },
		 { "mdev_type", 'l', 0, 0, "../mdev_supported_types/mtty-2" },
		 { "power", 'd', 0, 2, NULL },
		 { "remove", 'f', 0200, 0, NULL },
		 { "subsystem", 'l', 0, 0, "../../../../../bus/mdev" },
		 { "uevent", 'f', 0644, 0, NULL },
		 { "vendor", 'd', 0, 2, NULL },
		 { "vfio-dev", 'd', 0, 3, NULL });
	LS_CHECK(&fx, DEV "/vendor", vendor_extra, NULL, 2,
		 { "sample_mdev_dev", 'f', 0444, 0, NULL });
	LS_CHECK(&fx, MTTY_TYPES "/mtty-2/devices", NULL, NULL, 2,
		 { GT_UUID, 'l', 0, 0, "../../../" GT_UUID });
	LS_CHECK(&fx, "bus/mdev/drivers/mtty", NULL, driver_absent, 2,
		 { GT_UUID, 'l', 0, 0, "../../../../devices/virtual/mtty/mtty/" GT_UUID },
		 { "bind", 'f', 0200, 0, NULL },
		 { "module", 'l', 0, 0, "../../../../module/mtty" },
		 { "uevent", 'f', 0200, 0, NULL },
		 { "unbind", 'f', 0200, 0, NULL });
	CHECK_EQ(fx_readlink(&fx, MTTY_TYPES "/mtty-2/devices/" GT_UUID, buf, sizeof(buf)), 45);
	CHECK_STR(buf, "../../../" GT_UUID);
	CHECK(attr_is(&fx, DEV "/uevent", "DRIVER=mtty\n"));
	CHECK(attr_is(&fx, DEV "/vendor/sample_mdev_dev", "This is MDEV " GT_UUID "\n"));
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-1/available_instances", "22\n"));
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-2/available_instances", "11\n"));
	CHECK(attr_is(&fx, "kernel/iommu_groups/0/name", "vfio-noiommu\n"));
	/* what mdevctl and libvirt resolve through the links */
	{
		char path[4200], real[4200], want[4200];

		CHECK(realpath(fx_path(&fx, path, sizeof(path), "bus/mdev/devices/" GT_UUID "/mdev_type"),
			       real));
		CHECK_STR(real, fx_path(&fx, want, sizeof(want), MTTY_TYPES "/mtty-2"));
		CHECK(realpath(fx_path(&fx, path, sizeof(path), "bus/mdev/devices/" GT_UUID), real));
		CHECK_STR(real, fx_path(&fx, want, sizeof(want), DEV));
		CHECK(realpath(fx_path(&fx, path, sizeof(path), "class/mdev_bus/mtty"), real));
		CHECK_STR(real, fx_path(&fx, want, sizeof(want), MTTY_DIR));
	}
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" GT_UUID "/remove", "1"), 1);
	fx_unmount(&fx);
}

/* ---- create ---- */

static bool gone(struct fx *fx, const char *rel)
{
	struct stat st;

	return fx_lstat(fx, rel, &st) == -ENOENT;
}

static bool there(struct fx *fx, const char *rel)
{
	struct stat st;

	return fx_lstat(fx, rel, &st) == 0;
}

#define U1 "c0c0c0c0-0000-4000-8000-000000000001"
#define U2 "c0c0c0c0-0000-4000-8000-000000000002"
#define U3 "c0c0c0c0-0000-4000-8000-000000000003"
#define U4 "c0c0c0c0-0000-4000-8000-000000000004"
#define U5 "c0c0c0c0-0000-4000-8000-00000000000a"
#define U5_UPPER "C0C0C0C0-0000-4000-8000-00000000000A"

TEST(create_rules)
{
	char path[4200], buf[8192];
	struct fx fx;
	int fd;

	REQUIRE(fx_mount(&fx, FX_NULL | FX_MTTY));
	/* no negative caching: a failed lookup, then the device is there at once */
	CHECK(gone(&fx, "bus/mdev/devices/" U1));
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", U1, 36), 36);
	/* everything exists when the write returns */
	CHECK(there(&fx, "bus/mdev/devices/" U1 "/vendor/sample_mdev_dev"));
	CHECK(attr_is(&fx, "bus/mdev/devices/" U1 "/vendor/sample_mdev_dev", "This is MDEV " U1 "\n"));
	CHECK_EQ(fx_readlink(&fx, "bus/mdev/devices/" U1 "/mdev_type", buf, sizeof(buf)), 30);
	CHECK(there(&fx, MTTY_TYPES "/mtty-1/devices/" U1));
	CHECK(there(&fx, "bus/mdev/drivers/mtty/" U1));

	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", U2 "\n", 37), 37);
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", U3 "x", 37), 37);
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", U4 "\0", 37), 37);
	/* upper case creates the lower-case name */
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", U5_UPPER "\n", 37), 37);
	CHECK(there(&fx, MTTY_DIR "/" U5));
	CHECK(gone(&fx, MTTY_DIR "/" U5_UPPER));
	CHECK(gone(&fx, "bus/mdev/devices/" U5_UPPER));

	/* duplicates, on the same parent or another, in either case */
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-2/create", U1, 36), -EEXIST);
	CHECK_EQ(fx_write(&fx, NULL_TYPES "/null-1/create", U1, 36), -EEXIST);
	CHECK_EQ(fx_write(&fx, NULL_TYPES "/null-1/create", U5_UPPER, 36), -EEXIST);

	/* bad input */
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", U1, 35), -EINVAL);
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", U1 "\r\n", 38), -EINVAL);
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", " " U1, 37), -EINVAL);
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", "{" U1 "}", 38), -EINVAL);
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create",
			  "c0c0c0c00-000-4000-8000-000000000009", 36), -EINVAL);
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create",
			  "g0c0c0c0-0000-4000-8000-000000000009", 36), -EINVAL);
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", "", 0), 0);
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "c0c0c0c0-0000-4000-8000-000000000009", 36);
	CHECK_EQ(fx_write(&fx, MTTY_TYPES "/mtty-1/create", buf, sizeof(buf)), -EINVAL);
	CHECK(gone(&fx, "bus/mdev/devices/c0c0c0c0-0000-4000-8000-000000000009"));

	/* one fd: two writes are two stores; a UUID split in two is two bad ones */
	fd = open(fx_path(&fx, path, sizeof(path), NULL_TYPES "/null-1/create"), O_WRONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	CHECK_EQ(write(fd, "c0c0c0c0-0000-4000-8000-000000000006\n", 37), 37);
	CHECK_EQ(write(fd, "c0c0c0c0-0000-4000-8000-000000000007\n", 37), 37);
	CHECK_EQ(write(fd, "c0c0c0c0-", 9), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(write(fd, "0000-4000-8000-000000000008", 27), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(pwrite(fd, "c0c0c0c0-0000-4000-8000-000000000008", 36, 100), 36);
	close(fd);
	CHECK(there(&fx, NULL_DIR "/c0c0c0c0-0000-4000-8000-000000000006"));
	CHECK(there(&fx, NULL_DIR "/c0c0c0c0-0000-4000-8000-000000000007"));
	CHECK(there(&fx, NULL_DIR "/c0c0c0c0-0000-4000-8000-000000000008"));

	/* clean up through the bus links */
	{
		static const char *const all[] = {
			U1, U2, U3, U4, U5, "c0c0c0c0-0000-4000-8000-000000000006",
			"c0c0c0c0-0000-4000-8000-000000000007", "c0c0c0c0-0000-4000-8000-000000000008",
		};

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			snprintf(path, sizeof(path), "bus/mdev/devices/%s/remove", all[i]);
			CHECK_EQ(fx_puts(&fx, path, "1"), 1);
		}
	}
	CHECK(ls_matches(&fx, "bus/mdev/devices", NULL, 0, NULL, NULL, 2));
	fx_unmount(&fx);
}

/* ---- remove ---- */

TEST(remove_rules)
{
	char path[4200], big[8192];
	struct fx fx;
	int fd;

	REQUIRE(fx_mount(&fx, FX_NULL));
	CHECK_EQ(fx_puts(&fx, NULL_TYPES "/null-1/create", U1), 36);
	CHECK_EQ(fx_puts(&fx, NULL_TYPES "/null-1/create", U2), 36);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "0"), 1);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "0\n"), 2);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "00"), 2);
	CHECK(there(&fx, "bus/mdev/devices/" U1));
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "junk"), -EINVAL);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "-1"), -EINVAL);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", " 1"), -EINVAL);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "1\n\n"), -EINVAL);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "yes"), -EINVAL);
	CHECK(there(&fx, "bus/mdev/devices/" U1));

	/* non-zero removes, and the directory is gone when the write returns; the fd then
	 * refers to nothing */
	fd = open(fx_path(&fx, path, sizeof(path), NULL_DIR "/" U1 "/remove"), O_WRONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	CHECK_EQ(write(fd, "0x10", 4), 4);
	CHECK(gone(&fx, NULL_DIR "/" U1));
	CHECK(gone(&fx, "bus/mdev/devices/" U1));
	CHECK(gone(&fx, NULL_TYPES "/null-1/devices/" U1));
	CHECK(gone(&fx, "kernel/iommu_groups/0"));
	CHECK_EQ(write(fd, "1", 1), -1);
	CHECK_EQ(errno, ENODEV);
	close(fd);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "1"), -ENOENT);

	/* a first page that parses: a short write of one page, and the device goes */
	memset(big, 0, sizeof(big));
	big[0] = '1';
	CHECK_EQ(fx_write(&fx, "bus/mdev/devices/" U2 "/remove", big, sizeof(big)), 4096);
	CHECK(gone(&fx, "bus/mdev/devices/" U2));
	/* the UUIDs are free again at once */
	CHECK_EQ(fx_puts(&fx, NULL_TYPES "/null-1/create", U1), 36);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "+1"), 2);
	fx_unmount(&fx);
}

/* ---- modes ---- */

static int open_errno(struct fx *fx, const char *rel, int flags)
{
	char path[4200];
	int fd = open(fx_path(fx, path, sizeof(path), rel), flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

TEST(modes_enforced)
{
	char path[4200], p_create[4200], p_name[4200], p_uevent[4200];
	struct fx fx;
	pid_t pid;
	int status;

	REQUIRE(fx_mount(&fx, FX_MTTY));
	CHECK_EQ(fx_puts(&fx, MTTY_TYPES "/mtty-2/create", GT_UUID), 36);
	/* kernfs refuses by the mode bits even for root */
	CHECK_EQ(open_errno(&fx, MTTY_TYPES "/mtty-1/create", O_RDONLY), EACCES);
	CHECK_EQ(open_errno(&fx, MTTY_TYPES "/mtty-1/create", O_RDWR), EACCES);
	CHECK_EQ(open_errno(&fx, DEV "/remove", O_RDONLY), EACCES);
	CHECK_EQ(open_errno(&fx, MTTY_TYPES "/mtty-1/name", O_WRONLY), EACCES);
	CHECK_EQ(open_errno(&fx, MTTY_TYPES "/mtty-1/name", O_RDWR), EACCES);
	CHECK_EQ(open_errno(&fx, DEV "/vendor/sample_mdev_dev", O_WRONLY), EACCES);
	CHECK_EQ(open_errno(&fx, DEV "/uevent", O_RDWR), 0);
	CHECK_EQ(open_errno(&fx, DEV "/vendor/port0_backend", O_RDWR), 0);
	/* what shells and mdevctl open with */
	CHECK_EQ(open_errno(&fx, MTTY_TYPES "/mtty-1/create", O_WRONLY | O_CREAT | O_TRUNC), 0);
	CHECK_EQ(open_errno(&fx, MTTY_TYPES "/mtty-1/create", O_WRONLY | O_APPEND), 0);
	CHECK_EQ(truncate(fx_path(&fx, path, sizeof(path), MTTY_TYPES "/mtty-1/create"), 0), 0);
	/* the tree's shape is fixed */
	CHECK_EQ(open_errno(&fx, MTTY_TYPES "/mtty-1/nothing", O_WRONLY | O_CREAT), EACCES);
	CHECK_EQ(mkdir(fx_path(&fx, path, sizeof(path), MTTY_DIR "/x"), 0755), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(unlink(fx_path(&fx, path, sizeof(path), DEV "/uevent")), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(rmdir(fx_path(&fx, path, sizeof(path), DEV "/power")), -1);
	CHECK_EQ(errno, EPERM);

	/* another user: the kernel checks the mode bits (default_permissions, allow_other) */
	fx_path(&fx, p_create, sizeof(p_create), MTTY_TYPES "/mtty-1/create");
	fx_path(&fx, p_name, sizeof(p_name), MTTY_TYPES "/mtty-1/name");
	fx_path(&fx, p_uevent, sizeof(p_uevent), DEV "/uevent");
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		char buf[64];
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		fd = open(p_create, O_WRONLY);
		if (fd >= 0 || errno != EACCES)
			_exit(11);
		fd = open(p_name, O_RDONLY);
		if (fd < 0 || read(fd, buf, sizeof(buf)) != 19)
			_exit(12);
		close(fd);
		fd = open(p_uevent, O_WRONLY);
		if (fd >= 0 || errno != EACCES)
			_exit(13);
		_exit(0);
	}
	REQUIRE_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	CHECK_EQ(fx_puts(&fx, DEV "/remove", "1"), 1);
	fx_unmount(&fx);
}

/* ---- attributes ---- */

TEST(attributes)
{
	char path[4200], buf[64];
	struct fx fx;
	ssize_t n;
	int fd;

	REQUIRE(fx_mount(&fx, FX_NULL | FX_MTTY));
	CHECK(attr_is(&fx, MTTY_DIR "/mtty_dev/sample_mtty_dev", "This is phy device\n"));
	CHECK(attr_is(&fx, NULL_DIR "/null_dev/description", "umdev null parent device\n"));
	CHECK(attr_is(&fx, NULL_TYPES "/null-1/description",
		      "4 KiB memory BAR, no interrupts, no DMA\n"));
	CHECK(attr_is(&fx, MTTY_DIR "/uevent", ""));

	/* one snapshot per open; lseek(0) renders anew */
	fd = open(fx_path(&fx, path, sizeof(path), MTTY_TYPES "/mtty-1/available_instances"),
		  O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	CHECK_EQ(read(fd, buf, 1), 1);
	CHECK_EQ(buf[0], '2');
	CHECK_EQ(fx_puts(&fx, MTTY_TYPES "/mtty-2/create", GT_UUID), 36);
	n = read(fd, buf, sizeof(buf));
	CHECK_EQ(n, 2);
	CHECK(!memcmp(buf, "4\n", 2));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, buf, sizeof(buf));
	CHECK_EQ(n, 3);
	CHECK(!memcmp(buf, "22\n", 3));
	close(fd);
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-2/available_instances", "11\n"));

	/* a writable vendor attribute */
	CHECK(attr_is(&fx, DEV "/vendor/port0_backend", "loopback\n"));
	CHECK_EQ(fx_puts(&fx, DEV "/vendor/port0_backend", "pty"), 3);
	CHECK(attr_is(&fx, DEV "/vendor/port0_backend", "pty\n"));
	CHECK_EQ(fx_puts(&fx, DEV "/vendor/port0_backend", "bogus"), -EINVAL);
	CHECK_EQ(fx_puts(&fx, DEV "/vendor/port0_backend", "loopback\n"), 9);
	CHECK_EQ(fx_puts(&fx, DEV "/remove", "1"), 1);
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-1/available_instances", "24\n"));
	fx_unmount(&fx);
}

/* ---- what shells print ---- */

static bool run_sh(struct fx *fx, const char *shell, const char *script, int fd3,
		   struct fx_cmd *c)
{
	const char *argv[] = { shell, "-c", script, NULL };

	memset(c, 0, sizeof(*c));
	c->argv = argv;
	c->cwd = fx->mnt;
	c->fd3 = fd3;
	c->timeout_s = 30;
	return fx_run(c);
}

static bool has(const char *text, const char *want)
{
	if (strstr(text, want))
		return true;
	tap_diag("\"%s\" does not contain \"%s\"", text, want);
	return false;
}

/*
 * A child that writes "1" to @fd and exits with 0 if the write returned 1, else with its
 * errno. Writes that may block on the tree run in children: a thread of this process
 * blocked on its own FUSE mount could not be interrupted if the test went wrong.
 */
static pid_t spawn_writer(int fd)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(write(fd, "1", 1) == 1 ? 0 : errno);
	return pid;
}

/* The child's exit code within @ms, or -1 if it is still running (then left running). */
static int reap(pid_t pid, int ms)
{
	int status;

	for (int i = 0; i <= ms / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
		usleep(10000);
	}
	return -1;
}

static bool wait_inactive(const char *uuid)
{
	struct mdev_device *mdev;
	guid_t g;

	if (mdev_uuid_parse(uuid, &g))
		return false;
	for (int i = 0; i < 5000; i++) {
		bool active;

		if (mdev_device_get_by_uuid(&g, &mdev))
			return true;
		active = mdev_device_is_active(mdev);
		mdev_device_put(mdev);
		if (!active)
			return true;
		usleep(1000);
	}
	return false;
}

TEST(shell_error_texts)
{
	static const char create[] = "echo " GT_UUID " > " MTTY_TYPES "/mtty-2/create";
	struct fx_cmd *c = malloc(sizeof(*c));
	struct fx fx;

	REQUIRE(c);
	if (!fx_mount(&fx, FX_MTTY)) {
		free(c);
		return;
	}
	CHECK(run_sh(&fx, "/bin/bash", create, -1, c) && c->status == 0);
	CHECK(run_sh(&fx, "/bin/bash", create, -1, c) && c->status == 1);
	CHECK(has(c->err, "write error: File exists"));
	CHECK(run_sh(&fx, "/bin/sh", "/bin/echo bogus > " MTTY_TYPES "/mtty-2/create", -1, c) &&
	      c->status == 1);
	CHECK(has(c->err, "write error: Invalid argument"));
	CHECK(run_sh(&fx, "/bin/bash", "cat " MTTY_TYPES "/mtty-2/create", -1, c) && c->status == 1);
	CHECK(has(c->err, "Permission denied"));
	CHECK(run_sh(&fx, "/bin/bash", "echo x > " MTTY_TYPES "/mtty-2/name", -1, c) &&
	      c->status == 1);
	CHECK(has(c->err, "Permission denied"));
	CHECK(run_sh(&fx, "/bin/bash", "echo 1 > " DEV "/remove", -1, c) && c->status == 0);
	CHECK(run_sh(&fx, "/bin/bash", "echo 1 > bus/mdev/devices/" GT_UUID "/remove", -1, c) &&
	      c->status == 1);
	CHECK(has(c->err, "No such file or directory"));
	/* dash's echo reports any write error as "I/O error" (with the kernel's sysfs too) */
	CHECK(run_sh(&fx, "/bin/sh", create, -1, c) && c->status == 0);
	CHECK(run_sh(&fx, "/bin/sh", create, -1, c) && c->status != 0);
	CHECK(has(c->err, "I/O error"));
	CHECK_EQ(fx_puts(&fx, DEV "/remove", "1"), 1);
	fx_unmount(&fx);
	free(c);
}

/*
 * A remove that waits for the device's client: the write returns when the device is gone.
 * FUSE serialises the writes to one file, so a second writer on a file opened before waits
 * for the first and then finds the device gone (ENODEV; the kernel's second writer returns
 * success). The core's EAGAIN for that race is tested without FUSE (resolver suite).
 */
TEST(remove_waits_for_the_client)
{
	struct vfio_device *vdev;
	struct fx_cmd *c = malloc(sizeof(*c));
	char path[4200];
	pid_t first, second;
	struct fx fx;
	int fd1, fd2;

	REQUIRE(c);
	if (!fx_mount(&fx, FX_MTTY)) {
		free(c);
		return;
	}
	CHECK_EQ(fx_puts(&fx, MTTY_TYPES "/mtty-2/create", GT_UUID), 36);
	REQUIRE_EQ(vfio_device_get_from_name(GT_UUID, &vdev), 0);
	REQUIRE_EQ(vfio_device_open(vdev, NULL), 0); /* the removal waits for this client */
	fd1 = open(fx_path(&fx, path, sizeof(path), DEV "/remove"), O_WRONLY | O_CLOEXEC);
	fd2 = open(path, O_WRONLY | O_CLOEXEC);
	CHECK(fd1 >= 0 && fd2 >= 0);
	first = spawn_writer(fd1);
	CHECK(first > 0);
	CHECK(wait_inactive(GT_UUID));
	/* on its way out: gone from the tree at once, the write still waiting */
	CHECK(gone(&fx, DEV));
	CHECK(gone(&fx, "bus/mdev/devices/" GT_UUID));
	second = spawn_writer(fd2);
	CHECK(second > 0);
	CHECK_EQ(reap(first, 300), -1);
	CHECK_EQ(reap(second, 100), -1);
	vfio_device_close(vdev);
	vfio_put_device(vdev);
	CHECK_EQ(reap(first, 20000), 0);
	CHECK_EQ(reap(second, 20000), ENODEV);
	/* and what a shell prints for it */
	CHECK(run_sh(&fx, "/bin/bash", "echo 1 >&3", fd2, c) && c->status == 1);
	CHECK(has(c->err, "write error: No such device"));
	close(fd1);
	close(fd2);
	fx_unmount(&fx);
	free(c);
}

/* ---- inode numbers through the mount ---- */

static ino_t ino(struct fx *fx, const char *rel)
{
	struct stat st;

	return fx_lstat(fx, rel, &st) ? 0 : st.st_ino;
}

TEST(inode_numbers)
{
	static const char *const paths[] = {
		"class/mdev_bus", "class/mdev_bus/mtty", MTTY_DIR, MTTY_TYPES "/mtty-2/create",
		"bus/mdev/devices",
	};
	ino_t before[5], dev_ino;
	struct fx fx;

	REQUIRE(fx_mount(&fx, FX_MTTY));
	for (size_t i = 0; i < 5; i++)
		CHECK((before[i] = ino(&fx, paths[i])) != 0);
	CHECK_EQ(ino(&fx, ""), 1);
	CHECK_EQ(fx_puts(&fx, MTTY_TYPES "/mtty-2/create", U1), 36);
	dev_ino = ino(&fx, MTTY_DIR "/" U1);
	CHECK(dev_ino != 0);
	for (int round = 0; round < 3; round++) {
		CHECK_EQ(fx_puts(&fx, MTTY_TYPES "/mtty-1/create", U2), 36);
		CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U2 "/remove", "1"), 1);
	}
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ(ino(&fx, paths[i]), before[i]);
	CHECK_EQ(ino(&fx, MTTY_DIR "/" U1), dev_ino);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "1"), 1);
	CHECK_EQ(fx_puts(&fx, MTTY_TYPES "/mtty-2/create", U1), 36);
	CHECK(ino(&fx, MTTY_DIR "/" U1) != dev_ino);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/" U1 "/remove", "1"), 1);
	fx_unmount(&fx);
}

/* ---- many shells at once ---- */

#define NPROC 8
#define NROUNDS 40
static const char *const race_uuids =
	"d0d0d0d0-0000-4000-8000-000000000001 d0d0d0d0-0000-4000-8000-000000000002 "
	"d0d0d0d0-0000-4000-8000-000000000003 D0D0D0D0-0000-4000-8000-000000000004 "
	"d0d0d0d0-0000-4000-8000-000000000005";

/* The devices the core has, as a sorted list of UUIDs (newline-separated). */
static size_t core_devices(char *out, size_t size, unsigned int *mtty_ports)
{
	struct mdev_parent **parents;
	ssize_t np = mdev_parents_list(&parents);
	size_t count = 0;

	out[0] = '\0';
	*mtty_ports = 0;
	for (ssize_t p = 0; p < np; p++) {
		struct mdev_device **devs;
		ssize_t nd = mdev_parent_devices(parents[p], &devs);

		for (ssize_t i = 0; i < nd; i++) {
			char u[UUID_STRING_LEN + 1];

			mdev_uuid_format(mdev_uuid(devs[i]), u);
			snprintf(out + strlen(out), size - strlen(out), "%s\n", u);
			if (!strcmp(mtype_get_name(mdev_get_type(devs[i])), "mtty-1"))
				*mtty_ports += 1;
			else if (!strcmp(mtype_get_name(mdev_get_type(devs[i])), "mtty-2"))
				*mtty_ports += 2;
			count++;
		}
		if (nd >= 0)
			mdev_devices_free(devs, (size_t)nd);
	}
	if (np >= 0)
		mdev_parents_free(parents, (size_t)np);
	return count;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a directory of the mount, sorted, newline-separated. */
static size_t tree_entries(struct fx *fx, const char *rel, char *out, size_t size)
{
	char path[4200], *names[256];
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(fx_path(fx, path, sizeof(path), rel));

	out[0] = '\0';
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < 256)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		snprintf(out + strlen(out), size - strlen(out), "%s\n", names[i]);
		free(names[i]);
	}
	return n;
}

static void sort_lines(char *text)
{
	char *lines[256], copy[8192], *save = NULL;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", text);
	for (char *l = strtok_r(copy, "\n", &save); l && n < 256; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(lines[0]), cmp_str);
	text[0] = '\0';
	for (size_t i = 0; i < n; i++)
		sprintf(text + strlen(text), "%s\n", lines[i]);
}

TEST(concurrent_shells)
{
	static const char script[] =
		"i=0\n"
		"while [ $i -lt $ROUNDS ]; do\n"
		"  for u in $UUIDS; do\n"
		"    echo $u > $TYPE/create\n"
		"    case $u in D0D0*) l=d0d0d0d0-0000-4000-8000-000000000004;; *) l=$u;; esac\n"
		"    [ -n \"$REMOVE\" ] && echo 1 > bus/mdev/devices/$l/remove\n"
		"    cat bus/mdev/devices/$l/mdev_type/available_instances > /dev/null\n"
		"  done\n"
		"  i=$((i+1))\n"
		"done 2>/dev/null\n"
		"exit 0\n";
	static const char *const types[] = {
		MTTY_TYPES "/mtty-1", MTTY_TYPES "/mtty-2", NULL_TYPES "/null-1",
	};
	char core[8192], listed[8192], env_cmd[NPROC][2048], buf[64];
	unsigned int ports;
	pid_t pids[NPROC];
	struct fx fx;
	size_t n;

	REQUIRE(fx_mount(&fx, FX_NULL | FX_MTTY));
	for (int k = 0; k < NPROC; k++) {
		/* each shell: its type, removes or not, the UUIDs in its own order */
		snprintf(env_cmd[k], sizeof(env_cmd[k]),
			 "ROUNDS=%d TYPE=%s REMOVE=%s UUIDS=\"$(echo %s | tr ' ' '\\n' | "
			 "awk 'NR>%d{print} NR<=%d{a=a\" \"$0} END{print a}')\"; %s",
			 NROUNDS, types[k % 3], k % 4 == 3 ? "" : "yes", race_uuids, k % 5, k % 5,
			 script);
		pids[k] = fx_spawn((const char *const[]){ "/bin/sh", "-c", env_cmd[k], NULL },
				   fx.mnt);
		CHECK(pids[k] > 0);
	}
	CHECK(fx_wait_all(pids, NPROC, 300));

	/* the tree shows what the core has */
	n = core_devices(core, sizeof(core), &ports);
	sort_lines(core);
	CHECK_EQ(tree_entries(&fx, "bus/mdev/devices", listed, sizeof(listed)), n);
	CHECK_STR(listed, core);
	CHECK_EQ(tree_entries(&fx, "kernel/iommu_groups", listed, sizeof(listed)), n);
	snprintf(buf, sizeof(buf), "%u\n", (24 - ports) / 2);
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-2/available_instances", buf));
	{
		char a[4096], b[4096], c[4096], all[12800];

		tree_entries(&fx, MTTY_TYPES "/mtty-1/devices", a, sizeof(a));
		tree_entries(&fx, MTTY_TYPES "/mtty-2/devices", b, sizeof(b));
		tree_entries(&fx, NULL_TYPES "/null-1/devices", c, sizeof(c));
		snprintf(all, sizeof(all), "%s%s%s", a, b, c);
		sort_lines(all);
		CHECK_STR(all, core);
	}
	/* every device is whole: its links resolve, and it can be removed */
	for (char *l = core, *nl; *l; l = nl + 1) {
		char rel[256], real[4200], path[4200];

		nl = strchr(l, '\n');
		*nl = '\0';
		snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/mdev_type", l);
		CHECK(realpath(fx_path(&fx, path, sizeof(path), rel), real));
		snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/iommu_group", l);
		CHECK(realpath(fx_path(&fx, path, sizeof(path), rel), real));
		snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/remove", l);
		CHECK_EQ(fx_puts(&fx, rel, "1"), 1);
	}
	CHECK_EQ(tree_entries(&fx, "bus/mdev/devices", listed, sizeof(listed)), 0);
	CHECK_EQ(tree_entries(&fx, "kernel/iommu_groups", listed, sizeof(listed)), 0);
	CHECK(attr_is(&fx, MTTY_TYPES "/mtty-1/available_instances", "24\n"));
	/* no UUID is left reserved */
	CHECK_EQ(fx_puts(&fx, NULL_TYPES "/null-1/create", "d0d0d0d0-0000-4000-8000-000000000004"),
		 36);
	CHECK_EQ(fx_puts(&fx, "bus/mdev/devices/d0d0d0d0-0000-4000-8000-000000000004/remove", "1"),
		 1);
	fx_unmount(&fx);
}

/* ---- mounting and unmounting ---- */

TEST(mount_errors_and_busy_unmount)
{
	struct sysfs_fs *fs;
	struct stat st;
	struct fx fx;
	char path[4200];
	int dirfd, fd;

	CHECK_EQ(sysfs_fs_mount("/nonexistent/umdev", &fs), -ENOENT);
	CHECK_EQ(sysfs_fs_mount("/etc/hostname", &fs), -ENOTDIR);
	REQUIRE(fx_mount(&fx, FX_MTTY));
	dirfd = open(fx_path(&fx, path, sizeof(path), MTTY_DIR), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = open(fx_path(&fx, path, sizeof(path), MTTY_TYPES "/mtty-1/name"), O_RDONLY | O_CLOEXEC);
	CHECK(dirfd >= 0 && fd >= 0);
	/* busy: unmounted lazily, and the open files fail afterwards */
	sysfs_fs_unmount(fx.fs);
	fx.fs = NULL;
	CHECK(fstatat(dirfd, "mdev_supported_types", &st, 0) == -1);
	CHECK(read(fd, path, 16) == -1);
	close(dirfd);
	close(fd);
	CHECK(stat(fx.mnt, &st) == 0 && st.st_dev != 0);
	fx_unmount(&fx);
}

int main(int argc, char **argv)
{
	if (fx_skip_without_fuse())
		return 0;
	fx_log_init();
	return tap_main(argc, argv);
}
