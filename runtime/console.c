#include "runtime/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "rootfs/rootfs.h"

int hull_console_connect(const char *path, struct hull_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return hull_errf(err, ENAMETOOLONG, "--console-socket `%s`: path too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hull_errf_sys(err, errno, "--console-socket: socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return hull_errf_sys(err, e, "--console-socket `%s`", path);
	}
	return fd;
}

int hull_send_fd(int sock, int fd, const char *name, struct hull_err *err)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	if (iov.iov_len == 0) {
		iov.iov_base = (void *)"\0";
		iov.iov_len = 1;
	}
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return hull_errf_sys(err, errno, "send the terminal fd");
	return 0;
}

int hull_recv_fd(int sock, struct hull_err *err)
{
	char cbuf[CMSG_SPACE(sizeof(int))], name[4096];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;
	int fd;

	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return hull_errf_sys(err, errno, "receive the terminal fd");
	c = CMSG_FIRSTHDR(&msg);
	if (n == 0 || !c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return hull_errf(err, EPROTO, "receive the terminal fd: no fd in the message");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

int hull_console_setup(int sock, unsigned rows, unsigned cols, bool bind_console, struct hull_err *err)
{
	_cleanup_close_ int master = -1, slave = -1;
	char name[64];
	int unlock = 0, ptn;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return hull_errf_sys(err, errno, "open /dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &ptn) < 0)
		return hull_errf_sys(err, errno, "unlock pty");
	snprintf(name, sizeof(name), "/dev/pts/%d", ptn);
	/* TIOCGPTPEER opens the slave through the master: no path lookup to trick. */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return hull_errf_sys(err, errno, "open pty slave %s", name);
	if (rows && cols) {
		struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return hull_errf_sys(err, errno, "set the terminal size");
	}
	/* rootfs/ replaces an image's /dev/console symlink and binds the pty
	 * onto the file's fd, never onto a path (CVE-2025-52565). */
	if (bind_console && rootfs_bind_console(slave, err) < 0)
		return -err->code;
	if (hull_send_fd(sock, master, name, err) < 0)
		return -err->code;
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return hull_errf_sys(err, errno, "make %s the controlling terminal", name);
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return hull_errf_sys(err, errno, "dup2 terminal to fd %d", i);
	return 0;
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

static int pump(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return -1;
	return hull_write_all(to, buf, (size_t)n) < 0 ? -1 : 0;
}

int hull_console_proxy(int master, int sigfd, bool (*on_signal)(int sig, void *arg), void *arg)
{
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	bool in_open = true, done = false;

	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		raw.c_oflag = saved.c_oflag;   /* keep output post-processing: the pty does its own */
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		copy_winsize(STDIN_FILENO, master);
	}
	while (!done) {
		struct pollfd p[3] = {
			{ .fd = master, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents & POLLIN) {
			if (pump(master, STDOUT_FILENO) < 0)
				p[0].revents |= POLLHUP;
		}
		if (p[0].revents & (POLLHUP | POLLERR) && !(p[0].revents & POLLIN))
			master = -1;
		if (p[2].revents & (POLLIN | POLLHUP)) {
			if (pump(STDIN_FILENO, master) < 0)
				in_open = false;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			/* One record per wakeup: the signalfd may be blocking. */
			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if ((int)si.ssi_signo == SIGWINCH && tty)
					copy_winsize(STDIN_FILENO, master);
				else if (on_signal((int)si.ssi_signo, arg))
					done = true;
			}
		}
		if (master < 0)
			break;
	}
	/* Drain what the container wrote before it exited. */
	if (master >= 0) {
		int fl = fcntl(master, F_GETFL);
		fcntl(master, F_SETFL, fl | O_NONBLOCK);
		while (pump(master, STDOUT_FILENO) == 0) {
			struct pollfd p = { .fd = master, .events = POLLIN };
			if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return 0;
}
