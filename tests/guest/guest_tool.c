/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest_tool: the guest side of the guest end-to-end tests (docs/guest-tests.md). It runs
 * inside a Linux guest booted from the test initramfs (tests/guest/init starts it), looks
 * for the mtty card among the guest's PCI devices, checks what the guest kernel made of it,
 * sends data through both of its serial ports and powers the guest off. It is linked
 * statically: the initramfs holds nothing else but busybox. guest_card.c reads the card and
 * its ports; guest_demo.c is the demo's view of them (demo=1).
 *
 * What it checks, each as one line on the console (the host test reads them):
 *   GUEST-PASS <check>                 the check passed
 *   GUEST-FAIL <check> <reason>        it failed, and why
 *   GUEST-RESULT <key>=<value>         a measurement or a fact, for the log and benchmarks
 *   GUEST-DMESG <line>                 a kernel log line about the card or the ttyS ports
 *   GUEST-DONE passed=<n> failed=<n>   the last line before the power-off
 * The checks: vendor (there is a PCI device of vendor 0x4348), device (0x3253),
 * revision (0x10), class (0x070002), subsystem (0x4348:0x3253), driver (serial), ports (as
 * many ttyS ports bound to it as it has I/O BARs, and as many as expected),
 * port<i>-at-bar<i> (the i-th port's I/O address is the i-th I/O BAR's), port<i>-16550a
 * (the UART type the kernel gave it), port<i>-polled (with poll=1: the port now polls),
 * port<i>-loopback (bytes written to the port come back intact: the mtty card loops each
 * port's transmitter to its receiver), unless the ports poll, interrupts (the card's
 * interrupt line fired while the ports worked), and with unplug=1, unplugged (the card left
 * the guest's PCI bus when the host unplugged it).
 *
 * Options, from the kernel command line ("umdev.NAME=VALUE") or as arguments ("NAME=VALUE",
 * which win), so that the host test can steer a guest it cannot talk to:
 *   poll=1          switch the card's ports to polled mode (irq 0, by TIOCSSERIAL) first,
 *                   for transports that deliver no interrupts (mpqemu under TCG)
 *   bytes=N         bytes sent through each port (default 4096; 0 skips the loopback)
 *   ports=N         ports the card must have (default 2, as mtty-2)
 *   timeout=S       seconds a port's loopback may take (default 60)
 *   latency=N       also time N port reads (inb of the scratch register) of the card, of a
 *                   QEMU pci-serial-2x card (1b36:0003) when there is one, and of the ISA
 *                   UART at 0x3f8, in batches of 100; results only, no check
 *   unplug=1        after the checks, print "GUEST-UNPLUG-READY" and wait (timeout) for the
 *                   card to leave the PCI bus (the host unplugs it through QMP); after
 *                   GUEST-DONE, wait (timeout) for the host to end the machine instead of
 *                   powering it off, so that the host can remove the device first
 *   demo=1          instead of the checks, print the card as `lspci -v` would and send a
 *                   line of text through each port (guest_demo.c), then power off
 *   poweroff=0      exit instead of powering the machine off (to run it by hand)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/klog.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

#include "guest_tool.h"

#define QEMU_VENDOR 0x1b36
#define QEMU_PCI_SERIAL_2X 0x0003
#define ISA_COM1 0x3f8
#define UART_SCR 7 /* the scratch register: reading it has no side effect */
#define LATENCY_BATCH 100 /* port reads timed together */

#define POLL_INTERVAL_NS 50000000L /* how often the unplug wait looks at sysfs */

static unsigned int npassed, nfailed;

/* ---- output: one write per line, so that nothing interleaves on the console ---- */

void out(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, (size_t)n) < 0)
		return;
}

/* A check: GUEST-PASS NAME, or GUEST-FAIL NAME REASON (the reason formatted from fmt). */
__attribute__((format(printf, 3, 4))) static void check(bool ok, const char *name,
							 const char *fmt, ...)
{
	char why[512];
	va_list ap;

	if (ok) {
		npassed++;
		out("GUEST-PASS %s", name);
		return;
	}
	nfailed++;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	out("GUEST-FAIL %s %s", name, why);
}

/* ---- options ---- */

