#include "runtime/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "netns/netns.h"
#include "rootfs/rootfs.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/mempolicy.h"
#include "runtime/security.h"
#include "runtime/spawn.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

#define EXEC_FIFO "exec.fifo"

/* Everything the init needs, computed by the parent before clone. */
struct init_plan {
	const struct launch_opts *o;
	const char *rootfs;
	struct hull_cgroup *cg;
	int sync_fd;                   /* child end */
	int lock_fd;                   /* the state dir fd holding the flock: the child must drop it */
	int fifo_fd;                   /* O_PATH of exec.fifo (create), else -1 */
	int console_fd;                /* connected console socket / proxy socket, else -1 */
	int listener_fd;               /* O_PATH of linux.seccomp.listenerPath, else -1 */
	pid_t host_pid;                /* the init's pid as the host sees it, once known */
	bool fast;                     /* namespaces created by the clone itself */
	int new_flags;                 /* CLONE_NEW* to create */
	int clone_flags;               /* the subset the clone creates (fast path) */
	bool defer_cgroupns;           /* unshare CLONE_NEWCGROUP after placement */
	bool late_placement;           /* the parent moves us into the cgroup while we set up
	                                * the rootfs; SYNC_PLACED says it is done */
	bool self_join;                /* we move ourselves into the v1 hierarchies (selfjoin_fd) */
	bool idmap;                    /* user ns + idmapped binds: SYNC_IDMAP_FDS comes before prepare */
	int selfjoin_fd[24];           /* v1 `tasks` files opened by the runtime */
	size_t n_selfjoin;
	bool userns;                   /* the container has its own user ns (new or joined) */
	bool cgroupns;
	bool new_mountns;
	int join_fd[OCI_NS__COUNT];    /* setns targets, -1 when not joined */
	int ns_flags;                  /* every namespace the container has apart from the host's */
	unsigned preserve_fds;
};

/* ---- validation ---------------------------------------------------------- */

static int validate_config(const struct launch_opts *o, struct init_plan *p, struct hull_err *err)
{
	const struct oci_config *cfg = o->cfg;
	const struct oci_linux *l = &cfg->linux_;
	bool have[OCI_NS__COUNT] = { 0 };

	if (!cfg->root.path || !*cfg->root.path)
		return hull_errf(err, EINVAL, "config.json: .root.path is required");
	if (!cfg->has_process || !cfg->process.n_args)
		return hull_errf(err, EINVAL, "config.json: .process.args: must be a non-empty array");
	for (size_t i = 0; i < l->n_namespaces; i++) {
		const struct oci_namespace *ns = &l->namespaces[i];
		if (have[ns->type])
			return hull_errf(err, EINVAL, "config.json: .linux.namespaces[%zu]: duplicate namespace `%s`",
					 i, oci_ns_type_name(ns->type));
		have[ns->type] = true;
		p->ns_flags |= ns->clone_flag;
		if (ns->path && *ns->path) {
			p->join_fd[ns->type] = open(ns->path, O_RDONLY | O_CLOEXEC);
			if (p->join_fd[ns->type] < 0)
				return hull_errf_sys(err, errno, "config.json: .linux.namespaces[%zu].path `%s`", i,
						     ns->path);
		} else {
			p->new_flags |= ns->clone_flag;
		}
	}
	p->userns = have[OCI_NS_USER];
	p->cgroupns = have[OCI_NS_CGROUP];
	p->new_mountns = (p->new_flags & CLONE_NEWNS) != 0;
	if (!have[OCI_NS_MOUNT])
		return hull_errf(err, EINVAL, "config.json: .linux.namespaces: a `mount` namespace is required");
	if ((p->new_flags & CLONE_NEWUSER) && (!l->n_uid_mappings || !l->n_gid_mappings))
		return hull_errf(err, EINVAL, "config.json: .linux.uidMappings/gidMappings: required with a new user namespace");
	if (!p->userns && (l->n_uid_mappings || l->n_gid_mappings))
		return hull_errf(err, EINVAL, "config.json: .linux.uidMappings: set without a `user` namespace");
	if (o->g->rootless && !p->userns)
		return hull_errf(err, EPERM, "config.json: .linux.namespaces: rootless containers need a `user` namespace (try `hull spec --rootless`)");
	if ((cfg->hostname || cfg->domainname) && !have[OCI_NS_UTS])
		return hull_errf(err, EINVAL, "config.json: .hostname: setting it needs a `uts` namespace");
	if (l->has_time_offsets && !(p->new_flags & CLONE_NEWTIME))
		return hull_errf(err, EINVAL, "config.json: .linux.timeOffsets: needs a new `time` namespace");
	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *k = l->sysctl[i].key;
		if (!*k || strchr(k, '/') || strstr(k, "..") || k[0] == '.')
			return hull_errf(err, EINVAL, "config.json: .linux.sysctl: invalid key `%.64s`", k);
	}
	if (l->has_intel_rdt)
		return hull_errf(err, ENOTSUP, "config.json: .linux.intelRdt: not supported (hull has no resctrl support)");
	if (hull_mempolicy_check(&l->memory_policy, err) < 0)
		return -err->code;
	if (cfg->process.terminal && !o->console_socket && !o->proxy_console)
		return hull_errf(err, EINVAL, "config.json: .process.terminal is true: --console-socket is required (hull would detach)");
	return 0;
}

/* ---- parent helpers ------------------------------------------------------- */

