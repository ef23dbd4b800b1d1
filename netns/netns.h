/* netns.h — container networking for direct CLI use (`hull run IMAGE`).
 *
 * Podman and containerd bring their own network (CNI/netavark) into the
 * container's namespace; hull touches nothing there.  Only image runs get
 * hull's own network, chosen with `--net`:
 *   none      a new network namespace with loopback only
 *   host      the host's namespace
 *   ns:PATH   join the namespace at PATH (config's namespace path)
 *   bridge    (default) a veth pair from the `hull0` bridge: an IPv4 lease
 *             from the subnet (default 10.210.0.0/24, gateway .1 on hull0),
 *             default route, masquerading NAT for the subnet only, published
 *             ports (`-p [ip:]hostport:containerport[/tcp|/udp]`), and
 *             /etc/hosts, /etc/resolv.conf inside the container; where
 *             the host has IPv6, also a ULA address (NETNS_SUBNET6).
 *
 * How it is wired: the image plugin puts two hooks into the bundle's
 * config.json, `hull -- -net-hook setup [ARGS]` (createRuntime: the
 * container's netns exists, the init has not run anything yet) and
 * `hull -- -net-hook teardown` (poststop: run by `delete`, also with
 * --force after a crash).  The hooks read the OCI state (id, pid, bundle)
 * on stdin, so the runtime's lifecycle code needs no network knowledge.
 *
 * Host state, all keyed by container id so teardown needs nothing else:
 *   /run/hull/net/lock     flock()ed by every setup/teardown
 *   /run/hull/net/leases   "ADDRESS ID" lines
 *   veth host end          "vh" + 8 hex digits of a hash of the id
 *   nftables               `table inet hull` only; per-container rules carry
 *                          the comment "hull:ID" and are deleted by handle
 *
 * Published ports work from other hosts (prerouting DNAT), from the host
 * itself on any local address (output DNAT), and on 127.0.0.1: the bridge
 * has route_localnet=1 and connections from 127.0.0.0/8 to the subnet are
 * masqueraded to the gateway address (what CNI's portmap plugin does), so
 * TCP and UDP both work without a userspace proxy.
 */
#ifndef HULL_NETNS_NETNS_H
#define HULL_NETNS_NETNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

#define NETNS_BRIDGE "hull0"
#define NETNS_DEFAULT_SUBNET "10.210.0.0/24"
#define NETNS_STATE_DIR "/run/hull/net"
#define NETNS_MAX_PORTS 64
#define NETNS_MAX_DNS 3
#define NETNS_VM_TAP "tap0"
/* IPv6 (when the host has it): a ULA /64 ("hull" in its bytes); a container's
 * address is the prefix plus the host part of its IPv4 lease, so the lease
 * covers both.  No IPv6 forwarding is switched on (that would change how the
 * host's own interfaces take router advertisements): containers reach each
 * other and the host, not the outside, over IPv6. */
#define NETNS_SUBNET6 "fd68:756c:6c00::/64"

/* ---- pure helpers (unit tested) ---- */

struct netns_subnet {
	uint32_t net;       /* host byte order, host bits zero */
	unsigned prefix;    /* 8..30 */
};

/* "A.B.C.D/N", N in 8..30, no host bits set. */
int netns_subnet_parse(const char *cidr, struct netns_subnet *out, struct hull_err *err);
uint32_t netns_subnet_gateway(const struct netns_subnet *s);
uint32_t netns_subnet_broadcast(const struct netns_subnet *s);
bool netns_subnet_contains(const struct netns_subnet *s, uint32_t addr);

/* strict dotted quad -> host order; -1 if not one */
int netns_ip4_parse(const char *s, uint32_t *out);
/* dotted quad of a host-order address into buf (>= 16 bytes) */
const char *netns_ip4_str(uint32_t addr, char *buf, size_t size);

struct netns_port {
	int proto;              /* IPPROTO_TCP or IPPROTO_UDP */
	bool has_host_ip;
	uint32_t host_ip;       /* host order; only when has_host_ip */
	uint16_t host_port;
	uint16_t container_port;
};

/* `[IP:]HOSTPORT:CONTAINERPORT[/tcp|/udp]`, IPv4 only, ports 1..65535. */
int netns_port_parse(const char *spec, struct netns_port *out, struct hull_err *err);

/* Lease table text ("ADDRESS ID\n" lines; malformed lines are ignored).
 * pick: the address `id` already holds, else the lowest free one in
 * gateway+1 .. broadcast-1; -ENOSPC (with err) when the subnet is full. */
int netns_lease_pick(const char *text, const char *id, const struct netns_subnet *s, uint32_t *addr,
		     bool *existing, struct hull_err *err);
/* New text without `id`'s lines, plus "ADDR id" when addr != 0.  malloc'd; NULL on ENOMEM. */
char *netns_lease_update(const char *text, const char *id, uint32_t addr);

/* nftables text for the table and its base rules; with ipv6, the ULA's
 * outbound masquerade too. */
char *netns_nft_base_rules(const struct netns_subnet *s, bool ipv6);
/* nftables text adding the DNAT rules for one container's ports. */
char *netns_nft_port_rules(const char *id, uint32_t container_ip, const struct netns_port *ports, size_t n);
/* From `nft -a list table inet hull` text: "delete rule inet hull CHAIN handle N"
 * commands for every rule commented "hull:ID".  malloc'd ("" when none). */
char *netns_nft_delete_cmds(const char *listing, const char *id);

