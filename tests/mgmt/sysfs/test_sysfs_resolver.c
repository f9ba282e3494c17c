/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs resolver without FUSE (sysfs_tree.h): every node kind reached by walking the
 * whole tree, each listed entry found again by lookup with the same inode number and mode,
 * link targets that resolve, nlink, the exact layout of the ground truth, inode numbers
 * that stay and are never reused, the device numbers (iommu groups), lookup errors, the
 * attribute file rules (modes, snapshots, stores, stale files, EAGAIN), parents below
 * other devices, uevent, and a parent that goes and comes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umdev/vfio.h>
#include <umdev/vfio_device_fd.h>

#include "mgmt/sysfs/sysfs_private.h"
#include "sysfs_fixture.h"
#include "test_parent.h"

/* ---- helpers ---- */

struct env {
	struct sysfs_tree *t;
	unsigned int drivers;
};

static bool env_up(struct env *e, unsigned int drivers)
{
	memset(e, 0, sizeof(*e));
	if (!fx_start_drivers(drivers))
		return false;
	e->drivers = drivers;
	if (!CHECK_EQ(sysfs_tree_new(&e->t), 0)) {
		fx_stop_drivers(drivers);
		return false;
	}
	return true;
}

static void env_down(struct env *e)
{
	sysfs_tree_free(e->t);
	fx_stop_drivers(e->drivers);
}

/* One open, one write, close: the write's result or -errno. */
static ssize_t put(struct sysfs_tree *t, const char *path, const char *s, size_t len)
{
	struct sysfs_file *f;
	ssize_t ret = sysfs_file_open(t, path, O_WRONLY, &f);

	if (ret)
		return ret;
	ret = sysfs_file_write(f, s, len, 0);
	sysfs_file_close(f);
	return ret;
}

static ssize_t puts_(struct sysfs_tree *t, const char *path, const char *s)
{
	return put(t, path, s, strlen(s));
}

/* The whole contents, NUL-terminated: the length or -errno. */
static ssize_t get(struct sysfs_tree *t, const char *path, char *buf, size_t size)
{
	struct sysfs_file *f;
	size_t len = 0;
	ssize_t ret = sysfs_file_open(t, path, O_RDONLY, &f);

	if (ret)
		return ret;
	for (;;) {
		ret = sysfs_file_read(f, buf + len, size - 1 - len, len);
		if (ret <= 0)
			break;
		len += (size_t)ret;
	}
	sysfs_file_close(f);
	buf[len] = '\0';
	return ret < 0 ? ret : (ssize_t)len;
}

static uint64_t ino_of(struct sysfs_tree *t, const char *path)
{
	struct stat st;

	return sysfs_getattr(t, path, &st) ? 0 : st.st_ino;
}

static bool exists(struct sysfs_tree *t, const char *path)
{
	struct stat st;

	return !sysfs_getattr(t, path, &st);
}

static bool link_is(struct sysfs_tree *t, const char *path, const char *want)
{
	char buf[SYSFS_PATH_MAX];
	int ret = sysfs_readlink(t, path, buf, sizeof(buf));

	if (ret) {
		tap_diag("readlink %s: %s", path, strerror(-ret));
		return false;
	}
	if (strcmp(buf, want))
		tap_diag("readlink %s: \"%s\", want \"%s\"", path, buf, want);
	return !strcmp(buf, want);
}

static void mk_uuid(unsigned int n, char out[UUID_STRING_LEN + 1])
{
	snprintf(out, UUID_STRING_LEN + 1, "5f5f5f5f-0000-4000-8000-%012x", n);
}

static ssize_t create_on(struct sysfs_tree *t, const char *type_dir, const char *uuid)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/create", type_dir);
	return puts_(t, path, uuid);
}

/* Writes "1" to the remove file of a device of the parent at @pdir. The resolver sees the
 * paths the kernel would send it: through no link (bus/mdev/devices/<uuid> is one). */
static ssize_t remove_dev(struct sysfs_tree *t, const char *pdir, const char *uuid)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s/remove", pdir, uuid);
	return puts_(t, path, "1");
}

/* ---- the whole tree ---- */

struct walk_state {
	struct sysfs_tree *t;
	bool seen[SK_NR_KINDS];
	unsigned int nodes;
	unsigned int failures;
};

struct entry {
	char name[SYSFS_NAME_MAX + 1];
	struct stat st;
};

struct entries {
	struct entry *e;
	size_t n, cap;
};

static int collect(void *ctx, const char *name, const struct stat *st)
{
	struct entries *es = ctx;

	if (es->n == es->cap) {
		size_t ncap = es->cap ? es->cap * 2 : 32;
		struct entry *ne = realloc(es->e, ncap * sizeof(*ne));

		if (!ne)
			return 1;
		es->e = ne;
		es->cap = ncap;
	}
	snprintf(es->e[es->n].name, sizeof(es->e[es->n].name), "%s", name);
	es->e[es->n].st = *st;
	es->n++;
	return 0;
}

