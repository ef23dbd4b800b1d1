#include "oci/features.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>
#include <sys/capability.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "oci/config.h"
#include "oci/config_internal.h"

#ifndef HULL_VERSION
#define HULL_VERSION "unknown"
#endif

/* What rootfs/mountopt.c turns into mount flags, propagation, mount_setattr
 * attributes or hull's own handling (bind, idmap, tmpcopyup); anything else
 * is passed to the filesystem as data.  tests/unit/test_oci_features.c checks
 * this list against mountopt_parse(). */
static const char *const mount_options[] = {
	"async",	"atime",	"bind",		"defaults",	 "dev",		   "diratime",
	"dirsync",	"exec",		"idmap",	"iversion",	 "lazytime",	   "loud",
	"mand",		"noatime",	"nodev",	"nodiratime",	 "noexec",	   "noiversion",
	"nolazytime",	"nomand",	"norelatime",	"nostrictatime", "nosuid",	   "nosymfollow",
	"private",	"ratime",	"rbind",	"rdev",		 "rdiratime",	   "relatime",
	"remount",	"rexec",	"ridmap",	"rnoatime",	 "rnodev",	   "rnodiratime",
	"rnoexec",	"rnorelatime",	"rnostrictatime", "rnosuid",	 "rnosymfollow",   "ro",
	"rprivate",	"rrelatime",	"rro",		"rrw",		 "rshared",	   "rslave",
	"rstrictatime", "rsuid",	"rsymfollow",	"runbindable",	 "rw",		   "shared",
	"silent",	"slave",	"strictatime",	"suid",		 "symfollow",	   "sync",
	"tmpcopyup",	"unbindable",
};

static const char *const hooks[] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_names(struct hull_json *j, const char *key, const struct oci_name_value *t, size_t n)
{
	hull_json_key(j, key);
	hull_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		hull_json_string(j, t[i].name);
	hull_json_end_array(j);
}

static void write_namespaces(struct hull_json *j)
{
	const char *names[OCI_NS__COUNT];

	for (int t = 0; t < OCI_NS__COUNT; t++)
		names[t] = oci_ns_type_name((enum oci_ns_type)t);
	qsort(names, OCI_NS__COUNT, sizeof(names[0]), cmp_str);
	hull_json_kv_strings(j, "namespaces", names, OCI_NS__COUNT);
}

/* Every capability libcap knows by name, in number order; cap_to_name()
 * falls back to the number for ones it does not know, which ends the list. */
static void write_capabilities(struct hull_json *j)
{
	hull_json_key(j, "capabilities");
	hull_json_begin_array(j);
	for (cap_value_t c = 0; c < 64; c++) {
		char *name = cap_to_name(c);
		char upper[64];
		size_t i;

		if (!name)
			break;
		if (isdigit((unsigned char)name[0])) {
			cap_free(name);
			break;
		}
		for (i = 0; name[i] && i < sizeof(upper) - 1; i++)
			upper[i] = (char)toupper((unsigned char)name[i]);
		upper[i] = '\0';
		cap_free(name);
		hull_json_string(j, upper);
	}
	hull_json_end_array(j);
}

static void write_seccomp(struct hull_json *j)
{
	hull_json_key(j, "seccomp");
	hull_json_begin_map(j);
	hull_json_kv_bool(j, "enabled", true);
	write_names(j, "actions", oci_seccomp_actions, oci_n_seccomp_actions);
	write_names(j, "operators", oci_seccomp_ops, oci_n_seccomp_ops);
	hull_json_key(j, "archs");
	hull_json_begin_array(j);
	for (size_t i = 0; i < oci_n_seccomp_archs; i++) {
		char lower[32];
		const char *s = oci_seccomp_archs[i] + strlen("SCMP_ARCH_");
		size_t k;

		for (k = 0; s[k] && k < sizeof(lower) - 1; k++)
			lower[k] = (char)tolower((unsigned char)s[k]);
		lower[k] = '\0';
		if (seccomp_arch_resolve_name(lower))
			hull_json_string(j, oci_seccomp_archs[i]);
	}
	hull_json_end_array(j);
	hull_json_kv_strings(j, "knownFlags", oci_seccomp_flags, oci_n_seccomp_flags);
	/* runtime/seccomp.c loads the filter with seccomp(2) itself and passes
	 * every known flag through (the kernel has the last word). */
	hull_json_kv_strings(j, "supportedFlags", oci_seccomp_flags, oci_n_seccomp_flags);
	hull_json_end_map(j);
}

static void write_enabled(struct hull_json *j, const char *key, bool enabled)
{
	hull_json_key(j, key);
	hull_json_begin_map(j);
	hull_json_kv_bool(j, "enabled", enabled);
	hull_json_end_map(j);
}

static void write_linux(struct hull_json *j)
{
	hull_json_key(j, "linux");
	hull_json_begin_map(j);
	write_namespaces(j);
	write_capabilities(j);

	hull_json_key(j, "cgroup");
	hull_json_begin_map(j);
	hull_json_kv_bool(j, "v1", true);
	hull_json_kv_bool(j, "v2", true);
	hull_json_kv_bool(j, "systemd", false);
	hull_json_kv_bool(j, "systemdUser", false);
	hull_json_kv_bool(j, "rdma", true);
	hull_json_end_map(j);

	write_seccomp(j);
	write_enabled(j, "apparmor", true);
	write_enabled(j, "selinux", true);
	write_enabled(j, "intelRdt", false);

	hull_json_key(j, "mountExtensions");
	hull_json_begin_map(j);
	write_enabled(j, "idmap", true);
	hull_json_end_map(j);

	write_enabled(j, "netDevices", true);

	hull_json_key(j, "memoryPolicy");
	hull_json_begin_map(j);
	write_names(j, "modes", oci_mpol_modes, oci_n_mpol_modes);
	hull_json_kv_strings(j, "flags", oci_mpol_flags, oci_n_mpol_flags);
	hull_json_end_map(j);
	hull_json_end_map(j);
}

int oci_features_json(char **out, struct hull_err *err)
{
	const struct scmp_version *sv = seccomp_version();
	const char *unsafe[] = { "org.hull." };
	struct hull_json *j = hull_json_new(true);
	char seccomp_ver[48] = "unknown";

	if (sv)
		snprintf(seccomp_ver, sizeof(seccomp_ver), "%u.%u.%u", sv->major, sv->minor, sv->micro);

	hull_json_begin_map(j);
	hull_json_kv_string(j, "ociVersionMin", OCI_FEATURES_VERSION_MIN);
	hull_json_kv_string(j, "ociVersionMax", OCI_FEATURES_VERSION_MAX);
	hull_json_kv_strings(j, "hooks", hooks, ARRAY_SIZE(hooks));
	hull_json_kv_strings(j, "mountOptions", mount_options, ARRAY_SIZE(mount_options));
	write_linux(j);

	hull_json_key(j, "annotations");
	hull_json_begin_map(j);
	hull_json_kv_string(j, "io.github.seccomp.libseccomp.version", seccomp_ver);
	hull_json_kv_string(j, "org.hull.version", HULL_VERSION);
	/* values `org.hull.isolation` takes in config.json annotations */
	hull_json_kv_string(j, "org.hull.isolation", "container|vm");
	hull_json_end_map(j);
	hull_json_kv_strings(j, "potentiallyUnsafeConfigAnnotations", unsafe, ARRAY_SIZE(unsafe));
	hull_json_end_map(j);
	return hull_json_finish(j, out, NULL, err);
}
