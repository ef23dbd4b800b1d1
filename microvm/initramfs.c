#include "microvm/initramfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/cleanup.h"

#define CPIO_MAX_DEPTH 128

void cpio_init(struct cpio_writer *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->next_ino = 1;
}

void cpio_release(struct cpio_writer *w)
{
	free(w->links);
	w->links = NULL;
	w->n_links = w->cap_links = 0;
}

static int put(struct cpio_writer *w, const void *data, size_t len, struct hull_err *err)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return hull_errf_sys(err, n < 0 ? errno : EIO, "write the initramfs");
		p += n;
		len -= (size_t)n;
		w->offset += (uint64_t)n;
	}
	return 0;
}

static int pad4(struct cpio_writer *w, struct hull_err *err)
{
	static const char zeros[4];
	size_t n = (4 - (w->offset & 3)) & 3;

	return n ? put(w, zeros, n, err) : 0;
}

static int header(struct cpio_writer *w, const char *name, mode_t mode, uint32_t ino, uint32_t nlink,
		  uint64_t size, unsigned rmajor, unsigned rminor, struct hull_err *err)
{
	char hdr[111];
	size_t nlen = strlen(name) + 1;
	int r;

	if (size > UINT32_MAX)
		return hull_errf(err, EFBIG, "initramfs: `%s` is larger than 4 GiB", name);
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino,
		 (unsigned)mode, 0u, 0u, nlink, 0u, (unsigned)size, 0u, 0u, rmajor, rminor, (unsigned)nlen, 0u);
	if ((r = put(w, hdr, 110, err)) < 0 || (r = put(w, name, nlen, err)) < 0)
		return r;
	return pad4(w, err);
}

int cpio_add_dir(struct cpio_writer *w, const char *name, mode_t mode, struct hull_err *err)
{
	return header(w, name, S_IFDIR | (mode & 07777), w->next_ino++, 2, 0, 0, 0, err);
}

int cpio_add_chardev(struct cpio_writer *w, const char *name, mode_t mode, unsigned major, unsigned minor,
		     struct hull_err *err)
{
	return header(w, name, S_IFCHR | (mode & 07777), w->next_ino++, 1, 0, major, minor, err);
}

static int copy_data(struct cpio_writer *w, int src, uint64_t size, const char *name, struct hull_err *err)
{
	off_t off = 0;

	while ((uint64_t)off < size) {
		ssize_t n = sendfile(w->fd, src, &off, (size_t)(size - (uint64_t)off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return hull_errf_sys(err, n < 0 ? errno : EIO, "initramfs: copy `%s`", name);
		w->offset += (uint64_t)n;
	}
	return pad4(w, err);
}

int cpio_add_file(struct cpio_writer *w, const char *name, mode_t mode, int src_fd, struct hull_err *err)
{
	struct stat st;
	int r;

	if (fstat(src_fd, &st) < 0)
		return hull_errf_sys(err, errno, "initramfs: stat `%s`", name);
	if ((r = header(w, name, S_IFREG | (mode & 07777), w->next_ino++, 1, (uint64_t)st.st_size, 0, 0, err)) < 0)
		return r;
	return copy_data(w, src_fd, (uint64_t)st.st_size, name, err);
}

/* The archive inode of an earlier link to (dev, ino), or 0. */
static uint32_t link_find(const struct cpio_writer *w, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < w->n_links; i++)
		if (w->links[i].dev == dev && w->links[i].ino == ino)
			return w->links[i].cpio_ino;
	return 0;
}

static int link_add(struct cpio_writer *w, dev_t dev, ino_t ino, uint32_t cpio_ino, struct hull_err *err)
{
	if (w->n_links == w->cap_links) {
		size_t cap = w->cap_links ? w->cap_links * 2 : 64;
		struct cpio_link *n = realloc(w->links, cap * sizeof(*n));
		if (!n)
			return hull_errf_sys(err, ENOMEM, "initramfs");
		w->links = n;
		w->cap_links = cap;
	}
	w->links[w->n_links++] = (struct cpio_link){ dev, ino, cpio_ino };
	return 0;
}

static int add_entry(struct cpio_writer *w, int dirfd, const char *ent, const char *path, dev_t root_dev,
		     int depth, struct hull_err *err);

static int add_children(struct cpio_writer *w, int fd, const char *path, dev_t root_dev, int depth,
			struct hull_err *err)
{
	int dfd = dup(fd);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return hull_errf_sys(err, errno, "initramfs: read directory `%s`", path);
	}
	while ((errno = 0, de = readdir(d))) {
		char child[PATH_MAX];
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >= (int)sizeof(child)) {
			r = hull_errf(err, ENAMETOOLONG, "initramfs: path too long under `%s`", path);
			break;
		}
		if ((r = add_entry(w, fd, de->d_name, child, root_dev, depth + 1, err)) < 0)
			break;
	}
	if (!r && errno)
		r = hull_errf_sys(err, errno, "initramfs: read directory `%s`", path);
	closedir(d);
	return r;
}

