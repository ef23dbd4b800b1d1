/* registry.c — pull over the OCI distribution API (libcurl).
 *
 * GET /v2/<repo>/manifests/<tag|digest> (index or manifest; the host
 * platform's entry is picked from an index), then GET /v2/<repo>/blobs/<d>
 * for the config and the layers, `jobs` at a time, each streamed through a
 * verifying store writer.  A dropped connection resumes with a Range request
 * where the last byte arrived (up to RETRIES times); a server that ignores
 * the Range restarts the blob.  Auth: on 401, the WWW-Authenticate challenge
 * decides: Bearer (token from the realm, with basic credentials if we have
 * any) or Basic.  Credentials: ctx->creds, else the auth file
 * (ctx->authfile, $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 * ~/.docker/config.json).  TLS uses the system CAs; ctx->insecure means plain
 * HTTP, for registries on the local host.
 *
 * libcurl is dlopen()ed on the first registry fetch rather than linked: it
 * pulls in ~40 libraries (~15 ms to load) that an image run from the store,
 * or an import of a local archive, never uses.
 */
#define CURL_DISABLE_TYPECHECK 1   /* the typecheck macros would hide our function pointers */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_tree.h>

#include "lib/cleanup.h"
#include "rootfs/image/lazy.h"
#include "lib/fs.h"
#include "oci/json_walk.h"
#include "rootfs/image/image.h"

#define MAX_JSON (4 * 1024 * 1024)
#define RETRIES 4
#define ACCEPT_MANIFESTS "Accept: application/vnd.oci.image.index.v1+json, " \
	"application/vnd.oci.image.manifest.v1+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.docker.distribution.manifest.v2+json"

struct reg {
	struct img_source base;
	const struct hull_image_ctx *ctx;
	const struct img_ref *ref;
	char *base_url;
	char *creds;
	pthread_mutex_t lock;
	char *auth_header;    /* "Authorization: Bearer …" once we have a token */
	bool use_basic;
};

struct resp {
	long status;
	char content_type[256];
	char docker_digest[IMG_DIGEST_LEN + 8];
	char challenge[1024];
	/* body sinks: memory (mem != NULL semantics) or a blob writer */
	char *mem; size_t mem_len; size_t mem_max;
	struct img_blob_writer *w;
	struct hull_err *err;
	bool write_failed;
	bool restarted;       /* a ranged request answered 200: writer reset */
	int64_t range_from;
	struct img_progress *p;
	CURL *curl;
	char curl_err[CURL_ERROR_SIZE];
};

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free_)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;
static char curl_load_error[256];

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(curl_load_error, sizeof(curl_load_error), "%s", dlerror());
		return;
	}
#define SYM(field, name) (*(void **)&cu.field = dlsym(h, name))
	if (!SYM(global_init, "curl_global_init") || !SYM(easy_init, "curl_easy_init") ||
	    !SYM(easy_setopt, "curl_easy_setopt") || !SYM(easy_perform, "curl_easy_perform") ||
	    !SYM(easy_getinfo, "curl_easy_getinfo") || !SYM(easy_cleanup, "curl_easy_cleanup") ||
	    !SYM(easy_strerror, "curl_easy_strerror") || !SYM(easy_escape, "curl_easy_escape") ||
	    !SYM(free_, "curl_free") || !SYM(slist_append, "curl_slist_append") ||
	    !SYM(slist_free_all, "curl_slist_free_all")) {
		snprintf(curl_load_error, sizeof(curl_load_error), "libcurl.so.4: missing symbols");
		cu.global_init = NULL;
		return;
	}
#undef SYM
	cu.global_init(CURL_GLOBAL_DEFAULT);
}

#define curl_easy_init cu.easy_init
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_setopt cu.easy_setopt
#define curl_easy_perform cu.easy_perform
#define curl_easy_getinfo cu.easy_getinfo
#define curl_easy_cleanup cu.easy_cleanup
#define curl_easy_strerror cu.easy_strerror
#define curl_easy_escape cu.easy_escape
#define curl_free cu.free_
#define curl_slist_append cu.slist_append
#define curl_slist_free_all cu.slist_free_all

