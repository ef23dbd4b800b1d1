/* Unit tests for oci/config.c: the spec's schema test documents, real
 * `runc spec` / `crun spec` output, and error messages with JSON paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <dirent.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "oci/config.h"

static const char *srcdir(void)
{
	const char *d = getenv("HULL_SRCDIR");
	return d && *d ? d : ".";
}

static char *data_path(const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/tests/unit/data/%s", srcdir(), name);
	return buf;
}

/* The spec's own test documents live outside the repo; a copy is kept in
 * tests/unit/data/spec/ so the tests run anywhere. */
static char *spec_path(const char *kind, const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/tests/unit/data/spec/%s/%s", srcdir(), kind, name);
	return buf;
}

static struct oci_config *load_ok(const char *path)
{
	struct hull_err err = { 0 };
	struct oci_config *cfg = NULL;
	int r = oci_config_load(path, &cfg, &err);

	if (r != 0)
		print_error("%s: unexpected error: %s\n", path, err.msg);
	assert_int_equal(r, 0);
	assert_non_null(cfg);
	return cfg;
}

static struct oci_config *parse_ok(const char *json)
{
	struct hull_err err = { 0 };
	struct oci_config *cfg = NULL;
	int r = oci_config_parse(json, strlen(json), "config.json", &cfg, &err);

	if (r != 0)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(r, 0);
	assert_non_null(cfg);
	return cfg;
}

static void expect_error(const char *json, const char *message)
{
	struct hull_err err = { 0 };
	struct oci_config *cfg = (struct oci_config *)1;
	int r = oci_config_parse(json, strlen(json), "config.json", &cfg, &err);

	assert_int_equal(r, -22);
	assert_null(cfg);
	assert_int_equal(err.code, 22);
	assert_string_equal(err.msg, message);
}

/* ---- the spec's schema test documents -------------------------------- */

static void test_spec_good_minimal(void **state)
{
	struct oci_config *cfg = load_ok(spec_path("good", "minimal.json"));
	assert_string_equal(cfg->oci_version, "1.0.0");
	assert_string_equal(cfg->root.path, "rootfs");
	assert_false(cfg->root.readonly);
	assert_false(cfg->has_process);
	assert_false(cfg->has_linux);
	oci_config_free(cfg);
}

static void test_spec_good_minimal_for_start(void **state)
{
	struct oci_config *cfg = load_ok(spec_path("good", "minimal-for-start.json"));
	assert_true(cfg->has_process);
	assert_int_equal(cfg->process.n_args, 1);
	assert_string_equal(cfg->process.args[0], "sh");
	assert_null(cfg->process.args[1]);
	assert_string_equal(cfg->process.cwd, "/");
	assert_non_null(cfg->process.env);       /* empty but NULL-terminated for execve */
	assert_null(cfg->process.env[0]);
	assert_false(cfg->process.caps.present);
	oci_config_free(cfg);
}

static void test_spec_good_netdevice(void **state)
{
	struct oci_config *cfg = load_ok(spec_path("good", "linux-netdevice.json"));
	const struct oci_linux *l = &cfg->linux_;
	assert_int_equal(l->n_net_devices, 3);
	assert_string_equal(l->net_devices[0].key, "eth0");
	assert_string_equal(l->net_devices[0].value, "container_eth0");
	assert_string_equal(l->net_devices[1].key, "ens4");
	assert_string_equal(l->net_devices[1].value, "ens4"); /* name defaults to the host name */
	oci_config_free(cfg);
}

static void test_spec_good_rdma(void **state)
{
	struct oci_config *cfg = load_ok(spec_path("good", "linux-rdma.json"));
	const struct oci_resources *res = &cfg->linux_.resources;
	assert_true(res->present);
	assert_int_equal(res->n_rdma, 3);
	assert_string_equal(res->rdma[0].device, "mlx5_1");
	assert_true(res->rdma[0].hca_handles.set);
	assert_int_equal(res->rdma[0].hca_handles.v, 3);
	assert_int_equal(res->rdma[0].hca_objects.v, 10000);
	assert_false(res->rdma[1].hca_handles.set);
	oci_config_free(cfg);
}

