/* userspec.h — `exec --user USER[:GROUP]`: numbers as they are, names
 * looked up in the container's own /etc/passwd and /etc/group. */
#ifndef HULL_RUNTIME_USERSPEC_H
#define HULL_RUNTIME_USERSPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

/* spec: UID, NAME, UID:GID, NAME:GROUP (mixed forms too).  Names are read
 * through the init's root (/proc/<init_pid>/root, i.e. the container's
 * mounts) with safepath_open, so a symlink in the container cannot point the
 * lookup at a host file.  *uid always set; *gid set (and *gid_set true) for
 * an explicit group, or the user's primary group when USER is a name. */
int hull_resolve_user(pid_t init_pid, const char *spec, uint32_t *uid, uint32_t *gid, bool *gid_set,
		      struct hull_err *err);

#endif
