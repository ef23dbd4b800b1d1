/* handler_vm.c — VM isolation: the "vm" handler (see handler.h).
 *
 * The container init, after the usual setup (namespaces, cgroup, rootfs,
 * hooks), becomes hull's VMM instead of exec'ing the workload, so the VM
 * sits in the container's cgroup and namespaces and clients see a normal
 * pid.  Phases:
 *   configure (create/run)  allow /dev/kvm in the device cgroup.
 *   prepare (init, before pivot_root, host files still visible)
 *       find the guest kernel and agent, pack the initramfs (agent as
 *       /init, the rootfs under /rootfs), make the vsock directory on a
 *       private detached tmpfs, create the VM (nothing runs yet).
 *   exec (init, after `start`)
 *       close what an execve would have closed (that tells `start`/`run`
 *       the workload is released), drop every capability, start the vCPUs,
 *       hand the process to the agent (AP_START over vsock), relay stdio,
 *       signals and tty size, and exit with the workload's status.
 *   exec for `hull exec` (in the container's namespaces)
 *       ask the VMM (an abstract UNIX socket in the container's network
 *       namespace) for a vsock stream to the agent's exec port, then speak
 *       the same protocol.
 * The VMM reaches its vsock directory through /proc/self/fd/N, which
 * keeps working after pivot_root as long as the container mounts /proc.
 *
 * Interim: the rootfs reaches the guest as part of the initramfs, so the
 * guest's writes stay in the guest and start time grows with the image;
 * virtio-fs replaces this.
 */
#include "runtime/handler.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "microvm/agentproto.h"
#include "microvm/initramfs.h"
#include "microvm/microvm.h"

#define VM_CPUS_ANNOTATION "org.hull.vm.cpus"
#define VM_MEMORY_ANNOTATION "org.hull.vm.memory"
/* What the VMM process itself needs besides guest RAM (page tables, device
 * buffers, the initramfs while it is loaded): subtracted from a memory limit. */
#define VM_MEMORY_OVERHEAD_MIB 64u
#define VM_MEMORY_DEFAULT_MIB 256u
#define VM_MEMORY_MIN_MIB 64u
#define VIRTIOFS_CAPS ((1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) | (1ull << CAP_DAC_READ_SEARCH) | \
		       (1ull << CAP_FOWNER) | (1ull << CAP_FSETID))
#define KVM_MAJOR 10
#define KVM_MINOR 232

#ifndef HULL_LIBDIR
#define HULL_LIBDIR "/usr/local/lib/hull"
#endif

/* One VM per process: what prepare() made for exec().  The handler seam has
 * no context object, and the container init runs exactly one handler. */
static struct {
	struct hull_vm *vm;
	int dir_fd;            /* the vsock directory (detached tmpfs) */
	int agent_listen;      /* dir/vsock_<AP_PORT_INIT>: the agent connects here */
	int *owned;            /* fds prepare() opened; exec() keeps them */
	size_t n_owned;
	char dir_path[64];     /* "/proc/self/fd/<dir_fd>" */
	bool virtiofs;
} vmh = { .dir_fd = -1, .agent_listen = -1 };

/* ---- configure ------------------------------------------------------------ */

static int vm_configure(struct oci_config *cfg, struct hull_err *err)
{
	struct oci_resources *res = &cfg->linux_.resources;
	struct oci_device_rule *n = realloc(res->devices, (res->n_devices + 1) * sizeof(*n));

	if (!n)
		return hull_errf_sys(err, ENOMEM, "VM isolation");
	res->devices = n;
	n[res->n_devices] = (struct oci_device_rule){ .allow = true, .type = 'c', .major = KVM_MAJOR,
						      .minor = KVM_MINOR, .access = strdup("rw") };
	if (!n[res->n_devices].access)
		return hull_errf_sys(err, ENOMEM, "VM isolation");
	res->n_devices++;
	res->present = true;
	return 0;
}

