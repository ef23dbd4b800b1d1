/* power.c — the ACPI PM1 event and control registers the FADT points at.
 *
 * Enough for Linux's ACPI core to start (status is write-one-to-clear, enable
 * is plain storage, SCI_EN always reads set since there is no legacy mode to
 * leave) and for `poweroff` to reach the VMM: writing SLP_EN with SLP_TYP=5
 * (the DSDT's \_S5) ends the VM with HULL_VM_EXIT_POWEROFF.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "microvm/boot.h"
#include "microvm/vm.h"

#define PM1_SCI_EN 0x0001
#define PM1_SLP_EN 0x2000
#define PM1_SLP_TYP_SHIFT 10

struct power {
	struct vm_dev evt, cnt;
	struct hull_vm *vm;
	pthread_mutex_t lock;
	uint16_t sts, en, ctl;
};

static uint64_t get_value(const void *data, uint32_t len)
{
	uint64_t v = 0;

	memcpy(&v, data, len <= 8 ? len : 8);
	return v;
}

/* Registers are 16 bits wide; byte accesses touch one half. */
static void reg_read(uint16_t reg, uint64_t byte_off, void *data, uint32_t len)
{
	uint32_t v = (uint32_t)reg >> (8 * byte_off);

	memcpy(data, &v, len <= 4 ? len : 4);
}

static uint16_t reg_merge(uint16_t old, uint64_t byte_off, uint64_t v, uint32_t len)
{
	if (len >= 2 && byte_off == 0)
		return (uint16_t)v;
	if (byte_off == 0)
		return (uint16_t)((old & 0xff00) | (v & 0xff));
	return (uint16_t)((old & 0x00ff) | ((v & 0xff) << 8));
}

static void evt_read(struct vm_dev *dev, uint64_t off, void *data, uint32_t len)
{
	struct power *p = dev->opaque;

	pthread_mutex_lock(&p->lock);
	reg_read(off < 2 ? p->sts : p->en, off & 1, data, len);
	pthread_mutex_unlock(&p->lock);
}

static void evt_write(struct vm_dev *dev, uint64_t off, const void *data, uint32_t len)
{
	struct power *p = dev->opaque;
	uint64_t v = get_value(data, len);

	pthread_mutex_lock(&p->lock);
	if (off < 2)
		p->sts &= (uint16_t)~reg_merge(0, off & 1, v, len);
	else
		p->en = reg_merge(p->en, off & 1, v, len);
	pthread_mutex_unlock(&p->lock);
}

static void cnt_read(struct vm_dev *dev, uint64_t off, void *data, uint32_t len)
{
	struct power *p = dev->opaque;

	pthread_mutex_lock(&p->lock);
	reg_read(p->ctl | PM1_SCI_EN, off & 1, data, len);
	pthread_mutex_unlock(&p->lock);
}

static void cnt_write(struct vm_dev *dev, uint64_t off, const void *data, uint32_t len)
{
	struct power *p = dev->opaque;
	uint16_t v;

	pthread_mutex_lock(&p->lock);
	v = reg_merge(p->ctl, off & 1, get_value(data, len), len);
	p->ctl = v & (uint16_t)~PM1_SLP_EN;
	pthread_mutex_unlock(&p->lock);
	if ((v & PM1_SLP_EN) && ((v >> PM1_SLP_TYP_SHIFT) & 7) == ACPI_SLP_TYP_S5)
		vm_end(p->vm, HULL_VM_EXIT_POWEROFF, "guest powered off (ACPI S5)");
}

static const struct vm_dev_ops evt_ops = { .read = evt_read, .write = evt_write };
static const struct vm_dev_ops cnt_ops = { .read = cnt_read, .write = cnt_write };

static void power_free(void *opaque)
{
	struct power *p = opaque;

	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int power_attach(struct hull_vm *vm, struct hull_err *err)
{
	struct power *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return hull_errf(err, ENOMEM, "ACPI PM device");
	p->vm = vm;
	pthread_mutex_init(&p->lock, NULL);
	p->evt = (struct vm_dev){ .name = "acpi-pm1-evt", .ops = &evt_ops, .opaque = p };
	p->cnt = (struct vm_dev){ .name = "acpi-pm1-cnt", .ops = &cnt_ops, .opaque = p };
	r = vm_add_cleanup(vm, power_free, p, err);
	if (r == 0)
		r = bus_add(&vm->pio, ACPI_PM1_EVT_PORT, 4, &p->evt, err);
	if (r == 0)
		r = bus_add(&vm->pio, ACPI_PM1_CNT_PORT, 2, &p->cnt, err);
	return r;
}

VM_DEVICE_TYPE(power, power_attach);
