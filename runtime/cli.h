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
