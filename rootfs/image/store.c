/* store.c — the content store.
 *
 *   <root>/lock                 flock: shared by fetch/run, exclusive by rm/prune
 *   <root>/images.json          {"images":{"<name>":{"digest":"sha256:…","created":N}}}
 *   <root>/images.lock          flock held while images.json is rewritten
 *   <root>/blobs/sha256/<hex>   verified blobs (written to tmp/, renamed in)
 *   <root>/layers/sha256/<hex>  unpacked layers by diff_id (overlay whiteouts)
 *   <root>/tmp/                 temp files and dirs; nothing here is trusted
 *   <root>/containers/<id>/     image-run bundles (run.c)
 *
 * Everything that appears under blobs/ or layers/ got there by rename(2)
 * after verification, so a crash or a failed check never leaves a partial
 * object under a name readers trust.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "oci/json_walk.h"
#include "rootfs/image/image.h"

const char *img_store_root(const char *override)
{
	if (override && *override)
		return override;
	const char *e = getenv("HULL_STORE");
	return e && *e ? e : HULL_STORE_DEFAULT;
}

int img_store_open(struct img_store *s, const char *root, int lock, struct hull_err *err)
{
	static const char *const dirs[] = { "blobs/sha256", "layers/sha256", "tmp", "containers" };
	memset(s, 0, sizeof(*s));
	s->root_fd = s->lock_fd = -1;
	root = img_store_root(root);
	if (root[0] != '/')
		return hull_errf(err, EINVAL, "store `%s`: must be an absolute path", root);
	/* the last dir made below exists: the layout is there (the common case) */
	char probe[4200];
	snprintf(probe, sizeof(probe), "%s/%s", root, dirs[ARRAY_SIZE(dirs) - 1]);
	bool fresh = access(probe, F_OK) != 0;
	int r = fresh ? hull_mkdir_p(root, 0700, err) : 0;
	if (r < 0)
		return hull_err_wrap(err, "store");
	s->root = strdup(root);
	s->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!s->root || s->root_fd < 0) {
		r = hull_errf_sys(err, s->root ? errno : ENOMEM, "store `%s`", root);
		img_store_close(s);
		return r;
	}
	for (size_t i = 0; fresh && i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = NULL;
		if (asprintf(&p, "%s/%s", root, dirs[i]) < 0 || hull_mkdir_p(p, 0700, err) < 0) {
			img_store_close(s);
			return hull_errf_sys(err, EIO, "store `%s`: cannot create `%s`", root, dirs[i]);
		}
	}
	s->lock_fd = openat(s->root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0 || flock(s->lock_fd, lock) < 0) {
		r = hull_errf_sys(err, errno, "store `%s`: lock", root);
		img_store_close(s);
		return r;
	}
	return 0;
}

void img_store_close(struct img_store *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->root);
	s->root = NULL;
	s->root_fd = s->lock_fd = -1;
}

char *img_store_blob_path(const struct img_store *s, const char *digest)
{
	char *p = NULL;
	if (!img_digest_valid(digest) || asprintf(&p, "%s/blobs/sha256/%s", s->root, digest + 7) < 0)
		return NULL;
	return p;
}

char *img_store_layer_path(const struct img_store *s, const char *diff_id)
{
	char *p = NULL;
	if (!img_digest_valid(diff_id) || asprintf(&p, "%s/layers/sha256/%s", s->root, diff_id + 7) < 0)
		return NULL;
	return p;
}

bool img_store_has_blob(const struct img_store *s, const char *digest)
{
	_cleanup_free_ char *p = img_store_blob_path(s, digest);
	return p && access(p, F_OK) == 0;
}

bool img_store_has_layer(const struct img_store *s, const char *diff_id)
{
	_cleanup_free_ char *p = img_store_layer_path(s, diff_id);
	return p && access(p, F_OK) == 0;
}

int img_store_mkdtemp(const struct img_store *s, const char *prefix, char *out, size_t size,
		      struct hull_err *err)
{
	if ((size_t)snprintf(out, size, "%s/tmp/%s-XXXXXX", s->root, prefix) >= size)
		return hull_errf(err, ENAMETOOLONG, "store: temp path too long");
	if (!mkdtemp(out))
		return hull_errf_sys(err, errno, "store: mkdtemp `%s`", out);
	return 0;
}

