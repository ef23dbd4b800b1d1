/* image.h — internals of hull-image.so, shared between its files.
 *
 *   ref.c       image reference parsing and defaulting (pure)
 *   digest.c    sha256 through OpenSSL EVP, digest string checks
 *   manifest.c  index / manifest / image config parsing, platform choice (pure)
 *   store.c     the content store: blobs, unpacked layers, image names, locks
 *   unpack.c    layer changeset -> directory (libarchive), whiteouts, escapes
 *   ingest.c    the common walk: manifest -> config -> layers -> unpack -> tag
 *   import.c    oci:, oci-archive:, docker-archive: sources
 *   registry.c  OCI distribution API over libcurl
 *   convert.c   image config + run flags -> runtime config.json (pure)
 *   overlay.c   rootfs assembly: overlayfs (many layers) or a private copy
 *   run.c       run_prepare / run_cleanup
 *   plugin.c    the exported function table and image ls/inspect/rm/prune
 *   lazy.c      libarchive/libcrypto loaded on first use (lazy.h)
 */
#ifndef HULL_ROOTFS_IMAGE_IMAGE_H
#define HULL_ROOTFS_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"
#include "oci/config.h"
#include "rootfs/image/plugin.h"

/* ---- references ------------------------------------------------------- */

enum img_transport { IMG_REGISTRY, IMG_OCI_DIR, IMG_OCI_ARCHIVE, IMG_DOCKER_ARCHIVE };

struct img_ref {
	enum img_transport transport;
	char *path;          /* oci:/archives: the file or dir as given */
	char *inner;         /* oci:/oci-archive: ref inside the layout, may be NULL */
	char *registry;      /* "docker.io", "127.0.0.1:5000" */
	char *repository;    /* "library/alpine" */
	char *tag;           /* NULL when only a digest was given */
	char *digest;        /* "sha256:…" or NULL */
	char *name;          /* canonical: registry/repository[:tag][@digest] */
};

/* Accepts [docker://]NAME, oci:DIR[:ref], oci-archive:FILE[:ref],
 * docker-archive:FILE[:name]. NAME = [registry/]repo[:tag][@digest]; the
 * registry defaults to docker.io, one-component repos on docker.io get
 * "library/", the tag defaults to "latest" (unless a digest is given). */
int img_ref_parse(const char *s, struct img_ref *out, struct hull_err *err);
/* Same, but only registry syntax (no transport prefix allowed). */
int img_ref_parse_name(const char *s, struct img_ref *out, struct hull_err *err);
void img_ref_free(struct img_ref *r);
/* The host that serves the API for a registry name (docker.io -> registry-1.docker.io). */
const char *img_registry_host(const char *registry);

/* ---- digests ---------------------------------------------------------- */

#define IMG_DIGEST_LEN 71          /* "sha256:" + 64 hex */

struct img_hash;
struct img_hash *img_hash_new(void);
void img_hash_update(struct img_hash *h, const void *buf, size_t len);
/* Writes "sha256:<hex>" into out (>= IMG_DIGEST_LEN + 1 bytes). */
void img_hash_final(struct img_hash *h, char *out);
void img_hash_free(struct img_hash *h);
void img_sha256_digest(const void *buf, size_t len, char *out);
/* "sha256:" + 64 lowercase hex; anything else (other algorithms included) is rejected. */
bool img_digest_valid(const char *d);

/* ---- image JSON documents -------------------------------------------- */

struct img_desc {
	char *media_type;
	char *digest;
	int64_t size;
	char *os, *arch, *variant;     /* index entries */
	char *ref_name;                /* org.opencontainers.image.ref.name */
};

struct img_index { struct img_desc *m; size_t n; };
struct img_manifest { char *media_type; struct img_desc config; struct img_desc *layers; size_t n_layers; };

struct img_config {
	char *os, *arch, *variant, *os_version, *author, *created;
	char **os_features; size_t n_os_features;
	char *user;
	char **env; size_t n_env;
	char **entrypoint; size_t n_entrypoint; bool has_entrypoint;
	char **cmd; size_t n_cmd; bool has_cmd;
	char *workdir;
	struct oci_kv *labels; size_t n_labels;
	char *stop_signal;
	char **volumes; size_t n_volumes;
	char **exposed_ports; size_t n_exposed_ports;
	char **diff_ids; size_t n_diff_ids;
};

enum img_doc_kind { IMG_DOC_INDEX, IMG_DOC_MANIFEST };
/* Decide from mediaType (header or field) or shape; docker schema1 is refused. */
int img_doc_kind(const char *json, size_t len, const char *content_type, const char *name,
		 enum img_doc_kind *kind, struct hull_err *err);
int img_index_parse(const char *json, size_t len, const char *name, struct img_index *out, struct hull_err *err);
int img_manifest_parse(const char *json, size_t len, const char *name, struct img_manifest *out,
		       struct hull_err *err);
