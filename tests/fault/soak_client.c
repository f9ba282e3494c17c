/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client side of the soak (scripts/soak): for @seconds, connects to an mtty device,
 * does a random number of echoes with interrupts and DMA remaps (through INTx, or MSI in
 * every other session), disconnects, and again. Any failure ends it with status 1 and a
 * message; at the end it prints "sessions N echoes M".
 *
 *   soak_client SOCKET SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mtty_traffic.h"

static int session(const char *path, unsigned long n, unsigned long *echoes)
{
	struct mtty_session s;
	unsigned int rounds = 1 + (unsigned int)(random() % 64);
	int ret = mtty_session_open(path, MTTY_TRAFFIC_WAIT_MS, &s);

	if (ret) {
		fprintf(stderr, "soak_client: session %lu: open: %s\n", n, strerror(-ret));
		return ret;
	}
	if ((n & 1) && (ret = mtty_bind_msi(&s)))
		fprintf(stderr, "soak_client: session %lu: bind MSI: %s\n", n, strerror(-ret));
	for (unsigned int i = 0; !ret && i < rounds; i++) {
		ret = mtty_echo_irq(&s, (uint8_t)(n + i));
		if (ret)
			fprintf(stderr, "soak_client: session %lu: echo %u: %s\n", n, i,
				strerror(-ret));
		else if (i % 8 == 7 && (ret = mtty_remap_window(&s, i / 8 % MTTY_TRAFFIC_WINDOWS)))
			fprintf(stderr, "soak_client: session %lu: remap: %s\n", n, strerror(-ret));
		else
			(*echoes)++;
	}
	mtty_session_close(&s);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long sessions = 0, echoes = 0;
	time_t end;

	if (argc != 3) {
		fprintf(stderr, "usage: soak_client SOCKET SECONDS\n");
		return 2;
	}
	end = time(NULL) + atol(argv[2]);
	srandom((unsigned int)getpid());
	while (time(NULL) < end) {
		if (session(argv[1], sessions, &echoes))
			return 1;
		sessions++;
	}
	printf("sessions %lu echoes %lu\n", sessions, echoes);
	return 0;
}
