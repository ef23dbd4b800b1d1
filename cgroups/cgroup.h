/* cgroup.h — the container's control groups: one interface, three layouts.
 *
 * Layouts (detected once per handle, with statfs on /sys/fs/cgroup and, when
 * that is a tmpfs, on /sys/fs/cgroup/unified):
 *   v1      one hierarchy per controller at /sys/fs/cgroup/<ctrl>
 *   v2      the unified tree is /sys/fs/cgroup
 *   hybrid  v1 hierarchies plus a cgroup2 tree at /sys/fs/cgroup/unified that
 *           may hold some controllers (on the dev host: hugetlb only).
 * Each resource goes to whichever tree provides its controller: a v1
 * hierarchy if one is mounted, else the unified tree if it lists it.  The
 * container is placed in every hierarchy (and in the unified tree) it uses.
 *
 * cgroupsPath resolution (hull_cgroup_create):
 *   NULL or ""           "/hull/<id>"
 *   "/a/b"               "/a/b" below the root of every hierarchy
 *   "a/b" (relative)     also below the root of every hierarchy: "/a/b".  runc
 *                        joins relative paths onto the caller's own cgroup,
 *                        which on a hybrid host differs per controller (the dev
 *                        shell sits in memory:/process_api/<hash>) and would
 *                        scatter one container over unrelated subtrees; crun's
 *                        cgroupfs manager treats them as root-relative too.
 *   "slice:prefix:name"  the systemd form: an error naming the field unless a
 *                        systemd driver is available (none is built in).
 *   ".." components, empty or over-long paths are rejected.
 * The resolved path ("/hull/c1") is what hull_cgroup_path() returns and what
 * the runtime persists; hull_cgroup_open() takes it back.
 *
 * cgroup namespaces: CLONE_INTO_CGROUP (via hull_cgroup_v2_dirfd) only places
 * a child in the unified tree.  On v1/hybrid the parent must call
 * hull_cgroup_enter(cg, child) and only then let the child
 * unshare(CLONE_NEWCGROUP), so that every hierarchy's namespace root is the
 * container's cgroup (runc orders it the same way).
 *
 * Errors: 0 / negative errno + *err, as everywhere in hull.  Messages name the
 * cgroup file involved ("memory.limit_in_bytes: Device or resource busy") and
 * the config field for bad input (".linux.resources.unified: key `../x` …").
 */
#ifndef HULL_CGROUPS_CGROUP_H
#define HULL_CGROUPS_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/err.h"
#include "oci/config.h"

struct hull_cgroup;

enum hull_cgroup_layout { HULL_CGROUP_V1 = 1, HULL_CGROUP_V2, HULL_CGROUP_HYBRID };

/* Resolve the path (see above), detect the layout, mkdir in every hierarchy
 * used, apply res (may be NULL).  The process is NOT placed: use
 * hull_cgroup_enter() or clone3(CLONE_INTO_CGROUP, hull_cgroup_v2_dirfd()).
 * systemd = --systemd-cgroup.  On error nothing created is left behind
 * (directories that already existed are left alone). */
int hull_cgroup_create(const char *cgroups_path, const char *id, const struct oci_resources *res,
		       bool systemd, struct hull_cgroup **out, struct hull_err *err);

/* Re-open an existing cgroup from the string hull_cgroup_path() returned.
 * Fails with ENOENT if it no longer exists in any hierarchy. */
int hull_cgroup_open(const char *path, struct hull_cgroup **out, struct hull_err *err);

/* Move pid (all its threads: cgroup.procs) into the cgroup in every hierarchy. */
int hull_cgroup_enter(struct hull_cgroup *cg, pid_t pid, struct hull_err *err);

/* The fast placement on v1/hybrid (selfjoin.c): writing cgroup.procs waits
 * for an RCU grace period, a thread moving itself through a v1 `tasks` file
 * does not.  The runtime opens the `tasks` file of every v1 hierarchy
 * (up to max; *n set) before the clone; the child — still single-threaded —
 * calls hull_cgroup_self_join, which writes "0" to each and closes them.
 * The unified tree (hybrid) is not covered: use CLONE_INTO_CGROUP with
 * hull_cgroup_v2_dirfd for it.  _close drops the fds unused. */
int hull_cgroup_self_join_open(struct hull_cgroup *cg, int *fds, size_t max, size_t *n, struct hull_err *err);
int hull_cgroup_self_join(int *fds, size_t *n, struct hull_err *err);
void hull_cgroup_self_join_close(int *fds, size_t *n);

/* O_PATH|O_DIRECTORY|O_CLOEXEC fd of the container's unified-tree directory
 * (v2 and hybrid), for clone3 CLONE_INTO_CGROUP.  Opened on the first call,
 * owned by cg (closed by hull_cgroup_free); -1 on pure v1 or if it cannot be
 * opened.  A child that inherits it should close it before running anything
 * the container controls (CLOEXEC covers the final execve). */
int hull_cgroup_v2_dirfd(struct hull_cgroup *cg);

const char *hull_cgroup_path(const struct hull_cgroup *cg);
enum hull_cgroup_layout hull_cgroup_layout(const struct hull_cgroup *cg);

/* Apply res on top of the current settings (`update`): only fields that are
 * set change.  Memory: with check_before_update, a new limit below the
 * current usage is refused; limit and swap are written in the order the
 * kernel accepts.  Devices: v1 rules are replayed in order; on v2 the eBPF
 * program is replaced atomically (BPF_F_REPLACE), never detached first. */
