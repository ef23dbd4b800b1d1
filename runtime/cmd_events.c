/* cmd_events.c — `hull events [--stats] [--interval 5s] ID`.
 * --stats prints one {"type":"stats",…} record (runc's types.Event) and
 * exits; otherwise a stats record every interval and an {"type":"oom"} record
 * for each OOM kill, until the container's cgroup goes away. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "runtime/cli.h"
#include "runtime/command.h"
#include "runtime/state.h"

#define USAGE "hull events [--stats] [--interval DURATION] ID"

/* Go time.ParseDuration subset: "5s", "100ms", "1m30s", "1.5h". */
static int parse_duration_ms(const char *s, int64_t *ms)
{
	static const struct { const char *u; double ms; } units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 }, { "s", 1e3 },
		{ "m", 60e3 }, { "h", 3600e3 },
	};
	double total = 0;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "0")) {
		*ms = 0;
		return 0;
	}
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		size_t best = 0;
		int found = -1;
		if (end == s || v < 0 || !isfinite(v))
			return -EINVAL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].u);
			if (!strncmp(end, units[i].u, l) && l > best) {
				best = l;
				found = (int)i;
			}
		}
		if (found < 0)
			return -EINVAL;
		total += v * units[found].ms;
		s = end + best;
	}
	if (total > 1e12)
		return -ERANGE;
	*ms = (int64_t)total;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int emit_stats(struct hull_cgroup *cg, const char *id, struct hull_err *err)
{
	struct hull_cgroup_stats st;
	int r;

	if (hull_cgroup_stats(cg, &st, err) < 0)
		return -err->code;
	r = hull_cgroup_event_write(stdout, "stats", id, &st);
	hull_cgroup_stats_free(&st);
	if (r < 0)
		return hull_errf(err, -r, "write event: %s", strerror(-r));
	return 0;
}

static int stream(struct hull_cgroup *cg, const char *id, int64_t interval, struct hull_err *err)
{
	struct hull_cgroup_oom_watch *w = NULL;
	int64_t next = now_ms() + interval;
	int ret = 0;

	if (hull_cgroup_oom_watch_open(cg, &w, err) < 0)
		return -err->code;
	for (;;) {
		struct pollfd p = { .fd = hull_cgroup_oom_watch_fd(w), .events = POLLIN };
		int64_t wait = next - now_ms();
		uint64_t n_oom = 0;
		int r;

		if (wait < 0)
			wait = 0;
		/* re-check at least once a second: a v2 cgroup that goes away
		 * does not touch memory.events */
		r = poll(&p, 1, (int)(wait > 1000 ? 1000 : wait));
		if (r < 0 && errno != EINTR) {
			ret = hull_errf_sys(err, errno, "poll");
			break;
		}
		r = hull_cgroup_oom_watch_read(w, &n_oom, err);
		if (r == -ENOENT) {
			hull_err_clear(err);
			break;            /* the container is gone: like runc, stop */
		}
		if (r < 0) {
			ret = r;
			break;
		}
		for (uint64_t i = 0; i < n_oom; i++)
			if (hull_cgroup_event_write(stdout, "oom", id, NULL) < 0) {
				ret = hull_errf(err, EIO, "write event");
				goto out;
			}
		if (now_ms() >= next) {
			struct hull_err e2 = { 0 };
			if (emit_stats(cg, id, &e2) < 0) {
				if (e2.code == ENOENT)
					break;
				fprintf(stderr, "hull: events: %s\n", e2.msg);
			}
			next += interval;
		}
	}
out:
	hull_cgroup_oom_watch_free(w);
	return ret;
}

static int cmd_events(const struct hull_globals *g, int argc, char **argv, struct hull_err *err)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int64_t interval = 5000;
	bool once = false;
	struct hull_container *c = NULL;
	struct hull_cgroup *cg = NULL;
	int opt, rc = 1;

	cli_getopt_reset();
	while ((opt = getopt_long_only(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (parse_duration_ms(optarg, &interval) < 0)
				return cli_usage(err, USAGE, "--interval: invalid duration `%s`", optarg);
			break;
		case 's': once = true; break;
		case 'h': printf("usage: %s\n", USAGE); return 0;
		default: return cli_usage(err, USAGE, "unknown option `%s`", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage(err, USAGE, "expected exactly one container id");
	if (interval <= 0)
		return cli_usage(err, USAGE, "duration interval must be greater than 0");
	if (hull_container_id_valid(argv[optind], err) < 0)
		return 1;
	if (hull_container_load(g->root, argv[optind], HULL_LOCK_NONE, &c, err) < 0)
		goto out;
	if (hull_container_status(c) == HULL_STATUS_STOPPED) {
		hull_errf(err, EINVAL, "container with id %s is not running", c->id);
		goto out;
	}
	if (hull_container_cgroup(c, &cg, err) < 0)
		goto out;
	if (!cg) {
		hull_errf(err, ENOENT, "container `%s` has no cgroup", c->id);
		goto out;
	}
	if (once ? emit_stats(cg, c->id, err) < 0 : stream(cg, c->id, interval, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc && argc > optind)
		hull_err_wrap(err, "%s", argv[optind]);
	hull_cgroup_free(cg);
	hull_container_free(c);
	return rc;
}

HULL_COMMAND(events, "display container events: OOM notifications and resource statistics", cmd_events);
