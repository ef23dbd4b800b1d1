#include "runtime/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_usage(struct hull_err *err, const char *usage, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hull_errf(err, EINVAL, "%s (usage: %s)", msg, usage);
	return 1;
}

void cli_getopt_reset(void)
{
	optind = 0;      /* 0 also re-initialises glibc's internal state */
	opterr = 0;
}

int cli_parse_bool(const char *s)
{
	if (!s || !*s || !strcmp(s, "true") || !strcmp(s, "1"))
		return 1;
	if (!strcmp(s, "false") || !strcmp(s, "0"))
		return 0;
	return -1;
}

bool cli_wants_help(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-help")) {
			printf("usage: %s\n", usage);
			return true;
		}
	}
	return false;
}

const char *cli_default_root(void)
{
	static char buf[256];
	const char *xdg;

	if (geteuid() == 0)
		return "/run/hull";
	xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg && snprintf(buf, sizeof(buf), "%s/hull", xdg) < (int)sizeof(buf))
		return buf;
	snprintf(buf, sizeof(buf), "/tmp/hull-%u", (unsigned)geteuid());
	return buf;
}
