/* reset.c — the two legacy ways a PC guest asks to be reset: the keyboard
 * controller's pulse-reset command (0xfe to port 0x64, Linux reboot=k) and
 * the reset control register (port 0xcf9, reboot=pci).  Reads are left
 * unanswered (all ones), so Linux finds no i8042 and does not wait on it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "microvm/vm.h"

#define I8042_CMD_PORT 0x64
#define I8042_PULSE_RESET 0xfe
#define RST_CNT_PORT 0xcf9
#define RST_CNT_RESET 0x04

struct resetdev {
	struct vm_dev kbd, rst;
	struct hull_vm *vm;
};

static void reset_read(struct vm_dev *dev, uint64_t off, void *data, uint32_t len)
{
	memset(data, 0xff, len);
}

static void kbd_write(struct vm_dev *dev, uint64_t off, const void *data, uint32_t len)
{
	struct resetdev *d = dev->opaque;

	if (*(const uint8_t *)data == I8042_PULSE_RESET)
		vm_end(d->vm, HULL_VM_EXIT_REBOOT, "guest reset through the keyboard controller");
}

static void rst_write(struct vm_dev *dev, uint64_t off, const void *data, uint32_t len)
{
	struct resetdev *d = dev->opaque;

	if (*(const uint8_t *)data & RST_CNT_RESET)
		vm_end(d->vm, HULL_VM_EXIT_REBOOT, "guest reset through port 0xcf9");
}

static const struct vm_dev_ops kbd_ops = { .read = reset_read, .write = kbd_write };
static const struct vm_dev_ops rst_ops = { .read = reset_read, .write = rst_write };

static int reset_attach(struct hull_vm *vm, struct hull_err *err)
{
	struct resetdev *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return hull_errf(err, ENOMEM, "reset device");
	d->vm = vm;
	d->kbd = (struct vm_dev){ .name = "i8042-reset", .ops = &kbd_ops, .opaque = d };
	d->rst = (struct vm_dev){ .name = "cf9-reset", .ops = &rst_ops, .opaque = d };
	r = vm_add_cleanup(vm, free, d, err);
	if (r == 0)
		r = bus_add(&vm->pio, I8042_CMD_PORT, 1, &d->kbd, err);
	if (r == 0)
		r = bus_add(&vm->pio, RST_CNT_PORT, 1, &d->rst, err);
	return r;
}

VM_DEVICE_TYPE(reset, reset_attach);
