/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wrappers of fault_inject.h. Each __wrap_F asks fault_fires() whether this call is the
 * one to fail; if so it fails the way F documents (errno set, NULL or -1, or an error
 * number for pthread_create), else it calls __real_F, the linker's name for the real F.
 * The file offset functions are the *64 names that _FILE_OFFSET_BITS=64 makes callers use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <unistd.h>

#include "fault_inject.h"

static _Thread_local struct {
	bool armed;
	unsigned long calls;
	unsigned long fail_at;
	const char *failed;
} ft;

void fault_arm(unsigned long fail_at)
{
	ft.armed = true;
	ft.calls = 0;
	ft.fail_at = fail_at;
	ft.failed = NULL;
}

unsigned long fault_disarm(void)
{
	ft.armed = false;
	return ft.calls;
}

const char *fault_failed_call(void)
{
	return ft.failed;
}

/* True when this call of @name is the one to fail (errno is then @err). */
static bool fault_fires(const char *name, int err)
{
	if (!ft.armed || ++ft.calls != ft.fail_at)
		return false;
	ft.failed = name;
	errno = err;
	return true;
}

/* Declares __real_F and __wrap_F with F's parameters. */
#define WRAP_DECL(ret, name, ...)                   \
	ret __real_##name(__VA_ARGS__);             \
	ret __wrap_##name(__VA_ARGS__);

/* ---- allocations: NULL (or -1 for the *asprintf) with ENOMEM ---- */

WRAP_DECL(void *, malloc, size_t)
WRAP_DECL(void *, calloc, size_t, size_t)
WRAP_DECL(void *, realloc, void *, size_t)
WRAP_DECL(char *, strdup, const char *)
WRAP_DECL(char *, strndup, const char *, size_t)
WRAP_DECL(int, vasprintf, char **, const char *, va_list)
int __wrap_asprintf(char **strp, const char *fmt, ...);

void *__wrap_malloc(size_t size)
{
	return fault_fires("malloc", ENOMEM) ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fault_fires("calloc", ENOMEM) ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return fault_fires("realloc", ENOMEM) ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return fault_fires("strdup", ENOMEM) ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return fault_fires("strndup", ENOMEM) ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **strp, const char *fmt, va_list ap)
{
	return fault_fires("vasprintf", ENOMEM) ? -1 : __real_vasprintf(strp, fmt, ap);
}

int __wrap_asprintf(char **strp, const char *fmt, ...)
{
	va_list ap;
	int ret;

	if (fault_fires("asprintf", ENOMEM))
		return -1;
	va_start(ap, fmt);
	ret = __real_vasprintf(strp, fmt, ap);
	va_end(ap);
	return ret;
}

/* ---- files and directories ---- */

WRAP_DECL(int, open64, const char *, int, ...)
WRAP_DECL(int, openat64, int, const char *, int, ...)
WRAP_DECL(int, mkdir, const char *, mode_t)
WRAP_DECL(int, mkdirat, int, const char *, mode_t)
WRAP_DECL(int, chmod, const char *, mode_t)
WRAP_DECL(int, chown, const char *, uid_t, gid_t)
WRAP_DECL(int, fchmod, int, mode_t)
WRAP_DECL(int, fsync, int)
WRAP_DECL(int, renameat, int, const char *, int, const char *)
WRAP_DECL(int, unlinkat, int, const char *, int)
WRAP_DECL(int, symlink, const char *, const char *)
WRAP_DECL(ssize_t, write, int, const void *, size_t)
WRAP_DECL(ssize_t, getrandom, void *, size_t, unsigned int)
WRAP_DECL(DIR *, fdopendir, int)

/* open's mode argument is there only when O_CREAT or O_TMPFILE asks for one */
static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return fault_fires("open", EMFILE) ? -1 : __real_open64(path, flags, mode);
}

int __wrap_openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return fault_fires("openat", EMFILE) ? -1 : __real_openat64(dirfd, path, flags, mode);
}

int __wrap_mkdir(const char *path, mode_t mode)
{
	return fault_fires("mkdir", ENOSPC) ? -1 : __real_mkdir(path, mode);
}

int __wrap_mkdirat(int dirfd, const char *path, mode_t mode)
{
	return fault_fires("mkdirat", ENOSPC) ? -1 : __real_mkdirat(dirfd, path, mode);
}

