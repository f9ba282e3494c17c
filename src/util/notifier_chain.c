/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The blocking notifier chain of notifier_chain.h.
 */
#include <errno.h>
#include <stddef.h>

#include "util/notifier_chain.h"

int notifier_chain_register(struct notifier_chain *chain, struct notifier_block *nb)
{
	struct notifier_block **p;
	int ret = 0;

	if (!nb || !nb->notifier_call)
		return -EINVAL;
	pthread_rwlock_wrlock(&chain->lock);
	for (p = &chain->head; *p; p = &(*p)->next) {
		if (*p == nb) {
			ret = -EEXIST;
			goto out;
		}
	}
	nb->next = NULL;
	*p = nb;
out:
	pthread_rwlock_unlock(&chain->lock);
	return ret;
}

int notifier_chain_unregister(struct notifier_chain *chain, struct notifier_block *nb)
{
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&chain->lock);
	for (struct notifier_block **p = &chain->head; *p; p = &(*p)->next) {
		if (*p == nb) {
			*p = nb->next;
			nb->next = NULL;
			ret = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&chain->lock);
	return ret;
}

void notifier_chain_call(struct notifier_chain *chain, unsigned long event, void *data)
{
	pthread_rwlock_rdlock(&chain->lock);
	for (struct notifier_block *nb = chain->head; nb; nb = nb->next)
		nb->notifier_call(nb, event, data);
	pthread_rwlock_unlock(&chain->lock);
}
