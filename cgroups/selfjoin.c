/* selfjoin.c — a new container process moving itself into the v1
 * hierarchies (see hull_cgroup_self_join_open in cgroup.h).
 *
 * Writing a pid to cgroup.procs takes the global cgroup_threadgroup_rwsem
 * for writing, and that waits for an RCU grace period: 7–18 ms on a busy
 * two-cpu host, the slowest step of starting a container on v1/hybrid.  A
 * thread that writes "0" (itself) to a v1 `tasks` file migrates only itself
 * and the kernel skips that lock (cgroup_procs_write_start); for a
 * single-threaded process that is the whole process.  The files are opened
 * by the runtime before the clone: v1 checks the writer against the
 * credentials the file was opened with, so a child already in its own user
 * namespace may still move itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cgroups/internal.h"

int hull_cgroup_self_join_open(struct hull_cgroup *cg, int *fds, size_t max, size_t *n, struct hull_err *err)
{
	char p[CG_PATH_MAX + 16];

	*n = 0;
	for (size_t i = 0; i < cg->n_h; i++) {
		if (cg->h[i].v2)
			continue;
		if (*n == max) {
			hull_cgroup_self_join_close(fds, n);
			return hull_errf(err, E2BIG, "too many cgroup hierarchies");
		}
		snprintf(p, sizeof(p), "%s/tasks", cg->h[i].dir);
		fds[*n] = open(p, O_WRONLY | O_CLOEXEC);
		if (fds[*n] < 0) {
			int e = errno;
			hull_cgroup_self_join_close(fds, n);
			return hull_errf_sys(err, e, "%s", p);
		}
		(*n)++;
	}
	return 0;
}

int hull_cgroup_self_join(int *fds, size_t *n, struct hull_err *err)
{
	int r = 0;

	for (size_t i = 0; i < *n && !r; i++)
		while (write(fds[i], "0", 1) != 1) {
			if (errno == EINTR)
				continue;
			r = hull_errf_sys(err, errno, "join cgroup (v1 tasks)");
			break;
		}
	hull_cgroup_self_join_close(fds, n);
	return r;
}

void hull_cgroup_self_join_close(int *fds, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	*n = 0;
}
