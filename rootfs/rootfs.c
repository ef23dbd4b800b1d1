/* rootfs.c — the three steps of rootfs.h: prepare, pivot, finalize. */
#include "rootfs/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "rootfs/internal.h"
#include "rootfs/safepath.h"

#ifndef SELINUX_MAGIC
#define SELINUX_MAGIC 0xf97cff8c
#endif

static const char *root_propagation(const struct oci_config *cfg)
{
	return cfg->has_linux ? cfg->linux_.rootfs_propagation : NULL;
}

/* "shared" | "slave" | "private" | "unbindable", also the r-forms. */
static int propagation_flag(const char *name, unsigned long *flag)
{
	static const struct { const char *name; unsigned long flag; } map[] = {
		{ "shared", MS_SHARED }, { "slave", MS_SLAVE },
		{ "private", MS_PRIVATE }, { "unbindable", MS_UNBINDABLE },
	};
	unsigned long rec = 0;

	if (name[0] == 'r' && strcmp(name, "rshared") && strcmp(name, "rslave") &&
	    strcmp(name, "rprivate") && strcmp(name, "runbindable"))
		return -EINVAL;
	if (name[0] == 'r') {
		rec = MS_REC;
		name++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (!strcmp(name, map[i].name)) {
			*flag = map[i].flag | rec;
			return 0;
		}
	}
	return -EINVAL;
}

static bool selinux_enabled(void)
{
	struct statfs sf;

	return statfs("/sys/fs/selinux", &sf) == 0 && (uint32_t)sf.f_type == SELINUX_MAGIC;
}

static bool dev_is_host_bind(const struct oci_config *cfg)
{
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct oci_mount *m = &cfg->mounts[i];
		char dest[4096];
		bool bind = m->type && !strcmp(m->type, "bind");

		if (safepath_clean(m->destination ? m->destination : "", dest, sizeof(dest)) < 0 ||
		    strcmp(dest, "/dev"))
			continue;
		for (size_t j = 0; j < m->n_options; j++)
			if (!strcmp(m->options[j], "bind") || !strcmp(m->options[j], "rbind"))
				bind = true;
		if (bind)
			return true;
	}
	return false;
}

