/* err.h — hull's one error type.
 *
 * Contract: every fallible function returns 0 (or a non-negative value) on
 * success and a negative errno on failure, and fills a caller-supplied
 * struct hull_err.  Callers add context with hull_err_wrap() as the error
 * travels up; exactly one place (the CLI) prints it.  The message chain reads
 * outermost first: "create c1: mount `proc` on `/proc`: Operation not permitted".
 */
#ifndef HULL_LIB_ERR_H
#define HULL_LIB_ERR_H

#include <stddef.h>

#define HULL_ERR_MSG_MAX 1024

struct hull_err {
	int code;                     /* positive errno; 0 = no error */
	char msg[HULL_ERR_MSG_MAX];   /* human message chain, no trailing newline */
};

/* Set *err to code + formatted message; returns -code (or -EINVAL if code <= 0). */
int hull_errf(struct hull_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like hull_errf, and appends ": strerror(code)". */
int hull_errf_sys(struct hull_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the existing message with "context: "; returns -err->code. */
int hull_err_wrap(struct hull_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reset to "no error". */
void hull_err_clear(struct hull_err *err);

#endif