static int set_option(struct options *o, const char *kv)
{
	const char *eq = strchr(kv, '=');
	unsigned long v;
	char *end;

	if (!eq)
		return -EINVAL;
	errno = 0;
	v = strtoul(eq + 1, &end, 0);
	if (errno || end == eq + 1 || *end)
		return -EINVAL;
#define IS(key) ((size_t)(eq - kv) == strlen(key) && !strncmp(kv, key, strlen(key)))
	if (IS("poll"))
		o->poll = v != 0;
	else if (IS("poweroff"))
		o->poweroff = v != 0;
	else if (IS("bytes"))
		o->bytes = v;
	else if (IS("ports"))
		o->ports = v;
	else if (IS("timeout"))
		o->timeout_s = v;
	else if (IS("unplug"))
		o->unplug = v != 0;
	else if (IS("demo"))
		o->demo = v != 0;
	else if (IS("latency"))
		o->latency = v;
	else
		return -ENOENT;
#undef IS
	return 0;
}

/* The "umdev.NAME=VALUE" words of the kernel command line. */
static void options_from_cmdline(struct options *o)
{
	char buf[4096], *save = NULL, *w;
	ssize_t n;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
		if (!strncmp(w, "umdev.", 6) && set_option(o, w + 6))
			out("GUEST-RESULT bad_option=%s", w);
}/* ---- the loopback ---- */

/* Sends @n bytes of a pseudo-random pattern through the port and reads them back (the
 * mtty card loops each port's transmitter to its receiver). 0, or -1 with the reason in
 * @why. */
static int loopback(const struct port *p, size_t n, unsigned long timeout_s, double *secs,
		    char *why, size_t whylen)
{
	uint8_t *tx = malloc(n ? n : 1), *rx = malloc(n ? n : 1);
	uint32_t x = 0x2545f491u;
	int ret = -1;

	if (!tx || !rx) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		tx[i] = (uint8_t)x;
	}
	if (port_exchange(p, tx, rx, n, timeout_s, secs, why, whylen))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (rx[i] != tx[i]) {
			snprintf(why, whylen, "byte %zu of %zu differs: sent 0x%02x, got 0x%02x", i,
				 n, tx[i], rx[i]);
			goto out;
		}
	}
	ret = 0;
out:
	free(tx);
	free(rx);
	return ret;
}
/* ---- latency of port reads ---- */

/* The time of one inb() of @port: @n reads, in batches of LATENCY_BATCH; the mean per read
 * of the fastest batch in @best_ns (a batch that the host preempted is slower, never
 * faster) and of all of them in @mean_ns. -1 when the guest cannot do port I/O. */
static int inb_ns(unsigned long port, unsigned long n, double *best_ns, double *mean_ns)
{
	volatile uint8_t sink = 0;
	double start, t, total = 0;
	unsigned long done = 0;

	if (iopl(3))
		return -1;
	for (int i = 0; i < 16; i++)
		sink ^= inb((unsigned short)port);
	*best_ns = -1;
	while (done < n) {
		unsigned long k = n - done < LATENCY_BATCH ? n - done : LATENCY_BATCH;

		start = now_s();
		for (unsigned long i = 0; i < k; i++)
			sink ^= inb((unsigned short)port);
		t = now_s() - start;
		total += t;
		if (*best_ns < 0 || t * 1e9 / (double)k < *best_ns)
			*best_ns = t * 1e9 / (double)k;
		done += k;
	}
	(void)sink;
	*mean_ns = total * 1e9 / (double)n;
	return 0;
}

/* latency=N: one GUEST-RESULT line per UART timed: latency_<name>_ns (the best batch) and
 * latency_<name>_mean_ns. */
static void latency_of(const char *name, unsigned long port, unsigned long n)
{
	double best, mean;

	if (inb_ns(port, n, &best, &mean))
		out("GUEST-RESULT latency_%s_failed=iopl", name);
	else
		out("GUEST-RESULT latency_%s_ns=%.1f latency_%s_mean_ns=%.1f", name, best, name, mean);
}

