/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared operations (src/mgmt/ops.h) on the null and mtty drivers: starting with
 * attributes written in order, the removal and mdevctl's message when an attribute fails,
 * mdevctl's checks before the creation, stop, and autostart of a parent's definitions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl_fixture.h"

#define ERR_CAUSE(e, c) e "\n\nCaused by:\n    " c

static struct mdev_definition_attr attr(const char *name, const char *value)
{
	return (struct mdev_definition_attr){ (char *)name, (char *)value };
}

CTL_TEST(start_writes_attributes_in_order, false)
{
	struct mdev_definition_attr attrs[] = {
		attr("vendor/port0_backend", "pty"),
		attr("vendor/port0_backend", "loopback"),
	};
	char err[MGMT_ERR_SIZE], uuid[MDEVCTL_UUID_SIZE], value[64];

	REQUIRE_EQ(mgmt_start_device("mtty", "mtty-2", UA, attrs, 2, uuid, err, sizeof(err)), 0);
	CHECK_STR(uuid, UA);
	CHECK(read_dev_attr(UA, "vendor/port0_backend", value, sizeof(value)));
	CHECK(!strncmp(value, "loopback", 8)); /* the last write wins: they ran in order */
	CHECK_EQ(mgmt_stop_device(UA, err, sizeof(err)), 0);
	CHECK(!device_exists(UA));
}

CTL_TEST(start_without_uuid_makes_one, false)
{
	char err[MGMT_ERR_SIZE], uuid[MDEVCTL_UUID_SIZE];

	REQUIRE_EQ(mgmt_start_device("null", "null-1", NULL, NULL, 0, uuid, err, sizeof(err)), 0);
	CHECK(mdevctl_uuid_is_canonical(uuid));
	CHECK(uuid[14] == '4');
	CHECK(device_exists(uuid));
	CHECK_EQ(mgmt_stop_device(uuid, err, sizeof(err)), 0);
	/* an upper-case UUID is the same device */
	REQUIRE_EQ(mgmt_start_device("null", "null-1", "83B8F4F2-509F-382F-3C1E-E6BFE0FA1001",
				     NULL, 0, uuid, err, sizeof(err)), 0);
	CHECK_STR(uuid, UA);
	CHECK_EQ(mgmt_stop_device(UA, err, sizeof(err)), 0);
}

