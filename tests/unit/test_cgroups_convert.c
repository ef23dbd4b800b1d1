/* Unit tests for cgroups/convert.c: v1 -> v2 value conversions (the same
 * arithmetic as runc and crun) and value formatting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cgroups/internal.h"

static void test_shares_to_weight(void **state)
{
	assert_int_equal(cg_shares_to_weight(0), 0);          /* unset stays unset */
	assert_int_equal(cg_shares_to_weight(2), 1);
	assert_int_equal(cg_shares_to_weight(1024), 39);      /* runc: 1+((1024-2)*9999)/262142 */
	assert_int_equal(cg_shares_to_weight(512), 20);
	assert_int_equal(cg_shares_to_weight(262144), 10000);
	assert_int_equal(cg_shares_to_weight(1), 1);          /* clamped to the v1 range */
	assert_int_equal(cg_shares_to_weight(1000000), 10000);
	for (uint64_t s = 2; s < 262144; s += 997)
		assert_true(cg_shares_to_weight(s) <= cg_shares_to_weight(s + 997));
}

static void test_blkio_to_io_weight(void **state)
{
	assert_int_equal(cg_blkio_weight_to_io_weight(0), 0);
	assert_int_equal(cg_blkio_weight_to_io_weight(10), 1);
	assert_int_equal(cg_blkio_weight_to_io_weight(500), 4950);
	assert_int_equal(cg_blkio_weight_to_io_weight(100), 910);  /* 1+(90*9999)/990 */
	assert_int_equal(cg_blkio_weight_to_io_weight(1000), 10000);
	assert_int_equal(cg_blkio_weight_to_io_weight(5), 1);
	assert_int_equal(cg_blkio_weight_to_io_weight(5000), 10000);
}

static void test_swap_to_v2(void **state)
{
	struct hull_err err = { 0 };
	int64_t out = 99;

	assert_int_equal(cg_swap_to_v2(0, -1, true, &out, &err), 0);
	assert_int_equal(out, -1);                        /* unlimited memory, swap unset: both unlimited */
	assert_int_equal(cg_swap_to_v2(-1, 100, true, &out, &err), 0);
	assert_int_equal(out, -1);
	assert_int_equal(cg_swap_to_v2(0, 100, true, &out, &err), 0);
	assert_int_equal(out, 0);
	assert_int_equal(cg_swap_to_v2(300, 100, true, &out, &err), 0);
	assert_int_equal(out, 200);                       /* v2 counts swap alone */
	assert_int_equal(cg_swap_to_v2(100, 100, true, &out, &err), 0);
	assert_int_equal(out, 0);
	assert_int_equal(cg_swap_to_v2(50, 100, true, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "memory.swap"));
	assert_int_equal(cg_swap_to_v2(300, 0, false, &out, &err), -EINVAL);
	assert_int_equal(cg_swap_to_v2(300, -1, true, &out, &err), -EINVAL);
}

static void test_fmt(void **state)
{
	char buf[64];
	struct opt_i64 q = { true, 50000 }, qmax = { true, -1 }, qunset = { false, 0 };
	struct opt_u64 p = { true, 100000 }, punset = { false, 0 };

	cg_fmt_limit(buf, sizeof(buf), -1);
	assert_string_equal(buf, "max");
	cg_fmt_limit(buf, sizeof(buf), 4096);
	assert_string_equal(buf, "4096");

	assert_true(cg_fmt_cpu_max(buf, sizeof(buf), &q, &p));
	assert_string_equal(buf, "50000 100000");
	assert_true(cg_fmt_cpu_max(buf, sizeof(buf), &q, &punset));
	assert_string_equal(buf, "50000");
	assert_true(cg_fmt_cpu_max(buf, sizeof(buf), &qmax, &p));
	assert_string_equal(buf, "max 100000");
	assert_true(cg_fmt_cpu_max(buf, sizeof(buf), &qunset, &p));
	assert_string_equal(buf, "max 100000");
	assert_false(cg_fmt_cpu_max(buf, sizeof(buf), &qunset, &punset));
}

static void test_v1_device_lines(void **state)
{
	struct hull_err err = { 0 };
	char buf[96];
	struct oci_device_rule deny_all = { false, 'a', -1, -1, NULL };
	struct oci_device_rule null_rw = { true, 'c', 1, 3, (char *)"rw" };
	struct oci_device_rule any_block = { true, 'b', -1, -1, (char *)"m" };
	struct oci_device_rule minor_wild = { true, 'c', 136, -1, NULL };
	struct oci_device_rule bad_type = { true, 'x', 1, 1, NULL };
	struct oci_device_rule bad_acc = { true, 'c', 1, 1, (char *)"rwx" };

	assert_int_equal(cg_device_rule_line(&deny_all, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "a");
	assert_int_equal(cg_device_rule_line(&null_rw, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "c 1:3 rw");
	assert_int_equal(cg_device_rule_line(&any_block, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "b *:* m");
	assert_int_equal(cg_device_rule_line(&minor_wild, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "c 136:* rwm");
	assert_int_equal(cg_device_rule_line(&bad_type, buf, sizeof(buf), &err), -EINVAL);
	assert_non_null(strstr(err.msg, ".linux.resources.devices"));
	assert_int_equal(cg_device_rule_line(&bad_acc, buf, sizeof(buf), &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares_to_weight),
		cmocka_unit_test(test_blkio_to_io_weight),
		cmocka_unit_test(test_swap_to_v2),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_v1_device_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
