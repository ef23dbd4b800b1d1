/* lsm.c — AppArmor profile and SELinux process label for the container
 * process, through the kernel's LSM attribute files.  Labels are written to
 * the "exec" attribute, so they take effect at the execve that starts the
 * workload and never constrain hull's own last steps.
 */
#include "runtime/security.h"
#include "runtime/security_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "rootfs/rootfs.h"

#define SELINUX_MAGIC_NR 0xf97cff8c

static bool apparmor_enabled(void)
{
	char buf[4] = "";
	_cleanup_close_ int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		return false;
	return buf[0] == 'Y';
}

bool sec_selinux_enabled(void)
{
	struct statfs sfs;

	/* selinuxfs is mounted (by the host's init) only when SELinux is on. */
	if (statfs("/sys/fs/selinux", &sfs) == 0 && (unsigned long)sfs.f_type == SELINUX_MAGIC_NR)
		return true;
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

unsigned sec_lsm_probe(void)
{
	unsigned lsm = SEC_LSM_PROBED;

	if (apparmor_enabled())
		lsm |= SEC_LSM_APPARMOR;
	if (sec_selinux_enabled())
		lsm |= SEC_LSM_SELINUX;
	return lsm;
}

int sec_lsm_check(unsigned lsm, const struct oci_process *proc, const char *mount_label,
		  struct hull_err *err)
{
	if (!(lsm & SEC_LSM_PROBED))
		lsm = sec_lsm_probe();
	if (proc && proc->apparmor_profile && *proc->apparmor_profile &&
	    !(lsm & SEC_LSM_APPARMOR))
		return hull_errf(err, EOPNOTSUPP,
				 "process.apparmorProfile: `%s` is set but AppArmor is not enabled on this host",
				 proc->apparmor_profile);
	if (!(lsm & SEC_LSM_SELINUX)) {
		if (proc && proc->selinux_label && *proc->selinux_label)
			hull_debug("SELinux is disabled: ignoring process.selinuxLabel");
		if (mount_label && *mount_label)
			hull_debug("SELinux is disabled: ignoring linux.mountLabel");
	}
	return 0;
}

/* thread-self: the attribute is per thread, and this is the thread that will
 * execve.  Opened through rootfs_proc_open() so a mount the container's
 * config or image put over /proc cannot swallow the label (CVE-2019-16884,
 * CVE-2025-52881 class).  path is relative to /proc. */
static int write_attr(const char *path, const char *value, struct hull_err *err)
{
	_cleanup_close_ int fd = rootfs_proc_open(path, O_WRONLY, err);
	int ret;

	if (fd < 0)
		return fd;
	ret = hull_write_all(fd, value, strlen(value));
	if (ret < 0)
		return hull_errf_sys(err, -ret, "write `%s` to /proc/%s", value, path);
	return 0;
}

int sec_lsm_apply_exec(unsigned lsm, const struct oci_process *proc, struct hull_err *err)
{
	const char *profile = proc->apparmor_profile;
	const char *label = proc->selinux_label;
	int ret;

	if ((!profile || !*profile) && (!label || !*label))
		return 0;
	if (!(lsm & SEC_LSM_PROBED))
		lsm = sec_lsm_probe();
	ret = sec_lsm_check(lsm, proc, NULL, err);
	if (ret < 0)
		return ret;

	if (profile && *profile) {
		char buf[4096];

		if ((size_t)snprintf(buf, sizeof(buf), "exec %s", profile) >= sizeof(buf))
			return hull_errf(err, ENAMETOOLONG, "process.apparmorProfile: too long");
		/* The per-LSM directory first (stacked LSMs), then the shared file. */
		ret = write_attr("thread-self/attr/apparmor/exec", buf, err);
		if (ret == -ENOENT)
			ret = write_attr("thread-self/attr/exec", buf, err);
		if (ret < 0)
			return hull_err_wrap(err, "process.apparmorProfile `%s`", profile);
	}
	if (label && *label && (lsm & SEC_LSM_SELINUX)) {
		ret = write_attr("thread-self/attr/selinux/exec", label, err);
		if (ret == -ENOENT)
			ret = write_attr("thread-self/attr/exec", label, err);
		if (ret < 0)
			return hull_err_wrap(err, "process.selinuxLabel `%s`", label);
	}
	return 0;
}
