/* v1.c — apply linux.resources to controllers mounted as v1 hierarchies.
 * Resources whose controller lives in the unified tree (hybrid) are left to
 * v2.c; values v1 cannot express are refused or warned about, never
 * silently dropped. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/internal.h"
#include "lib/cleanup.h"
#include "lib/log.h"

static struct cg_hier *v1(struct hull_cgroup *cg, enum cg_ctrl c)
{
	struct cg_hier *h = cg_hier_for(cg, c);
	return h && !h->v2 ? h : NULL;
}

static int wr_i64(struct cg_hier *h, const char *file, int64_t v, struct hull_err *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cg_write(h->dir, file, buf, err);
}

static int wr_u64(struct cg_hier *h, const char *file, uint64_t v, struct hull_err *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cg_write(h->dir, file, buf, err);
}

/* Kernel memory limits are gone from current kernels (or are no-ops): keep
 * accepting the field, say that it has no effect. */
static void write_or_warn(struct cg_hier *h, const char *file, int64_t v, const char *field)
{
	struct hull_err e = { 0 };

	if (!cg_exists(h->dir, file)) {
		hull_warn("%s: this kernel has no %s; the value is ignored", field, file);
		return;
	}
	if (wr_i64(h, file, v, &e) < 0)
		hull_warn("%s: %s; the value is ignored", field, e.msg);
}

