/* image_plugin.h — load hull-image.so for the image verbs (runtime-internal).
 *
 * Search order: $HULL_IMAGE_SO, hull-image.so next to the hull binary (found
 * from argv[0]: create/run re-execute from a sealed memfd, so /proc/self/exe
 * does not name the installed file), HULL_LIBDIR/hull-image.so.  The plugin must export hull_image_plugin()
 * returning a table with abi == HULL_IMAGE_ABI (rootfs/image/plugin.h).
 * Loaded once per process; never unloaded.
 */
#ifndef HULL_RUNTIME_IMAGE_PLUGIN_H
#define HULL_RUNTIME_IMAGE_PLUGIN_H

#include "lib/err.h"
#include "rootfs/image/plugin.h"

const struct hull_image_api *hull_image_load(const char *argv0, struct hull_err *err);

/* Absolute path of the hull binary on disk (argv[0] resolved, $PATH searched
 * for a bare name, /proc/self/exe when that is not a memfd).  0 or -errno. */
int hull_self_path(const char *argv0, char *out, size_t size);

/* Options every image verb shares (--store, --insecure/--tls-verify, --creds,
 * --authfile, --jobs).  Returns true if argv[*i] (and maybe its value) was one;
 * advances *i past a separate value.  On a bad value fills err, sets *bad. */
bool hull_image_common_opt(struct hull_image_ctx *ctx, int argc, char **argv, int *i, bool *bad,
			   struct hull_err *err);

/* The argument loop of `hull pull` and `hull image`: the common options,
 * -q/--quiet (*quiet set, progress off) and up to max positional arguments
 * into pos (*npos of them).  0, or the verb's exit status with err filled
 * (a usage error names short_usage). */
int hull_image_parse_argv(struct hull_image_ctx *ctx, int argc, char **argv, const char *short_usage,
			  const char **pos, int max, int *npos, bool *quiet, struct hull_err *err);

/* Fetch ref into the store (tagged name, or NULL for the ref's own) and
 * print its digest on stdout.  The verb's exit status: 0, or 1 with err
 * naming the image. */
int hull_image_fetch_print(const struct hull_image_api *api, const struct hull_image_ctx *ctx, const char *ref,
			   const char *name, struct hull_err *err);

#endif
