/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What umdevctl says about its own command line, in clap 3's layout as mdevctl 1.2.0 shows
 * it: how an argument is named in messages, the usage lines of errors (clap's "smart"
 * usage: the required arguments, then those given, each once), the help screens (options
 * sorted by long name, descriptions aligned four columns after the longest), and the
 * "Did you mean" suggestions (strsim 0.10's Jaro-Winkler similarity above 0.8, as clap 3's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void cli_opt_display(const struct cli_opt *o, char *buf, size_t size)
{
	if (!o->long_name)
		snprintf(buf, size, "<%s>", o->value_name);
	else if (o->value_name)
		snprintf(buf, size, "--%s <%s>", o->long_name, o->value_name);
	else
		snprintf(buf, size, "--%s", o->long_name);
}

/* "<prog> <verb>", or "<prog>" for a program that is one verb (lsmdev). */
static size_t usage_head(const struct cli_ctx *ctx, const struct cli_verb *verb, char *buf,
			 size_t size)
{
	int n = snprintf(buf, size, "%s%s%s", ctx->prog, *verb->name ? " " : "", verb->name);

	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

static void append(char *buf, size_t size, size_t *len, const char *s)
{
	int n = snprintf(buf + *len, size - *len, "%s", s);

	if (n > 0)
		*len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
}

void cli_usage_default(const struct cli_ctx *ctx, const struct cli_verb *verb, char *buf,
		       size_t size)
{
	size_t len = usage_head(ctx, verb, buf, size);
	char disp[128];
	bool options = false;

	for (const struct cli_opt *o = verb->opts; o->id; o++)
		options |= o->long_name && !o->required;
	if (options)
		append(buf, size, &len, " [OPTIONS]");
	for (const struct cli_opt *o = verb->opts; o->id; o++) {
		if (o->long_name && !o->required)
			continue;
		cli_opt_display(o, disp, sizeof(disp));
		append(buf, size, &len, " ");
		append(buf, size, &len, disp);
	}
}

void cli_usage_smart(const struct cli_ctx *ctx, const struct cli_verb *verb,
		     const unsigned int *req, size_t nreq, const unsigned int *used, size_t nused,
		     char *buf, size_t size)
{
	unsigned int all[4 * CLI_MAX_OPTS];
	size_t n = 0, len = usage_head(ctx, verb, buf, size);
	char disp[128];

	/* the verb's required options come first, then what the caller lists */
	for (unsigned int i = 0; verb->opts[i].id; i++)
		if (verb->opts[i].required && verb->opts[i].long_name)
			all[n++] = i;
	for (size_t k = 0; k < nreq; k++)
		all[n++] = req[k];
	for (size_t k = 0; k < nused; k++)
		all[n++] = used[k];
	for (size_t k = 0; k < n; k++) {
		bool seen = false;

		for (size_t j = 0; j < k; j++)
			seen |= all[j] == all[k];
		if (seen || !verb->opts[all[k]].long_name)
			continue;
		cli_opt_display(&verb->opts[all[k]], disp, sizeof(disp));
		append(buf, size, &len, " ");
		append(buf, size, &len, disp);
	}
	for (const struct cli_opt *o = verb->opts; o->id; o++) {
		if (o->long_name)
			continue;
		cli_opt_display(o, disp, sizeof(disp));
		append(buf, size, &len, " ");
		append(buf, size, &len, disp);
	}
}

/* One line of a help screen's OPTIONS. */
struct help_entry {
	const char *sort_key;
	char left[128];
	const char *help;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct help_entry *)a)->sort_key,
		      ((const struct help_entry *)b)->sort_key);
}

static void print_entries(FILE *out, struct help_entry *e, size_t n)
{
	size_t width = 0;

	qsort(e, n, sizeof(*e), cmp_entry);
	for (size_t i = 0; i < n; i++)
		if (strlen(e[i].left) > width)
			width = strlen(e[i].left);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "    %-*s    %s\n", (int)width, e[i].left, e[i].help);
}

static void entry(struct help_entry *e, const char *key, char short_name, const char *value,
		  const char *help)
{
	e->sort_key = key;
	e->help = help;
	if (short_name)
		snprintf(e->left, sizeof(e->left), "-%c, --%s%s%s%s", short_name, key,
			 value ? " <" : "", value ? value : "", value ? ">" : "");
	else
		snprintf(e->left, sizeof(e->left), "    --%s%s%s%s", key, value ? " <" : "",
			 value ? value : "", value ? ">" : "");
}

