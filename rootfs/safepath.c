#include "rootfs/safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

#define MAX_SYMLINKS 40          /* the kernel's own limit */
#define MAX_DEPTH 256
#define OPENAT2_RETRIES 64       /* EAGAIN: a concurrent rename raced a ".." */

/* 0 = unknown, 1 = openat2 works, -1 = fall back (missing or forced) */
static int openat2_state;
static bool fallback_forced;

void safepath_force_fallback(bool on)
{
	fallback_forced = on;
	openat2_state = 0;
}

const char *safepath_fd_path(int fd, char *buf)
{
	snprintf(buf, SAFEPATH_FD_PATH_MAX, "/proc/self/fd/%d", fd);
	return buf;
}

int safepath_clean(const char *path, char *out, size_t out_len)
{
	size_t len = 1;
	const char *p = path;

	if (out_len < 2)
		return -ENAMETOOLONG;
	out[0] = '/';
	out[1] = '\0';
	while (*p) {
		const char *end;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 1 && out[len - 1] != '/')
				len--;
			if (len > 1)
				len--;          /* drop the slash too, except the root one */
			out[len] = '\0';
		} else {
			if (len + (len > 1) + n + 1 > out_len)
				return -ENAMETOOLONG;
			if (len > 1)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
			out[len] = '\0';
		}
		p = end;
	}
	return 0;
}

static int try_openat2(int root_fd, const char *path, int flags, unsigned extra)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	if (extra & SAFEPATH_NO_SYMLINKS)
		how.resolve |= RESOLVE_NO_SYMLINKS;
	for (int i = 0; i < OPENAT2_RETRIES; i++) {
		long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}

/* The fallback walk.  `stack` holds the fds of the directories we descended
 * through; stack[0] is root_fd (not owned).  ".." pops the stack, so the
 * kernel never resolves a ".." for us and a directory moved out from under
 * us cannot lift the walk above the root. */
struct walk {
	int stack[MAX_DEPTH];
	int depth;
};

static void walk_reset(struct walk *w)
{
	while (w->depth > 0)
		close(w->stack[w->depth--]);
}

static int walk_cur(const struct walk *w)
{
	return w->stack[w->depth];
}

/* Replace *pending (whose unconsumed tail starts at rest) with target + "/" + rest. */
static int splice_link(char **pending, const char *target, const char *rest)
{
	size_t tl = strlen(target), rl = strlen(rest);
	char *np = malloc(tl + rl + 2);

	if (!np)
		return -ENOMEM;
	memcpy(np, target, tl);
	if (rl) {
		np[tl++] = '/';
	}
	memcpy(np + tl, rest, rl + 1);
	free(*pending);
	*pending = np;
	return 0;
}

static int read_link_fd(int fd, char *buf, size_t len)
{
	ssize_t n = readlinkat(fd, "", buf, len);

	if (n < 0)
		return -errno;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

/* Open the final component `name` in dir with the caller's flags, checking
 * it is still the inode the walk saw (st). */
static int reopen_last(int dir, const char *name, int flags, const struct stat *st)
{
	struct stat now;
	int fd;

	fd = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		close(fd);
		return -EAGAIN;
	}
	return fd;
}