static void test_spec_good_example(void **state)
{
	struct oci_config *cfg = load_ok(spec_path("good", "spec-example.json"));
	const struct oci_linux *l = &cfg->linux_;

	assert_string_equal(cfg->oci_version, "0.5.0-dev");
	assert_true(cfg->process.terminal);
	assert_int_equal(cfg->process.user.uid, 1);
	assert_int_equal(cfg->process.user.gid, 1);
	assert_int_equal(cfg->process.user.n_additional_gids, 2);
	assert_int_equal(cfg->process.user.additional_gids[0], 5);
	assert_int_equal(cfg->process.user.additional_gids[1], 6);
	assert_int_equal(cfg->process.n_rlimits, 2);
	assert_int_equal(cfg->process.rlimits[0].resource, RLIMIT_CORE);
	assert_int_equal(cfg->process.rlimits[1].resource, RLIMIT_NOFILE);
	assert_true(cfg->process.no_new_privileges);
	assert_string_equal(cfg->process.apparmor_profile, "acme_secure_profile");
	assert_false(cfg->process.oom_score_adj.set);  /* only in .linux.resources (pre-1.0), ignored */
	assert_string_equal(cfg->process.selinux_label, "system_u:system_r:svirt_lxc_net_t:s0:c124,c675");
	assert_string_equal(cfg->linux_.cgroups_path, "/myRuntime/myContainer");
	assert_int_equal(cfg->linux_.monotonic_offset.secs, 172800);
	assert_int_equal(cfg->linux_.boottime_offset.secs, 604800);
	assert_int_equal(cfg->linux_.n_sysctl, 2);
	assert_int_equal(cfg->linux_.uid_mappings[0].host_id, 1000);
	assert_int_equal(cfg->linux_.resources.hugepage_limits[1].limit, 1000000);
	assert_string_equal(cfg->linux_.resources.hugepage_limits[1].page_size, "64KB");
	assert_int_equal(cfg->linux_.resources.blkio.n_weight_device, 2);
	assert_false(cfg->linux_.resources.blkio.weight_device[1].leaf_weight.set);
	assert_int_equal(cfg->linux_.resources.cpu.realtime_runtime.v, 950000);
	assert_int_equal(cfg->linux_.resources.pids_limit.v, 32771);
	assert_true(cfg->process.caps.has_bounding);
	/* CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10) */
	assert_int_equal(cfg->process.caps.bounding, (1ull << 29) | (1ull << 5) | (1ull << 10));
	assert_string_equal(cfg->hostname, "slartibartfast");
	assert_true(cfg->root.readonly);

	assert_int_equal(cfg->hooks[OCI_HOOK_PRESTART].n, 2);
	assert_string_equal(cfg->hooks[OCI_HOOK_PRESTART].hooks[0].path, "/usr/bin/fix-mounts");
	assert_int_equal(cfg->hooks[OCI_HOOK_PRESTART].hooks[0].n_args, 3);
	assert_non_null(cfg->hooks[OCI_HOOK_PRESTART].hooks[1].args);   /* empty, NULL-terminated */
	assert_null(cfg->hooks[OCI_HOOK_PRESTART].hooks[1].args[0]);
	assert_true(cfg->hooks[OCI_HOOK_POSTSTART].hooks[0].timeout.set);
	assert_int_equal(cfg->hooks[OCI_HOOK_POSTSTART].hooks[0].timeout.v, 5);
	assert_int_equal(cfg->hooks[OCI_HOOK_START_CONTAINER].n, 1);

	assert_int_equal(l->n_devices, 2);
	assert_int_equal(l->devices[0].type, 'c');
	assert_int_equal(l->devices[0].major.v, 10);
	assert_int_equal(l->devices[0].minor.v, 229);
	assert_int_equal(l->devices[0].file_mode.v, 438);
	assert_int_equal(l->devices[1].type, 'b');
	assert_int_equal(l->resources.n_devices, 3);
	assert_false(l->resources.devices[0].allow);
	assert_int_equal(l->resources.devices[0].type, 'a');
	assert_int_equal(l->resources.devices[0].major, -1);
	assert_string_equal(l->resources.devices[0].access, "rwm");
	assert_int_equal(l->resources.devices[1].type, 'c');
	assert_true(l->seccomp.present);
	assert_int_equal(l->seccomp.default_action, OCI_SCMP_ACT_ALLOW);
	assert_int_equal(l->seccomp.n_syscalls, 1);
	assert_int_equal(l->seccomp.syscalls[0].action, OCI_SCMP_ACT_ERRNO);
	assert_int_equal(l->seccomp.syscalls[0].n_names, 2);
	assert_string_equal(l->rootfs_propagation, "slave");
	assert_non_null(oci_config_namespace(cfg, OCI_NS_PID));
	assert_int_equal(oci_config_namespace(cfg, OCI_NS_PID)->clone_flag, CLONE_NEWPID);
	assert_true(l->resources.has_memory);
	assert_true(l->resources.has_cpu);
	assert_true(l->resources.has_pids);
	assert_true(l->resources.has_blkio);
	assert_true(l->resources.n_hugepage_limits > 0);
	oci_config_free(cfg);
}

/* Whatever the spec directory holds: every good document loads, every bad
 * one is refused (so a newly added upstream case cannot slip by). */
static void check_spec_dir(const char *kind, bool want_ok)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;
	int seen = 0;

	snprintf(dir, sizeof(dir), "%s/tests/unit/data/spec/%s", srcdir(), kind);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		struct hull_err err = { 0 };
		struct oci_config *cfg;
		int r;

		if (!strstr(de->d_name, ".json"))
			continue;
		r = oci_config_load(spec_path(kind, de->d_name), &cfg, &err);
		if ((r == 0) != want_ok)
			print_error("%s/%s: %s\n", kind, de->d_name, r ? err.msg : "accepted");
		assert_int_equal(r == 0, want_ok);
		oci_config_free(cfg);
		seen++;
	}
	closedir(d);
	assert_true(seen >= 4);
}

static void test_spec_dir_good(void **state)
{
	check_spec_dir("good", true);
}

static void test_spec_dir_bad(void **state)
{
	check_spec_dir("bad", false);
}

static void test_spec_bad_invalid_json(void **state)
{
	struct hull_err err = { 0 };
	struct oci_config *cfg;
	assert_int_equal(oci_config_load(spec_path("bad", "invalid-json.json"), &cfg, &err), -22);
	assert_null(cfg);
	assert_non_null(strstr(err.msg, "invalid-json.json: invalid JSON: "));
	assert_null(strchr(err.msg, '\n'));
}

static void expect_load_error(const char *path, const char *message)
{
	struct hull_err err = { 0 };
	struct oci_config *cfg;
	assert_int_equal(oci_config_load(path, &cfg, &err), -22);
	assert_null(cfg);
	assert_string_equal(err.msg, message);
}

static void test_spec_bad_hugepage(void **state)
{
	/* bad only by the schema pattern ^[1-9][0-9]*[KMG]B$ ("kB") */
	expect_load_error(spec_path("bad", "linux-hugepage.json"),
			  "linux-hugepage.json: .linux.resources.hugepageLimits[0].pageSize: "
			  "must look like 2MB, 1GB or 64KB; got \"64kB\"");
}

static void test_spec_bad_netdevice(void **state)
{
	expect_load_error(spec_path("bad", "linux-netdevice.json"),
			  "linux-netdevice.json: .linux.netDevices.eth0.name: must be a string");
}

static void test_spec_bad_rdma(void **state)
{
	expect_load_error(spec_path("bad", "linux-rdma.json"),
			  "linux-rdma.json: .linux.resources.rdma.mlx5_1.hcaHandles: must be an integer in [0, 4294967295]");
}

/* ---- real runtime output ---------------------------------------------- */

static void check_common_spec(const struct oci_config *cfg)
{
	const struct oci_process *p = &cfg->process;

	assert_true(cfg->has_process);
	assert_int_equal(p->n_args, 1);
	assert_string_equal(p->args[0], "sh");
	assert_string_equal(p->cwd, "/");
	assert_int_equal(p->n_env, 2);
	assert_string_equal(p->env[1], "TERM=xterm");
	assert_null(p->env[2]);
	assert_true(p->caps.present);
	assert_true(p->caps.has_bounding && p->caps.has_effective && p->caps.has_permitted);
	/* CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10) */
	assert_int_equal(p->caps.bounding, (1ull << 29) | (1ull << 5) | (1ull << 10));
	assert_int_equal(p->caps.effective, p->caps.bounding);
	assert_int_equal(p->n_rlimits, 1);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
	assert_int_equal(p->rlimits[0].soft, 1024);
	assert_int_equal(p->rlimits[0].hard, 1024);
	assert_true(p->no_new_privileges);
	assert_string_equal(cfg->root.path, "rootfs");
	assert_true(cfg->root.readonly);
	assert_string_equal(cfg->hostname, cfg->hostname[0] == 'r' ? "runc" : "crun");
	assert_true(cfg->n_mounts >= 6);
	assert_string_equal(cfg->mounts[0].destination, "/proc");
	assert_string_equal(cfg->mounts[0].type, "proc");
	assert_true(cfg->has_linux);
	assert_non_null(oci_config_namespace(cfg, OCI_NS_MOUNT));
	assert_null(oci_config_namespace(cfg, OCI_NS_TIME));
	assert_null(oci_config_namespace(cfg, OCI_NS_MOUNT)->path);
}

