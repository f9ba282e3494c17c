/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real client: Debian's mdevctl 1.2.0 against the tree, run as mdevctl-contract.md (c)
 * says, in a private mount namespace (`unshare -m`) with the FUSE mount bound over /sys and
 * a throwaway /etc/mdevctl.d holding only empty scripts.d/{callouts,notifiers}. Outputs are
 * compared byte for byte with the real kernel's (golden/, from
 * kernel-mtty-ground-truth.md): types, list, start (with and without attributes), stop.
 *
 * TODO(issue 5, definitions): `mdevctl define`, `list --defined`, `start-parent-mdevs` and
 * `--auto` belong with umdevd's definitions (src/mgmt/persist/, the daemon's autostart):
 * add them here, against the ground truth's `list --defined` output
 * (b"<uuid> mtty mtty-1 auto\n\n") and the second start-parent-mdevs's stderr (a WARN
 * line ending "Device already exists"), once umdevd serves this tree and its definitions
 * together. mdevctl_run() below takes the configuration directory to use.
 *
 * Needs root, /dev/fuse, unshare and mdevctl (the package mdevctl; scripts/install-deps
 * installs it); skips without them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfs_fixture.h"

#define MDEVCTL "/usr/bin/mdevctl"
#define UNSHARE "/usr/bin/unshare"
#define DEV MTTY_DIR "/" GT_UUID
#define GT_UUID_UPPER "83B8F4F2-509F-382F-3C1E-E6BFE0FA1001"

struct mctl {
	struct fx fx;
	char conf[64];	/* the throwaway /etc/mdevctl.d */
	char sub[3][96];
};

static bool mctl_up(struct mctl *m)
{
	static const char *const subs[] = { "scripts.d", "scripts.d/callouts",
					    "scripts.d/notifiers" };

	memset(m, 0, sizeof(*m));
	snprintf(m->conf, sizeof(m->conf), "/tmp/umdev-mdevctl-XXXXXX");
	if (!CHECK(mkdtemp(m->conf)))
		return false;
	for (int i = 0; i < 3; i++) {
		snprintf(m->sub[i], sizeof(m->sub[i]), "%s/%s", m->conf, subs[i]);
		if (!CHECK_EQ(mkdir(m->sub[i], 0755), 0))
			return false;
	}
	return fx_mount(&m->fx, FX_MTTY);
}

static void mctl_down(struct mctl *m)
{
	fx_unmount(&m->fx);
	for (int i = 2; i >= 0; i--)
		CHECK_EQ(rmdir(m->sub[i]), 0);
	CHECK_EQ(rmdir(m->conf), 0); /* mdevctl wrote nothing: no definitions here */
}

/*
 * Runs `mdevctl @args...` (NULL-terminated) in a new mount namespace with the tree over
 * /sys and @conf over /etc/mdevctl.d, @input on its stdin.
 */
static bool mdevctl_run(struct fx *fx, const char *conf, const char *input, struct fx_cmd *c,
			const char *const *args)
{
	static const char script[] = "mount --rbind \"$1\" /sys && "
				     "mount --bind \"$2\" /etc/mdevctl.d && "
				     "shift 2 && exec " MDEVCTL " \"$@\"";
	const char *argv[32] = {
		UNSHARE, "-m", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh",
		fx->mnt, conf,
	};
	size_t n = 11;

	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	memset(c, 0, sizeof(*c));
	c->argv = argv;
	c->fd3 = -1;
	c->input = input;
	c->timeout_s = 60;
	return fx_run(c);
}

#define RUN(m, c, input, ...) \
	mdevctl_run(&(m)->fx, (m)->conf, input, c, (const char *const[]){ __VA_ARGS__, NULL })

static bool golden_is(const char *name, const char *got, size_t len)
{
	const char *root = getenv("UMDEV_SOURCE_ROOT");
	char path[1024], want[16384];
	size_t wlen = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/tests/mgmt/sysfs/golden/%s", root ? root : ".", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		tap_diag("golden %s: %s", path, strerror(errno));
		return false;
	}
	while ((n = read(fd, want + wlen, sizeof(want) - wlen)) > 0)
		wlen += (size_t)n;
	close(fd);
	if (wlen == len && !memcmp(want, got, len))
		return true;
	tap_diag("output differs from golden/%s; got %zu bytes:", name, len);
	tap_diag("%.*s", (int)len, got);
	return false;
}

/* rc 0, nothing on stderr, stdout as golden/@name. */
static bool ok_golden(const struct fx_cmd *c, const char *name)
{
	bool ok = c->status == 0 && c->err_len == 0;

	if (!ok)
		tap_diag("rc %d, stderr: %s", c->status, c->err);
	return golden_is(name, c->out, c->out_len) && ok;
}

