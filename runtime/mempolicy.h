/* mempolicy.h — linux.memoryPolicy: the NUMA policy the container process
 * starts with (set_mempolicy(2) in the init before exec; it survives
 * execve and is inherited by the process's children). */
#ifndef HULL_RUNTIME_MEMPOLICY_H
#define HULL_RUNTIME_MEMPOLICY_H

#include "lib/err.h"
#include "oci/config.h"

#define HULL_MPOL_MAX_NODES 1024

/* Parse a node list ("0-3,5") into mask (HULL_MPOL_MAX_NODES bits);
 * *maxnode = highest node + 1 (0 for an empty or absent list).  EINVAL
 * with err naming .linux.memoryPolicy.nodes on a malformed list. */
int hull_mempolicy_nodes(const char *list, unsigned long *mask, unsigned long *maxnode, struct hull_err *err);

/* Check the policy (parent, before anything is created). */
int hull_mempolicy_check(const struct oci_memory_policy *mp, struct hull_err *err);

/* set_mempolicy for the calling process; nothing when !mp->present. */
int hull_mempolicy_apply(const struct oci_memory_policy *mp, struct hull_err *err);

#endif