static void test_runc_spec(void **state)
{
	struct oci_config *cfg = load_ok(data_path("runc-spec.json"));
	check_common_spec(cfg);
	assert_string_equal(cfg->oci_version, "1.0.2-dev");
	assert_false(cfg->process.terminal == false); /* runc spec sets terminal: true */
	assert_int_equal(cfg->linux_.n_namespaces, 5);
	assert_non_null(oci_config_namespace(cfg, OCI_NS_NETWORK));
	assert_null(oci_config_namespace(cfg, OCI_NS_USER));
	assert_int_equal(cfg->linux_.resources.n_devices, 1);
	assert_false(cfg->linux_.resources.devices[0].allow);
	assert_int_equal(cfg->linux_.n_masked_paths, 10);
	assert_string_equal(cfg->linux_.masked_paths[0], "/proc/acpi");
	assert_int_equal(cfg->linux_.n_readonly_paths, 5);
	assert_int_equal(cfg->mounts[1].n_options, 4);   /* /dev tmpfs: nosuid,strictatime,mode=755,size=65536k */
	assert_string_equal(cfg->mounts[1].options[2], "mode=755");
	oci_config_free(cfg);
}

static void test_runc_spec_rootless(void **state)
{
	struct oci_config *cfg = load_ok(data_path("runc-spec-rootless.json"));
	check_common_spec(cfg);
	assert_non_null(oci_config_namespace(cfg, OCI_NS_USER));
	assert_int_equal(oci_config_namespace(cfg, OCI_NS_USER)->clone_flag, CLONE_NEWUSER);
	assert_null(oci_config_namespace(cfg, OCI_NS_NETWORK));
	assert_int_equal(cfg->linux_.n_uid_mappings, 1);
	assert_int_equal(cfg->linux_.uid_mappings[0].container_id, 0);
	assert_int_equal(cfg->linux_.uid_mappings[0].size, 1);
	assert_int_equal(cfg->linux_.n_gid_mappings, 1);
	assert_false(cfg->linux_.resources.present);
	oci_config_free(cfg);
}

static void test_crun_spec(void **state)
{
	struct oci_config *cfg = load_ok(data_path("crun-spec.json"));
	check_common_spec(cfg);
	assert_string_equal(cfg->oci_version, "1.0.0");
	assert_true(cfg->process.caps.has_inheritable);
	assert_int_equal(cfg->process.caps.inheritable, 0);
	assert_true(cfg->process.caps.has_ambient);
	assert_int_equal(cfg->linux_.n_namespaces, 5);
	oci_config_free(cfg);
}

/* crun leaves the mappings out in rootless mode and derives them at run time */
static void test_crun_spec_rootless(void **state)
{
	struct oci_config *cfg = load_ok(data_path("crun-spec-rootless.json"));
	check_common_spec(cfg);
	assert_int_equal(cfg->linux_.n_namespaces, 6);
	assert_non_null(oci_config_namespace(cfg, OCI_NS_USER));
	assert_int_equal(cfg->linux_.n_uid_mappings, 0);
	assert_null(cfg->linux_.uid_mappings);
	oci_config_free(cfg);
}

/* `podman create` + `podman init` output (podman 4.3): full seccomp profile */
static void test_podman_config(void **state)
{
	struct oci_config *cfg = load_ok(data_path("podman-config.json"));
	const struct oci_seccomp *sc = &cfg->linux_.seccomp;
	const struct oci_seccomp_syscall *last;

	assert_string_equal(cfg->process.args[0], "/bin/sh");
	assert_int_equal(cfg->process.n_args, 3);
	assert_true(cfg->process.user.umask.set);
	assert_int_equal(cfg->process.user.umask.v, 18);
	assert_int_equal(cfg->process.n_rlimits, 2);
	assert_int_equal(cfg->process.rlimits[1].resource, RLIMIT_NPROC);
	assert_int_equal(cfg->process.rlimits[0].hard, 1048576);
	assert_int_equal(__builtin_popcountll(cfg->process.caps.bounding), 11);
	assert_false(cfg->process.caps.has_ambient);
	assert_int_equal(cfg->n_mounts, 11);
	assert_string_equal(oci_config_namespace(cfg, OCI_NS_NETWORK)->path,
			    "/run/netns/netns-750a39bb-4a82-9648-e532-dab1aa4dba3b");
	assert_true(sc->present);
	assert_int_equal(sc->default_action, OCI_SCMP_ACT_ERRNO);
	assert_int_equal(sc->default_errno_ret.v, 38);
	assert_int_equal(sc->n_architectures, 3);
	assert_string_equal(sc->architectures[2], "SCMP_ARCH_X32");
	assert_int_equal(sc->n_syscalls, 22);
	assert_int_equal(sc->syscalls[0].errno_ret.v, 1);
	last = &sc->syscalls[21];
	assert_string_equal(last->names[0], "socket");
	assert_int_equal(last->action, OCI_SCMP_ACT_ALLOW);
	assert_int_equal(last->n_args, 1);
	assert_int_equal(last->args[0].index, 2);
	assert_int_equal(last->args[0].value, 9);
	assert_int_equal(last->args[0].op, OCI_SCMP_CMP_NE);
	oci_config_free(cfg);
}

/* ---- a full 1.3 document ------------------------------------------------ */

