/* config_linux.c — the "linux" section of config.json. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "oci/config_internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static int lookup(const struct oci_name_value *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return -1;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* Fail at <current path>.<key>. */
static int fail_at_key(struct jw *w, const char *key, const char *what, const char *value)
{
	char q[96];
	size_t mark = jw_push_key(w, key);
	int r = value ? jw_fail(w, "%s %s", what, jw_quote(q, sizeof(q), value)) : jw_fail(w, "%s", what);
	jw_pop(w, mark);
	return r;
}

/* Fail at <current path>.<key>[i]. */
static int fail_at_index(struct jw *w, const char *key, size_t i, const char *what, const char *value)
{
	char q[96];
	size_t mark = jw_push_key(w, key);
	int r;

	jw_push_index(w, i);
	r = jw_fail(w, "%s %s", what, jw_quote(q, sizeof(q), value));
	jw_pop(w, mark);
	return r;
}

/* ---- namespaces ---------------------------------------------------------- */

static const struct {
	const char *name;
	int clone_flag;
} ns_types[OCI_NS__COUNT] = {
	[OCI_NS_PID] = { "pid", CLONE_NEWPID },
	[OCI_NS_NETWORK] = { "network", CLONE_NEWNET },
	[OCI_NS_MOUNT] = { "mount", CLONE_NEWNS },
	[OCI_NS_IPC] = { "ipc", CLONE_NEWIPC },
	[OCI_NS_UTS] = { "uts", CLONE_NEWUTS },
	[OCI_NS_USER] = { "user", CLONE_NEWUSER },
	[OCI_NS_CGROUP] = { "cgroup", CLONE_NEWCGROUP },
	[OCI_NS_TIME] = { "time", CLONE_NEWTIME },
};

const char *oci_ns_type_name(enum oci_ns_type type)
{
	if ((int)type < 0 || type >= OCI_NS__COUNT)
		return "unknown";
	return ns_types[type].name;
}

static int parse_namespace(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_namespace *ns = elem;
	_cleanup_free_ char *type = NULL;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "type", true, &type)) < 0 ||
	    (r = jw_key_str(w, v, "path", false, &ns->path)) < 0)
		return r;
	for (int t = 0; t < OCI_NS__COUNT; t++)
		if (strcmp(ns_types[t].name, type) == 0) {
			ns->type = (enum oci_ns_type)t;
			ns->clone_flag = ns_types[t].clone_flag;
		}
	if (!ns->clone_flag)
		return fail_at_key(w, "type", "unknown namespace type", type);
	/* Go clients write "path": "" for "create a new one". */
	if (ns->path && !ns->path[0]) {
		free(ns->path);
		ns->path = NULL;
	}
	if (ns->path && !oci_path_is_absolute(ns->path))
		return fail_at_key(w, "path", "must be an absolute path, got", ns->path);
	return 0;
}

static int parse_namespaces(struct jw *w, yajl_val lx, struct oci_linux *l)
{
	int r = jw_key_array(w, lx, "namespaces", sizeof(*l->namespaces), (void **)&l->namespaces,
			     &l->n_namespaces, parse_namespace, NULL);
	if (r < 0)
		return r;
	for (size_t i = 1; i < l->n_namespaces; i++)
		for (size_t j = 0; j < i; j++)
			if (l->namespaces[i].type == l->namespaces[j].type) {
				size_t mark = jw_push_key(w, "namespaces");
				jw_push_index(w, i);
				r = fail_at_key(w, "type", "duplicate namespace type",
						oci_ns_type_name(l->namespaces[i].type));
				jw_pop(w, mark);
				return r;
			}
	return 0;
}

/* ---- devices ------------------------------------------------------------- */

