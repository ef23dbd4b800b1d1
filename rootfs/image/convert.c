/* convert.c — image config + `hull run` flags -> runtime config.json,
 * following the image-spec's conversion rules (conversion.md):
 *   Entrypoint + Cmd -> process.args (flags: --entrypoint clears the image's
 *   Cmd, as docker does; args after the image replace Cmd), Env verbatim
 *   (PATH/HOME/TERM/HOSTNAME added only when absent), WorkingDir -> cwd,
 *   User resolved in the image's /etc/passwd and /etc/group, Volumes ->
 *   bind mounts of per-container dirs, Labels and the implicit fields ->
 *   annotations (Labels win), StopSignal -> org.opencontainers.image.stopSignal.
 * Defaults for an image run (what podman users expect): podman's default
 * capability set, a default seccomp profile, masked and read-only /proc
 * and /sys paths, new pid/ipc/uts/mount/network namespaces.
 * Pure: the caller hands in file contents; nothing here touches the disk.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "lib/cleanup.h"
#include "oci/json_walk.h"
#include "rootfs/image/image.h"
#include "rootfs/image/seccomp_default.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- users ------------------------------------------------------------ */

void img_user_free(struct img_user *u)
{
	free(u->extra_gids);
	free(u->home);
	memset(u, 0, sizeof(*u));
}

