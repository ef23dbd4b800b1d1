/* bridge.c — attach a container to hull0 and detach it again.
 *
 * Both run under an exclusive flock on NETNS_STATE_DIR/lock, so concurrent
 * `hull run`s never hand out one address twice and the nftables base rules
 * are created once.  Attach is undone step by step when a later step fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "netns/netns.h"

#define LEASES NETNS_STATE_DIR "/leases"
#define SUBNET_FILE NETNS_STATE_DIR "/subnet"
#define LOCKFILE NETNS_STATE_DIR "/lock"

static int net_lock(struct hull_err *err)
{
	int r = hull_mkdir_p(NETNS_STATE_DIR, 0700, err);
	if (r < 0)
		return r;
	int fd = open(LOCKFILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return hull_errf_sys(err, errno, "open `%s`", LOCKFILE);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return hull_errf_sys(err, e, "lock `%s`", LOCKFILE);
		}
	}
	return fd;
}

static int read_leases(char **text, struct hull_err *err)
{
	size_t len;
	int r = hull_read_file(LEASES, 1 << 20, text, &len, err);
	if (r == -ENOENT) {
		hull_err_clear(err);
		*text = NULL;
		return 0;
	}
	return r;
}

static int write_leases(const char *text, struct hull_err *err)
{
	return hull_write_file_atomic(LEASES, text, strlen(text), 0600, err);
}

static int lease_release(const char *id, struct hull_err *err)
{
	_cleanup_free_ char *text = NULL, *next = NULL;
	int r = read_leases(&text, err);
	if (r < 0)
		return r;
	if (!(next = netns_lease_update(text, id, 0)))
		return hull_errf(err, ENOMEM, "out of memory");
	if (text && !strcmp(text, next))
		return 0;
	return write_leases(next, err);
}

static int nft_remove_rules(const char *id, struct hull_err *err)
{
	_cleanup_free_ char *listing = NULL, *cmds = NULL;
	struct hull_err ignored = { 0 };
	/* no table: nothing of ours to remove */
	if (netns_nft_run("list table inet hull", true, &listing, &ignored) < 0)
		return 0;
	if (!(cmds = netns_nft_delete_cmds(listing, id)))
		return hull_errf(err, ENOMEM, "out of memory");
	if (!cmds[0])
		return 0;
	return netns_nft_run(cmds, false, NULL, err);
}

static int detach_locked(const char *id, struct hull_err *err)
{
	char veth[16];
	int r = 0, nl;
	struct hull_err e2 = { 0 };

	if (nft_remove_rules(id, err) < 0)
		r = -err->code;
	netns_veth_name(id, veth);
	if ((nl = netns_rtnl_open(&e2)) >= 0) {
		/* usually gone already: the pair dies with the container's netns */
		int d = netns_link_del(nl, veth, &e2);
		if (d < 0 && d != -ENODEV && r == 0) {
			*err = e2;
			r = d;
		}
		close(nl);
	} else if (r == 0) {
		*err = e2;
		r = nl;
	}
	hull_err_clear(&e2);
	int l = lease_release(id, &e2);
	if (l < 0 && r == 0) {
		*err = e2;
		r = l;
	}
	return r;
}

int netns_bridge_detach(const char *id, struct hull_err *err)
{
	_cleanup_close_ int lock = net_lock(err);
	if (lock < 0)
		return lock;
	return detach_locked(id, err);
}

static int ensure_base(const struct netns_subnet *s, bool ipv6, struct hull_err *err)
{
	struct hull_err ignored = { 0 };
	_cleanup_free_ char *listing = NULL, *cmds = NULL;
	if (netns_nft_run("list table inet hull", false, &listing, &ignored) == 0) {
		/* a table from a host that had no IPv6 then */
		if (!ipv6 || strstr(listing, "fd68:756c:6c00::/64"))
			return 0;
		return netns_nft_run("add rule inet hull postrouting ip6 saddr " NETNS_SUBNET6 " ip6 daddr != "
				     NETNS_SUBNET6 " masquerade comment \"hull-base\"", false, NULL, err);
	}
	if (!(cmds = netns_nft_base_rules(s, ipv6)))
		return hull_errf(err, ENOMEM, "out of memory");
	return netns_nft_run(cmds, false, NULL, err);
}

/* IPv6 "where the host has it": the stack is there and not switched off. */
static bool host_has_ipv6(void)
{
	char v = '1';
	int fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, &v, 1) != 1)
		v = '1';
	close(fd);
	return v == '0';
}

