/* queue.c — split virtqueue processing with hostile-guest checks (queue.h). */
#include "microvm/virtio/queue.h"

#include <errno.h>
#include <string.h>

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static uint64_t desc_bytes(uint16_t n) { return 16ull * n; }
static uint64_t avail_bytes(uint16_t n) { return 6ull + 2ull * n; }
static uint64_t used_bytes(uint16_t n) { return 6ull + 8ull * n; }

int virtq_validate(const struct virtq *q)
{
	if (q->size == 0 || q->size > q->max_size || (q->size & (q->size - 1)))
		return -EINVAL;
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	if (!gmem_ptr(q->mem, q->desc_gpa, desc_bytes(q->size)) ||
	    !gmem_ptr(q->mem, q->avail_gpa, avail_bytes(q->size)) ||
	    !gmem_ptr(q->mem, q->used_gpa, used_bytes(q->size)))
		return -EINVAL;
	return 0;
}

void virtq_reset(struct virtq *q)
{
	uint16_t max = q->max_size;
	const struct guest_mem *mem = q->mem;

	memset(q, 0, sizeof(*q));
	q->max_size = max;
	q->size = max;
	q->mem = mem;
}

static uint16_t avail_idx(const struct virtq *q)
{
	uint16_t *p = gmem_ptr(q->mem, q->avail_gpa + 2, 2);

	/* Acquire: ring entries written before idx are visible after reading it. */
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

bool virtq_has_avail(const struct virtq *q)
{
	return q->ready && avail_idx(q) != q->last_avail;
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	uint16_t idx, head, next, pending;
	const uint8_t *ring;
	struct vring_desc *table;

	if (!q->ready)
		return 0;
	idx = avail_idx(q);
	pending = (uint16_t)(idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return -EINVAL;   /* the driver claims more buffers than the ring holds */
	ring = gmem_ptr(q->mem, q->avail_gpa + 4, 2ull * q->size);
	memcpy(&head, ring + 2 * (q->last_avail % q->size), 2);
	q->last_avail++;
	if (head >= q->size)
		return -EINVAL;
	table = gmem_ptr(q->mem, q->desc_gpa, desc_bytes(q->size));
	c->n = 0;
	c->readable_len = c->writable_len = 0;
	c->head = head;
	next = head;
	for (;;) {
		struct vring_desc d;
		void *p;

		/* One copy: the guest may change the descriptor while we look at it. */
		memcpy(&d, &table[next], sizeof(d));
		if (c->n == VIRTQ_MAX_CHAIN || c->n >= q->size)
			return -EINVAL;   /* too long, or a loop */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;   /* not negotiated */
		p = gmem_ptr(q->mem, d.addr, d.len);
		if (!p)
			return -EINVAL;
		c->iov[c->n].iov_base = p;
		c->iov[c->n].iov_len = d.len;
		c->writable[c->n] = d.flags & VIRTQ_DESC_F_WRITE;
		if (c->writable[c->n])
			c->writable_len += d.len;
		else
			c->readable_len += d.len;
		c->n++;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		next = d.next;
		if (next >= q->size)
			return -EINVAL;
	}
	return 1;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	uint8_t *used = gmem_ptr(q->mem, q->used_gpa, used_bytes(q->size));
	uint32_t id = head;
	uint8_t *elem = used + 4 + 8 * (q->used_idx % q->size);

	memcpy(elem, &id, 4);
	memcpy(elem + 4, &written, 4);
	q->used_idx++;
	/* Release: the element is visible before the index that publishes it. */
	__atomic_store_n((uint16_t *)(used + 2), q->used_idx, __ATOMIC_RELEASE);
}

/* A position in the bytes of one direction of a chain. */
struct chain_cursor {
	const struct virtq_chain *c;
	bool writable;
	unsigned seg;
	size_t off;                    /* into segment seg, or still to skip */
};

/* The next contiguous piece at the cursor, at most want bytes, in *piece;
 * its length, 0 once the chain's bytes of that direction run out. */
static size_t cursor_next(struct chain_cursor *cur, size_t want, uint8_t **piece)
{
	for (; cur->seg < cur->c->n; cur->seg++) {
		const struct iovec *iov = &cur->c->iov[cur->seg];
		size_t n;

		if (cur->c->writable[cur->seg] != cur->writable)
			continue;
		if (cur->off >= iov->iov_len) {
			cur->off -= iov->iov_len;
			continue;
		}
		n = iov->iov_len - cur->off;
		if (n > want)
			n = want;
		*piece = (uint8_t *)iov->iov_base + cur->off;
		cur->off += n;
		return n;
	}
	return 0;
}

size_t virtq_chain_read(const struct virtq_chain *c, size_t off, void *dst, size_t len)
{
	struct chain_cursor cur = { .c = c, .writable = false, .off = off };
	size_t done = 0, n;
	uint8_t *piece;

	while (done < len && (n = cursor_next(&cur, len - done, &piece))) {
		memcpy((uint8_t *)dst + done, piece, n);
		done += n;
	}
	return done;
}

size_t virtq_chain_write(const struct virtq_chain *c, size_t off, const void *src, size_t len)
{
	struct chain_cursor cur = { .c = c, .writable = true, .off = off };
	size_t done = 0, n;
	uint8_t *piece;

	while (done < len && (n = cursor_next(&cur, len - done, &piece))) {
		memcpy(piece, (const uint8_t *)src + done, n);
		done += n;
	}
	return done;
}

int virtq_chain_iov(const struct virtq_chain *c, bool writable, size_t off, size_t len,
                    struct iovec *out, int max)
{
	struct chain_cursor cur = { .c = c, .writable = writable, .off = off };
	size_t take;
	uint8_t *piece;
	int n = 0;

	while (len && (take = cursor_next(&cur, len, &piece))) {
		if (n == max)
			return -1;
		out[n].iov_base = piece;
		out[n].iov_len = take;
		n++;
		len -= take;
	}
	return len ? -1 : n;
}
