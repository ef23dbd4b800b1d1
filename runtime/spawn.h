/* spawn.h — the one way hull starts a process that will enter a container:
 * a clone3 wrapper, and the message protocol on the SOCK_SEQPACKET socketpair
 * between the runtime (parent) and the process it is setting up (child).
 *
 * Messages are small records {type, val, text}; the child reports failures
 * as SYNC_ERROR with its error chain in text, so the parent prints one line
 * for whatever went wrong on either side.  EOF (every child end closed)
 * means the child died or exec'd: the socket is O_CLOEXEC.
 */
#ifndef HULL_RUNTIME_SPAWN_H
#define HULL_RUNTIME_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "lib/err.h"

enum sync_type {
	SYNC_GO = 1,          /* parent -> child: cgroup placed, maps written: go on */
	SYNC_USERNS,          /* child -> parent: I unshared a user ns, write my maps */
	SYNC_MAPS_DONE,       /* parent -> child */
	SYNC_PID,             /* child -> parent: val = pid of the final process (parent's view) */
	SYNC_HOOKS,           /* child -> parent: run prestart + createRuntime now */
	SYNC_HOOKS_DONE,      /* parent -> child */
	SYNC_READY,           /* child -> parent: set up, waiting for start */
	SYNC_START,           /* parent -> child (`run`): exec now */
	SYNC_ERROR,           /* child -> parent: val = errno, text = message */
	SYNC_FD,              /* child -> parent: an fd in SCM_RIGHTS (seccomp listener) */
	SYNC_PLACED,          /* parent -> child: the cgroup placement (done while the child
	                       * set up its rootfs) is complete */
	SYNC_IDMAP_FDS,       /* parent -> child: idmapped mount trees in SCM_RIGHTS,
	                       * text = their mounts[] indices ("2,5") */
};

struct sync_msg {
	uint32_t type;
	int32_t val;
	char text[1100];
};

int sync_send(int fd, enum sync_type type, int32_t val, const char *text);
/* 0 and *m filled; -EPIPE at EOF (err filled: "container process exited"). */
int sync_recv(int fd, struct sync_msg *m, struct hull_err *err);
/* Receive and require a type; SYNC_ERROR becomes the returned error. */
int sync_expect(int fd, enum sync_type type, struct sync_msg *m, struct hull_err *err);

/* A message with n (<= SYNC_MAX_FDS) fds in SCM_RIGHTS. */
#define SYNC_MAX_FDS 64
int sync_send_fds(int fd, enum sync_type type, const int *fds, size_t n, const char *text);
/* Receive one message of type, with its fds (O_CLOEXEC) into fds[], *n set. */
int sync_expect_fds(int fd, enum sync_type type, struct sync_msg *m, int *fds, size_t *n, struct hull_err *err);

/* In a child: report err to the parent and _exit (127 for ENOENT, 126 for
 * EACCES like a shell, else 1). */
__attribute__((noreturn)) void sync_fail(int fd, const struct hull_err *err);

/* clone3 with flags (CLONE_NEW*, CLONE_INTO_CGROUP with cgroup_fd,
 * CLONE_PARENT); falls back to clone(2) when clone3 is missing (then
 * CLONE_INTO_CGROUP is dropped and *into_cgroup_done set false).  Returns
 * like fork().  into_cgroup_done may be NULL when cgroup_fd < 0. */
pid_t spawn_clone(uint64_t flags, int cgroup_fd, bool *into_cgroup_done);

/* Reset signal mask and dispositions (the child inherits the runtime's). */
void spawn_reset_signals(void);

/* Wait for pid (our child), retrying EINTR; returns the raw status or -errno. */
int spawn_wait(pid_t pid);

/* Shell-style exit code of a wait status: code, or 128+signal. */
int spawn_exit_code(int status);

/* The signals a foreground `run`/`exec` forwards to its process: all but the
 * synchronous faults (SEGV, BUS, ILL, FPE), which must still kill hull. */
void spawn_forwardable_signals(sigset_t *set);

/* Wait for pid (our child) while forwarding every signal read from sigfd
 * (a signalfd over spawn_forwardable_signals, blocked by the caller) to it;
 * with console_master >= 0 also relay the caller's tty to that pty master.
 * Returns pid's shell-style exit code, or 1 if sigfd failed before it ended. */
int spawn_wait_forwarding(pid_t pid, int sigfd, int console_master);

#endif
