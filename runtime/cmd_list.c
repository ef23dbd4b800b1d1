/* list — the containers under --root: a table like runc's, JSON, or ids (-q). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "runtime/cli.h"
#include "runtime/state.h"

#define LIST_USAGE "hull list [--format table|json] [-q]"

static void print_json(struct hull_container **cs, size_t n, struct hull_err *err)
{
	struct hull_json *j = hull_json_new(false);
	char *text = NULL;

	hull_json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		struct hull_container *c = cs[i];
		enum hull_status st = hull_container_status(c);
		hull_json_begin_map(j);
		hull_json_kv_string(j, "ociVersion", "1.3.0");
		hull_json_kv_string(j, "id", c->id);
		hull_json_kv_int(j, "pid", st == HULL_STATUS_STOPPED ? 0 : c->pid);
		hull_json_kv_string(j, "status", hull_status_name(st));
		hull_json_kv_string(j, "bundle", c->bundle);
		hull_json_kv_string(j, "rootfs", c->rootfs);
		hull_json_kv_string(j, "created", c->created);
		hull_json_key(j, "annotations");
		hull_json_begin_map(j);
		for (size_t k = 0; k < c->n_annotations; k++)
			hull_json_kv_string(j, c->annotations[k].key, c->annotations[k].value);
		hull_json_end_map(j);
		hull_json_kv_string(j, "owner", "");
		hull_json_end_map(j);
	}
	hull_json_end_array(j);
	if (hull_json_finish(j, &text, NULL, err) == 0) {
		printf("%s\n", text);
		free(text);
	}
}

static int cmd_list(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 }
	};
	const char *format = "table";
	bool quiet = false;
	char **ids = NULL;
	size_t n = 0, m = 0;
	struct hull_container **cs;
	int opt;

	if (cli_wants_help(argc, argv, LIST_USAGE))
		return 0;
	cli_getopt_reset();
	while ((opt = getopt_long_only(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (opt == 'f')
			format = optarg;
		else if (opt == 'q')
			quiet = true;
		else
			return cli_usage(err, LIST_USAGE, "unknown option `%s`", argv[optind - 1]);
	}
	if (strcmp(format, "table") && strcmp(format, "json"))
		return cli_usage(err, LIST_USAGE, "--format: want table or json, not `%s`", format);
	if (optind != argc)
		return cli_usage(err, LIST_USAGE, "too many arguments");
	if (hull_container_list(g->root, &ids, &n, err) < 0)
		return 1;
	cs = calloc(n + 1, sizeof(*cs));
	for (size_t i = 0; cs && i < n; i++) {
		struct hull_err e = { 0 };
		if (hull_container_load(g->root, ids[i], HULL_LOCK_NONE, &cs[m], &e) == 0)
			m++;
	}
	if (quiet) {
		for (size_t i = 0; i < m; i++)
			printf("%s\n", cs[i]->id);
	} else if (!strcmp(format, "json")) {
		print_json(cs, m, err);
	} else {
		printf("%-12s %-10s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
		for (size_t i = 0; i < m; i++) {
			enum hull_status st = hull_container_status(cs[i]);
			char owner[32];
			snprintf(owner, sizeof(owner), "%s", cs[i]->owner == 0 ? "root" : "");
			if (!owner[0])
				snprintf(owner, sizeof(owner), "%u", (unsigned)cs[i]->owner);
			printf("%-12s %-10d %-10s %-40s %-30s %s\n", cs[i]->id,
			       st == HULL_STATUS_STOPPED ? 0 : (int)cs[i]->pid, hull_status_name(st),
			       cs[i]->bundle ? cs[i]->bundle : "", cs[i]->created ? cs[i]->created : "", owner);
		}
	}
	for (size_t i = 0; i < m; i++)
		hull_container_free(cs[i]);
	free(cs);
	hull_container_list_free(ids, n);
	return err->code ? 1 : 0;
}

HULL_COMMAND(list, "list containers", cmd_list);
