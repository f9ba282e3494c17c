/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevctl: mdevctl 1.2.0's command line for umdev, over umdevd's control socket (it never
 * touches sysfs or the definitions itself).
 *
 *   umdevctl [--run-dir DIR] types|list|start|stop|define|undefine|modify|
 *            start-parent-mdevs|info ...
 *   umdevctl [--run-dir DIR] qemu [--transport mpqemu|vfio-user] UUID... -- QEMU [ARGS...]
 *
 * The verbs, options, outputs, errors and exit statuses are mdevctl's (0; 1 after
 * "Error: ..."; 2 for usage errors in clap's words), under the name it runs as: linked as
 * `mdevctl` it prints what mdevctl prints, and as `lsmdev` it is `list`. `info UUID` and
 * `qemu` are umdev's own. The daemon is found at --run-dir DIR, else $UMDEV_RUN_DIR, else
 * umdevd's default: /run/umdev as root, $XDG_RUNTIME_DIR/umdev otherwise.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* The verbs, dispatched by name (each in the file of its group). */
static const struct cli_verb *const verbs[] = {
	&cli_verb_define, &cli_verb_undefine, &cli_verb_modify, &cli_verb_start,
	&cli_verb_stop,	  &cli_verb_list,     &cli_verb_types,	&cli_verb_start_parent_mdevs,
	&cli_verb_info,	  &cli_verb_qemu,
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))
#define MORE_INFO "\nFor more information try --help\n"

static const struct cli_verb *find_verb(const char *name)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (!strcmp(verbs[i]->name, name))
			return verbs[i];
	return NULL;
}

int cli_find_run_dir(struct cli_ctx *ctx)
{
	static char buf[4096];
	const char *env = getenv("UMDEV_RUN_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");

	if (ctx->run_dir_arg && *ctx->run_dir_arg) {
		ctx->run_dir = ctx->run_dir_arg;
	} else if (env && *env) {
		ctx->run_dir = env;
	} else if (geteuid() == 0) {
		ctx->run_dir = "/run/umdev";
	} else if (!xdg || !*xdg) {
		return cli_error("XDG_RUNTIME_DIR is not set: give umdevd's run directory with "
				 "--run-dir or UMDEV_RUN_DIR");
	} else {
		snprintf(buf, sizeof(buf), "%s/umdev", xdg);
		ctx->run_dir = buf;
	}
	return 0;
}

/* A first argument that is no subcommand. */
static int bad_subcommand(const struct cli_ctx *ctx, const char *arg)
{
	const char *names[NVERBS + 1];
	char suggestion[256], shown[256];
	size_t n = 0;

	for (size_t i = 0; i < NVERBS; i++)
		names[n++] = verbs[i]->name;
	names[n++] = "help";
	if (arg[0] != '-' && cli_suggest(arg, names, n, suggestion, sizeof(suggestion))) {
		fprintf(stderr,
			"error: The subcommand '%s' wasn't recognized\n\n\tDid you mean %s?\n\n"
			"If you believe you received this message in error, try re-running with "
			"'%s -- %s'\n\nUSAGE:\n    %s <SUBCOMMAND>\n" MORE_INFO,
			arg, suggestion, ctx->prog, arg, ctx->prog);
		return 2;
	}
	/* clap names an option without its "=value", and the first of a cluster of flags */
	snprintf(shown, sizeof(shown), "%.*s",
		 (int)(arg[0] != '-' ? strlen(arg)
		       : arg[1] == '-' ? strcspn(arg, "=")
		       : arg[1] ? 2 : 1), arg);
	fprintf(stderr, "error: Found argument '%s' which wasn't expected, or isn't valid in this "
			"context\n\n", shown);
	if (arg[0] == '-')
		fprintf(stderr,
			"\tIf you tried to supply `%s` as a value rather than a flag, use `-- %s`\n\n",
			shown, shown);
	fprintf(stderr, "USAGE:\n    %s <SUBCOMMAND>\n" MORE_INFO, ctx->prog);
	return 2;
}

/* An argument after a leading "--". */
static int after_dashes(const struct cli_ctx *ctx, const char *arg)
{
	fprintf(stderr, "error: Found argument '%s' which wasn't expected, or isn't valid in this "
			"context\n\n", arg);
	if (find_verb(arg) || !strcmp(arg, "help"))
		fprintf(stderr, "\tIf you tried to supply `%s` as a subcommand, remove the '--' before "
				"it.\n\n", arg);
	fprintf(stderr, "USAGE:\n    %s <SUBCOMMAND>\n" MORE_INFO, ctx->prog);
	return 2;
}

