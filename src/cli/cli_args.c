/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A verb's command line, parsed as mdevctl 1.2.0's clap 3 parses it, with clap's error
 * texts (exit status 2):
 *
 *   - long options (--uuid U, --uuid=U), short ones (-u U, -uU, -u=U, clusters -dv), "--"
 *     before positional arguments; -h/--help and -V/--version answer at once;
 *   - a value is checked when it is read (a UUID as the uuid crate reads it, an index as a
 *     u32); an option given twice is an error; a flag given a value (--dumpjson=1) too;
 *   - an option that needs a value takes the next argument unless that one looks like an
 *     option: an unknown one is reported as unexpected, a known one (or "--") leaves the
 *     first without its value;
 *   - then conflicts (reported for the first given argument that has one), then missing
 *     arguments (required, required-unless, requires), each with clap's usage line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define MORE_INFO "\nFor more information try --help\n"

static int opt_count(const struct cli_verb *verb)
{
	int n = 0;

	while (verb->opts[n].id)
		n++;
	return n;
}

static int find_id(const struct cli_verb *verb, const char *id)
{
	for (int i = 0; verb->opts[i].id; i++)
		if (!strcmp(verb->opts[i].id, id))
			return i;
	return -1;
}

static int find_long(const struct cli_verb *verb, const char *name, size_t len)
{
	for (int i = 0; verb->opts[i].id; i++) {
		const char *l = verb->opts[i].long_name;

		if (l && strlen(l) == len && !strncmp(l, name, len))
			return i;
	}
	return -1;
}

static int find_short(const struct cli_verb *verb, char c)
{
	for (int i = 0; verb->opts[i].id; i++)
		if (verb->opts[i].short_name && verb->opts[i].short_name == c)
			return i;
	return -1;
}

bool cli_has(const struct cli_args *args, const char *id)
{
	int i = find_id(args->verb, id);

	return i >= 0 && args->present[i];
}

const char *cli_get(const struct cli_args *args, const char *id)
{
	int i = find_id(args->verb, id);

	return i >= 0 && args->present[i] ? args->value[i] : NULL;
}

/* "Found argument 'x' which wasn't expected" (with a suggestion for a long option). */
static int unexpected(const struct cli_ctx *ctx, const struct cli_verb *verb, const char *arg)
{
	const char *names[CLI_MAX_OPTS + 2], *best;
	char usage[512];
	size_t n = 0;
	int idx = -1;

	fprintf(stderr, "error: Found argument '%s' which wasn't expected, or isn't valid in this "
			"context\n\n", arg);
	if (!strncmp(arg, "--", 2) && arg[2]) {
		for (int i = 0; verb->opts[i].id; i++)
			if (verb->opts[i].long_name)
				names[n++] = verb->opts[i].long_name;
		best = cli_suggest_best(arg + 2, names, n);
		if (best) {
			/* clap suggests the closest long option and puts it in the usage */
			idx = find_long(verb, best, strlen(best));
			fprintf(stderr, "\tDid you mean '--%s'?\n\n", best);
		}
	}
	if (arg[0] == '-')
		fprintf(stderr,
			"\tIf you tried to supply `%s` as a value rather than a flag, use `-- %s`\n\n",
			arg, arg);
	if (idx >= 0) {
		unsigned int used = (unsigned int)idx;

		cli_usage_smart(ctx, verb, NULL, 0, &used, 1, usage, sizeof(usage));
	} else {
		cli_usage_default(ctx, verb, usage, sizeof(usage));
	}
	fprintf(stderr, "USAGE:\n    %s\n" MORE_INFO, usage);
	return 2;
}

static int needs_value(const struct cli_opt *o)
{
	char disp[128];

	cli_opt_display(o, disp, sizeof(disp));
	fprintf(stderr, "error: The argument '%s' requires a value but none was supplied\n" MORE_INFO,
		disp);
	return 2;
}

/* Rust's u32 parser. */
static const char *parse_u32(const char *s, unsigned long *out)
{
	unsigned long long v = 0;

	if (*s == '+')
		s++;
	if (!*s)
		return s[-1] == '+' ? "invalid digit found in string"
				    : "cannot parse integer from empty string";
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return "invalid digit found in string";
		v = v * 10 + (unsigned long long)(*s - '0');
		if (v > 0xffffffffULL)
			return "number too large to fit in target type";
	}
	*out = (unsigned long)v;
	return NULL;
}

