/* cmd_ps.c — `hull ps [--format table|json] ID [ps options]`: the processes
 * in the container's cgroup.  json prints the pid array (runc's shape);
 * table runs ps(1) with the given options (default -ef) and keeps its header
 * and the lines whose PID column is one of the container's. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "runtime/cli.h"
#include "runtime/command.h"
#include "runtime/state.h"

#define USAGE "hull ps [--format table|json] ID [ps options]"

/* Run ps(1) with args, output (stdout+stderr) into *out. */
static int run_ps(char **args, size_t n, char **out, struct hull_err *err)
{
	int pfd[2], st;
	size_t len;
	pid_t pid;
	char **argv = calloc(n + 2, sizeof(char *));

	if (!argv)
		return hull_errf(err, ENOMEM, "ps");
	argv[0] = (char *)"ps";
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = args[i];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(argv);
		return hull_errf_sys(err, errno, "pipe");
	}
	pid = fork();
	if (pid < 0) {
		free(argv);
		close(pfd[0]);
		close(pfd[1]);
		return hull_errf_sys(err, errno, "fork");
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp("ps", argv);
		_exit(127);
	}
	free(argv);
	close(pfd[1]);
	if (hull_read_fd(pfd[0], 16u << 20, out, &len, err) < 0) {
		close(pfd[0]);
		waitpid(pid, &st, 0);
		return -err->code;
	}
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		hull_errf(err, EIO, "ps %s: %s", WIFEXITED(st) && WEXITSTATUS(st) == 127 ? "not found" : "failed",
			  *out);
		free(*out);
		*out = NULL;
		return -EIO;
	}
	return 0;
}

static bool has_pid(const pid_t *pids, size_t n, long p)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == p)
			return true;
	return false;
}

static int print_table(char **args, size_t n_args, const pid_t *pids, size_t n, struct hull_err *err)
{
	char *def[] = { (char *)"-ef" };
	_cleanup_free_ char *out = NULL;
	char *save = NULL, *line;
	int pid_col = -1;

	if (run_ps(n_args ? args : def, n_args ? n_args : 1, &out, err) < 0)
		return -err->code;
	line = strtok_r(out, "\n", &save);
	if (!line)
		return hull_errf(err, EIO, "ps printed nothing");
	{
		_cleanup_free_ char *hdr = strdup(line);
		char *s2 = NULL;
		int col = 0;
		if (!hdr)
			return hull_errf(err, ENOMEM, "ps");
		for (char *f = strtok_r(hdr, " \t", &s2); f; f = strtok_r(NULL, " \t", &s2), col++)
			if (!strcmp(f, "PID")) {
				pid_col = col;
				break;
			}
	}
	if (pid_col < 0)
		return hull_errf(err, EINVAL, "couldn't find PID field in ps output");
	printf("%s\n", line);
	while ((line = strtok_r(NULL, "\n", &save))) {
		_cleanup_free_ char *copy = strdup(line);
		char *s2 = NULL, *f;
		int col = 0;
		if (!copy)
			return hull_errf(err, ENOMEM, "ps");
		for (f = strtok_r(copy, " \t", &s2); f && col < pid_col; f = strtok_r(NULL, " \t", &s2))
			col++;
		if (!f)
			continue;
		char *end;
		long p = strtol(f, &end, 10);
		if (*end)
			return hull_errf(err, EINVAL, "unable to parse pid `%s`", f);
		if (has_pid(pids, n, p))
			printf("%s\n", line);
	}
	return 0;
}

static int cmd_ps(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *format = "table";
	struct hull_container *c = NULL;
	struct hull_cgroup *cg = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int opt, rc = 1;

	cli_getopt_reset();
	while ((opt = getopt_long_only(argc, argv, "+f:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': format = optarg; break;
		case 'h': printf("usage: %s\n", USAGE); return 0;
		default: return cli_usage(err, USAGE, "unknown option `%s`", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage(err, USAGE, "missing container id");
	if (strcmp(format, "table") && strcmp(format, "json"))
		return cli_usage(err, USAGE, "invalid format option `%s`", format);
	if (hull_container_id_valid(argv[optind], err) < 0)
		return 1;
	if (hull_container_load(g->root, argv[optind], HULL_LOCK_SH, &c, err) < 0)
		goto out;
	if (hull_container_cgroup(c, &cg, err) < 0)
		goto out;
	if (!cg) {
		hull_errf(err, ENOENT, "container `%s` has no cgroup", c->id);
		goto out;
	}
	if (hull_cgroup_pids(cg, &pids, &n, err) < 0)
		goto out;
	if (!strcmp(format, "json")) {
		if (!n) {
			printf("null\n");    /* Go encodes an empty pid list as null */
		} else {
			putchar('[');
			for (size_t i = 0; i < n; i++)
				printf("%s%d", i ? "," : "", (int)pids[i]);
			printf("]\n");
		}
	} else if (print_table(argv + optind + 1, (size_t)(argc - optind - 1), pids, n, err) < 0) {
		goto out;
	}
	rc = fflush(stdout) == 0 ? 0 : (hull_errf_sys(err, errno, "stdout"), 1);
out:
	if (rc && argc > optind)
		hull_err_wrap(err, "%s", argv[optind]);
	hull_cgroup_free(cg);
	hull_container_free(c);
	return rc;
}

HULL_COMMAND(ps, "list the processes running in a container", cmd_ps);