static void latency(const struct pci_dev *mtty, bool have_mtty, unsigned long n)
{
	struct pci_dev qemu_serial;

	if (have_mtty && (mtty->bar_flags[0] & IORESOURCE_IO))
		latency_of("mtty", mtty->bar_start[0] + UART_SCR, n);
	if (!find_pci_dev(QEMU_VENDOR, QEMU_PCI_SERIAL_2X, &qemu_serial) &&
	    (qemu_serial.bar_flags[0] & IORESOURCE_IO))
		latency_of("pci_serial", qemu_serial.bar_start[0] + UART_SCR, n);
	latency_of("isa", ISA_COM1 + UART_SCR, n);
	out("GUEST-RESULT latency_reads=%lu", n);
}

/* ---- the kernel log lines about the card ---- */

static void print_dmesg(const char *bdf)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *line, *save = NULL;
	int n;

	if (size <= 0)
		return;
	buf = malloc((size_t)size + 1);
	if (!buf)
		return;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (n > 0) {
		buf[n] = '\0';
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if ((strstr(line, "ttyS") || (*bdf && strstr(line, bdf)) ||
			     strstr(line, "serial")) && !strstr(line, "ommand line"))
				out("GUEST-DMESG %s", line);
	}
	free(buf);
}

/* ---- the checks ---- */

static void check_card(const struct options *o, struct pci_dev *d)
{
	unsigned int io_bars[MAX_BARS], nio = 0;
	unsigned long long irqs_before, irqs_after;
	bool polled = o->poll;

	out("GUEST-RESULT bdf=%s", d->bdf);
	out("GUEST-RESULT vendor=0x%04lx device=0x%04lx revision=0x%02lx class=0x%06lx", d->vendor,
	    d->device, d->revision, d->class_code);
	out("GUEST-RESULT subsystem=0x%04lx:0x%04lx irq=%lu driver=%s", d->sub_vendor,
	    d->sub_device, d->irq, *d->driver ? d->driver : "none");
	check(d->device == MTTY_DEVICE, "device", "device id 0x%04lx, not 0x%04x", d->device,
	      MTTY_DEVICE);
	check(d->revision == MTTY_REVISION, "revision", "revision 0x%02lx, not 0x%02x",
	      d->revision, MTTY_REVISION);
	check(d->class_code == MTTY_CLASS, "class", "class 0x%06lx, not 0x%06x", d->class_code,
	      MTTY_CLASS);
	check(d->sub_vendor == MTTY_VENDOR && d->sub_device == MTTY_DEVICE, "subsystem",
	      "subsystem 0x%04lx:0x%04lx, not 0x%04x:0x%04x", d->sub_vendor, d->sub_device,
	      MTTY_VENDOR, MTTY_DEVICE);
	check(!strcmp(d->driver, "serial"), "driver", "driver '%s', not 'serial'",
	      *d->driver ? d->driver : "none");

	for (unsigned int i = 0; i < MAX_BARS; i++) {
		if (!(d->bar_flags[i] & IORESOURCE_IO))
			continue;
		out("GUEST-RESULT bar%u=0x%lx", i, d->bar_start[i]);
		io_bars[nio++] = i;
	}
	find_ports(d);
	for (unsigned int i = 0; i < d->nports; i++) {
		const struct port *p = &d->port[i];

		out("GUEST-RESULT port%u=%s address=0x%lx type=%d irq=%d", i, p->name,
		    port_address(p), p->have_ss ? p->ss.type : -1, p->have_ss ? p->ss.irq : -1);
	}
	out("GUEST-RESULT ports=%u io_bars=%u", d->nports, nio);
	check(d->nports == o->ports && nio == o->ports, "ports",
	      "%u ttyS ports and %u I/O BARs, expected %lu of each", d->nports, nio, o->ports);
	for (unsigned int i = 0; i < d->nports; i++) {
		const struct port *p = &d->port[i];
		char name[64];

		snprintf(name, sizeof(name), "port%u-at-bar%u", i, i < nio ? io_bars[i] : i);
		check(p->have_ss && i < nio && port_address(p) == d->bar_start[io_bars[i]], name,
		      "%s at I/O 0x%lx, the BAR is at 0x%lx", p->name, port_address(p),
		      i < nio ? d->bar_start[io_bars[i]] : 0);
		snprintf(name, sizeof(name), "port%u-16550a", i);
		check(p->have_ss && p->ss.type == PORT_16550A, name,
		      "%s has UART type %d, not 16550A (%d)", p->name, p->have_ss ? p->ss.type : -1,
		      PORT_16550A);
	}
	print_dmesg(d->bdf);
	if (!o->bytes)
		return;

	if (polled) {
		for (unsigned int i = 0; i < d->nports; i++) {
			int ret = port_set_polled(&d->port[i]);
			char name[64];

			snprintf(name, sizeof(name), "port%u-polled", i);
			check(!ret && d->port[i].ss.irq == 0, name, "TIOCSSERIAL irq 0 on %s: %s",
			      d->port[i].name, ret ? strerror(-ret) : "irq did not change");
		}
	}
	irqs_before = irq_count(d->irq);
	for (unsigned int i = 0; i < d->nports; i++) {
		char name[64], why[256] = "";
		double secs = 0;
		int ret;

		ret = loopback(&d->port[i], o->bytes, o->timeout_s, &secs, why, sizeof(why));
		snprintf(name, sizeof(name), "port%u-loopback", i);
		check(!ret, name, "%s, %lu bytes: %s", d->port[i].name, o->bytes, why);
		if (!ret)
			out("GUEST-RESULT port%u_loopback_bytes=%lu seconds=%.3f bytes_per_s=%.0f", i,
			    o->bytes, secs, secs > 0 ? (double)o->bytes / secs : 0.0);
	}
	irqs_after = irq_count(d->irq);
	out("GUEST-RESULT irq_count=%llu", irqs_after - irqs_before);
	if (!polled)
		check(irqs_after > irqs_before, "interrupts",
		      "no interrupt counted on irq %lu during the loopback", d->irq);
}

