/* Unit tests for netns/spec.c: subnets, -p specs, the lease table, nftables text. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netns/netns.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static struct netns_subnet subnet(const char *cidr)
{
	struct netns_subnet s;
	struct hull_err err = { 0 };
	assert_int_equal(netns_subnet_parse(cidr, &s, &err), 0);
	return s;
}

static void test_subnet_parse(void **state)
{
	struct netns_subnet s = subnet("10.210.0.0/24");
	assert_int_equal(s.net, IP4(10, 210, 0, 0));
	assert_int_equal(s.prefix, 24);
	assert_int_equal(netns_subnet_gateway(&s), IP4(10, 210, 0, 1));
	assert_int_equal(netns_subnet_broadcast(&s), IP4(10, 210, 0, 255));
	assert_true(netns_subnet_contains(&s, IP4(10, 210, 0, 77)));
	assert_false(netns_subnet_contains(&s, IP4(10, 210, 1, 1)));
	s = subnet("172.30.0.0/30");
	assert_int_equal(netns_subnet_broadcast(&s), IP4(172, 30, 0, 3));

	const char *bad[] = { "10.210.0.0", "10.210.0.0/", "10.210.0.0/33", "10.210.0.0/31", "10.210.0.0/7",
			      "10.210.0.1/24", "10.210.0/24", "10.210.0.0/+24", "10.210.0.0/24x", "x/24", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hull_err err = { 0 };
		struct netns_subnet t;
		assert_int_equal(netns_subnet_parse(bad[i], &t, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "subnet"));
	}
}

static struct netns_port port(const char *spec)
{
	struct netns_port p;
	struct hull_err err = { 0 };
	assert_int_equal(netns_port_parse(spec, &p, &err), 0);
	return p;
}

static void test_port_parse(void **state)
{
	struct netns_port p = port("8080:80");
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_false(p.has_host_ip);
	assert_int_equal(p.host_port, 8080);
	assert_int_equal(p.container_port, 80);

	p = port("127.0.0.1:53:5353/udp");
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_true(p.has_host_ip);
	assert_int_equal(p.host_ip, IP4(127, 0, 0, 1));
	assert_int_equal(p.host_port, 53);
	assert_int_equal(p.container_port, 5353);

	p = port("1:65535/tcp");
	assert_int_equal(p.host_port, 1);
	assert_int_equal(p.container_port, 65535);

	const char *bad[] = { "80", "0:80", "80:0", "65536:80", "80:80/sctp", "80:80/", "a:80", "80:-1",
			      "1.2.3:80:80", "::1:80:80", "1.2.3.4:5:6:7", "80:80 ", "+80:80", ":80", "80:" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hull_err err = { 0 };
		struct netns_port q;
		assert_int_equal(netns_port_parse(bad[i], &q, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "-p"));
	}
}

static void test_lease_pick(void **state)
{
	struct netns_subnet s = subnet("10.210.0.0/24");
	struct hull_err err = { 0 };
	uint32_t a;
	bool existing;

	/* empty table: the first host after the gateway */
	assert_int_equal(netns_lease_pick(NULL, "c1", &s, &a, &existing, &err), 0);
	assert_int_equal(a, IP4(10, 210, 0, 2));
	assert_false(existing);

	/* lowest free, garbage ignored, out-of-subnet entries ignored */
	const char *t = "10.210.0.2 a\nnonsense\n10.210.0.3 b\n10.99.0.4 z\n10.210.0.5 c\n";
	assert_int_equal(netns_lease_pick(t, "d", &s, &a, &existing, &err), 0);
	assert_int_equal(a, IP4(10, 210, 0, 4));
	/* an id keeps its address (a retried setup does not leak one) */
	assert_int_equal(netns_lease_pick(t, "b", &s, &a, &existing, &err), 0);
	assert_int_equal(a, IP4(10, 210, 0, 3));
	assert_true(existing);
	/* "b" must not match "bb" */
	assert_int_equal(netns_lease_pick("10.210.0.2 bb\n", "b", &s, &a, &existing, &err), 0);
	assert_int_equal(a, IP4(10, 210, 0, 3));
	assert_false(existing);

	/* a /30 has exactly one container address: .2 (gateway .1, broadcast .3) */
	struct netns_subnet small = subnet("10.210.0.0/30");
	assert_int_equal(netns_lease_pick(NULL, "x", &small, &a, &existing, &err), 0);
	assert_int_equal(a, IP4(10, 210, 0, 2));
	assert_int_equal(netns_lease_pick("10.210.0.2 x\n", "y", &small, &a, &existing, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "no free address"));
}

static void test_lease_update(void **state)
{
	char *t = netns_lease_update(NULL, "a", IP4(10, 210, 0, 2));
	assert_string_equal(t, "10.210.0.2 a\n");
	char *t2 = netns_lease_update(t, "b", IP4(10, 210, 0, 3));
	assert_string_equal(t2, "10.210.0.2 a\n10.210.0.3 b\n");
	char *t3 = netns_lease_update(t2, "a", 0);
	assert_string_equal(t3, "10.210.0.3 b\n");
	/* release of an unknown id changes nothing; garbage is dropped */
	char *t4 = netns_lease_update("junk\n10.210.0.3 b\n10.210.0.9 ab", "a", 0);
	assert_string_equal(t4, "10.210.0.3 b\n10.210.0.9 ab\n");
	free(t);
	free(t2);
	free(t3);
	free(t4);
}

