/* spec.c — the pure parts of bridge networking: subnets, port specs, the
 * lease table text, nftables rule text.  No syscalls (unit tested). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns/netns.h"

const char *netns_ip4_str(uint32_t addr, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255);
	return buf;
}

/* strict dotted quad: inet_pton without its leniencies is exactly that */
int netns_ip4_parse(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

int netns_subnet_parse(const char *cidr, struct netns_subnet *out, struct hull_err *err)
{
	char ip[32];
	const char *slash = strchr(cidr, '/');
	if (!slash || (size_t)(slash - cidr) >= sizeof(ip))
		return hull_errf(err, EINVAL, "subnet `%s`: want A.B.C.D/N", cidr);
	memcpy(ip, cidr, (size_t)(slash - cidr));
	ip[slash - cidr] = '\0';
	char *end;
	unsigned long prefix = strtoul(slash + 1, &end, 10);
	uint32_t net;
	if (netns_ip4_parse(ip, &net) < 0 || *end || !slash[1] || slash[1] == '+' || slash[1] == '-')
		return hull_errf(err, EINVAL, "subnet `%s`: want A.B.C.D/N", cidr);
	if (prefix < 8 || prefix > 30)
		return hull_errf(err, EINVAL, "subnet `%s`: prefix length must be 8..30", cidr);
	uint32_t mask = ~0u << (32 - prefix);
	if (net & ~mask)
		return hull_errf(err, EINVAL, "subnet `%s`: host bits are set", cidr);
	out->net = net;
	out->prefix = (unsigned)prefix;
	return 0;
}

uint32_t netns_subnet_gateway(const struct netns_subnet *s)
{
	return s->net + 1;
}

uint32_t netns_subnet_broadcast(const struct netns_subnet *s)
{
	return s->net | ~(~0u << (32 - s->prefix));
}

bool netns_subnet_contains(const struct netns_subnet *s, uint32_t addr)
{
	return (addr & (~0u << (32 - s->prefix))) == s->net;
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return -1;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int netns_port_parse(const char *spec, struct netns_port *out, struct hull_err *err)
{
	char buf[96];
	memset(out, 0, sizeof(*out));
	if (strlen(spec) >= sizeof(buf))
		return hull_errf(err, EINVAL, "-p %.40s…: too long", spec);
	strcpy(buf, spec);
	out->proto = IPPROTO_TCP;
	char *slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (!strcmp(slash, "udp"))
			out->proto = IPPROTO_UDP;
		else if (strcmp(slash, "tcp"))
			return hull_errf(err, EINVAL, "-p %s: protocol must be tcp or udp", spec);
	}
	char *parts[4];
	size_t n = 0;
	for (char *p = buf, *colon; n < 4; p = colon + 1) {
		parts[n++] = p;
		if (!(colon = strchr(p, ':')))
			break;
		*colon = '\0';
	}
	if (n < 2 || n > 3)
		return hull_errf(err, EINVAL, "-p %s: want [IP:]HOSTPORT:CONTAINERPORT[/tcp|/udp]", spec);
	if (n == 3) {
		if (netns_ip4_parse(parts[0], &out->host_ip) < 0)
			return hull_errf(err, EINVAL, "-p %s: `%s` is not an IPv4 address", spec, parts[0]);
		out->has_host_ip = true;
	}
	if (parse_port(parts[n - 2], &out->host_port) < 0 || parse_port(parts[n - 1], &out->container_port) < 0)
		return hull_errf(err, EINVAL, "-p %s: ports must be numbers 1..65535", spec);
	return 0;
}

/* One lease line: "A.B.C.D ID"; returns false for anything else. */
static bool lease_line(const char *line, size_t len, uint32_t *addr, const char **id, size_t *id_len)
{
	char ip[16];
	const char *sp = memchr(line, ' ', len);
	if (!sp || (size_t)(sp - line) >= sizeof(ip) || sp + 1 >= line + len)
		return false;
	memcpy(ip, line, (size_t)(sp - line));
	ip[sp - line] = '\0';
	if (netns_ip4_parse(ip, addr) < 0)
		return false;
	*id = sp + 1;
	*id_len = (size_t)(line + len - (sp + 1));
	return true;
}

#define FOR_EACH_LINE(text, line, len)                                                            \
	for (const char *line = (text), *nl_; line && *line; line = nl_ ? nl_ + 1 : NULL)         \
		for (size_t len = (nl_ = strchr(line, '\n')) ? (size_t)(nl_ - line) : strlen(line), \
			    once_ = 1; once_; once_ = 0)

int netns_lease_pick(const char *text, const char *id, const struct netns_subnet *s, uint32_t *addr,
		     bool *existing, struct hull_err *err)
{
	uint32_t first = netns_subnet_gateway(s) + 1, last = netns_subnet_broadcast(s) - 1;
	size_t span = (size_t)(last - first + 1);
	unsigned char *used = calloc((span + 7) / 8, 1);
	if (!used)
		return hull_errf(err, ENOMEM, "out of memory");
	*existing = false;
	FOR_EACH_LINE(text ? text : "", line, len) {
		uint32_t a;
		const char *lid;
		size_t lid_len;
		if (!lease_line(line, len, &a, &lid, &lid_len))
			continue;
		if (lid_len == strlen(id) && !memcmp(lid, id, lid_len) && a >= first && a <= last) {
			free(used);
			*addr = a;
			*existing = true;
			return 0;
		}
		if (a >= first && a <= last)
			used[(a - first) / 8] |= (unsigned char)(1u << ((a - first) % 8));
	}
	for (size_t i = 0; i < span; i++)
		if (!(used[i / 8] & (1u << (i % 8)))) {
			free(used);
			*addr = first + (uint32_t)i;
			return 0;
		}
	free(used);
	char buf[16];
	return hull_errf(err, ENOSPC, "subnet %s/%u: no free address", netns_ip4_str(s->net, buf, sizeof(buf)), s->prefix);
}

char *netns_lease_update(const char *text, const char *id, uint32_t addr)
{
	size_t cap = (text ? strlen(text) : 0) + strlen(id) + 32, n = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	FOR_EACH_LINE(text ? text : "", line, len) {
		uint32_t a;
		const char *lid;
		size_t lid_len;
		if (!lease_line(line, len, &a, &lid, &lid_len))
			continue;   /* garbage is dropped, never propagated */
		if (lid_len == strlen(id) && !memcmp(lid, id, lid_len))
			continue;
		memcpy(out + n, line, len);
		n += len;
		out[n++] = '\n';
	}
	if (addr) {
		char buf[16];
		n += (size_t)snprintf(out + n, cap - n, "%s %s\n", netns_ip4_str(addr, buf, sizeof(buf)), id);
	}
	out[n] = '\0';
	return out;
}

/* growable string for the rule text */
struct sbuf { char *s; size_t n, cap; bool oom; };

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->oom = true;
			return;
		}
		if (b->s && (size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		size_t ncap = (b->cap + (size_t)k + 1) * 2;
		char *ns = realloc(b->s, ncap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

static char *sb_done(struct sbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	return b->s;
}

void netns_ip6_for(uint32_t addr4, const struct netns_subnet *s, uint8_t out[16])
{
	static const uint8_t prefix[8] = { 0xfd, 0x68, 0x75, 0x6c, 0x6c, 0x00, 0x00, 0x00 };
	uint32_t host = addr4 & ~(~0u << (32 - s->prefix));
	memset(out, 0, 16);
	memcpy(out, prefix, sizeof(prefix));
	out[12] = (uint8_t)(host >> 24);
	out[13] = (uint8_t)(host >> 16);
	out[14] = (uint8_t)(host >> 8);
	out[15] = (uint8_t)host;
}

char *netns_nft_base_rules(const struct netns_subnet *s, bool ipv6)
{
	struct sbuf b = { 0 };
	char net[16];
	netns_ip4_str(s->net, net, sizeof(net));
	sb_printf(&b,
		  "add table inet hull\n"
		  "add chain inet hull prerouting { type nat hook prerouting priority dstnat; }\n"
		  "add chain inet hull output { type nat hook output priority -100; }\n"
		  "add chain inet hull postrouting { type nat hook postrouting priority srcnat; }\n"
		  /* the subnet's own traffic leaving the bridge, and nothing else */
		  "add rule inet hull postrouting ip saddr %s/%u ip daddr != %s/%u masquerade comment \"hull-base\"\n"
		  /* published ports on 127.0.0.1: loopback sources cannot leave the host's lo */
		  "add rule inet hull postrouting ip saddr 127.0.0.0/8 ip daddr %s/%u oifname \"" NETNS_BRIDGE "\" masquerade comment \"hull-base\"\n"
		  /* hairpin: a container reaching a published port of another one
		   * through the gateway address must see replies come back that way */
		  "add rule inet hull postrouting ct status dnat ip saddr %s/%u ip daddr %s/%u masquerade comment \"hull-base\"\n",
		  net, s->prefix, net, s->prefix, net, s->prefix, net, s->prefix, net, s->prefix);
	if (ipv6)
		sb_printf(&b, "add rule inet hull postrouting ip6 saddr " NETNS_SUBNET6 " ip6 daddr != " NETNS_SUBNET6
			  " masquerade comment \"hull-base\"\n");
	return sb_done(&b);
}

char *netns_nft_port_rules(const char *id, uint32_t container_ip, const struct netns_port *ports, size_t n)
{
	struct sbuf b = { 0 };
	char cip[16], hip[16];
	netns_ip4_str(container_ip, cip, sizeof(cip));
	static const char *const chains[] = { "prerouting", "output" };
	for (size_t i = 0; i < n; i++) {
		const struct netns_port *p = &ports[i];
		const char *proto = p->proto == IPPROTO_UDP ? "udp" : "tcp";
		for (size_t c = 0; c < 2; c++) {
			sb_printf(&b, "add rule inet hull %s ", chains[c]);
			if (p->has_host_ip)
				sb_printf(&b, "ip daddr %s ", netns_ip4_str(p->host_ip, hip, sizeof(hip)));
			else
				sb_printf(&b, "fib daddr type local ");
			sb_printf(&b, "%s dport %u dnat ip to %s:%u comment \"hull:%s\"\n", proto, p->host_port, cip,
				  p->container_port, id);
		}
	}
	return sb_done(&b);
}

/* One listing line as a C string in buf; false for a line too long to be
 * one of ours (skip it). */
static bool line_str(const char *line, size_t len, char *buf, size_t size)
{
	if (len >= size)
		return false;
	memcpy(buf, line, len);
	buf[len] = '\0';
	return true;
}

char *netns_nft_delete_cmds(const char *listing, const char *id)
{
	struct sbuf b = { 0 };
	char chain[64] = "";
	char want[160];
	snprintf(want, sizeof(want), "comment \"hull:%s\"", id);
	FOR_EACH_LINE(listing ? listing : "", line, len) {
		char l[1024];
		if (!line_str(line, len, l, sizeof(l)))
			continue;
		const char *p = l + strspn(l, " \t");
		char name[64];
		if (sscanf(p, "chain %63[A-Za-z0-9_-] {", name) == 1) {
			snprintf(chain, sizeof(chain), "%s", name);
			continue;
		}
		const char *c = strstr(p, want);
		const char *h = strstr(p, " # handle ");
		/* the comment must end right there: "hull:a" is no match for "hull:ab" */
		if (!c || !h || !chain[0] || (c[strlen(want)] != ' ' && c[strlen(want)] != '\0'))
			continue;
		char *end;
		unsigned long handle = strtoul(h + 10, &end, 10);
		if (end == h + 10)
			continue;
		sb_printf(&b, "delete rule inet hull %s handle %lu\n", chain, handle);
	}
	return sb_done(&b);
}

bool netns_nft_port_owner(const char *listing, const struct netns_port *p, char *owner, size_t size)
{
	char want[48], hip[16];
	snprintf(want, sizeof(want), " %s dport %u dnat ", p->proto == IPPROTO_UDP ? "udp" : "tcp", p->host_port);
	FOR_EACH_LINE(listing ? listing : "", line, len) {
		char l[1024];
		if (!line_str(line, len, l, sizeof(l)))
			continue;
		const char *c = strstr(l, "comment \"hull:");
		if (!c || !strstr(l, want))
			continue;
		/* "ip daddr A.B.C.D tcp dport …": a rule for one host address */
		uint32_t other;
		bool other_any = sscanf(l + strspn(l, " \t"), "ip daddr %15s ", hip) != 1 || netns_ip4_parse(hip, &other) < 0;
		if (!other_any && p->has_host_ip && other != p->host_ip)
			continue;
		c += strlen("comment \"hull:");
		size_t n = strcspn(c, "\"");
		snprintf(owner, size, "%.*s", (int)n, c);
		return true;
	}
	return false;
}

void netns_veth_name(const char *id, char out[16])
{
	/* FNV-1a: stable across runs, so teardown finds it from the id alone */
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	snprintf(out, 16, "vh%08x", h);
}
