/* stats.c — cgroup statistics and runc's `events` JSON.  Each figure comes
 * from whichever tree holds its controller (v1 file names or v2 ones); what
 * a host lacks stays zero, as in runc. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/internal.h"
#include "lib/cleanup.h"
#include "lib/json.h"

static uint64_t rd_u64(const char *dir, const char *file)
{
	struct hull_err e = { 0 };
	uint64_t v = 0;

	if (cg_read_u64(dir, file, &v, &e) < 0 || v == UINT64_MAX)
		return 0;
	return v;
}

/* A limit file: "max" or the v1 "unlimited" huge value both mean no limit. */
static uint64_t rd_limit(const char *dir, const char *file)
{
	struct hull_err e = { 0 };
	uint64_t v = 0;

	if (cg_read_u64(dir, file, &v, &e) < 0)
		return 0;
	return v;
}

static char *rd_text(const char *dir, const char *file)
{
	struct hull_err e = { 0 };
	char *s = NULL;

	if (cg_read(dir, file, &s, &e) < 0)
		return NULL;
	return s;
}

static int push_u64(uint64_t **v, size_t *n, uint64_t x)
{
	uint64_t *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = x;
	*v = nv;
	return 0;
}

/* "0-3,7" -> 0 1 2 3 7 */
static int parse_list_u16(const char *s, uint16_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	while (s && *s && *s != '\n') {
		char *e;
		unsigned long a = strtoul(s, &e, 10), b = a;
		if (e == s)
			break;
		if (*e == '-')
			b = strtoul(e + 1, &e, 10);
		for (unsigned long i = a; i <= b && i < 65536 && *n < 65536; i++) {
			uint16_t *nv = realloc(*out, (*n + 1) * sizeof(uint16_t));
			if (!nv)
				return -ENOMEM;
			nv[(*n)++] = (uint16_t)i;
			*out = nv;
		}
		s = *e == ',' ? e + 1 : e;
	}
	return 0;
}

static void cpu_stats(struct hull_cgroup *cg, struct hull_cgroup_stats *st)
{
	struct cg_hier *acct = cg_hier_for(cg, CG_CPUACCT), *cpu = cg_hier_for(cg, CG_CPU);
	struct cg_hier *u = cg_unified(cg);
	_cleanup_free_ char *stat = NULL;
	uint64_t v;

	if (acct && !acct->v2) {
		_cleanup_free_ char *percpu = rd_text(acct->dir, "cpuacct.usage_percpu");
		st->cpu.total = rd_u64(acct->dir, "cpuacct.usage");
		if (cg_exists(acct->dir, "cpuacct.usage_user")) {
			st->cpu.user = rd_u64(acct->dir, "cpuacct.usage_user");
			st->cpu.kernel = rd_u64(acct->dir, "cpuacct.usage_sys");
		} else {
			_cleanup_free_ char *s = rd_text(acct->dir, "cpuacct.stat");
			long hz = sysconf(_SC_CLK_TCK);
			if (hz <= 0)
				hz = 100;
			if (s && cg_kv_get(s, "user", &v))
				st->cpu.user = v * (1000000000ull / (uint64_t)hz);
			if (s && cg_kv_get(s, "system", &v))
				st->cpu.kernel = v * (1000000000ull / (uint64_t)hz);
		}
		for (char *p = percpu; p && *p;) {
			char *e;
			uint64_t x = strtoull(p, &e, 10);
			if (e == p)
				break;
			if (push_u64(&st->cpu.percpu, &st->cpu.n_percpu, x) < 0)
				break;
			p = e;
		}
	} else if (u) {
		/* cpu.stat is a core file in v2: usage exists even without the cpu controller */
		_cleanup_free_ char *s = rd_text(u->dir, "cpu.stat");
		if (s && cg_kv_get(s, "usage_usec", &v))
			st->cpu.total = v * 1000;
		if (s && cg_kv_get(s, "user_usec", &v))
			st->cpu.user = v * 1000;
		if (s && cg_kv_get(s, "system_usec", &v))
			st->cpu.kernel = v * 1000;
	}
	if (cpu && !cpu->v2) {
		stat = rd_text(cpu->dir, "cpu.stat");
		if (stat && cg_kv_get(stat, "throttled_time", &v))
			st->cpu.throttled_time = v;
	} else if (cpu) {
		stat = rd_text(cpu->dir, "cpu.stat");
		if (stat && cg_kv_get(stat, "throttled_usec", &v))
			st->cpu.throttled_time = v * 1000;
	}
	if (stat && cg_kv_get(stat, "nr_periods", &v))
		st->cpu.periods = v;
	if (stat && cg_kv_get(stat, "nr_throttled", &v))
		st->cpu.throttled_periods = v;
}