static const char full_doc[] =
	"{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"/r\"},"
	"\"process\":{\"terminal\":false,\"consoleSize\":{\"height\":25,\"width\":80},"
	" \"user\":{\"uid\":1000,\"gid\":1000,\"umask\":18,\"additionalGids\":[4294967295]},"
	" \"args\":[\"/bin/true\"],\"cwd\":\"/home\",\"env\":[\"A=1\",\"B=\"],"
	" \"capabilities\":{\"ambient\":[\"CAP_CHECKPOINT_RESTORE\"]},"
	" \"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551615,\"hard\":0}],"
	" \"oomScoreAdj\":-1000,\"selinuxLabel\":\"system_u:system_r:container_t:s0\","
	" \"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"nice\":-5,\"priority\":3,"
	"   \"flags\":[\"SCHED_FLAG_RECLAIM\"],\"runtime\":1000,\"deadline\":2000,\"period\":3000},"
	" \"ioPriority\":{\"class\":\"IOPRIO_CLASS_IDLE\",\"priority\":7},"
	" \"execCPUAffinity\":{\"initial\":\"0-3, 7\",\"final\":\"1\"}},"
	"\"mounts\":[{\"destination\":\"/data\",\"source\":\"/src\",\"options\":[\"rbind\",\"idmap\"],"
	"  \"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
	"  \"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]}],"
	"\"annotations\":{\"org.hull.isolation\":\"vm\",\"a\":\"2\"},"
	"\"linux\":{\"namespaces\":[{\"type\":\"time\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"},"
	"  {\"type\":\"cgroup\",\"path\":\"\"}],"
	" \"timeOffsets\":{\"monotonic\":{\"secs\":-5,\"nanosecs\":999999999},\"boottime\":{\"secs\":10}},"
	" \"personality\":{\"domain\":\"LINUX32\",\"flags\":[]},"
	" \"memoryPolicy\":{\"mode\":\"MPOL_INTERLEAVE\",\"nodes\":\"0-1\",\"flags\":[\"MPOL_F_STATIC_NODES\"]},"
	" \"intelRdt\":{\"closID\":\"x\",\"l3CacheSchema\":\"L3:0=ff\",\"memBwSchema\":\"MB:0=70\","
	"   \"schemata\":[\"L2:0=f\"],\"enableMonitoring\":true},"
	" \"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
	" \"resources\":{\"memory\":{\"limit\":-1,\"swappiness\":100,\"disableOOMKiller\":true},"
	"   \"cpu\":{\"quota\":-1,\"period\":100000,\"cpus\":\"0-1\",\"idle\":1},"
	"   \"pids\":{\"limit\":-1},\"unified\":{\"memory.high\":\"max\"},"
	"   \"blockIO\":{\"weight\":10,\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":600}]},"
	"   \"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":500}]}},"
	" \"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
	"   \"architectures\":[\"SCMP_ARCH_X86_64\"],\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
	"   \"listenerPath\":\"/run/l.sock\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_NOTIFY\","
	"   \"args\":[{\"index\":5,\"value\":18446744073709551615,\"valueTwo\":1,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]},"
	" \"rootfsPropagation\":\"rprivate\",\"unknownFutureKey\":{\"x\":[1,2,3]}},"
	"\"futureTopLevel\":null}";

static void test_full_document(void **state)
{
	struct oci_config *cfg = parse_ok(full_doc);
	const struct oci_process *p = &cfg->process;
	const struct oci_linux *l = &cfg->linux_;

	assert_true(p->has_console_size);
	assert_int_equal(p->console_width, 80);
	assert_int_equal(p->user.uid, 1000);
	assert_true(p->user.umask.set);
	assert_int_equal(p->user.umask.v, 18);
	assert_int_equal(p->user.additional_gids[0], 4294967295u);
	assert_int_equal(p->n_env, 2);
	assert_true(p->caps.has_ambient);
	assert_false(p->caps.has_bounding);
	assert_int_equal(p->caps.ambient, 1ull << 40);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_CORE);
	assert_int_equal(p->rlimits[0].soft, UINT64_MAX);
	assert_int_equal(p->oom_score_adj.v, -1000);
	assert_true(p->scheduler.present);
	assert_int_equal(p->scheduler.policy_value, 6);
	assert_int_equal(p->scheduler.nice, -5);
	assert_int_equal(p->scheduler.period, 3000);
	assert_int_equal(p->scheduler.n_flags, 1);
	assert_true(p->io_priority.present);
	assert_int_equal(p->io_priority.class_value, 3);
	assert_int_equal(p->io_priority.priority, 7);
	assert_string_equal(p->exec_cpu_affinity.initial, "0-3, 7");

	assert_int_equal(cfg->mounts[0].n_uid_mappings, 1);
	assert_int_equal(cfg->mounts[0].uid_mappings[0].host_id, 100000);
	assert_int_equal(cfg->mounts[0].n_gid_mappings, 1);
	assert_null(cfg->mounts[0].type);

	assert_string_equal(oci_config_annotation(cfg, "org.hull.isolation"), "vm");
	assert_string_equal(oci_config_annotation(cfg, "a"), "2");
	assert_null(oci_config_annotation(cfg, "missing"));

	assert_int_equal(oci_config_namespace(cfg, OCI_NS_TIME)->clone_flag, 0x80);
	assert_string_equal(oci_config_namespace(cfg, OCI_NS_NETWORK)->path, "/proc/1/ns/net");
	assert_null(oci_config_namespace(cfg, OCI_NS_CGROUP)->path);   /* "" = create */
	assert_true(l->has_time_offsets);
	assert_true(l->has_monotonic_offset);
	assert_int_equal(l->monotonic_offset.secs, -5);
	assert_int_equal(l->monotonic_offset.nanosecs, 999999999);
	assert_true(l->has_boottime_offset);
	assert_true(l->personality.present);
	assert_string_equal(l->personality.domain, "LINUX32");
	assert_true(l->memory_policy.present);
	assert_int_equal(l->memory_policy.mode_value, 3);
	assert_true(l->has_intel_rdt);
	assert_string_equal(l->intel_rdt.clos_id, "x");
	assert_string_equal(l->intel_rdt.l3_cache_schema, "L3:0=ff");
	assert_string_equal(l->intel_rdt.mem_bw_schema, "MB:0=70");
	assert_int_equal(l->intel_rdt.n_schemata, 1);
	assert_string_equal(l->intel_rdt.schemata[0], "L2:0=f");
	assert_true(l->intel_rdt.enable_monitoring);
	assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
	assert_true(l->resources.memory.limit.set);
	assert_int_equal(l->resources.memory.limit.v, -1);
	assert_true(l->resources.memory.has_disable_oom_killer);
	assert_false(l->resources.memory.has_use_hierarchy);
	assert_int_equal(l->resources.cpu.quota.v, -1);
	assert_string_equal(l->resources.cpu.cpus, "0-1");
	assert_int_equal(l->resources.pids_limit.v, -1);
	assert_string_equal(l->resources.unified[0].value, "max");
	assert_int_equal(l->resources.blkio.throttle_read_bps[0].rate, 600);
	assert_true(l->resources.has_network);
	assert_int_equal(l->resources.net_class_id.v, 1048577);
	assert_string_equal(l->resources.net_priorities[0].name, "eth0");
	assert_int_equal(l->seccomp.default_action, OCI_SCMP_ACT_ERRNO);
	assert_int_equal(l->seccomp.default_errno_ret.v, 1);
	assert_int_equal(l->seccomp.syscalls[0].action, OCI_SCMP_ACT_NOTIFY);
	assert_int_equal(l->seccomp.syscalls[0].args[0].index, 5);
	assert_int_equal(l->seccomp.syscalls[0].args[0].value, UINT64_MAX);
	assert_int_equal(l->seccomp.syscalls[0].args[0].op, OCI_SCMP_CMP_MASKED_EQ);
	assert_string_equal(l->rootfs_propagation, "rprivate");
	oci_config_free(cfg);
}

