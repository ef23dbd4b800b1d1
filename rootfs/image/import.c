/* import.c — local sources: oci:DIR[:ref], oci-archive:FILE[:ref],
 * docker-archive:FILE[:name].
 *
 * An OCI layout dir is read in place (blobs are copied into the store and
 * verified on the way).  Archives are streamed once: every blob is hashed
 * while it is copied into the store (an oci-archive blob must match the
 * digest in its name), small JSON files are kept in memory, nothing is
 * extracted under a name taken from the archive.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "lib/cleanup.h"
#include "rootfs/image/lazy.h"
#include "lib/fs.h"
#include "oci/json_walk.h"
#include "rootfs/image/image.h"

#define MAX_JSON (4 * 1024 * 1024)
#define COPY_BLOCK (256 * 1024)

struct layout_src {
	struct img_source base;
	int dirfd;                 /* oci: layout dir; -1 = blobs are already in the store */
	const struct img_store *store;
	const char *inner;         /* ref inside the layout */
	char *index_json;          /* oci-archive: index.json read from the tar */
	size_t index_len;
	char *manifest;            /* docker-archive: synthesized OCI manifest */
	size_t manifest_len;
	char *ref_name;            /* annotation of the chosen entry (oci) or RepoTag (docker) */
};

static int read_layout_blob(struct layout_src *l, const char *digest, int64_t size, char **out, size_t *len,
			    struct hull_err *err)
{
	int r;
	if (l->dirfd < 0)
		return img_store_get(l->store, digest, MAX_JSON, out, len, err);
	char rel[128];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
	int fd = openat(l->dirfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hull_errf_sys(err, errno, "%s: blob %s", l->base.label, digest);
	r = hull_read_fd(fd, MAX_JSON, out, len, err);
	close(fd);
	if (r < 0)
		return hull_err_wrap(err, "%s: blob %s", l->base.label, digest);
	char got[IMG_DIGEST_LEN + 1];
	img_sha256_digest(*out, *len, got);
	if (strcmp(got, digest) != 0 || (size >= 0 && (int64_t)*len != size)) {
		free(*out);
		*out = NULL;
		return hull_errf(err, EBADMSG, "%s: blob %s: content has digest %s and %zu bytes (descriptor: %lld)",
				 l->base.label, digest, got, *len, (long long)size);
	}
	return 0;
}

static int layout_get_manifest(struct img_source *src, char **body, size_t *len, char **ct, struct hull_err *err)
{
	struct layout_src *l = (struct layout_src *)src;
	*ct = NULL;
	if (l->manifest) {
		*body = malloc(l->manifest_len);
		if (!*body)
			return hull_errf(err, ENOMEM, "out of memory");
		memcpy(*body, l->manifest, l->manifest_len);
		*len = l->manifest_len;
		return 0;
	}
	_cleanup_free_ char *ij = NULL;
	size_t il = 0;
	int r;
	if (l->index_json) {
		ij = malloc(l->index_len + 1);
		if (!ij)
			return hull_errf(err, ENOMEM, "out of memory");
		memcpy(ij, l->index_json, l->index_len);
		il = l->index_len;
	} else {
		int fd = openat(l->dirfd, "index.json", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return hull_errf_sys(err, errno, "%s: index.json", src->label);
		r = hull_read_fd(fd, MAX_JSON, &ij, &il, err);
		close(fd);
		if (r < 0)
			return hull_err_wrap(err, "%s: index.json", src->label);
	}
	struct img_index idx;
	_cleanup_free_ char *name = NULL;
	if (asprintf(&name, "%s: index.json", src->label) < 0)
		return hull_errf(err, ENOMEM, "out of memory");
	if ((r = img_index_parse(ij, il, name, &idx, err)) < 0)
		return r;
	ssize_t pick = -1;
	for (size_t i = 0; i < idx.n && pick < 0; i++) {
		const char *rn = idx.m[i].ref_name;
		if (l->inner) {
			if (rn && strcmp(rn, l->inner) == 0)
				pick = (ssize_t)i;
		} else if (idx.n == 1) {
			pick = 0;
		}
	}
	if (pick < 0) {
		char refs[512] = "";
		for (size_t i = 0; i < idx.n; i++)
			if (idx.m[i].ref_name && strlen(refs) + strlen(idx.m[i].ref_name) + 3 < sizeof(refs))
				snprintf(refs + strlen(refs), sizeof(refs) - strlen(refs), "%s%s", refs[0] ? ", " : "",
					 idx.m[i].ref_name);
		r = hull_errf(err, ENOENT, "%s: %s (refs in index.json: %s)", src->label,
			      l->inner ? "no such ref" : "several images; name one with :REF", refs[0] ? refs : "none");
		img_index_free(&idx);
		return r;
	}
	struct img_desc *d = &idx.m[pick];
	if (d->ref_name)
		l->ref_name = strdup(d->ref_name);
	r = read_layout_blob(l, d->digest, d->size, body, len, err);
	if (r == 0 && d->media_type)
		*ct = strdup(d->media_type);
	img_index_free(&idx);
	return r;
}

static int layout_get_child(struct img_source *src, const char *digest, char **body, size_t *len,
			    struct hull_err *err)
{
	return read_layout_blob((struct layout_src *)src, digest, -1, body, len, err);
}

static int copy_blob(struct layout_src *l, const struct img_store *s, const struct img_desc *d,
		     struct img_progress *p, struct hull_err *err)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", d->digest + 7);
	_cleanup_close_ int fd = openat(l->dirfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hull_errf_sys(err, errno, "%s: blob %s", l->base.label, d->digest);
	struct img_blob_writer w;
	int r = img_blob_writer_open(s, d->digest, d->size, &w, err);
	if (r < 0)
		return r;
	img_progress_blob(p, d->size, 0);
	_cleanup_free_ char *buf = malloc(COPY_BLOCK);
	if (!buf) {
		img_blob_writer_abort(&w);
		return hull_errf(err, ENOMEM, "out of memory");
	}
	for (;;) {
		ssize_t n = read(fd, buf, COPY_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = hull_errf_sys(err, errno, "%s: read blob %s", l->base.label, d->digest);
			break;
		}
		if (n == 0)
			break;
		if ((r = img_blob_writer_write(&w, buf, (size_t)n, err)) < 0)
			break;
		img_progress_blob(p, 0, n);
	}
	if (r < 0) {
		img_blob_writer_abort(&w);
		return hull_err_wrap(err, "%s", l->base.label);
	}
	r = img_blob_writer_commit(s, &w, NULL, err);
	return r < 0 ? hull_err_wrap(err, "%s", l->base.label) : 0;
}

static int layout_fetch_many(struct img_source *src, const struct img_store *s, const struct img_desc *d,
			     size_t n, struct img_progress *p, struct hull_err *err)
{
	struct layout_src *l = (struct layout_src *)src;
	for (size_t i = 0; i < n; i++) {
		if (img_store_has_blob(s, d[i].digest))
			continue;
		if (l->dirfd < 0)
			return hull_errf(err, ENOENT, "%s: blob %s is referenced but not in the archive", src->label,
					 d[i].digest);
		int r = copy_blob(l, s, &d[i], p, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static void layout_init(struct layout_src *l, const struct img_store *s, const char *label, const char *inner)
{
	memset(l, 0, sizeof(*l));
	l->base.priv = l;
	l->base.get_manifest = layout_get_manifest;
	l->base.get_child = layout_get_child;
	l->base.fetch_many = layout_fetch_many;
	l->base.label = label;
	l->dirfd = -1;
	l->store = s;
	l->inner = inner;
}

static void layout_free(struct layout_src *l)
{
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l->index_json);
	free(l->manifest);
	free(l->ref_name);
}

/* Names an image is stored under: the transport reference with an absolute
 * path (so the same file imports to the same name from any cwd), and the
 * image name carried inside the layout/archive when it is one. */
static int ingest_named(const struct img_store *s, struct layout_src *l, const struct img_ref *r,
			const char *prefix, const char *tag, const struct hull_image_ctx *ctx, char *digest_out,
			struct hull_err *err)
{
	char abs[PATH_MAX];
	_cleanup_free_ char *transport_name = NULL, *inner_name = NULL;
	if (!realpath(r->path, abs))
		return hull_errf_sys(err, errno, "%s", r->path);
	if (asprintf(&transport_name, "%s%s%s%s", prefix, abs, r->inner ? ":" : "", r->inner ? r->inner : "") < 0)
		return hull_errf(err, ENOMEM, "out of memory");
	const char *names[2] = { transport_name, NULL };
	struct img_ref tr;
	struct hull_err ignored;
	if (tag) {
		if (img_ref_parse_name(tag, &tr, err) < 0)
			return hull_err_wrap(err, "image name");
		inner_name = steal_ptr(tr.name);
		img_ref_free(&tr);
		names[0] = inner_name;
	}
	/* the archive's own name is known only after the manifest was read, so
	 * tag it afterwards */
	int rc = img_ingest(s, &l->base, names, 1, ctx->progress, digest_out, err);
	if (rc == 0 && !tag && l->ref_name && (strchr(l->ref_name, '/') || strchr(l->ref_name, ':')) &&
	    img_ref_parse_name(l->ref_name, &tr, &ignored) == 0) {
		rc = img_store_tag(s, tr.name, digest_out, err);
		img_ref_free(&tr);
	}
	return rc;
}

int img_fetch_oci_dir(const struct img_store *s, const struct hull_image_ctx *ctx, const struct img_ref *r,
		      const char *tag, char *digest_out, struct hull_err *err)
{
	struct layout_src l;
	layout_init(&l, s, r->name, r->inner);
	l.dirfd = open(r->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (l.dirfd < 0)
		return hull_errf_sys(err, errno, "%s: open `%s`", r->name, r->path);
	if (faccessat(l.dirfd, "oci-layout", F_OK, 0) < 0) {
		layout_free(&l);
		return hull_errf(err, ENOENT, "%s: `%s` is not an OCI image layout (no oci-layout file)", r->name, r->path);
	}
	char digest[IMG_DIGEST_LEN + 1];
	int rc = ingest_named(s, &l, r, "oci:", tag, ctx, digest, err);
	if (rc == 0 && digest_out)
		memcpy(digest_out, digest, sizeof(digest));
	layout_free(&l);
	return rc;
}

/* ---- archives ---------------------------------------------------------- */

struct tar_file { char *name; char digest[IMG_DIGEST_LEN + 1]; int64_t size; unsigned char magic[4]; };

struct tar_scan {
	struct tar_file *files; size_t n;
	char *json_name; char *json; size_t json_len;   /* the one small file asked for */
};

static void tar_scan_free(struct tar_scan *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->files[i].name);
	free(t->files);
	free(t->json);
	memset(t, 0, sizeof(*t));
}

/* Stream every regular file of an archive into the store.  want_json is kept
 * in memory instead.  verify_by_name: names blobs/sha256/<hex> must hash to
 * <hex> (oci-archive), other files are skipped. */
static int tar_scan(const struct img_store *s, const char *label, const char *path, const char *want_json,
		    bool verify_by_name, struct img_progress *p, struct tar_scan *t, struct hull_err *err)
{
	memset(t, 0, sizeof(*t));
	if (img_lazy_archive(err) < 0)
		return hull_err_wrap(err, "%s", label);
	struct archive *a = archive_read_new();
	if (!a)
		return hull_errf(err, ENOMEM, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	int r = 0;
	if (archive_read_open_filename(a, path, COPY_BLOCK) != ARCHIVE_OK) {
		r = hull_errf(err, EINVAL, "%s: %s", label, archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	struct stat st;
	if (stat(path, &st) == 0)
		img_progress_blob(p, st.st_size, 0);
	_cleanup_free_ char *buf = malloc(COPY_BLOCK);
	struct archive_entry *ae;
	while (r == 0 && buf) {
		int hr = archive_read_next_header(a, &ae);
		if (hr == ARCHIVE_EOF)
			break;
		if (hr != ARCHIVE_OK && hr != ARCHIVE_WARN) {
			r = hull_errf(err, EBADMSG, "%s: %s", label, archive_error_string(a));
			break;
		}
		if (archive_entry_filetype(ae) != AE_IFREG || !archive_entry_pathname(ae))
			continue;
		const char *name = archive_entry_pathname(ae);
		while (name[0] == '.' && name[1] == '/')
			name += 2;
		if (want_json && strcmp(name, want_json) == 0) {
			int64_t sz = archive_entry_size(ae);
			if (sz < 0 || sz > MAX_JSON) {
				r = hull_errf(err, EFBIG, "%s: %s: too large", label, name);
				break;
			}
			free(t->json);
			t->json = malloc((size_t)sz + 1);
			la_ssize_t got = t->json ? archive_read_data(a, t->json, (size_t)sz) : -1;
			if (got != sz) {
				r = hull_errf(err, EBADMSG, "%s: %s: %s", label, name,
					      got < 0 ? archive_error_string(a) : "short read");
				break;
			}
			t->json[sz] = '\0';
			t->json_len = (size_t)sz;
			continue;
		}
		char expect[IMG_DIGEST_LEN + 1] = "";
		if (verify_by_name) {
			if (strncmp(name, "blobs/sha256/", 13) != 0)
				continue;
			snprintf(expect, sizeof(expect), "sha256:%s", name + 13);
			if (!img_digest_valid(expect))
				continue;
			if (img_store_has_blob(s, expect)) {
				struct tar_file *nf = realloc(t->files, (t->n + 1) * sizeof(*nf));
				if (!nf) { r = -ENOMEM; break; }
				t->files = nf;
				memset(&nf[t->n], 0, sizeof(nf[t->n]));
				nf[t->n].name = strdup(name);
				memcpy(nf[t->n].digest, expect, sizeof(expect));
				t->n++;
				img_progress_blob(p, 0, archive_entry_size(ae));
				continue;
			}
		}
		struct img_blob_writer w;
		if ((r = img_blob_writer_open(s, expect[0] ? expect : NULL, archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1, &w, err)) < 0)
			break;
		unsigned char magic[4] = { 0 };
		size_t total = 0;
		for (;;) {
			la_ssize_t n = archive_read_data(a, buf, COPY_BLOCK);
			if (n < 0) {
				r = hull_errf(err, EBADMSG, "%s: %s: %s", label, name, archive_error_string(a));
				break;
			}
			if (n == 0)
				break;
			if (total < 4)
				memcpy(magic + total, buf, (size_t)n < 4 - total ? (size_t)n : 4 - total);
			total += (size_t)n;
			if ((r = img_blob_writer_write(&w, buf, (size_t)n, err)) < 0)
				break;
			img_progress_blob(p, 0, n);
		}
		char digest[IMG_DIGEST_LEN + 1];
		if (r < 0) {
			img_blob_writer_abort(&w);
			hull_err_wrap(err, "%s: %s", label, name);
			break;
		}
		if ((r = img_blob_writer_commit(s, &w, digest, err)) < 0) {
			hull_err_wrap(err, "%s: %s", label, name);
			break;
		}
		struct tar_file *nf = realloc(t->files, (t->n + 1) * sizeof(*nf));
		if (!nf) {
			r = hull_errf(err, ENOMEM, "out of memory");
			break;
		}
		t->files = nf;
		nf[t->n].name = strdup(name);
		memcpy(nf[t->n].digest, digest, sizeof(digest));
		nf[t->n].size = (int64_t)total;
		memcpy(nf[t->n].magic, magic, 4);
		if (!nf[t->n].name) {
			r = hull_errf(err, ENOMEM, "out of memory");
			break;
		}
		t->n++;
	}
	if (!buf && r == 0)
		r = hull_errf(err, ENOMEM, "out of memory");
	archive_read_free(a);
	if (r == 0 && want_json && !t->json)
		r = hull_errf(err, ENOENT, "%s: no %s in the archive", label, want_json);
	if (r < 0)
		tar_scan_free(t);
	return r;
}

int img_fetch_oci_archive(const struct img_store *s, const struct hull_image_ctx *ctx, const struct img_ref *r,
			  const char *tag, char *digest_out, struct hull_err *err)
{
	struct layout_src l;
	struct tar_scan t;
	struct img_progress *p = img_progress_new(ctx->progress);
	img_progress_phase(p, "%s: reading archive", r->name);
	int rc = tar_scan(s, r->name, r->path, "index.json", true, p, &t, err);
	img_progress_free(p);
	if (rc < 0)
		return rc;
	layout_init(&l, s, r->name, r->inner);
	l.index_json = steal_ptr(t.json);
	l.index_len = t.json_len;
	tar_scan_free(&t);
	char digest[IMG_DIGEST_LEN + 1];
	rc = ingest_named(s, &l, r, "oci-archive:", tag, ctx, digest, err);
	if (rc == 0 && digest_out)
		memcpy(digest_out, digest, sizeof(digest));
	layout_free(&l);
	return rc;
}

static const struct tar_file *find_file(const struct tar_scan *t, const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->files[i].name, name) == 0)
			return &t->files[i];
	return NULL;
}

static const char *layer_media_type(const unsigned char *m)
{
	if (m[0] == 0x1f && m[1] == 0x8b)
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	return "application/vnd.oci.image.layer.v1.tar";
}

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_desc(yajl_gen g, const char *mt, const struct tar_file *f)
{
	yajl_gen_map_open(g);
	gen_str(g, "mediaType");
	gen_str(g, mt);
	gen_str(g, "digest");
	gen_str(g, f->digest);
	gen_str(g, "size");
	yajl_gen_integer(g, f->size);
	yajl_gen_map_close(g);
}

/* docker save's manifest.json -> an OCI manifest over the stored blobs */
static int docker_manifest(struct layout_src *l, const struct tar_scan *t, const char *want, struct hull_err *err)
{
	struct jw w;
	yajl_val root;
	_cleanup_free_ char *name = NULL;
	if (asprintf(&name, "%s: manifest.json", l->base.label) < 0)
		return hull_errf(err, ENOMEM, "out of memory");
	jw_init(&w, name, err);
	int r = jw_parse(&w, t->json, t->json_len, &root);
	if (r < 0)
		return r;
	yajl_val pick = NULL;
	if (!YAJL_IS_ARRAY(root) || root->u.array.len == 0) {
		r = jw_fail(&w, "must be a non-empty array");
		goto out;
	}
	for (size_t i = 0; i < root->u.array.len && !pick; i++) {
		yajl_val e = root->u.array.values[i];
		yajl_val tags = jw_member(e, "RepoTags");
		if (!want) {
			pick = e;
			break;
		}
		for (size_t j = 0; YAJL_IS_ARRAY(tags) && j < tags->u.array.len; j++) {
			yajl_val tv = tags->u.array.values[j];
			if (YAJL_IS_STRING(tv) && strcmp(tv->u.string, want) == 0)
				pick = e;
		}
	}
	if (!pick) {
		r = hull_errf(err, ENOENT, "%s: no image tagged `%s` in manifest.json", l->base.label, want);
		goto out;
	}
	if (!want && root->u.array.len > 1) {
		r = hull_errf(err, EINVAL, "%s: the archive holds %zu images; name one with docker-archive:FILE:NAME",
			      l->base.label, root->u.array.len);
		goto out;
	}
	yajl_val cfg = jw_member(pick, "Config"), layers = jw_member(pick, "Layers"), tags = jw_member(pick, "RepoTags");
	if (!YAJL_IS_STRING(cfg) || !YAJL_IS_ARRAY(layers)) {
		r = hull_errf(err, EBADMSG, "%s: entry needs Config (string) and Layers (array)", name);
		goto out;
	}
	if (YAJL_IS_ARRAY(tags) && tags->u.array.len && YAJL_IS_STRING(tags->u.array.values[0]))
		l->ref_name = strdup(want ? want : tags->u.array.values[0]->u.string);
	const struct tar_file *cf = find_file(t, cfg->u.string);
	if (!cf) {
		r = hull_errf(err, ENOENT, "%s: config `%s` is not in the archive", l->base.label, cfg->u.string);
		goto out;
	}
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g) {
		r = hull_errf(err, ENOMEM, "out of memory");
		goto out;
	}
	yajl_gen_map_open(g);
	gen_str(g, "schemaVersion");
	yajl_gen_integer(g, 2);
	gen_str(g, "mediaType");
	gen_str(g, "application/vnd.oci.image.manifest.v1+json");
	gen_str(g, "config");
	gen_desc(g, "application/vnd.oci.image.config.v1+json", cf);
	gen_str(g, "layers");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < layers->u.array.len && r == 0; i++) {
		yajl_val lv = layers->u.array.values[i];
		const struct tar_file *lf = YAJL_IS_STRING(lv) ? find_file(t, lv->u.string) : NULL;
		if (!lf)
			r = hull_errf(err, ENOENT, "%s: layer %zu (`%s`) is not in the archive", l->base.label, i,
				      YAJL_IS_STRING(lv) ? lv->u.string : "?");
		else
			gen_desc(g, layer_media_type(lf->magic), lf);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	if (r == 0 && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		l->manifest = malloc(len);
		if (l->manifest) {
			memcpy(l->manifest, buf, len);
			l->manifest_len = len;
		} else {
			r = hull_errf(err, ENOMEM, "out of memory");
		}
	}
	yajl_gen_free(g);
out:
	yajl_tree_free(root);
	return r;
}

int img_fetch_docker_archive(const struct img_store *s, const struct hull_image_ctx *ctx,
			     const struct img_ref *r, const char *tag, char *digest_out, struct hull_err *err)
{
	struct layout_src l;
	struct tar_scan t;
	struct img_progress *p = img_progress_new(ctx->progress);
	img_progress_phase(p, "%s: reading archive", r->name);
	int rc = tar_scan(s, r->name, r->path, "manifest.json", false, p, &t, err);
	img_progress_free(p);
	if (rc < 0)
		return rc;
	layout_init(&l, s, r->name, NULL);
	rc = docker_manifest(&l, &t, r->inner, err);
	tar_scan_free(&t);
	char digest[IMG_DIGEST_LEN + 1];
	if (rc == 0)
		rc = ingest_named(s, &l, r, "docker-archive:", tag, ctx, digest, err);
	if (rc == 0 && digest_out)
		memcpy(digest_out, digest, sizeof(digest));
	layout_free(&l);
	return rc;
}
