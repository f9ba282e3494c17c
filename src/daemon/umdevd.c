/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevd: the daemon that hosts umdev's parents and their mediated devices.
 *
 * It starts the built-in drivers and the plugins of its driver directory, serves every
 * mediated device over vfio-user and mpqemu on one socket, <run-dir>/devices/<uuid>/
 * vfio-user.sock (mpqemu.sock is a link to it), offers the kernel's sysfs interface through
 * FUSE and a control socket for umdevctl, and starts the `auto` devices of its definitions
 * when their parent registers. It raises its fd limit for --max-devices at start (one fd
 * per idle device). On SIGTERM or SIGINT it removes every device (asking clients to let go; those that have not after a grace period
 * are disconnected), stops the drivers, unmounts the tree, removes its sockets and exits 0.
 * daemon_config.h lists the options and defaults.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <umdev/log.h>
#include <umdev/mdev_manage.h>
#include <umdev/workers.h>

#include "daemon/daemon_autostart.h"
#include "daemon/daemon_config.h"
#include "daemon/daemon_devices.h"
#include "daemon/daemon_drivers.h"
#include "daemon/daemon_notify.h"
#include "daemon/daemon_rundir.h"
#include "mgmt/ctl/ctl_server.h"
#include "mgmt/persist/definitions.h"
#include "mgmt/sysfs/sysfs.h"

/* Clients get this long to let go of devices being removed at shutdown. */
#define UMDEVD_SHUTDOWN_GRACE_MS 5000

const char *daemon_level_name(int level);

static void log_to_stderr(int level, const char *message, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "umdevd: %s: %s\n", daemon_level_name(level), message);
}

static void log_to_syslog(int level, const char *message, void *userdata)
{
	(void)userdata;
	syslog(level, "%s", message);
}

/*
 * Raises the fd limit for --max-devices: an idle device holds one fd, and UMDEVD_FD_RESERVE
 * are for the rest. The soft limit goes to the hard one (more room costs nothing); when the
 * hard limit is too low, root may raise it (CAP_SYS_RESOURCE); else the daemon cannot keep
 * its promise and says so. 0 or -1 (reported).
 */
static int raise_fd_limit(const struct daemon_config *cfg)
{
	rlim_t need = (rlim_t)cfg->max_devices + UMDEVD_FD_RESERVE;
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) < 0) {
		umdev_log(UMDEV_LOG_ERR, "cannot read the fd limit: %s", strerror(errno));
		return -1;
	}
	if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < need) {
		struct rlimit more = { need, need };

		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			return 0;
		umdev_log(UMDEV_LOG_ERR,
			  "--max-devices %u needs %llu file descriptors (one per device and %d "
			  "more), but the hard limit (RLIMIT_NOFILE) is %llu and cannot be raised "
			  "(%s): raise it (ulimit -Hn, LimitNOFILE=) or lower --max-devices",
			  cfg->max_devices, (unsigned long long)need, UMDEVD_FD_RESERVE,
			  (unsigned long long)lim.rlim_max, strerror(errno));
		return -1;
	}
	if (lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &lim) && lim.rlim_cur < need) {
			umdev_log(UMDEV_LOG_ERR, "cannot raise the fd limit to %llu: %s",
				  (unsigned long long)need, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Detaches from the terminal; the parent returns only when the daemon reports through
 * @ready_fd (a pipe) that it is ready, or failed. Returns in the daemon only.
 */
static void detach(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char status = 1;

	if (pipe(p) < 0) {
		perror("umdevd: pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("umdevd: fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &status, 1) != 1)
			status = 1;
		exit(status);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		exit(1);
	if (!freopen("/dev/null", "r", stdin) || !freopen("/dev/null", "w", stdout) ||
	    !freopen("/dev/null", "w", stderr))
		exit(1);
	*ready_fd = p[1];
}

static void report_ready(int *ready_fd, char status)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &status, 1) != 1)
		umdev_log(UMDEV_LOG_WARNING, "cannot tell the parent process we are ready");
	close(*ready_fd);
	*ready_fd = -1;
}

/* ---- shutdown: clients that do not let go in time are disconnected ---- */

static atomic_bool stopping_done;

static void *shutdown_reaper(void *arg)
{
	struct timespec start, now;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!atomic_load(&stopping_done)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
		    UMDEVD_SHUTDOWN_GRACE_MS)
			devices_disconnect_all();
		usleep(100 * 1000);
	}
	return NULL;
}

static void shutdown_devices(void)
{
	pthread_t reaper;
	bool have_reaper = pthread_create(&reaper, NULL, shutdown_reaper, NULL) == 0;

	if (devices_count())
		umdev_log(UMDEV_LOG_NOTICE,
			  "removing %zu devices; clients have %d ms to let go of them",
			  devices_count(), UMDEVD_SHUTDOWN_GRACE_MS);
	drivers_stop();
	atomic_store(&stopping_done, true);
	if (have_reaper)
		pthread_join(reaper, NULL);
}

