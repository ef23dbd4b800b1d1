/* convert.c — v1 → v2 value conversions and value formatting (pure logic).
 * The arithmetic matches runc/crun so the same config gives the same
 * cgroup values under every runtime. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cgroups/internal.h"

/* cpu.shares [2, 262144] maps linearly onto cpu.weight [1, 10000]. */
uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* blkio.weight [10, 1000] maps linearly onto io.weight [1, 10000]. */
uint64_t cg_blkio_weight_to_io_weight(uint64_t weight)
{
	if (weight == 0)
		return 0;
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + (weight - 10) * 9999 / 990;
}

int cg_swap_to_v2(int64_t swap, int64_t limit, bool limit_set, int64_t *out, struct hull_err *err)
{
	if (!limit_set)
		limit = 0;
	/* v1 semantics: unlimited memory with no swap value means both unlimited */
	if (limit == -1 && swap == 0) {
		*out = -1;
		return 0;
	}
	if (swap == -1 || swap == 0) {
		*out = swap;
		return 0;
	}
	if (limit == 0 || limit == -1)
		return hull_errf(err, EINVAL, ".linux.resources.memory.swap: cannot set a swap limit "
				 "without a memory limit");
	if (limit < 0)
		return hull_errf(err, EINVAL, ".linux.resources.memory.limit: invalid value %" PRId64, limit);
	if (swap < limit)
		return hull_errf(err, EINVAL, ".linux.resources.memory.swap: memory+swap limit %" PRId64
				 " is below the memory limit %" PRId64, swap, limit);
	*out = swap - limit;
	return 0;
}

void cg_fmt_limit(char *buf, size_t len, int64_t v)
{
	if (v < 0)
		snprintf(buf, len, "max");
	else
		snprintf(buf, len, "%" PRId64, v);
}

bool cg_fmt_cpu_max(char *buf, size_t len, const struct opt_i64 *quota, const struct opt_u64 *period)
{
	bool q = quota->set && quota->v != 0;
	bool p = period->set && period->v != 0;
	int n;

	if (!q && !p)
		return false;
	if (q && quota->v > 0)
		n = snprintf(buf, len, "%" PRId64, quota->v);
	else
		n = snprintf(buf, len, "max");
	if (p && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " %" PRIu64, period->v);
	return true;
}

int cg_device_rule_line(const struct oci_device_rule *r, char *buf, size_t len, struct hull_err *err)
{
	char maj[24], min[24];
	const char *acc = r->access && *r->access ? r->access : "rwm";
	char type = r->type ? r->type : 'a';

	if (type != 'a' && type != 'b' && type != 'c')
		return hull_errf(err, EINVAL, ".linux.resources.devices: type `%c` is not a, b or c", type);
	for (const char *p = acc; *p; p++)
		if (*p != 'r' && *p != 'w' && *p != 'm')
			return hull_errf(err, EINVAL, ".linux.resources.devices: access `%s` is not a subset of rwm", acc);
	if (strlen(acc) > 3)
		return hull_errf(err, EINVAL, ".linux.resources.devices: access `%s` is not a subset of rwm", acc);
	if (r->major < 0)
		snprintf(maj, sizeof(maj), "*");
	else
		snprintf(maj, sizeof(maj), "%" PRId64, r->major);
	if (r->minor < 0)
		snprintf(min, sizeof(min), "*");
	else
		snprintf(min, sizeof(min), "%" PRId64, r->minor);
	if (type == 'a')
		snprintf(buf, len, "a");
	else
		snprintf(buf, len, "%c %s:%s %s", type, maj, min, acc);
	return 0;
}

/* What runc allows every container on top of its own rules: mknod of any
 * device node, and the standard character devices. */
const struct oci_device_rule cg_default_device_rules[] = {
	{ true, 'c', -1, -1, (char *)"m" },
	{ true, 'b', -1, -1, (char *)"m" },
	{ true, 'c', 1, 3, (char *)"rwm" },    /* /dev/null */
	{ true, 'c', 1, 5, (char *)"rwm" },    /* /dev/zero */
	{ true, 'c', 1, 7, (char *)"rwm" },    /* /dev/full */
	{ true, 'c', 1, 8, (char *)"rwm" },    /* /dev/random */
	{ true, 'c', 1, 9, (char *)"rwm" },    /* /dev/urandom */
	{ true, 'c', 5, 0, (char *)"rwm" },    /* /dev/tty */
	{ true, 'c', 5, 1, (char *)"rwm" },    /* /dev/console */
	{ true, 'c', 5, 2, (char *)"rwm" },    /* /dev/ptmx */
	{ true, 'c', 136, -1, (char *)"rwm" }, /* /dev/pts/N */
};
const size_t cg_n_default_device_rules = sizeof(cg_default_device_rules) / sizeof(cg_default_device_rules[0]);
