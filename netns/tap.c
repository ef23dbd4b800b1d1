/* tap.c — the VM side of a container's network (Kata's tc-redirect model).
 *
 * A VM container's VMM runs inside the container's network namespace, which
 * already has eth0 (from hull's bridge, or from Podman's/containerd's CNI).
 * Here a persistent tap device is created next to it, and two tc filters
 * pass every frame across: eth0 ingress -> tap egress (to the guest) and
 * tap ingress (from the guest) -> eth0 egress.  The namespace's own stack
 * never sees the traffic; the guest owns eth0's address, so TCP and UDP
 * both work (unlike krun's TSI).  The filters are u32 "match everything"
 * with a mirred redirect action: u32 is in every kernel that has tc (this
 * one lacks matchall and flower).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "netns/netns.h"
#include "netns/rtnl_internal.h"

int netns_tap_create(const char *name, struct hull_err *err)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return hull_errf_sys(err, errno, "open /dev/net/tun");
	/* the VMM reattaches with the same flags (microvm/virtio/net.c) */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
		int e = errno;
		close(fd);
		return hull_errf_sys(err, e, "create tap `%s`", name);
	}
	close(fd);
	return 0;
}

static int ingress_qdisc(int nl, int index, struct hull_err *err)
{
	struct tcmsg tc = { .tcm_family = AF_UNSPEC, .tcm_ifindex = index, .tcm_handle = TC_H_MAKE(TC_H_INGRESS, 0),
			    .tcm_parent = TC_H_INGRESS };
	struct nlreq r;
	nl_init(&r, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, &tc, sizeof(tc));
	nl_str(&r.h, TCA_KIND, "ingress");
	int e = nl_talk(nl, &r);
	if (e < 0 && e != -EEXIST)
		return hull_errf_sys(err, -e, "ingress qdisc on interface %d", index);
	return 0;
}

int netns_tc_redirect(int nl, int from_index, int to_index, struct hull_err *err)
{
	int r = ingress_qdisc(nl, from_index, err);
	if (r < 0)
		return r;
	struct tcmsg tc = { .tcm_family = AF_UNSPEC, .tcm_ifindex = from_index,
			    .tcm_parent = TC_H_MAKE(TC_H_INGRESS, 0),
			    .tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL)) };
	struct nlreq q;
	nl_init(&q, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, &tc, sizeof(tc));
	nl_str(&q.h, TCA_KIND, "u32");
	struct rtattr *opts = nl_nest(&q.h, TCA_OPTIONS);
	/* one key with mask 0: every frame matches */
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key key;
	} sel = { .sel = { .flags = TC_U32_TERMINAL, .nkeys = 1 } };
	nl_attr(&q.h, TCA_U32_SEL, &sel, sizeof(sel));
	struct rtattr *acts = nl_nest(&q.h, TCA_U32_ACT);
	struct rtattr *act = nl_nest(&q.h, 1);
	nl_str(&q.h, TCA_ACT_KIND, "mirred");
	struct rtattr *aopts = nl_nest(&q.h, TCA_ACT_OPTIONS);
	struct tc_mirred m = { .action = TC_ACT_STOLEN, .eaction = TCA_EGRESS_REDIR, .ifindex = (uint32_t)to_index };
	nl_attr(&q.h, TCA_MIRRED_PARMS, &m, sizeof(m));
	nl_nest_end(&q.h, aopts);
	nl_nest_end(&q.h, act);
	nl_nest_end(&q.h, acts);
	nl_nest_end(&q.h, opts);
	int e = nl_talk(nl, &q);
	if (e < 0)
		return hull_errf_sys(err, -e, "tc redirect from interface %d to %d", from_index, to_index);
	return 0;
}

int netns_vm_tap_setup(int nl, const char *eth, const char *tap, struct hull_err *err)
{
	int r, e, t;
	if ((r = netns_tap_create(tap, err)) < 0)
		return r;
	if ((e = netns_link_index(nl, eth, err)) < 0)
		return e;
	if ((t = netns_link_index(nl, tap, err)) < 0)
		return t;
	if ((r = netns_link_up(nl, t, err)) < 0 || (r = netns_tc_redirect(nl, e, t, err)) < 0 ||
	    (r = netns_tc_redirect(nl, t, e, err)) < 0)
		return r;
	return 0;
}
