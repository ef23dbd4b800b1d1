/* state — print the OCI state of a container (runc's JSON, indented). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/cli.h"
#include "runtime/state.h"

#define STATE_USAGE "hull state ID"

static int cmd_state(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	struct hull_container *c = NULL;
	char *json;

	if (cli_wants_help(argc, argv, STATE_USAGE))
		return 0;
	if (argc != 2)
		return cli_usage(err, STATE_USAGE, argc < 2 ? "missing container ID" : "too many arguments");
	if (hull_container_load(g->root, argv[1], HULL_LOCK_NONE, &c, err) < 0) {
		hull_err_wrap(err, "%s", argv[1]);
		return 1;
	}
	json = hull_container_state_json(c, hull_container_status(c), true);
	hull_container_free(c);
	if (!json) {
		hull_errf(err, ENOMEM, "%s: state", argv[1]);
		return 1;
	}
	printf("%s\n", json);
	free(json);
	return 0;
}

HULL_COMMAND(state, "print the state of a container (JSON)", cmd_state);
