/* Unit tests for lib/json.c, the JSON writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/json.h"

static char *finish_ok(struct hull_json *j)
{
	struct hull_err err = { 0 };
	char *out = NULL;
	size_t len = 0;
	int r = hull_json_finish(j, &out, &len, &err);

	if (r)
		print_error("unexpected: %s\n", err.msg);
	assert_int_equal(r, 0);
	assert_non_null(out);
	assert_int_equal(len, strlen(out));
	return out;
}

static void finish_fails(struct hull_json *j, const char *msg)
{
	struct hull_err err = { 0 };
	char *out = (char *)1;
	assert_int_equal(hull_json_finish(j, &out, NULL, &err), -22);
	assert_null(out);
	assert_string_equal(err.msg, msg);
}

static void test_map_of_everything(void **state)
{
	const char *list[] = { "a", "b" };
	struct hull_json *j = hull_json_new(false);
	char *out;

	hull_json_begin_map(j);
	hull_json_kv_string(j, "s", "x\"y\\z\n");
	hull_json_kv_int(j, "neg", INT64_MIN);
	hull_json_kv_uint(j, "big", UINT64_MAX);
	hull_json_kv_bool(j, "t", true);
	hull_json_kv_bool(j, "f", false);
	hull_json_kv_string(j, "nil", NULL);
	hull_json_key(j, "n");
	hull_json_null(j);
	hull_json_kv_strings(j, "list", list, 2);
	hull_json_kv_strings(j, "empty", NULL, 0);
	hull_json_key(j, "nested");
	hull_json_begin_map(j);
	hull_json_key(j, "arr");
	hull_json_begin_array(j);
	hull_json_int(j, 1);
	hull_json_begin_map(j);
	hull_json_end_map(j);
	hull_json_end_array(j);
	hull_json_end_map(j);
	hull_json_end_map(j);
	out = finish_ok(j);
	assert_string_equal(out, "{\"s\":\"x\\\"y\\\\z\\n\",\"neg\":-9223372036854775808,"
				 "\"big\":18446744073709551615,\"t\":true,\"f\":false,\"nil\":null,\"n\":null,"
				 "\"list\":[\"a\",\"b\"],\"empty\":[],\"nested\":{\"arr\":[1,{}]}}");
	free(out);
}

static void test_pretty(void **state)
{
	struct hull_json *j = hull_json_new(true);
	char *out;

	hull_json_begin_map(j);
	hull_json_kv_int(j, "a", 1);
	hull_json_end_map(j);
	out = finish_ok(j);
	assert_string_equal(out, "{\n  \"a\": 1\n}\n");
	free(out);
}

static void test_top_level_scalar(void **state)
{
	struct hull_json *j = hull_json_new(false);
	char *out;

	hull_json_string(j, "just a string");
	out = finish_ok(j);
	assert_string_equal(out, "\"just a string\"");
	free(out);
}

static void test_invalid_utf8_is_replaced(void **state)
{
	struct hull_json *j = hull_json_new(false);
	char *out;

	hull_json_begin_array(j);
	hull_json_string(j, "ok \xc3\xa9");        /* é stays */
	hull_json_string(j, "bad \xff end");       /* stray byte */
	hull_json_string(j, "\xc0\xaf");           /* overlong '/' */
	hull_json_string(j, "\xed\xa0\x80");       /* UTF-16 surrogate */
	hull_json_string(j, "\xe2\x82");           /* truncated sequence */
	hull_json_end_array(j);
	out = finish_ok(j);
	assert_string_equal(out, "[\"ok \xc3\xa9\",\"bad \xef\xbf\xbd end\",\"\xef\xbf\xbd\xef\xbf\xbd\","
				 "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\",\"\xef\xbf\xbd\xef\xbf\xbd\"]");
	free(out);
}

static void test_misuse_is_reported(void **state)
{
	struct hull_json *j;

	j = hull_json_new(false);
	hull_json_begin_map(j);
	hull_json_int(j, 1);
	hull_json_end_map(j);
	finish_fails(j, "json: value without a key inside a map");

	j = hull_json_new(false);
	hull_json_begin_array(j);
	hull_json_key(j, "k");
	finish_fails(j, "json: key outside a map or where a value belongs");

	j = hull_json_new(false);
	hull_json_begin_map(j);
	hull_json_key(j, "k");
	hull_json_end_map(j);
	finish_fails(j, "json: key without a value");

	j = hull_json_new(false);
	hull_json_begin_map(j);
	hull_json_end_array(j);
	finish_fails(j, "json: end_array without begin_array");

	j = hull_json_new(false);
	hull_json_begin_map(j);
	finish_fails(j, "json: incomplete document");

	j = hull_json_new(false);
	finish_fails(j, "json: incomplete document");

	j = hull_json_new(false);
	hull_json_int(j, 1);
	hull_json_int(j, 2);
	finish_fails(j, "json: value after the end of the document");

	j = hull_json_new(false);
	for (int i = 0; i < 70; i++)
		hull_json_begin_array(j);
	finish_fails(j, "json: nesting too deep");
}

static void test_null_writer(void **state)
{
	struct hull_err err = { 0 };
	char *out;

	/* what a failed hull_json_new() hands to the producer */
	hull_json_begin_map(NULL);
	hull_json_kv_string(NULL, "a", "b");
	hull_json_end_map(NULL);
	assert_int_equal(hull_json_finish(NULL, &out, NULL, &err), -12);
	assert_null(out);
	hull_json_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_of_everything),
		cmocka_unit_test(test_pretty),
		cmocka_unit_test(test_top_level_scalar),
		cmocka_unit_test(test_invalid_utf8_is_replaced),
		cmocka_unit_test(test_misuse_is_reported),
		cmocka_unit_test(test_null_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
