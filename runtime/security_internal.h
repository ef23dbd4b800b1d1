/* security_internal.h — the steps sec_finalize_process() strings together
 * (runtime/security.c).  Each lives with its subject: caps.c, procattr.c,
 * lsm.c, seccomp.c.  Not for other modules: they use runtime/security.h.
 */
#ifndef HULL_RUNTIME_SECURITY_INTERNAL_H
#define HULL_RUNTIME_SECURITY_INTERNAL_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "oci/config.h"

/* caps.c -------------------------------------------------------------------- */

/* The caps the config asks for, limited to what the running kernel knows and
 * what we can grant; what is dropped is logged as a warning (runtime-spec:
 * SHOULD NOT fail).  `held` is the permitted set we have now. */
struct sec_capsets {
	uint64_t bounding, effective, permitted, inheritable, ambient;
};
void sec_caps_plan(const struct oci_caps *want, uint64_t kernel_mask, uint64_t held,
		   struct sec_capsets *out, uint64_t *ungrantable);
/* Bit mask of every capability the running kernel knows. */
uint64_t sec_caps_kernel_mask(void);

/* Before the uid switch (needs CAP_SETPCAP): drop what is not in bounding. */
int sec_caps_drop_bounding(const struct oci_caps *caps, struct hull_err *err);
/* After the uid switch: set E/P/I, then ambient.  Without process.capabilities
 * only I and ambient are cleared (CVE-2022-29162). */
int sec_caps_apply(const struct oci_caps *caps, struct hull_err *err);

/* procattr.c ------------------------------------------------------------------ */

int sec_apply_rlimits(const struct oci_process *proc, struct hull_err *err);
int sec_apply_oom_score_adj(const struct oci_process *proc, struct hull_err *err);
int sec_apply_personality(const struct oci_personality *p, struct hull_err *err);
int sec_apply_scheduler(const struct oci_scheduler *s, struct hull_err *err);
int sec_apply_io_priority(const struct oci_io_priority *io, struct hull_err *err);
/* "0-3,7" -> mask of CPUs; errors name the string. */
int sec_parse_cpu_list(const char *list, cpu_set_t *set, struct hull_err *err);
/* additionalGids, gid, uid, umask — in that order, PR_SET_KEEPCAPS on. */
int sec_switch_user(const struct oci_user *u, bool in_userns, struct hull_err *err);

/* lsm.c ---------------------------------------------------------------------- */

/* Write the exec labels for the next execve (no-op when nothing is asked). */
int sec_lsm_apply_exec(unsigned lsm, const struct oci_process *proc, struct hull_err *err);

#endif