static void copy_header_value(char *dst, size_t size, const char *v, size_t len)
{
	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static size_t on_header(char *buf, size_t size, size_t n, void *priv)
{
	struct resp *r = priv;
	size_t len = size * n;
	if (len > 5 && strncmp(buf, "HTTP/", 5) == 0) {   /* new response (redirect, 100) */
		r->content_type[0] = r->docker_digest[0] = r->challenge[0] = '\0';
		return len;
	}
	static const struct { const char *name; size_t off; size_t size; } want[] = {
		{ "content-type:", offsetof(struct resp, content_type), sizeof(((struct resp *)0)->content_type) },
		{ "docker-content-digest:", offsetof(struct resp, docker_digest), sizeof(((struct resp *)0)->docker_digest) },
		{ "www-authenticate:", offsetof(struct resp, challenge), sizeof(((struct resp *)0)->challenge) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		size_t hl = strlen(want[i].name);
		if (len > hl && strncasecmp(buf, want[i].name, hl) == 0)
			copy_header_value((char *)r + want[i].off, want[i].size, buf + hl, len - hl);
	}
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *priv)
{
	struct resp *r = priv;
	size_t len = size * n;
	long status = 0;
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	if (r->w && (status == 200 || status == 206)) {
		if (status == 200 && r->range_from > 0 && !r->restarted) {
			if (img_blob_writer_reset(r->w, r->err) < 0) {
				r->write_failed = true;
				return 0;
			}
			img_progress_blob(r->p, 0, -r->range_from);
			r->restarted = true;
		}
		if (img_blob_writer_write(r->w, buf, len, r->err) < 0) {
			r->write_failed = true;
			return 0;
		}
		img_progress_blob(r->p, 0, (int64_t)len);
		return len;
	}
	/* manifests, tokens and error bodies */
	if (r->mem_len + len > r->mem_max) {
		hull_errf(r->err, EFBIG, "response larger than %zu bytes", r->mem_max);
		r->write_failed = true;
		return 0;
	}
	char *nm = realloc(r->mem, r->mem_len + len + 1);
	if (!nm) {
		r->write_failed = true;
		return 0;
	}
	r->mem = nm;
	memcpy(r->mem + r->mem_len, buf, len);
	r->mem_len += len;
	r->mem[r->mem_len] = '\0';
	return len;
}

static void resp_reset(struct resp *r)
{
	free(r->mem);
	r->mem = NULL;
	r->mem_len = 0;
	r->status = 0;
	r->write_failed = false;
	r->content_type[0] = r->docker_digest[0] = r->challenge[0] = '\0';
}

/* One GET; returns the curl code, fills r->status. */
static CURLcode http_get(struct reg *g, const char *url, const char *accept, const char *auth_header,
			 const char *userpwd, struct resp *r)
{
	CURL *c = curl_easy_init();
	if (!c)
		return CURLE_OUT_OF_MEMORY;
	struct curl_slist *h = NULL;
	char range[64];
	if (accept)
		h = curl_slist_append(h, accept);
	if (auth_header)
		h = curl_slist_append(h, auth_header);
	if (r->range_from > 0) {
		snprintf(range, sizeof(range), "Range: bytes=%lld-", (long long)r->range_from);
		h = curl_slist_append(h, range);
	}
	r->curl = c;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, g->ctx->insecure ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "hull/" HULL_VERSION);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	r->curl_err[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_err);
	if (userpwd) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	r->curl = NULL;
	return cc;
}

/* key="value" from a WWW-Authenticate challenge */
static char *challenge_param(const char *ch, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = ch; (p = strcasestr(p, key));) {
		bool start = p == ch || p[-1] == ' ' || p[-1] == ',';
		if (start && p[kl] == '=' && p[kl + 1] == '"') {
			const char *v = p + kl + 2, *e = strchr(v, '"');
			return e ? strndup(v, (size_t)(e - v)) : NULL;
		}
		p += kl;
	}
	return NULL;
}

static char *url_escape(const char *s)
{
	CURL *c = curl_easy_init();
	char *e = c ? curl_easy_escape(c, s, 0) : NULL;
	char *out = e ? strdup(e) : NULL;
	curl_free(e);
	if (c)
		curl_easy_cleanup(c);
	return out;
}

