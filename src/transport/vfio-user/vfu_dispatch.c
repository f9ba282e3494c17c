/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vfio-user dispatcher: a table of the commands a client may send, with the payload
 * sizes and the number of fds each allows, checked before a handler sees the message.
 * Everything wrong with a well-framed message gets a header-only error reply (the handlers
 * add their own checks); a connection that was refused answers its first message with the
 * reason and closes.
 */
#include <errno.h>

#include <umdev/log.h>

#include "transport/vfio-user/vfu_private.h"

struct vfu_command_desc {
	const char *name;
	int (*handler)(struct vfu_conn *conn, struct vfu_msg *msg);
	size_t min_len, max_len; /* of the payload */
	size_t max_fds;
};

static const struct vfu_command_desc commands[VFU_CMD_MAX] = {
	[VFU_CMD_VERSION] = { "VERSION", vfu_cmd_version, sizeof(struct vfu_version),
			      sizeof(struct vfu_version) + VFU_VERSION_MAX_JSON, 0 },
	[VFU_CMD_DMA_MAP] = { "DMA_MAP", vfu_cmd_dma_map, sizeof(struct vfu_dma_map),
			      sizeof(struct vfu_dma_map), 1 },
	[VFU_CMD_DMA_UNMAP] = { "DMA_UNMAP", vfu_cmd_dma_unmap, sizeof(struct vfu_dma_unmap),
				sizeof(struct vfu_dma_unmap), 0 },
	[VFU_CMD_DEVICE_GET_INFO] = { "DEVICE_GET_INFO", vfu_cmd_get_info,
				      sizeof(struct vfu_device_info),
				      sizeof(struct vfu_device_info), 0 },
	[VFU_CMD_DEVICE_GET_REGION_INFO] = { "DEVICE_GET_REGION_INFO", vfu_cmd_get_region_info,
					     sizeof(struct vfu_region_info),
					     sizeof(struct vfu_region_info), 0 },
	[VFU_CMD_DEVICE_GET_REGION_IO_FDS] = { "DEVICE_GET_REGION_IO_FDS",
					       vfu_cmd_get_region_io_fds,
					       sizeof(struct vfu_region_io_fds),
					       sizeof(struct vfu_region_io_fds), 0 },
	[VFU_CMD_DEVICE_GET_IRQ_INFO] = { "DEVICE_GET_IRQ_INFO", vfu_cmd_get_irq_info,
					  sizeof(struct vfu_irq_info),
					  sizeof(struct vfu_irq_info), 0 },
	[VFU_CMD_DEVICE_SET_IRQS] = { "DEVICE_SET_IRQS", vfu_cmd_set_irqs,
				      sizeof(struct vfu_irq_set),
				      sizeof(struct vfu_irq_set) + VFU_MAX_ARGSZ, VFU_MAX_MSG_FDS },
	[VFU_CMD_REGION_READ] = { "REGION_READ", vfu_cmd_region_read,
				  sizeof(struct vfu_region_access),
				  sizeof(struct vfu_region_access), 0 },
	[VFU_CMD_REGION_WRITE] = { "REGION_WRITE", vfu_cmd_region_write,
				   sizeof(struct vfu_region_access),
				   sizeof(struct vfu_region_access) + VFU_MAX_DATA_XFER, 0 },
	[VFU_CMD_DEVICE_RESET] = { "DEVICE_RESET", vfu_cmd_reset, 0, 0, 0 },
	[VFU_CMD_REGION_WRITE_MULTI] = { "REGION_WRITE_MULTI", vfu_cmd_region_write_multi,
					 sizeof(struct vfu_write_multi),
					 sizeof(struct vfu_write_multi) +
						 VFU_WRITE_MULTI_MAX *
							 sizeof(struct vfu_write_multi_entry),
					 0 },
	[VFU_CMD_DEVICE_FEATURE] = { "DEVICE_FEATURE", vfu_cmd_device_feature,
				     sizeof(struct vfu_device_feature),
				     sizeof(struct vfu_device_feature) + VFU_MAX_ARGSZ, 0 },
	[VFU_CMD_MIG_DATA_READ] = { "MIG_DATA_READ", vfu_cmd_mig_data_read,
				    sizeof(struct vfu_mig_data), sizeof(struct vfu_mig_data), 0 },
	[VFU_CMD_MIG_DATA_WRITE] = { "MIG_DATA_WRITE", vfu_cmd_mig_data_write,
				     sizeof(struct vfu_mig_data),
				     sizeof(struct vfu_mig_data) + VFU_MAX_DATA_XFER, 0 },
};

/* The errno a well-framed message gets before its handler runs, or 0 to run it. */
static int vfu_precheck(const struct vfu_conn *conn, const struct vfu_msg *msg,
			const struct vfu_command_desc **ret_desc)
{
	const struct vfu_command_desc *desc;
	uint16_t cmd = msg->hdr.command;

	if ((msg->hdr.flags & ~VFU_FLAGS_KNOWN) || (msg->hdr.flags & VFU_FLAG_ERROR) ||
	    msg->hdr.error)
		return EINVAL;
	if (cmd == VFU_CMD_DMA_READ || cmd == VFU_CMD_DMA_WRITE)
		return EINVAL; /* the server's commands, not the client's */
	if (cmd >= VFU_CMD_MAX || !commands[cmd].handler)
		return ENOSYS;
	desc = &commands[cmd];
	if (!conn->versioned && cmd != VFU_CMD_VERSION)
		return EINVAL; /* VERSION comes first */
	if (msg->len < desc->min_len || msg->len > desc->max_len)
		return EINVAL;
	if (msg->fds_overflow || msg->nfds > desc->max_fds)
		return EINVAL;
	*ret_desc = desc;
	return 0;
}

int vfu_dispatch(struct vfu_conn *conn, struct vfu_msg *msg)
{
	const struct vfu_command_desc *desc = NULL;
	int err, ret;

	if (conn->refused) {
		/* tell the refused client why (usually answering its VERSION), then close */
		msg->hdr.flags &= ~VFU_FLAG_NO_REPLY;
		vfu_reply_error(conn, msg, conn->refuse_errno);
		vfu_conn_close(conn);
		return 0;
	}
	if ((msg->hdr.flags & VFU_FLAG_TYPE_MASK) == VFU_FLAG_TYPE_REPLY) {
		/* the answer to one of the server's DMA commands, or to nothing */
		if (vfu_dma_deliver(conn, msg)) {
			umdev_log(UMDEV_LOG_WARNING, "vfio-user %s: unexpected reply (command %u)",
				  conn->srv->path, msg->hdr.command);
			return -EPROTO;
		}
		return 0;
	}
	if ((msg->hdr.flags & VFU_FLAG_TYPE_MASK) != VFU_FLAG_TYPE_COMMAND)
		return -EPROTO;
	err = vfu_precheck(conn, msg, &desc);
	if (err) {
		umdev_log(UMDEV_LOG_DEBUG, "vfio-user %s: command %u refused: %d", conn->srv->path,
			  msg->hdr.command, err);
		vfu_reply_error(conn, msg, err);
		return 0;
	}
	ret = desc->handler(conn, msg);
	if (ret < 0 && !conn->dead) {
		umdev_log(UMDEV_LOG_DEBUG, "vfio-user %s: %s failed: %d", conn->srv->path,
			  desc->name, ret);
		vfu_reply_error(conn, msg, -ret);
	}
	return 0;
}
