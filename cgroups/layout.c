/* layout.c — which cgroup layout this host has and where each controller
 * lives.  Container start pays for this on every `create`, so it is one
 * statfs on v2, and one directory read plus a statfs per hierarchy on
 * v1/hybrid; hierarchies are named by their mount directory as every
 * distribution lays them out (/sys/fs/cgroup/cpu,cpuacct). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroups/internal.h"
#include "lib/cleanup.h"

static const char *const ctrl_names[CG__COUNT] = {
	[CG_CPU] = "cpu", [CG_CPUACCT] = "cpuacct", [CG_CPUSET] = "cpuset", [CG_MEMORY] = "memory",
	[CG_DEVICES] = "devices", [CG_FREEZER] = "freezer", [CG_BLKIO] = "blkio", [CG_PIDS] = "pids",
	[CG_HUGETLB] = "hugetlb", [CG_NET_CLS] = "net_cls", [CG_NET_PRIO] = "net_prio",
	[CG_RDMA] = "rdma", [CG_PERF_EVENT] = "perf_event", [CG_MISC] = "misc",
};

const char *cg_ctrl_name(enum cg_ctrl c)
{
	return (unsigned)c < CG__COUNT ? ctrl_names[c] : "?";
}

const char *cg_ctrl_v2_name(enum cg_ctrl c)
{
	return c == CG_BLKIO ? "io" : cg_ctrl_name(c);
}

int cg_ctrl_from_name_n(const char *name, size_t len)
{
	if (len == 2 && !strncmp(name, "io", 2))
		return CG_BLKIO;
	for (int i = 0; i < CG__COUNT; i++)
		if (strlen(ctrl_names[i]) == len && !strncmp(ctrl_names[i], name, len))
			return i;
	return -1;
}

int cg_ctrl_from_name(const char *name)
{
	return cg_ctrl_from_name_n(name, strlen(name));
}

/* Space-separated controller list (cgroup.controllers) -> mask. */
static uint32_t parse_ctrl_list(const char *s, char sep)
{
	uint32_t mask = 0;

	while (*s) {
		const char *e = s;
		int c;
		while (*e && *e != sep && *e != '\n' && *e != ' ')
			e++;
		c = cg_ctrl_from_name_n(s, (size_t)(e - s));
		if (c >= 0)
			mask |= CG_BIT(c);
		s = *e ? e + 1 : e;
	}
	return mask;
}

static int read_v2_controllers(const char *mnt_dir, uint32_t *mask, struct hull_err *err)
{
	_cleanup_free_ char *text = NULL;
	int ret = cg_read(mnt_dir, "cgroup.controllers", &text, err);

	if (ret < 0)
		return ret;
	*mask = parse_ctrl_list(text, ' ');
	/* the device controller of v2 is the eBPF hook, always there; the
	 * freezer is cgroup.freeze, a core file */
	return 0;
}

int cg_layout_detect(struct hull_cgroup *cg, struct hull_err *err)
{
	struct statfs sf;
	DIR *d;
	struct dirent *de;

	cg->n_h = 0;
	cg->unified = -1;
	if (statfs(CG_ROOT, &sf) < 0)
		return hull_errf_sys(err, errno, "%s", CG_ROOT);
	if (sf.f_type == CGROUP2_SUPER_MAGIC) {
		struct cg_hier *h = &cg->h[0];
		memset(h, 0, sizeof(*h));
		h->v2 = true;
		h->created_from = -1;
		if (read_v2_controllers(CG_ROOT, &h->ctrls, err) < 0)
			return -err->code;
		cg->n_h = 1;
		cg->unified = 0;
		cg->layout = HULL_CGROUP_V2;
		return 0;
	}

	d = opendir(CG_ROOT);
	if (!d)
		return hull_errf_sys(err, errno, "%s", CG_ROOT);
	while ((de = readdir(d))) {
		char p[CG_PATH_MAX];
		struct cg_hier *h;
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (strlen(de->d_name) >= sizeof(h->mnt))
			continue;
		snprintf(p, sizeof(p), "%s/%s", CG_ROOT, de->d_name);
		if (statfs(p, &sf) < 0)
			continue;
		if (sf.f_type != CGROUP_SUPER_MAGIC && sf.f_type != CGROUP2_SUPER_MAGIC)
			continue;
		if (cg->n_h >= CG_MAX_HIER)
			break;
		h = &cg->h[cg->n_h];
		memset(h, 0, sizeof(*h));
		h->created_from = -1;
		snprintf(h->mnt, sizeof(h->mnt), "%s", de->d_name);
		if (sf.f_type == CGROUP2_SUPER_MAGIC) {
			if (cg->unified >= 0)
				continue;     /* a second cgroup2 mount is the same tree */
			h->v2 = true;
			if (read_v2_controllers(p, &h->ctrls, err) < 0) {
				closedir(d);
				return -err->code;
			}
			cg->unified = (int)cg->n_h;
		} else {
			h->ctrls = parse_ctrl_list(de->d_name, ',');
		}
		cg->n_h++;
	}
	closedir(d);
	if (cg->n_h == 0)
		return hull_errf(err, ENOENT, "%s: no cgroup hierarchy is mounted", CG_ROOT);
	/* A controller bound to a v1 hierarchy is never offered by cgroup2. */
	if (cg->unified >= 0)
		for (size_t i = 0; i < cg->n_h; i++)
			if (!cg->h[i].v2)
				cg->h[cg->unified].ctrls &= ~cg->h[i].ctrls;
	cg->layout = cg->unified >= 0 ? HULL_CGROUP_HYBRID : HULL_CGROUP_V1;
	return 0;
}

struct cg_hier *cg_hier_for(struct hull_cgroup *cg, enum cg_ctrl c)
{
	for (size_t i = 0; i < cg->n_h; i++)
		if (!cg->h[i].v2 && (cg->h[i].ctrls & CG_BIT(c)))
			return &cg->h[i];
	if (cg->unified >= 0 && (cg->h[cg->unified].ctrls & CG_BIT(c)))
		return &cg->h[cg->unified];
	return NULL;
}

struct cg_hier *cg_unified(struct hull_cgroup *cg)
{
	return cg->unified >= 0 ? &cg->h[cg->unified] : NULL;
}
