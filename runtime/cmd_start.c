/* start — let a created container's process run (runc's exec.fifo handshake). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "runtime/cli.h"
#include "runtime/hooks.h"
#include "runtime/launch.h"
#include "runtime/state.h"

#define START_USAGE "hull start ID"

/* Open the fifo's read side without hanging if the init is already gone. */
static int open_fifo(const struct hull_container *c, struct hull_err *err)
{
	_cleanup_close_ int pidfd = hull_container_pidfd(c, err);
	int fd;

	if (pidfd < 0)
		return pidfd;
	fd = openat(c->dir_fd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return hull_errf_sys(err, errno, "open %s/exec.fifo", c->dir);
	/* A reader that never saw a writer gets neither POLLIN nor POLLHUP, so
	 * this waits exactly until the init opened its end (or died). */
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return hull_errf_sys(err, errno, "poll");
		}
		if (p[0].revents)
			break;
		if (p[1].revents) {
			close(fd);
			return hull_errf(err, ESRCH, "the container process exited before start");
		}
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* "0" = the init goes on; anything after it is "errno:message" from a failed
 * exec; EOF = the fifo was closed by execve (close-on-exec). */
static int read_exec_result(int fd, struct hull_err *err)
{
	char buf[1200];
	ssize_t n = hull_read_all(fd, buf, sizeof(buf) - 1);
	char *colon;
	long code;

	if (n < 0)
		return hull_errf_sys(err, (int)-n, "read exec.fifo");
	if (n == 0)
		return hull_errf(err, EIO, "the container process exited before start");
	buf[n] = '\0';
	if (buf[0] != '0')
		return hull_errf(err, EPROTO, "unexpected data on exec.fifo");
	if (n == 1)
		return 0;
	code = strtol(buf + 1, &colon, 10);
	if (*colon == ':')
		colon++;
	return hull_errf(err, code > 0 ? (int)code : EIO, "%s", colon);
}

int cli_run_poststart(struct hull_container *c, struct hull_err *err)
{
	struct oci_config *cfg = NULL;
	_cleanup_free_ char *st = NULL;
	int r;

	if (!(c->hooks_mask & (1u << OCI_HOOK_POSTSTART)))
		return 0;
	if ((r = hull_container_config(c, &cfg, err)) < 0)
		return r;
	st = hull_container_state_json(c, HULL_STATUS_RUNNING, false);
	r = hull_hooks_run(cfg, OCI_HOOK_POSTSTART, st, err);
	oci_config_free(cfg);
	return r;
}

static int cmd_start(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	struct hull_container *c = NULL;
	enum hull_status st;
	int fd, r = 1;

	if (cli_wants_help(argc, argv, START_USAGE))
		return 0;
	if (argc != 2)
		return cli_usage(err, START_USAGE, argc < 2 ? "missing container ID" : "too many arguments");
	if (hull_container_load(g->root, argv[1], HULL_LOCK_EX, &c, err) < 0)
		goto out;
	st = hull_container_status(c);
	if (st != HULL_STATUS_CREATED) {
		hull_errf(err, EINVAL, "cannot start a container that is %s", hull_status_name(st));
		goto out;
	}
	if ((fd = open_fifo(c, err)) < 0)
		goto out;
	unlinkat(c->dir_fd, "exec.fifo", 0);
	r = read_exec_result(fd, err);
	close(fd);
	if (r < 0) {
		r = 1;
		goto out;
	}
	if (cli_run_poststart(c, err) < 0) {
		struct hull_err e2 = { 0 };
		hull_container_kill(c, SIGKILL, true, &e2);
		r = 1;
		goto out;
	}
	r = 0;
out:
	if (r && err->code)
		hull_err_wrap(err, "%s", argv[1]);
	hull_container_free(c);
	return r;
}

HULL_COMMAND(start, "start a created container", cmd_start);
