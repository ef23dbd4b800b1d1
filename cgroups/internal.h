/* internal.h — what the cgroup drivers share; not for other modules. */
#ifndef HULL_CGROUPS_INTERNAL_H
#define HULL_CGROUPS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroups/cgroup.h"
#include "lib/err.h"
#include "oci/config.h"

#define CG_ROOT "/sys/fs/cgroup"
#define CG_PATH_MAX 512
#define CG_MAX_HIER 20

enum cg_ctrl {
	CG_CPU, CG_CPUACCT, CG_CPUSET, CG_MEMORY, CG_DEVICES, CG_FREEZER, CG_BLKIO,
	CG_PIDS, CG_HUGETLB, CG_NET_CLS, CG_NET_PRIO, CG_RDMA, CG_PERF_EVENT, CG_MISC,
	CG__COUNT
};
#define CG_BIT(c) (1u << (c))

/* v1 name of a controller ("blkio"); v2 name where it differs ("io"). */
const char *cg_ctrl_name(enum cg_ctrl c);
const char *cg_ctrl_v2_name(enum cg_ctrl c);
int cg_ctrl_from_name(const char *name);   /* v1 or v2 spelling; -1 if unknown */
int cg_ctrl_from_name_n(const char *name, size_t len);

/* One mounted hierarchy the container lives in. */
struct cg_hier {
	char mnt[64];          /* directory under /sys/fs/cgroup: "memory", "cpu,cpuacct", "unified", "" (v2) */
	bool v2;
	uint32_t ctrls;        /* CG_BIT mask this hierarchy provides */
	char *dir;             /* absolute path of the container's directory */
	int created_from;      /* index into the path's '/' levels where our mkdirs began; -1 = none */
	dev_t dev;
};

struct hull_cgroup {
	enum hull_cgroup_layout layout;
	char *path;            /* "/hull/c1" */
	struct cg_hier h[CG_MAX_HIER];
	size_t n_h;
	int unified;           /* index of the cgroup2 tree in h[], or -1 */
	int v2_dirfd;          /* opened on first hull_cgroup_v2_dirfd() */
};

/* ---- layout.c ----------------------------------------------------------- */
/* Fill layout, hierarchies (mnt/ctrls/v2/dev) and unified; no directories. */
int cg_layout_detect(struct hull_cgroup *cg, struct hull_err *err);
/* The hierarchy providing controller c (v1 preferred), or NULL. */
struct cg_hier *cg_hier_for(struct hull_cgroup *cg, enum cg_ctrl c);
struct cg_hier *cg_unified(struct hull_cgroup *cg);

/* ---- path.c (pure) ------------------------------------------------------ */
/* Resolve a config cgroupsPath to a clean absolute path (see cgroup.h). */
int cg_path_resolve(const char *cgroups_path, const char *id, bool systemd, char **out,
		    struct hull_err *err);
/* Check a `unified` key: CONTROLLER.PARAM, a plain file name, not a
 * process-moving or tree-changing file. */
int cg_unified_key_check(const char *key, struct hull_err *err);

/* ---- convert.c (pure) --------------------------------------------------- */
uint64_t cg_shares_to_weight(uint64_t shares);          /* 0 stays 0 (unset) */
uint64_t cg_blkio_weight_to_io_weight(uint64_t weight); /* 0 stays 0 (unset) */
/* OCI memory.swap (memory+swap) -> memory.swap.max; *out -1 = "max", 0 = unset. */
int cg_swap_to_v2(int64_t swap, int64_t limit, bool limit_set, int64_t *out, struct hull_err *err);
/* "max" for negative values, the number otherwise. */
void cg_fmt_limit(char *buf, size_t len, int64_t v);
/* cpu.max from quota/period; returns false if nothing to write. */
bool cg_fmt_cpu_max(char *buf, size_t len, const struct opt_i64 *quota, const struct opt_u64 *period);
/* v1 device rule line "c 1:3 rwm" / "a *:* rwm". */
int cg_device_rule_line(const struct oci_device_rule *r, char *buf, size_t len, struct hull_err *err);

/* The devices every container gets after its own rules (runc's list). */
extern const struct oci_device_rule cg_default_device_rules[];
extern const size_t cg_n_default_device_rules;

/* ---- file helpers (cgroup.c) -------------------------------------------- */
int cg_write(const char *dir, const char *file, const char *val, struct hull_err *err);
int cg_read(const char *dir, const char *file, char **out, struct hull_err *err);
int cg_read_u64(const char *dir, const char *file, uint64_t *out, struct hull_err *err);
bool cg_exists(const char *dir, const char *file);
/* Value of "key N" in a flat keyed file (cpu.stat, memory.events). */
bool cg_kv_get(const char *text, const char *key, uint64_t *out);

/* ---- drivers ------------------------------------------------------------ */
int cg_v1_apply(struct hull_cgroup *cg, const struct oci_resources *res, bool update, struct hull_err *err);
int cg_v2_apply(struct hull_cgroup *cg, const struct oci_resources *res, bool update, struct hull_err *err);
int cg_hugetlb_apply(struct cg_hier *h, const struct oci_resources *res, struct hull_err *err);
int cg_rdma_apply(struct cg_hier *h, const struct oci_resources *res, struct hull_err *err);
int cg_v1_devices_apply(const char *dir, const struct oci_device_rule *rules, size_t n, struct hull_err *err);

/* devices_bpf.c */
struct bpf_insn;
/* Build the program for rules (followed by the defaults). *out malloc'd. */
int cg_bpf_devices_build(const struct oci_device_rule *rules, size_t n, bool with_defaults,
			 struct bpf_insn **out, size_t *n_insns, struct hull_err *err);
/* Load and attach (replacing the one attached before, atomically). */
int cg_bpf_devices_apply(struct hull_cgroup *cg, const struct oci_device_rule *rules, size_t n,
			 struct hull_err *err);

#endif
