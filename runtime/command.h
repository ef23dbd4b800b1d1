/* command.h — how a CLI verb plugs into hull.
 *
 * Each runtime/cmd_<verb>.c registers itself with one line:
 *     HULL_COMMAND(kill, "send a signal to the container's init", cmd_kill);
 * The linker gathers the entries into the `hull_cmds` section; main.c walks
 * it, so adding a verb never touches main.c (kvmtool's self-registration).
 * Names starting with "-" are internal (not listed in --help).
 *
 * A handler gets the global options already parsed and argv positioned at the
 * verb (argv[0] == verb name).  It returns the process exit status; errors are
 * reported by returning 1 after filling *err (main prints/logs it once).
 */
#ifndef HULL_RUNTIME_COMMAND_H
#define HULL_RUNTIME_COMMAND_H

#include <stdbool.h>

#include "lib/err.h"

struct hull_globals {
	const char *root;          /* --root, default /run/hull */
	const char *log_path;      /* --log */
	bool log_json;             /* --log-format json */
	bool debug;                /* --debug */
	bool systemd_cgroup;       /* --systemd-cgroup */
	bool rootless;             /* --rootless true/auto resolved */
	bool vm;                   /* invoked as hull-vm: VM isolation by default */
	const char *argv0;         /* as invoked */
};

typedef int (*hull_command_fn)(const struct hull_globals *g, int argc, char **argv, struct hull_err *err);

struct hull_command {
	const char *name;
	const char *summary;
	hull_command_fn fn;
};

#define HULL_COMMAND(ident, summary_, fn_) \
	static const struct hull_command hull_cmd_##ident \
	__attribute__((used, section("hull_cmds"), aligned(sizeof(void *)))) = { #ident, summary_, fn_ }

/* Same, for verbs whose name is not a C identifier ("-vm-init"). */
#define HULL_COMMAND_NAMED(ident, name_, summary_, fn_) \
	static const struct hull_command hull_cmd_##ident \
	__attribute__((used, section("hull_cmds"), aligned(sizeof(void *)))) = { name_, summary_, fn_ }

/* Lookup by name; NULL if no such verb was linked in. */
const struct hull_command *hull_command_find(const char *name);

#endif
