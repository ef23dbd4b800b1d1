#!/bin/bash
# run.sh — every tests/security/test_*.sh (one per runtime-escape class), each
# in turn; prints their lines and closes with one "N passed, N failed[, N
# skipped]" line summed over all of them.  A test that ends without its own
# summary line counts as one failure (exit 77 without one: one skip).
# Env: HULL (default build/hull).  Runs as root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export HULL=${HULL:-$HERE/../../build/hull}
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$HERE"/test_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	echo "# $name"
	bash "$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -z "$line" ]; then
		if [ "$rc" = 77 ]; then skip=$((skip + 1)); else fail=$((fail + 1)); echo "not ok - $name ended without a summary (rc=$rc)"; fi
		continue
	fi
	p=$(sed -nE 's/^([0-9]+) passed.*/\1/p' <<<"$line")
	f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + ${s:-0}))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then fail=$((fail + 1)); echo "not ok - $name exited $rc"; fi
done
if [ "$skip" -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ "$fail" -eq 0 ]
