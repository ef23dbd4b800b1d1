#include "lib/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"

int hull_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t hull_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int hull_read_fd(int fd, size_t max, char **out, size_t *len, struct hull_err *err)
{
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);

	if (!max)
		max = 64u << 20;
	if (!buf)
		return hull_errf_sys(err, ENOMEM, "read");
	for (;;) {
		ssize_t n;
		if (used + 1 >= cap) {
			char *nb;
			if (cap >= max + 1) {
				free(buf);
				return hull_errf(err, EFBIG, "file larger than %zu bytes", max);
			}
			cap *= 2;
			if (cap > max + 1)
				cap = max + 1;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return hull_errf_sys(err, ENOMEM, "read");
			}
			buf = nb;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return hull_errf_sys(err, e, "read");
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	return 0;
}

int hull_read_file(const char *path, size_t max, char **out, size_t *len, struct hull_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return hull_errf_sys(err, errno, "open `%s`", path);
	r = hull_read_fd(fd, max, out, len, err);
	if (r < 0)
		return hull_err_wrap(err, "`%s`", path);
	return 0;
}

int hull_write_file_at(int dirfd, const char *name, const char *buf, size_t len, struct hull_err *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_CLOEXEC);
	int r;

	if (fd < 0)
		return hull_errf_sys(err, errno, "open `%s`", name);
	r = hull_write_all(fd, buf, len);
	if (r < 0)
		return hull_errf_sys(err, -r, "write `%.*s` to `%s`", (int)(len > 64 ? 64 : len), buf, name);
	return 0;
}

int hull_write_file(const char *path, const char *buf, size_t len, struct hull_err *err)
{
	return hull_write_file_at(AT_FDCWD, path, buf, len, err);
}

int hull_write_file_atomic(const char *path, const char *buf, size_t len, mode_t mode, struct hull_err *err)
{
	char tmp[PATH_MAX];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return hull_errf(err, ENAMETOOLONG, "`%s`", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return hull_errf_sys(err, errno, "create `%s`", tmp);
	r = hull_write_all(fd, buf, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return hull_errf_sys(err, -r, "write `%s`", path);
	}
	return 0;
}

int hull_mkdir_p(const char *path, mode_t mode, struct hull_err *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return hull_errf(err, ENAMETOOLONG, "mkdir `%s`", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return hull_errf_sys(err, errno, "mkdir `%s`", buf);
			*p = saved;
			if (!saved)
				break;
		}
	}
	return 0;
}