static bool parse_id(const char *s, uint32_t *out)
{
	if (!*s || !isdigit((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno || v > UINT32_MAX - 1)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Walk "a:b:c…" lines; fn gets the fields.  Returns fn's first non-zero. */
static int each_line(const char *text, int (*fn)(char **f, size_t n, void *ctx), void *ctx)
{
	if (!text)
		return 0;
	for (const char *l = text; *l;) {
		const char *e = strchrnul(l, '\n');
		char line[4096];
		size_t len = (size_t)(e - l);
		if (len < sizeof(line) && len && *l != '#') {
			memcpy(line, l, len);
			line[len] = '\0';
			char *f[8];
			size_t n = 0;
			char *p = line;
			while (n < ARRAY_SIZE(f)) {
				f[n++] = p;
				char *c = strchr(p, ':');
				if (!c)
					break;
				*c = '\0';
				p = c + 1;
			}
			int r = fn(f, n, ctx);
			if (r)
				return r;
		}
		l = *e ? e + 1 : e;
	}
	return 0;
}

struct pw_query { const char *name; bool by_id; uint32_t id; uint32_t uid, gid; char *home; char *found_name; };

static int pw_match(char **f, size_t n, void *ctx)
{
	struct pw_query *q = ctx;
	uint32_t uid, gid;
	if (n < 4 || !parse_id(f[2], &uid) || !parse_id(f[3], &gid))
		return 0;
	if (q->by_id ? uid != q->id : strcmp(f[0], q->name) != 0)
		return 0;
	q->uid = uid;
	q->gid = gid;
	q->home = n >= 6 && f[5][0] ? strdup(f[5]) : NULL;
	q->found_name = strdup(f[0]);
	return 1;
}

struct gr_query { const char *name; uint32_t gid; bool found; const char *member; uint32_t primary;
		  uint32_t *gids; size_t n; };

static int gr_match(char **f, size_t n, void *ctx)
{
	struct gr_query *q = ctx;
	uint32_t gid;
	if (n < 3 || !parse_id(f[2], &gid))
		return 0;
	if (q->name) {
		if (strcmp(f[0], q->name) == 0) {
			q->gid = gid;
			q->found = true;
			return 1;
		}
		return 0;
	}
	if (n < 4 || gid == q->primary)
		return 0;
	for (char *m = f[3]; m && *m;) {
		char *c = strchr(m, ',');
		if (c)
			*c = '\0';
		if (strcmp(m, q->member) == 0) {
			uint32_t *ng = realloc(q->gids, (q->n + 1) * sizeof(*ng));
			if (!ng)
				return -ENOMEM;
			q->gids = ng;
			q->gids[q->n++] = gid;
			break;
		}
		m = c ? c + 1 : NULL;
	}
	return 0;
}

int img_resolve_user(const char *spec, const char *passwd, const char *group, struct img_user *out,
		     struct hull_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!spec || !*spec)
		spec = "0";
	_cleanup_free_ char *u = strdup(spec);
	if (!u)
		return hull_errf(err, ENOMEM, "out of memory");
	char *g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	if (!*u || (g && !*g))
		return hull_errf(err, EINVAL, "user `%s`: expected user[:group]", spec);
	struct pw_query q = { .name = u };
	q.by_id = parse_id(u, &q.id);
	bool found = each_line(passwd, pw_match, &q) == 1;
	if (q.by_id) {
		out->uid = q.id;
		out->gid = found ? q.gid : 0;
	} else if (!found) {
		return hull_errf(err, ENOENT, "user `%s`: no such user in the image's /etc/passwd", u);
	} else {
		out->uid = q.uid;
		out->gid = q.gid;
	}
	out->home = q.home;
	if (g) {
		uint32_t gid;
		if (parse_id(g, &gid)) {
			out->gid = gid;
		} else {
			struct gr_query gq = { .name = g };
			each_line(group, gr_match, &gq);
			if (!gq.found) {
				free(q.found_name);
				img_user_free(out);
				return hull_errf(err, ENOENT, "group `%s`: no such group in the image's /etc/group", g);
			}
			out->gid = gq.gid;
		}
	} else if (found && q.found_name) {
		/* supplementary groups only for a named user without a group (conversion.md) */
		if (!q.by_id) {
			struct gr_query gq = { .member = q.found_name, .primary = out->gid };
			if (each_line(group, gr_match, &gq) < 0) {
				free(q.found_name);
				free(gq.gids);
				img_user_free(out);
				return hull_errf(err, ENOMEM, "out of memory");
			}
			out->extra_gids = gq.gids;
			out->n_extra_gids = gq.n;
		}
	}
	free(q.found_name);
	return 0;
}

/* ---- capabilities ----------------------------------------------------- */

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

/* podman's default_capabilities (containers.conf) */
static const char *const default_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
};

static int cap_index(const char *name)
{
	char buf[64];
	if (strncasecmp(name, "CAP_", 4) != 0)
		snprintf(buf, sizeof(buf), "CAP_%s", name);
	else
		snprintf(buf, sizeof(buf), "%s", name);
	for (char *p = buf; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (strcmp(cap_names[i], buf) == 0)
			return (int)i;
	return -1;
}

static int compute_caps(const struct hull_image_run_opts *o, uint64_t *out, struct hull_err *err)
{
	uint64_t all = (UINT64_C(1) << ARRAY_SIZE(cap_names)) - 1;
	uint64_t caps = 0;
	if (o->privileged) {
		*out = all;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
		caps |= UINT64_C(1) << cap_index(default_caps[i]);
	/* drops first, then adds: `--cap-drop ALL --cap-add X` leaves X (docker) */
	for (size_t i = 0; i < o->n_cap_drop; i++) {
		if (strcasecmp(o->cap_drop[i], "ALL") == 0) {
			caps = 0;
			continue;
		}
		int c = cap_index(o->cap_drop[i]);
		if (c < 0)
			return hull_errf(err, EINVAL, "--cap-drop: unknown capability `%s`", o->cap_drop[i]);
		caps &= ~(UINT64_C(1) << c);
	}
	for (size_t i = 0; i < o->n_cap_add; i++) {
		if (strcasecmp(o->cap_add[i], "ALL") == 0) {
			caps = all;
			continue;
		}
		int c = cap_index(o->cap_add[i]);
		if (c < 0)
			return hull_errf(err, EINVAL, "--cap-add: unknown capability `%s`", o->cap_add[i]);
		caps |= UINT64_C(1) << c;
	}
	*out = caps;
	return 0;
}

/* ---- JSON output helpers ----------------------------------------------- */

static void s(yajl_gen g, const char *v)
{
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

static void kv(yajl_gen g, const char *k, const char *v)
{
	s(g, k);
	s(g, v);
}

static void strv(yajl_gen g, const char *k, const char *const *v, size_t n)
{
	s(g, k);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		s(g, v[i]);
	yajl_gen_array_close(g);
}

static void cap_list(yajl_gen g, const char *k, uint64_t caps)
{
	s(g, k);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (caps & (UINT64_C(1) << i))
			s(g, cap_names[i]);
	yajl_gen_array_close(g);
}

static void mount(yajl_gen g, const char *dst, const char *type, const char *src, const char *const *opts,
		  size_t n_opts)
{
	yajl_gen_map_open(g);
	kv(g, "destination", dst);
	kv(g, "type", type);
	kv(g, "source", src);
	strv(g, "options", opts, n_opts);
	yajl_gen_map_close(g);
}

/* ---- env ---------------------------------------------------------------- */

struct envset { char **v; size_t n; };

static int env_set(struct envset *e, const char *entry, bool override)
{
	const char *eq = strchr(entry, '=');
	size_t kl = eq ? (size_t)(eq - entry) : strlen(entry);
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], entry, kl) == 0 && e->v[i][kl] == '=') {
			if (!override)
				return 0;
			char *d = strdup(entry);
			if (!d)
				return -ENOMEM;
			free(e->v[i]);
			e->v[i] = d;
			return 0;
		}
	}
	char **nv = realloc(e->v, (e->n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	e->v = nv;
	if (!(e->v[e->n] = strdup(entry)))
		return -ENOMEM;
	e->v[++e->n] = NULL;
	return 0;
}

static void envset_free(struct envset *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* ---- seccomp ------------------------------------------------------------ */

/* A rule's answer: fail the syscall with errno e. */
static void errno_action(yajl_gen g, int e)
{
	kv(g, "action", "SCMP_ACT_ERRNO");
	s(g, "errnoRet");
	yajl_gen_integer(g, e);
}

static void gen_seccomp_default(yajl_gen g, uint64_t caps)
{
	s(g, "seccomp");
	yajl_gen_map_open(g);
	kv(g, "defaultAction", "SCMP_ACT_ALLOW");
	const char *arches[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" };
#if defined(__x86_64__)
	strv(g, "architectures", arches, 3);
#else
	(void)arches;
#endif
	s(g, "syscalls");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	s(g, "names");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < ARRAY_SIZE(seccomp_denied); i++) {
		int c = seccomp_denied[i].unless_cap ? cap_index(seccomp_denied[i].unless_cap) : -1;
		if (c >= 0 && (caps & (UINT64_C(1) << c)))
			continue;
		s(g, seccomp_denied[i].name);
	}
	yajl_gen_array_close(g);
	errno_action(g, EPERM);
	yajl_gen_map_close(g);
	if (!(caps & (UINT64_C(1) << cap_index("CAP_SYS_ADMIN")))) {
		/* new namespaces only with CAP_SYS_ADMIN: clone() with a CLONE_NEW*
		 * flag is refused; clone3() (whose flags sit in memory, out of
		 * seccomp's reach) answers ENOSYS so libcs fall back to clone() */
		for (size_t i = 0; i < ARRAY_SIZE(clone_ns_flags); i++) {
			yajl_gen_map_open(g);
			const char *clone_name[] = { "clone" };
			strv(g, "names", clone_name, 1);
			errno_action(g, EPERM);
			s(g, "args");
			yajl_gen_array_open(g);
			yajl_gen_map_open(g);
			s(g, "index");
			yajl_gen_integer(g, 0);
			s(g, "value");
			yajl_gen_integer(g, clone_ns_flags[i]);
			s(g, "valueTwo");
			yajl_gen_integer(g, clone_ns_flags[i]);
			kv(g, "op", "SCMP_CMP_MASKED_EQ");
			yajl_gen_map_close(g);
			yajl_gen_array_close(g);
			yajl_gen_map_close(g);
		}
		yajl_gen_map_open(g);
		const char *clone3_name[] = { "clone3" };
		strv(g, "names", clone3_name, 1);
		errno_action(g, ENOSYS);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

static void gen_value(yajl_gen g, yajl_val v)
{
	if (YAJL_IS_STRING(v)) {
		s(g, v->u.string);
	} else if (YAJL_IS_INTEGER(v)) {
		yajl_gen_integer(g, YAJL_GET_INTEGER(v));
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			gen_value(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			s(g, v->u.object.keys[i]);
			gen_value(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	} else {
		yajl_gen_null(g);
	}
}

static bool caps_cond(yajl_val cond, uint64_t caps, bool want_all)
{
	yajl_val cl = jw_member(cond, "caps");
	if (!YAJL_IS_ARRAY(cl) || cl->u.array.len == 0)
		return want_all;   /* no condition: includes match, excludes don't */
	for (size_t i = 0; i < cl->u.array.len; i++) {
		yajl_val c = cl->u.array.values[i];
		int idx = YAJL_IS_STRING(c) ? cap_index(c->u.string) : -1;
		bool have = idx >= 0 && (caps & (UINT64_C(1) << idx));
		if (want_all && !have)
			return false;
		if (!want_all && have)
			return true;
	}
	return want_all;
}

static bool arch_cond(yajl_val cond, bool want_all)
{
	yajl_val al = jw_member(cond, "arches");
	if (!YAJL_IS_ARRAY(al) || al->u.array.len == 0)
		return want_all;
	const char *me = img_host_arch();
	for (size_t i = 0; i < al->u.array.len; i++) {
		yajl_val a = al->u.array.values[i];
		if (YAJL_IS_STRING(a) && (strcmp(a->u.string, me) == 0 ||
					  (strcmp(me, "amd64") == 0 && strcmp(a->u.string, "x86_64") == 0)))
			return true;
	}
	return false;
}

/* A docker/podman seccomp.json or a plain OCI linux.seccomp object.  Rules
 * conditioned on capabilities or architectures ("includes"/"excludes") are
 * kept only when the condition holds for this container. */
static int gen_seccomp_file(yajl_gen g, const char *text, uint64_t caps, struct hull_err *err)
{
	char ebuf[256] = "";
	yajl_val root = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	if (!YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		return hull_errf(err, EINVAL, "--security-opt seccomp: invalid JSON: %s", ebuf[0] ? ebuf : "not an object");
	}
	s(g, "seccomp");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < root->u.object.len; i++) {
		const char *k = root->u.object.keys[i];
		yajl_val v = root->u.object.values[i];
		if (strcmp(k, "archMap") == 0 || strcmp(k, "syscalls") == 0)
			continue;
		s(g, k);
		gen_value(g, v);
	}
	yajl_val am = jw_member(root, "archMap");
	if (YAJL_IS_ARRAY(am) && !jw_member(root, "architectures")) {
		s(g, "architectures");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < am->u.array.len; i++) {
			yajl_val a = jw_member(am->u.array.values[i], "architecture");
			if (!YAJL_IS_STRING(a) || strcmp(a->u.string, "SCMP_ARCH_X86_64") != 0)
				continue;
			s(g, a->u.string);
			yajl_val sub = jw_member(am->u.array.values[i], "subArchitectures");
			for (size_t j = 0; YAJL_IS_ARRAY(sub) && j < sub->u.array.len; j++)
				if (YAJL_IS_STRING(sub->u.array.values[j]))
					s(g, sub->u.array.values[j]->u.string);
		}
		yajl_gen_array_close(g);
	}
	yajl_val sc = jw_member(root, "syscalls");
	if (YAJL_IS_ARRAY(sc)) {
		s(g, "syscalls");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < sc->u.array.len; i++) {
			yajl_val e = sc->u.array.values[i];
			yajl_val inc = jw_member(e, "includes"), exc = jw_member(e, "excludes");
			if (inc && !(caps_cond(inc, caps, true) && arch_cond(inc, true)))
				continue;
			if (exc && (caps_cond(exc, caps, false) || (jw_member(exc, "arches") && arch_cond(exc, false))))
				continue;
			yajl_gen_map_open(g);
			for (size_t j = 0; YAJL_IS_OBJECT(e) && j < e->u.object.len; j++) {
				const char *k = e->u.object.keys[j];
				if (!strcmp(k, "includes") || !strcmp(k, "excludes") || !strcmp(k, "comment"))
					continue;
				s(g, k);
				gen_value(g, e->u.object.values[j]);
			}
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
	yajl_tree_free(root);
	return 0;
}

/* ---- the document ------------------------------------------------------- */

static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
	"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static int build_args(const struct img_convert_in *in, struct envset *args, struct hull_err *err)
{
	const struct img_config *c = in->cfg;
	const struct hull_image_run_opts *o = in->opts;
	int r = 0;
	if (o->has_entrypoint) {
		if (o->entrypoint && *o->entrypoint)
			r = env_set(args, o->entrypoint, true) < 0 ? -ENOMEM : 0;
	} else {
		for (size_t i = 0; i < c->n_entrypoint && r == 0; i++) {
			char **nv = realloc(args->v, (args->n + 2) * sizeof(char *));
			if (!nv || !(nv[args->n] = strdup(c->entrypoint[i])))
				r = -ENOMEM;
			if (nv) {
				args->v = nv;
				if (r == 0)
					nv[++args->n] = NULL;
			}
		}
	}
	char *const *cmd = o->n_cmd ? o->cmd : o->has_entrypoint ? NULL : c->cmd;
	size_t n_cmd = o->n_cmd ? o->n_cmd : o->has_entrypoint ? 0 : c->n_cmd;
	for (size_t i = 0; i < n_cmd && r == 0; i++) {
		char **nv = realloc(args->v, (args->n + 2) * sizeof(char *));
		if (!nv || !(nv[args->n] = strdup(cmd[i])))
			r = -ENOMEM;
		if (nv) {
			args->v = nv;
			if (r == 0)
				nv[++args->n] = NULL;
		}
	}
	if (r < 0)
		return hull_errf(err, ENOMEM, "out of memory");
	if (args->n == 0)
		return hull_errf(err, EINVAL, "image has no Entrypoint or Cmd: give a command after the image name");
	return 0;
}

int img_convert(const struct img_convert_in *in, char **json_out, struct hull_err *err)
{
	const struct img_config *c = in->cfg;
	const struct hull_image_run_opts *o = in->opts;
	struct envset args = { 0 }, env = { 0 };
	struct img_user user = { 0 };
	uint64_t caps = 0;
	int r;
	yajl_gen g = NULL;
	const char *hostname = o->hostname ? o->hostname : in->id;
	char hn[64];
	if (!o->hostname) {
		snprintf(hn, sizeof(hn), "%.12s", in->id);
		hostname = hn;
	}

	if ((r = build_args(in, &args, err)) < 0)
		goto out;
	if ((r = compute_caps(o, &caps, err)) < 0)
		goto out;
	const char *uspec = o->user ? o->user : c->user;
	if ((r = img_resolve_user(uspec, in->passwd, in->group, &user, err)) < 0) {
		hull_err_wrap(err, "%s", o->user ? "-u" : "image config .config.User");
		goto out;
	}
	const char *cwd = o->workdir ? o->workdir : c->workdir && *c->workdir ? c->workdir : "/";
	if (cwd[0] != '/') {
		r = hull_errf(err, EINVAL, "working directory `%s` must be absolute", cwd);
		goto out;
	}
	/* env: image, then defaults for what is missing, then --env-file/-e */
	for (size_t i = 0; i < c->n_env && r == 0; i++)
		r = env_set(&env, c->env[i], true);
	if (r == 0)
		r = env_set(&env, DEFAULT_PATH, false);
	char buf[4200];
	snprintf(buf, sizeof(buf), "HOSTNAME=%s", hostname);
	if (r == 0)
		r = env_set(&env, buf, false);
	snprintf(buf, sizeof(buf), "HOME=%s", user.home ? user.home : "/");
	if (r == 0)
		r = env_set(&env, buf, false);
	if (r == 0 && o->terminal)
		r = env_set(&env, "TERM=xterm", false);
	for (size_t i = 0; i < in->n_extra_env && r == 0; i++)
		r = env_set(&env, in->extra_env[i], true);
	if (r < 0) {
		r = hull_errf(err, ENOMEM, "out of memory");
		goto out;
	}

	g = yajl_gen_alloc(NULL);
	if (!g) {
		r = hull_errf(err, ENOMEM, "out of memory");
		goto out;
	}
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	kv(g, "ociVersion", "1.2.0");

	s(g, "process");
	yajl_gen_map_open(g);
	s(g, "terminal");
	yajl_gen_bool(g, o->terminal);
	s(g, "user");
	yajl_gen_map_open(g);
	s(g, "uid");
	yajl_gen_integer(g, user.uid);
	s(g, "gid");
	yajl_gen_integer(g, user.gid);
	if (user.n_extra_gids) {
		s(g, "additionalGids");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < user.n_extra_gids; i++)
			yajl_gen_integer(g, user.extra_gids[i]);
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
	strv(g, "args", (const char *const *)args.v, args.n);
	strv(g, "env", (const char *const *)env.v, env.n);
	kv(g, "cwd", cwd);
	s(g, "capabilities");
	yajl_gen_map_open(g);
	cap_list(g, "bounding", caps);
	/* a non-root user keeps only the bounding set, as podman does */
	cap_list(g, "effective", user.uid == 0 ? caps : 0);
	cap_list(g, "permitted", user.uid == 0 ? caps : 0);
	yajl_gen_map_close(g);
	s(g, "noNewPrivileges");
	yajl_gen_bool(g, false);
	yajl_gen_map_close(g);

	s(g, "root");
	yajl_gen_map_open(g);
	kv(g, "path", in->rootfs);
	s(g, "readonly");
	yajl_gen_bool(g, o->read_only);
	yajl_gen_map_close(g);
	kv(g, "hostname", hostname);

	s(g, "mounts");
	yajl_gen_array_open(g);
	{
		const char *proc[] = { "nosuid", "noexec", "nodev" };
		const char *dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k" };
		const char *pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" };
		const char *shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" };
		const char *mq[] = { "nosuid", "noexec", "nodev" };
		const char *sys[] = { "nosuid", "noexec", "nodev", "ro" };
		const char *bind_ro[] = { "rbind", "ro", "nosuid", "nodev" };
		mount(g, "/proc", "proc", "proc", proc, ARRAY_SIZE(proc));
		mount(g, "/dev", "tmpfs", "tmpfs", dev, ARRAY_SIZE(dev));
		mount(g, "/dev/pts", "devpts", "devpts", pts, ARRAY_SIZE(pts));
		mount(g, "/dev/shm", "tmpfs", "shm", shm, ARRAY_SIZE(shm));
		mount(g, "/dev/mqueue", "mqueue", "mqueue", mq, ARRAY_SIZE(mq));
		mount(g, "/sys", "sysfs", "sysfs", sys, o->read_only || !o->privileged ? 4 : 3);
		for (size_t i = 0; i < c->n_volumes && in->volume_sources; i++) {
			bool shadowed = false;
			for (size_t j = 0; j < o->n_mounts; j++)
				shadowed |= strcmp(o->mounts[j].dst, c->volumes[i]) == 0;
			const char *vopts[] = { "rbind", "rw" };
			if (!shadowed)
				mount(g, c->volumes[i], "bind", in->volume_sources[i], vopts, 2);
		}
		/* after the volumes (a Volume of /etc must not hide them), before -v */
		for (size_t i = 0; i < in->n_etc_files; i++)
			mount(g, in->etc_files[i].dst, "bind", in->etc_files[i].src, bind_ro, 2);
		for (size_t i = 0; i < o->n_mounts; i++) {
			const char *mopts[] = { "rbind", o->mounts[i].ro ? "ro" : "rw" };
			mount(g, o->mounts[i].dst, "bind", o->mounts[i].src, mopts, 2);
		}
	}
	yajl_gen_array_close(g);

	s(g, "annotations");
	yajl_gen_map_open(g);
	{
		struct { const char *key; const char *val; } implicit[] = {
			{ "org.opencontainers.image.os", c->os },
			{ "org.opencontainers.image.architecture", c->arch },
			{ "org.opencontainers.image.variant", c->variant },
			{ "org.opencontainers.image.os.version", c->os_version },
			{ "org.opencontainers.image.author", c->author },
			{ "org.opencontainers.image.created", c->created },
			{ "org.opencontainers.image.stopSignal", c->stop_signal },
		};
		char joined_f[1024] = "", joined_p[1024] = "";
		for (size_t i = 0; i < c->n_os_features; i++)
			snprintf(joined_f + strlen(joined_f), sizeof(joined_f) - strlen(joined_f), "%s%s", i ? "," : "",
				 c->os_features[i]);
		for (size_t i = 0; i < c->n_exposed_ports; i++)
			snprintf(joined_p + strlen(joined_p), sizeof(joined_p) - strlen(joined_p), "%s%s", i ? "," : "",
				 c->exposed_ports[i]);
		for (size_t i = 0; i < ARRAY_SIZE(implicit) + 2; i++) {
			const char *key = i < ARRAY_SIZE(implicit) ? implicit[i].key
				: i == ARRAY_SIZE(implicit) ? "org.opencontainers.image.os.features"
				: "org.opencontainers.image.exposedPorts";
			const char *val = i < ARRAY_SIZE(implicit) ? implicit[i].val
				: i == ARRAY_SIZE(implicit) ? (c->n_os_features ? joined_f : NULL)
				: (c->n_exposed_ports ? joined_p : NULL);
			bool labelled = false;
			for (size_t j = 0; j < c->n_labels; j++)
				labelled |= strcmp(c->labels[j].key, key) == 0;
			if (val && !labelled)
				kv(g, key, val);
		}
		for (size_t j = 0; j < c->n_labels; j++)
			kv(g, c->labels[j].key, c->labels[j].value);
	}
	yajl_gen_map_close(g);

	/* bridge networking: attach once the netns exists, detach first on delete */
	bool net_hooks = o->net_hook_binary && o->net && strcmp(o->net, "bridge") == 0;
	if (in->hook_path || net_hooks) {
		s(g, "hooks");
		yajl_gen_map_open(g);
		if (net_hooks) {
			const char **nargs = calloc(o->n_net_setup_args + 4, sizeof(char *));
			if (!nargs) {
				r = hull_errf(err, ENOMEM, "out of memory");
				goto out;
			}
			nargs[0] = "hull";
			nargs[1] = "--";
			nargs[2] = "-net-hook";
			nargs[3] = "setup";
			for (size_t i = 0; i < o->n_net_setup_args; i++)
				nargs[4 + i] = o->net_setup_args[i];
			s(g, "createRuntime");
			yajl_gen_array_open(g);
			yajl_gen_map_open(g);
			kv(g, "path", o->net_hook_binary);
			strv(g, "args", nargs, o->n_net_setup_args + 4);
			yajl_gen_map_close(g);
			yajl_gen_array_close(g);
			free(nargs);
		}
		s(g, "poststop");
		yajl_gen_array_open(g);
		if (net_hooks) {
			const char *targs[] = { "hull", "--", "-net-hook", "teardown" };
			yajl_gen_map_open(g);
			kv(g, "path", o->net_hook_binary);
			strv(g, "args", targs, 4);
			yajl_gen_map_close(g);
		}
		if (in->hook_path) {
			yajl_gen_map_open(g);
			kv(g, "path", in->hook_path);
			/* "--" ends hull's global options, so the hidden verb's leading '-' is not one */
			const char *hargs[] = { "hull", "--", "-image-cleanup", "--store", in->store ? in->store : "", in->bundle, "--rm" };
			strv(g, "args", hargs, in->hook_remove ? 7 : 6);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}

	s(g, "linux");
	yajl_gen_map_open(g);
	s(g, "namespaces");
	yajl_gen_array_open(g);
	{
		const char *ns[] = { "pid", "ipc", "uts", "mount", "network" };
		bool host_net = o->net && strcmp(o->net, "host") == 0;
		const char *net_path = o->net && strncmp(o->net, "ns:", 3) == 0 ? o->net + 3 : NULL;
		for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
			bool is_net = strcmp(ns[i], "network") == 0;
			if (host_net && is_net)
				continue;
			yajl_gen_map_open(g);
			kv(g, "type", ns[i]);
			if (is_net && net_path)
				kv(g, "path", net_path);
			yajl_gen_map_close(g);
		}
	}
	yajl_gen_array_close(g);
	if (o->memory > 0 || o->cpus > 0 || o->pids_limit != 0) {
		s(g, "resources");
		yajl_gen_map_open(g);
		if (o->memory > 0) {
			s(g, "memory");
			yajl_gen_map_open(g);
			s(g, "limit");
			yajl_gen_integer(g, o->memory);
			yajl_gen_map_close(g);
		}
		if (o->cpus > 0) {
			s(g, "cpu");
			yajl_gen_map_open(g);
			s(g, "quota");
			yajl_gen_integer(g, (long long)(o->cpus * 100000.0 + 0.5));
			s(g, "period");
			yajl_gen_integer(g, 100000);
			yajl_gen_map_close(g);
		}
		if (o->pids_limit != 0) {
			s(g, "pids");
			yajl_gen_map_open(g);
			s(g, "limit");
			yajl_gen_integer(g, o->pids_limit);
			yajl_gen_map_close(g);
		}
		yajl_gen_map_close(g);
	}
	if (!o->privileged) {
		strv(g, "maskedPaths", masked_paths, ARRAY_SIZE(masked_paths));
		strv(g, "readonlyPaths", readonly_paths, ARRAY_SIZE(readonly_paths));
	}
	if (in->seccomp_json) {
		if ((r = gen_seccomp_file(g, in->seccomp_json, caps, err)) < 0)
			goto out;
	} else if (!o->privileged && !(o->seccomp_file && strcmp(o->seccomp_file, "unconfined") == 0)) {
		gen_seccomp_default(g, caps);
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);

	const unsigned char *buf2;
	size_t len;
	if (yajl_gen_get_buf(g, &buf2, &len) != yajl_gen_status_ok) {
		r = hull_errf(err, EINVAL, "config.json: generation failed");
		goto out;
	}
	*json_out = strndup((const char *)buf2, len);
	if (!*json_out)
		r = hull_errf(err, ENOMEM, "out of memory");
out:
	if (g)
		yajl_gen_free(g);
	envset_free(&args);
	envset_free(&env);
	img_user_free(&user);
	return r;
}
