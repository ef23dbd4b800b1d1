/* -run-image — `hull run [flags] IMAGE [COMMAND [ARG...]]`, reached from
 * cmd_run.c when its classification rule says "image run" (see there).
 *
 * The image part (store, fetch, unpack, overlay, config.json) is in
 * hull-image.so; this file parses the docker/podman-style flags, asks the
 * plugin for a bundle, and runs that bundle through the ordinary `run` verb
 * (`run -b BUNDLE [--detach] ID`), so an image run has exactly the lifecycle,
 * security setup and exit-status handling of a bundle run.
 *
 * Also `-image-cleanup [--store DIR] BUNDLE [--rm]`: the poststop hook that
 * image-run bundles carry, so `hull delete` of a detached image run unmounts
 * (and with --rm removes) its rootfs.
 *
 * A detached container's stdout/stderr go to BUNDLE/log.
 *
 * Networking (netns/netns.h): --net bridge (default: hull0, an address,
 * NAT, -p published ports, --dns), none (loopback only), host, or ns:PATH.
 * Bridge mode is carried by two hooks in config.json (`-net-hook`,
 * runtime/cmd_net.c), so the bundle lifecycle stays network-agnostic.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "runtime/cli.h"
#include "runtime/command.h"
#include "runtime/image_plugin.h"
#include "netns/netns.h"

#define RUN_IMAGE_USAGE \
	"hull run [--rm] [-d] [-i] [-t] [-e KEY[=VAL]] [--env-file FILE] [-v SRC:DST[:ro]] [-w DIR] [-u USER[:GROUP]]\n" \
	"         [--name NAME] [--hostname NAME] [--entrypoint CMD] [--read-only] [--memory N[kmg]] [--cpus N]\n" \
	"         [--pids-limit N] [--cap-add CAP] [--cap-drop CAP] [--security-opt seccomp=FILE|unconfined]\n" \
	"         [--privileged] [--net bridge|none|host|ns:PATH] [-p [IP:]HOST:CTR[/udp]] [--dns IP]\n" \
	"         [--subnet CIDR] [--pull always|missing] [--store DIR] [--insecure]\n" \
	"         [--creds USER:PASS] IMAGE [COMMAND [ARG...]]"

/* for error messages: one line */
#define RUN_IMAGE_SHORT "hull run [flags] IMAGE [COMMAND [ARG...]]; see hull-image(8)"

struct strv { char **v; size_t n; };

static int push(struct strv *s, char *v)
{
	char **n = realloc(s->v, (s->n + 2) * sizeof(char *));
	if (!n)
		return -ENOMEM;
	s->v = n;
	n[s->n++] = v;
	n[s->n] = NULL;
	return 0;
}

static int parse_size(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return -1;
	switch (*end) {
	case 'b': case 'B': case '\0': break;
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	default: return -1;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || v > 9.2e18)
		return -1;
	*out = (int64_t)v;
	return 0;
}

enum {
	O_RM = 256, O_ENV_FILE, O_NAME, O_HOSTNAME, O_ENTRYPOINT, O_READ_ONLY, O_CPUS, O_PIDS, O_CAP_ADD, O_CAP_DROP,
	O_SECOPT, O_PRIV, O_NET, O_PULL, O_STORE, O_INSECURE, O_TLS, O_CREDS, O_AUTHFILE, O_VM, O_DNS, O_SUBNET,
};

