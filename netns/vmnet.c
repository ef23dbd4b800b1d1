/* vmnet.c — hand a container's network to its VM (the VM handler's side).
 *
 * Called by the VMM-to-be in the container's network namespace, before
 * the VM is created.  Whoever made the network (hull's bridge hook, or
 * Podman/containerd's CNI) left one interface with an address; here it is
 * described for the guest and, unless the setup hook did it already
 * (`-net-hook setup --tap`), tap0 and the two tc redirects are added
 * (tap.c).  The guest then owns the interface's MAC and addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "netns/netns.h"

/* The IPv4 default gateway of ifname from /proc/net/route (the namespace
 * of the reading process), host order; 0 when there is none. */
static uint32_t default_gw4(const char *ifname)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
	char line[256], name[IFNAMSIZ];
	unsigned dst, gw, flags;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s %x %x %x", name, &dst, &gw, &flags) == 4 && !strcmp(name, ifname) &&
		    dst == 0 && gw != 0)
			return ntohl(gw);
	return 0;
}

int netns_vm_net_prepare(struct netns_vm_net *out, struct hull_err *err)
{
	struct ifaddrs *ifa = NULL;
	int r;
	memset(out, 0, sizeof(*out));
	if (getifaddrs(&ifa) < 0)
		return hull_errf_sys(err, errno, "list network interfaces");
	/* the first interface with an IPv4 address that is neither lo nor our tap */
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
		    !strcmp(i->ifa_name, NETNS_VM_TAP))
			continue;
		snprintf(out->ifname, sizeof(out->ifname), "%s", i->ifa_name);
		out->addr4 = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		uint32_t mask = i->ifa_netmask ? ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr) : ~0u;
		out->prefix4 = (unsigned)__builtin_popcount(mask);
		break;
	}
	for (struct ifaddrs *i = ifa; out->ifname[0] && i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, out->ifname))
			continue;
		if (i->ifa_addr->sa_family == AF_PACKET) {
			const struct sockaddr_ll *ll = (const struct sockaddr_ll *)i->ifa_addr;
			if (ll->sll_halen == 6)
				memcpy(out->mac, ll->sll_addr, 6);
		} else if (i->ifa_addr->sa_family == AF_INET6 && !out->has_addr6) {
			const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)i->ifa_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr))
				continue;
			memcpy(out->addr6, &a6->sin6_addr, 16);
			out->has_addr6 = true;
		}
	}
	freeifaddrs(ifa);
	if (!out->ifname[0])
		return 0;   /* --net none: the VM gets no network */
	out->gw4 = default_gw4(out->ifname);
	snprintf(out->tap, sizeof(out->tap), "%s", NETNS_VM_TAP);
	if (if_nametoindex(NETNS_VM_TAP))
		return 0;   /* the setup hook made it (and the redirects) */
	int nl = netns_rtnl_open(err);
	if (nl < 0)
		return nl;
	r = netns_vm_tap_setup(nl, out->ifname, NETNS_VM_TAP, err);
	close(nl);
	return r < 0 ? hull_err_wrap(err, "VM network on `%s`", out->ifname) : 0;
}

int netns_vm_net_cmdline(const struct netns_vm_net *n, char *buf, size_t size)
{
	char a[16], g[16];
	int k = snprintf(buf, size, "hull.net=%02x:%02x:%02x:%02x:%02x:%02x,%s/%u,%s", n->mac[0], n->mac[1],
			 n->mac[2], n->mac[3], n->mac[4], n->mac[5], netns_ip4_str(n->addr4, a, sizeof(a)), n->prefix4,
			 n->gw4 ? netns_ip4_str(n->gw4, g, sizeof(g)) : "");
	return k < 0 || (size_t)k >= size ? -ENOSPC : 0;
}
