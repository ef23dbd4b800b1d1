/* mmio.c — the virtio-mmio v2 register interface (virtio 1.x, section 4.2.2). */
#include "microvm/virtio/virtio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "microvm/boot.h"
#include "microvm/vm.h"

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_VENDOR_ID 0x00c
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4
#define REG_CONFIG_GENERATION 0x0fc
#define REG_CONFIG 0x100

#define MMIO_MAGIC 0x74726976   /* "virt" */
#define MMIO_VENDOR 0x4c4c5548  /* "HULL" */

#define ISR_USED 1
#define ISR_CONFIG 2

void virtio_dev_init(struct virtio_dev *d, struct hull_vm *vm, const char *name, uint32_t device_id,
                     uint64_t features, unsigned nqueues, uint16_t qsize,
                     const struct virtio_dev_ops *ops, void *opaque)
{
	d->bus_dev = (struct vm_dev){ .name = name, .opaque = d };
	d->vm = vm;
	d->ops = ops;
	d->opaque = opaque;
	pthread_mutex_init(&d->lock, NULL);
	d->device_id = device_id;
	d->features = features | VIRTIO_F_VERSION_1;
	d->nqueues = nqueues < VIRTIO_MAX_QUEUES ? nqueues : VIRTIO_MAX_QUEUES;
	for (unsigned i = 0; i < d->nqueues; i++) {
		d->queues[i].max_size = qsize;
		d->queues[i].mem = vm ? &vm->mem : NULL;
		virtq_reset(&d->queues[i]);
	}
}

bool virtio_driver_ok(const struct virtio_dev *d)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void raise_irq(struct virtio_dev *d)
{
	if (d->vm && d->vm->vm_fd >= 0)
		vm_irq_pulse(d->vm, d->irq);
}

void virtio_notify_used(struct virtio_dev *d)
{
	d->isr |= ISR_USED;
	raise_irq(d);
}

void virtio_set_broken(struct virtio_dev *d, const char *why)
{
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	hull_debug("virtio %s: %s; device needs reset", d->bus_dev.name, why);
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (unsigned i = 0; i < d->nqueues; i++)
		d->queues[i].ready = false;
	d->isr |= ISR_CONFIG;
	raise_irq(d);
}

static void device_reset(struct virtio_dev *d)
{
	if (d->ops->reset)
		d->ops->reset(d);
	d->status = 0;
	d->isr = 0;
	d->driver_features = 0;
	d->features_sel = d->driver_features_sel = d->queue_sel = 0;
	for (unsigned i = 0; i < d->nqueues; i++)
		virtq_reset(&d->queues[i]);
}

static struct virtq *selected_queue(struct virtio_dev *d)
{
	return d->queue_sel < d->nqueues ? &d->queues[d->queue_sel] : NULL;
}

void virtio_mmio_read(struct vm_dev *dev, uint64_t off, void *data, uint32_t len)
{
	struct virtio_dev *d = dev->opaque;
	struct virtq *q;
	uint32_t v = 0;

	pthread_mutex_lock(&d->lock);
	if (off >= REG_CONFIG) {
		uint64_t coff = off - REG_CONFIG;
		if (coff < d->config_len && len <= d->config_len - coff)
			memcpy(data, d->config + coff, len);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (len != 4) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	q = selected_queue(d);
	switch (off) {
	case REG_MAGIC: v = MMIO_MAGIC; break;
	case REG_VERSION: v = 2; break;
	case REG_DEVICE_ID: v = d->device_id; break;
	case REG_VENDOR_ID: v = MMIO_VENDOR; break;
	case REG_DEVICE_FEATURES:
		v = d->features_sel == 0 ? (uint32_t)d->features :
		    d->features_sel == 1 ? (uint32_t)(d->features >> 32) : 0;
		break;
	case REG_QUEUE_NUM_MAX: v = q ? q->max_size : 0; break;
	case REG_QUEUE_READY: v = q ? q->ready : 0; break;
	case REG_INTERRUPT_STATUS: v = d->isr; break;
	case REG_STATUS: v = d->status; break;
	case REG_CONFIG_GENERATION: v = 0; break;
	}
	memcpy(data, &v, 4);
	pthread_mutex_unlock(&d->lock);
}

static void set_status(struct virtio_dev *d, uint32_t v)
{
	if (v == 0) {
		device_reset(d);
		return;
	}
	/* FEATURES_OK only sticks when the driver accepted a subset that includes VERSION_1. */
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		if ((d->driver_features & ~d->features) || !(d->driver_features & VIRTIO_F_VERSION_1))
			v &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
		v &= ~(uint32_t)VIRTIO_STATUS_DRIVER_OK;
	v |= d->status & VIRTIO_STATUS_NEEDS_RESET;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_DRIVER_OK)) {
		d->status = v;
		if (d->ops->activate)
			d->ops->activate(d);
		return;
	}
	d->status = v;
}

