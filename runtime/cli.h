/* cli.h — helpers shared by the runtime/cmd_*.c verbs (runtime-internal).
 *
 * Option parsing: every verb uses getopt_long with a leading '+' (options
 * stop at the first positional argument, as runc's CLI does: `exec ID sh -c`
 * keeps "-c" for the container).  runc-style single-dash long options
 * ("-bundle") are accepted too, because getopt_long_only is used.
 */
#ifndef HULL_RUNTIME_CLI_H
#define HULL_RUNTIME_CLI_H

#include <stdbool.h>

#include "lib/err.h"
#include "runtime/command.h"

/* The registered verbs, in link order (for --help). */
const struct hull_command *hull_command_first(void);
const struct hull_command *hull_command_end(void);

/* Fill err with a usage problem ("usage: hull kill [--all] ID [SIGNAL]") and
 * return 1 (the exit status). */
int cli_usage(struct hull_err *err, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reset getopt before a verb parses its own options. */
void cli_getopt_reset(void);

/* "true"/"false"/"1"/"0"/""(true) for --flag=value booleans; -1 if neither. */
int cli_parse_bool(const char *s);

/* Print the verb's usage text to stdout when argv has -h/--help; returns true
 * if it did (the verb then returns 0). */
bool cli_wants_help(int argc, char **argv, const char *usage);

/* Default --root for this user: /run/hull for root, else
 * $XDG_RUNTIME_DIR/hull (or /tmp/hull-<uid>). */
const char *cli_default_root(void);

#endif

/* ---- create / run shared option handling (cmd_create.c) ---------------- */

struct create_args {
	const char *id;
	const char *bundle;            /* -b; NULL = cwd */
	const char *console_socket;
	const char *pid_file;
	unsigned preserve_fds;
	bool no_pivot, no_new_keyring, vm;
	bool detach, keep;             /* run only */
};

/* Parse create's (is_run: run's) flags and the ID.  Returns 0, or 1 with err. */
int cli_parse_create(int argc, char **argv, bool is_run, struct create_args *a, struct hull_err *err);

struct launch_opts;
struct launch_result;
/* Load <bundle>/config.json, pick the handler, launch. 0 or negative errno. */
int cli_create_container(const struct hull_globals *g, const struct create_args *a, int mode,
			 struct launch_result *res, struct hull_err *err);

struct hull_container;
/* poststart hooks of a started container (cmd_start.c); error = spec failure. */
int cli_run_poststart(struct hull_container *c, struct hull_err *err);

/* `run` argument classification (see cmd_run.c): true = an image run. */
bool cli_is_image_run(int argc, char **argv);

/* "9", "KILL", "SIGKILL", "RTMIN+1" -> signal number; -1 if invalid (cmd_kill.c). */
int cli_parse_signal(const char *s);
