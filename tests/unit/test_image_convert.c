/* Unit tests for rootfs/image/convert.c: image config + run flags ->
 * config.json, checked by parsing the result with hull's own config parser
 * (so the output is also a valid runtime config). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "oci/config.h"
#include "rootfs/image/image.h"

static const char passwd[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
	"# comment\n"
	"app:x:1000:1000:App:/home/app:/bin/sh\n"
	"broken line\n";
static const char group[] =
	"root:x:0:\n"
	"daemon:x:1:\n"
	"app:x:1000:\n"
	"audio:x:29:app,other\n"
	"video:x:44:other,app\n"
	"staff:x:50:\n";

static const char image_config[] =
	"{\"architecture\":\"amd64\",\"os\":\"linux\",\"author\":\"me\","
	"\"config\":{\"Entrypoint\":[\"/entry\",\"-x\"],\"Cmd\":[\"serve\",\"--port=80\"],"
	"\"Env\":[\"FOO=bar\",\"PATH=/custom/bin\"],\"WorkingDir\":\"/srv\",\"User\":\"app\","
	"\"Labels\":{\"org.opencontainers.image.author\":\"label-wins\",\"x\":\"y\"},"
	"\"StopSignal\":\"SIGQUIT\",\"Volumes\":{\"/data\":{}},\"ExposedPorts\":{\"80/tcp\":{}}},"
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

static struct oci_config *convert(const char *cfg_json, struct hull_image_run_opts *o, char **extra_env,
				  size_t n_extra, int *rc_out, struct hull_err *err)
{
	struct img_config c;
	char *vols[] = { "/store/containers/c1/volumes/0" };
	assert_int_equal(img_config_parse(cfg_json, strlen(cfg_json), "config", &c, err), 0);
	struct img_convert_in in = {
		.cfg = &c, .opts = o, .id = "c1abcdef0123456789", .rootfs = "rootfs", .passwd = passwd, .group = group,
		.volume_sources = vols, .extra_env = extra_env, .n_extra_env = n_extra,
		.hook_path = "/usr/bin/hull", .bundle = "/store/containers/c1", .store = "/store",
	};
	char *json = NULL;
	*rc_out = img_convert(&in, &json, err);
	img_config_free(&c);
	if (*rc_out < 0)
		return NULL;
	struct oci_config *cfg = NULL;
	if (oci_config_parse(json, strlen(json), "config.json", &cfg, err) != 0)
		fail_msg("generated config does not parse: %s\n%s", err->msg, json);
	free(json);
	return cfg;
}

static const char *env_get(const struct oci_config *cfg, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < cfg->process.n_env; i++)
		if (!strncmp(cfg->process.env[i], key, kl) && cfg->process.env[i][kl] == '=')
			return cfg->process.env[i] + kl + 1;
	return NULL;
}

static void test_spec_fields(void **state)
{
	(void)state;
	struct hull_image_run_opts o = { .image = "x" };
	struct hull_err err = { 0 };
	int rc;
	struct oci_config *cfg = convert(image_config, &o, NULL, 0, &rc, &err);
	assert_non_null(cfg);
	assert_int_equal(cfg->process.n_args, 4);
	assert_string_equal(cfg->process.args[0], "/entry");
	assert_string_equal(cfg->process.args[1], "-x");
	assert_string_equal(cfg->process.args[2], "serve");
	assert_string_equal(cfg->process.args[3], "--port=80");
	assert_string_equal(cfg->process.cwd, "/srv");
	assert_string_equal(env_get(cfg, "FOO"), "bar");
	assert_string_equal(env_get(cfg, "PATH"), "/custom/bin");   /* image's PATH kept */
	assert_string_equal(env_get(cfg, "HOME"), "/home/app");
	assert_int_equal(cfg->process.user.uid, 1000);
	assert_int_equal(cfg->process.user.gid, 1000);
	assert_int_equal(cfg->process.user.n_additional_gids, 2);
	assert_int_equal(cfg->process.user.additional_gids[0], 29);
	assert_int_equal(cfg->process.user.additional_gids[1], 44);
	assert_string_equal(oci_config_annotation(cfg, "org.opencontainers.image.author"), "label-wins");
	assert_string_equal(oci_config_annotation(cfg, "org.opencontainers.image.os"), "linux");
	assert_string_equal(oci_config_annotation(cfg, "org.opencontainers.image.architecture"), "amd64");
	assert_string_equal(oci_config_annotation(cfg, "org.opencontainers.image.stopSignal"), "SIGQUIT");
	assert_string_equal(oci_config_annotation(cfg, "org.opencontainers.image.exposedPorts"), "80/tcp");
	assert_string_equal(oci_config_annotation(cfg, "x"), "y");
	bool vol = false;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (!strcmp(cfg->mounts[i].destination, "/data"))
			vol = !strcmp(cfg->mounts[i].source, "/store/containers/c1/volumes/0");
	assert_true(vol);
	assert_string_equal(cfg->root.path, "rootfs");
	assert_string_equal(cfg->hostname, "c1abcdef0123");
	assert_true(cfg->linux_.seccomp.present);
	/* default profile: EPERM list, clone() namespace flags, clone3 -> ENOSYS */
	bool clone_newuser = false, clone3_enosys = false, mount_denied = false;
	for (size_t i = 0; i < cfg->linux_.seccomp.n_syscalls; i++) {
		const struct oci_seccomp_syscall *sc = &cfg->linux_.seccomp.syscalls[i];
		for (size_t j = 0; j < sc->n_names; j++) {
			if (!strcmp(sc->names[j], "clone") && sc->n_args == 1 && sc->args[0].value == 0x10000000 &&
			    sc->args[0].op == OCI_SCMP_CMP_MASKED_EQ)
				clone_newuser = true;
			if (!strcmp(sc->names[j], "clone3") && sc->errno_ret.v == ENOSYS)
				clone3_enosys = true;
			if (!strcmp(sc->names[j], "mount") && sc->errno_ret.v == EPERM)
				mount_denied = true;
		}
	}
	assert_true(clone_newuser && clone3_enosys && mount_denied);
	assert_non_null(oci_config_namespace(cfg, OCI_NS_NETWORK));
	assert_int_equal(cfg->hooks[OCI_HOOK_POSTSTOP].n, 1);
	/* a non-root user keeps only the bounding set */
	assert_int_equal(cfg->process.caps.effective, 0);
	assert_true(cfg->process.caps.bounding & (1ULL << 0));   /* CAP_CHOWN */
	assert_false(cfg->process.caps.bounding & (1ULL << 21));  /* CAP_SYS_ADMIN */
	oci_config_free(cfg);
}