/* `help [VERB]`; @extra: a further argument, or NULL */
static int help(struct cli_ctx *ctx, const char *name, const char *extra)
{
	const struct cli_verb *verb = name ? find_verb(name) : NULL;
	char usage[512];

	if (!name) {
		cli_print_main_help(ctx, verbs, NVERBS, false);
		return 0;
	}
	if (!verb) {
		fprintf(stderr, "error: The subcommand '%s' wasn't recognized\n\nUSAGE:\n    %s "
				"<SUBCOMMAND>\n" MORE_INFO, name, ctx->prog);
		return 2;
	}
	if (extra) {
		cli_usage_default(ctx, verb, usage, sizeof(usage));
		fprintf(stderr, "error: The subcommand '%s' wasn't recognized\n\nUSAGE:\n    %s\n"
				MORE_INFO, extra, usage);
		return 2;
	}
	if (verb->run_argv) { /* a verb with its own command line prints its own help */
		char help_arg[] = "--help", *help_argv[] = { help_arg, NULL };

		return verb->run_argv(ctx, 1, help_argv);
	}
	cli_print_verb_help(ctx, verb);
	return 0;
}

/* Parses and runs @verb with its @argc arguments; the exit status. */
static int run_verb(struct cli_ctx *ctx, const struct cli_verb *verb, const char *dir_arg,
		    int argc, char **argv)
{
	struct cli_args args;
	int ret;

	ctx->run_dir_arg = dir_arg;
	if (verb->run_argv) {
		ret = verb->run_argv(ctx, argc, argv);
		if (fflush(stdout) == EOF && !ret)
			ret = cli_error("failed printing to stdout: %s", strerror(errno));
		return ret;
	}
	ret = cli_parse(ctx, verb, argc, argv, &args);
	if (ret)
		return ret == CLI_PARSE_DONE ? 0 : ret;
	if (cli_find_run_dir(ctx))
		return 1;
	ret = verb->run(ctx, &args);
	if (fflush(stdout) == EOF && !ret)
		ret = cli_error("failed printing to stdout: %s", strerror(errno));
	return ret;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { .prog = "umdevctl" };
	const char *dir_arg = NULL, *base = argc > 0 && argv[0][0] ? strrchr(argv[0], '/') : NULL;
	const struct cli_verb *verb;
	size_t len;
	int i = 1;

	if (argc > 0 && argv[0][0])
		ctx.prog = base ? base + 1 : argv[0];
	len = strlen(ctx.prog);
	if (len >= 6 && !strcmp(ctx.prog + len - 6, "lsmdev")) {
		struct cli_verb lsmdev = cli_verb_list;

		lsmdev.name = "";
		return run_verb(&ctx, &lsmdev, NULL, argc - 1, argv + 1);
	}
	/* umdevctl's own option comes before the subcommand */
	while (i < argc && !strncmp(argv[i], "--run-dir", 9) && (!argv[i][9] || argv[i][9] == '=')) {
		if (argv[i][9] == '=') {
			dir_arg = argv[i++] + 10;
		} else if (i + 1 < argc) {
			dir_arg = argv[i + 1];
			i += 2;
		} else {
			fprintf(stderr, "error: The argument '--run-dir <DIR>' requires a value but "
					"none was supplied\n" MORE_INFO);
			return 2;
		}
	}
	if (i < argc && !strcmp(argv[i], "--")) {
		/* clap takes nothing after "--" at this level, not even a subcommand */
		if (++i < argc)
			return after_dashes(&ctx, argv[i]);
	} else if (i < argc && (!strncmp(argv[i], "--help=", 7) || !strncmp(argv[i], "--version=", 10))) {
		char *eq = strchr(argv[i], '=');

		fprintf(stderr, "error: The value '%s' was provided to '%.*s' but it wasn't expecting "
				"any more values\n\n%s <SUBCOMMAND>\n" MORE_INFO,
			eq + 1, (int)(eq - argv[i]), argv[i], ctx.prog);
		return 2;
	} else if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
		return help(&ctx, NULL, NULL);
	} else if (i < argc && (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version"))) {
		printf("%s %s\n", ctx.prog, CLI_MDEVCTL_VERSION);
		return 0;
	}
	if (i >= argc) {
		cli_print_main_help(&ctx, verbs, NVERBS, true);
		return 2;
	}
	if (!strcmp(argv[i], "help"))
		return help(&ctx, i + 1 < argc ? argv[i + 1] : NULL, i + 2 < argc ? argv[i + 2] : NULL);
	verb = find_verb(argv[i]);
	if (!verb)
		return bad_subcommand(&ctx, argv[i]);
	return run_verb(&ctx, verb, dir_arg, argc - i - 1, argv + i + 1);
}
