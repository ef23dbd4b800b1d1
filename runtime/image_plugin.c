/* image_plugin.c — find, load and check hull-image.so. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cli.h"
#include "runtime/image_plugin.h"

#ifndef HULL_LIBDIR
#define HULL_LIBDIR "/usr/local/lib/hull"
#endif

static const struct hull_image_api *loaded;

static void *try_open(const char *path, char *why, size_t size)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h && access(path, F_OK) == 0)
		snprintf(why, size, "%s", dlerror());
	return h;
}

int hull_self_path(const char *argv0, char *out, size_t size)
{
	char buf[PATH_MAX];
	if (argv0 && strchr(argv0, '/')) {
		if (realpath(argv0, buf) && access(buf, X_OK) == 0)
			goto found;
	} else if (argv0 && *argv0 && getenv("PATH")) {
		char *path = strdup(getenv("PATH"));
		for (char *save = NULL, *d = path ? strtok_r(path, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
			char cand[PATH_MAX + 256];
			snprintf(cand, sizeof(cand), "%s/%s", d, argv0);
			if (access(cand, X_OK) == 0 && realpath(cand, buf)) {
				free(path);
				goto found;
			}
		}
		free(path);
	}
	ssize_t len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (len <= 0)
		return -errno;
	buf[len] = '\0';
	if (strncmp(buf, "/memfd:", 7) == 0)
		return -ENOENT;
found:
	if (strlen(buf) >= size)
		return -ENAMETOOLONG;
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

const struct hull_image_api *hull_image_load(const char *argv0, struct hull_err *err)
{
	if (loaded)
		return loaded;
	char cands[3][PATH_MAX + 32];
	size_t n = 0;
	const char *env = getenv("HULL_IMAGE_SO");
	if (env && *env)
		snprintf(cands[n++], sizeof(cands[0]), "%s", env);
	char exe[PATH_MAX];
	if (hull_self_path(argv0, exe, sizeof(exe)) == 0) {
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cands[n++], sizeof(cands[0]), "%s/hull-image.so", exe);
		}
	}
	snprintf(cands[n++], sizeof(cands[0]), "%s/hull-image.so", HULL_LIBDIR);
	char why[512] = "";
	for (size_t i = 0; i < n; i++) {
		void *h = try_open(cands[i], why, sizeof(why));
		if (!h)
			continue;
		hull_image_plugin_fn fn = (hull_image_plugin_fn)dlsym(h, HULL_IMAGE_SYMBOL);
		const struct hull_image_api *api = fn ? fn() : NULL;
		if (!api || api->abi != HULL_IMAGE_ABI || api->size < sizeof(struct hull_image_api)) {
			hull_errf(err, ENOEXEC, "`%s`: not a hull-image plugin of ABI %d (rebuild or reinstall hull)",
				  cands[i], HULL_IMAGE_ABI);
			dlclose(h);
			return NULL;
		}
		loaded = api;
		return api;
	}
	hull_errf(err, ENOENT, "image support is not installed: no hull-image.so in $HULL_IMAGE_SO, next to "
		  "the hull binary or in %s%s%s", HULL_LIBDIR, why[0] ? ": " : "", why);
	return NULL;
}

bool hull_image_common_opt(struct hull_image_ctx *ctx, int argc, char **argv, int *i, bool *bad,
			   struct hull_err *err)
{
	static const char *const with_value[] = { "--store", "--creds", "--authfile", "--jobs" };
	const char *a = argv[*i];
	if (!strcmp(a, "--insecure") || !strcmp(a, "--tls-verify=false")) {
		ctx->insecure = true;
		return true;
	}
	if (!strcmp(a, "--tls-verify") || !strcmp(a, "--tls-verify=true")) {
		ctx->insecure = false;
		return true;
	}
	for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++) {
		size_t l = strlen(with_value[k]);
		const char *val = NULL;
		if (!strcmp(a, with_value[k])) {
			if (*i + 1 >= argc) {
				hull_errf(err, EINVAL, "%s needs a value", a);
				*bad = true;
				return true;
			}
			val = argv[++*i];
		} else if (!strncmp(a, with_value[k], l) && a[l] == '=') {
			val = a + l + 1;
		} else {
			continue;
		}
		switch (k) {
		case 0: ctx->store = val; break;
		case 1: ctx->creds = val; break;
		case 2: ctx->authfile = val; break;
		default: {
			char *end;
			long j = strtol(val, &end, 10);
			if (*end || j < 1 || j > 16) {
				hull_errf(err, EINVAL, "--jobs: want 1..16, not `%s`", val);
				*bad = true;
			}
			ctx->jobs = (int)j;
		}
		}
		return true;
	}
	return false;
}

int hull_image_parse_argv(struct hull_image_ctx *ctx, int argc, char **argv, const char *short_usage,
			  const char **pos, int max, int *npos, bool *quiet, struct hull_err *err)
{
	bool bad = false;

	*npos = 0;
	*quiet = false;
	for (int i = 1; i < argc; i++) {
		if (hull_image_common_opt(ctx, argc, argv, &i, &bad, err)) {
			if (bad)
				return 1;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			*quiet = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage(err, short_usage, "unknown option `%s`", argv[i]);
		} else if (*npos < max) {
			pos[(*npos)++] = argv[i];
		} else {
			return cli_usage(err, short_usage, "too many arguments");
		}
	}
	if (*quiet)
		ctx->progress = false;
	return 0;
}

int hull_image_fetch_print(const struct hull_image_api *api, const struct hull_image_ctx *ctx, const char *ref,
			   const char *name, struct hull_err *err)
{
	char digest[80];

	if (api->fetch(ctx, ref, name, digest, err) < 0)
		return 1;   /* the plugin's message names the image */
	printf("%s\n", digest);
	return 0;
}