static int write_map(pid_t pid, const char *file, const struct oci_idmap *m, size_t n, struct hull_err *err)
{
	char path[64], buf[4096];
	size_t len = 0;

	for (size_t i = 0; i < n && len < sizeof(buf) - 40; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
					m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if (hull_write_file(path, buf, len, err) < 0)
		return hull_err_wrap(err, "config.json: .linux.%s", !strcmp(file, "uid_map") ? "uidMappings" : "gidMappings");
	return 0;
}

static int write_maps(pid_t pid, const struct oci_config *cfg, bool rootless, struct hull_err *err)
{
	const struct oci_linux *l = &cfg->linux_;
	char path[64];
	int r;

	if (rootless) {
		/* An unprivileged writer may only map its gid after denying setgroups. */
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		if ((r = hull_write_file(path, "deny", 4, err)) < 0 && r != -ENOENT)
			return r;
	}
	if ((r = write_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings, err)) < 0)
		return r;
	return write_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings, err);
}

static bool host_id_of_root(const struct oci_idmap *m, size_t n, uint32_t *host)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].container_id == 0 && m[i].size > 0) {
			*host = m[i].host_id;
			return true;
		}
	return false;
}

int hull_write_pid_file(const char *path, pid_t pid, struct hull_err *err)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

	if (hull_write_file_atomic(path, buf, (size_t)n, 0644, err) < 0)
		return hull_err_wrap(err, "--pid-file");
	return 0;
}

static char *state_for_hooks(const struct hull_container *c, enum hull_status st)
{
	return hull_container_state_json(c, st, false);
}

/* ---- the child ------------------------------------------------------------ */

static int join_namespaces(struct init_plan *p, struct hull_err *err)
{
	/* Joining from the host first works for namespaces the host user ns owns;
	 * whatever fails with EPERM is retried from inside the joined user ns. */
	bool pending[OCI_NS__COUNT] = { 0 };
	static const int order[] = { OCI_NS_IPC, OCI_NS_UTS, OCI_NS_NETWORK, OCI_NS_PID, OCI_NS_TIME,
				     OCI_NS_CGROUP, OCI_NS_MOUNT };

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		int t = order[i];
		if (p->join_fd[t] < 0)
			continue;
		if (setns(p->join_fd[t], 0) < 0) {
			if (errno != EPERM || p->join_fd[OCI_NS_USER] < 0)
				return hull_errf_sys(err, errno, "join the %s namespace", oci_ns_type_name(t));
			pending[t] = true;
		}
	}
	if (p->join_fd[OCI_NS_USER] >= 0 && setns(p->join_fd[OCI_NS_USER], CLONE_NEWUSER) < 0)
		return hull_errf_sys(err, errno, "join the user namespace");
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		int t = order[i];
		if (pending[t] && setns(p->join_fd[t], 0) < 0)
			return hull_errf_sys(err, errno, "join the %s namespace", oci_ns_type_name(t));
	}
	return 0;
}

static int write_time_offsets(const struct oci_linux *l, struct hull_err *err)
{
	char buf[128];
	size_t len = 0;

	if (l->has_monotonic_offset)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "monotonic %lld %u\n",
					(long long)l->monotonic_offset.secs, l->monotonic_offset.nanosecs);
	if (l->has_boottime_offset)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "boottime %lld %u\n",
					(long long)l->boottime_offset.secs, l->boottime_offset.nanosecs);
	if (!len)
		return 0;
	if (hull_write_file("/proc/self/timens_offsets", buf, len, err) < 0)
		return hull_err_wrap(err, "config.json: .linux.timeOffsets");
	return 0;
}

/* General path: join, unshare, and fork the init if a pid/time namespace
 * only applies to children.  Returns in the process that becomes the init. */
static void child_namespaces(struct init_plan *p)
{
	const struct oci_config *cfg = p->o->cfg;
	struct hull_err err = { 0 };
	struct sync_msg m;
	int rest = p->new_flags & ~(CLONE_NEWUSER | CLONE_NEWTIME);
	bool fork_needed;
	pid_t pid;

	if (join_namespaces(p, &err) < 0)
		sync_fail(p->sync_fd, &err);
	if (p->new_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0) {
			hull_errf_sys(&err, errno, "unshare the user namespace");
			sync_fail(p->sync_fd, &err);
		}
		sync_send(p->sync_fd, SYNC_USERNS, 0, NULL);
		if (sync_expect(p->sync_fd, SYNC_MAPS_DONE, &m, &err) < 0)
			_exit(1);
	}
	if (p->new_flags & CLONE_NEWTIME) {
		if (unshare(CLONE_NEWTIME) < 0) {
			hull_errf_sys(&err, errno, "unshare the time namespace");
			sync_fail(p->sync_fd, &err);
		}
		if (write_time_offsets(&cfg->linux_, &err) < 0)
			sync_fail(p->sync_fd, &err);
	}
	if (rest && unshare(rest) < 0) {
		hull_errf_sys(&err, errno, "unshare namespaces 0x%x", rest);
		sync_fail(p->sync_fd, &err);
	}
	fork_needed = (p->new_flags & (CLONE_NEWPID | CLONE_NEWTIME)) || p->join_fd[OCI_NS_PID] >= 0 ||
		      p->join_fd[OCI_NS_TIME] >= 0;
	if (!fork_needed)
		return;
	pid = spawn_clone(CLONE_PARENT, -1, NULL);
	if (pid < 0) {
		hull_errf_sys(&err, errno, "fork the container init");
		sync_fail(p->sync_fd, &err);
	}
	if (pid == 0)
		return;
	/* We are still in the runtime's pid namespace: pid is its view too. */
	sync_send(p->sync_fd, SYNC_PID, pid, NULL);
	_exit(0);
}

