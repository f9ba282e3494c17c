/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest_card: the guest tool's view of a PCI card and its serial ports, as the guest's
 * kernel shows them: the device's sysfs directory (IDs, driver, BAR resources), the ttyS
 * ports whose sysfs device is the card (with their TIOCGSERIAL settings), its interrupt count
 * in /proc/interrupts; and the raw byte exchange through a port that the loopback checks and
 * the demo use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "guest_tool.h"

#define MAX_IN_FLIGHT 1024 /* exchanged bytes written but not yet read back */

/* ---- small sysfs and time helpers ---- */

static int read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* A number from a sysfs file of @dir ("0x4348", "11"); ULONG_MAX when unreadable. */
unsigned long read_number(const char *dir, const char *file)
{
	char path[PATH_MAX + 64], buf[64], *end;
	unsigned long v;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_text(path, buf, sizeof(buf)))
		return ULONG_MAX;
	v = strtoul(buf, &end, 0);
	return end == buf ? ULONG_MAX : v;
}


double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


double uptime_s(void)
{
	char buf[64];

	return read_text("/proc/uptime", buf, sizeof(buf)) ? -1.0 : strtod(buf, NULL);
}

/* ---- the PCI device and its ports ---- */

static void read_pci_dev(const char *bdf, struct pci_dev *d)
{
	char path[PATH_MAX + 64], link[PATH_MAX], buf[1024];
	unsigned long long start, end, flags;
	ssize_t n;
	FILE *f;

	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%.63s", bdf);
	snprintf(d->dir, sizeof(d->dir), "/sys/bus/pci/devices/%s", bdf);
	d->vendor = read_number(d->dir, "vendor");
	d->device = read_number(d->dir, "device");
	d->revision = read_number(d->dir, "revision");
	d->class_code = read_number(d->dir, "class");
	d->sub_vendor = read_number(d->dir, "subsystem_vendor");
	d->sub_device = read_number(d->dir, "subsystem_device");
	d->irq = read_number(d->dir, "irq");
	snprintf(path, sizeof(path), "%s/driver", d->dir);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		snprintf(d->driver, sizeof(d->driver), "%.63s",
			 strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	}
	snprintf(path, sizeof(path), "%s/resource", d->dir);
	f = fopen(path, "re");
	for (int i = 0; f && i < MAX_BARS && fgets(buf, sizeof(buf), f); i++) {
		if (sscanf(buf, "%llx %llx %llx", &start, &end, &flags) != 3)
			break;
		d->bar_start[i] = (unsigned long)start;
		d->bar_end[i] = (unsigned long)end;
		d->bar_flags[i] = (unsigned long)flags;
	}
	if (f)
		fclose(f);
}

/* The first PCI device of @vendor (and @device unless it is ULONG_MAX); 0 or -ENOENT. */
int find_pci_dev(unsigned long vendor, unsigned long device, struct pci_dev *ret)
{
	struct dirent **names;
	int n, found = -ENOENT;

	n = scandir("/sys/bus/pci/devices", &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char dir[PATH_MAX];

		if (names[i]->d_name[0] == '.' || found == 0)
			continue;
		snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", names[i]->d_name);
		if (read_number(dir, "vendor") == vendor &&
		    (device == ULONG_MAX || read_number(dir, "device") == device)) {
			read_pci_dev(names[i]->d_name, ret);
			found = 0;
		}
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	if (n >= 0)
		free(names);
	return found;
}

unsigned long port_address(const struct port *p)
{
	return p->ss.port | ((unsigned long)p->ss.port_high << 16);
}

static int cmp_ports(const void *a, const void *b)
{
	unsigned long x = port_address(a), y = port_address(b);

	return x < y ? -1 : x > y;
}

/* The ttyS ports whose sysfs device is @d, sorted by I/O address, with their
 * serial_struct (TIOCGSERIAL). A port is matched by its device link, not its name: the
 * guest's console is ttyS0, and the card's ports get whatever numbers are free. */
void find_ports(struct pci_dev *d)
{
	char devreal[PATH_MAX], path[PATH_MAX + 64], real[PATH_MAX];
	struct dirent *e;
	DIR *dir;

	if (!realpath(d->dir, devreal))
		return;
	dir = opendir("/sys/class/tty");
	while (dir && (e = readdir(dir)) && d->nports < MAX_PORTS) {
		struct port *p = &d->port[d->nports];
		int fd;

		if (strncmp(e->d_name, "ttyS", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/class/tty/%s/device", e->d_name);
		if (!realpath(path, real) || strcmp(real, devreal))
			continue;
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%.31s", e->d_name);
		snprintf(path, sizeof(path), "/dev/%s", p->name);
		fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			p->have_ss = ioctl(fd, TIOCGSERIAL, &p->ss) == 0;
			close(fd);
		}
		d->nports++;
	}
	if (dir)
		closedir(dir);
	qsort(d->port, d->nports, sizeof(d->port[0]), cmp_ports);
}

/* The interrupts counted so far for @irq in /proc/interrupts, over all CPUs. */
unsigned long long irq_count(unsigned long irq)
{
	char line[4096], *p, *end;
	unsigned long long sum = 0;
	FILE *f = fopen("/proc/interrupts", "re");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long n = strtoul(line, &p, 10);

		if (p == line || *p != ':' || n != irq)
			continue;
		for (p++;; p = end) {
			unsigned long long c = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += c;
		}
	}
	if (f)
		fclose(f);
	return sum;
}

/* Puts the port in polled mode (irq 0), as `setserial PORT irq 0` does; 0 or -errno. */
int port_set_polled(struct port *p)
{
	char path[64];
	struct serial_struct ss;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/dev/%s", p->name);
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TIOCGSERIAL, &ss) == 0) {
		ss.irq = 0;
		if (ioctl(fd, TIOCSSERIAL, &ss) || ioctl(fd, TIOCGSERIAL, &p->ss))
			ret = -errno;
	} else {
		ret = -errno;
	}
	close(fd);
	return ret;
}

