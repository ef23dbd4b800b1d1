/* microvm.h — hull's KVM microVM: the narrow interface the runtime uses.
 *
 * Contract:
 *   hull_vm_create()  opens /dev/kvm, makes the VM (memfd-backed guest RAM,
 *                     in-kernel irqchip + PIT, vCPUs), loads the kernel
 *                     (ELF vmlinux through its PVH note, or a 64-bit bzImage),
 *                     the initrd and the command line, and attaches devices.
 *                     Nothing runs yet.  Files named in the config are opened
 *                     here, so a bad path fails before any guest code runs.
 *   hull_vm_start()   starts the vCPU threads and the device I/O thread.
 *   hull_vm_wait()    blocks until the guest ends and says why.
 *   hull_vm_destroy() releases everything (safe after a failed create).
 * Every value the guest can write (registers, descriptors, packets) is
 * untrusted; a misbehaving guest ends its own VM, never the host process.
 */
#ifndef HULL_MICROVM_H
#define HULL_MICROVM_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

#define HULL_VM_MAX_DISKS 8
#define HULL_VM_MAX_CPUS 64

struct hull_vm_disk {
	const char *path;
	bool read_only;
};

struct hull_vm_config {
	const char *kernel;        /* ELF vmlinux (PVH) or bzImage */
	const char *initrd;        /* optional */
	const char *cmdline;       /* appended after hull's own arguments; optional */
	uint32_t mem_mib;          /* guest RAM; 0 = 256 */
	uint32_t cpus;             /* 0 = 1 */
	struct hull_vm_disk disks[HULL_VM_MAX_DISKS];
	unsigned ndisks;
	const char *vsock_dir;     /* optional: host side of virtio-vsock, see virtio/vsock.h */
	uint32_t vsock_cid;        /* guest CID; 0 = 3 */
	int tap_fd;                /* optional virtio-net backend (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR); -1 = none */
	bool console;              /* 8250 on ttyS0 wired to console_fd, console=ttyS0 */
	int console_fd;            /* where guest serial output goes (e.g. 1) */
	unsigned timeout_ms;       /* 0 = none */
	bool seccomp;              /* per-thread seccomp filters after setup */
	/* optional virtio-fs (virtio/fs.c): the directory fs_root_fd (O_PATH
	 * is enough) is shared with the guest under the mount tag fs_tag;
	 * no device when fs_tag is NULL.  The fd stays the caller's. */
	const char *fs_tag;
	int fs_root_fd;
	bool fs_read_only;
};

enum hull_vm_exit {
	HULL_VM_EXIT_POWEROFF = 0,   /* guest asked to power off */
	HULL_VM_EXIT_REBOOT,         /* guest asked to reboot (i8042 / port 0xcf9 reset) */
	HULL_VM_EXIT_TRIPLE_FAULT,   /* KVM_EXIT_SHUTDOWN: reboot=t, or a crashed guest */
	HULL_VM_EXIT_CRASH,          /* KVM internal error / failed entry / unhandled exit */
	HULL_VM_EXIT_TIMEOUT,        /* timeout_ms elapsed */
	HULL_VM_EXIT_ERROR,          /* the VMM itself failed (see result.detail) */
};

struct hull_vm_result {
	enum hull_vm_exit reason;
	char detail[256];            /* human-readable: exit code, registers, errno */
	bool boot_timer_hit;         /* the guest wrote the boot-timer device */
	uint64_t boot_timer_ns;      /* from hull_vm_create() to that write */
	uint64_t run_ns;             /* from hull_vm_create() to the end */
};

struct hull_vm;

int hull_vm_create(const struct hull_vm_config *cfg, struct hull_vm **out, struct hull_err *err);
int hull_vm_start(struct hull_vm *vm, struct hull_err *err);
void hull_vm_wait(struct hull_vm *vm, struct hull_vm_result *res);
void hull_vm_destroy(struct hull_vm *vm);

/* The guest RAM memfd (e.g. to share it with another process later). */
int hull_vm_memfd(const struct hull_vm *vm);

const char *hull_vm_exit_name(enum hull_vm_exit reason);

/* Open the tap interface `name` as a virtio-net backend (vnet header on). */
int hull_vm_open_tap(const char *name, struct hull_err *err);

/* Boot-timer device: the guest writes HULL_BOOT_TIMER_MAGIC (one byte) to this
 * I/O port (the same port and value Firecracker uses, so its guest tooling works). */
#define HULL_BOOT_TIMER_PORT 0x03f0
#define HULL_BOOT_TIMER_MMIO 0xd0000000ull
#define HULL_BOOT_TIMER_MAGIC 123

#endif