/* "@dir/@rel" with ".." taken away, into @out; false if it climbs above the root. */
static bool resolve_rel(const char *dir, const char *rel, char *out, size_t size)
{
	char buf[SYSFS_PATH_MAX * 2];
	char *comps[256], *save = NULL;
	unsigned int n = 0;

	snprintf(buf, sizeof(buf), "%s/%s", dir, rel);
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, ".."))
			if (n)
				n--;
			else
				return false;
		else if (n < 256)
			comps[n++] = c;
	}
	out[0] = '\0';
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "/" : "", comps[i]);
	return true;
}

static void walk(struct walk_state *s, const char *dir, unsigned int depth)
{
	struct entries es = { 0 };
	unsigned int ndirs = 0;
	struct stat dst;

	if (depth > 12 || sysfs_readdir(s->t, dir, collect, &es)) {
		s->failures++;
		tap_diag("readdir %s failed", dir);
		free(es.e);
		return;
	}
	for (size_t i = 0; i < es.n; i++) {
		char path[SYSFS_PATH_MAX], target[SYSFS_PATH_MAX];
		struct sysfs_node *node;
		const struct stat *st = &es.e[i].st;

		snprintf(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "", es.e[i].name);
		s->nodes++;
		if (sysfs_lookup(s->t, path, &node)) {
			s->failures++;
			tap_diag("listed but not found: %s", path);
			continue;
		}
		s->seen[node->kind] = true;
		if (node->ino != st->st_ino || (st->st_mode & 07777) != sysfs_node_mode(node)) {
			s->failures++;
			tap_diag("%s: lookup and readdir disagree", path);
		}
		if (S_ISDIR(st->st_mode)) {
			ndirs++;
			walk(s, path, depth + 1);
		} else if (S_ISLNK(st->st_mode)) {
			if (!resolve_rel(dir, node->target, target, sizeof(target)) ||
			    !exists(s->t, target)) {
				s->failures++;
				tap_diag("%s -> %s: dangling", path, node->target);
			}
		} else if (st->st_size != SYSFS_PAGE_SIZE) {
			s->failures++;
			tap_diag("%s: st_size %lld", path, (long long)st->st_size);
		}
		sysfs_node_free(node);
	}
	if (sysfs_getattr(s->t, dir, &dst) || dst.st_nlink != 2 + ndirs) {
		s->failures++;
		tap_diag("%s: nlink %u, %u subdirectories", dir, (unsigned int)dst.st_nlink, ndirs);
	}
	free(es.e);
}

TEST(every_kind_listed_and_found)
{
	struct walk_state s = { 0 };
	struct test_parent pci;
	struct env e;

	REQUIRE(env_up(&e, FX_NULL | FX_MTTY));
	s.t = e.t;
	tp_init(&pci, "0000:00:04.0", NULL, 1, NULL, false, false); /* a parent on a bus */
	pci.dev.bus_name = "pci";
	REQUIRE_EQ(tp_register(&pci), 0);
	CHECK_EQ(create_on(e.t, MTTY_TYPES "/mtty-2", GT_UUID), UUID_STRING_LEN);
	CHECK_EQ(create_on(e.t, NULL_TYPES "/null-1", "5f5f5f5f-0000-4000-8000-00000000000a"),
		 UUID_STRING_LEN);
	walk(&s, "", 0);
	CHECK_EQ(s.failures, 0);
	CHECK(s.nodes > 80);
	for (int k = 0; k < SK_NR_KINDS; k++)
		if (k != SK_ROOT && !CHECK(s.seen[k]))
			tap_diag("kind %d not seen", k);
	CHECK_EQ(ino_of(e.t, ""), SYSFS_ROOT_INO);
	CHECK_EQ(ino_of(e.t, "/"), SYSFS_ROOT_INO);
	CHECK(link_is(e.t, "devices/0000:00:04.0/subsystem", "../../bus/pci"));
	CHECK(link_is(e.t, "bus/pci/devices/0000:00:04.0", "../../../devices/0000:00:04.0"));
	CHECK_EQ(remove_dev(e.t, MTTY_DIR, GT_UUID), 1);
	CHECK_EQ(remove_dev(e.t, NULL_DIR, "5f5f5f5f-0000-4000-8000-00000000000a"), 1);
	tp_unregister(&pci);
	tp_fini(&pci);
	env_down(&e);
}

/* ---- the ground truth's layout ---- */

struct want {
	const char *path;
	char type; /* d, f, l */
	mode_t mode;
	const char *target;
};

