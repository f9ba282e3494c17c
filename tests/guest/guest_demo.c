/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest_demo: what the demo (scripts/demo) shows from inside the guest (guest tool option
 * demo=1): the mtty card described the way `lspci -v` describes it, the ttyS ports the
 * kernel made of it, and a line of text sent through each port and read back (the card
 * loops each port's transmitter to its receiver). Plain text for a person; the tests read
 * the GUEST-* lines of guest_tool.c instead.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guest_tool.h"

#define DEMO_TEXT "Hello from the guest, through umdev's mtty!"

/* lspci's words for a class code (only the ones a demo meets). */
static void class_words(unsigned long class_code, char *buf, size_t size)
{
	if ((class_code >> 8) == 0x0700)
		snprintf(buf, size, "Serial controller");
	else
		snprintf(buf, size, "Class %04lx", class_code >> 8);
}

static void describe(const struct pci_dev *d)
{
	char cls[64];
	const char *bdf = strncmp(d->bdf, "0000:", 5) ? d->bdf : d->bdf + 5;

	class_words(d->class_code, cls, sizeof(cls));
	out("%s %s: Device %04lx:%04lx (rev %02lx) (prog-if %02lx%s)", bdf, cls, d->vendor,
	    d->device, d->revision, d->class_code & 0xff,
	    (d->class_code & 0xffff00) == 0x070000 && (d->class_code & 0xff) == 2 ? " [16550]" : "");
	out("\tSubsystem: Device %04lx:%04lx", d->sub_vendor, d->sub_device);
	out("\tFlags: IRQ %lu", d->irq);
	for (unsigned int i = 0; i < MAX_BARS; i++)
		if (d->bar_flags[i] & IORESOURCE_IO)
			out("\tI/O ports at %04lx [size=%lu]", d->bar_start[i],
			    d->bar_end[i] - d->bar_start[i] + 1);
	out("\tKernel driver in use: %s", *d->driver ? d->driver : "(none)");
	out("%s", "");
	for (unsigned int i = 0; i < d->nports; i++) {
		const struct port *p = &d->port[i];

		out("%s at I/O 0x%lx (irq = %d) is a %s", p->name, port_address(p),
		    p->have_ss ? p->ss.irq : -1,
		    p->have_ss && p->ss.type == PORT_16550A ? "16550A" : "UART of another type");
	}
}

static void send_text(struct port *p, bool poll)
{
	uint8_t rx[sizeof(DEMO_TEXT)] = { 0 };
	char why[256];
	double secs = 0;
	int ret;

	if (poll && (ret = port_set_polled(p))) {
		out("%s: cannot switch it to polling: %s", p->name, strerror(-ret));
		return;
	}
	if (port_exchange(p, (const uint8_t *)DEMO_TEXT, rx, sizeof(DEMO_TEXT) - 1, 30, &secs, why,
			  sizeof(why))) {
		out("%s: the loopback failed: %s", p->name, why);
		return;
	}
	out("%s%s: sent \"%s\"", p->name, poll ? " (polled, irq 0)" : "", DEMO_TEXT);
	out("%*s  got  \"%s\" back in %.0f ms: %s", (int)strlen(p->name), "", (const char *)rx,
	    secs * 1000, memcmp(rx, DEMO_TEXT, sizeof(DEMO_TEXT) - 1) ? "DIFFERENT" : "intact");
}

void demo(const struct options *o)
{
	struct pci_dev card;

	out("%s", "");
	out("---- in the guest: the mtty card (as lspci -v would show it) ----");
	if (find_pci_dev(MTTY_VENDOR, MTTY_DEVICE, &card)) {
		out("no PCI device %04x:%04x in this guest", MTTY_VENDOR, MTTY_DEVICE);
		return;
	}
	find_ports(&card);
	describe(&card);
	out("%s", "");
	out("---- in the guest: a line of text through each port ----");
	for (unsigned int i = 0; i < card.nports; i++)
		send_text(&card.port[i], o->poll);
	out("%s", "");
}
