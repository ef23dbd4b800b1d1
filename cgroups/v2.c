/* v2.c — apply linux.resources to the unified tree: everything on a pure v2
 * host, and on hybrid hosts the controllers only cgroup2 offers (hugetlb on
 * the dev host) plus `unified` keys for them.  v1-style values are converted
 * the way runc and crun convert them (convert.c). */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/internal.h"
#include "lib/cleanup.h"
#include "lib/log.h"

static struct cg_hier *v2(struct hull_cgroup *cg, enum cg_ctrl c)
{
	struct cg_hier *h = cg_hier_for(cg, c);
	return h && h->v2 ? h : NULL;
}


static int wrf(struct cg_hier *h, struct hull_err *err, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int wrf(struct cg_hier *h, struct hull_err *err, const char *file, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return cg_write(h->dir, file, buf, err);
}

/* Whether `unified` sets this file itself: then it wins over conversions. */
static bool unified_sets(const struct oci_resources *res, const char *key)
{
	for (size_t i = 0; i < res->n_unified; i++)
		if (!strcmp(res->unified[i].key, key))
			return true;
	return false;
}

static int read_limit(struct cg_hier *h, const char *file, int64_t *out, struct hull_err *err)
{
	uint64_t v;

	if (cg_read_u64(h->dir, file, &v, err) < 0)
		return -err->code;
	*out = v == UINT64_MAX ? -1 : (int64_t)v;
	return 0;
}

static int memory_v2(struct cg_hier *h, const struct oci_memory *m, bool update, struct hull_err *err)
{
	char buf[32];

	if (update && m->check_before_update && m->limit.set && m->limit.v > 0) {
		uint64_t cur;
		if (cg_read_u64(h->dir, "memory.current", &cur, err) < 0)
			return -err->code;
		if (cur > (uint64_t)m->limit.v)
			return hull_errf(err, EBUSY, ".linux.resources.memory.limit: %" PRId64
					 " is below the current usage %" PRIu64 " (checkBeforeUpdate)", m->limit.v, cur);
	}
	if (m->swap.set || (m->limit.set && m->limit.v == -1)) {
		int64_t limit = m->limit.v, swap_max;
		bool limit_set = m->limit.set;
		if (!limit_set && read_limit(h, "memory.max", &limit, err) == 0)
			limit_set = true;
		hull_err_clear(err);
		if (cg_swap_to_v2(m->swap.set ? m->swap.v : 0, limit, limit_set, &swap_max, err) < 0)
			return -err->code;
		/* memory+swap equal to memory: no swap at all, which is 0, not "unset" */
		bool no_swap = swap_max == 0 && m->swap.set && m->swap.v > 0;
		if (swap_max != 0 || no_swap) {
			if (!cg_exists(h->dir, "memory.swap.max")) {
				if (swap_max != -1)
					return hull_errf(err, ENOTSUP, ".linux.resources.memory.swap: swap accounting "
							 "is not enabled (no memory.swap.max)");
			} else {
				cg_fmt_limit(buf, sizeof(buf), swap_max);
				if (cg_write(h->dir, "memory.swap.max", buf, err) < 0)
					return -err->code;
			}
		}
	}
	if (m->limit.set && m->limit.v != 0) {
		cg_fmt_limit(buf, sizeof(buf), m->limit.v);
		if (cg_write(h->dir, "memory.max", buf, err) < 0)
			return -err->code;
	}
	if (m->reservation.set && m->reservation.v != 0) {
		cg_fmt_limit(buf, sizeof(buf), m->reservation.v);
		if (cg_write(h->dir, "memory.low", buf, err) < 0)
			return -err->code;
	}
	if (m->kernel.set)
		hull_warn(".linux.resources.memory.kernel: cgroup v2 has no kernel memory limit; ignored");
	if (m->kernel_tcp.set)
		hull_warn(".linux.resources.memory.kernelTCP: cgroup v2 has no kernel TCP limit; ignored");
	if (m->swappiness.set && m->swappiness.v != UINT64_MAX)
		hull_warn(".linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness; ignored");
	if (m->has_disable_oom_killer && m->disable_oom_killer)
		hull_warn(".linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer; ignored");
	return 0;
}

static int cpu_v2(struct cg_hier *h, const struct oci_resources *res, struct hull_err *err)
{
	const struct oci_cpu *c = &res->cpu;
	char buf[64];

	if ((c->realtime_period.set && c->realtime_period.v) || (c->realtime_runtime.set && c->realtime_runtime.v))
		return hull_errf(err, ENOTSUP, ".linux.resources.cpu.realtimeRuntime: real-time group "
				 "scheduling is not supported by cgroup v2");
	if (c->shares.set && c->shares.v && !unified_sets(res, "cpu.weight") &&
	    wrf(h, err, "cpu.weight", "%" PRIu64, cg_shares_to_weight(c->shares.v)) < 0)
		return -err->code;
	if (cg_fmt_cpu_max(buf, sizeof(buf), &c->quota, &c->period) && !unified_sets(res, "cpu.max") &&
	    cg_write(h->dir, "cpu.max", buf, err) < 0)
		return -err->code;
	if (c->burst.set) {
		if (!cg_exists(h->dir, "cpu.max.burst"))
			return hull_errf(err, ENOTSUP, ".linux.resources.cpu.burst: this kernel has no cpu.max.burst");
		if (wrf(h, err, "cpu.max.burst", "%" PRIu64, c->burst.v) < 0)
			return -err->code;
	}
	if (c->idle.set) {
		if (!cg_exists(h->dir, "cpu.idle"))
			return hull_errf(err, ENOTSUP, ".linux.resources.cpu.idle: this kernel has no cpu.idle");
		if (wrf(h, err, "cpu.idle", "%" PRId64, c->idle.v) < 0)
			return -err->code;
	}
	return 0;
}

static int io_throttle(struct cg_hier *h, const char *key, const struct oci_throttle_device *t, size_t n,
		       struct hull_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (wrf(h, err, "io.max", "%" PRId64 ":%" PRId64 " %s=%" PRIu64, t[i].major, t[i].minor, key,
			t[i].rate) < 0)
			return -err->code;
	return 0;
}

static int io_v2(struct cg_hier *h, const struct oci_blkio *b, struct hull_err *err)
{
	/* With BFQ the weight keeps its v1 range; io.weight needs converting. */
	bool bfq = cg_exists(h->dir, "io.bfq.weight");

	if (b->weight.set && b->weight.v) {
		if (bfq) {
			if (wrf(h, err, "io.bfq.weight", "%" PRIu64, b->weight.v) < 0)
				return -err->code;
		} else if (!cg_exists(h->dir, "io.weight")) {
			return hull_errf(err, ENOTSUP, ".linux.resources.blockIO.weight: no io.weight or "
					 "io.bfq.weight (no proportional I/O scheduler)");
		} else if (wrf(h, err, "io.weight", "default %" PRIu64,
			       cg_blkio_weight_to_io_weight(b->weight.v)) < 0) {
			return -err->code;
		}
	}
	if (b->leaf_weight.set && b->leaf_weight.v)
		hull_warn(".linux.resources.blockIO.leafWeight: not supported by cgroup v2; ignored");
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct oci_weight_device *d = &b->weight_device[i];
		if (!d->weight.set)
			continue;
		if (bfq) {
			if (wrf(h, err, "io.bfq.weight", "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
				d->weight.v) < 0)
				return -err->code;
		} else if (wrf(h, err, "io.weight", "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
			       cg_blkio_weight_to_io_weight(d->weight.v)) < 0) {
			return -err->code;
		}
	}
	if (io_throttle(h, "rbps", b->throttle_read_bps, b->n_throttle_read_bps, err) < 0 ||
	    io_throttle(h, "wbps", b->throttle_write_bps, b->n_throttle_write_bps, err) < 0 ||
	    io_throttle(h, "riops", b->throttle_read_iops, b->n_throttle_read_iops, err) < 0 ||
	    io_throttle(h, "wiops", b->throttle_write_iops, b->n_throttle_write_iops, err) < 0)
		return -err->code;
	return 0;
}

