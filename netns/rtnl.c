/* rtnl.c — the few rtnetlink requests hull's bridge networking needs.
 *
 * Each request is one message with NLM_F_ACK; the kernel's ack carries the
 * errno.  A socket talks to the network namespace it was created in, so a
 * caller configures the inside of a container by creating the socket after
 * setns() (see bridge.c).
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns/netns.h"
#include "netns/rtnl_internal.h"

void *nl_tail(struct nlmsghdr *h)
{
	return (char *)h + NLMSG_ALIGN(h->nlmsg_len);
}

/* Attributes never overflow: every request below is a few hundred bytes. */
struct rtattr *nl_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = nl_tail(h);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

struct rtattr *nl_nest(struct nlmsghdr *h, unsigned short type)
{
	return nl_attr(h, type, NULL, 0);
}

void nl_nest_end(struct nlmsghdr *h, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)nl_tail(h) - (char *)nest);
}

void nl_str(struct nlmsghdr *h, unsigned short type, const char *s)
{
	nl_attr(h, type, s, strlen(s) + 1);
}

void nl_u32(struct nlmsghdr *h, unsigned short type, uint32_t v)
{
	nl_attr(h, type, &v, sizeof(v));
}

void nl_init(struct nlreq *r, unsigned short type, unsigned short flags, const void *hdr, size_t hdr_len)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr_len);
	memcpy(NLMSG_DATA(&r->h), hdr, hdr_len);
}

int nl_query(int nl, struct nlreq *r, nl_msg_fn fn, void *arg)
{
	static uint32_t seq;
	char buf[32768];
	int res = 0;

	/* a get answers with its reply and then the ack; a dump ends with
	 * NLMSG_DONE and never acks, whatever the flag says */
	r->h.nlmsg_flags |= NLM_F_ACK;
	r->h.nlmsg_seq = ++seq;
	if (send(nl, r, r->h.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return res;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error ? e->error : res;
			}
			/* keep reading a dump to its end even after fn failed */
			if (fn && res == 0)
				res = fn(h, arg);
		}
	}
}

int nl_talk(int nl, struct nlreq *r)
{
	return nl_query(nl, r, NULL, NULL);
}

int netns_rtnl_open(struct hull_err *err)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return hull_errf_sys(err, errno, "rtnetlink socket");
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return hull_errf_sys(err, e, "rtnetlink bind");
	}
	return fd;
}

int netns_link_index(int nl, const char *name, struct hull_err *err)
{
	(void)nl;
	/* if_nametoindex looks in the namespace of the calling thread, which
	 * is the one nl was opened in (callers never switch in between) */
	unsigned idx = if_nametoindex(name);
	if (!idx)
		return hull_errf_sys(err, errno == ENXIO ? ENODEV : errno, "interface `%s`", name);
	return (int)idx;
}

int netns_link_up(int nl, int index, struct hull_err *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nlreq r;
	nl_init(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	int e = nl_talk(nl, &r);
	return e < 0 ? hull_errf_sys(err, -e, "set interface %d up", index) : 0;
}

static int write_sysctl(const char *path, const char *val, struct hull_err *err)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return hull_errf_sys(err, errno, "open `%s`", path);
	int ok = fputs(val, f) >= 0;
	if (fclose(f) != 0 || !ok)
		return hull_errf_sys(err, errno ? errno : EIO, "write `%s`", path);
	return 0;
}