/* ---- sizing --------------------------------------------------------------- */

static int parse_mib(const char *s, uint64_t *mib)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0': case 'M': case 'm': break;
	case 'G': case 'g': v *= 1024; break;
	default: return -EINVAL;
	}
	if (*end && end[1] && strcmp(end + 1, "i") && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -EINVAL;
	*mib = v;
	return 0;
}

/* Annotations win; else linux.resources: cpu quota/period → vCPUs (rounded
 * up), memory limit → guest RAM = limit − VM_MEMORY_OVERHEAD_MIB. */
static int vm_size(const struct oci_config *cfg, uint32_t *cpus, uint32_t *mem_mib, struct hull_err *err)
{
	const struct oci_resources *res = &cfg->linux_.resources;
	const char *a;
	uint64_t v;

	*cpus = 1;
	*mem_mib = VM_MEMORY_DEFAULT_MIB;
	if (res->has_cpu && res->cpu.quota.set && res->cpu.quota.v > 0) {
		uint64_t period = res->cpu.period.set && res->cpu.period.v ? res->cpu.period.v : 100000;
		v = ((uint64_t)res->cpu.quota.v + period - 1) / period;
		*cpus = v > HULL_VM_MAX_CPUS ? HULL_VM_MAX_CPUS : (uint32_t)v;
	}
	if (res->has_memory && res->memory.limit.set && res->memory.limit.v > 0) {
		v = (uint64_t)res->memory.limit.v >> 20;
		if (v < VM_MEMORY_OVERHEAD_MIB + VM_MEMORY_MIN_MIB)
			return hull_errf(err, EINVAL,
					 "config.json: .linux.resources.memory.limit: %llu MiB is too small for a VM "
					 "(guest RAM %u MiB minimum + %u MiB VMM overhead)",
					 (unsigned long long)v, VM_MEMORY_MIN_MIB, VM_MEMORY_OVERHEAD_MIB);
		*mem_mib = (uint32_t)(v - VM_MEMORY_OVERHEAD_MIB > (1u << 20) ? (1u << 20) : v - VM_MEMORY_OVERHEAD_MIB);
	}
	if ((a = oci_config_annotation(cfg, VM_CPUS_ANNOTATION))) {
		char *end;
		unsigned long n = strtoul(a, &end, 10);
		if (end == a || *end || n == 0 || n > HULL_VM_MAX_CPUS)
			return hull_errf(err, EINVAL, "config.json: annotations: %s: want 1..%d, not `%.32s`",
					 VM_CPUS_ANNOTATION, HULL_VM_MAX_CPUS, a);
		*cpus = (uint32_t)n;
	}
	if ((a = oci_config_annotation(cfg, VM_MEMORY_ANNOTATION))) {
		if (parse_mib(a, &v) < 0 || v < VM_MEMORY_MIN_MIB || v > (1u << 20))
			return hull_errf(err, EINVAL,
					 "config.json: annotations: %s: want MiB (or a G suffix), %u..%u, not `%.32s`",
					 VM_MEMORY_ANNOTATION, VM_MEMORY_MIN_MIB, 1u << 20, a);
		*mem_mib = (uint32_t)v;
	}
	return 0;
}

/* ---- finding the kernel and the agent ------------------------------------- */

/* The directory hull was started from: the init runs from a sealed copy,
 * but argv[0] is what the user ran. */
static char *hull_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	char *real, *slash;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	if (!strchr(buf, '/') || !(real = realpath(buf, NULL)))
		return NULL;
	slash = strrchr(real, '/');
	*slash = '\0';
	return real;
}

