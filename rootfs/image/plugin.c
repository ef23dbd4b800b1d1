/* plugin.c — hull-image.so's exported table, the fetch dispatcher and the
 * store-wide verbs: image ls, inspect, rm, prune. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "rootfs/image/image.h"

#define MAX_JSON (4 * 1024 * 1024)

int img_fetch(const struct img_store *s, const struct hull_image_ctx *ctx, const char *ref, const char *tag,
	      char *digest_out, struct hull_err *err)
{
	struct img_ref r;
	char digest[IMG_DIGEST_LEN + 1];
	int rc = img_ref_parse(ref, &r, err);
	if (rc < 0)
		return rc;
	switch (r.transport) {
	case IMG_OCI_DIR: rc = img_fetch_oci_dir(s, ctx, &r, tag, digest, err); break;
	case IMG_OCI_ARCHIVE: rc = img_fetch_oci_archive(s, ctx, &r, tag, digest, err); break;
	case IMG_DOCKER_ARCHIVE: rc = img_fetch_docker_archive(s, ctx, &r, tag, digest, err); break;
	default: rc = img_fetch_registry(s, ctx, &r, tag, digest, err); break;
	}
	img_ref_free(&r);
	if (rc == 0 && digest_out)
		memcpy(digest_out, digest, sizeof(digest));
	return rc;
}

static int api_fetch(const struct hull_image_ctx *ctx, const char *ref, const char *tag, char *digest_out,
		     struct hull_err *err)
{
	struct img_store s;
	int r = img_store_open(&s, ctx->store, LOCK_SH, err);
	if (r < 0)
		return r;
	r = img_fetch(&s, ctx, ref, tag, digest_out, err);
	img_store_close(&s);
	return r;
}

static int64_t image_size(const struct img_store *s, const char *digest)
{
	struct img_manifest m;
	_cleanup_free_ char *mj = NULL;
	size_t ml;
	struct hull_err e;
	int64_t total = 0;
	if (img_store_get(s, digest, MAX_JSON, &mj, &ml, &e) < 0 || img_manifest_parse(mj, ml, digest, &m, &e) < 0)
		return -1;
	for (size_t i = 0; i < m.n_layers; i++)
		total += m.layers[i].size;
	img_manifest_free(&m);
	return total;
}

static int api_list(const struct hull_image_ctx *ctx, FILE *out, bool quiet, struct hull_err *err)
{
	struct img_store s;
	struct img_entry *e;
	size_t n;
	int r = img_store_open(&s, ctx->store, LOCK_SH, err);
	if (r < 0)
		return r;
	if ((r = img_store_entries(&s, &e, &n, err)) == 0) {
		if (!quiet)
			fprintf(out, "%-60s %-14s %10s  %s\n", "NAME", "ID", "SIZE", "ADDED");
		for (size_t i = 0; i < n; i++) {
			if (quiet) {
				fprintf(out, "%s\n", e[i].name);
				continue;
			}
			char when[32] = "-";
			time_t t = (time_t)e[i].created;
			struct tm tm;
			if (t && gmtime_r(&t, &tm))
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			int64_t sz = image_size(&s, e[i].digest);
			fprintf(out, "%-60s %-14.12s %8.1fMB  %s\n", e[i].name, e[i].digest + 7,
				sz < 0 ? 0.0 : sz / 1e6, when);
		}
		img_entries_free(e, n);
	}
	img_store_close(&s);
	return r;
}

static int api_inspect(const struct hull_image_ctx *ctx, const char *name, FILE *out, struct hull_err *err)
{
	struct img_store s;
	char digest[IMG_DIGEST_LEN + 1];
	_cleanup_free_ char *stored = NULL, *mj = NULL, *cj = NULL;
	size_t ml, cl;
	struct img_manifest m = { 0 };
	int r = img_store_open(&s, ctx->store, LOCK_SH, err);
	if (r < 0)
		return r;
	if ((r = img_store_resolve(&s, name, digest, &stored, err)) == 0 &&
	    (r = img_store_get(&s, digest, MAX_JSON, &mj, &ml, err)) == 0 &&
	    (r = img_manifest_parse(mj, ml, digest, &m, err)) == 0 &&
	    (r = img_store_get(&s, m.config.digest, MAX_JSON, &cj, &cl, err)) == 0) {
		/* both documents verbatim (they are the verified bytes) */
		fprintf(out, "{\"name\":\"%s\",\"digest\":\"%s\",\"manifest\":%s,\"config\":%s}\n", stored, digest,
			mj, cj);
	}
	img_manifest_free(&m);
	img_store_close(&s);
	return r;
}

/* ---- prune --------------------------------------------------------------- */

struct keep { char **v; size_t n; };