/* Answer a 401: get a bearer token, or switch to basic auth. */
static int authenticate(struct reg *g, const char *challenge, struct hull_err *err)
{
	if (strncasecmp(challenge, "Basic", 5) == 0) {
		if (!g->creds)
			return hull_errf(err, EACCES, "%s: registry wants a user name and password (--creds USER:PASS)",
					 g->base.label);
		g->use_basic = true;
		return 0;
	}
	if (strncasecmp(challenge, "Bearer", 6) != 0)
		return hull_errf(err, EACCES, "%s: unsupported auth challenge `%.60s`", g->base.label, challenge);
	_cleanup_free_ char *realm = challenge_param(challenge, "realm");
	_cleanup_free_ char *service = challenge_param(challenge, "service");
	_cleanup_free_ char *scope = challenge_param(challenge, "scope");
	if (!realm)
		return hull_errf(err, EACCES, "%s: bearer challenge without a realm", g->base.label);
	if (!scope && asprintf(&scope, "repository:%s:pull", g->ref->repository) < 0)
		return hull_errf(err, ENOMEM, "out of memory");
	_cleanup_free_ char *es = service ? url_escape(service) : NULL, *esc = url_escape(scope), *url = NULL;
	if (asprintf(&url, "%s%sscope=%s%s%s", realm, strchr(realm, '?') ? "&" : "?", esc ? esc : "",
		     es ? "&service=" : "", es ? es : "") < 0)
		return hull_errf(err, ENOMEM, "out of memory");
	struct resp r = { .mem_max = 1 << 20, .err = err };
	CURLcode cc = http_get(g, url, NULL, NULL, g->creds, &r);
	if (cc != CURLE_OK || r.status != 200) {
		int rc = hull_errf(err, EACCES, "%s: token request to %s: %s", g->base.label, realm,
				   cc != CURLE_OK ? curl_easy_strerror(cc) : r.status == 401 ? "credentials rejected" : "failed");
		resp_reset(&r);
		return rc;
	}
	char ebuf[128];
	yajl_val root = yajl_tree_parse(r.mem ? r.mem : "", ebuf, sizeof(ebuf));
	yajl_val tok = jw_member(root, "token");
	if (!YAJL_IS_STRING(tok))
		tok = jw_member(root, "access_token");
	int rc = 0;
	if (!YAJL_IS_STRING(tok)) {
		rc = hull_errf(err, EACCES, "%s: token response from %s has no token", g->base.label, realm);
	} else {
		free(g->auth_header);
		if (asprintf(&g->auth_header, "Authorization: Bearer %s", tok->u.string) < 0)
			g->auth_header = NULL;
	}
	yajl_tree_free(root);
	resp_reset(&r);
	return rc;
}

static const char *http_error(long status)
{
	switch (status) {
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not found";
	case 429: return "too many requests";
	default: return status >= 500 ? "server error" : "unexpected status";
	}
}

/* GET with auth handling; r is filled. */
static int reg_get(struct reg *g, const char *url, const char *accept, struct resp *r, struct hull_err *err)
{
	for (int attempt = 0;; attempt++) {
		pthread_mutex_lock(&g->lock);
		_cleanup_free_ char *ah = g->auth_header ? strdup(g->auth_header) : NULL;
		bool basic = g->use_basic;
		pthread_mutex_unlock(&g->lock);
		CURLcode cc = http_get(g, url, accept, ah, basic ? g->creds : NULL, r);
		if (r->write_failed && r->err->code)
			return -r->err->code;
		if (cc != CURLE_OK)
			return hull_errf(err, cc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : EIO, "%s: %s: %s",
					 g->base.label, url, r->curl_err[0] ? r->curl_err : curl_easy_strerror(cc));
		if (r->status == 401 && attempt == 0 && r->challenge[0]) {
			pthread_mutex_lock(&g->lock);
			int rc = authenticate(g, r->challenge, err);
			pthread_mutex_unlock(&g->lock);
			if (rc < 0)
				return rc;
			resp_reset(r);
			if (r->w && img_blob_writer_reset(r->w, err) < 0)
				return -err->code;
			continue;
		}
		if (r->status == 401 && attempt > 0)
			return hull_errf(err, EACCES, "%s: credentials rejected (HTTP 401)", g->base.label);
		if (r->status < 200 || r->status > 299)
			return hull_errf(err, r->status == 404 ? ENOENT : r->status == 401 || r->status == 403 ? EACCES : EIO,
					 "%s: %s: HTTP %ld (%s)", g->base.label, url, r->status, http_error(r->status));
		return 0;
	}
}

