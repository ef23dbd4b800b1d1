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
	const char *ref = NULL;
	bool quiet = false, bad = false;
		if (cli_wants_help(argc, argv, PULL_USAGE))
		return 0;
	for (int i = 1; i < argc; i++) {
		if (hull_image_common_opt(&ctx, argc, argv, &i, &bad, err)) {
			if (bad)
				return 1;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage(err, PULL_SHORT, "unknown option `%s`", argv[i]);
		} else if (!ref) {
			ref = argv[i];
		} else {
			return cli_usage(err, PULL_SHORT, "one reference at a time");
		}
	}
	if (!ref)
		return cli_usage(err, PULL_SHORT, "missing image reference");
	if (quiet)
		ctx.progress = false;
	const struct hull_image_api *api = hull_image_load(g->argv0, err);
	if (!api)
		return 1;
	char digest[80];
	if (api->fetch(&ctx, ref, NULL, digest, err) < 0)
		return 1;   /* the plugin's message names the image */
	printf("%s\n", digest);
	return 0;
}

HULL_COMMAND(pull, "pull an image from a registry, an OCI layout or an archive into the store", cmd_pull);
