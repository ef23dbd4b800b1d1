/* features — the OCI features document: what this build of hull supports. */
#include <stdio.h>
#include <stdlib.h>

#include "oci/features.h"
#include "runtime/cli.h"

static int cmd_features(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	char *json = NULL;

	if (cli_wants_help(argc, argv, "hull features"))
		return 0;
	if (argc != 1)
		return cli_usage(err, "hull features", "too many arguments");
	if (oci_features_json(&json, err) < 0)
		return 1;
	fputs(json, stdout);
	free(json);
	return 0;
}

HULL_COMMAND(features, "print the OCI features document (JSON)", cmd_features);