static int parse_device(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_device *d = elem;
	_cleanup_free_ char *type = NULL;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "type", true, &type)) < 0 ||
	    (r = jw_key_str(w, v, "path", true, &d->path)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "major", INT64_MIN, INT64_MAX, &d->major)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "minor", INT64_MIN, INT64_MAX, &d->minor)) < 0 ||
	    /* The schema says 0..0777, but Docker writes S_IFCHR|0666 (8630);
	     * rootfs/ keeps only the permission bits. */
	    (r = jw_key_opt_u64(w, v, "fileMode", UINT32_MAX, &d->file_mode)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "uid", UINT32_MAX, &d->uid)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "gid", UINT32_MAX, &d->gid)) < 0)
		return r;
	if (strlen(type) != 1 || !strchr("cbup", type[0]))
		return fail_at_key(w, "type", "must be one of c, b, u, p; got", type);
	d->type = type[0];
	if (!oci_path_is_absolute(d->path))
		return fail_at_key(w, "path", "must be an absolute path, got", d->path);
	if (d->type != 'p') {
		if (!d->major.set)
			return fail_at_key(w, "major", "is required for c, b and u devices", NULL);
		if (!d->minor.set)
			return fail_at_key(w, "minor", "is required for c, b and u devices", NULL);
	}
	return 0;
}

static int parse_device_rule(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_device_rule *d = elem;
	_cleanup_free_ char *type = NULL;
	struct opt_i64 major = { 0 }, minor = { 0 };
	bool has_allow = false;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_bool(w, v, "allow", &d->allow, &has_allow)) < 0 ||
	    (r = jw_key_str(w, v, "type", false, &type)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "major", INT64_MIN, INT64_MAX, &major)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "minor", INT64_MIN, INT64_MAX, &minor)) < 0 ||
	    (r = jw_key_str(w, v, "access", false, &d->access)) < 0)
		return r;
	if (!has_allow)
		return fail_at_key(w, "allow", "is required", NULL);
	d->type = 'a';
	if (type && type[0]) {
		if (strlen(type) != 1 || !strchr("acb", type[0]))
			return fail_at_key(w, "type", "must be one of a, c, b; got", type);
		d->type = type[0];
	}
	d->major = major.set ? major.v : -1;
	d->minor = minor.set ? minor.v : -1;
	if (d->major < -1)
		return fail_at_key(w, "major", "must be >= -1", NULL);
	if (d->minor < -1)
		return fail_at_key(w, "minor", "must be >= -1", NULL);
	if (d->access && strspn(d->access, "rwm") != strlen(d->access))
		return fail_at_key(w, "access", "must be a combination of r, w, m; got", d->access);
	if (d->access && !d->access[0]) {
		free(d->access);
		d->access = NULL;
	}
	return 0;
}

/* ---- resources ----------------------------------------------------------- */

static int parse_memory(struct jw *w, yajl_val v, struct oci_memory *m)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "limit", INT64_MIN, INT64_MAX, &m->limit)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "reservation", INT64_MIN, INT64_MAX, &m->reservation)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "swap", INT64_MIN, INT64_MAX, &m->swap)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "kernel", INT64_MIN, INT64_MAX, &m->kernel)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "kernelTCP", INT64_MIN, INT64_MAX, &m->kernel_tcp)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "swappiness", 100, &m->swappiness)) < 0 ||
	    (r = jw_key_bool(w, v, "disableOOMKiller", &m->disable_oom_killer, &m->has_disable_oom_killer)) < 0 ||
	    (r = jw_key_bool(w, v, "useHierarchy", &m->use_hierarchy, &m->has_use_hierarchy)) < 0 ||
	    (r = jw_key_bool(w, v, "checkBeforeUpdate", &m->check_before_update, NULL)) < 0)
		return r;
	return 0;
}

static int parse_cpu(struct jw *w, yajl_val v, struct oci_cpu *c)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_opt_u64(w, v, "shares", UINT64_MAX, &c->shares)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "quota", INT64_MIN, INT64_MAX, &c->quota)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "burst", UINT64_MAX, &c->burst)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "period", UINT64_MAX, &c->period)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "realtimeRuntime", INT64_MIN, INT64_MAX, &c->realtime_runtime)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "realtimePeriod", UINT64_MAX, &c->realtime_period)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "idle", INT64_MIN, INT64_MAX, &c->idle)) < 0 ||
	    (r = jw_key_str(w, v, "cpus", false, &c->cpus)) < 0 ||
	    (r = jw_key_str(w, v, "mems", false, &c->mems)) < 0)
		return r;
	return 0;
}

