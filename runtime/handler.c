#include "runtime/handler.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern const struct hull_handler *const __start_hull_handlers[] __attribute__((weak));
extern const struct hull_handler *const __stop_hull_handlers[] __attribute__((weak));

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int hull_handler_exec_process(const struct oci_process *proc, struct hull_err *err)
{
	static char *const empty_env[] = { NULL };
	char *const *env = proc->env ? proc->env : empty_env;
	const char *file = proc->args && proc->n_args ? proc->args[0] : NULL;
	const char *path = DEFAULT_PATH;
	char buf[PATH_MAX];
	int saved = ENOENT;

	if (!file || !*file)
		return hull_errf(err, EINVAL, "process.args is empty");
	if (strchr(file, '/')) {
		execve(file, proc->args, env);
		return hull_errf_sys(err, errno, "exec `%s`", file);
	}
	for (size_t i = 0; i < proc->n_env; i++)
		if (!strncmp(proc->env[i], "PATH=", 5)) {
			path = proc->env[i] + 5;
			break;
		}
	for (const char *p = path;; ) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)dlen, p, dlen ? "/" : "", file) < (int)sizeof(buf)) {
			execve(buf, proc->args, env);
			/* Keep looking past missing files; remember "found but not runnable". */
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	if (saved == ENOENT)
		return hull_errf(err, ENOENT, "exec `%s`: executable file not found in $PATH", file);
	return hull_errf_sys(err, saved, "exec `%s`", file);
}

static int container_exec(const struct hull_handler_ctx *ctx, struct hull_err *err)
{
	return hull_handler_exec_process(ctx->proc, err);
}

static const struct hull_handler container_handler = {
	.name = "container",
	.exec = container_exec,
};
HULL_HANDLER(container, &container_handler);

const struct hull_handler *hull_handler_find(const char *name)
{
	for (const struct hull_handler *const *h = __start_hull_handlers; h < __stop_hull_handlers; h++)
		if (*h && !strcmp((*h)->name, name))
			return *h;
	return NULL;
}

int hull_handler_select(const struct oci_config *cfg, const struct hull_globals *g, bool vm_flag,
			const struct hull_handler **out, struct hull_err *err)
{
	const char *iso = oci_config_annotation(cfg, HULL_ISOLATION_ANNOTATION);
	bool want_vm = vm_flag || (g && g->vm) || (iso && !strcmp(iso, "vm"));

	if (iso && strcmp(iso, "vm") && strcmp(iso, "container"))
		return hull_errf(err, EINVAL, "annotations: %s: want `vm` or `container`, not `%.64s`",
				 HULL_ISOLATION_ANNOTATION, iso);
	if (want_vm) {
		*out = hull_handler_find("vm");
		if (!*out)
			return hull_errf(err, ENOTSUP, "VM isolation: not available in this build");
		return 0;
	}
	for (const struct hull_handler *const *h = __start_hull_handlers; h < __stop_hull_handlers; h++)
		if (*h && (*h)->can_handle && strcmp((*h)->name, "vm") && (*h)->can_handle(cfg, g)) {
			*out = *h;
			return 0;
		}
	*out = &container_handler;
	return 0;
}