static int memory_v1(struct cg_hier *h, const struct oci_memory *m, bool update, struct hull_err *err)
{
	int64_t limit = m->limit.set ? m->limit.v : 0;
	int64_t swap = m->swap.set ? m->swap.v : 0;
	bool have_memsw = cg_exists(h->dir, "memory.memsw.limit_in_bytes");
	int ret = 0;

	if (update && m->check_before_update && limit > 0) {
		uint64_t usage;
		if (cg_read_u64(h->dir, "memory.usage_in_bytes", &usage, err) < 0)
			return -err->code;
		if (usage > (uint64_t)limit)
			return hull_errf(err, EBUSY, ".linux.resources.memory.limit: %" PRId64
					 " is below the current usage %" PRIu64 " (checkBeforeUpdate)", limit, usage);
	}
	/* "unlimited memory" without a swap value means unlimited swap too */
	if (limit == -1 && swap == 0 && have_memsw)
		swap = -1;
	if (swap != 0 && !have_memsw) {
		if (swap != -1)
			return hull_errf(err, ENOTSUP, ".linux.resources.memory.swap: swap accounting is "
					 "not enabled (no memory.memsw.limit_in_bytes)");
		swap = 0;
	}
	if (limit != 0 && swap != 0) {
		/* the kernel keeps limit <= memsw at every step: raise memsw
		 * first when growing, lower the limit first when shrinking */
		uint64_t cur = 0;
		if (cg_read_u64(h->dir, "memory.limit_in_bytes", &cur, err) < 0)
			return -err->code;
		if (swap == -1 || cur < (uint64_t)swap) {
			ret = wr_i64(h, "memory.memsw.limit_in_bytes", swap, err);
			if (ret == 0)
				ret = wr_i64(h, "memory.limit_in_bytes", limit, err);
		} else {
			ret = wr_i64(h, "memory.limit_in_bytes", limit, err);
			if (ret == 0)
				ret = wr_i64(h, "memory.memsw.limit_in_bytes", swap, err);
		}
	} else if (limit != 0) {
		ret = wr_i64(h, "memory.limit_in_bytes", limit, err);
		if (ret == -EINVAL && have_memsw) {
			uint64_t memsw = 0;
			struct hull_err e2 = { 0 };
			if (cg_read_u64(h->dir, "memory.memsw.limit_in_bytes", &memsw, &e2) == 0 &&
			    limit > 0 && (uint64_t)limit > memsw)
				return hull_errf(err, EINVAL, ".linux.resources.memory.limit: %" PRId64 " is above the "
						 "memory+swap limit %" PRIu64 "; set the swap limit too", limit, memsw);
		}
	} else if (swap != 0) {
		ret = wr_i64(h, "memory.memsw.limit_in_bytes", swap, err);
	}
	if (ret < 0)
		return ret;
	if (m->reservation.set && wr_i64(h, "memory.soft_limit_in_bytes", m->reservation.v, err) < 0)
		return -err->code;
	if (m->kernel.set)
		write_or_warn(h, "memory.kmem.limit_in_bytes", m->kernel.v, ".linux.resources.memory.kernel");
	if (m->kernel_tcp.set)
		write_or_warn(h, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp.v,
			      ".linux.resources.memory.kernelTCP");
	if (m->swappiness.set && m->swappiness.v != UINT64_MAX) {
		if (m->swappiness.v > 100)
			return hull_errf(err, EINVAL, ".linux.resources.memory.swappiness: %" PRIu64
					 " is not in 0..100", m->swappiness.v);
		if (wr_u64(h, "memory.swappiness", m->swappiness.v, err) < 0)
			return -err->code;
	}
	if (m->has_disable_oom_killer && (m->disable_oom_killer || update) &&
	    cg_write(h->dir, "memory.oom_control", m->disable_oom_killer ? "1" : "0", err) < 0)
		return -err->code;
	if (m->has_use_hierarchy) {
		struct hull_err e = { 0 };
		if (cg_write(h->dir, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0", &e) < 0)
			hull_warn(".linux.resources.memory.useHierarchy: %s", e.msg);
	}
	return 0;
}

static int cpu_v1(struct cg_hier *h, const struct oci_cpu *c, struct hull_err *err)
{
	bool quota_done = false;

	if (c->shares.set && c->shares.v && wr_u64(h, "cpu.shares", c->shares.v, err) < 0)
		return -err->code;
	if (c->period.set && c->period.v) {
		if (wr_u64(h, "cpu.cfs_period_us", c->period.v, err) < 0) {
			/* a shorter period can conflict with the old quota */
			if (err->code != EINVAL || !c->quota.set)
				return -err->code;
			hull_err_clear(err);
			if (wr_i64(h, "cpu.cfs_quota_us", c->quota.v, err) < 0 ||
			    wr_u64(h, "cpu.cfs_period_us", c->period.v, err) < 0)
				return -err->code;
			quota_done = true;
		}
	}
	if (c->quota.set && c->quota.v && !quota_done &&
	    wr_i64(h, "cpu.cfs_quota_us", c->quota.v, err) < 0)
		return -err->code;
	if (c->burst.set) {
		if (!cg_exists(h->dir, "cpu.cfs_burst_us"))
			return hull_errf(err, ENOTSUP, ".linux.resources.cpu.burst: this kernel has no cpu.cfs_burst_us");
		if (wr_u64(h, "cpu.cfs_burst_us", c->burst.v, err) < 0)
			return -err->code;
	}
	if (c->realtime_period.set && c->realtime_period.v &&
	    wr_u64(h, "cpu.rt_period_us", c->realtime_period.v, err) < 0)
		return -err->code;
	if (c->realtime_runtime.set && c->realtime_runtime.v &&
	    wr_i64(h, "cpu.rt_runtime_us", c->realtime_runtime.v, err) < 0)
		return -err->code;
	if (c->idle.set) {
		if (!cg_exists(h->dir, "cpu.idle"))
			return hull_errf(err, ENOTSUP, ".linux.resources.cpu.idle: this kernel has no cpu.idle");
		if (wr_i64(h, "cpu.idle", c->idle.v, err) < 0)
			return -err->code;
	}
	return 0;
}

static int cpuset_v1(struct cg_hier *h, const struct oci_cpu *c, struct hull_err *err)
{
	if (c->cpus && *c->cpus && cg_write(h->dir, "cpuset.cpus", c->cpus, err) < 0)
		return -err->code;
	if (c->mems && *c->mems && cg_write(h->dir, "cpuset.mems", c->mems, err) < 0)
		return -err->code;
	return 0;
}

static int throttle(struct cg_hier *h, const char *file, const struct oci_throttle_device *t, size_t n,
		    struct hull_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char buf[96];
		snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major, t[i].minor, t[i].rate);
		if (cg_write(h->dir, file, buf, err) < 0)
			return -err->code;
	}
	return 0;
}

