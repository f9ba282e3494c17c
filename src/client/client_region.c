/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Region access: REGION_READ, REGION_WRITE (posted ones with NO_REPLY, not waited for) and
 * REGION_WRITE_MULTI (always posted). Counts are bounded by the server's
 * max_data_xfer_size; replies must name the offset and region asked about, and may report
 * fewer bytes than asked, never more.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "client/client_private.h"
#include "util/macros.h"

/* The caller's writes go out as they are: the two layouts are the same. */
_Static_assert(sizeof(struct umdev_client_write) == sizeof(struct vfu_write_multi_entry),
	       "write_multi entry");
_Static_assert(offsetof(struct umdev_client_write, region) ==
		       offsetof(struct vfu_write_multi_entry, region),
	       "write_multi region");
_Static_assert(offsetof(struct umdev_client_write, count) ==
		       offsetof(struct vfu_write_multi_entry, count),
	       "write_multi count");
_Static_assert(offsetof(struct umdev_client_write, data) ==
		       offsetof(struct vfu_write_multi_entry, data),
	       "write_multi data");
_Static_assert(UMDEV_CLIENT_WRITE_MULTI_MAX == VFU_WRITE_MULTI_MAX, "write_multi max");

/* The reply names the access asked for, with a count of at most the one asked. */
static bool reply_matches(const struct vfu_region_access *in, const struct vfu_region_access *out)
{
	return out->offset == in->offset && out->region == in->region && out->count <= in->count;
}

int umdev_client_region_read(struct umdev_client *c, uint32_t region, uint64_t offset,
			     void *buf, uint32_t count)
{
	struct vfu_region_access in = { .offset = offset, .region = region, .count = count }, out;
	struct iovec iov = { .iov_base = &in, .iov_len = sizeof(in) };
	struct client_msg reply;
	int r;

	if (!c || (count && !buf) || count > c->caps.max_data_xfer_size)
		return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	r = client_call_simple_locked(c, VFU_CMD_REGION_READ, &iov, sizeof(out), sizeof(out) + count, &reply);
	if (!r) {
		memcpy(&out, reply.payload, sizeof(out));
		if (!reply_matches(&in, &out) || reply.len != sizeof(out) + out.count) {
			r = client_break(c);
		} else {
			memcpy(buf, reply.payload + sizeof(out), out.count);
			r = (int)out.count;
		}
	}
	client_msg_release(&reply);
	client_unlock(c);
	return r;
}

int umdev_client_region_write(struct umdev_client *c, uint32_t region, uint64_t offset,
			      const void *buf, uint32_t count, bool posted)
{
	struct vfu_region_access in = { .offset = offset, .region = region, .count = count }, out;
	struct iovec iov[2] = {
		{ .iov_base = &in, .iov_len = sizeof(in) },
		{ .iov_base = (void *)buf, .iov_len = count },
	};
	struct client_msg reply;
	int r;

	if (!c || (count && !buf) || count > c->caps.max_data_xfer_size)
		return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	r = client_call_locked(c,
			       &(struct client_request){
				       .command = VFU_CMD_REGION_WRITE,
				       .no_reply = posted,
				       .iov = iov,
				       .niov = ARRAY_SIZE(iov),
				       .reply_min = sizeof(out),
				       .reply_max = sizeof(out),
			       },
			       &reply);
	if (!r && posted) {
		r = (int)count;
	} else if (!r) {
		memcpy(&out, reply.payload, sizeof(out));
		r = reply_matches(&in, &out) ? (int)out.count : client_break(c);
	}
	client_msg_release(&reply);
	client_unlock(c);
	return r;
}

int umdev_client_region_write_multi(struct umdev_client *c,
				    const struct umdev_client_write *writes, size_t n)
{
	int r;

	if (!c || (n && !writes) || n > INT_MAX)
		return -EINVAL;
	if (!c->caps.write_multiple)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < n; i++)
		if (writes[i].count > UMDEV_CLIENT_WRITE_MULTI_DATA)
			return -EINVAL;
	r = client_lock(c);
	if (r)
		return r;
	for (size_t i = 0, batch; i < n; i += batch) {
		struct vfu_write_multi hdr;
		struct iovec iov[2];

		batch = MIN(n - i, (size_t)UMDEV_CLIENT_WRITE_MULTI_MAX);
		hdr.wr_cnt = batch;
		iov[0] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
		iov[1] = (struct iovec){ .iov_base = (void *)(writes + i),
					 .iov_len = batch * sizeof(*writes) };
		r = client_call_locked(c,
				       &(struct client_request){
					       .command = VFU_CMD_REGION_WRITE_MULTI,
					       .no_reply = true,
					       .iov = iov,
					       .niov = ARRAY_SIZE(iov),
				       },
				       NULL);
		if (r)
			break;
	}
	client_unlock(c);
	return r ? r : (int)n;
}
