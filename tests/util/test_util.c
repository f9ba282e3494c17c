/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of src/util: the kernel's UUID text rules, kstrtoul(buf, 0) parsing, the hash map,
 * the notifier chain and the log handler.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umdev/log.h>

#include "tap.h"
#include "util/hmap.h"
#include "util/notifier_chain.h"
#include "util/strparse.h"
#include "util/uuid.h"

TEST(uuid_accepts_canonical_and_any_case)
{
	guid_t a, b;
	char out[UUID_STRING_SIZE];

	CHECK_EQ(uuid_parse("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", &a), 0);
	CHECK_EQ(uuid_parse("83B8F4F2-509F-382F-3C1E-E6BFE0FA1001", &b), 0);
	CHECK(uuid_equal(&a, &b));
	uuid_format(&b, out);
	CHECK_STR(out, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	CHECK_EQ(a.b[0], 0x83);
	CHECK_EQ(a.b[15], 0x01);
}

TEST(uuid_rejects_other_forms)
{
	static const char *const bad[] = {
		"{83b8f4f2-509f-382f-3c1e-e6bfe0fa1001}",
		"83b8f4f2509f382f3c1ee6bfe0fa1001xxxx",
		" 83b8f4f2-509f-382f-3c1e-e6bfe0fa100",
		"83b8f4f2-509f-382f-3c1e-e6bfe0fa100g",
		"83b8f4f2_509f-382f-3c1e-e6bfe0fa1001",
		"urn:uuid:83b8f4f2-509f-382f-3c1e-e6bf",
		"83b8f4f2-509f-382f-3c1e-e6bfe0fa10\n1",
	};
	guid_t u;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!CHECK_EQ(uuid_parse(bad[i], &u), -EINVAL))
			tap_diag("accepted: %s", bad[i]);
	}
}

static int parse(const char *s, unsigned long *v)
{
	return kstrtoul_auto(s, strlen(s), v);
}

