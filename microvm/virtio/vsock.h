/* vsock.h — virtio-vsock with the host side in user space (no vhost).
 *
 * Host side, as Firecracker does it, under the --vsock DIR directory:
 *   - a guest connecting to host port P (CID 2) is connected to the UNIX
 *     socket DIR/vsock_P, which a host program listens on;
 *   - a host program connects to the UNIX socket DIR/vsock, which the VMM
 *     listens on, writes "CONNECT P\n" and, once the guest accepts on port P,
 *     reads "OK <host port>\n"; after that the socket carries the stream.
 * Only stream sockets; every packet header from the guest is checked (type,
 * CIDs, length against the descriptor chain and the advertised credit).
 */
#ifndef HULL_MICROVM_VIRTIO_VSOCK_H
#define HULL_MICROVM_VIRTIO_VSOCK_H

#include <stdint.h>

#define VSOCK_HOST_CID 2
#define VSOCK_HDR_LEN 44

#define VSOCK_OP_REQUEST 1
#define VSOCK_OP_RESPONSE 2
#define VSOCK_OP_RST 3
#define VSOCK_OP_SHUTDOWN 4
#define VSOCK_OP_RW 5
#define VSOCK_OP_CREDIT_UPDATE 6
#define VSOCK_OP_CREDIT_REQUEST 7

#define VSOCK_TYPE_STREAM 1
#define VSOCK_SHUTDOWN_RCV 1
#define VSOCK_SHUTDOWN_SEND 2

struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
} __attribute__((packed));

_Static_assert(sizeof(struct vsock_hdr) == VSOCK_HDR_LEN, "virtio_vsock_hdr is 44 bytes");

#endif