static int parse_weight_device(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_weight_device *d = elem;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_i64(w, v, "major", true, INT64_MIN, INT64_MAX, &d->major)) < 0 ||
	    (r = jw_key_i64(w, v, "minor", true, INT64_MIN, INT64_MAX, &d->minor)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "weight", UINT16_MAX, &d->weight)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "leafWeight", UINT16_MAX, &d->leaf_weight)) < 0)
		return r;
	if (!d->weight.set && !d->leaf_weight.set)
		return jw_fail(w, "needs weight or leafWeight (at least one)");
	return 0;
}

static int parse_throttle_device(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_throttle_device *d = elem;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_i64(w, v, "major", true, INT64_MIN, INT64_MAX, &d->major)) < 0 ||
	    (r = jw_key_i64(w, v, "minor", true, INT64_MIN, INT64_MAX, &d->minor)) < 0 ||
	    (r = jw_key_u64(w, v, "rate", false, UINT64_MAX, &d->rate)) < 0)
		return r;
	return 0;
}

static int parse_blkio(struct jw *w, yajl_val v, struct oci_blkio *b)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_opt_u64(w, v, "weight", UINT16_MAX, &b->weight)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "leafWeight", UINT16_MAX, &b->leaf_weight)) < 0 ||
	    (r = jw_key_array(w, v, "weightDevice", sizeof(*b->weight_device), (void **)&b->weight_device,
			      &b->n_weight_device, parse_weight_device, NULL)) < 0 ||
	    (r = jw_key_array(w, v, "throttleReadBpsDevice", sizeof(*b->throttle_read_bps),
			      (void **)&b->throttle_read_bps, &b->n_throttle_read_bps, parse_throttle_device, NULL)) < 0 ||
	    (r = jw_key_array(w, v, "throttleWriteBpsDevice", sizeof(*b->throttle_write_bps),
			      (void **)&b->throttle_write_bps, &b->n_throttle_write_bps, parse_throttle_device, NULL)) < 0 ||
	    (r = jw_key_array(w, v, "throttleReadIOPSDevice", sizeof(*b->throttle_read_iops),
			      (void **)&b->throttle_read_iops, &b->n_throttle_read_iops, parse_throttle_device, NULL)) < 0 ||
	    (r = jw_key_array(w, v, "throttleWriteIOPSDevice", sizeof(*b->throttle_write_iops),
			      (void **)&b->throttle_write_iops, &b->n_throttle_write_iops, parse_throttle_device, NULL)) < 0)
		return r;
	return 0;
}

/* "2MB", "1GB", "64KB": what the kernel's hugetlb.<size>.* file names use */
static bool valid_page_size(const char *s)
{
	if (*s < '1' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	return (s[0] == 'K' || s[0] == 'M' || s[0] == 'G') && s[1] == 'B' && s[2] == '\0';
}

static int parse_hugepage(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_hugepage_limit *h = elem;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "pageSize", true, &h->page_size)) < 0 ||
	    (r = jw_key_u64(w, v, "limit", true, UINT64_MAX, &h->limit)) < 0)
		return r;
	if (!valid_page_size(h->page_size))
		return fail_at_key(w, "pageSize", "must look like 2MB, 1GB or 64KB; got", h->page_size);
	return 0;
}

static int parse_net_priority(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_net_priority *p = elem;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "name", true, &p->name)) < 0 ||
	    (r = jw_key_u32(w, v, "priority", true, &p->priority)) < 0)
		return r;
	return 0;
}

static int parse_network(struct jw *w, yajl_val v, struct oci_resources *res)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "classID", UINT32_MAX, &res->net_class_id)) < 0 ||
	    (r = jw_key_array(w, v, "priorities", sizeof(*res->net_priorities), (void **)&res->net_priorities,
			      &res->n_net_priorities, parse_net_priority, NULL)) < 0)
		return r;
	res->has_network = true;
	return 0;
}

static int parse_rdma(struct jw *w, const char *key, yajl_val v, void *elem, void *ctx)
{
	struct oci_rdma_limit *rd = elem;
	int r;

	if ((r = jw_want_object(w, v)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "hcaHandles", UINT32_MAX, &rd->hca_handles)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "hcaObjects", UINT32_MAX, &rd->hca_objects)) < 0)
		return r;
	if (!rd->hca_handles.set && !rd->hca_objects.set)
		return jw_fail(w, "needs hcaHandles or hcaObjects (at least one)");
	rd->device = strdup(key);
	if (!rd->device)
		return hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
	return 0;
}

