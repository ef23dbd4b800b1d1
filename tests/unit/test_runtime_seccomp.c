/* Unit tests for runtime/seccomp.c: config -> filter translation, checked by
 * behaviour (the filter is loaded in a forked child that then makes syscalls)
 * and by the errors bad configs get. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/security.h"

#define TEST_ERRNO 123 /* ENOMEDIUM: nothing returns it by accident */

static char *names_getpriority[] = { "getpriority", NULL };
static char *names_getppid[] = { "getppid", NULL };
static char *names_mkdir[] = { "mkdir", "mkdirat", NULL };

static struct oci_seccomp base(enum oci_seccomp_action def)
{
	return (struct oci_seccomp){ .present = true, .default_action = def };
}

/* Run fn in a child with the filter loaded; returns the child's wait status. */
static int run_filtered(const struct oci_seccomp *sc, int (*fn)(void))
{
	struct sec_seccomp_prog *prog = NULL;
	struct hull_err err = { 0 };
	int status = 0;
	pid_t pid;

	assert_int_equal(sec_seccomp_build(sc, &prog, &err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int nfd;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(200);
		if (sec_seccomp_load(prog, &nfd, &err) < 0)
			_exit(201);
		_exit(fn());
	}
	sec_seccomp_prog_free(prog);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int call_getpriority_pgrp(void)
{
	errno = 0;
	long r = syscall(SYS_getpriority, PRIO_PGRP, 0);
	if (r == -1 && errno == TEST_ERRNO)
		return 1;
	errno = 0;
	r = syscall(SYS_getpriority, PRIO_PROCESS, 0);
	if (r == -1)
		return 2;      /* the filter hit a call it should allow */
	return 0;
}

static void test_errno_with_arg_eq(void **state)
{
	(void)state;
	struct oci_seccomp_arg arg = { .index = 0, .value = PRIO_PGRP, .op = OCI_SCMP_CMP_EQ };
	struct oci_seccomp_syscall rule = {
		.names = names_getpriority, .n_names = 1, .action = OCI_SCMP_ACT_ERRNO,
		.errno_ret = { true, TEST_ERRNO }, .args = &arg, .n_args = 1,
	};
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ALLOW);
	sc.syscalls = &rule;
	sc.n_syscalls = 1;

	int st = run_filtered(&sc, call_getpriority_pgrp);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
}

static int call_getpriority_masked(void)
{
	errno = 0;
	/* who = 0x1234: (0x1234 & 0xff00) == 0x1200 -> rule matches */
	if (!(syscall(SYS_getpriority, PRIO_PROCESS, 0x1234) == -1 && errno == TEST_ERRNO))
		return 2;
	errno = 0;
	/* who = 0x3434: no match -> the kernel answers (ESRCH: no such pid) */
	if (syscall(SYS_getpriority, PRIO_PROCESS, 0x3434) == -1 && errno == TEST_ERRNO)
		return 3;
	return 1;
}

static void test_masked_eq(void **state)
{
	(void)state;
	struct oci_seccomp_arg arg = { .index = 1, .value = 0xff00, .value_two = 0x1200,
				       .op = OCI_SCMP_CMP_MASKED_EQ };
	struct oci_seccomp_syscall rule = {
		.names = names_getpriority, .n_names = 1, .action = OCI_SCMP_ACT_ERRNO,
		.errno_ret = { true, TEST_ERRNO }, .args = &arg, .n_args = 1,
	};
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ALLOW);
	sc.syscalls = &rule;
	sc.n_syscalls = 1;

	int st = run_filtered(&sc, call_getpriority_masked);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
}

static int call_getpriority_or(void)
{
	int hits = 0;

	errno = 0;
	if (syscall(SYS_getpriority, PRIO_PGRP, 0) == -1 && errno == TEST_ERRNO)
		hits++;
	errno = 0;
	if (syscall(SYS_getpriority, PRIO_USER, 0) == -1 && errno == TEST_ERRNO)
		hits++;
	errno = 0;
	if (syscall(SYS_getpriority, PRIO_PROCESS, 0) == -1 && errno == TEST_ERRNO)
		return 9;
	return hits;
}

/* Two conditions on the same argument: "either" (runc's semantics). */
static void test_same_index_is_or(void **state)
{
	(void)state;
	struct oci_seccomp_arg args[2] = {
		{ .index = 0, .value = PRIO_PGRP, .op = OCI_SCMP_CMP_EQ },
		{ .index = 0, .value = PRIO_USER, .op = OCI_SCMP_CMP_EQ },
	};
	struct oci_seccomp_syscall rule = {
		.names = names_getpriority, .n_names = 1, .action = OCI_SCMP_ACT_ERRNO,
		.errno_ret = { true, TEST_ERRNO }, .args = args, .n_args = 2,
	};
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ALLOW);
	sc.syscalls = &rule;
	sc.n_syscalls = 1;

	int st = run_filtered(&sc, call_getpriority_or);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 2);
}

