/* devices.c — device nodes, /dev symlinks, /dev/ptmx, /dev/shm, /dev/console. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "rootfs/internal.h"
#include "rootfs/safepath.h"

struct devnode {
	const char *path;
	char type;              /* 'c', 'b', 'u', 'p' */
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	bool is_default;
};

static const struct devnode default_devices[] = {
	{ "/dev/null",    'c', 1, 3, 0666, 0, 0, true },
	{ "/dev/zero",    'c', 1, 5, 0666, 0, 0, true },
	{ "/dev/full",    'c', 1, 7, 0666, 0, 0, true },
	{ "/dev/random",  'c', 1, 8, 0666, 0, 0, true },
	{ "/dev/urandom", 'c', 1, 9, 0666, 0, 0, true },
	{ "/dev/tty",     'c', 5, 0, 0666, 0, 0, true },
};

static mode_t devnode_ifmt(char type)
{
	switch (type) {
	case 'b': return S_IFBLK;
	case 'p': return S_IFIFO;
	default:  return S_IFCHR;   /* 'c' and 'u' (unbuffered character) */
	}
}

static bool matches(const struct stat *st, const struct devnode *d)
{
	if ((st->st_mode & S_IFMT) != devnode_ifmt(d->type))
		return false;
	return d->type == 'p' || st->st_rdev == makedev(d->major, d->minor);
}

/* In a user namespace mknod is not allowed: bind the host's node instead,
 * after checking it is the device the config names. */
static int bind_host_node(int parent, const char *name, const struct devnode *d, struct hull_err *err)
{
	_cleanup_close_ int src = -1, dst = -1;
	struct stat st;
	int fd;

	src = open(d->path, O_PATH | O_CLOEXEC);
	if (src < 0)
		return hull_errf_sys(err, errno, "host device `%s`", d->path);
	if (fstat(src, &st) < 0)
		return hull_errf_sys(err, errno, "stat host `%s`", d->path);
	if (!matches(&st, d))
		return hull_errf(err, ENODEV, "host `%s` is not device %c %u:%u", d->path, d->type,
				 d->major, d->minor);
	fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hull_errf_sys(err, errno, "create bind target");
	close(fd);
	dst = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0)
		return hull_errf_sys(err, errno, "open bind target");
	return rootfs_bind_fd(src, dst, NULL, false, -1, err);
}

