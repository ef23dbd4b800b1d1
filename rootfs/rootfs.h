/* rootfs.h — build the container's filesystem view inside its new mount
 * namespace: config mounts, /dev, pivot_root, masked and read-only paths.
 *
 * Contract (called from the container init process, in this order):
 *   1. rootfs_prepare()   in a NEW, unshared mount namespace, before the
 *                         createContainer hooks.  The host's /proc is still
 *                         visible and is used to address fds.
 *   2. (runtime runs createContainer hooks)
 *   3. rootfs_pivot()     switches / to the rootfs; cwd becomes "/".
 *   4. rootfs_finalize()  after the pivot, before the user process is exec'd
 *                         (and before capabilities are dropped).
 * Each step returns 0 or a negative errno and fills *err with one line naming
 * the config field involved, e.g.
 *   "mounts[3] (`/data`): bind `/srv/x`: No such file or directory".
 *
 * Security properties (see rootfs/safepath.h for the mechanism):
 *   - Every path inside the rootfs (mount destinations, device paths, masked
 *     and read-only paths) is resolved as if the rootfs were "/": symlinks and
 *     ".." cannot leave it, and the mount is made onto the resolved fd, so a
 *     directory swapped for a symlink after the check cannot redirect it.
 *   - proc and sysfs are never mounted onto a path that contains a symlink.
 *   - /dev/console, /dev/ptmx, default device nodes are (re)created by hull;
 *     a symlink left there by the image is replaced, never followed.
 *   - maskedPaths bind a verified character device 1:3 (/dev/null), never
 *     whatever the image placed at /dev/null.
 *   - Host mounts are never changed: the first thing prepare does is make the
 *     whole tree rslave (or rprivate) so nothing propagates back.
 */
#ifndef HULL_ROOTFS_ROOTFS_H
#define HULL_ROOTFS_ROOTFS_H

#include <stdbool.h>

#include "lib/err.h"
#include "oci/config.h"

struct hull_cgroup;   /* cgroups/cgroup.h */

struct rootfs_spec {
	const struct oci_config *cfg;
	const char *rootfs;        /* absolute host path of root.path, already resolved against the bundle */
	const char *bundle;        /* absolute bundle dir: base of relative bind sources; NULL = cwd */
	bool no_pivot;             /* --no-pivot: MS_MOVE + chroot instead of pivot_root */
	bool userns;               /* in a user namespace: no mknod, bind /dev nodes from the host instead */
	struct hull_cgroup *cgroup; /* for cgroup mounts, may be NULL */
	bool cgroupns;             /* the container has its own cgroup namespace */
	int console_slave_fd;      /* -1, or the pty slave to bind at /dev/console */
	const int *idmapped_fds;   /* NULL, or cfg->n_mounts fds from rootfs_idmapped_mounts() (-1 = none);
				    * attached instead of making those mounts; not closed */
};

/* Propagation, bind of the rootfs onto itself, every config mount in order,
 * default and configured devices, /dev symlinks, /dev/shm, /dev/console. */
int rootfs_prepare(const struct rootfs_spec *s, struct hull_err *err);

/* pivot_root(".", ".") + detach of the old root (or, with no_pivot, MS_MOVE
 * onto / and chroot); ends with chdir("/"). */
int rootfs_pivot(const struct rootfs_spec *s, struct hull_err *err);

/* maskedPaths, readonlyPaths, root.readonly, linux.rootfsPropagation. */
int rootfs_finalize(const struct rootfs_spec *s, struct hull_err *err);

/* After the pivot (root is "/"), for a pty created inside the container:
 * whatever the image has at /dev/console is removed (never followed), an
 * empty file is created and slave_fd is bind-mounted onto that file's fd.
 * Same as console_slave_fd in rootfs_prepare, for callers that make the pty
 * only after pivoting. */
int rootfs_bind_console(int slave_fd, struct hull_err *err);

/* Idmapped bind mounts of a container in a user namespace need privileges
 * the init no longer has (CAP_SYS_ADMIN over the source filesystem's user
 * namespace, normally the host's).  The runtime's parent, on the host and
 * after the container's uid/gid maps are written, calls this to make them as
 * detached, idmapped trees: fds[i] (cfg->n_mounts entries) is set for every
 * bind mount with idmap/ridmap or uid/gidMappings, -1 for the others.  The
 * mapping is the mount's own uidMappings/gidMappings, or the container's
 * user namespace (container_userns_fd, e.g. /proc/<init>/ns/user) when it has
 * none.  Pass the fds to the init (SCM_RIGHTS) as spec->idmapped_fds; the
 * caller closes them.  On error every fd made is closed and set to -1. */
int rootfs_idmapped_mounts(const struct rootfs_spec *s, int container_userns_fd, int *fds, struct hull_err *err);

/* Open `path` (relative, e.g. "sys/kernel/hostname", "thread-self/attr/exec")
 * in procfs for the runtime's own reads and writes, in a way no mount can
 * redirect (CVE-2025-52881 class): a non-recursive detached clone of /proc
 * (open_tree), so nothing mounted over files below /proc comes along,
 * verified to be the root of a procfs; the lookup stays beneath it, crosses
 * no mount and follows no magic link; the result is checked to be procfs.
 * Without the privilege to clone (e.g. unit tests), /proc itself is used
 * with the same checks, so an overmounted file fails with EXDEV instead of
 * being written through.  Returns an fd or -errno. */
int rootfs_proc_open(const char *path, int flags, struct hull_err *err);

#endif