static int find_file(const char *what, const char *env, const char *const *rel, const char *const *abs,
		     char **out, struct hull_err *err)
{
	_cleanup_free_ char *dir = hull_dir();
	const char *e = getenv(env);
	char path[PATH_MAX];

	if (e && *e) {
		if (access(e, R_OK) < 0)
			return hull_errf_sys(err, errno, "VM isolation: $%s `%s`", env, e);
		*out = strdup(e);
		return *out ? 0 : hull_errf_sys(err, ENOMEM, "VM isolation");
	}
	for (size_t i = 0; dir && rel[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, rel[i]);
		if (access(path, R_OK) == 0)
			goto found;
	}
	for (size_t i = 0; abs[i]; i++)
		if (access(abs[i], R_OK) == 0) {
			snprintf(path, sizeof(path), "%s", abs[i]);
			goto found;
		}
	return hull_errf(err, ENOENT, "VM isolation: no %s (set $%s, or install it as %s)", what, env, abs[0]);
found:
	*out = strdup(path);
	return *out ? 0 : hull_errf_sys(err, ENOMEM, "VM isolation");
}

/* ---- prepare -------------------------------------------------------------- */

static int fd_list(int **out, size_t *n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int *v = NULL, self;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	self = dirfd(d);
	while ((de = readdir(d))) {
		int fd;
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == self)
			continue;
		if (*n == cap) {
			int *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = fd;
	}
	closedir(d);
	*out = v;
	return 0;
}

static bool in_list(const int *v, size_t n, int fd)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == fd)
			return true;
	return false;
}

/* A tmpfs that is mounted nowhere: the vsock sockets live there, reachable
 * only through our fd, and vanish with the VMM. */
static int private_tmpfs(struct hull_err *err)
{
	int ctx = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC), mnt;

	if (ctx < 0)
		return hull_errf_sys(err, errno, "VM isolation: fsopen tmpfs");
	if (syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
	    syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "size", "1m", 0) < 0 ||
	    syscall(SYS_fsconfig, ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;
		close(ctx);
		return hull_errf_sys(err, e, "VM isolation: create the vsock tmpfs");
	}
	mnt = (int)syscall(SYS_fsmount, ctx, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID);
	close(ctx);
	if (mnt < 0)
		return hull_errf_sys(err, errno, "VM isolation: mount the vsock tmpfs");
	return mnt;
}

static int listen_unix(const char *path, struct hull_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path) >= (int)sizeof(sa.sun_path))
		return hull_errf(err, ENAMETOOLONG, "VM isolation: socket path `%s`", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return hull_errf_sys(err, e, "VM isolation: listen on `%s`", path);
	}
	return fd;
}

#define VM_ROOTFS_ANNOTATION "org.hull.vm.rootfs"
#define VM_FS_TAG "hullroot"

/* virtio-fs when the guest kernel can mount it (its build config, kept next
 * to it by `make guest-kernel`, says so), else the interim initramfs route;
 * the annotation org.hull.vm.rootfs=virtiofs|initramfs decides explicitly. */
static int want_virtiofs(const struct oci_config *cfg, const char *kernel, bool *out, struct hull_err *err)
{
	const char *a = oci_config_annotation(cfg, VM_ROOTFS_ANNOTATION);
	char path[PATH_MAX], line[128];
	const char *slash = strrchr(kernel, '/');
	FILE *fp;

	*out = false;
	if (a) {
		if (strcmp(a, "virtiofs") && strcmp(a, "initramfs"))
			return hull_errf(err, EINVAL, "config.json: annotations: %s: want `virtiofs` or `initramfs`, not `%.32s`",
					 VM_ROOTFS_ANNOTATION, a);
		*out = !strcmp(a, "virtiofs");
		return 0;
	}
	snprintf(path, sizeof(path), "%.*sconfig", slash ? (int)(slash - kernel + 1) : 0, kernel);
	fp = fopen(path, "re");
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (!strcmp(line, "CONFIG_VIRTIO_FS=y\n")) {
			*out = true;
			break;
		}
	fclose(fp);
	return 0;
}

