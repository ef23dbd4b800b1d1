/* vsock.c — virtio-vsock device, host side over UNIX sockets (see vsock.h).
 *
 * Threads: guest packets (tx queue) are handled on the vCPU thread that kicks
 * the queue; host sockets are serviced by the I/O thread.  Both hold the
 * device lock.  Data from the guest goes straight to the host socket; what
 * the socket cannot take yet waits in a per-connection buffer no larger than
 * the credit we advertise, so a guest cannot make the VMM grow.
 */
#include "microvm/virtio/vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "microvm/vm.h"
#include "microvm/virtio/virtio.h"

#define VSOCK_RXQ 0
#define VSOCK_TXQ 1
#define VSOCK_EVQ 2
#define VSOCK_QUEUE_SIZE 256
#define VSOCK_BUF_ALLOC (64u * 1024u)     /* credit we give the guest per connection */
#define VSOCK_MAX_PKT (64u * 1024u)
#define VSOCK_MAX_CONNS 256
#define VSOCK_CTL_MAX 128
#define VSOCK_LINE_MAX 32
#define VSOCK_EPHEMERAL_BASE 0x40000000u

enum conn_state {
	CONN_HOST_LINE,      /* host connected to DIR/vsock, reading "CONNECT P\n" */
	CONN_CONNECTING,     /* REQUEST sent to the guest, waiting for RESPONSE */
	CONN_ESTABLISHED,
};

struct vsock;

struct vconn {
	struct vsock *dev;
	struct vm_io_handler io;
	enum conn_state state;
	uint32_t guest_port, host_port;
	uint32_t peer_buf_alloc, peer_fwd_cnt;  /* the guest's receive credit */
	uint32_t tx_cnt;                        /* bytes sent to the guest */
	uint32_t fwd_cnt, fwd_cnt_sent;         /* bytes passed on to the host socket */
	uint8_t *pend;                          /* guest data the socket has not taken */
	uint32_t pend_len;
	char line[VSOCK_LINE_MAX];
	unsigned line_len;
	bool host_eof, shut_wr_pending;
	bool dead;                              /* freed at the I/O thread's next batch end */
	uint32_t events;
	struct vconn *next;
};

struct vsock {
	struct virtio_dev vdev;
	struct hull_vm *vm;
	uint8_t config[8];                      /* guest_cid */
	uint64_t cid;
	char dir[108];
	struct vm_io_handler listener;
	struct vconn *conns;
	struct vconn *graveyard;
	unsigned nconns;
	uint32_t next_port;
	struct vsock_hdr ctl[VSOCK_CTL_MAX];    /* control packets waiting for rx buffers */
	unsigned nctl;
	bool have_pending;
	struct virtq_chain pending;             /* an rx buffer popped but not filled */
	bool rx_starved;
};

static uint32_t conn_credit(const struct vconn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static void conn_update_events(struct vconn *c)
{
	uint32_t ev = 0;

	if (c->state == CONN_HOST_LINE)
		ev = EPOLLIN;
	else if (c->state == CONN_ESTABLISHED && !c->host_eof && conn_credit(c) > 0 && !c->dev->rx_starved)
		ev = EPOLLIN;
	if (c->pend_len)
		ev |= EPOLLOUT;
	if (ev != c->events) {
		c->events = ev;
		vm_io_mod(c->dev->vm, &c->io, ev);
	}
}

static void queue_ctl(struct vsock *v, uint32_t src_port, uint32_t dst_port, uint16_t op, uint32_t flags,
                      uint32_t fwd_cnt)
{
	if (v->nctl == VSOCK_CTL_MAX) {
		hull_debug("vsock: control queue full, dropping op %u", op);
		return;
	}
	v->ctl[v->nctl++] = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = v->cid, .src_port = src_port, .dst_port = dst_port,
		.type = VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = VSOCK_BUF_ALLOC, .fwd_cnt = fwd_cnt,
	};
}

static void conn_ctl(struct vconn *c, uint16_t op, uint32_t flags)
{
	queue_ctl(c->dev, c->host_port, c->guest_port, op, flags, c->fwd_cnt);
	if (op == VSOCK_OP_CREDIT_UPDATE || op == VSOCK_OP_RESPONSE || op == VSOCK_OP_REQUEST)
		c->fwd_cnt_sent = c->fwd_cnt;
}

