/* handler.h — what finally runs inside a prepared container (crun's
 * "handler" seam).
 *
 * The container setup (namespaces, cgroup, rootfs, hooks, security) is one
 * code path; a handler only replaces its last step, the execve of
 * process.args.  The default handler "container" resolves args[0] in the
 * container's PATH and execs it.  A VM handler (registered by microvm/)
 * instead becomes the VMM inside the same namespaces and cgroup.
 *
 * Handlers register themselves like commands:
 *     HULL_HANDLER(vm, &vm_handler);
 * Selection (hull_handler_select): VM isolation is requested by `--vm` on
 * create/run, the annotation org.hull.isolation=vm, or running as `hull-vm`;
 * then the handler named "vm" must exist, else the error is
 * "VM isolation: not available in this build".  Without a request, the
 * first other handler whose can_handle() says yes wins, else "container".
 */
#ifndef HULL_RUNTIME_HANDLER_H
#define HULL_RUNTIME_HANDLER_H

#include <stdbool.h>

#include "lib/err.h"
#include "oci/config.h"
#include "runtime/command.h"

#define HULL_ISOLATION_ANNOTATION "org.hull.isolation"

struct hull_handler_ctx {
	const struct oci_config *cfg;
	const struct oci_process *proc;   /* cfg->process, or the exec'd process */
	const char *rootfs;               /* host path of the rootfs (valid before pivot) */
	const char *bundle;
	const char *id;
	bool is_exec;                     /* `hull exec`, not the container init */
};

struct hull_handler {
	const char *name;
	/* Optional: true if this handler wants cfg without an explicit request. */
	bool (*can_handle)(const struct oci_config *cfg, const struct hull_globals *g);
	/* Optional, in the container init before pivot_root: open whatever it
	 * needs from the host (/dev/kvm, the kernel image). */
	int (*prepare)(const struct hull_handler_ctx *ctx, struct hull_err *err);
	/* Replaces execve; returns only on failure (negative errno + err).
	 * Runs after sec_finalize_process(), unless guest_applies_process. */
	int (*exec)(const struct hull_handler_ctx *ctx, struct hull_err *err);
	/* Optional, in create/run before the launch: adjust the config the
	 * host side uses (e.g. allow /dev/kvm in the device cgroup). */
	int (*configure)(struct oci_config *cfg, struct hull_err *err);
	/* The process's user, capabilities, seccomp and rlimits are applied
	 * inside a guest, not to the host process that runs exec (the VMM). */
	bool guest_applies_process;
};

#define HULL_HANDLER(ident, handler_ptr) \
	static const struct hull_handler *const hull_handler_##ident \
	__attribute__((used, section("hull_handlers"), aligned(sizeof(void *)))) = (handler_ptr)

const struct hull_handler *hull_handler_find(const char *name);

/* vm_flag: `--vm` was given.  Fills err when VM isolation is requested but
 * no "vm" handler is linked in. */
int hull_handler_select(const struct oci_config *cfg, const struct hull_globals *g, bool vm_flag,
			const struct hull_handler **out, struct hull_err *err);

/* The default handler's exec: execve(args[0] looked up in the PATH of
 * proc->env) — exposed for handlers that fall back to it. */
int hull_handler_exec_process(const struct oci_process *proc, struct hull_err *err);

#endif
