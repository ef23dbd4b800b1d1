#include "runtime/mempolicy.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BITS_PER_LONG (sizeof(unsigned long) * CHAR_BIT)
#define MASK_LONGS (HULL_MPOL_MAX_NODES / BITS_PER_LONG)

/* Kernel ABI values (linux/mempolicy.h), by the spec's names. */
static const struct { const char *name; int value; } mpol_flags[] = {
	{ "MPOL_F_STATIC_NODES", 1 << 15 },
	{ "MPOL_F_RELATIVE_NODES", 1 << 14 },
	{ "MPOL_F_NUMA_BALANCING", 1 << 13 },
};

static int bad_nodes(const char *list, struct hull_err *err)
{
	return hull_errf(err, EINVAL, "config.json: .linux.memoryPolicy.nodes `%.64s`: want a node list like \"0-3,5\" (nodes below %d)",
			 list, HULL_MPOL_MAX_NODES);
}

int hull_mempolicy_nodes(const char *list, unsigned long *mask, unsigned long *maxnode, struct hull_err *err)
{
	const char *p = list;

	memset(mask, 0, MASK_LONGS * sizeof(*mask));
	*maxnode = 0;
	if (!list || !*list)
		return 0;
	for (;;) {
		char *end;
		unsigned long lo, hi;

		if (*p < '0' || *p > '9')
			return bad_nodes(list, err);
		lo = hi = strtoul(p, &end, 10);
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				return bad_nodes(list, err);
			hi = strtoul(p, &end, 10);
			p = end;
		}
		if (lo > hi || hi >= HULL_MPOL_MAX_NODES)
			return bad_nodes(list, err);
		for (unsigned long n = lo; n <= hi; n++)
			mask[n / BITS_PER_LONG] |= 1UL << (n % BITS_PER_LONG);
		if (hi + 1 > *maxnode)
			*maxnode = hi + 1;
		if (!*p)
			return 0;
		if (*p++ != ',')
			return bad_nodes(list, err);
	}
}

static int mode_with_flags(const struct oci_memory_policy *mp, int *mode, struct hull_err *err)
{
	*mode = mp->mode_value;
	for (size_t i = 0; i < mp->n_flags; i++) {
		size_t k = 0;
		while (k < sizeof(mpol_flags) / sizeof(mpol_flags[0]) && strcmp(mp->flags[i], mpol_flags[k].name))
			k++;
		if (k == sizeof(mpol_flags) / sizeof(mpol_flags[0]))
			return hull_errf(err, EINVAL, "config.json: .linux.memoryPolicy.flags[%zu]: unknown flag `%.64s`", i,
					 mp->flags[i]);
		*mode |= mpol_flags[k].value;
	}
	return 0;
}

int hull_mempolicy_check(const struct oci_memory_policy *mp, struct hull_err *err)
{
	unsigned long mask[MASK_LONGS], maxnode;
	int mode;

	if (!mp->present)
		return 0;
	if (mode_with_flags(mp, &mode, err) < 0)
		return -EINVAL;
	return hull_mempolicy_nodes(mp->nodes, mask, &maxnode, err);
}

int hull_mempolicy_apply(const struct oci_memory_policy *mp, struct hull_err *err)
{
	unsigned long mask[MASK_LONGS], maxnode;
	int mode, r;

	if (!mp->present)
		return 0;
	if ((r = mode_with_flags(mp, &mode, err)) < 0 || (r = hull_mempolicy_nodes(mp->nodes, mask, &maxnode, err)) < 0)
		return r;
	/* maxnode counts one past the highest bit the kernel reads. */
	if (syscall(SYS_set_mempolicy, mode, maxnode ? mask : NULL, maxnode ? maxnode + 1 : 0) < 0)
		return hull_errf_sys(err, errno, "config.json: .linux.memoryPolicy: set_mempolicy(%s, nodes `%s`)", mp->mode,
				     mp->nodes ? mp->nodes : "");
	return 0;
}