/* Records option @i with @value (NULL for a flag); 0 or the exit status after an error. */
static int take(struct cli_args *args, int i, const char *value)
{
	const struct cli_opt *o = &args->verb->opts[i];
	char disp[128], why[256];
	const char *bad = NULL;

	if (o->kind == CLI_UUID && mdevctl_uuid_parse(value, args->uuid, why, sizeof(why)))
		bad = why;
	else if (o->kind == CLI_U32)
		bad = parse_u32(value, &args->number);
	cli_opt_display(o, disp, sizeof(disp));
	if (bad) {
		fprintf(stderr, "error: Invalid value \"%s\" for '%s': %s\n" MORE_INFO, value, disp,
			bad);
		return 2;
	}
	if (args->count[i]++)
		return 0; /* reported after conflicts and missing arguments, as clap does */
	args->present[i] = true;
	args->value[i] = value ? value : "";
	args->order[args->norder++] = (unsigned int)i;
	return 0;
}

/* True when @arg would be read as a known option of @verb (or is "--"). */
static bool known_option(const struct cli_verb *verb, const char *arg)
{
	if (!strcmp(arg, "--"))
		return true;
	if (!strncmp(arg, "--", 2)) {
		const char *eq = strchr(arg + 2, '=');
		size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);

		return find_long(verb, arg + 2, len) >= 0 || (len == 4 && !strncmp(arg + 2, "help", 4)) ||
		       (len == 7 && !strncmp(arg + 2, "version", 7) && verb->has_version);
	}
	return find_short(verb, arg[1]) >= 0 || arg[1] == 'h' || (arg[1] == 'V' && verb->has_version);
}

/* The value of an option that needs one and has none attached: the next argument. */
static int next_value(const struct cli_ctx *ctx, struct cli_args *args, int i, int argc,
		      char **argv, int *pos)
{
	const char *next = *pos + 1 < argc ? argv[*pos + 1] : NULL;

	if (!next || (next[0] == '-' && next[1] && known_option(args->verb, next)))
		return needs_value(&args->verb->opts[i]);
	if (next[0] == '-' && next[1])
		return unexpected(ctx, args->verb, next);
	(*pos)++;
	return take(args, i, next);
}

static int help_or_version(const struct cli_ctx *ctx, const struct cli_verb *verb, bool help)
{
	if (help)
		cli_print_verb_help(ctx, verb);
	else
		printf("%s%s%s %s\n", ctx->prog, *verb->name ? "-" : "", verb->name,
		       CLI_MDEVCTL_VERSION);
	return 0;
}

static int parse_long(const struct cli_ctx *ctx, struct cli_args *args, int argc, char **argv,
		      int *pos)
{
	const char *name = argv[*pos] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	char disp[128], usage[512];
	int i = find_long(args->verb, name, len);

	if (i < 0) {
		bool help = len == 4 && !strncmp(name, "help", 4);

		if (!help && !(len == 7 && !strncmp(name, "version", 7) && args->verb->has_version)) {
			char bad[256]; /* clap names the option without its "=value" */

			snprintf(bad, sizeof(bad), "--%.*s", (int)(len < 250 ? len : 250), name);
			return unexpected(ctx, args->verb, bad);
		}
		if (eq) {
			cli_usage_default(ctx, args->verb, usage, sizeof(usage));
			fprintf(stderr,
				"error: The value '%s' was provided to '--%s' but it wasn't expecting "
				"any more values\n\n%s\n" MORE_INFO, eq + 1, help ? "help" : "version",
				usage);
			return 2;
		}
		return help_or_version(ctx, args->verb, help) | CLI_PARSE_DONE;
	}
	if (args->verb->opts[i].kind == CLI_FLAG) {
		if (eq) {
			cli_opt_display(&args->verb->opts[i], disp, sizeof(disp));
			cli_usage_default(ctx, args->verb, usage, sizeof(usage));
			fprintf(stderr,
				"error: The value '%s' was provided to '%s' but it wasn't expecting "
				"any more values\n\n%s\n" MORE_INFO, eq + 1, disp, usage);
			return 2;
		}
		return take(args, i, NULL);
	}
	if (eq)
		return take(args, i, eq + 1);
	return next_value(ctx, args, i, argc, argv, pos);
}

