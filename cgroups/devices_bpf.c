/* devices_bpf.c — cgroup v2 device access control: a BPF_PROG_TYPE_CGROUP_DEVICE
 * program generated from linux.resources.devices, loaded with bpf(2).
 *
 * Semantics (the same as the v1 devices controller and runc): rules are read
 * in order and a later rule overrides an earlier one, so the program tests
 * them last-to-first and returns the decision of the first that matches; a
 * rule matches when the type matches ('a' = any), major/minor match (-1 =
 * any) and the requested access is a subset of the rule's.  No match: allow
 * (a config that wants default-deny starts with {"allow":false}).  The
 * devices every container needs (cg_default_device_rules) follow the
 * config's rules.
 *
 * On update the new program replaces the old one in a single
 * BPF_PROG_ATTACH with BPF_F_REPLACE, so there is no moment without a
 * filter. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/internal.h"
#include "lib/cleanup.h"

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

struct insn_buf { struct bpf_insn *v; size_t n, cap; };

static int emit(struct insn_buf *b, struct bpf_insn in)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct bpf_insn *nv = realloc(b->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		b->v = nv;
		b->cap = cap;
	}
	b->v[b->n++] = in;
	return 0;
}

static int access_mask(const char *acc, int32_t *mask)
{
	*mask = 0;
	if (!acc || !*acc)
		acc = "rwm";
	for (const char *p = acc; *p; p++) {
		switch (*p) {
		case 'r': *mask |= BPF_DEVCG_ACC_READ; break;
		case 'w': *mask |= BPF_DEVCG_ACC_WRITE; break;
		case 'm': *mask |= BPF_DEVCG_ACC_MKNOD; break;
		default: return -EINVAL;
		}
	}
	return 0;
}

/* One rule: a block of tests that each jump to the next block on mismatch,
 * then "r0 = decision; exit".  Returns 1 when the block has no tests. */
static int emit_rule(struct insn_buf *b, const struct oci_device_rule *r, size_t idx, struct hull_err *err)
{
	char type = r->type ? r->type : 'a';
	int32_t acc;
	int len = 2, pos = 0;
	bool t = type != 'a', a, ma = r->major >= 0, mi = r->minor >= 0;
	int ret = 0;

	if (type != 'a' && type != 'b' && type != 'c')
		return hull_errf(err, EINVAL, ".linux.resources.devices[%zu]: type `%c` is not a, b or c", idx, type);
	if (access_mask(r->access, &acc) < 0)
		return hull_errf(err, EINVAL, ".linux.resources.devices[%zu]: access `%s` is not a subset of rwm",
				 idx, r->access);
	if (r->major > INT32_MAX || r->minor > INT32_MAX)
		return hull_errf(err, EINVAL, ".linux.resources.devices[%zu]: major/minor out of range", idx);
	a = acc != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD);
	/* 'a' matches every device whatever major/minor say (v1 semantics) */
	if (!t)
		ma = mi = false;
	len += t + 3 * a + ma + mi;

#define SKIP(n_done) ((int16_t)(len - (n_done) - 1))
	if (t) {
		ret |= emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, SKIP(pos),
				    type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
		pos++;
	}
	if (a) {
		/* requested access must be a subset: (req & ~acc) != 0 -> next */
		ret |= emit(b, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
		ret |= emit(b, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, ~acc & 0xffff));
		pos += 2;
		ret |= emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, SKIP(pos), 0));
		pos++;
	}
	if (ma) {
		ret |= emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, SKIP(pos), (int32_t)r->major));
		pos++;
	}
	if (mi) {
		ret |= emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, SKIP(pos), (int32_t)r->minor));
		pos++;
	}
#undef SKIP
	ret |= emit(b, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0));
	ret |= emit(b, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	if (ret)
		return hull_errf(err, ENOMEM, "device program");
	return len == 2;   /* matches everything: nothing after it is reachable */
}

int cg_bpf_devices_build(const struct oci_device_rule *rules, size_t n, bool with_defaults,
			 struct bpf_insn **out, size_t *n_insns, struct hull_err *err)
{
	struct insn_buf b = { 0 };
	size_t total = n + (with_defaults ? cg_n_default_device_rules : 0);
	int ret = 0;