int netns_bridge_ensure(int nl, const char *name, uint32_t addr, unsigned prefix, struct hull_err *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nlreq r;
	nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	nl_str(&r.h, IFLA_IFNAME, name);
	struct rtattr *li = nl_nest(&r.h, IFLA_LINKINFO);
	nl_str(&r.h, IFLA_INFO_KIND, "bridge");
	nl_nest_end(&r.h, li);
	int e = nl_talk(nl, &r);
	if (e < 0 && e != -EEXIST)
		return hull_errf_sys(err, -e, "create bridge `%s`", name);
	int idx = netns_link_index(nl, name, err);
	if (idx < 0)
		return idx;
	if ((e = netns_addr4_add(nl, idx, addr, prefix, err)) < 0)
		return e;
	char path[128];
	/* published ports on 127.0.0.1: DNAT'ed loopback packets must be
	 * routable out of the bridge (they are masqueraded there) */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", name);
	if ((e = write_sysctl(path, "1", err)) < 0)
		return e;
	/* what podman does too: containers' traffic to the outside is routed */
	if ((e = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1", err)) < 0)
		return e;
	return netns_link_up(nl, idx, err);
}

int netns_veth_add(int nl, const char *host_name, const char *peer_name, int netns_fd, int master_index,
		   struct hull_err *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nlreq r;
	nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	nl_str(&r.h, IFLA_IFNAME, host_name);
	nl_u32(&r.h, IFLA_MASTER, (uint32_t)master_index);
	struct rtattr *li = nl_nest(&r.h, IFLA_LINKINFO);
	nl_str(&r.h, IFLA_INFO_KIND, "veth");
	struct rtattr *data = nl_nest(&r.h, IFLA_INFO_DATA);
	struct rtattr *peer = nl_nest(&r.h, VETH_INFO_PEER);
	/* the peer's attributes follow its own ifinfomsg */
	struct ifinfomsg pifi = { .ifi_family = AF_UNSPEC };
	memcpy(nl_tail(&r.h), &pifi, sizeof(pifi));
	r.h.nlmsg_len += NLMSG_ALIGN(sizeof(pifi));
	nl_str(&r.h, IFLA_IFNAME, peer_name);
	/* created directly in the container's namespace: "eth0" never
	 * collides with the host's own interfaces */
	nl_u32(&r.h, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	nl_nest_end(&r.h, peer);
	nl_nest_end(&r.h, data);
	nl_nest_end(&r.h, li);
	int e = nl_talk(nl, &r);
	if (e < 0)
		return hull_errf_sys(err, -e, "create veth `%s`", host_name);
	int idx = netns_link_index(nl, host_name, err);
	if (idx < 0)
		return idx;
	return netns_link_up(nl, idx, err);
}

int netns_link_del(int nl, const char *name, struct hull_err *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nlreq r;
	nl_init(&r, RTM_DELLINK, 0, &ifi, sizeof(ifi));
	nl_str(&r.h, IFLA_IFNAME, name);
	int e = nl_talk(nl, &r);
	if (e < 0)
		return hull_errf_sys(err, -e, "delete interface `%s`", name);
	return 0;
}

int netns_addr4_add(int nl, int index, uint32_t addr, unsigned prefix, struct hull_err *err)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix,
				 .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned)index };
	struct nlreq r;
	uint32_t be = htonl(addr);
	nl_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	nl_attr(&r.h, IFA_LOCAL, &be, sizeof(be));
	nl_attr(&r.h, IFA_ADDRESS, &be, sizeof(be));
	int e = nl_talk(nl, &r);
	if (e < 0 && e != -EEXIST) {
		char buf[16];
		return hull_errf_sys(err, -e, "add address %s/%u", netns_ip4_str(addr, buf, sizeof(buf)), prefix);
	}
	return 0;
}

int netns_route4_default(int nl, int index, uint32_t gateway, struct hull_err *err)
{
	struct rtmsg rt = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
			    .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST };
	struct nlreq r;
	uint32_t gw = htonl(gateway);
	nl_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt));
	nl_attr(&r.h, RTA_GATEWAY, &gw, sizeof(gw));
	nl_u32(&r.h, RTA_OIF, (uint32_t)index);
	int e = nl_talk(nl, &r);
	if (e < 0 && e != -EEXIST)
		return hull_errf_sys(err, -e, "add default route");
	return 0;
}

int netns_addr6_add(int nl, int index, const uint8_t addr[16], unsigned prefix, struct hull_err *err)
{
	/* no duplicate address detection: the address is ours by construction
	 * (derived from the IPv4 lease), and DAD would leave it "tentative",
	 * unusable, for the container's first second */
	struct ifaddrmsg ifa = { .ifa_family = AF_INET6, .ifa_prefixlen = (unsigned char)prefix,
				 .ifa_flags = IFA_F_NODAD, .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned)index };
	struct nlreq r;
	nl_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	nl_attr(&r.h, IFA_LOCAL, addr, 16);
	nl_attr(&r.h, IFA_ADDRESS, addr, 16);
	int e = nl_talk(nl, &r);
	if (e < 0 && e != -EEXIST)
		return hull_errf_sys(err, -e, "add IPv6 address on interface %d", index);
	return 0;
}

int netns_route6_default(int nl, int index, const uint8_t gateway[16], struct hull_err *err)
{
	struct rtmsg rt = { .rtm_family = AF_INET6, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
			    .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST };
	struct nlreq r;
	nl_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt));
	nl_attr(&r.h, RTA_GATEWAY, gateway, 16);
	nl_u32(&r.h, RTA_OIF, (uint32_t)index);
	int e = nl_talk(nl, &r);
	if (e < 0 && e != -EEXIST)
		return hull_errf_sys(err, -e, "add IPv6 default route");
	return 0;
}
