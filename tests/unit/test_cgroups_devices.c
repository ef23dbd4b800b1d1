/* Unit tests for cgroups/devices_bpf.c: the eBPF device program is run in a
 * small interpreter of the instructions the generator uses, so decisions are
 * checked rule by rule; as root, the same program is loaded through the
 * kernel verifier, attached to a scratch cgroup2 directory, replaced, and its
 * effect on open(2) observed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroups/internal.h"

/* Returns the program's r0, or -1 for anything the interpreter does not know
 * (which fails the test: the generator must stay inside this subset). */
static int run(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t access, uint32_t major, uint32_t minor)
{
	uint32_t ctx[3] = { (access << 16) | type, major, minor };
	uint64_t r[11] = { 0 };
	size_t pc = 0;
	int steps = 0;

	r[1] = (uint64_t)(uintptr_t)ctx;
	while (pc < n && steps++ < 100000) {
		const struct bpf_insn *i = &p[pc++];
		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			if (i->src_reg != BPF_REG_1 || i->off < 0 || i->off > 8 || i->off % 4)
				return -1;
			r[i->dst_reg] = ctx[i->off / 4];
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			r[i->dst_reg] = (uint32_t)(r[i->dst_reg] & (uint32_t)i->imm);
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_X:
			r[i->dst_reg] = r[i->src_reg];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			r[i->dst_reg] = (uint64_t)(int64_t)i->imm;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm) {
				pc += (size_t)i->off;
				if (pc > n)
					return -1;
			}
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)r[0];
		default:
			return -1;
		}
	}
	return -1;
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

struct prog { struct bpf_insn *v; size_t n; };

static struct prog build(const struct oci_device_rule *rules, size_t n, bool defaults)
{
	struct hull_err err = { 0 };
	struct prog p;

	assert_int_equal(cg_bpf_devices_build(rules, n, defaults, &p.v, &p.n, &err), 0);
	return p;
}

static void test_deny_all_then_allow(void **state)
{
	struct oci_device_rule rules[] = {
		{ false, 'a', -1, -1, NULL },
		{ true, 'c', 1, 3, (char *)"rw" },
		{ true, 'b', 8, -1, (char *)"r" },
	};
	struct prog p = build(rules, 3, false);

	assert_int_equal(run(p.v, p.n, C, R, 1, 3), 1);
	assert_int_equal(run(p.v, p.n, C, W, 1, 3), 1);
	assert_int_equal(run(p.v, p.n, C, R | W, 1, 3), 1);
	assert_int_equal(run(p.v, p.n, C, M, 1, 3), 0);        /* mknod not granted */
	assert_int_equal(run(p.v, p.n, C, R, 1, 5), 0);
	assert_int_equal(run(p.v, p.n, B, R, 1, 3), 0);        /* type must match */
	assert_int_equal(run(p.v, p.n, B, R, 8, 0), 1);
	assert_int_equal(run(p.v, p.n, B, R, 8, 17), 1);       /* minor wildcard */
	assert_int_equal(run(p.v, p.n, B, W, 8, 0), 0);
	assert_int_equal(run(p.v, p.n, B, R, 9, 0), 0);
	free(p.v);
}

static void test_later_rule_wins(void **state)
{
	struct oci_device_rule rules[] = {
		{ true, 'a', -1, -1, NULL },
		{ false, 'c', 1, 3, (char *)"w" },
		{ true, 'c', 1, -1, (char *)"w" },
		{ false, 'c', 1, 9, NULL },
	};
	struct prog p = build(rules, 4, false);

	assert_int_equal(run(p.v, p.n, C, R, 1, 3), 1);
	assert_int_equal(run(p.v, p.n, C, W, 1, 3), 1);        /* re-allowed by rule 2 */
	assert_int_equal(run(p.v, p.n, C, R, 1, 9), 0);        /* rule 3 */
	assert_int_equal(run(p.v, p.n, B, R | W | M, 7, 7), 1);
	free(p.v);
}

static void test_no_rules_allows(void **state)
{
	struct prog p = build(NULL, 0, false);

	assert_int_equal(run(p.v, p.n, C, R | W | M, 4, 4), 1);
	free(p.v);
}

