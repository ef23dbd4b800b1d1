/* fs.c — virtio-fs: a FUSE passthrough server for one host directory.
 *
 * The guest mounts it with `mount -t virtiofs TAG DIR`.  Requests are served
 * synchronously on the vCPU thread that kicked the queue (like blk.c), one
 * at a time under the device lock.
 *
 * Confinement: every inode the guest holds is an O_PATH fd, and every new
 * one is reached from a parent inode by ONE name component through
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) —
 * names with '/', "." or ".." are refused, symlinks are never followed on
 * the host (readlink returns their text for the guest to resolve in its own
 * namespace), so nothing outside the shared directory can be named.  Files
 * are reopened through /proc/self/fd/N, and only regular files and
 * directories are ever opened (a FIFO or device node could block or reach
 * host hardware); device nodes cannot be created.  proc, sysfs, cgroup,
 * devpts and mqueue mounts inside the directory are invisible to the guest.
 * Every length and count in a request is checked against the chain.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fuse.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "microvm/vm.h"
#include "microvm/virtio/virtio.h"

#define VIRTIO_ID_FS 26
#define FS_QUEUE_SIZE 128
#define FS_TAG_LEN 36
#define FS_MAX_WRITE (128u * 1024)
#define FS_MAX_INODES (1u << 20)
#define FS_MAX_HANDLES 4096u
#define FS_REQ_MAX (FS_MAX_WRITE + 4096)
#define FS_TTL_SEC 1
#define FS_MQUEUE_MAGIC 0x19800202
/* fs_dispatch results that are not a reply length or -errno */
#define FS_NO_REPLY INT_MIN
#define FS_REPLY_IN_PLACE (INT_MIN + 1)

struct fs_inode {
	int fd;               /* O_PATH, -1 = free slot */
	dev_t dev;
	ino_t ino;
	uint64_t nlookup;
	bool opaque;          /* a proc/sys/... mount: shown as an empty directory */
};

struct fs {
	struct virtio_dev vdev;
	bool read_only;
	struct fs_inode *inodes;   /* nodeid n is inodes[n - 1]; nodeid 1 is the root */
	size_t n_inodes, cap_inodes;
	int handles[FS_MAX_HANDLES];   /* fh n is handles[n]; -1 = free */
	bool handle_empty[FS_MAX_HANDLES];   /* an opaque directory: reads as empty */
	uint8_t req[FS_REQ_MAX];
	uint8_t reply[FS_REQ_MAX];
	size_t in_place;      /* FS_REPLY_IN_PLACE: bytes already in the chain */
	struct {
		char tag[FS_TAG_LEN];
		uint32_t num_request_queues;
	} __attribute__((packed)) config;
};

/* ---- inodes and handles --------------------------------------------------- */

static struct fs_inode *inode_get(struct fs *f, uint64_t nodeid)
{
	if (nodeid == 0 || nodeid > f->n_inodes || f->inodes[nodeid - 1].fd < 0)
		return NULL;
	return &f->inodes[nodeid - 1];
}

static bool hidden_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return true;
	switch ((unsigned long)sf.f_type) {
	case PROC_SUPER_MAGIC: case SYSFS_MAGIC: case CGROUP_SUPER_MAGIC: case CGROUP2_SUPER_MAGIC:
	case DEVPTS_SUPER_MAGIC: case FS_MQUEUE_MAGIC:
		return true;
	}
	return false;
}

/* Take ownership of fd as an inode (an existing one if it is the same file). */
static int inode_add(struct fs *f, int fd, const struct stat *st, bool opaque, uint64_t *nodeid)
{
	size_t free_slot = SIZE_MAX;

	for (size_t i = 0; i < f->n_inodes; i++) {
		struct fs_inode *n = &f->inodes[i];
		if (n->fd >= 0 && n->dev == st->st_dev && n->ino == st->st_ino) {
			close(fd);
			n->nlookup++;
			*nodeid = i + 1;
			return 0;
		}
		if (n->fd < 0 && free_slot == SIZE_MAX && i > 0)
			free_slot = i;
	}
	if (free_slot == SIZE_MAX) {
		if (f->n_inodes >= FS_MAX_INODES) {
			close(fd);
			return -ENFILE;
		}
		if (f->n_inodes == f->cap_inodes) {
			size_t cap = f->cap_inodes ? f->cap_inodes * 2 : 256;
			struct fs_inode *n = realloc(f->inodes, cap * sizeof(*n));
			if (!n) {
				close(fd);
				return -ENOMEM;
			}
			f->inodes = n;
			f->cap_inodes = cap;
		}
		free_slot = f->n_inodes++;
	}
	f->inodes[free_slot] = (struct fs_inode){ .fd = fd, .dev = st->st_dev, .ino = st->st_ino, .nlookup = 1,
						  .opaque = opaque };
	*nodeid = free_slot + 1;
	return 0;
}

