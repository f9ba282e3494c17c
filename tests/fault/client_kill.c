/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Clients killed in the middle of traffic (issue 7, item 4): a forked child connects to an
 * mtty device of a running umdevd, maps guest memory from a memfd, binds INTx (and in every
 * other cycle switches to MSI), and echoes bytes with interrupts, remapping its DMA windows
 * as it goes, until the parent SIGKILLs it after a random delay. The delay is drawn from a
 * span that follows the time children take to reach their first echo, widened or narrowed
 * after each kill so that about half of the kills land in traffic and the rest in the
 * connect and set-up, however loaded the host. After a warm-up the daemon's fds, mappings, threads and
 * RSS are taken; after all cycles they must be back (RSS within 5 %) and a new client must
 * pass mtty_check(). Prints TAP.
 *
 * Environment (set by client_kill.sh): UMDEV_FAULT_DAEMON_PID, UMDEV_FAULT_SOCKET,
 * UMDEV_FAULT_CLIENT_KILLS (cycles, 1000 unless given), and UMDEV_FAULT_SANITIZED (set in
 * sanitizer builds, where RSS is the sanitizer's more than the daemon's: it is reported,
 * not compared).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mtty_traffic.h"
#include "proc_stats.h"
#include "tap.h"

#define WARMUP_CYCLES 50
#define CHECK_EVERY 250
#define SETTLE_MS 10000
#define RSS_TOLERANCE_PCT 5
/* the widest delay span, in times to the first echo: bounds a kill's cost on a loaded host */
#define MAX_SPAN 8.0

/* What a child reached, in memory shared with the parent. */
struct child_report {
	int stage;	       /* STAGE_* */
	long long traffic_us;  /* from fork to the first completed echo */
};

enum { STAGE_STARTED, STAGE_SESSION, STAGE_TRAFFIC, STAGE_COUNT };
static const char *const stage_names[] = { "before the session was set up",
					   "with DMA and IRQs set up",
					   "in the middle of traffic" };

static pid_t daemon_pid;
static const char *socket_path;
static struct child_report *report;

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* The child: never returns. Exits 0 only if it was not killed, which the parent counts as
 * a failure, as it does any other exit. */
static void child_main(unsigned int cycle, long long t0)
{
	struct mtty_session s;
	int ret;

	ret = mtty_session_open(socket_path, MTTY_TRAFFIC_WAIT_MS, &s);
	if (ret)
		_exit(10);
	if ((cycle & 1) && mtty_bind_msi(&s))
		_exit(11);
	__atomic_store_n(&report->stage, STAGE_SESSION, __ATOMIC_RELEASE);
	for (unsigned int i = 0;; i++) {
		if (mtty_echo_irq(&s, (uint8_t)i))
			_exit(12);
		if (i == 0) {
			report->traffic_us = now_us() - t0;
			__atomic_store_n(&report->stage, STAGE_TRAFFIC, __ATOMIC_RELEASE);
		}
		if (i % 4 == 3 && mtty_remap_window(&s, i / 4 % MTTY_TRAFFIC_WINDOWS))
			_exit(13);
	}
}

struct kill_stats {
	unsigned int stages[STAGE_COUNT];
	unsigned int bad_exits;	/* children that ended otherwise than by our SIGKILL */
	int last_bad_status;
	long long avg_traffic_us; /* running estimate of the time to the first echo */
	double span;		  /* delays are drawn from [0, span * avg_traffic_us] */
	unsigned int kills;	  /* since the stats were reset */
};

/* One cycle: fork, wait a random time, SIGKILL, reap. */
static void kill_cycle(unsigned int cycle, struct kill_stats *ks)
{
	long long t0, delay;
	pid_t pid;
	int status;

	report->stage = STAGE_STARTED;
	report->traffic_us = 0;
	t0 = now_us();
	pid = fork();
	if (pid < 0) {
		ks->bad_exits++;
		return;
	}
	if (pid == 0)
		child_main(cycle, t0);
	delay = (long long)((double)random() / RAND_MAX * ks->span * (double)ks->avg_traffic_us);
	while (now_us() - t0 < delay) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			goto reaped; /* it ended early: a failure */
		usleep(100);
	}
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
reaped:
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		ks->bad_exits++;
		ks->last_bad_status = status;
	}
	ks->stages[report->stage]++;
	ks->kills++;
	if (report->stage == STAGE_TRAFFIC)
		ks->avg_traffic_us = (ks->avg_traffic_us * 7 + report->traffic_us) / 8;
	/* steer towards half of the kills in traffic */
	if (ks->stages[STAGE_TRAFFIC] * 2 < ks->kills)
		ks->span = ks->span * 1.05 < MAX_SPAN ? ks->span * 1.05 : MAX_SPAN;
	else
		ks->span = ks->span / 1.05 > 1 ? ks->span / 1.05 : 1;
}