static int parse_pids(struct jw *w, yajl_val v, struct oci_resources *res)
{
	int r;

	/* The schema requires "limit", but Go clients built against spec 1.2+
	 * (pointer field, omitempty) may leave it out: treat as "no limit". */
	if ((r = jw_want_object(w, v)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "limit", INT64_MIN, INT64_MAX, &res->pids_limit)) < 0)
		return r;
	res->has_pids = true;
	return 0;
}

static int parse_resources(struct jw *w, yajl_val v, struct oci_resources *res)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0)
		return r;
	res->present = true;
	if ((r = jw_key_array(w, v, "devices", sizeof(*res->devices), (void **)&res->devices, &res->n_devices,
			      parse_device_rule, NULL)) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "memory", parse_memory(w, v_, &res->memory))) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "cpu", parse_cpu(w, v_, &res->cpu))) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "pids", parse_pids(w, v_, res))) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "blockIO", parse_blkio(w, v_, &res->blkio))) < 0 ||
	    (r = jw_key_array(w, v, "hugepageLimits", sizeof(*res->hugepage_limits), (void **)&res->hugepage_limits,
			      &res->n_hugepage_limits, parse_hugepage, NULL)) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "network", parse_network(w, v_, res))) < 0 ||
	    (r = jw_key_object_map(w, v, "rdma", sizeof(*res->rdma), (void **)&res->rdma, &res->n_rdma, parse_rdma,
				   NULL)) < 0 ||
	    (r = jw_key_str_map(w, v, "unified", &res->unified, &res->n_unified)) < 0)
		return r;
	res->has_memory = jw_member(v, "memory") != NULL;
	res->has_cpu = jw_member(v, "cpu") != NULL;
	res->has_blkio = jw_member(v, "blockIO") != NULL;
	return 0;
}

/* ---- seccomp ------------------------------------------------------------- */

const struct oci_name_value oci_seccomp_actions[] = {
	{ "SCMP_ACT_KILL", OCI_SCMP_ACT_KILL },	  { "SCMP_ACT_KILL_PROCESS", OCI_SCMP_ACT_KILL_PROCESS },
	{ "SCMP_ACT_KILL_THREAD", OCI_SCMP_ACT_KILL_THREAD }, { "SCMP_ACT_TRAP", OCI_SCMP_ACT_TRAP },
	{ "SCMP_ACT_ERRNO", OCI_SCMP_ACT_ERRNO },	  { "SCMP_ACT_TRACE", OCI_SCMP_ACT_TRACE },
	{ "SCMP_ACT_ALLOW", OCI_SCMP_ACT_ALLOW },	  { "SCMP_ACT_LOG", OCI_SCMP_ACT_LOG },
	{ "SCMP_ACT_NOTIFY", OCI_SCMP_ACT_NOTIFY },
};
const size_t oci_n_seccomp_actions = ARRAY_SIZE(oci_seccomp_actions);

const struct oci_name_value oci_seccomp_ops[] = {
	{ "SCMP_CMP_NE", OCI_SCMP_CMP_NE }, { "SCMP_CMP_LT", OCI_SCMP_CMP_LT },
	{ "SCMP_CMP_LE", OCI_SCMP_CMP_LE }, { "SCMP_CMP_EQ", OCI_SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", OCI_SCMP_CMP_GE }, { "SCMP_CMP_GT", OCI_SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", OCI_SCMP_CMP_MASKED_EQ },
};
const size_t oci_n_seccomp_ops = ARRAY_SIZE(oci_seccomp_ops);

const char *const oci_seccomp_archs[] = {
	"SCMP_ARCH_X86",	 "SCMP_ARCH_X86_64",	 "SCMP_ARCH_X32",	   "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64",	 "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",	   "SCMP_ARCH_MIPS",
	"SCMP_ARCH_MIPS64",	 "SCMP_ARCH_MIPS64N32",	 "SCMP_ARCH_MIPSEL",	   "SCMP_ARCH_MIPSEL64",
	"SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",	 "SCMP_ARCH_PPC64",	   "SCMP_ARCH_PPC64LE",
	"SCMP_ARCH_S390",	 "SCMP_ARCH_S390X",	 "SCMP_ARCH_SH",	   "SCMP_ARCH_SHEB",
	"SCMP_ARCH_PARISC",	 "SCMP_ARCH_PARISC64",	 "SCMP_ARCH_RISCV64",
};
const size_t oci_n_seccomp_archs = ARRAY_SIZE(oci_seccomp_archs);

