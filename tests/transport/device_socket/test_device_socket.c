/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One listening socket for both transports (<umdev/device_socket.h>), served in-process for
 * a null device on a one-thread worker pool: a vfio-user client (libumdev-client) and an
 * mpqemu client (a PCI_CFGREAD written byte by byte at the wire offsets of
 * spec/qemu-transports.md B) through the socket and through its alias link; one client at a
 * time across both; a header that comes in pieces; silent connections pushed out by new
 * ones; one fd per idle device, mode 0600; stale sockets replaced, other files not; and
 * destroy leaving neither names nor fds behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <umdev/client.h>
#include <umdev/device_socket.h>
#include <umdev/mdev_manage.h>
#include <umdev/module.h>
#include <umdev/vfio_device_fd.h>
#include <umdev/workers.h>

#include "tap.h"

extern const struct umdev_driver_module umdev_builtin_null;

#define NULL_IDS 0x6e751234u /* the null device's vendor and device IDs, config offset 0 */
#define WAIT_MS 5000

static struct umdev_workers *workers;
static struct mdev_device *mdev;
static struct vfio_device *vdev;
static char dir[64], path[128], alias[128];

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the DIR's own fd */
}

static int connect_to(const char *p)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { WAIT_MS / 1000, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", p);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An mpqemu PCI_CFGREAD of 4 bytes at 0, sent in two pieces split at @split (0: one). */
static int mpq_cfgread(int fd, size_t split, uint32_t *value)
{
	uint8_t msg[16 + 12] = { 0 }, ret[24];
	ssize_t n;

	msg[0] = 3;  /* cmd PCI_CFGREAD, int32 */
	msg[8] = 12; /* size, u64: the payload {u32 addr = 0, u32 val, i32 len} */
	msg[16 + 8] = 4;
	if (split) {
		if (write(fd, msg, split) != (ssize_t)split)
			return -1;
		usleep(20 * 1000);
	}
	if (write(fd, msg + split, sizeof(msg) - split) != (ssize_t)(sizeof(msg) - split))
		return -1;
	for (size_t got = 0; got < sizeof(ret); got += (size_t)n) {
		n = read(fd, ret + got, sizeof(ret) - got);
		if (n <= 0)
			return -1;
	}
	if (ret[0] != 1 || ret[8] != 8) /* RET with 8 bytes */
		return -1;
	memcpy(value, ret + 16, 4);
	return 0;
}

/* True when @fd is closed by the server within WAIT_MS (EOF or reset). */
static bool closed_by_server(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;

	return poll(&p, 1, WAIT_MS) == 1 && read(fd, &c, 1) <= 0;
}

static int make_socket(struct umdev_device_socket **ret)
{
	struct umdev_device_socket_config cfg = {
		.socket_path = path, .alias_path = alias, .workers = workers,
		.owner = (uid_t)-1, .group = (gid_t)-1,
	};

	return umdev_device_socket_create(vdev, &cfg, ret);
}

/* Waits until the fd count is @want (the release of a socket runs on its worker). */
static bool fds_settle(int want)
{
	for (int i = 0; i < WAIT_MS / 10; i++) {
		if (fd_count() == want)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

TEST(one_fd_per_idle_device_and_none_after_destroy)
{
	struct umdev_device_socket *ds;
	struct stat st;
	int before = fd_count();

	REQUIRE_EQ(make_socket(&ds), 0);
	CHECK_EQ(fd_count(), before + 1);
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK(lstat(alias, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(stat(alias, &st) == 0 && S_ISSOCK(st.st_mode));
	umdev_device_socket_destroy(ds);
	CHECK(lstat(path, &st) < 0 && errno == ENOENT);
	CHECK(lstat(alias, &st) < 0 && errno == ENOENT);
	CHECK(fds_settle(before));
}

TEST(vfio_user_and_mpqemu_on_one_socket)
{
	struct umdev_device_socket *ds;
	struct umdev_client *c;
	int before = fd_count(), fd;
	uint32_t v = 0;

	REQUIRE_EQ(make_socket(&ds), 0);
	/* vfio-user on the socket's own name */
	if (CHECK_EQ(umdev_client_connect(path, &c), 0)) {
		CHECK_EQ(umdev_client_region_read(c, VFIO_PCI_CONFIG_REGION_INDEX, 0, &v, 4), 4);
		CHECK_EQ(v, NULL_IDS);
		CHECK(umdev_device_socket_has_client(ds));
		/* one client at a time, whatever its protocol: mpqemu is closed at once */
		fd = connect_to(alias);
		if (CHECK(fd >= 0)) {
			uint8_t msg[28] = { 3, 0, 0, 0, 0, 0, 0, 0, 12 };

			CHECK(write(fd, msg, sizeof(msg)) == (ssize_t)sizeof(msg));
			CHECK(closed_by_server(fd));
			close(fd);
		}
		umdev_client_close(c);
	}
	/* mpqemu through the alias, once the vfio-user client has gone */
	for (int i = 0; i < WAIT_MS / 10 && umdev_device_socket_has_client(ds); i++)
		usleep(10 * 1000);
	fd = connect_to(alias);
	if (CHECK(fd >= 0)) {
		v = 0;
		CHECK_EQ(mpq_cfgread(fd, 0, &v), 0);
		CHECK_EQ(v, NULL_IDS);
		close(fd);
	}
	/* and vfio-user again through the alias: the name does not decide, the bytes do */
	for (int i = 0; i < WAIT_MS / 10 && umdev_device_socket_has_client(ds); i++)
		usleep(10 * 1000);
	if (CHECK_EQ(umdev_client_connect(alias, &c), 0)) {
		v = 0;
		CHECK_EQ(umdev_client_region_read(c, VFIO_PCI_CONFIG_REGION_INDEX, 0, &v, 4), 4);
		CHECK_EQ(v, NULL_IDS);
		umdev_client_close(c);
	}
	umdev_device_socket_destroy(ds);
	CHECK(fds_settle(before));
}

TEST(a_header_in_pieces_is_waited_for)
{
	struct umdev_device_socket *ds;
	int before = fd_count(), fd;
	uint32_t v = 0;

	REQUIRE_EQ(make_socket(&ds), 0);
	fd = connect_to(path);
	if (CHECK(fd >= 0)) {
		/* two bytes cannot tell the protocols apart: the rest comes 20 ms later */
		CHECK_EQ(mpq_cfgread(fd, 2, &v), 0);
		CHECK_EQ(v, NULL_IDS);
		close(fd);
	}
	umdev_device_socket_destroy(ds);
	CHECK(fds_settle(before));
}

TEST(silent_connections_are_pushed_out_by_new_ones)
{
	struct umdev_device_socket *ds;
	struct umdev_client *c;
	int silent[5], before = fd_count();
	uint32_t v = 0;

	REQUIRE_EQ(make_socket(&ds), 0);
	for (int i = 0; i < 5; i++)
		silent[i] = connect_to(path);
	/* the fifth pushed out the first; the others still wait */
	CHECK(silent[0] >= 0 && closed_by_server(silent[0]));
	{
		struct pollfd p = { silent[1], POLLIN, 0 };

		CHECK_EQ(poll(&p, 1, 100), 0);
	}
	/* a real client comes through, pushing out the next */
	if (CHECK_EQ(umdev_client_connect(path, &c), 0)) {
		CHECK_EQ(umdev_client_region_read(c, VFIO_PCI_CONFIG_REGION_INDEX, 0, &v, 4), 4);
		CHECK_EQ(v, NULL_IDS);
		umdev_client_close(c);
	}
	CHECK(closed_by_server(silent[1]));
	/* destroy closes the silent ones still waiting */
	umdev_device_socket_destroy(ds);
	for (int i = 2; i < 5; i++)
		CHECK(closed_by_server(silent[i]));
	for (int i = 0; i < 5; i++)
		close(silent[i]);
	CHECK(fds_settle(before));
}

TEST(a_peer_that_closes_before_a_word_is_dropped)
{
	struct umdev_device_socket *ds;
	struct umdev_client *c;
	int before = fd_count(), fd;

	REQUIRE_EQ(make_socket(&ds), 0);
	fd = connect_to(path);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, "\x01", 1) == 1);
		close(fd);
	}
	CHECK(fds_settle(before + 1)); /* the listening socket only */
	if (CHECK_EQ(umdev_client_connect(path, &c), 0))
		umdev_client_close(c);
	umdev_device_socket_destroy(ds);
	CHECK(fds_settle(before));
}

TEST(bad_configurations_and_stale_files)
{
	struct umdev_device_socket_config cfg = { .socket_path = path, .workers = workers,
						  .owner = (uid_t)-1, .group = (gid_t)-1 };
	struct umdev_device_socket *ds = NULL;
	int before = fd_count(), fd;
	char file[128];

	CHECK_EQ(umdev_device_socket_create(vdev, NULL, &ds), -EINVAL);
	cfg.workers = NULL;
	CHECK_EQ(umdev_device_socket_create(vdev, &cfg, &ds), -EINVAL);
	cfg.workers = workers;
	/* a regular file where the alias would go is not replaced */
	snprintf(file, sizeof(file), "%s/plain", dir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	cfg.alias_path = file;
	CHECK_EQ(umdev_device_socket_create(vdev, &cfg, &ds), -EEXIST);
	CHECK(access(path, F_OK) < 0); /* the socket made first is gone again */
	CHECK(ds == NULL);
	/* nor a regular file where the socket would go; a stale socket is replaced */
	cfg.alias_path = NULL;
	CHECK(rename(file, path) == 0);
	CHECK_EQ(umdev_device_socket_create(vdev, &cfg, &ds), -EEXIST);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_un addr = { .sun_family = AF_UNIX };

		memcpy(addr.sun_path, path, strlen(path) + 1); /* a short /tmp path */
		CHECK(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	}
	close(fd);
	if (CHECK_EQ(umdev_device_socket_create(vdev, &cfg, &ds), 0)) {
		struct umdev_client *c;

		if (CHECK_EQ(umdev_client_connect(path, &c), 0))
			umdev_client_close(c);
		umdev_device_socket_destroy(ds);
	}
	umdev_device_socket_destroy(NULL);
	CHECK(fds_settle(before));
}

static int setup(void)
{
	struct mdev_parent *parent;
	guid_t uuid;
	int ret;

	strcpy(dir, "/tmp/umdev-devsock-XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	snprintf(path, sizeof(path), "%s/vfio-user.sock", dir);
	snprintf(alias, sizeof(alias), "%s/mpqemu.sock", dir);
	ret = umdev_builtin_null.init();
	if (!ret)
		ret = umdev_workers_create(1, &workers);
	if (!ret)
		ret = mdev_parent_get_by_name("null", &parent);
	if (ret)
		return ret;
	mdev_uuid_parse("6f1a2b3c-0000-4000-8000-00000000d5c0", &uuid);
	ret = mdev_device_create(mdev_parent_find_type(parent, "null-1"), &uuid, &mdev);
	mdev_parent_put(parent);
	if (!ret)
		ret = vfio_device_get_from_name("6f1a2b3c-0000-4000-8000-00000000d5c0", &vdev);
	return ret;
}

int main(int argc, char **argv)
{
	int ret = setup();

	if (ret) {
		printf("1..0 # set-up failed: %d\n", ret);
		return 1;
	}
	ret = tap_main(argc, argv);
	vfio_put_device(vdev);
	mdev_device_remove(mdev);
	mdev_device_put(mdev);
	umdev_workers_destroy(workers);
	umdev_builtin_null.exit();
	rmdir(dir);
	return ret;
}