/* ---- moving bytes ---- */

/* Writes the @n bytes of @tx to the port (raw, 115200 baud) and reads @n bytes into @rx,
 * both at once (the receiver holds only 16 bytes), within @timeout_s; the time it took in
 * @secs. 0, or -1 with the reason in @why. */
int port_exchange(const struct port *p, const uint8_t *tx, uint8_t *rx, size_t n,
		  unsigned long timeout_s, double *secs, char *why, size_t whylen)
{
	size_t wr = 0, rd = 0;
	struct termios t;
	char path[64];
	double start, deadline;
	int fd = -1, ret = -1;

	snprintf(path, sizeof(path), "/dev/%s", p->name);
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "open %s: %s", path, strerror(errno));
		goto out;
	}
	if (tcgetattr(fd, &t)) {
		snprintf(why, whylen, "tcgetattr: %s", strerror(errno));
		goto out;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cflag &= ~(tcflag_t)CRTSCTS;
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	cfsetspeed(&t, B115200);
	if (tcsetattr(fd, TCSANOW, &t) || tcflush(fd, TCIOFLUSH)) {
		snprintf(why, whylen, "tcsetattr: %s", strerror(errno));
		goto out;
	}
	start = now_s();
	deadline = start + (double)timeout_s;
	while (rd < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = deadline - now_s();
		ssize_t k;

		if (wr < n && wr - rd < MAX_IN_FLIGHT)
			pfd.events |= POLLOUT;
		if (left <= 0) {
			snprintf(why, whylen, "timeout after %lu s: %zu written, %zu read", timeout_s,
				 wr, rd);
			goto out;
		}
		if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR) {
			snprintf(why, whylen, "poll: %s", strerror(errno));
			goto out;
		}
		if (pfd.revents & POLLIN) {
			k = read(fd, rx + rd, n - rd);
			if (k < 0 && errno != EAGAIN && errno != EINTR) {
				snprintf(why, whylen, "read: %s", strerror(errno));
				goto out;
			}
			if (k > 0)
				rd += (size_t)k;
		}
		if (pfd.revents & POLLOUT) {
			size_t chunk = n - wr;

			if (chunk > MAX_IN_FLIGHT - (wr - rd))
				chunk = MAX_IN_FLIGHT - (wr - rd);
			k = write(fd, tx + wr, chunk);
			if (k < 0 && errno != EAGAIN && errno != EINTR) {
				snprintf(why, whylen, "write: %s", strerror(errno));
				goto out;
			}
			if (k > 0)
				wr += (size_t)k;
		}
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			snprintf(why, whylen, "poll reports 0x%x", (unsigned int)pfd.revents);
			goto out;
		}
	}
	*secs = now_s() - start;
	ret = 0;
out:
	if (fd >= 0) {
		tcflush(fd, TCIOFLUSH);
		close(fd);
	}
	return ret;
}
