/* config.h — the OCI runtime config (config.json), parsed into typed structs.
 *
 * Contract:
 *   - oci_config_load()/oci_config_parse() accept runtime-spec 1.0.0 … 1.3.x
 *     documents for Linux.  Unknown top-level or nested keys are ignored (the
 *     spec requires runtimes to ignore unknown properties); values of the wrong
 *     type, out-of-range numbers, unknown enum names (namespace types,
 *     capability names, rlimit types, seccomp actions/operators, …) are errors.
 *   - Error messages name the file and the JSON path, e.g.
 *       config.json: .process.args: must be a non-empty array
 *     (the file name is whatever the caller passed as `name`).
 *   - Everything hangs off struct oci_config and is released with
 *     oci_config_free().  Strings are NUL-terminated heap copies; arrays come
 *     with an explicit count; absent optional scalars have .set == false.
 *   - Pure data: no syscalls beyond reading the file.  Semantic checks that need
 *     the host (does the rootfs exist? can this namespace be joined?) belong to
 *     the caller.
 */
#ifndef HULL_OCI_CONFIG_H
#define HULL_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

struct opt_i64 { bool set; int64_t v; };
struct opt_u64 { bool set; uint64_t v; };

/* key/value pairs in document order (annotations, sysctl, unified, …) */
struct oci_kv { char *key; char *value; };

/* ---- process ---------------------------------------------------------- */

struct oci_rlimit {
	int resource;          /* RLIMIT_* resolved from "RLIMIT_NOFILE" etc. */
	char *type;            /* the name as written */
	uint64_t soft, hard;
};

/* Capability sets as bit masks (bit n = capability n), names checked with
 * libcap; has_<set> tells whether the set was present in the document. */
struct oci_caps {
	bool present;          /* .process.capabilities present at all */
	uint64_t bounding, effective, inheritable, permitted, ambient;
	bool has_bounding, has_effective, has_inheritable, has_permitted, has_ambient;
};

struct oci_user {
	uint32_t uid, gid;
	struct opt_u64 umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char *username;        /* Windows-only in the spec; kept for completeness */
};

struct oci_scheduler {
	bool present;
	char *policy;          /* SCHED_OTHER, SCHED_FIFO, … as written */
	int policy_value;      /* resolved SCHED_* */
	int32_t nice;
	int32_t priority;
	char **flags;          /* SCHED_FLAG_* names */
	size_t n_flags;
	uint64_t runtime, deadline, period;
};

struct oci_io_priority {
	bool present;
	char *class_name;      /* IOPRIO_CLASS_RT | IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE */
	int class_value;       /* 1, 2, 3 */
	int32_t priority;
};

struct oci_exec_cpu_affinity {
	char *initial;         /* cpu list, e.g. "0-3,7"; NULL if absent */
	char *final;
};

struct oci_process {
	bool terminal;
	bool has_console_size;
	uint32_t console_height, console_width;
	struct oci_user user;
	char **args;           /* NULL-terminated too, for execve */
	size_t n_args;
	char *command_line;    /* Windows-only; kept */
	char **env;            /* NULL-terminated too */
	size_t n_env;
	char *cwd;
	struct oci_caps caps;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	struct opt_i64 oom_score_adj;
	char *selinux_label;
	struct oci_scheduler scheduler;
	struct oci_io_priority io_priority;
	struct oci_exec_cpu_affinity exec_cpu_affinity;
};

/* ---- root, mounts, hooks --------------------------------------------- */

struct oci_root {
	char *path;
	bool readonly;
};

struct oci_idmap {
	uint32_t container_id, host_id, size;
};

struct oci_mount {
	char *destination;
	char *type;            /* may be NULL */
	char *source;          /* may be NULL */
	char **options;        /* raw option strings; rootfs/ interprets them */
	size_t n_options;
	struct oci_idmap *uid_mappings;   /* idmapped mounts (1.2+) */
	size_t n_uid_mappings;
	struct oci_idmap *gid_mappings;
	size_t n_gid_mappings;
};

struct oci_hook {
	char *path;
	char **args;           /* NULL-terminated too */
	size_t n_args;
	char **env;            /* NULL-terminated too */
	size_t n_env;
	struct opt_i64 timeout; /* seconds, > 0 when set */
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK__COUNT
};

struct oci_hook_list {
	struct oci_hook *hooks;
	size_t n;
};

