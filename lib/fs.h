/* fs.h — small file helpers shared by every module (no policy here).
 * All return 0 / negative errno and fill err with the path involved.
 * Paths inside a container rootfs must NOT use these: use rootfs/safepath.h.
 */
#ifndef HULL_LIB_FS_H
#define HULL_LIB_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"

/* Read a whole file (at most max bytes; 0 = 64 MiB) into a NUL-terminated buffer. */
int hull_read_file(const char *path, size_t max, char **out, size_t *len, struct hull_err *err);
int hull_read_fd(int fd, size_t max, char **out, size_t *len, struct hull_err *err);

/* Write buf to path (O_WRONLY|O_TRUNC, no create) — for cgroupfs, procfs, sysfs. */
int hull_write_file(const char *path, const char *buf, size_t len, struct hull_err *err);
int hull_write_file_at(int dirfd, const char *name, const char *buf, size_t len, struct hull_err *err);

/* Create path with mode atomically: temp file in the same dir + fsync-less rename. */
int hull_write_file_atomic(const char *path, const char *buf, size_t len, mode_t mode, struct hull_err *err);

/* mkdir -p; existing directories are fine. */
int hull_mkdir_p(const char *path, mode_t mode, struct hull_err *err);

/* Write all of buf to fd, retrying on EINTR / short writes. Returns 0 or -errno. */
int hull_write_all(int fd, const void *buf, size_t len);
/* Read exactly len bytes (or until EOF: returns bytes read). Negative errno on error. */
ssize_t hull_read_all(int fd, void *buf, size_t len);

#endif
