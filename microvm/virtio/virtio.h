/* virtio.h — virtio devices on the virtio-mmio v2 transport.
 *
 * A device fills a struct virtio_dev (id, features, queues, config space, ops)
 * and calls virtio_mmio_attach(), which gives it a 4 KiB MMIO window and an
 * IOAPIC pin and declares it on the guest command line
 * (virtio_mmio.device=4K@0xd0001000:5).  The transport serialises every
 * register access and queue notification under dev->lock; device code that
 * runs on the I/O thread takes the same lock.
 */
#ifndef HULL_MICROVM_VIRTIO_VIRTIO_H
#define HULL_MICROVM_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "microvm/bus.h"
#include "microvm/virtio/queue.h"

struct hull_vm;

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_VSOCK 19

#define VIRTIO_F_VERSION_1 (1ull << 32)

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_MAX_QUEUES 4

struct virtio_dev;

struct virtio_dev_ops {
	/* The driver kicked queue q (q < nqueues).  Called with dev->lock held. */
	void (*notify)(struct virtio_dev *d, unsigned q);
	/* The driver set DRIVER_OK. (optional) */
	void (*activate)(struct virtio_dev *d);
	/* The driver wrote 0 to Status: drop device state. (optional) */
	void (*reset)(struct virtio_dev *d);
};

struct virtio_dev {
	struct vm_dev bus_dev;
	struct hull_vm *vm;
	const struct virtio_dev_ops *ops;
	void *opaque;
	pthread_mutex_t lock;

	uint32_t device_id;
	uint64_t features, driver_features;
	uint32_t features_sel, driver_features_sel, queue_sel;
	uint32_t status, isr;
	unsigned nqueues;
	struct virtq queues[VIRTIO_MAX_QUEUES];
	uint8_t *config;          /* device-specific config space (read-only to the guest) */
	uint32_t config_len;

	uint64_t base;
	unsigned irq;
};

/* Initialise the transport state; nqueues queues of at most qsize entries. */
void virtio_dev_init(struct virtio_dev *d, struct hull_vm *vm, const char *name, uint32_t device_id,
                     uint64_t features, unsigned nqueues, uint16_t qsize,
                     const struct virtio_dev_ops *ops, void *opaque);
/* Claim an MMIO window + IRQ and declare the device on the kernel command line. */
int virtio_mmio_attach(struct virtio_dev *d, struct hull_err *err);

/* Tell the driver that used buffers are waiting (dev->lock held). */
void virtio_notify_used(struct virtio_dev *d);
/* The guest broke a queue: mark the device as needing a reset (dev->lock held). */
void virtio_set_broken(struct virtio_dev *d, const char *why);
bool virtio_driver_ok(const struct virtio_dev *d);

/* Device attach functions (run through the device-type list by
 * hull_vm_create(); callable directly by tests and the fuzz target). */
int virtio_blk_attach(struct hull_vm *vm, struct hull_err *err);
int virtio_net_attach(struct hull_vm *vm, struct hull_err *err);
int virtio_vsock_attach(struct hull_vm *vm, struct hull_err *err);

/* The MMIO register handlers, exposed for the fuzz target and unit tests. */
void virtio_mmio_read(struct vm_dev *dev, uint64_t off, void *data, uint32_t len);
void virtio_mmio_write(struct vm_dev *dev, uint64_t off, const void *data, uint32_t len);

#endif
