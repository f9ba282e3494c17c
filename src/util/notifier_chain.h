/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A blocking notifier chain: a list of notifier blocks (see <umdev/notifier.h>) called in
 * registration order under the chain's read lock. Registering the same block twice is
 * refused with -EEXIST; unregistering an unknown block with -ENOENT.
 */
#ifndef UMDEV_UTIL_NOTIFIER_CHAIN_H
#define UMDEV_UTIL_NOTIFIER_CHAIN_H

#include <pthread.h>

#include <umdev/notifier.h>

struct notifier_chain {
	pthread_rwlock_t lock; /* read: calls; write: (un)registration */
	struct notifier_block *head;
};

#define NOTIFIER_CHAIN_INIT { PTHREAD_RWLOCK_INITIALIZER, NULL }

int notifier_chain_register(struct notifier_chain *chain, struct notifier_block *nb);
int notifier_chain_unregister(struct notifier_chain *chain, struct notifier_block *nb);
void notifier_chain_call(struct notifier_chain *chain, unsigned long event, void *data);

#endif