/* rc 1, nothing on stdout, stderr as golden/@name. */
static bool fails_golden(const struct fx_cmd *c, const char *name)
{
	bool ok = c->status == 1 && c->out_len == 0;

	if (!ok)
		tap_diag("rc %d, stdout: %s", c->status, c->out);
	return golden_is(name, c->err, c->err_len) && ok;
}

static bool quiet_ok(const struct fx_cmd *c)
{
	if (c->status == 0 && !c->out_len && !c->err_len)
		return true;
	tap_diag("rc %d, stdout \"%s\", stderr \"%s\"", c->status, c->out, c->err);
	return false;
}

static bool fails_with(const struct fx_cmd *c, const char *err)
{
	if (c->status == 1 && !strcmp(c->err, err))
		return true;
	tap_diag("rc %d, stderr \"%s\", want \"%s\"", c->status, c->err, err);
	return false;
}

static bool there(struct fx *fx, const char *rel)
{
	struct stat st;

	return fx_lstat(fx, rel, &st) == 0;
}

static bool attr_is(struct fx *fx, const char *rel, const char *want)
{
	char buf[256];

	if (fx_read(fx, rel, buf, sizeof(buf)) >= 0 && !strcmp(buf, want))
		return true;
	tap_diag("%s: \"%s\", want \"%s\"", rel, buf, want);
	return false;
}

TEST(types_and_list_fresh)
{
	struct fx_cmd *c = malloc(sizeof(*c));
	struct mctl m;

	REQUIRE(c);
	if (mctl_up(&m)) {
		CHECK(RUN(&m, c, NULL, "types") && ok_golden(c, "types-fresh.out"));
		CHECK(RUN(&m, c, NULL, "types", "--dumpjson") && ok_golden(c, "types-fresh.json"));
		CHECK(RUN(&m, c, NULL, "list") && ok_golden(c, "list-empty.out"));
		CHECK(RUN(&m, c, NULL, "list", "--dumpjson") && ok_golden(c, "list-empty.json"));
		mctl_down(&m);
	}
	free(c);
}

TEST(start_list_stop)
{
	struct fx_cmd *c = malloc(sizeof(*c));
	struct mctl m;

	REQUIRE(c);
	if (!mctl_up(&m)) {
		free(c);
		return;
	}
	CHECK(RUN(&m, c, NULL, "start", "-p", "mtty", "-t", "mtty-2", "-u", GT_UUID) &&
	      quiet_ok(c));
	CHECK(there(&m.fx, DEV "/vendor/sample_mdev_dev"));
	CHECK(RUN(&m, c, NULL, "list") && ok_golden(c, "list-one-device.out"));
	CHECK(RUN(&m, c, NULL, "list", "--dumpjson") && ok_golden(c, "list-one-device.json"));
	CHECK(RUN(&m, c, NULL, "list", "-u", GT_UUID) && ok_golden(c, "list-uuid.out"));
	CHECK(RUN(&m, c, NULL, "list", "-u", GT_UUID, "--dumpjson") &&
	      ok_golden(c, "list-uuid.json"));
	CHECK(RUN(&m, c, NULL, "types") && ok_golden(c, "types-one-device.out"));
	CHECK(RUN(&m, c, NULL, "types", "--dumpjson") && ok_golden(c, "types-one-device.json"));
	CHECK(RUN(&m, c, NULL, "start", "-p", "mtty", "-t", "mtty-2", "-u", GT_UUID) &&
	      fails_golden(c, "start-exists.err"));
	CHECK(RUN(&m, c, NULL, "start", "-p", "mtty", "-t", "mtty-2", "-u", GT_UUID_UPPER) &&
	      fails_golden(c, "start-exists.err"));
	CHECK(RUN(&m, c, NULL, "stop", "-u", GT_UUID) && quiet_ok(c));
	CHECK(!there(&m.fx, DEV));
	CHECK(RUN(&m, c, NULL, "stop", "-u", GT_UUID) && fails_golden(c, "stop-gone.err"));
	CHECK(RUN(&m, c, NULL, "list") && ok_golden(c, "list-empty.out"));
	CHECK(RUN(&m, c, NULL, "types") && ok_golden(c, "types-fresh.out"));
	mctl_down(&m);
	free(c);
}

