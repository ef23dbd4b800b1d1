#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"

const char *hull_hook_kind_name(enum oci_hook_kind kind)
{
	static const char *const names[OCI_HOOK__COUNT] = {
		[OCI_HOOK_PRESTART] = "prestart",
		[OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
		[OCI_HOOK_CREATE_CONTAINER] = "createContainer",
		[OCI_HOOK_START_CONTAINER] = "startContainer",
		[OCI_HOOK_POSTSTART] = "poststart",
		[OCI_HOOK_POSTSTOP] = "poststop",
	};
	return (unsigned)kind < OCI_HOOK__COUNT ? names[kind] : "unknown";
}

unsigned hull_hooks_mask(const struct oci_config *cfg)
{
	unsigned m = 0;

	for (int k = 0; k < OCI_HOOK__COUNT; k++)
		if (cfg->hooks[k].n)
			m |= 1u << k;
	return m;
}

/* errfd is close-on-exec: the parent reads errno from it only if execve failed. */
static void hook_child(const struct oci_hook *h, int stdin_fd, int errfd)
{
	static char *const empty[] = { NULL };
	char *argv0[] = { h->path, NULL };
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	if (dup2(stdin_fd, STDIN_FILENO) < 0)
		_exit(127);
	execve(h->path, h->n_args ? h->args : argv0, h->n_env ? h->env : empty);
	int e = errno;
	if (write(errfd, &e, sizeof(e)) < 0) { /* the exit status still says 127 */ }
	_exit(127);
}

/* Wait for pid, at most timeout_s seconds when > 0 (then SIGKILL). */
static int wait_hook(pid_t pid, int64_t timeout_s, int *status, bool *timed_out)
{
	int pidfd = -1;

	*timed_out = false;
	if (timeout_s > 0)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int ms = timeout_s > 2000000 ? 2000000000 : (int)(timeout_s * 1000), r;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			r = poll(&p, 1, ms);
			if (r >= 0 || errno != EINTR)
				break;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			ms -= (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
			t0 = t1;
			if (ms < 0)
				ms = 0;
		}
		if (r == 0) {
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			*timed_out = true;
		}
		close(pidfd);
	}
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int run_one(const struct oci_hook *h, const char *state_json, struct hull_err *err)
{
	int pfd[2], efd[2], status = 0, r, exec_errno = 0;
	bool timed_out;
	pid_t pid;
	void (*old_pipe)(int);

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return hull_errf_sys(err, errno, "pipe");
	if (pipe2(efd, O_CLOEXEC) < 0) {
		r = errno;
		close(pfd[0]);
		close(pfd[1]);
		return hull_errf_sys(err, r, "pipe");
	}
	pid = fork();
	if (pid < 0) {
		r = errno;
		close(pfd[0]);
		close(pfd[1]);
		close(efd[0]);
		close(efd[1]);
		return hull_errf_sys(err, r, "fork");
	}
	if (pid == 0)
		hook_child(h, pfd[0], efd[1]);
	close(pfd[0]);
	close(efd[1]);
	/* A hook that ignores stdin must not kill us with SIGPIPE. */
	old_pipe = signal(SIGPIPE, SIG_IGN);
	if (state_json)
		hull_write_all(pfd[1], state_json, strlen(state_json));
	close(pfd[1]);
	signal(SIGPIPE, old_pipe);
	if ((r = wait_hook(pid, h->timeout.set ? h->timeout.v : 0, &status, &timed_out)) < 0) {
		close(efd[0]);
		return hull_errf_sys(err, -r, "wait");
	}
	if (read(efd[0], &exec_errno, sizeof(exec_errno)) != sizeof(exec_errno))
		exec_errno = 0;
	close(efd[0]);
	if (exec_errno)
		return hull_errf_sys(err, exec_errno, "exec");
	if (timed_out)
		return hull_errf(err, ETIMEDOUT, "timed out after %lld s", (long long)h->timeout.v);
	if (WIFSIGNALED(status))
		return hull_errf(err, ECANCELED, "killed by signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return hull_errf(err, ECANCELED, "exit status %d", WEXITSTATUS(status));
	return 0;
}

int hull_hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json,
		   struct hull_err *err)
{
	const struct oci_hook_list *l = &cfg->hooks[kind];

	for (size_t i = 0; i < l->n; i++) {
		hull_debug("running %s hook[%zu] `%s`", hull_hook_kind_name(kind), i, l->hooks[i].path);
		if (run_one(&l->hooks[i], state_json, err) < 0)
			return hull_err_wrap(err, "%s hook[%zu] `%s`", hull_hook_kind_name(kind), i,
					     l->hooks[i].path);
	}
	return 0;
}

void hull_hooks_run_logged(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json)
{
	const struct oci_hook_list *l = &cfg->hooks[kind];
	struct hull_err err;

	for (size_t i = 0; i < l->n; i++) {
		hull_err_clear(&err);
		if (run_one(&l->hooks[i], state_json, &err) < 0)
			hull_warn("%s hook[%zu] `%s`: %s", hull_hook_kind_name(kind), i, l->hooks[i].path, err.msg);
	}
}
