/* queue.h — split virtqueues (virtio 1.x, section 2.7), device side.
 *
 * Everything here reads guest memory, which the guest may rewrite at any
 * moment: every ring index, descriptor index, length and address is checked
 * against the queue size and guest RAM (gmem_ptr) before it is used, chains
 * are bounded by the queue size (no loops), and a malformed queue makes
 * virtq_pop() fail instead of touching memory outside the guest.  Indirect
 * descriptors and event-index suppression are not offered.
 */
#ifndef HULL_MICROVM_VIRTIO_QUEUE_H
#define HULL_MICROVM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "microvm/kvm.h"

#define VIRTQ_MAX_SIZE 256
#define VIRTQ_MAX_CHAIN 64     /* longest descriptor chain hull accepts */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

struct virtq {
	uint16_t size;          /* set by the driver: a power of 2, <= max_size */
	uint16_t max_size;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;    /* next avail ring slot to consume */
	uint16_t used_idx;      /* our copy of used->idx */
	const struct guest_mem *mem;
};

/* One descriptor chain, already translated into host pointers. */
struct virtq_chain {
	uint16_t head;
	unsigned n;
	struct iovec iov[VIRTQ_MAX_CHAIN];
	bool writable[VIRTQ_MAX_CHAIN];
	size_t readable_len, writable_len;
};

/* Check the ring addresses for size entries; called when the driver sets QueueReady. */
int virtq_validate(const struct virtq *q);
void virtq_reset(struct virtq *q);

/* 1: *c holds the next chain; 0: nothing available; -EINVAL: the guest broke
 * the queue (the device should then stop using it). */
int virtq_pop(struct virtq *q, struct virtq_chain *c);
/* Return a chain to the driver with `written` bytes stored into it. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);
bool virtq_has_avail(const struct virtq *q);

/* Copy between a flat buffer and the chain's readable (or writable) bytes,
 * starting `off` bytes into them.  Return the bytes copied. */
size_t virtq_chain_read(const struct virtq_chain *c, size_t off, void *dst, size_t len);
size_t virtq_chain_write(const struct virtq_chain *c, size_t off, const void *src, size_t len);
/* iovecs covering [off, off+len) of the readable/writable bytes; returns the count, or -1. */
int virtq_chain_iov(const struct virtq_chain *c, bool writable, size_t off, size_t len,
                    struct iovec *out, int max);

#endif
