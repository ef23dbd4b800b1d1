/* internal.h — shared between the rootfs/ sources only; not part of the module's API. */
#ifndef HULL_ROOTFS_INTERNAL_H
#define HULL_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "rootfs/mountopt.h"
#include "rootfs/rootfs.h"

struct rootfs_ctx {
	const struct rootfs_spec *s;
	const struct oci_config *cfg;
	int root_fd;          /* O_PATH fd of the rootfs (the bind mount of it onto itself) */
	bool selinux;         /* add context="mountLabel" to new filesystem mounts */
	bool dev_from_host;   /* /dev is a bind of the host's: leave device nodes alone */
};

/* Bind what src_fd names onto what dst_fd names.  Detached-tree API
 * (open_tree + mount_setattr + move_mount) where the kernel has it, so flags
 * locked by a user namespace are kept and idmaps can be applied; classic
 * mount(2) through /proc/self/fd otherwise.  o may be NULL (plain bind).
 * userns_fd >= 0 applies an idmap. */
int rootfs_bind_fd(int src_fd, int dst_fd, const struct mount_opts *o, bool recursive, int userns_fd,
		   struct hull_err *err);

/* The two halves of rootfs_bind_fd: a detached clone of src (idmapped with
 * userns_fd when >= 0), and attaching such a tree onto dst with o's flags,
 * recursive attributes and propagation. */
int rootfs_clone_tree(int src_fd, bool recursive, int userns_fd, bool idmap_recursive, struct hull_err *err);
int rootfs_attach_tree(int tree, int dst_fd, const struct mount_opts *o, struct hull_err *err);

/* After something was mounted at path (inside root_fd), open the new mount's
 * root and check it really is a different mount than covered_fd. */
int rootfs_open_mounted(int root_fd, const char *path, int covered_fd, struct hull_err *err);

/* mount(2) propagation changes, one after the other, on the mount fd names. */
int rootfs_apply_propagation(int mnt_fd, const unsigned long *prop, size_t n, struct hull_err *err);

/* mount_setattr(AT_RECURSIVE) with the recursive attributes of o, if any. */
int rootfs_apply_recursive_attrs(int mnt_fd, const struct mount_opts *o, struct hull_err *err);

/* config mounts (mounts.c) */
int rootfs_mount_all(struct rootfs_ctx *c, struct hull_err *err);

/* devices and /dev contents (devices.c) */
int rootfs_setup_dev(struct rootfs_ctx *c, struct hull_err *err);
int rootfs_setup_console(struct rootfs_ctx *c, struct hull_err *err);

#endif