/* After the pivot: /proc is the container's.  Written through
 * rootfs_proc_open(), so a mount the image or a config entry placed over a
 * file below /proc/sys cannot take the write (CVE-2025-52881 class). */
static int apply_sysctl(const struct oci_linux *l, struct hull_err *err)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *v = l->sysctl[i].value;
		_cleanup_close_ int fd = -1;
		char *q;

		snprintf(path, sizeof(path), "sys/%s", l->sysctl[i].key);
		for (q = path + 4; *q; q++)
			if (*q == '.')
				*q = '/';
		fd = rootfs_proc_open(path, O_WRONLY | O_CLOEXEC, err);
		if (fd < 0 || hull_write_all(fd, v, strlen(v)) < 0) {
			if (fd >= 0)
				hull_errf_sys(err, errno, "write /proc/%s", path);
			return hull_err_wrap(err, "config.json: .linux.sysctl `%s`", l->sysctl[i].key);
		}
	}
	return 0;
}

/* Wait until `start` opens the fifo; then "0" tells it we are going on. */
static int wait_for_start_fifo(struct init_plan *p, int *fifo_w, struct hull_err *err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", p->fifo_fd);
	while ((*fifo_w = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		if (errno != EINTR)
			return hull_errf_sys(err, errno, "open %s", EXEC_FIFO);
	close(p->fifo_fd);
	p->fifo_fd = -1;
	if (hull_write_all(*fifo_w, "0", 1) < 0)
		return hull_errf_sys(err, errno, "write %s", EXEC_FIFO);
	return 0;
}

/* After start: errors go to whoever waits for the exec (start reads the
 * fifo; run reads the sync socket). */
__attribute__((noreturn)) static void init_fail_after_start(struct init_plan *p, int fifo_w, const struct hull_err *err)
{
	if (fifo_w >= 0) {
		dprintf(fifo_w, "%d:%s", err->code, err->msg);
		_exit(err->code == ENOENT ? 127 : err->code == EACCES ? 126 : 1);
	}
	sync_fail(p->sync_fd, err);
}

/* The seccomp listener path is unreachable after pivot_root; the O_PATH fd
 * opened by the runtime on the host still names the socket through /proc. */
int hull_send_seccomp_listener(int listener_fd, int notify_fd, const struct oci_config *cfg,
			       const struct hull_container *c, enum hull_status st, struct hull_err *err)
{
	_cleanup_free_ char *state = hull_container_state_json(c, st, false);
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", listener_fd);
	return sec_seccomp_send_listener(path, notify_fd, c->pid, cfg->linux_.seccomp.listener_metadata, state, err);
}

static int send_notify_fd(int fd, void *arg)
{
	struct init_plan *p = arg;
	const struct oci_config *cfg = p->o->cfg;
	struct hull_container hc = { .id = (char *)p->o->id, .bundle = (char *)p->o->bundle,
				     .rootfs = (char *)p->rootfs, .pid = p->host_pid,
				     .annotations = cfg->annotations, .n_annotations = cfg->n_annotations };
	struct hull_err err = { 0 };
	int r = hull_send_seccomp_listener(p->listener_fd, fd, cfg, &hc, HULL_STATUS_CREATING, &err);

	if (r < 0)
		hull_error("%s", err.msg);
	return r;
}

/* ---- idmapped mounts ---------------------------------------------------------
 * In a user namespace the init lacks the privilege over the source
 * filesystem that an idmapped mount needs: the runtime makes the detached
 * trees once the maps are written and hands them over (rootfs.h). */

static bool config_wants_idmap(const struct oci_config *cfg)
{
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct oci_mount *m = &cfg->mounts[i];
		if (m->n_uid_mappings || m->n_gid_mappings)
			return true;
		for (size_t k = 0; k < m->n_options; k++)
			if (!strncmp(m->options[k], "idmap", 5) || !strncmp(m->options[k], "ridmap", 6))
				return true;
	}
	return false;
}

static int send_idmapped_mounts(const struct init_plan *p, int sock, pid_t child, struct hull_err *err)
{
	const struct oci_config *cfg = p->o->cfg;
	struct rootfs_spec rs = { .cfg = cfg, .rootfs = p->rootfs, .bundle = p->o->bundle, .userns = true,
				  .console_slave_fd = -1 };
	_cleanup_free_ int *fds = calloc(cfg->n_mounts ? cfg->n_mounts : 1, sizeof(int));
	_cleanup_close_ int own_userns = -1;
	int userns = p->join_fd[OCI_NS_USER], pass[SYNC_MAX_FDS], r;
	char idx[SYNC_MAX_FDS * 6 + 1] = "", path[64];
	size_t n = 0, len = 0;

	if (!fds)
		return hull_errf(err, ENOMEM, "out of memory");
	if (userns < 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)child);
		if ((userns = own_userns = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return hull_errf_sys(err, errno, "open %s", path);
	}
	if ((r = rootfs_idmapped_mounts(&rs, userns, fds, err)) < 0)
		return r;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		if (fds[i] < 0)
			continue;
		if (n == SYNC_MAX_FDS) {
			r = hull_errf(err, E2BIG, "config.json: .mounts: more than %d idmapped mounts", SYNC_MAX_FDS);
			break;
		}
		pass[n++] = fds[i];
		len += (size_t)snprintf(idx + len, sizeof(idx) - len, "%s%zu", len ? "," : "", i);
	}
	if (r >= 0 && (r = sync_send_fds(sock, SYNC_IDMAP_FDS, pass, n, idx)) < 0)
		hull_errf_sys(err, -r, "send the idmapped mounts");
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

static int recv_idmapped_mounts(struct init_plan *p, int **out, struct hull_err *err)
{
	size_t n_mounts = p->o->cfg->n_mounts, n = 0, k = 0;
	int fds[SYNC_MAX_FDS], *map, r;
	struct sync_msg m;
	char *s, *end;

	if ((r = sync_expect_fds(p->sync_fd, SYNC_IDMAP_FDS, &m, fds, &n, err)) < 0)
		goto drop;
	map = malloc((n_mounts ? n_mounts : 1) * sizeof(int));
	if (!map) {
		r = hull_errf(err, ENOMEM, "out of memory");
		goto drop;
	}
	for (size_t i = 0; i < n_mounts; i++)
		map[i] = -1;
	for (s = m.text; k < n && *s; s = *end ? end + 1 : end, k++) {
		unsigned long i = strtoul(s, &end, 10);
		if (end == s || i >= n_mounts || map[i] >= 0)
			break;
		map[i] = fds[k];
	}
	if (k != n) {
		free(map);
		r = hull_errf(err, EPROTO, "bad idmapped mount list from the runtime");
		goto drop;
	}
	*out = map;
	return 0;
drop:
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return r;
}

__attribute__((noreturn)) static void container_init(struct init_plan *p)
{
	const struct launch_opts *o = p->o;
	const struct oci_config *cfg = o->cfg;
	struct hull_err err = { 0 };
	struct sync_msg m;
	struct rootfs_spec rs = {
		.cfg = cfg,
		.rootfs = p->rootfs,
		.bundle = o->bundle,
		.no_pivot = o->no_pivot,
		.userns = p->userns,
		.cgroup = p->cg,
		.cgroupns = p->cgroupns,
		.console_slave_fd = -1,
	};
	struct hull_handler_ctx hctx = {
		.cfg = cfg, .proc = &cfg->process, .rootfs = p->rootfs, .bundle = o->bundle, .id = o->id,
	};
	struct sec_process_opts so = {
		.proc = &cfg->process,
		.seccomp = &cfg->linux_.seccomp,
		.personality = &cfg->linux_.personality,
		.preserve_fds = p->preserve_fds,
		.in_userns = p->userns,
		.send_notify_fd = send_notify_fd,
		.arg = p,
	};
	int fifo_w = -1, r, *idmapped = NULL;
	pid_t host_pid = 0;

	if (p->userns) {
		/* Become the namespace's root where it is mapped (mounts, chown). */
		if (setresgid(0, 0, 0) < 0 && errno != EINVAL)
			goto fail_errno_setgid;
		if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
			goto fail_errno_setuid;
	}
	if (setsid() < 0 && errno != EPERM) {
		hull_errf_sys(&err, errno, "setsid");
		goto fail;
	}
	if (!o->no_new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
	    errno != ENOSYS && errno != EACCES && errno != EPERM && errno != EDQUOT) {
		hull_errf_sys(&err, errno, "create a session keyring");
		goto fail;
	}
	if (p->idmap && recv_idmapped_mounts(p, &idmapped, &err) < 0)
		goto fail;
	rs.idmapped_fds = idmapped;
	r = p->new_mountns ? rootfs_prepare(&rs, &err) : 0;
	for (size_t i = 0; idmapped && i < cfg->n_mounts; i++)
		if (idmapped[i] >= 0)
			close(idmapped[i]);
	free(idmapped);
	rs.idmapped_fds = idmapped = NULL;
	if (r < 0)
		goto fail;
	/* Nothing below may run outside the container's cgroup (hooks, the process). */
	if (p->late_placement && sync_expect(p->sync_fd, SYNC_PLACED, &m, &err) < 0)
		_exit(1);
	/* The parent runs prestart/createRuntime now, and tells us our host pid
	 * for the state the in-container hooks get. */
	if (cfg->hooks[OCI_HOOK_PRESTART].n || cfg->hooks[OCI_HOOK_CREATE_RUNTIME].n ||
	    cfg->hooks[OCI_HOOK_CREATE_CONTAINER].n || cfg->hooks[OCI_HOOK_START_CONTAINER].n ||
	    p->listener_fd >= 0 || cfg->linux_.n_net_devices) {
		sync_send(p->sync_fd, SYNC_HOOKS, 0, NULL);
		if (sync_expect(p->sync_fd, SYNC_HOOKS_DONE, &m, &err) < 0)
			_exit(1);
		host_pid = p->host_pid = m.val;
	}
	if (cfg->hooks[OCI_HOOK_CREATE_CONTAINER].n) {
		struct hull_container hc = { .id = (char *)o->id, .bundle = (char *)o->bundle,
					     .rootfs = (char *)p->rootfs, .pid = host_pid };
		_cleanup_free_ char *st = NULL;
		hc.annotations = cfg->annotations;
		hc.n_annotations = cfg->n_annotations;
		st = state_for_hooks(&hc, HULL_STATUS_CREATING);
		if (hull_hooks_run(cfg, OCI_HOOK_CREATE_CONTAINER, st, &err) < 0)
			goto fail;
	}
	if (o->handler->prepare && o->handler->prepare(&hctx, &err) < 0)
		goto fail;
	if (p->new_mountns && rootfs_pivot(&rs, &err) < 0)
		goto fail;
	if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0) {
		hull_errf_sys(&err, errno, "config.json: .hostname `%s`", cfg->hostname);
		goto fail;
	}
	if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0) {
		hull_errf_sys(&err, errno, "config.json: .domainname `%s`", cfg->domainname);
		goto fail;
	}
	if (apply_sysctl(&cfg->linux_, &err) < 0)
		goto fail;
	if (cfg->process.terminal) {
		if (hull_console_setup(p->console_fd, cfg->process.has_console_size ? cfg->process.console_height : 0,
				       cfg->process.has_console_size ? cfg->process.console_width : 0,
				       p->new_mountns, &err) < 0)
			goto fail;
		close(p->console_fd);
		p->console_fd = -1;
	}
	if (p->new_mountns && rootfs_finalize(&rs, &err) < 0)
		goto fail;
	sync_send(p->sync_fd, SYNC_READY, 0, NULL);

	if (o->mode == LAUNCH_CREATE) {
		if (wait_for_start_fifo(p, &fifo_w, &err) < 0)
			init_fail_after_start(p, fifo_w, &err);
	} else if (sync_expect(p->sync_fd, SYNC_START, &m, &err) < 0) {
		_exit(1);
	}
	if (cfg->hooks[OCI_HOOK_START_CONTAINER].n) {
		struct hull_container hc = { .id = (char *)o->id, .bundle = (char *)o->bundle,
					     .rootfs = (char *)p->rootfs, .pid = host_pid };
		_cleanup_free_ char *st = NULL;
		hc.annotations = cfg->annotations;
		hc.n_annotations = cfg->n_annotations;
		st = state_for_hooks(&hc, HULL_STATUS_CREATED);
		if (hull_hooks_run(cfg, OCI_HOOK_START_CONTAINER, st, &err) < 0)
			init_fail_after_start(p, fifo_w, &err);
	}
	if (hull_mempolicy_apply(&cfg->linux_.memory_policy, &err) < 0)
		init_fail_after_start(p, fifo_w, &err);
	spawn_reset_signals();
	if (!o->handler->guest_applies_process && sec_finalize_process(&so, &err) < 0)
		init_fail_after_start(p, fifo_w, &err);
	o->handler->exec(&hctx, &err);
	init_fail_after_start(p, fifo_w, &err);