const char *const oci_seccomp_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC",
	"SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};
const size_t oci_n_seccomp_flags = ARRAY_SIZE(oci_seccomp_flags);

static int seccomp_action(struct jw *w, yajl_val obj, const char *key, enum oci_seccomp_action *out)
{
	_cleanup_free_ char *name = NULL;
	int r, a;

	if ((r = jw_key_str(w, obj, key, true, &name)) < 0)
		return r;
	a = lookup(oci_seccomp_actions, ARRAY_SIZE(oci_seccomp_actions), name);
	if (a < 0)
		return fail_at_key(w, key, "unknown seccomp action", name);
	*out = (enum oci_seccomp_action)a;
	return 0;
}

/* Only ERRNO and TRACE carry a return code (config-linux.md: "When the action
 * doesn't support an errno, the runtime MUST print an error and fail"). */
static int check_errno_ret(struct jw *w, const char *key, enum oci_seccomp_action a, const struct opt_u64 *ret)
{
	if (!ret->set || a == OCI_SCMP_ACT_ERRNO || a == OCI_SCMP_ACT_TRACE)
		return 0;
	return fail_at_key(w, key, "is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE", NULL);
}

static int parse_seccomp_arg(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_seccomp_arg *a = elem;
	_cleanup_free_ char *op = NULL;
	int r, o;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_u32(w, v, "index", true, &a->index)) < 0 ||
	    (r = jw_key_u64(w, v, "value", true, UINT64_MAX, &a->value)) < 0 ||
	    (r = jw_key_u64(w, v, "valueTwo", false, UINT64_MAX, &a->value_two)) < 0 ||
	    (r = jw_key_str(w, v, "op", true, &op)) < 0)
		return r;
	/* system calls take at most six arguments */
	if (a->index > 5)
		return fail_at_key(w, "index", "must be in [0, 5]", NULL);
	o = lookup(oci_seccomp_ops, ARRAY_SIZE(oci_seccomp_ops), op);
	if (o < 0)
		return fail_at_key(w, "op", "unknown seccomp operator", op);
	a->op = (enum oci_seccomp_op)o;
	return 0;
}

static int parse_syscall(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_seccomp_syscall *s = elem;
	int r;

	if ((r = jw_want_object(w, v)) < 0)
		return r;
	if (!jw_member(v, "names"))
		return fail_at_key(w, "names", "is required", NULL);
	if ((r = jw_key_str_array(w, v, "names", &s->names, &s->n_names)) < 0 ||
	    (r = seccomp_action(w, v, "action", &s->action)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "errnoRet", UINT32_MAX, &s->errno_ret)) < 0 ||
	    (r = jw_key_array(w, v, "args", sizeof(*s->args), (void **)&s->args, &s->n_args, parse_seccomp_arg,
			      NULL)) < 0)
		return r;
	if (s->n_names == 0)
		return fail_at_key(w, "names", "must be a non-empty array", NULL);
	return check_errno_ret(w, "errnoRet", s->action, &s->errno_ret);
}

static int parse_seccomp(struct jw *w, yajl_val v, struct oci_seccomp *sc)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0)
		return r;
	sc->present = true;
	if ((r = seccomp_action(w, v, "defaultAction", &sc->default_action)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "defaultErrnoRet", UINT32_MAX, &sc->default_errno_ret)) < 0 ||
	    (r = check_errno_ret(w, "defaultErrnoRet", sc->default_action, &sc->default_errno_ret)) < 0 ||
	    (r = jw_key_str_array(w, v, "architectures", &sc->architectures, &sc->n_architectures)) < 0 ||
	    (r = jw_key_str_array(w, v, "flags", &sc->flags, &sc->n_flags)) < 0 ||
	    (r = jw_key_str(w, v, "listenerPath", false, &sc->listener_path)) < 0 ||
	    (r = jw_key_str(w, v, "listenerMetadata", false, &sc->listener_metadata)) < 0 ||
	    (r = jw_key_array(w, v, "syscalls", sizeof(*sc->syscalls), (void **)&sc->syscalls, &sc->n_syscalls,
			      parse_syscall, NULL)) < 0)
		return r;
	/* the metadata is for the listener; without one it would go nowhere */
	if (sc->listener_metadata && !sc->listener_path)
		return fail_at_key(w, "listenerMetadata", "must not be set without listenerPath", NULL);
	for (size_t i = 0; i < sc->n_architectures; i++)
		if (!in_list(sc->architectures[i], oci_seccomp_archs, ARRAY_SIZE(oci_seccomp_archs)))
			return fail_at_index(w, "architectures", i, "unknown seccomp architecture",
					     sc->architectures[i]);
	for (size_t i = 0; i < sc->n_flags; i++)
		if (!in_list(sc->flags[i], oci_seccomp_flags, ARRAY_SIZE(oci_seccomp_flags)))
			return fail_at_index(w, "flags", i, "unknown seccomp flag", sc->flags[i]);
	return 0;
}

