/* ingest.c — from a source's manifest to a complete image in the store, and
 * the progress line drawn on a terminal while that happens. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "rootfs/image/image.h"

#define MAX_JSON (4 * 1024 * 1024)

/* ---- progress ---------------------------------------------------------- */

struct img_progress {
	bool enabled;
	pthread_mutex_t lock;
	int64_t total, done;
	char phase[160];
	struct timespec last;
	bool drawn;
};

struct img_progress *img_progress_new(bool enabled)
{
	struct img_progress *p = calloc(1, sizeof(*p));
	if (p) {
		p->enabled = enabled;
		pthread_mutex_init(&p->lock, NULL);
	}
	return p;
}

static void draw(struct img_progress *p, bool force)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - p->last.tv_sec) * 1000 + (now.tv_nsec - p->last.tv_nsec) / 1000000;
	if (!force && ms < 100)
		return;
	p->last = now;
	if (p->total > 0)
		fprintf(stderr, "\r\033[K%s %.1f/%.1f MiB", p->phase, p->done / 1048576.0, p->total / 1048576.0);
	else
		fprintf(stderr, "\r\033[K%s", p->phase);
	p->drawn = true;
}

void img_progress_blob(struct img_progress *p, int64_t total_delta, int64_t done_delta)
{
	if (!p || !p->enabled)
		return;
	pthread_mutex_lock(&p->lock);
	p->total += total_delta;
	p->done += done_delta;
	draw(p, false);
	pthread_mutex_unlock(&p->lock);
}

void img_progress_phase(struct img_progress *p, const char *fmt, ...)
{
	if (!p || !p->enabled)
		return;
	va_list ap;
	pthread_mutex_lock(&p->lock);
	va_start(ap, fmt);
	vsnprintf(p->phase, sizeof(p->phase), fmt, ap);
	va_end(ap);
	p->total = p->done = 0;
	draw(p, true);
	pthread_mutex_unlock(&p->lock);
}

void img_progress_done(struct img_progress *p)
{
	if (p && p->enabled && p->drawn) {
		fprintf(stderr, "\r\033[K");
		p->drawn = false;
	}
}

void img_progress_free(struct img_progress *p)
{
	if (!p)
		return;
	img_progress_done(p);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* ---- layers ----------------------------------------------------------- */

static int unpack_one(const struct img_store *s, const struct img_desc *d, const char *diff_id,
		      struct img_progress *p, struct hull_err *err)
{
	char tmp[4096];
	_cleanup_free_ char *blob = img_store_blob_path(s, d->digest);
	_cleanup_free_ char *dst = img_store_layer_path(s, diff_id);
	if (!blob || !dst)
		return hull_errf(err, ENOMEM, "out of memory");
	int r = img_store_mkdtemp(s, "layer", tmp, sizeof(tmp), err);
	if (r < 0)
		return r;
	int bfd = open(blob, O_RDONLY | O_CLOEXEC);
	int rfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0 || rfd < 0) {
		r = hull_errf_sys(err, errno, "layer %s: open", d->digest);
	} else {
		r = img_unpack(bfd, rfd, IMG_UNPACK_OVERLAY, diff_id, NULL, d->digest, p, err);
	}
	if (bfd >= 0)
		close(bfd);
	if (rfd >= 0)
		close(rfd);
	if (r == 0 && chmod(tmp, 0755) < 0)
		r = hull_errf_sys(err, errno, "layer %s: chmod", d->digest);
	if (r == 0 && rename(tmp, dst) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			r = hull_errf_sys(err, errno, "layer %s: rename to `%s`", d->digest, dst);
		/* else: a concurrent pull unpacked it first; theirs is as good */
		else
			img_rmtree_at(AT_FDCWD, tmp);
	}
	if (r < 0)
		img_rmtree_at(AT_FDCWD, tmp);
	return r;
}