static int call_getppid(void)
{
	syscall(SYS_getppid);
	return 0;
}

static void test_kill_process(void **state)
{
	(void)state;
	struct oci_seccomp_syscall rule = {
		.names = names_getppid, .n_names = 1, .action = OCI_SCMP_ACT_KILL_PROCESS,
	};
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ALLOW);
	sc.syscalls = &rule;
	sc.n_syscalls = 1;

	int st = run_filtered(&sc, call_getppid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static int call_mkdir(void)
{
	errno = 0;
	if (mkdir("/nonexistent-hull-test/x", 0700) == -1 && errno == EPERM)
		return 1;
	return 0;
}

/* defaultAction ERRNO without defaultErrnoRet means EPERM; an explicit allow
 * list keeps the process alive. */
static void test_default_errno_eperm(void **state)
{
	(void)state;
	static char *allowed[] = { "exit_group", "exit", "getpriority", NULL };
	struct oci_seccomp_syscall rule = {
		.names = allowed, .n_names = 3, .action = OCI_SCMP_ACT_ALLOW,
	};
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ERRNO);
	sc.syscalls = &rule;
	sc.n_syscalls = 1;

	int st = run_filtered(&sc, call_mkdir);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
}

static void test_unknown_syscall_skipped(void **state)
{
	(void)state;
	static char *names[] = { "no_such_syscall_hull", "getppid", NULL };
	struct oci_seccomp_syscall rule = {
		.names = names, .n_names = 2, .action = OCI_SCMP_ACT_KILL_PROCESS,
	};
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ALLOW);
	sc.syscalls = &rule;
	sc.n_syscalls = 1;

	int st = run_filtered(&sc, call_getppid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void expect_build_error(const struct oci_seccomp *sc, const char *needle)
{
	struct sec_seccomp_prog *prog = NULL;
	struct hull_err err = { 0 };

	assert_true(sec_seccomp_build(sc, &prog, &err) < 0);
	assert_null(prog);
	if (!strstr(err.msg, needle))
		fail_msg("error `%s` does not mention `%s`", err.msg, needle);
}

static void test_errno_ret_needs_errno_action(void **state)
{
	(void)state;
	struct oci_seccomp_syscall rule = {
		.names = names_getppid, .n_names = 1, .action = OCI_SCMP_ACT_KILL,
		.errno_ret = { true, 1 },
	};
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ALLOW);
	sc.syscalls = &rule;
	sc.n_syscalls = 1;
	expect_build_error(&sc, "syscalls[0]");

	struct oci_seccomp sc2 = base(OCI_SCMP_ACT_ALLOW);
	sc2.default_errno_ret = (struct opt_u64){ true, 1 };
	expect_build_error(&sc2, "defaultAction");
}

static void test_bad_arch_and_flag(void **state)
{
	(void)state;
	static char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_VAX" };
	static char *flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS" };
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ALLOW);

	sc.architectures = archs;
	sc.n_architectures = 2;
	expect_build_error(&sc, "architectures[1]");

	sc.n_architectures = 1;
	sc.flags = flags;
	sc.n_flags = 2;
	expect_build_error(&sc, "flags[1]");
}

static void test_notify_on_sendmsg_refused(void **state)
{
	(void)state;
	static char *names[] = { "sendmsg", NULL };
	struct oci_seccomp_syscall rule = { .names = names, .n_names = 1, .action = OCI_SCMP_ACT_NOTIFY };
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ALLOW);
	sc.syscalls = &rule;
	sc.n_syscalls = 1;
	expect_build_error(&sc, "sendmsg");
}

static void test_archs_and_flags_load(void **state)
{
	(void)state;
	static char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" };
	static char *flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
				 "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" };
	struct oci_seccomp_syscall rule = {
		.names = names_getppid, .n_names = 1, .action = OCI_SCMP_ACT_KILL_PROCESS,
	};
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ALLOW);
	char *pfc = NULL;
	struct hull_err err = { 0 };

	sc.architectures = archs;
	sc.n_architectures = 3;
	sc.flags = flags;
	sc.n_flags = 1;    /* WAIT_KILLABLE_RECV only makes sense with NOTIFY */
	sc.syscalls = &rule;
	sc.n_syscalls = 1;
	int st = run_filtered(&sc, call_getppid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);

	assert_int_equal(sec_seccomp_export_pfc(&sc, &pfc, &err), 0);
	assert_non_null(strstr(pfc, "arch x86_64 "));
	assert_non_null(strstr(pfc, "arch x86 "));
	assert_non_null(strstr(pfc, "arch x32 "));
	assert_non_null(strstr(pfc, "action KILL_PROCESS"));
	free(pfc);
}

/* NOTIFY: the child loads the filter, forks a worker that inherits it, and
 * answers the worker's mkdir through the listener fd with a fake success. */