static void conn_free(struct vconn *c)
{
	struct vsock *v = c->dev;

	for (struct vconn **pp = &v->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	v->nconns--;
	vm_io_del(v->vm, &c->io);
	close(c->io.fd);
	c->io.fd = -1;
	free(c->pend);
	c->pend = NULL;
	/* An event for c may already sit in the I/O thread's current batch. */
	c->dead = true;
	c->next = v->graveyard;
	v->graveyard = c;
}

static void vsock_reap(void *opaque)
{
	struct vsock *v = opaque;
	struct vconn *dead;

	pthread_mutex_lock(&v->vdev.lock);
	dead = v->graveyard;
	v->graveyard = NULL;
	pthread_mutex_unlock(&v->vdev.lock);
	while (dead) {
		struct vconn *next = dead->next;
		free(dead);
		dead = next;
	}
}

static void conn_reset(struct vconn *c)
{
	conn_ctl(c, VSOCK_OP_RST, 0);
	conn_free(c);
}

static struct vconn *conn_find(struct vsock *v, uint32_t guest_port, uint32_t host_port)
{
	for (struct vconn *c = v->conns; c; c = c->next)
		if (c->guest_port == guest_port && c->host_port == host_port && c->state != CONN_HOST_LINE)
			return c;
	return NULL;
}

static void conn_io(struct vm_io_handler *h, uint32_t events);

static struct vconn *conn_new(struct vsock *v, int fd, enum conn_state state)
{
	struct vconn *c;
	struct hull_err err = { 0 };

	if (v->nconns == VSOCK_MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return NULL;
	}
	c->dev = v;
	c->state = state;
	c->io = (struct vm_io_handler){ .fd = fd, .fn = conn_io, .opaque = c };
	c->events = EPOLLIN;
	if (vm_io_add(v->vm, &c->io, EPOLLIN, &err) < 0) {
		close(fd);
		free(c);
		return NULL;
	}
	c->next = v->conns;
	v->conns = c;
	v->nconns++;
	return c;
}

/* Fill rx buffers: control packets first, then data from sockets that are
 * readable (the caller says which).  Returns true if anything was used. */
static bool rx_pop(struct vsock *v)
{
	int r;

	if (v->have_pending)
		return true;
	r = virtq_pop(&v->vdev.queues[VSOCK_RXQ], &v->pending);
	if (r < 0) {
		virtio_set_broken(&v->vdev, "malformed rx queue");
		return false;
	}
	if (r == 0)
		return false;
	if (v->pending.writable_len < VSOCK_HDR_LEN) {
		virtio_set_broken(&v->vdev, "rx buffer smaller than a packet header");
		return false;
	}
	v->have_pending = true;
	return true;
}

static void rx_deliver(struct vsock *v, const struct vsock_hdr *h, bool *any)
{
	virtq_chain_write(&v->pending, 0, h, sizeof(*h));
	virtq_push(&v->vdev.queues[VSOCK_RXQ], v->pending.head, VSOCK_HDR_LEN + h->len);
	v->have_pending = false;
	*any = true;
}

static void set_starved(struct vsock *v, bool starved)
{
	if (v->rx_starved == starved)
		return;
	v->rx_starved = starved;
	for (struct vconn *c = v->conns; c; c = c->next)
		conn_update_events(c);
}

static bool flush_ctl(struct vsock *v)
{
	bool any = false;
	unsigned done = 0;

	if (!virtio_driver_ok(&v->vdev) || !v->vdev.queues[VSOCK_RXQ].ready)
		return false;
	while (done < v->nctl && rx_pop(v)) {
		rx_deliver(v, &v->ctl[done], &any);
		done++;
	}
	memmove(v->ctl, v->ctl + done, (v->nctl - done) * sizeof(v->ctl[0]));
	v->nctl -= done;
	if (v->nctl)
		set_starved(v, true);
	return any;
}

/* Host socket -> guest: one packet per rx buffer while credit lasts. */
static bool conn_read_to_guest(struct vconn *c)
{
	struct vsock *v = c->dev;
	bool any = false;

	while (c->state == CONN_ESTABLISHED && !c->host_eof) {
		struct iovec iov[VIRTQ_MAX_CHAIN];
		struct vsock_hdr h;
		uint32_t room, credit = conn_credit(c);
		ssize_t n;
		int niov;

		if (credit == 0)
			break;
		if (!rx_pop(v)) {
			set_starved(v, true);
			break;
		}
		room = (uint32_t)(v->pending.writable_len - VSOCK_HDR_LEN);
		if (room > credit)
			room = credit;
		if (room > VSOCK_MAX_PKT)
			room = VSOCK_MAX_PKT;
		if (room == 0)
			break;
		niov = virtq_chain_iov(&v->pending, true, VSOCK_HDR_LEN, room, iov, VIRTQ_MAX_CHAIN);
		if (niov <= 0)
			break;
		n = readv(c->io.fd, iov, niov);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		h = (struct vsock_hdr){
			.src_cid = VSOCK_HOST_CID, .dst_cid = v->cid, .src_port = c->host_port,
			.dst_port = c->guest_port, .type = VSOCK_TYPE_STREAM,
			.buf_alloc = VSOCK_BUF_ALLOC, .fwd_cnt = c->fwd_cnt,
		};
		if (n <= 0) {
			/* The host will send no more (it may still read: a half-close). */
			c->host_eof = true;
			h.op = VSOCK_OP_SHUTDOWN;
			h.flags = VSOCK_SHUTDOWN_SEND;
			rx_deliver(v, &h, &any);
			break;
		}
		h.op = VSOCK_OP_RW;
		h.len = (uint32_t)n;
		c->tx_cnt += (uint32_t)n;
		c->fwd_cnt_sent = c->fwd_cnt;
		rx_deliver(v, &h, &any);
	}
	return any;
}

/* Pass buffered guest data on to the host socket; -1 if the host side is gone. */
static int conn_flush_pending(struct vconn *c)
{
	while (c->pend_len) {
		ssize_t n = send(c->io.fd, c->pend, c->pend_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n <= 0)
			break;
		memmove(c->pend, c->pend + n, c->pend_len - (size_t)n);
		c->pend_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (!c->pend_len && c->shut_wr_pending) {
		shutdown(c->io.fd, SHUT_WR);
		c->shut_wr_pending = false;
	}
	if (c->fwd_cnt - c->fwd_cnt_sent >= VSOCK_BUF_ALLOC / 4)
		conn_ctl(c, VSOCK_OP_CREDIT_UPDATE, 0);
	return 0;
}

static int conn_write_from_guest(struct vconn *c, const struct virtq_chain *ch, uint32_t len)
{
	uint32_t off = VSOCK_HDR_LEN;

	if (len > VSOCK_BUF_ALLOC - c->pend_len)
		return -ENOBUFS;   /* the guest ignored our credit */
	if (!c->pend) {
		c->pend = malloc(VSOCK_BUF_ALLOC);
		if (!c->pend)
			return -ENOMEM;
	}
	/* Simple and bounded: stage in the connection buffer, then send what the socket takes. */
	virtq_chain_read(ch, off, c->pend + c->pend_len, len);
	c->pend_len += len;
	return conn_flush_pending(c) < 0 ? -EPIPE : 0;
}

static void host_connect_guest_request(struct vsock *v, const struct vsock_hdr *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vconn *c;
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/vsock_%u", v->dir, h->dst_port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path) || fd < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		queue_ctl(v, h->dst_port, h->src_port, VSOCK_OP_RST, 0, 0);
		return;
	}
	c = conn_new(v, fd, CONN_ESTABLISHED);
	if (!c) {
		queue_ctl(v, h->dst_port, h->src_port, VSOCK_OP_RST, 0, 0);
		return;
	}
	c->guest_port = h->src_port;
	c->host_port = h->dst_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	conn_ctl(c, VSOCK_OP_RESPONSE, 0);
	conn_update_events(c);
}

static void handle_guest_packet(struct vsock *v, const struct vsock_hdr *h, const struct virtq_chain *ch)
{
	struct vconn *c = conn_find(v, h->src_port, h->dst_port);
	char ok[32];

	if (c) {
		c->peer_buf_alloc = h->buf_alloc;
		c->peer_fwd_cnt = h->fwd_cnt;
	}
	switch (h->op) {
	case VSOCK_OP_REQUEST:
		if (c)
			conn_reset(c);
		else
			host_connect_guest_request(v, h);
		return;
	case VSOCK_OP_RST:
		if (c)
			conn_free(c);
		return;
	}
	if (!c) {
		queue_ctl(v, h->dst_port, h->src_port, VSOCK_OP_RST, 0, 0);
		return;
	}
	switch (h->op) {
	case VSOCK_OP_RESPONSE:
		if (c->state != CONN_CONNECTING) {
			conn_reset(c);
			return;
		}
		c->state = CONN_ESTABLISHED;
		snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);
		if (send(c->io.fd, ok, strlen(ok), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)strlen(ok)) {
			conn_reset(c);
			return;
		}
		break;
	case VSOCK_OP_RW:
		if (c->state != CONN_ESTABLISHED || conn_write_from_guest(c, ch, h->len) < 0) {
			conn_reset(c);
			return;
		}
		break;
	case VSOCK_OP_CREDIT_REQUEST:
		conn_ctl(c, VSOCK_OP_CREDIT_UPDATE, 0);
		break;
	case VSOCK_OP_CREDIT_UPDATE:
		break;
	case VSOCK_OP_SHUTDOWN:
		if ((h->flags & (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)) ==
		    (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)) {
			/* Guest closed: flush what we can, then confirm with RST. */
			conn_flush_pending(c);
			conn_reset(c);
			return;
		}
		if (h->flags & VSOCK_SHUTDOWN_SEND) {
			c->shut_wr_pending = true;
			if (conn_flush_pending(c) < 0) {
				conn_reset(c);
				return;
			}
		}
		break;
	default:
		conn_reset(c);
		return;
	}
	conn_update_events(c);
}

