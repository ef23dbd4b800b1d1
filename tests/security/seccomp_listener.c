/* seccomp_listener.c — a minimal seccomp agent for test_seccomp_notify.sh.
 *
 *   seccomp_listener SOCKET LOG N
 *
 * Listens on the UNIX socket SOCKET (linux.seccomp.listenerPath) and serves N
 * connections one after the other.  Each connection must carry exactly one
 * container process state (JSON) with the seccomp listener fd in SCM_RIGHTS,
 * then be closed by the runtime.  The state goes to LOG as one line
 * "state <json>"; then (in a child, so connections are served at once) every
 * notification on that fd is answered: mkdir and
 * mkdirat get a fake success (the directory is not created, the caller sees
 * 0) and are logged as "notified <syscall nr>", anything else is let through
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE).  Serving ends when the fd hangs up (no
 * process uses the filter any more).  Exit status 0 when every connection
 * brought an fd and a state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int recv_state(int conn, char *buf, size_t cap, int *fd)
{
	size_t len = 0;

	*fd = -1;
	for (;;) {
		char ctl[CMSG_SPACE(sizeof(int) * 4)];
		struct iovec iov = { .iov_base = buf + len, .iov_len = cap - 1 - len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
				if (*fd >= 0) {
					fprintf(stderr, "listener: fds in more than one message\n");
					return -1;
				}
				memcpy(fd, CMSG_DATA(cm), sizeof(int));
			}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len >= cap - 1)
			return -1;
	}
	buf[len] = '\0';
	return 0;
}

static void serve(int nfd, FILE *log)
{
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
		perror("listener: SECCOMP_GET_NOTIF_SIZES");
		return;
	}
	req = calloc(1, sizes.seccomp_notif > sizeof(*req) ? sizes.seccomp_notif : sizeof(*req));
	resp = calloc(1, sizes.seccomp_notif_resp > sizeof(*resp) ? sizes.seccomp_notif_resp : sizeof(*resp));
	for (;;) {
		struct pollfd p = { .fd = nfd, .events = POLLIN };

		if (poll(&p, 1, 30000) <= 0 ||
		    ((p.revents & (POLLHUP | POLLERR | POLLNVAL)) && !(p.revents & POLLIN)))
			break;
		memset(req, 0, sizes.seccomp_notif);
		if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			break;
		}
		memset(resp, 0, sizes.seccomp_notif_resp);
		resp->id = req->id;
		if (req->data.nr == SYS_mkdir || req->data.nr == SYS_mkdirat) {
			fprintf(log, "notified %d\n", req->data.nr);
			fflush(log);
			resp->val = 0;
			resp->error = 0;
		} else {
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		}
		if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
			perror("listener: SECCOMP_IOCTL_NOTIF_SEND");
	}
	free(req);
	free(resp);
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	static char buf[1 << 16];
	int lsock, n, status = 0;
	FILE *log;

	if (argc != 4 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: seccomp_listener SOCKET LOG N\n");
		return 2;
	}
	n = atoi(argv[3]);
	log = fopen(argv[2], "a");
	if (!log)
		return 2;
	strcpy(addr.sun_path, argv[1]);
	unlink(argv[1]);
	lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lsock, 4) < 0) {
		perror("listener: socket");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC), nfd;

		if (conn < 0 || recv_state(conn, buf, sizeof(buf), &nfd) < 0 || nfd < 0) {
			fprintf(log, "bad connection\n");
			fflush(log);
			status = 1;
			if (conn >= 0)
				close(conn);
			continue;
		}
		close(conn);
		fprintf(log, "state %s\n", buf);
		fflush(log);
		if (fork() == 0) {
			close(lsock);
			serve(nfd, log);
			_exit(0);
		}
		close(nfd);
	}
	while (wait(NULL) > 0)
		;
	fclose(log);
	return status;
}
