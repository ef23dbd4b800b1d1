#!/bin/bash
# test_cgroups_v2.sh — the cgroup suite on a pure cgroup v2 host (the test
# host under tests/testhost/ runs it): limits in the unified files (with the
# v1 -> v2 conversions), the eBPF device filter, freezing through
# cgroup.freeze, OOM from memory.events.  Skips (77) elsewhere.
if ! awk '$2 == "/sys/fs/cgroup" && $3 == "cgroup2" { f = 1 } END { exit !f }' /proc/self/mounts; then
	echo "# /sys/fs/cgroup is not cgroup2: skipped"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
CG_SUITE=test_cgroups_v2
. "$(dirname "$0")/../lib/cgroups-tests.sh"
cg_init "$@"
cg_tests
cg_done