TEST(kstrtoul_bases_and_newline)
{
	unsigned long v = 99;

	CHECK_EQ(parse("1", &v), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(parse("1\n", &v), 0);
	CHECK_EQ(parse("0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(parse("0x10", &v), 0);
	CHECK_EQ(v, 16);
	CHECK_EQ(parse("0X1f\n", &v), 0);
	CHECK_EQ(v, 31);
	CHECK_EQ(parse("010", &v), 0);
	CHECK_EQ(v, 8);
	CHECK_EQ(parse("+2", &v), 0);
	CHECK_EQ(v, 2);
	CHECK_EQ(parse("18446744073709551615", &v), 0);
	CHECK(v == 18446744073709551615UL);
	/* a NUL ends the input, as in the kernel's NUL-terminated copy */
	CHECK_EQ(kstrtoul_auto("1\0zz", 4, &v), 0);
	CHECK_EQ(v, 1);
}

TEST(kstrtoul_rejects)
{
	static const char *const bad[] = { "",	 "-1", " 1", "1 ",  "yes", "1\n\n", "0x",
					   "08", "0xg", "1a", "\n", "+",   "++1" };
	unsigned long v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_EQ(parse(bad[i], &v), -EINVAL))
			tap_diag("accepted: \"%s\"", bad[i]);
	CHECK_EQ(parse("18446744073709551616", &v), -ERANGE);
}

struct item {
	struct hmap_node node;
	uint64_t key;
};

static struct item *find(struct hmap *m, uint64_t key)
{
	HMAP_FOR_EACH_WITH_HASH(node, m, hash_u64(key)) {
		struct item *it = container_of(node, struct item, node);

		if (it->key == key)
			return it;
	}
	return NULL;
}

TEST(hmap_insert_find_remove_grow)
{
	enum { N = 5000 };
	struct item *items = calloc(N, sizeof(*items));
	struct hmap m;
	size_t seen = 0;

	REQUIRE(items);
	hmap_init(&m);
	CHECK(hmap_first(&m) == NULL);
	for (int i = 0; i < N; i++) {
		items[i].key = (uint64_t)i * 7919;
		hmap_insert(&m, &items[i].node, hash_u64(items[i].key));
	}
	CHECK_EQ(hmap_count(&m), N);
	CHECK(m.mask + 1 >= N / 2); /* it grew */
	for (int i = 0; i < N; i++)
		CHECK(find(&m, (uint64_t)i * 7919) == &items[i]);
	CHECK(find(&m, 1) == NULL);
	HMAP_FOR_EACH(node, &m)
		seen++;
	CHECK_EQ(seen, N);
	for (int i = 0; i < N; i += 2)
		hmap_remove(&m, &items[i].node);
	CHECK_EQ(hmap_count(&m), N / 2);
	for (int i = 0; i < N; i++)
		CHECK((find(&m, (uint64_t)i * 7919) != NULL) == (i % 2 == 1));
	hmap_destroy(&m);
	free(items);
}

TEST(hmap_colliding_hashes)
{
	struct item a = { .key = 1 }, b = { .key = 2 };
	struct hmap m;

	hmap_init(&m);
	/* same hash, different keys: the caller's key comparison tells them apart */
	hmap_insert(&m, &a.node, 42);
	hmap_insert(&m, &b.node, 42);
	int n = 0;
	HMAP_FOR_EACH_WITH_HASH(node, &m, 42)
		n++;
	CHECK_EQ(n, 2);
	hmap_remove(&m, &a.node);
	n = 0;
	HMAP_FOR_EACH_WITH_HASH(node, &m, 42)
		n += container_of(node, struct item, node) == &b;
	CHECK_EQ(n, 1);
	hmap_destroy(&m);
}

static int calls[2];

static void note_a(struct notifier_block *nb, unsigned long ev, void *data)
{
	(void)nb;
	(void)data;
	calls[0] += (int)ev;
}

static void note_b(struct notifier_block *nb, unsigned long ev, void *data)
{
	(void)nb;
	calls[1] += (int)ev * (data ? 10 : 1);
}

TEST(notifier_chain_register_call_unregister)
{
	struct notifier_chain chain = NOTIFIER_CHAIN_INIT;
	struct notifier_block a = { .notifier_call = note_a }, b = { .notifier_call = note_b };
	struct notifier_block empty = { 0 };

	calls[0] = calls[1] = 0;
	CHECK_EQ(notifier_chain_register(&chain, &a), 0);
	CHECK_EQ(notifier_chain_register(&chain, &b), 0);
	CHECK_EQ(notifier_chain_register(&chain, &a), -EEXIST);
	CHECK_EQ(notifier_chain_register(&chain, &empty), -EINVAL);
	notifier_chain_call(&chain, 2, &chain);
	CHECK_EQ(calls[0], 2);
	CHECK_EQ(calls[1], 20);
	CHECK_EQ(notifier_chain_unregister(&chain, &a), 0);
	CHECK_EQ(notifier_chain_unregister(&chain, &a), -ENOENT);
	notifier_chain_call(&chain, 1, NULL);
	CHECK_EQ(calls[0], 2);
	CHECK_EQ(calls[1], 21);
	CHECK_EQ(notifier_chain_unregister(&chain, &b), 0);
}

static char last_message[256];
static int last_level;

static void capture(int level, const char *message, void *userdata)
{
	(void)userdata;
	last_level = level;
	snprintf(last_message, sizeof(last_message), "%s", message);
}

TEST(log_handler_levels)
{
	last_message[0] = 0;
	umdev_log(UMDEV_LOG_ERR, "dropped without a handler");
	CHECK_STR(last_message, "");
	umdev_set_log_handler(capture, NULL, UMDEV_LOG_INFO);
	umdev_log(UMDEV_LOG_WARNING, "value %d", 7);
	CHECK_STR(last_message, "value 7");
	CHECK_EQ(last_level, UMDEV_LOG_WARNING);
	umdev_log(UMDEV_LOG_DEBUG, "too detailed");
	CHECK_STR(last_message, "value 7");
	umdev_set_log_handler(NULL, NULL, UMDEV_LOG_INFO);
}

int main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
