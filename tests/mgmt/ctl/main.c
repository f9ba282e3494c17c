/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The main() of the management suites: mgmt/ops (test_ops.c) and mgmt/ctl
 * (test_ctl_commands.c, test_ctl_socket.c).
 */
#include <signal.h>

#include "tap.h"

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return tap_main(argc, argv);
}
