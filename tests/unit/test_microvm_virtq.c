/* Unit tests for microvm/virtio/queue.c and the virtio-mmio transport with
 * virtio-blk behind it, driven the way a guest driver would, including the
 * hostile cases: indices, lengths and addresses outside the ring or RAM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "microvm/virtio/queue.h"
#include "microvm/virtio/virtio.h"
#include "microvm/vm.h"

#define RAM (2u << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct guest_mem mem;

static int setup(void **state)
{
	mem.host = calloc(1, RAM);
	mem.size = mem.low_size = RAM;
	mem.memfd = -1;
	return mem.host ? 0 : -1;
}

static int teardown(void **state)
{
	free(mem.host);
	return 0;
}

static struct vring_desc *desc(unsigned i) { return (struct vring_desc *)(mem.host + DESC) + i; }

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct vring_desc){ addr, len, flags, next };
}

static void avail_add(uint16_t head)
{
	uint16_t *idx = (uint16_t *)(mem.host + AVAIL + 2);
	uint16_t *ring = (uint16_t *)(mem.host + AVAIL + 4);

	ring[*idx % 8] = head;
	(*idx)++;
}

static void new_queue(struct virtq *q)
{
	memset(mem.host, 0, 0x10000);
	*q = (struct virtq){ .max_size = 8, .mem = &mem };
	virtq_reset(q);
	q->size = 8;
	q->desc_gpa = DESC;
	q->avail_gpa = AVAIL;
	q->used_gpa = USED;
	assert_int_equal(virtq_validate(q), 0);
	q->ready = true;
}

static void test_pop_push(void **state)
{
	struct virtq q;
	struct virtq_chain c;
	uint16_t used_idx;
	uint32_t used_id, used_len;
	char buf[32];

	new_queue(&q);
	assert_int_equal(virtq_pop(&q, &c), 0);
	memcpy(mem.host + 0x8000, "hello, ", 7);
	memcpy(mem.host + 0x9000, "world", 5);
	set_desc(3, 0x8000, 7, VIRTQ_DESC_F_NEXT, 5);
	set_desc(5, 0x9000, 5, VIRTQ_DESC_F_NEXT, 6);
	set_desc(6, 0xa000, 16, VIRTQ_DESC_F_WRITE, 0);
	avail_add(3);
	assert_true(virtq_has_avail(&q));
	assert_int_equal(virtq_pop(&q, &c), 1);
	assert_int_equal(c.head, 3);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.readable_len, 12);
	assert_int_equal(c.writable_len, 16);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(virtq_chain_read(&c, 0, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "hello, world");
	assert_int_equal(virtq_chain_read(&c, 5, buf, 4), 4);
	assert_memory_equal(buf, ", wo", 4);   /* across descriptors */
	assert_int_equal(virtq_chain_write(&c, 0, "0123456789abcdefXYZ", 19), 16);
	assert_memory_equal(mem.host + 0xa000, "0123456789abcdef", 16);
	assert_int_equal(mem.host[0xa010], 0);   /* nothing past the descriptor */
	virtq_push(&q, c.head, 16);
	memcpy(&used_idx, mem.host + USED + 2, 2);
	memcpy(&used_id, mem.host + USED + 4, 4);
	memcpy(&used_len, mem.host + USED + 8, 4);
	assert_int_equal(used_idx, 1);
	assert_int_equal(used_id, 3);
	assert_int_equal(used_len, 16);
	assert_false(virtq_has_avail(&q));

	/* a second chain reuses the same struct: lengths must start again from 0 */
	set_desc(0, 0x8000, 4, 0, 0);
	avail_add(0);
	assert_int_equal(virtq_pop(&q, &c), 1);
	assert_int_equal(c.readable_len, 4);
	assert_int_equal(c.writable_len, 0);
}

