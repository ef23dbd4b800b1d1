/* netdev.c — linux.netDevices (config-linux.md "Network Devices"): move
 * existing host interfaces into the container's network namespace at create.
 *
 * Everything goes through rtnetlink, over two sockets: one in the runtime's
 * namespace and one opened after a brief setns() into the container's (a
 * netlink socket keeps talking to the namespace it was created in, so the
 * process is back home before any request is sent).
 *
 * All checks come first (device exists, target name free, the container has
 * a namespace of its own), then each device is moved with one request that
 * also names it (the kernel resolves a "%d" template) and fixes its index in
 * the container (IFLA_NEW_IFINDEX), so it can be found again whatever name
 * the kernel picked.  The move drops addresses: the permanent, global ones
 * are read before and added again inside, then the device is set up.  A
 * failure moves the devices already moved back out, with their names and
 * addresses.  After that the runtime leaves the devices alone: they go where
 * the kernel sends them when the namespace dies (spec: never moved back).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "netns/netns.h"
#include "netns/rtnl_internal.h"
#include "oci/config.h"

struct saved_addr {
	unsigned char family, prefixlen, scope;
	uint32_t flags;
	unsigned char local[16], address[16], broadcast[16];
	unsigned char local_len, address_len, broadcast_len;
	char label[IFNAMSIZ];
	bool has_priority;
	uint32_t priority;
};

struct netdev {
	const char *key;               /* host name, as in the config */
	const char *want;              /* the name asked for inside (may hold %d) */
	int host_index;
	bool was_up;
	struct saved_addr *addrs;
	size_t n_addrs;
	bool moved;
	int index;                     /* in the container, once moved */
	char name[IFNAMSIZ];           /* in the container, once moved */
};

/* ---- requests with replies -------------------------------------------- */

struct link_info {
	int index;
	unsigned flags;
	char name[IFNAMSIZ];
};

static int take_link(struct nlmsghdr *h, void *arg)
{
	struct link_info *li = arg;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));

	if (h->nlmsg_type != RTM_NEWLINK || len < 0)
		return -EPROTO;
	li->index = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	li->name[0] = '\0';
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_IFNAME)
			snprintf(li->name, sizeof(li->name), "%.*s", (int)RTA_PAYLOAD(a), (const char *)RTA_DATA(a));
	return 0;
}

/* By name (index 0) or by index; -ENODEV when there is no such link. */
static int link_get(int nl, const char *name, int index, struct link_info *out)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	struct nlreq r;

	nl_init(&r, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	if (name)
		nl_str(&r.h, IFLA_IFNAME, name);
	return nl_query(nl, &r, take_link, out);
}

struct index_scan {
	int want;
	bool want_used;
	int max;
};

static int scan_index(struct nlmsghdr *h, void *arg)
{
	struct index_scan *s = arg;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (ifi->ifi_index == s->want)
		s->want_used = true;
	if (ifi->ifi_index > s->max)
		s->max = ifi->ifi_index;
	return 0;
}

/* An index free in the namespace of nl: `prefer` if it is. */
static int free_index(int nl, int prefer, int *out)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct index_scan s = { .want = prefer };
	struct nlreq r;
	int e;

	nl_init(&r, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
	if ((e = nl_query(nl, &r, scan_index, &s)) < 0)
		return e;
	*out = s.want_used ? s.max + 1 : prefer;
	return 0;
}

struct addr_scan {
	int index;
	struct saved_addr *v;
	size_t n;
};

static void copy_bytes(unsigned char *dst, unsigned char *len, const struct rtattr *a)
{
	size_t n = RTA_PAYLOAD(a);
	if (n > 16)
		return;
	memcpy(dst, RTA_DATA(a), n);
	*len = (unsigned char)n;
}

/* The addresses the spec says survive the move: IFA_F_PERMANENT, scope
 * global (RT_SCOPE_UNIVERSE), any family. */
