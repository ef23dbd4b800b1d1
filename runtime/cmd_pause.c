/* cmd_pause.c — `hull pause ID` / `hull resume ID`: freeze or thaw every
 * process of the container through its cgroup, returning once the kernel
 * reports the whole cgroup frozen (thawed).  Same rules as runc: pause needs
 * a running or created container, resume a paused one. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cgroups/cgroup.h"
#include "runtime/cli.h"
#include "runtime/command.h"
#include "runtime/state.h"

static int freeze_cmd(const struct hull_globals *g, int argc, char **argv, struct hull_err *err, bool freeze)
{
	const char *usage = freeze ? "hull pause ID" : "hull resume ID";
	struct hull_container *c = NULL;
	struct hull_cgroup *cg = NULL;
	enum hull_status st;
	int rc = 1;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage(err, usage, "expected exactly one container id");
	if (hull_container_id_valid(argv[1], err) < 0)
		return 1;
	if (hull_container_load(g->root, argv[1], HULL_LOCK_EX, &c, err) < 0)
		goto out;
	st = hull_container_status(c);
	if (freeze && st != HULL_STATUS_RUNNING && st != HULL_STATUS_CREATED) {
		hull_errf(err, EINVAL, "container `%s` is %s, not running or created", c->id, hull_status_name(st));
		goto out;
	}
	if (!freeze && st != HULL_STATUS_PAUSED) {
		hull_errf(err, EINVAL, "container `%s` is %s, not paused", c->id, hull_status_name(st));
		goto out;
	}
	if (hull_container_cgroup(c, &cg, err) < 0)
		goto out;
	if (!cg) {
		hull_errf(err, ENOTSUP, "container `%s` has no cgroup to %s", c->id, freeze ? "freeze" : "thaw");
		goto out;
	}
	if (hull_cgroup_freeze(cg, freeze, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc)
		hull_err_wrap(err, "%s", argv[1]);   /* main prefixes the verb */
	hull_cgroup_free(cg);
	hull_container_free(c);
	return rc;
}

static int cmd_pause(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	return freeze_cmd(g, argc, argv, err, true);
}

static int cmd_resume(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	return freeze_cmd(g, argc, argv, err, false);
}

HULL_COMMAND(pause, "suspend all processes of a container", cmd_pause);
HULL_COMMAND(resume, "resume all processes of a paused container", cmd_resume);
