/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mpqemu dispatcher: a table of the commands a proxy sends, with the payload size and
 * the number of fds each takes, checked before a handler sees the message.
 *
 * What goes wrong, and what follows:
 *   - a command that is not in the table (RET included: only the remote sends it, and an
 *     unknown command might await a reply we cannot give): the stream cannot be followed
 *     any more, and the connection is closed;
 *   - a request that has a reply, with a payload of the wrong size or fds: RET
 *     MPQ_RET_ERROR (QEMU reports the failure), the stream goes on;
 *   - SYNC_SYSMEM with the wrong size or number of fds: nothing of guest memory stays
 *     reachable (a stale mapping is worse than none), the stream goes on;
 *   - SET_IRQFD with a payload or without exactly two fds: ignored.
 * The fds of a message that its handler did not keep are closed before the reply goes out:
 * a client that has its answer knows the server holds nothing more of the request.
 */
#include <errno.h>
#include <unistd.h>

#include <umdev/log.h>

#include "transport/mpqemu/mpq_private.h"

struct mpq_command_desc {
	const char *name;
	int (*handler)(struct mpq_conn *conn, struct mpq_msg *msg, uint64_t *value);
	size_t len;			 /* the payload's exact size */
	size_t min_fds, max_fds;
	bool reply;			 /* answered with RET */
	void (*rejected)(struct mpq_conn *conn); /* a reply-less command failed its checks */
};

static const struct mpq_command_desc commands[MPQ_CMD_MAX] = {
	[MPQ_CMD_SYNC_SYSMEM] = { "SYNC_SYSMEM", mpq_cmd_sync_sysmem,
				  sizeof(struct mpq_sync_sysmem), 1, MPQ_MAX_FDS - 1, false,
				  mpq_sysmem_drop },
	[MPQ_CMD_PCI_CFGWRITE] = { "PCI_CFGWRITE", mpq_cmd_cfg_write,
				   sizeof(struct mpq_pci_conf), 0, 0, true, NULL },
	[MPQ_CMD_PCI_CFGREAD] = { "PCI_CFGREAD", mpq_cmd_cfg_read, sizeof(struct mpq_pci_conf),
				  0, 0, true, NULL },
	[MPQ_CMD_BAR_WRITE] = { "BAR_WRITE", mpq_cmd_bar_write, sizeof(struct mpq_bar_access),
				0, 0, true, NULL },
	[MPQ_CMD_BAR_READ] = { "BAR_READ", mpq_cmd_bar_read, sizeof(struct mpq_bar_access), 0,
			       0, true, NULL },
	[MPQ_CMD_SET_IRQFD] = { "SET_IRQFD", mpq_cmd_set_irqfd, 0, 2, 2, false, NULL },
	[MPQ_CMD_DEVICE_RESET] = { "DEVICE_RESET", mpq_cmd_reset, 0, 0, 0, true, NULL },
};

int mpq_dispatch(struct mpq_conn *conn, struct mpq_msg *msg)
{
	const struct mpq_command_desc *desc;
	uint64_t value = 0;
	int ret;

	if (msg->cmd < 0 || msg->cmd >= MPQ_CMD_MAX || !commands[msg->cmd].handler) {
		umdev_log(UMDEV_LOG_WARNING, "mpqemu %s: unexpected command %d; disconnecting",
			  conn->srv->path, (int)msg->cmd);
		return -EPROTO;
	}
	desc = &commands[msg->cmd];
	if (msg->len != desc->len || msg->fds_overflow || msg->nfds < desc->min_fds ||
	    msg->nfds > desc->max_fds) {
		umdev_log(UMDEV_LOG_DEBUG, "mpqemu %s: %s refused: %zu payload bytes, %zu%s fds",
			  conn->srv->path, desc->name, msg->len, msg->nfds,
			  msg->fds_overflow ? "+" : "");
		if (desc->rejected)
			desc->rejected(conn);
		ret = -EINVAL;
	} else {
		ret = desc->handler(conn, msg, &value);
		if (ret < 0)
			umdev_log(UMDEV_LOG_DEBUG, "mpqemu %s: %s failed: %d", conn->srv->path,
				  desc->name, ret);
	}
	for (size_t i = 0; i < msg->nfds; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
		msg->fds[i] = -1;
	}
	if (!desc->reply)
		return 0;
	if (ret < 0) {
		mpq_stat_add(conn->srv, &conn->srv->stats.error_replies, 1);
		value = MPQ_RET_ERROR;
	}
	mpq_reply(conn, value); /* closes the connection itself if it must */
	return 0;
}
