/* agent_oci.c — the guest agent's container mode (kernel command line
 * `hull.mode=oci`): PID 1 of a VM-isolated container.
 *
 * The container's root filesystem is /rootfs (see runtime/handler_vm.c for
 * how it gets there).  The agent mounts /proc, /sys, /dev, /dev/pts and
 * /dev/shm inside it, connects to the host on vsock port AP_PORT_INIT, runs
 * the process the host sends (AP_START) chrooted into /rootfs, relays its
 * stdio (pipes, or a pty with resize) and finally its exit status (AP_EXIT),
 * then powers the VM off once the host acknowledged (AP_SHUTDOWN or EOF).
 * Meanwhile a second process accepts `hull exec` connections on
 * AP_PORT_EXEC and serves each the same way.  Protocol: PROTOCOL.md.
 *
 * The host is the trusted side here; the workload is not: the agent never
 * runs code from /rootfs itself, only in forked children that drop to the
 * requested user.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "microvm/agentproto.h"

#define ROOTFS "/rootfs"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RELAY_CHUNK 16384

int agent_oci_main(void);

static void logmsg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, "hull-agent: ", 12) < 0 || write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}

static void mount_in_rootfs(const char *fstype, const char *dst, unsigned long flags, const char *data)
{
	char path[256];

	snprintf(path, sizeof(path), ROOTFS "%s", dst);
	mkdir(path, 0755);
	if (mount(fstype, path, fstype, flags, data) < 0)
		logmsg("mount %s on %s: %s", fstype, path, strerror(errno));
}

/* hull.rootfs=virtiofs:TAG on the kernel command line: the rootfs is the
 * host's directory over virtio-fs; else it came inside the initramfs. */
static bool cmdline_param(const char *key, char *out, size_t size)
{
	char buf[4096];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	size_t klen = strlen(key);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (char *p = strtok(buf, " \n"); p; p = strtok(NULL, " \n"))
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(out, size, "%s", p + klen + 1);
			return true;
		}
	return false;
}

static void mount_shared_rootfs(void)
{
	char val[64], ro[8];
	unsigned long flags = 0;

	if (!cmdline_param("hull.rootfs", val, sizeof(val)) || strncmp(val, "virtiofs:", 9))
		return;
	if (cmdline_param("hull.rootfs_ro", ro, sizeof(ro)) && !strcmp(ro, "1"))
		flags |= MS_RDONLY;
	mkdir(ROOTFS, 0755);
	if (mount(val + 9, ROOTFS, "virtiofs", flags, NULL) < 0)
		logmsg("mount virtiofs `%s` on " ROOTFS ": %s", val + 9, strerror(errno));
}

