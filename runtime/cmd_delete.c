/* delete — remove a container: its processes (--force), cgroup, state; poststop hooks. */
#include <errno.h>
#include <getopt.h>

#include "runtime/cli.h"
#include "runtime/launch.h"
#include "runtime/state.h"

#define DELETE_USAGE "hull delete [--force] ID"

static int cmd_delete(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { 0 } };
	struct hull_container *c = NULL;
	bool force = false;
	int opt, rc = 1;
	const char *id;

	if (cli_wants_help(argc, argv, DELETE_USAGE))
		return 0;
	cli_getopt_reset();
	while ((opt = getopt_long_only(argc, argv, "+f", opts, NULL)) != -1) {
		if (opt != 'f')
			return cli_usage(err, DELETE_USAGE, "unknown option `%s`", argv[optind - 1]);
		force = true;
	}
	if (optind != argc - 1)
		return cli_usage(err, DELETE_USAGE, optind >= argc ? "missing container ID" : "too many arguments");
	id = argv[optind];
	if (hull_container_load(g->root, id, HULL_LOCK_EX, &c, err) < 0) {
		/* runc: deleting a missing container with --force is not an error. */
		if (force && err->code == ENOENT) {
			hull_err_clear(err);
			return 0;
		}
		goto out;
	}
	if (hull_container_destroy(c, force, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc)
		hull_err_wrap(err, "%s", id);
	hull_container_free(c);
	return rc;
}

HULL_COMMAND(delete, "delete a container (--force: also a running one)", cmd_delete);
