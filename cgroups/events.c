/* events.c — OOM notifications.  v1: an eventfd registered on
 * memory.oom_control through cgroup.event_control (the kernel signals it on
 * every OOM in the cgroup, and once more when the cgroup is removed).  v2:
 * inotify on memory.events, comparing the oom_kill counter. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroups/internal.h"
#include "lib/cleanup.h"

struct hull_cgroup_oom_watch {
	int fd;
	bool v2;
	uint64_t last;
	char dir[CG_PATH_MAX + 80];
};

static int v2_count(const char *dir, uint64_t *out, struct hull_err *err)
{
	_cleanup_free_ char *ev = NULL;
	int ret = cg_read(dir, "memory.events", &ev, err);

	if (ret < 0)
		return ret;
	*out = 0;
	if (!cg_kv_get(ev, "oom_kill", out))
		cg_kv_get(ev, "oom", out);
	return 0;
}

int hull_cgroup_oom_watch_open(struct hull_cgroup *cg, struct hull_cgroup_oom_watch **out,
			       struct hull_err *err)
{
	struct cg_hier *h = cg_hier_for(cg, CG_MEMORY);
	struct hull_cgroup_oom_watch *w;
	char path[sizeof(w->dir) + 32];

	*out = NULL;
	if (!h)
		return hull_errf(err, ENOTSUP, "no memory controller: cannot watch for OOM events");
	w = calloc(1, sizeof(*w));
	if (!w)
		return hull_errf(err, ENOMEM, "oom watch");
	w->fd = -1;
	w->v2 = h->v2;
	snprintf(w->dir, sizeof(w->dir), "%s", h->dir);
	if (w->v2) {
		w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (w->fd < 0)
			goto fail_sys;
		snprintf(path, sizeof(path), "%s/memory.events", w->dir);
		if (inotify_add_watch(w->fd, path, IN_MODIFY) < 0)
			goto fail_sys;
		if (v2_count(w->dir, &w->last, err) < 0)
			goto fail;
	} else {
		_cleanup_close_ int ctl = -1;
		char line[64];
		w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (w->fd < 0)
			goto fail_sys;
		snprintf(path, sizeof(path), "%s/memory.oom_control", w->dir);
		ctl = open(path, O_RDONLY | O_CLOEXEC);
		if (ctl < 0)
			goto fail_sys;
		/* the kernel keeps its own reference to ctl once registered */
		snprintf(line, sizeof(line), "%d %d", w->fd, ctl);
		if (cg_write(w->dir, "cgroup.event_control", line, err) < 0)
			goto fail;
	}
	*out = w;
	return 0;
fail_sys:
	hull_errf_sys(err, errno, "watch OOM events in %s", w->dir);
fail:
	hull_cgroup_oom_watch_free(w);
	return -err->code;
}

int hull_cgroup_oom_watch_fd(const struct hull_cgroup_oom_watch *w)
{
	return w->fd;
}

int hull_cgroup_oom_watch_read(struct hull_cgroup_oom_watch *w, uint64_t *n_new, struct hull_err *err)
{
	*n_new = 0;
	if (w->v2) {
		char buf[4096];
		uint64_t cur;
		while (read(w->fd, buf, sizeof(buf)) > 0)
			;
		if (v2_count(w->dir, &cur, err) < 0)
			return -err->code;
		if (cur > w->last)
			*n_new = cur - w->last;
		w->last = cur;
		return 0;
	}
	uint64_t cnt = 0;
	if (read(w->fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return hull_errf_sys(err, errno, "read OOM eventfd");
	/* removal also signals the eventfd: that one is not an OOM */
	if (access(w->dir, F_OK) < 0)
		return hull_errf(err, ENOENT, "%s: cgroup removed", w->dir);
	*n_new = cnt;
	return 0;
}

void hull_cgroup_oom_watch_free(struct hull_cgroup_oom_watch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}
