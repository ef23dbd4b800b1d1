/* kvm.h — the KVM VM and its guest RAM.
 *
 * Guest RAM is one memfd (so it can later be shared with another process),
 * mapped once in the VMM.  Below 4 GiB it stops at VM_MMIO_GAP_START, which
 * leaves room for device windows and the IOAPIC/LAPIC; the rest continues at
 * 4 GiB.  gmem_ptr() is the only way device code turns a guest address into
 * a host pointer: it refuses any range not wholly inside one RAM region.
 */
#ifndef HULL_MICROVM_KVM_H
#define HULL_MICROVM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define VM_MMIO_GAP_START 0xc0000000ull
#define VM_HIGH_RAM_START 0x100000000ull

struct guest_mem {
	uint8_t *host;       /* whole memfd mapping */
	uint64_t size;       /* total RAM bytes */
	uint64_t low_size;   /* bytes mapped at GPA 0 */
	int memfd;
};

/* Host pointer for [gpa, gpa+len) or NULL if any byte lies outside guest RAM. */
static inline void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	if (end <= m->low_size)
		return m->host + gpa;
	if (gpa >= VM_HIGH_RAM_START && end - VM_HIGH_RAM_START <= m->size - m->low_size)
		return m->host + m->low_size + (gpa - VM_HIGH_RAM_START);
	return NULL;
}

/* Layout of size bytes of guest RAM (split around the MMIO gap). */
void gmem_layout(uint64_t size, uint64_t *low, uint64_t *high);

/* Create the memfd, map it and register it with the VM as slots 0 (and 1). */
int gmem_create(struct guest_mem *m, int vm_fd, uint64_t size, struct hull_err *err);
void gmem_destroy(struct guest_mem *m);

/* Open /dev/kvm, check the API version and the extensions hull needs. */
int kvm_open(int *kvm_fd, size_t *run_size, struct hull_err *err);
/* Create the VM with the in-kernel IOAPIC/PIC/LAPIC and PIT. */
int kvm_create_vm(int kvm_fd, int *vm_fd, struct hull_err *err);

#endif