/* Configure eth0 and lo inside the container's namespace. */
static int configure_inside(int nsfd, uint32_t addr, const struct netns_subnet *s, bool ipv6, bool vm_tap,
			    struct hull_err *err)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return hull_errf_sys(err, errno, "open /proc/self/ns/net");
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return hull_errf_sys(err, errno, "enter the container's network namespace");
	int r, nl = netns_rtnl_open(err);
	if ((r = nl) >= 0) {
		int lo = netns_link_index(nl, "lo", err), eth = lo < 0 ? lo : netns_link_index(nl, "eth0", err);
		if ((r = eth) >= 0 && (r = netns_link_up(nl, lo, err)) >= 0 &&
		    (r = netns_addr4_add(nl, eth, addr, s->prefix, err)) >= 0 && (r = netns_link_up(nl, eth, err)) >= 0)
			r = netns_route4_default(nl, eth, netns_subnet_gateway(s), err);
		if (r >= 0 && ipv6) {
			uint8_t a6[16], gw6[16];
			netns_ip6_for(addr, s, a6);
			netns_ip6_for(netns_subnet_gateway(s), s, gw6);
			if ((r = netns_addr6_add(nl, eth, a6, 64, err)) >= 0)
				r = netns_route6_default(nl, eth, gw6, err);
		}
		/* the VMM's tap: the guest takes over eth0's traffic (tap.c) */
		if (r >= 0 && vm_tap)
			r = netns_vm_tap_setup(nl, "eth0", NETNS_VM_TAP, err);
		close(nl);
	}
	/* ping without CAP_NET_RAW (ICMP datagram sockets), as docker allows;
	 * /proc/sys/net is the namespace of whoever opens it: this one */
	if (r >= 0) {
		int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (hull_write_all(fd, "0 2147483647", 12) < 0)
				r = hull_errf_sys(err, errno, "set ping_group_range in the container");
			close(fd);
		}
	}
	/* a process left in the container's namespace would do the rest of
	 * the host-side work in the wrong place: that is fatal */
	if (setns(self, CLONE_NEWNET) < 0) {
		int e = errno;
		return hull_errf_sys(err, e, "return to the host network namespace");
	}
	return r < 0 ? r : 0;
}

/* Replace a bundle file's content in place: it may already be bind-mounted
 * into the container, and a rename would leave the mount on the old inode. */
static int rewrite(const char *bundle, const char *name, const char *text, struct hull_err *err)
{
	_cleanup_close_ int dir = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return hull_errf_sys(err, errno, "bundle `%s`", bundle);
	_cleanup_close_ int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return hull_errf_sys(err, errno, "`%s/%s`", bundle, name);
	if (hull_write_all(fd, text, strlen(text)) < 0)
		return hull_errf_sys(err, errno, "write `%s/%s`", bundle, name);
	return 0;
}

