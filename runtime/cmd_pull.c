/* pull — fetch an image into the store (any reference kind). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cli.h"
#include "runtime/command.h"
#include "runtime/image_plugin.h"

#define PULL_USAGE "hull pull [--store DIR] [--insecure] [--creds USER:PASS] [--authfile FILE] [--jobs N] [-q] REFERENCE\n" \
	"  REFERENCE: [docker://][REGISTRY/]NAME[:TAG|@DIGEST], oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE\n" \
	"  --insecure (or --tls-verify=false): plain HTTP, for a registry on the local host"

#define PULL_SHORT "hull pull [options] IMAGE; see hull-pull(8)"

static int cmd_pull(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	struct hull_image_ctx ctx = { .progress = isatty(STDERR_FILENO) };
	const char *pos[2];
	int npos, r;
	bool quiet;

	if (cli_wants_help(argc, argv, PULL_USAGE))
		return 0;
	if ((r = hull_image_parse_argv(&ctx, argc, argv, PULL_SHORT, pos, 2, &npos, &quiet, err)))
		return r;
	if (npos == 0)
		return cli_usage(err, PULL_SHORT, "missing image reference");
	if (npos > 1)
		return cli_usage(err, PULL_SHORT, "one reference at a time");
	const struct hull_image_api *api = hull_image_load(g->argv0, err);
	if (!api)
		return 1;
	return hull_image_fetch_print(api, &ctx, pos[0], NULL, err);
}

HULL_COMMAND(pull, "pull an image from a registry, an OCI layout or an archive into the store", cmd_pull);
