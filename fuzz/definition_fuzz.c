/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target of the definition files (src/mgmt/persist/): each input is the content
 * of one untrusted file, read three ways that must agree,
 *
 *   - as umdevctl reads --jsonfile: mdevctl_json_parse(), then definition_from_json();
 *   - as the loader reads a file of the conf dir: the input is written to
 *     <tmp>/conf/p/<uuid> and read back with definition_load_one() (definitions.c: the
 *     bounded read, then definition_parse());
 *   - as a listing sees it: definitions_load() of the conf dir, which either returns the
 *     one definition or reports the file as bad (and skips it),
 *
 * and then round-tripped: a definition that parses passes definition_validate() (so that
 * modify can write it back), its file text (definition_format()) parses to the same
 * definition and formats to the same text; any JSON value that parses prints (pretty and
 * compact, mdevctl_json_print()) to a text that parses and prints the same again.
 *
 * A disagreement or a broken round trip aborts with a message (a finding), as do crashes,
 * sanitizer reports and leaks. Built with replay_main.c (definition_fuzz_replay), the same
 * code replays fuzz/corpus/definition/ as a test. See docs/fuzzing.md.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgmt/persist/definitions.h"
#include "mgmt/persist/mdevctl_json.h"
#include "replay_main.h"

#define FUZZ_PARENT "p"
#define FUZZ_UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

static struct {
	bool ready;
	char dir[256], conf[300], parent[320], file[400];
} fz;

