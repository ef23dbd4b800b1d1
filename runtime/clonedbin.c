/* clonedbin.c — CVE-2019-5736: a process inside the container can open
 * /proc/<pid>/exe of hull's init (before it execs the workload) or of a
 * `hull exec` process, and, once hull exits, write through it into the host's
 * hull binary.  hull therefore runs create/run/exec from a sealed memfd copy:
 * /proc/<pid>/exe then names a file that cannot be written, grown or shrunk,
 * and whose seals cannot be removed.
 *
 * Two ways to get there, both ending in one extra execve:
 *   - root (CAP_SYS_ADMIN): a private read-only overlayfs whose only lower
 *     layers are the binary's directory and /dev, never attached anywhere.
 *     Zero copy (page cache shared with the host file), and, unlike a
 *     read-only bind mount, nothing to "unwrap": an overlay without an upper
 *     layer cannot write to its lower layers at all (runc 1.2 does the same).
 *   - otherwise (rootless): a sealed memfd copy.  Only the part of the ELF
 *     file the kernel and ld.so read (up to the end of the last segment) is
 *     copied, and the copy's header then says "no section table": debug
 *     info, two thirds of a -g build, stays behind.
 */
#include "runtime/security.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/memfd.h>
#include <linux/mount.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define HULL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static bool fd_is_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	return seals >= 0 && (seals & HULL_SEALS) == HULL_SEALS;
}

/* An overlayfs mounted read-only: no write reaches its lower layers. */
static bool fd_on_readonly_overlay(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == OVERLAYFS_SUPER_MAGIC &&
	       (sfs.f_flags & ST_RDONLY);
}

bool hull_self_is_sealed(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	return fd >= 0 && (fd_is_sealed(fd) || fd_on_readonly_overlay(fd));
}

/* An O_PATH fd on the running binary seen through a new read-only overlay;
 * -1 when this process may not mount (rootless) or the path does not suit. */
static int overlay_view_of_self(void)
{
	char exe[PATH_MAX], lower[PATH_MAX + 8];
	_cleanup_close_ int ctx = -1;
	_cleanup_close_ int mnt = -1;
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	/* overlay option syntax: no escaping needed, or no overlay */
	if (!slash || slash == exe || strpbrk(exe, ":,\\") || strstr(exe, " (deleted)"))
		return -1;
	*slash = '\0';
	snprintf(lower, sizeof(lower), "%s:/dev", exe);

	ctx = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	if (ctx < 0)
		return -1;
	if (syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0)
		return -1;
	/* xino would only log noise when the layers are on different filesystems */
	syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "xino", "off", 0);
	if (syscall(SYS_fsconfig, ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -1;
	mnt = (int)syscall(SYS_fsmount, ctx, FSMOUNT_CLOEXEC,
			   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	if (mnt < 0)
		return -1;
	return openat(mnt, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

static int make_memfd(void)
{
	/* MFD_EXEC: with vm.memfd_noexec=1 a memfd is otherwise not executable. */
	int fd = memfd_create("hull", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("hull", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd;
}

static int copy_all(int dst, int src, off_t size)
{
	off_t off = 0;

	while (off < size) {
		ssize_t n = sendfile(dst, src, &off, (size_t)(size - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;   /* the file shrank under us */
	}
	return 0;
}

/* Bytes of the ELF image that execution needs, and the header to write over
 * the copy's; 0 when the file does not look like a 64-bit ELF we understand
 * (then the whole file is copied as it is). */
static off_t loadable_size(int fd, off_t file_size, Elf64_Ehdr *eh)
{
	Elf64_Phdr ph;
	off_t end;

	if (pread(fd, eh, sizeof(*eh), 0) != (ssize_t)sizeof(*eh) ||
	    memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(ph) || eh->e_phnum == 0 || eh->e_phnum >= PN_XNUM)
		return 0;
	end = (off_t)(eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(ph));
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		off_t seg_end;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh->e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph))
			return 0;
		seg_end = (off_t)(ph.p_offset + ph.p_filesz);
		if (ph.p_offset > (uint64_t)file_size || seg_end > file_size)
			return 0;
		if (seg_end > end)
			end = seg_end;
	}
	if (end > file_size || end < (off_t)sizeof(*eh))
		return 0;
	eh->e_shoff = 0;
	eh->e_shnum = 0;
	eh->e_shstrndx = SHN_UNDEF;
	return end;
}

int hull_ensure_sealed_self(int argc, char **argv, struct hull_err *err)
{
	_cleanup_close_ int src = -1;
	_cleanup_close_ int mfd = -1;
	struct stat st;
	Elf64_Ehdr eh;
	off_t size;
	int ret;

	(void)argc;
	src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return hull_errf_sys(err, errno, "open /proc/self/exe");
	if (fd_is_sealed(src) || fd_on_readonly_overlay(src))
		return 0;

	mfd = overlay_view_of_self();
	if (mfd >= 0) {
		syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
		close(mfd);   /* e.g. the overlay is noexec somehow: copy instead */
		mfd = -1;
	}
	if (fstat(src, &st) < 0)
		return hull_errf_sys(err, errno, "stat /proc/self/exe");

	mfd = make_memfd();
	if (mfd < 0)
		return hull_errf_sys(err, errno, "memfd_create for a sealed copy of hull");
	size = loadable_size(src, st.st_size, &eh);
	ret = copy_all(mfd, src, size ? size : st.st_size);
	if (ret < 0)
		return hull_errf_sys(err, -ret, "copy hull into a memfd");
	if (size && pwrite(mfd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
		return hull_errf_sys(err, errno, "copy hull into a memfd");
	if (fcntl(mfd, F_ADD_SEALS, HULL_SEALS | F_SEAL_EXEC) < 0 &&
	    fcntl(mfd, F_ADD_SEALS, HULL_SEALS) < 0)
		return hull_errf_sys(err, errno, "seal the memfd copy of hull");

	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	return hull_errf_sys(err, errno, "re-exec hull from its sealed copy");
}