static int get_manifest_by(struct reg *g, const char *what, char **body, size_t *len, char **ct,
			   const char *verify, struct hull_err *err)
{
	_cleanup_free_ char *url = NULL;
	if (asprintf(&url, "%s/manifests/%s", g->base_url, what) < 0)
		return hull_errf(err, ENOMEM, "out of memory");
	struct resp r = { .mem_max = MAX_JSON, .err = err };
	int rc = reg_get(g, url, ACCEPT_MANIFESTS, &r, err);
	if (rc < 0) {
		resp_reset(&r);
		return rc;
	}
	char got[IMG_DIGEST_LEN + 1];
	img_sha256_digest(r.mem ? r.mem : "", r.mem_len, got);
	const char *want = verify ? verify : (img_digest_valid(r.docker_digest) ? r.docker_digest : NULL);
	if (want && strcmp(want, got) != 0) {
		rc = hull_errf(err, EBADMSG, "%s: manifest %s has digest %s", g->base.label, want, got);
		resp_reset(&r);
		return rc;
	}
	*body = r.mem ? r.mem : strdup("");
	*len = r.mem_len;
	if (ct)
		*ct = r.content_type[0] ? strdup(r.content_type) : NULL;
	return 0;
}

static int reg_get_manifest(struct img_source *src, char **body, size_t *len, char **ct, struct hull_err *err)
{
	struct reg *g = (struct reg *)src;
	const char *what = g->ref->digest ? g->ref->digest : g->ref->tag;
	return get_manifest_by(g, what, body, len, ct, g->ref->digest, err);
}

static int reg_get_child(struct img_source *src, const char *digest, char **body, size_t *len,
			 struct hull_err *err)
{
	return get_manifest_by((struct reg *)src, digest, body, len, NULL, digest, err);
}

static int fetch_blob(struct reg *g, const struct img_store *s, const struct img_desc *d,
		      struct img_progress *p, struct hull_err *err)
{
	_cleanup_free_ char *url = NULL;
	if (asprintf(&url, "%s/blobs/%s", g->base_url, d->digest) < 0)
		return hull_errf(err, ENOMEM, "out of memory");
	struct img_blob_writer w;
	int rc = img_blob_writer_open(s, d->digest, d->size, &w, err);
	if (rc < 0)
		return rc;
	img_progress_blob(p, d->size, 0);
	for (int attempt = 0;; attempt++) {
		struct resp r = { .mem_max = 1 << 16, .err = err, .w = &w, .p = p, .range_from = (int64_t)w.written };
		rc = reg_get(g, url, NULL, &r, err);
		bool transient = rc == -EIO && w.written < (uint64_t)d->size && !r.write_failed && r.status < 400;
		resp_reset(&r);
		if (rc == 0 || !transient || attempt >= RETRIES)
			break;
		/* dropped mid-blob: resume from what we have */
		hull_err_clear(err);
	}
	if (rc < 0) {
		img_blob_writer_abort(&w);
		return rc;
	}
	rc = img_blob_writer_commit(s, &w, NULL, err);
	return rc < 0 ? hull_err_wrap(err, "%s", g->base.label) : 0;
}

struct job_queue {
	struct reg *g;
	const struct img_store *s;
	const struct img_desc *d;
	size_t n, next;
	struct img_progress *p;
	pthread_mutex_t lock;
	int rc;
	struct hull_err err;
};

static void *worker(void *priv)
{
	struct job_queue *q = priv;
	for (;;) {
		pthread_mutex_lock(&q->lock);
		size_t i = q->rc == 0 && q->next < q->n ? q->next++ : q->n;
		pthread_mutex_unlock(&q->lock);
		if (i >= q->n)
			return NULL;
		struct hull_err e = { 0 };
		int rc = fetch_blob(q->g, q->s, &q->d[i], q->p, &e);
		if (rc < 0) {
			pthread_mutex_lock(&q->lock);
			if (q->rc == 0) {
				q->rc = rc;
				q->err = e;
			}
			pthread_mutex_unlock(&q->lock);
		}
	}
}

static int reg_fetch_many(struct img_source *src, const struct img_store *s, const struct img_desc *d, size_t n,
			  struct img_progress *p, struct hull_err *err)
{
	struct reg *g = (struct reg *)src;
	struct job_queue q = { .g = g, .s = s, .d = d, .n = n, .p = p };
	pthread_mutex_init(&q.lock, NULL);
	size_t jobs = g->ctx->jobs > 0 ? (size_t)g->ctx->jobs : 4;
	if (jobs > n)
		jobs = n;
	pthread_t th[16];
	size_t started = 0;
	if (jobs > ARRAY_SIZE(th))
		jobs = ARRAY_SIZE(th);
	for (size_t i = 1; i < jobs; i++)
		if (pthread_create(&th[started], NULL, worker, &q) == 0)
			started++;
	worker(&q);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&q.lock);
	if (q.rc < 0)
		*err = q.err;
	return q.rc;
}