/* Waits until the daemon's fds, mappings and threads equal @want (or, with @want NULL, until
 * two reads 50 ms apart agree); the last read in @st. Bounded by SETTLE_MS. */
static bool settle(const struct proc_stats *want, struct proc_stats *st)
{
	struct proc_stats prev = { -1, -1, -1, -1 };

	for (int waited = 0; waited < SETTLE_MS; waited += 50) {
		if (proc_stats_read(daemon_pid, st))
			return false;
		if (want ? st->fds == want->fds && st->maps == want->maps &&
				   st->threads == want->threads
			 : st->fds == prev.fds && st->maps == prev.maps &&
				   st->threads == prev.threads)
			return true;
		prev = *st;
		usleep(50 * 1000);
	}
	return false;
}

static bool device_works(const char *when)
{
	char why[256] = "";
	int ret = mtty_check(socket_path, why, sizeof(why));

	if (ret)
		tap_diag("the device fails %s: %s", when, why);
	return ret == 0;
}

TEST(killed_clients_leave_nothing_behind)
{
	const char *n_env = getenv("UMDEV_FAULT_CLIENT_KILLS");
	unsigned int cycles = n_env ? (unsigned int)strtoul(n_env, NULL, 10) : 1000;
	struct kill_stats ks = { .avg_traffic_us = 2000, .span = 3 };
	struct proc_stats base, end;
	long long t_start;

	REQUIRE(device_works("before the first client is killed"));
	for (unsigned int i = 0; i < WARMUP_CYCLES; i++)
		kill_cycle(i, &ks);
	REQUIRE(device_works("after the warm-up"));
	REQUIRE(settle(NULL, &base));
	tap_diag("after %u warm-up kills: %ld fds, %ld mappings, %ld threads, RSS %ld KiB",
		 WARMUP_CYCLES, base.fds, base.maps, base.threads, base.rss_kib);

	ks = (struct kill_stats){ .avg_traffic_us = ks.avg_traffic_us, .span = ks.span };
	t_start = now_us();
	for (unsigned int i = 0; i < cycles; i++) {
		kill_cycle(i, &ks);
		if (kill(daemon_pid, 0)) {
			CHECK(!"the daemon is still running");
			return;
		}
		if (i % CHECK_EVERY == CHECK_EVERY - 1 && !CHECK(device_works("between kills")))
			return;
	}
	tap_diag("%u kills in %.1f s: %u %s, %u %s, %u %s; ~%lld us to the first echo", cycles,
		 (double)(now_us() - t_start) / 1e6, ks.stages[STAGE_STARTED],
		 stage_names[STAGE_STARTED], ks.stages[STAGE_SESSION], stage_names[STAGE_SESSION],
		 ks.stages[STAGE_TRAFFIC], stage_names[STAGE_TRAFFIC], ks.avg_traffic_us);
	if (!CHECK_EQ(ks.bad_exits, 0))
		tap_diag("a child ended by itself (status %#x): its traffic failed",
			 ks.last_bad_status);
	/* the test proves nothing unless the kills hit clients in traffic and in set-up */
	CHECK(ks.stages[STAGE_TRAFFIC] >= cycles / 4);
	CHECK(ks.stages[STAGE_STARTED] + ks.stages[STAGE_SESSION] >= cycles / 10);

	CHECK(device_works("after the last kill"));
	if (!settle(&base, &end))
		tap_diag("the daemon did not get back to its fds, mappings and threads in %d ms",
			 SETTLE_MS);
	tap_diag("at the end: %ld fds, %ld mappings, %ld threads, RSS %ld KiB", end.fds,
		 end.maps, end.threads, end.rss_kib);
	CHECK_EQ(end.fds, base.fds);
	CHECK_EQ(end.maps, base.maps);
	CHECK_EQ(end.threads, base.threads);
	if (getenv("UMDEV_FAULT_SANITIZED")) {
		/* the sanitizer's allocator, quarantine and shadow memory are most of RSS and
		 * grow on their own; LeakSanitizer checks the daemon at its exit instead */
		tap_diag("RSS not compared: the daemon runs under a sanitizer");
		return;
	}
	CHECK(end.rss_kib * 100 <= base.rss_kib * (100 + RSS_TOLERANCE_PCT));
	CHECK(end.rss_kib * 100 >= base.rss_kib * (100 - RSS_TOLERANCE_PCT));
}

int main(int argc, char **argv)
{
	const char *pid_env = getenv("UMDEV_FAULT_DAEMON_PID");

	socket_path = getenv("UMDEV_FAULT_SOCKET");
	if (!pid_env || !socket_path) {
		fprintf(stderr, "client_kill: set UMDEV_FAULT_DAEMON_PID and UMDEV_FAULT_SOCKET\n");
		return 2;
	}
	daemon_pid = (pid_t)atoi(pid_env);
	report = mmap(NULL, sizeof(*report), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		      -1, 0);
	if (report == MAP_FAILED)
		return 2;
	srandom((unsigned int)getpid());
	return tap_main(argc, argv);
}