static void setup_rootfs(void)
{
	mount_shared_rootfs();
	mount_in_rootfs("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_in_rootfs("sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
	mount_in_rootfs("devtmpfs", "/dev", MS_NOSUID | MS_NOEXEC, NULL);
	mount_in_rootfs("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
	mount_in_rootfs("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777");
}

static int vsock_connect(unsigned port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port };

	for (int i = 0; i < 100; i++) {
		int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		usleep(20000);
	}
	return -1;
}

static const char *env_path(const struct ap_process *p)
{
	for (uint32_t i = 0; i < p->n_env; i++)
		if (!strncmp(p->env[i], "PATH=", 5))
			return p->env[i] + 5;
	return DEFAULT_PATH;
}

/* In the forked child: exec args[0] through the PATH of the process's own
 * environment; exit 127 when not found, 126 when not runnable. */
__attribute__((noreturn)) static void exec_process(const struct ap_process *p)
{
	const char *file = p->args[0];
	char buf[4096];
	int saved = ENOENT;

	if (strchr(file, '/')) {
		execve(file, p->args, p->env);
		saved = errno;
	} else {
		for (const char *s = env_path(p);;) {
			const char *end = strchrnul(s, ':');
			int dlen = (int)(end - s);
			if (snprintf(buf, sizeof(buf), "%.*s%s%s", dlen, s, dlen ? "/" : "", file) < (int)sizeof(buf)) {
				execve(buf, p->args, p->env);
				if (errno != ENOENT && errno != ENOTDIR)
					saved = errno;
			}
			if (!*end)
				break;
			s = end + 1;
		}
	}
	if (saved == ENOENT)
		logmsg("exec `%s`: executable file not found in $PATH", file);
	else
		logmsg("exec `%s`: %s", file, strerror(saved));
	_exit(saved == ENOENT ? 127 : 126);
}

struct session {
	int vsock;
	int in_fd;             /* our end of the process's stdin (pipe or pty master); -1 once closed */
	int out_fd, err_fd;    /* our ends of stdout/stderr; -1 at EOF (err_fd unused with a tty) */
	int tty_master;
	pid_t pid;
};

/* The OCI process's security settings, in runc's order: rlimits, bounding
 * set, user (keeping capabilities across the uid change), capability sets,
 * ambient set, no_new_privs.  Seccomp is not applied in the guest yet. */
static int apply_security(const struct ap_process *p)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	for (uint32_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };
		if (setrlimit((int)p->rlimits[i].resource, &rl) < 0) {
			logmsg("setrlimit %u: %s", p->rlimits[i].resource, strerror(errno));
			return -1;
		}
	}
	if (p->has_umask)
		umask(p->umask);
	if (p->has_caps) {
		for (int c = 0; c < 64; c++)
			if (!(p->cap_bounding & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
				logmsg("drop capability %d: %s", c, strerror(errno));
				return -1;
			}
		prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	}
	if (setgroups(p->n_gids, p->gids) < 0 || setresgid(p->gid, p->gid, p->gid) < 0 ||
	    setresuid(p->uid, p->uid, p->uid) < 0) {
		logmsg("switch to uid %u gid %u: %s", p->uid, p->gid, strerror(errno));
		return -1;
	}
	if (p->has_caps) {
		data[0].effective = (uint32_t)p->cap_effective;
		data[1].effective = (uint32_t)(p->cap_effective >> 32);
		data[0].permitted = (uint32_t)p->cap_permitted;
		data[1].permitted = (uint32_t)(p->cap_permitted >> 32);
		data[0].inheritable = (uint32_t)p->cap_inheritable;
		data[1].inheritable = (uint32_t)(p->cap_inheritable >> 32);
		if (syscall(SYS_capset, &hdr, data) < 0) {
			logmsg("set capabilities: %s", strerror(errno));
			return -1;
		}
		/* Raising needs the capability in the inheritable set too; like
		 * runc, one that cannot be raised is left out, not an error. */
		for (int c = 0; c < 64; c++)
			if (p->cap_ambient & (1ull << c))
				prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
	}
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		logmsg("no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* maskedPaths and readonlyPaths of the container, inside /rootfs.  Paths
 * are resolved in the guest, which is the container's own kernel: a
 * symlink can only redirect the mount within the guest. */
static void apply_path_policy(const struct ap_process *p)
{
	char path[4096];
	struct stat st;

	for (uint32_t i = 0; i < p->n_masked; i++) {
		if (snprintf(path, sizeof(path), ROOTFS "%s", p->masked[i]) >= (int)sizeof(path) ||
		    lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0");
		else
			mount("/dev/null", path, NULL, MS_BIND, NULL);
	}
	for (uint32_t i = 0; i < p->n_readonly; i++) {
		if (snprintf(path, sizeof(path), ROOTFS "%s", p->readonly[i]) >= (int)sizeof(path) ||
		    lstat(path, &st) < 0)
			continue;
		if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) == 0)
			mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	}
}

__attribute__((noreturn)) static void child_main(const struct ap_process *p, int in, int out, int errfd, int slave)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (slave >= 0) {
		ioctl(slave, TIOCSCTTY, 0);
		in = out = errfd = slave;
	}
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(126);
	if (chroot(ROOTFS) < 0 || chdir("/") < 0) {
		logmsg("chroot: %s", strerror(errno));
		_exit(126);
	}
	if (chdir(p->cwd) < 0) {
		logmsg("chdir `%s`: %s", p->cwd, strerror(errno));
		_exit(126);
	}
	if (apply_security(p) < 0)
		_exit(126);
	exec_process(p);
}

