/* exec — run another process in a container's namespaces and cgroup.
 *
 * The process is the container's process config with the command-line
 * overrides (runc's behaviour), or the JSON given with --process.  It joins
 * every namespace of the init through one setns(pidfd, flags) call (atomic,
 * no /proc path races), then forks once more with CLONE_PARENT when a pid or
 * time namespace only applies to children, so the process is still our child:
 * a foreground exec waits for it and exits with its status (128+N if killed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/capability.h>

#include "cgroups/cgroup.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "runtime/cli.h"
#include "runtime/console.h"
#include "runtime/handler.h"
#include "runtime/launch.h"
#include "runtime/security.h"
#include "runtime/spawn.h"
#include "runtime/state.h"
#include "runtime/userspec.h"

#define EXEC_USAGE "hull exec [--process FILE | -t] [--console-socket PATH] [-d] [--pid-file FILE] " \
	"[--cwd DIR] [-e K=V]... [-u USER[:GROUP]] [-g GID]... [--cap CAP]... [--no-new-privs] " \
	"[--preserve-fds N] [--process-label L] [--apparmor P] ID [COMMAND [ARG...]]"

#define MAX_LIST 256

struct exec_args {
	const char *id;
	const char *process_file;
	const char *console_socket;
	const char *pid_file;
	const char *cwd;
	const char *user;
	const char *process_label;
	const char *apparmor;
	const char *env[MAX_LIST]; size_t n_env;
	const char *gids[MAX_LIST]; size_t n_gids;
	const char *caps[MAX_LIST]; size_t n_caps;
	char **cmd; int n_cmd;
	unsigned preserve_fds;
	bool tty, detach, no_new_privs;
};

static int parse_args(int argc, char **argv, struct exec_args *a, struct hull_err *err)
{
	enum { O_CONSOLE = 256, O_PIDFILE, O_CWD, O_CAP, O_NNP, O_PRESERVE, O_LABEL, O_APPARMOR, O_IGNORE };
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "tty", no_argument, NULL, 't' },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "cwd", required_argument, NULL, O_CWD },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "cap", required_argument, NULL, 'c' },
		{ "no-new-privs", no_argument, NULL, O_NNP },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "process-label", required_argument, NULL, O_LABEL },
		{ "apparmor", required_argument, NULL, O_APPARMOR },
		{ "ignore-paused", no_argument, NULL, O_IGNORE },
		{ 0 }
	};
	int opt;

	memset(a, 0, sizeof(*a));
	cli_getopt_reset();
	while ((opt = getopt_long_only(argc, argv, "+p:tde:u:g:c:", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': a->process_file = optarg; break;
		case 't': a->tty = true; break;
		case 'd': a->detach = true; break;
		case O_CONSOLE: a->console_socket = optarg; break;
		case O_PIDFILE: a->pid_file = optarg; break;
		case O_CWD: a->cwd = optarg; break;
		case 'u': a->user = optarg; break;
		case O_NNP: a->no_new_privs = true; break;
		case O_LABEL: a->process_label = optarg; break;
		case O_APPARMOR: a->apparmor = optarg; break;
		case O_IGNORE: break;
		case O_PRESERVE: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || !*optarg || n > 65536)
				return cli_usage(err, EXEC_USAGE, "--preserve-fds: not a number `%s`", optarg);
			a->preserve_fds = (unsigned)n;
			break;
		}
		case 'e':
		case 'g':
		case 'c': {
			const char **list = opt == 'e' ? a->env : opt == 'g' ? a->gids : a->caps;
			size_t *n = opt == 'e' ? &a->n_env : opt == 'g' ? &a->n_gids : &a->n_caps;
			if (*n >= MAX_LIST)
				return cli_usage(err, EXEC_USAGE, "too many `%s` options", argv[optind - 1]);
			list[(*n)++] = optarg;
			break;
		}
		default:
			return cli_usage(err, EXEC_USAGE, "unknown option `%s`", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage(err, EXEC_USAGE, "missing container ID");
	a->id = argv[optind++];
	a->cmd = argv + optind;
	a->n_cmd = argc - optind;
	if (!a->process_file && a->n_cmd == 0)
		return cli_usage(err, EXEC_USAGE, "missing the command (or --process FILE)");
	return 0;
}

/* Owned replacement arrays for the fields the command line overrides; the
 * config's own arrays are put back before it is freed. */