fail_errno_setgid:
	hull_errf_sys(&err, errno, "setresgid(0) in the user namespace");
	goto fail;
fail_errno_setuid:
	hull_errf_sys(&err, errno, "setresuid(0) in the user namespace");
fail:
	sync_fail(p->sync_fd, &err);
}

__attribute__((noreturn)) static void child_main(struct init_plan *p, int parent_end)
{
	struct hull_err err = { 0 };
	struct sync_msg m;

	close(parent_end);
	/* flock belongs to the open file: a copy here would keep `create`'s lock. */
	close(p->lock_fd);
	if (sync_expect(p->sync_fd, SYNC_GO, &m, &err) < 0)
		_exit(1);
	/* Before anything else, so the rootfs setup (mknod included) already
	 * runs under the container's limits. */
	if (p->self_join && hull_cgroup_self_join(p->selfjoin_fd, &p->n_selfjoin, &err) < 0)
		sync_fail(p->sync_fd, &err);
	if (!p->fast)
		child_namespaces(p);
	else if (p->defer_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
		hull_errf_sys(&err, errno, "unshare the cgroup namespace");
		sync_fail(p->sync_fd, &err);
	}
	container_init(p);
}

/* ---- the parent ----------------------------------------------------------- */

static void plan_close(struct init_plan *p)
{
	for (int i = 0; i < OCI_NS__COUNT; i++)
		if (p->join_fd[i] >= 0) {
			close(p->join_fd[i]);
			p->join_fd[i] = -1;
		}
	if (p->fifo_fd >= 0)
		close(p->fifo_fd);
	if (p->console_fd >= 0)
		close(p->console_fd);
	if (p->listener_fd >= 0)
		close(p->listener_fd);
	p->fifo_fd = p->console_fd = p->listener_fd = -1;
	hull_cgroup_self_join_close(p->selfjoin_fd, &p->n_selfjoin);
}