	*out = NULL;
	*n_insns = 0;
	/* r2 = type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx) */
	ret |= emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
	ret |= emit(&b, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
	ret |= emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0));
	ret |= emit(&b, INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
	ret |= emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
	ret |= emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
	if (ret) {
		free(b.v);
		return hull_errf(err, ENOMEM, "device program");
	}
	/* every rule is checked even when a later catch-all hides it */
	for (size_t k = 0; k < n; k++) {
		int32_t acc;
		char type = rules[k].type ? rules[k].type : 'a';
		if (type != 'a' && type != 'b' && type != 'c')
			ret = hull_errf(err, EINVAL, ".linux.resources.devices[%zu]: type `%c` is not a, b or c", k, type);
		else if (access_mask(rules[k].access, &acc) < 0)
			ret = hull_errf(err, EINVAL, ".linux.resources.devices[%zu]: access `%s` is not a subset "
					"of rwm", k, rules[k].access);
		if (ret < 0) {
			free(b.v);
			return ret;
		}
	}
	/* the verifier rejects unreachable code: stop after a catch-all rule */
	bool catch_all = false;
	for (size_t k = total; k-- > 0 && !catch_all;) {
		const struct oci_device_rule *r = k < n ? &rules[k] : &cg_default_device_rules[k - n];
		int st = emit_rule(&b, r, k, err);
		if (st < 0) {
			free(b.v);
			return -err->code;
		}
		catch_all = st == 1;
	}
	if (!catch_all) {
		ret |= emit(&b, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
		ret |= emit(&b, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	if (ret) {
		free(b.v);
		return hull_errf(err, ENOMEM, "device program");
	}
	*out = b.v;
	*n_insns = b.n;
	return 0;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *insns, size_t n, struct hull_err *err)
{
	union bpf_attr attr;
	char log[4096] = "";
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)"Apache";
	fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	/* retry with the verifier log only to explain the failure */
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	log[sizeof(log) - 1] = '\0';
	return hull_errf_sys(err, errno, "load device program%s%.200s", log[0] ? ": " : "", log);
}

/* The programs attached to the cgroup now (ids), at most max. */
static int prog_query(int cgfd, uint32_t *ids, uint32_t max, uint32_t *count)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)cgfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = max;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		return -errno;
	*count = attr.query.prog_cnt;
	return 0;
}

static int prog_fd_by_id(uint32_t id)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	return (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
}

int cg_bpf_devices_apply(struct hull_cgroup *cg, const struct oci_device_rule *rules, size_t n,
			 struct hull_err *err)
{
	struct cg_hier *u = cg_unified(cg);
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_close_ int cgfd = -1, prog = -1, old = -1;
	uint32_t ids[16], count = 0;
	union bpf_attr attr;
	size_t n_insns;

	if (!u)
		return hull_errf(err, ENOTSUP, "device rules need a cgroup v2 tree");
	if (cg_bpf_devices_build(rules, n, true, &insns, &n_insns, err) < 0)
		return -err->code;
	cgfd = open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return hull_errf_sys(err, errno, "%s", u->dir);
	prog = prog_load(insns, n_insns, err);
	if (prog < 0)
		return prog;
	if (prog_query(cgfd, ids, 16, &count) < 0)
		count = 0;
	if (count > 16)
		count = 16;
	/* Only our own earlier program is replaced; a cgroup that ended up
	 * with several keeps the others until they are detached below. */
	if (count >= 1)
		old = prog_fd_by_id(ids[0]);

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (old >= 0) {
		attr.attach_flags |= BPF_F_REPLACE;
		attr.replace_bpf_fd = (uint32_t)old;
	}
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return hull_errf_sys(err, errno, "attach device program to %s", u->dir);
	for (uint32_t i = 1; i < count; i++) {
		_cleanup_close_ int extra = prog_fd_by_id(ids[i]);
		if (extra < 0)
			continue;
		memset(&attr, 0, sizeof(attr));
		attr.target_fd = (uint32_t)cgfd;
		attr.attach_bpf_fd = (uint32_t)extra;
		attr.attach_type = BPF_CGROUP_DEVICE;
		sys_bpf(BPF_PROG_DETACH, &attr);
	}
	/* the attachment holds the program; no fd of ours stays open for a
	 * container process to inherit */
	return 0;
}