static void test_chain_iov(void **state)
{
	struct virtq q;
	struct virtq_chain c;
	struct iovec iov[4];

	new_queue(&q);
	set_desc(0, 0x8000, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, 0x9000, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, 0xa000, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	assert_int_equal(virtq_pop(&q, &c), 1);
	assert_int_equal(virtq_chain_iov(&c, true, 0, 100, iov, 4), 1);
	assert_ptr_equal(iov[0].iov_base, mem.host + 0x9000);
	assert_int_equal(virtq_chain_iov(&c, true, 50, 51, iov, 4), 2);
	assert_ptr_equal(iov[0].iov_base, mem.host + 0x9000 + 50);
	assert_int_equal(iov[0].iov_len, 50);
	assert_int_equal(iov[1].iov_len, 1);
	assert_int_equal(virtq_chain_iov(&c, true, 0, 102, iov, 4), -1);   /* longer than the chain */
	assert_int_equal(virtq_chain_iov(&c, true, 0, 101, iov, 1), -1);   /* too many pieces */
	assert_int_equal(virtq_chain_iov(&c, false, 8, 8, iov, 4), 1);
}

static void expect_broken(struct virtq *q)
{
	struct virtq_chain c;

	assert_int_equal(virtq_pop(q, &c), -EINVAL);
}

static void test_hostile_chains(void **state)
{
	struct virtq q;

	/* head index outside the ring */
	new_queue(&q);
	avail_add(8);
	expect_broken(&q);
	/* next index outside the ring */
	new_queue(&q);
	set_desc(0, 0x8000, 4, VIRTQ_DESC_F_NEXT, 200);
	avail_add(0);
	expect_broken(&q);
	/* a loop */
	new_queue(&q);
	set_desc(0, 0x8000, 4, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, 0x8000, 4, VIRTQ_DESC_F_NEXT, 0);
	avail_add(0);
	expect_broken(&q);
	/* buffer outside guest RAM, or wrapping around */
	new_queue(&q);
	set_desc(0, RAM - 4, 8, 0, 0);
	avail_add(0);
	expect_broken(&q);
	new_queue(&q);
	set_desc(0, UINT64_MAX - 2, 16, 0, 0);
	avail_add(0);
	expect_broken(&q);
	/* indirect descriptors were not offered */
	new_queue(&q);
	set_desc(0, 0x8000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_broken(&q);
	/* the driver claims more buffers than the ring holds */
	new_queue(&q);
	*(uint16_t *)(mem.host + AVAIL + 2) = 9;
	expect_broken(&q);
	/* a not-ready queue gives nothing */
	new_queue(&q);
	set_desc(0, 0x8000, 4, 0, 0);
	avail_add(0);
	q.ready = false;
	struct virtq_chain c;
	assert_int_equal(virtq_pop(&q, &c), 0);
}

static void test_validate(void **state)
{
	struct virtq q;

	new_queue(&q);
	q.size = 6;                       /* not a power of two */
	assert_int_equal(virtq_validate(&q), -EINVAL);
	q.size = 16;                      /* above the maximum */
	assert_int_equal(virtq_validate(&q), -EINVAL);
	q.size = 8;
	q.desc_gpa = DESC + 8;            /* misaligned */
	assert_int_equal(virtq_validate(&q), -EINVAL);
	q.desc_gpa = RAM - 64;            /* table runs past RAM */
	assert_int_equal(virtq_validate(&q), -EINVAL);
	q.desc_gpa = DESC;
	q.used_gpa = RAM - 8;
	assert_int_equal(virtq_validate(&q), -EINVAL);
}

/* ---- virtio-mmio + virtio-blk, driven like a guest driver ---- */

#define MMIO_BASE VM_VIRTIO_MMIO_BASE

static struct hull_vm *fake_vm(void)
{
	struct hull_vm *vm = calloc(1, sizeof(*vm));

	vm->mem = mem;
	vm->kvm_fd = vm->vm_fd = vm->epfd = vm->wake_fd = -1;
	vm->next_mmio = VM_VIRTIO_MMIO_BASE;
	vm->next_irq = VM_VIRTIO_IRQ_BASE;
	pthread_mutex_init(&vm->lock, NULL);
	return vm;
}

static void free_vm(struct hull_vm *vm)
{
	while (vm->ncleanups) {
		struct vm_cleanup *c = &vm->cleanups[--vm->ncleanups];
		c->fn(c->opaque);
	}
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

static void mmio_w(struct hull_vm *vm, uint64_t off, uint32_t v)
{
	assert_true(bus_dispatch(&vm->mmio, MMIO_BASE + off, &v, 4, true));
}

static uint32_t mmio_r(struct hull_vm *vm, uint64_t off)
{
	uint32_t v = 0;

	assert_true(bus_dispatch(&vm->mmio, MMIO_BASE + off, &v, 4, false));
	return v;
}

static void driver_init(struct hull_vm *vm)
{
	mmio_w(vm, 0x70, 0);
	mmio_w(vm, 0x70, 1 | 2);
	assert_int_equal(mmio_r(vm, 0x000), 0x74726976);
	assert_int_equal(mmio_r(vm, 0x004), 2);
	assert_int_equal(mmio_r(vm, 0x008), VIRTIO_ID_BLOCK);
	mmio_w(vm, 0x014, 1);
	assert_true(mmio_r(vm, 0x010) & 1);     /* VERSION_1 */
	mmio_w(vm, 0x024, 1);
	mmio_w(vm, 0x020, 1);
	mmio_w(vm, 0x070, 1 | 2 | 8);
	assert_true(mmio_r(vm, 0x070) & 8);     /* FEATURES_OK stuck */
	mmio_w(vm, 0x030, 0);
	assert_true(mmio_r(vm, 0x034) >= 8);
	mmio_w(vm, 0x038, 8);
	mmio_w(vm, 0x080, DESC);
	mmio_w(vm, 0x090, AVAIL);
	mmio_w(vm, 0x0a0, USED);
	mmio_w(vm, 0x044, 1);
	mmio_w(vm, 0x070, 1 | 2 | 8 | 4);
	assert_int_equal(mmio_r(vm, 0x070), 1 | 2 | 8 | 4);
}

static uint8_t blk_request(struct hull_vm *vm, uint32_t type, uint64_t sector, uint32_t len, uint32_t *used_len)
{
	uint32_t hdr[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
	uint16_t idx_before, idx_after;
	bool data_in = type == 0;

	memcpy(mem.host + 0x10000, hdr, 16);
	mem.host[0x12000] = 0xee;
	set_desc(0, 0x10000, 16, VIRTQ_DESC_F_NEXT, len ? 1 : 2);
	set_desc(1, 0x11000, len, VIRTQ_DESC_F_NEXT | (data_in ? VIRTQ_DESC_F_WRITE : 0), 2);
	set_desc(2, 0x12000, 1, VIRTQ_DESC_F_WRITE, 0);
	memcpy(&idx_before, mem.host + USED + 2, 2);
	avail_add(0);
	mmio_w(vm, 0x050, 0);
	memcpy(&idx_after, mem.host + USED + 2, 2);
	assert_int_equal((uint16_t)(idx_after - idx_before), 1);
	memcpy(used_len, mem.host + USED + 4 + 8 * (idx_before % 8) + 4, 4);
	return mem.host[0x12000];
}

static void test_blk_device(void **state)
{
	char path[] = "/tmp/hull-test-disk.XXXXXX";
	int fd = mkstemp(path);
	char sector[512], back[512];
	struct hull_err err = { 0 };
	struct hull_vm *vm;
	uint32_t used = 0;
	uint64_t cap = 0;

	for (int i = 0; i < 8; i++) {
		memset(sector, 'a' + i, sizeof(sector));
		assert_int_equal(write(fd, sector, sizeof(sector)), sizeof(sector));
	}
	memset(mem.host, 0, 0x20000);
	vm = fake_vm();
	vm->cfg.disks[0] = (struct hull_vm_disk){ .path = path };
	vm->cfg.ndisks = 1;
	assert_int_equal(virtio_blk_attach(vm, &err), 0);
	assert_non_null(strstr(vm->cmdline, "virtio_mmio.device=4K@0xd0001000:5"));
	assert_true(bus_dispatch(&vm->mmio, MMIO_BASE + 0x100, &cap, 8, false));
	assert_int_equal(cap, 8);
	driver_init(vm);

	/* read sector 2 */
	assert_int_equal(blk_request(vm, 0, 2, 512, &used), 0);
	assert_int_equal(used, 513);
	memset(sector, 'c', sizeof(sector));
	assert_memory_equal(mem.host + 0x11000, sector, 512);
	/* write sector 7, flush, read it back from the file */
	memset(mem.host + 0x11000, 'Z', 512);
	assert_int_equal(blk_request(vm, 1, 7, 512, &used), 0);
	assert_int_equal(blk_request(vm, 4, 0, 0, &used), 0);
	assert_int_equal(pread(fd, back, 512, 7 * 512), 512);
	assert_int_equal(back[0], 'Z');
	/* past the end, partial sectors, unknown type */
	assert_int_equal(blk_request(vm, 0, 8, 512, &used), 1);
	assert_int_equal(blk_request(vm, 0, UINT64_MAX / 2, 512, &used), 1);
	assert_int_equal(blk_request(vm, 0, 0, 100, &used), 1);
	assert_int_equal(blk_request(vm, 99, 0, 512, &used), 2);
	/* a buffer outside guest RAM breaks the device, not the VMM */
	set_desc(0, RAM + 0x1000, 16, 0, 0);
	avail_add(0);
	mmio_w(vm, 0x050, 0);
	assert_true(mmio_r(vm, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
	/* notifications are ignored until the driver resets the device */
	mmio_w(vm, 0x050, 0);
	mmio_w(vm, 0x070, 0);
	assert_int_equal(mmio_r(vm, 0x070), 0);
	free_vm(vm);

	/* read-only disk: writes fail, reads work, the feature bit says so */
	vm = fake_vm();
	vm->cfg.disks[0] = (struct hull_vm_disk){ .path = path, .read_only = true };
	vm->cfg.ndisks = 1;
	assert_int_equal(virtio_blk_attach(vm, &err), 0);
	memset(mem.host, 0, 0x20000);
	mmio_w(vm, 0x014, 0);
	assert_true(mmio_r(vm, 0x010) & (1u << 5));
	driver_init(vm);
	assert_int_equal(blk_request(vm, 1, 0, 512, &used), 1);
	assert_int_equal(blk_request(vm, 0, 0, 512, &used), 0);
	free_vm(vm);

	/* a missing disk file is an error naming it */
	vm = fake_vm();
	vm->cfg.disks[0] = (struct hull_vm_disk){ .path = "/nonexistent/disk.img" };
	vm->cfg.ndisks = 1;
	assert_true(virtio_blk_attach(vm, &err) < 0);
	assert_non_null(strstr(err.msg, "/nonexistent/disk.img"));
	free_vm(vm);
	close(fd);
	unlink(path);
}

static void test_transport_guards(void **state)
{
	char path[] = "/tmp/hull-test-disk.XXXXXX";
	int fd = mkstemp(path);
	struct hull_err err = { 0 };
	struct hull_vm *vm = fake_vm();
	uint32_t v = 0;

	assert_int_equal(ftruncate(fd, 4096), 0);
	vm->cfg.disks[0] = (struct hull_vm_disk){ .path = path };
	vm->cfg.ndisks = 1;
	assert_int_equal(virtio_blk_attach(vm, &err), 0);
	/* a driver that does not accept VERSION_1 never gets FEATURES_OK */
	mmio_w(vm, 0x070, 3);
	mmio_w(vm, 0x024, 1);
	mmio_w(vm, 0x020, 0);
	mmio_w(vm, 0x070, 3 | 8);
	assert_false(mmio_r(vm, 0x070) & 8);
	/* nor features the device does not offer */
	mmio_w(vm, 0x070, 0);
	mmio_w(vm, 0x070, 3);
	mmio_w(vm, 0x024, 1);
	mmio_w(vm, 0x020, 1 | 0x80);
	mmio_w(vm, 0x070, 3 | 8);
	assert_false(mmio_r(vm, 0x070) & 8);
	/* a queue beyond the device's count reads as absent */
	mmio_w(vm, 0x030, 7);
	assert_int_equal(mmio_r(vm, 0x034), 0);
	/* ring addresses outside RAM are refused when the queue is enabled */
	mmio_w(vm, 0x070, 0);
	mmio_w(vm, 0x030, 0);
	mmio_w(vm, 0x038, 8);
	mmio_w(vm, 0x080, 0xfffff000);
	mmio_w(vm, 0x044, 1);
	assert_int_equal(mmio_r(vm, 0x044), 0);
	assert_true(mmio_r(vm, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
	/* config space: reads past its end give nothing, writes are ignored */
	assert_true(bus_dispatch(&vm->mmio, MMIO_BASE + 0x100 + 6, &v, 4, false));
	assert_int_equal(v, 0);
	/* odd-sized register accesses are ignored */
	v = 0xffffffff;
	assert_true(bus_dispatch(&vm->mmio, MMIO_BASE + 0x070, &v, 2, true));
	free_vm(vm);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pop_push),
		cmocka_unit_test(test_chain_iov),
		cmocka_unit_test(test_hostile_chains),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_blk_device),
		cmocka_unit_test(test_transport_guards),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
