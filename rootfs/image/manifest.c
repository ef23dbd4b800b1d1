/* manifest.c — OCI/Docker index, manifest and image config documents. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "lib/cleanup.h"
#include "oci/json_walk.h"
#include "rootfs/image/image.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

void img_desc_clear(struct img_desc *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->os);
	free(d->arch);
	free(d->variant);
	free(d->ref_name);
	memset(d, 0, sizeof(*d));
}

void img_index_free(struct img_index *x)
{
	for (size_t i = 0; i < x->n; i++)
		img_desc_clear(&x->m[i]);
	free(x->m);
	memset(x, 0, sizeof(*x));
}

void img_manifest_free(struct img_manifest *m)
{
	free(m->media_type);
	img_desc_clear(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		img_desc_clear(&m->layers[i]);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

void img_config_free(struct img_config *c)
{
	free(c->os); free(c->arch); free(c->variant); free(c->os_version); free(c->author); free(c->created);
	jw_free_strv(c->os_features, c->n_os_features);
	free(c->user);
	jw_free_strv(c->env, c->n_env);
	jw_free_strv(c->entrypoint, c->n_entrypoint);
	jw_free_strv(c->cmd, c->n_cmd);
	free(c->workdir);
	jw_free_kv(c->labels, c->n_labels);
	free(c->stop_signal);
	jw_free_strv(c->volumes, c->n_volumes);
	jw_free_strv(c->exposed_ports, c->n_exposed_ports);
	jw_free_strv(c->diff_ids, c->n_diff_ids);
	memset(c, 0, sizeof(*c));
}

static bool is_index_type(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

static bool is_manifest_type(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0);
}

bool img_media_is_layer(const char *mt)
{
	static const char *const ok[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.diff.tar",
	};
	for (size_t i = 0; mt && i < ARRAY_SIZE(ok); i++)
		if (strcmp(mt, ok[i]) == 0)
			return true;
	return false;
}

int img_doc_kind(const char *json, size_t len, const char *content_type, const char *name,
		 enum img_doc_kind *kind, struct hull_err *err)
{
	struct jw w;
	yajl_val root;
	jw_init(&w, name, err);
	int r = jw_parse(&w, json, len, &root);
	if (r < 0)
		return r;
	r = 0;
	yajl_val mt = jw_member(root, "mediaType");
	const char *t = YAJL_IS_STRING(mt) ? mt->u.string : NULL;
	if (!t && content_type && (is_index_type(content_type) || is_manifest_type(content_type)))
		t = content_type;
	if (!YAJL_IS_OBJECT(root)) {
		r = jw_fail(&w, "must be an object");
	} else if (is_index_type(t) || (!t && jw_member(root, "manifests"))) {
		*kind = IMG_DOC_INDEX;
	} else if (is_manifest_type(t) || (!t && jw_member(root, "layers"))) {
		*kind = IMG_DOC_MANIFEST;
	} else {
		yajl_val sv = jw_member(root, "schemaVersion");
		if (YAJL_IS_INTEGER(sv) && YAJL_GET_INTEGER(sv) == 1)
			r = hull_errf(err, ENOTSUP, "%s: docker schema 1 manifests are not supported", name);
		else
			r = hull_errf(err, ENOTSUP, "%s: unsupported manifest media type `%s`", name,
				      t ? t : "(none)");
	}
	yajl_tree_free(root);
	return r;
}

static int parse_desc(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct img_desc *d = elem;
	int64_t size = -1;
	int r;
	(void)ctx;
	if ((r = jw_want_object(w, v)) < 0)
		return r;
	if ((r = jw_key_str(w, v, "mediaType", false, &d->media_type)) < 0 ||
	    (r = jw_key_str(w, v, "digest", true, &d->digest)) < 0 ||
	    (r = jw_key_i64(w, v, "size", true, 0, INT64_MAX, &size)) < 0)
		return r;
	d->size = size;
	if (!img_digest_valid(d->digest)) {
		size_t m = jw_push_key(w, "digest");
		r = jw_fail(w, "unsupported or malformed digest `%.80s` (need sha256:<64 hex>)", d->digest);
		jw_pop(w, m);
		return r;
	}
	yajl_val p = jw_member(v, "platform");
	if (YAJL_IS_OBJECT(p)) {
		size_t m = jw_push_key(w, "platform");
		if ((r = jw_key_str(w, p, "os", false, &d->os)) == 0 &&
		    (r = jw_key_str(w, p, "architecture", false, &d->arch)) == 0)
			r = jw_key_str(w, p, "variant", false, &d->variant);
		jw_pop(w, m);
		if (r < 0)
			return r;
	}
	yajl_val a = jw_member(v, "annotations");
	if (YAJL_IS_OBJECT(a)) {
		yajl_val rn = jw_member(a, "org.opencontainers.image.ref.name");
		if (YAJL_IS_STRING(rn) && !(d->ref_name = strdup(rn->u.string)))
			return hull_errf(w->err, ENOMEM, "out of memory");
	}
	return 0;
}

/* Parse a whole document that must be a JSON object.  On success *root is
 * the tree for the caller to free; on failure nothing is left to free. */
