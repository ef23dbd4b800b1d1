/* Unit tests for runtime/caps.c: which capability sets the config turns into
 * (pure logic), and, as root in a forked child, what the kernel then reports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/security_internal.h"

#define BIT(c) (UINT64_C(1) << (c))
#define ALL41 (BIT(41) - 1)

static void test_inheritable_empty_unless_named(void **state)
{
	(void)state;
	struct oci_caps want = {
		.present = true,
		.bounding = BIT(CAP_CHOWN) | BIT(CAP_KILL),
		.effective = BIT(CAP_CHOWN) | BIT(CAP_KILL),
		.permitted = BIT(CAP_CHOWN) | BIT(CAP_KILL),
		/* what `runc spec` writes: ambient without inheritable */
		.ambient = BIT(CAP_CHOWN) | BIT(CAP_KILL),
	};
	struct sec_capsets out;
	uint64_t bad;

	sec_caps_plan(&want, ALL41, ALL41, &out, &bad);
	assert_int_equal(out.inheritable, 0);
	assert_int_equal(out.ambient, 0);
	assert_int_equal(out.effective, BIT(CAP_CHOWN) | BIT(CAP_KILL));
	assert_int_equal(out.permitted, BIT(CAP_CHOWN) | BIT(CAP_KILL));
	assert_int_equal(out.bounding, BIT(CAP_CHOWN) | BIT(CAP_KILL));
	assert_int_equal(bad, 0);
}

static void test_kernel_mask_limits(void **state)
{
	(void)state;
	uint64_t kmask = BIT(38) - 1;      /* an old kernel: no CAP_PERFMON (38) and up */
	struct oci_caps want = {
		.present = true,
		.bounding = BIT(CAP_CHOWN) | BIT(40),
		.permitted = BIT(CAP_CHOWN) | BIT(40),
		.effective = BIT(CAP_CHOWN) | BIT(40),
	};
	struct sec_capsets out;
	uint64_t bad;

	sec_caps_plan(&want, kmask, ALL41, &out, &bad);
	assert_int_equal(out.bounding, BIT(CAP_CHOWN));
	assert_int_equal(out.permitted, BIT(CAP_CHOWN));
	assert_int_equal(out.effective, BIT(CAP_CHOWN));
	assert_int_equal(bad, BIT(40));
}

static void test_rules_between_sets(void **state)
{
	(void)state;
	/* E ⊆ P; I ⊆ bounding ∩ held; A ⊆ P ∩ I; P ⊆ held. */
	struct oci_caps want = {
		.present = true,
		.bounding = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL),
		.permitted = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SYS_ADMIN),
		.effective = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL),
		.inheritable = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SYS_ADMIN),
		.ambient = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL),
	};
	uint64_t held = ALL41 & ~BIT(CAP_SYS_ADMIN);   /* e.g. a restricted parent */
	struct sec_capsets out;
	uint64_t bad;

	sec_caps_plan(&want, ALL41, held, &out, &bad);
	assert_int_equal(out.permitted, BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(out.effective, BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(out.inheritable, BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(out.ambient, BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(bad, BIT(CAP_SYS_ADMIN) | BIT(CAP_KILL));
}

static void test_absent_sets_are_empty(void **state)
{
	(void)state;
	struct oci_caps want = { .present = true };
	struct sec_capsets out;
	uint64_t bad;

	sec_caps_plan(&want, ALL41, ALL41, &out, &bad);
	assert_int_equal(out.bounding | out.permitted | out.effective | out.inheritable | out.ambient, 0);
	assert_int_equal(bad, 0);
}

/* "CapInh:\t0000000000000000" -> value */
static uint64_t status_field(const char *name)
{
	char line[256];
	uint64_t v = UINT64_MAX;
	FILE *f = fopen("/proc/self/status", "re");
	size_t n = strlen(name);

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	fclose(f);
	return v;
}

static int raise_inheritable(void)
{
	cap_t c = cap_get_proc();
	cap_value_t v = CAP_NET_RAW;
	int r = cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET) || cap_set_proc(c);

	cap_free(c);
	return r;
}

static int child_apply(const struct oci_caps *caps, bool drop_bounding)
{
	struct hull_err err = { 0 };

	if (raise_inheritable() != 0 || status_field("CapInh") == 0)
		return 100;  /* the test's premise failed */
	if (drop_bounding && sec_caps_drop_bounding(caps, &err) < 0)
		return 101;
	if (sec_caps_apply(caps, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 102;
	}
	if (status_field("CapInh") != caps->inheritable)
		return 1;
	if (caps->present) {
		if (status_field("CapEff") != caps->effective)
			return 2;
		if (status_field("CapPrm") != caps->permitted)
			return 3;
		if (status_field("CapBnd") != caps->bounding)
			return 4;
		if (status_field("CapAmb") != caps->ambient)
			return 5;
	}
	return 0;
}

static int run_child(const struct oci_caps *caps, bool drop_bounding)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(child_apply(caps, drop_bounding));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_apply_clears_inheritable_without_caps(void **state)
{
	(void)state;
	struct oci_caps none = { .present = false };

	if (geteuid() != 0)
		skip();
	assert_int_equal(run_child(&none, false), 0);
}

static void test_apply_sets_all_five(void **state)
{
	(void)state;
	uint64_t set = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL) | BIT(CAP_SETPCAP);
	struct oci_caps caps = {
		.present = true,
		.bounding = set, .permitted = set, .effective = set,
		.inheritable = BIT(CAP_NET_BIND_SERVICE),
		.ambient = BIT(CAP_NET_BIND_SERVICE),
	};

	if (geteuid() != 0)
		skip();
	assert_int_equal(run_child(&caps, true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inheritable_empty_unless_named),
		cmocka_unit_test(test_kernel_mask_limits),
		cmocka_unit_test(test_rules_between_sets),
		cmocka_unit_test(test_absent_sets_are_empty),
		cmocka_unit_test(test_apply_clears_inheritable_without_caps),
		cmocka_unit_test(test_apply_sets_all_five),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
