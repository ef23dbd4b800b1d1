/* Unit tests for rootfs/image/unpack.c: layer changesets built here with
 * libarchive's writer, unpacked into T/root next to T/outside, which must
 * never change.  Covers: regular content and metadata, gzip/zstd/plain and
 * the diff_id, hostile paths (`..`, absolute), symlink and hardlink escapes,
 * whiteouts in both modes (overlay markers, applied deletions), a whiteout of
 * `../x`, devices and xattrs (as root). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "rootfs/image/image.h"

struct fx {
	char top[64];
	char root[128];
	char outside[128];
	int root_fd;
};

/* ---- building layers --------------------------------------------------- */

enum kind { F, D, L, H, C, W };   /* file, dir, symlink, hardlink, char dev, raw entry */

struct ent { enum kind k; const char *path; const char *data; unsigned mode; const char *xattr; int owner; };

static char *build(const struct ent *e, size_t n, int filter, size_t *len)
{
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	struct archive *a = archive_write_new();
	assert_non_null(buf);
	archive_write_set_format_pax_restricted(a);
	if (filter == 1)
		archive_write_add_filter_gzip(a);
	else if (filter == 2)
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_uid(ae, e[i].owner ? e[i].owner : (int)getuid());
		archive_entry_set_gid(ae, e[i].owner ? e[i].owner + 1 : (int)getgid());
		archive_entry_set_mtime(ae, 1000000 + (time_t)i, 0);
		switch (e[i].k) {
		case F: case W:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0644);
			archive_entry_set_size(ae, e[i].data ? (la_int64_t)strlen(e[i].data) : 0);
			break;
		case D:
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0755);
			break;
		case L:
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].data);
			break;
		case H:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_hardlink(ae, e[i].data);
			archive_entry_set_size(ae, 0);
			break;
		case C:
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_perm(ae, 0666);
			archive_entry_set_rdevmajor(ae, 1);
			archive_entry_set_rdevminor(ae, 3);
			break;
		}
		if (e[i].xattr) {
			archive_entry_xattr_add_entry(ae, e[i].xattr, "v", 1);
			archive_entry_xattr_add_entry(ae, "trusted.overlay.redirect", "/etc", 4);
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if ((e[i].k == F || e[i].k == W) && e[i].data)
			archive_write_data(a, e[i].data, strlen(e[i].data));
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return buf;
}

static int blob_fd(const char *buf, size_t len)
{
	char path[] = "/tmp/hull-unpack-blob-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int unpack_mode(struct fx *f, const struct ent *e, size_t n, enum img_unpack_mode mode, char *diff_id,
		       struct hull_err *err)
{
	size_t len;
	char *buf = build(e, n, 1, &len);
	int fd = blob_fd(buf, len);
	int r = img_unpack(fd, f->root_fd, mode, NULL, diff_id, "test", NULL, err);
	close(fd);
	free(buf);
	return r;
}

static int unpack(struct fx *f, const struct ent *e, size_t n, struct hull_err *err)
{
	return unpack_mode(f, e, n, IMG_UNPACK_OVERLAY, NULL, err);
}

/* ---- fixture --------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->top, sizeof(f->top), "/tmp/hull-unpack-XXXXXX");
	if (!mkdtemp(f->top))
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/root", f->top);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->top);
	mkdir(f->root, 0755);
	mkdir(f->outside, 0755);
	char p[256];
	snprintf(p, sizeof(p), "%s/secret", f->outside);
	FILE *s = fopen(p, "w");
	fputs("secret", s);
	fclose(s);
	snprintf(p, sizeof(p), "%s/x", f->outside);
	fclose(fopen(p, "w"));
	f->root_fd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[256];
	close(f->root_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", f->top);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static bool exists(const char *dir, const char *rel)
{
	char p[1024];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

/* outside/ holds exactly secret (1 link, unchanged) and x */
static void outside_untouched(struct fx *f)
{
	char p[512], buf[16] = "";
	struct stat st;
	snprintf(p, sizeof(p), "%s/secret", f->outside);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	FILE *s = fopen(p, "r");
	assert_non_null(fgets(buf, sizeof(buf), s));
	fclose(s);
	assert_string_equal(buf, "secret");
	assert_true(exists(f->outside, "x"));
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 2 && ! test -e '%s/../pwned'", f->outside, f->root);
	assert_int_equal(system(cmd), 0);
}

