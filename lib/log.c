#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;          /* -1: stderr text */
static bool log_json;
static bool log_debug;

int hull_log_open(const char *path, bool json, bool debug)
{
	log_json = json;
	log_debug = debug;
	if (!path || !*path)
		return 0;
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return -errno;
	return 0;
}

void hull_log_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
}

int hull_log_fd(void)
{
	return log_fd;
}

static const char *level_name(enum hull_log_level level)
{
	switch (level) {
	case HULL_LOG_DEBUG: return "debug";
	case HULL_LOG_INFO: return "info";
	case HULL_LOG_WARN: return "warning";
	default: return "error";
	}
}

/* JSON string escaping for the message; control chars become \u00XX. */
static size_t json_escape(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; *in && n + 7 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

void hull_log(enum hull_log_level level, const char *fmt, ...)
{
	char msg[2048], line[4600], esc[4200], ts[64];
	int saved = errno;
	va_list ap;
	int n;

	if (level == HULL_LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_fd >= 0 && log_json) {
		struct timespec now;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s.%09ldZ\"}\n",
			     level_name(level), esc, ts, now.tv_nsec);
	} else {
		n = snprintf(line, sizeof(line), level == HULL_LOG_ERROR ? "hull: %s\n" : "hull: %s: %s\n",
			     level == HULL_LOG_ERROR ? msg : level_name(level), msg);
	}
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	if (log_fd >= 0) {
		if (write(log_fd, line, (size_t)n) < 0) { /* nowhere left to report */ }
	}
	/* Errors always reach stderr too: a human or conmon reads it there. */
	if (log_fd < 0 || level == HULL_LOG_ERROR) {
		if (log_fd >= 0 && log_json)
			n = snprintf(line, sizeof(line), "hull: %s\n", msg);
		if (write(STDERR_FILENO, line, (size_t)n) < 0) { /* ignore */ }
	}
	errno = saved;
}
