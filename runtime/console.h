/* console.h — process.terminal: the pty, runc's --console-socket protocol,
 * and the proxy `hull run` uses when it owns the terminal itself.
 *
 * Protocol (runc's): the container side connects to the AF_UNIX stream socket
 * given by --console-socket (the runtime connects on the host, before the
 * container exists) and sends ONE message whose payload is the pty's name and
 * whose SCM_RIGHTS carries the master fd.  The receiver owns the master.
 */
#ifndef HULL_RUNTIME_CONSOLE_H
#define HULL_RUNTIME_CONSOLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/err.h"

/* Connect to a --console-socket path; returns the fd (O_CLOEXEC). */
int hull_console_connect(const char *path, struct hull_err *err);

/* In the container (after its /dev is mounted and pivoted): open /dev/ptmx,
 * apply the size (0 = leave), make the slave the controlling terminal and
 * stdin/stdout/stderr, bind it over /dev/console when bind_console, and send
 * the master over sock.  The caller must already be a session leader. */
int hull_console_setup(int sock, unsigned rows, unsigned cols, bool bind_console, struct hull_err *err);

/* Send / receive one fd with SCM_RIGHTS (payload: name). */
int hull_send_fd(int sock, int fd, const char *name, struct hull_err *err);
int hull_recv_fd(int sock, struct hull_err *err);

/* Copy our stdin to master and master to our stdout until the master hangs
 * up; our tty (if stdin is one) is switched to raw mode meanwhile and its
 * size is mirrored (SIGWINCH).  sigfd: a signalfd the caller also watches;
 * on_signal is called for every signal read from it and returns true to stop
 * the loop (the container exited).  Restores the tty before returning. */
int hull_console_proxy(int master, int sigfd, bool (*on_signal)(int sig, void *arg), void *arg);

#endif
