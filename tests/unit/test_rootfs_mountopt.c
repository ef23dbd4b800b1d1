/* Unit tests for rootfs/mountopt.c: OCI mount option strings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <cmocka.h>

#include "rootfs/mountopt.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

static struct mount_opts parse(char **opts, size_t n)
{
	struct mount_opts o;
	struct hull_err err = { 0 };

	assert_int_equal(mountopt_parse(opts, n, &o, &err), 0);
	return o;
}

#define PARSE(...) ({ char *_v[] = { __VA_ARGS__ }; parse(_v, sizeof(_v) / sizeof(_v[0])); })

static void test_basic_flags(void **state)
{
	struct mount_opts o = PARSE("nosuid", "noexec", "nodev", "ro", "strictatime");

	assert_int_equal(o.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY | MS_STRICTATIME);
	assert_int_equal(o.clear, 0);
	assert_null(o.data);
	assert_false(o.bind);
	mountopt_free(&o);
}

static void test_last_wins(void **state)
{
	struct mount_opts o = PARSE("ro", "rw", "nosuid", "suid", "nodev");

	assert_int_equal(o.flags, MS_NODEV);
	assert_int_equal(o.clear, MS_RDONLY | MS_NOSUID);
	mountopt_free(&o);

	o = PARSE("rw", "ro");
	assert_int_equal(o.flags, MS_RDONLY);
	assert_int_equal(o.clear, 0);
	mountopt_free(&o);
}

static void test_all_must_options_known(void **state)
{
	/* none of the spec's MUST options may leak into the data string */
	struct mount_opts o = PARSE("async", "atime", "defaults", "dev", "diratime", "dirsync", "exec",
				    "iversion", "lazytime", "loud", "noatime", "nodev", "nodiratime",
				    "noexec", "noiversion", "nolazytime", "norelatime", "nostrictatime",
				    "nosuid", "relatime", "remount", "rw", "silent", "strictatime", "suid",
				    "sync", "nosymfollow", "symfollow", "mand", "nomand");

	assert_null(o.data);
	assert_true(o.flags & MS_REMOUNT);
	assert_true(o.flags & MS_SYNCHRONOUS);
	assert_true(o.clear & MS_NOSYMFOLLOW);
	assert_false(o.flags & MS_NOSYMFOLLOW);
	mountopt_free(&o);
}

static void test_bind_and_specials(void **state)
{
	struct mount_opts o = PARSE("bind");

	assert_true(o.bind);
	assert_false(o.recursive);
	mountopt_free(&o);

	o = PARSE("rbind", "ridmap", "tmpcopyup");
	assert_true(o.bind);
	assert_true(o.recursive);
	assert_true(o.idmap);
	assert_true(o.idmap_recursive);
	assert_true(o.tmpcopyup);
	assert_null(o.data);
	assert_int_equal(o.flags, 0);
	mountopt_free(&o);

	o = PARSE("idmap");
	assert_true(o.idmap);
	assert_false(o.idmap_recursive);
	mountopt_free(&o);
}

static void test_propagation_in_order(void **state)
{
	struct mount_opts o = PARSE("rprivate", "shared", "rslave", "unbindable", "runbindable",
				    "private", "slave", "rshared");

	assert_int_equal(o.n_propagation, 8);
	assert_int_equal(o.propagation[0], MS_PRIVATE | MS_REC);
	assert_int_equal(o.propagation[1], MS_SHARED);
	assert_int_equal(o.propagation[2], MS_SLAVE | MS_REC);
	assert_int_equal(o.propagation[3], MS_UNBINDABLE);
	assert_int_equal(o.propagation[4], MS_UNBINDABLE | MS_REC);
	assert_int_equal(o.propagation[7], MS_SHARED | MS_REC);
	assert_int_equal(o.flags, 0);
	mountopt_free(&o);
}