static void keep_add(struct keep *k, const char *d)
{
	char **nv = realloc(k->v, (k->n + 1) * sizeof(char *));
	if (!nv)
		return;
	k->v = nv;
	if ((nv[k->n] = strdup(d + 7)))
		k->n++;
}

static bool kept(const struct keep *k, const char *hex)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i], hex) == 0)
			return true;
	return false;
}

/* Everything an image needs: manifest, config, layer blobs, unpacked layers.
 * An image whose documents cannot be read keeps nothing (and is reported). */
static void keep_image(const struct img_store *s, const char *digest, struct keep *blobs, struct keep *layers)
{
	struct img_manifest m;
	struct img_config c;
	struct hull_err e;
	if (img_load_image(s, digest, &m, &c, &e) < 0) {
		keep_add(blobs, digest);
		return;
	}
	keep_add(blobs, digest);
	keep_add(blobs, m.config.digest);
	for (size_t i = 0; i < m.n_layers; i++)
		keep_add(blobs, m.layers[i].digest);
	for (size_t i = 0; i < c.n_diff_ids; i++)
		keep_add(layers, c.diff_ids[i]);
	img_manifest_free(&m);
	img_config_free(&c);
}

static size_t sweep(const struct img_store *s, const char *sub, const struct keep *k, FILE *out)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s", s->root, sub);
	DIR *d = opendir(dir);
	size_t removed = 0;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (k && kept(k, e->d_name)))
			continue;
		if (img_rmtree_at(dirfd(d), e->d_name) == 0) {
			removed++;
			if (out && k)
				fprintf(out, "removed %s/%s\n", sub, e->d_name);
		}
	}
	closedir(d);
	return removed;
}

static int prune_locked(const struct img_store *s, bool containers, FILE *out, struct hull_err *err)
{
	struct keep blobs = { 0 }, layers = { 0 };
	struct img_entry *e;
	size_t n;
	int r = img_store_entries(s, &e, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		keep_image(s, e[i].digest, &blobs, &layers);
	img_entries_free(e, n);

	/* containers: stopped ones go (with `containers`), live ones pin their image */
	char cdir[PATH_MAX];
	snprintf(cdir, sizeof(cdir), "%s/containers", s->root);
	DIR *d = opendir(cdir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char active[PATH_MAX + 300], image[PATH_MAX + 300];
		snprintf(active, sizeof(active), "%s/%s/active", cdir, de->d_name);
		snprintf(image, sizeof(image), "%s/%s/image", cdir, de->d_name);
		if (access(active, F_OK) == 0) {
			_cleanup_free_ char *dg = NULL;
			size_t len;
			struct hull_err ignored;
			if (hull_read_file(image, 128, &dg, &len, &ignored) == 0 && img_digest_valid(dg))
				keep_image(s, dg, &blobs, &layers);
		} else if (containers && img_rmtree_at(dirfd(d), de->d_name) == 0 && out) {
			fprintf(out, "removed container %s\n", de->d_name);
		}
	}
	if (d)
		closedir(d);
	sweep(s, "blobs/sha256", &blobs, out);
	sweep(s, "layers/sha256", &layers, out);
	sweep(s, "tmp", NULL, NULL);   /* exclusive lock: nobody is writing there */
	for (size_t i = 0; i < blobs.n; i++)
		free(blobs.v[i]);
	for (size_t i = 0; i < layers.n; i++)
		free(layers.v[i]);
	free(blobs.v);
	free(layers.v);
	return 0;
}

static int api_prune(const struct hull_image_ctx *ctx, FILE *out, struct hull_err *err)
{
	struct img_store s;
	int r = img_store_open(&s, ctx->store, LOCK_EX, err);
	if (r < 0)
		return r;
	r = prune_locked(&s, true, out, err);
	img_store_close(&s);
	return r;
}

static int api_remove(const struct hull_image_ctx *ctx, const char *name, struct hull_err *err)
{
	struct img_store s;
	char digest[IMG_DIGEST_LEN + 1];
	_cleanup_free_ char *stored = NULL;
	int r = img_store_open(&s, ctx->store, LOCK_EX, err);
	if (r < 0)
		return r;
	if ((r = img_store_resolve(&s, name, digest, &stored, err)) == 0 &&
	    (r = img_store_untag(&s, stored, err)) == 0)
		r = prune_locked(&s, false, NULL, err);
	img_store_close(&s);
	return r;
}

static const struct hull_image_api api = {
	.abi = HULL_IMAGE_ABI,
	.size = sizeof(struct hull_image_api),
	.fetch = api_fetch,
	.list = api_list,
	.inspect = api_inspect,
	.remove = api_remove,
	.prune = api_prune,
	.run_prepare = img_run_prepare,
	.run_cleanup = img_run_cleanup,
};

__attribute__((visibility("default"))) const struct hull_image_api *hull_image_plugin(void)
{
	return &api;
}