/* ---- the rest ------------------------------------------------------------ */

static int parse_personality(struct jw *w, yajl_val v, struct oci_personality *p)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "domain", true, &p->domain)) < 0 ||
	    (r = jw_key_str_array(w, v, "flags", &p->flags, &p->n_flags)) < 0)
		return r;
	p->present = true;
	if (strcmp(p->domain, "LINUX") != 0 && strcmp(p->domain, "LINUX32") != 0)
		return fail_at_key(w, "domain", "unknown personality domain", p->domain);
	return 0;
}

static int parse_time_offset(struct jw *w, yajl_val v, struct oci_time_offset *t, bool *has)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_i64(w, v, "secs", false, INT64_MIN, INT64_MAX, &t->secs)) < 0 ||
	    (r = jw_key_u32(w, v, "nanosecs", false, &t->nanosecs)) < 0)
		return r;
	if (t->nanosecs >= 1000000000u)
		return fail_at_key(w, "nanosecs", "must be below 1000000000", NULL);
	*has = true;
	return 0;
}

static int parse_time_offsets(struct jw *w, yajl_val v, struct oci_linux *l)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "monotonic",
			     parse_time_offset(w, v_, &l->monotonic_offset, &l->has_monotonic_offset))) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "boottime",
			     parse_time_offset(w, v_, &l->boottime_offset, &l->has_boottime_offset))) < 0)
		return r;
	l->has_time_offsets = true;
	return 0;
}

/* dev_valid_name() in the kernel, plus "%d" templates for the new name */
static bool valid_ifname(const char *s)
{
	if (!*s || strlen(s) >= 16 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s == ' ' || (*s >= '\t' && *s <= '\r'))
			return false;
	return true;
}

static int parse_net_device(struct jw *w, const char *key, yajl_val v, void *elem, void *ctx)
{
	struct oci_kv *kv = elem;
	char q[96];
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "name", false, &kv->value)) < 0)
		return r;
	if (!valid_ifname(key))
		return jw_fail(w, "invalid network device name %s", jw_quote(q, sizeof(q), key));
	kv->key = strdup(key);
	if (!kv->value)
		kv->value = strdup(key);
	if (!kv->key || !kv->value)
		return hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
	if (!valid_ifname(kv->value))
		return fail_at_key(w, "name", "invalid network device name", kv->value);
	return 0;
}

/* config-linux.md IntelRdt.  closID names a directory under the resctrl
 * mount, so it must be one path component ("/" alone: the root group). */
