/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal plugin host for out_of_tree.sh, built against an installed libumdev with
 * `cc plugin_loader.c $(pkg-config --cflags --libs umdev)`: it does what umdevd does with a
 * driver plugin (dlopen, check the exported struct umdev_driver_module, init) and then what
 * a management client and a transport do with the null driver's parent (find it and its
 * type, create a device, open and query it, remove it), then exit and dlclose. Prints TAP.
 *
 *   plugin_loader PLUGIN.so [LIBDIR]   LIBDIR: where libumdev must have been loaded from
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>

#define NCASES 13

static int ncase;
static int nfailed;
static bool blocked; /* an earlier step that later ones need failed */

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* Reports one case; a failed @needed case makes the following ones fail unrun. */
static bool report(bool ok, bool needed, const char *desc)
{
	ncase++;
	if (blocked) {
		printf("not ok %d - %s (not run: an earlier step failed)\n", ncase, desc);
		nfailed++;
		return false;
	}
	printf("%sok %d - %s\n", ok ? "" : "not ", ncase, desc);
	if (!ok) {
		nfailed++;
		if (needed)
			blocked = true;
	}
	return ok;
}

/* True when @path lies inside directory @dir (both resolved). */
static bool path_is_under(const char *path, const char *dir)
{
	char rp[PATH_MAX], rd[PATH_MAX];
	size_t n;

	if (!realpath(path, rp) || !realpath(dir, rd))
		return false;
	n = strlen(rd);
	return !strncmp(rp, rd, n) && rp[n] == '/';
}

int main(int argc, char **argv)
{
	const struct umdev_driver_module *mod = NULL;
	struct mdev_parent *parent = NULL, *gone = NULL;
	struct mdev_type *type = NULL;
	struct mdev_device *mdev = NULL, *found = NULL;
	struct vfio_device *vdev = NULL;
	struct vfio_device_info info;
	guid_t uuid = { { 0x6e, 0x75, 0x6c, 0x6c, 0x00, 0x00, 0x40, 0x00, 0x80, 0x00, 0x00, 0x00,
			  0x00, 0x00, 0x00, 0x01 } };
	const char *uuid_text = "6e756c6c-0000-4000-8000-000000000001";
	bool initialized = false;
	void *handle = NULL;
	Dl_info where;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PLUGIN.so [LIBDIR]\n", argv[0]);
		return 2;
	}
	printf("1..%d\n", NCASES);

	/* 1-4: what umdevd checks of a plugin */
	handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		diag("dlopen: %s", dlerror());
	report(handle != NULL, true, "dlopen() of the plugin");
	if (handle) {
		mod = (const struct umdev_driver_module *)dlsym(handle, UMDEV_DRIVER_MODULE_SYMBOL);
		if (!mod)
			diag("dlsym: %s", dlerror());
	}
	report(mod != NULL, true, "the plugin exports " UMDEV_DRIVER_MODULE_SYMBOL);
	if (mod && mod->abi_version != UMDEV_DRIVER_ABI_VERSION)
		diag("abi_version %u, expected %u", (unsigned int)mod->abi_version,
		     UMDEV_DRIVER_ABI_VERSION);
	report(mod && mod->abi_version == UMDEV_DRIVER_ABI_VERSION, true,
	       "its abi_version is UMDEV_DRIVER_ABI_VERSION");
	report(mod && mod->name && !strcmp(mod->name, "null") && mod->init && mod->exit, true,
	       "its name is \"null\" and it has init and exit");

	/* 5: one core, the installed one, shared by the host and the plugin */
	if (argc == 3) {
		bool ok = dladdr((void *)mdev_parent_get_by_name, &where) && where.dli_fname &&
			  path_is_under(where.dli_fname, argv[2]);

		if (!ok)
			diag("libumdev loaded from %s, expected under %s",
			     where.dli_fname ? where.dli_fname : "?", argv[2]);
		report(ok, false, "libumdev is the installed one");
	} else {
		report(true, false, "libumdev is the installed one # SKIP no LIBDIR given");
	}

	/* 6-8: init registers the parent "null" with its type "null-1" */
	ret = blocked ? -1 : mod->init();
	if (ret)
		diag("init: %d", ret);
	initialized = ret == 0;
	report(ret == 0, true, "init() succeeds");
	ret = blocked ? -1 : mdev_parent_get_by_name("null", &parent);
	report(ret == 0, true, "the parent \"null\" is registered");
	if (!blocked) {
		type = mdev_parent_find_type(parent, "null-1");
		if (!type)
			diag("the parent has %u types", mdev_parent_num_types(parent));
	}
	report(type != NULL && !strcmp(mtype_get_name(type), "null-1"), true,
	       "its type \"null-1\" exists");

	/* 9-11: a device is created, opened by UUID, answers, and is removed */
	ret = blocked ? -1 : mdev_device_create(type, &uuid, &mdev);
	if (ret)
		diag("mdev_device_create: %d", ret);
	report(ret == 0 && mdev_device_is_active(mdev) && mdev_vfio_device(mdev), true,
	       "a device of the type is created, bound to vfio_mdev");
	if (!blocked) {
		bool ok = false;

		ret = vfio_device_get_from_name(uuid_text, &vdev);
		if (!ret)
			ret = vfio_device_open(vdev, NULL);
		if (!ret) {
			uint16_t vendor = 0;

			memset(&info, 0, sizeof(info));
			info.argsz = sizeof(info);
			ok = vfio_device_ioctl(vdev, VFIO_DEVICE_GET_INFO, &info) == 0 &&
			     info.num_regions == VFIO_PCI_NUM_REGIONS &&
			     vfio_device_read(vdev, &vendor, 2,
					      (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) == 2 &&
			     vendor == 0x1234;
			vfio_device_close(vdev);
		} else {
			diag("opening %s: %d", uuid_text, ret);
		}
		if (vdev)
			vfio_put_device(vdev);
		report(ok, false, "the device opens by UUID and answers GET_INFO and config reads");
	} else {
		report(false, false, "the device opens by UUID and answers GET_INFO and config reads");
	}
	ret = blocked ? -1 : mdev_device_remove(mdev);
	if (mdev)
		mdev_device_put(mdev);
	report(ret == 0 && mdev_device_get_by_uuid(&uuid, &found) == -ENODEV, false,
	       "the device is removed");

	/* 12-13: exit unregisters the parent; the plugin unloads */
	if (parent)
		mdev_parent_put(parent);
	if (initialized)
		mod->exit();
	ret = initialized ? mdev_parent_get_by_name("null", &gone) : -1;
	if (ret == 0)
		mdev_parent_put(gone);
	report(ret == -ENODEV, false, "exit() unregisters the parent");
	ret = handle ? dlclose(handle) : -1;
	blocked = false;
	report(ret == 0, false, "dlclose() of the plugin");

	if (ncase != NCASES)
		diag("internal: %d cases reported, %d planned", ncase, NCASES);
	return nfailed ? 1 : 0;
}