static bool check_want(struct sysfs_tree *t, const struct want *w)
{
	struct sysfs_node *node;
	bool ok = true;

	if (sysfs_lookup(t, w->path, &node)) {
		tap_diag("missing: %s", w->path);
		return false;
	}
	switch (w->type) {
	case 'd':
		ok = sysfs_node_type(node) == SYSFS_DIR && sysfs_node_mode(node) == 0755;
		break;
	case 'f':
		ok = sysfs_node_type(node) == SYSFS_FILE && sysfs_node_mode(node) == w->mode;
		break;
	case 'l':
		ok = sysfs_node_type(node) == SYSFS_LINK && !strcmp(sysfs_node_target(node), w->target);
		break;
	}
	if (!ok)
		tap_diag("wrong: %s (mode %o, target %s)", w->path, (unsigned int)sysfs_node_mode(node),
			 sysfs_node_target(node) ? sysfs_node_target(node) : "-");
	sysfs_node_free(node);
	return ok;
}

#define D(p) { p, 'd', 0755, NULL }
#define F(p, m) { p, 'f', m, NULL }
#define L(p, t) { p, 'l', 0777, t }
#define DEV MTTY_DIR "/" GT_UUID

static const struct want ground_truth[] = {
	L("class/mdev_bus/mtty", "../../devices/virtual/mtty/mtty"),
	L("class/mtty/mtty", "../../devices/virtual/mtty/mtty"),
	D(MTTY_DIR), D(MTTY_DIR "/power"), D(MTTY_TYPES),
	L(MTTY_DIR "/subsystem", "../../../../class/mtty"),
	F(MTTY_DIR "/uevent", 0644),
	D(MTTY_DIR "/mtty_dev"), F(MTTY_DIR "/mtty_dev/sample_mtty_dev", 0444),
	D(MTTY_TYPES "/mtty-1"), D(MTTY_TYPES "/mtty-2"),
	F(MTTY_TYPES "/mtty-1/available_instances", 0444),
	F(MTTY_TYPES "/mtty-1/create", 0200),
	F(MTTY_TYPES "/mtty-1/device_api", 0444),
	D(MTTY_TYPES "/mtty-1/devices"),
	F(MTTY_TYPES "/mtty-1/name", 0444),
	L(MTTY_TYPES "/mtty-2/devices/" GT_UUID, "../../../" GT_UUID),
	L("bus/mdev/devices/" GT_UUID, "../../../devices/virtual/mtty/mtty/" GT_UUID),
	L("bus/mdev/drivers/mtty/" GT_UUID, "../../../../devices/virtual/mtty/mtty/" GT_UUID),
	F("bus/mdev/drivers/mtty/uevent", 0200),
	D(DEV),
	L(DEV "/driver", "../../../../../bus/mdev/drivers/mtty"),
	L(DEV "/iommu_group", "../../../../../kernel/iommu_groups/0"),
	L(DEV "/mdev_type", "../mdev_supported_types/mtty-2"),
	D(DEV "/power"),
	F(DEV "/remove", 0200),
	L(DEV "/subsystem", "../../../../../bus/mdev"),
	F(DEV "/uevent", 0644),
	D(DEV "/vendor"),
	F(DEV "/vendor/sample_mdev_dev", 0444),
	D(DEV "/vfio-dev"),
	D(DEV "/vfio-dev/vfio0"),
	L(DEV "/vfio-dev/vfio0/device", "../../../" GT_UUID),
	L(DEV "/vfio-dev/vfio0/subsystem", "../../../../../../../class/vfio-dev"),
	L("class/vfio-dev/vfio0", "../../devices/virtual/mtty/mtty/" GT_UUID "/vfio-dev/vfio0"),
	D("kernel/iommu_groups/0"),
	F("kernel/iommu_groups/0/name", 0444),
	L("kernel/iommu_groups/0/devices/" GT_UUID,
	  "../../../../devices/virtual/mtty/mtty/" GT_UUID),
};