TEST(start_with_attributes)
{
	static const char good[] = "{\"mdev_type\":\"mtty-2\",\"start\":\"manual\",\"attrs\":["
				   "{\"vendor/port0_backend\":\"pty\"},"
				   "{\"vendor/port1_backend\":\"pty\"}]}";
	static const char bad_name[] = "{\"mdev_type\":\"mtty-2\",\"start\":\"manual\",\"attrs\":["
				       "{\"vendor/nope\":\"pty\"}]}";
	static const char bad_value[] = "{\"mdev_type\":\"mtty-1\",\"start\":\"manual\",\"attrs\":["
					"{\"vendor/port0_backend\":\"bogus\"}]}";
	struct fx_cmd *c = malloc(sizeof(*c));
	char buf[256];
	struct mctl m;

	REQUIRE(c);
	if (!mctl_up(&m)) {
		free(c);
		return;
	}
	/* the attributes are written right after create returns: they must be there */
	CHECK(RUN(&m, c, good, "start", "-p", "mtty", "--jsonfile", "/dev/stdin", "-u", GT_UUID) &&
	      quiet_ok(c));
	CHECK(attr_is(&m.fx, DEV "/vendor/port0_backend", "pty\n"));
	CHECK(attr_is(&m.fx, DEV "/vendor/port1_backend", "pty\n"));
	CHECK(fx_read(&m.fx, DEV "/vendor/port0_pty", buf, sizeof(buf)) > 0 &&
	      !strncmp(buf, "/dev/pts/", 9));
	CHECK(RUN(&m, c, NULL, "list") && ok_golden(c, "list-one-device.out"));
	CHECK(RUN(&m, c, NULL, "stop", "-u", GT_UUID) && quiet_ok(c));
	CHECK(!there(&m.fx, DEV));

	/* a missing attribute: created, removed again at once, the error */
	CHECK(RUN(&m, c, bad_name, "start", "-p", "mtty", "--jsonfile", "/dev/stdin", "-u",
		  GT_UUID) &&
	      fails_with(c, "Error: Invalid attribute 'vendor/nope'\n"));
	CHECK(!there(&m.fx, DEV));
	/* a value the driver refuses: its errno, and the device removed */
	CHECK(RUN(&m, c, bad_value, "start", "-p", "mtty", "--jsonfile", "/dev/stdin", "-u",
		  GT_UUID) &&
	      fails_with(c, "Error: Failed to write bogus to attribute vendor/port0_backend\n\n"
			    "Caused by:\n    Invalid argument (os error 22)\n"));
	CHECK(!there(&m.fx, DEV));
	CHECK(RUN(&m, c, NULL, "list") && ok_golden(c, "list-empty.out"));
	mctl_down(&m);
	free(c);
}

TEST(start_generated_uuid_and_errors)
{
	struct fx_cmd *c = malloc(sizeof(*c));
	char uuid[64], rel[128];
	struct mctl m;

	REQUIRE(c);
	if (!mctl_up(&m)) {
		free(c);
		return;
	}
	/* without -u, mdevctl prints the UUID it made up */
	CHECK(RUN(&m, c, NULL, "start", "-p", "mtty", "-t", "mtty-1") && c->status == 0 &&
	      c->out_len == 37 && c->out[36] == '\n' && !c->err_len);
	snprintf(uuid, sizeof(uuid), "%.36s", c->out);
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s", uuid);
	CHECK(there(&m.fx, rel));
	CHECK(RUN(&m, c, NULL, "stop", "-u", uuid) && quiet_ok(c));
	CHECK(!there(&m.fx, rel));

	CHECK(RUN(&m, c, NULL, "start", "-p", "MTTY", "-t", "mtty-1", "-u", GT_UUID) &&
	      fails_with(c, "Error: Unable to find parent device 'MTTY'. Did you mean 'mtty'?\n"));
	CHECK(RUN(&m, c, NULL, "start", "-p", "mtty", "-t", "mtty-9", "-u", GT_UUID) &&
	      fails_with(c, "Error: Parent mtty does not support mdev type mtty-9\n"));
	/* mtty's 24 ports: twelve mtty-2 devices through the tree, then none is left */
	for (unsigned int i = 0; i < 12; i++) {
		snprintf(uuid, sizeof(uuid), "e0e0e0e0-0000-4000-8000-%012x", i);
		CHECK_EQ(fx_puts(&m.fx, MTTY_TYPES "/mtty-2/create", uuid), 36);
	}
	CHECK(RUN(&m, c, NULL, "start", "-p", "mtty", "-t", "mtty-2", "-u", GT_UUID) &&
	      fails_with(c, "Error: No available instances of mtty-2 on mtty\n"));
	for (unsigned int i = 0; i < 12; i++) {
		snprintf(uuid, sizeof(uuid), "e0e0e0e0-0000-4000-8000-%012x", i);
		CHECK(RUN(&m, c, NULL, "stop", "-u", uuid) && quiet_ok(c));
	}
	CHECK(RUN(&m, c, NULL, "types") && ok_golden(c, "types-fresh.out"));
	mctl_down(&m);
	free(c);
}

int main(int argc, char **argv)
{
	if (fx_skip_without_fuse())
		return 0;
	if (access(MDEVCTL, X_OK) || access(UNSHARE, X_OK)) {
		printf("1..1\nok 1 # SKIP needs %s and %s (scripts/install-deps installs them)\n",
		       MDEVCTL, UNSHARE);
		return 0;
	}
	fx_log_init();
	return tap_main(argc, argv);
}
