/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of the sysfs resolver share.
 *
 * Every node has a kind (the table in sysfs_kinds.c says, per kind, whether it is a
 * directory, a file or a link, how a directory lists its children and how a file shows
 * and stores) and an object: the parent, type, mediated device, attribute group and
 * attribute it stands for. A directory's children come from one list function per kind,
 * which emits each child through sysfs_walk_emit(); the same function serves readdir (all
 * children), lookup (the one child named `want`) and nlink (counting the subdirectories),
 * so that what lookup finds and what readdir shows cannot disagree.
 *
 * Only the public API of libumdev (<umdev/mdev_manage.h> and friends) is used, so that
 * umdevd, which links the shared libumdev, can link this code.
 *
 * Locking: tree->lock guards the device and parent records and the inode table
 * (sysfs_tree.c, sysfs_ino.c). It is never held across a call into the mdev core, except
 * mdev_device_is_active() and mdev_parent_is_registered(), which take only core locks that
 * nothing holds while calling back into us.
 */
#ifndef UMDEV_MGMT_SYSFS_PRIVATE_H
#define UMDEV_MGMT_SYSFS_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <umdev/device.h>
#include <umdev/mdev.h>
#include <umdev/mdev_manage.h>
#include <umdev/notifier.h>

#include "mgmt/sysfs/sysfs_tree.h"
#include "util/hmap.h"

/* How deep a parent's device path may be (ancestors), and the longest name in it. */
#define SYSFS_MAX_DEPTH 16
#define SYSFS_NAME_MAX 255

/*
 * The bus driver the core registers at start (src/mdev/vfio_mdev.c). The public API cannot
 * list bus drivers, so bus/mdev/drivers/ shows this one, the drivers parents name in
 * mdev_parent_ops.device_driver, and those bound to devices (see sysfs_dirs_top.c).
 */
#define SYSFS_DEFAULT_BUS_DRIVER "vfio_mdev"
/* The name every iommu group has (kernel/iommu_groups/<N>/name), as vfio's emulated one. */
#define SYSFS_IOMMU_GROUP_NAME "vfio-noiommu"

enum sysfs_kind {
	/* directories */
	SK_ROOT,
	SK_CLASS,
	SK_CLASS_MDEV_BUS,
	SK_CLASS_DIR,		/* class/<C>: str = C */
	SK_CLASS_VFIO,		/* class/vfio-dev */
	SK_BUS,
	SK_BUS_MDEV,
	SK_BUS_DEVICES,
	SK_BUS_DRIVERS,
	SK_BUS_DRIVER,		/* bus/mdev/drivers/<drv>: str = drv */
	SK_BUS_DIR,		/* bus/<B> of a parent on bus B: str = B */
	SK_BUS_DIR_DEVICES,	/* bus/<B>/devices: str = B */
	SK_KERNEL,
	SK_IOMMU_GROUPS,
	SK_IOMMU_GROUP,		/* kernel/iommu_groups/<num>: mdev */
	SK_IOMMU_GROUP_DEVICES,
	SK_DEVPREFIX,		/* devices/ and the directories above parents: str = path */
	SK_PARENT,		/* devices/<parent path>: parent */
	SK_POWER,		/* an empty power/ */
	SK_PARENT_GROUP,	/* a named group of dev_attr_groups: parent, group */
	SK_TYPES,		/* <parent>/mdev_supported_types: parent */
	SK_TYPE,		/* .../<type>: parent, type */
	SK_TYPE_DEVICES,	/* .../<type>/devices: parent, type */
	SK_MDEV,		/* <parent>/<uuid>: parent, mdev, num */
	SK_MDEV_GROUP,		/* a named group of mdev_attr_groups: + group */
	SK_VFIO_DEV,		/* <uuid>/vfio-dev */
	SK_VFIO_DEV_N,		/* <uuid>/vfio-dev/vfio<num> */
	/* attribute files */
	SK_CREATE,		/* type: parent, type */
	SK_REMOVE,		/* mdev */
	SK_TYPE_ATTR,		/* a vendor type attribute: parent, type, attr */
	SK_PARENT_ATTR,		/* a vendor attribute of the parent device: parent, attr */
	SK_MDEV_ATTR,		/* a vendor attribute of a mediated device: mdev, attr */
	SK_PARENT_UEVENT,
	SK_MDEV_UEVENT,
	SK_EMPTY_UEVENT,	/* 0644, shows nothing (vfio-dev/vfio<N>/uevent) */
	SK_DRIVER_UEVENT,	/* 0200 (bus/mdev/drivers/<drv>/uevent) */
	SK_GROUP_NAME,		/* kernel/iommu_groups/<N>/name */
	/* symbolic links */
	SK_LINK,
	SK_NR_KINDS
};

