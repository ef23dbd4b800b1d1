/* config.c — config.json top level: version, root, process, mounts, hooks,
 * annotations.  The linux section lives in config_linux.c. */
#include "oci/config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "oci/config_internal.h"

bool oci_path_is_absolute(const char *p)
{
	return p && p[0] == '/';
}

/* ---- version ----------------------------------------------------------- */

static bool digits(const char **p)
{
	const char *s = *p;
	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p != s;
}

static bool ident_chars(const char **p)
{
	const char *s = *p;
	while ((**p >= '0' && **p <= '9') || (**p >= 'a' && **p <= 'z') || (**p >= 'A' && **p <= 'Z') ||
	       **p == '-' || **p == '.')
		(*p)++;
	return *p != s;
}

/* SemVer (config.md requires it) with major 1 — minor releases only add
 * optional properties, which we may ignore, so any 1.x loads.  Major 0 is
 * the pre-1.0 drafts; the spec's own "good" example still says 0.5.0-dev and
 * its surviving properties kept their meaning, so it is accepted too. */
static int check_version(struct jw *w, const char *v)
{
	char q[80];
	const char *p = v;
	bool ok = (p[0] == '0' || p[0] == '1') && p[1] == '.';

	if (ok) {
		p += 2;
		ok = digits(&p) && *p++ == '.' && digits(&p);
	}
	if (ok && *p == '-') {
		p++;
		ok = ident_chars(&p);
	}
	if (ok && *p == '+') {
		p++;
		ok = ident_chars(&p);
	}
	if (ok && *p == '\0')
		return 0;
	return jw_fail(w, "unsupported version %s (want 1.x.y)", jw_quote(q, sizeof(q), v));
}

/* ---- process ----------------------------------------------------------- */

static int fail_missing(struct jw *w, const char *key)
{
	size_t mark = jw_push_key(w, key);
	int r = jw_fail(w, "is required");
	jw_pop(w, mark);
	return r;
}

static int parse_user(struct jw *w, yajl_val v, struct oci_user *u)
{
	yajl_val gids;
	int r;

	if ((r = jw_want_object(w, v)) < 0)
		return r;
	if ((r = jw_key_u32(w, v, "uid", false, &u->uid)) < 0 ||
	    (r = jw_key_u32(w, v, "gid", false, &u->gid)) < 0 ||
	    (r = jw_key_opt_u64(w, v, "umask", UINT32_MAX, &u->umask)) < 0 ||
	    (r = jw_key_str(w, v, "username", false, &u->username)) < 0)
		return r;
	gids = jw_member(v, "additionalGids");
	if (gids) {
		size_t mark = jw_push_key(w, "additionalGids");
		if (!YAJL_IS_ARRAY(gids)) {
			r = jw_fail(w, "must be an array");
		} else {
			u->additional_gids = calloc(gids->u.array.len + 1, sizeof(uint32_t));
			if (!u->additional_gids)
				r = hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
			for (size_t i = 0; r == 0 && i < gids->u.array.len; i++) {
				size_t m = jw_push_index(w, i);
				uint64_t g = 0;
				r = jw_u64(w, gids->u.array.values[i], UINT32_MAX, &g);
				u->additional_gids[i] = (uint32_t)g;
				u->n_additional_gids = i + 1;
				jw_pop(w, m);
			}
		}
		jw_pop(w, mark);
	}
	if (r < 0)
		return r;
	/* config.md: both REQUIRED on POSIX; checked after the values so a
	 * wrong one is reported as such.  (Absent would silently mean root.) */
	if (!jw_member(v, "uid"))
		return fail_missing(w, "uid");
	if (!jw_member(v, "gid"))
		return fail_missing(w, "gid");
	return 0;
}

/* OCI spells capabilities "CAP_CHOWN"; libcap also takes "chown" or "12",
 * which are not valid here, so insist on the OCI form before asking it. */
