/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VERSION: the protocol handshake. The client proposes version 0.0 and its capabilities as
 * JSON; the server opens the device for it and answers with its own limits. Two rules of
 * the specification and of QEMU's client shape the answer: the server's capabilities are a
 * subset of those proposed (so twin_socket, for one, appears only when offered), and the
 * reply is never longer than the request (QEMU reads it into the request's buffer).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <umdev/log.h>
#include <umdev/vfio_dma.h>

#include "transport/vfio-user/vfu_private.h"

#define VFU_JSON_MAX_DEPTH 8

/* What the client proposed. */
struct vfu_proposal {
	bool has_max_msg_fds, has_max_xfer, has_pgsizes, has_max_dma_maps;
	bool has_write_multiple, has_migration, has_twin_socket;
	int64_t max_msg_fds, max_xfer, pgsizes, max_dma_maps;
};

static int get_uint(struct json_object *caps, const char *key, bool *has, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(caps, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	errno = 0;
	*out = json_object_get_int64(v);
	if (*out < 0 || errno)
		return -EINVAL;
	*has = true;
	return 0;
}

static int get_typed(struct json_object *caps, const char *key, enum json_type type, bool *has)
{
	struct json_object *v;

	if (!json_object_object_get_ex(caps, key, &v))
		return 0;
	if (!json_object_is_type(v, type))
		return -EINVAL;
	*has = true;
	return 0;
}

/* Parses the proposal's JSON (NUL-terminated at data[len - 1]). */
static int parse_proposal(const char *data, size_t len, struct vfu_proposal *p)
{
	struct json_tokener *tok;
	struct json_object *root, *caps;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	if (!len)
		return 0;
	if (data[len - 1] != '\0' || strlen(data) != len - 1)
		return -EINVAL;
	tok = json_tokener_new_ex(VFU_JSON_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, data, (int)(len - 1));
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len - 1 || !json_object_is_type(root, json_type_object)) {
		ret = -EINVAL;
		goto out;
	}
	if (!json_object_object_get_ex(root, "capabilities", &caps))
		goto out;
	if (!json_object_is_type(caps, json_type_object)) {
		ret = -EINVAL;
		goto out;
	}
	if ((ret = get_uint(caps, "max_msg_fds", &p->has_max_msg_fds, &p->max_msg_fds)) ||
	    (ret = get_uint(caps, "max_data_xfer_size", &p->has_max_xfer, &p->max_xfer)) ||
	    (ret = get_uint(caps, "pgsizes", &p->has_pgsizes, &p->pgsizes)) ||
	    (ret = get_uint(caps, "max_dma_maps", &p->has_max_dma_maps, &p->max_dma_maps)) ||
	    (ret = get_typed(caps, "write_multiple", json_type_boolean, &p->has_write_multiple)) ||
	    (ret = get_typed(caps, "migration", json_type_object, &p->has_migration)) ||
	    (ret = get_typed(caps, "twin_socket", json_type_object, &p->has_twin_socket)))
		goto out;
	if ((p->has_max_xfer && p->max_xfer == 0) || (p->has_max_dma_maps && p->max_dma_maps == 0))
		ret = -EINVAL;
	else if (p->has_pgsizes && !(p->pgsizes & PAGE_SIZE))
		ret = -ENOTSUP; /* umdev maps DMA in 4 KiB pages */
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

/* True when the device takes part in migration (answers the MIGRATION feature). */
static bool device_migrates(struct vfu_conn *conn)
{
	struct {
		struct vfio_device_feature hdr;
		uint64_t flags;
	} f;

	memset(&f, 0, sizeof(f));
	f.hdr.argsz = sizeof(f);
	f.hdr.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_MIGRATION;

	return vfio_device_ioctl(conn->srv->vdev, VFIO_DEVICE_FEATURE, &f) == 0;
}

/* umdev keeps server-to-client commands on the main socket. */
static struct json_object *twin_socket_unsupported(void)
{
	struct json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, "supported", json_object_new_boolean(0));
	return o;
}

/*
 * The reply's JSON, with the capabilities that were proposed, dropping optional ones from
 * the end while it is longer than @room bytes (NUL included). NULL: no memory.
 */
static char *build_reply(struct vfu_conn *conn, const struct vfu_proposal *p, size_t room)
{
	bool migration = p->has_migration && device_migrates(conn);

	for (int keep = 7; keep >= 0; keep--) {
		struct json_object *root = json_object_new_object();
		struct json_object *caps = json_object_new_object();
		char *out = NULL;
		const char *s;
		int n = 0;

		if (!root || !caps) {
			json_object_put(root);
			json_object_put(caps);
			return NULL;
		}
#define ADD(cond, key, val)                                             \
	do {                                                            \
		if ((cond) && n++ < keep)                               \
			json_object_object_add(caps, key, val);         \
	} while (0)
		ADD(p->has_max_msg_fds, "max_msg_fds", json_object_new_int64(VFU_MAX_MSG_FDS));
		ADD(p->has_max_xfer, "max_data_xfer_size",
		    json_object_new_int64(VFU_MAX_DATA_XFER));
		ADD(p->has_pgsizes, "pgsizes", json_object_new_int64((int64_t)PAGE_SIZE));
		ADD(p->has_twin_socket, "twin_socket", twin_socket_unsupported());
		ADD(p->has_max_dma_maps, "max_dma_maps",
		    json_object_new_int64(VFIO_DMA_MAX_MAPPINGS));
		ADD(p->has_write_multiple, "write_multiple", json_object_new_boolean(1));
		ADD(migration, "migration", json_object_new_object());
#undef ADD
		json_object_object_add(root, "capabilities", caps);
		s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
		if (s && strlen(s) + 1 <= room)
			out = strdup(s);
		json_object_put(root);
		if (out || !s)
			return out;
	}
	return strdup("");
}

int vfu_cmd_version(struct vfu_conn *conn, struct vfu_msg *msg)
{
	struct vfu_version v;
	struct vfu_proposal p;
	const char *data = (const char *)msg->payload + sizeof(v);
	size_t len = msg->len - sizeof(v);
	char *json;
	int ret;

	if (conn->versioned)
		return -EINVAL;
	memcpy(&v, msg->payload, sizeof(v));
	if (v.major != VFU_VERSION_MAJOR) {
		vfu_reply_error(conn, msg, ENOTSUP);
		vfu_conn_close(conn);
		return 0;
	}
	ret = parse_proposal(data, len, &p);
	if (ret)
		return ret;
	if (p.has_max_msg_fds)
		conn->client_max_fds = (uint32_t)(p.max_msg_fds < VFU_MAX_MSG_FDS ? p.max_msg_fds
										 : VFU_MAX_MSG_FDS);
	if (p.has_max_xfer && (uint64_t)p.max_xfer < conn->client_max_xfer)
		conn->client_max_xfer = (uint64_t)p.max_xfer;

	ret = vfu_session_open(conn);
	if (ret) {
		/* busy with another transport, or being removed: nothing more to say */
		vfu_reply_error(conn, msg, -ret);
		vfu_conn_close(conn);
		return 0;
	}
	json = len ? build_reply(conn, &p, len) : strdup("");
	if (!json) {
		vfu_session_close(conn);
		return -ENOMEM;
	}
	conn->versioned = true;
	v.major = VFU_VERSION_MAJOR;
	v.minor = VFU_VERSION_MINOR;
	ret = vfu_reply(conn, msg, &v, sizeof(v), json, *json ? strlen(json) + 1 : 0, NULL, 0);
	free(json);
	return ret;
}