static void vsock_tx(struct vsock *v)
{
	struct virtq *q = &v->vdev.queues[VSOCK_TXQ];
	struct virtq_chain ch;
	bool any = false;
	int r;

	while ((r = virtq_pop(q, &ch)) > 0) {
		struct vsock_hdr h;

		if (virtq_chain_read(&ch, 0, &h, sizeof(h)) == sizeof(h) && h.type == VSOCK_TYPE_STREAM &&
		    h.src_cid == v->cid && h.dst_cid == VSOCK_HOST_CID && h.len <= VSOCK_MAX_PKT &&
		    h.len <= ch.readable_len - VSOCK_HDR_LEN)
			handle_guest_packet(v, &h, &ch);
		else if (ch.readable_len >= sizeof(h) && h.op != VSOCK_OP_RST)
			queue_ctl(v, h.dst_port, h.src_port, VSOCK_OP_RST, 0, 0);
		virtq_push(q, ch.head, 0);
		any = true;
	}
	if (r < 0)
		virtio_set_broken(&v->vdev, "malformed tx queue");
	if (flush_ctl(v))
		any = true;
	if (any)
		virtio_notify_used(&v->vdev);
}

static void vsock_kick_rx(struct vsock *v)
{
	bool any = flush_ctl(v);

	if (!v->nctl) {
		set_starved(v, false);
		for (struct vconn *c = v->conns; c; c = c->next)
			any |= conn_read_to_guest(c);
	}
	if (any)
		virtio_notify_used(&v->vdev);
}