TEST(ground_truth_layout)
{
	char buf[256];
	struct stat st;
	struct env e;

	REQUIRE(env_up(&e, FX_MTTY));
	CHECK_EQ(get(e.t, MTTY_TYPES "/mtty-1/available_instances", buf, sizeof(buf)), 3);
	CHECK_STR(buf, "24\n");
	REQUIRE_EQ(create_on(e.t, MTTY_TYPES "/mtty-2", GT_UUID), UUID_STRING_LEN);
	for (size_t i = 0; i < sizeof(ground_truth) / sizeof(ground_truth[0]); i++)
		CHECK(check_want(e.t, &ground_truth[i]));
	CHECK(!sysfs_getattr(e.t, DEV, &st) && st.st_nlink == 5);
	CHECK(!sysfs_getattr(e.t, MTTY_TYPES, &st) && st.st_nlink == 4);
	CHECK(!sysfs_getattr(e.t, MTTY_TYPES "/mtty-1", &st) && st.st_nlink == 3);
	CHECK(!sysfs_getattr(e.t, "bus/mdev", &st) && st.st_nlink == 4);
	CHECK_EQ(get(e.t, DEV "/uevent", buf, sizeof(buf)), 12);
	CHECK_STR(buf, "DRIVER=mtty\n");
	CHECK(get(e.t, MTTY_DIR "/uevent", buf, sizeof(buf)) == 0);
	get(e.t, DEV "/vendor/sample_mdev_dev", buf, sizeof(buf));
	CHECK_STR(buf, "This is MDEV " GT_UUID "\n");
	get(e.t, "kernel/iommu_groups/0/name", buf, sizeof(buf));
	CHECK_STR(buf, "vfio-noiommu\n");
	get(e.t, MTTY_TYPES "/mtty-1/available_instances", buf, sizeof(buf));
	CHECK_STR(buf, "22\n");
	get(e.t, MTTY_TYPES "/mtty-2/available_instances", buf, sizeof(buf));
	CHECK_STR(buf, "11\n");
	CHECK_EQ(remove_dev(e.t, MTTY_DIR, GT_UUID), 1);
	CHECK(!exists(e.t, DEV));
	env_down(&e);
}

/* ---- inode numbers ---- */

static const char *const stable_paths[] = {
	"class", "class/mdev_bus", "class/mdev_bus/mtty", MTTY_DIR, MTTY_TYPES "/mtty-2/create",
	MTTY_TYPES "/mtty-1/name", "bus/mdev/devices", "kernel/iommu_groups",
};
#define NSTABLE (sizeof(stable_paths) / sizeof(stable_paths[0]))

TEST(inode_numbers_stable_and_never_reused)
{
	char a[UUID_STRING_LEN + 1], b[UUID_STRING_LEN + 1], path[256];
	uint64_t before[NSTABLE], dev_ino, remove_ino, group_ino;
	struct env e;

	REQUIRE(env_up(&e, FX_MTTY));
	mk_uuid(1, a);
	mk_uuid(2, b);
	for (size_t i = 0; i < NSTABLE; i++) {
		before[i] = ino_of(e.t, stable_paths[i]);
		CHECK(before[i] > SYSFS_ROOT_INO);
		CHECK_EQ(ino_of(e.t, stable_paths[i]), before[i]); /* again */
	}
	CHECK_EQ(create_on(e.t, MTTY_TYPES "/mtty-1", a), UUID_STRING_LEN);
	snprintf(path, sizeof(path), MTTY_DIR "/%s", a);
	dev_ino = ino_of(e.t, path);
	snprintf(path, sizeof(path), MTTY_DIR "/%s/remove", a);
	remove_ino = ino_of(e.t, path);
	group_ino = ino_of(e.t, "kernel/iommu_groups/0");
	CHECK(dev_ino && remove_ino && group_ino);

	/* other devices come and go: nothing moves */
	for (int round = 0; round < 3; round++) {
		CHECK_EQ(create_on(e.t, MTTY_TYPES "/mtty-2", b), UUID_STRING_LEN);
		CHECK_EQ(remove_dev(e.t, MTTY_DIR, b), 1);
	}
	for (size_t i = 0; i < NSTABLE; i++)
		CHECK_EQ(ino_of(e.t, stable_paths[i]), before[i]);
	snprintf(path, sizeof(path), MTTY_DIR "/%s", a);
	CHECK_EQ(ino_of(e.t, path), dev_ino);
	snprintf(path, sizeof(path), MTTY_DIR "/%s/remove", a);
	CHECK_EQ(ino_of(e.t, path), remove_ino);
	CHECK_EQ(ino_of(e.t, "kernel/iommu_groups/0"), group_ino);

	/* the same UUID again is another object: new numbers, above every old one */
	CHECK_EQ(remove_dev(e.t, MTTY_DIR, a), 1);
	CHECK_EQ(create_on(e.t, MTTY_TYPES "/mtty-1", a), UUID_STRING_LEN);
	snprintf(path, sizeof(path), MTTY_DIR "/%s", a);
	CHECK(ino_of(e.t, path) > remove_ino && ino_of(e.t, path) != dev_ino);
	snprintf(path, sizeof(path), MTTY_DIR "/%s/remove", a);
	CHECK(ino_of(e.t, path) != remove_ino);
	CHECK(ino_of(e.t, "kernel/iommu_groups/0") != group_ino);
	CHECK_EQ(remove_dev(e.t, MTTY_DIR, a), 1);
	env_down(&e);
}

