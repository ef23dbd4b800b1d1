/* cleanup.h — scope-bound release helpers, so early returns cannot leak.
 *   _cleanup_free_ char *p = ...;     free(p) at scope exit
 *   _cleanup_close_ int fd = -1;      close(fd) at scope exit if >= 0
 *   _cleanup_fclose_ FILE *f = NULL;  fclose(f) at scope exit if non-NULL
 * Hand ownership out with steal_ptr()/steal_fd().
 */
#ifndef HULL_LIB_CLEANUP_H
#define HULL_LIB_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void hull_freep(void *p) { free(*(void **)p); }
static inline void hull_closep(const int *fd) { if (*fd >= 0) close(*fd); }
static inline void hull_fclosep(FILE **f) { if (*f) fclose(*f); }

#define _cleanup_free_ __attribute__((cleanup(hull_freep)))
#define _cleanup_close_ __attribute__((cleanup(hull_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(hull_fclosep)))

#define steal_ptr(p) ({ __typeof__(p) _tmp = (p); (p) = NULL; _tmp; })
#define steal_fd(fd) ({ int _tmp = (fd); (fd) = -1; _tmp; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