/* ---- linux ------------------------------------------------------------ */

enum oci_ns_type {
	OCI_NS_PID, OCI_NS_NETWORK, OCI_NS_MOUNT, OCI_NS_IPC, OCI_NS_UTS,
	OCI_NS_USER, OCI_NS_CGROUP, OCI_NS_TIME, OCI_NS__COUNT
};

struct oci_namespace {
	enum oci_ns_type type;
	int clone_flag;        /* CLONE_NEWPID, … */
	char *path;            /* join this namespace instead of creating one; may be NULL */
};

struct oci_device {
	char type;             /* 'c', 'b', 'u', 'p' */
	char *path;
	struct opt_i64 major, minor;   /* required for c/b/u */
	struct opt_u64 file_mode;
	struct opt_u64 uid, gid;
};

struct oci_device_rule {       /* linux.resources.devices[] */
	bool allow;
	char type;             /* 'a', 'c', 'b' ('a' when absent) */
	int64_t major, minor;  /* -1 = wildcard (absent) */
	char *access;          /* subset of "rwm"; NULL = "rwm" */
};

struct oci_memory {
	struct opt_i64 limit, reservation, swap, kernel, kernel_tcp;
	struct opt_u64 swappiness;
	bool has_disable_oom_killer; bool disable_oom_killer;
	bool has_use_hierarchy; bool use_hierarchy;
	bool check_before_update;
};

struct oci_cpu {
	struct opt_u64 shares, period, realtime_period, burst;
	struct opt_i64 quota, realtime_runtime, idle;
	char *cpus;
	char *mems;
};

struct oci_weight_device { int64_t major, minor; struct opt_u64 weight, leaf_weight; };
struct oci_throttle_device { int64_t major, minor; uint64_t rate; };

struct oci_blkio {
	struct opt_u64 weight, leaf_weight;
	struct oci_weight_device *weight_device; size_t n_weight_device;
	struct oci_throttle_device *throttle_read_bps; size_t n_throttle_read_bps;
	struct oci_throttle_device *throttle_write_bps; size_t n_throttle_write_bps;
	struct oci_throttle_device *throttle_read_iops; size_t n_throttle_read_iops;
	struct oci_throttle_device *throttle_write_iops; size_t n_throttle_write_iops;
};

struct oci_hugepage_limit { char *page_size; uint64_t limit; };
struct oci_net_priority { char *name; uint32_t priority; };
struct oci_rdma_limit { char *device; struct opt_u64 hca_handles, hca_objects; };

struct oci_resources {
	bool present;
	struct oci_device_rule *devices; size_t n_devices;
	bool has_memory; struct oci_memory memory;
	bool has_cpu; struct oci_cpu cpu;
	bool has_pids; struct opt_i64 pids_limit;
	bool has_blkio; struct oci_blkio blkio;
	struct oci_hugepage_limit *hugepage_limits; size_t n_hugepage_limits;
	bool has_network; struct opt_u64 net_class_id;
	struct oci_net_priority *net_priorities; size_t n_net_priorities;
	struct oci_rdma_limit *rdma; size_t n_rdma;
	struct oci_kv *unified; size_t n_unified;
};

/* seccomp: names are kept as written and also resolved where the set is closed */
enum oci_seccomp_op {
	OCI_SCMP_CMP_NE = 1, OCI_SCMP_CMP_LT, OCI_SCMP_CMP_LE, OCI_SCMP_CMP_EQ,
	OCI_SCMP_CMP_GE, OCI_SCMP_CMP_GT, OCI_SCMP_CMP_MASKED_EQ
};

enum oci_seccomp_action {
	OCI_SCMP_ACT_KILL = 1, OCI_SCMP_ACT_KILL_PROCESS, OCI_SCMP_ACT_KILL_THREAD,
	OCI_SCMP_ACT_TRAP, OCI_SCMP_ACT_ERRNO, OCI_SCMP_ACT_TRACE, OCI_SCMP_ACT_ALLOW,
	OCI_SCMP_ACT_LOG, OCI_SCMP_ACT_NOTIFY
};

struct oci_seccomp_arg {
	uint32_t index;
	uint64_t value, value_two;
	enum oci_seccomp_op op;
};

struct oci_seccomp_syscall {
	char **names; size_t n_names;
	enum oci_seccomp_action action;
	struct opt_u64 errno_ret;
	struct oci_seccomp_arg *args; size_t n_args;
};

