/* Unit tests for cgroups/path.c: cgroupsPath resolution and `unified` keys. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cgroups/internal.h"

static char *resolve_ok(const char *p, const char *id)
{
	struct hull_err err = { 0 };
	char *out = NULL;

	assert_int_equal(cg_path_resolve(p, id, false, &out, &err), 0);
	assert_non_null(out);
	return out;
}

static int resolve_fail(const char *p, const char *id, bool systemd, struct hull_err *err)
{
	char *out = (char *)1;
	int ret = cg_path_resolve(p, id, systemd, &out, err);

	assert_null(out);
	return ret;
}

#define EXPECT_PATH(in, id, want) do { char *_o = resolve_ok(in, id); assert_string_equal(_o, want); free(_o); } while (0)

static void test_default_and_absolute(void **state)
{
	EXPECT_PATH(NULL, "c1", "/hull/c1");
	EXPECT_PATH("", "c1", "/hull/c1");
	EXPECT_PATH("/machine/c1", "c1", "/machine/c1");
	EXPECT_PATH("//machine//./c1/", "x", "/machine/c1");
}

static void test_relative(void **state)
{
	/* relative paths are rooted at each hierarchy's root (documented in cgroup.h) */
	EXPECT_PATH("pods/c1", "c1", "/pods/c1");
	EXPECT_PATH("./c1", "c1", "/c1");
}

static void test_escape_rejected(void **state)
{
	struct hull_err err = { 0 };

	assert_int_equal(resolve_fail("../../etc", "c1", false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "cgroupsPath"));
	assert_int_equal(resolve_fail("/a/../../b", "c1", false, &err), -EINVAL);
	assert_int_equal(resolve_fail("/a/..", "c1", false, &err), -EINVAL);
	assert_int_equal(resolve_fail("/", "c1", false, &err), -EINVAL);
	assert_int_equal(resolve_fail("/a\nb", "c1", false, &err), -EINVAL);
	assert_int_equal(resolve_fail(NULL, "..", false, &err), -EINVAL);
	assert_int_equal(resolve_fail(NULL, "a/b", false, &err), -EINVAL);
	/* ".." inside a name is just a name */
	EXPECT_PATH("/a/..b/c..", "c1", "/a/..b/c..");
}

static void test_systemd_form(void **state)
{
	struct hull_err err = { 0 };

	assert_int_equal(resolve_fail("system.slice:hull:c1", "c1", false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "systemd form"));
	assert_non_null(strstr(err.msg, ".linux.cgroupsPath"));
	assert_int_equal(resolve_fail("system.slice:hull:c1", "c1", true, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "systemd cgroup driver"));
	assert_int_equal(resolve_fail("/a/b", "c1", true, &err), -ENOTSUP);
	assert_int_equal(resolve_fail(NULL, "c1", true, &err), -ENOTSUP);
	/* a colon in an ordinary path is not the systemd form */
	EXPECT_PATH("/a:b/c", "c1", "/a:b/c");
}

static void test_too_long(void **state)
{
	struct hull_err err = { 0 };
	char big[CG_PATH_MAX + 10];

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(resolve_fail(big, "c1", false, &err), -ENAMETOOLONG);
}

static void test_unified_keys(void **state)
{
	struct hull_err err = { 0 };
	static const char *const good[] = {
		"memory.max", "memory.high", "cpu.weight", "io.max", "pids.max", "hugetlb.2MB.max",
		"cgroup.max.depth", "memory.oom.group",
	};
	static const char *const bad[] = {
		"", "memory", ".max", "memory.", "../memory.max", "memory/../../x", "cgroup.procs",
		"cgroup.threads", "cgroup.subtree_control", "bogus.max", "memory.max\n", "memory max",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(cg_unified_key_check(good[i], &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cg_unified_key_check(bad[i], &err), -EINVAL);
		assert_non_null(strstr(err.msg, ".linux.resources.unified"));
	}
}

static void test_open_wants_canonical(void **state)
{
	static const char *const bad[] = { "", "hull/c1", "/hull/../etc", "/hull//c1", "/hull/c1/", "/", "/a/./b",
					   "s.slice:p:n" };
	struct hull_err err = { 0 };
	struct hull_cgroup *cg = (struct hull_cgroup *)1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hull_cgroup_open(bad[i], &cg, &err), -EINVAL);
		assert_null(cg);
		assert_non_null(strstr(err.msg, "invalid cgroup path"));
	}
	assert_int_equal(hull_cgroup_open(NULL, &cg, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_and_absolute),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_escape_rejected),
		cmocka_unit_test(test_systemd_form),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_unified_keys),
		cmocka_unit_test(test_open_wants_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
