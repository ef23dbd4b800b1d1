/* log.h — runtime logging, runc-compatible.
 *
 * The CLI calls hull_log_open() once from --log/--log-format/--debug.  With
 * format "json" every record is one line {"level":"…","msg":"…","time":"…"}
 * (RFC 3339 time), which is what containerd's shim reads back: it reports the
 * last "error" record.  Without --log, warnings and errors go to stderr as
 * "hull: …" text; debug records only appear with --debug.
 */
#ifndef HULL_LIB_LOG_H
#define HULL_LIB_LOG_H

#include <stdbool.h>

enum hull_log_level { HULL_LOG_DEBUG, HULL_LOG_INFO, HULL_LOG_WARN, HULL_LOG_ERROR };

/* path may be NULL (stderr).  json selects the JSON record format.  Returns
 * negative errno if the log file cannot be opened. */
int hull_log_open(const char *path, bool json, bool debug);
void hull_log_close(void);
/* The log fd (or -1), so a forked child can close/keep it deliberately. */
int hull_log_fd(void);

void hull_log(enum hull_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define hull_debug(...) hull_log(HULL_LOG_DEBUG, __VA_ARGS__)
#define hull_info(...) hull_log(HULL_LOG_INFO, __VA_ARGS__)
#define hull_warn(...) hull_log(HULL_LOG_WARN, __VA_ARGS__)
#define hull_error(...) hull_log(HULL_LOG_ERROR, __VA_ARGS__)

#endif