static void inode_forget(struct fs *f, uint64_t nodeid, uint64_t n)
{
	struct fs_inode *in = inode_get(f, nodeid);

	if (!in || nodeid == FUSE_ROOT_ID)
		return;
	in->nlookup = n >= in->nlookup ? 0 : in->nlookup - n;
	if (!in->nlookup) {
		close(in->fd);
		in->fd = -1;
	}
}

static int handle_add(struct fs *f, int fd, uint64_t *fh)
{
	for (unsigned i = 0; i < FS_MAX_HANDLES; i++)
		if (f->handles[i] < 0) {
			f->handles[i] = fd;
			*fh = i;
			return 0;
		}
	close(fd);
	return -ENFILE;
}

static int handle_get(struct fs *f, uint64_t fh)
{
	return fh < FS_MAX_HANDLES ? f->handles[fh] : -1;
}

static void handle_close(struct fs *f, uint64_t fh)
{
	if (fh < FS_MAX_HANDLES && f->handles[fh] >= 0) {
		close(f->handles[fh]);
		f->handles[fh] = -1;
		f->handle_empty[fh] = false;
	}
}

/* ---- host operations, confined ------------------------------------------- */

static bool name_ok(const char *name)
{
	return name[0] && strcmp(name, ".") && strcmp(name, "..") && !strchr(name, '/') && strlen(name) <= NAME_MAX;
}

