/* Unit tests for oci/state.c: state JSON out and back in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oci/state.h"

static void test_round_trip(void **state)
{
	struct oci_kv ann[] = { { "org.hull.isolation", "vm" }, { "com.example.k", "v\"q" } };
	struct oci_state st = {
		.oci_version = "1.3.0", .id = "c1", .status = "running", .bundle = "/b/c1",
		.pid = 4422, .annotations = ann, .n_annotations = 2,
	};
	struct hull_err err = { 0 };
	struct oci_state *back;
	char *json;
	size_t len;

	assert_int_equal(oci_state_to_json(&st, false, &json, &len, &err), 0);
	assert_string_equal(json, "{\"ociVersion\":\"1.3.0\",\"id\":\"c1\",\"status\":\"running\",\"pid\":4422,"
				  "\"bundle\":\"/b/c1\",\"annotations\":{\"org.hull.isolation\":\"vm\","
				  "\"com.example.k\":\"v\\\"q\"}}");
	assert_int_equal(oci_state_parse(json, len, "state.json", &back, &err), 0);
	assert_string_equal(back->oci_version, "1.3.0");
	assert_string_equal(back->id, "c1");
	assert_string_equal(back->status, "running");
	assert_string_equal(back->bundle, "/b/c1");
	assert_int_equal(back->pid, 4422);
	assert_int_equal(back->n_annotations, 2);
	assert_string_equal(back->annotations[1].value, "v\"q");
	assert_null(back->rootfs);
	oci_state_free(back);
	free(json);
}

static void test_runc_extras_and_pretty(void **state)
{
	struct oci_state st = {
		.oci_version = "1.3.0", .id = "x", .status = "stopped", .bundle = "/b",
		.pid = -1, .rootfs = "/b/rootfs", .created = "2026-11-22T00:00:00.000000001Z", .owner = "",
	};
	struct hull_err err = { 0 };
	struct oci_state *back;
	char *json;
	size_t len;

	assert_int_equal(oci_state_to_json(&st, true, &json, &len, &err), 0);
	/* no annotations key when there are none; pid 0 for "no process" */
	assert_null(strstr(json, "annotations"));
	assert_non_null(strstr(json, "\n  \"pid\": 0,\n"));
	assert_int_equal(oci_state_parse(json, len, NULL, &back, &err), 0);
	assert_int_equal(back->pid, 0);
	assert_string_equal(back->rootfs, "/b/rootfs");
	assert_string_equal(back->created, "2026-11-22T00:00:00.000000001Z");
	assert_string_equal(back->owner, "");
	oci_state_free(back);
	free(json);
}

static void test_write_refuses_incomplete(void **state)
{
	struct oci_state st = { .oci_version = "1.3.0", .id = "x", .status = "sleeping", .bundle = "/b" };
	struct hull_err err = { 0 };
	char *json = (char *)1;

	assert_int_equal(oci_state_to_json(&st, false, &json, NULL, &err), -22);
	assert_null(json);
	st.status = "created";
	st.bundle = NULL;
	assert_int_equal(oci_state_to_json(&st, false, &json, NULL, &err), -22);
}

static void expect_parse_error(const char *json, const char *msg)
{
	struct hull_err err = { 0 };
	struct oci_state *st = (struct oci_state *)1;

	assert_int_equal(oci_state_parse(json, strlen(json), "state.json", &st, &err), -22);
	assert_null(st);
	assert_string_equal(err.msg, msg);
}

static void test_parse_errors(void **state)
{
	expect_parse_error("{\"ociVersion\":\"1.0.0\",\"id\":\"a\",\"status\":\"created\"}", "state.json: .bundle: is required");
	expect_parse_error("{\"ociVersion\":\"1.0.0\",\"id\":\"a\",\"status\":\"up\",\"bundle\":\"/b\"}",
			   "state.json: .status: unknown status \"up\"");
	expect_parse_error("{\"ociVersion\":\"1.0.0\",\"id\":\"a\",\"status\":\"created\",\"bundle\":\"/b\",\"pid\":-5}",
			   "state.json: .pid: must be an integer in [0, 2147483647]");
	expect_parse_error("{\"ociVersion\":\"1.0.0\",\"id\":7,\"status\":\"created\",\"bundle\":\"/b\"}",
			   "state.json: .id: must be a string");
	expect_parse_error("{\"ociVersion\":\"1.0.0\",\"id\":\"a\",\"status\":\"created\",\"bundle\":\"/b\","
			   "\"annotations\":{\"k\":[]}}",
			   "state.json: .annotations.k: must be a string");
	expect_parse_error("\"state\"", "state.json: top level must be a JSON object");
}

static void test_parse_ignores_unknown(void **state)
{
	static const char doc[] = "{\"ociVersion\":\"1.0.2\",\"id\":\"a\",\"status\":\"paused\",\"bundle\":\"/b\","
				  "\"pid\":1,\"future\":{\"x\":1}}";
	struct hull_err err = { 0 };
	struct oci_state *st;

	assert_int_equal(oci_state_parse(doc, strlen(doc), "state.json", &st, &err), 0);
	assert_string_equal(st->status, "paused");
	assert_int_equal(st->pid, 1);
	oci_state_free(st);
	assert_true(oci_state_status_valid("creating"));
	assert_false(oci_state_status_valid("Running"));
	assert_false(oci_state_status_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_runc_extras_and_pretty),
		cmocka_unit_test(test_write_refuses_incomplete),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_ignores_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