static int build_initrd(const char *agent, const char *rootfs, struct hull_err *err)
{
	_cleanup_close_ int agent_fd = open(agent, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int root_fd = rootfs ? open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int mfd = memfd_create("hull-initrd", MFD_CLOEXEC);
	struct cpio_writer w;
	int r;

	if (mfd < 0)
		return hull_errf_sys(err, errno, "VM isolation: memfd");
	if (agent_fd < 0 || (rootfs && root_fd < 0)) {
		r = hull_errf_sys(err, errno, "VM isolation: open `%s`", agent_fd < 0 ? agent : rootfs);
		close(mfd);
		return r;
	}
	cpio_init(&w, mfd);
	if ((r = cpio_add_dir(&w, "dev", 0755, err)) < 0 || (r = cpio_add_chardev(&w, "dev/console", 0600, 5, 1, err)) < 0 ||
	    (r = cpio_add_file(&w, "init", 0755, agent_fd, err)) < 0 ||
	    (r = (rootfs ? cpio_add_tree(&w, "rootfs", root_fd, err) : cpio_add_dir(&w, "rootfs", 0755, err))) < 0 ||
	    (r = cpio_finish(&w, err)) < 0) {
		cpio_release(&w);
		close(mfd);
		return r;
	}
	cpio_release(&w);
	return mfd;
}

static int vm_prepare(const struct hull_handler_ctx *ctx, struct hull_err *err)
{
	static const char *const kernel_rel[] = { "guest/vmlinux", "../lib/hull/vmlinux", NULL };
	static const char *const kernel_abs[] = { "/usr/lib/hull/vmlinux", HULL_LIBDIR "/vmlinux", NULL };
	static const char *const agent_rel[] = { "hull-agent", "../lib/hull/hull-agent", NULL };
	static const char *const agent_abs[] = { "/usr/lib/hull/hull-agent", HULL_LIBDIR "/hull-agent", NULL };
	_cleanup_free_ char *kernel = NULL, *agent = NULL;
	_cleanup_free_ int *before = NULL;
	_cleanup_free_ int *after = NULL;
	size_t n_before, n_after;
	struct hull_vm_config vc = { .tap_fd = -1, .console_fd = -1, .seccomp = true };
	char initrd_path[64], listen_path[96];
	const char *console = getenv("HULL_VM_CONSOLE");
	int initrd = -1, r;
	bool virtiofs = false;

	if (ctx->is_exec)
		return 0;
	if (fd_list(&before, &n_before) < 0)
		return hull_errf_sys(err, errno, "VM isolation: list fds");
	if ((r = vm_size(ctx->cfg, &vc.cpus, &vc.mem_mib, err)) < 0 ||
	    (r = find_file("guest kernel", "HULL_KERNEL", kernel_rel, kernel_abs, &kernel, err)) < 0 ||
	    (r = find_file("guest agent", "HULL_AGENT", agent_rel, agent_abs, &agent, err)) < 0)
		return r;
	if ((vmh.dir_fd = private_tmpfs(err)) < 0)
		return vmh.dir_fd;
	snprintf(vmh.dir_path, sizeof(vmh.dir_path), "/proc/self/fd/%d", vmh.dir_fd);
	snprintf(listen_path, sizeof(listen_path), "%s/vsock_%u", vmh.dir_path, AP_PORT_INIT);
	if ((vmh.agent_listen = listen_unix(listen_path, err)) < 0)
		return vmh.agent_listen;
	if ((r = want_virtiofs(ctx->cfg, kernel, &virtiofs, err)) < 0)
		return r;
	vmh.virtiofs = virtiofs;
	if (virtiofs) {
		/* Opened before pivot_root: the container's own mounts inside it
		 * (binds, read-only remounts) are what the guest sees. */
		vc.fs_root_fd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (vc.fs_root_fd < 0)
			return hull_errf_sys(err, errno, "VM isolation: rootfs `%s`", ctx->rootfs);
		vc.fs_tag = VM_FS_TAG;
	}
	if ((initrd = build_initrd(agent, virtiofs ? NULL : ctx->rootfs, err)) < 0)
		return initrd;
	snprintf(initrd_path, sizeof(initrd_path), "/proc/self/fd/%d", initrd);
	vc.kernel = kernel;
	vc.initrd = initrd_path;
	vc.cmdline = virtiofs ? "quiet panic=-1 hull.mode=oci hull.rootfs=virtiofs:" VM_FS_TAG
			      : "quiet panic=-1 hull.mode=oci";
	if (virtiofs && ctx->cfg->root.readonly)
		vc.cmdline = "quiet panic=-1 hull.mode=oci hull.rootfs=virtiofs:" VM_FS_TAG " hull.rootfs_ro=1";
	/* The vCPU threads serve virtio-fs requests with file-system syscalls
	 * that microvm's vCPU filter does not allow. */
	if (virtiofs)
		vc.seccomp = false;
	vc.vsock_dir = vmh.dir_path;
	if (console && *console && strcmp(console, "0")) {
		vc.console = true;
		vc.console_fd = STDERR_FILENO;
	}
	r = hull_vm_create(&vc, &vmh.vm, err);
	close(initrd);
	if (r < 0)
		return hull_err_wrap(err, "VM isolation");
	if (fd_list(&after, &n_after) < 0)
		return hull_errf_sys(err, errno, "VM isolation: list fds");
	vmh.owned = calloc(n_after ? n_after : 1, sizeof(int));
	if (!vmh.owned)
		return hull_errf_sys(err, ENOMEM, "VM isolation");
	for (size_t i = 0; i < n_after; i++)
		if (!in_list(before, n_before, after[i]))
			vmh.owned[vmh.n_owned++] = after[i];
	return 0;
}

/* ---- exec: shared host-side relay ----------------------------------------- */

static const int forwarded_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH };

