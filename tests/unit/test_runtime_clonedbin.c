/* Unit tests for runtime/clonedbin.c (CVE-2019-5736): hull_ensure_sealed_self()
 * re-executes this test binary; the re-executed copy reports whether its
 * /proc/self/exe is sealed and whether a write through it is refused.  Run
 * once with the privileges to mount (read-only overlay) and once without
 * (sealed memfd). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/security.h"

#define CHILD_ARG "--clonedbin-child"

/* In the re-executed copy: 0 = sealed and not writable. */
static int sealed_child(void)
{
	char buf[256];
	ssize_t n;
	int fd;

	if (!hull_self_is_sealed())
		return 1;
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return 2;
	buf[n] = '\0';
	fd = open("/proc/self/exe", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = write(fd, "x", 1);
		close(fd);
		if (n == 1)
			return 3;
	}
	printf("exe=%s\n", buf);
	return 0;
}

static int run_child(bool drop_caps)
{
	char self[4096];
	char *argv[] = { self, CHILD_ARG, NULL };
	struct hull_err err = { 0 };
	int st;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(n > 0);
	self[n] = '\0';
	pid_t pid = fork();
	if (pid == 0) {
		if (drop_caps) {
			cap_t none = cap_init();
			if (!none || cap_set_proc(none) < 0)
				_exit(20);
		}
		hull_ensure_sealed_self(2, argv, &err);
		fprintf(stderr, "%s\n", err.msg);
		_exit(21);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_not_sealed_here(void **state)
{
	(void)state;
	assert_false(hull_self_is_sealed());
}

static void test_sealed_with_privileges(void **state)
{
	(void)state;
	assert_int_equal(run_child(false), 0);
}

static void test_sealed_without_privileges(void **state)
{
	(void)state;
	assert_int_equal(run_child(true), 0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], CHILD_ARG) == 0)
		return sealed_child();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_sealed_here),
		cmocka_unit_test(test_sealed_with_privileges),
		cmocka_unit_test(test_sealed_without_privileges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
