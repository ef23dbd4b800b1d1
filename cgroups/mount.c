/* mount.c — /sys/fs/cgroup inside the container.
 *
 * With a cgroup namespace the container mounts fresh cgroup filesystems: the
 * kernel then shows its own cgroup as the root of each.  Without one, the
 * container's directories are bind-mounted from the host tree, which gives
 * the same view (runc does both the same way).  On v1/hybrid the mount point
 * becomes a tmpfs holding one mount per hierarchy, symlinks for combined
 * hierarchies ("cpu" -> "cpu,cpuacct") and, on hybrid, "unified". */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/internal.h"

#define RO_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME)

static int bind_dir(const char *src, const char *dst, unsigned long flags, struct hull_err *err)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return hull_errf_sys(err, errno, "bind %s on %s", src, dst);
	if ((flags & RO_FLAGS) &&
	    mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_REC | (flags & RO_FLAGS), NULL) < 0)
		return hull_errf_sys(err, errno, "remount %s", dst);
	return 0;
}

static int mount_hier(const struct cg_hier *h, const char *dst, unsigned long flags, bool in_cgroupns,
		      struct hull_err *err)
{
	char opts[96];
	unsigned long mflags = flags & (RO_FLAGS);

	if (!in_cgroupns)
		return bind_dir(h->dir, dst, flags, err);
	if (h->v2) {
		if (mount("cgroup2", dst, "cgroup2", mflags, NULL) < 0)
			return hull_errf_sys(err, errno, "mount cgroup2 on %s", dst);
		return 0;
	}
	if (h->ctrls)
		snprintf(opts, sizeof(opts), "%s", h->mnt);
	else
		snprintf(opts, sizeof(opts), "none,name=%s", h->mnt);
	if (mount("cgroup", dst, "cgroup", mflags, opts) < 0)
		return hull_errf_sys(err, errno, "mount cgroup (%s) on %s", opts, dst);
	return 0;
}

int hull_cgroup_mount(const struct hull_cgroup *cg, const char *target_abs_path, unsigned long flags,
		      bool in_cgroupns, struct hull_err *err)
{
	if (cg->layout == HULL_CGROUP_V2)
		return mount_hier(&cg->h[0], target_abs_path, flags, in_cgroupns, err) < 0
			       ? hull_err_wrap(err, "cgroup mount")
			       : 0;

	if (mount("tmpfs", target_abs_path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
		return hull_errf_sys(err, errno, "mount tmpfs on %s", target_abs_path);
	for (size_t i = 0; i < cg->n_h; i++) {
		const struct cg_hier *h = &cg->h[i];
		char dst[CG_PATH_MAX + 80];

		if (snprintf(dst, sizeof(dst), "%s/%s", target_abs_path, h->mnt) >= (int)sizeof(dst))
			return hull_errf(err, ENAMETOOLONG, "cgroup mount: %s", target_abs_path);
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			return hull_errf_sys(err, errno, "mkdir %s", dst);
		if (mount_hier(h, dst, flags, in_cgroupns, err) < 0)
			return hull_err_wrap(err, "cgroup mount");
		/* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct" */
		if (strchr(h->mnt, ',')) {
			char name[sizeof(h->mnt)];
			snprintf(name, sizeof(name), "%s", h->mnt);
			for (char *save = NULL, *tok = strtok_r(name, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				char link[CG_PATH_MAX + 80];
				snprintf(link, sizeof(link), "%s/%s", target_abs_path, tok);
				if (symlink(h->mnt, link) < 0 && errno != EEXIST)
					return hull_errf_sys(err, errno, "symlink %s", link);
			}
		}
	}
	if ((flags & MS_RDONLY) &&
	    mount(NULL, target_abs_path, NULL, MS_REMOUNT | MS_BIND | (flags & RO_FLAGS) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return hull_errf_sys(err, errno, "remount %s read-only", target_abs_path);
	return 0;
}
