#include "runtime/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "cgroups/cgroup.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "oci/state.h"

#define STATE_FILE "state.json"
#define STATE_MAX (1u << 20)

int hull_container_id_valid(const char *id, struct hull_err *err)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0)
		return hull_errf(err, EINVAL, "container id is empty");
	if (n > 1024)
		return hull_errf(err, EINVAL, "container id is longer than 1024 characters");
	if (!strcmp(id, ".") || !strcmp(id, ".."))
		return hull_errf(err, EINVAL, "invalid container id `%s`", id);
	for (const char *p = id; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '+' || c == '-'))
			return hull_errf(err, EINVAL,
					 "invalid container id `%.64s`: only [A-Za-z0-9_.+-] are allowed", id);
	}
	return 0;
}

void hull_rfc3339_now(char *buf, size_t size)
{
	struct timespec now;
	struct tm tm;
	char ts[32];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%09ldZ", ts, now.tv_nsec);
}

uint64_t hull_proc_start_time(pid_t pid, bool *zombie)
{
	char path[64], buf[1024];
	_cleanup_close_ int fd = -1;
	ssize_t n;
	char *p, *save = NULL, *tok;
	int field = 3;

	if (zombie)
		*zombie = false;
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	for (tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
		if (field == 3 && zombie)
			*zombie = tok[0] == 'Z' || tok[0] == 'X';
		if (field == 22)
			return strtoull(tok, NULL, 10);
	}
	return 0;
}

static struct hull_container *container_alloc(const char *root, const char *id, struct hull_err *err)
{
	struct hull_container *c = calloc(1, sizeof(*c));

	if (!c) {
		hull_errf_sys(err, ENOMEM, "container record");
		return NULL;
	}
	c->dir_fd = -1;
	c->id = strdup(id);
	c->root = strdup(root);
	if (!c->id || !c->root || asprintf(&c->dir, "%s/%s", root, id) < 0) {
		c->dir = NULL;
		hull_container_free(c);
		hull_errf_sys(err, ENOMEM, "container record");
		return NULL;
	}
	return c;
}

static int lock_dir(int fd, enum hull_lock lock)
{
	if (lock == HULL_LOCK_NONE)
		return 0;
	while (flock(fd, lock == HULL_LOCK_EX ? LOCK_EX : LOCK_SH) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int hull_container_new(const char *root, const char *id, struct hull_container **out, struct hull_err *err)
{
	struct hull_container *c;
	char ts[48];
	int r;

	if ((r = hull_container_id_valid(id, err)) < 0)
		return r;
	if (mkdir(root, 0700) < 0 && errno != EEXIST) {
		if (errno != ENOENT)
			return hull_errf_sys(err, errno, "--root `%s`", root);
		if ((r = hull_mkdir_p(root, 0700, err)) < 0)
			return hull_err_wrap(err, "--root");
	}
	c = container_alloc(root, id, err);
	if (!c)
		return -ENOMEM;
	if (mkdir(c->dir, 0711) < 0) {
		r = errno;
		hull_container_free(c);
		if (r == EEXIST)
			return hull_errf(err, EEXIST, "container `%s` already exists", id);
		return hull_errf_sys(err, r, "mkdir `%s/%s`", root, id);
	}
	c->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dir_fd < 0 || lock_dir(c->dir_fd, HULL_LOCK_EX) < 0) {
		r = errno;
		rmdir(c->dir);
		hull_container_free(c);
		return hull_errf_sys(err, r, "open `%s/%s`", root, id);
	}
	c->owner = geteuid();
	hull_rfc3339_now(ts, sizeof(ts));
	c->created = strdup(ts);
	if (!c->created) {
		hull_container_remove(c, err);
		hull_container_free(c);
		return hull_errf_sys(err, ENOMEM, "container record");
	}
	*out = c;
	return 0;
}

static const char *tree_str(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
	return v ? YAJL_GET_STRING(v) : NULL;
}

static int64_t tree_int(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_number);
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

static bool tree_bool(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_true);
	return v != NULL;
}