CTL_TEST(failing_attribute_removes_the_device, false)
{
	struct mdev_definition_attr missing[] = { attr("vendor/port0_backend", "loopback"),
						  attr("vendor/nonexistent", "1") };
	struct mdev_definition_attr readonly[] = { attr("vendor/sample_mdev_dev", "x") };
	struct mdev_definition_attr bad[] = { attr("vendor/port0_backend", "bogus") };
	struct mdev_definition_attr nogroup[] = { attr("port0_backend", "pty") };
	char err[MGMT_ERR_SIZE];

	CHECK_EQ(mgmt_start_device("mtty", "mtty-1", UA, missing, 2, NULL, err, sizeof(err)),
		 -ENOENT);
	CHECK_STR(err, "Invalid attribute 'vendor/nonexistent'");
	CHECK(!device_exists(UA));
	CHECK_EQ(mgmt_start_device("mtty", "mtty-1", UA, readonly, 1, NULL, err, sizeof(err)),
		 -EACCES);
	CHECK_STR(err, ERR_CAUSE("Failed to write x to attribute vendor/sample_mdev_dev",
				 "Permission denied (os error 13)"));
	CHECK(!device_exists(UA));
	CHECK_EQ(mgmt_start_device("mtty", "mtty-1", UA, bad, 1, NULL, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, ERR_CAUSE("Failed to write bogus to attribute vendor/port0_backend",
				 "Invalid argument (os error 22)"));
	CHECK(!device_exists(UA));
	CHECK_EQ(mgmt_start_device("mtty", "mtty-1", UA, nogroup, 1, NULL, err, sizeof(err)),
		 -ENOENT);
	CHECK_STR(err, "Invalid attribute 'port0_backend'");
	CHECK(!device_exists(UA));
}

CTL_TEST(mdevctl_checks_before_creating, false)
{
	char err[MGMT_ERR_SIZE], uuid[MDEVCTL_UUID_SIZE];
	unsigned int n = 0;

	REQUIRE_EQ(mgmt_start_device("mtty", "mtty-2", UA, NULL, 0, NULL, err, sizeof(err)), 0);
	CHECK_EQ(mgmt_start_device("mtty", "mtty-2", UA, NULL, 0, NULL, err, sizeof(err)), -EEXIST);
	CHECK_STR(err, "Device already exists");
	CHECK_EQ(mgmt_start_device("mtty", "mtty-1", UA, NULL, 0, NULL, err, sizeof(err)), -EEXIST);
	CHECK_STR(err, "Device exists with different type");
	CHECK_EQ(mgmt_start_device("null", "null-1", UA, NULL, 0, NULL, err, sizeof(err)), -EEXIST);
	CHECK_STR(err, "Device exists under different parent");
	CHECK_EQ(mgmt_start_device("MTTY", "mtty-1", UB, NULL, 0, NULL, err, sizeof(err)), -ENODEV);
	CHECK_STR(err, "Unable to find parent device 'MTTY'. Did you mean 'mtty'?");
	CHECK_EQ(mgmt_start_device("nope", "mtty-1", UB, NULL, 0, NULL, err, sizeof(err)), -ENODEV);
	CHECK_STR(err, "Unable to find parent device 'nope'");
	CHECK_EQ(mgmt_start_device("mtty", "mtty-9", UB, NULL, 0, NULL, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "Parent mtty does not support mdev type mtty-9");
	CHECK_EQ(mgmt_start_device("mtty", "mtty-1", "xyz", NULL, 0, NULL, err, sizeof(err)),
		 -EINVAL);
	/* mtty has 24 ports: UA took 2, eleven more dual-port devices take the rest */
	while (n < 20 &&
	       !mgmt_start_device("mtty", "mtty-2", NULL, NULL, 0, uuid, err, sizeof(err)))
		n++;
	CHECK_EQ(n, 11);
	CHECK_STR(err, "No available instances of mtty-2 on mtty");
	CHECK_EQ(mgmt_stop_device(UA, err, sizeof(err)), 0);
	CHECK_EQ(mgmt_stop_device(UA, err, sizeof(err)), -ENOENT);
	CHECK_STR(err, ERR_CAUSE("Error removing device " UA, "No such file or directory (os error 2)"));
}

struct log {
	unsigned int warnings;
	char text[8][512];
};

static void log_fn(int level, const char *message, void *userdata)
{
	struct log *l = userdata;

	if (level > UMDEV_LOG_WARNING)
		return;
	if (l->warnings < 8)
		snprintf(l->text[l->warnings], sizeof(l->text[0]), "%s", message);
	l->warnings++;
}

CTL_TEST(autostart_starts_auto_definitions_and_goes_on, false)
{
	char path[700];
	struct log l = { 0 };

	put_definition(f, "mtty", UA,
		       "{\"mdev_type\":\"mtty-2\",\"start\":\"auto\",\"attrs\":"
		       "[{\"vendor/port0_backend\":\"loopback\"}]}");
	put_definition(f, "mtty", UB, "{\"mdev_type\":\"mtty-1\",\"start\":\"manual\"}");
	put_definition(f, "mtty", UC, "{\"mdev_type\":\"mtty-1\",\"start\":\"auto\""); /* torn */
	put_definition(f, "mtty", "33333333-509f-382f-3c1e-e6bfe0fa1001",
		       "{\"mdev_type\":\"mtty-1\",\"start\":\"auto\",\"attrs\":[{\"x\":\"1\"}]}");
	put_definition(f, "null", "44444444-509f-382f-3c1e-e6bfe0fa1001",
		       "{\"mdev_type\":\"null-1\",\"start\":\"auto\"}");

	CHECK_EQ(mgmt_autostart_parent(f->conf_dir, "mtty", log_fn, &l), 1);
	CHECK(device_exists(UA));
	CHECK(!device_exists(UB));
	CHECK(!device_exists(UC));
	CHECK(!device_exists("33333333-509f-382f-3c1e-e6bfe0fa1001"));
	CHECK(!device_exists("44444444-509f-382f-3c1e-e6bfe0fa1001")); /* another parent */
	REQUIRE_EQ(l.warnings, 2);
	snprintf(path, sizeof(path), "%s/mtty/%s: EOF while parsing an object at line 1 column 36",
		 f->conf_dir, UC);
	CHECK_STR(l.text[0], path);
	CHECK_STR(l.text[1], "Invalid attribute 'x'");

	/* again: mdevctl's warning for the one that runs already, nothing started */
	memset(&l, 0, sizeof(l));
	CHECK_EQ(mgmt_autostart_parent(f->conf_dir, "mtty", log_fn, &l), 0);
	REQUIRE_EQ(l.warnings, 3);
	CHECK_STR(l.text[2], "Device already exists");
	/* a parent without definitions, a missing configuration directory: nothing to do */
	CHECK_EQ(mgmt_autostart_parent(f->conf_dir, "other", NULL, NULL), 0);
	snprintf(path, sizeof(path), "%s/missing", f->dir);
	CHECK_EQ(mgmt_autostart_parent(path, "mtty", NULL, NULL), 0);
	CHECK_EQ(mgmt_autostart_parent(f->conf_dir, "null", NULL, NULL), 1);
}