/*
 * What a node stands for. In a node made by sysfs_lookup() the parent and mdev are
 * referenced (dropped by sysfs_node_free()) and str is the node's own copy; during a
 * listing they are borrowed from the list function.
 */
struct sysfs_obj {
	struct mdev_parent *parent;
	struct mdev_type *type;		/* lives as long as the parent structure */
	struct mdev_device *mdev;
	const struct attribute_group *group;
	struct attribute *attr;		/* lives as long as the parent's ops */
	unsigned int num;		/* the device's iommu group and vfio index */
	const char *str;
};

struct sysfs_node {
	enum sysfs_kind kind;
	bool owned;		/* made by sysfs_lookup(): refs and strings are the node's */
	struct sysfs_obj obj;
	const char *path;	/* in the tree, without a leading '/'; "" for the root */
	const char *target;	/* SK_LINK: relative target */
	uint64_t ino;
	time_t time;
};

struct sysfs_walk;
typedef int (*sysfs_list_fn)(struct sysfs_walk *w);
typedef ssize_t (*sysfs_show_fn)(struct sysfs_tree *tree, const struct sysfs_node *node,
				 char *buf);
typedef ssize_t (*sysfs_store_fn)(struct sysfs_tree *tree, const struct sysfs_node *node,
				  const char *buf, size_t count);

/* One row of the kind table (sysfs_kinds.c). */
struct sysfs_kind_ops {
	enum sysfs_type type;
	mode_t mode;		/* files of the core; vendor attributes use their own */
	sysfs_list_fn list;	/* directories */
	sysfs_show_fn show;	/* files: NULL if not readable */
	sysfs_store_fn store;	/* files: NULL if not writable */
};

extern const struct sysfs_kind_ops sysfs_kinds[SK_NR_KINDS];

enum sysfs_walk_mode {
	SYSFS_WALK_LOOKUP,	/* find the child named `want` */
	SYSFS_WALK_LIST,	/* hand every child to `fill` */
	SYSFS_WALK_COUNT,	/* count the child directories */
};

/* A directory being listed (sysfs_resolve.c). */
struct sysfs_walk {
	struct sysfs_tree *tree;
	const struct sysfs_node *dir;
	enum sysfs_walk_mode mode;
	const char *want;		/* LOOKUP */
	struct sysfs_node *found;	/* LOOKUP: the child, owned */
	sysfs_fill_fn fill;		/* LIST */
	void *ctx;
	unsigned int ndirs;		/* COUNT */
	bool any_state;			/* LOOKUP: also a device being removed (see below) */
	int err;			/* the first error, which stops the walk */
};

/*
 * sysfs_lookup(), and with @any_state also finding a device that is being removed but
 * whose removal has not completed (its record is still there): what an open file uses to
 * reach the object it was opened on, so that the core's -EAGAIN reaches the writer. A
 * plain lookup, like readdir, sees only active devices.
 */
int sysfs_resolve(struct sysfs_tree *tree, const char *path, bool any_state,
		  struct sysfs_node **ret_node);

/*
 * Hands one child to the walk: @target is a link's target as a path in the tree (made
 * relative here). Returns true when the walk is over (found, stopped by fill, or an
 * error), after which the list function cleans up and returns.
 */
bool sysfs_walk_emit(struct sysfs_walk *w, const char *name, enum sysfs_kind kind,
		const struct sysfs_obj *obj, const char *target);

/* ---- the tree's records (sysfs_tree.c) ---- */

/* How many device records a parent has (sysfs_tree.c). */
struct sysfs_parent_count {
	struct sysfs_parent_count *next;
	struct mdev_parent *parent; /* identity only */
	unsigned int n;
};

struct sysfs_tree {
	pthread_mutex_t lock;
	struct notifier_block nb;
	uid_t uid;			/* owner of every node: the process's */
	gid_t gid;
	time_t time;			/* when the tree was made */
	uint64_t next_owner_id;		/* lock */
	struct hmap devs;		/* lock: known active devices (sysfs_tree.c) */
	struct sysfs_dev_rec **by_num;	/* lock: the same by device number, or NULL */
	size_t by_num_len;
	struct sysfs_parent_count *counts; /* lock: records per parent (sysfs_tree.c) */
	struct sysfs_parent_rec *parents; /* lock: known registered parents */
	uint64_t *nums;			/* lock: bitmap of the device numbers in use */
	size_t nums_words;
	struct sysfs_ino_table *inos;	/* lock */
};

/*
 * The number of an active device (its iommu group and vfio index: the lowest free one,
 * given when the tree first sees the device, which for a device created through the tree
 * is before the create write returns). -ENODEV if the device is not active.
 */
