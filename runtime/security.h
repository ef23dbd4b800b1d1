/* security.h — the last steps a container process takes before execve, and
 * the runtime-escape defenses (CVE-2019-5736, CVE-2024-21626, CVE-2022-29162).
 *
 * Who calls what:
 *
 *   host side (CLI, before anything is created)
 *     hull_ensure_sealed_self()   first thing in create/run/exec: re-exec hull
 *                                 from a sealed copy so no container can write
 *                                 the host binary through /proc/<pid>/exe.
 *     sec_lsm_probe()             once; pass the result in sec_process_opts.lsm.
 *     sec_lsm_check()             fail early (nothing created yet) when the
 *                                 config asks for AppArmor/SELinux that the host
 *                                 does not have.
 *     sec_set_cpu_affinity()      execCPUAffinity.initial, before joining the
 *                                 container's cgroup (exec only).
 *
 *   container side (init after pivot_root, or the exec'd process after setns)
 *     sec_finalize_process()      everything below, in this order, then the
 *                                 caller calls execve (nothing else between):
 *       1. build the seccomp BPF (libseccomp; nothing loaded yet)
 *       2. oomScoreAdj, rlimits, personality, scheduler (sched_setattr),
 *          ioPriority (ioprio_set) — still privileged: hard limits can rise,
 *          real-time policies need CAP_SYS_NICE
 *       3. AppArmor/SELinux exec labels (thread-self/attr via
 *          rootfs_proc_open(); they take effect at execve)
 *       4. every fd >= 3 + preserve_fds gets FD_CLOEXEC (close_range), so the
 *          caller's sync sockets still work and nothing leaks through execve
 *       5. chdir(process.cwd): a cwd naming /proc/<self|thread-self|N>/fd/… is
 *          refused, and after chdir getcwd() must be reachable from our root
 *          (CVE-2024-21626); retried after the uid switch on EACCES
 *       6. seccomp load here instead of step 10 when noNewPrivileges is false
 *          (without no_new_privs loading needs CAP_SYS_ADMIN, dropped in 8)
 *       7. bounding set drop; PR_SET_KEEPCAPS; setgroups(additionalGids);
 *          setgid; setuid; umask
 *       8. capabilities: effective/permitted/inheritable (inheritable empty
 *          unless the config names it), then ambient raise; caps the kernel
 *          does not know or that we cannot grant are warnings
 *       9. no_new_privs; execCPUAffinity.final (exec only)
 *      10. seccomp load — last; with SCMP_ACT_NOTIFY the listener fd goes to
 *          o->send_notify_fd() and is closed here.
 *
 *   host side, parent of the container process
 *     sec_seccomp_send_listener() forwards the notify fd (received from the
 *                                 child) plus the container process state to
 *                                 linux.seccomp.listenerPath.
 *
 * Limits: with SCMP_ACT_NOTIFY the rule must not cover sendmsg (the syscall
 * that hands the listener fd out; the process would wait for an agent that can
 * never get the fd): such configs are refused at build time.
 */
#ifndef HULL_RUNTIME_SECURITY_H
#define HULL_RUNTIME_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"
#include "oci/config.h"

/* ---- LSMs -------------------------------------------------------------- */

enum {
	SEC_LSM_PROBED   = 1u << 0,  /* the other bits are meaningful */
	SEC_LSM_APPARMOR = 1u << 1,
	SEC_LSM_SELINUX  = 1u << 2,
};

/* Which LSMs this host has enabled (reads /sys; call on the host side). */
unsigned sec_lsm_probe(void);

/* Error ("process.apparmorProfile: AppArmor is not enabled on this host") when
 * the process asks for a label the host cannot apply.  mount_label may be NULL.
 * SELinux labels are ignored with a debug log when SELinux is disabled (that is
 * what runc/crun do; container tools always fill them in). */
int sec_lsm_check(unsigned lsm, const struct oci_process *proc, const char *mount_label,
		  struct hull_err *err);

/* True only when SELinux is enabled: the rootfs module adds `context="…"` to
 * mounts only then. */
bool sec_selinux_enabled(void);

/* ---- the final sequence -------------------------------------------------- */

