/* Unit tests for rootfs/image/store.c and manifest.c: the verifying blob
 * writer (digest, size, truncation, nothing left behind), names, resolution,
 * rm -rf that never follows symlinks, and the image documents' parsers
 * (media types, platform choice, hostile digests). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "rootfs/image/image.h"

#define HELLO_SHA "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

struct fx { char top[64]; struct img_store s; };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct hull_err err = { 0 };
	snprintf(f->top, sizeof(f->top), "/tmp/hull-store-XXXXXX");
	if (!mkdtemp(f->top) || img_store_open(&f->s, f->top, LOCK_SH, &err) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	img_store_close(&f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", f->top);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static size_t count(const char *top, const char *sub)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", top, sub);
	DIR *d = opendir(p);
	size_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_writer(void **state)
{
	struct fx *f = *state;
	struct hull_err err = { 0 };
	struct img_blob_writer w;
	char d[IMG_DIGEST_LEN + 1];

	/* good: streamed in pieces */
	assert_int_equal(img_blob_writer_open(&f->s, HELLO_SHA, 5, &w, &err), 0);
	assert_int_equal(img_blob_writer_write(&w, "he", 2, &err), 0);
	assert_int_equal(img_blob_writer_write(&w, "llo", 3, &err), 0);
	assert_int_equal(img_blob_writer_commit(&f->s, &w, d, &err), 0);
	assert_string_equal(d, HELLO_SHA);
	assert_true(img_store_has_blob(&f->s, HELLO_SHA));

	/* wrong content, right size */
	assert_int_equal(img_blob_writer_open(&f->s, "sha256:" "0000000000000000000000000000000000000000000000000000000000000000", 5, &w, &err), 0);
	assert_int_equal(img_blob_writer_write(&w, "hello", 5, &err), 0);
	assert_int_equal(img_blob_writer_commit(&f->s, &w, d, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "digest"));

	/* truncated */
	assert_int_equal(img_blob_writer_open(&f->s, HELLO_SHA, 5, &w, &err), 0);
	assert_int_equal(img_blob_writer_write(&w, "hell", 4, &err), 0);
	assert_int_equal(img_blob_writer_commit(&f->s, &w, d, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "truncated"));

	/* too long is refused while streaming */
	assert_int_equal(img_blob_writer_open(&f->s, HELLO_SHA, 5, &w, &err), 0);
	assert_int_equal(img_blob_writer_write(&w, "hello!", 6, &err), -EBADMSG);
	img_blob_writer_abort(&w);

	/* reset (a restarted download) */
	assert_int_equal(img_blob_writer_open(&f->s, HELLO_SHA, 5, &w, &err), 0);
	assert_int_equal(img_blob_writer_write(&w, "xx", 2, &err), 0);
	assert_int_equal(img_blob_writer_reset(&w, &err), 0);
	assert_int_equal(img_blob_writer_write(&w, "hello", 5, &err), 0);
	assert_int_equal(img_blob_writer_commit(&f->s, &w, d, &err), 0);

	assert_int_equal(count(f->top, "blobs/sha256"), 1);
	assert_int_equal(count(f->top, "tmp"), 0);   /* nothing half-written */

	char *out;
	size_t len;
	assert_int_equal(img_store_get(&f->s, HELLO_SHA, 0, &out, &len, &err), 0);
	assert_int_equal(len, 5);
	free(out);
	/* on-disk corruption is noticed by verifying reads */
	char p[256];
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", f->top, HELLO_SHA + 7);
	chmod(p, 0644);
	FILE *fp = fopen(p, "w");
	fputs("jello", fp);
	fclose(fp);
	assert_int_equal(img_store_get(&f->s, HELLO_SHA, 0, &out, &len, &err), -EBADMSG);
	assert_int_equal(img_store_put(&f->s, "hello", 5, "sha256:" "1111111111111111111111111111111111111111111111111111111111111111", d, &err), -EBADMSG);
}