static int write_etc(const struct netns_bridge_opts *o, uint32_t addr, bool ipv6, struct hull_err *err)
{
	char hostname[256] = "", ip[16], buf[4096];
	_cleanup_free_ char *hn_text = NULL, *host_resolv = NULL;
	size_t len;
	struct hull_err ignored = { 0 };
	char path[4200];

	snprintf(path, sizeof(path), "%s/hostname", o->bundle);
	if (hull_read_file(path, 4096, &hn_text, &len, &ignored) == 0) {
		size_t n = strcspn(hn_text, "\n");
		snprintf(hostname, sizeof(hostname), "%.*s", (int)(n < 255 ? n : 255), hn_text);
	}
	netns_ip4_str(addr, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", ip,
		 hostname[0] ? hostname : "container");
	if (ipv6) {
		uint8_t a6[16];
		char s6[INET6_ADDRSTRLEN];
		netns_ip6_for(addr, &o->subnet, a6);
		inet_ntop(AF_INET6, a6, s6, sizeof(s6));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s\t%s\n", s6, hostname[0] ? hostname : "container");
	}
	int r = rewrite(o->bundle, "hosts", buf, err);
	if (r < 0)
		return r;

	size_t n = 0;
	buf[0] = '\0';
	if (o->n_dns) {
		for (size_t i = 0; i < o->n_dns; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "nameserver %s\n",
					      netns_ip4_str(o->dns[i], ip, sizeof(ip)));
	} else if (hull_read_file("/etc/resolv.conf", 64 << 10, &host_resolv, &len, &ignored) == 0) {
		/* the host's servers, minus loopback ones: those are not reachable
		 * from the container's namespace (podman drops them the same way) */
		for (char *save, *line = strtok_r(host_resolv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char srv[64];
			if (sscanf(line, "nameserver %63s", srv) == 1 &&
			    (!strncmp(srv, "127.", 4) || !strcmp(srv, "::1")))
				continue;
			if (strncmp(line, "nameserver", 10) && strncmp(line, "search", 6) && strncmp(line, "options", 7))
				continue;
			if (n + strlen(line) + 2 < sizeof(buf))
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\n", line);
		}
	}
	return rewrite(o->bundle, "resolv.conf", buf, err);
}

/* A published port must be free: not published by another container (nft
 * would silently send it to whichever rule comes first) and not bound by a
 * host process (DNAT would silently take its traffic).  The bind check is
 * what podman's port reservation catches too; it reserves nothing. */
static int check_ports(const struct netns_bridge_opts *o, struct hull_err *err)
{
	_cleanup_free_ char *listing = NULL;
	struct hull_err ignored = { 0 };
	netns_nft_run("list table inet hull", false, &listing, &ignored);
	for (size_t i = 0; i < o->n_ports; i++) {
		const struct netns_port *p = &o->ports[i];
		const char *proto = p->proto == IPPROTO_UDP ? "udp" : "tcp";
		char owner[128], ip[16];
		for (size_t j = 0; j < i; j++)
			if (o->ports[j].proto == p->proto && o->ports[j].host_port == p->host_port &&
			    (!p->has_host_ip || !o->ports[j].has_host_ip || p->host_ip == o->ports[j].host_ip))
				return hull_errf(err, EINVAL, "-p: host port %u/%s given twice", p->host_port, proto);
		if (listing && netns_nft_port_owner(listing, p, owner, sizeof(owner)) && strcmp(owner, o->id))
			return hull_errf(err, EADDRINUSE, "-p: host port %u/%s is already published by container `%s`",
					 p->host_port, proto, owner);
		_cleanup_close_ int fd = socket(AF_INET, (p->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return hull_errf_sys(err, errno, "socket");
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(p->host_port),
					  .sin_addr.s_addr = htonl(p->has_host_ip ? p->host_ip : INADDR_ANY) };
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			if (errno == EADDRINUSE)
				return hull_errf(err, EADDRINUSE, "-p: host port %u/%s is in use on the host", p->host_port, proto);
			if (errno == EADDRNOTAVAIL)
				return hull_errf(err, EADDRNOTAVAIL, "-p: %s is not an address of this host",
						 netns_ip4_str(p->host_ip, ip, sizeof(ip)));
			return hull_errf_sys(err, errno, "-p: check host port %u/%s", p->host_port, proto);
		}
	}
	return 0;
}

/* A lease whose host veth is gone belongs to a container whose network
 * namespace died without a teardown (its create failed after the setup
 * hook, or its state was removed by hand): release it and its rules.
 * Under the lock, a live container's veth always exists. */
static int collect_stale(struct hull_err *err)
{
	_cleanup_free_ char *text = NULL;
	int r = read_leases(&text, err);
	if (r < 0 || !text)
		return r;
	for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *id = strchr(line, ' '), veth[16];
		if (!id || !*++id)
			continue;
		netns_veth_name(id, veth);
		if (if_nametoindex(veth) == 0 && errno == ENODEV) {
			hull_log(HULL_LOG_DEBUG, "net: releasing the stale lease of `%s`", id);
			if ((r = detach_locked(id, err)) < 0)
				return r;
		}
	}
	return 0;
}

/* hull0 keeps one subnet.  A different one is taken only while no
 * container holds a lease: then the bridge and the table are rebuilt. */
