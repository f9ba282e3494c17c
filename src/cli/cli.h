/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevctl's internals, shared by its files:
 *
 *   umdevctl.c          main(): the program name, --run-dir, the verb table, dispatch
 *   cli_args.c          the command line as mdevctl 1.2.0's clap 3 parses it, with its errors
 *   cli_help.c          help, version and usage texts; "Did you mean" suggestions
 *   cli_client.c        the control socket: one request, one reply; errors and warnings
 *   cli_verbs_list.c    types, list
 *   cli_verbs_device.c  start, stop, start-parent-mdevs, info
 *   cli_verbs_define.c  define, undefine, modify
 *   cli_verbs_qemu.c    qemu: connect to devices and exec QEMU with them attached
 *   cli_mpqemu.c        qemu's mpqemu connections: connect and check the device answers
 *
 * umdevctl presents itself under the name it was run as (argv[0]'s base name): installed
 * or linked as `mdevctl`, its output is byte for byte mdevctl's for the same state.
 */
#ifndef UMDEV_CLI_CLI_H
#define UMDEV_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "mgmt/persist/mdevctl_uuid.h"

/* The mdevctl release whose interface umdevctl implements (and reports with --version). */
#define CLI_MDEVCTL_VERSION "1.2.0"
/* Most options of one verb. */
#define CLI_MAX_OPTS 12

enum cli_kind {
	CLI_FLAG,   /* no value */
	CLI_STRING, /* any text */
	CLI_UUID,   /* a UUID in any of the uuid crate's forms */
	CLI_U32,    /* an unsigned 32-bit number */
};

/* An option or positional argument of a verb, in clap's terms. */
struct cli_opt {
	const char *id;		     /* "uuid"; the key of cli_get() */
	char short_name;	     /* 'u', or 0 */
	const char *long_name;	     /* "uuid"; NULL for a positional argument */
	const char *value_name;	     /* "UUID" (shown as <UUID>); NULL for a flag */
	enum cli_kind kind;
	bool required;
	const char *required_unless; /* id: required unless that one is given */
	const char *requires;	     /* id: required when this one is given */
	const char *conflicts[3];    /* ids that cannot be given with this one */
	const char *help;
};

struct cli_ctx;
struct cli_args;

struct cli_verb {
	const char *name;
	const char *about;
	const struct cli_opt *opts; /* terminated by an entry without id */
	int (*run)(struct cli_ctx *ctx, const struct cli_args *args);
	bool hidden;	  /* not in the help (start-parent-mdevs, as in mdevctl) */
	bool has_version; /* takes -V/--version (only list, in mdevctl 1.2.0) */
	/*
	 * A verb of umdev's own whose command line is not clap's (qemu: a QEMU command line
	 * follows): it gets its raw arguments, prints its own help and usage errors, and calls
	 * cli_find_run_dir() before it talks to the daemon. @opts and @run are then unused.
	 */
	int (*run_argv)(struct cli_ctx *ctx, int argc, char **argv);
};

/* The parsed arguments of a verb. */
struct cli_args {
	const struct cli_verb *verb;
	const char *value[CLI_MAX_OPTS]; /* by option index; NULL when not given */
	bool present[CLI_MAX_OPTS];
	unsigned int count[CLI_MAX_OPTS]; /* occurrences: more than one is an error */
	unsigned int order[CLI_MAX_OPTS]; /* option indices in the order given */
	size_t norder;
	char uuid[MDEVCTL_UUID_SIZE];	  /* the canonical form of a CLI_UUID value */
	unsigned long number;		  /* a CLI_U32 value */
};

/* What every verb gets. */
struct cli_ctx {
	const char *prog;    /* the name umdevctl runs as, for messages */
	const char *run_dir; /* where umdevd's control socket is */
	const char *run_dir_arg; /* --run-dir's value, or NULL (for cli_find_run_dir()) */
};

/* ---- umdevctl.c ---- */

/* Sets ctx->run_dir from --run-dir, $UMDEV_RUN_DIR or umdevd's default; 0, or 1 after
 * printing the error. run_verb() does it for clap verbs once their arguments are parsed. */
int cli_find_run_dir(struct cli_ctx *ctx);

/* ---- cli_args.c ---- */

/* What cli_parse() returns after printing help or the version: exit 0, run nothing. */
#define CLI_PARSE_DONE 0x100

/* Parses @argc arguments after the verb; 0 (run the verb), 2 after printing a usage
 * error, or CLI_PARSE_DONE after printing help or the version. */
int cli_parse(const struct cli_ctx *ctx, const struct cli_verb *verb, int argc, char **argv,
	      struct cli_args *args);
bool cli_has(const struct cli_args *args, const char *id);
/* The value of option @id, or NULL. */
const char *cli_get(const struct cli_args *args, const char *id);

/* ---- cli_help.c ---- */

/* The arg as clap shows it: "--uuid <UUID>", "--auto", "<PARENT>". */
void cli_opt_display(const struct cli_opt *o, char *buf, size_t size);
/* "<prog> <verb> [OPTIONS] --uuid <UUID>": clap's usage of the verb with no arguments. */
void cli_usage_default(const struct cli_ctx *ctx, const struct cli_verb *verb, char *buf,
		       size_t size);
/* clap's usage for an error: the required args, then @used (option indices), deduplicated. */
void cli_usage_smart(const struct cli_ctx *ctx, const struct cli_verb *verb,
		     const unsigned int *req, size_t nreq, const unsigned int *used, size_t nused,
		     char *buf, size_t size);
void cli_print_verb_help(const struct cli_ctx *ctx, const struct cli_verb *verb);
void cli_print_main_help(const struct cli_ctx *ctx, const struct cli_verb *const *verbs,
			 size_t nverbs, bool to_stderr);
/*
 * clap's suggestions: the candidates whose Jaro-Winkler similarity to @word exceeds 0.8, least
 * similar first, written as "'a' or 'b'" into @buf; false when there are none.
 */
bool cli_suggest(const char *word, const char *const *candidates, size_t n, char *buf,
		 size_t size);
/* The most similar candidate above 0.8 (what clap suggests for an option), or NULL. */
const char *cli_suggest_best(const char *word, const char *const *candidates, size_t n);

/* ---- cli_client.c ---- */

/*
 * Sends one request to umdevd and waits for its reply (at most CLI_REPLY_TIMEOUT_S).
 * Returns the reply's "ok" object (a reference, with its fields), after printing its
 * warnings; or NULL after printing the error ("Error: ..."), the reply's or the
 * connection's.
 */
struct json_object *cli_request(struct cli_ctx *ctx, struct json_object *request);
/* Prints "Error: <message>" to stderr; returns 1, umdevctl's exit status for it. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints an env_logger-style warning, "[<UTC time> WARN  <target>] <message>", unless
 * MDEVCTL_LOG turns warnings off; @module: "" or "::mdev". */
void cli_warn(const struct cli_ctx *ctx, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A new request object {"command": @command}. */
struct json_object *cli_new_request(const char *command);
/* Rust's {:?} of a path: quoted, with escapes. */
void cli_debug_path(const char *path, char *buf, size_t size);
/* Prints @obj as serde_json's pretty JSON and a newline; 0 or 1 after an error. */
int cli_print_json(struct json_object *obj);

#define CLI_REPLY_TIMEOUT_S 300

/* ---- the verbs ---- */
extern const struct cli_verb cli_verb_types, cli_verb_list, cli_verb_start, cli_verb_stop;
extern const struct cli_verb cli_verb_define, cli_verb_undefine, cli_verb_modify;
extern const struct cli_verb cli_verb_start_parent_mdevs, cli_verb_info, cli_verb_qemu;

/* ---- cli_mpqemu.c ---- */

/*
 * Connects to a device's mpqemu socket at @path for QEMU to inherit (no close-on-exec) and
 * checks that the device serves this connection: it answers a config read of the vendor ID
 * (QEMU reads it first anyway), which it does not when it refused the connection (one
 * client at a time). Returns the fd and the vendor ID in *@vendor, or -errno: -ECONNRESET
 * when the device closed the connection, -ETIMEDOUT when it did not answer in
 * CLI_MPQEMU_PROBE_TIMEOUT_MS, -EPROTO for an answer that is no valid RET.
 */
int cli_mpqemu_connect(const char *path, unsigned int *vendor);

#define CLI_MPQEMU_PROBE_TIMEOUT_MS 5000

#endif
