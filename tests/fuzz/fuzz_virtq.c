// FUZZ-SOURCES: microvm/*.c microvm/virtio/*.c lib/err.c lib/log.c lib/fs.c
// FUZZ-LIBS: -lseccomp -lpthread
/* libFuzzer target: the virtio device code against a hostile guest.  The
 * input becomes guest RAM (rings, descriptors, request headers, packets) plus
 * a script of MMIO register writes and queue notifications for virtio-blk
 * (read-write and read-only) or virtio-vsock, all through the same MMIO
 * transport the vCPUs use.  Any crash, out-of-bounds access (ASan) or
 * undefined behaviour (UBSan) is a bug: every guest index, length and address
 * must be checked before use. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "microvm/virtio/virtio.h"
#include "microvm/vm.h"

#define RAM_SIZE (256u << 10)

static uint8_t *ram;
static char disk_path[] = "/tmp/hull-fuzz-disk.XXXXXX";
static char vsock_dir[] = "/tmp/hull-fuzz-vsock.XXXXXX";

static void remove_temp_files(void)
{
	unlink(disk_path);
	rmdir(vsock_dir);   /* the device unlinks its listening socket on cleanup */
}

static void init_once(void)
{
	int fd;

	if (ram)
		return;
	ram = malloc(RAM_SIZE);
	fd = mkstemp(disk_path);
	if (!ram || fd < 0 || ftruncate(fd, 64 << 10) < 0 || !mkdtemp(vsock_dir))
		abort();
	close(fd);
	atexit(remove_temp_files);
}

static void mmio_write(struct hull_vm *vm, uint64_t off, uint32_t v)
{
	bus_dispatch(&vm->mmio, VM_VIRTIO_MMIO_BASE + off, &v, 4, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hull_err err = { 0 };
	struct hull_vm *vm;
	const uint8_t *script;
	size_t script_len, ram_len;
	int r;

	if (size < 16)
		return 0;
	init_once();
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return 0;
	memset(ram, 0, RAM_SIZE);
	ram_len = size - 16 < RAM_SIZE ? size - 16 : RAM_SIZE;
	memcpy(ram, data + 16, ram_len);
	vm->mem = (struct guest_mem){ .host = ram, .size = RAM_SIZE, .low_size = RAM_SIZE, .memfd = -1 };
	vm->kvm_fd = vm->vm_fd = vm->wake_fd = -1;
	vm->epfd = epoll_create1(EPOLL_CLOEXEC);
	vm->next_mmio = VM_VIRTIO_MMIO_BASE;
	vm->next_irq = VM_VIRTIO_IRQ_BASE;
	vm->cfg.vsock_cid = 3;
	pthread_mutex_init(&vm->lock, NULL);

	switch (data[0] % 3) {
	case 0:
	case 1:
		vm->cfg.disks[0] = (struct hull_vm_disk){ .path = disk_path, .read_only = data[0] % 3 == 1 };
		vm->cfg.ndisks = 1;
		r = virtio_blk_attach(vm, &err);
		break;
	default:
		vm->cfg.vsock_dir = vsock_dir;
		r = virtio_vsock_attach(vm, &err);
		break;
	}
	if (r == 0) {
		/* A driver that negotiates and sets up every queue from the input's
		 * addresses (anywhere in, or just past, guest RAM)... */
		mmio_write(vm, 0x070, 0);
		mmio_write(vm, 0x070, 3);
		mmio_write(vm, 0x024, 1);
		mmio_write(vm, 0x020, 1);
		mmio_write(vm, 0x070, 3 | 8);
		for (unsigned q = 0; q < 3; q++) {
			const uint8_t *p = data + 1 + 4 * q;
			mmio_write(vm, 0x030, q);
			mmio_write(vm, 0x038, 1u << (p[0] % 9));
			mmio_write(vm, 0x080, (uint32_t)p[1] << 10);
			mmio_write(vm, 0x090, (uint32_t)p[2] << 10);
			mmio_write(vm, 0x0a0, (uint32_t)p[3] << 10);
			mmio_write(vm, 0x044, 1);
		}
		mmio_write(vm, 0x070, 3 | 8 | 4);
		/* ...then a script from the tail of the input: notifications and
		 * arbitrary register writes, 5 bytes each. */
		script_len = size > 16 + RAM_SIZE ? size - 16 - RAM_SIZE : 0;
		script = data + 16 + RAM_SIZE;
		if (script_len == 0) {
			for (unsigned q = 0; q < 3; q++)
				mmio_write(vm, 0x050, q);
		}
		for (size_t i = 0; i + 5 <= script_len && i < 5 * 64; i += 5) {
			uint32_t v;
			memcpy(&v, script + i + 1, 4);
			if (script[i] & 0x80)
				mmio_write(vm, 0x050, v % 4);
			else
				mmio_write(vm, (uint64_t)(script[i] & 0x7f) * 4, v);
		}
	}
	/* As in the VMM: the I/O thread's last batch ends before devices are freed. */
	for (unsigned i = 0; i < vm->nbatch_end; i++)
		vm->batch_end[i].fn(vm->batch_end[i].opaque);
	while (vm->ncleanups) {
		struct vm_cleanup *c = &vm->cleanups[--vm->ncleanups];
		c->fn(c->opaque);
	}
	close(vm->epfd);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
	return 0;
}
