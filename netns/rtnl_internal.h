/* rtnl_internal.h — netlink message building shared by rtnl.c and tap.c
 * (netns/ only).  Requests are small and fixed: every builder below writes
 * into a 1 KiB buffer without bounds checks, so callers keep to a few
 * short attributes. */
#ifndef HULL_NETNS_RTNL_INTERNAL_H
#define HULL_NETNS_RTNL_INTERNAL_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdint.h>

struct nlreq {
	union {
		struct nlmsghdr h;
		char buf[1024];
	};
};

#define nl_tail netns_nl_tail
#define nl_attr netns_nl_attr
#define nl_nest netns_nl_nest
#define nl_nest_end netns_nl_nest_end
#define nl_str netns_nl_str
#define nl_u32 netns_nl_u32
#define nl_init netns_nl_init
#define nl_talk netns_nl_talk
#define nl_query netns_nl_query

void *nl_tail(struct nlmsghdr *h);
struct rtattr *nl_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len);
struct rtattr *nl_nest(struct nlmsghdr *h, unsigned short type);
void nl_nest_end(struct nlmsghdr *h, struct rtattr *nest);
void nl_str(struct nlmsghdr *h, unsigned short type, const char *s);
void nl_u32(struct nlmsghdr *h, unsigned short type, uint32_t v);
void nl_init(struct nlreq *r, unsigned short type, unsigned short flags, const void *hdr, size_t hdr_len);
typedef int (*nl_msg_fn)(struct nlmsghdr *h, void *arg);

/* Send r (a change, a get or a dump) and hand each reply message that is
 * not the ack or the end of a dump to fn (may be NULL).  Returns 0, fn's
 * first negative result, or the kernel's negative errno. */
int nl_query(int nl, struct nlreq *r, nl_msg_fn fn, void *arg);
/* nl_query without replies: 0 or the negative errno of the kernel's ack */
int nl_talk(int nl, struct nlreq *r);

#endif
