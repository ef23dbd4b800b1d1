/* mountopt.h — OCI mount option strings ("ro", "rbind", "rnosuid", "mode=755"…)
 * turned into what mount(2) / mount_setattr(2) want.  Pure: no syscalls.
 *
 * Semantics follow mount(8) and runc:
 *   - Later options override earlier ones ("ro","rw" → rw).
 *   - flags/clear: MS_* bits the mount sets / explicitly clears ("rw" clears
 *     MS_RDONLY, "suid" clears MS_NOSUID …).  A bit is never in both.
 *   - Propagation options are kept in order (runc applies each in turn).
 *   - "r"-prefixed attributes (rro, rnosuid, …) become MOUNT_ATTR_* for
 *     mount_setattr(AT_RECURSIVE); atime changes always clear the whole
 *     MOUNT_ATTR__ATIME mask, as the kernel requires.
 *   - idmap/ridmap/tmpcopyup/bind/rbind are flags, never passed to mount(2).
 *   - Anything else is filesystem-specific and joins the data string, comma
 *     separated, in order (mount(2)'s fifth argument).
 */
#ifndef HULL_ROOTFS_MOUNTOPT_H
#define HULL_ROOTFS_MOUNTOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define MOUNTOPT_MAX_PROPAGATION 8

struct mount_opts {
	unsigned long flags;        /* MS_* to set (no bind, no propagation bits) */
	unsigned long clear;        /* MS_* explicitly cleared */
	unsigned long propagation[MOUNTOPT_MAX_PROPAGATION]; /* MS_SHARED|MS_REC, … in order */
	size_t n_propagation;
	uint64_t rec_attr_set;      /* MOUNT_ATTR_* to apply with AT_RECURSIVE */
	uint64_t rec_attr_clr;
	bool bind;                  /* "bind" or "rbind" */
	bool recursive;             /* "rbind" */
	bool idmap;                 /* "idmap" or "ridmap" */
	bool idmap_recursive;       /* "ridmap" */
	bool tmpcopyup;
	char *data;                 /* unknown options joined by ','; NULL when none */
};

/* Parse opts[0..n).  Returns 0 or -errno (ENOMEM; EINVAL for too many
 * propagation options).  On error *out is left empty. */
int mountopt_parse(char *const *opts, size_t n, struct mount_opts *out, struct hull_err *err);
void mountopt_free(struct mount_opts *o);

/* The per-mount (non-recursive) part of flags/clear as mount_setattr
 * attributes, for bind mounts: ro/nosuid/nodev/noexec/atime/nodiratime/
 * nosymfollow.  Superblock flags (sync, dirsync, …) have no per-mount form
 * and are ignored here. */
void mountopt_bind_attrs(const struct mount_opts *o, uint64_t *attr_set, uint64_t *attr_clr);

/* The MS_* bits that are per-mount and locked once a user namespace owns the
 * mount (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, atime bits) from a
 * statvfs f_flag word, so a bind remount can keep them. */
unsigned long mountopt_flags_from_statvfs(unsigned long f_flag);

#endif