static int resolve_rootfs(const struct launch_opts *o, char **out, struct hull_err *err)
{
	_cleanup_free_ char *joined = NULL;
	const char *path = o->cfg->root.path;
	char *real;
	struct stat st;

	if (path[0] != '/') {
		if (asprintf(&joined, "%s/%s", o->bundle, path) < 0)
			return hull_errf_sys(err, ENOMEM, "rootfs path");
		path = joined;
	}
	real = realpath(path, NULL);
	if (!real)
		return hull_errf_sys(err, errno, "config.json: .root.path `%s`", o->cfg->root.path);
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(real);
		return hull_errf(err, ENOTDIR, "config.json: .root.path `%s`: not a directory", o->cfg->root.path);
	}
	*out = real;
	return 0;
}

static int make_cgroup(const struct launch_opts *o, struct hull_cgroup **cg, struct hull_err *err)
{
	const struct oci_linux *l = &o->cfg->linux_;
	int r = hull_cgroup_create(l->cgroups_path, o->id, l->resources.present ? &l->resources : NULL,
				   o->g->systemd_cgroup, cg, err);

	if (r < 0 && o->g->rootless && (r == -EACCES || r == -EPERM || r == -EROFS)) {
		/* Rootless without a delegated cgroup: run unconfined, like runc. */
		hull_debug("rootless: no cgroup (%s)", err->msg);
		hull_err_clear(err);
		*cg = NULL;
		return 0;
	}
	return r;
}