static int parse_short(const struct cli_ctx *ctx, struct cli_args *args, int argc, char **argv,
		       int *pos)
{
	const char *arg = argv[*pos];

	for (const char *c = arg + 1; *c; c++) {
		char bad[3] = { '-', *c, '\0' };
		int i = find_short(args->verb, *c), ret;

		if (i < 0 && (*c == 'h' || (*c == 'V' && args->verb->has_version)))
			return help_or_version(ctx, args->verb, *c == 'h') | CLI_PARSE_DONE;
		if (i < 0)
			return unexpected(ctx, args->verb, bad);
		if (args->verb->opts[i].kind == CLI_FLAG) {
			ret = take(args, i, NULL);
			if (ret)
				return ret;
			continue;
		}
		if (c[1])
			return take(args, i, c[1] == '=' ? c + 2 : c + 1);
		return next_value(ctx, args, i, argc, argv, pos);
	}
	return 0;
}

static int parse_positional(const struct cli_ctx *ctx, struct cli_args *args, const char *arg)
{
	for (int i = 0; args->verb->opts[i].id; i++)
		if (!args->verb->opts[i].long_name && !args->present[i])
			return take(args, i, arg);
	return unexpected(ctx, args->verb, arg);
}

static bool conflict(const struct cli_opt *a, const struct cli_opt *b)
{
	for (int k = 0; k < 3; k++)
		if ((a->conflicts[k] && !strcmp(a->conflicts[k], b->id)) ||
		    (b->conflicts[k] && !strcmp(b->conflicts[k], a->id)))
			return true;
	return false;
}

/* clap's conflict error, for the first given argument that conflicts with others. */
static int check_conflicts(const struct cli_ctx *ctx, const struct cli_args *args)
{
	const struct cli_opt *opts = args->verb->opts;
	unsigned int with[CLI_MAX_OPTS], used[CLI_MAX_OPTS], req[2 * CLI_MAX_OPTS];
	char disp[128], usage[512];
	size_t nwith = 0, nused = 0, nreq = 0;

	for (size_t a = 0; a < args->norder && !nwith; a++) {
		unsigned int former = args->order[a];

		for (size_t b = 0; b < args->norder; b++)
			if (b != a && conflict(&opts[former], &opts[args->order[b]]))
				with[nwith++] = args->order[b];
		if (!nwith)
			continue;
		cli_opt_display(&opts[former], disp, sizeof(disp));
		fprintf(stderr, "error: The argument '%s' cannot be used with", disp);
		for (size_t k = 0; k < nwith; k++) {
			cli_opt_display(&opts[with[k]], disp, sizeof(disp));
			if (nwith == 1)
				fprintf(stderr, " '%s'", disp);
			else
				fprintf(stderr, "%s\n    %s", k ? "" : ":", disp);
		}
	}
	if (!nwith)
		return 0;
	for (size_t a = 0; a < args->norder; a++) {
		bool drop = false;

		for (size_t k = 0; k < nwith; k++)
			drop |= with[k] == args->order[a];
		if (!drop)
			used[nused++] = args->order[a];
	}
	/* before the arguments given: what they require that is neither given nor in conflict */
	for (size_t k = 0; k < nused; k++) {
		int r = opts[used[k]].requires ? find_id(args->verb, opts[used[k]].requires) : -1;
		bool skip = r < 0;

		for (size_t j = 0; j < nused && !skip; j++)
			skip = used[j] == (unsigned int)r;
		for (size_t j = 0; j < nwith && !skip; j++)
			skip = with[j] == (unsigned int)r;
		if (!skip)
			req[nreq++] = (unsigned int)r;
	}
	for (size_t k = 0; k < nused; k++)
		req[nreq++] = used[k];
	cli_usage_smart(ctx, args->verb, NULL, 0, req, nreq, usage, sizeof(usage));
	fprintf(stderr, "\n\nUSAGE:\n    %s\n" MORE_INFO, usage);
	return 2;
}

