/* security.c — sec_finalize_process(): the order of the last steps before
 * execve (see runtime/security.h for the list and why each step sits where it
 * does), plus the fd and cwd checks against CVE-2024-21626.
 */
#include "runtime/security.h"
#include "runtime/security_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Is the path /proc/{self,thread-self,N,N/task/M}/fd[/…], ignoring "//" and "/./"? */
static bool under_proc_fd(const char *path)
{
	const char *comp[5];
	size_t len[5];
	size_t n = 0;
	const char *p = path;

	while (*p && n < ARRAY_SIZE(comp)) {
		const char *start;

		while (*p == '/')
			p++;
		start = p;
		while (*p && *p != '/')
			p++;
		if (p == start || (p - start == 1 && *start == '.'))
			continue;
		comp[n] = start;
		len[n] = (size_t)(p - start);
		n++;
	}
#define IS(i, s) (len[i] == sizeof(s) - 1 && memcmp(comp[i], s, sizeof(s) - 1) == 0)
	if (n < 3 || !IS(0, "proc"))
		return false;
	if (IS(1, "self") || IS(1, "thread-self") || all_digits(comp[1], len[1])) {
		if (IS(2, "fd"))
			return true;
		if (n >= 5 && IS(2, "task") && all_digits(comp[3], len[3]) && IS(4, "fd"))
			return true;
	}
	return false;
#undef IS
}

int sec_check_cwd_path(const char *cwd, struct hull_err *err)
{
	if (!cwd || cwd[0] != '/')
		return hull_errf(err, EINVAL, "process.cwd: `%s` is not an absolute path", cwd ? cwd : "");
	if (under_proc_fd(cwd))
		return hull_errf(err, EPERM, "process.cwd: `%s` goes through a /proc fd directory; refused",
				 cwd);
	return 0;
}

int sec_verify_cwd(struct hull_err *err)
{
	char buf[PATH_MAX];

	/* glibc turns the kernel's "(unreachable)/…" (a directory outside our
	 * root, e.g. reached through a leaked host fd) into ENOENT. */
	if (!getcwd(buf, sizeof(buf)))
		return hull_errf_sys(err, errno,
				     "process.cwd: the working directory is not inside the container");
	if (buf[0] != '/')
		return hull_errf(err, EPERM, "process.cwd: the working directory `%s` is not inside the container",
				 buf);
	if (under_proc_fd(buf))
		return hull_errf(err, EPERM, "process.cwd: the working directory `%s` is under /proc; refused",
				 buf);
	return 0;
}

int sec_cloexec_from(int first_fd, struct hull_err *err)
{
	_cleanup_close_ int dfd = -1;
	DIR *d;
	struct dirent *de;

	if (syscall(SYS_close_range, (unsigned)first_fd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return hull_errf_sys(err, errno, "mark fds >= %d close-on-exec", first_fd);

	/* Kernels before 5.11: walk the fd table. */
	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return hull_errf_sys(err, errno, "open /proc/self/fd");
	d = fdopendir(dfd);
	if (!d)
		return hull_errf_sys(err, errno, "read /proc/self/fd");
	dfd = -1;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || fd < first_fd || fd == dirfd(d))
			continue;
		if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) {
			int e = errno;

			closedir(d);
			return hull_errf_sys(err, e, "mark fd %ld close-on-exec", fd);
		}
	}
	closedir(d);
	return 0;
}

static int load_filter(const struct sec_process_opts *o, const struct sec_seccomp_prog *prog,
		       struct hull_err *err)
{
	int nfd, ret;

	if (sec_seccomp_uses_notify(prog) && o->prepare_notify && (ret = o->prepare_notify(o->arg)) < 0)
		return hull_errf_sys(err, -ret, "linux.seccomp: prepare to hand out the listener fd");
	ret = sec_seccomp_load(prog, &nfd, err);
	if (ret < 0)
		return ret;
	if (nfd < 0)
		return 0;
	ret = o->send_notify_fd(nfd, o->arg);
	close(nfd);
	if (ret < 0)
		return hull_errf_sys(err, -ret, "linux.seccomp: hand the listener fd to the runtime");
	return 0;
}