/* ---- tests ------------------------------------------------------------ */

static void test_basic(void **state)
{
	struct fx *f = *state;
	struct hull_err err = { 0 };
	const struct ent e[] = {
		{ D, "etc/", NULL, 0750, NULL, 0 },
		{ F, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0600, "user.test", 0 },
		{ F, "./usr/bin/tool", "#!/bin/sh\n", 04755, NULL, 0 },   /* parent dirs implied */
		{ L, "bin", "usr/bin", 0, NULL, 0 },
		{ H, "etc/passwd.hard", "etc/passwd", 0, NULL, 0 },
		{ F, "etc/passwd", "replaced\n", 0644, NULL, 0 },       /* later entry wins */
	};
	if (unpack(f, e, 6, &err) != 0)
		fail_msg("%s", err.msg);
	char p[512], buf[64] = "";
	struct stat st;
	snprintf(p, sizeof(p), "%s/etc", f->root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_mtime, 1000000);   /* dir times applied after its children */
	snprintf(p, sizeof(p), "%s/usr/bin/tool", f->root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
	snprintf(p, sizeof(p), "%s/bin", f->root);
	assert_int_equal(readlink(p, buf, sizeof(buf)), 7);
	snprintf(p, sizeof(p), "%s/etc/passwd", f->root);
	FILE *s = fopen(p, "r");
	assert_non_null(fgets(buf, sizeof(buf), s));
	fclose(s);
	assert_string_equal(buf, "replaced\n");
	snprintf(p, sizeof(p), "%s/etc/passwd.hard", f->root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 1);   /* the hardlink kept the first inode; the rewrite made a new one */
	outside_untouched(f);
}

static void test_diff_id_and_compression(void **state)
{
	struct fx *f = *state;
	const struct ent e[] = { { F, "a", "hello", 0, NULL, 0 }, { D, "d", NULL, 0, NULL, 0 } };
	size_t plain_len;
	char *plain = build(e, 2, 0, &plain_len);
	char want[IMG_DIGEST_LEN + 1];
	img_sha256_digest(plain, plain_len, want);
	for (int filter = 0; filter < 3; filter++) {
		size_t len;
		char *buf = build(e, 2, filter, &len);
		int fd = blob_fd(buf, len);
		char got[IMG_DIGEST_LEN + 1] = "";
		struct hull_err err = { 0 };
		if (img_unpack(fd, f->root_fd, IMG_UNPACK_OVERLAY, want, got, "t", NULL, &err) != 0)
			fail_msg("filter %d: %s", filter, err.msg);
		assert_string_equal(got, want);
		lseek(fd, 0, SEEK_SET);
		/* a wrong expected diff_id is an error */
		assert_int_equal(img_unpack(fd, f->root_fd, IMG_UNPACK_OVERLAY,
					    "sha256:0000000000000000000000000000000000000000000000000000000000000000",
					    NULL, "t", NULL, &err), -EBADMSG);
		assert_non_null(strstr(err.msg, "diff_ids"));
		close(fd);
		free(buf);
	}
	free(plain);
	/* garbage is an error, not an empty layer */
	int fd = blob_fd("\x1f\x8b garbage garbage garbage", 25);
	struct hull_err err = { 0 };
	assert_true(img_unpack(fd, f->root_fd, IMG_UNPACK_OVERLAY, NULL, NULL, "t", NULL, &err) < 0);
	close(fd);
}

static void test_dotdot_rejected(void **state)
{
	struct fx *f = *state;
	const char *paths[] = { "../x", "a/../../x", "../outside/secret", "./../pwned" };
	for (size_t i = 0; i < 4; i++) {
		struct hull_err err = { 0 };
		const struct ent e[] = { { F, paths[i], "pwned", 0, NULL, 0 } };
		assert_true(unpack(f, e, 1, &err) < 0);
		assert_non_null(strstr(err.msg, "leaves the layer"));
	}
	outside_untouched(f);
}

static void test_absolute_lands_inside(void **state)
{
	struct fx *f = *state;
	struct hull_err err = { 0 };
	char abs[300];
	snprintf(abs, sizeof(abs), "%s/x", f->outside);   /* the host path of outside/x */
	const struct ent e[] = { { F, "/etc/hostname", "h", 0, NULL, 0 }, { F, abs, "pwned", 0, NULL, 0 } };
	if (unpack(f, e, 2, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(exists(f->root, "etc/hostname"));
	char rel[400];
	snprintf(rel, sizeof(rel), "%s/x", f->outside + 1);
	assert_true(exists(f->root, rel));
	outside_untouched(f);
}

static void test_symlink_escape(void **state)
{
	struct fx *f = *state;
	struct hull_err err = { 0 };
	char abs[300];
	snprintf(abs, sizeof(abs), "%s", f->outside);
	/* write through symlinks that point out of the layer: they resolve inside */
	const struct ent e[] = {
		{ L, "up", "../../../..", 0, NULL, 0 },
		{ F, "up/pwned", "pwned", 0, NULL, 0 },
		{ L, "abs", "/", 0, NULL, 0 },
		{ F, "abs/pwned2", "pwned", 0, NULL, 0 },
	};
	if (unpack(f, e, 4, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(exists(f->root, "pwned"));
	assert_true(exists(f->root, "pwned2"));
	/* a symlink to the host path of outside/, then a file through it */
	const struct ent e2[] = { { L, "host", abs, 0, NULL, 0 }, { F, "host/secret", "overwritten", 0, NULL, 0 } };
	err.code = 0;
	unpack(f, e2, 2, &err);   /* may fail (no such dir inside) or land inside: never outside */
	/* replacing a symlink with a file must not write through it */
	const struct ent e3[] = { { L, "s", abs, 0, NULL, 0 }, { L, "t", "/../outside/secret", 0, NULL, 0 },
				  { F, "t", "overwritten", 0, NULL, 0 } };
	if (unpack(f, e3, 3, &err) != 0)
		fail_msg("%s", err.msg);
	outside_untouched(f);
}

static void test_hardlink_escape(void **state)
{
	struct fx *f = *state;
	char abs[300];
	snprintf(abs, sizeof(abs), "%s/secret", f->outside);
	const char *targets[] = { "../outside/secret", abs, "link-out/secret" };
	const struct ent pre[] = { { L, "link-out", f->outside, 0, NULL, 0 } };
	struct hull_err err = { 0 };
	assert_int_equal(unpack(f, pre, 1, &err), 0);
	for (size_t i = 0; i < 3; i++) {
		const struct ent e[] = { { H, "h", targets[i], 0, NULL, 0 } };
		err.code = 0;
		assert_true(unpack(f, e, 1, &err) < 0);
	}
	outside_untouched(f);
}

static void test_whiteouts_overlay(void **state)
{
	struct fx *f = *state;
	if (geteuid() != 0)
		skip();
	struct hull_err err = { 0 };
	const struct ent e[] = {
		{ F, ".wh.gone", "", 0, NULL, 0 },
		{ D, "dir", NULL, 0, NULL, 0 },
		{ F, "dir/.wh..wh..opq", "", 0, NULL, 0 },
		{ F, "dir/kept", "k", 0, NULL, 0 },
		{ F, "sub/.wh.deep", "", 0, NULL, 0 },
	};
	if (unpack(f, e, 5, &err) != 0)
		fail_msg("%s", err.msg);
	char p[512], v[8] = "";
	struct stat st;
	snprintf(p, sizeof(p), "%s/gone", f->root);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	assert_false(exists(f->root, ".wh.gone"));
	snprintf(p, sizeof(p), "%s/dir", f->root);
	assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	assert_true(exists(f->root, "dir/kept"));
	assert_false(exists(f->root, "dir/.wh..wh..opq"));
	assert_true(exists(f->root, "sub/deep"));
}

static void test_whiteouts_apply(void **state)
{
	struct fx *f = *state;
	struct hull_err err = { 0 };
	const struct ent lower[] = {
		{ F, "a", "a", 0, NULL, 0 }, { F, "b/c", "c", 0, NULL, 0 }, { F, "d/e/f", "f", 0, NULL, 0 },
		{ F, "x/old", "o", 0, NULL, 0 }, { F, "x/y-z", "o", 0, NULL, 0 },
	};
	assert_int_equal(unpack_mode(f, lower, 5, IMG_UNPACK_APPLY, NULL, &err), 0);
	const struct ent upper[] = {
		{ F, ".wh.a", "", 0, NULL, 0 },
		{ F, "b/new", "n", 0, NULL, 0 },          /* before the opaque marker: still kept */
		{ F, "b/.wh..wh..opq", "", 0, NULL, 0 },
		{ F, ".wh.d", "", 0, NULL, 0 },
		{ F, "x/y/deep", "d", 0, NULL, 0 },            /* x/y made implicitly by this layer */
		{ F, "x/.wh..wh..opq", "", 0, NULL, 0 },
	};
	if (unpack_mode(f, upper, 6, IMG_UNPACK_APPLY, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(exists(f->root, "x/y/deep"));
	assert_false(exists(f->root, "a"));
	assert_false(exists(f->root, "b/c"));
	assert_true(exists(f->root, "b/new"));
	assert_false(exists(f->root, "d"));
	assert_false(exists(f->root, ".wh.a"));
	assert_false(exists(f->root, "x/old"));
	assert_false(exists(f->root, "x/y-z"));
}

static void test_whiteout_escape(void **state)
{
	struct fx *f = *state;
	const char *paths[] = { "../.wh.x", ".wh...", "a/.wh..", "../outside/.wh.secret" };
	for (size_t i = 0; i < 4; i++) {
		for (int mode = 0; mode < 2; mode++) {
			struct hull_err err = { 0 };
			const struct ent e[] = { { F, paths[i], "", 0, NULL, 0 } };
			assert_true(unpack_mode(f, e, 1, mode ? IMG_UNPACK_APPLY : IMG_UNPACK_OVERLAY, NULL, &err) < 0);
		}
	}
	/* a whiteout through a symlink pointing outside deletes inside only */
	const struct ent e[] = { { L, "o", f->outside, 0, NULL, 0 }, { F, "o/.wh.secret", "", 0, NULL, 0 } };
	struct hull_err err = { 0 };
	unpack_mode(f, e, 2, IMG_UNPACK_APPLY, NULL, &err);
	outside_untouched(f);
}

static void test_devices_and_xattrs(void **state)
{
	struct fx *f = *state;
	if (geteuid() != 0)
		skip();
	struct hull_err err = { 0 };
	const struct ent e[] = { { C, "dev/null", NULL, 0, NULL, 0 }, { F, "x", "x", 0, "user.hull", 0 },
				 { F, "owned", "o", 04750, NULL, 1234 }, { D, "odir", NULL, 0700, NULL, 1234 },
				 { L, "olink", "owned", 0, NULL, 1234 } };
	if (unpack(f, e, 5, &err) != 0)
		fail_msg("%s", err.msg);
	/* ownership from the archive (numeric), setuid kept after chown */
	struct stat ost;
	char op[512];
	const char *owned[] = { "owned", "odir", "olink" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(op, sizeof(op), "%s/%s", f->root, owned[i]);
		assert_int_equal(lstat(op, &ost), 0);
		assert_int_equal(ost.st_uid, 1234);
		assert_int_equal(ost.st_gid, 1235);
		if (i == 0)
			assert_int_equal(ost.st_mode & 07777, 04750);
	}
	char p[512], v[8];
	struct stat st;
	snprintf(p, sizeof(p), "%s/dev/null", f->root);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	snprintf(p, sizeof(p), "%s/x", f->root);
	ssize_t n = getxattr(p, "user.hull", v, sizeof(v));
	assert_true(n == 1 || (n < 0 && errno == ENOTSUP));
	/* overlay control xattrs from an image are dropped */
	assert_true(getxattr(p, "trusted.overlay.redirect", v, sizeof(v)) < 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_basic),
		T(test_diff_id_and_compression),
		T(test_dotdot_rejected),
		T(test_absolute_lands_inside),
		T(test_symlink_escape),
		T(test_hardlink_escape),
		T(test_whiteouts_overlay),
		T(test_whiteouts_apply),
		T(test_whiteout_escape),
		T(test_devices_and_xattrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
