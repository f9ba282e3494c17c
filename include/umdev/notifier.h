/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Change notifications. The mdev core (parents and mediated devices added and removed) and
 * the vfio layer (vfio devices registered and unregistered) tell the management plane and
 * the transports about changes through notifier blocks, as the kernel's notifier chains do.
 *
 * A callback runs synchronously on the thread that made the change, after the change is
 * complete and with no core lock held; it may call back into the core, but must not register
 * or unregister notifiers of the same chain.
 */
#ifndef UMDEV_NOTIFIER_H
#define UMDEV_NOTIFIER_H

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct notifier_block {
	/* Set by the owner: receives the event (an enum of the chain) and its object. */
	void (*notifier_call)(struct notifier_block *nb, unsigned long event, void *data);
	/* Private to the chain. */
	struct notifier_block *next;
};

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
