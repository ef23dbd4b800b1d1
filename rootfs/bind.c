/* bind.c — mount primitives that operate on resolved fds, never on paths. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "rootfs/internal.h"
#include "rootfs/safepath.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static int setattr(int fd, unsigned flags, uint64_t set, uint64_t clr, uint64_t prop, int userns_fd)
{
	struct mount_attr a = {
		.attr_set = set, .attr_clr = clr, .propagation = prop,
		.userns_fd = userns_fd >= 0 ? (uint64_t)userns_fd : 0,
	};

	if (mount_setattr(fd, "", AT_EMPTY_PATH | flags, &a, sizeof(a)) < 0)
		return -errno;
	return 0;
}

/* Before pivot the host's /proc is ours and trusted.  After pivot /proc is
 * the container's; an image or a shared volume could have put something
 * else there, so the magic-link path is only used when /proc is procfs. */
static int proc_is_procfs(void)
{
	struct statfs sf;

	if (statfs("/proc/self/fd", &sf) < 0)
		return -errno;
	return sf.f_type == PROC_SUPER_MAGIC ? 0 : -EXDEV;
}

static int bind_classic(int src_fd, int dst_fd, const struct mount_opts *o, bool recursive,
			struct hull_err *err)
{
	char src[SAFEPATH_FD_PATH_MAX], dst[SAFEPATH_FD_PATH_MAX];
	int r = proc_is_procfs();

	if (r < 0)
		return hull_errf_sys(err, -r, "/proc is not procfs, refusing fd-path bind");
	if (mount(safepath_fd_path(src_fd, src), safepath_fd_path(dst_fd, dst), NULL,
		  MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
		return hull_errf_sys(err, errno, "bind");
	if (o && (o->flags & ~MS_REMOUNT)) {
		/* The magic link names the covered directory, not the new
		 * mount, so the remount needs the path string.  Only kernels
		 * without open_tree (< 5.2) get here. */
		char where[4096];
		struct statvfs sv;
		unsigned long keep = 0;
		ssize_t n = readlink(safepath_fd_path(dst_fd, dst), where, sizeof(where) - 1);

		if (n < 0)
			return hull_errf_sys(err, errno, "readlink bind target");
		where[n] = '\0';
		if (statvfs(where, &sv) == 0)
			keep = mountopt_flags_from_statvfs(sv.f_flag) & ~o->clear;
		if (mount(NULL, where, NULL, MS_BIND | MS_REMOUNT | keep | (o->flags & ~MS_REMOUNT), NULL) < 0)
			return hull_errf_sys(err, errno, "remount bind with flags");
	}
	return 0;
}

int rootfs_clone_tree(int src_fd, bool recursive, int userns_fd, bool idmap_recursive, struct hull_err *err)
{
	_cleanup_close_ int tree = -1;
	int r;

	tree = open_tree(src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
			 (recursive ? AT_RECURSIVE : 0));
	if (tree < 0)
		return hull_errf_sys(err, errno, "open_tree");
	if (userns_fd >= 0) {
		r = setattr(tree, idmap_recursive ? AT_RECURSIVE : 0, MOUNT_ATTR_IDMAP, 0, 0, userns_fd);
		if (r < 0)
			return hull_errf_sys(err, -r, "idmap");
	}
	return steal_fd(tree);
}

int rootfs_attach_tree(int tree, int dst_fd, const struct mount_opts *o, struct hull_err *err)
{
	uint64_t set = 0, clr = 0;
	int r;

	if (o)
		mountopt_bind_attrs(o, &set, &clr);
	if (set || clr) {
		r = setattr(tree, 0, set, clr, 0, -1);
		if (r < 0)
			return hull_errf_sys(err, -r, "set mount flags");
	}
	if (o) {
		r = rootfs_apply_recursive_attrs(tree, o, err);
		if (r < 0)
			return r;
	}
	if (move_mount(tree, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return hull_errf_sys(err, errno, "move_mount");
	if (o && o->n_propagation)
		return rootfs_apply_propagation(tree, o->propagation, o->n_propagation, err);
	return 0;
}

int rootfs_bind_fd(int src_fd, int dst_fd, const struct mount_opts *o, bool recursive, int userns_fd,
		   struct hull_err *err)
{
	_cleanup_close_ int tree = -1;

	tree = rootfs_clone_tree(src_fd, recursive, userns_fd, o && o->idmap_recursive, err);
	if (tree == -ENOSYS) {
		if (userns_fd >= 0 || (o && (o->rec_attr_set || o->rec_attr_clr)))
			return hull_errf(err, ENOSYS, "idmapped and recursive-attribute mounts need Linux 5.12");
		return bind_classic(src_fd, dst_fd, o, recursive, err);
	}
	if (tree < 0)
		return tree;
	return rootfs_attach_tree(tree, dst_fd, o, err);
}

int rootfs_apply_recursive_attrs(int mnt_fd, const struct mount_opts *o, struct hull_err *err)
{
	int r;

	if (!o->rec_attr_set && !o->rec_attr_clr)
		return 0;
	r = setattr(mnt_fd, AT_RECURSIVE, o->rec_attr_set, o->rec_attr_clr, 0, -1);
	if (r < 0)
		return hull_errf_sys(err, -r, "recursive mount attributes");
	return 0;
}

int rootfs_apply_propagation(int mnt_fd, const unsigned long *prop, size_t n, struct hull_err *err)
{
	for (size_t i = 0; i < n; i++) {
		unsigned long type = prop[i] & ~(unsigned long)MS_REC;
		int r = setattr(mnt_fd, (prop[i] & MS_REC) ? AT_RECURSIVE : 0, 0, 0, type, -1);

		if (r == -ENOSYS) {
			char p[SAFEPATH_FD_PATH_MAX];
			r = mount(NULL, safepath_fd_path(mnt_fd, p), NULL, prop[i], NULL) < 0 ? -errno : 0;
		}
		if (r < 0)
			return hull_errf_sys(err, -r, "set propagation");
	}
	return 0;
}

int rootfs_open_mounted(int root_fd, const char *path, int covered_fd, struct hull_err *err)
{
	struct statx a, b;
	int fd = safepath_open(root_fd, path, O_PATH, 0, err);

	if (fd < 0)
		return fd;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &a) < 0 ||
	    statx(covered_fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &b) < 0) {
		int e = errno;
		close(fd);
		return hull_errf_sys(err, e, "statx `%s`", path);
	}
	/* Both facts are only reported by newer kernels (5.8); where they are
	 * missing, the in-root resolution above is all we have. */
	if (((a.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && !(a.stx_attributes & STATX_ATTR_MOUNT_ROOT)) ||
	    ((a.stx_mask & STATX_MNT_ID) && (b.stx_mask & STATX_MNT_ID) && a.stx_mnt_id == b.stx_mnt_id)) {
		close(fd);
		return hull_errf(err, EXDEV, "`%s` changed while it was being mounted on", path);
	}
	return fd;
}
