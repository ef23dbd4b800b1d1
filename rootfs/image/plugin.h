/* plugin.h — the contract between the `hull` binary and hull-image.so.
 *
 * Why a plugin: pulling, importing and unpacking images needs libcurl,
 * libarchive and libcrypto.  Container start must not map and relocate them,
 * so they live in hull-image.so, which only the image verbs (`pull`, `image`,
 * image runs) dlopen.  The binary finds it through $HULL_IMAGE_SO, then next
 * to /proc/self/exe, then HULL_LIBDIR (see runtime/image_plugin.h).
 *
 * The .so exports one symbol, hull_image_plugin(), which returns a static
 * function table.  The binary refuses a table whose `abi` differs from
 * HULL_IMAGE_ABI (bump it on any change to the structs below) or whose `size`
 * is smaller than the one it was built with.
 *
 * All functions return 0 or a negative errno and fill *err (one line, names
 * the image, blob or file involved).  They never exit and never print errors;
 * progress goes to stderr only when ctx->progress is set.
 */
#ifndef HULL_ROOTFS_IMAGE_PLUGIN_H
#define HULL_ROOTFS_IMAGE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"

#define HULL_IMAGE_ABI 2
#define HULL_IMAGE_SYMBOL "hull_image_plugin"
#define HULL_STORE_DEFAULT "/var/lib/hull"

struct hull_image_ctx {
	const char *store;          /* content store root; NULL = $HULL_STORE or /var/lib/hull */
	bool insecure;              /* registries: plain HTTP, no TLS verification */
	const char *creds;          /* "user:password" for the registry, or NULL (auth.json is consulted) */
	const char *authfile;       /* auth.json/config.json path override, or NULL */
	bool progress;              /* draw progress on stderr (callers set it when stderr is a tty) */
	int jobs;                   /* concurrent blob downloads; 0 = default (4) */
};

/* `hull run IMAGE …` options, already parsed by runtime/cmd_run_image.c. */
struct hull_image_mount { const char *src, *dst; bool ro; };

struct hull_image_run_opts {
	const char *image;          /* reference as typed */
	char **cmd;                 /* args after the image (NULL-terminated), may be empty */
	size_t n_cmd;
	const char *name;           /* --name; NULL = generated id */
	const char *hostname;       /* --hostname; NULL = the id's first 12 chars */
	const char *entrypoint;     /* --entrypoint; "" clears it */
	bool has_entrypoint;
	const char *workdir;        /* -w */
	const char *user;           /* -u user[:group] */
	char **env;                 /* -e KEY=VAL / KEY (from the caller's env) */
	size_t n_env;
	char **env_files;           /* --env-file */
	size_t n_env_files;
	struct hull_image_mount *mounts;  /* -v */
	size_t n_mounts;
	bool terminal;              /* -t */
	bool read_only;             /* --read-only */
	bool privileged;            /* --privileged */
	int64_t memory;             /* bytes, 0 = unset */
	double cpus;                /* 0 = unset */
	int64_t pids_limit;         /* 0 = unset */
	char **cap_add, **cap_drop; /* "CAP_X" or "X" or "ALL" */
	size_t n_cap_add, n_cap_drop;
	const char *seccomp_file;   /* --security-opt seccomp=FILE ("unconfined" = none) */
	const char *net;            /* "none" | "host" | "bridge" | "ns:PATH" (netns/netns.h) */
	bool pull_always;           /* --pull always */
	const char *hook_binary;    /* absolute path of hull for the poststop cleanup hook (detached
	                             * runs; a foreground caller cleans up itself), or NULL */
	bool rm;                    /* --rm: the hook also removes the container dir */
	/* net "bridge": config.json gets `NET_HOOK_BINARY -- -net-hook setup ARGS…` as a
	 * createRuntime hook and `… -net-hook teardown` as the first poststop hook;
	 * /etc/resolv.conf is bound from the bundle (the setup hook writes it) */
	const char *net_hook_binary;
	char **net_setup_args;
	size_t n_net_setup_args;
};

struct hull_image_run_result {
	char id[128];
	char bundle[4096];          /* containers/<id>: config.json + rootfs (mounted) */
};

struct hull_image_api {
	int abi;
	size_t size;                /* sizeof(struct hull_image_api) in the plugin */

	/* Bring an image into the store: registry ([docker://]…), oci:DIR[:ref],
	 * oci-archive:FILE[:ref], docker-archive:FILE.  Every blob is verified
	 * against its digest; every layer is unpacked (diff_id checked).  `tag`
	 * stores the image under that name instead of the reference's own.
	 * digest_out (>= 72 bytes) receives the manifest digest; may be NULL. */
	int (*fetch)(const struct hull_image_ctx *ctx, const char *ref, const char *tag,
		     char *digest_out, struct hull_err *err);

	/* `hull image ls|inspect|rm|prune` */
	int (*list)(const struct hull_image_ctx *ctx, FILE *out, bool quiet, struct hull_err *err);
	int (*inspect)(const struct hull_image_ctx *ctx, const char *name, FILE *out, struct hull_err *err);
	int (*remove)(const struct hull_image_ctx *ctx, const char *name, struct hull_err *err);
	int (*prune)(const struct hull_image_ctx *ctx, FILE *out, struct hull_err *err);

	/* Image run: make sure the image is present (fetching it when it is not
	 * in the store), create the container dir with its config.json and the
	 * rootfs mounted (overlay, or a private copy), and say where.  The caller
	 * runs the bundle through the ordinary lifecycle, then calls
	 * run_cleanup(). */
	int (*run_prepare)(const struct hull_image_ctx *ctx, const struct hull_image_run_opts *o,
			   struct hull_image_run_result *res, struct hull_err *err);
	/* Unmount the container's rootfs; with `remove`, delete its dir too.
	 * Idempotent (the poststop hook and the foreground caller may both call it). */
	int (*run_cleanup)(const struct hull_image_ctx *ctx, const char *bundle, bool remove,
			   struct hull_err *err);
};

typedef const struct hull_image_api *(*hull_image_plugin_fn)(void);

const struct hull_image_api *hull_image_plugin(void);

#endif
