/* main.c — hull's entry point: global options, then the verb.
 *
 * Verbs live in runtime/cmd_<verb>.c and register themselves (command.h);
 * this file only parses what runc parses before the verb, opens the log, and
 * prints the one error line a failed verb leaves in its struct hull_err.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "lib/err.h"
#include "lib/log.h"
#include "runtime/cli.h"
#include "runtime/command.h"
#include "runtime/security.h"

#ifndef HULL_VERSION
#define HULL_VERSION "0.0.0"
#endif
#define HULL_SPEC_VERSION "1.3.0"

static void print_version(void)
{
	const struct scmp_version *v = seccomp_version();

	printf("hull version %s\nspec: %s\n", HULL_VERSION, HULL_SPEC_VERSION);
	if (v)
		printf("libseccomp: %u.%u.%u\n", v->major, v->minor, v->micro);
}

static void print_help(const char *argv0)
{
	printf("hull — an OCI container runtime (runc-compatible command line)\n\n"
	       "usage: %s [global options] COMMAND [options] [arguments]\n\n"
	       "commands:\n", argv0);
	/* Link order is arbitrary: print the verbs alphabetically. */
	for (const char *last = ""; ; ) {
		const struct hull_command *next = NULL;
		for (const struct hull_command *c = hull_command_first(); c < hull_command_end(); c++)
			if (c->name[0] != '-' && strcmp(c->name, last) > 0 && (!next || strcmp(c->name, next->name) < 0))
				next = c;
		if (!next)
			break;
		printf("   %-10s %s\n", next->name, next->summary);
		last = next->name;
	}
	printf("\nglobal options:\n"
	       "   --root DIR            state directory (default /run/hull; rootless: $XDG_RUNTIME_DIR/hull)\n"
	       "   --log FILE            write log records to FILE\n"
	       "   --log-format FORMAT   text (default) or json (runc's records, read by containerd)\n"
	       "   --debug               also log debug records\n"
	       "   --systemd-cgroup      systemd cgroup driver (not available: hull has no systemd support)\n"
	       "   --rootless true|false|auto\n"
	       "   --version, -v         print the version\n"
	       "   --help, -h            this text; `hull COMMAND --help` for a command\n");
}

/* Verbs that start a container process re-execute from a sealed copy first. */
static bool needs_sealed_self(const char *verb)
{
	return !strcmp(verb, "create") || !strcmp(verb, "run") || !strcmp(verb, "exec");
}

int main(int argc, char **argv)
{
	enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD, OPT_ROOTLESS, OPT_CRIU };
	static const struct option opts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD },
		{ "rootless", required_argument, NULL, OPT_ROOTLESS },
		{ "criu", required_argument, NULL, OPT_CRIU },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct hull_globals g = { .argv0 = argv[0] };
	struct hull_err err = { 0 };
	const struct hull_command *cmd;
	const char *base = strrchr(argv[0], '/');
	const char *log_format = "text";
	int opt, rootless = -1, rc;

	base = base ? base + 1 : argv[0];
	g.vm = strcmp(base, "hull-vm") == 0;

	opterr = 0;
	while ((opt = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_ROOT: g.root = optarg; break;
		case OPT_LOG: g.log_path = optarg; break;
		case OPT_LOG_FORMAT: log_format = optarg; break;
		case OPT_DEBUG: g.debug = true; break;
		case OPT_SYSTEMD: g.systemd_cgroup = true; break;
		case OPT_CRIU: break;
		case OPT_ROOTLESS:
			if (!strcmp(optarg, "auto"))
				rootless = -1;
			else if ((rootless = cli_parse_bool(optarg)) < 0) {
				fprintf(stderr, "hull: --rootless: want true, false or auto, not `%s`\n", optarg);
				return 1;
			}
			break;
		case 'v': print_version(); return 0;
		case 'h': print_help(base); return 0;
		default:
			fprintf(stderr, "hull: unknown global option `%s` (see `hull --help`)\n", argv[optind - 1]);
			return 1;
		}
	}
	if (strcmp(log_format, "json") && strcmp(log_format, "text")) {
		fprintf(stderr, "hull: --log-format: want text or json, not `%s`\n", log_format);
		return 1;
	}
	g.log_json = !strcmp(log_format, "json");
	if (hull_log_open(g.log_path, g.log_json, g.debug) < 0) {
		fprintf(stderr, "hull: --log `%s`: %s\n", g.log_path, strerror(errno));
		return 1;
	}
	g.rootless = rootless < 0 ? geteuid() != 0 : rootless == 1;
	if (!g.root)
		g.root = cli_default_root();

	if (optind >= argc) {
		print_help(base);
		return 1;
	}
	cmd = hull_command_find(argv[optind]);
	if (!cmd) {
		hull_error("unknown command `%s` (see `hull --help`)", argv[optind]);
		return 1;
	}
	if (g.systemd_cgroup) {
		hull_error("%s: --systemd-cgroup: hull has no systemd cgroup driver (this build manages cgroupfs directly)",
			   cmd->name);
		return 1;
	}
	if (needs_sealed_self(cmd->name) && hull_ensure_sealed_self(argc, argv, &err) < 0) {
		hull_error("%s: %s", cmd->name, err.msg);
		return 1;
	}
	rc = cmd->fn(&g, argc - optind, argv + optind, &err);
	if (rc != 0 && err.code != 0)
		hull_error("%s %s", cmd->name, err.msg);
	hull_log_close();
	return rc;
}