static void set_addr_half(uint64_t *addr, uint32_t v, bool high)
{
	if (high)
		*addr = (*addr & 0xffffffffull) | ((uint64_t)v << 32);
	else
		*addr = (*addr & ~0xffffffffull) | v;
}

void virtio_mmio_write(struct vm_dev *dev, uint64_t off, const void *data, uint32_t len)
{
	struct virtio_dev *d = dev->opaque;
	struct virtq *q;
	uint32_t v;

	if (len != 4 || off >= REG_CONFIG)
		return;   /* config space is read-only for every hull device */
	memcpy(&v, data, 4);
	pthread_mutex_lock(&d->lock);
	q = selected_queue(d);
	/* Queue layout may only change while the queue is off. */
	bool q_writable = q && !q->ready && !(d->status & VIRTIO_STATUS_DRIVER_OK);
	switch (off) {
	case REG_DEVICE_FEATURES_SEL: d->features_sel = v; break;
	case REG_DRIVER_FEATURES_SEL: d->driver_features_sel = v; break;
	case REG_DRIVER_FEATURES:
		if (!(d->status & VIRTIO_STATUS_FEATURES_OK) && d->driver_features_sel < 2)
			set_addr_half(&d->driver_features, v, d->driver_features_sel == 1);
		break;
	case REG_QUEUE_SEL: d->queue_sel = v; break;
	case REG_QUEUE_NUM: if (q_writable) q->size = (uint16_t)(v > 0xffff ? 0 : v); break;
	case REG_QUEUE_DESC_LOW: if (q_writable) set_addr_half(&q->desc_gpa, v, false); break;
	case REG_QUEUE_DESC_HIGH: if (q_writable) set_addr_half(&q->desc_gpa, v, true); break;
	case REG_QUEUE_DRIVER_LOW: if (q_writable) set_addr_half(&q->avail_gpa, v, false); break;
	case REG_QUEUE_DRIVER_HIGH: if (q_writable) set_addr_half(&q->avail_gpa, v, true); break;
	case REG_QUEUE_DEVICE_LOW: if (q_writable) set_addr_half(&q->used_gpa, v, false); break;
	case REG_QUEUE_DEVICE_HIGH: if (q_writable) set_addr_half(&q->used_gpa, v, true); break;
	case REG_QUEUE_READY:
		if (!q)
			break;
		if (v == 1 && !q->ready) {
			if (virtq_validate(q) == 0)
				q->ready = true;
			else
				virtio_set_broken(d, "queue addresses outside guest RAM or bad size");
		} else if (v == 0) {
			q->ready = false;
		}
		break;
	case REG_QUEUE_NOTIFY:
		if (v < d->nqueues && virtio_driver_ok(d) && d->queues[v].ready)
			d->ops->notify(d, v);
		break;
	case REG_INTERRUPT_ACK: d->isr &= ~v; break;
	case REG_STATUS: set_status(d, v); break;
	}
	pthread_mutex_unlock(&d->lock);
}

static const struct vm_dev_ops virtio_mmio_ops = { .read = virtio_mmio_read, .write = virtio_mmio_write };

int virtio_mmio_attach(struct virtio_dev *d, struct hull_err *err)
{
	struct hull_vm *vm = d->vm;
	char arg[96];
	int r;

	/* Skip IRQ 8 (a stock kernel's RTC driver claims it without sharing)
	 * and the ACPI SCI line (level-triggered, active low). */
	while (vm->next_irq == 8 || vm->next_irq == ACPI_SCI_IRQ)
		vm->next_irq++;
	if (vm->next_irq > VM_VIRTIO_IRQ_MAX)
		return hull_errf(err, ENOSPC, "no free interrupt line for %s", d->bus_dev.name);
	d->base = vm->next_mmio;
	d->irq = vm->next_irq;
	d->bus_dev.ops = &virtio_mmio_ops;
	r = bus_add(&vm->mmio, d->base, VM_VIRTIO_MMIO_SIZE, &d->bus_dev, err);
	if (r < 0)
		return r;
	vm->next_mmio += VM_VIRTIO_MMIO_SIZE;
	vm->next_irq++;
	if (boot_virtio_mmio_arg(arg, sizeof(arg), d->base, VM_VIRTIO_MMIO_SIZE, d->irq) < 0)
		return hull_errf(err, ENOSPC, "virtio-mmio argument");
	return vm_cmdline_add(vm, arg, err);
}