/* ---- blob writer ------------------------------------------------------ */

int img_blob_writer_open(const struct img_store *s, const char *expect, int64_t expect_size,
			 struct img_blob_writer *w, struct hull_err *err)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->expect_size = expect_size;
	if (expect)
		snprintf(w->expect, sizeof(w->expect), "%s", expect);
	if ((size_t)snprintf(w->tmp, sizeof(w->tmp), "%s/tmp/blob-XXXXXX", s->root) >= sizeof(w->tmp))
		return hull_errf(err, ENAMETOOLONG, "store: temp path too long");
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0)
		return hull_errf_sys(err, errno, "store: create temp blob in `%s/tmp`", s->root);
	w->hash = img_hash_new();
	if (!w->hash) {
		img_blob_writer_abort(w);
		return hull_errf(err, ENOMEM, "store: no sha256 context (is libcrypto installed?)");
	}
	return 0;
}

int img_blob_writer_write(struct img_blob_writer *w, const void *buf, size_t len, struct hull_err *err)
{
	if (w->expect_size >= 0 && w->written + len > (uint64_t)w->expect_size)
		return hull_errf(err, EBADMSG, "blob %s: more data than the %lld bytes its descriptor states",
				 w->expect[0] ? w->expect : "(new)", (long long)w->expect_size);
	int r = hull_write_all(w->fd, buf, len);
	if (r < 0)
		return hull_errf_sys(err, -r, "store: write `%s`", w->tmp);
	img_hash_update(w->hash, buf, len);
	w->written += len;
	return 0;
}

int img_blob_writer_reset(struct img_blob_writer *w, struct hull_err *err)
{
	char scratch[IMG_DIGEST_LEN + 1];
	if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
		return hull_errf_sys(err, errno, "store: truncate `%s`", w->tmp);
	img_hash_final(w->hash, scratch);   /* also re-initialises */
	w->written = 0;
	return 0;
}

void img_blob_writer_abort(struct img_blob_writer *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp);
	}
	w->fd = -1;
	img_hash_free(w->hash);
	w->hash = NULL;
}

int img_blob_writer_commit(const struct img_store *s, struct img_blob_writer *w, char *digest_out,
			   struct hull_err *err)
{
	char got[IMG_DIGEST_LEN + 1];
	img_hash_final(w->hash, got);
	int r = 0;
	if (w->expect_size >= 0 && w->written != (uint64_t)w->expect_size)
		r = hull_errf(err, EBADMSG, "blob %s: got %llu bytes, descriptor says %lld (truncated?)",
			      w->expect[0] ? w->expect : got, (unsigned long long)w->written,
			      (long long)w->expect_size);
	else if (w->expect[0] && strcmp(got, w->expect) != 0)
		r = hull_errf(err, EBADMSG, "blob %s: content has digest %s (corrupt or tampered)", w->expect, got);
	if (r == 0 && fchmod(w->fd, 0444) < 0)
		r = hull_errf_sys(err, errno, "store: chmod `%s`", w->tmp);
	if (r < 0) {
		img_blob_writer_abort(w);
		return r;
	}
	_cleanup_free_ char *dst = img_store_blob_path(s, got);
	if (!dst || rename(w->tmp, dst) < 0) {
		r = hull_errf_sys(err, dst ? errno : ENOMEM, "store: rename blob to `%s`", dst ? dst : got);
		img_blob_writer_abort(w);
		return r;
	}
	close(w->fd);
	w->fd = -1;
	img_hash_free(w->hash);
	w->hash = NULL;
	if (digest_out)
		memcpy(digest_out, got, IMG_DIGEST_LEN + 1);
	return 0;
}

