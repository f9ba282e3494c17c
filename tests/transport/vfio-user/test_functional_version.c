/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Functional tests of VERSION and of the client's life cycle: the limits libumdev-client
 * negotiates, replies that carry only the proposed capabilities (twin_socket answered
 * {"supported":false}) and are never longer than the request, a second client refused with
 * EBUSY, and a later client finding the device's state as the first one left it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "functional.h"

/* What libumdev-client and QEMU propose, migration included. */
static const char full_caps[] =
	"{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,\"pgsizes\":4096,"
	"\"max_dma_maps\":65535,\"write_multiple\":true,"
	"\"migration\":{\"pgsize\":4096,\"max_bitmap_size\":268435456}}}";

/* A reply: the header, then up to 4 KiB. */
union reply_buf {
	struct vfu_hdr hdr;
	uint8_t raw[16 + 4096];
};

/*
 * Sends VERSION 0.0 with @json (NULL: none) as the first message and checks the reply's
 * header, version and size (never longer than the request). Returns the reply's JSON
 * capabilities object (a reference to put), an empty object when the reply had no JSON, or
 * NULL after a failed check.
 */
static struct json_object *version_at(struct umdev_client *c, const char *json, SRCPOS)
{
	size_t jlen = json ? strlen(json) + 1 : 0, req_size = sizeof(struct vfu_hdr) + 4 + jlen;
	uint8_t payload[4 + 1024];
	struct vfu_version v;
	struct json_object *root, *caps;
	union reply_buf r;
	size_t nfds = 1;
	int n, fds[1];

	memset(payload, 0, 4);
	if (json)
		memcpy(payload + 4, json, jlen);
	n = raw_call(c, 0x700, VFU_CMD_VERSION, payload, 4 + jlen, NULL, 0, r.raw, sizeof(r),
		     fds, &nfds);
	if (!tap_check(n >= (int)sizeof(struct vfu_hdr) + 4, "VERSION reply received", file, line))
		return NULL;
	if (!tap_check_eq((long long)nfds, 0, "fds with the VERSION reply", "0", file, line))
		close(fds[0]);
	tap_check_eq(r.hdr.flags, VFU_FLAG_TYPE_REPLY, "reply flags", "reply", file, line);
	tap_check_eq(r.hdr.msg_id, 0x700, "reply id", "request id", file, line);
	tap_check_eq(r.hdr.command, VFU_CMD_VERSION, "reply command", "VERSION", file, line);
	tap_check_eq(r.hdr.msg_size, n, "msg_size", "received", file, line);
	tap_check(r.hdr.msg_size <= req_size, "reply no longer than the request", file, line);
	memcpy(&v, r.raw + sizeof(struct vfu_hdr), sizeof(v));
	tap_check_eq(v.major, 0, "major", "0", file, line);
	tap_check_eq(v.minor, 0, "minor", "0", file, line);
	if (n == (int)sizeof(struct vfu_hdr) + 4)
		return json_object_new_object();
	if (!tap_check(r.raw[n - 1] == '\0' &&
			       strlen((char *)r.raw + sizeof(struct vfu_hdr) + 4) ==
				       (size_t)n - sizeof(struct vfu_hdr) - 5,
		       "JSON NUL-terminated", file, line))
		return NULL;
	root = json_tokener_parse((char *)r.raw + sizeof(struct vfu_hdr) + 4);
	if (!tap_check(root && json_object_is_type(root, json_type_object), "JSON object", file,
		       line)) {
		json_object_put(root);
		return NULL;
	}
	if (!tap_check(json_object_object_get_ex(root, "capabilities", &caps) &&
			       json_object_is_type(caps, json_type_object),
		       "capabilities object", file, line)) {
		json_object_put(root);
		return NULL;
	}
	json_object_get(caps);
	json_object_put(root);
	return caps;
}
#define VERSION(c, json) version_at(c, json, AT)

