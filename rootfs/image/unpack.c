/* unpack.c — apply one layer changeset (tar, optionally gzip/zstd) to a dir.
 *
 * Two libarchive readers are chained: the outer one only decompresses (raw
 * format), and its output is both hashed (the diff_id) and fed to the inner
 * tar reader, so the uncompressed stream is checked against the config's
 * rootfs.diff_ids without a second pass or a temp file.
 *
 * Containment: every entry path is cleaned (leading "/" and "./" dropped,
 * "." skipped) and a ".." component rejects the layer.  The parent directory
 * is opened through rootfs/safepath.h (openat2 RESOLVE_IN_ROOT, or its
 * fallback walk) relative to the layer root, so
 * symlinks placed by this (or an earlier) entry resolve as if the layer were
 * "/", and the final component is created relative to that fd with
 * O_NOFOLLOW/AT_SYMLINK_NOFOLLOW semantics.  Nothing is ever written through
 * a path string that could leave the layer.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "rootfs/image/lazy.h"
#include "lib/fs.h"
#include "rootfs/safepath.h"
#include "rootfs/image/image.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define READ_BLOCK (256 * 1024)

struct chain {
	struct archive *outer;
	int fd;                    /* the compressed blob */
	char *raw;                 /* its read buffer */
	struct img_progress *progress;
	struct img_hash *hash;
	uint64_t bytes;
	char buf[READ_BLOCK];
	bool failed;
};

struct dir_time { char *path; struct timespec ts[2]; };

struct unpacker {
	int root;
	enum img_unpack_mode mode;
	const char *label;
	struct hull_err *err;
	/* cache of the last parent dir */
	char *parent_path;
	int parent_fd;
	struct dir_time *times; size_t n_times, cap_times;
	/* APPLY: paths this layer created, so an opaque marker keeps them */
	char **created; size_t n_created, cap_created;
	bool created_sorted;
};

/* Open `path` (relative, cleaned) inside the root, as if root were "/". */
static int open_in_root(int root, const char *path, int flags)
{
	struct hull_err ignored;
	return safepath_open(root, *path ? path : ".", flags, 0, &ignored);
}

/* Cleaned relative path, or NULL if it has a ".." (caller reports). Empty = root. */
static char *clean_path(const char *in, bool *escapes)
{
	*escapes = false;
	char *out = malloc(strlen(in) + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t len = (size_t)(e - p);
		if (len == 0 || (len == 1 && p[0] == '.')) {
			p = e;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			*escapes = true;
			free(out);
			return NULL;
		}
		if (o)
			out[o++] = '/';
		memcpy(out + o, p, len);
		o += len;
		p = e;
	}
	out[o] = '\0';
	return out;
}

static int fail(struct unpacker *u, int code, const char *path, const char *what)
{
	return hull_errf(u->err, code, "layer %s: entry `%s`: %s%s%s", u->label, path, what,
			 code ? ": " : "", code ? strerror(code) : "");
}

/* Open (creating missing components) the directory `dir` inside the root. */
static int parent_dir(struct unpacker *u, const char *dir)
{
	if (u->parent_path && strcmp(u->parent_path, dir) == 0)
		return u->parent_fd;
	if (u->parent_path) {
		close(u->parent_fd);
		free(u->parent_path);
		u->parent_path = NULL;
	}
	int fd = open_in_root(u->root, dir, O_PATH | O_DIRECTORY);
	if (fd == -ENOENT) {
		_cleanup_free_ char *walk = strdup(dir);
		if (!walk)
			return -ENOMEM;
		fd = open_in_root(u->root, "", O_PATH | O_DIRECTORY);
		for (char *c = walk; fd >= 0 && *c;) {
			char *slash = strchr(c, '/');
			if (slash)
				*slash = '\0';
			int next = open_in_root(u->root, walk, O_PATH | O_DIRECTORY);
			if (next == -ENOENT) {
				if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
					next = -errno;
				else
					next = open_in_root(u->root, walk, O_PATH | O_DIRECTORY);
			}
			close(fd);
			fd = next;
			if (!slash)
				break;
			*slash = '/';
			c = slash + 1;
		}
	}
	if (fd < 0)
		return fd;
	u->parent_path = strdup(dir);
	if (!u->parent_path) {
		close(fd);
		return -ENOMEM;
	}
	u->parent_fd = fd;
	return fd;
}

