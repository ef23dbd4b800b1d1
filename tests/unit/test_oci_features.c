/* Unit tests for oci/features.c: the document is well-formed and every
 * name it advertises is really accepted by the parser / rootfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "oci/config.h"
#include "oci/features.h"
#include "rootfs/mountopt.h"

static yajl_val features;

static int setup(void **state)
{
	struct hull_err err = { 0 };
	char *json;

	if (oci_features_json(&json, &err) != 0)
		return -1;
	features = yajl_tree_parse(json, NULL, 0);
	free(json);
	return features ? 0 : -1;
}

static int teardown(void **state)
{
	yajl_tree_free(features);
	return 0;
}

static yajl_val get(const char *a, const char *b, const char *c, yajl_type type)
{
	const char *path[] = { a, b, c, NULL };
	yajl_val v = yajl_tree_get(features, path, type);
	assert_non_null(v);
	return v;
}

static bool array_has(yajl_val arr, const char *s)
{
	for (size_t i = 0; i < arr->u.array.len; i++) {
		const char *e = YAJL_GET_STRING(arr->u.array.values[i]);
		if (e && strcmp(e, s) == 0)
			return true;
	}
	return false;
}

static void test_versions_and_hooks(void **state)
{
	assert_string_equal(YAJL_GET_STRING(get("ociVersionMin", NULL, NULL, yajl_t_string)), "1.0.0");
	assert_string_equal(YAJL_GET_STRING(get("ociVersionMax", NULL, NULL, yajl_t_string)), "1.3.0");
	yajl_val hooks = get("hooks", NULL, NULL, yajl_t_array);
	assert_int_equal(hooks->u.array.len, 6);
	assert_true(array_has(hooks, "createRuntime"));
	assert_true(YAJL_IS_FALSE(get("linux", "cgroup", "systemd", yajl_t_any)));
	assert_true(YAJL_IS_TRUE(get("linux", "cgroup", "v1", yajl_t_any)));
	assert_true(YAJL_IS_FALSE(get("linux", "intelRdt", "enabled", yajl_t_any)));
	assert_true(YAJL_IS_TRUE(get("linux", "seccomp", "enabled", yajl_t_any)));
	assert_string_equal(YAJL_GET_STRING(get("annotations", "org.hull.isolation", NULL, yajl_t_string)),
			    "container|vm");
	const char *idmap[] = { "linux", "mountExtensions", "idmap", "enabled", NULL };
	assert_true(YAJL_IS_TRUE(yajl_tree_get(features, idmap, yajl_t_any)));
}

/* Parse a config made from a template with one name substituted. */
static int parse_with(const char *fmt, const char *name)
{
	char doc[2048];
	struct hull_err err = { 0 };
	struct oci_config *cfg;
	int r;

	snprintf(doc, sizeof(doc), fmt, name);
	r = oci_config_parse(doc, strlen(doc), "config.json", &cfg, &err);
	if (r)
		print_error("%s: %s\n", name, err.msg);
	oci_config_free(cfg);
	return r;
}

#define BASE "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"r\"},"

static void check_all_accepted(yajl_val arr, const char *fmt)
{
	assert_true(arr->u.array.len > 0);
	for (size_t i = 0; i < arr->u.array.len; i++)
		assert_int_equal(parse_with(fmt, YAJL_GET_STRING(arr->u.array.values[i])), 0);
}

static void test_names_are_accepted_by_parser(void **state)
{
	yajl_val ns = get("linux", "namespaces", NULL, yajl_t_array);
	assert_int_equal(ns->u.array.len, OCI_NS__COUNT);
	check_all_accepted(ns, BASE "\"linux\":{\"namespaces\":[{\"type\":\"%s\"}]}}");

	yajl_val caps = get("linux", "capabilities", NULL, yajl_t_array);
	assert_true(caps->u.array.len >= 41);       /* up to CAP_CHECKPOINT_RESTORE */
	assert_true(array_has(caps, "CAP_CHECKPOINT_RESTORE"));
	check_all_accepted(caps, BASE "\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],"
				      "\"capabilities\":{\"bounding\":[\"%s\"]}}}");

	check_all_accepted(get("linux", "seccomp", "actions", yajl_t_array),
			   BASE "\"linux\":{\"seccomp\":{\"defaultAction\":\"%s\"}}}");
	check_all_accepted(get("linux", "seccomp", "operators", yajl_t_array),
			   BASE "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
				"[\"read\"],\"action\":\"SCMP_ACT_LOG\",\"args\":[{\"index\":0,\"value\":0,\"op\":\"%s\"}]}]}}}");
	yajl_val archs = get("linux", "seccomp", "archs", yajl_t_array);
	assert_true(array_has(archs, "SCMP_ARCH_X86_64"));
	check_all_accepted(archs, BASE "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
					"\"architectures\":[\"%s\"]}}}");
	check_all_accepted(get("linux", "seccomp", "knownFlags", yajl_t_array),
			   BASE "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"%s\"]}}}");
	check_all_accepted(get("linux", "memoryPolicy", "modes", yajl_t_array),
			   BASE "\"linux\":{\"memoryPolicy\":{\"mode\":\"%s\"}}}");
	check_all_accepted(get("linux", "memoryPolicy", "flags", yajl_t_array),
			   BASE "\"linux\":{\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"flags\":[\"%s\"]}}}");
}

/* Every advertised mount option must be one rootfs/ handles itself, i.e.
 * not fall through to the filesystem-specific data string. */
static void test_mount_options_are_handled_by_rootfs(void **state)
{
	yajl_val opts = get("mountOptions", NULL, NULL, yajl_t_array);

	assert_true(array_has(opts, "idmap"));
	assert_true(array_has(opts, "rbind"));
	for (size_t i = 0; i < opts->u.array.len; i++) {
		char *one[] = { YAJL_GET_STRING(opts->u.array.values[i]) };
		struct mount_opts mo;
		struct hull_err err = { 0 };

		memset(&mo, 0, sizeof(mo));
		assert_int_equal(mountopt_parse(one, 1, &mo, &err), 0);
		if (mo.data)
			print_error("mount option %s is passed through as data\n", one[0]);
		assert_null(mo.data);
		mountopt_free(&mo);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions_and_hooks),
		cmocka_unit_test(test_names_are_accepted_by_parser),
		cmocka_unit_test(test_mount_options_are_handled_by_rootfs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