static int cap_lookup(struct jw *w, const char *name, int *out)
{
	char q[80];
	cap_value_t cap;
	const char *p;

	if (strncmp(name, "CAP_", 4) != 0 || !name[4])
		goto bad;
	for (p = name + 4; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			goto bad;
	if (cap_from_name(name, &cap) != 0 || cap < 0 || cap >= 64)
		goto bad;
	*out = cap;
	return 0;
bad:
	return jw_fail(w, "unknown capability %s", jw_quote(q, sizeof(q), name));
}

static int parse_cap_set(struct jw *w, yajl_val caps, const char *key, uint64_t *mask, bool *has)
{
	yajl_val v = jw_member(caps, key);
	size_t mark;
	int r = 0;

	if (!v)
		return 0;
	mark = jw_push_key(w, key);
	if (!YAJL_IS_ARRAY(v)) {
		r = jw_fail(w, "must be an array of strings");
		goto out;
	}
	for (size_t i = 0; i < v->u.array.len && r == 0; i++) {
		size_t m = jw_push_index(w, i);
		yajl_val e = v->u.array.values[i];
		int cap = 0;
		if (!YAJL_IS_STRING(e))
			r = jw_fail(w, "must be a string");
		else if ((r = cap_lookup(w, e->u.string, &cap)) == 0)
			*mask |= UINT64_C(1) << cap;
		jw_pop(w, m);
	}
	if (r == 0)
		*has = true;
out:
	jw_pop(w, mark);
	return r;
}

static int parse_caps(struct jw *w, yajl_val v, struct oci_caps *c)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0)
		return r;
	c->present = true;
	if ((r = parse_cap_set(w, v, "bounding", &c->bounding, &c->has_bounding)) < 0 ||
	    (r = parse_cap_set(w, v, "effective", &c->effective, &c->has_effective)) < 0 ||
	    (r = parse_cap_set(w, v, "inheritable", &c->inheritable, &c->has_inheritable)) < 0 ||
	    (r = parse_cap_set(w, v, "permitted", &c->permitted, &c->has_permitted)) < 0 ||
	    (r = parse_cap_set(w, v, "ambient", &c->ambient, &c->has_ambient)) < 0)
		return r;
	return 0;
}

static const struct {
	const char *name;
	int value;
} rlimit_names[] = {
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_STACK", RLIMIT_STACK },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

static int parse_rlimit(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_rlimit *rl = elem;
	char q[80];
	size_t mark;
	int r;

	rl->resource = -1;
	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "type", true, &rl->type)) < 0 ||
	    (r = jw_key_u64(w, v, "soft", true, UINT64_MAX, &rl->soft)) < 0 ||
	    (r = jw_key_u64(w, v, "hard", true, UINT64_MAX, &rl->hard)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (strcmp(rlimit_names[i].name, rl->type) == 0)
			rl->resource = rlimit_names[i].value;
	if (rl->resource >= 0)
		return 0;
	mark = jw_push_key(w, "type");
	r = jw_fail(w, "unknown rlimit %s", jw_quote(q, sizeof(q), rl->type));
	jw_pop(w, mark);
	return r;
}

static int parse_rlimits(struct jw *w, yajl_val proc, struct oci_process *p)
{
	char q[80];
	int r;

	r = jw_key_array(w, proc, "rlimits", sizeof(*p->rlimits), (void **)&p->rlimits, &p->n_rlimits,
			 parse_rlimit, NULL);
	if (r < 0)
		return r;
	for (size_t i = 1; i < p->n_rlimits; i++)
		for (size_t j = 0; j < i; j++)
			if (p->rlimits[i].resource == p->rlimits[j].resource) {
				size_t mark = jw_push_key(w, "rlimits");
				jw_push_index(w, i);
				jw_push_key(w, "type");
				r = jw_fail(w, "duplicate rlimit %s", jw_quote(q, sizeof(q), p->rlimits[i].type));
				jw_pop(w, mark);
				return r;
			}
	return 0;
}

static const struct {
	const char *name;
	int value;
} sched_policies[] = {
	{ "SCHED_OTHER", 0 }, { "SCHED_FIFO", 1 }, { "SCHED_RR", 2 },      { "SCHED_BATCH", 3 },
	{ "SCHED_ISO", 4 },   { "SCHED_IDLE", 5 }, { "SCHED_DEADLINE", 6 },
};