/* A removal may have taken the cached parent (or one of its ancestors) away. */
static void drop_parent_cache(struct unpacker *u)
{
	if (u->parent_path) {
		close(u->parent_fd);
		free(u->parent_path);
		u->parent_path = NULL;
		u->parent_fd = -1;
	}
}

static void split(char *path, const char **dir, const char **base)
{
	char *slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		*dir = path;
		*base = slash + 1;
	} else {
		*dir = "";
		*base = path;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void note_created(struct unpacker *u, const char *path)
{
	if (u->mode != IMG_UNPACK_APPLY)
		return;
	if (u->n_created == u->cap_created) {
		size_t nc = u->cap_created ? u->cap_created * 2 : 256;
		char **n = realloc(u->created, nc * sizeof(*n));
		if (!n)
			return;
		u->created = n;
		u->cap_created = nc;
	}
	if ((u->created[u->n_created] = strdup(path)))
		u->n_created++;
	u->created_sorted = false;
}

/* Did this layer create `path`, or anything below it (its parents are
 * created implicitly and are not listed themselves)? */
static bool was_created(struct unpacker *u, const char *path)
{
	if (!u->created_sorted) {
		qsort(u->created, u->n_created, sizeof(char *), cmp_str);
		u->created_sorted = true;
	}
	size_t lo = 0, hi = u->n_created, len = strlen(path);
	while (lo < hi) {   /* first entry >= path */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(u->created[mid], path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* entries sharing the prefix are contiguous from lo ("a", "a-b", "a/c") */
	for (size_t i = lo; i < u->n_created && strncmp(u->created[i], path, len) == 0; i++)
		if (u->created[i][len] == '\0' || u->created[i][len] == '/')
			return true;
	return false;
}

/* APPLY mode: remove what lower layers put in dir, keep what this layer made. */
static int apply_opaque(struct unpacker *u, const char *dir, int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d)) && r == 0) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		_cleanup_free_ char *child = NULL;
		if (asprintf(&child, "%s%s%s", dir, *dir ? "/" : "", e->d_name) < 0)
			r = -ENOMEM;
		else if (!was_created(u, child))
			r = img_rmtree_at(dirfd(d), e->d_name);
	}
	closedir(d);
	return r;
}

static int whiteout(struct unpacker *u, const char *full, const char *dir, const char *base)
{
	int pfd = parent_dir(u, dir);
	if (pfd < 0)
		return fail(u, -pfd, full, "open parent of whiteout");
	if (strcmp(base, WH_OPAQUE) == 0) {
		if (u->mode == IMG_UNPACK_OVERLAY) {
			int dfd = open_in_root(u->root, dir, O_RDONLY | O_DIRECTORY);
			if (dfd < 0)
				return fail(u, -dfd, full, "open opaque dir");
			int r = fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0);
			close(dfd);
			return r < 0 ? fail(u, errno, full, "mark opaque (trusted.overlay.opaque)") : 0;
		}
		int r = apply_opaque(u, dir, pfd);
		return r < 0 ? fail(u, -r, full, "apply opaque whiteout") : 0;
	}
	const char *victim = base + strlen(WH_PREFIX);
	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, "..") || strchr(victim, '/'))
		return fail(u, 0, full, "whiteout names no valid entry");
	struct stat st;
	bool was_dir = fstatat(pfd, victim, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	int r = img_rmtree_at(pfd, victim);
	if (r < 0)
		return fail(u, -r, full, "remove whited-out entry");
	if (was_dir) {
		if (u->mode == IMG_UNPACK_OVERLAY && mknodat(pfd, victim, S_IFCHR | 0000, makedev(0, 0)) < 0)
			return fail(u, errno, full, "create overlay whiteout");
		drop_parent_cache(u);
		return 0;
	}
	if (u->mode == IMG_UNPACK_OVERLAY && mknodat(pfd, victim, S_IFCHR | 0000, makedev(0, 0)) < 0)
		return fail(u, errno, full, "create overlay whiteout");
	return 0;
}

/* Only xattrs that mean something to a container; trusted.* (overlayfs
 * redirects, opaque markers) and security labels from an image are dropped. */
static bool xattr_allowed(const char *name)
{
	return strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0;
}