static void vsock_notify(struct virtio_dev *d, unsigned qi)
{
	struct vsock *v = d->opaque;

	if (qi == VSOCK_TXQ)
		vsock_tx(v);
	else if (qi == VSOCK_RXQ)
		vsock_kick_rx(v);
	/* The event queue only carries transport resets, which hull never sends. */
}

static void vsock_reset(struct virtio_dev *d)
{
	struct vsock *v = d->opaque;

	while (v->conns)
		conn_free(v->conns);
	v->nctl = 0;
	v->have_pending = false;
	v->rx_starved = false;
}

static void conn_read_line(struct vconn *c)
{
	struct vsock *v = c->dev;
	unsigned port;
	char *nl;
	ssize_t n = recv(c->io.fd, c->line + c->line_len, sizeof(c->line) - 1 - c->line_len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(c);
		return;
	}
	c->line_len += (unsigned)n;
	c->line[c->line_len] = '\0';
	nl = strchr(c->line, '\n');
	if (!nl) {
		if (c->line_len == sizeof(c->line) - 1)
			conn_free(c);
		return;
	}
	*nl = '\0';
	if (sscanf(c->line, "CONNECT %u", &port) != 1 || !virtio_driver_ok(&v->vdev)) {
		conn_free(c);
		return;
	}
	c->guest_port = port;
	c->host_port = v->next_port++;
	if (v->next_port < VSOCK_EPHEMERAL_BASE)
		v->next_port = VSOCK_EPHEMERAL_BASE;
	c->state = CONN_CONNECTING;
	conn_ctl(c, VSOCK_OP_REQUEST, 0);
	conn_update_events(c);
}

