/* Unit tests for runtime/security.c and procattr.c: cwd checks
 * (CVE-2024-21626), fd close-on-exec, CPU lists, and the whole
 * sec_finalize_process() sequence run as root in a forked child. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/security.h"
#include "runtime/security_internal.h"

#define BIT(c) (UINT64_C(1) << (c))

static void test_cwd_path_check(void **state)
{
	(void)state;
	static const char *bad[] = {
		"/proc/self/fd/7", "/proc/self/fd", "//proc//self/./fd/3/x", "/proc/thread-self/fd/4",
		"/proc/1/fd/9", "/proc/12/task/13/fd/5", "/proc/./self/fd/7/..",
	};
	static const char *good[] = {
		"/", "/root", "/proc", "/proc/self", "/proc/self/fdinfo", "/proc/sys/fd", "/x/proc/self/fd/7",
	};
	struct hull_err err = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sec_check_cwd_path(bad[i], &err) == 0)
			fail_msg("cwd `%s` was accepted", bad[i]);
		assert_non_null(strstr(err.msg, "process.cwd"));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (sec_check_cwd_path(good[i], &err) != 0)
			fail_msg("cwd `%s` was refused: %s", good[i], err.msg);
	assert_true(sec_check_cwd_path("relative", &err) < 0);
}

/* A cwd reached through an fd opened outside the root is "(unreachable)". */
static int unreachable_child(void)
{
	char dir[] = "/tmp/hull-sec-root-XXXXXX";
	struct hull_err err = { 0 };
	int outside;

	if (!mkdtemp(dir))
		return 10;
	outside = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (outside < 0 || chroot(dir) < 0 || chdir("/") < 0)
		return 11;
	if (sec_verify_cwd(&err) != 0)
		return 12;      /* "/" inside the root must pass */
	if (fchdir(outside) < 0)
		return 13;
	if (sec_verify_cwd(&err) == 0)
		return 1;
	if (!strstr(err.msg, "not inside the container"))
		return 2;
	return 0;
}

