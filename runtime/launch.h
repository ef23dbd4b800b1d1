/* launch.h — create a container: state record, cgroup, namespaces, the
 * container init (rootfs, hooks, console), up to the point where the init
 * waits for `start`; and tear one down again.
 *
 * Parent side (the runtime process):
 *   launch_container():  validate → <root>/<id> (locked) → cgroup →
 *     exec.fifo (create) → clone3 the init → [maps, cgroup placement] →
 *     GO → prestart + createRuntime hooks when the init asks → READY →
 *     state.json (+ --pid-file).  Any failure kills the init, destroys the
 *     cgroup and removes the state directory: nothing is left behind.
 * Child side (the container init, same binary, no re-exec):
 *   [join namespaces by path, unshare, fork into a new pid/time ns] →
 *   setsid → rootfs_prepare → (hooks sync) → createContainer hooks →
 *   handler prepare → pivot → hostname, sysctl → console → finalize →
 *   READY → wait: exec.fifo (create) or SYNC_START (run) →
 *   startContainer hooks → sec_finalize_process → handler exec.
 *
 * Namespaces: the fast path is one clone3 with every new namespace's flag
 * (the init is pid 1 at once); it is taken when nothing is joined by path
 * and no time offsets are set.  Otherwise the child joins (user ns after the
 * others it may join from the host, then the rest), unshares, and forks the
 * init with CLONE_PARENT so it is still the runtime's child.  A cgroup ns is
 * unshared by the child only after the parent put it in its cgroup (v1 and
 * hybrid hosts); on pure v2 CLONE_INTO_CGROUP does the placement.
 */
#ifndef HULL_RUNTIME_LAUNCH_H
#define HULL_RUNTIME_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"
#include "oci/config.h"
#include "runtime/command.h"
#include "runtime/handler.h"
#include "runtime/state.h"

struct hull_cgroup;

enum launch_mode {
	LAUNCH_CREATE,        /* init blocks on exec.fifo until `hull start` */
	LAUNCH_RUN,           /* init waits for SYNC_START on the sync socket */
};

struct launch_opts {
	const struct hull_globals *g;
	const char *id;
	const char *bundle;            /* absolute */
	struct oci_config *cfg;
	const char *config_text;       /* raw config.json, copied into the state dir */
	size_t config_len;
	const struct hull_handler *handler;
	enum launch_mode mode;
	const char *console_socket;    /* NULL: none */
	bool proxy_console;            /* run with terminal and no socket: hand the master back */
	const char *pid_file;
	unsigned preserve_fds;
	bool no_pivot;
	bool no_new_keyring;
};

struct launch_result {
	struct hull_container *c;      /* locked state record */
	struct hull_cgroup *cg;        /* NULL when no cgroup */
	pid_t pid;                     /* host pid of the init (our child in `run`) */
	int sync_fd;                   /* run: parent end of the sync socket; else -1 */
	int console_master;            /* proxy_console: the pty master; else -1 */
};

int launch_container(const struct launch_opts *o, struct launch_result *res, struct hull_err *err);

/* `run`: let the init exec; returns when it did (0) or failed (error; the
 * init then exits 127/126/1). */
int launch_start(struct launch_result *res, struct hull_err *err);

/* Undo a launch that will not be used: kill the init, destroy the cgroup,
 * remove the state directory. */
void launch_abort(struct launch_result *res);
void launch_result_free(struct launch_result *res);

/* Tear a container down (delete, and the end of a foreground run): SIGKILL
 * what still runs when force (or when it was never started), wait for the
 * init, destroy the cgroup, run poststop hooks (logged only), remove the
 * state directory.  A running container without force is an error. */
int hull_container_destroy(struct hull_container *c, bool force, struct hull_err *err);

/* The container's config.json as saved at create (for exec and hooks). */
int hull_container_config(const struct hull_container *c, struct oci_config **out, struct hull_err *err);

/* Hand a seccomp notify fd and the container state to the agent behind
 * listener_fd (an O_PATH fd of linux.seccomp.listenerPath opened on the host). */
int hull_send_seccomp_listener(int listener_fd, int notify_fd, const struct oci_config *cfg,
			       const struct hull_container *c, enum hull_status st, struct hull_err *err);

/* Write a pid file atomically ("1234", no newline — runc's format). */
int hull_write_pid_file(const char *path, pid_t pid, struct hull_err *err);

#endif