static void test_flags_override(void **state)
{
	(void)state;
	char *cmd[] = { "sh", "-c", "true", NULL };
	char *cap_add[] = { "NET_ADMIN", NULL }, *cap_drop[] = { "CAP_CHOWN", NULL };
	struct hull_image_mount m = { "/host/data", "/data", true };
	struct hull_image_run_opts o = {
		.image = "x", .cmd = cmd, .n_cmd = 3, .user = "0:staff", .workdir = "/tmp", .hostname = "h1",
		.terminal = true, .read_only = true, .memory = 64 << 20, .cpus = 1.5, .pids_limit = 100,
		.cap_add = cap_add, .n_cap_add = 1, .cap_drop = cap_drop, .n_cap_drop = 1, .mounts = &m, .n_mounts = 1,
		.net = "host",
	};
	char *extra[] = { "FOO=override", "NEW=1" };
	struct hull_err err = { 0 };
	int rc;
	struct oci_config *cfg = convert(image_config, &o, extra, 2, &rc, &err);
	assert_non_null(cfg);
	/* args after the image replace Cmd, Entrypoint stays */
	assert_int_equal(cfg->process.n_args, 5);
	assert_string_equal(cfg->process.args[0], "/entry");
	assert_string_equal(cfg->process.args[2], "sh");
	assert_string_equal(env_get(cfg, "FOO"), "override");
	assert_string_equal(env_get(cfg, "NEW"), "1");
	assert_string_equal(env_get(cfg, "TERM"), "xterm");
	assert_int_equal(cfg->process.user.uid, 0);
	assert_int_equal(cfg->process.user.gid, 50);
	assert_int_equal(cfg->process.user.n_additional_gids, 0);
	assert_string_equal(cfg->process.cwd, "/tmp");
	assert_string_equal(cfg->hostname, "h1");
	assert_true(cfg->process.terminal);
	assert_true(cfg->root.readonly);
	assert_int_equal(cfg->linux_.resources.memory.limit.v, 64 << 20);
	assert_int_equal(cfg->linux_.resources.cpu.quota.v, 150000);
	assert_int_equal(cfg->linux_.resources.pids_limit.v, 100);
	assert_true(cfg->process.caps.effective & (1ULL << 12));  /* NET_ADMIN added */
	assert_false(cfg->process.caps.bounding & (1ULL << 0));   /* CHOWN dropped */
	assert_null(oci_config_namespace(cfg, OCI_NS_NETWORK));   /* --net host */
	bool bind = false, vol = false;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		if (!strcmp(cfg->mounts[i].destination, "/data")) {
			bind |= !strcmp(cfg->mounts[i].source, "/host/data");
			vol |= !strcmp(cfg->mounts[i].source, "/store/containers/c1/volumes/0");
		}
	}
	assert_true(bind);
	assert_false(vol);   /* -v on a Volume path replaces the anonymous volume */
	oci_config_free(cfg);

	/* --entrypoint clears the image's Cmd */
	struct hull_image_run_opts o2 = { .image = "x", .entrypoint = "/bin/echo", .has_entrypoint = true };
	cfg = convert(image_config, &o2, NULL, 0, &rc, &err);
	assert_int_equal(cfg->process.n_args, 1);
	assert_string_equal(cfg->process.args[0], "/bin/echo");
	oci_config_free(cfg);
}