TEST(device_numbers_lowest_free)
{
	char u[4][UUID_STRING_LEN + 1], path[256];
	struct env e;

	REQUIRE(env_up(&e, FX_MTTY));
	for (unsigned int i = 0; i < 4; i++)
		mk_uuid(10 + i, u[i]);
	for (unsigned int i = 0; i < 3; i++)
		CHECK_EQ(create_on(e.t, MTTY_TYPES "/mtty-1", u[i]), UUID_STRING_LEN);
	for (unsigned int i = 0; i < 3; i++) {
		char want[64];

		snprintf(path, sizeof(path), MTTY_DIR "/%s/iommu_group", u[i]);
		snprintf(want, sizeof(want), "../../../../../kernel/iommu_groups/%u", i);
		CHECK(link_is(e.t, path, want));
	}
	CHECK_EQ(remove_dev(e.t, MTTY_DIR, u[1]), 1);
	CHECK(!exists(e.t, "kernel/iommu_groups/1"));
	CHECK(!exists(e.t, "class/vfio-dev/vfio1"));
	CHECK_EQ(create_on(e.t, MTTY_TYPES "/mtty-1", u[3]), UUID_STRING_LEN);
	snprintf(path, sizeof(path), "kernel/iommu_groups/1/devices/%s", u[3]);
	CHECK(exists(e.t, path));
	snprintf(path, sizeof(path), MTTY_DIR "/%s/vfio-dev/vfio1", u[3]);
	CHECK(exists(e.t, path));
	CHECK(exists(e.t, "class/vfio-dev/vfio1"));
	CHECK(!exists(e.t, "kernel/iommu_groups/01"));
	CHECK(!exists(e.t, "kernel/iommu_groups/3"));
	for (unsigned int i = 0; i < 4; i++)
		if (i != 1)
			CHECK_EQ(remove_dev(e.t, MTTY_DIR, u[i]), 1);
	CHECK(!exists(e.t, "kernel/iommu_groups/0"));
	env_down(&e);
}

/* ---- lookups ---- */