static void cpuset_stats(struct hull_cgroup *cg, struct hull_cgroup_stats *st)
{
	struct cg_hier *h = cg_hier_for(cg, CG_CPUSET);
	_cleanup_free_ char *cpus = NULL, *mems = NULL;

	if (!h)
		return;
	cpus = rd_text(h->dir, h->v2 ? "cpuset.cpus.effective" : "cpuset.cpus");
	mems = rd_text(h->dir, h->v2 ? "cpuset.mems.effective" : "cpuset.mems");
	parse_list_u16(cpus, &st->cpuset.cpus, &st->cpuset.n_cpus);
	parse_list_u16(mems, &st->cpuset.mems, &st->cpuset.n_mems);
}

static int raw_stats(const char *text, struct hull_cgroup_stats *st)
{
	for (const char *l = text; l && *l;) {
		const char *sp = strchr(l, ' '), *nl = strchr(l, '\n');
		struct hull_cgroup_stat_kv *nv;
		if (!sp || (nl && sp > nl))
			break;
		nv = realloc(st->memory.raw, (st->memory.n_raw + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		st->memory.raw = nv;
		nv[st->memory.n_raw].key = strndup(l, (size_t)(sp - l));
		if (!nv[st->memory.n_raw].key)
			return -ENOMEM;
		nv[st->memory.n_raw++].value = strtoull(sp + 1, NULL, 10);
		l = nl ? nl + 1 : NULL;
	}
	return 0;
}

static void mem_entry_v1(const char *dir, const char *prefix, struct hull_cgroup_mem_entry *e)
{
	char f[96];

	snprintf(f, sizeof(f), "%s.usage_in_bytes", prefix);
	e->usage = rd_u64(dir, f);
	snprintf(f, sizeof(f), "%s.max_usage_in_bytes", prefix);
	e->max = rd_u64(dir, f);
	snprintf(f, sizeof(f), "%s.limit_in_bytes", prefix);
	e->limit = rd_limit(dir, f);
	snprintf(f, sizeof(f), "%s.failcnt", prefix);
	e->failcnt = rd_u64(dir, f);
}

static void memory_stats(struct hull_cgroup *cg, struct hull_cgroup_stats *st)
{
	struct cg_hier *h = cg_hier_for(cg, CG_MEMORY);
	_cleanup_free_ char *raw = NULL, *ev = NULL;
	uint64_t v;

	if (!h)
		return;
	raw = rd_text(h->dir, "memory.stat");
	raw_stats(raw, st);
	if (!h->v2) {
		mem_entry_v1(h->dir, "memory", &st->memory.usage);
		mem_entry_v1(h->dir, "memory.memsw", &st->memory.swap);
		mem_entry_v1(h->dir, "memory.kmem", &st->memory.kernel);
		mem_entry_v1(h->dir, "memory.kmem.tcp", &st->memory.kernel_tcp);
		if (raw && cg_kv_get(raw, "total_cache", &v))
			st->memory.cache = v;
		ev = rd_text(h->dir, "memory.oom_control");
		if (ev && cg_kv_get(ev, "oom_kill", &v))
			st->memory.oom_kill_events = v;
		st->memory.oom_events = st->memory.usage.failcnt;
		return;
	}
	st->memory.usage.usage = rd_u64(h->dir, "memory.current");
	st->memory.usage.limit = rd_limit(h->dir, "memory.max");
	st->memory.usage.max = rd_u64(h->dir, "memory.peak");
	/* runc reports swap as memory+swap on v2 too, for v1 compatibility */
	st->memory.swap.usage = rd_u64(h->dir, "memory.swap.current") + st->memory.usage.usage;
	st->memory.swap.limit = rd_limit(h->dir, "memory.swap.max");
	if (st->memory.swap.limit != UINT64_MAX && st->memory.usage.limit != UINT64_MAX)
		st->memory.swap.limit += st->memory.usage.limit;
	if (raw && cg_kv_get(raw, "file", &v))
		st->memory.cache = v;
	ev = rd_text(h->dir, "memory.events");
	if (ev && cg_kv_get(ev, "max", &v))
		st->memory.usage.failcnt = v;
	if (ev && cg_kv_get(ev, "oom", &v))
		st->memory.oom_events = v;
	if (ev && cg_kv_get(ev, "oom_kill", &v))
		st->memory.oom_kill_events = v;
}

static void pids_stats(struct hull_cgroup *cg, struct hull_cgroup_stats *st)
{
	struct cg_hier *h = cg_hier_for(cg, CG_PIDS);
	uint64_t lim;

	if (!h)
		return;
	st->pids.current = rd_u64(h->dir, "pids.current");
	lim = rd_limit(h->dir, "pids.max");
	st->pids.limit = lim == UINT64_MAX ? 0 : lim;
}

static int blk_push(struct hull_cgroup_blkio_entry **v, size_t *n, uint64_t maj, uint64_t min, const char *op,
		    uint64_t val)
{
	struct hull_cgroup_blkio_entry *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	nv[*n].major = maj;
	nv[*n].minor = min;
	snprintf(nv[*n].op, sizeof(nv[*n].op), "%s", op);
	nv[*n].value = val;
	(*n)++;
	*v = nv;
	return 0;
}

/* v1: "8:0 Read 4096" lines (and a final "Total N") */
static void blkio_v1_file(const char *text, struct hull_cgroup_blkio_entry **v, size_t *n)
{
	for (const char *l = text; l && *l;) {
		unsigned long long maj, min, val;
		char op[16];
		if (sscanf(l, "%llu:%llu %15s %llu", &maj, &min, op, &val) == 4)
			blk_push(v, n, maj, min, op, val);
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
}

static void blkio_stats(struct hull_cgroup *cg, struct hull_cgroup_stats *st)
{
	struct cg_hier *h = cg_hier_for(cg, CG_BLKIO);

	if (!h)
		return;
	if (!h->v2) {
		_cleanup_free_ char *b = rd_text(h->dir, "blkio.throttle.io_service_bytes_recursive");
		_cleanup_free_ char *s = rd_text(h->dir, "blkio.throttle.io_serviced_recursive");
		blkio_v1_file(b, &st->blkio.service_bytes, &st->blkio.n_service_bytes);
		blkio_v1_file(s, &st->blkio.serviced, &st->blkio.n_serviced);
		return;
	}
	_cleanup_free_ char *io = rd_text(h->dir, "io.stat");
	for (const char *l = io; l && *l;) {
		unsigned long long maj, min;
		const char *nl = strchr(l, '\n');
		char line[512];
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, l, len);
		line[len] = '\0';
		if (sscanf(line, "%llu:%llu", &maj, &min) == 2) {
			static const struct { const char *key, *op; bool bytes; } map[] = {
				{ "rbytes=", "Read", true }, { "wbytes=", "Write", true },
				{ "rios=", "Read", false }, { "wios=", "Write", false },
			};
			for (size_t i = 0; i < 4; i++) {
				const char *p = strstr(line, map[i].key);
				if (!p)
					continue;
				uint64_t val = strtoull(p + strlen(map[i].key), NULL, 10);
				if (map[i].bytes)
					blk_push(&st->blkio.service_bytes, &st->blkio.n_service_bytes, maj, min, map[i].op, val);
				else
					blk_push(&st->blkio.serviced, &st->blkio.n_serviced, maj, min, map[i].op, val);
			}
		}
		l = nl ? nl + 1 : NULL;
	}
}

static void hugetlb_stats(struct hull_cgroup *cg, struct hull_cgroup_stats *st)
{
	struct cg_hier *h = cg_hier_for(cg, CG_HUGETLB);
	DIR *d;
	struct dirent *de;

	if (!h || !(d = opendir("/sys/kernel/mm/hugepages")))
		return;
	while ((de = readdir(d))) {
		unsigned long kb;
		char ps[24], f[80];
		struct hull_cgroup_hugetlb *nv, *e;
		if (sscanf(de->d_name, "hugepages-%lukB", &kb) != 1 || kb == 0 || kb > (1ul << 40))
			continue;
		if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
			snprintf(ps, sizeof(ps), "%luGB", kb / (1024 * 1024));
		else if (kb >= 1024 && kb % 1024 == 0)
			snprintf(ps, sizeof(ps), "%luMB", kb / 1024);
		else
			snprintf(ps, sizeof(ps), "%luKB", kb);
		nv = realloc(st->hugetlb, (st->n_hugetlb + 1) * sizeof(*nv));
		if (!nv)
			break;
		st->hugetlb = nv;
		e = &nv[st->n_hugetlb++];
		memset(e, 0, sizeof(*e));
		snprintf(e->page_size, sizeof(e->page_size), "%s", ps);
		if (!h->v2) {
			snprintf(f, sizeof(f), "hugetlb.%s.usage_in_bytes", ps);
			e->usage = rd_u64(h->dir, f);
			snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", ps);
			e->max = rd_u64(h->dir, f);
			snprintf(f, sizeof(f), "hugetlb.%s.failcnt", ps);
			e->failcnt = rd_u64(h->dir, f);
		} else {
			_cleanup_free_ char *ev = NULL;
			uint64_t v;
			snprintf(f, sizeof(f), "hugetlb.%s.current", ps);
			e->usage = rd_u64(h->dir, f);
			snprintf(f, sizeof(f), "hugetlb.%s.events", ps);
			ev = rd_text(h->dir, f);
			if (ev && cg_kv_get(ev, "max", &v))
				e->failcnt = v;
		}
	}
	closedir(d);
}

int hull_cgroup_stats(struct hull_cgroup *cg, struct hull_cgroup_stats *st, struct hull_err *err)
{
	memset(st, 0, sizeof(*st));
	if (cg->n_h && access(cg->h[0].dir, F_OK) < 0)
		return hull_errf_sys(err, errno, "%s", cg->h[0].dir);
	cpu_stats(cg, st);
	cpuset_stats(cg, st);
	memory_stats(cg, st);
	pids_stats(cg, st);
	blkio_stats(cg, st);
	hugetlb_stats(cg, st);
	return 0;
}

void hull_cgroup_stats_free(struct hull_cgroup_stats *st)
{
	if (!st)
		return;
	free(st->cpu.percpu);
	free(st->cpuset.cpus);
	free(st->cpuset.mems);
	for (size_t i = 0; i < st->memory.n_raw; i++)
		free(st->memory.raw[i].key);
	free(st->memory.raw);
	free(st->blkio.service_bytes);
	free(st->blkio.serviced);
	free(st->hugetlb);
	memset(st, 0, sizeof(*st));
}

/* ---- JSON (runc types.Event / types.Stats; omitempty as Go applies it) ---- */

static void kv_u64(struct hull_json *j, const char *k, uint64_t v, bool omitempty)
{
	if (!omitempty || v)
		hull_json_kv_uint(j, k, v);
}

static void mem_entry_json(struct hull_json *j, const char *k, const struct hull_cgroup_mem_entry *e)
{
	hull_json_key(j, k);
	hull_json_begin_map(j);
	kv_u64(j, "limit", e->limit, false);
	kv_u64(j, "usage", e->usage, true);
	kv_u64(j, "max", e->max, true);
	kv_u64(j, "failcnt", e->failcnt, false);
	hull_json_end_map(j);
}

static void blkio_json(struct hull_json *j, const char *k, const struct hull_cgroup_blkio_entry *v, size_t n)
{
	if (!n)
		return;
	hull_json_key(j, k);
	hull_json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		hull_json_begin_map(j);
		kv_u64(j, "major", v[i].major, true);
		kv_u64(j, "minor", v[i].minor, true);
		if (v[i].op[0])
			hull_json_kv_string(j, "op", v[i].op);
		kv_u64(j, "value", v[i].value, true);
		hull_json_end_map(j);
	}
	hull_json_end_array(j);
}

static void u16_list_json(struct hull_json *j, const char *k, const uint16_t *v, size_t n)
{
	if (!n)
		return;
	hull_json_key(j, k);
	hull_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		hull_json_uint(j, v[i]);
	hull_json_end_array(j);
}

static void stats_json(struct hull_json *j, const struct hull_cgroup_stats *st)
{
	static const char *const cpuset_flags[] = {
		"cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
		"memory_spread_slab", "memory_pressure", "sched_load_balance",
	};

	hull_json_begin_map(j);

	hull_json_key(j, "cpu");
	hull_json_begin_map(j);
	hull_json_key(j, "usage");
	hull_json_begin_map(j);
	kv_u64(j, "total", st->cpu.total, true);
	if (st->cpu.n_percpu) {
		hull_json_key(j, "percpu");
		hull_json_begin_array(j);
		for (size_t i = 0; i < st->cpu.n_percpu; i++)
			hull_json_uint(j, st->cpu.percpu[i]);
		hull_json_end_array(j);
	}
	kv_u64(j, "kernel", st->cpu.kernel, false);
	kv_u64(j, "user", st->cpu.user, false);
	hull_json_end_map(j);
	hull_json_key(j, "throttling");
	hull_json_begin_map(j);
	kv_u64(j, "periods", st->cpu.periods, true);
	kv_u64(j, "throttledPeriods", st->cpu.throttled_periods, true);
	kv_u64(j, "throttledTime", st->cpu.throttled_time, true);
	hull_json_end_map(j);
	hull_json_end_map(j);

	/* runc only fills cpus/mems; the flag fields are always present */
	hull_json_key(j, "cpuset");
	hull_json_begin_map(j);
	u16_list_json(j, "cpus", st->cpuset.cpus, st->cpuset.n_cpus);
	u16_list_json(j, "mems", st->cpuset.mems, st->cpuset.n_mems);
	for (size_t i = 0; i < sizeof(cpuset_flags) / sizeof(cpuset_flags[0]); i++)
		kv_u64(j, cpuset_flags[i], 0, false);
	hull_json_kv_int(j, "sched_relax_domain_level", 0);
	hull_json_end_map(j);

	hull_json_key(j, "memory");
	hull_json_begin_map(j);
	kv_u64(j, "cache", st->memory.cache, true);
	mem_entry_json(j, "usage", &st->memory.usage);
	mem_entry_json(j, "swap", &st->memory.swap);
	mem_entry_json(j, "kernel", &st->memory.kernel);
	mem_entry_json(j, "kernelTCP", &st->memory.kernel_tcp);
	if (st->memory.n_raw) {
		hull_json_key(j, "raw");
		hull_json_begin_map(j);
		for (size_t i = 0; i < st->memory.n_raw; i++)
			hull_json_kv_uint(j, st->memory.raw[i].key, st->memory.raw[i].value);
		hull_json_end_map(j);
	}
	hull_json_key(j, "event_count");
	hull_json_begin_map(j);
	hull_json_kv_uint(j, "oom", st->memory.oom_events);
	hull_json_kv_uint(j, "oom_kill", st->memory.oom_kill_events);
	hull_json_end_map(j);
	hull_json_end_map(j);

	hull_json_key(j, "pids");
	hull_json_begin_map(j);
	kv_u64(j, "current", st->pids.current, true);
	kv_u64(j, "limit", st->pids.limit, true);
	hull_json_end_map(j);

	hull_json_key(j, "blkio");
	hull_json_begin_map(j);
	blkio_json(j, "ioServiceBytesRecursive", st->blkio.service_bytes, st->blkio.n_service_bytes);
	blkio_json(j, "ioServicedRecursive", st->blkio.serviced, st->blkio.n_serviced);
	hull_json_end_map(j);

	hull_json_key(j, "hugetlb");
	hull_json_begin_map(j);
	for (size_t i = 0; i < st->n_hugetlb; i++) {
		hull_json_key(j, st->hugetlb[i].page_size);
		hull_json_begin_map(j);
		kv_u64(j, "usage", st->hugetlb[i].usage, true);
		kv_u64(j, "max", st->hugetlb[i].max, true);
		kv_u64(j, "failcnt", st->hugetlb[i].failcnt, false);
		hull_json_end_map(j);
	}
	hull_json_end_map(j);

	hull_json_key(j, "intel_rdt");
	hull_json_begin_map(j);
	hull_json_end_map(j);
	hull_json_key(j, "network_interfaces");
	hull_json_null(j);

	hull_json_end_map(j);
}

int hull_cgroup_event_write(FILE *out, const char *type, const char *id, const struct hull_cgroup_stats *st)
{
	struct hull_json *j = hull_json_new(false);
	struct hull_err err = { 0 };
	char *text = NULL;
	size_t len = 0;
	int ret = 0;

	hull_json_begin_map(j);
	hull_json_kv_string(j, "type", type);
	hull_json_kv_string(j, "id", id);
	if (st) {
		hull_json_key(j, "data");
		stats_json(j, st);
	}
	hull_json_end_map(j);
	if (hull_json_finish(j, &text, &len, &err) < 0)
		return -(err.code ? err.code : EINVAL);
	if (fwrite(text, 1, len, out) != len || fputc('\n', out) == EOF || fflush(out) == EOF)
		ret = -EIO;
	free(text);
	return ret;
}
