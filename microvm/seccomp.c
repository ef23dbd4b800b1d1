/* seccomp.c — per-thread seccomp filters for the VMM.
 *
 * Once a VM runs, a vCPU thread only moves data between the guest and
 * already-open files and sockets, and the I/O thread only waits on and
 * services those descriptors.  Each thread installs its own filter (libseccomp
 * without TSYNC applies to the calling thread only) right after it starts; a
 * guest that takes over a device model is then confined to these calls.  No
 * execve, no open: anything not listed kills the process.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/socket.h>

#include "microvm/vm.h"

/* What any VMM thread needs: memory, locks, data transfer, sockets for vsock. */
static const int common_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(lseek),
	SCMP_SYS(close), SCMP_SYS(shutdown), SCMP_SYS(connect),
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
	SCMP_SYS(accept4), SCMP_SYS(getsockopt),
	SCMP_SYS(epoll_ctl), SCMP_SYS(futex), SCMP_SYS(sched_yield),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(madvise),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(tgkill),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
};

static int build_and_load(const int *extra, size_t nextra, bool vcpu, struct hull_err *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r = 0;

	if (!ctx)
		return hull_errf(err, ENOMEM, "seccomp_init");
	for (size_t i = 0; i < sizeof(common_syscalls) / sizeof(common_syscalls[0]) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, common_syscalls[i], 0);
	for (size_t i = 0; i < nextra && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, extra[i], 0);
	/* vsock connects only to UNIX sockets. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* The only ioctls after setup: running the vCPU and raising interrupt lines. */
	if (r == 0 && vcpu)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, KVM_RUN));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, KVM_IRQ_LINE));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return hull_errf_sys(err, -r, "loading the %s seccomp filter", vcpu ? "vCPU" : "I/O thread");
	return 0;
}

int vm_seccomp_vcpu(struct hull_err *err)
{
	return build_and_load(NULL, 0, true, err);
}

int vm_seccomp_io(struct hull_err *err)
{
	static const int io_extra[] = { SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait) };

	return build_and_load(io_extra, sizeof(io_extra) / sizeof(io_extra[0]), false, err);
}