/* The temporaries a daemon killed mid-write of a definition left (we hold the lock now). */
static void sweep_definition_temporaries(const struct daemon_config *cfg)
{
	int n = definitions_sweep_temporaries(cfg->conf_dir);

	if (n > 0)
		umdev_log(UMDEV_LOG_NOTICE, "removed %d temporary definition files a killed "
			  "daemon left in %s", n, cfg->conf_dir);
	else if (n < 0)
		umdev_log(UMDEV_LOG_WARNING, "cannot look for temporary definition files in %s: %s",
			  cfg->conf_dir, strerror(-n));
}

/* The control socket at <run-dir>/control.sock; its group is that of --socket-owner. */
static int start_control(const struct daemon_config *cfg, struct ctl_server **ret)
{
	char path[PATH_MAX];
	struct ctl_server_config ctl = {
		.socket_path = path, .conf_dir = cfg->conf_dir, .run_dir = cfg->run_dir,
		.group = cfg->socket_group,
	};
	int ret_code;

	if (snprintf(path, sizeof(path), "%s/control.sock", cfg->run_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret_code = ctl_server_start(&ctl, ret);
	if (ret_code)
		umdev_log(UMDEV_LOG_ERR, "cannot start the control socket %s: %s", path,
			  strerror(-ret_code));
	return ret_code;
}

/* Runs until SIGTERM or SIGINT, starting queued auto devices meanwhile; the signal. */
static int main_loop(int sig_fd)
{
	struct pollfd fds[2] = { { .fd = sig_fd, .events = POLLIN },
				 { .fd = autostart_fd(), .events = POLLIN } };
	struct signalfd_siginfo si;

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			umdev_log(UMDEV_LOG_ERR, "poll: %s", strerror(errno));
			return SIGTERM;
		}
		if (fds[1].revents)
			autostart_run_pending();
		if (fds[0].revents && read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			return (int)si.ssi_signo;
	}
}

int main(int argc, char **argv)
{
	struct daemon_config cfg;
	struct umdev_workers *workers = NULL;
	struct ctl_server *ctl = NULL;
	struct sysfs_fs *sysfs = NULL;
	int ready_fd = -1, lock_fd = -1, sig_fd = -1, sig, ret;
	sigset_t stop;

	ret = daemon_config_parse(argc, argv, &cfg);
	if (ret)
		return ret == 1 ? 0 : 2;
	if (cfg.foreground) {
		umdev_set_log_handler(log_to_stderr, NULL, cfg.log_level);
	} else {
		detach(&ready_fd);
		openlog("umdevd", LOG_PID, LOG_DAEMON);
		umdev_set_log_handler(log_to_syslog, NULL, cfg.log_level);
	}
	/* blocked before any thread starts, so that every thread inherits the mask */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (raise_fd_limit(&cfg))
		goto out_fail;
	sig_fd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (sig_fd < 0) {
		umdev_log(UMDEV_LOG_ERR, "signalfd: %s", strerror(errno));
		goto out_fail;
	}

	ret = rundir_prepare(&cfg, &lock_fd);
	if (ret)
		goto out_fail;
	sweep_definition_temporaries(&cfg);
	ret = umdev_workers_create(cfg.workers, &workers);
	if (ret) {
		umdev_log(UMDEV_LOG_ERR, "cannot start the workers: %s", strerror(-ret));
		goto out_release;
	}
	ret = devices_start(&cfg, workers);
	if (ret)
		goto out_workers;
	ret = autostart_start(&cfg);
	if (ret) {
		umdev_log(UMDEV_LOG_ERR, "cannot follow parents: %s", strerror(-ret));
		goto out_devices;
	}
	drivers_start(&cfg);
	ret = start_control(&cfg, &ctl);
	if (ret)
		goto out_drivers;
	if (cfg.sysfs_dir[0] && sysfs_fs_mount(cfg.sysfs_dir, &sysfs)) {
		umdev_log(UMDEV_LOG_ERR, "cannot serve the sysfs tree at %s (--no-sysfs runs "
			  "without it)", cfg.sysfs_dir);
		goto out_control;
	}

	umdev_log(UMDEV_LOG_NOTICE, "ready: run dir %s, definitions %s", cfg.run_dir,
		  cfg.conf_dir);
	report_ready(&ready_fd, 0);
	daemon_notify("READY=1");
	sig = main_loop(sig_fd);
	umdev_log(UMDEV_LOG_NOTICE, "stopping on %s", strsignal(sig));
	daemon_notify("STOPPING=1");

	ctl_server_stop(ctl);
	autostart_stop();
	shutdown_devices();
	sysfs_fs_unmount(sysfs);
	devices_stop();
	umdev_workers_destroy(workers);
	rundir_release(&cfg, lock_fd);
	close(sig_fd);
	umdev_log(UMDEV_LOG_NOTICE, "stopped");
	return 0;

out_control:
	ctl_server_stop(ctl);
out_drivers:
	autostart_stop();
	drivers_stop();
out_devices:
	devices_stop();
out_workers:
	umdev_workers_destroy(workers);
out_release:
	rundir_release(&cfg, lock_fd);
out_fail:
	if (sig_fd >= 0)
		close(sig_fd);
	report_ready(&ready_fd, 1);
	return 1;
}