static void add_unique(unsigned int *list, size_t *n, unsigned int v)
{
	for (size_t i = 0; i < *n; i++)
		if (list[i] == v)
			return;
	list[(*n)++] = v;
}

/* clap's missing-arguments error. */
static int check_required(const struct cli_ctx *ctx, const struct cli_args *args)
{
	const struct cli_opt *opts = args->verb->opts;
	unsigned int missing[CLI_MAX_OPTS], req[CLI_MAX_OPTS], used[2 * CLI_MAX_OPTS];
	size_t nmissing = 0, nreq = 0, nused = 0, nunless = 0;
	char disp[128], usage[512];
	int n = opt_count(args->verb);

	for (int i = 0; i < n; i++) {
		if (opts[i].required) {
			add_unique(req, &nreq, (unsigned int)i);
			if (!args->present[i])
				add_unique(missing, &nmissing, (unsigned int)i);
		} else if (opts[i].required_unless && !args->present[i] &&
			   !cli_has(args, opts[i].required_unless)) {
			add_unique(missing, &nmissing, (unsigned int)i);
			nunless++;
		}
	}
	for (int i = 0; i < n; i++) {
		int r = opts[i].requires ? find_id(args->verb, opts[i].requires) : -1;

		if (!args->present[i] || r < 0)
			continue;
		add_unique(req, &nreq, (unsigned int)r);
		if (!args->present[r])
			add_unique(missing, &nmissing, (unsigned int)r);
	}
	if (!nmissing)
		return 0;
	fprintf(stderr, "error: The following required arguments were not provided:\n");
	for (size_t k = 0; k < nmissing; k++) {
		cli_opt_display(&opts[missing[k]], disp, sizeof(disp));
		fprintf(stderr, "    %s\n", disp);
	}
	for (size_t k = 0; k < args->norder; k++)
		used[nused++] = args->order[k];
	for (size_t k = 0; k < nmissing; k++)
		if (!opts[missing[k]].required && opts[missing[k]].required_unless)
			used[nused++] = missing[k];
	if (!args->norder && !nunless)
		cli_usage_default(ctx, args->verb, usage, sizeof(usage));
	else
		cli_usage_smart(ctx, args->verb, req, nreq, used, nused, usage, sizeof(usage));
	fprintf(stderr, "\nUSAGE:\n    %s\n" MORE_INFO, usage);
	return 2;
}

/* clap's error for an argument given more than once (the first such, in order given). */
static int check_occurrences(const struct cli_ctx *ctx, const struct cli_args *args)
{
	char disp[128], usage[512];

	for (size_t k = 0; k < args->norder; k++) {
		unsigned int i = args->order[k];

		if (args->count[i] < 2)
			continue;
		cli_opt_display(&args->verb->opts[i], disp, sizeof(disp));
		cli_usage_default(ctx, args->verb, usage, sizeof(usage));
		fprintf(stderr,
			"error: The argument '%s' was provided more than once, but cannot be used "
			"multiple times\n\nUSAGE:\n    %s\n" MORE_INFO, disp, usage);
		return 2;
	}
	return 0;
}

int cli_parse(const struct cli_ctx *ctx, const struct cli_verb *verb, int argc, char **argv,
	      struct cli_args *args)
{
	bool positional_only = false;
	int ret = 0;

	memset(args, 0, sizeof(*args));
	args->verb = verb;
	for (int pos = 0; pos < argc && !ret; pos++) {
		const char *a = argv[pos];

		if (!positional_only && !strcmp(a, "--"))
			positional_only = true;
		else if (!positional_only && !strncmp(a, "--", 2))
			ret = parse_long(ctx, args, argc, argv, &pos);
		else if (!positional_only && a[0] == '-' && a[1])
			ret = parse_short(ctx, args, argc, argv, &pos);
		else
			ret = parse_positional(ctx, args, a);
	}
	if (ret)
		return ret;
	ret = check_conflicts(ctx, args);
	if (!ret)
		ret = check_required(ctx, args);
	if (!ret)
		ret = check_occurrences(ctx, args);
	return ret;
}