int rootfs_prepare(const struct rootfs_spec *s, struct hull_err *err)
{
	const char *prop = root_propagation(s->cfg);
	unsigned long first = MS_SLAVE | MS_REC, flag;
	_cleanup_close_ int root_fd = -1;
	struct rootfs_ctx c = { .s = s, .cfg = s->cfg, .root_fd = -1 };
	int r;

	if (!s->rootfs || s->rootfs[0] != '/')
		return hull_errf(err, EINVAL, "root.path: `%s` is not an absolute path", s->rootfs ? s->rootfs : "");
	if (prop && propagation_flag(prop, &flag) < 0)
		return hull_errf(err, EINVAL, "linux.rootfsPropagation: unknown value `%s`", prop);
	/* First of all, so nothing we mount below can propagate to the host.
	 * private/unbindable roots also stop receiving host events now. */
	if (prop && (flag & (MS_PRIVATE | MS_UNBINDABLE)))
		first = MS_PRIVATE | MS_REC;
	if (mount(NULL, "/", NULL, first, NULL) < 0)
		return hull_errf_sys(err, errno, "make / %s", (first & MS_PRIVATE) ? "rprivate" : "rslave");

	/* pivot_root needs the new root to be a mount point. */
	if (mount(s->rootfs, s->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return hull_errf_sys(err, errno, "root.path: bind `%s` onto itself", s->rootfs);
	root_fd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return hull_errf_sys(err, errno, "root.path: open `%s`", s->rootfs);
	c.root_fd = root_fd;
	c.selinux = s->cfg->has_linux && s->cfg->linux_.mount_label && selinux_enabled();
	c.dev_from_host = dev_is_host_bind(s->cfg);

	r = rootfs_mount_all(&c, err);
	if (r < 0)
		return r;
	r = rootfs_setup_dev(&c, err);
	if (r < 0)
		return r;
	return rootfs_setup_console(&c, err);
}

static int pivot(const char *rootfs, struct hull_err *err)
{
	_cleanup_close_ int oldroot = -1, newroot = -1;

	oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		return hull_errf_sys(err, errno, "open /");
	newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (newroot < 0)
		return hull_errf_sys(err, errno, "open `%s`", rootfs);
	if (fchdir(newroot) < 0)
		return hull_errf_sys(err, errno, "chdir `%s`", rootfs);
	/* With new_root == put_old the old root ends up stacked on top of the
	 * new one; no directory in the image is needed or touched. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return hull_errf_sys(err, errno, "pivot_root `%s`", rootfs);
	if (fchdir(oldroot) < 0)
		return hull_errf_sys(err, errno, "chdir old root");
	/* rslave first: detaching must not propagate an unmount to the host. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return hull_errf_sys(err, errno, "make old root rslave");
	if (umount2(".", MNT_DETACH) < 0)
		return hull_errf_sys(err, errno, "detach old root");
	return 0;
}

static int move_root(const char *rootfs, struct hull_err *err)
{
	if (chdir(rootfs) < 0)
		return hull_errf_sys(err, errno, "chdir `%s`", rootfs);
	if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
		return hull_errf_sys(err, errno, "move `%s` onto /", rootfs);
	if (chroot(".") < 0)
		return hull_errf_sys(err, errno, "chroot `%s`", rootfs);
	return 0;
}

int rootfs_pivot(const struct rootfs_spec *s, struct hull_err *err)
{
	int r = s->no_pivot ? move_root(s->rootfs, err) : pivot(s->rootfs, err);

	if (r < 0)
		return r;
	if (chdir("/") < 0)
		return hull_errf_sys(err, errno, "chdir /");
	return 0;
}

/* ---- finalize (runs with the container's / as root) ------------------- */

/* The mask source must be the null device itself, checked on the fd we
 * bind from: an image may have replaced /dev/null with a symlink to a
 * procfs file, and binding that over the masked path would expose it
 * (CVE-2025-31133). */
static int open_verified_null(int root_fd, struct hull_err *err)
{
	struct stat st;
	int fd = safepath_open(root_fd, "/dev/null", O_PATH | O_NOFOLLOW, SAFEPATH_NO_SYMLINKS, err);

	if (fd < 0)
		return hull_err_wrap(err, "mask source /dev/null");
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(fd);
		return hull_errf(err, ENODEV, "mask source /dev/null is not the null device (1:3)");
	}
	return fd;
}

static int mount_empty_ro_tmpfs(int dst_fd, struct hull_err *err)
{
	_cleanup_close_ int fs = -1, mnt = -1;

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0) {
		char p[SAFEPATH_FD_PATH_MAX];
		struct statfs sf;
		if (errno != ENOSYS)
			return hull_errf_sys(err, errno, "fsopen tmpfs");
		if (statfs("/proc/self/fd", &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
			return hull_errf(err, EXDEV, "/proc is not procfs, refusing fd-path mount");
		if (mount("tmpfs", safepath_fd_path(dst_fd, p), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=0") < 0)
			return hull_errf_sys(err, errno, "mount tmpfs");
		return 0;
	}
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return hull_errf_sys(err, errno, "configure tmpfs");
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return hull_errf_sys(err, errno, "fsmount tmpfs");
	if (move_mount(mnt, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return hull_errf_sys(err, errno, "move_mount tmpfs");
	return 0;
}

static int mask_paths(int root_fd, const struct oci_linux *lx, struct hull_err *err)
{
	_cleanup_close_ int null_fd = -1;

	for (size_t i = 0; i < lx->n_masked_paths; i++) {
		const char *p = lx->masked_paths[i];
		_cleanup_close_ int fd = -1;
		struct stat st;
		int r;

		fd = safepath_open(root_fd, p, O_PATH, 0, err);
		if (fd == -ENOENT)
			continue;
		if (fd < 0)
			return hull_err_wrap(err, "linux.maskedPaths[%zu]", i);
		if (fstat(fd, &st) < 0)
			return hull_errf_sys(err, errno, "linux.maskedPaths[%zu]: `%s`", i, p);
		if (S_ISDIR(st.st_mode)) {
			r = mount_empty_ro_tmpfs(fd, err);
		} else {
			if (null_fd < 0) {
				null_fd = open_verified_null(root_fd, err);
				if (null_fd < 0)
					return hull_err_wrap(err, "linux.maskedPaths[%zu] (`%s`)", i, p);
			}
			r = rootfs_bind_fd(null_fd, fd, NULL, false, -1, err);
		}
		if (r < 0)
			return hull_err_wrap(err, "linux.maskedPaths[%zu] (`%s`)", i, p);
	}
	return 0;
}

/* Bind the path onto itself and make the copy read-only recursively.  The
 * flags of the mount underneath (nosuid, nodev, noexec) stay as they are:
 * mount_setattr only adds MOUNT_ATTR_RDONLY. */
static int readonly_path(int fd, struct hull_err *err)
{
	struct mount_opts o = { .flags = MS_RDONLY, .rec_attr_set = MOUNT_ATTR_RDONLY };

	return rootfs_bind_fd(fd, fd, &o, true, -1, err);
}

static int readonly_paths(int root_fd, const struct oci_linux *lx, struct hull_err *err)
{
	for (size_t i = 0; i < lx->n_readonly_paths; i++) {
		const char *p = lx->readonly_paths[i];
		_cleanup_close_ int fd = safepath_open(root_fd, p, O_PATH, 0, err);

		if (fd == -ENOENT)
			continue;
		if (fd < 0 || readonly_path(fd, err) < 0)
			return hull_err_wrap(err, "linux.readonlyPaths[%zu] (`%s`)", i, p);
	}
	return 0;
}

static int readonly_root(struct hull_err *err)
{
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
	_cleanup_close_ int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return hull_errf_sys(err, errno, "open /");
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof(a)) == 0)
		return 0;
	if (errno != ENOSYS)
		return hull_errf_sys(err, errno, "root.readonly: remount / read-only");
	struct statvfs sv;
	unsigned long keep = statvfs("/", &sv) == 0 ? mountopt_flags_from_statvfs(sv.f_flag) : 0;
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
		return hull_errf_sys(err, errno, "root.readonly: remount / read-only");
	return 0;
}

int rootfs_finalize(const struct rootfs_spec *s, struct hull_err *err)
{
	const struct oci_linux *lx = s->cfg->has_linux ? &s->cfg->linux_ : NULL;
	const char *prop = root_propagation(s->cfg);
	_cleanup_close_ int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (root_fd < 0)
		return hull_errf_sys(err, errno, "open /");
	if (lx) {
		r = mask_paths(root_fd, lx, err);
		if (r < 0)
			return r;
		r = readonly_paths(root_fd, lx, err);
		if (r < 0)
			return r;
	}
	if (s->cfg->root.readonly) {
		r = readonly_root(err);
		if (r < 0)
			return r;
	}
	if (prop) {
		unsigned long flag;
		if (propagation_flag(prop, &flag) < 0)
			return hull_errf(err, EINVAL, "linux.rootfsPropagation: unknown value `%s`", prop);
		if (mount(NULL, "/", NULL, flag, NULL) < 0)
			return hull_errf_sys(err, errno, "linux.rootfsPropagation: make / %s", prop);
	}
	return 0;
}
