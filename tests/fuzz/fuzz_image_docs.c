// FUZZ-SOURCES: rootfs/image/manifest.c rootfs/image/ref.c rootfs/image/digest.c rootfs/image/lazy.c rootfs/image/convert.c oci/json_walk.c lib/err.c
// FUZZ-LIBS: -lyajl -ldl -lcrypto -larchive
/* libFuzzer target: image documents (index, manifest, image config) and
 * image references from hostile bytes, and the config -> config.json
 * conversion of whatever config parses.  Any crash, leak or sanitizer report
 * is a bug; so is an accepted digest that could name a path. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rootfs/image/image.h"

static void check_digest(const char *d)
{
	if (!img_digest_valid(d) || strchr(d, '/') || strstr(d, ".."))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hull_err err = { 0 };
	const char *json = (const char *)data;
	enum img_doc_kind kind;
	struct img_index x;
	struct img_manifest m;
	struct img_config c;

	if (img_doc_kind(json, size, NULL, "f", &kind, &err) == 0 && kind == IMG_DOC_INDEX &&
	    img_index_parse(json, size, "f", &x, &err) == 0) {
		size_t pick;
		for (size_t i = 0; i < x.n; i++)
			check_digest(x.m[i].digest);
		if (img_index_pick(&x, "f", &pick, &err) == 0 && pick >= x.n)
			abort();
		img_index_free(&x);
	}
	if (img_manifest_parse(json, size, "f", &m, &err) == 0) {
		check_digest(m.config.digest);
		for (size_t i = 0; i < m.n_layers; i++)
			check_digest(m.layers[i].digest);
		img_manifest_free(&m);
	}
	if (img_config_parse(json, size, "f", &c, &err) == 0) {
		for (size_t i = 0; i < c.n_diff_ids; i++)
			check_digest(c.diff_ids[i]);
		struct hull_image_run_opts o = { .image = "x" };
		struct img_convert_in in = { .cfg = &c, .opts = &o, .id = "fuzz", .rootfs = "rootfs",
					     .passwd = "root:x:0:0::/root:/bin/sh\n", .group = "root:x:0:\n" };
		char *out = NULL;
		if (img_convert(&in, &out, &err) == 0 && !out)
			abort();
		free(out);
		img_config_free(&c);
	}
	/* the same bytes as a reference (NUL-terminated, bounded) */
	if (size < 2048) {
		char *s = strndup(json, size);
		struct img_ref r;
		if (s && img_ref_parse(s, &r, &err) == 0) {
			if (!r.name || (r.transport == IMG_REGISTRY && (!r.registry || !r.repository)))
				abort();
			if (r.digest)
				check_digest(r.digest);
			img_ref_free(&r);
		}
		free(s);
	}
	return 0;
}