int img_config_parse(const char *json, size_t len, const char *name, struct img_config *out,
		     struct hull_err *err);
void img_index_free(struct img_index *x);
void img_manifest_free(struct img_manifest *m);
void img_config_free(struct img_config *c);
void img_desc_clear(struct img_desc *d);
/* Host platform entry of an index (linux + this architecture); -ENOENT with
 * the list of what is offered. */
int img_index_pick(const struct img_index *x, const char *name, size_t *pick, struct hull_err *err);
const char *img_host_arch(void);
bool img_media_is_layer(const char *mt);

/* ---- store ------------------------------------------------------------ */

struct img_store {
	char *root;
	int root_fd;
	int lock_fd;
};

/* lock: LOCK_SH for fetch/run (concurrent), LOCK_EX for rm/prune. */
int img_store_open(struct img_store *s, const char *root, int lock, struct hull_err *err);
void img_store_close(struct img_store *s);
const char *img_store_root(const char *override);

/* path of a blob / unpacked layer dir (caller frees) */
char *img_store_blob_path(const struct img_store *s, const char *digest);
char *img_store_layer_path(const struct img_store *s, const char *diff_id);
bool img_store_has_blob(const struct img_store *s, const char *digest);
bool img_store_has_layer(const struct img_store *s, const char *diff_id);

/* Streaming writer: temp file in tmp/, hashed as it is written; commit
 * checks size and digest and renames into blobs/sha256/; abort removes. */
struct img_blob_writer {
	int fd;
	char tmp[4096];
	struct img_hash *hash;
	uint64_t written;
	char expect[IMG_DIGEST_LEN + 1];   /* "" = any */
	int64_t expect_size;               /* -1 = any */
};
int img_blob_writer_open(const struct img_store *s, const char *expect, int64_t expect_size,
			 struct img_blob_writer *w, struct hull_err *err);
int img_blob_writer_write(struct img_blob_writer *w, const void *buf, size_t len, struct hull_err *err);
/* Throw away what was written (a restart of a download). */
int img_blob_writer_reset(struct img_blob_writer *w, struct hull_err *err);
int img_blob_writer_commit(const struct img_store *s, struct img_blob_writer *w, char *digest_out,
			   struct hull_err *err);
void img_blob_writer_abort(struct img_blob_writer *w);
int img_store_put(const struct img_store *s, const void *buf, size_t len, const char *expect,
		  char *digest_out, struct hull_err *err);
/* Read a (small, JSON) blob; re-verified against its digest. */
int img_store_get(const struct img_store *s, const char *digest, size_t max, char **out, size_t *len,
		  struct hull_err *err);
/* Same without hashing: for the run path, which trusts what the store
 * verified when the blob was committed (root-only, 0700, renamed in). */
int img_store_get_trusted(const struct img_store *s, const char *digest, size_t max, char **out, size_t *len,
			  struct hull_err *err);

/* Temp dir inside tmp/ (same filesystem as layers/ and containers/). */
int img_store_mkdtemp(const struct img_store *s, const char *prefix, char *out, size_t size,
		      struct hull_err *err);
/* rm -rf without following symlinks; ENOENT is fine. */
int img_rmtree(const char *path, struct hull_err *err);
int img_rmtree_at(int dirfd, const char *name);

/* names -> manifest digests (images.json, rewritten atomically under a lock) */
struct img_entry { char *name; char *digest; int64_t created; };
int img_store_tag(const struct img_store *s, const char *name, const char *digest, struct hull_err *err);
int img_store_untag(const struct img_store *s, const char *name, struct hull_err *err);
int img_store_entries(const struct img_store *s, struct img_entry **out, size_t *n, struct hull_err *err);
void img_entries_free(struct img_entry *e, size_t n);
/* Typed name (normalised), exact stored name, or a digest / hex prefix (>= 4). */
int img_store_resolve(const struct img_store *s, const char *typed, char *digest_out, char **name_out,
		      struct hull_err *err);

/* ---- unpack ----------------------------------------------------------- */

enum img_unpack_mode {
	IMG_UNPACK_OVERLAY,   /* whiteouts become overlayfs whiteouts / opaque xattrs */
	IMG_UNPACK_APPLY,     /* whiteouts delete from the directory (copy rootfs) */
};

/* Unpack a (gzip, zstd or plain) tar changeset read from blob_fd into the
 * directory root_fd.  Every write is resolved inside root_fd; entries with
 * ".." or hardlinks that leave it are errors.  diff_id_out receives the sha256
 * of the uncompressed stream; when expect is non-NULL a mismatch is an error.
 * `label` names the layer in messages. */
struct img_progress;
int img_unpack(int blob_fd, int root_fd, enum img_unpack_mode mode, const char *expect,
	       char *diff_id_out, const char *label, struct img_progress *progress, struct hull_err *err);

