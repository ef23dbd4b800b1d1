#!/bin/bash
# run.sh — every tests/security/test_*.sh (one per runtime-escape class), each
# in turn; prints their lines and closes with one "N passed, N failed[, N
# skipped]" line summed over all of them.  A test that ends without its own
# summary line counts as one failure (exit 77 without one: one skip).
# Env: HULL (default build/hull).  Runs as root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export HULL=${HULL:-$HERE/../../build/hull}
. "$HERE/../lib/suite-runner.sh"
for t in "$HERE"/test_*.sh; do
	[ -e "$t" ] || continue
	echo "# $(basename "$t" .sh)"
	sr_run "$t"
done
sr_finish