int sysfs_dev_num(struct sysfs_tree *tree, struct mdev_device *mdev, unsigned int *ret_num);

/*
 * The devices of @parent (NULL: of all parents) that have a record: every active device
 * (recorded at creation) and those being removed until their removal completes. What a
 * directory's nlink counts without walking thousands of devices.
 */
unsigned int sysfs_count_devices(struct sysfs_tree *tree, struct mdev_parent *parent);

/*
 * The inode number and time of @path for @obj: owned by the device, else by the parent
 * the object belongs to (so that they retire with it), else by the tree.
 */
void sysfs_ident(struct sysfs_tree *tree, const struct sysfs_obj *obj, const char *path,
		 uint64_t *ret_ino, time_t *ret_time);

/* ---- the inode table (sysfs_ino.c); caller holds tree->lock ---- */

struct sysfs_ino_table;
struct sysfs_ino_entry;

int sysfs_ino_table_new(struct sysfs_ino_table **ret_table);
void sysfs_ino_table_free(struct sysfs_ino_table *table);
/* The number of (@owner, @path), given now if it has none; @list chains the owner's
 * entries (NULL for the tree's own, never retired). 0 only when out of memory: then a
 * fresh number is returned without being remembered. */
uint64_t sysfs_ino_get(struct sysfs_ino_table *table, uint64_t owner, const char *path,
		       struct sysfs_ino_entry **list);
/* A number that nobody else gets. */
uint64_t sysfs_ino_fresh(struct sysfs_ino_table *table);
/* Forgets the entries chained on @list. */
void sysfs_ino_retire(struct sysfs_ino_table *table, struct sysfs_ino_entry **list);

/* The root's inode number (FUSE's root node id, for tidiness). */
#define SYSFS_ROOT_INO 1

/* ---- paths and names (sysfs_path.c) ---- */

/* A usable file name: not empty, ".", "..", no '/', at most SYSFS_NAME_MAX bytes. */
bool sysfs_name_ok(const char *name);
/*
 * The path of a parent's device under devices/, by the kernel's rules: below its parent
 * device's path if it has one (in a glue directory named after its class if that parent
 * has no class), else virtual/<class>/<name> for a class device, else <name>. Its length,
 * or -EINVAL (a name unfit for a path, too deep), -ENAMETOOLONG.
 */
int sysfs_dev_path(const struct device *dev, char *buf, size_t size);
/* "@a/@b", or @b when @a is "". Its length or -ENAMETOOLONG. */
int sysfs_join(char *buf, size_t size, const char *a, const char *b);
/*
 * The link text the kernel writes for a link in directory @dir to @target (both paths in
 * the tree): "../" up to the deepest common ancestor of @dir and @target's directory, then
 * the rest of @target. Its length or -ENAMETOOLONG.
 */
int sysfs_rel_link(const char *dir, const char *target, char *buf, size_t size);
/* The canonical (lower-case) UUID of a device. */
void sysfs_uuid_str(struct mdev_device *mdev, char out[UUID_STRING_LEN + 1]);

/* ---- objects (sysfs_objs.c) ---- */

/* The parent structure of a device (borrowed: the device holds a reference on it). */
struct mdev_parent *sysfs_mdev_parent(struct mdev_device *mdev);
/* The driver bound to a device, or NULL. */
const char *sysfs_bound_driver(const struct device *dev);
/* The class of a parent if it makes a class/<C> directory, else NULL. */
const char *sysfs_parent_class(struct mdev_parent *parent);
/* The bus of a parent if it makes a bus/<B> directory (a class takes precedence), else NULL. */
const char *sysfs_parent_bus(struct mdev_parent *parent);
/* Whether the device has a registered vfio device (vfio-dev/vfio<N>). */
bool sysfs_mdev_has_vfio(struct mdev_device *mdev);

/* The registered parents, each with a reference, and their device paths (NULL: a parent
 * whose path cannot be rendered, which the tree leaves out). */
struct sysfs_parents {
	struct mdev_parent **parents;
	char **paths;
	size_t count;
};
int sysfs_parents_load(struct sysfs_parents *pl);
void sysfs_parents_release(struct sysfs_parents *pl);

/* How the children named after devices are named, for a lookup's `want`. */
enum sysfs_dev_key {
	SYSFS_KEY_UUID,		/* "<uuid>" */
	SYSFS_KEY_NUM,		/* "<num>" */
	SYSFS_KEY_VFIO,		/* "vfio<num>" */
};

/*
 * Calls @fn for the active devices that match (@parent, @type, bound to @drv: NULL for
 * any); in a lookup only for the device whose @key is `want`. @fn gets the device, its
 * parent, the parent's device path and the device's number; a true return ends the
 * iteration. 0 or -ENOMEM.
 */