static void test_nft_rules(void **state)
{
	struct netns_subnet s = subnet("10.210.0.0/24");
	char *base = netns_nft_base_rules(&s, true);
	assert_non_null(strstr(base, "ip6 saddr fd68:756c:6c00::/64 ip6 daddr != fd68:756c:6c00::/64 masquerade"));
	assert_non_null(strstr(base, "add table inet hull\n"));
	/* every masquerade is limited to the subnet */
	for (char *p = base; (p = strstr(p, "masquerade")); p++) {
		char *line = p;
		while (line > base && line[-1] != '\n')
			line--;
		/* the subnet (or, for loopback sources, the destination) is matched before the verdict */
		const char *v4 = strstr(line, "10.210.0.0/24"), *v6 = strstr(line, "ip6 saddr fd68:756c:6c00::/64");
		assert_true((v4 && v4 < p) || (v6 && v6 < p));
	}
	assert_null(strstr(base, "table ip "));
	free(base);

	struct netns_port ports[2] = { port("127.0.0.1:8080:80"), port("53:5353/udp") };
	char *r = netns_nft_port_rules("web.1", IP4(10, 210, 0, 7), ports, 2);
	assert_string_equal(r,
		"add rule inet hull prerouting ip daddr 127.0.0.1 tcp dport 8080 dnat ip to 10.210.0.7:80 comment \"hull:web.1\"\n"
		"add rule inet hull output ip daddr 127.0.0.1 tcp dport 8080 dnat ip to 10.210.0.7:80 comment \"hull:web.1\"\n"
		"add rule inet hull prerouting fib daddr type local udp dport 53 dnat ip to 10.210.0.7:5353 comment \"hull:web.1\"\n"
		"add rule inet hull output fib daddr type local udp dport 53 dnat ip to 10.210.0.7:5353 comment \"hull:web.1\"\n");
	free(r);
}

static void test_nft_delete_cmds(void **state)
{
	const char *listing =
		"table inet hull { # handle 3\n"
		"\tchain prerouting { # handle 1\n"
		"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		"\t\tip daddr 127.0.0.1 tcp dport 8080 dnat ip to 10.210.0.7:80 comment \"hull:web\" # handle 5\n"
		"\t\tfib daddr type local tcp dport 81 dnat ip to 10.210.0.8:80 comment \"hull:web2\" # handle 6\n"
		"\t}\n"
		"\tchain output { # handle 2\n"
		"\t\tip daddr 127.0.0.1 tcp dport 8080 dnat ip to 10.210.0.7:80 comment \"hull:web\" # handle 9\n"
		"\t}\n"
		"\tchain postrouting { # handle 4\n"
		"\t\tip saddr 10.210.0.0/24 masquerade comment \"hull-base\" # handle 10\n"
		"\t}\n"
		"}\n";
	char *c = netns_nft_delete_cmds(listing, "web");
	assert_string_equal(c, "delete rule inet hull prerouting handle 5\ndelete rule inet hull output handle 9\n");
	free(c);
	c = netns_nft_delete_cmds(listing, "nothere");
	assert_string_equal(c, "");
	free(c);
	c = netns_nft_delete_cmds(NULL, "web");
	assert_string_equal(c, "");
	free(c);
}

static void test_ip6_for(void **state)
{
	struct netns_subnet s = subnet("10.210.0.0/16");
	uint8_t a[16];
	const uint8_t want[16] = { 0xfd, 0x68, 0x75, 0x6c, 0x6c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02 };
	netns_ip6_for(IP4(10, 210, 1, 2), &s, a);
	assert_memory_equal(a, want, 16);
	/* the gateway is ::1 */
	netns_ip6_for(netns_subnet_gateway(&s), &s, a);
	assert_int_equal(a[15], 1);
	assert_int_equal(a[14], 0);
}

static void test_nft_port_owner(void **state)
{
	const char *listing =
		"table inet hull {\n"
		"\tchain prerouting {\n"
		"\t\tip daddr 127.0.0.1 tcp dport 8080 dnat ip to 10.210.0.7:80 comment \"hull:web\"\n"
		"\t\tfib daddr type local udp dport 53 dnat ip to 10.210.0.8:53 comment \"hull:dns\"\n"
		"\t}\n"
		"}\n";
	char owner[64];
	struct netns_port p = port("8080:80");
	assert_true(netns_nft_port_owner(listing, &p, owner, sizeof(owner)));   /* any address overlaps */
	assert_string_equal(owner, "web");
	p = port("127.0.0.1:8080:81");
	assert_true(netns_nft_port_owner(listing, &p, owner, sizeof(owner)));
	p = port("10.210.0.1:8080:80");   /* another host address: no overlap */
	assert_false(netns_nft_port_owner(listing, &p, owner, sizeof(owner)));
	p = port("8080:80/udp");          /* another protocol */
	assert_false(netns_nft_port_owner(listing, &p, owner, sizeof(owner)));
	p = port("127.0.0.1:53:53/udp");  /* inside the "every address" rule */
	assert_true(netns_nft_port_owner(listing, &p, owner, sizeof(owner)));
	assert_string_equal(owner, "dns");
	p = port("808:80");               /* "dport 808 " is not "dport 8080 " */
	assert_false(netns_nft_port_owner(listing, &p, owner, sizeof(owner)));
	assert_false(netns_nft_port_owner(NULL, &p, owner, sizeof(owner)));
}

static void test_veth_name(void **state)
{
	char a[16], b[16], c[16];
	netns_veth_name("neta", a);
	netns_veth_name("neta", b);
	netns_veth_name("netb", c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 10);   /* fits IFNAMSIZ */
	assert_memory_equal(a, "vh", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subnet_parse),
		cmocka_unit_test(test_port_parse),
		cmocka_unit_test(test_lease_pick),
		cmocka_unit_test(test_lease_update),
		cmocka_unit_test(test_nft_rules),
		cmocka_unit_test(test_nft_delete_cmds),
		cmocka_unit_test(test_ip6_for),
		cmocka_unit_test(test_nft_port_owner),
		cmocka_unit_test(test_veth_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