int __wrap_chmod(const char *path, mode_t mode)
{
	return fault_fires("chmod", EIO) ? -1 : __real_chmod(path, mode);
}

int __wrap_chown(const char *path, uid_t uid, gid_t gid)
{
	return fault_fires("chown", EIO) ? -1 : __real_chown(path, uid, gid);
}

int __wrap_fchmod(int fd, mode_t mode)
{
	return fault_fires("fchmod", EIO) ? -1 : __real_fchmod(fd, mode);
}

int __wrap_fsync(int fd)
{
	return fault_fires("fsync", EIO) ? -1 : __real_fsync(fd);
}

int __wrap_renameat(int olddir, const char *oldpath, int newdir, const char *newpath)
{
	return fault_fires("renameat", ENOSPC) ? -1 : __real_renameat(olddir, oldpath, newdir, newpath);
}

int __wrap_unlinkat(int dirfd, const char *path, int flags)
{
	return fault_fires("unlinkat", EIO) ? -1 : __real_unlinkat(dirfd, path, flags);
}

int __wrap_symlink(const char *target, const char *path)
{
	return fault_fires("symlink", ENOSPC) ? -1 : __real_symlink(target, path);
}

/* Only a write to a file can fail for want of space: one that wakes a thread through an
 * eventfd or pipe cannot, and code rightly relies on that. */
static bool is_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

ssize_t __wrap_write(int fd, const void *buf, size_t count)
{
	if (ft.armed && is_file(fd) && fault_fires("write", ENOSPC))
		return -1;
	return __real_write(fd, buf, count);
}

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
	return fault_fires("getrandom", EIO) ? -1 : __real_getrandom(buf, len, flags);
}

DIR *__wrap_fdopendir(int fd)
{
	return fault_fires("fdopendir", ENOMEM) ? NULL : __real_fdopendir(fd);
}

/* ---- sockets, event fds, memory maps, threads ---- */

WRAP_DECL(int, socket, int, int, int)
WRAP_DECL(int, bind, int, const struct sockaddr *, socklen_t)
WRAP_DECL(int, listen, int, int)
WRAP_DECL(int, epoll_create1, int)
WRAP_DECL(int, epoll_ctl, int, int, int, struct epoll_event *)
WRAP_DECL(int, eventfd, unsigned int, int)
WRAP_DECL(int, timerfd_create, int, int)
WRAP_DECL(void *, mmap64, void *, size_t, int, int, int, off_t)
WRAP_DECL(int, pthread_create, pthread_t *, const pthread_attr_t *, void *(*)(void *), void *)

int __wrap_socket(int domain, int type, int protocol)
{
	return fault_fires("socket", EMFILE) ? -1 : __real_socket(domain, type, protocol);
}

int __wrap_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return fault_fires("bind", EADDRINUSE) ? -1 : __real_bind(fd, addr, len);
}

int __wrap_listen(int fd, int backlog)
{
	return fault_fires("listen", ENOBUFS) ? -1 : __real_listen(fd, backlog);
}

int __wrap_epoll_create1(int flags)
{
	return fault_fires("epoll_create1", EMFILE) ? -1 : __real_epoll_create1(flags);
}

int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	/* EPOLL_CTL_DEL does not fail on a valid fd: cleanup paths rely on that */
	if (op != EPOLL_CTL_DEL && fault_fires("epoll_ctl", ENOMEM))
		return -1;
	return __real_epoll_ctl(epfd, op, fd, ev);
}

int __wrap_eventfd(unsigned int initval, int flags)
{
	return fault_fires("eventfd", EMFILE) ? -1 : __real_eventfd(initval, flags);
}

int __wrap_timerfd_create(int clockid, int flags)
{
	return fault_fires("timerfd_create", EMFILE) ? -1 : __real_timerfd_create(clockid, flags);
}

void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return fault_fires("mmap", ENOMEM) ? MAP_FAILED
					   : __real_mmap64(addr, len, prot, flags, fd, off);
}

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			  void *(*start)(void *), void *arg)
{
	if (fault_fires("pthread_create", EAGAIN))
		return EAGAIN;
	return __real_pthread_create(thread, attr, start, arg);
}
