/* hooks.h — OCI lifecycle hooks (config.md "POSIX-platform Hooks").
 *
 * Each hook runs as a child of the caller with the container state JSON on
 * stdin, the hook's own args (argv[0] = path when args is empty) and env
 * (empty when absent), stdout/stderr inherited.  A hook with a timeout is
 * SIGKILLed when it runs longer.  Hooks of one kind run in order; the first
 * failure stops the list and is returned as an error naming the kind, the
 * index and the path ("prestart hook[1] `/bin/x`: exit status 3").
 *
 * Failure semantics are the caller's: prestart, createRuntime,
 * createContainer and startContainer failures abort the container;
 * poststart and poststop failures are only logged (hull_hooks_run_logged).
 */
#ifndef HULL_RUNTIME_HOOKS_H
#define HULL_RUNTIME_HOOKS_H

#include "lib/err.h"
#include "oci/config.h"

const char *hull_hook_kind_name(enum oci_hook_kind kind);

int hull_hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json,
		   struct hull_err *err);

/* Same, but failures become a warning in the log and every hook runs. */
void hull_hooks_run_logged(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json);

/* Bit mask (1 << kind) of the kinds cfg has hooks for. */
unsigned hull_hooks_mask(const struct oci_config *cfg);

#endif