static int parse_object(struct jw *w, const char *json, size_t len, const char *name, struct hull_err *err,
			yajl_val *root)
{
	jw_init(w, name, err);
	int r = jw_parse(w, json, len, root);
	if (r == 0 && (r = jw_want_object(w, *root)) < 0) {
		yajl_tree_free(*root);
		*root = NULL;
	}
	return r;
}

int img_index_parse(const char *json, size_t len, const char *name, struct img_index *out, struct hull_err *err)
{
	struct jw w;
	yajl_val root;
	memset(out, 0, sizeof(*out));
	int r = parse_object(&w, json, len, name, err, &root);
	if (r < 0)
		return r;
	r = jw_key_array(&w, root, "manifests", sizeof(struct img_desc), (void **)&out->m, &out->n,
			 parse_desc, NULL);
	if (r == 0 && !jw_member(root, "manifests"))
		r = jw_fail(&w, ".manifests is required");
	yajl_tree_free(root);
	if (r < 0)
		img_index_free(out);
	return r;
}

int img_manifest_parse(const char *json, size_t len, const char *name, struct img_manifest *out,
		       struct hull_err *err)
{
	struct jw w;
	yajl_val root;
	memset(out, 0, sizeof(*out));
	int r = parse_object(&w, json, len, name, err, &root);
	if (r < 0)
		return r;
	if ((r = jw_key_str(&w, root, "mediaType", false, &out->media_type)) < 0)
		goto out;
	yajl_val cfg = jw_member(root, "config");
	if (!cfg) {
		r = jw_fail(&w, ".config is required");
		goto out;
	}
	size_t m = jw_push_key(&w, "config");
	r = parse_desc(&w, cfg, &out->config, NULL);
	jw_pop(&w, m);
	if (r < 0)
		goto out;
	if (!jw_member(root, "layers")) {
		r = jw_fail(&w, ".layers is required");
		goto out;
	}
	r = jw_key_array(&w, root, "layers", sizeof(struct img_desc), (void **)&out->layers, &out->n_layers,
			 parse_desc, NULL);
	for (size_t i = 0; r == 0 && i < out->n_layers; i++) {
		const char *mt = out->layers[i].media_type;
		if (!img_media_is_layer(mt))
			r = hull_errf(err, ENOTSUP, "%s: .layers[%zu]: unsupported layer media type `%s`", name, i,
				      mt ? mt : "(none)");
	}
out:
	yajl_tree_free(root);
	if (r < 0)
		img_manifest_free(out);
	return r;
}

/* Volumes and ExposedPorts are objects whose keys carry the data. */
static int key_set(struct jw *w, yajl_val obj, const char *key, char ***out, size_t *n)
{
	yajl_val v = jw_member(obj, key);
	if (!v)
		return 0;
	size_t mark = jw_push_key(w, key);
	int r = 0;
	if (!YAJL_IS_OBJECT(v)) {
		r = jw_fail(w, "must be an object");
	} else {
		*out = calloc(v->u.object.len + 1, sizeof(char *));
		if (!*out)
			r = hull_errf(w->err, ENOMEM, "out of memory");
		for (size_t i = 0; r == 0 && i < v->u.object.len; i++) {
			if (!((*out)[i] = strdup(v->u.object.keys[i])))
				r = hull_errf(w->err, ENOMEM, "out of memory");
			*n = i + 1;
		}
	}
	jw_pop(w, mark);
	return r;
}