/* v1 and hybrid: the child moves itself into the v1 hierarchies (no RCU
 * grace period, see cgroups/selfjoin.c) and clone3 puts it into the unified
 * tree.  Falls back to the parent's cgroup.procs writes when that cannot be
 * set up. */
static void plan_self_join(struct init_plan *p, struct hull_cgroup *cg, int *cgroup_fd)
{
	struct hull_err e = { 0 };

	if (hull_cgroup_layout(cg) == HULL_CGROUP_HYBRID && (*cgroup_fd = hull_cgroup_v2_dirfd(cg)) < 0)
		return;
	if (hull_cgroup_self_join_open(cg, p->selfjoin_fd, ARRAY_SIZE(p->selfjoin_fd), &p->n_selfjoin, &e) < 0) {
		hull_debug("cgroup self-join unavailable: %s", e.msg);
		*cgroup_fd = -1;
		return;
	}
	p->self_join = true;
}

static void kill_and_reap(pid_t pid, bool ours)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	if (ours)
		spawn_wait(pid);
}

int launch_container(const struct launch_opts *o, struct launch_result *res, struct hull_err *err)
{
	struct init_plan p = { .o = o, .sync_fd = -1, .fifo_fd = -1, .console_fd = -1, .listener_fd = -1,
			       .preserve_fds = o->preserve_fds };
	_cleanup_free_ char *rootfs = NULL;
	int sv[2] = { -1, -1 }, proxy_sv[2] = { -1, -1 };
	int cgroup_fd = -1, r;
	bool placed = false, rootless = o->g->rootless;
	pid_t child = -1, init_pid = -1;
	struct hull_container *c = NULL;
	struct sync_msg m;
	char path[PATH_MAX];
	uint32_t root_uid = 0, root_gid = 0;

	*res = (struct launch_result){ .sync_fd = -1, .console_master = -1 };
	for (int i = 0; i < OCI_NS__COUNT; i++)
		p.join_fd[i] = -1;
	if ((r = validate_config(o, &p, err)) < 0)
		goto out_plan;
	if ((r = resolve_rootfs(o, &rootfs, err)) < 0)
		goto out_plan;
	p.rootfs = rootfs;
	p.idmap = p.userns && p.new_mountns && config_wants_idmap(o->cfg);
	if (p.userns) {
		host_id_of_root(o->cfg->linux_.uid_mappings, o->cfg->linux_.n_uid_mappings, &root_uid);
		host_id_of_root(o->cfg->linux_.gid_mappings, o->cfg->linux_.n_gid_mappings, &root_gid);
	}

	if ((r = hull_container_new(o->g->root, o->id, &c, err)) < 0)
		goto out_plan;
	res->c = c;
	p.lock_fd = c->dir_fd;
	if ((r = make_cgroup(o, &res->cg, err)) < 0)
		goto fail;
	p.cg = res->cg;
	if (o->mode == LAUNCH_CREATE) {
		if (mkfifoat(c->dir_fd, EXEC_FIFO, 0600) < 0) {
			r = hull_errf_sys(err, errno, "mkfifo %s/%s", c->dir, EXEC_FIFO);
			goto fail;
		}
		if (p.userns && fchownat(c->dir_fd, EXEC_FIFO, root_uid, root_gid, 0) < 0) {
			r = hull_errf_sys(err, errno, "chown %s/%s", c->dir, EXEC_FIFO);
			goto fail;
		}
		p.fifo_fd = openat(c->dir_fd, EXEC_FIFO, O_PATH | O_CLOEXEC);
		if (p.fifo_fd < 0) {
			r = hull_errf_sys(err, errno, "open %s/%s", c->dir, EXEC_FIFO);
			goto fail;
		}
	}
	if (o->cfg->process.terminal) {
		if (o->console_socket) {
			if ((p.console_fd = hull_console_connect(o->console_socket, err)) < 0) {
				r = p.console_fd;
				goto fail;
			}
		} else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, proxy_sv) < 0) {
			r = hull_errf_sys(err, errno, "socketpair");
			goto fail;
		} else {
			p.console_fd = proxy_sv[1];
		}
	}
	if (o->cfg->linux_.seccomp.present && o->cfg->linux_.seccomp.listener_path) {
		p.listener_fd = open(o->cfg->linux_.seccomp.listener_path, O_PATH | O_CLOEXEC);
		if (p.listener_fd < 0) {
			r = hull_errf_sys(err, errno, "config.json: .linux.seccomp.listenerPath `%s`",
					  o->cfg->linux_.seccomp.listener_path);
			goto fail;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = hull_errf_sys(err, errno, "socketpair");
		goto fail;
	}
	p.sync_fd = sv[1];

	/* The fast path: one clone3 creates every namespace. */
	p.fast = !o->cfg->linux_.has_time_offsets;
	for (int i = 0; i < OCI_NS__COUNT; i++)
		if (p.join_fd[i] >= 0)
			p.fast = false;
	p.clone_flags = p.new_flags;
	if (res->cg && hull_cgroup_layout(res->cg) == HULL_CGROUP_V2)
		cgroup_fd = hull_cgroup_v2_dirfd(res->cg);
	else if (res->cg && p.fast && !rootless)
		plan_self_join(&p, res->cg, &cgroup_fd);
	if ((p.new_flags & CLONE_NEWCGROUP) && (cgroup_fd < 0 || p.self_join)) {
		p.clone_flags &= ~CLONE_NEWCGROUP;
		p.defer_cgroupns = true;
	}
	/* Moving a task between v1 cgroups by pid waits for an RCU grace period
	 * (the cgroup threadgroup rwsem); let the child build its rootfs meanwhile. */
	p.late_placement = p.fast && res->cg && !p.defer_cgroupns && !p.self_join;
	child = spawn_clone(p.fast ? (uint64_t)p.clone_flags : 0, cgroup_fd, &placed);
	if (child < 0) {
		r = hull_errf_sys(err, errno, "clone the container init");
		goto fail;
	}
	if (child == 0)
		child_main(&p, sv[0]);
	close(sv[1]);
	p.sync_fd = -1;
	if (proxy_sv[1] >= 0) {
		close(proxy_sv[1]);
		proxy_sv[1] = -1;
		p.console_fd = -1;
	}
	init_pid = child;
	hull_cgroup_self_join_close(p.selfjoin_fd, &p.n_selfjoin);

	/* (self_join on hybrid relies on CLONE_INTO_CGROUP for the unified tree:
	 * without clone3 the parent places the child everywhere.) */
	if (res->cg && !placed && !p.late_placement && !(p.self_join && cgroup_fd < 0) &&
	    (r = hull_cgroup_enter(res->cg, child, err)) < 0)
		goto fail;
	if (p.fast && (p.new_flags & CLONE_NEWUSER) && (r = write_maps(child, o->cfg, rootless, err)) < 0)
		goto fail;
	if ((r = sync_send(sv[0], SYNC_GO, 0, NULL)) < 0) {
		r = hull_errf_sys(err, -r, "start the container init");
		goto fail;
	}
	/* A user ns the child still has to make gets its maps (and the trees)
	 * on SYNC_USERNS below. */
	if (p.idmap && !(!p.fast && (p.new_flags & CLONE_NEWUSER)) &&
	    (r = send_idmapped_mounts(&p, sv[0], child, err)) < 0)
		goto fail;
	if (p.late_placement) {
		if (!placed && (r = hull_cgroup_enter(res->cg, child, err)) < 0)
			goto fail;
		sync_send(sv[0], SYNC_PLACED, 0, NULL);
	}
	for (;;) {
		if ((r = sync_recv(sv[0], &m, err)) < 0)
			goto fail;
		if (m.type == SYNC_READY)
			break;
		switch (m.type) {
		case SYNC_USERNS:
			if ((r = write_maps(child, o->cfg, rootless, err)) < 0)
				goto fail;
			sync_send(sv[0], SYNC_MAPS_DONE, 0, NULL);
			if (p.idmap && (r = send_idmapped_mounts(&p, sv[0], child, err)) < 0)
				goto fail;
			break;
		case SYNC_PID:
			init_pid = m.val;
			spawn_wait(child);     /* the intermediate exits right after */
			child = -1;
			break;
		case SYNC_HOOKS: {
			_cleanup_free_ char *st = NULL;
			c->pid = init_pid;
			c->bundle = strdup(o->bundle);
			c->rootfs = strdup(rootfs);
			st = state_for_hooks(c, HULL_STATUS_CREATING);
			/* linux.netDevices: the init's netns exists and runs nothing yet;
			 * before the hooks, so they see the devices too */
			if ((r = netns_netdevs_move(init_pid, o->cfg->linux_.net_devices,
						    o->cfg->linux_.n_net_devices, err)) < 0)
				goto fail;
			if ((r = hull_hooks_run(o->cfg, OCI_HOOK_PRESTART, st, err)) < 0 ||
			    (r = hull_hooks_run(o->cfg, OCI_HOOK_CREATE_RUNTIME, st, err)) < 0)
				goto fail;
			sync_send(sv[0], SYNC_HOOKS_DONE, init_pid, NULL);
			break;
		}
		case SYNC_ERROR:
			r = hull_errf(err, m.val > 0 ? m.val : EIO, "%s", m.text);
			goto fail;
		default:
			r = hull_errf(err, EPROTO, "unexpected message %u from the container init", m.type);
			goto fail;
		}
	}

	if (proxy_sv[0] >= 0) {
		if ((res->console_master = hull_recv_fd(proxy_sv[0], err)) < 0) {
			r = res->console_master;
			goto fail;
		}
	}
	res->pid = init_pid;
	c->pid = init_pid;
	c->pid_start = hull_proc_start_time(init_pid, NULL);
	free(c->bundle);
	free(c->rootfs);
	c->bundle = strdup(o->bundle);
	c->rootfs = steal_ptr(rootfs);
	c->cgroup_path = res->cg ? strdup(hull_cgroup_path(res->cg)) : NULL;
	c->ns_flags = p.ns_flags;
	c->userns = p.userns;
	c->terminal = o->cfg->process.terminal;
	c->systemd_cgroup = o->g->systemd_cgroup;
	c->no_new_keyring = o->no_new_keyring;
	c->hooks_mask = hull_hooks_mask(o->cfg);
	c->handler = strdup(o->handler->name);
	c->vm = strcmp(o->handler->name, "container") != 0;
	if (o->cfg->n_annotations) {
		c->annotations = calloc(o->cfg->n_annotations, sizeof(*c->annotations));
		for (size_t i = 0; c->annotations && i < o->cfg->n_annotations; i++) {
			c->annotations[i].key = strdup(o->cfg->annotations[i].key);
			c->annotations[i].value = strdup(o->cfg->annotations[i].value);
			c->n_annotations++;
		}
	}
	if (!c->bundle || !c->handler) {
		r = hull_errf_sys(err, ENOMEM, "state");
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/config.json", c->dir);
	if (o->config_text && (r = hull_write_file_atomic(path, o->config_text, o->config_len, 0600, err)) < 0)
		goto fail;
	if ((r = hull_container_save(c, err)) < 0)
		goto fail;
	if (o->pid_file && (r = hull_write_pid_file(o->pid_file, init_pid, err)) < 0)
		goto fail;
	if (o->mode == LAUNCH_RUN)
		res->sync_fd = steal_fd(sv[0]);
	else
		close(sv[0]);
	if (proxy_sv[0] >= 0)
		close(proxy_sv[0]);
	plan_close(&p);
	return 0;

fail:
	if (child > 0 && child != init_pid)
		kill_and_reap(child, true);
	kill_and_reap(init_pid, init_pid > 0);
	/* runtime.md lifecycle: a failed prestart/createRuntime/createContainer
	 * hook (or any later create step) stops the container and continues with
	 * delete, whose last step runs the poststop hooks. */
	if (init_pid > 0 && o->cfg->hooks[OCI_HOOK_POSTSTOP].n) {
		c->pid = init_pid;
		_cleanup_free_ char *st = state_for_hooks(c, HULL_STATUS_STOPPED);
		hull_hooks_run_logged(o->cfg, OCI_HOOK_POSTSTOP, st);
	}
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (proxy_sv[0] >= 0)
		close(proxy_sv[0]);
	if (proxy_sv[1] >= 0)
		close(proxy_sv[1]);
	res->pid = 0;
	res->sync_fd = -1;
	launch_abort(res);
out_plan:
	plan_close(&p);
	return r < 0 ? r : -EIO;
}

int launch_start(struct launch_result *res, struct hull_err *err)
{
	struct sync_msg m;
	int r;

	if ((r = sync_send(res->sync_fd, SYNC_START, 0, NULL)) < 0)
		return hull_errf_sys(err, -r, "start the container");
	/* The socket is close-on-exec in the init: EOF means execve happened. */
	for (;;) {
		r = sync_recv(res->sync_fd, &m, err);
		if (r == -EPIPE) {
			hull_err_clear(err);
			break;
		}
		if (r < 0)
			return r;
		if (m.type == SYNC_ERROR)
			return hull_errf(err, m.val > 0 ? m.val : EIO, "%s", m.text);
	}
	close(res->sync_fd);
	res->sync_fd = -1;
	return 0;
}

void launch_abort(struct launch_result *res)
{
	struct hull_err err = { 0 };

	if (res->pid > 0)
		kill(res->pid, SIGKILL);
	if (res->cg) {
		if (hull_cgroup_destroy(res->cg, true, &err) < 0)
			hull_warn("cleanup: %s", err.msg);
		hull_cgroup_free(res->cg);
		res->cg = NULL;
	}
	if (res->c) {
		hull_container_remove(res->c, &err);
		hull_container_free(res->c);
		res->c = NULL;
	}
	if (res->sync_fd >= 0)
		close(res->sync_fd);
	if (res->console_master >= 0)
		close(res->console_master);
	res->sync_fd = res->console_master = -1;
}

void launch_result_free(struct launch_result *res)
{
	if (res->cg)
		hull_cgroup_free(res->cg);
	hull_container_free(res->c);
	if (res->sync_fd >= 0)
		close(res->sync_fd);
	if (res->console_master >= 0)
		close(res->console_master);
	*res = (struct launch_result){ .sync_fd = -1, .console_master = -1 };
}

/* ---- teardown -------------------------------------------------------------- */

int hull_container_config(const struct hull_container *c, struct oci_config **out, struct hull_err *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/config.json", c->dir);
	return oci_config_load(path, out, err);
}

static void wait_gone(const struct hull_container *c, int ms)
{
	struct hull_err err = { 0 };
	int fd = hull_container_pidfd(c, &err);

	if (fd < 0)
		return;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (poll(&p, 1, ms) < 0 && errno == EINTR)
		;
	close(fd);
}

int hull_container_destroy(struct hull_container *c, bool force, struct hull_err *err)
{
	enum hull_status st = hull_container_status(c);
	struct oci_config *cfg = NULL;
	struct hull_cgroup *cg = NULL;
	int r;

	if ((st == HULL_STATUS_RUNNING || st == HULL_STATUS_PAUSED) && !force)
		return hull_errf(err, EBUSY, "cannot delete a %s container (stop it first, or use --force)",
				 hull_status_name(st));
	if (c->hooks_mask & (1u << OCI_HOOK_POSTSTOP)) {
		if (hull_container_config(c, &cfg, err) < 0) {
			hull_warn("%s: poststop hooks: %s", c->id, err->msg);
			hull_err_clear(err);
		}
	}
	if ((r = hull_container_cgroup(c, &cg, err)) < 0) {
		hull_warn("%s: %s", c->id, err->msg);
		hull_err_clear(err);
	}
	if (st != HULL_STATUS_STOPPED) {
		if (st == HULL_STATUS_PAUSED && cg)
			hull_cgroup_freeze(cg, false, err);
		hull_container_kill(c, SIGKILL, false, err);
		hull_err_clear(err);
		wait_gone(c, 2000);
	}
	if (cg) {
		if ((r = hull_cgroup_destroy(cg, true, err)) < 0) {
			hull_cgroup_free(cg);
			oci_config_free(cfg);
			return hull_err_wrap(err, "remove cgroup");
		}
		hull_cgroup_free(cg);
	}
	if (cfg) {
		_cleanup_free_ char *sj = hull_container_state_json(c, HULL_STATUS_STOPPED, false);
		hull_hooks_run_logged(cfg, OCI_HOOK_POSTSTOP, sj);
		oci_config_free(cfg);
	}
	return hull_container_remove(c, err);
}
