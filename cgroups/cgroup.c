/* cgroup.c — the facade: create/open/enter/destroy, freeze, pids, kill, and
 * the small file helpers every driver uses. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/internal.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"

/* ---- file helpers ------------------------------------------------------- */

int cg_write(const char *dir, const char *file, const char *val, struct hull_err *err)
{
	char p[CG_PATH_MAX + 64];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(val);
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return hull_errf_sys(err, errno, "%s", p);
	/* cgroupfs takes one value per write(); a short write is an error */
	do
		n = write(fd, val, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return hull_errf_sys(err, errno, "write `%s` to %s", val, p);
	return 0;
}

int cg_read(const char *dir, const char *file, char **out, struct hull_err *err)
{
	char p[CG_PATH_MAX + 64];
	size_t len;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return hull_read_file(p, 1 << 20, out, &len, err);
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out, struct hull_err *err)
{
	_cleanup_free_ char *s = NULL;
	int ret = cg_read(dir, file, &s, err);

	if (ret < 0)
		return ret;
	if (!strncmp(s, "max", 3)) {
		*out = UINT64_MAX;
		return 0;
	}
	*out = strtoull(s, NULL, 10);
	return 0;
}

bool cg_exists(const char *dir, const char *file)
{
	char p[CG_PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

bool cg_kv_get(const char *text, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == ' ') {
			*out = strtoull(l + kl + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- create / open ------------------------------------------------------ */

static struct hull_cgroup *cg_new(void)
{
	struct hull_cgroup *cg = calloc(1, sizeof(*cg));

	if (cg) {
		cg->unified = -1;
		cg->v2_dirfd = -1;
	}
	return cg;
}

static int set_dirs(struct hull_cgroup *cg, struct hull_err *err)
{
	for (size_t i = 0; i < cg->n_h; i++) {
		struct cg_hier *h = &cg->h[i];
		if (asprintf(&h->dir, "%s%s%s%s", CG_ROOT, h->mnt[0] ? "/" : "", h->mnt, cg->path) < 0) {
			h->dir = NULL;
			return hull_errf(err, ENOMEM, "cgroup path");
		}
	}
	return 0;
}

/* A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks:
 * inherit the parent's, level by level. */
static int cpuset_inherit(const char *dir, const char *parent, struct hull_err *err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

	for (size_t i = 0; i < 2; i++) {
		_cleanup_free_ char *cur = NULL, *par = NULL;
		if (cg_read(dir, files[i], &cur, err) < 0)
			return -err->code;
		if (cur[0] && cur[0] != '\n')
			continue;
		if (cg_read(parent, files[i], &par, err) < 0)
			return -err->code;
		if (cg_write(dir, files[i], par, err) < 0)
			return -err->code;
	}
	return 0;
}

/* "+cpu +memory …" for every controller this tree offers. */
static int enable_subtree(const char *dir, uint32_t ctrls, struct hull_err *err)
{
	char buf[256] = "";
	size_t used = 0;

	for (int c = 0; c < CG__COUNT; c++) {
		if (!(ctrls & CG_BIT(c)) || c == CG_CPUACCT || c == CG_DEVICES || c == CG_FREEZER)
			continue;
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s+%s", used ? " " : "",
					 cg_ctrl_v2_name((enum cg_ctrl)c));
	}
	if (!used)
		return 0;
	return cg_write(dir, "cgroup.subtree_control", buf, err);
}

static int mkdir_hier(struct hull_cgroup *cg, struct cg_hier *h, struct hull_err *err)
{
	char cur[CG_PATH_MAX + 80];
	size_t base = strlen(h->dir) - strlen(cg->path);
	const char *p = cg->path;
	int level = 0;

	memcpy(cur, h->dir, base);
	cur[base] = '\0';
	while (*p) {
		const char *e = strchr(p + 1, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char parent[sizeof(cur)];

		memcpy(parent, cur, sizeof(cur));
		if (h->v2 && enable_subtree(parent, h->ctrls, err) < 0)
			return hull_err_wrap(err, "enable controllers");
		memcpy(cur + strlen(cur), p, len);
		cur[base + (size_t)(p - cg->path) + len] = '\0';
		if (mkdir(cur, 0755) == 0) {
			if (h->created_from < 0)
				h->created_from = level;
		} else if (errno != EEXIST) {
			return hull_errf_sys(err, errno, "mkdir %s", cur);
		}
		if (!h->v2 && (h->ctrls & CG_BIT(CG_CPUSET)) && cpuset_inherit(cur, parent, err) < 0)
			return -err->code;
		p += len;
		level++;
	}
	return 0;
}

/* Undo our mkdirs: from the leaf up to the first level we created. */
static void rmdir_created(struct hull_cgroup *cg)
{
	for (size_t i = 0; i < cg->n_h; i++) {
		struct cg_hier *h = &cg->h[i];
		char cur[CG_PATH_MAX + 80];
		int levels = 0;

		if (h->created_from < 0 || !h->dir)
			continue;
		for (const char *p = cg->path; *p; p++)
			levels += *p == '/';
		snprintf(cur, sizeof(cur), "%s", h->dir);
		for (int l = levels - 1; l >= h->created_from; l--) {
			char *slash;
			rmdir(cur);
			slash = strrchr(cur, '/');
			if (!slash)
				break;
			*slash = '\0';
		}
		h->created_from = -1;
	}
}

static int open_v2_dirfd(struct hull_cgroup *cg, struct hull_err *err)
{
	struct cg_hier *u = cg_unified(cg);

	if (!u)
		return 0;
	cg->v2_dirfd = open(u->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->v2_dirfd < 0)
		return hull_errf_sys(err, errno, "%s", u->dir);
	return 0;
}

/* A limit this host cannot hold is said out loud, never dropped quietly. */
static void warn_missing(struct hull_cgroup *cg, const struct oci_resources *res)
{
	static const struct { enum cg_ctrl c; const char *field; } need[] = {
		{ CG_MEMORY, "memory" }, { CG_CPU, "cpu" }, { CG_PIDS, "pids" }, { CG_BLKIO, "blockIO" },
		{ CG_HUGETLB, "hugepageLimits" }, { CG_RDMA, "rdma" },
	};
	bool wanted[] = { res->has_memory, res->has_cpu, res->has_pids && res->pids_limit.set,
			  res->has_blkio, res->n_hugepage_limits > 0, res->n_rdma > 0 };

	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (wanted[i] && !cg_hier_for(cg, need[i].c))
			hull_warn(".linux.resources.%s: no %s controller on this host; ignored", need[i].field,
				  cg_ctrl_name(need[i].c));
}

static int apply(struct hull_cgroup *cg, const struct oci_resources *res, bool update, struct hull_err *err)
{
	int ret;

	if (!res)
		return 0;
	warn_missing(cg, res);
	ret = cg_v1_apply(cg, res, update, err);
	if (ret == 0)
		ret = cg_v2_apply(cg, res, update, err);
	return ret;
}

int hull_cgroup_create(const char *cgroups_path, const char *id, const struct oci_resources *res,
		       bool systemd, struct hull_cgroup **out, struct hull_err *err)
{
	struct hull_cgroup *cg;
	int ret;

	*out = NULL;
	cg = cg_new();
	if (!cg)
		return hull_errf(err, ENOMEM, "cgroup");
	ret = cg_path_resolve(cgroups_path, id, systemd, &cg->path, err);
	if (ret == 0)
		ret = cg_layout_detect(cg, err);
	if (ret == 0)
		ret = set_dirs(cg, err);
	for (size_t i = 0; ret == 0 && i < cg->n_h; i++)
		ret = mkdir_hier(cg, &cg->h[i], err);
	if (ret == 0)
		ret = apply(cg, res, false, err);
	if (ret < 0) {
		rmdir_created(cg);
		hull_cgroup_free(cg);
		return ret;
	}
	*out = cg;
	return 0;
}

int hull_cgroup_open(const char *path, struct hull_cgroup **out, struct hull_err *err)
{
	struct hull_cgroup *cg;
	bool any = false;
	int ret;

	*out = NULL;
	/* the persisted string must already be in canonical form: a state file
	 * edited to point elsewhere (or outside the hierarchy) is refused */
	{
		char *canon = NULL;
		bool same = path && path[0] == '/' && cg_path_resolve(path, NULL, false, &canon, err) == 0 &&
			    !strcmp(canon, path);
		free(canon);
		if (!same)
			return hull_errf(err, EINVAL, "invalid cgroup path `%s`", path ? path : "");
	}
	cg = cg_new();
	if (!cg)
		return hull_errf(err, ENOMEM, "cgroup");
	cg->path = strdup(path);
	ret = cg->path ? 0 : hull_errf(err, ENOMEM, "cgroup");
	if (ret == 0)
		ret = cg_layout_detect(cg, err);
	if (ret == 0)
		ret = set_dirs(cg, err);
	for (size_t i = 0; ret == 0 && i < cg->n_h; i++)
		any |= access(cg->h[i].dir, F_OK) == 0;
	if (ret == 0 && !any)
		ret = hull_errf(err, ENOENT, "cgroup %s does not exist", path);
	if (ret < 0) {
		hull_cgroup_free(cg);
		return ret;
	}
	*out = cg;
	return 0;
}

int hull_cgroup_enter(struct hull_cgroup *cg, pid_t pid, struct hull_err *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < cg->n_h; i++)
		if (cg_write(cg->h[i].dir, "cgroup.procs", buf, err) < 0)
			return hull_err_wrap(err, "join cgroup");
	return 0;
}

/* Opened on demand: only a v2 clone3 needs it, and an fd made earlier would
 * be inherited by every child forked in between. */
int hull_cgroup_v2_dirfd(struct hull_cgroup *cg)
{
	struct hull_err e = { 0 };

	if (cg->v2_dirfd < 0 && cg_unified(cg))
		open_v2_dirfd(cg, &e);
	return cg->v2_dirfd;
}

const char *hull_cgroup_path(const struct hull_cgroup *cg)
{
	return cg->path;
}

enum hull_cgroup_layout hull_cgroup_layout(const struct hull_cgroup *cg)
{
	return cg->layout;
}

int hull_cgroup_update(struct hull_cgroup *cg, const struct oci_resources *res, struct hull_err *err)
{
	return apply(cg, res, true, err);
}

void hull_cgroup_free(struct hull_cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->n_h; i++)
		free(cg->h[i].dir);
	if (cg->v2_dirfd >= 0)
		close(cg->v2_dirfd);
	free(cg->path);
	free(cg);
}

/* ---- freezer ------------------------------------------------------------ */

/* v1 freezer if mounted, else cgroup.freeze of the unified tree. */
static struct cg_hier *freezer_hier(struct hull_cgroup *cg, bool *v1)
{
	struct cg_hier *h = cg_hier_for(cg, CG_FREEZER);

	if (h && !h->v2) {
		*v1 = true;
		return h;
	}
	*v1 = false;
	return cg_unified(cg);
}

int hull_cgroup_is_frozen(struct hull_cgroup *cg, struct hull_err *err)
{
	bool v1;
	struct cg_hier *h = freezer_hier(cg, &v1);
	_cleanup_free_ char *s = NULL;
	uint64_t frozen = 0;

	if (!h)
		return hull_errf(err, ENOTSUP, "no freezer: neither a v1 freezer hierarchy nor cgroup2");
	if (v1) {
		if (cg_read(h->dir, "freezer.state", &s, err) < 0)
			return -err->code;
		return strncmp(s, "FROZEN", 6) == 0;
	}
	if (cg_read(h->dir, "cgroup.events", &s, err) < 0)
		return -err->code;
	cg_kv_get(s, "frozen", &frozen);
	return frozen == 1;
}

int hull_cgroup_freeze(struct hull_cgroup *cg, bool frozen, struct hull_err *err)
{
	bool v1;
	struct cg_hier *h = freezer_hier(cg, &v1);
	long delay = 1;

	if (!h)
		return hull_errf(err, ENOTSUP, "no freezer: neither a v1 freezer hierarchy nor cgroup2");
	/* ~5 s in all; v1 can sit in FREEZING while a task is in an
	 * uninterruptible sleep, and writing FROZEN again retries it */
	for (int attempt = 0; attempt < 60; attempt++) {
		int st;
		if (v1)
			st = cg_write(h->dir, "freezer.state", frozen ? "FROZEN" : "THAWED", err);
		else if (attempt == 0)
			st = cg_write(h->dir, "cgroup.freeze", frozen ? "1" : "0", err);
		else
			st = 0;
		if (st < 0)
			return hull_err_wrap(err, frozen ? "freeze" : "thaw");
		st = hull_cgroup_is_frozen(cg, err);
		if (st < 0)
			return st;
		if ((st == 1) == frozen)
			return 0;
		sleep_ms(delay);
		if (delay < 100)
			delay *= 2;
	}
	if (frozen && v1)
		cg_write(h->dir, "freezer.state", "THAWED", err);
	return hull_errf(err, ETIMEDOUT, "%s: timed out waiting for the cgroup to become %s",
			 h->dir, frozen ? "frozen" : "thawed");
}

/* ---- processes ---------------------------------------------------------- */

struct pid_vec { pid_t *v; size_t n, cap; };

static int pid_vec_add(struct pid_vec *pv, pid_t p)
{
	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 64;
		pid_t *nv = realloc(pv->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		pv->v = nv;
		pv->cap = cap;
	}
	pv->v[pv->n++] = p;
	return 0;
}

static int collect_pids(const char *dir, struct pid_vec *pv, int depth, struct hull_err *err)
{
	_cleanup_free_ char *procs = NULL;
	DIR *d;
	struct dirent *de;
	int ret;

	if (depth > 64)
		return 0;
	ret = cg_read(dir, "cgroup.procs", &procs, err);
	if (ret == -ENOENT)
		return 0;      /* removed while we walked */
	if (ret < 0)
		return ret;
	for (char *l = procs; *l;) {
		char *e;
		long v = strtol(l, &e, 10);
		if (e == l)
			break;
		if (v > 0 && pid_vec_add(pv, (pid_t)v) < 0)
			return hull_errf(err, ENOMEM, "pids");
		l = e;
		while (*l == '\n')
			l++;
	}
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : hull_errf_sys(err, errno, "%s", dir);
	while ((de = readdir(d))) {
		char sub[CG_PATH_MAX + 256];
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if ((ret = collect_pids(sub, pv, depth + 1, err)) < 0) {
			closedir(d);
			return ret;
		}
	}
	closedir(d);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* The tree that lists every process: cgroup2 if present (we always join
 * it), else the pids, freezer or first v1 hierarchy. */
static struct cg_hier *procs_hier(struct hull_cgroup *cg)
{
	struct cg_hier *h = cg_unified(cg);

	if (h)
		return h;
	if ((h = cg_hier_for(cg, CG_PIDS)) || (h = cg_hier_for(cg, CG_FREEZER)))
		return h;
	return cg->n_h ? &cg->h[0] : NULL;
}

int hull_cgroup_pids(struct hull_cgroup *cg, pid_t **pids, size_t *n, struct hull_err *err)
{
	struct pid_vec pv = { 0 };
	struct cg_hier *h = procs_hier(cg);
	size_t w = 0;

	*pids = NULL;
	*n = 0;
	if (!h)
		return 0;
	if (collect_pids(h->dir, &pv, 0, err) < 0) {
		free(pv.v);
		return -err->code;
	}
	if (pv.n) {
		qsort(pv.v, pv.n, sizeof(pid_t), cmp_pid);
		for (size_t i = 0; i < pv.n; i++)
			if (!w || pv.v[w - 1] != pv.v[i])
				pv.v[w++] = pv.v[i];
	}
	*pids = pv.n ? pv.v : (free(pv.v), NULL);
	*n = w;
	return 0;
}

int hull_cgroup_kill(struct hull_cgroup *cg, int sig, struct hull_err *err)
{
	struct cg_hier *u = cg_unified(cg);
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	bool frozen = false;
	int was_frozen, ret;

	if (sig == SIGKILL && cg->layout == HULL_CGROUP_V2 && u && cg_exists(u->dir, "cgroup.kill"))
		return cg_write(u->dir, "cgroup.kill", "1", err);
	/* Freeze so nothing forks between reading the list and signalling;
	 * a paused container stays paused, except for SIGKILL: a task frozen
	 * by the v1 freezer does not die until thawed, and clients (the
	 * containerd shim, podman) expect a killed paused container to stop. */
	was_frozen = hull_cgroup_is_frozen(cg, err);
	if (was_frozen == 0 && hull_cgroup_freeze(cg, true, err) == 0)
		frozen = true;
	if (was_frozen == 1 && sig == SIGKILL)
		frozen = true;
	hull_err_clear(err);
	ret = hull_cgroup_pids(cg, &pids, &n, err);
	if (ret == 0)
		for (size_t i = 0; i < n; i++)
			if (kill(pids[i], sig) < 0 && errno != ESRCH) {
				ret = hull_errf_sys(err, errno, "kill %d", (int)pids[i]);
				break;
			}
	if (frozen) {
		struct hull_err e2 = { 0 };
		if (hull_cgroup_freeze(cg, false, &e2) < 0 && ret == 0) {
			*err = e2;
			ret = -e2.code;
		}
	}
	return ret;
}

/* ---- destroy ------------------------------------------------------------ */

static int rmdir_tree(const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (depth > 64)
		return -ELOOP;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char sub[CG_PATH_MAX + 256];
		int r;
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		r = rmdir_tree(sub, depth + 1);
		if (r < 0 && !ret)
			ret = r;
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return -errno;
	return ret;
}

int hull_cgroup_destroy(struct hull_cgroup *cg, bool kill_leftovers, struct hull_err *err)
{
	long delay = 5;
	int last = 0;
	const char *where = NULL;

	if (kill_leftovers) {
		struct hull_err e2 = { 0 };
		if (hull_cgroup_kill(cg, SIGKILL, &e2) < 0)
			hull_debug("cgroup %s: kill leftovers: %s", cg->path, e2.msg);
	}
	/* ~2 s: processes leave the cgroup only once the kernel has torn them down */
	for (int attempt = 0; attempt < 20; attempt++) {
		last = 0;
		for (size_t i = 0; i < cg->n_h; i++) {
			int r = rmdir_tree(cg->h[i].dir, 0);
			if (r < 0 && !last) {
				last = r;
				where = cg->h[i].dir;
			}
		}
		if (last == 0)
			return 0;
		if (last != -EBUSY)
			break;
		sleep_ms(delay);
		if (delay < 200)
			delay *= 2;
	}
	return hull_errf(err, -last, "remove cgroup %s: %s", where ? where : cg->path, strerror(-last));
}