static const struct option run_opts[] = {
	{ "rm", no_argument, NULL, O_RM },
	{ "detach", no_argument, NULL, 'd' },
	{ "interactive", no_argument, NULL, 'i' },
	{ "tty", no_argument, NULL, 't' },
	{ "env", required_argument, NULL, 'e' },
	{ "env-file", required_argument, NULL, O_ENV_FILE },
	{ "volume", required_argument, NULL, 'v' },
	{ "workdir", required_argument, NULL, 'w' },
	{ "user", required_argument, NULL, 'u' },
	{ "name", required_argument, NULL, O_NAME },
	{ "hostname", required_argument, NULL, O_HOSTNAME },
	{ "entrypoint", required_argument, NULL, O_ENTRYPOINT },
	{ "read-only", no_argument, NULL, O_READ_ONLY },
	{ "memory", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, O_CPUS },
	{ "pids-limit", required_argument, NULL, O_PIDS },
	{ "cap-add", required_argument, NULL, O_CAP_ADD },
	{ "cap-drop", required_argument, NULL, O_CAP_DROP },
	{ "security-opt", required_argument, NULL, O_SECOPT },
	{ "privileged", no_argument, NULL, O_PRIV },
	{ "net", required_argument, NULL, O_NET },
	{ "network", required_argument, NULL, O_NET },
	{ "publish", required_argument, NULL, 'p' },
	{ "dns", required_argument, NULL, O_DNS },
	{ "subnet", required_argument, NULL, O_SUBNET },
	{ "pull", required_argument, NULL, O_PULL },
	{ "store", required_argument, NULL, O_STORE },
	{ "insecure", no_argument, NULL, O_INSECURE },
	{ "tls-verify", required_argument, NULL, O_TLS },
	{ "creds", required_argument, NULL, O_CREDS },
	{ "authfile", required_argument, NULL, O_AUTHFILE },
	{ "vm", no_argument, NULL, O_VM },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct parsed {
	struct hull_image_ctx ctx;
	struct hull_image_run_opts o;
	struct strv env, env_files, cap_add, cap_drop;
	struct strv net_args;            /* -net-hook setup arguments */
	size_t n_ports, n_dns;
	bool net_given;
	struct hull_image_mount *mounts;
	bool detach, interactive, vm;
};

static void parsed_free(struct parsed *p)
{
	free(p->env.v);
	free(p->env_files.v);
	free(p->cap_add.v);
	free(p->cap_drop.v);
	free(p->net_args.v);
	for (size_t i = 0; i < p->o.n_mounts; i++) {
		free((char *)p->mounts[i].src);
		free((char *)p->mounts[i].dst);
	}
	free(p->mounts);
}

static int add_volume(struct parsed *p, const char *spec, struct hull_err *err)
{
	_cleanup_free_ char *w = strdup(spec);
	if (!w)
		return hull_errf(err, ENOMEM, "out of memory");
	char *dst = strchr(w, ':');
	if (!dst || w[0] != '/')
		return cli_usage(err, RUN_IMAGE_SHORT, "-v %s: want /HOST/PATH:/CONTAINER/PATH[:ro|rw] (named volumes are not supported)", spec);
	*dst++ = '\0';
	char *mode = strchr(dst, ':');
	if (mode)
		*mode++ = '\0';
	if (dst[0] != '/' || (mode && strcmp(mode, "ro") && strcmp(mode, "rw")))
		return cli_usage(err, RUN_IMAGE_SHORT, "-v %s: want /HOST/PATH:/CONTAINER/PATH[:ro|rw]", spec);
	char real[PATH_MAX];
	if (!realpath(w, real))
		return hull_errf_sys(err, errno, "-v %s: source `%s`", spec, w);
	struct hull_image_mount *n = realloc(p->mounts, (p->o.n_mounts + 1) * sizeof(*n));
	if (!n)
		return hull_errf(err, ENOMEM, "out of memory");
	p->mounts = n;
	n[p->o.n_mounts].src = strdup(real);
	n[p->o.n_mounts].dst = strdup(dst);
	n[p->o.n_mounts].ro = mode && !strcmp(mode, "ro");
	p->o.n_mounts++;
	p->o.mounts = p->mounts;
	return 0;
}

static int parse(int argc, char **argv, struct parsed *p, struct hull_err *err)
{
	memset(p, 0, sizeof(*p));
	p->ctx.progress = isatty(STDERR_FILENO);
	p->o.net = "bridge";
	const char *subnet = getenv("HULL_NET_SUBNET");
	cli_getopt_reset();
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "+dite:v:w:u:m:p:h", run_opts, NULL)) != -1) {
		switch (c) {
		case O_RM: p->o.rm = true; break;
		case 'd': p->detach = true; break;
		case 'i': p->interactive = true; break;
		case 't': p->o.terminal = true; break;
		case 'e': if (push(&p->env, optarg) < 0) return hull_errf(err, ENOMEM, "out of memory"); break;
		case O_ENV_FILE: if (push(&p->env_files, optarg) < 0) return hull_errf(err, ENOMEM, "out of memory"); break;
		case 'v': if (add_volume(p, optarg, err)) return 1; break;
		case 'w': p->o.workdir = optarg; break;
		case 'u': p->o.user = optarg; break;
		case O_NAME: p->o.name = optarg; break;
		case O_HOSTNAME: p->o.hostname = optarg; break;
		case O_ENTRYPOINT: p->o.entrypoint = optarg; p->o.has_entrypoint = true; break;
		case O_READ_ONLY: p->o.read_only = true; break;
		case 'm':
			if (parse_size(optarg, &p->o.memory) < 0)
				return cli_usage(err, RUN_IMAGE_SHORT, "--memory: want a size like 512m or 2g, not `%s`", optarg);
			break;
		case O_CPUS:
			p->o.cpus = strtod(optarg, &end);
			if (*end || p->o.cpus <= 0 || p->o.cpus > 4096)
				return cli_usage(err, RUN_IMAGE_SHORT, "--cpus: want a positive number, not `%s`", optarg);
			break;
		case O_PIDS:
			p->o.pids_limit = strtoll(optarg, &end, 10);
			if (*end || p->o.pids_limit == 0 || p->o.pids_limit < -1)
				return cli_usage(err, RUN_IMAGE_SHORT, "--pids-limit: want a positive number or -1, not `%s`", optarg);
			break;
		case O_CAP_ADD: if (push(&p->cap_add, optarg) < 0) return hull_errf(err, ENOMEM, "out of memory"); break;
		case O_CAP_DROP: if (push(&p->cap_drop, optarg) < 0) return hull_errf(err, ENOMEM, "out of memory"); break;
		case O_SECOPT:
			if (!strncmp(optarg, "seccomp=", 8))
				p->o.seccomp_file = optarg + 8;
			else if (!strcmp(optarg, "no-new-privileges") || !strncmp(optarg, "label=", 6) ||
				 !strncmp(optarg, "apparmor=", 9))
				return cli_usage(err, RUN_IMAGE_SHORT, "--security-opt %s: not supported", optarg);
			else
				return cli_usage(err, RUN_IMAGE_SHORT, "--security-opt: want seccomp=FILE, not `%s`", optarg);
			break;
		case O_PRIV: p->o.privileged = true; break;
		case O_NET:
			if (strcmp(optarg, "none") && strcmp(optarg, "host") && strcmp(optarg, "bridge") &&
			    (strncmp(optarg, "ns:", 3) || optarg[3] != '/'))
				return cli_usage(err, RUN_IMAGE_SHORT, "--net: want bridge, none, host or ns:/PATH, not `%s`", optarg);
			p->o.net = optarg;
			p->net_given = true;
			break;
		case 'p': {
			struct netns_port port;
			if (netns_port_parse(optarg, &port, err) < 0)
				return 1;
			if (++p->n_ports > NETNS_MAX_PORTS)
				return cli_usage(err, RUN_IMAGE_SHORT, "-p: at most %d published ports", NETNS_MAX_PORTS);
			if (push(&p->net_args, "-p") < 0 || push(&p->net_args, optarg) < 0)
				return hull_errf(err, ENOMEM, "out of memory");
			break;
		}
		case O_DNS: {
			uint32_t ip;
			if (netns_ip4_parse(optarg, &ip) < 0)
				return cli_usage(err, RUN_IMAGE_SHORT, "--dns: want an IPv4 address, not `%s`", optarg);
			if (++p->n_dns > NETNS_MAX_DNS)
				return cli_usage(err, RUN_IMAGE_SHORT, "--dns: at most %d servers", NETNS_MAX_DNS);
			if (push(&p->net_args, "--dns") < 0 || push(&p->net_args, optarg) < 0)
				return hull_errf(err, ENOMEM, "out of memory");
			break;
		}
		case O_SUBNET: subnet = optarg; break;
		case O_PULL:
			if (!strcmp(optarg, "always"))
				p->o.pull_always = true;
			else if (strcmp(optarg, "missing"))
				return cli_usage(err, RUN_IMAGE_SHORT, "--pull: want always or missing, not `%s`", optarg);
			break;
		case O_STORE: p->ctx.store = optarg; break;
		case O_INSECURE: p->ctx.insecure = true; break;
		case O_TLS: p->ctx.insecure = cli_parse_bool(optarg) == 0; break;
		case O_CREDS: p->ctx.creds = optarg; break;
		case O_AUTHFILE: p->ctx.authfile = optarg; break;
		case O_VM: p->vm = true; break;
		case 'h':
			printf("%s\n", RUN_IMAGE_USAGE);
			return -1;
		default:
			return cli_usage(err, RUN_IMAGE_SHORT, "unknown or incomplete option `%s`", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage(err, RUN_IMAGE_SHORT, "missing image");
	p->o.image = argv[optind];
	p->o.cmd = argv + optind + 1;
	p->o.n_cmd = (size_t)(argc - optind - 1);
	p->o.env = p->env.v;
	p->o.n_env = p->env.n;
	p->o.env_files = p->env_files.v;
	p->o.n_env_files = p->env_files.n;
	p->o.cap_add = p->cap_add.v;
	p->o.n_cap_add = p->cap_add.n;
	p->o.cap_drop = p->cap_drop.v;
	p->o.n_cap_drop = p->cap_drop.n;
	if (p->detach && p->o.terminal)
		return cli_usage(err, RUN_IMAGE_SHORT, "-d with -t needs a console socket; use one or the other");
	/* the VM's guest does not get the container's interface yet */
	if (p->vm && !p->net_given)
		p->o.net = "none";
	if (p->vm && !strcmp(p->o.net, "bridge"))
		return cli_usage(err, RUN_IMAGE_SHORT, "--vm: bridge networking is not available for VM containers yet; use --net none|host");
	if (strcmp(p->o.net, "bridge") && (p->n_ports || p->n_dns))
		return cli_usage(err, RUN_IMAGE_SHORT, "-p and --dns need --net bridge");
	if (!strcmp(p->o.net, "bridge")) {
		struct netns_subnet sn;
		if (subnet && netns_subnet_parse(subnet, &sn, err) < 0) {
			hull_err_wrap(err, "%s", subnet == getenv("HULL_NET_SUBNET") ? "$HULL_NET_SUBNET" : "--subnet");
			return 1;
		}
		if (subnet && (push(&p->net_args, "--subnet") < 0 || push(&p->net_args, (char *)subnet) < 0))
			return hull_errf(err, ENOMEM, "out of memory");
		p->o.net_setup_args = p->net_args.v;
		p->o.n_net_setup_args = p->net_args.n;
	}
	return 0;
}

static int cmd_run_image(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	struct parsed p;
	int rc = parse(argc, argv, &p, err);
	if (rc) {
		parsed_free(&p);
		return rc < 0 ? 0 : 1;
	}
	const struct hull_image_api *api = hull_image_load(g->argv0, err);
	const struct hull_command *run = hull_command_find("run");
	char self[PATH_MAX];
	int sr = hull_self_path(g->argv0, self, sizeof(self));
	if (!api || !run || sr < 0) {
		if (api && !run)
			hull_errf(err, ENOSYS, "no run verb");
		else if (api)
			hull_errf_sys(err, -sr, "cannot find the hull binary for the cleanup hook");
		parsed_free(&p);
		return 1;
	}
	/* only a detached run needs the hook; in the foreground we clean up below */
	p.o.hook_binary = p.detach ? self : NULL;
	p.o.net_hook_binary = self;
	struct hull_image_run_result res;
	if (api->run_prepare(&p.ctx, &p.o, &res, err) < 0) {
		parsed_free(&p);
		return 1;
	}
	/* docker semantics: without -i the container does not read our stdin */
	if (!p.interactive && !p.o.terminal) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
	}
	/* a detached container must not hold our stdout/stderr (a caller's pipe
	 * would stay open until it exits): its output goes to BUNDLE/log */
	int saved_out = -1, saved_err = -1;
	if (p.detach) {
		char logpath[sizeof(res.bundle) + 8];
		snprintf(logpath, sizeof(logpath), "%s/log", res.bundle);
		int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		if (logfd >= 0) {
			dup2(logfd, STDOUT_FILENO);
			dup2(logfd, STDERR_FILENO);
			close(logfd);
		}
	}
	char *rargv[8];
	int rargc = 0;
	rargv[rargc++] = "run";
	rargv[rargc++] = "-b";
	rargv[rargc++] = res.bundle;
	if (p.detach)
		rargv[rargc++] = "--detach";
	if (p.vm)
		rargv[rargc++] = "--vm";
	rargv[rargc++] = res.id;
	rargv[rargc] = NULL;
	cli_getopt_reset();
	rc = run->fn(g, rargc, rargv, err);
	if (saved_out >= 0) {
		dup2(saved_out, STDOUT_FILENO);
		close(saved_out);
	}
	if (saved_err >= 0) {
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
	}
	if (rc != 0 && err->code) {
		/* the container never ran: nothing worth keeping */
		struct hull_err ignored = { 0 };
		api->run_cleanup(&p.ctx, res.bundle, true, &ignored);
	} else if (!p.detach) {
		struct hull_err cerr = { 0 };
		if (api->run_cleanup(&p.ctx, res.bundle, p.o.rm, &cerr) < 0)
			fprintf(stderr, "hull: run %s: cleanup: %s\n", res.id, cerr.msg);
	} else {
		printf("%s\n", res.id);
	}
	parsed_free(&p);
	return rc;
}

static int cmd_image_cleanup(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	struct hull_image_ctx ctx = { 0 };
	const char *bundle = NULL;
	bool rm = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--store") && i + 1 < argc)
			ctx.store = argv[++i][0] ? argv[i] : NULL;
		else if (!strcmp(argv[i], "--rm"))
			rm = true;
		else if (!bundle)
			bundle = argv[i];
	}
	if (!bundle)
		return cli_usage(err, "hull -image-cleanup [--store DIR] BUNDLE [--rm]", "missing bundle");
	const struct hull_image_api *api = hull_image_load(g->argv0, err);
	if (!api || api->run_cleanup(&ctx, bundle, rm, err) < 0)
		return 1;
	return 0;
}

HULL_COMMAND_NAMED(run_image, "-run-image", "run an image (reached through `hull run IMAGE`)", cmd_run_image);
HULL_COMMAND_NAMED(image_cleanup, "-image-cleanup", "unmount/remove an image run's rootfs (poststop hook)",
		   cmd_image_cleanup);