typedef bool (*sysfs_dev_fn)(struct sysfs_walk *w, struct mdev_device *mdev,
			     struct mdev_parent *parent, const char *ppath, unsigned int num);
int sysfs_for_each_device(struct sysfs_walk *w, struct mdev_parent *parent,
			  struct mdev_type *type, const char *drv, enum sysfs_dev_key key,
			  sysfs_dev_fn fn);

/* Emits the attributes of @group as @kind children, or a @dir_kind directory if named. */
bool sysfs_walk_group(struct sysfs_walk *w, const struct attribute_group *group,
		      enum sysfs_kind kind, enum sysfs_kind dir_kind,
		      const struct sysfs_obj *base);
/* Emits the attributes of a group (SK_PARENT_GROUP, SK_MDEV_GROUP). */
bool sysfs_walk_attrs(struct sysfs_walk *w, const struct attribute_group *group,
		      enum sysfs_kind kind, const struct sysfs_obj *base);

/* The device with number @num (a reference), or NULL (sysfs_tree.c). */
struct mdev_device *sysfs_dev_by_num(struct sysfs_tree *tree, unsigned int num);

/* ---- list functions (sysfs_dirs_*.c) ---- */

/* A sysfs_dev_fn: a link "<uuid>" to the device's directory. */
bool sysfs_emit_device_link(struct sysfs_walk *w, struct mdev_device *mdev,
			    struct mdev_parent *parent, const char *ppath, unsigned int num);

int sysfs_list_root(struct sysfs_walk *w);
int sysfs_list_class(struct sysfs_walk *w);
int sysfs_list_class_mdev_bus(struct sysfs_walk *w);
int sysfs_list_class_dir(struct sysfs_walk *w);
int sysfs_list_class_vfio(struct sysfs_walk *w);
int sysfs_list_bus(struct sysfs_walk *w);
int sysfs_list_bus_mdev(struct sysfs_walk *w);
int sysfs_list_bus_devices(struct sysfs_walk *w);
int sysfs_list_bus_drivers(struct sysfs_walk *w);
int sysfs_list_bus_driver(struct sysfs_walk *w);
int sysfs_list_bus_dir(struct sysfs_walk *w);
int sysfs_list_bus_dir_devices(struct sysfs_walk *w);
int sysfs_list_kernel(struct sysfs_walk *w);
int sysfs_list_iommu_groups(struct sysfs_walk *w);
int sysfs_list_iommu_group(struct sysfs_walk *w);
int sysfs_list_iommu_group_devices(struct sysfs_walk *w);
int sysfs_list_devprefix(struct sysfs_walk *w);
int sysfs_list_parent(struct sysfs_walk *w);
int sysfs_list_empty(struct sysfs_walk *w);
int sysfs_list_parent_group(struct sysfs_walk *w);
int sysfs_list_types(struct sysfs_walk *w);
int sysfs_list_type(struct sysfs_walk *w);
int sysfs_list_type_devices(struct sysfs_walk *w);
int sysfs_list_mdev(struct sysfs_walk *w);
int sysfs_list_mdev_group(struct sysfs_walk *w);
int sysfs_list_vfio_dev(struct sysfs_walk *w);
int sysfs_list_vfio_dev_n(struct sysfs_walk *w);

/* ---- attribute files (sysfs_attr.c) ---- */

ssize_t sysfs_show_vendor(struct sysfs_tree *tree, const struct sysfs_node *node, char *buf);
ssize_t sysfs_store_vendor(struct sysfs_tree *tree, const struct sysfs_node *node,
			   const char *buf, size_t count);
ssize_t sysfs_store_create(struct sysfs_tree *tree, const struct sysfs_node *node,
			   const char *buf, size_t count);
ssize_t sysfs_store_remove(struct sysfs_tree *tree, const struct sysfs_node *node,
			   const char *buf, size_t count);
ssize_t sysfs_show_uevent(struct sysfs_tree *tree, const struct sysfs_node *node, char *buf);
ssize_t sysfs_show_empty(struct sysfs_tree *tree, const struct sysfs_node *node, char *buf);
ssize_t sysfs_store_uevent(struct sysfs_tree *tree, const struct sysfs_node *node,
			   const char *buf, size_t count);
ssize_t sysfs_show_group_name(struct sysfs_tree *tree, const struct sysfs_node *node,
			      char *buf);

/* Whether the node can be opened for reading, for writing: the mode bits (and, for the
 * core's own files, whether they show or store at all). */
bool sysfs_node_readable(const struct sysfs_node *node);
bool sysfs_node_writable(const struct sysfs_node *node);

#endif