static int notify_child(const struct sec_seccomp_prog *prog)
{
	struct hull_err err = { 0 };
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	int nfd, status;
	pid_t worker;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sec_seccomp_load(prog, &nfd, &err) < 0)
		return 10;
	if (nfd < 0)
		return 11;
	worker = fork();
	if (worker == 0) {
		/* mkdir of a path that cannot exist; the agent says it worked. */
		_exit(mkdir("/nonexistent-hull-test/notified", 0700) == 0 ? 0 : 1);
	}
	memset(&req, 0, sizeof(req));
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return 12;
	if (req.data.nr != SYS_mkdir && req.data.nr != SYS_mkdirat)
		return 13;
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.val = 0;
	resp.error = 0;
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
		return 14;
	if (waitpid(worker, &status, 0) != worker || !WIFEXITED(status))
		return 15;
	return WEXITSTATUS(status) == 0 ? 0 : 16;
}

static void test_notify_fd(void **state)
{
	(void)state;
	static char *flags[] = { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" };
	struct oci_seccomp_syscall rule = {
		.names = names_mkdir, .n_names = 2, .action = OCI_SCMP_ACT_NOTIFY,
	};
	struct oci_seccomp sc = base(OCI_SCMP_ACT_ALLOW);
	struct sec_seccomp_prog *prog = NULL;
	struct hull_err err = { 0 };
	int status;

	sc.syscalls = &rule;
	sc.n_syscalls = 1;
	sc.flags = flags;
	sc.n_flags = 1;
	assert_int_equal(sec_seccomp_build(&sc, &prog, &err), 0);
	assert_true(sec_seccomp_uses_notify(prog));
	pid_t pid = fork();
	if (pid == 0)
		_exit(notify_child(prog));
	sec_seccomp_prog_free(prog);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_send_listener(void **state)
{
	(void)state;
	char dir[] = "/tmp/hull-seccomp-test-XXXXXX";
	char path[128], buf[4096], ctl[CMSG_SPACE(sizeof(int))];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct hull_err err = { 0 };
	int lsock, conn, pfd[2], got_fd = -1;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/agent.sock", dir);
	strcpy(addr.sun_path, path);
	lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lsock >= 0);
	assert_int_equal(bind(lsock, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lsock, 1), 0);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);

	assert_int_equal(sec_seccomp_send_listener(path, pfd[1], 4242, "a \"quoted\" meta",
						   "{\"ociVersion\":\"1.3.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":4242,\"bundle\":\"/b\"}",
						   &err), 0);
	conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	assert_true(conn >= 0);

	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	assert_true(n > 0);
	buf[n] = '\0';
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&got_fd, CMSG_DATA(cm), sizeof(int));
	assert_true(got_fd >= 0);
	/* the fd is the pipe's write end: bytes written to it come out of pfd[0] */
	assert_int_equal(write(got_fd, "x", 1), 1);
	char c = 0;
	assert_int_equal(read(pfd[0], &c, 1), 1);
	assert_int_equal(c, 'x');

	assert_non_null(strstr(buf, "\"fds\":[\"seccompFd\"]"));
	assert_non_null(strstr(buf, "\"pid\":4242"));
	assert_non_null(strstr(buf, "\"metadata\":\"a \\\"quoted\\\" meta\""));
	assert_non_null(strstr(buf, "\"state\":{\"ociVersion\":\"1.3.0\",\"id\":\"c1\""));
	assert_int_equal(buf[n - 1], '}');

	close(got_fd);
	close(conn);
	close(lsock);
	close(pfd[0]);
	close(pfd[1]);
	unlink(path);
	rmdir(dir);
}

static void test_send_listener_errors(void **state)
{
	(void)state;
	struct hull_err err = { 0 };

	assert_true(sec_seccomp_send_listener(NULL, 0, 1, NULL, "{}", &err) < 0);
	assert_non_null(strstr(err.msg, "listenerPath"));
	assert_true(sec_seccomp_send_listener("/nonexistent/hull.sock", 0, 1, NULL, "{}", &err) < 0);
	assert_non_null(strstr(err.msg, "/nonexistent/hull.sock"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_with_arg_eq),
		cmocka_unit_test(test_masked_eq),
		cmocka_unit_test(test_same_index_is_or),
		cmocka_unit_test(test_kill_process),
		cmocka_unit_test(test_default_errno_eperm),
		cmocka_unit_test(test_unknown_syscall_skipped),
		cmocka_unit_test(test_errno_ret_needs_errno_action),
		cmocka_unit_test(test_bad_arch_and_flag),
		cmocka_unit_test(test_notify_on_sendmsg_refused),
		cmocka_unit_test(test_archs_and_flags_load),
		cmocka_unit_test(test_notify_fd),
		cmocka_unit_test(test_send_listener),
		cmocka_unit_test(test_send_listener_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