static int spawn(const struct ap_process *p, struct session *s)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 }, slave = -1;

	s->in_fd = s->out_fd = s->err_fd = s->tty_master = -1;
	if (p->terminal) {
		s->tty_master = open(ROOTFS "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (s->tty_master < 0 || unlockpt(s->tty_master) < 0)
			return -errno;
		slave = ioctl(s->tty_master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			return -errno;
		if (p->rows && p->cols) {
			struct winsize ws = { .ws_row = (unsigned short)p->rows, .ws_col = (unsigned short)p->cols };
			ioctl(s->tty_master, TIOCSWINSZ, &ws);
		}
		s->in_fd = s->out_fd = s->tty_master;
	} else {
		if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0)
			return -errno;
		s->in_fd = in[1];
		s->out_fd = out[0];
		s->err_fd = er[0];
	}
	s->pid = fork();
	if (s->pid == 0)
		child_main(p, in[0], out[1], er[1], slave);
	if (slave >= 0)
		close(slave);
	if (in[0] >= 0) {
		close(in[0]);
		close(out[1]);
		close(er[1]);
	}
	return s->pid < 0 ? -errno : 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Forward what one output fd has; false at EOF (or EIO: a pty whose last
 * slave closed). */
static bool pump(int fd, int vsock, uint32_t type)
{
	char buf[RELAY_CHUNK];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	ap_send(vsock, type, buf, (uint32_t)n);
	return true;
}

/* One message from the host; false when the host went away. */
static bool host_message(struct session *s, bool *shutdown)
{
	static uint8_t buf[AP_MAX_PAYLOAD];
	uint32_t type, len;

	if (ap_recv(s->vsock, &type, buf, sizeof(buf), &len) < 0)
		return false;
	switch (type) {
	case AP_STDIN:
		if (s->in_fd >= 0 && len) {
			size_t off = 0;
			while (off < len) {
				ssize_t n = write(s->in_fd, buf + off, len - off);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					break;
				off += (size_t)n;
			}
		}
		break;
	case AP_STDIN_EOF:
		if (s->tty_master < 0)
			close_fd(&s->in_fd);
		break;
	case AP_SIGNAL:
		if (len == 4 && s->pid > 0) {
			uint32_t sig = (uint32_t)buf[0] | (uint32_t)buf[1] << 8;
			if (sig > 0 && sig < 65)
				kill(s->pid, (int)sig);
		}
		break;
	case AP_RESIZE:
		if (len == 8 && s->tty_master >= 0) {
			struct winsize ws = { .ws_row = (unsigned short)(buf[0] | buf[1] << 8),
					      .ws_col = (unsigned short)(buf[4] | buf[5] << 8) };
			ioctl(s->tty_master, TIOCSWINSZ, &ws);
		}
		break;
	case AP_SHUTDOWN:
		*shutdown = true;
		break;
	default:
		break;
	}
	return true;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

/* Relay until the process exited and its output is drained; returns its exit
 * code, or -1 if the host went away first (the process is then killed).
 * reap_all: we are PID 1 and also reap orphans. */
static int relay(struct session *s, int sigfd, bool reap_all)
{
	bool exited = false, shutdown = false;
	int code = -1;

	for (;;) {
		struct pollfd pf[4] = {
			{ .fd = s->vsock, .events = POLLIN },
			{ .fd = s->out_fd, .events = POLLIN },
			{ .fd = s->tty_master >= 0 ? -1 : s->err_fd, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};
		if (exited && s->out_fd < 0 && (s->err_fd < 0 || s->tty_master >= 0))
			break;
		/* Once the process is gone, output already written is forwarded,
		 * but descendants holding the pipes open do not keep us here. */
		if (poll(pf, 4, exited ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (exited && !(pf[1].revents | pf[2].revents))
			break;
		if (pf[0].revents && !host_message(s, &shutdown)) {
			kill(s->pid, SIGKILL);
			return -1;
		}
		if (pf[1].revents && !pump(s->out_fd, s->vsock, AP_STDOUT)) {
			if (s->tty_master >= 0)
				s->in_fd = s->tty_master = -1;
			close_fd(&s->out_fd);
		}
		if (pf[2].revents && !pump(s->err_fd, s->vsock, AP_STDERR))
			close_fd(&s->err_fd);
		if (pf[3].revents) {
			struct signalfd_siginfo si;
			int status;
			pid_t pid;
			if (read(sigfd, &si, sizeof(si)) < 0 && errno != EAGAIN)
				break;
			while ((pid = waitpid(reap_all ? -1 : s->pid, &status, WNOHANG)) > 0)
				if (pid == s->pid) {
					exited = true;
					code = exit_code(status);
				}
		}
	}
	close_fd(&s->out_fd);
	close_fd(&s->err_fd);
	if (s->tty_master < 0)
		close_fd(&s->in_fd);
	return code;
}

/* Receive AP_START, run, relay, report.  Returns 0 when an exit status was sent. */
static int serve(int vsock, int sigfd, bool reap_all)
{
	static uint8_t buf[AP_MAX_PAYLOAD];
	struct ap_process p;
	struct session s = { .vsock = vsock };
	uint32_t type, len;
	int r, code;

	if ((r = ap_recv(vsock, &type, buf, sizeof(buf), &len)) < 0 || type != AP_START)
		return -1;
	if ((r = ap_process_decode(buf, len, &p)) < 0) {
		const char msg[] = "malformed process";
		ap_send(vsock, AP_ERROR, msg, sizeof(msg) - 1);
		return -1;
	}
	if (reap_all)
		apply_path_policy(&p);
	if (reap_all && p.hostname && sethostname(p.hostname, strlen(p.hostname)) < 0)
		logmsg("sethostname: %s", strerror(errno));
	if ((r = spawn(&p, &s)) < 0) {
		char msg[256];
		int n = snprintf(msg, sizeof(msg), "start `%s`: %s", p.args[0], strerror(-r));
		ap_send(vsock, AP_ERROR, msg, (uint32_t)n);
		ap_process_free(&p);
		return -1;
	}
	ap_process_free(&p);
	code = relay(&s, sigfd, reap_all);
	if (code < 0)
		return -1;
	/* The host may end the VM as soon as it has the status. */
	sync();
	return ap_send_u32(vsock, AP_EXIT, (uint32_t)code) < 0 ? -1 : 0;
}

static int sigchld_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* The `hull exec` server: one forked handler per connection. */
__attribute__((noreturn)) static void exec_server(int ready_fd)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = AP_PORT_EXEC };
	int lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	signal(SIGCHLD, SIG_IGN);   /* handlers are reaped by the kernel */
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0) {
		logmsg("exec listener on vsock port %u: %s", AP_PORT_EXEC, strerror(errno));
		_exit(1);
	}
	/* The host takes our connection on AP_PORT_INIT as "exec works now". */
	close(ready_fd);
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(1);
		}
		if (fork() == 0) {
			int sfd;
			close(lfd);
			signal(SIGCHLD, SIG_DFL);
			sfd = sigchld_fd();
			_exit(serve(c, sfd, false) < 0 ? 1 : 0);
		}
		close(c);
	}
}