static void test_process_parse(void **state)
{
	static const char doc[] = "{\"args\":[\"ls\",\"-l\"],\"cwd\":\"/tmp\",\"env\":[\"X=y\"],"
				  "\"user\":{\"uid\":5,\"gid\":6},\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\"]}}";
	struct hull_err err = { 0 };
	struct oci_process *p;

	assert_int_equal(oci_process_parse(doc, strlen(doc), "process.json", &p, &err), 0);
	assert_int_equal(p->n_args, 2);
	assert_string_equal(p->args[1], "-l");
	assert_null(p->args[2]);
	assert_int_equal(p->user.uid, 5);
	assert_int_equal(p->caps.bounding, 1ull << 21);
	oci_process_free(p);

	static const char bad[] = "{\"args\":[\"ls\"],\"cwd\":\"tmp\"}";
	assert_int_equal(oci_process_parse(bad, strlen(bad), "proc.json", &p, &err), -22);
	assert_null(p);
	assert_string_equal(err.msg, "proc.json: .cwd: must be an absolute path, got \"tmp\"");

	static const char noargs[] = "{\"cwd\":\"/\"}";
	assert_int_equal(oci_process_parse(noargs, strlen(noargs), "proc.json", &p, &err), -22);
	assert_string_equal(err.msg, "proc.json: .args: must be a non-empty array");

	static const char arr[] = "[]";
	assert_int_equal(oci_process_parse(arr, strlen(arr), "proc.json", &p, &err), -22);
	assert_string_equal(err.msg, "proc.json: top level must be a JSON object");
}

static void test_load_missing_file(void **state)
{
	struct hull_err err = { 0 };
	struct oci_config *cfg;
	int r = oci_config_load("/nonexistent-hull-dir/config.json", &cfg, &err);
	assert_int_equal(r, -2);
	assert_null(cfg);
	assert_non_null(strstr(err.msg, "/nonexistent-hull-dir/config.json"));
}

static void test_not_nul_terminated(void **state)
{
	/* parse takes a length: bytes after it must not be read */
	static const char doc[] = "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}}GARBAGE";
	struct hull_err err = { 0 };
	struct oci_config *cfg;
	assert_int_equal(oci_config_parse(doc, strlen(doc) - 7, "c.json", &cfg, &err), 0);
	oci_config_free(cfg);
	assert_int_equal(oci_config_parse(doc, strlen(doc), "c.json", &cfg, &err), -22);
	assert_non_null(strstr(err.msg, "c.json: invalid JSON: "));
}

static void test_embedded_nul(void **state)
{
	static const char doc[] = "{\"ociVersion\":\"1.0.0\",\0\"root\":{\"path\":\"r\"}}";
	struct hull_err err = { 0 };
	struct oci_config *cfg;
	assert_int_equal(oci_config_parse(doc, sizeof(doc) - 1, "c.json", &cfg, &err), -22);
	assert_string_equal(err.msg, "c.json: invalid JSON: contains a NUL byte");
}

static void test_deep_nesting(void **state)
{
	size_t depth = 100000, n = 0;
	char *doc = malloc(2 * depth + 64);
	struct hull_err err = { 0 };
	struct oci_config *cfg;

	n += (size_t)sprintf(doc, "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"x\":");
	memset(doc + n, '[', depth);
	memset(doc + n + depth, ']', depth);
	n += 2 * depth;
	doc[n++] = '}';
	assert_int_equal(oci_config_parse(doc, n, "c.json", &cfg, &err), -22);
	assert_string_equal(err.msg, "c.json: invalid JSON: nested deeper than 64 levels");
	/* brackets inside strings do not count */
	n = (size_t)sprintf(doc, "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"x\":\"");
	memset(doc + n, '[', 200);
	n += 200;
	n += (size_t)sprintf(doc + n, "\\\"\"}");
	assert_int_equal(oci_config_parse(doc, n, "c.json", &cfg, &err), 0);
	oci_config_free(cfg);
	free(doc);
}

static void test_ns_type_name(void **state)
{
	assert_string_equal(oci_ns_type_name(OCI_NS_NETWORK), "network");
	assert_string_equal(oci_ns_type_name(OCI_NS_MOUNT), "mount");
	assert_string_equal(oci_ns_type_name(OCI_NS_TIME), "time");
	assert_string_equal(oci_ns_type_name(OCI_NS__COUNT), "unknown");
}

static void test_null_is_absent(void **state)
{
	struct oci_config *cfg = parse_ok("{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"r\",\"readonly\":null},"
					  "\"hostname\":null,\"process\":null,\"linux\":{\"seccomp\":null}}");
	assert_null(cfg->hostname);
	assert_false(cfg->has_process);
	assert_true(cfg->has_linux);
	assert_false(cfg->linux_.seccomp.present);
	oci_config_free(cfg);
}

/* Duplicate names: found in big objects too (the sorted path), at any depth,
 * while equal names in different objects are fine. */
static void test_duplicate_names(void **state)
{
	char doc[4096];
	size_t n;
	struct hull_err err = { 0 };
	struct oci_config *cfg;
	struct oci_process *p;

	n = (size_t)snprintf(doc, sizeof(doc), "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"annotations\":{");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"k%02d\":\"v\"", i ? "," : "", i);
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "}}");
	cfg = parse_ok(doc);
	assert_int_equal(cfg->n_annotations, 40);
	oci_config_free(cfg);

	doc[n - 2] = '\0';
	n += (size_t)snprintf(doc + n - 2, sizeof(doc) - n, ",\"k17\":\"w\"}}") - 2;
	assert_int_equal(oci_config_parse(doc, n, "config.json", &cfg, &err), -22);
	assert_null(cfg);
	assert_string_equal(err.msg, "config.json: .annotations: duplicate name \"k17\" in an object");

	cfg = parse_ok("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"namespaces\":"
		       "[{\"type\":\"pid\"},{\"type\":\"mount\"}],\"resources\":{\"pids\":{\"limit\":1}},"
		       "\"x\":{\"resources\":{\"pids\":{}}}}}");
	oci_config_free(cfg);

	static const char proc[] = "{\"args\":[\"ls\"],\"cwd\":\"/\",\"env\":[],\"env\":[\"A=b\"]}";
	assert_int_equal(oci_process_parse(proc, strlen(proc), "process.json", &p, &err), -22);
	assert_null(p);
	assert_string_equal(err.msg, "process.json: duplicate name \"env\" in an object");
}