void cli_print_verb_help(const struct cli_ctx *ctx, const struct cli_verb *verb)
{
	struct help_entry e[CLI_MAX_OPTS + 2];
	char usage[512];
	size_t n = 0;
	bool args = false;

	cli_usage_default(ctx, verb, usage, sizeof(usage));
	/* clap's header: the verb's version, or none (and the space before it) */
	printf("%s%s%s %s\n%s\n\nUSAGE:\n    %s\n", ctx->prog, *verb->name ? "-" : "", verb->name,
	       verb->has_version ? CLI_MDEVCTL_VERSION : "", verb->about, usage);
	for (const struct cli_opt *o = verb->opts; o->id; o++) {
		if (!o->long_name) {
			if (!args)
				printf("\nARGS:\n");
			args = true;
			printf("    <%s>    %s\n", o->value_name, o->help);
			continue;
		}
		entry(&e[n++], o->long_name, o->short_name, o->value_name, o->help);
	}
	entry(&e[n++], "help", 'h', NULL, "Print help information");
	if (verb->has_version)
		entry(&e[n++], "version", 'V', NULL, "Print version information");
	printf("\nOPTIONS:\n");
	print_entries(stdout, e, n);
}

void cli_print_main_help(const struct cli_ctx *ctx, const struct cli_verb *const *verbs,
			 size_t nverbs, bool to_stderr)
{
	FILE *out = to_stderr ? stderr : stdout;
	struct help_entry e[3];
	const char *names[32];
	size_t n = 0, width = 4;

	fprintf(out,
		"%s %s\nManage the mediated devices of umdev (the interface of mdevctl %s)\n\n"
		"USAGE:\n    %s <SUBCOMMAND>\n\nOPTIONS:\n",
		ctx->prog, CLI_MDEVCTL_VERSION, CLI_MDEVCTL_VERSION, ctx->prog);
	entry(&e[0], "help", 'h', NULL, "Print help information");
	entry(&e[1], "run-dir", 0, "DIR",
	      "umdevd's run directory, before the subcommand (default: $UMDEV_RUN_DIR, else "
	      "/run/umdev as root, $XDG_RUNTIME_DIR/umdev otherwise)");
	entry(&e[2], "version", 'V', NULL, "Print version information");
	print_entries(out, e, 3);
	fprintf(out, "\nSUBCOMMANDS:\n");
	names[n++] = "help";
	for (size_t i = 0; i < nverbs && n < 32; i++)
		if (!verbs[i]->hidden)
			names[n++] = verbs[i]->name;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[j], names[i]) < 0) {
				const char *t = names[i];

				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) > width)
			width = strlen(names[i]);
	for (size_t i = 0; i < n; i++) {
		const char *about = "Print this message or the help of the given subcommand(s)";

		for (size_t k = 0; k < nverbs; k++)
			if (!strcmp(verbs[k]->name, names[i]))
				about = verbs[k]->about;
		fprintf(out, "    %-*s    %s\n", (int)width, names[i], about);
	}
}

/*
 * strsim 0.10's Jaro-Winkler similarity, which clap 3 suggests with: a match is a byte
 * within half the longer length of its position, a transposition is a match found before
 * the previous one, and the common prefix (unbounded) raises the score.
 */
static double jaro_winkler(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), range, last = 0, prefix = 0;
	double matches = 0, trans = 0, sim;
	bool used[256] = { false };

	if (!la || !lb || la > 255 || lb > 255)
		return la == lb ? 1.0 : 0.0;
	range = (la > lb ? la : lb) / 2;
	range = range ? range - 1 : 0;
	for (size_t i = 0; i < la; i++) {
		size_t lo = i > range ? i - range : 0, hi = i + range < lb - 1 ? i + range : lb - 1;

		for (size_t j = lo; j <= hi; j++) {
			if (!used[j] && a[i] == b[j]) {
				used[j] = true;
				matches++;
				if (j < last)
					trans++;
				last = j;
				break;
			}
		}
	}
	if (!matches)
		return 0.0;
	sim = (matches / (double)la + matches / (double)lb + (matches - trans) / matches) / 3.0;
	while (a[prefix] && a[prefix] == b[prefix])
		prefix++;
	sim += 0.1 * (double)prefix * (1.0 - sim);
	return sim > 1.0 ? 1.0 : sim;
}

/* The candidates above 0.8, least similar first, into @out; their number. */
static size_t ranked(const char *word, const char *const *cand, size_t n, const char **out)
{
	double score[64];
	size_t m = 0;

	for (size_t i = 0; i < n && m < 64; i++) {
		double s = jaro_winkler(word, cand[i]);
		size_t k = m;

		if (s <= 0.8)
			continue;
		while (k && score[k - 1] > s) {
			score[k] = score[k - 1];
			out[k] = out[k - 1];
			k--;
		}
		score[k] = s;
		out[k] = cand[i];
		m++;
	}
	return m;
}

bool cli_suggest(const char *word, const char *const *candidates, size_t n, char *buf,
		 size_t size)
{
	const char *best[64];
	size_t m = ranked(word, candidates, n, best), len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m; i++) {
		int w = snprintf(buf + len, size - len, "%s'%s'", i ? " or " : "", best[i]);

		if (w < 0 || (size_t)w >= size - len)
			break;
		len += (size_t)w;
	}
	return m > 0;
}

const char *cli_suggest_best(const char *word, const char *const *candidates, size_t n)
{
	const char *best[64];
	size_t m = ranked(word, candidates, n, best);

	return m ? best[m - 1] : NULL;
}
