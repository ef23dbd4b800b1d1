/* vcpu.c — vCPU creation, CPUID/MSR/LAPIC setup, boot registers and the
 * per-vCPU run loop that forwards I/O exits to the buses. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "lib/log.h"
#include "microvm/boot.h"
#include "microvm/vm.h"

#define CPUID_HYPERVISOR_BIT (1u << 31)
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 1
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI 0x4

static int vcpu_kick_signal(void) { return SIGRTMIN; }

static void kick_handler(int sig) { (void)sig; }

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd, struct hull_err *err)
{
	for (unsigned nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c) {
			hull_errf(err, ENOMEM, "CPUID table");
			return NULL;
		}
		c->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG) {
			hull_errf_sys(err, errno, "KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
	}
	hull_errf(err, E2BIG, "KVM_GET_SUPPORTED_CPUID: table too large");
	return NULL;
}

static int setup_cpuid(struct vcpu *cpu, struct hull_err *err)
{
	struct kvm_cpuid2 *c = supported_cpuid(cpu->vm->kvm_fd, err);
	int r = 0;

	if (!c)
		return -err->code;
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			/* Without the hypervisor bit the guest trusts no paravirt clock and
			 * cannot calibrate its TSC: it hangs. */
			e->ecx |= CPUID_HYPERVISOR_BIT;
			e->ebx = (e->ebx & 0x0000ffffu) | (cpu->vm->ncpus << 16) | (cpu->index << 24);
			break;
		case 0xb:
		case 0x1f:
			e->edx = cpu->index;   /* x2APIC id */
			break;
		}
	}
	if (ioctl(cpu->fd, KVM_SET_CPUID2, c) < 0)
		r = hull_errf_sys(err, errno, "vCPU %u: KVM_SET_CPUID2", cpu->index);
	free(c);
	return r;
}