static int parse_intel_rdt(struct jw *w, yajl_val v, struct oci_intel_rdt *rdt)
{
	const char *c;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "closID", false, &rdt->clos_id)) < 0 ||
	    (r = jw_key_str(w, v, "l3CacheSchema", false, &rdt->l3_cache_schema)) < 0 ||
	    (r = jw_key_str(w, v, "memBwSchema", false, &rdt->mem_bw_schema)) < 0 ||
	    (r = jw_key_str_array(w, v, "schemata", &rdt->schemata, &rdt->n_schemata)) < 0 ||
	    (r = jw_key_bool(w, v, "enableMonitoring", &rdt->enable_monitoring, NULL)) < 0)
		return r;
	c = rdt->clos_id;
	if (c && strcmp(c, "/") != 0 &&
	    (!c[0] || strcmp(c, ".") == 0 || strcmp(c, "..") == 0 || strpbrk(c, "/\n")))
		return fail_at_key(w, "closID", "must be \"/\" or one directory name, got", c);
	/* a newline would smuggle a line of its own into the schemata file */
	if (rdt->mem_bw_schema && (strncmp(rdt->mem_bw_schema, "MB:", 3) != 0 || strchr(rdt->mem_bw_schema, '\n')))
		return fail_at_key(w, "memBwSchema", "must start with \"MB:\" and hold no newline, got",
				   rdt->mem_bw_schema);
	if (rdt->l3_cache_schema && strchr(rdt->l3_cache_schema, '\n'))
		return fail_at_key(w, "l3CacheSchema", "must not contain a newline, got", rdt->l3_cache_schema);
	for (size_t i = 0; i < rdt->n_schemata; i++)
		if (strchr(rdt->schemata[i], '\n'))
			return fail_at_index(w, "schemata", i, "must not contain a newline, got", rdt->schemata[i]);
	return 0;
}

const struct oci_name_value oci_mpol_modes[] = {
	{ "MPOL_DEFAULT", 0 },	       { "MPOL_PREFERRED", 1 },	     { "MPOL_BIND", 2 },
	{ "MPOL_INTERLEAVE", 3 },      { "MPOL_LOCAL", 4 },	     { "MPOL_PREFERRED_MANY", 5 },
	{ "MPOL_WEIGHTED_INTERLEAVE", 6 },
};
const size_t oci_n_mpol_modes = ARRAY_SIZE(oci_mpol_modes);

const char *const oci_mpol_flags[] = {
	"MPOL_F_NUMA_BALANCING",
	"MPOL_F_RELATIVE_NODES",
	"MPOL_F_STATIC_NODES",
};
const size_t oci_n_mpol_flags = ARRAY_SIZE(oci_mpol_flags);

static int parse_memory_policy(struct jw *w, yajl_val v, struct oci_memory_policy *mp)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "mode", true, &mp->mode)) < 0 ||
	    (r = jw_key_str(w, v, "nodes", false, &mp->nodes)) < 0 ||
	    (r = jw_key_str_array(w, v, "flags", &mp->flags, &mp->n_flags)) < 0)
		return r;
	mp->present = true;
	mp->mode_value = lookup(oci_mpol_modes, ARRAY_SIZE(oci_mpol_modes), mp->mode);
	if (mp->mode_value < 0)
		return fail_at_key(w, "mode", "unknown memory policy mode", mp->mode);
	for (size_t i = 0; i < mp->n_flags; i++)
		if (!in_list(mp->flags[i], oci_mpol_flags, ARRAY_SIZE(oci_mpol_flags)))
			return fail_at_index(w, "flags", i, "unknown memory policy flag", mp->flags[i]);
	return 0;
}

static int check_abs_paths(struct jw *w, const char *key, char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!oci_path_is_absolute(paths[i]))
			return fail_at_index(w, key, i, "must be an absolute path, got", paths[i]);
	return 0;
}

static const char *const propagations[] = {
	"private", "shared", "slave", "unbindable",
	/* runc and crun take the recursive spellings too, and clients send them */
	"rprivate", "rshared", "rslave", "runbindable",
};