static int walk_open(int root_fd, const char *path, int flags, unsigned extra)
{
	struct walk w = { .depth = 0 };
	_cleanup_free_ char *pending = strdup(path);
	char target[PATH_MAX];
	size_t pos = 0;
	int links = 0, ret;
	bool want_dir = (flags & O_DIRECTORY) != 0;

	if (!pending)
		return -ENOMEM;
	w.stack[0] = root_fd;
	for (;;) {
		char name[NAME_MAX + 1];
		const char *comp, *end, *rest;
		struct stat st;
		bool last, trailing_slash;
		int fd;

		while (pending[pos] == '/')
			pos++;
		comp = pending + pos;
		if (!*comp) {
			/* path named a directory we already hold ("/", "a/..", "") */
			ret = openat(walk_cur(&w), ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC);
			ret = ret < 0 ? -errno : ret;
			goto out;
		}
		end = strchrnul(comp, '/');
		if ((size_t)(end - comp) > NAME_MAX) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		memcpy(name, comp, (size_t)(end - comp));
		name[end - comp] = '\0';
		rest = end;
		while (*rest == '/')
			rest++;
		last = !*rest;
		trailing_slash = last && *end == '/';
		pos = (size_t)(rest - pending);

		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			if (w.depth > 0)
				close(w.stack[w.depth--]);
			continue;
		}
		fd = openat(walk_cur(&w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			goto out;
		}
		if (fstat(fd, &st) < 0) {
			ret = -errno;
			close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			if (last && !trailing_slash && (flags & O_NOFOLLOW)) {
				if (flags & O_PATH) {
					ret = fd;
				} else {
					close(fd);
					ret = -ELOOP;
				}
				goto out;
			}
			if ((extra & SAFEPATH_NO_SYMLINKS) || ++links > MAX_SYMLINKS) {
				close(fd);
				ret = -ELOOP;
				goto out;
			}
			ret = read_link_fd(fd, target, sizeof(target));
			close(fd);
			if (ret < 0)
				goto out;
			if (target[0] == '/')
				walk_reset(&w);
			/* keep a trailing slash of the original: it demands a directory */
			ret = splice_link(&pending, target, trailing_slash ? "/" : pending + pos);
			if (ret < 0)
				goto out;
			pos = 0;
			continue;
		}
		if (!last || trailing_slash || want_dir) {
			if (!S_ISDIR(st.st_mode)) {
				close(fd);
				ret = -ENOTDIR;
				goto out;
			}
		}
		if (!last) {
			if (w.depth + 1 >= MAX_DEPTH) {
				close(fd);
				ret = -ENAMETOOLONG;
				goto out;
			}
			w.stack[++w.depth] = fd;
			continue;
		}
		if ((flags & O_PATH) && !(flags & ~(O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC))) {
			ret = fd;
			goto out;
		}
		ret = reopen_last(walk_cur(&w), name, flags & ~O_NOFOLLOW, &st);
		close(fd);
		goto out;
	}
out:
	walk_reset(&w);
	return ret;
}

int safepath_open(int root_fd, const char *path, int flags, unsigned extra, struct hull_err *err)
{
	int fd = -ENOSYS;

	if (!path || !*path)
		path = ".";
	if (flags & O_CREAT)
		return hull_errf(err, EINVAL, "safepath_open `%s`: O_CREAT not supported", path);
	if (fallback_forced)
		openat2_state = -1;
	if (openat2_state >= 0) {
		fd = try_openat2(root_fd, path, flags, extra);
		if (fd == -ENOSYS)
			openat2_state = -1;
		else
			openat2_state = 1;
	}
	if (openat2_state < 0) {
		for (int i = 0; i < OPENAT2_RETRIES; i++) {
			fd = walk_open(root_fd, path, flags, extra);
			if (fd != -EAGAIN)
				break;
		}
	}
	if (fd < 0)
		return hull_errf_sys(err, -fd, "`%s`", path);
	return fd;
}

static int split_name(const char *path, char *clean, size_t clean_len, char *name, size_t name_len)
{
	char *slash;
	int r = safepath_clean(path, clean, clean_len);

	if (r < 0)
		return r;
	slash = strrchr(clean, '/');
	if (!slash[1])
		return -EINVAL;          /* "/" itself has no parent/name split */
	if (strlen(slash + 1) >= name_len)
		return -ENAMETOOLONG;
	strcpy(name, slash + 1);
	if (slash == clean)
		slash[1] = '\0';         /* parent is "/" */
	else
		*slash = '\0';
	return 0;
}

/* A dangling symlink at prefix (inside parent, as name): continue with its
 * target, inside the root, followed by what is left of the path. */
static int follow_dangling(int parent, const char *name, const char *prefix, const char *rest,
			   char *out, size_t out_len)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int w;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st.st_mode))
		return -ENOTDIR;
	n = readlinkat(parent, name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (target[0] == '/')
		w = snprintf(out, out_len, "%s/%s", target, rest);
	else
		w = snprintf(out, out_len, "%.*s/%s/%s", (int)(strrchr(prefix, '/') - prefix), prefix, target, rest);
	return w < 0 || (size_t)w >= out_len ? -ENAMETOOLONG : 0;
}

