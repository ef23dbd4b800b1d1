/* image — manage the image store: ls, inspect, rm, prune, import, pull. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cli.h"
#include "runtime/command.h"
#include "runtime/image_plugin.h"

#define IMAGE_USAGE "hull image [--store DIR] ls [-q] | inspect NAME | rm NAME... | prune | import ARCHIVE|REF [NAME] | pull REF\n" \
	"  ARCHIVE: an oci-archive or docker-archive tar (detected), or any pull reference"

#define IMAGE_SHORT "hull image ls|inspect|rm|prune|import ...; see hull-image(8)"

/* A bare file name for `import` picks its transport from the content:
 * docker save archives have manifest.json, OCI archives an oci-layout. */
static const char *import_ref(const char *arg, char *buf, size_t size)
{
	if (strchr(arg, ':') || access(arg, F_OK) != 0)
		return arg;
	FILE *f = fopen(arg, "re");
	if (!f)
		return arg;
	/* both are tar files; the first member's name is enough for files
	 * written by skopeo/podman/docker, else assume docker save */
	char hdr[100] = "";
	size_t n = fread(hdr, 1, sizeof(hdr), f);
	fclose(f);
	bool oci = n == sizeof(hdr) && (!strncmp(hdr, "oci-layout", 10) || !strncmp(hdr, "blobs", 5) ||
					 !strncmp(hdr, "index.json", 10) || !strncmp(hdr, "./oci-layout", 12));
	snprintf(buf, size, "%s:%s", oci ? "oci-archive" : "docker-archive", arg);
	return buf;
}

static int cmd_image(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	struct hull_image_ctx ctx = { .progress = isatty(STDERR_FILENO) };
	const char *pos[64];
	int npos, r;
	bool quiet;

	if (cli_wants_help(argc, argv, IMAGE_USAGE))
		return 0;
	if ((r = hull_image_parse_argv(&ctx, argc, argv, IMAGE_SHORT, pos, (int)(sizeof(pos) / sizeof(pos[0])),
				       &npos, &quiet, err)))
		return r;
	if (npos == 0)
		return cli_usage(err, IMAGE_SHORT, "missing subcommand");
	const char *sub = pos[0];
	const struct hull_image_api *api = hull_image_load(g->argv0, err);
	if (!api)
		return 1;
	if (!strcmp(sub, "ls") || !strcmp(sub, "list")) {
		if (npos != 1)
			return cli_usage(err, IMAGE_SHORT, "ls takes no arguments");
		return api->list(&ctx, stdout, quiet, err) < 0 ? 1 : 0;
	}
	if (!strcmp(sub, "inspect")) {
		if (npos != 2)
			return cli_usage(err, IMAGE_SHORT, "inspect takes one image");
		return api->inspect(&ctx, pos[1], stdout, err) < 0 ? 1 : 0;
	}
	if (!strcmp(sub, "rm")) {
		if (npos < 2)
			return cli_usage(err, IMAGE_SHORT, "rm needs an image");
		for (int i = 1; i < npos; i++) {
			if (api->remove(&ctx, pos[i], err) < 0)
				return 1;
			printf("%s\n", pos[i]);
		}
		return 0;
	}
	if (!strcmp(sub, "prune")) {
		if (npos != 1)
			return cli_usage(err, IMAGE_SHORT, "prune takes no arguments");
		return api->prune(&ctx, quiet ? NULL : stdout, err) < 0 ? 1 : 0;
	}
	if (!strcmp(sub, "import") || !strcmp(sub, "pull") || !strcmp(sub, "load")) {
		if (npos < 2 || npos > 3)
			return cli_usage(err, IMAGE_SHORT, "%s takes a source and an optional name", sub);
		char buf[4200];
		const char *ref = strcmp(sub, "pull") ? import_ref(pos[1], buf, sizeof(buf)) : pos[1];
		return hull_image_fetch_print(api, &ctx, ref, npos == 3 ? pos[2] : NULL, err);
	}
	return cli_usage(err, IMAGE_SHORT, "unknown subcommand `%s`", sub);
}

HULL_COMMAND(image, "manage images in the store (ls, inspect, rm, prune, import)", cmd_image);
