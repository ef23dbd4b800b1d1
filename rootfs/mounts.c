/* mounts.c — the `mounts` array of config.json, in order. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "rootfs/internal.h"
#include "rootfs/safepath.h"

#define COPYUP_MAX_DEPTH 64

static bool is_type(const struct oci_mount *m, const char *t)
{
	return m->type && !strcmp(m->type, t);
}

/* proc and sysfs decide where the runtime later reads and writes kernel
 * state (/proc/self/attr, /proc/sys…); an image that turns /proc into a
 * symlink must not get them mounted elsewhere (CVE-2019-16884 class). */
static bool needs_symlink_free_dest(const struct oci_mount *m)
{
	return is_type(m, "proc") || is_type(m, "sysfs");
}

static int open_dest_dir(struct rootfs_ctx *c, const struct oci_mount *m, const char *dest, struct hull_err *err)
{
	unsigned extra = needs_symlink_free_dest(m) ? SAFEPATH_NO_SYMLINKS : 0;
	int fd = safepath_open(c->root_fd, dest, O_PATH | O_DIRECTORY, extra, err);

	if (fd == -ENOENT) {
		fd = safepath_mkdir_all(c->root_fd, dest, 0755, err);
		if (fd < 0)
			return fd;
		if (extra) {
			/* created through a symlinked parent? check again */
			close(fd);
			fd = safepath_open(c->root_fd, dest, O_PATH | O_DIRECTORY, extra, err);
		}
	}
	if (fd == -ELOOP && extra)
		return hull_errf(err, ELOOP, "refusing to mount %s on `%s`: the path contains a symlink",
				 m->type, dest);
	return fd;
}

/* A throwaway user namespace carrying the mount's own uid/gid mappings, for
 * MOUNT_ATTR_IDMAP.  The child only exists to own the namespace. */
static int write_idmap(pid_t pid, const char *file, const struct oci_idmap *map, size_t n, struct hull_err *err)
{
	char path[64], buf[4096];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
				 map[i].container_id, map[i].host_id, map[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return hull_errf(err, E2BIG, "too many id mappings");
		len += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return hull_write_file(path, buf, len, err);
}

/* The child's pid as the host's /proc knows it.  The init runs in a new pid
 * namespace while /proc is still the host's, so the pid clone returns would
 * name a different process there; the pidfd's fdinfo, read through that
 * same /proc, gives the right one. */
static int host_pid_of(int pidfd, pid_t *out, struct hull_err *err)
{
	char path[64], *buf = NULL, *p;
	int r;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	r = hull_read_file(path, 0, &buf, NULL, err);
	if (r < 0)
		return r;
	p = strstr(buf, "\nPid:");
	if (!p || sscanf(p + 5, "%d", out) != 1 || *out <= 0) {
		free(buf);
		return hull_errf(err, ESRCH, "%s: no Pid line", path);
	}
	free(buf);
	return 0;
}

static int idmap_userns(const struct oci_mount *m, struct hull_err *err)
{
	char path[64];
	int fd = -1, pidfd = -1, r, status;
	pid_t pid, hpid = 0;

	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, NULL);
	if (pid < 0)
		return hull_errf_sys(err, errno, "clone user namespace for idmap");
	if (pid == 0) {
		pause();
		_exit(0);
	}
	r = host_pid_of(pidfd, &hpid, err);
	if (r == 0)
		r = write_idmap(hpid, "uid_map", m->uid_mappings, m->n_uid_mappings, err);
	if (r == 0)
		r = write_idmap(hpid, "gid_map", m->gid_mappings, m->n_gid_mappings, err);
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)hpid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = hull_errf_sys(err, errno, "open `%s`", path);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(pidfd);
	return r < 0 ? r : fd;
}