static int blkio_v1(struct cg_hier *h, const struct oci_blkio *b, struct hull_err *err)
{
	/* CFQ is gone from current kernels; BFQ offers the same knob */
	const char *wfile = cg_exists(h->dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
	const char *wdfile = cg_exists(h->dir, "blkio.weight_device") ? "blkio.weight_device"
								     : "blkio.bfq.weight_device";

	if (b->weight.set && b->weight.v) {
		if (!cg_exists(h->dir, wfile))
			return hull_errf(err, ENOTSUP, ".linux.resources.blockIO.weight: no blkio.weight or "
					 "blkio.bfq.weight (no proportional I/O scheduler)");
		if (wr_u64(h, wfile, b->weight.v, err) < 0)
			return -err->code;
	}
	if (b->leaf_weight.set && b->leaf_weight.v) {
		if (!cg_exists(h->dir, "blkio.leaf_weight"))
			hull_warn(".linux.resources.blockIO.leafWeight: this kernel has no blkio.leaf_weight; ignored");
		else if (wr_u64(h, "blkio.leaf_weight", b->leaf_weight.v, err) < 0)
			return -err->code;
	}
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct oci_weight_device *d = &b->weight_device[i];
		char buf[96];
		if (d->weight.set) {
			if (!cg_exists(h->dir, wdfile))
				return hull_errf(err, ENOTSUP, ".linux.resources.blockIO.weightDevice: no %s", wdfile);
			snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor, d->weight.v);
			if (cg_write(h->dir, wdfile, buf, err) < 0)
				return -err->code;
		}
		if (d->leaf_weight.set) {
			if (!cg_exists(h->dir, "blkio.leaf_weight_device")) {
				hull_warn(".linux.resources.blockIO.weightDevice.leafWeight: not supported; ignored");
				continue;
			}
			snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
				 d->leaf_weight.v);
			if (cg_write(h->dir, "blkio.leaf_weight_device", buf, err) < 0)
				return -err->code;
		}
	}
	if (throttle(h, "blkio.throttle.read_bps_device", b->throttle_read_bps, b->n_throttle_read_bps, err) < 0 ||
	    throttle(h, "blkio.throttle.write_bps_device", b->throttle_write_bps, b->n_throttle_write_bps, err) < 0 ||
	    throttle(h, "blkio.throttle.read_iops_device", b->throttle_read_iops, b->n_throttle_read_iops, err) < 0 ||
	    throttle(h, "blkio.throttle.write_iops_device", b->throttle_write_iops, b->n_throttle_write_iops, err) < 0)
		return -err->code;
	return 0;
}

/* "2MB", "1GB", "64KB": what both hugetlb file names and the spec use. */
static int hugetlb_size_check(const char *ps, struct hull_err *err)
{
	size_t n = 0;

	while (ps[n] >= '0' && ps[n] <= '9')
		n++;
	if (n == 0 || (strcmp(ps + n, "KB") && strcmp(ps + n, "MB") && strcmp(ps + n, "GB")))
		return hull_errf(err, EINVAL, ".linux.resources.hugepageLimits: invalid pageSize `%s`", ps);
	return 0;
}

int cg_hugetlb_apply(struct cg_hier *h, const struct oci_resources *res, struct hull_err *err)
{
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		const struct oci_hugepage_limit *l = &res->hugepage_limits[i];
		char file[64], buf[32];
		if (hugetlb_size_check(l->page_size, err) < 0)
			return -err->code;
		snprintf(file, sizeof(file), h->v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes", l->page_size);
		if (!cg_exists(h->dir, file))
			return hull_errf(err, EINVAL, ".linux.resources.hugepageLimits: page size `%s` is not "
					 "supported by this host", l->page_size);
		snprintf(buf, sizeof(buf), "%" PRIu64, l->limit);
		if (cg_write(h->dir, file, buf, err) < 0)
			return -err->code;
		/* reservations follow the limit so a mapping cannot reserve past it */
		snprintf(file, sizeof(file), h->v2 ? "hugetlb.%s.rsvd.max" : "hugetlb.%s.rsvd.limit_in_bytes",
			 l->page_size);
		if (cg_exists(h->dir, file) && cg_write(h->dir, file, buf, err) < 0)
			return -err->code;
	}
	return 0;
}

