/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Faults injected into every allocation and system call of the create and remove paths
 * (issue 7, item 4). For each path and for N = 1, 2, ...: the Nth wrapped call of the
 * path fails (fault_inject.h), then, with injection off, the core must be consistent:
 *   - no half device: the UUID names no device, or an active one (which is then removed);
 *   - no leaked reservation: the UUID is free afterwards and a create with it succeeds;
 *   - no leaked vfio registration: no vfio device of that name is left;
 *   - counts balanced: available_instances and the type's device list are as before;
 *   - no stale socket (server paths) and no temporary file (definition paths) left;
 * and the case leaks no fd (tap.h) and, in the ASan build, no memory (LeakSanitizer).
 * The loop ends with the first N that the path no longer reaches. The paths: the sysfs
 * `create`/`remove` files (null), mdevctl's start/stop with attributes (mtty-2), a device
 * served over vfio-user and mpqemu as umdevd serves it (null), and a definition's atomic
 * write and removal.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <umdev/log.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/mpqemu_server.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/vfio_user_server.h>
#include <umdev/workers.h>

#include "fault_inject.h"
#include "mgmt/ops.h"
#include "mgmt/persist/definitions.h"
#include "tap.h"

extern const struct umdev_driver_module umdev_builtin_null;
extern const struct umdev_driver_module umdev_builtin_mtty;

/* More injection points than any path has: a path still hit at this N is a loop. */
#define MAX_POINTS 5000

static char tmpdir[64];

/* ---- the core's view of a UUID and a type ---- */

static long available(struct mdev_type *mtype)
{
	const struct attribute_group *g = mtype_get_group(mtype);
	char buf[UMDEV_ATTR_BUF_SIZE] = "";

	for (struct attribute **a = g->attrs; *a; a++)
		if (!strcmp((*a)->name, "available_instances") &&
		    mdev_type_attr_show(mtype, *a, buf) > 0)
			return strtol(buf, NULL, 10);
	return -1;
}

static ssize_t type_devices(struct mdev_type *mtype)
{
	struct mdev_device **devs;
	ssize_t n = mdev_type_devices(mtype, &devs);

	if (n >= 0)
		mdev_devices_free(devs, (size_t)n);
	return n;
}

/* After an injected run: a device left by it must be whole; it is removed. Then the UUID,
 * the vfio name, the counts must be as before the run. False (checked) otherwise. */
static bool core_consistent(struct mdev_type *mtype, const char *uuid_text, long avail0,
			    ssize_t devs0)
{
	struct vfio_device *vdev;
	struct mdev_device *mdev;
	guid_t uuid;
	bool ok = true;

	mdev_uuid_parse(uuid_text, &uuid);
	if (mdev_device_get_by_uuid(&uuid, &mdev) == 0) {
		ok &= CHECK(mdev_device_is_active(mdev)); /* a whole device, or none */
		ok &= CHECK(mdev_vfio_device(mdev) != NULL);
		ok &= CHECK_EQ(mdev_device_remove(mdev), 0);
		mdev_device_put(mdev);
	}
	ok &= CHECK_EQ(mdev_device_get_by_uuid(&uuid, &mdev), -ENODEV);
	if (vfio_device_get_from_name(uuid_text, &vdev) == 0) {
		ok &= CHECK(!"a vfio device outlives its mdev");
		vfio_put_device(vdev);
	}
	ok &= CHECK_EQ(available(mtype), avail0);
	ok &= CHECK_EQ(type_devices(mtype), devs0);
	return ok;
}

/* With injection off: the UUID can be created and removed again. */
static bool uuid_reusable(struct mdev_type *mtype, const char *uuid_text)
{
	struct mdev_device *mdev;
	guid_t uuid;
	bool ok;

	mdev_uuid_parse(uuid_text, &uuid);
	ok = CHECK_EQ(mdev_device_create(mtype, &uuid, &mdev), 0);
	if (ok) {
		ok &= CHECK_EQ(mdev_device_remove(mdev), 0);
		mdev_device_put(mdev);
	}
	return ok;
}