static void test_privileged_and_unconfined(void **state)
{
	(void)state;
	struct hull_image_run_opts o = { .image = "x", .privileged = true, .user = "root" };
	struct hull_err err = { 0 };
	int rc;
	struct oci_config *cfg = convert(image_config, &o, NULL, 0, &rc, &err);
	assert_false(cfg->linux_.seccomp.present);
	assert_int_equal(cfg->linux_.n_masked_paths, 0);
	assert_true(cfg->process.caps.effective & (1ULL << 21));
	oci_config_free(cfg);
	struct hull_image_run_opts o2 = { .image = "x", .seccomp_file = "unconfined", .user = "root" };
	cfg = convert(image_config, &o2, NULL, 0, &rc, &err);
	assert_false(cfg->linux_.seccomp.present);
	assert_true(cfg->linux_.n_masked_paths > 0);
	oci_config_free(cfg);
}

static void test_errors(void **state)
{
	(void)state;
	struct hull_err err = { 0 };
	int rc;
	struct hull_image_run_opts o = { .image = "x", .user = "ghost" };
	assert_null(convert(image_config, &o, NULL, 0, &rc, &err));
	assert_int_equal(rc, -ENOENT);
	assert_non_null(strstr(err.msg, "ghost"));
	struct hull_image_run_opts o2 = { .image = "x", .user = "app:nogroup" };
	assert_null(convert(image_config, &o2, NULL, 0, &rc, &err));
	char *bad[] = { "SYS_BOGUS" };
	struct hull_image_run_opts o3 = { .image = "x", .cap_add = bad, .n_cap_add = 1 };
	assert_null(convert(image_config, &o3, NULL, 0, &rc, &err));
	assert_non_null(strstr(err.msg, "SYS_BOGUS"));
	/* no Entrypoint, no Cmd, no command */
	const char *empty = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	struct hull_image_run_opts o4 = { .image = "x" };
	assert_null(convert(empty, &o4, NULL, 0, &rc, &err));
	assert_int_equal(rc, -EINVAL);
	struct hull_image_run_opts o5 = { .image = "x", .workdir = "relative" };
	assert_null(convert(image_config, &o5, NULL, 0, &rc, &err));
}

static void test_resolve_user(void **state)
{
	(void)state;
	struct img_user u;
	struct hull_err err = { 0 };
	assert_int_equal(img_resolve_user("daemon", passwd, group, &u, &err), 0);
	assert_int_equal(u.uid, 1);
	assert_int_equal(u.gid, 1);
	img_user_free(&u);
	assert_int_equal(img_resolve_user("4242", passwd, group, &u, &err), 0);   /* numeric, unknown: gid 0 */
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 0);
	img_user_free(&u);
	assert_int_equal(img_resolve_user("1000", passwd, group, &u, &err), 0);   /* numeric, known: its gid */
	assert_int_equal(u.gid, 1000);
	assert_int_equal(u.n_extra_gids, 0);   /* numeric user: no supplementary groups */
	img_user_free(&u);
	assert_int_equal(img_resolve_user("app:29", NULL, NULL, &u, &err), -ENOENT);   /* no passwd at all */
	assert_int_equal(img_resolve_user("7:8", NULL, NULL, &u, &err), 0);
	assert_int_equal(u.uid, 7);
	assert_int_equal(u.gid, 8);
	img_user_free(&u);
	assert_int_equal(img_resolve_user("", passwd, group, &u, &err), 0);
	assert_int_equal(u.uid, 0);
	img_user_free(&u);
	assert_true(img_resolve_user(":", passwd, group, &u, &err) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_fields),
		cmocka_unit_test(test_flags_override),
		cmocka_unit_test(test_privileged_and_unconfined),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_resolve_user),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