TEST(lookup_errors)
{
	char buf[SYSFS_PATH_MAX + 64], upper[UUID_STRING_LEN + 1];
	struct sysfs_node *node;
	struct env e;

	REQUIRE(env_up(&e, FX_MTTY));
	CHECK_EQ(sysfs_lookup(e.t, "//class", &node), -ENOENT);
	CHECK_EQ(sysfs_lookup(e.t, "class/.", &node), -ENOENT);
	CHECK_EQ(sysfs_lookup(e.t, "class/..", &node), -ENOENT);
	CHECK_EQ(sysfs_lookup(e.t, "nothing", &node), -ENOENT);
	CHECK_EQ(sysfs_lookup(e.t, "class/mdev_bus/mtty/mdev_supported_types", &node), -ENOTDIR);
	CHECK_EQ(sysfs_lookup(e.t, MTTY_TYPES "/mtty-1/name/", &node), -ENOTDIR);
	CHECK_EQ(sysfs_lookup(e.t, MTTY_TYPES "/mtty-1/name/x", &node), -ENOTDIR);
	REQUIRE_EQ(sysfs_lookup(e.t, MTTY_TYPES "/", &node), 0);
	sysfs_node_free(node);
	memset(buf, 'a', 300);
	buf[300] = '\0';
	CHECK_EQ(sysfs_lookup(e.t, buf, &node), -ENAMETOOLONG);
	for (size_t i = 0; i < sizeof(buf) - 1; i++)
		buf[i] = i % 2 ? '/' : 'a';
	buf[sizeof(buf) - 1] = '\0';
	CHECK_EQ(sysfs_lookup(e.t, buf, &node), -ENAMETOOLONG);
	CHECK_EQ(sysfs_readlink(e.t, MTTY_DIR, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(sysfs_readlink(e.t, "class/mdev_bus/mtty", buf, 8), -ENAMETOOLONG);
	CHECK_EQ(sysfs_readdir(e.t, MTTY_DIR "/uevent", collect, NULL), -ENOTDIR);
	CHECK_EQ(sysfs_truncate(e.t, MTTY_DIR), -EISDIR);
	CHECK_EQ(sysfs_truncate(e.t, MTTY_TYPES "/mtty-1/create"), 0);

	/* a device is named in lower case only; types and parents exactly */
	CHECK_EQ(create_on(e.t, MTTY_TYPES "/mtty-1", GT_UUID), UUID_STRING_LEN);
	for (size_t i = 0; i <= UUID_STRING_LEN; i++)
		upper[i] = (char)(GT_UUID[i] >= 'a' && GT_UUID[i] <= 'f' ? GT_UUID[i] - 32 : GT_UUID[i]);
	snprintf(buf, sizeof(buf), "bus/mdev/devices/%s", upper);
	CHECK_EQ(sysfs_lookup(e.t, buf, &node), -ENOENT);
	CHECK_EQ(sysfs_lookup(e.t, MTTY_TYPES "/MTTY-1", &node), -ENOENT);
	CHECK_EQ(sysfs_lookup(e.t, "kernel/iommu_groups/00", &node), -ENOENT);
	CHECK_EQ(sysfs_lookup(e.t, "class/vfio-dev/vfio00", &node), -ENOENT);
	CHECK_EQ(remove_dev(e.t, MTTY_DIR, GT_UUID), 1);
	env_down(&e);
}

/* ---- attribute files ---- */

TEST(file_modes)
{
	struct sysfs_file *f;
	struct env e;

	REQUIRE(env_up(&e, FX_MTTY));
	CHECK_EQ(sysfs_file_open(e.t, MTTY_TYPES "/mtty-1/create", O_RDONLY, &f), -EACCES);
	CHECK_EQ(sysfs_file_open(e.t, MTTY_TYPES "/mtty-1/create", O_RDWR, &f), -EACCES);
	CHECK_EQ(sysfs_file_open(e.t, MTTY_TYPES "/mtty-1/name", O_WRONLY, &f), -EACCES);
	CHECK_EQ(sysfs_file_open(e.t, MTTY_TYPES "/mtty-1/name", O_RDWR, &f), -EACCES);
	CHECK_EQ(sysfs_file_open(e.t, "bus/mdev/drivers/mtty/uevent", O_RDONLY, &f), -EACCES);
	CHECK_EQ(sysfs_file_open(e.t, MTTY_TYPES, O_RDONLY, &f), -EISDIR);
	CHECK_EQ(sysfs_file_open(e.t, "class/mdev_bus/mtty", O_RDONLY, &f), -ELOOP);
	REQUIRE_EQ(sysfs_file_open(e.t, MTTY_DIR "/uevent", O_RDWR, &f), 0);
	sysfs_file_close(f);
	REQUIRE_EQ(sysfs_file_open(e.t, MTTY_TYPES "/mtty-1/create",
				   O_WRONLY | O_TRUNC | O_CREAT | O_APPEND, &f), 0);
	sysfs_file_close(f);
	env_down(&e);
}

TEST(file_snapshot_per_open)
{
	char buf[64], u[UUID_STRING_LEN + 1];
	struct sysfs_file *f;
	struct env e;

	REQUIRE(env_up(&e, FX_MTTY));
	mk_uuid(20, u);
	REQUIRE_EQ(sysfs_file_open(e.t, MTTY_TYPES "/mtty-1/available_instances", O_RDONLY, &f), 0);
	CHECK_EQ(sysfs_file_read(f, buf, 1, 0), 1);
	CHECK_EQ(buf[0], '2');
	CHECK_EQ(create_on(e.t, MTTY_TYPES "/mtty-2", u), UUID_STRING_LEN);
	/* reading on continues the snapshot: "24\n" */
	CHECK_EQ(sysfs_file_read(f, buf, sizeof(buf), 1), 2);
	CHECK(!memcmp(buf, "4\n", 2));
	CHECK_EQ(sysfs_file_read(f, buf, sizeof(buf), 3), 0);
	CHECK_EQ(sysfs_file_read(f, buf, sizeof(buf), 1000), 0);
	/* offset 0 renders anew */
	CHECK_EQ(sysfs_file_read(f, buf, sizeof(buf), 0), 3);
	CHECK(!memcmp(buf, "22\n", 3));
	sysfs_file_close(f);
	CHECK_EQ(remove_dev(e.t, MTTY_DIR, u), 1);
	env_down(&e);
}

TEST(file_stores)
{
	char big[8192], u[UUID_STRING_LEN + 1], v[UUID_STRING_LEN + 1], path[256];
	struct sysfs_file *f, *g;
	struct env e;

	REQUIRE(env_up(&e, FX_MTTY));
	mk_uuid(30, u);
	mk_uuid(31, v);
	REQUIRE_EQ(sysfs_file_open(e.t, MTTY_TYPES "/mtty-1/create", O_WRONLY, &f), 0);
	CHECK_EQ(sysfs_file_write(f, u, 0, 0), 0);
	/* more than a page: cut to a page, which is not 36 or 37 bytes */
	memset(big, 'a', sizeof(big));
	CHECK_EQ(sysfs_file_write(f, big, sizeof(big), 0), -EINVAL);
	/* each write is its own store, at any offset */
	CHECK_EQ(sysfs_file_write(f, u, UUID_STRING_LEN, 0), UUID_STRING_LEN);
	CHECK_EQ(sysfs_file_write(f, v, UUID_STRING_LEN, 4242), UUID_STRING_LEN);
	CHECK_EQ(sysfs_file_write(f, u, UUID_STRING_LEN, 0), -EEXIST);
	sysfs_file_close(f);

	/* remove: a first page that parses removes, and the write is short */
	snprintf(path, sizeof(path), MTTY_DIR "/%s/remove", u);
	REQUIRE_EQ(sysfs_file_open(e.t, path, O_WRONLY, &f), 0);
	REQUIRE_EQ(sysfs_file_open(e.t, path, O_WRONLY, &g), 0);
	CHECK_EQ(sysfs_file_write(f, "0", 1, 0), 1);
	memset(big, 0, sizeof(big));
	big[0] = '1';
	CHECK_EQ(sysfs_file_write(f, big, sizeof(big), 0), SYSFS_PAGE_SIZE);
	snprintf(path, sizeof(path), MTTY_DIR "/%s", u);
	CHECK(!exists(e.t, path));
	/* the object is gone: its open files fail, also once the UUID is back */
	CHECK_EQ(sysfs_file_write(f, "1", 1, 0), -ENODEV);
	CHECK_EQ(create_on(e.t, MTTY_TYPES "/mtty-1", u), UUID_STRING_LEN);
	CHECK_EQ(sysfs_file_write(g, "1", 1, 0), -ENODEV);
	CHECK(exists(e.t, path));
	sysfs_file_close(f);
	sysfs_file_close(g);
	CHECK_EQ(remove_dev(e.t, MTTY_DIR, u), 1);
	CHECK_EQ(remove_dev(e.t, MTTY_DIR, v), 1);
	env_down(&e);
}

TEST(uevent_files)
{
	char buf[64], path[256], u[UUID_STRING_LEN + 1];
	struct env e;

	REQUIRE(env_up(&e, FX_NULL));
	mk_uuid(40, u);
	CHECK_EQ(create_on(e.t, NULL_TYPES "/null-1", u), UUID_STRING_LEN);
	snprintf(path, sizeof(path), NULL_DIR "/%s/uevent", u);
	get(e.t, path, buf, sizeof(buf));
	CHECK_STR(buf, "DRIVER=vfio_mdev\n");
	CHECK_EQ(puts_(e.t, path, "add"), 3);
	CHECK_EQ(puts_(e.t, path, "change\n"), 7);
	CHECK_EQ(puts_(e.t, path, "change " GT_UUID " A=1 B_2=x"),
		 (ssize_t)strlen("change " GT_UUID " A=1 B_2=x"));
	CHECK_EQ(puts_(e.t, path, "bogus"), -EINVAL);
	CHECK_EQ(puts_(e.t, path, ""), 0);
	CHECK_EQ(puts_(e.t, path, "\n"), -EINVAL);
	CHECK_EQ(puts_(e.t, path, "add nouuid"), -EINVAL);
	CHECK_EQ(puts_(e.t, path, "add " GT_UUID " =x"), -EINVAL);
	CHECK_EQ(puts_(e.t, "bus/mdev/drivers/vfio_mdev/uevent", "add"), 3);
	snprintf(path, sizeof(path), "bus/mdev/drivers/vfio_mdev/%s", u);
	CHECK(exists(e.t, path));
	get(e.t, NULL_DIR "/null_dev/description", buf, sizeof(buf));
	CHECK_STR(buf, "umdev null parent device\n");
	CHECK_EQ(remove_dev(e.t, NULL_DIR, u), 1);
	env_down(&e);
}

/* ---- a remove in flight: the second writer gets the core's EAGAIN ---- */

struct remover {
	struct sysfs_file *f;
	ssize_t ret;
};

static void *remover_main(void *arg)
{
	struct remover *r = arg;

	r->ret = sysfs_file_write(r->f, "1", 1, 0);
	return NULL;
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

TEST(remove_in_flight_eagain)
{
	char path[256], u[UUID_STRING_LEN + 1];
	struct remover r = { 0 };
	struct vfio_device *vdev;
	struct sysfs_file *g;
	pthread_t th;
	struct env e;

	REQUIRE(env_up(&e, FX_MTTY));
	mk_uuid(50, u);
	REQUIRE_EQ(create_on(e.t, MTTY_TYPES "/mtty-1", u), UUID_STRING_LEN);
	REQUIRE_EQ(vfio_device_get_from_name(u, &vdev), 0);
	REQUIRE_EQ(vfio_device_open(vdev, NULL), 0); /* the removal waits for this client */
	snprintf(path, sizeof(path), MTTY_DIR "/%s/remove", u);
	REQUIRE_EQ(sysfs_file_open(e.t, path, O_WRONLY, &r.f), 0);
	REQUIRE_EQ(sysfs_file_open(e.t, path, O_WRONLY, &g), 0);
	REQUIRE_EQ(pthread_create(&th, NULL, remover_main, &r), 0);
	CHECK(wait_inactive(u));
	/* no longer in the tree, but the open file reaches it */
	CHECK(!exists(e.t, path));
	CHECK_EQ(sysfs_file_write(g, "1", 1, 0), -EAGAIN);
	vfio_device_close(vdev);
	vfio_put_device(vdev);
	pthread_join(th, NULL);
	CHECK_EQ(r.ret, 1);
	CHECK_EQ(sysfs_file_write(g, "1", 1, 0), -ENODEV);
	sysfs_file_close(r.f);
	sysfs_file_close(g);
	env_down(&e);
}

/* ---- parents below other devices, on a bus ---- */

TEST(nested_parents)
{
	struct test_parent pci, cls;
	struct device root;
	char path[256];
	struct env e;

	REQUIRE(env_up(&e, 0));
	memset(&root, 0, sizeof(root));
	device_initialize(&root);
	REQUIRE_EQ(dev_set_name(&root, "pci0000:00"), 0);
	tp_init(&pci, "0000:00:02.0", NULL, 1, NULL, false, false);
	pci.dev.parent = &root;
	pci.dev.bus_name = "pci";
	tp_init(&cls, "mtest0", "mtest", 1, NULL, false, false);
	cls.dev.parent = &root;
	REQUIRE_EQ(tp_register(&pci), 0);
	REQUIRE_EQ(tp_register(&cls), 0);

	CHECK(link_is(e.t, "class/mdev_bus/0000:00:02.0", "../../devices/pci0000:00/0000:00:02.0"));
	CHECK(link_is(e.t, "class/mdev_bus/mtest0", "../../devices/pci0000:00/mtest/mtest0"));
	CHECK(link_is(e.t, "class/mtest/mtest0", "../../devices/pci0000:00/mtest/mtest0"));
	CHECK(link_is(e.t, "devices/pci0000:00/0000:00:02.0/subsystem", "../../../bus/pci"));
	CHECK(link_is(e.t, "devices/pci0000:00/mtest/mtest0/subsystem", "../../../../class/mtest"));
	CHECK(exists(e.t, "devices/pci0000:00/0000:00:02.0/mdev_supported_types/pci-1/create"));
	CHECK(exists(e.t, "devices/pci0000:00/mtest/mtest0/mdev_supported_types/mtest-1/create"));
	CHECK(!exists(e.t, "devices/virtual"));
	CHECK(!exists(e.t, "class/pci"));
	CHECK(link_is(e.t, "bus/pci/devices/0000:00:02.0", "../../../devices/pci0000:00/0000:00:02.0"));
	CHECK(!exists(e.t, "bus/pci/devices/mtest0"));
	CHECK_EQ(puts_(e.t, "devices/pci0000:00/0000:00:02.0/mdev_supported_types/pci-1/create",
		       GT_UUID), UUID_STRING_LEN);
	CHECK(link_is(e.t, "bus/mdev/devices/" GT_UUID,
		      "../../../devices/pci0000:00/0000:00:02.0/" GT_UUID));
	snprintf(path, sizeof(path), "devices/pci0000:00/0000:00:02.0/%s/driver", GT_UUID);
	CHECK(link_is(e.t, path, "../../../../bus/mdev/drivers/vfio_mdev"));
	CHECK_EQ(remove_dev(e.t, "devices/pci0000:00/0000:00:02.0", GT_UUID), 1);
	{
		struct walk_state s = { .t = e.t };

		walk(&s, "", 0);
		CHECK_EQ(s.failures, 0);
	}
	tp_unregister(&cls);
	tp_unregister(&pci);
	CHECK(!exists(e.t, "devices/pci0000:00"));
	tp_fini(&cls);
	tp_fini(&pci);
	put_device(&root);
	env_down(&e);
}

/* ---- a parent that goes and comes back is another object ---- */

TEST(parent_reregistered)
{
	uint64_t link_ino, type_ino;
	struct env e;

	REQUIRE(env_up(&e, FX_MTTY));
	link_ino = ino_of(e.t, "class/mdev_bus/mtty");
	type_ino = ino_of(e.t, MTTY_TYPES "/mtty-1/create");
	CHECK(link_ino && type_ino);
	CHECK_EQ(create_on(e.t, MTTY_TYPES "/mtty-1", GT_UUID), UUID_STRING_LEN);
	umdev_builtin_mtty.exit(); /* removes the device, then the parent */
	CHECK(!exists(e.t, "class/mdev_bus/mtty"));
	CHECK(!exists(e.t, "bus/mdev/devices/" GT_UUID));
	CHECK(!exists(e.t, "class/mtty"));
	REQUIRE_EQ(umdev_builtin_mtty.init(), 0);
	CHECK(ino_of(e.t, "class/mdev_bus/mtty") != link_ino);
	CHECK(ino_of(e.t, MTTY_TYPES "/mtty-1/create") != type_ino);
	env_down(&e);
}

int main(int argc, char **argv)
{
	fx_log_init();
	return tap_main(argc, argv);
}