static int mount_userns_fd(struct rootfs_ctx *c, const struct oci_mount *m, int container_userns_fd,
			   struct hull_err *err)
{
	if (m->n_uid_mappings || m->n_gid_mappings) {
		if (!m->n_uid_mappings || !m->n_gid_mappings)
			return hull_errf(err, EINVAL, "uidMappings and gidMappings must be given together");
		return idmap_userns(m, err);
	}
	if (container_userns_fd >= 0) {
		int fd = fcntl(container_userns_fd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? hull_errf_sys(err, errno, "user namespace fd") : fd;
	}
	if (!c->s->userns)
		return hull_errf(err, EINVAL, "idmap without uidMappings/gidMappings needs a user namespace");
	int fd = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hull_errf_sys(err, errno, "open /proc/self/ns/user");
	return fd;
}

static int open_bind_source(struct rootfs_ctx *c, const char *source, struct hull_err *err)
{
	char path[PATH_MAX], clean[PATH_MAX], root[PATH_MAX];
	size_t rl;
	int fd;

	if (!source || !*source)
		return hull_errf(err, EINVAL, "bind mount without a source");
	if (source[0] != '/' && c->s->bundle) {
		if (snprintf(path, sizeof(path), "%s/%s", c->s->bundle, source) >= (int)sizeof(path))
			return hull_errf(err, ENAMETOOLONG, "source `%s`", source);
		source = path;
	}
	/* A source inside the rootfs is image content: its symlinks must be
	 * resolved inside the rootfs, or an image could have the host's
	 * /etc/shadow bound in by naming it through a symlink. */
	if (source[0] == '/' && safepath_clean(source, clean, sizeof(clean)) == 0 &&
	    safepath_clean(c->s->rootfs, root, sizeof(root)) == 0) {
		rl = strlen(root);
		if (!strncmp(clean, root, rl) && (clean[rl] == '/' || clean[rl] == '\0'))
			return safepath_open(c->root_fd, clean + rl, O_PATH, 0, err);
	}
	/* Elsewhere the source is on the host side and named by the (trusted)
	 * config: symlinks there are the user's choice, as with runc. */
	fd = open(source, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return hull_errf_sys(err, errno, "source `%s`", source);
	return fd;
}

/* Nothing but procfs itself may be mounted on /proc, and only a few
 * read-only-ish files below it may be overlaid (what lxcfs needs): a mount
 * over /proc/self/attr or /proc/sys/kernel/core_pattern would redirect what
 * the runtime or the kernel write there (CVE-2019-16884 class). */
static bool proc_dest_allowed(const struct oci_mount *m, const char *dest)
{
	static const char *const overlayable[] = {
		"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
		"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev",
		"/proc/sys/kernel/ns_last_pid",
	};

	if (strcmp(dest, "/proc") && strncmp(dest, "/proc/", 6))
		return true;
	if (!strcmp(dest, "/proc"))
		return is_type(m, "proc");
	for (size_t i = 0; i < ARRAY_SIZE(overlayable); i++)
		if (!strcmp(dest, overlayable[i]))
			return true;
	return false;
}

/* The name test above is not enough: an image symlink (/myproc -> /proc)
 * reaches procfs under another name (CVE-2025-52881 class).  Whatever the
 * destination resolved to, if it is on procfs it must have been reached by
 * an allowed name and without symlinks. */
static int check_procfs_target(struct rootfs_ctx *c, const struct oci_mount *m, const char *dest, int dst,
			       struct hull_err *err)
{
	struct statfs sf;
	int fd;

	if (fstatfs(dst, &sf) < 0)
		return hull_errf_sys(err, errno, "statfs `%s`", dest);
	if (sf.f_type != PROC_SUPER_MAGIC)
		return 0;
	if (!proc_dest_allowed(m, dest))
		return hull_errf(err, EPERM, "`%s` resolves into procfs; only a few files there may be overlaid", dest);
	fd = safepath_open(c->root_fd, dest, O_PATH, SAFEPATH_NO_SYMLINKS, NULL);
	if (fd < 0)
		return hull_errf(err, EPERM, "`%s` reaches procfs through a symlink", dest);
	close(fd);
	return 0;
}

static int mount_bind(struct rootfs_ctx *c, size_t i, const struct oci_mount *m, const char *dest,
		      const struct mount_opts *o, struct hull_err *err)
{
	_cleanup_close_ int src = -1, dst = -1, userns = -1;
	int premade = c->s->idmapped_fds ? c->s->idmapped_fds[i] : -1;
	struct stat st;
	int r;

	if (premade < 0) {
		src = open_bind_source(c, m->source, err);
		if (src < 0)
			return src;
	} else {
		src = fcntl(premade, F_DUPFD_CLOEXEC, 3);
		if (src < 0)
			return hull_errf_sys(err, errno, "idmapped mount fd");
	}
	if (fstat(src, &st) < 0)
		return hull_errf_sys(err, errno, "stat source `%s`", m->source);
	if (S_ISDIR(st.st_mode))
		dst = safepath_mkdir_all(c->root_fd, dest, 0755, err);
	else
		dst = safepath_mkfile(c->root_fd, dest, 0644, err);
	if (dst < 0)
		return dst;
	r = check_procfs_target(c, m, dest, dst, err);
	if (r < 0)
		return r;
	if (premade >= 0)
		return rootfs_attach_tree(src, dst, o, err);
	if (o->idmap || m->n_uid_mappings || m->n_gid_mappings) {
		userns = mount_userns_fd(c, m, -1, err);
		if (userns < 0)
			return userns;
	}
	return rootfs_bind_fd(src, dst, o, o->recursive, userns, err);
}

static int copy_file(int sfd, int ddir, const char *name, const struct stat *st)
{
	_cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return -errno;
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
	if (out < 0)
		return -errno;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		int r = hull_write_all(out, buf, (size_t)n);
		if (r < 0)
			return r;
	}
	return n < 0 ? -errno : 0;
}

/* tmpcopyup: what the image had at the mount point shows through on the new
 * tmpfs.  Never follows symlinks: they are copied as symlinks. */
static int copy_tree(int sdir, int ddir, int depth)
{
	DIR *d;
	struct dirent *e;
	int r = 0, dup_fd;

	if (depth > COPYUP_MAX_DEPTH)
		return -ELOOP;
	dup_fd = openat(sdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return -errno;
	}
	while (r == 0 && (e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(sdir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int s2 = -1, d2 = -1;
			if (mkdirat(ddir, e->d_name, st.st_mode & 07777) < 0) {
				r = -errno;
				break;
			}
			s2 = openat(sdir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			d2 = openat(ddir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0 || d2 < 0) {
				r = -errno;
				break;
			}
			r = copy_tree(s2, d2, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			r = copy_file(sdir, ddir, e->d_name, &st);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(sdir, e->d_name, target, sizeof(target) - 1);
			if (n < 0) {
				r = -errno;
				break;
			}
			target[n] = '\0';
			if (symlinkat(target, ddir, e->d_name) < 0)
				r = -errno;
		} else if (mknodat(ddir, e->d_name, st.st_mode, st.st_rdev) < 0) {
			r = -errno;
		}
		if (r == 0 && fchownat(ddir, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != EPERM && errno != EINVAL)
			r = -errno;
	}
	closedir(d);
	return r;
}

static char *mount_data(struct rootfs_ctx *c, const struct oci_mount *m, const struct mount_opts *o)
{
	char *data = o->data ? strdup(o->data) : strdup("");
	const char *label = c->cfg->has_linux ? c->cfg->linux_.mount_label : NULL;

	if (!data)
		return NULL;
	/* Without ptmxmode the new instance's ptmx is mode 000 and the
	 * /dev/ptmx -> pts/ptmx symlink would be useless. */
	if (is_type(m, "devpts") && !strstr(data, "ptmxmode=")) {
		char *nd;
		if (asprintf(&nd, "%s%sptmxmode=0666", data, *data ? "," : "") < 0) {
			free(data);
			return NULL;
		}
		free(data);
		data = nd;
	}
	if (c->selinux && label && *label && !is_type(m, "proc") && !is_type(m, "sysfs") &&
	    !is_type(m, "cgroup") && !is_type(m, "cgroup2") && !strstr(data, "context=")) {
		char *nd;
		if (asprintf(&nd, "%s%scontext=\"%s\"", data, *data ? "," : "", label) < 0) {
			free(data);
			return NULL;
		}
		free(data);
		data = nd;
	}
	return data;
}

/* In a user namespace that does not own the network (sysfs) or IPC (mqueue)
 * namespace the kernel refuses a fresh instance; a recursive bind of the
 * host's copy with the requested flags is what runc does too. */
static const char *userns_fallback_source(const struct oci_mount *m)
{
	if (is_type(m, "sysfs"))
		return "/sys";
	if (is_type(m, "mqueue"))
		return "/dev/mqueue";
	return NULL;
}

static int mount_cgroup(struct rootfs_ctx *c, const char *dest, int dst, const struct mount_opts *o,
			struct hull_err *err)
{
	char fdp[SAFEPATH_FD_PATH_MAX], where[PATH_MAX];
	size_t rl = strlen(c->s->rootfs);
	ssize_t n;

	/* hull_cgroup_mount wants a path; take the one the safe walk resolved
	 * and make sure it is still inside the rootfs. */
	n = readlink(safepath_fd_path(dst, fdp), where, sizeof(where) - 1);
	if (n < 0)
		return hull_errf_sys(err, errno, "readlink `%s`", dest);
	where[n] = '\0';
	if (strncmp(where, c->s->rootfs, rl) || (where[rl] != '/' && where[rl] != '\0'))
		return hull_errf(err, EXDEV, "`%s` resolved outside the rootfs", dest);
	return hull_cgroup_mount(c->s->cgroup, where, o->flags, c->s->cgroupns, err);
}

static int mount_fs(struct rootfs_ctx *c, const struct oci_mount *m, const char *dest,
		    const struct mount_opts *o, struct hull_err *err)
{
	_cleanup_close_ int dst = -1, orig = -1, top = -1;
	_cleanup_free_ char *data = NULL;
	char fdp[SAFEPATH_FD_PATH_MAX];
	const char *source = m->source && *m->source ? m->source : m->type;
	int r;

	if (o->idmap)
		return hull_errf(err, EINVAL, "idmap needs a bind mount");
	dst = open_dest_dir(c, m, dest, err);
	if (dst < 0)
		return dst;
	r = check_procfs_target(c, m, dest, dst, err);
	if (r < 0)
		return r;
	if ((is_type(m, "cgroup") || is_type(m, "cgroup2")) && c->s->cgroup)
		return mount_cgroup(c, dest, dst, o, err);
	if (o->tmpcopyup) {
		orig = openat(dst, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (orig < 0)
			return hull_errf_sys(err, errno, "open `%s` for tmpcopyup", dest);
	}
	data = mount_data(c, m, o);
	if (!data)
		return hull_errf_sys(err, ENOMEM, "mount data");
	if (mount(source, safepath_fd_path(dst, fdp), m->type, o->flags, *data ? data : NULL) < 0) {
		int e = errno;
		const char *host = userns_fallback_source(m);
		if (e == EPERM && c->s->userns && host) {
			_cleanup_close_ int src = open(host, O_PATH | O_CLOEXEC);
			if (src < 0)
				return hull_errf_sys(err, errno, "%s fallback: open `%s`", m->type, host);
			r = rootfs_bind_fd(src, dst, o, true, -1, err);
			if (r < 0)
				return hull_err_wrap(err, "%s fallback: bind `%s`", m->type, host);
			return 0;
		}
		return hull_errf_sys(err, e, "mount %s", m->type);
	}
	if (!o->tmpcopyup && !o->n_propagation && !o->rec_attr_set && !o->rec_attr_clr)
		return 0;
	top = rootfs_open_mounted(c->root_fd, dest, dst, err);
	if (top < 0)
		return top;
	if (o->tmpcopyup) {
		_cleanup_close_ int ddir = openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (ddir < 0)
			return hull_errf_sys(err, errno, "tmpcopyup");
		r = copy_tree(orig, ddir, 0);
		if (r < 0)
			return hull_errf_sys(err, -r, "tmpcopyup");
	}
	r = rootfs_apply_recursive_attrs(top, o, err);
	if (r < 0)
		return r;
	return rootfs_apply_propagation(top, o->propagation, o->n_propagation, err);
}

static int mount_one(struct rootfs_ctx *c, size_t i, struct hull_err *err)
{
	const struct oci_mount *m = &c->cfg->mounts[i];
	char dest[PATH_MAX];
	struct mount_opts o;
	int r;

	if (!m->destination || !*m->destination)
		return hull_errf(err, EINVAL, "mounts[%zu]: empty destination", i);
	/* Relative destinations are deprecated and mean "relative to /". */
	r = safepath_clean(m->destination, dest, sizeof(dest));
	if (r < 0)
		return hull_errf_sys(err, -r, "mounts[%zu]: destination", i);
	r = mountopt_parse(m->options, m->n_options, &o, err);
	if (r < 0)
		return hull_err_wrap(err, "mounts[%zu] (`%s`): options", i, m->destination);
	if (!o.bind && (!m->type || !*m->type || !strcmp(m->type, "none") || !strcmp(m->type, "bind"))) {
		/* runc treats type "bind" as a bind mount even without the option */
		if (m->type && !strcmp(m->type, "bind")) {
			o.bind = true;
		} else {
			mountopt_free(&o);
			return hull_errf(err, EINVAL, "mounts[%zu] (`%s`): no type and not a bind mount", i,
					 m->destination);
		}
	}
	if (!strcmp(dest, "/")) {
		mountopt_free(&o);
		return hull_errf(err, EINVAL, "mounts[%zu]: cannot mount over `/` (use root.path)", i);
	}
	if (!proc_dest_allowed(m, dest)) {
		mountopt_free(&o);
		return hull_errf(err, EPERM, "mounts[%zu] (`%s`): only procfs may be mounted on /proc and only "
				 "a few files below it may be overlaid", i, m->destination);
	}
	r = o.bind ? mount_bind(c, i, m, dest, &o, err) : mount_fs(c, m, dest, &o, err);
	mountopt_free(&o);
	if (r < 0)
		return hull_err_wrap(err, "mounts[%zu] (`%s`)", i, m->destination);
	return 0;
}

int rootfs_mount_all(struct rootfs_ctx *c, struct hull_err *err)
{
	for (size_t i = 0; i < c->cfg->n_mounts; i++) {
		int r = mount_one(c, i, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool wants_idmap(const struct oci_mount *m, const struct mount_opts *o)
{
	return o->bind && (o->idmap || m->n_uid_mappings || m->n_gid_mappings);
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int rootfs_idmapped_mounts(const struct rootfs_spec *s, int container_userns_fd, int *fds, struct hull_err *err)
{
	const struct oci_config *cfg = s->cfg;
	_cleanup_close_ int root_fd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct rootfs_ctx c = { .s = s, .cfg = cfg, .root_fd = root_fd };

	for (size_t i = 0; i < cfg->n_mounts; i++)
		fds[i] = -1;
	if (root_fd < 0)
		return hull_errf_sys(err, errno, "root.path: open `%s`", s->rootfs);
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct oci_mount *m = &cfg->mounts[i];
		_cleanup_close_ int src = -1, userns = -1;
		struct mount_opts o;
		int r;

		r = mountopt_parse(m->options, m->n_options, &o, err);
		if (r < 0)
			goto fail;
		if (m->type && !strcmp(m->type, "bind"))
			o.bind = true;
		if (!wants_idmap(m, &o)) {
			mountopt_free(&o);
			continue;
		}
		src = open_bind_source(&c, m->source, err);
		r = src;
		if (src >= 0)
			r = userns = mount_userns_fd(&c, m, container_userns_fd, err);
		if (r >= 0)
			r = fds[i] = rootfs_clone_tree(src, o.recursive, userns, o.idmap_recursive, err);
		mountopt_free(&o);
		if (r < 0)
			goto fail;
		continue;
fail:
		close_fds(fds, cfg->n_mounts);
		return hull_err_wrap(err, "mounts[%zu] (`%s`)", i, m->destination ? m->destination : "");
	}
	return 0;
}