/* ---- ingest (shared by every source) ---------------------------------- */

struct img_progress;
struct img_progress *img_progress_new(bool enabled);
void img_progress_free(struct img_progress *p);
void img_progress_blob(struct img_progress *p, int64_t total_delta, int64_t done_delta);
void img_progress_phase(struct img_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void img_progress_done(struct img_progress *p);

/* Where blobs come from.  fetch() must leave the blob committed in the store
 * (verified) or fail; fetch_many() does several (registries: concurrently). */
struct img_source {
	void *priv;
	int (*get_manifest)(struct img_source *src, char **body, size_t *len, char **content_type,
			    struct hull_err *err);
	/* a manifest by digest (index children) */
	int (*get_child)(struct img_source *src, const char *digest, char **body, size_t *len,
			 struct hull_err *err);
	int (*fetch_many)(struct img_source *src, const struct img_store *s, const struct img_desc *d,
			  size_t n, struct img_progress *p, struct hull_err *err);
	const char *label;   /* for messages: the reference as typed */
};

/* Walk from the source's manifest to a complete, unpacked image in the store
 * and tag it with each non-NULL name. */
int img_ingest(const struct img_store *s, struct img_source *src, const char *const *names, size_t n_names,
	       bool progress, char *digest_out, struct hull_err *err);
/* Unpack every layer of a stored manifest that is not unpacked yet. */
int img_ensure_layers(const struct img_store *s, const struct img_manifest *m, const struct img_config *c,
		      struct img_progress *p, struct hull_err *err);
int img_load_image(const struct img_store *s, const char *digest, struct img_manifest *m,
		   struct img_config *c, struct hull_err *err);

/* ---- sources ---------------------------------------------------------- */

int img_fetch_oci_dir(const struct img_store *s, const struct hull_image_ctx *ctx, const struct img_ref *r,
		      const char *tag, char *digest_out, struct hull_err *err);
int img_fetch_oci_archive(const struct img_store *s, const struct hull_image_ctx *ctx, const struct img_ref *r,
			  const char *tag, char *digest_out, struct hull_err *err);
int img_fetch_docker_archive(const struct img_store *s, const struct hull_image_ctx *ctx,
			     const struct img_ref *r, const char *tag, char *digest_out, struct hull_err *err);
int img_fetch_registry(const struct img_store *s, const struct hull_image_ctx *ctx, const struct img_ref *r,
		       const char *tag, char *digest_out, struct hull_err *err);
int img_fetch(const struct img_store *s, const struct hull_image_ctx *ctx, const char *ref, const char *tag,
	      char *digest_out, struct hull_err *err);

/* ---- conversion ------------------------------------------------------- */

struct img_user { uint32_t uid, gid; uint32_t *extra_gids; size_t n_extra_gids; char *home; };

/* Resolve "user[:group]" against passwd/group file contents (either may be
 * NULL when the image has none).  Names that do not resolve are errors. */
int img_resolve_user(const char *spec, const char *passwd, const char *group, struct img_user *out,
		     struct hull_err *err);
void img_user_free(struct img_user *u);

struct img_bind { const char *src, *dst; };

struct img_convert_in {
	const struct img_config *cfg;
	const struct hull_image_run_opts *opts;
	const char *id;
	const char *rootfs;            /* value for root.path */
	const char *passwd, *group;    /* the image's /etc/passwd and /etc/group, may be NULL */
	char **volume_sources;         /* host dirs for cfg->volumes[i] */
	char **extra_env;              /* --env-file and -e entries, resolved to KEY=VAL, in order */
	size_t n_extra_env;
	const struct img_bind *etc_files;  /* /etc/hostname, /etc/hosts, /etc/resolv.conf binds */
	size_t n_etc_files;
	const char *seccomp_json;      /* --security-opt seccomp=FILE contents, or NULL */
	const char *hook_path;         /* poststop cleanup hook: absolute path of hull, NULL = none */
	bool hook_remove;              /* the hook also removes the container dir (--rm) */
	const char *bundle;            /* for the hook's args */
	const char *store;             /* for the hook's args */
};
/* Produce config.json text (caller frees). */
int img_convert(const struct img_convert_in *in, char **json_out, struct hull_err *err);

/* ---- rootfs ----------------------------------------------------------- */

/* Mount overlay at target: lowers[0] is the TOP layer.  shortdir is a scratch
 * dir for short symlink names when the option string would exceed a page. */
int img_overlay_mount(char **lowers, size_t n, const char *upper, const char *work, const char *target,
		      const char *shortdir, bool volatile_upper, struct hull_err *err);

int img_run_prepare(const struct hull_image_ctx *ctx, const struct hull_image_run_opts *o,
		    struct hull_image_run_result *res, struct hull_err *err);
int img_run_cleanup(const struct hull_image_ctx *ctx, const char *bundle, bool remove, struct hull_err *err);

#endif