static void test_defaults_follow_rules(void **state)
{
	struct oci_device_rule rules[] = { { false, 'a', -1, -1, NULL } };
	struct prog p = build(rules, 1, true);

	assert_int_equal(run(p.v, p.n, C, R | W, 1, 3), 1);    /* /dev/null */
	assert_int_equal(run(p.v, p.n, C, R, 1, 9), 1);        /* /dev/urandom */
	assert_int_equal(run(p.v, p.n, C, R | W, 136, 4), 1);  /* /dev/pts/4 */
	assert_int_equal(run(p.v, p.n, C, M, 10, 200), 1);     /* mknod of anything */
	assert_int_equal(run(p.v, p.n, C, R, 10, 200), 0);     /* but not use */
	assert_int_equal(run(p.v, p.n, B, R, 8, 0), 0);
	free(p.v);
}

static void test_bad_rules(void **state)
{
	struct hull_err err = { 0 };
	struct bpf_insn *v = NULL;
	size_t n = 0;
	struct oci_device_rule bad_type[] = { { true, 'p', 1, 1, NULL } };
	struct oci_device_rule bad_acc[] = { { true, 'c', 1, 1, (char *)"rq" } };

	assert_int_equal(cg_bpf_devices_build(bad_type, 1, false, &v, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "devices[0]"));
	assert_null(v);
	assert_int_equal(cg_bpf_devices_build(bad_acc, 1, false, &v, &n, &err), -EINVAL);
	assert_null(v);
}

/* ---- live: kernel verifier and enforcement (root with a cgroup2 tree) ---- */

static int try_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Child joins the cgroup, reports open() results through its exit code. */
static int child_probe(struct hull_cgroup *cg)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct hull_err err = { 0 };
		if (hull_cgroup_enter(cg, getpid(), &err) < 0)
			_exit(99);
		_exit((try_open("/dev/null") == 0 ? 1 : 0) | (try_open("/dev/kmsg") == -EPERM ? 2 : 0));
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_live_attach_and_replace(void **state)
{
	struct hull_err err = { 0 };
	struct hull_cgroup *cg = NULL;
	char path[64];
	struct oci_device_rule deny_kmsg[] = { { true, 'a', -1, -1, NULL }, { false, 'c', 1, 11, NULL } };
	struct oci_device_rule allow_all[] = { { true, 'a', -1, -1, NULL } };

	if (geteuid() != 0 || (access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) < 0 &&
				access("/sys/fs/cgroup/cgroup.subtree_control", F_OK) < 0))
		skip();
	snprintf(path, sizeof(path), "/hull-unit-devices-%d", (int)getpid());
	assert_int_equal(hull_cgroup_create(path, "x", NULL, false, &cg, &err), 0);
	if (!cg_unified(cg)) {
		hull_cgroup_destroy(cg, true, &err);
		hull_cgroup_free(cg);
		skip();
	}
	if (cg_bpf_devices_apply(cg, deny_kmsg, 2, &err) < 0) {
		print_message("bpf: %s\n", err.msg);
		hull_cgroup_destroy(cg, true, &err);
		hull_cgroup_free(cg);
		fail();
	}
	assert_int_equal(child_probe(cg), 1 | 2);   /* null opens, kmsg (1:11, not a default) is refused */

	/* replace: still exactly one program, and the new rules apply */
	assert_int_equal(cg_bpf_devices_apply(cg, allow_all, 1, &err), 0);
	{
		uint32_t ids[8];
		union bpf_attr attr;
		int fd = open(cg_unified(cg)->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(fd >= 0);
		memset(&attr, 0, sizeof(attr));
		attr.query.target_fd = (uint32_t)fd;
		attr.query.attach_type = BPF_CGROUP_DEVICE;
		attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
		attr.query.prog_cnt = 8;
		assert_int_equal(syscall(__NR_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)), 0);
		assert_int_equal(attr.query.prog_cnt, 1);
		close(fd);
	}
	assert_int_equal(child_probe(cg), 1);
	assert_int_equal(hull_cgroup_destroy(cg, true, &err), 0);
	hull_cgroup_free(cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deny_all_then_allow),
		cmocka_unit_test(test_later_rule_wins),
		cmocka_unit_test(test_no_rules_allows),
		cmocka_unit_test(test_defaults_follow_rules),
		cmocka_unit_test(test_bad_rules),
		cmocka_unit_test(test_live_attach_and_replace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
