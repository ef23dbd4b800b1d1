/* cmd_update.c — `hull update [flags] ID`: change the resource limits of a
 * running, created or paused container.  The flags are runc's; with
 * --resources FILE (or - for stdin) the file holds a linux.resources object
 * and the other flags are ignored, as in runc.  Only the values given
 * change (the cgroup keeps the rest). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "cgroups/cgroup.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "oci/config.h"
#include "runtime/cli.h"
#include "runtime/command.h"
#include "runtime/state.h"

#define USAGE "hull update [--resources FILE|-] [--memory N] [--memory-swap N] [--memory-reservation N] " \
	      "[--cpu-shares N] [--cpu-quota N] [--cpu-period N] [--cpu-burst N] [--cpu-rt-period N] " \
	      "[--cpu-rt-runtime N] [--cpuset-cpus LIST] [--cpuset-mems LIST] [--cpu-idle N] " \
	      "[--blkio-weight N] [--pids-limit N] ID"

/* docker's RAMInBytes: "512", "64k", "64m", "1.5g", "2GiB", "100MB" (binary
 * multipliers); "-1" means unlimited. */
static int parse_bytes(const char *s, int64_t *out)
{
	char *end;
	double v;
	double mul = 1;

	if (!strcmp(s, "-1")) {
		*out = -1;
		return 0;
	}
	v = strtod(s, &end);
	if (end == s || v < 0)
		return -EINVAL;
	if (*end == ' ')
		end++;
	switch (*end) {
	case 'k': case 'K': mul = 1024.0; end++; break;
	case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
	case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
	case 'p': case 'P': mul = 1024.0 * 1024 * 1024 * 1024 * 1024; end++; break;
	default: break;
	}
	if (mul > 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	v *= mul;
	if (v > 9.2e18)
		return -ERANGE;
	*out = (int64_t)v;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return -EINVAL;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	if (!*s)
		return -EINVAL;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* Parse a linux.resources document with the config parser, so the checks
 * and messages are the same as for config.json; the fields' paths are
 * reported relative to the file (".memory.limit"). */
static int load_resources(const char *file, struct oci_config **cfg, char **raw, struct hull_err *err)
{
	_cleanup_free_ char *text = NULL, *doc = NULL;
	const char *name = strcmp(file, "-") ? file : "<stdin>";
	char ebuf[256];
	size_t len;
	yajl_val tree;
	int ret;

	ret = strcmp(file, "-") ? hull_read_file(file, 4u << 20, &text, &len, err)
				: hull_read_fd(0, 4u << 20, &text, &len, err);
	if (ret < 0)
		return hull_err_wrap(err, "--resources %s", name);
	/* it must be one object before it is embedded in a larger document */
	tree = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	if (!tree)
		return hull_errf(err, EINVAL, "%s: invalid JSON: %s", name, ebuf);
	if (!YAJL_IS_OBJECT(tree)) {
		yajl_tree_free(tree);
		return hull_errf(err, EINVAL, "%s: the resources must be a JSON object", name);
	}
	yajl_tree_free(tree);
	if (asprintf(&doc, "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"rootfs\"},\"linux\":{\"resources\":%s}}",
		     text) < 0) {
		doc = NULL;
		return hull_errf(err, ENOMEM, "resources");
	}
	ret = oci_config_parse(doc, strlen(doc), name, cfg, err);
	if (ret < 0) {
		char *p = strstr(err->msg, ".linux.resources");
		if (p)
			memmove(p, p + 16, strlen(p + 16) + 1);
		return ret;
	}
	*raw = steal_ptr(text);
	return 0;
}

struct update_flags {
	const char *resources;
	struct oci_resources r;
};

static int parse_flag(struct update_flags *f, int opt, const char *name, const char *val, struct hull_err *err)
{
	struct oci_resources *r = &f->r;
	int64_t i = 0;
	uint64_t u = 0;
	int bad = 0;

	switch (opt) {
	case 'm': bad = parse_bytes(val, &i); r->has_memory = true; r->memory.limit = (struct opt_i64){ true, i }; break;
	case 'S': bad = parse_bytes(val, &i); r->has_memory = true; r->memory.swap = (struct opt_i64){ true, i }; break;
	case 'R': bad = parse_bytes(val, &i); r->has_memory = true; r->memory.reservation = (struct opt_i64){ true, i }; break;
	case 's': bad = parse_u64(val, &u); r->has_cpu = true; r->cpu.shares = (struct opt_u64){ true, u }; break;
	case 'q': bad = parse_i64(val, &i); r->has_cpu = true; r->cpu.quota = (struct opt_i64){ true, i }; break;
	case 'p': bad = parse_u64(val, &u); r->has_cpu = true; r->cpu.period = (struct opt_u64){ true, u }; break;
	case 'b': bad = parse_u64(val, &u); r->has_cpu = true; r->cpu.burst = (struct opt_u64){ true, u }; break;
	case 'P': bad = parse_u64(val, &u); r->has_cpu = true; r->cpu.realtime_period = (struct opt_u64){ true, u }; break;
	case 'T': bad = parse_i64(val, &i); r->has_cpu = true; r->cpu.realtime_runtime = (struct opt_i64){ true, i }; break;
	case 'I': bad = parse_i64(val, &i); r->has_cpu = true; r->cpu.idle = (struct opt_i64){ true, i }; break;
	case 'c': r->has_cpu = true; r->cpu.cpus = (char *)val; break;
	case 'e': r->has_cpu = true; r->cpu.mems = (char *)val; break;
	case 'w':
		bad = parse_u64(val, &u);
		if (!bad && u && (u < 10 || u > 1000))
			return hull_errf(err, EINVAL, "--blkio-weight: %s is not in 10..1000", val);
		r->has_blkio = true;
		r->blkio.weight = (struct opt_u64){ true, u };
		break;
	case 'l': bad = parse_i64(val, &i); r->has_pids = true; r->pids_limit = (struct opt_i64){ true, i }; break;
	case 'k': hull_warn("setting --%s is ignored (kernel memory limits are obsolete)", name); break;
	case 'x': return hull_errf(err, ENOTSUP, "--%s: Intel RDT is not supported by hull", name);
	default: return -EINVAL;
	}
	if (bad)
		return hull_errf(err, EINVAL, "invalid value for %s: `%s`", name, val);
	return 0;
}

/* ---- persisting: the saved config.json gets the new values --------------- */

/* The flags as a linux.resources patch (only what was given). */
static char *flags_patch(const struct oci_resources *r)
{
	struct hull_json *j = hull_json_new(false);
	struct hull_err e = { 0 };
	char *out = NULL;
	size_t len;

	hull_json_begin_map(j);
	if (r->has_memory) {
		hull_json_key(j, "memory");
		hull_json_begin_map(j);
		if (r->memory.limit.set)
			hull_json_kv_int(j, "limit", r->memory.limit.v);
		if (r->memory.swap.set)
			hull_json_kv_int(j, "swap", r->memory.swap.v);
		if (r->memory.reservation.set)
			hull_json_kv_int(j, "reservation", r->memory.reservation.v);
		hull_json_end_map(j);
	}
	if (r->has_cpu) {
		const struct oci_cpu *c = &r->cpu;
		hull_json_key(j, "cpu");
		hull_json_begin_map(j);
		if (c->shares.set)
			hull_json_kv_uint(j, "shares", c->shares.v);
		if (c->quota.set)
			hull_json_kv_int(j, "quota", c->quota.v);
		if (c->period.set)
			hull_json_kv_uint(j, "period", c->period.v);
		if (c->burst.set)
			hull_json_kv_uint(j, "burst", c->burst.v);
		if (c->realtime_period.set)
			hull_json_kv_uint(j, "realtimePeriod", c->realtime_period.v);
		if (c->realtime_runtime.set)
			hull_json_kv_int(j, "realtimeRuntime", c->realtime_runtime.v);
		if (c->idle.set)
			hull_json_kv_int(j, "idle", c->idle.v);
		if (c->cpus)
			hull_json_kv_string(j, "cpus", c->cpus);
		if (c->mems)
			hull_json_kv_string(j, "mems", c->mems);
		hull_json_end_map(j);
	}
	if (r->has_pids && r->pids_limit.set) {
		hull_json_key(j, "pids");
		hull_json_begin_map(j);
		hull_json_kv_int(j, "limit", r->pids_limit.v);
		hull_json_end_map(j);
	}
	if (r->has_blkio && r->blkio.weight.set) {
		hull_json_key(j, "blockIO");
		hull_json_begin_map(j);
		hull_json_kv_uint(j, "weight", r->blkio.weight.v);
		hull_json_end_map(j);
	}
	hull_json_end_map(j);
	if (hull_json_finish(j, &out, &len, &e) < 0)
		return NULL;
	return out;
}

static void emit_value(struct hull_json *j, yajl_val v);

/* v with patch merged in: objects key by key (recursively), anything else
 * replaced by the patch. */
static void emit_merged(struct hull_json *j, yajl_val v, yajl_val patch)
{
	if (!patch) {
		emit_value(j, v);
		return;
	}
	if (!v || !YAJL_IS_OBJECT(v) || !YAJL_IS_OBJECT(patch)) {
		emit_value(j, patch);
		return;
	}
	hull_json_begin_map(j);
	for (size_t i = 0; i < v->u.object.len; i++) {
		yajl_val p = NULL;
		for (size_t k = 0; k < patch->u.object.len; k++)
			if (!strcmp(patch->u.object.keys[k], v->u.object.keys[i]))
				p = patch->u.object.values[k];
		hull_json_key(j, v->u.object.keys[i]);
		emit_merged(j, v->u.object.values[i], p);
	}
	for (size_t k = 0; k < patch->u.object.len; k++) {
		bool seen = false;
		for (size_t i = 0; i < v->u.object.len && !seen; i++)
			seen = !strcmp(patch->u.object.keys[k], v->u.object.keys[i]);
		if (!seen) {
			hull_json_key(j, patch->u.object.keys[k]);
			emit_value(j, patch->u.object.values[k]);
		}
	}
	hull_json_end_map(j);
}

static void emit_value(struct hull_json *j, yajl_val v)
{
	if (!v || YAJL_IS_NULL(v)) {
		hull_json_null(j);
	} else if (YAJL_IS_STRING(v)) {
		hull_json_string(j, YAJL_GET_STRING(v));
	} else if (YAJL_IS_INTEGER(v)) {
		hull_json_int(j, YAJL_GET_INTEGER(v));
	} else if (YAJL_IS_NUMBER(v)) {
		/* beyond int64: the unsigned limits ("max" as 2^64-1) */
		hull_json_uint(j, strtoull(YAJL_GET_NUMBER(v), NULL, 10));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		hull_json_bool(j, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_ARRAY(v)) {
		hull_json_begin_array(j);
		for (size_t i = 0; i < v->u.array.len; i++)
			emit_value(j, v->u.array.values[i]);
		hull_json_end_array(j);
	} else {
		/* an object, copied as is (not through emit_merged, which comes
		 * back here for an object without a patch: endless recursion) */
		hull_json_begin_map(j);
		for (size_t i = 0; i < v->u.object.len; i++) {
			hull_json_key(j, v->u.object.keys[i]);
			emit_value(j, v->u.object.values[i]);
		}
		hull_json_end_map(j);
	}
}

/* Record the new limits in <state>/config.json (runc keeps them in its
 * state too), so later readers see what the cgroup was set to. */
static int persist_resources(const struct hull_container *c, const char *patch_text, struct hull_err *err)
{
	_cleanup_free_ char *text = NULL, *out = NULL;
	char path[4096], ebuf[256];
	yajl_val cfg = NULL, patch = NULL, linux_ = NULL;
	struct hull_json *j;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/config.json", c->dir);
	if ((r = hull_read_file(path, 16u << 20, &text, &len, err)) < 0)
		return r;
	cfg = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	patch = yajl_tree_parse(patch_text, ebuf, sizeof(ebuf));
	if (!cfg || !YAJL_IS_OBJECT(cfg) || !patch) {
		r = hull_errf(err, EINVAL, "%s: cannot parse it to record the update", path);
		goto out;
	}
	j = hull_json_new(true);
	hull_json_begin_map(j);
	for (size_t i = 0; i < cfg->u.object.len; i++) {
		const char *k = cfg->u.object.keys[i];
		hull_json_key(j, k);
		if (!strcmp(k, "linux") && YAJL_IS_OBJECT(cfg->u.object.values[i])) {
			yajl_val l = cfg->u.object.values[i];
			linux_ = l;
			hull_json_begin_map(j);
			bool had = false;
			for (size_t n = 0; n < l->u.object.len; n++) {
				hull_json_key(j, l->u.object.keys[n]);
				if (!strcmp(l->u.object.keys[n], "resources")) {
					emit_merged(j, l->u.object.values[n], patch);
					had = true;
				} else {
					emit_value(j, l->u.object.values[n]);
				}
			}
			if (!had) {
				hull_json_key(j, "resources");
				emit_value(j, patch);
			}
			hull_json_end_map(j);
		} else {
			emit_value(j, cfg->u.object.values[i]);
		}
	}
	if (!linux_) {
		hull_json_key(j, "linux");
		hull_json_begin_map(j);
		hull_json_key(j, "resources");
		emit_value(j, patch);
		hull_json_end_map(j);
	}
	hull_json_end_map(j);
	if ((r = hull_json_finish(j, &out, &len, err)) < 0)
		goto out;
	r = hull_write_file_atomic(path, out, len, 0600, err);
out:
	yajl_tree_free(cfg);
	yajl_tree_free(patch);
	return r;
}

static int cmd_update(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "memory", required_argument, NULL, 'm' },
		{ "memory-swap", required_argument, NULL, 'S' },
		{ "memory-reservation", required_argument, NULL, 'R' },
		{ "cpu-share", required_argument, NULL, 's' },
		{ "cpu-shares", required_argument, NULL, 's' },
		{ "cpu-quota", required_argument, NULL, 'q' },
		{ "cpu-period", required_argument, NULL, 'p' },
		{ "cpu-burst", required_argument, NULL, 'b' },
		{ "cpu-rt-period", required_argument, NULL, 'P' },
		{ "cpu-rt-runtime", required_argument, NULL, 'T' },
		{ "cpu-idle", required_argument, NULL, 'I' },
		{ "cpuset-cpus", required_argument, NULL, 'c' },
		{ "cpuset-mems", required_argument, NULL, 'e' },
		{ "blkio-weight", required_argument, NULL, 'w' },
		{ "pids-limit", required_argument, NULL, 'l' },
		{ "kernel-memory", required_argument, NULL, 'k' },
		{ "kernel-memory-tcp", required_argument, NULL, 'k' },
		{ "l3-cache-schema", required_argument, NULL, 'x' },
		{ "mem-bw-schema", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct update_flags f;
	struct oci_config *cfg = NULL;
	_cleanup_free_ char *patch = NULL;
	const struct oci_resources *res;
	struct hull_container *c = NULL;
	struct hull_cgroup *cg = NULL;
	enum hull_status st;
	int opt, idx, rc = 1;

	memset(&f, 0, sizeof(f));
	f.r.present = true;
	cli_getopt_reset();
	while ((opt = getopt_long_only(argc, argv, "+r:h", opts, &idx)) != -1) {
		if (opt == 'h') {
			printf("usage: %s\n", USAGE);
			return 0;
		}
		if (opt == 'r') {
			f.resources = optarg;
			continue;
		}
		if (opt == '?' || opt == ':')
			return cli_usage(err, USAGE, "unknown option or missing value `%s`", argv[optind - 1]);
		if (parse_flag(&f, opt, opts[idx].name, optarg, err) < 0)
			return 1;
	}
	if (argc - optind != 1)
		return cli_usage(err, USAGE, "expected exactly one container id");
	if (hull_container_id_valid(argv[optind], err) < 0)
		return 1;
	if (f.resources) {
		if (load_resources(f.resources, &cfg, &patch, err) < 0)
			return 1;
		res = &cfg->linux_.resources;
	} else {
		/* runc: unlimited memory without a swap value means unlimited swap */
		if (f.r.memory.limit.set && f.r.memory.limit.v == -1 && !f.r.memory.swap.set)
			f.r.memory.swap = (struct opt_i64){ true, -1 };
		res = &f.r;
		if (!(patch = flags_patch(res))) {
			hull_errf(err, ENOMEM, "out of memory");
			return 1;
		}
	}
	if (hull_container_load(g->root, argv[optind], HULL_LOCK_EX, &c, err) < 0)
		goto out;
	st = hull_container_status(c);
	if (st == HULL_STATUS_STOPPED) {
		hull_errf(err, EINVAL, "container `%s` is not running", c->id);
		goto out;
	}
	if (hull_container_cgroup(c, &cg, err) < 0)
		goto out;
	if (!cg) {
		hull_errf(err, ENOENT, "container `%s` has no cgroup", c->id);
		goto out;
	}
	if (hull_cgroup_update(cg, res, err) < 0)
		goto out;
	if (persist_resources(c, patch, err) < 0) {
		hull_err_wrap(err, "the limits are applied, but recording them failed");
		goto out;
	}
	rc = 0;
out:
	if (rc)
		hull_err_wrap(err, "%s", argv[optind]);
	hull_cgroup_free(cg);
	hull_container_free(c);
	oci_config_free(cfg);
	return rc;
}

HULL_COMMAND(update, "update the resource limits of a container", cmd_update);