struct oci_seccomp {
	bool present;
	enum oci_seccomp_action default_action;
	struct opt_u64 default_errno_ret;
	char **architectures; size_t n_architectures;   /* SCMP_ARCH_* as written */
	char **flags; size_t n_flags;                   /* SECCOMP_FILTER_FLAG_* as written */
	char *listener_path;
	char *listener_metadata;
	struct oci_seccomp_syscall *syscalls; size_t n_syscalls;
};

struct oci_personality {
	bool present;
	char *domain;          /* LINUX | LINUX32 */
	char **flags; size_t n_flags;
};

struct oci_time_offset { int64_t secs; uint32_t nanosecs; };

/* linux.memoryPolicy (1.3): set_mempolicy(2) for the container process */
struct oci_memory_policy {
	bool present;
	char *mode;            /* MPOL_* as written */
	int mode_value;        /* resolved MPOL_* */
	char *nodes;           /* node list, e.g. "0-3"; NULL if absent */
	char **flags; size_t n_flags;   /* MPOL_F_* as written */
};

/* linux.intelRdt: parsed and checked here; applying it needs a mounted
 * resctrl, which the runtime checks (and refuses without). */
struct oci_intel_rdt {
	char *clos_id;                 /* NULL: the container ID; "/" the default CLOS */
	char *l3_cache_schema;
	char *mem_bw_schema;           /* starts with "MB:" */
	char **schemata; size_t n_schemata;   /* one schemata line each, no newlines */
	bool enable_monitoring;
};

struct oci_linux {
	struct oci_namespace *namespaces; size_t n_namespaces;
	struct oci_idmap *uid_mappings; size_t n_uid_mappings;
	struct oci_idmap *gid_mappings; size_t n_gid_mappings;
	struct oci_device *devices; size_t n_devices;
	char *cgroups_path;
	struct oci_resources resources;
	struct oci_kv *sysctl; size_t n_sysctl;
	struct oci_seccomp seccomp;
	char *rootfs_propagation;      /* "shared" | "slave" | "private" | "unbindable", or the r- forms runc takes; NULL */
	char **masked_paths; size_t n_masked_paths;
	char **readonly_paths; size_t n_readonly_paths;
	char *mount_label;
	struct oci_personality personality;
	bool has_time_offsets;
	bool has_monotonic_offset; struct oci_time_offset monotonic_offset;
	bool has_boottime_offset; struct oci_time_offset boottime_offset;
	struct oci_kv *net_devices; size_t n_net_devices;   /* host name -> container name */
	struct oci_memory_policy memory_policy;
	bool has_intel_rdt;            /* intelRdt present (the fields below) */
	struct oci_intel_rdt intel_rdt;
};

/* ---- the whole document ----------------------------------------------- */

struct oci_config {
	char *oci_version;
	struct oci_root root;          /* root.path required for Linux */
	bool has_process;              /* optional for `create`, required for `start` */
	struct oci_process process;
	char *hostname;
	char *domainname;
	struct oci_mount *mounts; size_t n_mounts;
	struct oci_hook_list hooks[OCI_HOOK__COUNT];
	struct oci_kv *annotations; size_t n_annotations;
	bool has_linux;
	struct oci_linux linux_;       /* "linux" is a predefined macro in gnu11 */
};

/* Parse a JSON document held in memory.  `name` is used in error messages. */
int oci_config_parse(const char *json, size_t len, const char *name,
		     struct oci_config **out, struct hull_err *err);

/* Read and parse a file (e.g. "<bundle>/config.json"); errors are prefixed with
 * the base name as the user passed it ("config.json: .process.args: …"). */
int oci_config_load(const char *path, struct oci_config **out, struct hull_err *err);

void oci_config_free(struct oci_config *cfg);

/* Parse a standalone process JSON (what `exec --process FILE` gets: the
 * schema of .process).  Same error style, with paths relative to the file. */
int oci_process_parse(const char *json, size_t len, const char *name,
		      struct oci_process **out, struct hull_err *err);
void oci_process_free(struct oci_process *p);

/* Lookups that several modules need. */
const struct oci_namespace *oci_config_namespace(const struct oci_config *cfg, enum oci_ns_type type);
const char *oci_config_annotation(const struct oci_config *cfg, const char *key);
const char *oci_ns_type_name(enum oci_ns_type type);

#endif