static int dup_str(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int parse_state(struct hull_container *c, const char *text, struct hull_err *err)
{
	char ebuf[256];
	yajl_val tree = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	const char *ann_path[] = { "annotations", NULL };
	yajl_val ann;
	int r = 0;

	if (!tree || !YAJL_IS_OBJECT(tree)) {
		yajl_tree_free(tree);
		return hull_errf(err, EINVAL, "%s/%s: corrupt state file", c->dir, STATE_FILE);
	}
	c->pid = (pid_t)tree_int(tree, "pid");
	c->pid_start = (uint64_t)tree_int(tree, "pid_start");
	c->owner = (uid_t)tree_int(tree, "owner");
	c->ns_flags = (int)tree_int(tree, "ns_flags");
	c->hooks_mask = (unsigned)tree_int(tree, "hooks_mask");
	c->userns = tree_bool(tree, "userns");
	c->terminal = tree_bool(tree, "terminal");
	c->systemd_cgroup = tree_bool(tree, "systemd_cgroup");
	c->no_new_keyring = tree_bool(tree, "no_new_keyring");
	c->vm = tree_bool(tree, "vm");
	if (dup_str(&c->bundle, tree_str(tree, "bundle")) < 0 ||
	    dup_str(&c->rootfs, tree_str(tree, "rootfs")) < 0 ||
	    dup_str(&c->created, tree_str(tree, "created")) < 0 ||
	    dup_str(&c->cgroup_path, tree_str(tree, "cgroup_path")) < 0 ||
	    dup_str(&c->handler, tree_str(tree, "handler")) < 0)
		r = -ENOMEM;
	ann = yajl_tree_get(tree, ann_path, yajl_t_object);
	if (r == 0 && ann && ann->u.object.len) {
		size_t n = ann->u.object.len;
		c->annotations = calloc(n, sizeof(*c->annotations));
		if (!c->annotations)
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < n; i++) {
			yajl_val v = ann->u.object.values[i];
			if (!YAJL_IS_STRING(v))
				continue;
			c->annotations[c->n_annotations].key = strdup(ann->u.object.keys[i]);
			c->annotations[c->n_annotations].value = strdup(v->u.string);
			c->n_annotations++;
			if (!c->annotations[c->n_annotations - 1].key || !c->annotations[c->n_annotations - 1].value)
				r = -ENOMEM;
		}
	}
	yajl_tree_free(tree);
	if (r < 0)
		return hull_errf_sys(err, -r, "%s/%s", c->dir, STATE_FILE);
	return 0;
}