/* ---- error paths: exact messages --------------------------------------- */

#define DOC(extra) "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}" extra "}"
/* extra must not repeat cwd or args: duplicate names are an error of their own */
#define PROC(extra) DOC(",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"]" extra "}")
#define LINUX(body) DOC(",\"linux\":{" body "}")

static const struct {
	const char *json;
	const char *msg;
} error_cases[] = {
	{ "[1]", "config.json: top level must be a JSON object" },
	{ "{\"root\":{\"path\":\"r\"}}", "config.json: .ociVersion: is required" },
	{ "{\"ociVersion\":1,\"root\":{\"path\":\"r\"}}", "config.json: .ociVersion: must be a string" },
	{ "{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}",
	  "config.json: .ociVersion: unsupported version \"2.0.0\" (want 1.x.y)" },
	{ "{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"r\"}}",
	  "config.json: .ociVersion: unsupported version \"1.0\" (want 1.x.y)" },
	{ "{\"ociVersion\":\"1.0.0\"}", "config.json: .root: is required" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{}}", "config.json: .root.path: is required" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"\"}}", "config.json: .root.path: must not be empty" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\",\"readonly\":\"yes\"}}",
	  "config.json: .root.readonly: must be a boolean" },
	{ DOC(",\"process\":{\"cwd\":\"/\"}"), "config.json: .process.args: must be a non-empty array" },
	{ DOC(",\"process\":{\"cwd\":\"/\",\"args\":[]}"), "config.json: .process.args: must be a non-empty array" },
	{ DOC(",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\",3]}"), "config.json: .process.args[1]: must be a string" },
	{ DOC(",\"process\":{\"cwd\":\"/\",\"args\":\"sh\"}"), "config.json: .process.args: must be an array of strings" },
	{ DOC(",\"process\":{\"args\":[\"sh\"]}"), "config.json: .process.cwd: is required" },
	{ DOC(",\"process\":{\"args\":[\"sh\"],\"cwd\":\"relative/dir\"}"),
	  "config.json: .process.cwd: must be an absolute path, got \"relative/dir\"" },
	{ PROC(",\"env\":[\"PATH=/bin\",\"NOEQUALS\"]"),
	  "config.json: .process.env[1]: must have the form NAME=VALUE, got \"NOEQUALS\"" },
	{ PROC(",\"user\":{\"uid\":-1}"), "config.json: .process.user.uid: must be an integer in [0, 4294967295]" },
	{ PROC(",\"user\":{\"gid\":4294967296}"),
	  "config.json: .process.user.gid: must be an integer in [0, 4294967295]" },
	{ PROC(",\"user\":{\"uid\":1.5}"), "config.json: .process.user.uid: must be an integer in [0, 4294967295]" },
	{ PROC(",\"user\":{\"additionalGids\":[1,\"2\"]}"),
	  "config.json: .process.user.additionalGids[1]: must be an integer in [0, 4294967295]" },
	{ PROC(",\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_FLY\"]}"),
	  "config.json: .process.capabilities.bounding[1]: unknown capability \"CAP_FLY\"" },
	{ PROC(",\"capabilities\":{\"effective\":[\"kill\"]}"),
	  "config.json: .process.capabilities.effective[0]: unknown capability \"kill\"" },
	{ PROC(",\"capabilities\":{\"ambient\":[\"CAP_12\"]}"),
	  "config.json: .process.capabilities.ambient[0]: unknown capability \"CAP_12\"" },
	{ PROC(",\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]"),
	  "config.json: .process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"" },
	{ PROC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1}]"),
	  "config.json: .process.rlimits[0].hard: is required" },
	{ PROC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":-1,\"hard\":1}]"),
	  "config.json: .process.rlimits[0].soft: must be an integer in [0, 18446744073709551615]" },
	{ PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CPU\",\"soft\":1,\"hard\":2},{\"type\":\"RLIMIT_CPU\",\"soft\":1,\"hard\":2}]"),
	  "config.json: .process.rlimits[1].type: duplicate rlimit \"RLIMIT_CPU\"" },
	{ PROC(",\"scheduler\":{\"policy\":\"SCHED_FAST\"}"),
	  "config.json: .process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\"" },
	{ PROC(",\"scheduler\":{}"), "config.json: .process.scheduler.policy: is required" },
	{ PROC(",\"scheduler\":{\"policy\":\"SCHED_RR\",\"flags\":[\"SCHED_FLAG_X\"]}"),
	  "config.json: .process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_X\"" },
	{ PROC(",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_RT\",\"priority\":8}"),
	  "config.json: .process.ioPriority.priority: must be an integer in [0, 7]" },
	{ PROC(",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_NONE\"}"),
	  "config.json: .process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\"" },
	{ PROC(",\"execCPUAffinity\":{\"initial\":\"0-3;5\"}"),
	  "config.json: .process.execCPUAffinity.initial: invalid CPU list \"0-3;5\"" },
	{ PROC(",\"consoleSize\":{\"height\":10}"), "config.json: .process.consoleSize.width: is required" },
	{ PROC(",\"oomScoreAdj\":\"high\""),
	  "config.json: .process.oomScoreAdj: must be an integer in [-2147483648, 2147483647]" },
	{ DOC(",\"mounts\":[{\"destination\":\"/a\"},{\"type\":\"tmpfs\"}]"),
	  "config.json: .mounts[1].destination: is required" },
	{ DOC(",\"mounts\":{}"), "config.json: .mounts: must be an array" },
	{ DOC(",\"mounts\":[{\"destination\":\"/a\",\"uidMappings\":[{\"containerID\":0,\"hostID\":1}]}]"),
	  "config.json: .mounts[0].uidMappings[0].size: is required" },
	{ DOC(",\"hooks\":{\"prestart\":[{\"path\":\"hook.sh\"}]}"),
	  "config.json: .hooks.prestart[0].path: must be an absolute path, got \"hook.sh\"" },
	{ DOC(",\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"timeout\":0}]}"),
	  "config.json: .hooks.poststop[0].timeout: must be an integer in [1, 9223372036854775807]" },
	{ DOC(",\"hooks\":{\"createRuntime\":[{\"args\":[]}]}"), "config.json: .hooks.createRuntime[0].path: is required" },
	{ DOC(",\"annotations\":{\"com.example.key\":1}"),
	  "config.json: .annotations[\"com.example.key\"]: must be a string" },
	{ LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"foo\"}]"),
	  "config.json: .linux.namespaces[2].type: unknown namespace type \"foo\"" },
	{ LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]"),
	  "config.json: .linux.namespaces[1].type: duplicate namespace type \"pid\"" },
	{ LINUX("\"namespaces\":[{\"type\":\"network\",\"path\":\"proc/1/ns/net\"}]"),
	  "config.json: .linux.namespaces[0].path: must be an absolute path, got \"proc/1/ns/net\"" },
	{ LINUX("\"namespaces\":[{}]"), "config.json: .linux.namespaces[0].type: is required" },
	{ LINUX("\"uidMappings\":[{\"containerID\":0,\"hostID\":4294967295,\"size\":2}]"),
	  "config.json: .linux.uidMappings[0]: range exceeds the 32-bit ID space" },
	{ LINUX("\"gidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":-1}]"),
	  "config.json: .linux.gidMappings[0].size: must be an integer in [0, 4294967295]" },
	{ LINUX("\"devices\":[{\"type\":\"x\",\"path\":\"/dev/x\"}]"),
	  "config.json: .linux.devices[0].type: must be one of c, b, u, p; got \"x\"" },
	{ LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"minor\":1}]"),
	  "config.json: .linux.devices[0].major: is required for c, b and u devices" },
	{ LINUX("\"devices\":[{\"type\":\"p\",\"path\":\"dev/fifo\"}]"),
	  "config.json: .linux.devices[0].path: must be an absolute path, got \"dev/fifo\"" },
	{ LINUX("\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}"),
	  "config.json: .linux.resources.devices[0].access: must be a combination of r, w, m; got \"rwx\"" },
	{ LINUX("\"resources\":{\"devices\":[{\"access\":\"r\"}]}"),
	  "config.json: .linux.resources.devices[0].allow: is required" },
	{ LINUX("\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"u\"}]}"),
	  "config.json: .linux.resources.devices[0].type: must be one of a, c, b; got \"u\"" },
	{ LINUX("\"resources\":{\"memory\":{\"swappiness\":101}}"),
	  "config.json: .linux.resources.memory.swappiness: must be an integer in [0, 100]" },
	{ LINUX("\"resources\":{\"memory\":{\"limit\":9223372036854775808}}"),
	  "config.json: .linux.resources.memory.limit: must be an integer in [-9223372036854775808, 9223372036854775807]" },
	{ LINUX("\"resources\":{\"blockIO\":{\"weight\":65536}}"),
	  "config.json: .linux.resources.blockIO.weight: must be an integer in [0, 65535]" },
	{ LINUX("\"resources\":{\"blockIO\":{\"weightDevice\":[{\"minor\":0}]}}"),
	  "config.json: .linux.resources.blockIO.weightDevice[0].major: is required" },
	{ LINUX("\"resources\":{\"network\":{\"priorities\":[{\"name\":\"eth0\"}]}}"),
	  "config.json: .linux.resources.network.priorities[0].priority: is required" },
	{ LINUX("\"resources\":{\"unified\":{\"\":\"x\"}}"), "config.json: .linux.resources.unified[\"\"]: empty key" },
	{ LINUX("\"seccomp\":{}"), "config.json: .linux.seccomp.defaultAction: is required" },
	{ LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_EXPLODE\"}"),
	  "config.json: .linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_EXPLODE\"" },
	{ LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1}"),
	  "config.json: .linux.seccomp.defaultErrnoRet: is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE" },
	{ LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_Z80\"]}"),
	  "config.json: .linux.seccomp.architectures[0]: unknown seccomp architecture \"SCMP_ARCH_Z80\"" },
	{ LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_X\"]}"),
	  "config.json: .linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_X\"" },
	{ LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ERRNO\"}]}"),
	  "config.json: .linux.seccomp.syscalls[0].names: must be a non-empty array" },
	{ LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]}"),
	  "config.json: .linux.seccomp.syscalls[0].names: is required" },
	{ LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
		"\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_ALMOST\"}]}]}"),
	  "config.json: .linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_ALMOST\"" },
	{ LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
		"\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}"),
	  "config.json: .linux.seccomp.syscalls[0].args[0].index: must be in [0, 5]" },
	{ LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
		"\"action\":\"SCMP_ACT_KILL\",\"errnoRet\":5}]}"),
	  "config.json: .linux.seccomp.syscalls[0].errnoRet: is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE" },
	{ LINUX("\"rootfsPropagation\":\"everywhere\""),
	  "config.json: .linux.rootfsPropagation: unknown propagation \"everywhere\"" },
	{ LINUX("\"maskedPaths\":[\"/proc/kcore\",\"proc/keys\"]"),
	  "config.json: .linux.maskedPaths[1]: must be an absolute path, got \"proc/keys\"" },
	{ LINUX("\"readonlyPaths\":[\"sys\"]"), "config.json: .linux.readonlyPaths[0]: must be an absolute path, got \"sys\"" },
	{ LINUX("\"personality\":{\"domain\":\"LINUX64\"}"),
	  "config.json: .linux.personality.domain: unknown personality domain \"LINUX64\"" },
	{ LINUX("\"timeOffsets\":{\"boottime\":{\"nanosecs\":1000000000}}"),
	  "config.json: .linux.timeOffsets.boottime.nanosecs: must be below 1000000000" },
	{ LINUX("\"netDevices\":{\"eth/0\":{}}"), "config.json: .linux.netDevices[\"eth/0\"]: invalid network device name \"eth/0\"" },
	{ LINUX("\"netDevices\":{\"eth0\":{\"name\":\"averyveryverylongname\"}}"),
	  "config.json: .linux.netDevices.eth0.name: invalid network device name \"averyveryverylongname\"" },
	/* glossary.md: JSON objects MUST NOT include duplicate names */
	{ "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},\"ociVersion\":\"1.0.0\"}",
	  "config.json: duplicate name \"ociVersion\" in an object" },
	{ PROC(",\"user\":{\"uid\":1,\"gid\":2,\"uid\":0}"),
	  "config.json: .process.user: duplicate name \"uid\" in an object" },
	{ LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"type\":\"pid\"}]"),
	  "config.json: .linux.namespaces[1]: duplicate name \"type\" in an object" },
	{ DOC(",\"annotations\":{\"a\":\"1\",\"a\":\"1\"}"),
	  "config.json: .annotations: duplicate name \"a\" in an object" },
	/* REQUIRED members and the spec's "at least one of" rules */
	{ PROC(",\"user\":{\"gid\":0}"), "config.json: .process.user.uid: is required" },
	{ PROC(",\"user\":{\"uid\":0,\"additionalGids\":[1]}"), "config.json: .process.user.gid: is required" },
	{ PROC(",\"user\":{\"uid\":0,\"gid\":null}"), "config.json: .process.user.gid: is required" },
	{ PROC(",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\"}"),
	  "config.json: .process.ioPriority.priority: is required" },
	{ LINUX("\"personality\":{\"flags\":[]}"), "config.json: .linux.personality.domain: is required" },
	{ LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"m\"}"),
	  "config.json: .linux.seccomp.listenerMetadata: must not be set without listenerPath" },
	{ LINUX("\"resources\":{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":5},{\"major\":8,\"minor\":16}]}}"),
	  "config.json: .linux.resources.blockIO.weightDevice[1]: needs weight or leafWeight (at least one)" },
	{ LINUX("\"resources\":{\"rdma\":{\"mlx5_1\":{}}}"),
	  "config.json: .linux.resources.rdma.mlx5_1: needs hcaHandles or hcaObjects (at least one)" },
	{ LINUX("\"intelRdt\":{\"memBwSchema\":\"L3:0=ff\"}"),
	  "config.json: .linux.intelRdt.memBwSchema: must start with \"MB:\" and hold no newline, got \"L3:0=ff\"" },
	{ LINUX("\"intelRdt\":{\"memBwSchema\":\"MB:0=10\\nL3:0=ff\"}"),
	  "config.json: .linux.intelRdt.memBwSchema: must start with \"MB:\" and hold no newline, got \"MB:0=10\\x0aL3:0=ff\"" },
	{ LINUX("\"intelRdt\":{\"schemata\":[\"L3:0=ff\",\"L3:0=ff\\nMB:0=10\"]}"),
	  "config.json: .linux.intelRdt.schemata[1]: must not contain a newline, got \"L3:0=ff\\x0aMB:0=10\"" },
	{ LINUX("\"intelRdt\":{\"l3CacheSchema\":\"L3:0=f\\n\"}"),
	  "config.json: .linux.intelRdt.l3CacheSchema: must not contain a newline, got \"L3:0=f\\x0a\"" },
	{ LINUX("\"intelRdt\":{\"closID\":\"../info\"}"),
	  "config.json: .linux.intelRdt.closID: must be \"/\" or one directory name, got \"../info\"" },
	{ LINUX("\"intelRdt\":{\"closID\":\"..\"}"),
	  "config.json: .linux.intelRdt.closID: must be \"/\" or one directory name, got \"..\"" },
	{ LINUX("\"intelRdt\":{\"enableMonitoring\":1}"),
	  "config.json: .linux.intelRdt.enableMonitoring: must be a boolean" },
	{ LINUX("\"memoryPolicy\":{\"mode\":\"MPOL_RANDOM\"}"),
	  "config.json: .linux.memoryPolicy.mode: unknown memory policy mode \"MPOL_RANDOM\"" },
	{ LINUX("\"sysctl\":[]"), "config.json: .linux.sysctl: must be an object with string values" },
	{ DOC(",\"linux\":[]"), "config.json: .linux: must be an object" },
	{ LINUX("\"namespaces\":[{\"type\":\"a\\u0001\\\"b\"}]"),
	  "config.json: .linux.namespaces[0].type: unknown namespace type \"a\\x01\\\"b\"" },
};

