#include "runtime/userspec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "rootfs/safepath.h"

#define DB_MAX (4u << 20)

static bool parse_id(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v > UINT32_MAX - 1)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The container's /etc/<file>, a regular file of bounded size. */
static int read_db(int root_fd, const char *file, char **text, struct hull_err *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t len;

	fd = safepath_open(root_fd, file, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0, err);
	if (fd < 0)
		return hull_err_wrap(err, "the container's /%s", file);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return hull_errf(err, EINVAL, "the container's /%s: not a regular file", file);
	if (hull_read_fd(fd, DB_MAX, text, &len, err) < 0)
		return hull_err_wrap(err, "the container's /%s", file);
	return 0;
}

/* Field 3 (and 4) of the first line whose field 1 is name. */
static bool lookup(const char *text, const char *name, uint32_t *id, uint32_t *id2)
{
	size_t nl = strlen(name);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *f2, *f3;
		char buf[24];
		size_t n;

		if (strncmp(line, name, nl) || line[nl] != ':')
			continue;
		f2 = strchr(line + nl + 1, ':');
		if (!f2)
			continue;
		f3 = f2 + 1;
		n = strcspn(f3, ":\n");
		if (n == 0 || n >= sizeof(buf))
			continue;
		memcpy(buf, f3, n);
		buf[n] = '\0';
		if (!parse_id(buf, id))
			continue;
		if (id2) {
			const char *f4 = f3 + n;
			if (*f4 != ':')
				continue;
			f4++;
			n = strcspn(f4, ":\n");
			if (n == 0 || n >= sizeof(buf))
				continue;
			memcpy(buf, f4, n);
			buf[n] = '\0';
			if (!parse_id(buf, id2))
				continue;
		}
		return true;
	}
	return false;
}

int hull_resolve_user(pid_t init_pid, const char *spec, uint32_t *uid, uint32_t *gid, bool *gid_set,
		      struct hull_err *err)
{
	_cleanup_free_ char *user = strdup(spec), *passwd = NULL, *group_db = NULL;
	_cleanup_close_ int root_fd = -1;
	char *group, path[64];
	uint32_t primary;

	if (!user)
		return hull_errf(err, ENOMEM, "out of memory");
	*gid_set = false;
	group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	if (!*user || (group && !*group) || strchr(user, '\n') || (group && strchr(group, '\n')))
		return hull_errf(err, EINVAL, "--user `%s`: want USER[:GROUP] (names or numbers)", spec);
	bool user_num = parse_id(user, uid), group_num = group && parse_id(group, gid);
	if (group_num)
		*gid_set = true;
	if (user_num && (!group || group_num))
		return 0;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)init_pid);
	root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return hull_errf_sys(err, errno, "--user `%s`: the container's root", spec);
	if (!user_num) {
		if (read_db(root_fd, "etc/passwd", &passwd, err) < 0)
			return hull_err_wrap(err, "--user `%s`", spec);
		if (!lookup(passwd, user, uid, &primary))
			return hull_errf(err, ENOENT, "--user `%s`: no user `%s` in the container's /etc/passwd", spec, user);
		if (!group) {
			*gid = primary;
			*gid_set = true;
		}
	}
	if (group && !group_num) {
		if (read_db(root_fd, "etc/group", &group_db, err) < 0)
			return hull_err_wrap(err, "--user `%s`", spec);
		if (!lookup(group_db, group, gid, NULL))
			return hull_errf(err, ENOENT, "--user `%s`: no group `%s` in the container's /etc/group", spec, group);
		*gid_set = true;
	}
	return 0;
}