static int set_xattrs(struct unpacker *u, struct archive_entry *ae, int fd, const char *full)
{
	const char *name;
	const void *val;
	size_t size;
	archive_entry_xattr_reset(ae);
	while (archive_entry_xattr_next(ae, &name, &val, &size) == ARCHIVE_OK) {
		if (!xattr_allowed(name))
			continue;
		if (fsetxattr(fd, name, val, size, 0) < 0 && errno != ENOTSUP)
			return fail(u, errno, full, "set xattr");
	}
	return 0;
}

static int write_data(struct unpacker *u, struct archive *a, int fd, const char *full)
{
	const void *buf;
	size_t size;
	la_int64_t off, pos = 0;
	for (;;) {
		int r = archive_read_data_block(a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return hull_errf(u->err, EBADMSG, "layer %s: entry `%s`: %s", u->label, full,
					 archive_error_string(a) ? archive_error_string(a) : "read error");
		if (off != pos && lseek(fd, off, SEEK_SET) < 0)   /* sparse files */
			return fail(u, errno, full, "seek");
		int w = hull_write_all(fd, buf, size);
		if (w < 0)
			return fail(u, -w, full, "write");
		pos = off + (la_int64_t)size;
	}
	if (pos && ftruncate(fd, pos) < 0)
		return fail(u, errno, full, "truncate");
	return 0;
}

static void remember_dir_time(struct unpacker *u, const char *path, struct archive_entry *ae)
{
	if (u->n_times == u->cap_times) {
		size_t nc = u->cap_times ? u->cap_times * 2 : 128;
		struct dir_time *n = realloc(u->times, nc * sizeof(*n));
		if (!n)
			return;
		u->times = n;
		u->cap_times = nc;
	}
	struct dir_time *t = &u->times[u->n_times];
	if (!(t->path = strdup(path)))
		return;
	t->ts[0].tv_sec = archive_entry_atime_is_set(ae) ? archive_entry_atime(ae) : archive_entry_mtime(ae);
	t->ts[0].tv_nsec = 0;
	t->ts[1].tv_sec = archive_entry_mtime(ae);
	t->ts[1].tv_nsec = archive_entry_mtime_nsec(ae);
	u->n_times++;
}

static int entry(struct unpacker *u, struct archive *a, struct archive_entry *ae)
{
	const char *raw = archive_entry_pathname(ae);
	if (!raw)
		return hull_errf(u->err, EBADMSG, "layer %s: entry without a path name", u->label);
	bool escapes;
	_cleanup_free_ char *full = clean_path(raw, &escapes);
	if (!full)
		return escapes ? fail(u, 0, raw, "path leaves the layer (`..`)") : -ENOMEM;
	if (!*full)
		return 0;   /* the layer root itself: its metadata belongs to the image's "/" */
	_cleanup_free_ char *work = strdup(full);
	if (!work)
		return -ENOMEM;
	const char *dir, *base;
	split(work, &dir, &base);

	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0)
		return whiteout(u, full, dir, base);

	int pfd = parent_dir(u, dir);
	if (pfd < 0)
		return fail(u, -pfd, full, "open parent directory");

	mode_t type = archive_entry_filetype(ae);
	mode_t perm = archive_entry_perm(ae) & 07777;
	const char *hardlink = archive_entry_hardlink(ae);
	struct stat st;
	bool exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;

	if (exists && !(type == AE_IFDIR && S_ISDIR(st.st_mode)) && !hardlink) {
		int r = img_rmtree_at(pfd, base);
		if (r < 0)
			return fail(u, -r, full, "replace existing entry");
		if (S_ISDIR(st.st_mode)) {
			drop_parent_cache(u);
			if ((pfd = parent_dir(u, dir)) < 0)
				return fail(u, -pfd, full, "open parent directory");
		}
	}
	note_created(u, full);

	uid_t uid = (uid_t)archive_entry_uid(ae);
	gid_t gid = (gid_t)archive_entry_gid(ae);
	struct timespec ts[2] = {
		{ .tv_sec = archive_entry_mtime(ae), .tv_nsec = 0 },
		{ .tv_sec = archive_entry_mtime(ae), .tv_nsec = archive_entry_mtime_nsec(ae) },
	};

	if (hardlink) {
		bool esc;
		_cleanup_free_ char *target = clean_path(hardlink, &esc);
		if (!target || !*target)
			return fail(u, 0, full, "hardlink target leaves the layer");
		int tfd = open_in_root(u->root, target, O_PATH | O_NOFOLLOW);
		if (tfd < 0)
			return fail(u, -tfd, full, "hardlink target");
		struct stat ts_;
		if (fstat(tfd, &ts_) == 0 && S_ISDIR(ts_.st_mode)) {
			close(tfd);
			return fail(u, 0, full, "hardlink to a directory");
		}
		if (exists) {
			int r = img_rmtree_at(pfd, base);
			if (r < 0) {
				close(tfd);
				return fail(u, -r, full, "replace existing entry");
			}
		}
		int r = linkat(tfd, "", pfd, base, AT_EMPTY_PATH);
		close(tfd);
		return r < 0 ? fail(u, errno, full, "hardlink") : 0;
	}

	switch (type) {
	case AE_IFDIR: {
		if (!exists && mkdirat(pfd, base, 0700) < 0)
			return fail(u, errno, full, "mkdir");
		int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return fail(u, errno, full, "open directory");
		int r = 0;
		if (fchown(fd, uid, gid) < 0 || fchmod(fd, perm) < 0)
			r = fail(u, errno, full, "set owner/mode");
		if (r == 0)
			r = set_xattrs(u, ae, fd, full);
		close(fd);
		if (r == 0)
			remember_dir_time(u, full, ae);
		return r;
	}
	case AE_IFREG: {
		int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return fail(u, errno, full, "create file");
		int r = write_data(u, a, fd, full);
		if (r == 0 && (fchown(fd, uid, gid) < 0 || fchmod(fd, perm) < 0))
			r = fail(u, errno, full, "set owner/mode");
		if (r == 0)
			r = set_xattrs(u, ae, fd, full);
		if (r == 0 && futimens(fd, ts) < 0)
			r = fail(u, errno, full, "set times");
		close(fd);
		return r;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(ae);
		if (!target)
			return fail(u, 0, full, "symlink without a target");
		if (symlinkat(target, pfd, base) < 0)
			return fail(u, errno, full, "symlink");
		if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return fail(u, errno, full, "set owner");
		utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: {
		dev_t dev = type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(ae), archive_entry_rdevminor(ae));
		if (mknodat(pfd, base, type | perm, dev) < 0)
			return fail(u, errno, full, "mknod");
		if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(pfd, base, perm, 0) < 0)
			return fail(u, errno, full, "set owner/mode");
		utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	case AE_IFSOCK:
		return 0;   /* sockets are not content */
	default:
		return fail(u, 0, full, "unsupported entry type");
	}
}