/* One cmocka test per table row, named by the message it expects. */
static void test_error_case(void **state)
{
	const size_t *i = *state;
	expect_error(error_cases[*i].json, error_cases[*i].msg);
}

static void test_long_value_is_shortened(void **state)
{
	char doc[4096];
	char name[1500];
	struct hull_err err = { 0 };
	struct oci_config *cfg;

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(doc, sizeof(doc), LINUX("\"namespaces\":[{\"type\":\"%s\"}]"), name);
	assert_int_equal(oci_config_parse(doc, strlen(doc), "config.json", &cfg, &err), -22);
	assert_true(strlen(err.msg) < 200);
	assert_non_null(strstr(err.msg, "...\""));
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_spec_good_minimal),
		cmocka_unit_test(test_spec_good_minimal_for_start),
		cmocka_unit_test(test_spec_good_netdevice),
		cmocka_unit_test(test_spec_good_rdma),
		cmocka_unit_test(test_spec_good_example),
		cmocka_unit_test(test_spec_dir_good),
		cmocka_unit_test(test_spec_dir_bad),
		cmocka_unit_test(test_spec_bad_invalid_json),
		cmocka_unit_test(test_spec_bad_hugepage),
		cmocka_unit_test(test_spec_bad_netdevice),
		cmocka_unit_test(test_spec_bad_rdma),
		cmocka_unit_test(test_runc_spec),
		cmocka_unit_test(test_runc_spec_rootless),
		cmocka_unit_test(test_crun_spec),
		cmocka_unit_test(test_crun_spec_rootless),
		cmocka_unit_test(test_podman_config),
		cmocka_unit_test(test_full_document),
		cmocka_unit_test(test_process_parse),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_ns_type_name),
		cmocka_unit_test(test_null_is_absent),
		cmocka_unit_test(test_duplicate_names),
		cmocka_unit_test(test_long_value_is_shortened),
	};
	const size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]);
	const size_t n_errors = sizeof(error_cases) / sizeof(error_cases[0]);
	struct CMUnitTest *tests = calloc(n_fixed + n_errors, sizeof(*tests));
	size_t *index = calloc(n_errors, sizeof(*index));
	int failed;

	if (!tests || !index)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < n_errors; i++) {
		index[i] = i;
		tests[n_fixed + i] = (struct CMUnitTest){ .name = error_cases[i].msg,
							  .test_func = test_error_case,
							  .initial_state = &index[i] };
	}
	failed = _cmocka_run_group_tests("test_oci_config", tests, n_fixed + n_errors, NULL, NULL);
	free(tests);
	free(index);
	return failed;
}