static void forwarded_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(set, forwarded_signals[i]);
}

/* What an execve would do to the runtime's fds: close the close-on-exec
 * ones.  The runtime waits for exactly that (exec.fifo, the sync socket). */
static void close_exec_fds(const int *keep, size_t n_keep)
{
	_cleanup_free_ int *fds = NULL;
	size_t n;

	if (fd_list(&fds, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		int fl = fcntl(fds[i], F_GETFD);
		if (fl >= 0 && (fl & FD_CLOEXEC) && !in_list(keep, n_keep, fds[i]))
			close(fds[i]);
	}
}

/* keep: capabilities the VMM still needs (virtio-fs serves files owned by
 * any uid and gives new ones the guest's owner, as virtiofsd does). */
static int drop_privileges(uint64_t keep, struct hull_err *err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return hull_errf_sys(err, errno, "VM isolation: no_new_privs");
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (!(keep & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return hull_errf_sys(err, errno, "VM isolation: drop capability %d", c);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return hull_errf_sys(err, errno, "VM isolation: drop capabilities");
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int to_ap_process(const struct oci_config *cfg, const struct oci_process *proc, bool init,
			 struct ap_process *ap)
{
	*ap = (struct ap_process){
		.terminal = proc->terminal, .uid = proc->user.uid, .gid = proc->user.gid,
		.n_gids = (uint32_t)proc->user.n_additional_gids, .gids = proc->user.additional_gids,
		.rows = proc->has_console_size ? proc->console_height : 0,
		.cols = proc->has_console_size ? proc->console_width : 0,
		.cwd = proc->cwd ? proc->cwd : (char *)"/", .n_args = (uint32_t)proc->n_args, .args = proc->args,
		.n_env = (uint32_t)proc->n_env, .env = proc->env, .hostname = init ? cfg->hostname : NULL,
		.no_new_privs = proc->no_new_privileges, .has_caps = proc->caps.present,
		.cap_bounding = proc->caps.bounding, .cap_effective = proc->caps.effective,
		.cap_inheritable = proc->caps.inheritable, .cap_permitted = proc->caps.permitted,
		.cap_ambient = proc->caps.ambient,
		.has_umask = proc->user.umask.set, .umask = (uint32_t)(proc->user.umask.v & 0777),
	};
	if (init) {
		ap->n_masked = (uint32_t)cfg->linux_.n_masked_paths;
		ap->masked = cfg->linux_.masked_paths;
		ap->n_readonly = (uint32_t)cfg->linux_.n_readonly_paths;
		ap->readonly = cfg->linux_.readonly_paths;
	}
	if (proc->n_rlimits) {
		if (proc->n_rlimits > AP_MAX_RLIMITS)
			return -E2BIG;
		ap->rlimits = calloc(proc->n_rlimits, sizeof(*ap->rlimits));
		if (!ap->rlimits)
			return -ENOMEM;
		ap->n_rlimits = (uint32_t)proc->n_rlimits;
		for (size_t i = 0; i < proc->n_rlimits; i++)
			ap->rlimits[i] = (struct ap_rlimit){ (uint32_t)proc->rlimits[i].resource, proc->rlimits[i].soft,
							     proc->rlimits[i].hard };
	}
	if (proc->terminal && isatty(STDIN_FILENO)) {
		struct winsize ws;
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
			ap->rows = ws.ws_row;
			ap->cols = ws.ws_col;
		}
	}
	return 0;
}

static int send_start(int vs, const struct oci_config *cfg, const struct oci_process *proc, bool init,
		      struct hull_err *err)
{
	struct ap_process ap;
	struct ap_buf b = { 0 };
	int r;

	if ((r = to_ap_process(cfg, proc, init, &ap)) < 0 || (r = ap_process_encode(&ap, &b)) < 0 ||
	    (r = ap_send(vs, AP_START, b.data, (uint32_t)b.len)) < 0) {
		free(ap.rlimits);
		ap_buf_free(&b);
		return hull_errf_sys(err, -r, "VM isolation: send the process to the guest agent");
	}
	free(ap.rlimits);
	ap_buf_free(&b);
	return 0;
}

/* The workload's terminal is the guest's pty; ours only carries bytes. */
static void raw_tty(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
}

/* Relay until the agent reports the exit status (returned, 0-255), or -1
 * when the stream ended without one (err filled). */
static int host_relay(int vs, bool tty, struct hull_err *err)
{
	static uint8_t buf[AP_MAX_PAYLOAD];
	sigset_t set;
	int sigfd;
	bool in_open = true;

	forwarded_set(&set);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sigfd < 0)
		return hull_errf_sys(err, errno, "VM isolation: signalfd");
	for (;;) {
		struct pollfd pf[3] = {
			{ .fd = vs, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};
		uint32_t type, len;
		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents) {
			int r = ap_recv(vs, &type, buf, sizeof(buf), &len);
			if (r < 0) {
				close(sigfd);
				return hull_errf(err, EPIPE, "VM isolation: the guest agent went away without an exit status");
			}
			if (type == AP_STDOUT)
				write_all(STDOUT_FILENO, buf, len);
			else if (type == AP_STDERR)
				write_all(STDERR_FILENO, buf, len);
			else if (type == AP_EXIT && len == 4) {
				close(sigfd);
				return buf[0];
			} else if (type == AP_ERROR) {
				close(sigfd);
				return hull_errf(err, EIO, "VM isolation: guest agent: %.*s", (int)(len > 400 ? 400 : len),
						 (const char *)buf);
			}
		}
		if (pf[1].revents) {
			ssize_t n = read(STDIN_FILENO, buf, 65536);
			if (n > 0)
				ap_send(vs, AP_STDIN, buf, (uint32_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_open = false;
				ap_send(vs, AP_STDIN_EOF, NULL, 0);
			}
		}
		if (pf[2].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH) {
					struct winsize ws;
					if (tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
						uint8_t m[8] = { (uint8_t)ws.ws_row, (uint8_t)(ws.ws_row >> 8), 0, 0,
								 (uint8_t)ws.ws_col, (uint8_t)(ws.ws_col >> 8), 0, 0 };
						ap_send(vs, AP_RESIZE, m, sizeof(m));
					}
				} else {
					ap_send_u32(vs, AP_SIGNAL, si.ssi_signo);
				}
			}
		}
	}
	close(sigfd);
	return hull_errf_sys(err, errno, "VM isolation: relay");
}

/* ---- exec: the container init --------------------------------------------- */

struct init_relay {
	const struct hull_handler_ctx *ctx;
	struct hull_err err;
};

/* The abstract socket `hull exec` asks for guest connections on. */
static int exec_broker_addr(const char *id, struct sockaddr_un *sa, socklen_t *len)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "hull-vm/%s", id);
	if (n < 0 || n >= (int)sizeof(sa->sun_path) - 1)
		return -ENAMETOOLONG;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	return 0;
}

