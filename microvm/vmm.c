/* vmm.c — VM lifecycle: create (KVM, RAM, devices, kernel), start (vCPU and
 * I/O threads), wait (first exit reason wins) and destroy.  See microvm.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "microvm/boot.h"
#include "microvm/vm.h"

#define VM_MIN_MEM_MIB 32u
#define VM_MAX_MEM_MIB (64u * 1024u)

extern const struct vm_device_type __start_hull_vmdevs[], __stop_hull_vmdevs[];

uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *hull_vm_exit_name(enum hull_vm_exit reason)
{
	switch (reason) {
	case HULL_VM_EXIT_POWEROFF: return "poweroff";
	case HULL_VM_EXIT_REBOOT: return "reboot";
	case HULL_VM_EXIT_TRIPLE_FAULT: return "triple-fault";
	case HULL_VM_EXIT_CRASH: return "crash";
	case HULL_VM_EXIT_TIMEOUT: return "timeout";
	case HULL_VM_EXIT_ERROR: return "error";
	}
	return "unknown";
}

bool vm_ended(struct hull_vm *vm)
{
	return __atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE);
}

void vm_end(struct hull_vm *vm, enum hull_vm_exit reason, const char *fmt, ...)
{
	uint64_t one = 1;
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (vm->ended) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	vm->result.reason = reason;
	va_start(ap, fmt);
	vsnprintf(vm->result.detail, sizeof(vm->result.detail), fmt, ap);
	va_end(ap);
	vm->result.run_ns = vm_now_ns() - vm->t0_ns;
	__atomic_store_n(&vm->ended, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	if (vm->wake_fd >= 0 && write(vm->wake_fd, &one, sizeof(one)) < 0)
		hull_debug("vm: waking the I/O thread: %s", strerror(errno));
}

int vm_cmdline_add(struct hull_vm *vm, const char *arg, struct hull_err *err)
{
	size_t len = strlen(arg);

	if (len == 0)
		return 0;
	if (vm->cmdline_len + len + 2 > sizeof(vm->cmdline))
		return hull_errf(err, E2BIG, "kernel command line longer than %zu bytes", sizeof(vm->cmdline) - 1);
	if (vm->cmdline_len)
		vm->cmdline[vm->cmdline_len++] = ' ';
	memcpy(vm->cmdline + vm->cmdline_len, arg, len + 1);
	vm->cmdline_len += len;
	return 0;
}

int vm_add_cleanup(struct hull_vm *vm, void (*fn)(void *), void *opaque, struct hull_err *err)
{
	if (vm->ncleanups == ARRAY_SIZE(vm->cleanups)) {
		fn(opaque);
		return hull_errf(err, ENOSPC, "too many devices");
	}
	vm->cleanups[vm->ncleanups++] = (struct vm_cleanup){ fn, opaque };
	return 0;
}

int vm_io_add(struct hull_vm *vm, struct vm_io_handler *h, uint32_t events, struct hull_err *err)
{
	struct epoll_event ev = { .events = events ? events : EPOLLIN, .data.ptr = h };

	if (epoll_ctl(vm->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0)
		return hull_errf_sys(err, errno, "epoll_ctl add fd %d", h->fd);
	vm->need_io_thread = true;
	return 0;
}

int vm_io_mod(struct hull_vm *vm, struct vm_io_handler *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(vm->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0 ? -errno : 0;
}

void vm_io_del(struct hull_vm *vm, struct vm_io_handler *h)
{
	epoll_ctl(vm->epfd, EPOLL_CTL_DEL, h->fd, NULL);
}

int vm_io_on_batch_end(struct hull_vm *vm, void (*fn)(void *), void *opaque, struct hull_err *err)
{
	if (vm->nbatch_end == ARRAY_SIZE(vm->batch_end))
		return hull_errf(err, ENOSPC, "too many I/O batch hooks");
	vm->batch_end[vm->nbatch_end++] = (struct vm_cleanup){ fn, opaque };
	return 0;
}

void vm_irq_level(struct hull_vm *vm, unsigned irq, bool level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level ? 1 : 0 };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		hull_debug("vm: KVM_IRQ_LINE %u: %s", irq, strerror(errno));
}

void vm_irq_pulse(struct hull_vm *vm, unsigned irq)
{
	vm_irq_level(vm, irq, true);
	vm_irq_level(vm, irq, false);
}

static void *io_thread(void *arg)
{
	struct hull_vm *vm = arg;
	struct epoll_event evs[32];
	struct hull_err err = { 0 };

	if (vm->cfg.seccomp && vm_seccomp_io(&err) < 0) {
		vm_end(vm, HULL_VM_EXIT_ERROR, "I/O thread: seccomp: %s", err.msg);
		return NULL;
	}
	while (!vm_ended(vm)) {
		int n = epoll_wait(vm->epfd, evs, (int)ARRAY_SIZE(evs), -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vm_end(vm, HULL_VM_EXIT_ERROR, "I/O thread: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct vm_io_handler *h = evs[i].data.ptr;
			if (h)
				h->fn(h, evs[i].events);
		}
		for (unsigned i = 0; i < vm->nbatch_end; i++)
			vm->batch_end[i].fn(vm->batch_end[i].opaque);
	}
	return NULL;
}

static int validate_config(const struct hull_vm_config *cfg, struct hull_err *err)
{
	if (!cfg->kernel || !*cfg->kernel)
		return hull_errf(err, EINVAL, "no kernel given");
	if (cfg->cpus > HULL_VM_MAX_CPUS)
		return hull_errf(err, EINVAL, "cpus: %u is more than %u", cfg->cpus, HULL_VM_MAX_CPUS);
	if (cfg->mem_mib && (cfg->mem_mib < VM_MIN_MEM_MIB || cfg->mem_mib > VM_MAX_MEM_MIB))
		return hull_errf(err, EINVAL, "memory: %u MiB is outside %u..%u MiB", cfg->mem_mib,
		                 VM_MIN_MEM_MIB, VM_MAX_MEM_MIB);
	if (cfg->ndisks > HULL_VM_MAX_DISKS)
		return hull_errf(err, EINVAL, "more than %u disks", HULL_VM_MAX_DISKS);
	return 0;
}

static int attach_devices(struct hull_vm *vm, struct hull_err *err)
{
	for (const struct vm_device_type *t = __start_hull_vmdevs; t < __stop_hull_vmdevs; t++) {
		int r = t->attach(vm, err);
		if (r < 0)
			return hull_err_wrap(err, "device %s", t->name);
	}
	return 0;
}

static int load_kernel(struct hull_vm *vm, struct boot_entry *entry, struct hull_err *err)
{
	_cleanup_close_ int kfd = -1, ifd = -1;

	kfd = open(vm->cfg.kernel, O_RDONLY | O_CLOEXEC);
	if (kfd < 0)
		return hull_errf_sys(err, errno, "kernel %s", vm->cfg.kernel);
	if (vm->cfg.initrd) {
		ifd = open(vm->cfg.initrd, O_RDONLY | O_CLOEXEC);
		if (ifd < 0)
			return hull_errf_sys(err, errno, "initrd %s", vm->cfg.initrd);
	}
	if (boot_load(&vm->mem, kfd, ifd, vm->cmdline, vm->ncpus, entry, err) < 0)
		return hull_err_wrap(err, "%s", vm->cfg.kernel);
	return 0;
}

int hull_vm_create(const struct hull_vm_config *cfg, struct hull_vm **out, struct hull_err *err)
{
	struct hull_vm *vm;
	struct boot_entry entry;
	int r;

	*out = NULL;
	r = validate_config(cfg, err);
	if (r < 0)
		return r;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return hull_errf(err, ENOMEM, "VM state");
	vm->t0_ns = vm_now_ns();
	vm->cfg = *cfg;
	if (!vm->cfg.mem_mib)
		vm->cfg.mem_mib = 256;
	if (!vm->cfg.cpus)
		vm->cfg.cpus = 1;
	if (!vm->cfg.vsock_cid)
		vm->cfg.vsock_cid = 3;
	vm->ncpus = vm->cfg.cpus;
	vm->kvm_fd = vm->vm_fd = vm->epfd = vm->wake_fd = vm->mem.memfd = -1;
	vm->next_mmio = VM_VIRTIO_MMIO_BASE;
	vm->next_irq = VM_VIRTIO_IRQ_BASE;
	pthread_mutex_init(&vm->lock, NULL);
	{
		/* hull_vm_wait() computes its deadline on the monotonic clock. */
		pthread_condattr_t attr;
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&vm->cond, &attr);
		pthread_condattr_destroy(&attr);
	}
	for (unsigned i = 0; i < HULL_VM_MAX_CPUS; i++)
		vm->vcpus[i].fd = -1;
	*out = vm;   /* from here on the caller's hull_vm_destroy() cleans up */

	if ((r = kvm_open(&vm->kvm_fd, &vm->run_size, err)) < 0 ||
	    (r = kvm_create_vm(vm->kvm_fd, &vm->vm_fd, err)) < 0 ||
	    (r = gmem_create(&vm->mem, vm->vm_fd, (uint64_t)vm->cfg.mem_mib << 20, err)) < 0)
		return r;
	vm->epfd = epoll_create1(EPOLL_CLOEXEC);
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->epfd < 0 || vm->wake_fd < 0)
		return hull_errf_sys(err, errno, "epoll/eventfd for the I/O thread");
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
		if (epoll_ctl(vm->epfd, EPOLL_CTL_ADD, vm->wake_fd, &ev) < 0)
			return hull_errf_sys(err, errno, "epoll_ctl");
	}
	/* reboot=t: a guest reboot becomes a triple fault, which ends the VM at once. */
	if ((r = vm_cmdline_add(vm, "reboot=t", err)) < 0 ||
	    (r = vm_cmdline_add(vm, vm->cfg.console ? "console=ttyS0" : "quiet", err)) < 0)
		return r;
	if ((r = attach_devices(vm, err)) < 0)
		return r;
	if (vm->cfg.cmdline && (r = vm_cmdline_add(vm, vm->cfg.cmdline, err)) < 0)
		return r;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if ((r = vcpu_create(vm, i, err)) < 0)
			return r;
	if ((r = load_kernel(vm, &entry, err)) < 0)
		return r;
	return vcpu_setup_boot(&vm->vcpus[0], &entry, err);
}