int img_config_parse(const char *json, size_t len, const char *name, struct img_config *out,
		     struct hull_err *err)
{
	struct jw w;
	yajl_val root;
	memset(out, 0, sizeof(*out));
	int r = parse_object(&w, json, len, name, err, &root);
	if (r < 0)
		return r;
	if ((r = jw_key_str(&w, root, "os", false, &out->os)) < 0 ||
	    (r = jw_key_str(&w, root, "architecture", false, &out->arch)) < 0 ||
	    (r = jw_key_str(&w, root, "variant", false, &out->variant)) < 0 ||
	    (r = jw_key_str(&w, root, "os.version", false, &out->os_version)) < 0 ||
	    (r = jw_key_str_array(&w, root, "os.features", &out->os_features, &out->n_os_features)) < 0 ||
	    (r = jw_key_str(&w, root, "author", false, &out->author)) < 0 ||
	    (r = jw_key_str(&w, root, "created", false, &out->created)) < 0)
		goto out;
	yajl_val c = jw_member(root, "config");
	if (c) {
		size_t m = jw_push_key(&w, "config");
		if ((r = jw_want_object(&w, c)) == 0 &&
		    (r = jw_key_str(&w, c, "User", false, &out->user)) == 0 &&
		    (r = jw_key_str_array(&w, c, "Env", &out->env, &out->n_env)) == 0 &&
		    (r = jw_key_str_array(&w, c, "Entrypoint", &out->entrypoint, &out->n_entrypoint)) == 0 &&
		    (r = jw_key_str_array(&w, c, "Cmd", &out->cmd, &out->n_cmd)) == 0 &&
		    (r = jw_key_str(&w, c, "WorkingDir", false, &out->workdir)) == 0 &&
		    (r = jw_key_str_map(&w, c, "Labels", &out->labels, &out->n_labels)) == 0 &&
		    (r = jw_key_str(&w, c, "StopSignal", false, &out->stop_signal)) == 0 &&
		    (r = key_set(&w, c, "Volumes", &out->volumes, &out->n_volumes)) == 0)
			r = key_set(&w, c, "ExposedPorts", &out->exposed_ports, &out->n_exposed_ports);
		out->has_entrypoint = out->entrypoint != NULL;
		out->has_cmd = out->cmd != NULL;
		jw_pop(&w, m);
		if (r < 0)
			goto out;
	}
	yajl_val rf = jw_member(root, "rootfs");
	if (!rf) {
		r = jw_fail(&w, ".rootfs is required");
		goto out;
	}
	size_t m = jw_push_key(&w, "rootfs");
	if ((r = jw_want_object(&w, rf)) == 0)
		r = jw_key_str_array(&w, rf, "diff_ids", &out->diff_ids, &out->n_diff_ids);
	for (size_t i = 0; r == 0 && i < out->n_diff_ids; i++)
		if (!img_digest_valid(out->diff_ids[i])) {
			size_t m2 = jw_push_key(&w, "diff_ids");
			size_t m3 = jw_push_index(&w, i);
			r = jw_fail(&w, "malformed digest `%.80s`", out->diff_ids[i]);
			jw_pop(&w, m3);
			jw_pop(&w, m2);
		}
	jw_pop(&w, m);
out:
	yajl_tree_free(root);
	if (r < 0)
		img_config_free(out);
	return r;
}

const char *img_host_arch(void)
{
	static const struct { const char *uname, *oci; } map[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" }, { "i386", "386" },
		{ "armv7l", "arm" }, { "ppc64le", "ppc64le" }, { "s390x", "s390x" }, { "riscv64", "riscv64" },
	};
#if defined(__x86_64__)
	(void)map;
	return "amd64";
#elif defined(__aarch64__)
	(void)map;
	return "arm64";
#else
	static struct utsname u;
	if (uname(&u) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (strcmp(u.machine, map[i].uname) == 0)
				return map[i].oci;
	return "unknown";
#endif
}

int img_index_pick(const struct img_index *x, const char *name, size_t *pick, struct hull_err *err)
{
	const char *arch = img_host_arch();
	char offered[256] = "";
	for (size_t i = 0; i < x->n; i++) {
		const struct img_desc *d = &x->m[i];
		if (!is_manifest_type(d->media_type) && d->media_type)
			continue;   /* attestations, nested indexes */
		if (d->os && strcmp(d->os, "linux") == 0 && d->arch && strcmp(d->arch, arch) == 0) {
			*pick = i;
			return 0;
		}
		if (d->os && d->arch && strlen(offered) + strlen(d->os) + strlen(d->arch) + 4 < sizeof(offered))
			snprintf(offered + strlen(offered), sizeof(offered) - strlen(offered), "%s%s/%s",
				 offered[0] ? ", " : "", d->os, d->arch);
	}
	/* An index without platform fields (common for oci: layouts) with one image. */
	if (x->n == 1 && !x->m[0].os && !x->m[0].arch) {
		*pick = 0;
		return 0;
	}
	return hull_errf(err, ENOENT, "%s: no image for linux/%s in the index (offered: %s)", name, arch,
			 offered[0] ? offered : "none");
}
