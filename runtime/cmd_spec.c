/* spec — write a default config.json (runc's defaults) into the bundle. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "runtime/cli.h"

#define SPEC_USAGE "hull spec [-b BUNDLE] [--rootless]"

static const char spec_head[] =
	"{\n"
	"  \"ociVersion\": \"1.2.0\",\n"
	"  \"process\": {\n"
	"    \"terminal\": true,\n"
	"    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
	"    \"args\": [ \"sh\" ],\n"
	"    \"env\": [\n"
	"      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
	"      \"TERM=xterm\"\n"
	"    ],\n"
	"    \"cwd\": \"/\",\n"
	"    \"capabilities\": {\n"
	"      \"bounding\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
	"      \"effective\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
	"      \"permitted\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
	"      \"ambient\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ]\n"
	"    },\n"
	"    \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } ],\n"
	"    \"noNewPrivileges\": true\n"
	"  },\n"
	"  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
	"  \"hostname\": \"hull\",\n"
	"  \"mounts\": [\n"
	"    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
	"    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
	"      \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n";

static const char spec_devpts[] =
	"    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\" ] },\n";
static const char spec_devpts_rootless[] =
	"    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\" ] },\n";

static const char spec_mid[] =
	"    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },\n"
	"    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },\n";

static const char spec_sys[] =
	"    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] },\n"
	"    { \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\" ] }\n"
	"  ],\n";
static const char spec_sys_rootless[] =
	"    { \"destination\": \"/sys\", \"type\": \"none\", \"source\": \"/sys\",\n"
	"      \"options\": [ \"rbind\", \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] }\n"
	"  ],\n";

static const char spec_linux[] =
	"    \"maskedPaths\": [\n"
	"      \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\",\n"
	"      \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\",\n"
	"      \"/proc/scsi\"\n"
	"    ],\n"
	"    \"readonlyPaths\": [\n"
	"      \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"\n"
	"    ]\n"
	"  }\n"
	"}\n";

static int cmd_spec(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ 0 }
	};
	const char *bundle = ".";
	bool rootless = false;
	char path[PATH_MAX], ids[256];
	_cleanup_free_ char *text = NULL;
	int opt, fd, r;

	if (cli_wants_help(argc, argv, SPEC_USAGE))
		return 0;
	cli_getopt_reset();
	while ((opt = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
		if (opt == 'b')
			bundle = optarg;
		else if (opt == 'r')
			rootless = true;
		else
			return cli_usage(err, SPEC_USAGE, "unknown option `%s`", argv[optind - 1]);
	}
	if (optind != argc)
		return cli_usage(err, SPEC_USAGE, "too many arguments");
	if (rootless)
		snprintf(ids, sizeof(ids),
			 "    \"uidMappings\": [ { \"containerID\": 0, \"hostID\": %u, \"size\": 1 } ],\n"
			 "    \"gidMappings\": [ { \"containerID\": 0, \"hostID\": %u, \"size\": 1 } ],\n",
			 (unsigned)geteuid(), (unsigned)getegid());
	r = asprintf(&text, "%s%s%s%s  \"linux\": {\n%s%s%s", spec_head, rootless ? spec_devpts_rootless : spec_devpts,
		     spec_mid, rootless ? spec_sys_rootless : spec_sys,
		     rootless ? ids : "    \"resources\": { \"devices\": [ { \"allow\": false, \"access\": \"rwm\" } ] },\n",
		     rootless ? "    \"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"ipc\" }, { \"type\": \"uts\" },"
				" { \"type\": \"mount\" }, { \"type\": \"cgroup\" }, { \"type\": \"user\" } ],\n"
			      : "    \"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": \"ipc\" },"
				" { \"type\": \"uts\" }, { \"type\": \"mount\" }, { \"type\": \"cgroup\" } ],\n",
		     spec_linux);
	if (r < 0)
		return hull_errf_sys(err, ENOMEM, "spec"), 1;
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			hull_errf(err, EEXIST, "`%s` already exists (remove it first)", path);
		else
			hull_errf_sys(err, errno, "create `%s`", path);
		return 1;
	}
	r = hull_write_all(fd, text, strlen(text));
	close(fd);
	if (r < 0) {
		unlink(path);
		hull_errf_sys(err, -r, "write `%s`", path);
		return 1;
	}
	return 0;
}

HULL_COMMAND(spec, "write a default config.json into the bundle (--rootless: for a user namespace)", cmd_spec);
