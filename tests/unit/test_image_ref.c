/* Unit tests for rootfs/image/ref.c: reference parsing and defaulting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rootfs/image/image.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_name(const char *in, const char *registry, const char *repo, const char *tag,
			const char *digest, const char *name)
{
	struct img_ref r;
	struct hull_err err = { 0 };
	int rc = img_ref_parse(in, &r, &err);
	if (rc != 0)
		fail_msg("%s: %s", in, err.msg);
	assert_int_equal(r.transport, IMG_REGISTRY);
	assert_string_equal(r.registry, registry);
	assert_string_equal(r.repository, repo);
	if (tag)
		assert_string_equal(r.tag, tag);
	else
		assert_null(r.tag);
	if (digest)
		assert_string_equal(r.digest, digest);
	else
		assert_null(r.digest);
	assert_string_equal(r.name, name);
	img_ref_free(&r);
}

static void test_docker_hub_defaults(void **state)
{
	(void)state;
	expect_name("alpine", "docker.io", "library/alpine", "latest", NULL, "docker.io/library/alpine:latest");
	expect_name("alpine:3", "docker.io", "library/alpine", "3", NULL, "docker.io/library/alpine:3");
	expect_name("docker.io/library/alpine:3", "docker.io", "library/alpine", "3", NULL,
		    "docker.io/library/alpine:3");
	expect_name("index.docker.io/alpine", "docker.io", "library/alpine", "latest", NULL,
		    "docker.io/library/alpine:latest");
	expect_name("user/app", "docker.io", "user/app", "latest", NULL, "docker.io/user/app:latest");
	expect_name("docker://alpine:edge", "docker.io", "library/alpine", "edge", NULL,
		    "docker.io/library/alpine:edge");
	assert_string_equal(img_registry_host("docker.io"), "registry-1.docker.io");
	assert_string_equal(img_registry_host("quay.io"), "quay.io");
}

static void test_registries(void **state)
{
	(void)state;
	expect_name("localhost/busybox", "localhost", "busybox", "latest", NULL, "localhost/busybox:latest");
	expect_name("127.0.0.1:5000/busybox:1.0", "127.0.0.1:5000", "busybox", "1.0", NULL,
		    "127.0.0.1:5000/busybox:1.0");
	expect_name("quay.io/a/b/c:v1_2-3", "quay.io", "a/b/c", "v1_2-3", NULL, "quay.io/a/b/c:v1_2-3");
	expect_name("localhost:5000/a/b@sha256:" D64, "localhost:5000", "a/b", NULL, "sha256:" D64,
		    "localhost:5000/a/b@sha256:" D64);
	expect_name("alpine:3@sha256:" D64, "docker.io", "library/alpine", "3", "sha256:" D64,
		    "docker.io/library/alpine:3@sha256:" D64);
	expect_name("my-reg.example.com:443/x__y/z.w", "my-reg.example.com:443", "x__y/z.w", "latest", NULL,
		    "my-reg.example.com:443/x__y/z.w:latest");
}

static void test_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "Alpine", "alpine:", "alpine@sha256:abc", "alpine@md5:" D64, "a//b", "-a", "a/", "alpine:-x",
		"alpine:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"a...b", "a___b", "docker://", "sha256:" D64 "/x", "exa mple",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct img_ref r;
		struct hull_err err = { 0 };
		if (img_ref_parse(bad[i], &r, &err) == 0) {
			img_ref_free(&r);
			fail_msg("accepted `%s`", bad[i]);
		}
		assert_true(err.msg[0] != '\0');
	}
}

static void expect_transport(const char *in, enum img_transport t, const char *path, const char *inner)
{
	struct img_ref r;
	struct hull_err err = { 0 };
	assert_int_equal(img_ref_parse(in, &r, &err), 0);
	assert_int_equal(r.transport, t);
	assert_string_equal(r.path, path);
	if (inner)
		assert_string_equal(r.inner, inner);
	else
		assert_null(r.inner);
	assert_string_equal(r.name, in);
	img_ref_free(&r);
}

static void test_transports(void **state)
{
	(void)state;
	expect_transport("oci:./dir:tag", IMG_OCI_DIR, "./dir", "tag");
	expect_transport("oci:/abs/dir", IMG_OCI_DIR, "/abs/dir", NULL);
	expect_transport("oci-archive:x.tar:localhost/busybox:1", IMG_OCI_ARCHIVE, "x.tar", "localhost/busybox:1");
	expect_transport("oci-archive:./app.tar", IMG_OCI_ARCHIVE, "./app.tar", NULL);
	expect_transport("docker-archive:/x.tar", IMG_DOCKER_ARCHIVE, "/x.tar", NULL);
	expect_transport("docker-archive:/x.tar:localhost/a:b", IMG_DOCKER_ARCHIVE, "/x.tar", "localhost/a:b");
	struct img_ref r;
	struct hull_err err = { 0 };
	assert_int_not_equal(img_ref_parse("oci:", &r, &err), 0);
	/* a registry name is never mistaken for a transport */
	assert_int_equal(img_ref_parse_name("oci:x", &r, &err) == 0 ? (int)r.transport : -1, (int)IMG_REGISTRY);
	img_ref_free(&r);
}

static void test_digest_valid(void **state)
{
	(void)state;
	assert_true(img_digest_valid("sha256:" D64));
	assert_false(img_digest_valid("sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(img_digest_valid("sha512:" D64));
	assert_false(img_digest_valid("sha256:" D64 "0"));
	assert_false(img_digest_valid("sha256:../../../etc/passwd"));
	assert_false(img_digest_valid(NULL));
	char d[IMG_DIGEST_LEN + 1];
	img_sha256_digest("", 0, d);
	assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	struct img_hash *h = img_hash_new();
	img_hash_update(h, "ab", 2);
	img_hash_update(h, "c", 1);
	img_hash_final(h, d);
	img_hash_free(h);
	assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_hub_defaults),
		cmocka_unit_test(test_registries),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_transports),
		cmocka_unit_test(test_digest_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