static int mkdir_all(int root_fd, const char *path, mode_t mode, int links, struct hull_err *err)
{
	char clean[PATH_MAX], prefix[PATH_MAX];
	_cleanup_close_ int parent = -1;
	const char *p;
	int r;

	r = safepath_clean(path, clean, sizeof(clean));
	if (r < 0)
		return hull_errf_sys(err, -r, "`%s`", path);
	parent = safepath_open(root_fd, "/", O_PATH | O_DIRECTORY, 0, err);
	if (parent < 0)
		return parent;
	prefix[0] = '\0';
	p = clean;
	while (*p) {
		const char *end;
		size_t n, plen = strlen(prefix);
		char name[NAME_MAX + 1];
		int fd;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		if (n > NAME_MAX || plen + n + 2 > sizeof(prefix))
			return hull_errf_sys(err, ENAMETOOLONG, "`%s`", path);
		memcpy(name, p, n);
		name[n] = '\0';
		prefix[plen] = '/';
		memcpy(prefix + plen + 1, name, n + 1);
		p = end;

		/* Resolve the whole prefix again from the root, so a symlink
		 * component (/var/run -> /run) is followed inside the root. */
		fd = safepath_open(root_fd, prefix, O_PATH | O_DIRECTORY, 0, err);
		if (fd == -ENOENT) {
			if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
				return hull_errf_sys(err, errno, "mkdir `%s`", prefix);
			/* never let the kernel follow a symlink here */
			fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
				/* a dangling symlink: create its target, in the root */
				char next[PATH_MAX];
				r = follow_dangling(parent, name, prefix, p, next, sizeof(next));
				if (r < 0)
					return hull_errf_sys(err, -r, "`%s`: not a directory", prefix);
				if (links >= 40)
					return hull_errf_sys(err, ELOOP, "`%s`", path);
				return mkdir_all(root_fd, next, mode, links + 1, err);
			}
			if (fd < 0)
				return hull_errf_sys(err, errno, "`%s`", prefix);
		} else if (fd < 0) {
			return fd;
		}
		close(parent);
		parent = fd;
	}
	return steal_fd(parent);
}

int safepath_mkdir_all(int root_fd, const char *path, mode_t mode, struct hull_err *err)
{
	return mkdir_all(root_fd, path, mode, 0, err);
}

int safepath_open_parent(int root_fd, const char *path, bool create, char *name, size_t name_len,
			 struct hull_err *err)
{
	char clean[PATH_MAX];
	int r = split_name(path, clean, sizeof(clean), name, name_len);

	if (r < 0)
		return hull_errf_sys(err, -r, "`%s`", path);
	if (create)
		return safepath_mkdir_all(root_fd, clean, 0755, err);
	return safepath_open(root_fd, clean, O_PATH | O_DIRECTORY, 0, err);
}

static int mkfile(int root_fd, const char *path, mode_t mode, int links, struct hull_err *err)
{
	char name[NAME_MAX + 1], clean[PATH_MAX];
	_cleanup_close_ int parent = safepath_open_parent(root_fd, path, true, name, sizeof(name), err);
	struct stat st;

	if (parent < 0)
		return parent;
	if (safepath_clean(path, clean, sizeof(clean)) < 0)
		return hull_errf_sys(err, ENAMETOOLONG, "`%s`", path);
	for (int attempt = 0; attempt < 8; attempt++) {
		int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0) {
			close(fd);
			fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return hull_errf_sys(err, errno, "`%s`", path);
			if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
				close(fd);
				continue;   /* swapped for a symlink after we created it */
			}
			return fd;
		}
		if (errno != EEXIST)
			return hull_errf_sys(err, errno, "create `%s`", path);
		/* Something is there: reach it the safe way (a symlink is
		 * followed inside the root, never outside). */
		fd = safepath_open(root_fd, path, O_PATH, 0, err);
		if (fd != -ENOENT)
			return fd;
		/* A dangling symlink (/etc/resolv.conf -> ../run/…): create
		 * its target inside the root, as the kernel would have. */
		char next[PATH_MAX];
		int r = follow_dangling(parent, name, clean, "", next, sizeof(next));
		if (r < 0)
			return hull_errf_sys(err, -r, "`%s`", path);
		if (links >= 40)
			return hull_errf_sys(err, ELOOP, "`%s`", path);
		return mkfile(root_fd, next, mode, links + 1, err);
	}
	return hull_errf(err, EAGAIN, "`%s` keeps changing", path);
}

int safepath_mkfile(int root_fd, const char *path, mode_t mode, struct hull_err *err)
{
	return mkfile(root_fd, path, mode, 0, err);
}
