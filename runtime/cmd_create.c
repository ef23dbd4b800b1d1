/* create — set up a container from a bundle; its process waits for `start`. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "oci/config.h"
#include "runtime/cli.h"
#include "runtime/handler.h"
#include "runtime/launch.h"
#include "runtime/security.h"

#define CREATE_USAGE "hull create [-b BUNDLE] [--console-socket PATH] [--pid-file FILE] " \
	"[--preserve-fds N] [--no-pivot] [--no-new-keyring] [--vm] ID"

int cli_parse_create(int argc, char **argv, bool is_run, struct create_args *a, struct hull_err *err)
{
	enum { O_CONSOLE = 256, O_PIDFILE, O_PRESERVE, O_NOPIVOT, O_NOKEYRING, O_VM, O_KEEP, O_NOSUB };
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "no-pivot", no_argument, NULL, O_NOPIVOT },
		{ "no-new-keyring", no_argument, NULL, O_NOKEYRING },
		{ "vm", no_argument, NULL, O_VM },
		{ "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, O_KEEP },
		{ "no-subreaper", no_argument, NULL, O_NOSUB },
		{ 0 }
	};
	const char *usage = is_run ? "hull run [-b BUNDLE] [-d] [--keep] [create flags] ID" : CREATE_USAGE;
	int opt;

	memset(a, 0, sizeof(*a));
	cli_getopt_reset();
	while ((opt = getopt_long_only(argc, argv, is_run ? "+b:d" : "+b:", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': a->bundle = optarg; break;
		case O_CONSOLE: a->console_socket = optarg; break;
		case O_PIDFILE: a->pid_file = optarg; break;
		case O_PRESERVE: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || !*optarg || n > 65536)
				return cli_usage(err, usage, "--preserve-fds: not a number `%s`", optarg);
			a->preserve_fds = (unsigned)n;
			break;
		}
		case O_NOPIVOT: a->no_pivot = true; break;
		case O_NOKEYRING: a->no_new_keyring = true; break;
		case O_VM: a->vm = true; break;
		case O_NOSUB: break;
		case 'd':
		case O_KEEP:
			if (!is_run)
				return cli_usage(err, usage, "unknown option `%s`", argv[optind - 1]);
			if (opt == 'd')
				a->detach = true;
			else
				a->keep = true;
			break;
		default:
			return cli_usage(err, usage, "unknown option `%s`", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage(err, usage, optind >= argc ? "missing container ID" : "too many arguments");
	a->id = argv[optind];
	return 0;
}

int cli_create_container(const struct hull_globals *g, const struct create_args *a, int mode,
			 struct launch_result *res, struct hull_err *err)
{
	_cleanup_free_ char *bundle = NULL, *text = NULL, *cfg_path = NULL;
	struct oci_config *cfg = NULL;
	struct launch_opts o = { 0 };
	const struct hull_handler *handler;
	size_t len;
	int r;

	if ((r = hull_container_id_valid(a->id, err)) < 0)
		return r;
	bundle = realpath(a->bundle ? a->bundle : ".", NULL);
	if (!bundle)
		return hull_errf_sys(err, errno, "bundle `%s`", a->bundle ? a->bundle : ".");
	if (asprintf(&cfg_path, "%s/config.json", bundle) < 0)
		return hull_errf_sys(err, ENOMEM, "bundle");
	if ((r = hull_read_file(cfg_path, 0, &text, &len, err)) < 0)
		return r;
	if ((r = oci_config_parse(text, len, "config.json", &cfg, err)) < 0)
		return r;
	if ((r = hull_handler_select(cfg, g, a->vm, &handler, err)) < 0)
		goto out;
	if (handler->configure && (r = handler->configure(cfg, err)) < 0)
		goto out;
	if (cfg->has_process && (r = sec_lsm_check(sec_lsm_probe(), &cfg->process, cfg->linux_.mount_label, err)) < 0)
		goto out;
	o = (struct launch_opts){
		.g = g, .id = a->id, .bundle = bundle, .cfg = cfg, .config_text = text, .config_len = len,
		.handler = handler, .mode = (enum launch_mode)mode, .console_socket = a->console_socket,
		.proxy_console = mode == LAUNCH_RUN && !a->console_socket && !a->detach,
		.pid_file = a->pid_file, .preserve_fds = a->preserve_fds, .no_pivot = a->no_pivot,
		.no_new_keyring = a->no_new_keyring,
	};
	r = launch_container(&o, res, err);
out:
	oci_config_free(cfg);
	return r;
}

static int cmd_create(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	struct create_args a;
	struct launch_result res;

	if (cli_wants_help(argc, argv, CREATE_USAGE))
		return 0;
	if (cli_parse_create(argc, argv, false, &a, err))
		return 1;
	if (cli_create_container(g, &a, LAUNCH_CREATE, &res, err) < 0) {
		hull_err_wrap(err, "%s", a.id);
		return 1;
	}
	launch_result_free(&res);
	return 0;
}

HULL_COMMAND(create, "create a container from a bundle (its process waits for `start`)", cmd_create);