static void conn_io(struct vm_io_handler *h, uint32_t events)
{
	struct vconn *c = h->opaque;
	struct vsock *v = c->dev;
	bool any = false;

	pthread_mutex_lock(&v->vdev.lock);
	if (c->dead) {
		pthread_mutex_unlock(&v->vdev.lock);
		return;
	}
	if (c->state == CONN_HOST_LINE) {
		conn_read_line(c);
	} else if ((events & EPOLLOUT) && conn_flush_pending(c) < 0) {
		conn_reset(c);
	} else {
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			any = conn_read_to_guest(c);
		/* HUP: the host closed both directions (a half-close shows as EOF
		 * only).  It is reported even when not asked for, so the
		 * connection must go now.  What the guest had no room for yet is
		 * lost, as on a reset TCP connection. */
		if (events & (EPOLLHUP | EPOLLERR))
			conn_reset(c);
		else
			conn_update_events(c);
	}
	if (flush_ctl(v))
		any = true;
	if (any)
		virtio_notify_used(&v->vdev);
	pthread_mutex_unlock(&v->vdev.lock);
}

static void listener_io(struct vm_io_handler *h, uint32_t events)
{
	struct vsock *v = h->opaque;
	int fd = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	pthread_mutex_lock(&v->vdev.lock);
	conn_new(v, fd, CONN_HOST_LINE);
	pthread_mutex_unlock(&v->vdev.lock);
}

static const struct virtio_dev_ops vsock_ops = { .notify = vsock_notify, .reset = vsock_reset };

static void vsock_free(void *opaque)
{
	struct vsock *v = opaque;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];

	while (v->conns)
		conn_free(v->conns);
	vsock_reap(v);
	if (v->listener.fd >= 0) {
		vm_io_del(v->vm, &v->listener);
		close(v->listener.fd);
		snprintf(path, sizeof(path), "%s/vsock", v->dir);
		unlink(path);
	}
	pthread_mutex_destroy(&v->vdev.lock);
	free(v);
}

static int vsock_listen(struct vsock *v, struct hull_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/vsock", v->dir);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return hull_errf(err, ENAMETOOLONG, "--vsock %s: path too long for a UNIX socket", v->dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return hull_errf_sys(err, errno, "vsock listener socket");
	unlink(sa.sun_path);   /* a socket file left by an earlier VM in this directory */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		return hull_errf_sys(err, e, "vsock listener %s", sa.sun_path);
	}
	v->listener = (struct vm_io_handler){ .fd = fd, .fn = listener_io, .opaque = v };
	return vm_io_add(v->vm, &v->listener, EPOLLIN, err);
}

int virtio_vsock_attach(struct hull_vm *vm, struct hull_err *err)
{
	struct vsock *v;
	struct stat st;
	int r;

	if (!vm->cfg.vsock_dir)
		return 0;
	if (stat(vm->cfg.vsock_dir, &st) < 0)
		return hull_errf_sys(err, errno, "--vsock %s", vm->cfg.vsock_dir);
	if (!S_ISDIR(st.st_mode))
		return hull_errf(err, ENOTDIR, "--vsock %s: not a directory", vm->cfg.vsock_dir);
	if (strlen(vm->cfg.vsock_dir) > sizeof(v->dir) - 20)
		return hull_errf(err, ENAMETOOLONG, "--vsock %s: path too long for UNIX sockets", vm->cfg.vsock_dir);
	if (vm->cfg.vsock_cid < 3)
		return hull_errf(err, EINVAL, "vsock guest CID %u is reserved", vm->cfg.vsock_cid);
	v = calloc(1, sizeof(*v));
	if (!v)
		return hull_errf(err, ENOMEM, "virtio-vsock");
	v->vm = vm;
	v->cid = vm->cfg.vsock_cid;
	v->next_port = VSOCK_EPHEMERAL_BASE;
	v->listener.fd = -1;
	snprintf(v->dir, sizeof(v->dir), "%s", vm->cfg.vsock_dir);
	memcpy(v->config, &v->cid, 8);
	virtio_dev_init(&v->vdev, vm, "virtio-vsock", VIRTIO_ID_VSOCK, 0, 3, VSOCK_QUEUE_SIZE, &vsock_ops, v);
	v->vdev.config = v->config;
	v->vdev.config_len = sizeof(v->config);
	r = vm_add_cleanup(vm, vsock_free, v, err);
	if (r == 0)
		r = vm_io_on_batch_end(vm, vsock_reap, v, err);
	if (r == 0)
		r = vsock_listen(v, err);
	if (r == 0)
		r = virtio_mmio_attach(&v->vdev, err);
	return r;
}

VM_DEVICE_TYPE(virtio_vsock, virtio_vsock_attach);