static const char *const sched_flags[] = {
	"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",	"SCHED_FLAG_DL_OVERRUN",
	"SCHED_FLAG_KEEP_POLICY",   "SCHED_FLAG_KEEP_PARAMS",	"SCHED_FLAG_UTIL_CLAMP_MIN",
	"SCHED_FLAG_UTIL_CLAMP_MAX",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static int parse_scheduler(struct jw *w, yajl_val v, struct oci_scheduler *s)
{
	char q[80];
	size_t mark;
	int r;

	if ((r = jw_want_object(w, v)) < 0)
		return r;
	s->present = true;
	s->policy_value = -1;
	if ((r = jw_key_str(w, v, "policy", true, &s->policy)) < 0 ||
	    (r = jw_key_i32(w, v, "nice", false, &s->nice)) < 0 ||
	    (r = jw_key_i32(w, v, "priority", false, &s->priority)) < 0 ||
	    (r = jw_key_u64(w, v, "runtime", false, UINT64_MAX, &s->runtime)) < 0 ||
	    (r = jw_key_u64(w, v, "deadline", false, UINT64_MAX, &s->deadline)) < 0 ||
	    (r = jw_key_u64(w, v, "period", false, UINT64_MAX, &s->period)) < 0 ||
	    (r = jw_key_str_array(w, v, "flags", &s->flags, &s->n_flags)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(sched_policies); i++)
		if (strcmp(sched_policies[i].name, s->policy) == 0)
			s->policy_value = sched_policies[i].value;
	if (s->policy_value < 0) {
		mark = jw_push_key(w, "policy");
		r = jw_fail(w, "unknown scheduler policy %s", jw_quote(q, sizeof(q), s->policy));
		jw_pop(w, mark);
		return r;
	}
	for (size_t i = 0; i < s->n_flags; i++)
		if (!in_list(s->flags[i], sched_flags, ARRAY_SIZE(sched_flags))) {
			mark = jw_push_key(w, "flags");
			jw_push_index(w, i);
			r = jw_fail(w, "unknown scheduler flag %s", jw_quote(q, sizeof(q), s->flags[i]));
			jw_pop(w, mark);
			return r;
		}
	return 0;
}

static int parse_io_priority(struct jw *w, yajl_val v, struct oci_io_priority *io)
{
	static const char *const classes[] = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE" };
	int64_t prio = 0;
	char q[80];
	size_t mark;
	int r;

	if ((r = jw_want_object(w, v)) < 0)
		return r;
	io->present = true;
	/* ioprio_set(2) levels are 0 (highest) … 7 */
	if ((r = jw_key_str(w, v, "class", true, &io->class_name)) < 0 ||
	    (r = jw_key_i64(w, v, "priority", false, 0, 7, &prio)) < 0)
		return r;
	io->priority = (int32_t)prio;
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
		if (strcmp(classes[i], io->class_name) == 0)
			io->class_value = (int)i + 1;
	if (!io->class_value) {
		mark = jw_push_key(w, "class");
		r = jw_fail(w, "unknown I/O priority class %s", jw_quote(q, sizeof(q), io->class_name));
		jw_pop(w, mark);
		return r;
	}
	/* REQUIRED (config.md); 0 is a level of its own, not a default */
	if (!jw_member(v, "priority"))
		return fail_missing(w, "priority");
	return 0;
}

static int check_cpu_list(struct jw *w, const char *key, const char *val)
{
	char q[80];
	size_t mark;
	int r;

	if (!val || strspn(val, "0123456789, -") == strlen(val))
		return 0;
	mark = jw_push_key(w, key);
	r = jw_fail(w, "invalid CPU list %s", jw_quote(q, sizeof(q), val));
	jw_pop(w, mark);
	return r;
}

static int parse_cpu_affinity(struct jw *w, yajl_val v, struct oci_exec_cpu_affinity *a)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "initial", false, &a->initial)) < 0 ||
	    (r = jw_key_str(w, v, "final", false, &a->final)) < 0 ||
	    (r = check_cpu_list(w, "initial", a->initial)) < 0 ||
	    (r = check_cpu_list(w, "final", a->final)) < 0)
		return r;
	return 0;
}

static int parse_console_size(struct jw *w, yajl_val v, struct oci_process *p)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_u32(w, v, "height", true, &p->console_height)) < 0 ||
	    (r = jw_key_u32(w, v, "width", true, &p->console_width)) < 0)
		return r;
	p->has_console_size = true;
	return 0;
}