static int open_beneath(int dirfd, const char *name, uint64_t flags, uint64_t mode)
{
	struct open_how how = { .flags = flags | O_CLOEXEC | O_NOFOLLOW, .mode = mode,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

/* Open an inode's file for I/O; only regular files and directories. */
static int reopen(const struct fs_inode *in, int flags)
{
	char path[64];
	struct stat st;
	int fd;

	if (fstatat(in->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -EPERM;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", in->fd);
	/* The magic link names exactly this inode (checked above). */
	fd = open(path, (flags & ~(O_CREAT | O_EXCL | O_NOCTTY)) | O_CLOEXEC | O_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

static void fill_attr(struct fuse_attr *a, const struct stat *st)
{
	memset(a, 0, sizeof(*a));
	a->ino = st->st_ino;
	a->size = (uint64_t)st->st_size;
	a->blocks = (uint64_t)st->st_blocks;
	a->atime = (uint64_t)st->st_atim.tv_sec;
	a->mtime = (uint64_t)st->st_mtim.tv_sec;
	a->ctime = (uint64_t)st->st_ctim.tv_sec;
	a->atimensec = (uint32_t)st->st_atim.tv_nsec;
	a->mtimensec = (uint32_t)st->st_mtim.tv_nsec;
	a->ctimensec = (uint32_t)st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = (uint32_t)st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->rdev = (uint32_t)st->st_rdev;
	a->blksize = (uint32_t)st->st_blksize;
}

/* A new entry belongs to the guest process that made it. */
static void own_new(const struct fs_inode *parent, const char *name, const struct fuse_in_header *ih)
{
	if (fchownat(parent->fd, name, ih->uid, ih->gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM)
		return;
}

/* name under parent → a fuse_entry_out in out; returns its size or -errno. */
static int do_lookup(struct fs *f, uint64_t parent, const char *name, struct fuse_entry_out *out)
{
	struct fs_inode *p = inode_get(f, parent);
	struct stat st;
	int fd;

	if (!p)
		return -ESTALE;
	if (!name_ok(name))
		return -EINVAL;
	if (p->opaque)
		return -ENOENT;
	fd = open_beneath(p->fd, name, O_PATH, 0);
	if (fd < 0)
		return fd == -ELOOP || fd == -EXDEV ? -EACCES : fd;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		close(fd);
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	/* The guest mounts its own proc/sys there: it needs the directory,
	 * never the host's content. */
	if ((fd = inode_add(f, fd, &st, S_ISDIR(st.st_mode) && hidden_fs(fd), &out->nodeid)) < 0)
		return fd;
	out->entry_valid = out->attr_valid = FS_TTL_SEC;
	fill_attr(&out->attr, &st);
	return sizeof(*out);
}

static int inode_stat(const struct fs_inode *in, struct stat *st)
{
	return fstatat(in->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int attr_reply(const struct fs_inode *in, struct fuse_attr_out *out)
{
	struct stat st;
	int r = inode_stat(in, &st);

	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	out->attr_valid = FS_TTL_SEC;
	fill_attr(&out->attr, &st);
	return sizeof(*out);
}

static int do_setattr(struct fs *f, struct fs_inode *in, const struct fuse_setattr_in *sa, struct fuse_attr_out *out)
{
	char path[64];
	struct stat st;
	int r;

	if ((r = inode_stat(in, &st)) < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", in->fd);
	if ((sa->valid & FATTR_MODE) && (S_ISLNK(st.st_mode) || chmod(path, sa->mode & 07777) < 0))
		return S_ISLNK(st.st_mode) ? -EOPNOTSUPP : -errno;
	if (sa->valid & (FATTR_UID | FATTR_GID)) {
		uid_t uid = sa->valid & FATTR_UID ? sa->uid : (uid_t)-1;
		gid_t gid = sa->valid & FATTR_GID ? sa->gid : (gid_t)-1;
		if (fchownat(in->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (sa->valid & FATTR_SIZE) {
		int fd = (sa->valid & FATTR_FH) ? handle_get(f, sa->fh) : -1, own = -1;
		if (fd < 0) {
			if (!S_ISREG(st.st_mode))
				return -EINVAL;
			if ((own = reopen(in, O_WRONLY)) < 0)
				return own;
			fd = own;
		}
		r = ftruncate(fd, (off_t)sa->size) < 0 ? -errno : 0;
		if (own >= 0)
			close(own);
		if (r < 0)
			return r;
	}
	if ((sa->valid & (FATTR_ATIME | FATTR_MTIME)) && !S_ISLNK(st.st_mode)) {
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
		if (sa->valid & FATTR_ATIME)
			ts[0] = (sa->valid & FATTR_ATIME_NOW) ? (struct timespec){ .tv_nsec = UTIME_NOW }
				: (struct timespec){ (time_t)sa->atime, sa->atimensec };
		if (sa->valid & FATTR_MTIME)
			ts[1] = (sa->valid & FATTR_MTIME_NOW) ? (struct timespec){ .tv_nsec = UTIME_NOW }
				: (struct timespec){ (time_t)sa->mtime, sa->mtimensec };
		if (utimensat(AT_FDCWD, path, ts, 0) < 0)
			return -errno;
	}
	return attr_reply(in, out);
}

static int do_readdir(struct fs *f, int fd, uint64_t offset, uint32_t size, uint8_t *out)
{
	char buf[8192];
	uint32_t used = 0;

	if (size > FS_MAX_WRITE)
		size = FS_MAX_WRITE;
	if (lseek(fd, (off_t)offset, SEEK_SET) < 0)
		return -errno;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		for (long pos = 0; pos < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + pos);
			size_t namelen = strlen(d->d_name);
			size_t reclen = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen);
			struct fuse_dirent *fd_out;
			if (used + reclen > size)
				return (int)used;
			fd_out = (struct fuse_dirent *)(out + used);
			fd_out->ino = d->d_ino;
			fd_out->off = (uint64_t)d->d_off;
			fd_out->namelen = (uint32_t)namelen;
			fd_out->type = d->d_type;
			memcpy(fd_out->name, d->d_name, namelen);
			memset(fd_out->name + namelen, 0, reclen - FUSE_NAME_OFFSET - namelen);
			used += (uint32_t)reclen;
			pos += d->d_reclen;
		}
	}
	(void)f;
	return (int)used;
}

/* ---- request dispatch ----------------------------------------------------- */

/* NUL-terminated string at arg[off..len); NULL if there is none. */
static const char *arg_str(const uint8_t *arg, size_t len, size_t off)
{
	if (off >= len || !memchr(arg + off, 0, len - off))
		return NULL;
	return (const char *)arg + off;
}

#define NEED(type) do { if (alen < sizeof(type)) return -EINVAL; } while (0)
#define WRITE_OP() do { if (f->read_only) return -EROFS; } while (0)

/* Serve one request; the reply payload goes to f->reply.  Returns its
 * length, -errno for an error reply, FS_NO_REPLY (forget) or FS_REPLY_IN_PLACE. */
static int fs_dispatch(struct fs *f, const struct fuse_in_header *ih, const uint8_t *arg, size_t alen,
		       const struct virtq_chain *c)
{
	struct fs_inode *in = inode_get(f, ih->nodeid);
	void *out = f->reply;
	int fd, r;

	switch (ih->opcode) {
	case FUSE_INIT: {
		const struct fuse_init_in *ii = (const void *)arg;
		struct fuse_init_out *io = out;
		if (alen < 16)   /* major, minor, max_readahead, flags: every version has them */
			return -EINVAL;
		if (ii->major != FUSE_KERNEL_VERSION)
			return -EPROTO;
		memset(io, 0, sizeof(*io));
		io->major = FUSE_KERNEL_VERSION;
		io->minor = FUSE_KERNEL_MINOR_VERSION < ii->minor ? FUSE_KERNEL_MINOR_VERSION : ii->minor;
		io->max_readahead = ii->max_readahead;
		io->max_write = FS_MAX_WRITE;
		io->flags = ii->flags & (FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_DONT_MASK);
		io->time_gran = 1;
		return sizeof(*io);
	}
	case FUSE_DESTROY:
		return 0;
	case FUSE_FORGET:
		NEED(struct fuse_forget_in);
		inode_forget(f, ih->nodeid, ((const struct fuse_forget_in *)arg)->nlookup);
		return FS_NO_REPLY;
	case FUSE_BATCH_FORGET: {
		const struct fuse_batch_forget_in *b = (const void *)arg;
		NEED(struct fuse_batch_forget_in);
		if (b->count > (alen - sizeof(*b)) / sizeof(struct fuse_forget_one))
			return FS_NO_REPLY;
		for (uint32_t i = 0; i < b->count; i++) {
			const struct fuse_forget_one *o = (const void *)(arg + sizeof(*b) + i * sizeof(*o));
			inode_forget(f, o->nodeid, o->nlookup);
		}
		return FS_NO_REPLY;
	}
	case FUSE_STATFS: {
		struct statfs sf;
		struct fuse_statfs_out *so = out;
		if (!in)
			return -ESTALE;
		if (fstatfs(in->fd, &sf) < 0)
			return -errno;
		memset(so, 0, sizeof(*so));
		so->st.blocks = sf.f_blocks;
		so->st.bfree = sf.f_bfree;
		so->st.bavail = sf.f_bavail;
		so->st.files = sf.f_files;
		so->st.ffree = sf.f_ffree;
		so->st.bsize = (uint32_t)sf.f_bsize;
		so->st.namelen = (uint32_t)sf.f_namelen;
		so->st.frsize = (uint32_t)sf.f_frsize;
		return sizeof(*so);
	}
	}
	if (!in)
		return -ESTALE;
	if (in->opaque) {
		switch (ih->opcode) {
		case FUSE_LOOKUP: case FUSE_GETATTR: case FUSE_OPENDIR: case FUSE_READDIR:
		case FUSE_RELEASEDIR: case FUSE_FSYNCDIR: case FUSE_ACCESS: case FUSE_GETXATTR: case FUSE_LISTXATTR:
			break;
		default:
			return -EACCES;
		}
	}
	switch (ih->opcode) {
	case FUSE_LOOKUP: {
		const char *name = arg_str(arg, alen, 0);
		if (!name)
			return -EINVAL;
		return do_lookup(f, ih->nodeid, name, out);
	}
	case FUSE_GETATTR:
		return attr_reply(in, out);
	case FUSE_SETATTR:
		NEED(struct fuse_setattr_in);
		WRITE_OP();
		return do_setattr(f, in, (const void *)arg, out);
	case FUSE_READLINK: {
		ssize_t n = readlinkat(in->fd, "", (char *)out, PATH_MAX);
		return n < 0 ? -errno : (int)n;
	}
	case FUSE_OPEN:
	case FUSE_OPENDIR: {
		const struct fuse_open_in *oi = (const void *)arg;
		struct fuse_open_out *oo = out;
		int flags;
		NEED(struct fuse_open_in);
		flags = ih->opcode == FUSE_OPENDIR ? O_RDONLY | O_DIRECTORY : (int)oi->flags;
		if (f->read_only && (flags & O_ACCMODE) != O_RDONLY)
			return -EROFS;
		fd = in->opaque ? fcntl(in->fd, F_DUPFD_CLOEXEC, 3)
				: reopen(in, flags & (O_ACCMODE | O_APPEND | O_TRUNC | O_DIRECTORY));
		if (fd < 0)
			return in->opaque ? -errno : fd;
		memset(oo, 0, sizeof(*oo));
		if ((r = handle_add(f, fd, &oo->fh)) < 0)
			return r;
		f->handle_empty[oo->fh] = in->opaque;
		return sizeof(*oo);
	}
	case FUSE_READ: {
		const struct fuse_read_in *ri = (const void *)arg;
		struct iovec iov[VIRTQ_MAX_CHAIN];
		size_t room = c->writable_len - sizeof(struct fuse_out_header);
		size_t want;
		int niov;
		ssize_t n;
		NEED(struct fuse_read_in);
		if ((fd = handle_get(f, ri->fh)) < 0)
			return -EBADF;
		want = ri->size < room ? ri->size : room;
		/* Straight into guest memory, after the reply header. */
		niov = virtq_chain_iov(c, true, sizeof(struct fuse_out_header), want, iov, VIRTQ_MAX_CHAIN);
		if (niov < 0)
			return -EINVAL;
		n = want ? preadv(fd, iov, niov, (off_t)ri->offset) : 0;
		if (n < 0)
			return -errno;
		f->in_place = (size_t)n;
		return FS_REPLY_IN_PLACE;
	}
	case FUSE_WRITE: {
		const struct fuse_write_in *wi = (const void *)arg;
		struct fuse_write_out *wo = out;
		ssize_t n;
		NEED(struct fuse_write_in);
		WRITE_OP();
		if ((fd = handle_get(f, wi->fh)) < 0)
			return -EBADF;
		if (wi->size > alen - sizeof(*wi))
			return -EINVAL;
		n = pwrite(fd, arg + sizeof(*wi), wi->size, (off_t)wi->offset);
		if (n < 0)
			return -errno;
		memset(wo, 0, sizeof(*wo));
		wo->size = (uint32_t)n;
		return sizeof(*wo);
	}
	case FUSE_READDIR: {
		const struct fuse_read_in *ri = (const void *)arg;
		size_t room = c->writable_len - sizeof(struct fuse_out_header);
		NEED(struct fuse_read_in);
		if ((fd = handle_get(f, ri->fh)) < 0)
			return -EBADF;
		if (f->handle_empty[ri->fh])
			return 0;
		return do_readdir(f, fd, ri->offset, (uint32_t)(ri->size < room ? ri->size : room), out);
	}
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
		NEED(struct fuse_release_in);
		handle_close(f, ((const struct fuse_release_in *)arg)->fh);
		return 0;
	case FUSE_FLUSH:
		return 0;
	case FUSE_FSYNC:
	case FUSE_FSYNCDIR: {
		const struct fuse_fsync_in *fi = (const void *)arg;
		NEED(struct fuse_fsync_in);
		if ((fd = handle_get(f, fi->fh)) < 0)
			return -EBADF;
		return ((fi->fsync_flags & 1) ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
	}
	case FUSE_MKDIR: {
		const struct fuse_mkdir_in *mi = (const void *)arg;
		const char *name = arg_str(arg, alen, sizeof(*mi));
		NEED(struct fuse_mkdir_in);
		WRITE_OP();
		if (!name || !name_ok(name))
			return -EINVAL;
		if (mkdirat(in->fd, name, mi->mode & ~mi->umask & 07777) < 0)
			return -errno;
		own_new(in, name, ih);
		return do_lookup(f, ih->nodeid, name, out);
	}
	case FUSE_MKNOD: {
		const struct fuse_mknod_in *mi = (const void *)arg;
		const char *name = arg_str(arg, alen, sizeof(*mi));
		NEED(struct fuse_mknod_in);
		WRITE_OP();
		if (!name || !name_ok(name))
			return -EINVAL;
		/* Device nodes on the host would reach host hardware. */
		if (!S_ISFIFO(mi->mode) && !S_ISREG(mi->mode) && !S_ISSOCK(mi->mode))
			return -EPERM;
		if (mknodat(in->fd, name, (mi->mode & S_IFMT) | (mi->mode & ~mi->umask & 07777), 0) < 0)
			return -errno;
		own_new(in, name, ih);
		return do_lookup(f, ih->nodeid, name, out);
	}
	case FUSE_CREATE: {
		const struct fuse_create_in *ci = (const void *)arg;
		const char *name = arg_str(arg, alen, sizeof(*ci));
		struct fuse_entry_out *eo = out;
		struct fuse_open_out *oo = (void *)((uint8_t *)out + sizeof(*eo));
		NEED(struct fuse_create_in);
		WRITE_OP();
		if (!name || !name_ok(name))
			return -EINVAL;
		fd = open_beneath(in->fd, name, (ci->flags & (O_ACCMODE | O_APPEND | O_TRUNC | O_EXCL)) | O_CREAT | O_NONBLOCK,
				  ci->mode & ~ci->umask & 07777);
		if (fd < 0)
			return fd;
		own_new(in, name, ih);
		if ((r = do_lookup(f, ih->nodeid, name, eo)) < 0) {
			close(fd);
			return r;
		}
		memset(oo, 0, sizeof(*oo));
		if ((r = handle_add(f, fd, &oo->fh)) < 0)
			return r;
		return sizeof(*eo) + sizeof(*oo);
	}
	case FUSE_SYMLINK: {
		const char *name = arg_str(arg, alen, 0), *target;
		WRITE_OP();
		if (!name || !name_ok(name) || !(target = arg_str(arg, alen, strlen(name) + 1)))
			return -EINVAL;
		/* The target is text for the guest; the host never follows it. */
		if (symlinkat(target, in->fd, name) < 0)
			return -errno;
		own_new(in, name, ih);
		return do_lookup(f, ih->nodeid, name, out);
	}
	case FUSE_LINK: {
		const struct fuse_link_in *li = (const void *)arg;
		const char *name = arg_str(arg, alen, sizeof(*li));
		struct fs_inode *old;
		char path[64];
		NEED(struct fuse_link_in);
		WRITE_OP();
		if (!name || !name_ok(name) || !(old = inode_get(f, li->oldnodeid)) || old->opaque)
			return -EINVAL;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", old->fd);
		if (linkat(AT_FDCWD, path, in->fd, name, AT_SYMLINK_FOLLOW) < 0)
			return -errno;
		return do_lookup(f, ih->nodeid, name, out);
	}
	case FUSE_UNLINK:
	case FUSE_RMDIR: {
		const char *name = arg_str(arg, alen, 0);
		WRITE_OP();
		if (!name || !name_ok(name))
			return -EINVAL;
		return unlinkat(in->fd, name, ih->opcode == FUSE_RMDIR ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
	}
	case FUSE_RENAME:
	case FUSE_RENAME2: {
		size_t hdr = ih->opcode == FUSE_RENAME ? sizeof(struct fuse_rename_in) : sizeof(struct fuse_rename2_in);
		const struct fuse_rename2_in *ri = (const void *)arg;
		const char *oldname = arg_str(arg, alen, hdr), *newname;
		struct fs_inode *np;
		unsigned flags = ih->opcode == FUSE_RENAME2 ? ri->flags : 0;
		WRITE_OP();
		if (alen < hdr || !oldname || !name_ok(oldname) ||
		    !(newname = arg_str(arg, alen, hdr + strlen(oldname) + 1)) || !name_ok(newname) ||
		    !(np = inode_get(f, ri->newdir)) || np->opaque)
			return -EINVAL;
		if (syscall(SYS_renameat2, in->fd, oldname, np->fd, newname, flags) < 0)
			return -errno;
		return 0;
	}
	case FUSE_ACCESS:
	case FUSE_GETXATTR:
	case FUSE_LISTXATTR:
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
		return -ENOSYS;   /* the guest kernel's own permission checks apply */
	}
	return -ENOSYS;
}

static uint32_t fs_request(struct fs *f, const struct virtq_chain *c)
{
	struct fuse_in_header ih;
	struct fuse_out_header oh;
	size_t len = c->readable_len;
	int r;

	if (len < sizeof(ih) || len > sizeof(f->req) || virtq_chain_read(c, 0, f->req, len) != len)
		return 0;
	memcpy(&ih, f->req, sizeof(ih));
	if (ih.len != len)
		return 0;
	/* FORGETs (on the hiprio queue) have no reply buffer; nothing else may lack one. */
	if (c->writable_len < sizeof(oh) && ih.opcode != FUSE_FORGET && ih.opcode != FUSE_BATCH_FORGET)
		return 0;
	r = fs_dispatch(f, &ih, f->req + sizeof(ih), len - sizeof(ih), c);
	if (r == FS_NO_REPLY)
		return 0;
	memset(&oh, 0, sizeof(oh));
	oh.unique = ih.unique;
	if (r == FS_REPLY_IN_PLACE) {
		oh.len = (uint32_t)(sizeof(oh) + f->in_place);
	} else if (r < 0) {
		oh.error = r;
		oh.len = sizeof(oh);
	} else {
		if ((size_t)r > c->writable_len - sizeof(oh)) {
			oh.error = -ERANGE;
			oh.len = sizeof(oh);
		} else {
			oh.len = (uint32_t)(sizeof(oh) + (size_t)r);
			virtq_chain_write(c, sizeof(oh), f->reply, (size_t)r);
		}
	}
	virtq_chain_write(c, 0, &oh, sizeof(oh));
	return oh.len;
}

static void fs_notify(struct virtio_dev *d, unsigned qi)
{
	struct fs *f = d->opaque;
	struct virtq *q = &d->queues[qi];
	struct virtq_chain c;
	bool any = false;
	int r;

	while ((r = virtq_pop(q, &c)) > 0) {
		virtq_push(q, c.head, fs_request(f, &c));
		any = true;
	}
	if (r < 0)
		virtio_set_broken(d, "malformed request queue");
	if (any)
		virtio_notify_used(d);
}

static void fs_reset(struct virtio_dev *d)
{
	struct fs *f = d->opaque;

	for (size_t i = 1; i < f->n_inodes; i++)
		if (f->inodes[i].fd >= 0) {
			close(f->inodes[i].fd);
			f->inodes[i].fd = -1;
		}
	for (unsigned i = 0; i < FS_MAX_HANDLES; i++)
		handle_close(f, i);
}

static const struct virtio_dev_ops fs_ops = { .notify = fs_notify, .reset = fs_reset };

static void fs_free(void *opaque)
{
	struct fs *f = opaque;

	fs_reset(&f->vdev);
	if (f->n_inodes && f->inodes[0].fd >= 0)
		close(f->inodes[0].fd);
	free(f->inodes);
	pthread_mutex_destroy(&f->vdev.lock);
	free(f);
}

int virtio_fs_attach(struct hull_vm *vm, struct hull_err *err);

int virtio_fs_attach(struct hull_vm *vm, struct hull_err *err)
{
	struct fs *f;
	struct stat st;
	uint64_t root;
	int fd, r;

	if (!vm->cfg.fs_tag)
		return 0;
	if (strlen(vm->cfg.fs_tag) >= FS_TAG_LEN)
		return hull_errf(err, EINVAL, "virtio-fs: tag `%s` is longer than %d bytes", vm->cfg.fs_tag, FS_TAG_LEN - 1);
	fd = fcntl(vm->cfg.fs_root_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		r = hull_errf_sys(err, fd < 0 ? errno : ENOTDIR, "virtio-fs: shared directory");
		if (fd >= 0)
			close(fd);
		return r;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return hull_errf(err, ENOMEM, "virtio-fs");
	}
	for (unsigned i = 0; i < FS_MAX_HANDLES; i++)
		f->handles[i] = -1;
	f->read_only = vm->cfg.fs_read_only;
	if ((r = inode_add(f, fd, &st, false, &root)) < 0) {
		free(f);
		return hull_errf_sys(err, -r, "virtio-fs");
	}
	snprintf(f->config.tag, sizeof(f->config.tag), "%s", vm->cfg.fs_tag);
	f->config.num_request_queues = 1;
	virtio_dev_init(&f->vdev, vm, "virtio-fs", VIRTIO_ID_FS, 0, 2, FS_QUEUE_SIZE, &fs_ops, f);
	if ((r = vm_add_cleanup(vm, fs_free, f, err)) < 0)
		return r;
	f->vdev.config = (uint8_t *)&f->config;
	f->vdev.config_len = sizeof(f->config);
	return virtio_mmio_attach(&f->vdev, err);
}

VM_DEVICE_TYPE(virtio_fs, virtio_fs_attach);