int img_ensure_layers(const struct img_store *s, const struct img_manifest *m, const struct img_config *c,
		      struct img_progress *p, struct hull_err *err)
{
	if (c->n_diff_ids != m->n_layers)
		return hull_errf(err, EBADMSG, "image config %s: rootfs.diff_ids has %zu entries, the manifest %zu layers",
				 m->config.digest, c->n_diff_ids, m->n_layers);
	for (size_t i = 0; i < m->n_layers; i++) {
		if (img_store_has_layer(s, c->diff_ids[i]))
			continue;
		img_progress_phase(p, "unpack layer %zu/%zu %.19s", i + 1, m->n_layers, m->layers[i].digest);
		img_progress_blob(p, m->layers[i].size, 0);
		int r = unpack_one(s, &m->layers[i], c->diff_ids[i], p, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int img_load_image(const struct img_store *s, const char *digest, struct img_manifest *m,
		   struct img_config *c, struct hull_err *err)
{
	_cleanup_free_ char *mj = NULL, *cj = NULL;
	size_t ml, cl;
	int r = img_store_get_trusted(s, digest, MAX_JSON, &mj, &ml, err);
	if (r < 0)
		return r;
	if ((r = img_manifest_parse(mj, ml, digest, m, err)) < 0)
		return r;
	if ((r = img_store_get_trusted(s, m->config.digest, MAX_JSON, &cj, &cl, err)) < 0 ||
	    (r = img_config_parse(cj, cl, m->config.digest, c, err)) < 0) {
		img_manifest_free(m);
		return r;
	}
	return 0;
}

/* ---- the walk ---------------------------------------------------------- */

int img_ingest(const struct img_store *s, struct img_source *src, const char *const *names, size_t n_names,
	       bool progress, char *digest_out, struct hull_err *err)
{
	_cleanup_free_ char *body = NULL, *ct = NULL;
	size_t len;
	enum img_doc_kind kind;
	struct img_manifest m = { 0 };
	struct img_config c = { 0 };
	struct img_progress *p = img_progress_new(progress);
	char digest[IMG_DIGEST_LEN + 1];
	int r;

	if (!p)
		return hull_errf(err, ENOMEM, "out of memory");
	img_progress_phase(p, "%s: resolving", src->label);
	if ((r = src->get_manifest(src, &body, &len, &ct, err)) < 0)
		goto out;
	if ((r = img_doc_kind(body, len, ct, src->label, &kind, err)) < 0)
		goto out;
	if (kind == IMG_DOC_INDEX) {
		struct img_index idx;
		size_t pick;
		if ((r = img_index_parse(body, len, src->label, &idx, err)) < 0)
			goto out;
		r = img_index_pick(&idx, src->label, &pick, err);
		_cleanup_free_ char *child = NULL;
		if (r == 0)
			r = src->get_child(src, idx.m[pick].digest, &child, &len, err);
		img_index_free(&idx);
		if (r < 0)
			goto out;
		free(body);
		body = steal_ptr(child);
		if ((r = img_doc_kind(body, len, NULL, src->label, &kind, err)) < 0)
			goto out;
		if (kind != IMG_DOC_MANIFEST) {
			r = hull_errf(err, ENOTSUP, "%s: nested image indexes are not supported", src->label);
			goto out;
		}
	}
	if ((r = img_manifest_parse(body, len, src->label, &m, err)) < 0)
		goto out;
	if (!img_store_has_blob(s, m.config.digest) &&
	    (r = src->fetch_many(src, s, &m.config, 1, NULL, err)) < 0)
		goto out;
	{
		_cleanup_free_ char *cj = NULL;
		size_t cl;
		if ((r = img_store_get(s, m.config.digest, MAX_JSON, &cj, &cl, err)) < 0 ||
		    (r = img_config_parse(cj, cl, m.config.digest, &c, err)) < 0)
			goto out;
	}
	if (c.n_diff_ids != m.n_layers) {
		r = hull_errf(err, EBADMSG, "%s: config has %zu diff_ids for %zu layers", src->label,
			      c.n_diff_ids, m.n_layers);
		goto out;
	}
	{
		/* only what is missing; a layer already unpacked still needs its blob
		 * for the copy fallback, so blobs are kept too */
		struct img_desc *need = calloc(m.n_layers + 1, sizeof(*need));
		size_t n_need = 0;
		if (!need) {
			r = hull_errf(err, ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < m.n_layers; i++) {
			bool dup = false;
			for (size_t j = 0; j < n_need; j++)
				dup |= strcmp(need[j].digest, m.layers[i].digest) == 0;
			if (!dup && !img_store_has_blob(s, m.layers[i].digest))
				need[n_need++] = m.layers[i];   /* shallow: m owns the strings */
		}
		if (n_need) {
			img_progress_phase(p, "%s: fetch %zu blob%s", src->label, n_need, n_need == 1 ? "" : "s");
			r = src->fetch_many(src, s, need, n_need, p, err);
		}
		free(need);
		if (r < 0)
			goto out;
	}
	if ((r = img_ensure_layers(s, &m, &c, p, err)) < 0)
		goto out;
	if ((r = img_store_put(s, body, len, NULL, digest, err)) < 0)
		goto out;
	for (size_t i = 0; i < n_names; i++)
		if (names[i] && (r = img_store_tag(s, names[i], digest, err)) < 0)
			goto out;
	if (digest_out)
		memcpy(digest_out, digest, sizeof(digest));
out:
	img_progress_free(p);
	img_manifest_free(&m);
	img_config_free(&c);
	return r;
}