static void die(const char *what, const uint8_t *data, size_t size)
{
	fprintf(stderr, "definition_fuzz: %s\n", what);
	if (data)
		fprintf(stderr, "definition_fuzz: input (%zu bytes): %.*s\n", size,
			(int)(size > 2000 ? 2000 : size), (const char *)data);
	abort();
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fz.ready)
		return;
	snprintf(fz.dir, sizeof(fz.dir), "%s/umdev-deffuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fz.dir))
		die("cannot make a temporary directory", NULL, 0);
	snprintf(fz.conf, sizeof(fz.conf), "%s/conf", fz.dir);
	snprintf(fz.parent, sizeof(fz.parent), "%s/%s", fz.conf, FUZZ_PARENT);
	snprintf(fz.file, sizeof(fz.file), "%s/%s", fz.parent, FUZZ_UUID);
	if (mkdir(fz.conf, 0755) || mkdir(fz.parent, 0755))
		die("cannot make the conf dir", NULL, 0);
	fz.ready = true;
	atexit(fuzz_replay_teardown); /* libFuzzer exits without it: no stale tmp dir */
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void fuzz_replay_teardown(void)
{
	if (fz.ready)
		nftw(fz.dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	fz.ready = false;
}

static bool same_definition(const struct mdev_definition *a, const struct mdev_definition *b)
{
	if (!a->mdev_type || !b->mdev_type || strcmp(a->mdev_type, b->mdev_type) ||
	    a->autostart != b->autostart || a->nattrs != b->nattrs)
		return false;
	for (size_t i = 0; i < a->nattrs; i++)
		if (strcmp(a->attrs[i].name, b->attrs[i].name) ||
		    strcmp(a->attrs[i].value, b->attrs[i].value))
			return false;
	return true;
}

static void write_file(const uint8_t *data, size_t size)
{
	int fd = open(fz.file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t done = 0;

	if (fd < 0)
		die("cannot write the definition file", NULL, 0);
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n <= 0)
			die("cannot write the definition file", NULL, 0);
		done += (size_t)n;
	}
	close(fd);
}

/* print(parse(print(v))) == print(v), pretty and compact. */
static void json_round_trip(struct json_object *val, bool pretty, const uint8_t *data,
			    size_t size)
{
	char *text = mdevctl_json_print(val, pretty), *again, err[256];
	struct json_object *val2;

	if (!text)
		die("mdevctl_json_print() failed", data, size);
	if (mdevctl_json_parse(text, strlen(text), &val2, err, sizeof(err))) {
		fprintf(stderr, "definition_fuzz: printed as %s\nparsed: %s\n", text, err);
		die("the printed JSON does not parse (round trip)", data, size);
	}
	again = mdevctl_json_print(val2, pretty);
	if (!again || strcmp(text, again)) {
		fprintf(stderr, "definition_fuzz: printed as %s\nthen as %s\n", text,
			again ? again : "(null)");
		die("the JSON prints differently after a round trip", data, size);
	}
	free(again);
	json_object_put(val2);
	free(text);
}

/* The definition's file text parses to the same definition and the same text. */
static void definition_round_trip(const struct mdev_definition *def, const uint8_t *data,
				  size_t size)
{
	struct mdev_definition copy = *def, back = { 0 };
	char *text, *again, err[512];

	memcpy(copy.parent, FUZZ_PARENT, sizeof(FUZZ_PARENT));
	memcpy(copy.uuid, FUZZ_UUID, sizeof(FUZZ_UUID));
	if (definition_validate(&copy, err, sizeof(err))) {
		fprintf(stderr, "definition_fuzz: %s\n", err);
		die("a parsed definition fails definition_validate()", data, size);
	}
	text = definition_format(def);
	if (!text)
		die("definition_format() failed", data, size);
	if (definition_parse(text, strlen(text), &back, err, sizeof(err))) {
		fprintf(stderr, "definition_fuzz: formatted as %s\nparsed: %s\n", text, err);
		die("the formatted definition does not parse (round trip)", data, size);
	}
	if (!same_definition(def, &back))
		die("the formatted definition parses to another one (round trip)", data, size);
	again = definition_format(&back);
	if (!again || strcmp(text, again))
		die("the definition formats differently after a round trip", data, size);
	free(again);
	free(text);
	definition_clear(&back);
}

struct listing {
	int bad;
	char message[1024];
};

static void on_bad_file(const char *path, const char *message, void *userdata)
{
	struct listing *l = userdata;

	(void)path;
	l->bad++;
	snprintf(l->message, sizeof(l->message), "%s", message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mdev_definition def = { 0 }, loaded = { 0 }, *defs = NULL;
	struct listing listing = { 0 };
	char err[512] = "", lerr[512] = "";
	struct json_object *val = NULL;
	int ret, lret;
	size_t count = 0;

	setup();

	/* --jsonfile: the grammar, then the definition */
	ret = mdevctl_json_parse((const char *)data, size, &val, err, sizeof(err));
	if (ret && ret != -EINVAL)
		die("mdevctl_json_parse() failed otherwise than with -EINVAL", data, size);
	if (ret && !err[0])
		die("mdevctl_json_parse() failed without a message", data, size);
	if (!ret) {
		json_round_trip(val, true, data, size);
		json_round_trip(val, false, data, size);
		err[0] = '\0';
		ret = definition_from_json(val, &def, err, sizeof(err));
		if (ret && (ret != -EINVAL || !err[0]))
			die("definition_from_json() failed without -EINVAL and a message", data,
			    size);
		json_object_put(val);
	}

	/* a file of the conf dir, read alone and in a listing */
	write_file(data, size);
	lret = definition_load_one(fz.conf, FUZZ_PARENT, FUZZ_UUID, &loaded, lerr, sizeof(lerr));
	if (size > DEFINITION_MAX_FILE_SIZE) {
		if (lret != -EFBIG)
			die("an oversized file is not refused with -EFBIG", NULL, size);
	} else if (lret != ret || (ret && strcmp(err, lerr))) {
		fprintf(stderr, "definition_fuzz: --jsonfile: %d %s; file: %d %s\n", ret, err,
			lret, lerr);
		die("the file and --jsonfile readings disagree", data, size);
	}
	if (definitions_load(fz.conf, NULL, &defs, &count, on_bad_file, &listing))
		die("definitions_load() failed", NULL, 0);
	if (count + (size_t)listing.bad != 1 || (count == 1) != (lret == 0) ||
	    (count == 1 && !same_definition(&defs[0], &loaded)) ||
	    (count == 1 && (strcmp(defs[0].parent, FUZZ_PARENT) || strcmp(defs[0].uuid, FUZZ_UUID))))
		die("the listing and the file reading disagree", data, size);
	if (listing.bad && (!strstr(listing.message, fz.file) || !strstr(listing.message, lerr)))
		die("the listing's warning does not name the file and the error", data, size);
	definitions_free(defs, count);

	if (!ret) {
		if (lret == 0 && !same_definition(&def, &loaded))
			die("the file and --jsonfile give different definitions", data, size);
		definition_round_trip(&def, data, size);
	}
	definition_clear(&def);
	definition_clear(&loaded);
	return 0;
}