int hull_cgroup_update(struct hull_cgroup *cg, const struct oci_resources *res, struct hull_err *err);

/* Freeze/thaw; returns once the kernel reports FROZEN / THAWED (v1
 * freezer.state) or cgroup.events says frozen 1/0 (v2), or ETIMEDOUT. */
int hull_cgroup_freeze(struct hull_cgroup *cg, bool frozen, struct hull_err *err);
/* 1 frozen, 0 not, negative errno. */
int hull_cgroup_is_frozen(struct hull_cgroup *cg, struct hull_err *err);

/* Every pid in the cgroup and its descendants (sorted, unique); *pids is
 * malloc'd (NULL when n == 0). */
int hull_cgroup_pids(struct hull_cgroup *cg, pid_t **pids, size_t *n, struct hull_err *err);

/* Send sig to every process (v2: cgroup.kill for SIGKILL when available;
 * otherwise freeze, signal each pid, thaw, so nothing forks past us).  A
 * frozen (paused) cgroup stays frozen, except that SIGKILL thaws it so the
 * processes can die. */
int hull_cgroup_kill(struct hull_cgroup *cg, int sig, struct hull_err *err);

/* Remove the tree, deepest directories first, retrying EBUSY with a short
 * backoff while processes exit (about 2 s in all).  kill_leftovers: SIGKILL
 * whatever still runs first (`delete --force`).  Missing directories are not
 * an error. */
int hull_cgroup_destroy(struct hull_cgroup *cg, bool kill_leftovers, struct hull_err *err);

void hull_cgroup_free(struct hull_cgroup *cg);

/* Mount a config mount of type "cgroup"/"cgroup2" at target_abs_path (the
 * already-resolved absolute path under the new root, in the container's mount
 * namespace, before pivot_root).  flags: MS_RDONLY/MS_NOSUID/… from the
 * mount options.  v2: mount cgroup2 when in_cgroupns, else bind the
 * container's unified dir.  v1/hybrid: a tmpfs with one directory per
 * hierarchy (cgroup mount with cgroupns, else a bind of the container's dir),
 * symlinks for combined hierarchies (cpu -> cpu,cpuacct) and, on hybrid,
 * "unified".  The tmpfs is remounted read-only when flags has MS_RDONLY. */
int hull_cgroup_mount(const struct hull_cgroup *cg, const char *target_abs_path, unsigned long flags,
		      bool in_cgroupns, struct hull_err *err);

/* ---- statistics (runc `events --stats`) ---------------------------------- */

struct hull_cgroup_mem_entry { uint64_t limit, usage, max, failcnt; };
struct hull_cgroup_blkio_entry { uint64_t major, minor; char op[16]; uint64_t value; };
struct hull_cgroup_hugetlb { char page_size[24]; uint64_t usage, max, failcnt; };
struct hull_cgroup_stat_kv { char *key; uint64_t value; };

struct hull_cgroup_stats {
	struct {
		uint64_t total, kernel, user;         /* ns */
		uint64_t *percpu; size_t n_percpu;
		uint64_t periods, throttled_periods, throttled_time;
	} cpu;
	struct {
		uint16_t *cpus; size_t n_cpus;
		uint16_t *mems; size_t n_mems;
	} cpuset;
	struct {
		uint64_t cache;
		struct hull_cgroup_mem_entry usage, swap, kernel, kernel_tcp;
		struct hull_cgroup_stat_kv *raw; size_t n_raw;   /* memory.stat */
		uint64_t oom_events, oom_kill_events;           /* memory.events / oom_control */
	} memory;
	struct { uint64_t current, limit; } pids;            /* limit 0 = unlimited */
	struct {
		struct hull_cgroup_blkio_entry *service_bytes; size_t n_service_bytes;
		struct hull_cgroup_blkio_entry *serviced; size_t n_serviced;
	} blkio;
	struct hull_cgroup_hugetlb *hugetlb; size_t n_hugetlb;
};

/* Collect what the cgroup's controllers offer; absent controllers leave zeros.
 * Release with hull_cgroup_stats_free(). */
int hull_cgroup_stats(struct hull_cgroup *cg, struct hull_cgroup_stats *st, struct hull_err *err);
void hull_cgroup_stats_free(struct hull_cgroup_stats *st);

/* One runc event line: {"type":"stats","id":"<id>","data":{…types.Stats…}}\n
 * (st == NULL: {"type":"<type>","id":"<id>"}\n, e.g. type "oom").
 * Returns 0 or negative errno. */
int hull_cgroup_event_write(FILE *out, const char *type, const char *id,
			    const struct hull_cgroup_stats *st);

/* ---- OOM notifications --------------------------------------------------- */

/* A pollable watch: v2 inotify on memory.events (oom_kill counter), v1 an
 * eventfd registered on memory.oom_control via cgroup.event_control. */
struct hull_cgroup_oom_watch;
int hull_cgroup_oom_watch_open(struct hull_cgroup *cg, struct hull_cgroup_oom_watch **out,
			       struct hull_err *err);
/* fd to poll for POLLIN. */
int hull_cgroup_oom_watch_fd(const struct hull_cgroup_oom_watch *w);
/* After POLLIN (or any time): the number of OOM events since the last call
 * (0 if none); -ENOENT once the cgroup is gone. */
int hull_cgroup_oom_watch_read(struct hull_cgroup_oom_watch *w, uint64_t *n_new, struct hull_err *err);
void hull_cgroup_oom_watch_free(struct hull_cgroup_oom_watch *w);

#endif