struct proc_override {
	char **args, **env;
	uint32_t *gids;
	char *num_user;
};

static int env_key_len(const char *e)
{
	const char *eq = strchr(e, '=');
	return eq ? (int)(eq - e) : (int)strlen(e);
}

static int apply_overrides(struct oci_process *p, const struct exec_args *a, pid_t init_pid,
			   struct proc_override *ov, struct hull_err *err)
{
	if (a->n_cmd) {
		ov->args = calloc((size_t)a->n_cmd + 1, sizeof(char *));
		if (!ov->args)
			return hull_errf_sys(err, ENOMEM, "exec");
		for (int i = 0; i < a->n_cmd; i++)
			ov->args[i] = a->cmd[i];
		p->args = ov->args;
		p->n_args = (size_t)a->n_cmd;
	}
	if (a->n_env) {
		size_t n = 0;
		ov->env = calloc(p->n_env + a->n_env + 1, sizeof(char *));
		if (!ov->env)
			return hull_errf_sys(err, ENOMEM, "exec");
		for (size_t i = 0; i < p->n_env; i++)
			ov->env[n++] = p->env[i];
		for (size_t i = 0; i < a->n_env; i++) {
			size_t k;
			int kl = env_key_len(a->env[i]);
			for (k = 0; k < n; k++)
				if (env_key_len(ov->env[k]) == kl && !strncmp(ov->env[k], a->env[i], (size_t)kl))
					break;
			ov->env[k] = (char *)a->env[i];
			if (k == n)
				n++;
		}
		p->env = ov->env;
		p->n_env = n;
	}
	if (a->cwd)
		p->cwd = (char *)a->cwd;
	if (a->user) {
		uint32_t uid, gid;
		bool gid_set;
		if (hull_resolve_user(init_pid, a->user, &uid, &gid, &gid_set, err) < 0)
			return -err->code;
		p->user.uid = uid;
		if (gid_set)
			p->user.gid = gid;
	}
	if (a->n_gids) {
		ov->gids = calloc(a->n_gids, sizeof(uint32_t));
		if (!ov->gids)
			return hull_errf_sys(err, ENOMEM, "exec");
		for (size_t i = 0; i < a->n_gids; i++) {
			char *end;
			ov->gids[i] = (uint32_t)strtoul(a->gids[i], &end, 10);
			if (end == a->gids[i] || *end)
				return hull_errf(err, EINVAL, "--additional-gids `%s`: not a number", a->gids[i]);
		}
		p->user.additional_gids = ov->gids;
		p->user.n_additional_gids = a->n_gids;
	}
	for (size_t i = 0; i < a->n_caps; i++) {
		cap_value_t cv;
		if (cap_from_name(a->caps[i], &cv) < 0)
			return hull_errf(err, EINVAL, "--cap `%s`: unknown capability", a->caps[i]);
		uint64_t bit = 1ull << cv;
		p->caps.present = true;
		p->caps.bounding |= bit;
		p->caps.effective |= bit;
		p->caps.permitted |= bit;
		p->caps.ambient |= bit;
		p->caps.has_bounding = p->caps.has_effective = p->caps.has_permitted = p->caps.has_ambient = true;
	}
	if (a->no_new_privs)
		p->no_new_privileges = true;
	if (a->tty)
		p->terminal = true;
	if (a->process_label)
		p->selinux_label = (char *)a->process_label;
	if (a->apparmor)
		p->apparmor_profile = (char *)a->apparmor;
	return 0;
}

/* Which of the init's namespaces to enter; the user ns only when it is not ours
 * (setns into one's own user ns is EINVAL). */
