/* kill — send a signal to a container's init, or with --all to every process. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgroups/cgroup.h"
#include "runtime/cli.h"
#include "runtime/state.h"

#define KILL_USAGE "hull kill [--all] ID [SIGNAL]   (SIGNAL: number, KILL or SIGKILL; default TERM)"

static const struct { const char *name; int sig; } signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL }, { "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG },
	{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
	{ "WINCH", SIGWINCH }, { "IO", SIGIO }, { "POLL", SIGPOLL }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

/* "9", "KILL", "SIGKILL", "sigkill", "RTMIN+3" -> signal number, or -1. */
int cli_parse_signal(const char *s)
{
	char *end;
	long n;

	if (!*s)
		return -1;
	n = strtol(s, &end, 10);
	if (!*end)
		return n > 0 && n < NSIG ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (!strcasecmp(s, signals[i].name))
			return signals[i].sig;
	if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
		int base = !strncasecmp(s, "RTMIN", 5) ? SIGRTMIN : SIGRTMAX;
		if (!s[5])
			return base;
		n = strtol(s + 5, &end, 10);
		if (!*end && base + n >= SIGRTMIN && base + n <= SIGRTMAX)
			return base + (int)n;
	}
	return -1;
}

static int cmd_kill(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { 0 } };
	struct hull_container *c = NULL;
	bool all = false;
	enum hull_status st;
	int opt, sig = SIGTERM, rc = 1;
	const char *id;

	if (cli_wants_help(argc, argv, KILL_USAGE))
		return 0;
	cli_getopt_reset();
	while ((opt = getopt_long_only(argc, argv, "+a", opts, NULL)) != -1) {
		if (opt != 'a')
			return cli_usage(err, KILL_USAGE, "unknown option `%s`", argv[optind - 1]);
		all = true;
	}
	if (optind >= argc || argc - optind > 2)
		return cli_usage(err, KILL_USAGE, optind >= argc ? "missing container ID" : "too many arguments");
	id = argv[optind];
	if (argc - optind == 2 && (sig = cli_parse_signal(argv[optind + 1])) < 0) {
		hull_errf(err, EINVAL, "%s: invalid signal `%.32s`", id, argv[optind + 1]);
		return 1;
	}
	if (hull_container_load(g->root, id, HULL_LOCK_SH, &c, err) < 0)
		goto out;
	st = hull_container_status(c);
	if (st == HULL_STATUS_STOPPED) {
		hull_errf(err, ESRCH, "container is not running");
		goto out;
	}
	if (hull_container_kill(c, sig, all, err) < 0)
		goto out;
	/* A task frozen by the v1 freezer does not die until thawed: like runc,
	 * thaw a paused container after SIGKILL to its init (--all thaws in
	 * hull_cgroup_kill), so the containerd shim and podman see it stop. */
	if (sig == SIGKILL && !all && st == HULL_STATUS_PAUSED) {
		struct hull_cgroup *cg = NULL;
		if (hull_container_cgroup(c, &cg, err) == 0 && cg)
			hull_cgroup_freeze(cg, false, err);
		hull_err_clear(err);    /* the signal was delivered; a thaw failure is not kill's */
		hull_cgroup_free(cg);
	}
	rc = 0;
out:
	if (rc)
		hull_err_wrap(err, "%s", id);
	hull_container_free(c);
	return rc;
}

HULL_COMMAND(kill, "send a signal to a container's process (default TERM)", cmd_kill);
