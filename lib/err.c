#include "lib/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int normalize(int code)
{
	if (code < 0)
		code = -code;
	return code ? code : EINVAL;
}

int hull_errf(struct hull_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	code = normalize(code);
	if (!err)
		return -code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -code;
}

int hull_errf_sys(struct hull_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	code = normalize(code);
	if (!err)
		return -code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	if (len < sizeof(err->msg))
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(code));
	return -code;
}

int hull_err_wrap(struct hull_err *err, const char *fmt, ...)
{
	char prefix[HULL_ERR_MSG_MAX];
	char old[HULL_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return -EINVAL;
	if (!err->code)
		err->code = EINVAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the outermost context matters most. */
	size_t plen = strnlen(prefix, sizeof(err->msg) - 1);
	memcpy(err->msg, prefix, plen);
	size_t rest = sizeof(err->msg) - plen;
	if (rest > 3) {
		memcpy(err->msg + plen, ": ", 2);
		size_t olen = strnlen(old, rest - 3);
		memcpy(err->msg + plen + 2, old, olen);
		err->msg[plen + 2 + olen] = '\0';
	} else {
		err->msg[plen] = '\0';
	}
	return -err->code;
}

void hull_err_clear(struct hull_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
