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
if [ -z "${HULL_IT_SUBREAPER:-}" ]; then
	export HULL_IT_SUBREAPER=1
	exec python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])' \
		bash "$0" "$@"
fi
export HULL=${HULL:-$HERE/../../build/hull}
HULL=$(readlink -f "$HULL")

pass=0 fail=0 skip=0
for t in "$HERE"/test_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]] && continue
	echo "=== $name"
	log=$(mktemp)
	timeout 900 bash "$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	rm -f "$log"
	if [ -z "$line" ]; then
		if [ "$rc" = 77 ]; then skip=$((skip + 1)); else fail=$((fail + 1)); echo "not ok - $name: no summary (exit $rc)"; fi
		continue
	fi
	p=$(sed -nE 's/^([0-9]+) passed.*/\1/p' <<<"$line")
	f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + ${s:-0}))
	# 77 = "cannot run here" (automake's convention), already counted as skipped
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "$f" = 0 ]; then fail=$((fail + 1)); echo "not ok - $name exited $rc"; fi
done
if [ "$skip" -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ "$fail" = 0 ]