static int keep_addr(struct nlmsghdr *h, void *arg)
{
	struct addr_scan *s = arg;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	struct saved_addr a = { .family = ifa->ifa_family, .prefixlen = ifa->ifa_prefixlen,
				.scope = ifa->ifa_scope, .flags = ifa->ifa_flags };
	struct saved_addr *grown;

	if (h->nlmsg_type != RTM_NEWADDR || len < 0 || (int)ifa->ifa_index != s->index)
		return 0;
	for (struct rtattr *at = IFA_RTA(ifa); RTA_OK(at, len); at = RTA_NEXT(at, len)) {
		switch (at->rta_type) {
		case IFA_LOCAL: copy_bytes(a.local, &a.local_len, at); break;
		case IFA_ADDRESS: copy_bytes(a.address, &a.address_len, at); break;
		case IFA_BROADCAST: copy_bytes(a.broadcast, &a.broadcast_len, at); break;
		case IFA_LABEL:
			snprintf(a.label, sizeof(a.label), "%.*s", (int)RTA_PAYLOAD(at), (const char *)RTA_DATA(at));
			break;
		case IFA_FLAGS:
			if (RTA_PAYLOAD(at) >= 4)
				memcpy(&a.flags, RTA_DATA(at), 4);
			break;
		case IFA_RT_PRIORITY:
			if (RTA_PAYLOAD(at) >= 4) {
				memcpy(&a.priority, RTA_DATA(at), 4);
				a.has_priority = true;
			}
			break;
		}
	}
	if (!(a.flags & IFA_F_PERMANENT) || a.scope != RT_SCOPE_UNIVERSE || (!a.local_len && !a.address_len))
		return 0;
	grown = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!grown)
		return -ENOMEM;
	s->v = grown;
	s->v[s->n++] = a;
	return 0;
}

static int addrs_save(int nl, struct netdev *d)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
	struct addr_scan s = { .index = d->host_index };
	struct nlreq r;
	int e;

	nl_init(&r, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
	e = nl_query(nl, &r, keep_addr, &s);
	if (e < 0) {
		free(s.v);
		return e;
	}
	d->addrs = s.v;
	d->n_addrs = s.n;
	return 0;
}

/* Add the saved addresses to the device `index` (named `name`) in the
 * namespace of nl.  IPv4 labels follow a rename ("old:1" -> "new:1"). */
static int addrs_restore(int nl, const struct netdev *d, int index, const char *old, const char *name)
{
	/* what RTM_NEWADDR takes from a user; the rest is state */
	const uint32_t settable = IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE |
				  IFA_F_MCAUTOJOIN;

	for (size_t i = 0; i < d->n_addrs; i++) {
		const struct saved_addr *a = &d->addrs[i];
		uint32_t flags = a->flags & settable;
		struct ifaddrmsg ifa = { .ifa_family = a->family, .ifa_prefixlen = a->prefixlen,
					 .ifa_flags = (unsigned char)flags, .ifa_scope = a->scope,
					 .ifa_index = (unsigned)index };
		struct nlreq r;
		size_t ol = strlen(old);
		int e;

		nl_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof(ifa));
		if (a->local_len)
			nl_attr(&r.h, IFA_LOCAL, a->local, a->local_len);
		if (a->address_len)
			nl_attr(&r.h, IFA_ADDRESS, a->address, a->address_len);
		if (a->broadcast_len)
			nl_attr(&r.h, IFA_BROADCAST, a->broadcast, a->broadcast_len);
		nl_u32(&r.h, IFA_FLAGS, flags);
		if (a->has_priority)
			nl_u32(&r.h, IFA_RT_PRIORITY, a->priority);
		if (a->family == AF_INET && a->label[0] && strncmp(a->label, old, ol) == 0 && a->label[ol] == ':') {
			char label[IFNAMSIZ];
			if ((size_t)snprintf(label, sizeof(label), "%s%s", name, a->label + ol) < sizeof(label))
				nl_str(&r.h, IFA_LABEL, label);
		} else if (a->family == AF_INET && a->label[0] && strcmp(a->label, old) != 0) {
			nl_str(&r.h, IFA_LABEL, a->label);
		}
		if ((e = nl_talk(nl, &r)) < 0)
			return e;
	}
	return 0;
}