int img_store_put(const struct img_store *s, const void *buf, size_t len, const char *expect,
		  char *digest_out, struct hull_err *err)
{
	struct img_blob_writer w;
	char d[IMG_DIGEST_LEN + 1];
	img_sha256_digest(buf, len, d);
	if (expect && strcmp(expect, d) != 0)
		return hull_errf(err, EBADMSG, "blob %s: content has digest %s (corrupt or tampered)", expect, d);
	if (img_store_has_blob(s, d)) {
		if (digest_out)
			memcpy(digest_out, d, sizeof(d));
		return 0;
	}
	int r = img_blob_writer_open(s, d, (int64_t)len, &w, err);
	if (r < 0)
		return r;
	if ((r = img_blob_writer_write(&w, buf, len, err)) < 0) {
		img_blob_writer_abort(&w);
		return r;
	}
	return img_blob_writer_commit(s, &w, digest_out, err);
}

int img_store_get_trusted(const struct img_store *s, const char *digest, size_t max, char **out, size_t *len,
			  struct hull_err *err)
{
	_cleanup_free_ char *p = img_store_blob_path(s, digest);
	if (!p)
		return hull_errf(err, EINVAL, "store: bad digest `%s`", digest);
	int r = hull_read_file(p, max, out, len, err);
	return r < 0 ? hull_err_wrap(err, "store: blob %s", digest) : 0;
}

int img_store_get(const struct img_store *s, const char *digest, size_t max, char **out, size_t *len,
		  struct hull_err *err)
{
	_cleanup_free_ char *p = img_store_blob_path(s, digest);
	if (!p)
		return hull_errf(err, EINVAL, "store: bad digest `%s`", digest);
	int r = hull_read_file(p, max, out, len, err);
	if (r < 0)
		return hull_err_wrap(err, "store: blob %s", digest);
	char got[IMG_DIGEST_LEN + 1];
	img_sha256_digest(*out, *len, got);
	if (strcmp(got, digest) != 0) {
		free(*out);
		*out = NULL;
		return hull_errf(err, EBADMSG, "store: blob %s is corrupt on disk (has %s); `hull image rm` it and fetch again",
				 digest, got);
	}
	return 0;
}

/* ---- rm -rf, never following symlinks --------------------------------- */

int img_rmtree_at(int at, const char *name)
{
	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int rr = img_rmtree_at(dirfd(d), e->d_name);
		if (rr < 0 && r == 0)
			r = rr;
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

int img_rmtree(const char *path, struct hull_err *err)
{
	int r = img_rmtree_at(AT_FDCWD, path);
	if (r < 0)
		return hull_errf_sys(err, -r, "remove `%s`", path);
	return 0;
}

/* ---- images.json -------------------------------------------------------- */

static void entries_add(struct img_entry **e, size_t *n, const char *name, const char *digest, int64_t created)
{
	struct img_entry *ne = realloc(*e, (*n + 1) * sizeof(**e));
	if (!ne)
		return;
	*e = ne;
	ne[*n].name = strdup(name);
	ne[*n].digest = strdup(digest);
	ne[*n].created = created;
	if (ne[*n].name && ne[*n].digest)
		(*n)++;
}

void img_entries_free(struct img_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].digest);
	}
	free(e);
}

int img_store_entries(const struct img_store *s, struct img_entry **out, size_t *n, struct hull_err *err)
{
	*out = NULL;
	*n = 0;
	_cleanup_free_ char *path = NULL, *text = NULL;
	size_t len;
	if (asprintf(&path, "%s/images.json", s->root) < 0)
		return hull_errf(err, ENOMEM, "out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : hull_errf_sys(err, errno, "store: open `%s`", path);
	int r = hull_read_fd(fd, 0, &text, &len, err);
	close(fd);
	if (r < 0)
		return hull_err_wrap(err, "store: `%s`", path);
	struct jw w;
	yajl_val root;
	jw_init(&w, path, err);
	if ((r = jw_parse(&w, text, len, &root)) < 0)
		return r;
	yajl_val imgs = jw_member(root, "images");
	if (YAJL_IS_OBJECT(imgs)) {
		for (size_t i = 0; i < imgs->u.object.len; i++) {
			yajl_val v = imgs->u.object.values[i];
			yajl_val d = jw_member(v, "digest"), c = jw_member(v, "created");
			if (YAJL_IS_STRING(d) && img_digest_valid(d->u.string))
				entries_add(out, n, imgs->u.object.keys[i], d->u.string,
					    YAJL_IS_INTEGER(c) ? YAJL_GET_INTEGER(c) : 0);
		}
	}
	yajl_tree_free(root);
	return 0;
}

static int entries_write(const struct img_store *s, const struct img_entry *e, size_t n, struct hull_err *err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return hull_errf(err, ENOMEM, "out of memory");
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"images", 6);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < n; i++) {
		yajl_gen_string(g, (const unsigned char *)e[i].name, strlen(e[i].name));
		yajl_gen_map_open(g);
		yajl_gen_string(g, (const unsigned char *)"digest", 6);
		yajl_gen_string(g, (const unsigned char *)e[i].digest, strlen(e[i].digest));
		yajl_gen_string(g, (const unsigned char *)"created", 7);
		yajl_gen_integer(g, e[i].created);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	_cleanup_free_ char *path = NULL;
	int r = asprintf(&path, "%s/images.json", s->root) < 0 ? hull_errf(err, ENOMEM, "out of memory")
		: hull_write_file_atomic(path, (const char *)buf, len, 0600, err);
	yajl_gen_free(g);
	return r;
}

