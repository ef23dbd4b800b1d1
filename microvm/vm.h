/* vm.h — internals shared by the VMM's files (not for the runtime: see
 * microvm.h).  One struct hull_vm per VM; devices attach to it through the
 * self-registering device-type list, and receive guest accesses through the
 * PIO/MMIO buses (bus.h).
 */
#ifndef HULL_MICROVM_VM_H
#define HULL_MICROVM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "microvm/boot.h"
#include "microvm/bus.h"
#include "microvm/kvm.h"
#include "microvm/microvm.h"

/* Guest-physical layout (all below 1 MiB is guest RAM, see boot.c). */
#define VM_GDT_ADDR        0x0500ull
#define VM_PVH_INFO_ADDR   0x6000ull
#define VM_BOOT_PARAMS     0x7000ull
#define VM_PML4_ADDR       0x9000ull
#define VM_CMDLINE_ADDR    0x20000ull
#define VM_CMDLINE_MAX     4096u
#define VM_EBDA_START      0x9fc00ull
#define VM_HIMEM_START     0x100000ull
#define VM_VIRTIO_MMIO_BASE 0xd0001000ull   /* one 4 KiB window per device */
#define VM_VIRTIO_MMIO_SIZE 0x1000ull
#define VM_VIRTIO_IRQ_BASE 5                /* IOAPIC pins 5.. for virtio devices */
#define VM_VIRTIO_IRQ_MAX  23
#define VM_SERIAL_IRQ      4
#define VM_IOAPIC_PINS     24

struct vm_io_handler;
typedef void (*vm_io_fn)(struct vm_io_handler *h, uint32_t events);
/* Something the I/O thread polls (a socket, a tap fd, an eventfd). */
struct vm_io_handler {
	int fd;
	vm_io_fn fn;
	void *opaque;
};

struct vcpu {
	struct hull_vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

/* Called when the VM is torn down, in reverse attach order. */
struct vm_cleanup {
	void (*fn)(void *opaque);
	void *opaque;
};

struct hull_vm {
	struct hull_vm_config cfg;
	int kvm_fd, vm_fd;
	struct guest_mem mem;
	size_t run_size;
	unsigned ncpus;
	struct vcpu vcpus[HULL_VM_MAX_CPUS];
	struct bus pio, mmio;

	char cmdline[VM_CMDLINE_MAX];
	size_t cmdline_len;
	uint64_t next_mmio;
	unsigned next_irq;

	struct vm_cleanup cleanups[32];
	unsigned ncleanups;

	struct vm_cleanup batch_end[4];   /* run by the I/O thread between epoll batches */
	unsigned nbatch_end;
	int epfd;          /* I/O thread's epoll */
	int wake_fd;       /* eventfd: stop the I/O thread */
	pthread_t io_thread;
	bool io_started;
	bool need_io_thread;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ended;
	struct hull_vm_result result;
	uint64_t t0_ns;
};

/* A device type registers itself with one line:
 *     VM_DEVICE_TYPE(serial, serial_attach);
 * hull_vm_create() calls every attach function in link order; each one looks
 * at vm->cfg and attaches zero or more devices. */
struct vm_device_type {
	const char *name;
	int (*attach)(struct hull_vm *vm, struct hull_err *err);
};
#define VM_DEVICE_TYPE(ident, attach_) \
	static const struct vm_device_type vm_devtype_##ident \
	__attribute__((used, section("hull_vmdevs"), aligned(sizeof(void *)))) = { #ident, attach_ }

uint64_t vm_now_ns(void);

/* End the VM with reason (first caller wins) and kick every vCPU out of KVM_RUN. */
void vm_end(struct hull_vm *vm, enum hull_vm_exit reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool vm_ended(struct hull_vm *vm);

/* Append " arg" to the guest command line. */
int vm_cmdline_add(struct hull_vm *vm, const char *arg, struct hull_err *err);
int vm_add_cleanup(struct hull_vm *vm, void (*fn)(void *), void *opaque, struct hull_err *err);
/* Register fd with the I/O thread (EPOLLIN unless events given). */
int vm_io_add(struct hull_vm *vm, struct vm_io_handler *h, uint32_t events, struct hull_err *err);
int vm_io_mod(struct hull_vm *vm, struct vm_io_handler *h, uint32_t events);
void vm_io_del(struct hull_vm *vm, struct vm_io_handler *h);
/* fn runs on the I/O thread after each batch of events: the one point where
 * no event of an earlier epoll_wait() still refers to a handler, so handlers
 * removed with vm_io_del() may be freed there. */
int vm_io_on_batch_end(struct hull_vm *vm, void (*fn)(void *), void *opaque, struct hull_err *err);

/* Raise an edge on an IOAPIC pin (thread-safe). */
void vm_irq_pulse(struct hull_vm *vm, unsigned irq);
void vm_irq_level(struct hull_vm *vm, unsigned irq, bool level);

/* vcpu.c */
int vcpu_create(struct hull_vm *vm, unsigned index, struct hull_err *err);
int vcpu_setup_boot(struct vcpu *cpu, const struct boot_entry *entry, struct hull_err *err);
int vcpu_start(struct vcpu *cpu, struct hull_err *err);
void vcpu_kick(struct vcpu *cpu);

/* seccomp.c: filters for the VMM's threads (installed by each thread itself). */
int vm_seccomp_vcpu(struct hull_err *err);
int vm_seccomp_io(struct hull_err *err);

#endif
