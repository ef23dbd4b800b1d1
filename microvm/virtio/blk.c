/* blk.c — virtio-blk backed by a raw image file (read-only or read-write).
 *
 * Requests are served synchronously on the vCPU thread that kicked the queue:
 * one preadv/pwritev straight between the file and guest RAM.  Every request
 * is checked: header and status present, data a whole number of sectors and
 * inside the disk, writes refused on a read-only disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microvm/vm.h"
#include "microvm/virtio/virtio.h"

#define VIRTIO_BLK_F_RO (1ull << 5)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define SECTOR 512ull
#define BLK_QUEUE_SIZE 256
#define BLK_ID_BYTES 20

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk {
	struct virtio_dev vdev;
	int fd;
	bool read_only;
	uint64_t sectors;
	uint8_t config[8];   /* capacity in 512-byte sectors */
	char id[BLK_ID_BYTES];
};

/* Serve one request; returns the status byte and the data bytes written to the guest. */
static uint8_t blk_request(struct blk *b, const struct virtq_chain *c, uint32_t *written)
{
	struct blk_req_hdr h;
	struct iovec iov[VIRTQ_MAX_CHAIN];
	size_t data_len;
	ssize_t n;
	int niov;

	*written = 0;
	if (virtq_chain_read(c, 0, &h, sizeof(h)) != sizeof(h))
		return VIRTIO_BLK_S_IOERR;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		data_len = c->writable_len - 1;
		if (data_len % SECTOR || h.sector > b->sectors || data_len / SECTOR > b->sectors - h.sector)
			return VIRTIO_BLK_S_IOERR;
		niov = virtq_chain_iov(c, true, 0, data_len, iov, VIRTQ_MAX_CHAIN);
		if (niov < 0)
			return VIRTIO_BLK_S_IOERR;
		n = data_len ? preadv(b->fd, iov, niov, (off_t)(h.sector * SECTOR)) : 0;
		if (n < 0 || (size_t)n != data_len)
			return VIRTIO_BLK_S_IOERR;
		*written = (uint32_t)data_len;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		if (b->read_only)
			return VIRTIO_BLK_S_IOERR;
		data_len = c->readable_len - sizeof(h);
		if (data_len % SECTOR || h.sector > b->sectors || data_len / SECTOR > b->sectors - h.sector)
			return VIRTIO_BLK_S_IOERR;
		niov = virtq_chain_iov(c, false, sizeof(h), data_len, iov, VIRTQ_MAX_CHAIN);
		if (niov < 0)
			return VIRTIO_BLK_S_IOERR;
		n = data_len ? pwritev(b->fd, iov, niov, (off_t)(h.sector * SECTOR)) : 0;
		if (n < 0 || (size_t)n != data_len)
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		return b->read_only || fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	case VIRTIO_BLK_T_GET_ID:
		data_len = c->writable_len - 1;
		*written = (uint32_t)virtq_chain_write(c, 0, b->id, data_len < BLK_ID_BYTES ? data_len : BLK_ID_BYTES);
		return VIRTIO_BLK_S_OK;
	}
	return VIRTIO_BLK_S_UNSUPP;
}

static void blk_notify(struct virtio_dev *d, unsigned qi)
{
	struct blk *b = d->opaque;
	struct virtq *q = &d->queues[qi];
	struct virtq_chain c;
	bool any = false;
	int r;

	while ((r = virtq_pop(q, &c)) > 0) {
		uint32_t written = 0;
		uint8_t status;

		if (c.readable_len < sizeof(struct blk_req_hdr) || c.writable_len < 1) {
			virtio_set_broken(d, "request without header or status byte");
			return;
		}
		status = blk_request(b, &c, &written);
		/* The status byte is the last writable byte of the chain. */
		virtq_chain_write(&c, c.writable_len - 1, &status, 1);
		virtq_push(q, c.head, written + 1);
		any = true;
	}
	if (r < 0)
		virtio_set_broken(d, "malformed request queue");
	if (any)
		virtio_notify_used(d);
}

static const struct virtio_dev_ops blk_ops = { .notify = blk_notify };

static void blk_free(void *opaque)
{
	struct blk *b = opaque;

	if (b->fd >= 0)
		close(b->fd);
	pthread_mutex_destroy(&b->vdev.lock);
	free(b);
}

static int blk_attach_one(struct hull_vm *vm, const struct hull_vm_disk *disk, unsigned index, struct hull_err *err)
{
	struct blk *b = calloc(1, sizeof(*b));
	struct stat st;
	int r;

	if (!b)
		return hull_errf(err, ENOMEM, "virtio-blk");
	b->fd = open(disk->path, (disk->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		r = hull_errf_sys(err, errno, "disk %s", disk->path);
		free(b);
		return r;
	}
	virtio_dev_init(&b->vdev, vm, "virtio-blk", VIRTIO_ID_BLOCK,
	                VIRTIO_BLK_F_FLUSH | (disk->read_only ? VIRTIO_BLK_F_RO : 0), 1, BLK_QUEUE_SIZE, &blk_ops, b);
	r = vm_add_cleanup(vm, blk_free, b, err);
	if (r < 0)
		return r;
	if (fstat(b->fd, &st) < 0)
		return hull_errf_sys(err, errno, "disk %s", disk->path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return hull_errf(err, EINVAL, "disk %s: not a regular file or block device", disk->path);
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(b->fd, 0, SEEK_END);
		if (end < 0)
			return hull_errf_sys(err, errno, "disk %s", disk->path);
		st.st_size = end;
	}
	b->read_only = disk->read_only;
	b->sectors = (uint64_t)st.st_size / SECTOR;
	memcpy(b->config, &b->sectors, 8);
	b->vdev.config = b->config;
	b->vdev.config_len = sizeof(b->config);
	snprintf(b->id, sizeof(b->id), "hull-disk%u", index);
	return virtio_mmio_attach(&b->vdev, err);
}

int virtio_blk_attach(struct hull_vm *vm, struct hull_err *err)
{
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		int r = blk_attach_one(vm, &vm->cfg.disks[i], i, err);
		if (r < 0)
			return r;
	}
	return 0;
}

VM_DEVICE_TYPE(virtio_blk, virtio_blk_attach);
