/* Unit tests for runtime/state.c (ids, records on disk, status of a dead
 * pid) and the CLI helpers in runtime/cli.h (signal names, run's
 * bundle-vs-image rule). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/cli.h"
#include "runtime/state.h"

static void test_id_valid(void **state)
{
	struct hull_err err = { 0 };
	char long_id[1100];

	(void)state;
	assert_int_equal(hull_container_id_valid("abc-1_2.3+x", &err), 0);
	assert_int_equal(hull_container_id_valid("a/b", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "a/b"));
	assert_int_equal(hull_container_id_valid("..", &err), -EINVAL);
	assert_int_equal(hull_container_id_valid(".", &err), -EINVAL);
	assert_int_equal(hull_container_id_valid("", &err), -EINVAL);
	assert_int_equal(hull_container_id_valid("a b", &err), -EINVAL);
	assert_int_equal(hull_container_id_valid("x\n", &err), -EINVAL);
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_int_equal(hull_container_id_valid(long_id, &err), -EINVAL);
}

static void test_parse_signal(void **state)
{
	(void)state;
	assert_int_equal(cli_parse_signal("9"), SIGKILL);
	assert_int_equal(cli_parse_signal("KILL"), SIGKILL);
	assert_int_equal(cli_parse_signal("SIGKILL"), SIGKILL);
	assert_int_equal(cli_parse_signal("sigterm"), SIGTERM);
	assert_int_equal(cli_parse_signal("HUP"), SIGHUP);
	assert_int_equal(cli_parse_signal("RTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(cli_parse_signal("0"), -1);
	assert_int_equal(cli_parse_signal("65"), -1);
	assert_int_equal(cli_parse_signal("NOPE"), -1);
	assert_int_equal(cli_parse_signal(""), -1);
	assert_int_equal(cli_parse_signal("9x"), -1);
}

static bool image_run(const char *first, ...)
{
	char *argv[16] = { (char *)"run", (char *)first };
	int argc = 2;
	va_list ap;
	const char *a;

	va_start(ap, first);
	while ((a = va_arg(ap, const char *)) && argc < 15)
		argv[argc++] = (char *)a;
	va_end(ap);
	return cli_is_image_run(argc, argv);
}

static void test_image_run_rule(void **state)
{
	(void)state;
	/* runc's forms */
	assert_false(image_run("c1", NULL));
	assert_false(image_run("-b", "/bundle", "c1", NULL));
	assert_false(image_run("--bundle", "/b", "-d", "c1", NULL));
	assert_false(image_run("--bundle=/b", "c1", NULL));
	assert_false(image_run("-d", "--pid-file", "/p", "c1", NULL));
	assert_false(image_run("--console-socket", "/s", "--keep", "c1", NULL));
	/* -b wins over anything image-like */
	assert_false(image_run("-b", "/b", "docker.io/library/busybox", NULL));
	/* image references */
	assert_true(image_run("busybox:latest", NULL));
	assert_true(image_run("oci:/tmp/layout", NULL));
	assert_true(image_run("docker://busybox", NULL));
	assert_true(image_run("library/busybox", NULL));
	assert_true(image_run("busybox@sha256:abcd", NULL));
	/* a command after the first argument */
	assert_true(image_run("busybox", "echo", "hi", NULL));
	/* image-only flags */
	assert_true(image_run("--rm", "busybox", NULL));
	assert_true(image_run("-e", "A=1", "busybox", NULL));
	assert_true(image_run("-it", "busybox", NULL));
}

static void test_record_roundtrip(void **state)
{
	char root[] = "/tmp/hull-unit-state.XXXXXX";
	struct hull_err err = { 0 };
	struct hull_container *c = NULL, *d = NULL;
	char **ids = NULL;
	size_t n = 0;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(hull_container_new(root, "c1", &c, &err), 0);
	assert_int_equal(hull_container_new(root, "c1", &d, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "already exists"));
	c->pid = 999999;            /* no such process: the record is "stopped" */
	c->pid_start = 12345;
	c->bundle = strdup("/b");
	c->rootfs = strdup("/b/rootfs");
	c->cgroup_path = strdup("/hull/c1");
	c->ns_flags = 0x20000;
	c->userns = true;
	c->hooks_mask = 0x30;
	c->annotations = calloc(1, sizeof(*c->annotations));
	c->annotations[0].key = strdup("k");
	c->annotations[0].value = strdup("v \"quoted\"");
	c->n_annotations = 1;
	assert_int_equal(hull_container_save(c, &err), 0);

	assert_int_equal(hull_container_load(root, "c1", HULL_LOCK_NONE, &d, &err), 0);
	assert_int_equal(d->pid, 999999);
	assert_int_equal(d->pid_start, 12345);
	assert_string_equal(d->bundle, "/b");
	assert_string_equal(d->cgroup_path, "/hull/c1");
	assert_int_equal(d->ns_flags, 0x20000);
	assert_true(d->userns);
	assert_int_equal(d->hooks_mask, 0x30);
	assert_int_equal(d->n_annotations, 1);
	assert_string_equal(d->annotations[0].value, "v \"quoted\"");
	assert_int_equal(hull_container_status(d), HULL_STATUS_STOPPED);
	assert_false(hull_container_alive(d));
	hull_container_free(d);

	assert_int_equal(hull_container_list(root, &ids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "c1");
	hull_container_list_free(ids, n);

	assert_int_equal(hull_container_remove(c, &err), 0);
	hull_container_free(c);
	assert_int_equal(hull_container_load(root, "c1", HULL_LOCK_SH, &d, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "does not exist"));
	assert_int_equal(rmdir(root), 0);
}

static void test_proc_start_time(void **state)
{
	bool zombie = true;

	(void)state;
	assert_true(hull_proc_start_time(getpid(), &zombie) > 0);
	assert_false(zombie);
	assert_int_equal(hull_proc_start_time(0, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_parse_signal),
		cmocka_unit_test(test_image_run_rule),
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_proc_start_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