static void test_names(void **state)
{
	struct fx *f = *state;
	struct hull_err err = { 0 };
	char d[IMG_DIGEST_LEN + 1];
	char *name = NULL;
	assert_int_equal(img_store_tag(&f->s, "docker.io/library/alpine:3", HELLO_SHA, &err), 0);
	assert_int_equal(img_store_tag(&f->s, "oci:/x:latest", "sha256:" "abcd000000000000000000000000000000000000000000000000000000000000", &err), 0);
	assert_int_equal(img_store_resolve(&f->s, "alpine:3", d, &name, &err), 0);   /* normalised */
	assert_string_equal(d, HELLO_SHA);
	assert_string_equal(name, "docker.io/library/alpine:3");
	free(name);
	assert_int_equal(img_store_resolve(&f->s, "oci:/x:latest", d, NULL, &err), 0);
	assert_int_equal(img_store_resolve(&f->s, "2cf24dba", d, NULL, &err), 0);   /* id prefix */
	assert_string_equal(d, HELLO_SHA);
	assert_int_equal(img_store_resolve(&f->s, "alpine", d, NULL, &err), -ENOENT);   /* :latest */
	assert_int_equal(img_store_untag(&f->s, "docker.io/library/alpine:3", &err), 0);
	assert_int_equal(img_store_resolve(&f->s, "alpine:3", d, NULL, &err), -ENOENT);
	assert_int_equal(img_store_untag(&f->s, "docker.io/library/alpine:3", &err), -ENOENT);
	struct img_entry *e;
	size_t n;
	assert_int_equal(img_store_entries(&f->s, &e, &n, &err), 0);
	assert_int_equal(n, 1);
	img_entries_free(e, n);
}

static void test_rmtree_no_follow(void **state)
{
	struct fx *f = *state;
	char dir[128], victim[128], link[160], cmd[1024];
	snprintf(dir, sizeof(dir), "%s/tmp/t", f->top);
	snprintf(victim, sizeof(victim), "%s/victim", f->top);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/a %s && touch %s/keep && ln -s %s %s/a/link", dir, victim, victim, victim, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(link, sizeof(link), "%s/keep", victim);
	struct hull_err err = { 0 };
	assert_int_equal(img_rmtree(dir, &err), 0);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(access(link, F_OK), 0);
}

static void test_documents(void **state)
{
	(void)state;
	struct hull_err err = { 0 };
	enum img_doc_kind k;
	const char *idx = "{\"schemaVersion\":2,\"manifests\":["
		"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" HELLO_SHA "\",\"size\":5,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
		"{\"mediaType\":\"application/vnd.in-toto+json\",\"digest\":\"" HELLO_SHA "\",\"size\":5,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
		"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" HELLO_SHA "\",\"size\":5,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
	assert_int_equal(img_doc_kind(idx, strlen(idx), NULL, "i", &k, &err), 0);
	assert_int_equal(k, IMG_DOC_INDEX);
	struct img_index x;
	size_t pick;
	assert_int_equal(img_index_parse(idx, strlen(idx), "i", &x, &err), 0);
	assert_int_equal(img_index_pick(&x, "i", &pick, &err), 0);
#if defined(__x86_64__)
	assert_int_equal(pick, 2);   /* not the attestation with the same platform */
#endif
	img_index_free(&x);
	const char *bad = "{\"manifests\":[{\"digest\":\"sha256:../../../../etc/passwd\",\"size\":1}]}";
	assert_int_equal(img_index_parse(bad, strlen(bad), "bad", &x, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "digest"));
	const char *s1 = "{\"schemaVersion\":1,\"fsLayers\":[]}";
	assert_int_equal(img_doc_kind(s1, strlen(s1), NULL, "s1", &k, &err), -ENOTSUP);
	const char *m = "{\"config\":{\"digest\":\"" HELLO_SHA "\",\"size\":5},\"layers\":["
		"{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" HELLO_SHA "\",\"size\":5}]}";
	struct img_manifest man;
	assert_int_equal(img_doc_kind(m, strlen(m), NULL, "m", &k, &err), 0);
	assert_int_equal(k, IMG_DOC_MANIFEST);
	assert_int_equal(img_manifest_parse(m, strlen(m), "m", &man, &err), 0);
	assert_int_equal(man.n_layers, 1);
	img_manifest_free(&man);
	const char *m2 = "{\"config\":{\"digest\":\"" HELLO_SHA "\",\"size\":5},\"layers\":["
		"{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+bzip2\",\"digest\":\"" HELLO_SHA "\",\"size\":5}]}";
	assert_int_equal(img_manifest_parse(m2, strlen(m2), "m2", &man, &err), -ENOTSUP);
	const char *c = "{\"config\":{\"Env\":[\"A=1\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:xyz\"]}}";
	struct img_config cfg;
	assert_int_equal(img_config_parse(c, strlen(c), "c", &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "diff_ids"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_writer),
		T(test_names),
		T(test_rmtree_no_follow),
		T(test_documents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
