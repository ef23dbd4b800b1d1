/*
 * kvm_smoke: is /dev/kvm usable at all?  Creates a VM with one vCPU in real
 * mode, runs a handful of instructions (arithmetic, a port write, a memory
 * store) and expects exactly: one KVM_EXIT_IO carrying the computed value,
 * then KVM_EXIT_HLT with the registers and guest memory as the code left them.
 *
 * Prints TAP lines and a closing "N passed, N failed" line; exit status 0 only
 * if every check passed.  With -q it prints nothing and only sets the status
 * (run.sh uses that to probe the host).
 *
 * A real-mode guest runs even on PVM, which cannot boot Linux, so passing this
 * does not prove the host can run hull's microVMs; run.sh checks that apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define GUEST_BASE   0x1000u    /* guest-physical start of the one memory slot */
#define GUEST_SIZE   0x4000u
#define STORE_ADDR   0x2000u    /* where the guest stores its result */
#define RESULT_PORT  0x10u
#define MAX_EXITS    16         /* the code makes 2; more means it went astray */
#define RUN_TIMEOUT  60         /* seconds; TCG-nested guests are slow, not stuck */

static bool quiet;
static int passed, failed;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	ok ? passed++ : failed++;
	if (quiet)
		return;
	printf("%sok %d - ", ok ? "" : "not ", passed + failed);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void note(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * 16-bit code at GUEST_BASE:
 *   mov ax, 0x1234 ; add ax, 0x0101 ; mov dx, RESULT_PORT ; out dx, ax
 *   inc ax ; mov [STORE_ADDR], ax ; mov bx, 0xbeef ; hlt
 * Expected: OUT of 0x1335 (2 bytes) to RESULT_PORT, then HLT with
 * ax = 0x1336, bx = 0xbeef and the word 0x1336 at STORE_ADDR.
 */
static const uint8_t guest_code[] = {
	0xb8, 0x34, 0x12,                       /* mov ax, 0x1234 */
	0x05, 0x01, 0x01,                       /* add ax, 0x0101 */
	0xba, RESULT_PORT, 0x00,                /* mov dx, RESULT_PORT */
	0xef,                                   /* out dx, ax */
	0x40,                                   /* inc ax */
	0xa3, STORE_ADDR & 0xff, STORE_ADDR >> 8, /* mov [STORE_ADDR], ax */
	0xbb, 0xef, 0xbe,                       /* mov bx, 0xbeef */
	0xf4,                                   /* hlt */
};

struct vm {
	int kvm, vm, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

static void vm_close(struct vm *v)
{
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, v->run_size);
	if (v->mem && v->mem != MAP_FAILED)
		munmap(v->mem, GUEST_SIZE);
	if (v->vcpu >= 0)
		close(v->vcpu);
	if (v->vm >= 0)
		close(v->vm);
	if (v->kvm >= 0)
		close(v->kvm);
}

/* Returns false (after reporting which step failed) if the VM cannot be set up. */
static bool vm_setup(struct vm *v)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int version, mmap_size;

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	check(v->kvm >= 0, "open /dev/kvm%s%s", v->kvm < 0 ? ": " : "",
	      v->kvm < 0 ? strerror(errno) : "");
	if (v->kvm < 0)
		return false;

	version = ioctl(v->kvm, KVM_GET_API_VERSION, 0);
	check(version == KVM_API_VERSION, "KVM_GET_API_VERSION is %d (want %d)", version,
	      KVM_API_VERSION);
	if (version != KVM_API_VERSION)
		return false;
	check(ioctl(v->kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) > 0,
	      "KVM_CAP_USER_MEMORY is available");

	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	check(v->vm >= 0, "KVM_CREATE_VM%s%s", v->vm < 0 ? ": " : "", v->vm < 0 ? strerror(errno) : "");
	if (v->vm < 0)
		return false;

	v->mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED) {
		check(false, "mmap guest memory: %s", strerror(errno));
		return false;
	}
	memcpy(v->mem, guest_code, sizeof(guest_code));
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = GUEST_BASE,
		.memory_size = GUEST_SIZE,
		.userspace_addr = (uintptr_t)v->mem,
	};
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		check(false, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return false;
	}

	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	check(v->vcpu >= 0, "KVM_CREATE_VCPU%s%s", v->vcpu < 0 ? ": " : "",
	      v->vcpu < 0 ? strerror(errno) : "");
	if (v->vcpu < 0)
		return false;
	mmap_size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run)) {
		check(false, "KVM_GET_VCPU_MMAP_SIZE returned %d", mmap_size);
		return false;
	}
	v->run_size = (size_t)mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED) {
		check(false, "mmap kvm_run: %s", strerror(errno));
		return false;
	}

	/* A fresh vCPU is in real mode at the reset vector; only CS needs moving. */
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0) {
		check(false, "KVM_GET_SREGS: %s", strerror(errno));
		return false;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0) {
		check(false, "KVM_SET_SREGS: %s", strerror(errno));
		return false;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_BASE;
	regs.rflags = 0x2;  /* bit 1 is reserved and must be set */
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0) {
		check(false, "KVM_SET_REGS: %s", strerror(errno));
		return false;
	}
	return true;
}

