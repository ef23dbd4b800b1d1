/* net.c — virtio-net over a tap file descriptor.
 *
 * The tap is opened with IFF_VNET_HDR and a 12-byte header, which is exactly
 * the virtio_net_hdr_v1 the guest puts in front of every frame: frames move
 * between the tap and guest RAM with one readv/writev and no copy in between.
 * No offloads are offered.  Transmit runs on the vCPU thread that kicked the
 * queue; receive runs on the I/O thread, which stops polling the tap while the
 * guest has no receive buffers posted and resumes when it posts some.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "microvm/vm.h"
#include "microvm/virtio/virtio.h"

#define VIRTIO_NET_F_MAC (1ull << 5)
#define NET_QUEUE_SIZE 256
#define NET_RXQ 0
#define NET_TXQ 1
#define NET_HDR_LEN 12

struct net {
	struct virtio_dev vdev;
	struct vm_io_handler io;
	int tap_fd;
	bool polling;
	bool have_pending;
	struct virtq_chain pending;   /* an rx buffer taken while the tap had nothing */
	uint8_t config[6];            /* MAC address */
};

int hull_vm_open_tap(const char *name, struct hull_err *err)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr = NET_HDR_LEN;
	_cleanup_close_ int fd = -1;

	if (strlen(name) >= IFNAMSIZ)
		return hull_errf(err, EINVAL, "tap name `%s` is longer than %d bytes", name, IFNAMSIZ - 1);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return hull_errf_sys(err, errno, "/dev/net/tun");
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return hull_errf_sys(err, errno, "tap %s: TUNSETIFF", name);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return hull_errf_sys(err, errno, "tap %s: TUNSETVNETHDRSZ", name);
	return steal_fd(fd);
}

static void net_set_polling(struct net *n, bool on)
{
	if (n->polling == on)
		return;
	n->polling = on;
	vm_io_mod(n->vdev.vm, &n->io, on ? EPOLLIN : 0);
}

/* Move frames from the tap into posted rx buffers (dev lock held). */
static void net_rx(struct net *n)
{
	struct virtio_dev *d = &n->vdev;
	struct virtq *q = &d->queues[NET_RXQ];
	bool any = false;

	if (!virtio_driver_ok(d) || !q->ready) {
		net_set_polling(n, false);
		return;
	}
	for (;;) {
		struct iovec iov[VIRTQ_MAX_CHAIN];
		ssize_t got;
		int niov;

		if (!n->have_pending) {
			int r = virtq_pop(q, &n->pending);
			if (r < 0) {
				virtio_set_broken(d, "malformed rx queue");
				break;
			}
			if (r == 0) {
				net_set_polling(n, false);   /* resume when the guest posts buffers */
				break;
			}
			n->have_pending = true;
		}
		niov = virtq_chain_iov(&n->pending, true, 0, n->pending.writable_len, iov, VIRTQ_MAX_CHAIN);
		if (niov <= 0 || n->pending.writable_len < NET_HDR_LEN) {
			n->have_pending = false;
			virtio_set_broken(d, "rx buffer without room for the header");
			break;
		}
		got = readv(n->tap_fd, iov, niov);
		if (got < 0) {
			net_set_polling(n, true);
			break;   /* EAGAIN: keep the buffer for the next frame */
		}
		virtq_push(q, n->pending.head, (uint32_t)got);
		n->have_pending = false;
		any = true;
	}
	if (any)
		virtio_notify_used(d);
}

static void net_tx(struct net *n)
{
	struct virtio_dev *d = &n->vdev;
	struct virtq *q = &d->queues[NET_TXQ];
	struct virtq_chain c;
	bool any = false;
	int r;

	while ((r = virtq_pop(q, &c)) > 0) {
		struct iovec iov[VIRTQ_MAX_CHAIN];
		int niov = virtq_chain_iov(&c, false, 0, c.readable_len, iov, VIRTQ_MAX_CHAIN);

		/* A full tap drops the frame, as a congested link would. */
		if (niov > 0 && c.readable_len > NET_HDR_LEN && writev(n->tap_fd, iov, niov) < 0 && errno != EAGAIN)
			hull_debug("virtio-net: tap write: %s", strerror(errno));
		virtq_push(q, c.head, 0);
		any = true;
	}
	if (r < 0)
		virtio_set_broken(d, "malformed tx queue");
	if (any)
		virtio_notify_used(d);
}

static void net_notify(struct virtio_dev *d, unsigned qi)
{
	struct net *n = d->opaque;

	if (qi == NET_TXQ)
		net_tx(n);
	else if (qi == NET_RXQ)
		net_rx(n);
}

static void net_activate(struct virtio_dev *d)
{
	net_rx(d->opaque);
}

static void net_reset(struct virtio_dev *d)
{
	struct net *n = d->opaque;

	n->have_pending = false;
	net_set_polling(n, false);
}

static void net_io(struct vm_io_handler *h, uint32_t events)
{
	struct net *n = h->opaque;

	pthread_mutex_lock(&n->vdev.lock);
	net_rx(n);
	pthread_mutex_unlock(&n->vdev.lock);
}

static const struct virtio_dev_ops net_ops = {
	.notify = net_notify, .activate = net_activate, .reset = net_reset,
};

static void net_free(void *opaque)
{
	struct net *n = opaque;

	vm_io_del(n->vdev.vm, &n->io);
	pthread_mutex_destroy(&n->vdev.lock);
	free(n);   /* the tap fd belongs to the caller */
}

int virtio_net_attach(struct hull_vm *vm, struct hull_err *err)
{
	struct net *n;
	int r;

	if (vm->cfg.tap_fd < 0)
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return hull_errf(err, ENOMEM, "virtio-net");
	n->tap_fd = vm->cfg.tap_fd;
	virtio_dev_init(&n->vdev, vm, "virtio-net", VIRTIO_ID_NET, VIRTIO_NET_F_MAC, 2, NET_QUEUE_SIZE, &net_ops, n);
	/* Locally administered unicast MAC: 02:68:75:6c:6c:<cid> ("hull"). */
	memcpy(n->config, (uint8_t[]){ 0x02, 0x68, 0x75, 0x6c, 0x6c, (uint8_t)vm->cfg.vsock_cid }, 6);
	n->vdev.config = n->config;
	n->vdev.config_len = sizeof(n->config);
	n->io = (struct vm_io_handler){ .fd = n->tap_fd, .fn = net_io, .opaque = n };
	n->polling = true;   /* registered with EPOLLIN; the first event turns it off until DRIVER_OK */
	r = vm_add_cleanup(vm, net_free, n, err);
	if (r < 0)
		return r;
	r = vm_io_add(vm, &n->io, 0, err);
	if (r < 0)
		return r;
	return virtio_mmio_attach(&n->vdev, err);
}

VM_DEVICE_TYPE(virtio_net, virtio_net_attach);