/* A stream to the agent's exec port through the VMM's vsock listener. */
static int connect_guest_port(unsigned port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[64];
	size_t got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/vsock", vmh.dir_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		hull_warn("VM isolation: exec: connect to %s: %s", sa.sun_path, strerror(errno));
		goto fail;
	}
	snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write_all(fd, line, strlen(line)) < 0)
		goto fail;
	while (got < sizeof(line) - 1) {
		ssize_t n = read(fd, line + got, 1);
		if (n <= 0)
			break;
		if (line[got++] == '\n')
			break;
	}
	line[got] = '\0';
	if (strncmp(line, "OK ", 3)) {
		hull_warn("VM isolation: exec: guest port %u: no connection (`%.*s`)", port, (int)strcspn(line, "\n"), line);
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void send_fd(int sock, int fd)
{
	char c = 0;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	memset(&u, 0, sizeof(u));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (fd < 0) {
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/* The agent connects for the container's process only once its exec
 * listener is up; `hull exec` right after `start` waits for that. */
static pthread_mutex_t agent_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t agent_cond = PTHREAD_COND_INITIALIZER;
static bool agent_up;
#define AGENT_WAIT_SEC 120

static void agent_ready(void)
{
	pthread_mutex_lock(&agent_lock);
	agent_up = true;
	pthread_cond_broadcast(&agent_cond);
	pthread_mutex_unlock(&agent_lock);
}

static bool wait_agent(void)
{
	struct timespec deadline;
	bool up;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += AGENT_WAIT_SEC;
	pthread_mutex_lock(&agent_lock);
	while (!agent_up && pthread_cond_timedwait(&agent_cond, &agent_lock, &deadline) == 0)
		;
	up = agent_up;
	pthread_mutex_unlock(&agent_lock);
	return up;
}

/* Serves `hull exec`: only peers with our uid (root, in the container's
 * network namespace) get a stream to the agent's exec port. */
static void *exec_broker(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		struct ucred cr;
		socklen_t cl = sizeof(cr);
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), g;
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != geteuid()) {
			hull_warn("VM isolation: exec: refused a peer with uid %u", (unsigned)cr.uid);
			close(c);
			continue;
		}
		g = wait_agent() ? connect_guest_port(AP_PORT_EXEC) : -1;
		send_fd(c, g);
		if (g >= 0)
			close(g);
		close(c);
	}
}

