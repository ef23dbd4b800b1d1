/* run — create + start + wait, or an image run handed to hull-image.
 *
 * Which one `hull run ARGS` means:
 *   - with -b/--bundle it is always an OCI bundle run (runc's form:
 *     `run [-b BUNDLE] [flags] ID`, the bundle defaulting to the cwd);
 *   - otherwise it is an image run if the first positional argument carries a
 *     transport prefix (oci:, oci-archive:, docker-archive:, docker://) or a
 *     '/', ':' or '@' (registry path, tag, digest — never valid in an id),
 *     or if positional arguments follow it (a command), or if an image-only
 *     flag is present (--rm, -e/--env, -v/--volume, -p/--publish, --name,
 *     -i, -t, -it, --net/--network, -w/--workdir, -u/--user, --entrypoint …).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "runtime/cli.h"
#include "runtime/console.h"
#include "runtime/launch.h"
#include "runtime/spawn.h"
#include "runtime/state.h"

#define RUN_USAGE \
	"hull run [-b BUNDLE] [-d] [--keep] [--console-socket PATH] [--pid-file FILE] [--preserve-fds N] " \
	"[--no-pivot] [--no-new-keyring] [--vm] ID\n" \
	"       hull run [image flags] IMAGE [COMMAND [ARG...]]   (image run, needs hull-image support)\n" \
	"An OCI bundle run when -b/--bundle is given; otherwise an image run when the first\n" \
	"argument has a transport prefix (oci:, oci-archive:, docker-archive:, docker://) or a\n" \
	"'/', ':' or '@', when a command follows it, or when an image-only flag (--rm, -e, -v,\n" \
	"-p, --name, -it, ...) is present."

static bool flag_takes_value(const char *a)
{
	static const char *const v[] = { "-b", "--bundle", "-bundle", "--console-socket", "-console-socket",
					 "--pid-file", "-pid-file", "--preserve-fds", "-preserve-fds" };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(a, v[i]))
			return true;
	return false;
}

static bool bundle_flag(const char *a)
{
	static const char *const v[] = { "-d", "--detach", "-detach", "--keep", "-keep", "--no-pivot", "-no-pivot",
					 "--no-new-keyring", "-no-new-keyring", "--no-subreaper", "-no-subreaper",
					 "--vm", "-vm", "-h", "--help" };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(a, v[i]))
			return true;
	return flag_takes_value(a) || !strncmp(a, "--bundle=", 9) || !strncmp(a, "--pid-file=", 11) ||
	       !strncmp(a, "--console-socket=", 17) || !strncmp(a, "--preserve-fds=", 15);
}

static bool looks_like_image(const char *s)
{
	static const char *const prefixes[] = { "oci:", "oci-archive:", "docker-archive:", "docker://" };
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
			return true;
	return strpbrk(s, "/:@") != NULL;
}

bool cli_is_image_run(int argc, char **argv)
{
	int first = -1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (first < 0 && a[0] == '-' && a[1]) {
			if (!strcmp(a, "-b") || !strcmp(a, "--bundle") || !strcmp(a, "-bundle") ||
			    !strncmp(a, "--bundle=", 9))
				return false;
			if (!strcmp(a, "--"))
				continue;
			if (!bundle_flag(a))
				return true;   /* an image-only flag */
			if (flag_takes_value(a))
				i++;
			continue;
		}
		if (first < 0) {
			first = i;
			if (looks_like_image(a))
				return true;
			continue;
		}
		return true;               /* a command after the image */
	}
	return false;
}

static int block_signals(sigset_t *old)
{
	sigset_t all;

	spawn_forwardable_signals(&all);
	sigprocmask(SIG_BLOCK, &all, old);
	return signalfd(-1, &all, SFD_CLOEXEC);
}

static int cmd_run(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	struct create_args a;
	struct launch_result res;
	sigset_t old;
	int sigfd, rc;

	if (cli_is_image_run(argc, argv)) {
		const struct hull_command *img = hull_command_find("-run-image");
		if (!img) {
			hull_errf(err, ENOTSUP, "image runs need hull-image support (not in this build); "
				  "for a bundle use `hull run -b BUNDLE ID`");
			return 1;
		}
		return img->fn(g, argc, argv, err);
	}
	if (cli_wants_help(argc, argv, RUN_USAGE))
		return 0;
	if (cli_parse_create(argc, argv, true, &a, err))
		return 1;
	if (cli_create_container(g, &a, LAUNCH_RUN, &res, err) < 0) {
		hull_err_wrap(err, "%s", a.id);
		return 1;
	}
	sigfd = block_signals(&old);
	if (launch_start(&res, err) < 0) {
		/* The init reports and exits like a shell would (127: not found). */
		int status = spawn_wait(res.pid);
		hull_err_wrap(err, "%s", a.id);
		hull_error("run %s", err->msg);
		hull_err_clear(err);
		hull_container_destroy(res.c, true, err);
		hull_err_clear(err);
		res.pid = 0;
		launch_result_free(&res);
		return status >= 0 ? spawn_exit_code(status) : 1;
	}
	if (cli_run_poststart(res.c, err) < 0) {
		hull_container_kill(res.c, SIGKILL, true, &(struct hull_err){ 0 });
		hull_err_wrap(err, "%s", a.id);
		hull_error("run %s", err->msg);
		hull_err_clear(err);
	}
	if (a.detach) {
		launch_result_free(&res);
		return 0;
	}
	/* Other commands (kill, pause, delete --force) must work while we wait. */
	flock(res.c->dir_fd, LOCK_UN);
	rc = spawn_wait_forwarding(res.pid, sigfd, res.console_master);
	while (flock(res.c->dir_fd, LOCK_EX) < 0 && errno == EINTR)
		;
	if (!a.keep && hull_container_destroy(res.c, true, err) < 0) {
		hull_err_wrap(err, "%s", a.id);
		hull_error("run %s", err->msg);
		hull_err_clear(err);
	}
	launch_result_free(&res);
	close(sigfd);
	return rc;
}

HULL_COMMAND(run, "create and start a container, wait for it (or run an image)", cmd_run);
