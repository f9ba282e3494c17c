/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * umdevctl against golden outputs: this program serves the control socket in-process (with
 * the mtty driver started, as on the machine of kernel-mtty-ground-truth.md section 2) and
 * runs the built umdevctl under the name `mdevctl` (a symlink, so that it presents itself
 * as mdevctl does), with UMDEV_RUN_DIR pointing at the server. Each run's stdout, stderr and
 * exit status are compared byte for byte with a golden file in tests/cli/golden/.
 *
 * A sequence file (golden/<name>.seq) lists the golden files of a scenario in order (state
 * carries from one to the next). A golden file reads
 *
 *   # where the expected output comes from
 *   $ mdevctl list -u 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001      (words; '...' quotes)
 *   --- write <path under the conf dir>   (optional: a file written before the command)
 *   <its exact content>
 *   --- stdin                     (optional: what the command reads on its stdin)
 *   --- exit 0
 *   --- stdout
 *   <the exact bytes, line by line>
 *   --- stderr
 *   <the exact bytes>
 *   --- file <path under the conf dir> <golden file holding its exact content>   (optional)
 *
 * Before comparing, what cannot be the same from run to run is masked in the actual output:
 * env_logger's timestamps ("[2026-11-21T08:40:22Z " becomes "[TIMESTAMP "), the run and
 * configuration directories (RUNDIR, CONFDIR) and generated (version 4) UUIDs (NEW-UUID).
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <umdev/module.h>

#include "mgmt/ctl/ctl_server.h"
#include "mgmt/persist/mdevctl_uuid.h"
#include "tap.h"

extern const struct umdev_driver_module umdev_builtin_mtty;

#define MAX_WORDS 24
#define RUN_TIMEOUT_S 60