static int check_subnet(int nl, const struct netns_subnet *s, struct hull_err *err)
{
	char want[32], ip[16];
	_cleanup_free_ char *have = NULL, *leases = NULL;
	size_t len;
	struct hull_err ignored = { 0 };
	int r;

	snprintf(want, sizeof(want), "%s/%u\n", netns_ip4_str(s->net, ip, sizeof(ip)), s->prefix);
	if (hull_read_file(SUBNET_FILE, 64, &have, &len, &ignored) == 0 && !strcmp(have, want))
		return 0;
	if ((r = read_leases(&leases, err)) < 0)
		return r;
	if (leases && leases[0]) {
		if (have)
			return hull_errf(err, EBUSY, "bridge " NETNS_BRIDGE " uses subnet %.*s; subnet %.*s needs its "
					 "containers deleted first", (int)strcspn(have, "\n"), have,
					 (int)strcspn(want, "\n"), want);
		/* containers from before this file existed: never pull their bridge away */
		return hull_write_file_atomic(SUBNET_FILE, want, strlen(want), 0600, err);
	}
	/* leftovers of another subnet (or of a bridge made before this file) */
	r = netns_link_del(nl, NETNS_BRIDGE, &ignored);
	if (r < 0 && r != -ENODEV)
		return hull_errf_sys(err, -r, "remove bridge " NETNS_BRIDGE);
	netns_nft_run("delete table inet hull", false, NULL, &ignored);
	return hull_write_file_atomic(SUBNET_FILE, want, strlen(want), 0600, err);
}

static int attach_locked(const struct netns_bridge_opts *o, struct hull_err *err)
{
	_cleanup_free_ char *leases = NULL, *next = NULL, *rules = NULL;
	_cleanup_close_ int nsfd = -1, nl = -1;
	char veth[16], path[64];
	uint32_t addr;
	bool existing, ipv6 = host_has_ipv6();
	int r, br;

	if ((nl = netns_rtnl_open(err)) < 0)
		return nl;
	if ((r = collect_stale(err)) < 0 || (r = check_subnet(nl, &o->subnet, err)) < 0 ||
	    (r = check_ports(o, err)) < 0)
		return r;
	if ((r = read_leases(&leases, err)) < 0 ||
	    (r = netns_lease_pick(leases, o->id, &o->subnet, &addr, &existing, err)) < 0)
		return r;
	if (!existing) {
		if (!(next = netns_lease_update(leases, o->id, addr)))
			return hull_errf(err, ENOMEM, "out of memory");
		if ((r = write_leases(next, err)) < 0)
			return r;
	}
	if ((r = netns_bridge_ensure(nl, NETNS_BRIDGE, netns_subnet_gateway(&o->subnet), o->subnet.prefix, err)) < 0)
		return hull_err_wrap(err, "bridge " NETNS_BRIDGE);
	if ((br = netns_link_index(nl, NETNS_BRIDGE, err)) < 0)
		return br;
	if (ipv6) {
		uint8_t gw6[16];
		netns_ip6_for(netns_subnet_gateway(&o->subnet), &o->subnet, gw6);
		if ((r = netns_addr6_add(nl, br, gw6, 64, err)) < 0)
			return hull_err_wrap(err, "bridge " NETNS_BRIDGE);
	}
	if ((r = ensure_base(&o->subnet, ipv6, err)) < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)o->pid);
	if ((nsfd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return hull_errf_sys(err, errno, "open `%s`", path);
	/* never wire up (and rename into "eth0") in the runtime's own namespace */
	struct stat theirs, ours;
	if (fstat(nsfd, &theirs) < 0 || stat("/proc/self/ns/net", &ours) < 0)
		return hull_errf_sys(err, errno, "compare network namespaces");
	if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev)
		return hull_errf(err, EINVAL, "the container has no network namespace of its own");
	netns_veth_name(o->id, veth);
	if ((r = netns_veth_add(nl, veth, "eth0", nsfd, br, err)) < 0)
		return r;
	if ((r = configure_inside(nsfd, addr, &o->subnet, ipv6, o->vm_tap, err)) < 0)
		return r;
	if (o->n_ports) {
		if (!(rules = netns_nft_port_rules(o->id, addr, o->ports, o->n_ports)))
			return hull_errf(err, ENOMEM, "out of memory");
		if ((r = netns_nft_run(rules, false, NULL, err)) < 0)
			return hull_err_wrap(err, "published ports");
	}
	return write_etc(o, addr, ipv6, err);
}

int netns_bridge_attach(const struct netns_bridge_opts *o, struct hull_err *err)
{
	if (strlen(o->id) > 100)
		return hull_errf(err, EINVAL, "container id longer than 100 characters: no bridge networking");
	_cleanup_close_ int lock = net_lock(err);
	if (lock < 0)
		return lock;
	int r = attach_locked(o, err);
	if (r < 0) {
		struct hull_err ignored = { 0 };
		detach_locked(o->id, &ignored);
	}
	return r;
}