/* unplug=1: the host unplugs the card; check that it leaves the guest's PCI bus. */
static void check_unplug(const struct options *o, const struct pci_dev *d)
{
	const struct timespec tick = { .tv_nsec = POLL_INTERVAL_NS };
	double deadline = now_s() + (double)o->timeout_s;
	bool gone;

	out("GUEST-UNPLUG-READY bdf=%s", d->bdf);
	while (!(gone = access(d->dir, F_OK) != 0) && now_s() < deadline)
		nanosleep(&tick, NULL);
	check(gone, "unplugged", "%s is still on the PCI bus after %lu s", d->bdf, o->timeout_s);
}

/* unplug=1: the host ends the machine once it has removed the device; power off only
 * when it does not within the timeout. */
static void wait_for_host(const struct options *o)
{
	const struct timespec t = { .tv_sec = (time_t)o->timeout_s };

	out("GUEST-RESULT waiting_for_host=%lu", o->timeout_s);
	nanosleep(&t, NULL);
}

int main(int argc, char **argv)
{
	struct options o = { .poweroff = true, .bytes = 4096, .ports = 2, .timeout_s = 60 };
	struct pci_dev card;
	bool found;
	double t0 = uptime_s();

	out("%s", ""); /* whatever the firmware left on the console's line ends here */
	options_from_cmdline(&o);
	for (int i = 1; i < argc; i++)
		if (set_option(&o, argv[i]))
			out("GUEST-RESULT bad_option=%s", argv[i]);
	if (o.demo) {
		demo(&o);
		goto end;
	}
	out("GUEST-RESULT uptime_at_start=%.2f", t0);
	out("GUEST-RESULT options poll=%d bytes=%lu ports=%lu timeout=%lu latency=%lu unplug=%d",
	    o.poll, o.bytes, o.ports, o.timeout_s, o.latency, o.unplug);

	found = find_pci_dev(MTTY_VENDOR, ULONG_MAX, &card) == 0;
	check(found, "vendor", "no PCI device of vendor 0x%04x", MTTY_VENDOR);
	if (found)
		check_card(&o, &card);
	else
		print_dmesg("");
	if (o.latency)
		latency(&card, found, o.latency);
	if (o.unplug && found)
		check_unplug(&o, &card);

	out("GUEST-RESULT uptime_at_end=%.2f", uptime_s());
	out("GUEST-DONE passed=%u failed=%u", npassed, nfailed);
	if (o.unplug)
		wait_for_host(&o);
end:
	if (!o.poweroff)
		return nfailed ? 1 : 0;
	sync();
	reboot(RB_POWER_OFF);
	out("GUEST-RESULT poweroff_failed=%s", strerror(errno));
	return 1;
}
