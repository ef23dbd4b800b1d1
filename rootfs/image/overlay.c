/* overlay.c — mount an overlayfs over unpacked layers.
 *
 * The classic mount(2) takes all options in one page, so ~40 layers of
 * /var/lib/hull/layers/sha256/<64 hex> paths already overflow it.  Order of
 * attempts:
 *   1. the new mount API, one `lowerdir+` per layer (Linux 6.8+): no limit
 *      but overlayfs' own (500 layers);
 *   2. mount(2) with full paths when they fit in a page;
 *   3. mount(2) with short relative names: `shortdir` gets symlinks 0,1,2…
 *      to the layers, we chdir there for the mount (overlayfs resolves
 *      lowerdir paths at mount time, relative to the caller's cwd), then
 *      chdir back.  200 layers cost ~800 bytes.
 * volatile: no syncs of the upper dir, in particular none when the overlay is
 * unmounted (an ext4 journal commit, ~50 ms); for --rm runs, whose upper
 * dir is thrown away anyway.
 * HULL_OVERLAY_LEGACY=1 skips step 1 (tests cover both paths on new kernels).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "rootfs/image/image.h"

static int new_api_mount(char **lowers, size_t n, const char *upper, const char *work, const char *target,
			 bool volatile_upper)
{
	int fd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		if (syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
			r = -errno;
	if (r == 0 && (syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
		       syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0))
		r = -errno;
	if (r == 0)
		syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, "index", "off", 0);
	if (r == 0 && volatile_upper)
		syscall(SYS_fsconfig, fd, FSCONFIG_SET_FLAG, "volatile", NULL, 0);
	if (r == 0 && syscall(SYS_fsconfig, fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = -errno;
	int mfd = -1;
	if (r == 0 && (mfd = (int)syscall(SYS_fsmount, fd, FSMOUNT_CLOEXEC, 0)) < 0)
		r = -errno;
	if (r == 0 && syscall(SYS_move_mount, mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = -errno;
	if (mfd >= 0)
		close(mfd);
	close(fd);
	return r;
}

static int legacy_mount(char **lowers, size_t n, const char *upper, const char *work, const char *target,
			const char *shortdir, bool volatile_upper, struct hull_err *err)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t need = strlen(upper) + strlen(work) + 64;
	for (size_t i = 0; i < n; i++)
		need += strlen(lowers[i]) + 1;
	bool short_names = need >= (size_t)page;
	_cleanup_free_ char *opts = malloc(need + n * 8 + 64);
	if (!opts)
		return hull_errf(err, ENOMEM, "out of memory");
	_cleanup_close_ int sdir = -1;
	if (short_names && (sdir = open(shortdir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hull_errf_sys(err, errno, "overlay: open `%s`", shortdir);
	char *p = opts + sprintf(opts, "lowerdir=");
	for (size_t i = 0; i < n; i++) {
		if (short_names) {
			char name[32];
			snprintf(name, sizeof(name), "%zu", i);
			unlinkat(sdir, name, 0);
			if (symlinkat(lowers[i], sdir, name) < 0)
				return hull_errf_sys(err, errno, "overlay: symlink `%s/%s`", shortdir, name);
			p += sprintf(p, "%s%zu", i ? ":" : "", i);
		} else {
			p += sprintf(p, "%s%s", i ? ":" : "", lowers[i]);
		}
	}
	sprintf(p, ",upperdir=%s,workdir=%s,index=off%s", upper, work, volatile_upper ? ",volatile" : "");
	if (strlen(opts) >= (size_t)page)
		return hull_errf(err, E2BIG, "overlay: %zu layers do not fit in one mount option page", n);
	int cwd = -1, r = 0;
	if (short_names) {
		cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cwd < 0 || fchdir(sdir) < 0) {
			r = hull_errf_sys(err, errno, "overlay: chdir `%s`", shortdir);
			if (cwd >= 0)
				close(cwd);
			return r;
		}
	}
	if (mount("overlay", target, "overlay", 0, opts) < 0)
		r = -errno;
	if (cwd >= 0) {
		if (fchdir(cwd) < 0 && r == 0)
			r = -errno;
		close(cwd);
	}
	return r < 0 ? hull_errf_sys(err, -r, "overlay: mount on `%s` (%zu layers)", target, n) : 0;
}

int img_overlay_mount(char **lowers, size_t n, const char *upper, const char *work, const char *target,
		      const char *shortdir, bool volatile_upper, struct hull_err *err)
{
	const char *legacy = getenv("HULL_OVERLAY_LEGACY");
	if (!(legacy && *legacy == '1')) {
		int r = new_api_mount(lowers, n, upper, work, target, volatile_upper);
		if (r == 0)
			return 0;
		/* EINVAL: no lowerdir+ (kernel < 6.8: overlay's legacy option parser,
		 * reached at FSCONFIG_CMD_CREATE, does not know it); ENOSYS: no fsopen */
		if (r != -EINVAL && r != -ENOSYS && r != -EOPNOTSUPP && r != -E2BIG)
			return hull_errf_sys(err, -r, "overlay: mount on `%s` (%zu layers)", target, n);
	}
	return legacy_mount(lowers, n, upper, work, target, shortdir, volatile_upper, err);
}