static int join_flags(const struct hull_container *c)
{
	int flags = c->ns_flags & ~CLONE_NEWUSER;
	char path[64];
	struct stat a, b;

	if (c->ns_flags & CLONE_NEWUSER) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)c->pid);
		if (stat(path, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && a.st_ino != b.st_ino)
			flags |= CLONE_NEWUSER;
	}
	return flags;
}

struct exec_child {
	const struct oci_config *cfg;
	const struct oci_process *proc;
	const struct hull_container *c;
	const struct hull_handler *handler;
	int pidfd, sync_fd, console_fd, listener_fd, flags;
	unsigned preserve_fds;
};

static int send_notify_fd(int fd, void *arg)
{
	struct exec_child *x = arg;
	struct hull_err err = { 0 };
	int r = hull_send_seccomp_listener(x->listener_fd, fd, x->cfg, x->c, HULL_STATUS_RUNNING, &err);

	if (r < 0)
		hull_error("%s", err.msg);
	return r;
}

/* Kernels before 5.8 cannot setns() through a pidfd: open every
 * /proc/<pid>/ns/<type> first (the mount ns join would hide /proc), then
 * join the user ns before the namespaces it owns. */
static int join_by_path(const struct exec_child *x, struct hull_err *err)
{
	static const struct { int flag; const char *name; } ns[] = {
		{ CLONE_NEWUSER, "user" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" },
		{ CLONE_NEWNET, "net" }, { CLONE_NEWPID, "pid" }, { CLONE_NEWCGROUP, "cgroup" },
		{ CLONE_NEWTIME, "time" }, { CLONE_NEWNS, "mnt" },
	};
	int fds[ARRAY_SIZE(ns)];
	char path[64];
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		fds[i] = -1;
		if (!(x->flags & ns[i].flag))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)x->c->pid, ns[i].name);
		if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0 && !r)
			r = hull_errf_sys(err, errno, "open %s", path);
	}
	for (size_t i = 0; !r && i < ARRAY_SIZE(ns); i++)
		if (fds[i] >= 0 && setns(fds[i], ns[i].flag) < 0)
			r = hull_errf_sys(err, errno, "join the %s namespace of pid %d", ns[i].name, (int)x->c->pid);
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

__attribute__((noreturn)) static void exec_child_main(struct exec_child *x)
{
	struct hull_err err = { 0 };
	struct sync_msg m;
	struct sec_process_opts so = {
		.proc = x->proc,
		.seccomp = &x->cfg->linux_.seccomp,
		.personality = &x->cfg->linux_.personality,
		.preserve_fds = x->preserve_fds,
		.in_userns = x->c->userns,
		.is_exec = true,
		.send_notify_fd = send_notify_fd,
		.arg = x,
	};
	struct hull_handler_ctx hctx = { .cfg = x->cfg, .proc = x->proc, .rootfs = x->c->rootfs,
					 .bundle = x->c->bundle, .id = x->c->id, .is_exec = true };
	pid_t pid;

	if (sync_expect(x->sync_fd, SYNC_GO, &m, &err) < 0)
		_exit(1);
	if (x->proc->exec_cpu_affinity.initial && sec_set_cpu_affinity(x->proc->exec_cpu_affinity.initial, &err) < 0)
		sync_fail(x->sync_fd, &err);
	if (x->flags && setns(x->pidfd, x->flags) < 0 && (errno != EINVAL || join_by_path(x, &err) < 0)) {
		if (!err.code)
			hull_errf_sys(&err, errno, "join the namespaces of pid %d", (int)x->c->pid);
		sync_fail(x->sync_fd, &err);
	}
	close(x->pidfd);
	if (x->flags & (CLONE_NEWPID | CLONE_NEWTIME)) {
		pid = spawn_clone(CLONE_PARENT, -1, NULL);
		if (pid < 0) {
			hull_errf_sys(&err, errno, "fork into the pid namespace");
			sync_fail(x->sync_fd, &err);
		}
		if (pid > 0) {
			sync_send(x->sync_fd, SYNC_PID, pid, NULL);
			_exit(0);
		}
	}
	if (x->proc->terminal) {
		if (setsid() < 0) {
			hull_errf_sys(&err, errno, "setsid");
			sync_fail(x->sync_fd, &err);
		}
		if (hull_console_setup(x->console_fd, x->proc->has_console_size ? x->proc->console_height : 0,
				       x->proc->has_console_size ? x->proc->console_width : 0, false, &err) < 0)
			sync_fail(x->sync_fd, &err);
		close(x->console_fd);
	}
	spawn_reset_signals();
	if (!x->handler->guest_applies_process && sec_finalize_process(&so, &err) < 0)
		sync_fail(x->sync_fd, &err);
	x->handler->exec(&hctx, &err);
	sync_fail(x->sync_fd, &err);
}

