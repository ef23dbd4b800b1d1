/* Unit tests for rootfs_proc_open (rootfs/procfs.c): the runtime's procfs
 * accesses stay below /proc, follow no magic link, and are not redirected by
 * a mount over a procfs file (that last test needs root; skipped otherwise). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "rootfs/rootfs.h"

static void test_reads_procfs(void **state)
{
	struct hull_err err = { 0 };
	char buf[4096];
	ssize_t n;
	int fd = rootfs_proc_open("self/status", O_RDONLY, &err);

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "Name:"));
	close(fd);

	fd = rootfs_proc_open("thread-self/attr", O_RDONLY | O_DIRECTORY, &err);
	if (fd >= 0)       /* no LSM attr dir on some kernels */
		close(fd);
	else
		assert_int_equal(fd, -ENOENT);
}

static void test_stays_beneath(void **state)
{
	struct hull_err err = { 0 };

	assert_true(rootfs_proc_open("../etc/passwd", O_RDONLY, &err) < 0);
	assert_true(rootfs_proc_open("/etc/passwd", O_RDONLY, &err) < 0);
	/* magic links (/proc/self/root -> the caller's /) are refused */
	assert_int_equal(rootfs_proc_open("self/root/etc/passwd", O_RDONLY, &err), -ELOOP);
	assert_int_equal(rootfs_proc_open("self/cwd", O_RDONLY | O_DIRECTORY, &err), -ELOOP);
	assert_non_null(strstr(err.msg, "/proc/self/cwd"));
}

/* In a private mount namespace, bind a file with fake contents over
 * /proc/sys/kernel/hostname; rootfs_proc_open must read the real one (or
 * refuse), never the fake. */
static void test_overmount_not_followed(void **state)
{
	char fake[] = "/tmp/hull-procfs-XXXXXX";
	struct utsname u;
	int status, fd;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	fd = mkstemp(fake);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "fake-hostname\n", 14), 14);
	close(fd);
	assert_int_equal(uname(&u), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct hull_err err = { 0 };
		char buf[256];
		ssize_t n;

		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(fake, "/proc/sys/kernel/hostname", NULL, MS_BIND, NULL) < 0)
			_exit(3);
		fd = rootfs_proc_open("sys/kernel/hostname", O_RDONLY, &err);
		if (fd < 0)
			_exit(fd == -EXDEV ? 0 : 4);       /* refused: fine */
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			_exit(5);
		buf[n] = '\0';
		if (strstr(buf, "fake-hostname"))
			_exit(1);                           /* redirected */
		_exit(strncmp(buf, u.nodename, strlen(u.nodename)) ? 6 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(fake);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_procfs),
		cmocka_unit_test(test_stays_beneath),
		cmocka_unit_test(test_overmount_not_followed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