static int index_lock(const struct img_store *s, struct hull_err *err)
{
	int fd = openat(s->root_fd, "images.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return hull_errf_sys(err, e, "store: lock images.json");
	}
	return fd;
}

static int update_entry(const struct img_store *s, const char *name, const char *digest, struct hull_err *err)
{
	int lfd = index_lock(s, err);
	if (lfd < 0)
		return lfd;
	struct img_entry *e;
	size_t n;
	int r = img_store_entries(s, &e, &n, err);
	if (r == 0) {
		size_t keep = 0;
		bool found = false;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(e[i].name, name) == 0) {
				found = true;
				if (!digest) {
					free(e[i].name);
					free(e[i].digest);
					continue;
				}
				free(e[i].digest);
				e[i].digest = strdup(digest);
				e[i].created = time(NULL);
			}
			e[keep++] = e[i];
		}
		n = keep;
		if (digest && !found)
			entries_add(&e, &n, name, digest, time(NULL));
		if (!digest && !found)
			r = hull_errf(err, ENOENT, "image `%s`: not in the store", name);
		else
			r = entries_write(s, e, n, err);
		img_entries_free(e, n);
	}
	close(lfd);
	return r;
}

int img_store_tag(const struct img_store *s, const char *name, const char *digest, struct hull_err *err)
{
	return update_entry(s, name, digest, err);
}

int img_store_untag(const struct img_store *s, const char *name, struct hull_err *err)
{
	return update_entry(s, name, NULL, err);
}

int img_store_resolve(const struct img_store *s, const char *typed, char *digest_out, char **name_out,
		      struct hull_err *err)
{
	struct img_entry *e;
	size_t n;
	int r = img_store_entries(s, &e, &n, err);
	if (r < 0)
		return r;
	struct img_ref ref;
	struct hull_err ignored;
	_cleanup_free_ char *canon = NULL;
	if (img_ref_parse(typed, &ref, &ignored) == 0) {
		if (ref.transport == IMG_REGISTRY)
			canon = strdup(ref.name);
		img_ref_free(&ref);
	}
	const char *hex = strncmp(typed, "sha256:", 7) == 0 ? typed + 7 : typed;
	size_t hexlen = strlen(hex);
	bool hexish = hexlen >= 4 && hexlen <= 64 && strspn(hex, "0123456789abcdef") == hexlen;
	ssize_t hit = -1;
	for (size_t i = 0; i < n && hit < 0; i++)
		if (strcmp(e[i].name, typed) == 0 || (canon && strcmp(e[i].name, canon) == 0))
			hit = (ssize_t)i;
	for (size_t i = 0; i < n && hit < 0 && hexish; i++)
		if (strncmp(e[i].digest + 7, hex, hexlen) == 0)
			hit = (ssize_t)i;
	if (hit < 0) {
		img_entries_free(e, n);
		return hull_errf(err, ENOENT, "image `%s`: not in the store", typed);
	}
	memcpy(digest_out, e[hit].digest, IMG_DIGEST_LEN + 1);
	if (name_out)
		*name_out = strdup(e[hit].name);
	img_entries_free(e, n);
	return 0;
}