struct env {
	char dir[256], run_dir[300], conf_dir[300], bin[300], golden[512];
	struct ctl_server *srv;
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	for (;;) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (n + 1 < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static bool env_setup(struct env *e)
{
	const char *tmp = getenv("TMPDIR"), *exe = getenv("UMDEVCTL");
	const char *src = getenv("UMDEV_SOURCE_ROOT");
	struct ctl_server_config cfg;
	char link[400];

	memset(e, 0, sizeof(*e));
	if (!CHECK(exe && src))
		return false;
	snprintf(e->golden, sizeof(e->golden), "%s/tests/cli/golden", src);
	snprintf(e->dir, sizeof(e->dir), "%s/umdev-cli-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!CHECK(mkdtemp(e->dir))) {
		e->dir[0] = '\0';
		return false;
	}
	snprintf(e->run_dir, sizeof(e->run_dir), "%s/run", e->dir);
	snprintf(e->conf_dir, sizeof(e->conf_dir), "%s/conf", e->dir);
	snprintf(e->bin, sizeof(e->bin), "%s/bin", e->dir);
	mkdir(e->run_dir, 0755);
	mkdir(e->conf_dir, 0755);
	mkdir(e->bin, 0755);
	snprintf(link, sizeof(link), "%s/mdevctl", e->bin);
	if (!CHECK(symlink(exe, link) == 0))
		return false;
	if (!CHECK_EQ(umdev_builtin_mtty.init(), 0))
		return false;
	snprintf(link, sizeof(link), "%s/control.sock", e->run_dir);
	cfg = (struct ctl_server_config){ link, e->conf_dir, e->run_dir, (gid_t)-1 };
	if (!CHECK_EQ(ctl_server_start(&cfg, &e->srv), 0)) {
		umdev_builtin_mtty.exit();
		return false;
	}
	return true;
}

static void env_teardown(struct env *e)
{
	if (e->srv) {
		ctl_server_stop(e->srv);
		umdev_builtin_mtty.exit();
	}
	if (e->dir[0])
		nftw(e->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Splits a command line into words ('...' quotes, no escapes); the count. */
static int split(char *line, char **words)
{
	int n = 0;

	while (*line && n < MAX_WORDS - 1) {
		char *w, *out;

		while (*line == ' ')
			line++;
		if (!*line)
			break;
		w = out = line;
		while (*line && *line != ' ') {
			if (*line == '\'') {
				line++;
				while (*line && *line != '\'')
					*out++ = *line++;
				if (*line)
					line++;
			} else {
				*out++ = *line++;
			}
		}
		if (*line)
			line++;
		*out = '\0';
		words[n++] = w;
	}
	words[n] = NULL;
	return n;
}

struct golden {
	char command[1024];
	char *stdin_text, *stdout_text, *stderr_text, *write_text;
	char write_path[256]; /* a file to write under the conf dir before the command */
	int exit_status;
	char files[4][2][256]; /* path under the conf dir, golden file */
	int nfiles;
};

/*
 * Parses a golden file in place: a section's content runs from the line after its marker
 * to the next "--- " line (which is cut off with a NUL), newlines included. False if it is
 * malformed.
 */
static bool parse_golden(char *text, struct golden *g)
{
	char **section = NULL, *line = text, buf[600];

	memset(g, 0, sizeof(*g));
	g->exit_status = -1;
	while (*line) {
		char *nl = strchr(line, '\n'), *next = nl ? nl + 1 : line + strlen(line);
		size_t len = (size_t)((nl ? nl : next) - line);

		if (section && strncmp(line, "--- ", 4)) {
			line = next;
			continue;
		}
		if (len >= sizeof(buf))
			return false;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (section)
			*line = '\0';
		section = NULL;
		if (!strncmp(buf, "$ ", 2))
			snprintf(g->command, sizeof(g->command), "%s", buf + 2);
		else if (!strcmp(buf, "--- stdin"))
			section = &g->stdin_text;
		else if (!strncmp(buf, "--- write ", 10) &&
			 sscanf(buf + 10, "%255s", g->write_path) == 1)
			section = &g->write_text;
		else if (!strcmp(buf, "--- stdout"))
			section = &g->stdout_text;
		else if (!strcmp(buf, "--- stderr"))
			section = &g->stderr_text;
		else if (!strncmp(buf, "--- exit ", 9))
			g->exit_status = atoi(buf + 9);
		else if (!strncmp(buf, "--- file ", 9) && g->nfiles < 4 &&
			 sscanf(buf + 9, "%255s %255s", g->files[g->nfiles][0],
				g->files[g->nfiles][1]) == 2)
			g->nfiles++;
		else if (buf[0] && buf[0] != '#')
			return false;
		if (section)
			*section = next;
		line = next;
	}
	return g->command[0] && g->exit_status >= 0;
}

static const char *content(const char *s)
{
	return s ? s : "";
}

/* Replaces every @from in @s (malloc'd, freed) by @to; the new string. */
static char *replace_all(char *s, const char *from, const char *to)
{
	size_t lf = strlen(from), lt = strlen(to), n = 0;
	char *out, *o, *p, *q;

	if (!lf)
		return s;
	for (p = strstr(s, from); p; p = strstr(p + lf, from))
		n++;
	if (!n)
		return s;
	out = o = malloc(strlen(s) + n * lt + 1);
	for (p = s; (q = strstr(p, from)); p = q + lf) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, lt);
		o += lt;
	}
	strcpy(o, p);
	free(s);
	return out;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Masks what changes from run to run (see the top of this file). */
static char *mask(char *s, const struct env *e)
{
	static const char stamp[] = "dddd-dd-ddTdd:dd:ddZ ";
	char *out = malloc(strlen(s) * 2 + 64), *o = out;

	for (char *p = s; *p;) {
		bool is_stamp = *p == '[', is_uuid = true;

		for (size_t k = 0; is_stamp && k < sizeof(stamp) - 1; k++)
			is_stamp = stamp[k] == 'd' ? is_digit(p[1 + k]) : p[1 + k] == stamp[k];
		if (is_stamp) {
			o += sprintf(o, "[TIMESTAMP ");
			p += sizeof(stamp);
			continue;
		}
		for (size_t k = 0; k < 36 && is_uuid; k++)
			is_uuid = p[k] != '\0';
		if (is_uuid) {
			char probe[37];

			memcpy(probe, p, 36);
			probe[36] = '\0';
			is_uuid = mdevctl_uuid_is_canonical(probe) && probe[14] == '4';
		}
		if (is_uuid) {
			o += sprintf(o, "NEW-UUID");
			p += 36;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	free(s);
	out = replace_all(out, e->run_dir, "RUNDIR");
	return replace_all(out, e->conf_dir, "CONFDIR");
}

/* Reads both pipes to their ends; false on timeout. */
static bool drain(int outfd, int errfd, char **out, char **err)
{
	int fds[2] = { outfd, errfd };
	size_t len[2] = { 0, 0 }, cap[2] = { 4096, 4096 };
	char *buf[2] = { malloc(4096), malloc(4096) };
	time_t deadline = time(NULL) + RUN_TIMEOUT_S;

	while (fds[0] >= 0 || fds[1] >= 0) {
		struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };

		if (time(NULL) > deadline || poll(p, 2, 1000) < 0)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (fds[i] < 0 || !p[i].revents)
				continue;
			if (len[i] + 4096 > cap[i]) {
				cap[i] *= 2;
				buf[i] = realloc(buf[i], cap[i]);
			}
			n = read(fds[i], buf[i] + len[i], cap[i] - len[i] - 1);
			if (n <= 0) {
				close(fds[i]);
				fds[i] = -1;
			} else {
				len[i] += (size_t)n;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		buf[i][len[i]] = '\0';
	}
	*out = buf[0];
	*err = buf[1];
	return fds[0] < 0 && fds[1] < 0;
}

/* Writes @text to <conf>/@rel, creating its directory. */
static void write_conf_file(const struct env *e, const char *rel, const char *text)
{
	char path[900], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->conf_dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdir(path, 0755);
	*slash = '/';
	f = fopen(path, "w");
	if (CHECK(f)) {
		fputs(text, f);
		fclose(f);
	}
}

/* Runs the golden file's command; checks its outputs. */
static void run_case(const struct env *e, const char *name)
{
	char path[700], cmdline[1024], *text, *words[MAX_WORDS], *out = NULL, *err = NULL;
	int outp[2], errp[2], inp[2], status = -1, n;
	struct golden g;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", e->golden, name);
	text = slurp(path, NULL);
	if (!CHECK(text) || !CHECK(parse_golden(text, &g))) {
		tap_diag("golden file %s is missing or malformed", path);
		free(text);
		return;
	}
	snprintf(cmdline, sizeof(cmdline), "%s", g.command);
	n = split(cmdline, words);
	if (!CHECK(n > 0 && !strcmp(words[0], "mdevctl"))) {
		free(text);
		return;
	}
	if (g.write_path[0])
		write_conf_file(e, g.write_path, content(g.write_text));
	snprintf(path, sizeof(path), "%s/mdevctl", e->bin);
	if (pipe(outp) || pipe(errp) || pipe(inp))
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(inp[0], 0);
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		for (int fd = 3; fd < 256; fd++)
			close(fd);
		setenv("UMDEV_RUN_DIR", e->run_dir, 1);
		unsetenv("MDEVCTL_LOG");
		execv(path, words);
		_exit(127);
	}
	close(inp[0]);
	close(outp[1]);
	close(errp[1]);
	if (g.stdin_text && write(inp[1], g.stdin_text, strlen(g.stdin_text)) < 0)
		tap_diag("cannot feed stdin");
	close(inp[1]);
	if (!CHECK(drain(outp[0], errp[0], &out, &err)))
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	out = mask(out, e);
	err = mask(err, e);
	if (!CHECK_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, g.exit_status) ||
	    !CHECK_STR(out, content(g.stdout_text)) || !CHECK_STR(err, content(g.stderr_text)))
		tap_diag("in %s: $ %s", name, g.command);
	for (int i = 0; i < g.nfiles; i++) {
		char file[900], expect_path[900], *actual, *expect;

		snprintf(file, sizeof(file), "%s/%s", e->conf_dir, g.files[i][0]);
		snprintf(expect_path, sizeof(expect_path), "%s/%s", e->golden, g.files[i][1]);
		actual = slurp(file, NULL);
		expect = slurp(expect_path, NULL);
		if (!CHECK(actual && expect) || !CHECK_STR(actual, expect))
			tap_diag("in %s: %s differs from %s", name, file, g.files[i][1]);
		free(actual);
		free(expect);
	}
	free(out);
	free(err);
	free(text);
}

/* Runs the cases that golden/@seq lists, in order, in one fresh environment. */
static void run_sequence(const char *seq)
{
	char path[700], *list, *save = NULL;
	struct env e;

	if (env_setup(&e)) {
		snprintf(path, sizeof(path), "%s/%s", e.golden, seq);
		list = slurp(path, NULL);
		if (CHECK(list)) {
			for (char *name = strtok_r(list, "\n", &save); name;
			     name = strtok_r(NULL, "\n", &save))
				if (*name && *name != '#')
					run_case(&e, name);
		}
		free(list);
	}
	env_teardown(&e);
}

/* kernel-mtty-ground-truth.md section 2, in its order. */
TEST(golden_ground_truth)
{
	run_sequence("ground-truth.seq");
}

/* define, modify, undefine, --jsonfile and start's errors (mdevctl-contract.md). */
TEST(golden_definitions)
{
	run_sequence("definitions.seq");
}

/* Usage errors in clap's words, help and version, and umdevctl's own info. */
TEST(golden_usage_and_info)
{
	run_sequence("usage-info.seq");
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return tap_main(argc, argv);
}