static int enter_cwd(const char *cwd, bool *deferred, struct hull_err *err)
{
	int ret = sec_check_cwd_path(cwd, err);

	if (ret < 0)
		return ret;
	if (chdir(cwd) < 0) {
		/* root-squashing filesystems can deny root what the target uid
		 * may enter: try again after the uid switch. */
		if (errno == EACCES && deferred) {
			*deferred = true;
			return 0;
		}
		return hull_errf_sys(err, errno, "process.cwd: chdir to `%s`", cwd);
	}
	return sec_verify_cwd(err);
}

static int finalize(const struct sec_process_opts *o, const struct sec_seccomp_prog *prog,
		    struct hull_err *err)
{
	const struct oci_process *proc = o->proc;
	unsigned lsm = o->lsm;
	bool chdir_later = false;
	int ret;

	if ((ret = sec_apply_oom_score_adj(proc, err)) < 0 ||
	    (ret = sec_apply_rlimits(proc, err)) < 0 ||
	    (ret = sec_apply_personality(o->personality, err)) < 0 ||
	    (ret = sec_apply_scheduler(&proc->scheduler, err)) < 0 ||
	    (ret = sec_apply_io_priority(&proc->io_priority, err)) < 0)
		return ret;
	if (!(lsm & SEC_LSM_PROBED) &&
	    ((proc->apparmor_profile && *proc->apparmor_profile) ||
	     (proc->selinux_label && *proc->selinux_label)))
		lsm = sec_lsm_probe();
	if ((ret = sec_lsm_apply_exec(lsm, proc, err)) < 0)
		return ret;

	/* CLOEXEC rather than close: the caller's sync fds keep working up
	 * to execve, and nothing but 0-2 and the preserved fds crosses it. */
	if ((ret = sec_cloexec_from(3 + (int)o->preserve_fds, err)) < 0)
		return ret;
	if ((ret = enter_cwd(proc->cwd, proc->user.uid != 0 ? &chdir_later : NULL, err)) < 0)
		return ret;

	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which
	 * may be gone after the capability step: load it while we have it. */
	if (prog && !proc->no_new_privileges && (ret = load_filter(o, prog, err)) < 0)
		return ret;

	if ((ret = sec_caps_drop_bounding(&proc->caps, err)) < 0 ||
	    (ret = sec_switch_user(&proc->user, o->in_userns, err)) < 0)
		return ret;
	if (chdir_later && (ret = enter_cwd(proc->cwd, NULL, err)) < 0)
		return ret;
	if ((ret = sec_caps_apply(&proc->caps, err)) < 0)
		return ret;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return hull_errf_sys(err, errno, "prctl(PR_SET_KEEPCAPS, 0)");
	if (proc->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return hull_errf_sys(err, errno, "process.noNewPrivileges: prctl(PR_SET_NO_NEW_PRIVS)");
	if (o->is_exec && proc->exec_cpu_affinity.final &&
	    (ret = sec_set_cpu_affinity(proc->exec_cpu_affinity.final, err)) < 0)
		return hull_err_wrap(err, "process.execCPUAffinity.final");

	if (prog && proc->no_new_privileges && (ret = load_filter(o, prog, err)) < 0)
		return ret;
	return 0;
}

static int check_notify_support(const struct sec_process_opts *o, struct hull_err *err)
{
	static const char *const late[] = { "socket", "connect" };

	if (!o->send_notify_fd)
		return hull_errf(err, EINVAL, "linux.seccomp: SCMP_ACT_NOTIFY is not supported here");
	if (o->prepare_notify)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(late); i++)
		if (sec_seccomp_may_notify(o->seccomp, late[i]))
			return hull_errf(err, EINVAL,
					 "linux.seccomp: SCMP_ACT_NOTIFY must not apply to %s (hull reaches the listener with it after loading the filter)",
					 late[i]);
	return 0;
}

int sec_finalize_process(const struct sec_process_opts *o, struct hull_err *err)
{
	struct sec_seccomp_prog *prog = NULL;
	int ret;

	if (!o || !o->proc)
		return hull_errf(err, EINVAL, "process: missing");
	if (o->seccomp && o->seccomp->present) {
		ret = sec_seccomp_build(o->seccomp, &prog, err);
		if (ret < 0)
			return ret;
		if (sec_seccomp_uses_notify(prog)) {
			ret = check_notify_support(o, err);
			if (ret < 0) {
				sec_seccomp_prog_free(prog);
				return ret;
			}
		}
	}
	ret = finalize(o, prog, err);
	sec_seccomp_prog_free(prog);
	return ret;
}