static int make_node(int parent, const char *name, const struct devnode *d, bool userns, struct hull_err *err)
{
	mode_t old;
	int r;

	if (userns && d->type != 'p')
		return bind_host_node(parent, name, d, err);
	old = umask(0);
	r = mknodat(parent, name, devnode_ifmt(d->type) | (d->mode & 07777),
		    d->type == 'p' ? 0 : makedev(d->major, d->minor));
	umask(old);
	if (r < 0) {
		if (errno == EPERM && d->type != 'p')
			return bind_host_node(parent, name, d, err);
		return hull_errf_sys(err, errno, "mknod");
	}
	if (fchownat(parent, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return hull_errf_sys(err, errno, "chown %u:%u", (unsigned)d->uid, (unsigned)d->gid);
	return 0;
}

static int create_device(struct rootfs_ctx *c, const struct devnode *d, struct hull_err *err)
{
	char name[NAME_MAX + 1];
	_cleanup_close_ int parent = safepath_open_parent(c->root_fd, d->path, true, name, sizeof(name), err);
	struct stat st;

	if (parent < 0)
		return parent;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (matches(&st, d))
			return 0;
		/* The image's file here is replaced, never followed or reused:
		 * a symlink at /dev/null would otherwise redirect every later
		 * use of it (CVE-2025-31133 class).  For devices the config
		 * asked for, the spec wants an error instead. */
		if (!d->is_default && !S_ISLNK(st.st_mode))
			return hull_errf(err, EEXIST, "a different file already exists there");
		if (S_ISDIR(st.st_mode))
			return hull_errf(err, EISDIR, "a directory is in the way");
		if (unlinkat(parent, name, 0) < 0)
			return hull_errf_sys(err, errno, "remove the image's file");
	} else if (errno != ENOENT) {
		return hull_errf_sys(err, errno, "stat");
	}
	return make_node(parent, name, d, c->s->userns, err);
}

static int config_device(const struct oci_device *od, struct devnode *d, struct hull_err *err)
{
	if (!od->path || od->path[0] != '/')
		return hull_errf(err, EINVAL, "path must be absolute");
	d->path = od->path;
	d->type = od->type;
	if (od->type != 'p' && (!od->major.set || !od->minor.set))
		return hull_errf(err, EINVAL, "major and minor are required for type %c", od->type);
	d->major = od->major.set ? (unsigned)od->major.v : 0;
	d->minor = od->minor.set ? (unsigned)od->minor.v : 0;
	d->mode = od->file_mode.set ? (mode_t)od->file_mode.v & 07777 : 0666;
	d->uid = od->uid.set ? (uid_t)od->uid.v : 0;
	d->gid = od->gid.set ? (gid_t)od->gid.v : 0;
	d->is_default = false;
	return 0;
}

static int dev_symlink(int devfd, const char *target, const char *name, struct hull_err *err)
{
	if (symlinkat(target, devfd, name) < 0 && errno != EEXIST)
		return hull_errf_sys(err, errno, "symlink /dev/%s -> %s", name, target);
	return 0;
}

static bool exists_in_root(int root_fd, const char *path)
{
	int fd = safepath_open(root_fd, path, O_PATH, 0, NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* /dev/ptmx must lead to this container's devpts instance. */
static int setup_ptmx(struct rootfs_ctx *c, int devfd, struct hull_err *err)
{
	struct stat st;

	if (!exists_in_root(c->root_fd, "/dev/pts/ptmx"))
		return 0;
	if (fstatat(devfd, "ptmx", &st, AT_SYMLINK_NOFOLLOW) == 0) {
		char target[16];
		ssize_t n = readlinkat(devfd, "ptmx", target, sizeof(target) - 1);
		if (n == 8 && !memcmp(target, "pts/ptmx", 8))
			return 0;
		if (S_ISDIR(st.st_mode) || unlinkat(devfd, "ptmx", 0) < 0)
			return hull_errf_sys(err, S_ISDIR(st.st_mode) ? EISDIR : errno, "replace /dev/ptmx");
	}
	if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
		return hull_errf_sys(err, errno, "symlink /dev/ptmx");
	return 0;
}

int rootfs_setup_dev(struct rootfs_ctx *c, struct hull_err *err)
{
	static const struct { const char *target, *name, *needs; } links[] = {
		{ "/proc/self/fd",   "fd",     "/proc/self/fd" },
		{ "/proc/self/fd/0", "stdin",  "/proc/self/fd" },
		{ "/proc/self/fd/1", "stdout", "/proc/self/fd" },
		{ "/proc/self/fd/2", "stderr", "/proc/self/fd" },
		{ "/proc/kcore",     "core",   "/proc/kcore" },
	};
	const struct oci_linux *lx = c->cfg->has_linux ? &c->cfg->linux_ : NULL;
	_cleanup_close_ int devfd = -1;
	int r;

	/* A /dev bound from the host already has its nodes; creating ours
	 * there would change the host's /dev. */
	if (c->dev_from_host)
		return 0;
	devfd = safepath_mkdir_all(c->root_fd, "/dev", 0755, err);
	if (devfd < 0)
		return hull_err_wrap(err, "/dev");
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		r = create_device(c, &default_devices[i], err);
		if (r < 0)
			return hull_err_wrap(err, "device `%s`", default_devices[i].path);
	}
	for (size_t i = 0; lx && i < lx->n_devices; i++) {
		struct devnode d;
		r = config_device(&lx->devices[i], &d, err);
		if (r == 0)
			r = create_device(c, &d, err);
		if (r < 0)
			return hull_err_wrap(err, "linux.devices[%zu] (`%s`)", i,
					     lx->devices[i].path ? lx->devices[i].path : "");
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		if (!exists_in_root(c->root_fd, links[i].needs))
			continue;
		r = dev_symlink(devfd, links[i].target, links[i].name, err);
		if (r < 0)
			return r;
	}
	r = setup_ptmx(c, devfd, err);
	if (r < 0)
		return r;
	if (mkdirat(devfd, "shm", 01777) < 0 && errno != EEXIST)
		return hull_errf_sys(err, errno, "mkdir /dev/shm");
	return 0;
}

/* /dev/console: a fresh empty file made by us, with the pty bound onto the
 * file's fd.  Whatever the image left there (a symlink to /proc/sysrq-trigger,
 * a device node) is removed first, never followed (CVE-2025-52565 class). */
static int bind_console(int root_fd, int slave_fd, struct hull_err *err)
{
	_cleanup_close_ int devfd = -1, dst = -1;
	struct stat st;
	int fd;

	devfd = safepath_mkdir_all(root_fd, "/dev", 0755, err);
	if (devfd < 0)
		return hull_err_wrap(err, "/dev/console");
	if (fstatat(devfd, "console", &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return hull_errf(err, EISDIR, "/dev/console is a directory");
		/* A symlink is removed; a file or node is bound over, not
		 * deleted: /dev may be the host's, bind-mounted. */
		if (S_ISLNK(st.st_mode) && unlinkat(devfd, "console", 0) < 0)
			return hull_errf_sys(err, errno, "remove the image's /dev/console symlink");
	}
	/* O_EXCL: never open an existing node (that would open the device) */
	fd = openat(devfd, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		return hull_errf_sys(err, errno, "create /dev/console");
	dst = openat(devfd, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0)
		return hull_errf_sys(err, errno, "open /dev/console");
	if (fstat(dst, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))
		return hull_errf(err, EXDEV, "/dev/console is neither a file nor a device (changed under us?)");
	if (rootfs_bind_fd(slave_fd, dst, NULL, false, -1, err) < 0)
		return hull_err_wrap(err, "bind the console onto /dev/console");
	return 0;
}

int rootfs_setup_console(struct rootfs_ctx *c, struct hull_err *err)
{
	if (c->s->console_slave_fd < 0)
		return 0;
	return bind_console(c->root_fd, c->s->console_slave_fd, err);
}

int rootfs_bind_console(int slave_fd, struct hull_err *err)
{
	_cleanup_close_ int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (root_fd < 0)
		return hull_errf_sys(err, errno, "open /");
	return bind_console(root_fd, slave_fd, err);
}