/* Every key of @caps was proposed in @json's capabilities. */
static bool subset_of(struct json_object *caps, const char *json)
{
	struct json_object *root = json_tokener_parse(json), *proposed;
	bool ok = true;

	if (!root || !json_object_object_get_ex(root, "capabilities", &proposed)) {
		json_object_put(root);
		return false;
	}
	json_object_object_foreach(caps, key, val) {
		(void)val;
		if (!json_object_object_get_ex(proposed, key, NULL)) {
			tap_diag("capability %s was not proposed", key);
			ok = false;
		}
	}
	json_object_put(root);
	return ok;
}

/* The integer capability @key of @caps, or -1 when it is absent. */
static int64_t cap_int(struct json_object *caps, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(caps, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

FUNC_TEST(version_negotiated_limits, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client(f, 0), *c2;

	REQUIRE(c);
	CHECK_EQ(umdev_client_max_msg_fds(c), 16);
	CHECK_EQ(umdev_client_max_data_xfer_size(c), 1u << 20);
	CHECK_EQ(umdev_client_pgsizes(c), 4096);
	CHECK_EQ(umdev_client_max_dma_maps(c), 65535);
	CHECK(umdev_client_write_multiple(c));
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	umdev_client_close(c);
	REQUIRE(fx_wait_gone(f, 0));

	/* the same through the listening socket */
	c2 = fx_connect(f, 0);
	REQUIRE(c2);
	CHECK_EQ(umdev_client_max_msg_fds(c2), 16);
	CHECK_EQ(umdev_client_max_data_xfer_size(c2), 1u << 20);
	CHECK_EQ(umdev_client_pgsizes(c2), 4096);
	CHECK(umdev_client_write_multiple(c2));
	CHECK_EQ(CFG_RD(c2, 0, 4), NULL_ID);
	umdev_client_close(c2);
	CHECK_EQ(fx_stats(f, 0).connections, 2);
}

FUNC_TEST(version_reply_carries_only_proposed, FX_NULL, 1, 1)
{
	/* (10 and 16 have the same length: the whole answer fits) */
	static const char json[] = "{\"capabilities\":{\"max_msg_fds\":10,\"pgsizes\":4096}}";
	struct umdev_client *c = fx_client_unversioned(f, 0);
	struct json_object *caps;
	struct vfio_device_info info;

	REQUIRE(c);
	caps = VERSION(c, json);
	REQUIRE(caps);
	CHECK_EQ(json_object_object_length(caps), 2);
	CHECK_EQ(cap_int(caps, "max_msg_fds"), 16);
	CHECK_EQ(cap_int(caps, "pgsizes"), 4096);
	CHECK(subset_of(caps, json));
	json_object_put(caps);
	/* the session is open: commands work */
	CHECK_EQ(umdev_client_get_info(c, &info), 0);
	CHECK_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	umdev_client_close(c);
}

FUNC_TEST(version_twin_socket_unsupported, FX_NULL, 1, 1)
{
	/* room for the answer: the request is longer than the reply will be */
	static const char json[] = "{ \"capabilities\" : { \"twin_socket\" : { \"supported\" : true } } }";
	struct umdev_client *c = fx_client_unversioned(f, 0);
	struct json_object *caps, *twin, *supported;

	REQUIRE(c);
	caps = VERSION(c, json);
	REQUIRE(caps);
	CHECK_EQ(json_object_object_length(caps), 1);
	if (CHECK(json_object_object_get_ex(caps, "twin_socket", &twin) &&
		  json_object_is_type(twin, json_type_object))) {
		CHECK_EQ(json_object_object_length(twin), 1);
		CHECK(json_object_object_get_ex(twin, "supported", &supported) &&
		      json_object_is_type(supported, json_type_boolean) &&
		      !json_object_get_boolean(supported));
	}
	json_object_put(caps);
	/* commands work on the one socket */
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	umdev_client_close(c);
}

FUNC_TEST(version_reply_never_longer, FX_NULL, 1, 1)
{
	/* each value of the answer is longer than the one proposed */
	static const char tight[] =
		"{\"capabilities\":{\"max_msg_fds\":1,\"max_data_xfer_size\":1,\"pgsizes\":4096,"
		"\"write_multiple\":true}}";
	/* twin_socket's answer ("false") is longer than its question ("true") */
	static const char twin[] = "{\"capabilities\":{\"twin_socket\":{\"supported\":true}}}";
	struct umdev_client *c = fx_client_unversioned(f, 0);
	struct json_object *caps;

	REQUIRE(c);
	caps = VERSION(c, tight); /* checks the size */
	REQUIRE(caps);
	CHECK(subset_of(caps, tight));
	CHECK(json_object_object_length(caps) < 4);
	/* what is there is the server's own limit */
	CHECK(cap_int(caps, "max_msg_fds") == -1 || cap_int(caps, "max_msg_fds") == 16);
	CHECK(cap_int(caps, "max_data_xfer_size") == -1 ||
	      cap_int(caps, "max_data_xfer_size") == 1 << 20);
	json_object_put(caps);
	umdev_client_close(c);
	REQUIRE(fx_wait_gone(f, 0));

	c = fx_client_unversioned(f, 0);
	REQUIRE(c);
	caps = VERSION(c, twin);
	REQUIRE(caps);
	CHECK(subset_of(caps, twin));
	if (json_object_object_length(caps)) {
		struct json_object *t, *s;

		CHECK(json_object_object_get_ex(caps, "twin_socket", &t) &&
		      json_object_object_get_ex(t, "supported", &s) &&
		      !json_object_get_boolean(s));
	}
	json_object_put(caps);
	umdev_client_close(c);
	REQUIRE(fx_wait_gone(f, 0));

	/* no JSON proposed: no JSON answered */
	c = fx_client_unversioned(f, 0);
	REQUIRE(c);
	caps = VERSION(c, NULL);
	REQUIRE(caps);
	CHECK_EQ(json_object_object_length(caps), 0);
	json_object_put(caps);
	CHECK_EQ(CFG_RD(c, 0, 4), NULL_ID);
	umdev_client_close(c);
}

/* The full proposal: everything answered, migration only by a device that migrates. */
static void full_proposal(struct fx *f, bool migrates)
{
	struct umdev_client *c = fx_client_unversioned(f, 0);
	struct json_object *caps, *v;

	REQUIRE(c);
	caps = VERSION(c, full_caps);
	REQUIRE(caps);
	CHECK(subset_of(caps, full_caps));
	CHECK_EQ(cap_int(caps, "max_msg_fds"), 16);
	CHECK_EQ(cap_int(caps, "max_data_xfer_size"), 1 << 20);
	CHECK_EQ(cap_int(caps, "pgsizes"), 4096);
	CHECK_EQ(cap_int(caps, "max_dma_maps"), 65535);
	CHECK(json_object_object_get_ex(caps, "write_multiple", &v) &&
	      json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v));
	CHECK_EQ(json_object_object_get_ex(caps, "migration", &v), migrates);
	if (migrates)
		CHECK(json_object_is_type(v, json_type_object));
	CHECK_EQ(json_object_object_length(caps), migrates ? 6 : 5);
	json_object_put(caps);
	CHECK_EQ(CFG_RD(c, 0, 2), 0x1234);
	umdev_client_close(c);
}

FUNC_TEST(version_full_proposal_null, FX_NULL, 1, 1)
{
	full_proposal(f, false);
}

FUNC_TEST(version_full_proposal_dmatest, FX_DMATEST, 1, 1)
{
	full_proposal(f, true);
}

FUNC_TEST(version_first_and_once, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_client_unversioned(f, 0);
	struct vfio_device_info info;
	struct json_object *caps;
	union reply_buf r;
	uint8_t payload[4] = { 0 };
	size_t nfds = 0;

	REQUIRE(c);
	/* anything before VERSION is refused, and the connection stays */
	CHECK_EQ(umdev_client_get_info(c, &info), -EINVAL);
	caps = VERSION(c, full_caps);
	CHECK(caps);
	json_object_put(caps);
	/* a second VERSION is refused, and the session goes on */
	CHECK_EQ(raw_call(c, 0x701, VFU_CMD_VERSION, payload, sizeof(payload), NULL, 0, r.raw,
			  sizeof(r), NULL, &nfds),
		 sizeof(struct vfu_hdr));
	CHECK_EQ(r.hdr.flags, VFU_FLAG_TYPE_REPLY | VFU_FLAG_ERROR);
	CHECK_EQ(r.hdr.error, EINVAL);
	CHECK_EQ(r.hdr.msg_id, 0x701);
	CHECK_EQ(umdev_client_get_info(c, &info), 0);
	CHECK_EQ(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	umdev_client_close(c);
}

FUNC_TEST(second_client_busy, FX_NULL, 1, 1)
{
	struct umdev_client *c = fx_connect(f, 0), *c2 = NULL;
	int sv[2];

	REQUIRE(c);
	CFG_WR(c, 0x3c, 0x5a, 1);
	CHECK_EQ(umdev_client_connect(f->dev[0].path, &c2), -EBUSY);
	CHECK(c2 == NULL);
	/* the same for one handed over on a socketpair */
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK_EQ(vfio_user_server_add_client(f->dev[0].srv, sv[1]), 0);
	CHECK_EQ(umdev_client_connect_fd(sv[0], &c2), -EBUSY); /* closes sv[0] */
	CHECK_EQ(fx_stats(f, 0).refused, 2);
	CHECK_EQ(fx_stats(f, 0).connections, 1);
	/* the first client was not disturbed */
	CHECK_EQ(CFG_RD(c, 0x3c, 1), 0x5a);
	CHECK(vfio_user_server_has_client(f->dev[0].srv));
	umdev_client_close(c);
	REQUIRE(fx_wait_gone(f, 0));
	/* now there is room */
	c = fx_connect(f, 0);
	REQUIRE(c);
	CHECK_EQ(CFG_RD(c, 0x3c, 1), 0x5a);
	umdev_client_close(c);
}

FUNC_TEST(next_client_sees_state_null, FX_NULL, 1, 1)
{
	uint8_t bar[NULL_BAR0_SIZE], back[NULL_BAR0_SIZE];
	struct umdev_client *c = fx_client(f, 0);

	REQUIRE(c);
	pattern(bar, sizeof(bar), 3);
	CHECK_EQ(umdev_client_region_write(c, R_BAR0, 0, bar, sizeof(bar), false), sizeof(bar));
	CFG_WR(c, 0x04, 0x06, 2); /* memory space and bus master */
	umdev_client_close(c);
	REQUIRE(fx_wait_gone(f, 0));

	for (int round = 0; round < 2; round++) {
		c = round ? fx_client(f, 0) : fx_connect(f, 0);
		REQUIRE(c);
		memset(back, 0, sizeof(back));
		CHECK_EQ(umdev_client_region_read(c, R_BAR0, 0, back, sizeof(back)),
			 sizeof(back));
		CHECK(!memcmp(back, bar, sizeof(bar)));
		CHECK_EQ(CFG_RD(c, 0x04, 2), 0x06);
		umdev_client_close(c);
		REQUIRE(fx_wait_gone(f, 0));
	}
}

FUNC_TEST(next_client_sees_state_dmatest, FX_DMATEST, 1, 1)
{
	uint8_t buf[DMATEST_BAR2_SIZE], back[DMATEST_BAR2_SIZE];
	struct umdev_client *c = fx_connect(f, 0);

	REQUIRE(c);
	CHECK_EQ(RD32(c, DMATEST_REG_ID), DMATEST_ID);
	WR64(c, DMATEST_REG_SCRATCH, 0x0123456789abcdefull);
	pattern(buf, sizeof(buf), 9);
	BAR2_WR(c, 0, buf, sizeof(buf));
	umdev_client_close(c);
	REQUIRE(fx_wait_gone(f, 0));

	c = fx_connect(f, 0);
	REQUIRE(c);
	CHECK_EQ(RD64(c, DMATEST_REG_SCRATCH), 0x0123456789abcdefull);
	BAR2_RD(c, 0, back, sizeof(back));
	CHECK(!memcmp(back, buf, sizeof(buf)));
	umdev_client_close(c);
	CHECK_EQ(fx_stats(f, 0).connections, 2);
}