static int wait_forwarding(pid_t pid, int master)
{
	sigset_t all;
	int sigfd, rc;

	spawn_forwardable_signals(&all);
	sigfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sigfd < 0)
		return 1;
	rc = spawn_wait_forwarding(pid, sigfd, master);
	close(sigfd);
	return rc;
}

static int do_exec(const struct hull_globals *g, const struct exec_args *a, struct hull_err *err)
{
	struct hull_container *c = NULL;
	struct oci_config *cfg = NULL;
	struct oci_process *own = NULL, saved;
	struct proc_override ov = { 0 };
	struct hull_cgroup *cg = NULL;
	const struct hull_handler *handler = NULL;
	struct exec_child x = { .pidfd = -1, .sync_fd = -1, .console_fd = -1, .listener_fd = -1 };
	int sv[2] = { -1, -1 }, psv[2] = { -1, -1 }, master = -1, rc = -1, r;
	pid_t child = -1, target = -1;
	enum hull_status st;
	struct sync_msg m;
	sigset_t all, old;
	bool placed = false;

	if (hull_container_load(g->root, a->id, HULL_LOCK_NONE, &c, err) < 0)
		goto out;
	st = hull_container_status(c);
	if (st != HULL_STATUS_RUNNING && st != HULL_STATUS_CREATED) {
		hull_errf(err, EINVAL, "cannot exec in a %s container", hull_status_name(st));
		goto out;
	}
	if (hull_container_config(c, &cfg, err) < 0)
		goto out;
	saved = cfg->process;
	if (a->process_file) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		const char *base = strrchr(a->process_file, '/');
		if (hull_read_file(a->process_file, 0, &text, &len, err) < 0 ||
		    oci_process_parse(text, len, base ? base + 1 : a->process_file, &own, err) < 0)
			goto out;
		x.proc = own;
	} else {
		if (apply_overrides(&cfg->process, a, c->pid, &ov, err) < 0)
			goto out;
		x.proc = &cfg->process;
	}
	if (!x.proc->n_args) {
		hull_errf(err, EINVAL, "process.args: must be a non-empty array");
		goto out;
	}
	if (x.proc->terminal && a->detach && !a->console_socket) {
		hull_errf(err, EINVAL, "a terminal with --detach needs --console-socket");
		goto out;
	}
	handler = c->handler ? hull_handler_find(c->handler) : NULL;
	if (!handler)
		handler = hull_handler_find("container");
	if (sec_lsm_check(sec_lsm_probe(), x.proc, NULL, err) < 0)
		goto out;
	if (hull_container_cgroup(c, &cg, err) < 0)
		goto out;
	if ((x.pidfd = hull_container_pidfd(c, err)) < 0)
		goto out;
	if (x.proc->terminal) {
		if (a->console_socket) {
			if ((x.console_fd = hull_console_connect(a->console_socket, err)) < 0)
				goto out;
		} else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, psv) < 0) {
			hull_errf_sys(err, errno, "socketpair");
			goto out;
		} else {
			x.console_fd = psv[1];
		}
	}
	if (cfg->linux_.seccomp.present && cfg->linux_.seccomp.listener_path) {
		x.listener_fd = open(cfg->linux_.seccomp.listener_path, O_PATH | O_CLOEXEC);
		if (x.listener_fd < 0) {
			hull_errf_sys(err, errno, "config.json: .linux.seccomp.listenerPath `%s`",
				      cfg->linux_.seccomp.listener_path);
			goto out;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		hull_errf_sys(err, errno, "socketpair");
		goto out;
	}
	x.cfg = cfg;
	x.c = c;
	x.handler = handler;
	x.sync_fd = sv[1];
	x.flags = join_flags(c);
	x.preserve_fds = a->preserve_fds;
	/* Signals for the process are forwarded, not acted on, from here on. */
	spawn_forwardable_signals(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	child = spawn_clone(0, cg && hull_cgroup_layout(cg) == HULL_CGROUP_V2 ? hull_cgroup_v2_dirfd(cg) : -1,
			    &placed);
	if (child < 0) {
		hull_errf_sys(err, errno, "clone");
		goto out;
	}
	if (child == 0) {
		close(sv[0]);
		if (psv[0] >= 0)
			close(psv[0]);
		exec_child_main(&x);
	}
	close(sv[1]);
	sv[1] = -1;
	if (psv[1] >= 0) {
		close(psv[1]);
		psv[1] = -1;
		x.console_fd = -1;
	}
	target = child;
	if (cg && !placed && hull_cgroup_enter(cg, child, err) < 0)
		goto fail;
	sync_send(sv[0], SYNC_GO, 0, NULL);
	for (;;) {
		r = sync_recv(sv[0], &m, err);
		if (r == -EPIPE) {
			hull_err_clear(err);
			break;
		}
		if (r < 0)
			goto fail;
		if (m.type == SYNC_PID) {
			target = m.val;
			spawn_wait(child);
			child = -1;
		} else if (m.type == SYNC_ERROR) {
			int status;
			hull_errf(err, m.val > 0 ? m.val : EIO, "%s", m.text);
			/* The forked process may report before the intermediate's
			 * SYNC_PID: read to EOF (both ends closed) to learn its pid. */
			for (struct hull_err e2 = { 0 }; sync_recv(sv[0], &m, &e2) == 0;)
				if (m.type == SYNC_PID && child > 0 && target == child) {
					target = m.val;
					spawn_wait(child);
					child = -1;
				}
			/* The process exits like a shell would; report that status. */
			status = spawn_wait(target);
			if (child > 0 && child != target)
				spawn_wait(child);
			rc = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : 1;
			hull_err_wrap(err, "%s", a->id);
			if (a->detach)
				goto out;
			hull_error("exec %s", err->msg);
			hull_err_clear(err);
			goto out;
		}
	}
	if (psv[0] >= 0 && (master = hull_recv_fd(psv[0], err)) < 0)
		goto fail;
	if (a->pid_file && hull_write_pid_file(a->pid_file, target, err) < 0)
		goto fail;
	if (a->detach) {
		rc = 0;
		goto out;
	}
	rc = wait_forwarding(target, master);
	goto out;
fail:
	if (target > 0)
		kill(target, SIGKILL);
	if (child > 0)
		spawn_wait(child);
	if (target > 0 && target != child)
		spawn_wait(target);
	rc = -1;
out:
	if (rc < 0 && err->code)
		hull_err_wrap(err, "%s", a->id);
	if (cfg) {
		cfg->process = saved;
		oci_config_free(cfg);
	}
	free(ov.args);
	free(ov.env);
	free(ov.gids);
	oci_process_free(own);
	if (cg)
		hull_cgroup_free(cg);
	hull_container_free(c);
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (psv[i] >= 0)
			close(psv[i]);
	}
	if (master >= 0)
		close(master);
	if (x.pidfd >= 0)
		close(x.pidfd);
	if (x.listener_fd >= 0)
		close(x.listener_fd);
	if (x.console_fd >= 0 && psv[0] < 0)
		close(x.console_fd);
	return rc < 0 ? 1 : rc;
}

static int cmd_exec(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	struct exec_args a;

	if (cli_wants_help(argc, argv, EXEC_USAGE))
		return 0;
	if (parse_args(argc, argv, &a, err))
		return 1;
	return do_exec(g, &a, err);
}

HULL_COMMAND(exec, "run a process in a running container", cmd_exec);
