/* cmd_vm.c — `hull vm boot`: boot a kernel in hull's microVM, for debugging
 * and for boot-time tests.
 *
 *   hull vm boot --kernel K [--initrd I] [--cmdline S] [--memory MiB] [--cpus N]
 *                [--disk FILE[:ro]]... [--vsock DIR] [--net TAP] [--console]
 *                [--timeout SEC] [--no-seccomp]
 *
 * The exit status says how the guest ended:
 *   0  the guest powered off or rebooted (i8042/0xcf9 reset, or a triple
 *      fault: hull boots Linux with reboot=t, so `reboot -f` ends this way)
 *   1  usage error or VMM failure (message on stderr)
 *   2  the guest crashed (KVM internal error, failed VM entry, unhandled exit)
 *   3  --timeout elapsed
 * One summary line goes to stderr:
 *   hull vm: exit=<reason> run_ms=<n> boot_timer_ms=<n|-> (<detail>)
 *
 *   hull vm echo SOCKET [COUNT]
 * listens on the UNIX socket SOCKET (e.g. DIR/vsock_1234, where a guest
 * connecting to host port 1234 lands) and echoes each connection back until
 * its peer closes; exits after COUNT connections (default 1).  It is the host
 * end for vsock debugging and tests, which have no socat in the test host.
 *
 *   hull vm connect SOCKET PORT
 * connects to a VM's vsock listener (DIR/vsock), asks for guest port PORT,
 * sends stdin, and copies what the guest answers to stdout.  Exit status 1 if
 * the guest refused (nothing listens on PORT).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"

#include "microvm/microvm.h"
#include "runtime/cli.h"
#include "runtime/command.h"

#define VM_EXIT_OK 0
#define VM_EXIT_FAILURE 1
#define VM_EXIT_CRASH 2
#define VM_EXIT_TIMEOUT 3

static const char boot_usage[] =
	"hull vm boot --kernel K [--initrd I] [--cmdline S] [--memory MiB] [--cpus N] "
	"[--disk FILE[:ro]]... [--vsock DIR] [--net TAP] [--console] [--timeout SEC] [--no-seccomp]";

static int parse_uint(const char *s, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int add_disk(struct hull_vm_config *cfg, char *spec, struct hull_err *err)
{
	size_t len = strlen(spec);
	struct hull_vm_disk *d;

	if (cfg->ndisks == HULL_VM_MAX_DISKS)
		return cli_usage(err, boot_usage, "--disk: at most %d disks", HULL_VM_MAX_DISKS);
	d = &cfg->disks[cfg->ndisks++];
	d->read_only = false;
	if (len > 3 && !strcmp(spec + len - 3, ":ro")) {
		spec[len - 3] = '\0';
		d->read_only = true;
	} else if (len > 3 && !strcmp(spec + len - 3, ":rw")) {
		spec[len - 3] = '\0';
	}
	d->path = spec;
	return 0;
}

static int vm_exit_status(enum hull_vm_exit reason)
{
	switch (reason) {
	case HULL_VM_EXIT_POWEROFF:
	case HULL_VM_EXIT_REBOOT:
	case HULL_VM_EXIT_TRIPLE_FAULT:
		return VM_EXIT_OK;
	case HULL_VM_EXIT_CRASH:
		return VM_EXIT_CRASH;
	case HULL_VM_EXIT_TIMEOUT:
		return VM_EXIT_TIMEOUT;
	case HULL_VM_EXIT_ERROR:
		break;
	}
	return VM_EXIT_FAILURE;
}

static int vm_boot(int argc, char **argv, struct hull_err *err)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'n' },
		{ "disk", required_argument, NULL, 'd' },
		{ "vsock", required_argument, NULL, 'v' },
		{ "net", required_argument, NULL, 't' },
		{ "console", no_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "no-seccomp", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct hull_vm_config cfg = { .tap_fd = -1, .console_fd = STDOUT_FILENO, .seccomp = true };
	struct hull_vm_result res = { 0 };
	struct hull_vm *vm = NULL;
	const char *tap = NULL;
	unsigned timeout_s = 0;
	char boot_ms[32] = "-";
	int opt, status;

	if (cli_wants_help(argc, argv, boot_usage))
		return 0;
	cli_getopt_reset();
	while ((opt = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 'k': cfg.kernel = optarg; break;
		case 'i': cfg.initrd = optarg; break;
		case 'c': cfg.cmdline = optarg; break;
		case 'm':
			if (parse_uint(optarg, 1u << 20, &cfg.mem_mib) < 0)
				return cli_usage(err, boot_usage, "--memory: `%s` is not a size in MiB", optarg);
			break;
		case 'n':
			if (parse_uint(optarg, HULL_VM_MAX_CPUS, &cfg.cpus) < 0 || cfg.cpus == 0)
				return cli_usage(err, boot_usage, "--cpus: `%s` is not a count in 1..%d", optarg, HULL_VM_MAX_CPUS);
			break;
		case 'd':
			if (add_disk(&cfg, optarg, err))
				return 1;
			break;
		case 'v': cfg.vsock_dir = optarg; break;
		case 't': tap = optarg; break;
		case 'C': cfg.console = true; break;
		case 'T':
			if (parse_uint(optarg, 86400, &timeout_s) < 0)
				return cli_usage(err, boot_usage, "--timeout: `%s` is not a number of seconds", optarg);
			cfg.timeout_ms = timeout_s * 1000u;
			break;
		case 'S': cfg.seccomp = false; break;
		default:
			return cli_usage(err, boot_usage, "unknown option `%s`", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage(err, boot_usage, "unexpected argument `%s`", argv[optind]);
	if (!cfg.kernel)
		return cli_usage(err, boot_usage, "--kernel is required");
	if (tap) {
		cfg.tap_fd = hull_vm_open_tap(tap, err);
		if (cfg.tap_fd < 0)
			return 1;
	}
	if (hull_vm_create(&cfg, &vm, err) < 0 || hull_vm_start(vm, err) < 0) {
		hull_vm_destroy(vm);
		if (cfg.tap_fd >= 0)
			close(cfg.tap_fd);
		return 1;
	}
	hull_vm_wait(vm, &res);
	hull_vm_destroy(vm);
	if (cfg.tap_fd >= 0)
		close(cfg.tap_fd);
	if (res.boot_timer_hit)
		snprintf(boot_ms, sizeof(boot_ms), "%.1f", (double)res.boot_timer_ns / 1e6);
	fflush(stdout);
	fprintf(stderr, "hull vm: exit=%s run_ms=%.1f boot_timer_ms=%s (%s)\n", hull_vm_exit_name(res.reason),
	        (double)res.run_ns / 1e6, boot_ms, res.detail);
	status = vm_exit_status(res.reason);
	if (status == VM_EXIT_FAILURE)
		hull_errf(err, EIO, "vm boot: %s", res.detail);
	return status;
}

static int vm_echo(int argc, char **argv, struct hull_err *err)
{
	static const char usage[] = "hull vm echo SOCKET [COUNT]";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int lfd = -1;
	unsigned count = 1;

	if (argc < 2 || argc > 3)
		return cli_usage(err, usage, "expected a socket path");
	if (argc == 3 && (parse_uint(argv[2], 1000000, &count) < 0 || count == 0))
		return cli_usage(err, usage, "COUNT: `%s` is not a positive number", argv[2]);
	if (strlen(argv[1]) >= sizeof(sa.sun_path))
		return cli_usage(err, usage, "socket path `%s` is too long", argv[1]);
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0) {
		hull_errf_sys(err, errno, "vm echo: %s", argv[1]);
		return 1;
	}
	for (unsigned i = 0; i < count; i++) {
		char buf[4096];
		ssize_t n;
		_cleanup_close_ int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			hull_errf_sys(err, errno, "vm echo: accept on %s", argv[1]);
			return 1;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (hull_write_all(fd, buf, (size_t)n) < 0)
				break;
	}
	unlink(argv[1]);
	return 0;
}

static int vm_connect(int argc, char **argv, struct hull_err *err)
{
	static const char usage[] = "hull vm connect SOCKET PORT";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	char line[64], buf[4096];
	unsigned port;
	size_t n = 0;
	ssize_t r;

	if (argc != 3 || parse_uint(argv[2], UINT32_MAX, &port) < 0)
		return cli_usage(err, usage, "expected a socket path and a port number");
	if (strlen(argv[1]) >= sizeof(sa.sun_path))
		return cli_usage(err, usage, "socket path `%s` is too long", argv[1]);
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		hull_errf_sys(err, errno, "vm connect: %s", argv[1]);
		return 1;
	}
	r = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (hull_write_all(fd, line, (size_t)r) < 0) {
		hull_errf_sys(err, errno, "vm connect: %s", argv[1]);
		return 1;
	}
	/* The answer is one line, "OK <host port>"; anything after it is the guest's. */
	while (n < sizeof(line) - 1 && (r = read(fd, line + n, 1)) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	if (strncmp(line, "OK ", 3) != 0) {
		hull_errf(err, ECONNREFUSED, "vm connect: guest port %u refused the connection", port);
		return 1;
	}
	while ((r = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		if (hull_write_all(fd, buf, (size_t)r) < 0)
			break;
	shutdown(fd, SHUT_WR);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (hull_write_all(STDOUT_FILENO, buf, (size_t)r) < 0)
			break;
	return 0;
}

static int cmd_vm(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	static const char usage[] = "hull vm boot [OPTIONS] | hull vm echo SOCKET [COUNT] | hull vm connect SOCKET PORT";

	if (argc < 2)
		return cli_usage(err, usage, "missing subcommand");
	if (!strcmp(argv[1], "boot"))
		return vm_boot(argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "echo"))
		return vm_echo(argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "connect"))
		return vm_connect(argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: %s\n", boot_usage);
		return 0;
	}
	return cli_usage(err, usage, "unknown subcommand `%s`", argv[1]);
}

HULL_COMMAND(vm, "run a microVM directly (vm boot: debug and boot-time tests)", cmd_vm);