int oci_parse_process_obj(struct jw *w, yajl_val v, struct oci_process *p)
{
	size_t mark;
	char q[80];
	int r;

	if ((r = jw_want_object(w, v)) < 0)
		return r;
	if ((r = jw_key_bool(w, v, "terminal", &p->terminal, NULL)) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "consoleSize", parse_console_size(w, v_, p))) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "user", parse_user(w, v_, &p->user))) < 0 ||
	    (r = jw_key_str_array(w, v, "args", &p->args, &p->n_args)) < 0 ||
	    (r = jw_key_str(w, v, "commandLine", false, &p->command_line)) < 0 ||
	    (r = jw_key_str_array(w, v, "env", &p->env, &p->n_env)) < 0 ||
	    (r = jw_key_str(w, v, "cwd", true, &p->cwd)) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "capabilities", parse_caps(w, v_, &p->caps))) < 0 ||
	    (r = parse_rlimits(w, v, p)) < 0 ||
	    (r = jw_key_bool(w, v, "noNewPrivileges", &p->no_new_privileges, NULL)) < 0 ||
	    (r = jw_key_str(w, v, "apparmorProfile", false, &p->apparmor_profile)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "oomScoreAdj", INT32_MIN, INT32_MAX, &p->oom_score_adj)) < 0 ||
	    (r = jw_key_str(w, v, "selinuxLabel", false, &p->selinux_label)) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "scheduler", parse_scheduler(w, v_, &p->scheduler))) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "ioPriority", parse_io_priority(w, v_, &p->io_priority))) < 0 ||
	    (r = JW_WITH_MEMBER(w, v, "execCPUAffinity", parse_cpu_affinity(w, v_, &p->exec_cpu_affinity))) < 0)
		return r;
	if (p->n_args == 0) {
		mark = jw_push_key(w, "args");
		r = jw_fail(w, "must be a non-empty array");
		jw_pop(w, mark);
		return r;
	}
	if (!oci_path_is_absolute(p->cwd)) {
		mark = jw_push_key(w, "cwd");
		r = jw_fail(w, "must be an absolute path, got %s", jw_quote(q, sizeof(q), p->cwd));
		jw_pop(w, mark);
		return r;
	}
	for (size_t i = 0; i < p->n_env; i++)
		if (!strchr(p->env[i], '=') || p->env[i][0] == '=') {
			mark = jw_push_key(w, "env");
			jw_push_index(w, i);
			r = jw_fail(w, "must have the form NAME=VALUE, got %s", jw_quote(q, sizeof(q), p->env[i]));
			jw_pop(w, mark);
			return r;
		}
	return jw_ensure_strv(w, &p->env);
}

void oci_process_clear(struct oci_process *p)
{
	free(p->user.additional_gids);
	free(p->user.username);
	jw_free_strv(p->args, p->n_args);
	free(p->command_line);
	jw_free_strv(p->env, p->n_env);
	free(p->cwd);
	for (size_t i = 0; p->rlimits && i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p->scheduler.policy);
	jw_free_strv(p->scheduler.flags, p->scheduler.n_flags);
	free(p->io_priority.class_name);
	free(p->exec_cpu_affinity.initial);
	free(p->exec_cpu_affinity.final);
	memset(p, 0, sizeof(*p));
}

/* ---- mounts, hooks ---------------------------------------------------- */

static int parse_idmap(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_idmap *m = elem;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_u32(w, v, "containerID", true, &m->container_id)) < 0 ||
	    (r = jw_key_u32(w, v, "hostID", true, &m->host_id)) < 0 ||
	    (r = jw_key_u32(w, v, "size", true, &m->size)) < 0)
		return r;
	/* The kernel refuses ranges that wrap; say so while we know the field. */
	if ((uint64_t)m->container_id + m->size > (uint64_t)UINT32_MAX + 1 ||
	    (uint64_t)m->host_id + m->size > (uint64_t)UINT32_MAX + 1)
		return jw_fail(w, "range exceeds the 32-bit ID space");
	return 0;
}

int oci_parse_idmaps(struct jw *w, yajl_val obj, const char *key, struct oci_idmap **out, size_t *n)
{
	return jw_key_array(w, obj, key, sizeof(**out), (void **)out, n, parse_idmap, NULL);
}

static int parse_mount(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_mount *m = elem;
	size_t mark;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "destination", true, &m->destination)) < 0 ||
	    (r = jw_key_str(w, v, "type", false, &m->type)) < 0 ||
	    (r = jw_key_str(w, v, "source", false, &m->source)) < 0 ||
	    (r = jw_key_str_array(w, v, "options", &m->options, &m->n_options)) < 0 ||
	    (r = oci_parse_idmaps(w, v, "uidMappings", &m->uid_mappings, &m->n_uid_mappings)) < 0 ||
	    (r = oci_parse_idmaps(w, v, "gidMappings", &m->gid_mappings, &m->n_gid_mappings)) < 0)
		return r;
	if (!m->destination[0]) {
		mark = jw_push_key(w, "destination");
		r = jw_fail(w, "must not be empty");
		jw_pop(w, mark);
	}
	return r;
}