static int unified_v2(struct hull_cgroup *cg, const struct oci_resources *res, struct hull_err *err)
{
	struct cg_hier *u = cg_unified(cg);

	for (size_t i = 0; i < res->n_unified; i++) {
		const struct oci_kv *kv = &res->unified[i];
		const char *dot;
		int c;

		if (cg_unified_key_check(kv->key, err) < 0)
			return -err->code;
		if (!u)
			return hull_errf(err, ENOTSUP, ".linux.resources.unified: this host has no cgroup v2");
		dot = strchr(kv->key, '.');
		c = cg_ctrl_from_name_n(kv->key, (size_t)(dot - kv->key));
		if (strncmp(kv->key, "cgroup.", 7) && (c < 0 || !(u->ctrls & CG_BIT(c))))
			return hull_errf(err, ENOTSUP, ".linux.resources.unified: key `%s`: controller not "
					 "available in the cgroup v2 tree", kv->key);
		if (!cg_exists(u->dir, kv->key))
			return hull_errf(err, ENOENT, ".linux.resources.unified: key `%s`: no such cgroup file",
					 kv->key);
		if (cg_write(u->dir, kv->key, kv->value ? kv->value : "", err) < 0)
			return hull_err_wrap(err, ".linux.resources.unified");
	}
	return 0;
}