/* Wait (bounded) until the host read the exit status and acknowledged it. */
static void wait_for_shutdown(int vsock)
{
	struct pollfd pf = { .fd = vsock, .events = POLLIN };

	for (int i = 0; i < 50 && poll(&pf, 1, 100) >= 0; i++) {
		uint8_t buf[256];
		uint32_t type, len;
		if (!pf.revents)
			continue;
		if (ap_recv(vsock, &type, buf, sizeof(buf), &len) < 0 || type == AP_SHUTDOWN)
			return;
	}
}

int agent_oci_main(void)
{
	int vsock, sfd, ready[2];
	pid_t execd;
	char c;

	setup_rootfs();
	sfd = sigchld_fd();
	if (pipe2(ready, O_CLOEXEC) < 0)
		ready[0] = ready[1] = -1;
	execd = fork();
	if (execd == 0) {
		close(ready[0]);
		exec_server(ready[1]);
	}
	close(ready[1]);
	/* EOF once the exec listener is up (or its process is gone). */
	while (ready[0] >= 0 && read(ready[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ready[0]);
	vsock = vsock_connect(AP_PORT_INIT);
	if (vsock < 0)
		logmsg("connect to the host on vsock port %u: %s", AP_PORT_INIT, strerror(errno));
	else if (serve(vsock, sfd, true) == 0)
		wait_for_shutdown(vsock);
	kill(-1, SIGKILL);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