static int link_set_up(int nl, int index, bool up)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = up ? IFF_UP : 0,
				 .ifi_change = IFF_UP };
	struct nlreq r;

	nl_init(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	return nl_talk(nl, &r);
}

/* Move link `index` (of nl's namespace) into the namespace of to_fd, named
 * `name` there (a %d template is resolved by the kernel), as index
 * new_index (0: the kernel chooses). */
static int link_move(int nl, int index, int to_fd, const char *name, int new_index)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	struct nlreq r;

	nl_init(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	nl_u32(&r.h, IFLA_NET_NS_FD, (uint32_t)to_fd);
	nl_str(&r.h, IFLA_IFNAME, name);
	if (new_index > 0)
		nl_u32(&r.h, IFLA_NEW_IFINDEX, (uint32_t)new_index);
	return nl_talk(nl, &r);
}

/* ---- the whole operation ------------------------------------------------ */

/* ".linux.netDevices.NAME" the way the config parser spells paths */
static const char *dev_path(const char *key, char *buf, size_t size)
{
	bool plain = *key != '\0';
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			plain = false;
	snprintf(buf, size, plain ? ".linux.netDevices.%s" : ".linux.netDevices[\"%s\"]", key);
	return buf;
}

/* Undo the moves (the create failed): back to the runtime's namespace under
 * the old name and index, addresses and up state as they were. */
static void move_back(int nl_ct, int nl_host, int self_fd, struct netdev *devs, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		struct netdev *d = &devs[i];
		struct link_info li;
		int e;

		if (!d->moved)
			continue;
		e = link_move(nl_ct, d->index, self_fd, d->key, d->host_index);
		if (e == -EBUSY)
			e = link_move(nl_ct, d->index, self_fd, d->key, 0);
		if (e == 0 && (e = link_get(nl_host, d->key, 0, &li)) == 0) {
			e = addrs_restore(nl_host, d, li.index, d->key, d->key);
			if (e == 0 && d->was_up)
				e = link_set_up(nl_host, li.index, true);
		}
		if (e < 0)
			hull_warn("netDevices: could not return `%s` to the runtime's namespace: %s", d->key,
				  strerror(-e));
		else
			d->moved = false;
	}
}

/* Check everything that can be checked before the first move. */
static int prepare(int nl_host, int nl_ct, struct netdev *devs, size_t n, struct hull_err *err)
{
	char path[IFNAMSIZ + 32];
	struct link_info li;
	int e;

	for (size_t i = 0; i < n; i++) {
		struct netdev *d = &devs[i];
		bool template = strchr(d->want, '%') != NULL;

		dev_path(d->key, path, sizeof(path));
		e = link_get(nl_host, d->key, 0, &li);
		if (e == -ENODEV)
			return hull_errf(err, ENODEV, "config.json: %s: no network device `%s` in the runtime's network namespace",
					 path, d->key);
		if (e < 0)
			return hull_errf_sys(err, -e, "config.json: %s: look up `%s`", path, d->key);
		d->host_index = li.index;
		d->was_up = li.flags & IFF_UP;
		for (size_t j = 0; !template && j < i; j++)
			if (strcmp(devs[j].want, d->want) == 0)
				return hull_errf(err, EEXIST, "config.json: %s.name: `%s` is also the name of %s", path,
						 d->want, devs[j].key);
		if (!template) {
			e = link_get(nl_ct, d->want, 0, &li);
			if (e == 0)
				return hull_errf(err, EEXIST,
						 "config.json: %s: a device named `%s` already exists in the container's network namespace",
						 path, d->want);
			if (e != -ENODEV)
				return hull_errf_sys(err, -e, "config.json: %s: look up `%s` in the container", path,
						     d->want);
		}
		if ((e = addrs_save(nl_host, d)) < 0)
			return hull_errf_sys(err, -e, "config.json: %s: read the addresses of `%s`", path, d->key);
	}
	return 0;
}