static int setup_msrs_fpu_lapic(struct vcpu *cpu, struct hull_err *err)
{
	struct { struct kvm_msrs hdr; struct kvm_msr_entry e[1]; } msrs = {
		.hdr.nmsrs = 1,
		.e = { { .index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING } },
	};
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_lapic_state lapic;
	uint32_t v;

	if (ioctl(cpu->fd, KVM_SET_MSRS, &msrs) < 0)
		return hull_errf_sys(err, errno, "vCPU %u: KVM_SET_MSRS", cpu->index);
	if (ioctl(cpu->fd, KVM_SET_FPU, &fpu) < 0)
		return hull_errf_sys(err, errno, "vCPU %u: KVM_SET_FPU", cpu->index);
	/* LINT0 = ExtINT (8259 via the local APIC), LINT1 = NMI: what firmware leaves. */
	if (ioctl(cpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return hull_errf_sys(err, errno, "vCPU %u: KVM_GET_LAPIC", cpu->index);
	memcpy(&v, lapic.regs + APIC_LVT0, 4);
	v = (v & ~0x700u) | (APIC_MODE_EXTINT << 8);
	memcpy(lapic.regs + APIC_LVT0, &v, 4);
	memcpy(&v, lapic.regs + APIC_LVT1, 4);
	v = (v & ~0x700u) | (APIC_MODE_NMI << 8);
	memcpy(lapic.regs + APIC_LVT1, &v, 4);
	if (ioctl(cpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return hull_errf_sys(err, errno, "vCPU %u: KVM_SET_LAPIC", cpu->index);
	return 0;
}

int vcpu_create(struct hull_vm *vm, unsigned index, struct hull_err *err)
{
	struct vcpu *cpu = &vm->vcpus[index];
	void *run;
	int r;

	cpu->vm = vm;
	cpu->index = index;
	cpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (cpu->fd < 0)
		return hull_errf_sys(err, errno, "KVM_CREATE_VCPU %u", index);
	run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu->fd, 0);
	if (run == MAP_FAILED)
		return hull_errf_sys(err, errno, "vCPU %u: mapping kvm_run", index);
	cpu->run = run;
	r = setup_cpuid(cpu, err);
	if (r == 0)
		r = setup_msrs_fpu_lapic(cpu, err);
	return r;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code64)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
		.present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64 ? 1 : 0, .g = 1,
	};
}

int vcpu_setup_boot(struct vcpu *cpu, const struct boot_entry *entry, struct hull_err *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 0x2, .rip = entry->rip };
	bool lm = entry->mode == BOOT_LINUX64;

	if (ioctl(cpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return hull_errf_sys(err, errno, "KVM_GET_SREGS");
	flat_segment(&sregs.cs, lm ? 0x10 : 0x08, 0xb, lm);
	flat_segment(&sregs.ds, 0x18, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	sregs.gdt.base = VM_GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	if (lm) {
		sregs.cr3 = VM_PML4_ADDR;
		sregs.cr4 = 0x20;                  /* PAE */
		sregs.cr0 = 0x80000011;            /* PG | ET | PE */
		sregs.efer = 0x500;                /* LMA | LME */
		regs.rsi = entry->arg;
	} else {
		sregs.cr0 = 0x11;                  /* ET | PE, no paging (PVH) */
		sregs.cr4 = 0;
		sregs.efer = 0;
		regs.rbx = entry->arg;
	}
	if (ioctl(cpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return hull_errf_sys(err, errno, "KVM_SET_SREGS");
	if (ioctl(cpu->fd, KVM_SET_REGS, &regs) < 0)
		return hull_errf_sys(err, errno, "KVM_SET_REGS");
	return 0;
}

static bool handle_io(struct vcpu *cpu)
{
	struct kvm_run *run = cpu->run;
	uint64_t size = run->io.size, count = run->io.count;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	if (size == 0 || size > 8 || run->io.data_offset + size * count > cpu->vm->run_size)
		return false;
	for (uint64_t i = 0; i < count; i++, data += size)
		bus_dispatch(&cpu->vm->pio, run->io.port, data, (uint32_t)size, run->io.direction == KVM_EXIT_IO_OUT);
	return true;
}

static void run_loop(struct vcpu *cpu)
{
	struct hull_vm *vm = cpu->vm;
	struct kvm_run *run = cpu->run;

	for (;;) {
		if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				if (vm_ended(vm))
					return;
				run->immediate_exit = 0;
				continue;
			}
			vm_end(vm, HULL_VM_EXIT_ERROR, "vCPU %u: KVM_RUN: %s", cpu->index, strerror(errno));
			return;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (!handle_io(cpu)) {
				vm_end(vm, HULL_VM_EXIT_CRASH, "vCPU %u: malformed I/O exit", cpu->index);
				return;
			}
			break;
		case KVM_EXIT_MMIO:
			bus_dispatch(&vm->mmio, run->mmio.phys_addr, run->mmio.data,
			             run->mmio.len <= 8 ? run->mmio.len : 8, run->mmio.is_write);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SHUTDOWN:
			vm_end(vm, HULL_VM_EXIT_TRIPLE_FAULT, "vCPU %u: triple fault (guest reset)", cpu->index);
			return;
		case KVM_EXIT_HLT:
			vm_end(vm, HULL_VM_EXIT_POWEROFF, "vCPU %u halted", cpu->index);
			return;
		case KVM_EXIT_SYSTEM_EVENT:
			switch (run->system_event.type) {
			case KVM_SYSTEM_EVENT_SHUTDOWN:
				vm_end(vm, HULL_VM_EXIT_POWEROFF, "guest powered off");
				break;
			case KVM_SYSTEM_EVENT_RESET:
				vm_end(vm, HULL_VM_EXIT_REBOOT, "guest reset");
				break;
			default:
				vm_end(vm, HULL_VM_EXIT_CRASH, "guest system event %u", run->system_event.type);
				break;
			}
			return;
		case KVM_EXIT_FAIL_ENTRY:
			vm_end(vm, HULL_VM_EXIT_CRASH, "vCPU %u: VM entry failed (reason 0x%llx)", cpu->index,
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return;
		case KVM_EXIT_INTERNAL_ERROR:
			vm_end(vm, HULL_VM_EXIT_CRASH, "vCPU %u: KVM internal error (suberror %u)", cpu->index,
			       run->internal.suberror);
			return;
		default:
			vm_end(vm, HULL_VM_EXIT_CRASH, "vCPU %u: unhandled exit reason %u", cpu->index, run->exit_reason);
			return;
		}
		if (vm_ended(vm))
			return;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *cpu = arg;
	struct hull_err err = { 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, vcpu_kick_signal());
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (cpu->vm->cfg.seccomp && vm_seccomp_vcpu(&err) < 0) {
		vm_end(cpu->vm, HULL_VM_EXIT_ERROR, "vCPU %u: seccomp: %s", cpu->index, err.msg);
		return NULL;
	}
	run_loop(cpu);
	return NULL;
}

int vcpu_start(struct vcpu *cpu, struct hull_err *err)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	int r;

	/* No SA_RESTART: the kick must make KVM_RUN return EINTR. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(vcpu_kick_signal(), &sa, NULL) < 0)
		return hull_errf_sys(err, errno, "installing the vCPU kick handler");
	r = pthread_create(&cpu->thread, NULL, vcpu_thread, cpu);
	if (r != 0)
		return hull_errf_sys(err, r, "starting vCPU %u", cpu->index);
	cpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *cpu)
{
	if (!cpu->started)
		return;
	cpu->run->immediate_exit = 1;
	pthread_kill(cpu->thread, vcpu_kick_signal());
}
