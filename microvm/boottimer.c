/* boottimer.c — the boot-timer pseudo-device.
 *
 * The guest writes HULL_BOOT_TIMER_MAGIC once (as a byte to I/O port
 * HULL_BOOT_TIMER_PORT, or to MMIO HULL_BOOT_TIMER_MMIO as Firecracker's guests
 * do) when it reaches the point being measured; the VMM records the time
 * since hull_vm_create().  Boot-time tests read it from the VM result instead
 * of parsing console output.
 */
#include <errno.h>
#include <stdlib.h>

#include "microvm/vm.h"

struct boottimer {
	struct vm_dev dev;
	struct hull_vm *vm;
};

static void boottimer_write(struct vm_dev *dev, uint64_t off, const void *data, uint32_t len)
{
	struct boottimer *t = dev->opaque;
	struct hull_vm *vm = t->vm;
	uint64_t now = vm_now_ns();

	if (off != 0 || *(const uint8_t *)data != HULL_BOOT_TIMER_MAGIC)
		return;
	pthread_mutex_lock(&vm->lock);
	if (!vm->result.boot_timer_hit) {
		vm->result.boot_timer_hit = true;
		vm->result.boot_timer_ns = now - vm->t0_ns;
	}
	pthread_mutex_unlock(&vm->lock);
}

static const struct vm_dev_ops boottimer_ops = { .write = boottimer_write };

static int boottimer_attach(struct hull_vm *vm, struct hull_err *err)
{
	struct boottimer *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return hull_errf(err, ENOMEM, "boot timer");
	t->dev = (struct vm_dev){ .name = "boot-timer", .ops = &boottimer_ops, .opaque = t };
	t->vm = vm;
	r = vm_add_cleanup(vm, free, t, err);
	if (r == 0)
		r = bus_add(&vm->pio, HULL_BOOT_TIMER_PORT, 1, &t->dev, err);
	if (r == 0)
		r = bus_add(&vm->mmio, HULL_BOOT_TIMER_MMIO, 0x1000, &t->dev, err);
	return r;
}

VM_DEVICE_TYPE(boottimer, boottimer_attach);