int hull_vm_start(struct hull_vm *vm, struct hull_err *err)
{
	int r;

	if (vm->need_io_thread) {
		r = pthread_create(&vm->io_thread, NULL, io_thread, vm);
		if (r != 0)
			return hull_errf_sys(err, r, "starting the I/O thread");
		vm->io_started = true;
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		r = vcpu_start(&vm->vcpus[i], err);
		if (r < 0) {
			vm_end(vm, HULL_VM_EXIT_ERROR, "%s", err->msg);
			return r;
		}
	}
	return 0;
}

void hull_vm_wait(struct hull_vm *vm, struct hull_vm_result *res)
{
	struct timespec deadline;
	bool timed_out = false;

	if (vm->cfg.timeout_ms) {
		uint64_t ns;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		ns = (uint64_t)deadline.tv_nsec + (uint64_t)(vm->cfg.timeout_ms % 1000) * 1000000ull;
		deadline.tv_sec += vm->cfg.timeout_ms / 1000 + (time_t)(ns / 1000000000ull);
		deadline.tv_nsec = (long)(ns % 1000000000ull);
	}
	pthread_mutex_lock(&vm->lock);
	while (!vm->ended && !timed_out) {
		if (vm->cfg.timeout_ms)
			timed_out = pthread_cond_timedwait(&vm->cond, &vm->lock, &deadline) == ETIMEDOUT;
		else
			pthread_cond_wait(&vm->cond, &vm->lock);
	}
	pthread_mutex_unlock(&vm->lock);
	if (timed_out)
		vm_end(vm, HULL_VM_EXIT_TIMEOUT, "no exit within %u ms", vm->cfg.timeout_ms);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].started = false;
		}
	}
	if (vm->io_started) {
		pthread_join(vm->io_thread, NULL);
		vm->io_started = false;
	}
	pthread_mutex_lock(&vm->lock);
	*res = vm->result;
	pthread_mutex_unlock(&vm->lock);
}

int hull_vm_memfd(const struct hull_vm *vm)
{
	return vm->mem.memfd;
}

void hull_vm_destroy(struct hull_vm *vm)
{
	if (!vm)
		return;
	if (vm->io_started || vm->vcpus[0].started) {
		struct hull_vm_result ignored;
		vm_end(vm, HULL_VM_EXIT_ERROR, "destroyed while running");
		hull_vm_wait(vm, &ignored);
	}
	while (vm->ncleanups) {
		struct vm_cleanup *c = &vm->cleanups[--vm->ncleanups];
		c->fn(c->opaque);
	}
	for (unsigned i = 0; i < HULL_VM_MAX_CPUS; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, vm->run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
	}
	gmem_destroy(&vm->mem);
	if (vm->epfd >= 0)
		close(vm->epfd);
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->cond);
	free(vm);
}