/* Directory times last: creating children changed them. */
static void apply_dir_times(struct unpacker *u)
{
	for (size_t i = u->n_times; i-- > 0;) {
		struct dir_time *t = &u->times[i];
		_cleanup_free_ char *work = strdup(t->path);
		if (work) {
			const char *dir, *base;
			split(work, &dir, &base);
			int pfd = open_in_root(u->root, dir, O_PATH | O_DIRECTORY);
			if (pfd >= 0) {
				utimensat(pfd, base, t->ts, AT_SYMLINK_NOFOLLOW);
				close(pfd);
			}
		}
	}
}

static void unpacker_free(struct unpacker *u)
{
	if (u->parent_path)
		close(u->parent_fd);
	free(u->parent_path);
	for (size_t i = 0; i < u->n_times; i++)
		free(u->times[i].path);
	free(u->times);
	for (size_t i = 0; i < u->n_created; i++)
		free(u->created[i]);
	free(u->created);
}

/* outer reader: the blob, counted for the progress line */
static la_ssize_t blob_read(struct archive *a, void *priv, const void **buf)
{
	struct chain *c = priv;
	ssize_t n;
	do
		n = read(c->fd, c->raw, READ_BLOCK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	img_progress_blob(c->progress, 0, n);
	*buf = c->raw;
	return n;
}

/* inner tar reader pulls decompressed bytes from the outer reader */
static la_ssize_t chain_read(struct archive *a, void *priv, const void **buf)
{
	struct chain *c = priv;
	(void)a;
	la_ssize_t n = archive_read_data(c->outer, c->buf, sizeof(c->buf));
	if (n < 0) {
		c->failed = true;
		archive_set_error(a, EIO, "%s", archive_error_string(c->outer) ? archive_error_string(c->outer)
							       : "decompression failed");
		return -1;
	}
	img_hash_update(c->hash, c->buf, (size_t)n);
	c->bytes += (uint64_t)n;
	*buf = c->buf;
	return n;
}

int img_unpack(int blob_fd, int root_fd, enum img_unpack_mode mode, const char *expect,
	       char *diff_id_out, const char *label, struct img_progress *progress, struct hull_err *err)
{
	struct chain *c;
	struct archive *inner = NULL;
	int r = img_lazy_archive(err);
	if (r < 0)
		return hull_err_wrap(err, "layer %s", label);
	c = calloc(1, sizeof(*c));
	if (!c)
		return hull_errf(err, ENOMEM, "out of memory");
	c->fd = blob_fd;
	c->progress = progress;
	c->raw = malloc(READ_BLOCK);
	c->hash = img_hash_new();
	c->outer = archive_read_new();
	inner = archive_read_new();
	if (!c->raw || !c->hash || !c->outer || !inner) {
		r = hull_errf(err, ENOMEM, "layer %s: out of memory", label);
		goto out;
	}
	archive_read_support_filter_gzip(c->outer);
	archive_read_support_filter_zstd(c->outer);
	archive_read_support_filter_none(c->outer);
	archive_read_support_format_raw(c->outer);
	archive_read_support_format_empty(c->outer);
	struct archive_entry *ae;
	if (archive_read_open(c->outer, c, NULL, blob_read, NULL) != ARCHIVE_OK) {
		r = hull_errf(err, EBADMSG, "layer %s: %s", label, archive_error_string(c->outer));
		goto out;
	}
	int hr = archive_read_next_header(c->outer, &ae);
	if (hr == ARCHIVE_EOF) {
		r = hull_errf(err, EBADMSG, "layer %s: empty blob", label);
		goto out;
	}
	if (hr != ARCHIVE_OK) {
		r = hull_errf(err, EBADMSG, "layer %s: %s", label, archive_error_string(c->outer));
		goto out;
	}
	archive_read_support_format_tar(inner);
	archive_read_support_format_empty(inner);
	if (archive_read_open(inner, c, NULL, chain_read, NULL) != ARCHIVE_OK) {
		r = hull_errf(err, EBADMSG, "layer %s: not a tar archive: %s", label, archive_error_string(inner));
		goto out;
	}
	struct unpacker u = { .root = root_fd, .mode = mode, .label = label, .err = err, .parent_fd = -1 };
	for (;;) {
		hr = archive_read_next_header(inner, &ae);
		if (hr == ARCHIVE_EOF)
			break;
		if (hr != ARCHIVE_OK && hr != ARCHIVE_WARN) {
			r = hull_errf(err, EBADMSG, "layer %s: %s", label,
				      archive_error_string(inner) ? archive_error_string(inner) : "bad tar header");
			break;
		}
		if ((r = entry(&u, inner, ae)) < 0) {
			if (r == -ENOMEM && !err->code)
				hull_errf(err, ENOMEM, "layer %s: out of memory", label);
			break;
		}
	}
	if (r == 0)
		apply_dir_times(&u);
	unpacker_free(&u);
	if (r < 0)
		goto out;
	/* tar's end-of-archive blocks and padding belong to the diff_id too */
	la_ssize_t n;
	while ((n = archive_read_data(c->outer, c->buf, sizeof(c->buf))) > 0)
		img_hash_update(c->hash, c->buf, (size_t)n);
	if (n < 0 || c->failed) {
		r = hull_errf(err, EBADMSG, "layer %s: %s", label,
			      archive_error_string(c->outer) ? archive_error_string(c->outer) : "decompression failed");
		goto out;
	}
	char got[IMG_DIGEST_LEN + 1];
	img_hash_final(c->hash, got);
	if (expect && strcmp(expect, got) != 0) {
		r = hull_errf(err, EBADMSG, "layer %s: uncompressed content has digest %s, config's rootfs.diff_ids says %s",
			      label, got, expect);
		goto out;
	}
	if (diff_id_out)
		memcpy(diff_id_out, got, sizeof(got));
out:
	if (inner)
		archive_read_free(inner);
	if (c->outer)
		archive_read_free(c->outer);
	img_hash_free(c->hash);
	free(c->raw);
	free(c);
	return r;
}