static void test_too_many_propagation(void **state)
{
	char *v[] = { "private", "private", "private", "private", "private",
		      "private", "private", "private", "private" };
	struct mount_opts o;
	struct hull_err err = { 0 };

	assert_int_equal(mountopt_parse(v, 9, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "propagation"));
}

static void test_unknown_to_data(void **state)
{
	struct mount_opts o = PARSE("nosuid", "mode=755", "size=65536k", "newinstance", "ptmxmode=0666", "");

	assert_string_equal(o.data, "mode=755,size=65536k,newinstance,ptmxmode=0666");
	assert_int_equal(o.flags, MS_NOSUID);
	mountopt_free(&o);
	assert_null(o.data);
}

static void test_recursive_attrs(void **state)
{
	struct mount_opts o = PARSE("rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", "rnodiratime");

	assert_int_equal(o.rec_attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			 MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NODIRATIME);
	assert_int_equal(o.rec_attr_clr, 0);
	assert_int_equal(o.flags, 0);      /* recursive forms never touch mount(2) flags */
	mountopt_free(&o);

	o = PARSE("rro", "rrw", "rsuid");
	assert_int_equal(o.rec_attr_set, 0);
	assert_int_equal(o.rec_attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
	mountopt_free(&o);
}

static void test_recursive_atime(void **state)
{
	struct mount_opts o = PARSE("rnoatime");

	/* the kernel wants the whole __ATIME mask cleared with any atime change */
	assert_int_equal(o.rec_attr_clr, MOUNT_ATTR__ATIME);
	assert_int_equal(o.rec_attr_set, MOUNT_ATTR_NOATIME);
	mountopt_free(&o);

	o = PARSE("rnoatime", "rstrictatime", "rro");
	assert_int_equal(o.rec_attr_clr, MOUNT_ATTR__ATIME);
	assert_int_equal(o.rec_attr_set, MOUNT_ATTR_STRICTATIME | MOUNT_ATTR_RDONLY);
	mountopt_free(&o);

	o = PARSE("rstrictatime", "ratime");
	assert_int_equal(o.rec_attr_set & MOUNT_ATTR__ATIME, MOUNT_ATTR_RELATIME);
	assert_int_equal(o.rec_attr_clr, MOUNT_ATTR__ATIME);
	mountopt_free(&o);
}

static void test_bind_attrs(void **state)
{
	struct mount_opts o = PARSE("rbind", "ro", "nosuid", "noatime", "dev");
	uint64_t set, clr;

	mountopt_bind_attrs(&o, &set, &clr);
	assert_int_equal(set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME);
	assert_int_equal(clr, MOUNT_ATTR_NODEV | MOUNT_ATTR__ATIME);
	mountopt_free(&o);

	o = PARSE("bind", "rw", "sync");
	mountopt_bind_attrs(&o, &set, &clr);
	assert_int_equal(set, 0);
	assert_int_equal(clr, MOUNT_ATTR_RDONLY);   /* sync has no per-mount form */
	mountopt_free(&o);

	o = PARSE("bind");
	mountopt_bind_attrs(&o, &set, &clr);
	assert_int_equal(set, 0);
	assert_int_equal(clr, 0);
	mountopt_free(&o);
}

static void test_statvfs_flags(void **state)
{
	assert_int_equal(mountopt_flags_from_statvfs(ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC),
			 MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	assert_int_equal(mountopt_flags_from_statvfs(ST_NOATIME | ST_SYNCHRONOUS), MS_NOATIME);
	assert_int_equal(mountopt_flags_from_statvfs(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_flags),
		cmocka_unit_test(test_last_wins),
		cmocka_unit_test(test_all_must_options_known),
		cmocka_unit_test(test_bind_and_specials),
		cmocka_unit_test(test_propagation_in_order),
		cmocka_unit_test(test_too_many_propagation),
		cmocka_unit_test(test_unknown_to_data),
		cmocka_unit_test(test_recursive_attrs),
		cmocka_unit_test(test_recursive_atime),
		cmocka_unit_test(test_bind_attrs),
		cmocka_unit_test(test_statvfs_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