static void test_verify_cwd_unreachable(void **state)
{
	(void)state;
	int st;

	if (geteuid() != 0)
		skip();
	pid_t pid = fork();
	if (pid == 0)
		_exit(unreachable_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_cloexec_from(void **state)
{
	(void)state;
	struct hull_err err = { 0 };
	int keep = open("/dev/null", O_RDONLY);   /* no O_CLOEXEC on purpose */
	int a = open("/dev/null", O_RDONLY);
	int b = open("/dev/null", O_RDONLY);
	int st;

	assert_true(keep >= 0 && a > keep && b > a);
	pid_t pid = fork();
	if (pid == 0) {
		if (sec_cloexec_from(a, &err) < 0)
			_exit(10);
		if (fcntl(keep, F_GETFD) & FD_CLOEXEC)
			_exit(1);
		if (!(fcntl(a, F_GETFD) & FD_CLOEXEC) || !(fcntl(b, F_GETFD) & FD_CLOEXEC))
			_exit(2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(keep);
	close(a);
	close(b);
}

static void test_cpu_list(void **state)
{
	(void)state;
	struct hull_err err = { 0 };
	cpu_set_t set;

	assert_int_equal(sec_parse_cpu_list("0-3,7", &set, &err), 0);
	assert_int_equal(CPU_COUNT(&set), 5);
	assert_true(CPU_ISSET(7, &set) && CPU_ISSET(0, &set) && !CPU_ISSET(4, &set));
	assert_int_equal(sec_parse_cpu_list("1", &set, &err), 0);
	assert_int_equal(CPU_COUNT(&set), 1);
	static const char *bad[] = { "", "a", "3-1", "1,", "1-", "-1", "1 2", "99999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sec_parse_cpu_list(bad[i], &set, &err) == 0)
			fail_msg("`%s` parsed", bad[i]);
}

static uint64_t status_hex(const char *name)
{
	char line[256];
	uint64_t v = UINT64_MAX;
	FILE *f = fopen("/proc/self/status", "re");
	size_t n = strlen(name);

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			v = strtoull(line + n + 1, NULL, name[0] == 'C' ? 16 : 10);
	fclose(f);
	return v;
}

static int finalize_child(const char *tmpdir)
{
	static char *deny[] = { "getpriority", NULL };
	static uint32_t gids[] = { 1001, 1002 };
	struct oci_rlimit rl = { .resource = RLIMIT_NOFILE, .type = "RLIMIT_NOFILE", .soft = 512, .hard = 1000 };
	struct oci_seccomp_syscall rule = {
		.names = deny, .n_names = 1, .action = OCI_SCMP_ACT_ERRNO, .errno_ret = { true, 123 },
	};
	struct oci_seccomp sc = { .present = true, .default_action = OCI_SCMP_ACT_ALLOW,
				  .syscalls = &rule, .n_syscalls = 1 };
	uint64_t caps = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL);
	struct oci_process proc = {
		.user = { .uid = 1000, .gid = 1000, .umask = { true, 027 },
			  .additional_gids = gids, .n_additional_gids = 2 },
		.cwd = (char *)tmpdir,
		.caps = { .present = true, .bounding = caps, .permitted = caps, .effective = caps,
			  .ambient = 0, .inheritable = 0 },
		.rlimits = &rl, .n_rlimits = 1,
		.no_new_privileges = true,
	};
	struct sec_process_opts o = { .proc = &proc, .seccomp = &sc, .preserve_fds = 1,
				      .lsm = SEC_LSM_PROBED };
	struct hull_err err = { 0 };
	struct rlimit got;
	char cwd[256];
	gid_t groups[8];
	int leak, kept;

	/* fd 3 is "preserved"; anything above must end up close-on-exec */
	kept = fcntl(0, F_DUPFD, 3);
	leak = open("/", O_RDONLY | O_DIRECTORY);
	if (kept != 3 || leak < 4)
		return 90;
	if (sec_finalize_process(&o, &err) < 0) {
		fprintf(stderr, "finalize: %s\n", err.msg);
		return 91;
	}
	if (getuid() != 1000 || geteuid() != 1000 || getgid() != 1000)
		return 1;
	if (getgroups(8, groups) != 2 || groups[0] != 1001 || groups[1] != 1002)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &got) < 0 || got.rlim_cur != 512 || got.rlim_max != 1000)
		return 3;
	if (status_hex("CapEff") != caps || status_hex("CapPrm") != caps ||
	    status_hex("CapBnd") != caps || status_hex("CapInh") != 0 || status_hex("CapAmb") != 0)
		return 4;
	if (status_hex("NoNewPrivs") != 1)
		return 5;
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, tmpdir) != 0)
		return 6;
	if (!(fcntl(leak, F_GETFD) & FD_CLOEXEC) || (fcntl(kept, F_GETFD) & FD_CLOEXEC))
		return 7;
	errno = 0;
	if (!(syscall(SYS_getpriority, PRIO_PROCESS, 0) == -1 && errno == 123))
		return 8;
	if (umask(0) != 027)
		return 9;
	return 0;
}

static void test_finalize_sequence(void **state)
{
	(void)state;
	char dir[] = "/tmp/hull-sec-cwd-XXXXXX";
	int st;

	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(finalize_child(dir));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	rmdir(dir);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int proc_fd_cwd_child(void)
{
	struct oci_process proc = { .cwd = "/proc/self/fd/3" };
	struct sec_process_opts o = { .proc = &proc, .lsm = SEC_LSM_PROBED };
	struct hull_err err = { 0 };

	if (sec_finalize_process(&o, &err) == 0)
		return 1;
	return strstr(err.msg, "/proc fd") ? 0 : 2;
}

static void test_finalize_refuses_proc_fd_cwd(void **state)
{
	(void)state;
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(proc_fd_cwd_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_lsm_check(void **state)
{
	(void)state;
	struct oci_process proc = { .apparmor_profile = "hull-default" };
	struct hull_err err = { 0 };

	assert_true(sec_lsm_check(SEC_LSM_PROBED, &proc, NULL, &err) < 0);
	assert_non_null(strstr(err.msg, "AppArmor is not enabled"));
	assert_int_equal(sec_lsm_check(SEC_LSM_PROBED | SEC_LSM_APPARMOR, &proc, NULL, &err), 0);
	proc.apparmor_profile = NULL;
	proc.selinux_label = "system_u:system_r:container_t:s0";
	assert_int_equal(sec_lsm_check(SEC_LSM_PROBED, &proc, "system_u:object_r:container_file_t:s0", &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cwd_path_check),
		cmocka_unit_test(test_verify_cwd_unreachable),
		cmocka_unit_test(test_cloexec_from),
		cmocka_unit_test(test_cpu_list),
		cmocka_unit_test(test_finalize_sequence),
		cmocka_unit_test(test_finalize_refuses_proc_fd_cwd),
		cmocka_unit_test(test_lsm_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
