/* Unit tests for rootfs/safepath.c: resolution inside a root with hostile
 * symlinks.  Every test runs twice: with openat2 and with the fallback walk.
 * Layout per test (temp dir, no root needed):
 *     T/outside/secret        must never be reached
 *     T/root/...              the "container rootfs"
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "rootfs/safepath.h"

struct fixture {
	char top[64];
	char root[128];
	int root_fd;
	bool fallback;
};

static void must(int r)
{
	assert_true(r == 0);
}

static void rm_rf(const char *p)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", p);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state, bool fallback)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[PATH_MAX];

	strcpy(f->top, "/tmp/hull-safepath-XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(f->root, sizeof(f->root), "%s/root", f->top);
	must(mkdir(f->root, 0755));
	snprintf(p, sizeof(p), "%s/outside", f->top);
	must(mkdir(p, 0755));
	snprintf(p, sizeof(p), "%s/outside/secret", f->top);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	f->root_fd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->root_fd >= 0);
	f->fallback = fallback;
	safepath_force_fallback(fallback);
	*state = f;
	return 0;
}

static int setup_openat2(void **state) { return setup(state, false); }
static int setup_fallback(void **state) { return setup(state, true); }

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->root_fd);
	rm_rf(f->top);
	safepath_force_fallback(false);
	free(f);
	return 0;
}

/* helpers working on paths relative to the fixture root */
static void in_root(struct fixture *f, const char *rel, char *out)
{
	assert_true(snprintf(out, PATH_MAX, "%s/%s", f->root, rel) < PATH_MAX);
}

static void mkdir_r(struct fixture *f, const char *rel)
{
	char p[PATH_MAX];
	in_root(f, rel, p);
	must(mkdir(p, 0755));
}

static void touch_r(struct fixture *f, const char *rel)
{
	char p[PATH_MAX];
	int fd;
	in_root(f, rel, p);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void link_r(struct fixture *f, const char *target, const char *rel)
{
	char p[PATH_MAX];
	in_root(f, rel, p);
	must(symlink(target, p));
}

static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0 || stat(path, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void test_plain(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX];
	int fd;

	mkdir_r(f, "a");
	mkdir_r(f, "a/b");
	touch_r(f, "a/b/c");
	fd = safepath_open(f->root_fd, "/a/b/c", O_PATH, 0, NULL);
	assert_true(fd >= 0);
	in_root(f, "a/b/c", p);
	assert_true(same_file(fd, p));
	close(fd);

	/* relative and absolute mean the same; O_RDONLY reopens for real */
	fd = safepath_open(f->root_fd, "a//b/./c", O_RDONLY, 0, NULL);
	assert_true(fd >= 0);
	assert_true(same_file(fd, p));
	close(fd);

	fd = safepath_open(f->root_fd, "/a/b/c/", O_PATH, 0, NULL);
	assert_int_equal(fd, -ENOTDIR);
	fd = safepath_open(f->root_fd, "/a/b/c", O_PATH | O_DIRECTORY, 0, NULL);
	assert_int_equal(fd, -ENOTDIR);
	fd = safepath_open(f->root_fd, "/a/nope", O_PATH, 0, NULL);
	assert_int_equal(fd, -ENOENT);
}

static void test_dotdot_stays_in_root(void **state)
{
	struct fixture *f = *state;
	int fd;

	mkdir_r(f, "a");
	fd = safepath_open(f->root_fd, "/a/../../../..", O_PATH | O_DIRECTORY, 0, NULL);
	assert_true(fd >= 0);
	assert_true(same_file(fd, f->root));
	close(fd);

	/* ../outside/secret from the root must not find the real one */
	fd = safepath_open(f->root_fd, "../outside/secret", O_PATH, 0, NULL);
	assert_int_equal(fd, -ENOENT);
}

static void test_absolute_symlink_is_rooted(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX], target[PATH_MAX];
	int fd;

	/* a symlink to the host-absolute path of the secret */
	snprintf(target, sizeof(target), "%s/outside/secret", f->top);
	link_r(f, target, "evil");
	fd = safepath_open(f->root_fd, "/evil", O_PATH, 0, NULL);
	assert_int_equal(fd, -ENOENT);

	/* "/" inside the root is the root */
	link_r(f, "/", "slash");
	mkdir_r(f, "etc");
	touch_r(f, "etc/passwd");
	fd = safepath_open(f->root_fd, "/slash/slash/etc/passwd", O_PATH, 0, NULL);
	assert_true(fd >= 0);
	in_root(f, "etc/passwd", p);
	assert_true(same_file(fd, p));
	close(fd);
}

static void test_relative_symlink_climbing(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX];
	int fd;

	mkdir_r(f, "a");
	link_r(f, "../../../../outside/secret", "a/up");
	fd = safepath_open(f->root_fd, "/a/up", O_PATH, 0, NULL);
	assert_int_equal(fd, -ENOENT);

	/* once the in-root namesake exists, that is what it resolves to */
	mkdir_r(f, "outside");
	touch_r(f, "outside/secret");
	fd = safepath_open(f->root_fd, "/a/up", O_PATH, 0, NULL);
	assert_true(fd >= 0);
	in_root(f, "outside/secret", p);
	assert_true(same_file(fd, p));
	close(fd);
}