/* NETNS_SUBNET6 prefix + the IPv4 address's host part (host 1 = the gateway). */
void netns_ip6_for(uint32_t addr4, const struct netns_subnet *s, uint8_t out[16]);

/* From `nft list table inet hull` text: the id of a container whose
 * published port overlaps p (same protocol and host port, and the same host
 * address or either one unspecified), copied into owner; false if none. */
bool netns_nft_port_owner(const char *listing, const struct netns_port *p, char *owner, size_t size);

/* Host-side veth name for a container id: "vh" + 8 hex digits. */
void netns_veth_name(const char *id, char out[16]);

/* ---- setup and teardown (need root) ---- */

struct netns_bridge_opts {
	const char *id;
	pid_t pid;                              /* the container init (its netns is used) */
	const char *bundle;                     /* hosts / resolv.conf / hostname files live here */
	struct netns_subnet subnet;
	struct netns_port ports[NETNS_MAX_PORTS];
	size_t n_ports;
	uint32_t dns[NETNS_MAX_DNS];            /* host order; none: the host's non-loopback servers */
	size_t n_dns;
	bool vm_tap;                            /* also NETNS_VM_TAP, tc-redirected to eth0 (tap.c) */
};

/* Everything for one container; on failure undoes what it did. */
int netns_bridge_attach(const struct netns_bridge_opts *o, struct hull_err *err);

/* Remove the container's rules, host veth and lease.  Missing pieces are
 * fine (idempotent; used by `delete --force` after a crash). */
int netns_bridge_detach(const char *id, struct hull_err *err);

/* ---- linux.netDevices (netdev.c) ---- */

struct oci_kv;
/* config-linux.md "Network Devices", at create, from the runtime's side,
 * once the container init `pid` has its network namespace and before it
 * runs anything: move each host interface devices[i].key into that
 * namespace, named devices[i].value (NULL or "": the same name; "%d"
 * templates let the kernel pick), with its permanent global addresses
 * added again (a move drops them) and set up.  Errors (one line naming
 * .linux.netDevices.NAME): no such device, the name taken in the container,
 * a device that cannot change namespace, a container without a network
 * namespace of its own.  On error the devices already moved are moved back
 * as they were.  Nothing is done at delete: the spec forbids moving them
 * back out; they go where the kernel puts them when the namespace dies. */
int netns_netdevs_move(pid_t pid, const struct oci_kv *devices, size_t n, struct hull_err *err);

/* ---- low level (rtnl.c, nft.c) ---- */

int netns_rtnl_open(struct hull_err *err);
int netns_link_index(int nl, const char *name, struct hull_err *err);
int netns_bridge_ensure(int nl, const char *name, uint32_t addr, unsigned prefix, struct hull_err *err);
/* veth host_name (enslaved to master_index, up) <-> peer_name inside the netns netns_fd */
int netns_veth_add(int nl, const char *host_name, const char *peer_name, int netns_fd, int master_index,
		   struct hull_err *err);
int netns_link_up(int nl, int index, struct hull_err *err);
int netns_link_del(int nl, const char *name, struct hull_err *err);   /* -ENODEV when missing */
int netns_addr4_add(int nl, int index, uint32_t addr, unsigned prefix, struct hull_err *err);
int netns_route4_default(int nl, int index, uint32_t gateway, struct hull_err *err);
int netns_addr6_add(int nl, int index, const uint8_t addr[16], unsigned prefix, struct hull_err *err);
int netns_route6_default(int nl, int index, const uint8_t gateway[16], struct hull_err *err);

/* tap.c: a persistent tap (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR) in the current
 * netns; frames arriving on from_index leave through to_index (u32 +
 * mirred); netns_vm_tap_setup does both directions between eth and a new
 * tap, all in the namespace nl was opened in. */
int netns_tap_create(const char *name, struct hull_err *err);
int netns_tc_redirect(int nl, int from_index, int to_index, struct hull_err *err);
int netns_vm_tap_setup(int nl, const char *eth, const char *tap, struct hull_err *err);

/* vmnet.c — for the VM handler, in the container's network namespace
 * before the VM is created: describe the interface the network's maker left
 * (hull's bridge or CNI) and make sure tap0 + the redirects exist.  No such
 * interface (--net none): 0 with ifname[0] == '\0'.  Call it only when the
 * container has a network namespace of its own (never with the host's:
 * the host's interface would be redirected into the tap).  The VMM then opens
 * `tap` (hull_vm_open_tap) and gives the guest `mac`; the agent configures
 * its eth0 with addr4/prefix4 and the default route via gw4. */
struct netns_vm_net {
	char ifname[16];            /* the container's interface, e.g. eth0 */
	char tap[16];               /* NETNS_VM_TAP */
	uint8_t mac[6];
	uint32_t addr4;             /* host order */
	unsigned prefix4;
	uint32_t gw4;               /* 0: no default route */
	bool has_addr6;
	uint8_t addr6[16];          /* first global IPv6 address (prefix length /64 on hull0) */
};
int netns_vm_net_prepare(struct netns_vm_net *out, struct hull_err *err);
/* "hull.net=MAC,A.B.C.D/N,GW" (GW empty when none) for the guest's command line. */
int netns_vm_net_cmdline(const struct netns_vm_net *n, char *buf, size_t size);

/* Run nftables commands (libnftables, loaded at run time).  out (may be
 * NULL) receives the command output, malloc'd. */
int netns_nft_run(const char *cmds, bool with_handles, char **out, struct hull_err *err);

#endif