/* ---- credentials ------------------------------------------------------- */

static char *decode_auth(const char *b64)
{
	size_t len = strlen(b64);
	if (img_lazy_crypto(NULL) < 0)
		return NULL;
	unsigned char *out = calloc(1, len + 4);
	if (!out)
		return NULL;
	int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	while (len && b64[len - 1] == '=') {   /* DecodeBlock counts padding as zero bytes */
		len--;
		n--;
	}
	out[n > 0 ? n : 0] = '\0';
	if (!strchr((char *)out, ':')) {
		free(out);
		return NULL;
	}
	return (char *)out;
}

static char *creds_from_file(const char *path, const char *registry)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct hull_err e;
	if (!path || hull_read_file(path, 1 << 20, &text, &len, &e) < 0)
		return NULL;
	char ebuf[64];
	yajl_val root = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	yajl_val auths = jw_member(root, "auths");
	char *out = NULL;
	char keys[3][300];
	snprintf(keys[0], sizeof(keys[0]), "%s", registry);
	snprintf(keys[1], sizeof(keys[1]), "https://%s", registry);
	snprintf(keys[2], sizeof(keys[2]), "%s", strcmp(registry, "docker.io") == 0 ? "https://index.docker.io/v1/" : registry);
	for (size_t i = 0; i < 3 && !out && YAJL_IS_OBJECT(auths); i++) {
		yajl_val a = jw_member(jw_member(auths, keys[i]), "auth");
		if (YAJL_IS_STRING(a))
			out = decode_auth(a->u.string);
	}
	yajl_tree_free(root);
	return out;
}

static char *find_creds(const struct hull_image_ctx *ctx, const char *registry)
{
	if (ctx->creds)
		return strdup(ctx->creds);
	char *c = NULL;
	if (ctx->authfile)
		return creds_from_file(ctx->authfile, registry);
	if ((c = creds_from_file(getenv("REGISTRY_AUTH_FILE"), registry)))
		return c;
	_cleanup_free_ char *p1 = NULL, *p2 = NULL;
	if (getenv("XDG_RUNTIME_DIR") && asprintf(&p1, "%s/containers/auth.json", getenv("XDG_RUNTIME_DIR")) > 0 &&
	    (c = creds_from_file(p1, registry)))
		return c;
	if (getenv("HOME") && asprintf(&p2, "%s/.docker/config.json", getenv("HOME")) > 0)
		c = creds_from_file(p2, registry);
	return c;
}

int img_fetch_registry(const struct img_store *s, const struct hull_image_ctx *ctx, const struct img_ref *r,
		       const char *tag, char *digest_out, struct hull_err *err)
{
	pthread_once(&curl_once, curl_init_once);
	if (!cu.global_init)
		return hull_errf(err, ENOSYS, "%s: registry access needs libcurl: %s", r->name, curl_load_error);
	struct reg g = { 0 };
	g.base.priv = &g;
	g.base.get_manifest = reg_get_manifest;
	g.base.get_child = reg_get_child;
	g.base.fetch_many = reg_fetch_many;
	g.base.label = r->name;
	g.ctx = ctx;
	g.ref = r;
	pthread_mutex_init(&g.lock, NULL);
	g.creds = find_creds(ctx, r->registry);
	if (asprintf(&g.base_url, "%s://%s/v2/%s", ctx->insecure ? "http" : "https", img_registry_host(r->registry),
		     r->repository) < 0) {
		free(g.creds);
		return hull_errf(err, ENOMEM, "out of memory");
	}
	_cleanup_free_ char *tagname = NULL;
	if (tag) {
		struct img_ref tr;
		if (img_ref_parse_name(tag, &tr, err) < 0) {
			free(g.creds);
			free(g.base_url);
			return hull_err_wrap(err, "image name");
		}
		tagname = steal_ptr(tr.name);
		img_ref_free(&tr);
	}
	const char *names[1] = { tagname ? tagname : r->name };
	int rc = img_ingest(s, &g.base, names, 1, ctx->progress, digest_out, err);
	if (g.creds)
		explicit_bzero(g.creds, strlen(g.creds));
	free(g.creds);
	free(g.base_url);
	free(g.auth_header);
	pthread_mutex_destroy(&g.lock);
	return rc;
}