static int move_one(int nl_host, int nl_ct, int ns_fd, struct netdev *d, struct hull_err *err)
{
	char path[IFNAMSIZ + 32];
	struct link_info li;
	int e, index;

	dev_path(d->key, path, sizeof(path));
	if ((e = free_index(nl_ct, d->host_index, &index)) < 0)
		return hull_errf_sys(err, -e, "config.json: %s: list the container's devices", path);
	e = link_move(nl_host, d->host_index, ns_fd, d->want, index);
	if (e == -EINVAL)
		return hull_errf(err, EINVAL, "config.json: %s: `%s` cannot be moved to another network namespace",
				 path, d->key);
	if (e == -EEXIST)
		return hull_errf(err, EEXIST,
				 "config.json: %s: the name `%s` is taken in the container's network namespace", path,
				 d->want);
	if (e < 0)
		return hull_errf_sys(err, -e, "config.json: %s: move `%s` into the container", path, d->key);
	d->moved = true;
	d->index = index;
	if ((e = link_get(nl_ct, NULL, index, &li)) < 0)
		return hull_errf_sys(err, -e, "config.json: %s: find `%s` in the container", path, d->key);
	snprintf(d->name, sizeof(d->name), "%s", li.name);
	if ((e = link_set_up(nl_ct, index, true)) < 0)
		return hull_errf_sys(err, -e, "config.json: %s: set `%s` up in the container", path, d->name);
	if ((e = addrs_restore(nl_ct, d, index, d->key, d->name)) < 0)
		return hull_errf_sys(err, -e, "config.json: %s: add the addresses of `%s` in the container", path,
				     d->name);
	hull_debug("netDevices: %s moved into the container as %s (index %d, %zu addresses)", d->key, d->name,
		   index, d->n_addrs);
	return 0;
}

/* A netlink socket in the namespace ns_fd; the caller stays in its own. */
static int rtnl_open_in(int ns_fd, int self_fd, struct hull_err *err)
{
	int nl, e;

	if (setns(ns_fd, CLONE_NEWNET) < 0)
		return hull_errf_sys(err, errno, "enter the container's network namespace");
	nl = netns_rtnl_open(err);
	if (setns(self_fd, CLONE_NEWNET) < 0) {
		e = errno;
		if (nl >= 0)
			close(nl);
		return hull_errf_sys(err, e, "return to the runtime's network namespace");
	}
	return nl;
}

int netns_netdevs_move(pid_t pid, const struct oci_kv *devices, size_t n, struct hull_err *err)
{
	_cleanup_close_ int ns_fd = -1, self_fd = -1, nl_host = -1, nl_ct = -1;
	struct netdev *devs;
	struct stat ns_st, self_st;
	char path[64];
	int r = 0;

	if (n == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0)
		return hull_errf_sys(err, errno, "open %s", path);
	self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self_fd < 0)
		return hull_errf_sys(err, errno, "open /proc/self/ns/net");
	if (fstat(ns_fd, &ns_st) < 0 || fstat(self_fd, &self_st) < 0)
		return hull_errf_sys(err, errno, "stat network namespaces");
	/* moving a device "into" the runtime's own namespace would do nothing
	 * but rename host interfaces */
	if (ns_st.st_dev == self_st.st_dev && ns_st.st_ino == self_st.st_ino)
		return hull_errf(err, EINVAL,
				 "config.json: .linux.netDevices: the container needs a network namespace of its own "
				 "(a \"network\" entry in .linux.namespaces)");
	if ((nl_host = netns_rtnl_open(err)) < 0)
		return nl_host;
	if ((nl_ct = rtnl_open_in(ns_fd, self_fd, err)) < 0)
		return nl_ct;
	devs = calloc(n, sizeof(*devs));
	if (!devs)
		return hull_errf(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		devs[i].key = devices[i].key;
		devs[i].want = devices[i].value && devices[i].value[0] ? devices[i].value : devices[i].key;
	}
	r = prepare(nl_host, nl_ct, devs, n, err);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = move_one(nl_host, nl_ct, ns_fd, &devs[i], err);
	if (r < 0)
		move_back(nl_ct, nl_host, self_fd, devs, n);
	for (size_t i = 0; i < n; i++)
		free(devs[i].addrs);
	free(devs);
	return r;
}
