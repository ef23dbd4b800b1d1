/* safepath.h — THE way to reach a path inside a container rootfs.
 *
 * Every lookup treats root_fd as "/": absolute symlinks restart at root_fd,
 * ".." at the root stays at the root, so neither symlinks in the image nor
 * ".." in a config path can reach the host.  Implementation: openat2() with
 * RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS; where openat2 is missing, a
 * component-by-component walk (O_PATH|O_NOFOLLOW, symlink text interpreted
 * relative to root_fd, ".." tracked on our own stack of fds, never by the
 * kernel).
 *
 * Mount onto what was resolved, not onto a path string: take the returned fd
 * and use safepath_fd_path() ("/proc/self/fd/N") or move_mount() on it, so a
 * directory swapped for a symlink between the check and the mount cannot
 * redirect the mount (CVE-2021-30465).
 *
 * All functions return an fd (>= 0) or 0 on success, a negative errno on
 * failure with *err naming the path.  Returned fds are O_CLOEXEC.
 */
#ifndef HULL_ROOTFS_SAFEPATH_H
#define HULL_ROOTFS_SAFEPATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/err.h"

/* extra resolution constraints for safepath_open() */
#define SAFEPATH_NO_SYMLINKS 0x1   /* fail with ELOOP if any component is a symlink */

/* Open `path` (absolute or relative, both taken relative to root_fd) with
 * open flags `flags` (O_PATH, O_DIRECTORY, O_NOFOLLOW for the last component,
 * O_RDONLY …; no O_CREAT). */
int safepath_open(int root_fd, const char *path, int flags, unsigned extra, struct hull_err *err);

/* mkdir -p inside root_fd (symlinks followed inside the root); returns an
 * O_PATH|O_DIRECTORY fd of the final directory. */
int safepath_mkdir_all(int root_fd, const char *path, mode_t mode, struct hull_err *err);

/* Make sure a non-directory exists at path (parents created 0755, an empty
 * regular file created with `mode` if nothing is there) and return an O_PATH
 * fd of it.  An existing symlink is followed inside the root. */
int safepath_mkfile(int root_fd, const char *path, mode_t mode, struct hull_err *err);

/* Resolve (and with `create`, mkdir -p) the parent of path; returns its
 * O_PATH dir fd and copies the last component to name (never "", "." or
 * ".."; EINVAL for a path that has none, like "/"). */
int safepath_open_parent(int root_fd, const char *path, bool create, char *name, size_t name_len,
			 struct hull_err *err);

/* "/proc/self/fd/N" for fd, into buf (at least SAFEPATH_FD_PATH_MAX bytes). */
#define SAFEPATH_FD_PATH_MAX 32
const char *safepath_fd_path(int fd, char *buf);

/* Lexically clean an absolute container path: collapse "//" and ".", resolve
 * ".." without climbing above "/".  Result always starts with '/'.  Used for
 * messages and for the parent/name split; resolution itself never trusts it. */
int safepath_clean(const char *path, char *out, size_t out_len);

/* Tests: force the openat2-less fallback walk (true) or restore auto-detection. */
void safepath_force_fallback(bool on);

#endif