int cg_rdma_apply(struct cg_hier *h, const struct oci_resources *res, struct hull_err *err)
{
	for (size_t i = 0; i < res->n_rdma; i++) {
		const struct oci_rdma_limit *r = &res->rdma[i];
		char buf[256], hh[32] = "max", ho[32] = "max";
		if (!r->device || !*r->device || strpbrk(r->device, " \n"))
			return hull_errf(err, EINVAL, ".linux.resources.rdma: invalid device name");
		if (r->hca_handles.set)
			snprintf(hh, sizeof(hh), "%" PRIu64, r->hca_handles.v);
		if (r->hca_objects.set)
			snprintf(ho, sizeof(ho), "%" PRIu64, r->hca_objects.v);
		snprintf(buf, sizeof(buf), "%s hca_handle=%s hca_object=%s", r->device, hh, ho);
		if (cg_write(h->dir, "rdma.max", buf, err) < 0)
			return -err->code;
	}
	return 0;
}

static int network_v1(struct hull_cgroup *cg, const struct oci_resources *res, struct hull_err *err)
{
	struct cg_hier *cls = v1(cg, CG_NET_CLS), *prio = v1(cg, CG_NET_PRIO);

	if (res->net_class_id.set) {
		if (!cls)
			hull_warn(".linux.resources.network.classID: no net_cls hierarchy is mounted; ignored");
		else if (wr_u64(cls, "net_cls.classid", res->net_class_id.v, err) < 0)
			return -err->code;
	}
	for (size_t i = 0; i < res->n_net_priorities; i++) {
		char buf[128];
		const struct oci_net_priority *p = &res->net_priorities[i];
		if (!prio) {
			hull_warn(".linux.resources.network.priorities: no net_prio hierarchy is mounted; ignored");
			break;
		}
		if (!p->name || !*p->name || strpbrk(p->name, " \n/"))
			return hull_errf(err, EINVAL, ".linux.resources.network.priorities: invalid interface name");
		snprintf(buf, sizeof(buf), "%s %" PRIu32, p->name, p->priority);
		if (cg_write(prio->dir, "net_prio.ifpriomap", buf, err) < 0)
			return -err->code;
	}
	return 0;
}

int cg_v1_devices_apply(const char *dir, const struct oci_device_rule *rules, size_t n, struct hull_err *err)
{
	for (size_t i = 0; i < n + cg_n_default_device_rules; i++) {
		const struct oci_device_rule *r = i < n ? &rules[i] : &cg_default_device_rules[i - n];
		char line[96];
		if (cg_device_rule_line(r, line, sizeof(line), err) < 0)
			return -err->code;
		if (cg_write(dir, r->allow ? "devices.allow" : "devices.deny", line, err) < 0)
			return hull_err_wrap(err, ".linux.resources.devices[%zu]", i);
	}
	return 0;
}

int cg_v1_apply(struct hull_cgroup *cg, const struct oci_resources *res, bool update, struct hull_err *err)
{
	struct cg_hier *h;

	if (cg->layout == HULL_CGROUP_V2)
		return 0;
	if (res->has_memory && (h = v1(cg, CG_MEMORY)) && memory_v1(h, &res->memory, update, err) < 0)
		return -err->code;
	if (res->has_cpu && (h = v1(cg, CG_CPU)) && cpu_v1(h, &res->cpu, err) < 0)
		return -err->code;
	if (res->has_cpu && (h = v1(cg, CG_CPUSET)) && cpuset_v1(h, &res->cpu, err) < 0)
		return -err->code;
	if (res->has_pids && res->pids_limit.set && res->pids_limit.v != 0 && (h = v1(cg, CG_PIDS))) {
		char buf[32];
		cg_fmt_limit(buf, sizeof(buf), res->pids_limit.v);
		if (cg_write(h->dir, "pids.max", buf, err) < 0)
			return -err->code;
	}
	if (res->has_blkio && (h = v1(cg, CG_BLKIO)) && blkio_v1(h, &res->blkio, err) < 0)
		return -err->code;
	if (res->n_hugepage_limits && (h = v1(cg, CG_HUGETLB)) && cg_hugetlb_apply(h, res, err) < 0)
		return -err->code;
	if (res->n_rdma && (h = v1(cg, CG_RDMA)) && cg_rdma_apply(h, res, err) < 0)
		return -err->code;
	if (res->has_network && network_v1(cg, res, err) < 0)
		return -err->code;
	if ((h = v1(cg, CG_DEVICES)) && (!update || res->n_devices) &&
	    cg_v1_devices_apply(h->dir, res->devices, res->n_devices, err) < 0)
		return -err->code;
	return 0;
}
