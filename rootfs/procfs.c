/* procfs.c — the runtime's own procfs accesses, safe from overmounts. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "rootfs/rootfs.h"

#define PROC_ROOT_INO 1

static bool is_procfs(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

/* A handle on the root of a procfs: a private clone of /proc where we may
 * make one, /proc itself otherwise. */
static int proc_root(struct hull_err *err)
{
	struct stat st;
	int fd = open_tree(AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

	if (fd < 0)
		fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return hull_errf_sys(err, errno, "open /proc");
	if (!is_procfs(fd) || fstat(fd, &st) < 0 || st.st_ino != PROC_ROOT_INO) {
		close(fd);
		return hull_errf(err, EXDEV, "/proc is not the root of a procfs");
	}
	return fd;
}

int rootfs_proc_open(const char *path, int flags, struct hull_err *err)
{
	_cleanup_close_ int root = -1;
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC | O_NOCTTY),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	root = proc_root(err);
	if (root < 0)
		return root;
	fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) {
		/* no openat2: refuse anything that could climb, then check */
		if (path[0] == '/' || strstr(path, ".."))
			return hull_errf(err, EINVAL, "/proc/%s: path must stay below /proc", path);
		fd = openat(root, path, flags | O_CLOEXEC | O_NOCTTY);
	}
	if (fd < 0)
		return hull_errf_sys(err, errno, "/proc/%s", path);
	if (!is_procfs((int)fd)) {
		close((int)fd);
		return hull_errf(err, EXDEV, "/proc/%s is not on procfs", path);
	}
	return (int)fd;
}