static void vm_run(struct vm *v)
{
	bool saw_io = false, saw_hlt = false;
	uint16_t io_value = 0, stored;
	struct kvm_regs regs;
	double t0 = now_ms();
	int exits;

	for (exits = 0; exits < MAX_EXITS && !saw_hlt; exits++) {
		if (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
			check(false, "KVM_RUN: %s", strerror(errno));
			return;
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_IO:
			if (saw_io || v->run->io.direction != KVM_EXIT_IO_OUT ||
			    v->run->io.port != RESULT_PORT || v->run->io.size != 2 ||
			    v->run->io.count != 1) {
				check(false, "unexpected I/O exit: dir %u port 0x%x size %u count %u",
				      v->run->io.direction, v->run->io.port, v->run->io.size,
				      v->run->io.count);
				return;
			}
			memcpy(&io_value, (uint8_t *)v->run + v->run->io.data_offset, sizeof(io_value));
			saw_io = true;
			break;
		case KVM_EXIT_HLT:
			saw_hlt = true;
			break;
		default:
			check(false, "unexpected exit reason %u (hardware reason 0x%llx)",
			      v->run->exit_reason,
			      (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
			return;
		}
	}
	note("guest ran in %.3f ms, %d exits", now_ms() - t0, exits);

	check(saw_io && io_value == 0x1335, "guest OUT to port 0x%x carried 0x%04x (want 0x1335)",
	      RESULT_PORT, io_value);
	check(saw_hlt, "guest stopped with KVM_EXIT_HLT");
	if (!saw_hlt)
		return;
	if (ioctl(v->vcpu, KVM_GET_REGS, &regs) < 0) {
		check(false, "KVM_GET_REGS: %s", strerror(errno));
		return;
	}
	check((regs.rax & 0xffff) == 0x1336 && (regs.rbx & 0xffff) == 0xbeef,
	      "registers after HLT: ax=0x%04llx bx=0x%04llx (want 0x1336, 0xbeef)",
	      regs.rax & 0xffff, regs.rbx & 0xffff);
	check(regs.rip == GUEST_BASE + sizeof(guest_code),
	      "rip after HLT is 0x%llx (want 0x%zx)", regs.rip, GUEST_BASE + sizeof(guest_code));
	memcpy(&stored, v->mem + (STORE_ADDR - GUEST_BASE), sizeof(stored));
	check(stored == 0x1336, "guest store reached host memory: 0x%04x (want 0x1336)", stored);
}

int main(int argc, char **argv)
{
	struct vm v = { .kvm = -1, .vm = -1, .vcpu = -1 };

	if (argc > 1 && strcmp(argv[1], "-q") == 0)
		quiet = true;
	else if (argc > 1) {
		fprintf(stderr, "usage: kvm_smoke [-q]\n");
		return 2;
	}
	/* A wedged KVM_RUN must fail the test, not hang CI: SIGALRM's default action kills us. */
	alarm(RUN_TIMEOUT);

	if (vm_setup(&v))
		vm_run(&v);
	vm_close(&v);
	if (!quiet)
		printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
