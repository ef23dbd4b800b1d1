/* procattr.c — per-process attributes from process.* and linux.personality:
 * rlimits, oomScoreAdj, personality, scheduler, ioPriority, CPU affinity, and
 * the uid/gid switch.  Each function does nothing when its field is absent, so
 * the common config costs no syscalls here.
 */
#include "runtime/security_internal.h"
#include "runtime/security.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "rootfs/rootfs.h"

int sec_apply_rlimits(const struct oci_process *proc, struct hull_err *err)
{
	for (size_t i = 0; i < proc->n_rlimits; i++) {
		const struct oci_rlimit *r = &proc->rlimits[i];
		struct rlimit rl = { .rlim_cur = r->soft, .rlim_max = r->hard };

		if (setrlimit(r->resource, &rl) < 0)
			return hull_errf_sys(err, errno,
					     "process.rlimits: set %s to soft %llu, hard %llu", r->type,
					     (unsigned long long)r->soft, (unsigned long long)r->hard);
	}
	return 0;
}

int sec_apply_oom_score_adj(const struct oci_process *proc, struct hull_err *err)
{
	_cleanup_close_ int fd = -1;
	char buf[32];
	int n, ret;

	if (!proc->oom_score_adj.set)
		return 0;
	n = snprintf(buf, sizeof(buf), "%lld", (long long)proc->oom_score_adj.v);
	/* through rootfs_proc_open(): no mount over /proc can take the write */
	fd = rootfs_proc_open("self/oom_score_adj", O_WRONLY, err);
	if (fd < 0)
		return hull_err_wrap(err, "process.oomScoreAdj");
	ret = hull_write_all(fd, buf, (size_t)n);
	if (ret < 0)
		return hull_errf_sys(err, -ret, "process.oomScoreAdj: write %s to /proc/self/oom_score_adj", buf);
	return 0;
}

int sec_apply_personality(const struct oci_personality *p, struct hull_err *err)
{
	unsigned long persona;

	if (!p || !p->present)
		return 0;
	if (!p->domain || strcmp(p->domain, "LINUX") == 0)
		persona = PER_LINUX;
	else if (strcmp(p->domain, "LINUX32") == 0)
		persona = PER_LINUX32;
	else
		return hull_errf(err, EINVAL, "linux.personality.domain: unknown domain `%s`", p->domain);
	if (p->n_flags)
		return hull_errf(err, EINVAL, "linux.personality.flags: `%s` is not supported",
				 p->flags[0]);
	if (personality(persona) < 0)
		return hull_errf_sys(err, errno, "linux.personality: set domain %s", p->domain);
	return 0;
}

/* The kernel's struct sched_attr (uapi linux/sched/types.h), version 0 size. */
struct hull_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static const struct { const char *name; uint64_t value; } sched_flag_names[] = {
	{ "SCHED_FLAG_RESET_ON_FORK", 0x01 },
	{ "SCHED_FLAG_RECLAIM", 0x02 },
	{ "SCHED_FLAG_DL_OVERRUN", 0x04 },
	{ "SCHED_FLAG_KEEP_POLICY", 0x08 },
	{ "SCHED_FLAG_KEEP_PARAMS", 0x10 },
	{ "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
	{ "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
};

int sec_apply_scheduler(const struct oci_scheduler *s, struct hull_err *err)
{
	struct hull_sched_attr attr = { .size = sizeof(attr) };

	if (!s->present)
		return 0;
	attr.sched_policy = (uint32_t)s->policy_value;
	attr.sched_nice = s->nice;
	attr.sched_priority = (uint32_t)s->priority;
	attr.sched_runtime = s->runtime;
	attr.sched_deadline = s->deadline;
	attr.sched_period = s->period;
	for (size_t i = 0; i < s->n_flags; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(sched_flag_names); k++)
			if (strcmp(s->flags[i], sched_flag_names[k].name) == 0)
				break;
		if (k == ARRAY_SIZE(sched_flag_names))
			return hull_errf(err, EINVAL, "process.scheduler.flags: unknown flag `%s`",
					 s->flags[i]);
		attr.sched_flags |= sched_flag_names[k].value;
	}
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		return hull_errf_sys(err, errno, "process.scheduler: set policy %s",
				     s->policy ? s->policy : "?");
	return 0;
}

#define HULL_IOPRIO_WHO_PROCESS 1
#define HULL_IOPRIO_CLASS_SHIFT 13

int sec_apply_io_priority(const struct oci_io_priority *io, struct hull_err *err)
{
	int prio;

	if (!io->present)
		return 0;
	if (io->priority < 0 || io->priority > 7)
		return hull_errf(err, EINVAL, "process.ioPriority.priority: %d is not in 0..7",
				 io->priority);
	prio = (io->class_value << HULL_IOPRIO_CLASS_SHIFT) | io->priority;
	if (syscall(SYS_ioprio_set, HULL_IOPRIO_WHO_PROCESS, 0, prio) < 0)
		return hull_errf_sys(err, errno, "process.ioPriority: set %s/%d",
				     io->class_name ? io->class_name : "?", io->priority);
	return 0;
}

static int parse_cpu(const char **p, unsigned long *out)
{
	char *end;

	if (**p < '0' || **p > '9')
		return -1;
	errno = 0;
	*out = strtoul(*p, &end, 10);
	if (errno || *out >= CPU_SETSIZE)
		return -1;
	*p = end;
	return 0;
}

int sec_parse_cpu_list(const char *list, cpu_set_t *set, struct hull_err *err)
{
	const char *p = list;

	CPU_ZERO(set);
	while (*p) {
		unsigned long lo, hi;

		if (parse_cpu(&p, &lo) < 0)
			goto bad;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, &hi) < 0 || hi < lo)
				goto bad;
		}
		for (unsigned long c = lo; c <= hi; c++)
			CPU_SET(c, set);
		if (*p == ',') {
			if (!*++p)
				goto bad;
		} else if (*p)
			goto bad;
	}
	if (CPU_COUNT(set) == 0)
		goto bad;
	return 0;
bad:
	return hull_errf(err, EINVAL, "`%s` is not a CPU list (like 0-3,7)", list);
}

int sec_set_cpu_affinity(const char *cpu_list, struct hull_err *err)
{
	cpu_set_t set;

	if (!cpu_list || !*cpu_list)
		return 0;
	if (sec_parse_cpu_list(cpu_list, &set, err) < 0)
		return -err->code;
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return hull_errf_sys(err, errno, "set the CPU affinity to %s", cpu_list);
	return 0;
}

int sec_switch_user(const struct oci_user *u, bool in_userns, struct hull_err *err)
{
	/* Keep the permitted set through setuid(non-zero); sec_caps_apply()
	 * then picks what stays. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return hull_errf_sys(err, errno, "prctl(PR_SET_KEEPCAPS)");

	if (setgroups(u->n_additional_gids, (const gid_t *)u->additional_gids) < 0) {
		/* A user namespace with setgroups "deny" (rootless with a single
		 * mapped gid) cannot drop groups it never had: nothing to do. */
		if (!(errno == EPERM && in_userns && u->n_additional_gids == 0))
			return hull_errf_sys(err, errno, "process.user.additionalGids: setgroups");
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return hull_errf_sys(err, errno, "process.user.gid: setgid(%u)", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return hull_errf_sys(err, errno, "process.user.uid: setuid(%u)", u->uid);
	if (u->umask.set)
		umask((mode_t)(u->umask.v & 07777));
	return 0;
}