static void test_symlink_dir_then_dotdot(void **state)
{
	struct fixture *f = *state;
	int fd;

	/* "d/.." after d -> /x/y must be /x (symlink semantics, not lexical) */
	mkdir_r(f, "x");
	mkdir_r(f, "x/y");
	touch_r(f, "x/marker");
	link_r(f, "/x/y", "d");
	fd = safepath_open(f->root_fd, "/d/../marker", O_PATH, 0, NULL);
	assert_true(fd >= 0);
	close(fd);
}

static void test_loop_and_nosymlinks(void **state)
{
	struct fixture *f = *state;
	int fd;

	link_r(f, "l2", "l1");
	link_r(f, "l1", "l2");
	fd = safepath_open(f->root_fd, "/l1", O_PATH, 0, NULL);
	assert_int_equal(fd, -ELOOP);

	/* the proc/sysfs rule: no symlink anywhere */
	mkdir_r(f, "tmp");
	link_r(f, "/tmp", "proc");
	fd = safepath_open(f->root_fd, "/proc", O_PATH | O_DIRECTORY, SAFEPATH_NO_SYMLINKS, NULL);
	assert_int_equal(fd, -ELOOP);
	fd = safepath_open(f->root_fd, "/proc", O_PATH | O_DIRECTORY, 0, NULL);
	assert_true(fd >= 0);
	close(fd);
}

static void test_nofollow_last(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	int fd;

	link_r(f, "/etc/passwd", "lnk");
	fd = safepath_open(f->root_fd, "/lnk", O_PATH | O_NOFOLLOW, 0, NULL);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	close(fd);
}

static void test_mkdir_all_through_symlinks(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX], host[PATH_MAX], target[PATH_MAX];
	int fd;

	/* /var/run -> /run is normal in images; it must land in root/run */
	snprintf(host, sizeof(host), "/run/hull-safepath-%d", (int)getpid());
	mkdir_r(f, "var");
	mkdir_r(f, "run");
	link_r(f, "/run", "var/run");
	snprintf(p, sizeof(p), "/var/run/hull-safepath-%d/sub", (int)getpid());
	fd = safepath_mkdir_all(f->root_fd, p, 0755, NULL);
	assert_true(fd >= 0);
	close(fd);
	snprintf(target, sizeof(target), "run/hull-safepath-%d/sub", (int)getpid());
	in_root(f, target, p);
	assert_true(exists(p));
	assert_false(exists(host));

	/* relative climbing symlink as a parent, dangling: its target is
	 * created inside the root, never next to it */
	link_r(f, "../../../../outside", "up");
	fd = safepath_mkdir_all(f->root_fd, "/up/newdir", 0755, NULL);
	assert_true(fd >= 0);
	close(fd);
	in_root(f, "outside/newdir", p);
	assert_true(exists(p));
	snprintf(p, sizeof(p), "%s/outside/newdir", f->top);
	assert_false(exists(p));

	/* absolute dangling symlink to the host path of the outside dir */
	snprintf(target, sizeof(target), "%s/outside", f->top);
	link_r(f, target, "abs");
	fd = safepath_mkdir_all(f->root_fd, "/abs/x", 0755, NULL);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s%s/outside/x", f->root, f->top);
	assert_true(exists(p));
	snprintf(p, sizeof(p), "%s/outside/x", f->top);
	assert_false(exists(p));

	/* symlink loop as a component */
	link_r(f, "loop2", "loop1");
	link_r(f, "loop1", "loop2");
	fd = safepath_mkdir_all(f->root_fd, "/loop1/x", 0755, NULL);
	assert_int_equal(fd, -ELOOP);

	/* mkdir over an existing file fails */
	touch_r(f, "file");
	fd = safepath_mkdir_all(f->root_fd, "/file/sub", 0755, NULL);
	assert_true(fd < 0);
}

static void test_mkfile(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX], target[PATH_MAX];
	struct stat st;
	int fd;

	fd = safepath_mkfile(f->root_fd, "/etc/resolv.conf", 0644, NULL);
	assert_true(fd >= 0);
	in_root(f, "etc/resolv.conf", p);
	assert_true(same_file(fd, p));
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	close(fd);

	/* existing file: reused, not recreated */
	fd = safepath_mkfile(f->root_fd, "/etc/resolv.conf", 0644, NULL);
	assert_true(fd >= 0);
	assert_true(same_file(fd, p));
	close(fd);

	/* a symlink to the host's secret: the file is made at the in-root
	 * namesake; the host's is neither returned nor touched */
	snprintf(target, sizeof(target), "%s/outside/secret", f->top);
	link_r(f, target, "etc/hosts");
	fd = safepath_mkfile(f->root_fd, "/etc/hosts", 0644, NULL);
	assert_true(fd >= 0);
	assert_false(same_file(fd, target));
	assert_true(snprintf(p, sizeof(p), "%s%s", f->root, target) < (int)sizeof(p));
	assert_true(same_file(fd, p));
	close(fd);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 0);

	/* parent that climbs out: created inside */
	link_r(f, "../../..", "etc/up");
	fd = safepath_mkfile(f->root_fd, "/etc/up/outside/newfile", 0644, NULL);
	assert_true(fd >= 0);
	close(fd);
	in_root(f, "outside/newfile", p);
	assert_true(exists(p));
	snprintf(p, sizeof(p), "%s/outside/newfile", f->top);
	assert_false(exists(p));
}

