/* state.h — the container record under <root>/<id>/ and its status.
 *
 * Layout of <root>/<id>/ (mode 0711, the directory itself is the lock):
 *   state.json   the record below, replaced atomically (temp file + rename)
 *   exec.fifo    exists from `create` until `start` (runc's design): the init
 *                blocks opening it for writing; its presence means "created"
 *   config.json  a copy of the bundle's config as it was at create (the
 *                spec: later edits of the bundle must not affect the
 *                container); read by exec (process defaults) and by start /
 *                delete only when the container has poststart/poststop hooks
 *
 * Locking: hull_container_load(…, HULL_LOCK_EX) takes flock() on the state
 * directory; commands that change a container (start, kill, delete, pause,
 * update) hold it exclusively for their whole run, readers (state, list, ps,
 * events) take it shared or not at all.  The lock dies with the process.
 *
 * Status (hull_container_status), derived every time, never stored:
 *   stopped   no pid, or the pid is gone/zombie, or it was reused (its start
 *             time from /proc/<pid>/stat differs from the recorded one)
 *   created   the init is alive and exec.fifo still exists
 *   paused    the init is alive and the cgroup is frozen
 *   running   otherwise
 *
 * Container ids: 1..1024 chars of [A-Za-z0-9_.+-], not "." or ".." (runc's
 * rule), checked by hull_container_id_valid() before any path is built.
 */
#ifndef HULL_RUNTIME_STATE_H
#define HULL_RUNTIME_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"
#include "oci/config.h"

struct hull_cgroup;

enum hull_status {
	HULL_STATUS_CREATING,
	HULL_STATUS_CREATED,
	HULL_STATUS_RUNNING,
	HULL_STATUS_PAUSED,
	HULL_STATUS_STOPPED,
};

enum hull_lock { HULL_LOCK_NONE, HULL_LOCK_SH, HULL_LOCK_EX };

struct hull_container {
	char *id;
	char *root;                 /* --root */
	char *dir;                  /* <root>/<id> */
	int dir_fd;                 /* O_DIRECTORY fd of dir (holds the flock); -1 when not open */

	pid_t pid;                  /* host pid of the container init; 0 = none */
	uint64_t pid_start;         /* field 22 of /proc/<pid>/stat at create time */
	char *bundle;               /* absolute */
	char *rootfs;               /* absolute */
	char *created;              /* RFC 3339, UTC, nanoseconds */
	char *cgroup_path;          /* hull_cgroup_path(), NULL when no cgroup was made */
	uid_t owner;
	struct oci_kv *annotations;
	size_t n_annotations;

	/* config-derived bits the later commands need without config.json */
	int ns_flags;               /* CLONE_NEW* the init has apart from the host's (created or joined) */
	bool userns;                /* the init has its own user namespace */
	bool terminal;              /* process.terminal */
	bool systemd_cgroup;
	bool no_new_keyring;
	unsigned hooks_mask;        /* bit (1 << enum oci_hook_kind) per kind the config has */
	bool vm;                    /* VM isolation handler */
	char *handler;              /* handler name ("container" or e.g. "vm") */
};

/* [A-Za-z0-9_.+-]{1,1024}, not "." / "..".  Fills err and returns -EINVAL. */
int hull_container_id_valid(const char *id, struct hull_err *err);

/* New record for `create`: makes <root> (0700, mkdir -p) and <root>/<id>
 * with mkdir (EEXIST -> "container `id` already exists"), opens and locks it
 * exclusively.  Fields other than id/root/dir/owner/created are for the
 * caller to fill before hull_container_save(). */
int hull_container_new(const char *root, const char *id, struct hull_container **out, struct hull_err *err);

/* Load <root>/<id>/state.json, taking the lock first when lock != NONE.
 * A missing container: -ENOENT and "container `id` does not exist". */
int hull_container_load(const char *root, const char *id, enum hull_lock lock,
			struct hull_container **out, struct hull_err *err);

/* Write state.json atomically. */
int hull_container_save(const struct hull_container *c, struct hull_err *err);

/* Remove the state directory (state.json first, so concurrent loaders see
 * the container gone). Missing entries are fine. */
int hull_container_remove(struct hull_container *c, struct hull_err *err);

void hull_container_free(struct hull_container *c);

/* Ids of every container under root, sorted; *ids NULL when n == 0. */
int hull_container_list(const char *root, char ***ids, size_t *n, struct hull_err *err);
void hull_container_list_free(char **ids, size_t n);

enum hull_status hull_container_status(const struct hull_container *c);
const char *hull_status_name(enum hull_status s);

/* True if the recorded init still runs (not a zombie, same start time). */
bool hull_container_alive(const struct hull_container *c);

/* pidfd of the init, checked against pid reuse; -ESRCH when it is gone. */
int hull_container_pidfd(const struct hull_container *c, struct hull_err *err);

/* Open the container's cgroup (NULL *out, return 0, when none was made). */
int hull_container_cgroup(const struct hull_container *c, struct hull_cgroup **out, struct hull_err *err);

/* Signal the init (all=false) or every process of the container (all=true,
 * through the cgroup when there is one).  Uses the pidfd so a reused pid is
 * never signalled. */
int hull_container_kill(const struct hull_container *c, int sig, bool all, struct hull_err *err);

/* The OCI state document (runtime-spec "State" plus runc's rootfs, created,
 * owner), pretty or compact, malloc'd, no trailing newline. */
char *hull_container_state_json(const struct hull_container *c, enum hull_status st, bool pretty);

/* Start time (field 22) of pid from /proc/<pid>/stat; 0 when gone. Also
 * reports whether it is a zombie. */
uint64_t hull_proc_start_time(pid_t pid, bool *zombie);

/* "2026-11-22T00:49:38.123456789Z" for now, into buf (>= 40 bytes). */
void hull_rfc3339_now(char *buf, size_t size);

#endif