int oci_parse_linux_obj(struct jw *w, yajl_val v, struct oci_linux *l)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0)
		return r;
	if ((r = parse_namespaces(w, v, l)) < 0 ||
	    (r = oci_parse_idmaps(w, v, "uidMappings", &l->uid_mappings, &l->n_uid_mappings)) < 0 ||
	    (r = oci_parse_idmaps(w, v, "gidMappings", &l->gid_mappings, &l->n_gid_mappings)) < 0 ||
	    (r = jw_key_array(w, v, "devices", sizeof(*l->devices), (void **)&l->devices, &l->n_devices, parse_device,
			      NULL)) < 0 ||
	    (r = jw_key_str(w, v, "cgroupsPath", false, &l->cgroups_path)) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "resources", parse_resources(w, v_, &l->resources))) < 0 ||
	    (r = jw_key_str_map(w, v, "sysctl", &l->sysctl, &l->n_sysctl)) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "seccomp", parse_seccomp(w, v_, &l->seccomp))) < 0 ||
	    (r = jw_key_str(w, v, "rootfsPropagation", false, &l->rootfs_propagation)) < 0 ||
	    (r = jw_key_str_array(w, v, "maskedPaths", &l->masked_paths, &l->n_masked_paths)) < 0 ||
	    (r = jw_key_str_array(w, v, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths)) < 0 ||
	    (r = jw_key_str(w, v, "mountLabel", false, &l->mount_label)) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "personality", parse_personality(w, v_, &l->personality))) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "timeOffsets", parse_time_offsets(w, v_, l))) < 0 ||
	    (r = jw_key_object_map(w, v, "netDevices", sizeof(*l->net_devices), (void **)&l->net_devices,
				   &l->n_net_devices, parse_net_device, NULL)) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "memoryPolicy", parse_memory_policy(w, v_, &l->memory_policy))) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "intelRdt", parse_intel_rdt(w, v_, &l->intel_rdt))) < 0)
		return r;
	l->has_intel_rdt = jw_member(v, "intelRdt") != NULL;
	if (l->rootfs_propagation && !l->rootfs_propagation[0]) {
		free(l->rootfs_propagation);
		l->rootfs_propagation = NULL;
	}
	if (l->rootfs_propagation && !in_list(l->rootfs_propagation, propagations, ARRAY_SIZE(propagations)))
		return fail_at_key(w, "rootfsPropagation", "unknown propagation", l->rootfs_propagation);
	if ((r = check_abs_paths(w, "maskedPaths", l->masked_paths, l->n_masked_paths)) < 0 ||
	    (r = check_abs_paths(w, "readonlyPaths", l->readonly_paths, l->n_readonly_paths)) < 0)
		return r;
	return 0;
}

static void free_blkio(struct oci_blkio *b)
{
	free(b->weight_device);
	free(b->throttle_read_bps);
	free(b->throttle_write_bps);
	free(b->throttle_read_iops);
	free(b->throttle_write_iops);
}

void oci_linux_clear(struct oci_linux *l)
{
	struct oci_resources *res = &l->resources;

	for (size_t i = 0; l->namespaces && i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; l->devices && i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);

	for (size_t i = 0; res->devices && i < res->n_devices; i++)
		free(res->devices[i].access);
	free(res->devices);
	free(res->cpu.cpus);
	free(res->cpu.mems);
	free_blkio(&res->blkio);
	for (size_t i = 0; res->hugepage_limits && i < res->n_hugepage_limits; i++)
		free(res->hugepage_limits[i].page_size);
	free(res->hugepage_limits);
	for (size_t i = 0; res->net_priorities && i < res->n_net_priorities; i++)
		free(res->net_priorities[i].name);
	free(res->net_priorities);
	for (size_t i = 0; res->rdma && i < res->n_rdma; i++)
		free(res->rdma[i].device);
	free(res->rdma);
	jw_free_kv(res->unified, res->n_unified);

	jw_free_kv(l->sysctl, l->n_sysctl);
	jw_free_strv(l->seccomp.architectures, l->seccomp.n_architectures);
	jw_free_strv(l->seccomp.flags, l->seccomp.n_flags);
	free(l->seccomp.listener_path);
	free(l->seccomp.listener_metadata);
	for (size_t i = 0; l->seccomp.syscalls && i < l->seccomp.n_syscalls; i++) {
		jw_free_strv(l->seccomp.syscalls[i].names, l->seccomp.syscalls[i].n_names);
		free(l->seccomp.syscalls[i].args);
	}
	free(l->seccomp.syscalls);
	free(l->rootfs_propagation);
	jw_free_strv(l->masked_paths, l->n_masked_paths);
	jw_free_strv(l->readonly_paths, l->n_readonly_paths);
	free(l->mount_label);
	free(l->personality.domain);
	jw_free_strv(l->personality.flags, l->personality.n_flags);
	jw_free_kv(l->net_devices, l->n_net_devices);
	free(l->intel_rdt.clos_id);
	free(l->intel_rdt.l3_cache_schema);
	free(l->intel_rdt.mem_bw_schema);
	jw_free_strv(l->intel_rdt.schemata, l->intel_rdt.n_schemata);
	free(l->memory_policy.mode);
	free(l->memory_policy.nodes);
	jw_free_strv(l->memory_policy.flags, l->memory_policy.n_flags);
	memset(l, 0, sizeof(*l));
}