static int start_exec_broker(const char *id)
{
	struct sockaddr_un sa;
	socklen_t len;
	pthread_t t;
	int fd;

	if (exec_broker_addr(id, &sa, &len) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 8) < 0 ||
	    pthread_create(&t, NULL, exec_broker, (void *)(intptr_t)fd) != 0) {
		hull_warn("VM isolation: `hull exec` will not reach this VM: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	pthread_detach(t);
	return 0;
}

static void *init_relay_main(void *arg)
{
	struct init_relay *ir = arg;
	const struct hull_handler_ctx *ctx = ir->ctx;
	int vs, code;

	vs = accept4(vmh.agent_listen, NULL, NULL, SOCK_CLOEXEC);
	if (vs < 0) {
		hull_errf_sys(&ir->err, errno, "VM isolation: accept the guest agent");
		return NULL;
	}
	agent_ready();
	if (send_start(vs, ctx->cfg, ctx->proc, true, &ir->err) < 0)
		return NULL;
	code = host_relay(vs, ctx->proc->terminal, &ir->err);
	if (code >= 0) {
		/* The workload is done; its status is the container's.  The VM's
		 * memory and devices go with this process. */
		ap_send(vs, AP_SHUTDOWN, NULL, 0);
		_exit(code);
	}
	close(vs);
	return NULL;
}

static int vm_exec_init(const struct hull_handler_ctx *ctx, struct hull_err *err)
{
	struct init_relay ir = { .ctx = ctx };
	struct hull_vm_result res;
	sigset_t set;
	pthread_t t;
	int r;

	close_exec_fds(vmh.owned, vmh.n_owned);
	if ((r = drop_privileges(vmh.virtiofs ? VIRTIOFS_CAPS : 0, err)) < 0)
		return r;
	signal(SIGPIPE, SIG_IGN);
	if (ctx->proc->terminal)
		raw_tty(STDIN_FILENO);
	/* Every thread (vCPUs included) inherits the mask; only the relay's
	 * signalfd sees these. */
	forwarded_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	start_exec_broker(ctx->id);
	if ((r = hull_vm_start(vmh.vm, err)) < 0)
		return hull_err_wrap(err, "VM isolation");
	if (pthread_create(&t, NULL, init_relay_main, &ir) != 0)
		return hull_errf_sys(err, errno, "VM isolation: relay thread");
	hull_vm_wait(vmh.vm, &res);
	/* The VM ended before the relay got an exit status. */
	close(vmh.agent_listen);
	if (ir.err.code)
		hull_error("%s", ir.err.msg);
	return hull_errf(err, EIO, "VM isolation: the VM ended (%s) before the workload reported its exit status%s%s",
			 hull_vm_exit_name(res.reason), res.detail[0] ? ": " : "", res.detail);
}

/* ---- exec: `hull exec` ---------------------------------------------------- */

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static int vm_exec_process(const struct hull_handler_ctx *ctx, struct hull_err *err)
{
	struct sockaddr_un sa;
	socklen_t len;
	sigset_t set;
	int s, vs, code, r;

	if ((r = drop_privileges(0, err)) < 0)
		return r;
	signal(SIGPIPE, SIG_IGN);
	forwarded_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (exec_broker_addr(ctx->id, &sa, &len) < 0)
		return hull_errf(err, ENAMETOOLONG, "VM isolation: container id too long for exec");
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, len) < 0) {
		r = hull_errf_sys(err, errno, "VM isolation: reach the VMM of `%s`", ctx->id);
		if (s >= 0)
			close(s);
		return r;
	}
	vs = recv_fd(s);
	close(s);
	if (vs < 0)
		return hull_errf(err, ECONNREFUSED, "VM isolation: the guest agent of `%s` refused the exec", ctx->id);
	/* Released: from here on errors are the process's, not the runtime's. */
	close_exec_fds(&vs, 1);
	if (ctx->proc->terminal)
		raw_tty(STDIN_FILENO);
	if ((r = send_start(vs, ctx->cfg, ctx->proc, false, err)) < 0)
		return r;
	code = host_relay(vs, ctx->proc->terminal, err);
	if (code < 0)
		return code;
	_exit(code);
}

static int vm_exec(const struct hull_handler_ctx *ctx, struct hull_err *err)
{
	return ctx->is_exec ? vm_exec_process(ctx, err) : vm_exec_init(ctx, err);
}

static const struct hull_handler vm_handler = {
	.name = "vm",
	.prepare = vm_prepare,
	.exec = vm_exec,
	.configure = vm_configure,
	.guest_applies_process = true,
};
HULL_HANDLER(vm, &vm_handler);