struct sec_process_opts {
	const struct oci_process *proc;          /* required */
	const struct oci_seccomp *seccomp;       /* NULL or !present: no filter */
	const struct oci_personality *personality; /* NULL or !present: unchanged */
	unsigned preserve_fds;                   /* fds 3 .. 3+n-1 survive execve */
	unsigned lsm;                            /* sec_lsm_probe() from the host; 0 = probe here */
	bool in_userns;                          /* running in a new user namespace */
	bool is_exec;                            /* `hull exec` (execCPUAffinity.final applies) */
	/* Called with the seccomp listener fd when a rule uses SCMP_ACT_NOTIFY;
	 * it runs with the filter already loaded, so it may only use syscalls the
	 * filter allows (sendmsg is guaranteed not to be notified).  The fd is
	 * closed after the call.  Required when the filter uses NOTIFY. */
	int (*send_notify_fd)(int notify_fd, void *arg);
	/* Optional, called before the filter is loaded when it uses NOTIFY
	 * (e.g. to connect to listenerPath while socket/connect are still
	 * unfiltered).  Without it, NOTIFY on socket or connect is refused: the
	 * process would wait for an agent that can never get the fd. */
	int (*prepare_notify)(void *arg);
	void *arg;
};

/* Apply process.* and linux.seccomp/personality to the calling process.  On
 * success the caller must execve() right away.  On failure the process is half
 * set up and must _exit after reporting err. */
int sec_finalize_process(const struct sec_process_opts *o, struct hull_err *err);

/* CVE-2024-21626: refuse cwd strings that go through a /proc fd directory,
 * before chdir (the string check) … */
int sec_check_cwd_path(const char *cwd, struct hull_err *err);
/* … and, after chdir, verify the kernel's view: getcwd() must succeed (glibc
 * returns ENOENT for a directory outside our root) and not be under a /proc
 * fd directory. */
int sec_verify_cwd(struct hull_err *err);

/* Mark every fd >= first_fd close-on-exec (close_range, with a /proc fallback). */
int sec_cloexec_from(int first_fd, struct hull_err *err);

/* Parse "0-3,7" and sched_setaffinity(0, …).  Used for execCPUAffinity. */
int sec_set_cpu_affinity(const char *cpu_list, struct hull_err *err);

/* ---- seccomp --------------------------------------------------------------- */

/* A filter compiled to BPF, loadable with one seccomp(2) call. */
struct sec_seccomp_prog;

/* Translate the config with libseccomp and export the BPF.  Unknown syscall
 * names are skipped with a debug log (as runc does); unknown architectures,
 * flags, an errnoRet on an action without one, and NOTIFY on sendmsg are
 * errors naming the field. */
int sec_seccomp_build(const struct oci_seccomp *sc, struct sec_seccomp_prog **out,
		      struct hull_err *err);
void sec_seccomp_prog_free(struct sec_seccomp_prog *p);
bool sec_seccomp_uses_notify(const struct sec_seccomp_prog *p);
/* Same question asked of the config (no build): the runtime must then call
 * sec_finalize_process() while a parent that can forward the listener fd to
 * listenerPath is still there — for `create`, before the init reports READY
 * and waits on exec.fifo (what runc does), not after `start`. */
bool sec_seccomp_config_uses_notify(const struct oci_seccomp *sc);
/* Whether the config may answer syscall `name` with SCMP_ACT_NOTIFY. */
bool sec_seccomp_may_notify(const struct oci_seccomp *sc, const char *name);
/* The libseccomp PFC text of the filter (for tests and --debug); caller frees. */
int sec_seccomp_export_pfc(const struct oci_seccomp *sc, char **out, struct hull_err *err);

/* Load the filter into the calling thread with the configured flags
 * (SECCOMP_FILTER_FLAG_LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV, TSYNC) plus
 * NEW_LISTENER when NOTIFY is used; *notify_fd is then the listener fd, else -1. */
int sec_seccomp_load(const struct sec_seccomp_prog *p, int *notify_fd, struct hull_err *err);

/* Host side: connect to listener_path (AF_UNIX, SOCK_STREAM), send the
 * container process state {ociVersion, fds:["seccompFd"], pid, metadata?,
 * state} with notify_fd in SCM_RIGHTS, close.  state_json is the runtime state
 * object (runtime.md "State", status "creating"); metadata may be NULL. */
int sec_seccomp_send_listener(const char *listener_path, int notify_fd, pid_t pid,
			      const char *metadata, const char *state_json,
			      struct hull_err *err);

/* ---- CVE-2019-5736 ------------------------------------------------------- */

/* If /proc/self/exe is not already a view of hull that cannot be written,
 * make one and re-exec it with the same argv and environment (does not
 * return on success).  Root: a private read-only overlayfs over the binary's
 * directory (zero copy); without the privilege to mount: a sealed memfd copy
 * of the ELF's loadable part.  Returns 0 when already sealed.  The CLI calls
 * it for create, run and exec.  Cost: one extra execve (~0.8 ms CPU here). */
int hull_ensure_sealed_self(int argc, char **argv, struct hull_err *err);

/* True when /proc/self/exe is a sealed memfd or on a read-only overlayfs. */
bool hull_self_is_sealed(void);

#endif
