/* seccomp_default.h — the default seccomp policy of an image run.
 *
 * Shape: allow by default, EPERM for the syscalls that podman's and
 * docker's default profiles keep away from containers (kernel modules,
 * kexec/reboot, clock setting, mount/namespace manipulation, keyrings,
 * kernel-global tracing and BPF, obsolete and dangerous interfaces), each
 * unless the container was given the capability that legitimately needs it.
 * This is the denylist those profiles express through their allowlist;
 * --security-opt seccomp=FILE takes podman's own seccomp.json verbatim.
 */
#ifndef HULL_ROOTFS_IMAGE_SECCOMP_DEFAULT_H
#define HULL_ROOTFS_IMAGE_SECCOMP_DEFAULT_H

static const struct { const char *name; const char *unless_cap; } seccomp_denied[] = {
	{ "acct", "CAP_SYS_PACCT" },
	{ "add_key", NULL },
	{ "bpf", "CAP_SYS_ADMIN" },
	{ "clock_adjtime", "CAP_SYS_TIME" },
	{ "clock_settime", "CAP_SYS_TIME" },
	{ "create_module", "CAP_SYS_MODULE" },
	{ "delete_module", "CAP_SYS_MODULE" },
	{ "fanotify_init", "CAP_SYS_ADMIN" },
	{ "finit_module", "CAP_SYS_MODULE" },
	{ "fsconfig", "CAP_SYS_ADMIN" },
	{ "fsmount", "CAP_SYS_ADMIN" },
	{ "fsopen", "CAP_SYS_ADMIN" },
	{ "fspick", "CAP_SYS_ADMIN" },
	{ "get_kernel_syms", "CAP_SYS_MODULE" },
	{ "get_mempolicy", "CAP_SYS_NICE" },
	{ "init_module", "CAP_SYS_MODULE" },
	{ "ioperm", "CAP_SYS_RAWIO" },
	{ "iopl", "CAP_SYS_RAWIO" },
	{ "io_uring_enter", NULL },
	{ "io_uring_register", NULL },
	{ "io_uring_setup", NULL },
	{ "kcmp", "CAP_SYS_PTRACE" },
	{ "kexec_file_load", "CAP_SYS_BOOT" },
	{ "kexec_load", "CAP_SYS_BOOT" },
	{ "keyctl", NULL },
	{ "lookup_dcookie", "CAP_SYS_ADMIN" },
	{ "mbind", "CAP_SYS_NICE" },
	{ "mount", "CAP_SYS_ADMIN" },
	{ "mount_setattr", "CAP_SYS_ADMIN" },
	{ "move_mount", "CAP_SYS_ADMIN" },
	{ "move_pages", "CAP_SYS_NICE" },
	{ "name_to_handle_at", "CAP_SYS_ADMIN" },
	{ "nfsservctl", NULL },
	{ "open_by_handle_at", "CAP_DAC_READ_SEARCH" },
	{ "open_tree", "CAP_SYS_ADMIN" },
	{ "perf_event_open", "CAP_SYS_ADMIN" },
	{ "pivot_root", "CAP_SYS_ADMIN" },
	{ "query_module", "CAP_SYS_MODULE" },
	{ "quotactl", "CAP_SYS_ADMIN" },
	{ "reboot", "CAP_SYS_BOOT" },
	{ "request_key", NULL },
	{ "set_mempolicy", "CAP_SYS_NICE" },
	{ "setns", "CAP_SYS_ADMIN" },
	{ "settimeofday", "CAP_SYS_TIME" },
	{ "swapoff", "CAP_SYS_ADMIN" },
	{ "swapon", "CAP_SYS_ADMIN" },
	{ "_sysctl", NULL },
	{ "sysfs", NULL },
	{ "syslog", "CAP_SYSLOG" },
	{ "umount2", "CAP_SYS_ADMIN" },
	{ "unshare", "CAP_SYS_ADMIN" },
	{ "uselib", NULL },
	{ "userfaultfd", "CAP_SYS_PTRACE" },
	{ "ustat", NULL },
	{ "adjtimex", "CAP_SYS_TIME" },
};

/* CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME:
 * refused in clone()'s flags (x86_64: argument 0) without CAP_SYS_ADMIN */
static const long long clone_ns_flags[] = {
	0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080,
};

#endif
