#include "runtime/spawn.h"

#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/console.h"

int sync_send(int fd, enum sync_type type, int32_t val, const char *text)
{
	struct sync_msg m = { .type = type, .val = val };
	size_t len = offsetof(struct sync_msg, text);

	if (text) {
		size_t n = strnlen(text, sizeof(m.text) - 1);
		memcpy(m.text, text, n);
		len += n + 1;
	}
	while (send(fd, &m, len, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int sync_recv(int fd, struct sync_msg *m, struct hull_err *err)
{
	ssize_t n;

	memset(m, 0, offsetof(struct sync_msg, text) + 1);
	/* A peer that exits with a message of ours unread resets the socket:
	 * the kernel reports ECONNRESET once, ahead of whatever the peer sent
	 * before exiting (its SYNC_ERROR), so read on: the real error or EOF
	 * follows. */
	for (int resets = 0; (n = recv(fd, m, sizeof(*m) - 1, 0)) < 0;)
		if (errno != EINTR && (errno != ECONNRESET || ++resets > 8))
			return hull_errf_sys(err, errno, "read from the container process");
	if (n == 0)
		return hull_errf(err, EPIPE, "the container process exited during setup");
	if ((size_t)n < offsetof(struct sync_msg, text))
		return hull_errf(err, EPROTO, "short message from the container process");
	((char *)m)[n] = '\0';
	if ((size_t)n == offsetof(struct sync_msg, text))
		m->text[0] = '\0';
	return 0;
}

int sync_expect(int fd, enum sync_type type, struct sync_msg *m, struct hull_err *err)
{
	int r = sync_recv(fd, m, err);

	if (r < 0)
		return r;
	if (m->type == SYNC_ERROR)
		return hull_errf(err, m->val > 0 ? m->val : EIO, "%s", m->text);
	if (m->type != type)
		return hull_errf(err, EPROTO, "unexpected message %u from the container process (want %u)",
				 m->type, (unsigned)type);
	return 0;
}

int sync_send_fds(int fd, enum sync_type type, const int *fds, size_t n, const char *text)
{
	struct sync_msg m = { .type = type, .val = (int32_t)n };
	char cbuf[CMSG_SPACE(sizeof(int) * SYNC_MAX_FDS)] = { 0 };
	size_t len = offsetof(struct sync_msg, text);
	struct iovec iov = { .iov_base = &m };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n > SYNC_MAX_FDS)
		return -E2BIG;
	if (text) {
		size_t tl = strnlen(text, sizeof(m.text) - 1);
		memcpy(m.text, text, tl);
		len += tl + 1;
	}
	iov.iov_len = len;
	if (n) {
		struct cmsghdr *c;
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	while (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int sync_expect_fds(int fd, enum sync_type type, struct sync_msg *m, int *fds, size_t *n, struct hull_err *err)
{
	char cbuf[CMSG_SPACE(sizeof(int) * SYNC_MAX_FDS)];
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t r;

	*n = 0;
	memset(m, 0, offsetof(struct sync_msg, text) + 1);
	while ((r = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return hull_errf_sys(err, errno, "read from the runtime");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds + *n, CMSG_DATA(c), sizeof(int) * k);
			*n += k;
		}
	if (r == 0)
		return hull_errf(err, EPIPE, "the runtime went away");
	if ((size_t)r < offsetof(struct sync_msg, text) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return hull_errf(err, EPROTO, "bad message from the runtime");
	((char *)m)[r] = '\0';
	if (m->type != type)
		return hull_errf(err, EPROTO, "unexpected message %u from the runtime (want %u)", m->type, (unsigned)type);
	return 0;
}

void sync_fail(int fd, const struct hull_err *err)
{
	int code = err->code ? err->code : EIO;

	struct sync_msg m;

	sync_send(fd, SYNC_ERROR, code, err->msg[0] ? err->msg : strerror(code));
	/* Leave nothing unread: a socket closed with pending input resets the
	 * parent's end, and its next read would fail before reaching the error. */
	while (recv(fd, &m, sizeof(m), MSG_DONTWAIT) > 0)
		;
	_exit(code == ENOENT ? 127 : code == EACCES ? 126 : 1);
}

pid_t spawn_clone(uint64_t flags, int cgroup_fd, bool *into_cgroup_done)
{
	struct clone_args args = {
		.flags = flags,
		.exit_signal = SIGCHLD,
	};
	long r;

	/* clone3 refuses an exit signal with CLONE_PARENT: the child inherits
	 * ours (SIGCHLD to the shared parent). */
	if (flags & CLONE_PARENT)
		args.exit_signal = 0;
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	if (into_cgroup_done)
		*into_cgroup_done = cgroup_fd >= 0;
	r = syscall(SYS_clone3, &args, sizeof(args));
	if (r >= 0 || (errno != ENOSYS && errno != E2BIG))
		return (pid_t)r;
	if (into_cgroup_done)
		*into_cgroup_done = false;
	/* clone(2) has no CLONE_INTO_CGROUP, and 0x80 means CSIGNAL bits there. */
	flags &= ~(uint64_t)(CLONE_INTO_CGROUP | CLONE_NEWTIME);
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | (flags & CLONE_PARENT ? 0 : SIGCHLD), NULL, NULL,
			      NULL, NULL);
}

void spawn_reset_signals(void)
{
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int spawn_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, __WALL) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

int spawn_exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

void spawn_forwardable_signals(sigset_t *set)
{
	sigfillset(set);
	sigdelset(set, SIGSEGV);
	sigdelset(set, SIGBUS);
	sigdelset(set, SIGILL);
	sigdelset(set, SIGFPE);
}

struct forward_wait {
	pid_t pid;
	int status;
	bool exited;
};

/* SIGCHLD reaps (every child: orphans re-parented to a subreaper hull too);
 * anything else goes to the process.  Returns true once pid has ended. */
static bool forward_signal(int sig, void *arg)
{
	struct forward_wait *w = arg;

	if (sig == SIGCHLD) {
		int status;
		pid_t r;
		while ((r = waitpid(-1, &status, WNOHANG)) > 0)
			if (r == w->pid) {
				w->status = status;
				w->exited = true;
			}
		return w->exited;
	}
	kill(w->pid, sig);
	return false;
}

int spawn_wait_forwarding(pid_t pid, int sigfd, int console_master)
{
	struct forward_wait w = { .pid = pid };

	/* pid may have ended before sigfd was read at all; the proxy still drains
	 * what it wrote until the pty hangs up. */
	forward_signal(SIGCHLD, &w);
	if (console_master >= 0)
		hull_console_proxy(console_master, sigfd, forward_signal, &w);
	while (!w.exited) {
		struct signalfd_siginfo si;
		ssize_t n = read(sigfd, &si, sizeof(si));
		if (n == sizeof(si))
			forward_signal((int)si.ssi_signo, &w);
		else if (n < 0 && errno != EINTR)
			break;
	}
	return w.exited ? spawn_exit_code(w.status) : 1;
}
