/* kvm.c — /dev/kvm, the VM and its memfd-backed guest RAM (see kvm.h). */
#include "microvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Where the VMX real-mode helpers live (ignored on AMD), just below the BIOS area's top. */
#define KVM_TSS_ADDR 0xfffbd000ul
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ull

void gmem_layout(uint64_t size, uint64_t *low, uint64_t *high)
{
	*low = size < VM_MMIO_GAP_START ? size : VM_MMIO_GAP_START;
	*high = size - *low;
}

static int set_slot(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size, void *host, struct hull_err *err)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return hull_errf_sys(err, errno, "KVM_SET_USER_MEMORY_REGION slot %u", slot);
	return 0;
}

int gmem_create(struct guest_mem *m, int vm_fd, uint64_t size, struct hull_err *err)
{
	uint64_t low, high;
	void *p;
	int r;

	m->memfd = memfd_create("hull-guest-ram", MFD_CLOEXEC);
	if (m->memfd < 0)
		return hull_errf_sys(err, errno, "memfd_create for guest RAM");
	if (ftruncate(m->memfd, (off_t)size) < 0)
		return hull_errf_sys(err, errno, "sizing guest RAM to %llu MiB", (unsigned long long)(size >> 20));
	/* MAP_NORESERVE: only pages the guest touches cost host memory. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, m->memfd, 0);
	if (p == MAP_FAILED)
		return hull_errf_sys(err, errno, "mapping guest RAM");
	m->host = p;
	m->size = size;
	gmem_layout(size, &low, &high);
	m->low_size = low;
	madvise(p, size, MADV_DONTDUMP);
	/* Huge pages cut nested-paging faults by 512x while the guest first
	 * touches its RAM; for a memfd this takes effect only where the host
	 * allows it (/sys/kernel/mm/transparent_hugepage/shmem_enabled = advise). */
	madvise(p, size, MADV_HUGEPAGE);
	r = set_slot(vm_fd, 0, 0, low, m->host, err);
	if (r == 0 && high)
		r = set_slot(vm_fd, 1, VM_HIGH_RAM_START, high, m->host + low, err);
	return r;
}

void gmem_destroy(struct guest_mem *m)
{
	if (m->host)
		munmap(m->host, m->size);
	if (m->memfd >= 0)
		close(m->memfd);
	m->host = NULL;
	m->memfd = -1;
}

int kvm_open(int *kvm_fd, size_t *run_size, struct hull_err *err)
{
	static const struct { int cap; const char *name; } needed[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	};
	int fd, v;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return hull_errf_sys(err, errno, "/dev/kvm");
	v = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		close(fd);
		return hull_errf(err, ENOTSUP, "/dev/kvm: API version %d, need %d", v, KVM_API_VERSION);
	}
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
			close(fd);
			return hull_errf(err, ENOTSUP, "/dev/kvm: missing %s", needed[i].name);
		}
	}
	v = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (v <= 0) {
		int e = errno;
		close(fd);
		return hull_errf_sys(err, e, "KVM_GET_VCPU_MMAP_SIZE");
	}
	*run_size = (size_t)v;
	*kvm_fd = fd;
	return 0;
}

int kvm_create_vm(int kvm_fd, int *vm_fd, struct hull_err *err)
{
	struct kvm_pit_config pit = { .flags = 0 };
	int fd;

	fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (fd < 0)
		return hull_errf_sys(err, errno, "KVM_CREATE_VM");
	*vm_fd = fd;
	/* Intel needs these two pages for real-mode emulation; harmless elsewhere. */
	if (ioctl(fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0 && errno != ENOTTY && errno != EINVAL)
		return hull_errf_sys(err, errno, "KVM_SET_TSS_ADDR");
	if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
		uint64_t addr = KVM_IDENTITY_MAP_ADDR;
		if (ioctl(fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
			return hull_errf_sys(err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
	}
	if (ioctl(fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return hull_errf_sys(err, errno, "KVM_CREATE_IRQCHIP");
	if (ioctl(fd, KVM_CREATE_PIT2, &pit) < 0)
		return hull_errf_sys(err, errno, "KVM_CREATE_PIT2");
	return 0;
}