int hull_container_load(const char *root, const char *id, enum hull_lock lock,
			struct hull_container **out, struct hull_err *err)
{
	struct hull_container *c;
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if ((r = hull_container_id_valid(id, err)) < 0)
		return r;
	c = container_alloc(root, id, err);
	if (!c)
		return -ENOMEM;
	c->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dir_fd < 0) {
		r = errno;
		hull_container_free(c);
		if (r == ENOENT || r == ENOTDIR)
			return hull_errf(err, ENOENT, "container `%s` does not exist", id);
		return hull_errf_sys(err, r, "open `%s/%s`", root, id);
	}
	if ((r = lock_dir(c->dir_fd, lock)) < 0) {
		hull_container_free(c);
		return hull_errf_sys(err, -r, "lock `%s/%s`", root, id);
	}
	/* After the lock: a concurrent delete removes state.json first. */
	fd = openat(c->dir_fd, STATE_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = errno;
		hull_container_free(c);
		if (r == ENOENT)
			return hull_errf(err, ENOENT, "container `%s` does not exist", id);
		return hull_errf_sys(err, r, "open `%s/%s/%s`", root, id, STATE_FILE);
	}
	if ((r = hull_read_fd(fd, STATE_MAX, &text, NULL, err)) < 0 || (r = parse_state(c, text, err)) < 0) {
		hull_container_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int hull_container_save(const struct hull_container *c, struct hull_err *err)
{
	struct hull_json *j = hull_json_new(false);
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	size_t len;
	int r;

	hull_json_begin_map(j);
	hull_json_kv_string(j, "id", c->id);
	hull_json_kv_int(j, "pid", c->pid);
	hull_json_kv_uint(j, "pid_start", c->pid_start);
	hull_json_kv_string(j, "bundle", c->bundle);
	hull_json_kv_string(j, "rootfs", c->rootfs);
	hull_json_kv_string(j, "created", c->created);
	hull_json_kv_string(j, "cgroup_path", c->cgroup_path);
	hull_json_kv_uint(j, "owner", c->owner);
	hull_json_kv_int(j, "ns_flags", c->ns_flags);
	hull_json_kv_uint(j, "hooks_mask", c->hooks_mask);
	hull_json_kv_bool(j, "userns", c->userns);
	hull_json_kv_bool(j, "terminal", c->terminal);
	hull_json_kv_bool(j, "systemd_cgroup", c->systemd_cgroup);
	hull_json_kv_bool(j, "no_new_keyring", c->no_new_keyring);
	hull_json_kv_bool(j, "vm", c->vm);
	hull_json_kv_string(j, "handler", c->handler);
	hull_json_key(j, "annotations");
	hull_json_begin_map(j);
	for (size_t i = 0; i < c->n_annotations; i++)
		hull_json_kv_string(j, c->annotations[i].key, c->annotations[i].value);
	hull_json_end_map(j);
	hull_json_end_map(j);
	if ((r = hull_json_finish(j, &text, &len, err)) < 0)
		return hull_err_wrap(err, "state of `%s`", c->id);
	snprintf(path, sizeof(path), "%s/%s", c->dir, STATE_FILE);
	return hull_write_file_atomic(path, text, len, 0600, err);
}

int hull_container_remove(struct hull_container *c, struct hull_err *err)
{
	DIR *d;
	struct dirent *de;
	int fd;

	if (c->dir_fd < 0)
		return 0;
	unlinkat(c->dir_fd, STATE_FILE, 0);
	fd = dup(c->dir_fd);
	if (fd >= 0 && (d = fdopendir(fd))) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(c->dir_fd, de->d_name, 0);
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	if (rmdir(c->dir) < 0 && errno != ENOENT)
		return hull_errf_sys(err, errno, "remove `%s`", c->dir);
	return 0;
}

void hull_container_free(struct hull_container *c)
{
	if (!c)
		return;
	if (c->dir_fd >= 0)
		close(c->dir_fd);
	free(c->id);
	free(c->root);
	free(c->dir);
	free(c->bundle);
	free(c->rootfs);
	free(c->created);
	free(c->cgroup_path);
	free(c->handler);
	for (size_t i = 0; i < c->n_annotations; i++) {
		free(c->annotations[i].key);
		free(c->annotations[i].value);
	}
	free(c->annotations);
	free(c);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int hull_container_list(const char *root, char ***ids, size_t *n, struct hull_err *err)
{
	DIR *d = opendir(root);
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0, cap = 0;

	*ids = NULL;
	*n = 0;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return hull_errf_sys(err, errno, "--root `%s`", root);
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' || hull_container_id_valid(de->d_name, &(struct hull_err){ 0 }) < 0)
			continue;
		char sub[NAME_MAX + 16];
		snprintf(sub, sizeof(sub), "%s/%s", de->d_name, STATE_FILE);
		if (fstatat(dirfd(d), sub, &st, 0) < 0)
			continue;
		if (cnt == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
		}
		if (!(v[cnt] = strdup(de->d_name)))
			goto oom;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*ids = v;
	*n = cnt;
	return 0;
oom:
	closedir(d);
	hull_container_list_free(v, cnt);
	return hull_errf_sys(err, ENOMEM, "list `%s`", root);
}

void hull_container_list_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

bool hull_container_alive(const struct hull_container *c)
{
	bool zombie;
	uint64_t st;

	if (c->pid <= 0)
		return false;
	st = hull_proc_start_time(c->pid, &zombie);
	return st != 0 && !zombie && st == c->pid_start;
}

enum hull_status hull_container_status(const struct hull_container *c)
{
	struct hull_cgroup *cg = NULL;
	struct hull_err err = { 0 };
	enum hull_status s = HULL_STATUS_RUNNING;

	if (!hull_container_alive(c))
		return HULL_STATUS_STOPPED;
	if (c->dir_fd >= 0 && faccessat(c->dir_fd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return HULL_STATUS_CREATED;
	if (hull_container_cgroup(c, &cg, &err) == 0 && cg) {
		if (hull_cgroup_is_frozen(cg, &err) == 1)
			s = HULL_STATUS_PAUSED;
		hull_cgroup_free(cg);
	}
	return s;
}

const char *hull_status_name(enum hull_status s)
{
	switch (s) {
	case HULL_STATUS_CREATING: return "creating";
	case HULL_STATUS_CREATED: return "created";
	case HULL_STATUS_RUNNING: return "running";
	case HULL_STATUS_PAUSED: return "paused";
	default: return "stopped";
	}
}

int hull_container_pidfd(const struct hull_container *c, struct hull_err *err)
{
	int fd;

	if (c->pid <= 0)
		return hull_errf(err, ESRCH, "container `%s` has no process", c->id);
	fd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (fd < 0) {
		if (errno == ESRCH)
			return hull_errf(err, ESRCH, "container `%s` is not running", c->id);
		return hull_errf_sys(err, errno, "pidfd_open %d", (int)c->pid);
	}
	/* The pidfd pins the process; a matching start time now proves it is ours. */
	if (!hull_container_alive(c)) {
		close(fd);
		return hull_errf(err, ESRCH, "container `%s` is not running", c->id);
	}
	return fd;
}

int hull_container_cgroup(const struct hull_container *c, struct hull_cgroup **out, struct hull_err *err)
{
	int r;

	*out = NULL;
	if (!c->cgroup_path || !*c->cgroup_path)
		return 0;
	r = hull_cgroup_open(c->cgroup_path, out, err);
	if (r == -ENOENT) {
		*out = NULL;
		return 0;
	}
	return r;
}

int hull_container_kill(const struct hull_container *c, int sig, bool all, struct hull_err *err)
{
	_cleanup_close_ int pidfd = -1;
	int r;

	if (all) {
		struct hull_cgroup *cg = NULL;
		if ((r = hull_container_cgroup(c, &cg, err)) < 0)
			return r;
		if (cg) {
			r = hull_cgroup_kill(cg, sig, err);
			hull_cgroup_free(cg);
			return r;
		}
	}
	pidfd = hull_container_pidfd(c, err);
	if (pidfd < 0)
		return pidfd;
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return hull_errf_sys(err, errno, "signal %d to pid %d", sig, (int)c->pid);
	return 0;
}

char *hull_container_state_json(const struct hull_container *c, enum hull_status st, bool pretty)
{
	struct oci_state s = {
		.oci_version = (char *)"1.3.0",
		.id = c->id,
		.status = (char *)hull_status_name(st),
		.bundle = c->bundle,
		/* runc reports pid 0 once the process is gone. */
		.pid = st == HULL_STATUS_STOPPED ? 0 : c->pid,
		.annotations = c->annotations,
		.n_annotations = c->n_annotations,
		.rootfs = c->rootfs,
		.created = c->created,
		.owner = (char *)"",
	};
	struct hull_err err = { 0 };
	char *text = NULL;

	if (oci_state_to_json(&s, pretty, &text, NULL, &err) < 0)
		return NULL;
	return text;
}