static int add_entry(struct cpio_writer *w, int dirfd, const char *ent, const char *path, dev_t root_dev,
		     int depth, struct hull_err *err)
{
	struct stat st;
	_cleanup_close_ int fd = -1;
	mode_t perm;
	uint32_t ino;
	int r;

	if (depth > CPIO_MAX_DEPTH)
		return hull_errf(err, ELOOP, "initramfs: `%s` is nested too deeply", path);
	if (fstatat(dirfd, ent, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return hull_errf_sys(err, errno, "initramfs: stat `%s`", path);
	perm = st.st_mode & 07777;
	if (S_ISDIR(st.st_mode)) {
		if ((r = header(w, path, S_IFDIR | perm, w->next_ino++, 2, 0, 0, 0, err)) < 0)
			return r;
		if (st.st_dev != root_dev)
			return 0;   /* a mount point: proc, sys, a bind mount from elsewhere */
		fd = openat(dirfd, ent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return hull_errf_sys(err, errno, "initramfs: open `%s`", path);
		return add_children(w, fd, path, root_dev, depth, err);
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd, ent, target, sizeof(target) - 1);
		if (n < 0)
			return hull_errf_sys(err, errno, "initramfs: readlink `%s`", path);
		if ((r = header(w, path, S_IFLNK | 0777, w->next_ino++, 1, (uint64_t)n, 0, 0, err)) < 0 ||
		    (r = put(w, target, (size_t)n, err)) < 0)
			return r;
		return pad4(w, err);
	}
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		if (st.st_dev != root_dev || S_ISSOCK(st.st_mode))
			return 0;
		return header(w, path, st.st_mode & (S_IFMT | 07777), w->next_ino++, 1, 0, major(st.st_rdev),
			      minor(st.st_rdev), err);
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != root_dev)
		return 0;
	if (st.st_nlink > 1 && (ino = link_find(w, st.st_dev, st.st_ino)))
		/* The unpacker links names that share an inode; data comes once. */
		return header(w, path, S_IFREG | perm, ino, (uint32_t)st.st_nlink, 0, 0, 0, err);
	fd = openat(dirfd, ent, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return hull_errf_sys(err, errno, "initramfs: open `%s`", path);
	ino = w->next_ino++;
	if (st.st_nlink > 1 && (r = link_add(w, st.st_dev, st.st_ino, ino, err)) < 0)
		return r;
	if ((r = header(w, path, S_IFREG | perm, ino, st.st_nlink > 1 ? (uint32_t)st.st_nlink : 1,
			(uint64_t)st.st_size, 0, 0, err)) < 0)
		return r;
	return copy_data(w, fd, (uint64_t)st.st_size, path, err);
}

int cpio_add_tree(struct cpio_writer *w, const char *prefix, int dirfd, struct hull_err *err)
{
	struct stat st;
	int r;

	if (fstat(dirfd, &st) < 0)
		return hull_errf_sys(err, errno, "initramfs: stat `%s`", prefix);
	if ((r = header(w, prefix, S_IFDIR | (st.st_mode & 07777), w->next_ino++, 2, 0, 0, 0, err)) < 0)
		return r;
	return add_children(w, dirfd, prefix, st.st_dev, 0, err);
}

int cpio_finish(struct cpio_writer *w, struct hull_err *err)
{
	int r = header(w, "TRAILER!!!", 0, 0, 1, 0, 0, 0, err);

	if (r < 0)
		return r;
	/* The kernel reads initramfs archives in 512-byte blocks. */
	while (w->offset & 511)
		if ((r = put(w, "", 1, err)) < 0)
			return r;
	return 0;
}