static void test_open_parent(void **state)
{
	struct fixture *f = *state;
	char name[256], p[PATH_MAX];
	int fd;

	fd = safepath_open_parent(f->root_fd, "/dev/../dev/null", true, name, sizeof(name), NULL);
	assert_true(fd >= 0);
	assert_string_equal(name, "null");
	in_root(f, "dev", p);
	assert_true(same_file(fd, p));
	close(fd);

	fd = safepath_open_parent(f->root_fd, "/", false, name, sizeof(name), NULL);
	assert_int_equal(fd, -EINVAL);
	fd = safepath_open_parent(f->root_fd, "/..", false, name, sizeof(name), NULL);
	assert_int_equal(fd, -EINVAL);
	fd = safepath_open_parent(f->root_fd, "/top", false, name, sizeof(name), NULL);
	assert_true(fd >= 0);
	assert_string_equal(name, "top");
	assert_true(same_file(fd, f->root));
	close(fd);
}

/* CVE-2021-30465 shape: a directory is swapped with a symlink to the host
 * while we resolve.  Whatever we get must be inside the root. */
struct swapper { char a[PATH_MAX], b[PATH_MAX]; volatile bool stop; };

static void *swap_loop(void *arg)
{
	struct swapper *s = arg;

	while (!s->stop)
		renameat2(AT_FDCWD, s->a, AT_FDCWD, s->b, RENAME_EXCHANGE);
	return NULL;
}

static void test_swap_race(void **state)
{
	struct fixture *f = *state;
	struct swapper s = { .stop = false };
	char inside[PATH_MAX], outside[PATH_MAX], target[PATH_MAX];
	pthread_t th;
	int hits_in = 0;

	mkdir_r(f, "d");
	touch_r(f, "d/secret");
	snprintf(target, sizeof(target), "%s/outside", f->top);
	link_r(f, target, "dlink");
	in_root(f, "d", s.a);
	in_root(f, "dlink", s.b);
	snprintf(outside, sizeof(outside), "%s/outside/secret", f->top);
	assert_int_equal(pthread_create(&th, NULL, swap_loop, &s), 0);
	for (int i = 0; i < 3000; i++) {
		/* after an exchange, the dir is either at d or at dlink */
		int fd = safepath_open(f->root_fd, (i & 1) ? "/d/secret" : "/dlink/secret", O_PATH, 0, NULL);
		if (fd < 0)
			continue;
		assert_false(same_file(fd, outside));
		hits_in++;
		close(fd);
	}
	s.stop = true;
	pthread_join(th, NULL);
	in_root(f, "d", inside);
	(void)inside;
	assert_true(hits_in > 0);
}

static void test_clean(void **state)
{
	char out[64];

	must(safepath_clean("a/b/../c", out, sizeof(out)));
	assert_string_equal(out, "/a/c");
	must(safepath_clean("/../../etc//./passwd/", out, sizeof(out)));
	assert_string_equal(out, "/etc/passwd");
	must(safepath_clean("", out, sizeof(out)));
	assert_string_equal(out, "/");
	must(safepath_clean("/a/..", out, sizeof(out)));
	assert_string_equal(out, "/");
	assert_int_equal(safepath_clean("/abcdefghijklmnopqrstuvwxyz", out, 8), -ENAMETOOLONG);
}

static void test_fd_path(void **state)
{
	char buf[SAFEPATH_FD_PATH_MAX];

	assert_string_equal(safepath_fd_path(42, buf), "/proc/self/fd/42");
}

#define BOTH(t) cmocka_unit_test_setup_teardown(t, setup_openat2, teardown), \
		cmocka_unit_test_setup_teardown(t, setup_fallback, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_plain),
		BOTH(test_dotdot_stays_in_root),
		BOTH(test_absolute_symlink_is_rooted),
		BOTH(test_relative_symlink_climbing),
		BOTH(test_symlink_dir_then_dotdot),
		BOTH(test_loop_and_nosymlinks),
		BOTH(test_nofollow_last),
		BOTH(test_mkdir_all_through_symlinks),
		BOTH(test_mkfile),
		BOTH(test_open_parent),
		BOTH(test_swap_race),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_fd_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
