#!/bin/bash
# run.sh — every tests/integration/test_*.sh, one after the other, as a child
# subreaper (PID 1 here does not reap orphaned container processes).  Each
# suite prints TAP-ish lines and its own "N passed, N failed[, N skipped]";
# this runner sums them and closes with one such line.  A suite that exits
# 77 without a summary counts as skipped; one that crashes without a summary
# counts as one failure.  Env: HULL (default build/hull), ONLY=regex to pick
# suites by file name.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/suite-runner.sh"
sr_become_subreaper HULL_IT_SUBREAPER "$@"
export HULL=${HULL:-$HERE/../../build/hull}
HULL=$(readlink -f "$HULL")

for t in "$HERE"/test_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]] && continue
	echo "=== $name"
	sr_run "$t" 900
done
sr_finish