/* ---- the loop ---- */

#define MAX_SITES 32

struct injection_stats {
	unsigned long points;		/* injected runs that hit */
	const char *sites[MAX_SITES];	/* the functions that were made to fail, each once */
	unsigned int nsites;
};

static void note_site(struct injection_stats *st, const char *name)
{
	for (unsigned int i = 0; i < st->nsites; i++)
		if (!strcmp(st->sites[i], name))
			return;
	if (st->nsites < MAX_SITES)
		st->sites[st->nsites++] = name;
}

static void print_sites(const char *what, const struct injection_stats *st)
{
	char line[512] = "";
	size_t len = 0;

	for (unsigned int i = 0; i < st->nsites && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", st->sites[i]);
	tap_diag("%s: %lu injection points, calls made to fail:%s", what, st->points, line);
}

/*
 * Runs @run with the Nth call failing, for N = 1, 2, ... until a run completes with no
 * injection, calling @check after each. Returns false when a check failed (the loop stops)
 * or the path never ends.
 */
static bool inject_all(const char *what, void (*run)(void *), bool (*check)(void *), void *ctx,
		       struct injection_stats *st)
{
	*st = (struct injection_stats){ 0 };
	for (unsigned long n = 1; n <= MAX_POINTS; n++) {
		fault_arm(n);
		run(ctx);
		fault_disarm();
		const char *site = fault_failed_call();

		if (!check(ctx)) {
			tap_diag("%s: inconsistent after failing call %lu (%s)", what, n,
				 site ? site : "none: the path completed");
			return false;
		}
		if (!site) {
			print_sites(what, st);
			return true;
		}
		st->points++;
		note_site(st, site);
	}
	tap_diag("%s: still failing calls after %d", what, MAX_POINTS);
	return false;
}

/* ---- the drivers, for every case ---- */

struct env {
	struct mdev_parent *null_parent, *mtty_parent; /* references */
	struct mdev_type *null1, *mtty2;
};

static bool env_start(struct env *e)
{
	*e = (struct env){ 0 };
	if (!CHECK_EQ(umdev_builtin_null.init(), 0))
		return false;
	if (!CHECK_EQ(umdev_builtin_mtty.init(), 0)) {
		umdev_builtin_null.exit();
		return false;
	}
	if (CHECK_EQ(mdev_parent_get_by_name("null", &e->null_parent), 0))
		e->null1 = mdev_parent_find_type(e->null_parent, "null-1");
	if (CHECK_EQ(mdev_parent_get_by_name("mtty", &e->mtty_parent), 0))
		e->mtty2 = mdev_parent_find_type(e->mtty_parent, "mtty-2");
	return CHECK(e->null1) && CHECK(e->mtty2);
}

static void env_stop(struct env *e)
{
	mdev_parent_put(e->null_parent);
	mdev_parent_put(e->mtty_parent);
	umdev_builtin_mtty.exit();
	umdev_builtin_null.exit();
}

/* ---- path 1: the sysfs files, `create` of a type and `remove` of a device ---- */

#define UUID_SYSFS "fa017000-0000-4000-8000-000000000001"

struct core_ctx {
	struct mdev_type *mtype;
	const char *uuid;
	long avail0;
	ssize_t devs0;
};

static void run_sysfs(void *arg)
{
	struct core_ctx *c = arg;
	struct mdev_device *mdev;
	guid_t uuid;

	if (mdev_type_create_store(c->mtype, UUID_SYSFS "\n", 37) != 37)
		return;
	mdev_uuid_parse(UUID_SYSFS, &uuid);
	if (mdev_device_get_by_uuid(&uuid, &mdev))
		return;
	mdev_device_remove_store(mdev, "1\n", 2);
	mdev_device_put(mdev);
}

static bool check_core(void *arg)
{
	struct core_ctx *c = arg;

	return core_consistent(c->mtype, c->uuid, c->avail0, c->devs0) &&
	       uuid_reusable(c->mtype, c->uuid);
}

TEST(faults_in_sysfs_create_and_remove)
{
	struct injection_stats st;
	struct env e;

	if (env_start(&e)) {
		struct core_ctx c = { e.null1, UUID_SYSFS, available(e.null1), type_devices(e.null1) };

		CHECK(inject_all("sysfs create/remove (null)", run_sysfs, check_core, &c, &st));
		CHECK(st.points >= 3); /* the wrappers do reach the core */
	}
	env_stop(&e);
}

/* ---- path 2: mdevctl's start and stop, with an attribute (mtty-2) ---- */

#define UUID_MGMT "fa017000-0000-4000-8000-000000000002"

static void run_mgmt(void *arg)
{
	struct mdev_definition_attr attrs[] = {
		{ (char *)"vendor/port0_backend", (char *)"loopback" },
		{ (char *)"vendor/port1_backend", (char *)"loopback" },
	};
	char err[MGMT_ERR_SIZE];

	(void)arg;
	if (mgmt_start_device("mtty", "mtty-2", UUID_MGMT, attrs, 2, NULL, err, sizeof(err)))
		return;
	mgmt_stop_device(UUID_MGMT, err, sizeof(err));
}

TEST(faults_in_mgmt_start_and_stop)
{
	struct injection_stats st;
	struct env e;

	if (env_start(&e)) {
		struct core_ctx c = { e.mtty2, UUID_MGMT, available(e.mtty2), type_devices(e.mtty2) };

		CHECK(inject_all("mgmt start/stop (mtty-2)", run_mgmt, check_core, &c, &st));
		CHECK(st.points >= 3);
	}
	env_stop(&e);
}

/* ---- path 3: a device served as umdevd serves it, over vfio-user and mpqemu ---- */

#define UUID_SERVED "fa017000-0000-4000-8000-000000000003"

struct served_ctx {
	struct core_ctx core;
	struct umdev_workers *workers;
	char vu_path[128], mpq_path[128];
};

static void run_served(void *arg)
{
	struct served_ctx *c = arg;
	struct vfio_user_server_config vcfg = {
		.socket_path = c->vu_path, .workers = c->workers,
		.owner = (uid_t)-1, .group = (gid_t)-1,
	};
	struct mpqemu_server_config mcfg = {
		.socket_path = c->mpq_path, .workers = c->workers,
		.owner = (uid_t)-1, .group = (gid_t)-1,
	};
	struct vfio_user_server *vu = NULL;
	struct mpqemu_server *mpq = NULL;
	struct mdev_device *mdev;
	guid_t uuid;

	mdev_uuid_parse(UUID_SERVED, &uuid);
	if (mdev_device_create(c->core.mtype, &uuid, &mdev))
		return;
	if (vfio_user_server_create(mdev_vfio_device(mdev), &vcfg, &vu) == 0 &&
	    mpqemu_server_create(mdev_vfio_device(mdev), &mcfg, &mpq) == 0)
		mpqemu_server_destroy(mpq);
	vfio_user_server_destroy(vu);
	mdev_device_remove(mdev);
	mdev_device_put(mdev);
}

static bool check_served(void *arg)
{
	struct served_ctx *c = arg;
	bool ok = CHECK(access(c->vu_path, F_OK) != 0) && CHECK(access(c->mpq_path, F_OK) != 0);

	return ok && check_core(&c->core);
}

TEST(faults_in_a_served_device)
{
	struct injection_stats st;
	struct env e;

	if (env_start(&e)) {
		struct served_ctx c = { .core = { e.null1, UUID_SERVED, available(e.null1),
						  type_devices(e.null1) },
					.workers = NULL };

		snprintf(c.vu_path, sizeof(c.vu_path), "%s/vfio-user.sock", tmpdir);
		snprintf(c.mpq_path, sizeof(c.mpq_path), "%s/mpqemu.sock", tmpdir);
		if (CHECK_EQ(umdev_workers_create(1, &c.workers), 0)) {
			CHECK(inject_all("served device (null, vfio-user + mpqemu)", run_served,
					 check_served, &c, &st));
			CHECK(st.points >= 6);
			umdev_workers_destroy(c.workers);
		}
	}
	env_stop(&e);
}

/* ---- path 4: a definition's atomic write over an older one, and its removal ---- */

#define UUID_DEF "fa017000-0000-4000-8000-000000000004"

struct def_ctx {
	char conf[128];
	struct mdev_definition old_def, new_def;
	bool removed; /* the run got as far as a successful removal */
};

static void run_definition(void *arg)
{
	struct def_ctx *c = arg;

	c->removed = false;
	if (definition_write(c->conf, &c->new_def))
		return;
	c->removed = definition_remove(c->conf, "null", UUID_DEF) == 0;
}

/* The definition on disk is the old or the new one (or none after the removal), never
 * anything else, and no temporary file is left; then the old one is put back. */
static bool check_definition(void *arg)
{
	struct def_ctx *c = arg;
	struct mdev_definition def = { 0 };
	char err[256], dir[160];
	struct dirent *ent;
	bool ok = true;
	DIR *d;
	int ret = definition_load_one(c->conf, "null", UUID_DEF, &def, err, sizeof(err));

	if (ret == 0)
		ok &= CHECK(def.autostart == c->old_def.autostart ||
			    def.autostart == c->new_def.autostart) &&
		      CHECK(def.nattrs == c->old_def.nattrs || def.nattrs == c->new_def.nattrs);
	else if (!CHECK(c->removed && ret == -ENOENT))
		tap_diag("definition: %d, %s", ret, err);
	definition_clear(&def);
	snprintf(dir, sizeof(dir), "%s/null", c->conf);
	d = opendir(dir);
	while (d && (ent = readdir(d)))
		if (ent->d_name[0] == '.' && strcmp(ent->d_name, ".") && strcmp(ent->d_name, ".."))
			ok &= CHECK(!"no temporary file is left");
	if (d)
		closedir(d);
	return ok && CHECK_EQ(definition_write(c->conf, &c->old_def), 0);
}

static bool make_def(struct mdev_definition *def, bool autostart, unsigned int nattrs)
{
	*def = (struct mdev_definition){ .parent = "null", .uuid = UUID_DEF,
					 .autostart = autostart };
	def->mdev_type = strdup("null-1");
	if (!def->mdev_type)
		return false;
	for (unsigned int i = 0; i < nattrs; i++)
		if (definition_attr_insert(def, def->nattrs, "null_dev/description", "x"))
			return false;
	return true;
}

TEST(faults_in_definition_write_and_remove)
{
	struct injection_stats st;
	struct def_ctx c = { 0 };

	snprintf(c.conf, sizeof(c.conf), "%s/conf", tmpdir);
	if (CHECK(make_def(&c.old_def, false, 0)) && CHECK(make_def(&c.new_def, true, 2)) &&
	    CHECK_EQ(definition_write(c.conf, &c.old_def), 0)) {
		CHECK(inject_all("definition write/remove", run_definition, check_definition, &c,
				 &st));
		CHECK(st.points >= 5);
	}
	definition_clear(&c.old_def);
	definition_clear(&c.new_def);
}

/* ---- main ---- */

/* Errors the injected failures make the core and drivers log: counted, not printed. */
static unsigned long logged;

static void count_log(int level, const char *message, void *userdata)
{
	(void)level;
	(void)message;
	(void)userdata;
	logged++;
}

int main(int argc, char **argv)
{
	char cmd[96];
	int ret;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/umdev-inject.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	umdev_set_log_handler(count_log, NULL, UMDEV_LOG_DEBUG);
	ret = tap_main(argc, argv);
	printf("# %lu log messages while failing\n", logged);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		ret = 1;
	return ret;
}