int cg_v2_apply(struct hull_cgroup *cg, const struct oci_resources *res, bool update, struct hull_err *err)
{
	struct cg_hier *h;

	if (res->has_memory && (h = v2(cg, CG_MEMORY)) && memory_v2(h, &res->memory, update, err) < 0)
		return -err->code;
	if (res->has_cpu && (h = v2(cg, CG_CPU)) && cpu_v2(h, res, err) < 0)
		return -err->code;
	if (res->has_cpu && (h = v2(cg, CG_CPUSET))) {
		if (res->cpu.cpus && *res->cpu.cpus && cg_write(h->dir, "cpuset.cpus", res->cpu.cpus, err) < 0)
			return -err->code;
		if (res->cpu.mems && *res->cpu.mems && cg_write(h->dir, "cpuset.mems", res->cpu.mems, err) < 0)
			return -err->code;
	}
	if (res->has_pids && res->pids_limit.set && res->pids_limit.v != 0 && (h = v2(cg, CG_PIDS))) {
		char buf[32];
		cg_fmt_limit(buf, sizeof(buf), res->pids_limit.v);
		if (cg_write(h->dir, "pids.max", buf, err) < 0)
			return -err->code;
	}
	if (res->has_blkio && (h = v2(cg, CG_BLKIO)) && io_v2(h, &res->blkio, err) < 0)
		return -err->code;
	if (res->n_hugepage_limits && (h = v2(cg, CG_HUGETLB)) && cg_hugetlb_apply(h, res, err) < 0)
		return -err->code;
	if (res->n_rdma && (h = v2(cg, CG_RDMA)) && cg_rdma_apply(h, res, err) < 0)
		return -err->code;
	if (cg->layout == HULL_CGROUP_V2 && res->has_network &&
	    (res->net_class_id.set || res->n_net_priorities))
		hull_warn(".linux.resources.network: cgroup v2 has no net_cls/net_prio; ignored");
	if (res->n_unified && unified_v2(cg, res, err) < 0)
		return -err->code;
	if (res->n_devices && !cg_hier_for(cg, CG_DEVICES) && cg_unified(cg) &&
	    cg_bpf_devices_apply(cg, res->devices, res->n_devices, err) < 0)
		return hull_err_wrap(err, ".linux.resources.devices");
	return 0;
}
