/* -net-hook — the OCI hooks that give an image run its bridge network.
 *
 *   hull -- -net-hook setup [--subnet CIDR] [-p SPEC]... [--dns IP]...
 *       createRuntime hook: the container's network namespace exists and
 *       nothing runs in it yet; attach it to hull0 (netns/netns.h).
 *       --tap: also a tap "tap0" for a VMM, tc-redirected to eth0.
 *   hull -- -net-hook vm-info
 *       in the current network namespace, what a VM handler does before
 *       creating the VM (netns_vm_net_prepare): prints the interface, tap
 *       and "hull.net=MAC,ADDR/N,GW"; a debug and test aid.
 *   hull -- -net-hook teardown
 *       poststop hook (delete, also --force after a crash): remove the
 *       container's rules, veth and lease.
 *
 * Both read the OCI state document on stdin (id, pid, bundle), as every
 * hook does.  runtime/cmd_run_image.c builds the arguments; the image
 * plugin puts the hooks into config.json.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "netns/netns.h"
#include "runtime/cli.h"
#include "runtime/command.h"
#include "runtime/state.h"

#define NET_HOOK_USAGE "hull -net-hook setup|teardown|vm-info [--subnet CIDR] [-p SPEC]... [--dns IP]... [--tap] < STATE"

struct hook_state {
	char id[1100];
	char bundle[4096];
	pid_t pid;
};

static int read_state(struct hook_state *st, struct hull_err *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	char ebuf[128];
	int r = hull_read_fd(STDIN_FILENO, 1 << 20, &text, &len, err);
	if (r < 0)
		return hull_err_wrap(err, "read the container state from stdin");
	yajl_val tree = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	const char *idp[] = { "id", NULL }, *pidp[] = { "pid", NULL }, *bp[] = { "bundle", NULL };
	yajl_val id = tree ? yajl_tree_get(tree, idp, yajl_t_string) : NULL;
	yajl_val pid = tree ? yajl_tree_get(tree, pidp, yajl_t_number) : NULL;
	yajl_val bundle = tree ? yajl_tree_get(tree, bp, yajl_t_string) : NULL;
	const char *ids = id ? YAJL_GET_STRING(id) : NULL, *bs = bundle ? YAJL_GET_STRING(bundle) : NULL;
	r = 0;
	if (!ids || strlen(ids) >= sizeof(st->id))
		r = hull_errf(err, EINVAL, "state on stdin: no container id");
	else if (hull_container_id_valid(ids, err) < 0)
		r = -EINVAL;
	else {
		snprintf(st->id, sizeof(st->id), "%s", ids);
		st->pid = pid && YAJL_IS_INTEGER(pid) ? (pid_t)YAJL_GET_INTEGER(pid) : 0;
		snprintf(st->bundle, sizeof(st->bundle), "%s", bs ? bs : "");
	}
	yajl_tree_free(tree);
	return r;
}

static int net_setup(int argc, char **argv, struct hull_err *err)
{
	static const struct option opts[] = {
		{ "subnet", required_argument, NULL, 's' },
		{ "publish", required_argument, NULL, 'p' },
		{ "dns", required_argument, NULL, 'd' },
		{ "tap", no_argument, NULL, 't' },
		{ 0 },
	};
	struct netns_bridge_opts o = { 0 };
	struct hook_state st;
	const char *subnet = NETNS_DEFAULT_SUBNET;
	int opt;

	cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, "+s:p:d:t", opts, NULL)) != -1) {
		switch (opt) {
		case 's': subnet = optarg; break;
		case 'p':
			if (o.n_ports == NETNS_MAX_PORTS)
				return cli_usage(err, NET_HOOK_USAGE, "more than %d published ports", NETNS_MAX_PORTS);
			if (netns_port_parse(optarg, &o.ports[o.n_ports++], err) < 0)
				return 1;
			break;
		case 'd':
			if (o.n_dns == NETNS_MAX_DNS)
				return cli_usage(err, NET_HOOK_USAGE, "more than %d --dns servers", NETNS_MAX_DNS);
			if (netns_ip4_parse(optarg, &o.dns[o.n_dns++]) < 0)
				return cli_usage(err, NET_HOOK_USAGE, "--dns: `%s` is not an IPv4 address", optarg);
			break;
		case 't': o.vm_tap = true; break;
		default:
			return cli_usage(err, NET_HOOK_USAGE, "unknown option `%s`", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage(err, NET_HOOK_USAGE, "too many arguments");
	if (netns_subnet_parse(subnet, &o.subnet, err) < 0 || read_state(&st, err) < 0)
		return 1;
	if (st.pid <= 0 || !st.bundle[0])
		return hull_errf(err, EINVAL, "state on stdin: container `%s` has no pid or bundle", st.id), 1;
	o.id = st.id;
	o.pid = st.pid;
	o.bundle = st.bundle;
	if (netns_bridge_attach(&o, err) < 0) {
		hull_err_wrap(err, "network for `%s`", st.id);
		return 1;
	}
	return 0;
}

static int cmd_net_hook(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	(void)g;
	if (argc < 2)
		return cli_usage(err, NET_HOOK_USAGE, "missing setup or teardown");
	if (!strcmp(argv[1], "setup"))
		return net_setup(argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "vm-info")) {
		/* what the VM handler would do in this namespace (a test and debug aid) */
		struct netns_vm_net n;
		struct stat self_ns, parent_ns;
		char line[128], ppath[64];
		/* the host's eth0 would be redirected into a tap: only in a namespace
		 * entered for the purpose (nsenter), never in the caller's own */
		snprintf(ppath, sizeof(ppath), "/proc/%d/ns/net", (int)getppid());
		if (stat("/proc/self/ns/net", &self_ns) < 0 || stat(ppath, &parent_ns) < 0) {
			hull_errf_sys(err, errno, "compare network namespaces");
			return 1;
		}
		if (self_ns.st_ino == parent_ns.st_ino && self_ns.st_dev == parent_ns.st_dev)
			return cli_usage(err, NET_HOOK_USAGE, "vm-info: run it inside a container's network namespace");
		if (netns_vm_net_prepare(&n, err) < 0)
			return 1;
		if (!n.ifname[0]) {
			printf("none\n");
			return 0;
		}
		netns_vm_net_cmdline(&n, line, sizeof(line));
		printf("%s tap=%s %s\n", n.ifname, n.tap, line);
		return 0;
	}
	if (!strcmp(argv[1], "teardown")) {
		struct hook_state st;
		if (argc != 2)
			return cli_usage(err, NET_HOOK_USAGE, "teardown takes no arguments");
		if (read_state(&st, err) < 0 || netns_bridge_detach(st.id, err) < 0)
			return 1;
		return 0;
	}
	return cli_usage(err, NET_HOOK_USAGE, "unknown action `%s`", argv[1]);
}

HULL_COMMAND_NAMED(net_hook, "-net-hook", "bridge networking hooks of image runs (createRuntime/poststop)",
		   cmd_net_hook);