static int parse_hook(struct jw *w, yajl_val v, void *elem, void *ctx)
{
	struct oci_hook *h = elem;
	char q[80];
	size_t mark;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "path", true, &h->path)) < 0 ||
	    (r = jw_key_str_array(w, v, "args", &h->args, &h->n_args)) < 0 ||
	    (r = jw_key_str_array(w, v, "env", &h->env, &h->n_env)) < 0 ||
	    (r = jw_key_opt_i64(w, v, "timeout", 1, INT64_MAX, &h->timeout)) < 0)
		return r;
	if (!oci_path_is_absolute(h->path)) {
		mark = jw_push_key(w, "path");
		r = jw_fail(w, "must be an absolute path, got %s", jw_quote(q, sizeof(q), h->path));
		jw_pop(w, mark);
		return r;
	}
	if ((r = jw_ensure_strv(w, &h->args)) < 0 || (r = jw_ensure_strv(w, &h->env)) < 0)
		return r;
	return 0;
}

static const char *const hook_keys[OCI_HOOK__COUNT] = {
	[OCI_HOOK_PRESTART] = "prestart",
	[OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
	[OCI_HOOK_CREATE_CONTAINER] = "createContainer",
	[OCI_HOOK_START_CONTAINER] = "startContainer",
	[OCI_HOOK_POSTSTART] = "poststart",
	[OCI_HOOK_POSTSTOP] = "poststop",
};

static int parse_hooks(struct jw *w, yajl_val v, struct oci_config *cfg)
{
	int r;

	if ((r = jw_want_object(w, v)) < 0)
		return r;
	for (int k = 0; k < OCI_HOOK__COUNT; k++) {
		struct oci_hook_list *hl = &cfg->hooks[k];
		r = jw_key_array(w, v, hook_keys[k], sizeof(*hl->hooks), (void **)&hl->hooks, &hl->n,
				 parse_hook, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_root(struct jw *w, yajl_val v, struct oci_root *root)
{
	size_t mark;
	int r;

	if ((r = jw_want_object(w, v)) < 0 || (r = jw_key_str(w, v, "path", true, &root->path)) < 0 ||
	    (r = jw_key_bool(w, v, "readonly", &root->readonly, NULL)) < 0)
		return r;
	if (!root->path[0]) {
		mark = jw_push_key(w, "path");
		r = jw_fail(w, "must not be empty");
		jw_pop(w, mark);
	}
	return r;
}

/* ---- document ---------------------------------------------------------- */

static int parse_document(struct jw *w, yajl_val doc, struct oci_config *cfg)
{
	size_t mark;
	yajl_val v;
	int r;

	if (!YAJL_IS_OBJECT(doc))
		return jw_fail(w, "top level must be a JSON object");
	if ((r = jw_key_str(w, doc, "ociVersion", true, &cfg->oci_version)) < 0)
		return r;
	mark = jw_push_key(w, "ociVersion");
	r = check_version(w, cfg->oci_version);
	jw_pop(w, mark);
	if (r < 0)
		return r;

	v = jw_member(doc, "root");
	if (!v) {
		mark = jw_push_key(w, "root");
		r = jw_fail(w, "is required");
		jw_pop(w, mark);
		return r;
	}
	if ((r = JW_WITH_MEMBER(w, doc, "root", parse_root(w, v_, &cfg->root))) < 0)
		return r;

	if (jw_member(doc, "process")) {
		cfg->has_process = true;
		if ((r = JW_WITH_MEMBER(w, doc, "process", oci_parse_process_obj(w, v_, &cfg->process))) < 0)
			return r;
	}
	if ((r = jw_key_str(w, doc, "hostname", false, &cfg->hostname)) < 0 ||
	    (r = jw_key_str(w, doc, "domainname", false, &cfg->domainname)) < 0 ||
	    (r = jw_key_array(w, doc, "mounts", sizeof(*cfg->mounts), (void **)&cfg->mounts, &cfg->n_mounts,
			      parse_mount, NULL)) < 0 ||
	    (r = JW_WITH_MEMBER(w, doc, "hooks", parse_hooks(w, v_, cfg))) < 0 ||
	    (r = jw_key_str_map(w, doc, "annotations", &cfg->annotations, &cfg->n_annotations)) < 0)
		return r;
	if (jw_member(doc, "linux")) {
		cfg->has_linux = true;
		if ((r = JW_WITH_MEMBER(w, doc, "linux", oci_parse_linux_obj(w, v_, &cfg->linux_))) < 0)
			return r;
	}
	return 0;
}

int oci_config_parse(const char *json, size_t len, const char *name, struct oci_config **out,
		     struct hull_err *err)
{
	struct oci_config *cfg;
	yajl_val doc;
	struct jw w;
	int r;

	*out = NULL;
	jw_init(&w, name, err);
	if ((r = jw_parse(&w, json, len, &doc)) < 0)
		return r;
	if ((r = jw_check_unique_names(&w, doc)) < 0) {
		yajl_tree_free(doc);
		return r;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		yajl_tree_free(doc);
		return hull_errf(err, ENOMEM, "%s: out of memory", w.name);
	}
	r = parse_document(&w, doc, cfg);
	yajl_tree_free(doc);
	if (r < 0) {
		oci_config_free(cfg);
		return r;
	}
	*out = cfg;
	return 0;
}

int oci_config_load(const char *path, struct oci_config **out, struct hull_err *err)
{
	_cleanup_free_ char *buf = NULL;
	const char *base;
	size_t len;
	int r;

	*out = NULL;
	r = hull_read_file(path, 0, &buf, &len, err);
	if (r < 0)
		return r;
	base = strrchr(path, '/');
	base = base && base[1] ? base + 1 : path;
	return oci_config_parse(buf, len, base, out, err);
}

void oci_config_free(struct oci_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->oci_version);
	free(cfg->root.path);
	oci_process_clear(&cfg->process);
	free(cfg->hostname);
	free(cfg->domainname);
	for (size_t i = 0; cfg->mounts && i < cfg->n_mounts; i++) {
		struct oci_mount *m = &cfg->mounts[i];
		free(m->destination);
		free(m->type);
		free(m->source);
		jw_free_strv(m->options, m->n_options);
		free(m->uid_mappings);
		free(m->gid_mappings);
	}
	free(cfg->mounts);
	for (int k = 0; k < OCI_HOOK__COUNT; k++) {
		for (size_t i = 0; cfg->hooks[k].hooks && i < cfg->hooks[k].n; i++) {
			struct oci_hook *h = &cfg->hooks[k].hooks[i];
			free(h->path);
			jw_free_strv(h->args, h->n_args);
			jw_free_strv(h->env, h->n_env);
		}
		free(cfg->hooks[k].hooks);
	}
	jw_free_kv(cfg->annotations, cfg->n_annotations);
	oci_linux_clear(&cfg->linux_);
	free(cfg);
}

int oci_process_parse(const char *json, size_t len, const char *name, struct oci_process **out,
		      struct hull_err *err)
{
	struct oci_process *p;
	yajl_val doc;
	struct jw w;
	int r;

	*out = NULL;
	jw_init(&w, name ? name : "process.json", err);
	if ((r = jw_parse(&w, json, len, &doc)) < 0)
		return r;
	if ((r = jw_check_unique_names(&w, doc)) < 0) {
		yajl_tree_free(doc);
		return r;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		yajl_tree_free(doc);
		return hull_errf(err, ENOMEM, "%s: out of memory", w.name);
	}
	if (!YAJL_IS_OBJECT(doc))
		r = jw_fail(&w, "top level must be a JSON object");
	else
		r = oci_parse_process_obj(&w, doc, p);
	yajl_tree_free(doc);
	if (r < 0) {
		oci_process_free(p);
		return r;
	}
	*out = p;
	return 0;
}

void oci_process_free(struct oci_process *p)
{
	if (!p)
		return;
	oci_process_clear(p);
	free(p);
}

/* ---- lookups ----------------------------------------------------------- */

const struct oci_namespace *oci_config_namespace(const struct oci_config *cfg, enum oci_ns_type type)
{
	for (size_t i = 0; cfg && i < cfg->linux_.n_namespaces; i++)
		if (cfg->linux_.namespaces[i].type == type)
			return &cfg->linux_.namespaces[i];
	return NULL;
}

const char *oci_config_annotation(const struct oci_config *cfg, const char *key)
{
	const char *found = NULL;

	/* Last one wins, as with duplicate JSON keys. */
	for (size_t i = 0; cfg && i < cfg->n_annotations; i++)
		if (strcmp(cfg->annotations[i].key, key) == 0)
			found = cfg->annotations[i].value;
	return found;
}
