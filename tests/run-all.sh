#!/bin/bash
# Run every suite `make check` covers, keep each one's output in
# $BUILD/test-logs/, and close with one "N passed, N failed" line summed over
# all suites.  A suite that cannot run on this host says why and counts as
# skipped; a suite that crashes without a summary counts as one failure.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:?}" "${HULL:?}" "${MAKE:=make}"
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"

# Orphaned container processes must be reaped by us, not by a PID 1 that may not reap.
if [ -z "${HULL_SUBREAPER:-}" ] && command -v python3 >/dev/null; then
	export HULL_SUBREAPER=1
	exec python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])' bash "$0" "$@"
fi

total_pass=0 total_fail=0 total_skip=0
declare -a summary

suite() {  # name command...
	local name=$1; shift
	local log=$LOGS/$name.log
	local t0=$SECONDS
	echo "=== $name"
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	local line p f s
	line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	p=$(sed -nE 's/^([A-Za-z]+: )?([0-9]+) passed.*/\2/p' <<<"$line")
	f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ -z "$line" ]; then
		if [ "$rc" = 77 ]; then s=1; else f=1; fi
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
	summary+=("$(printf '%-14s %4d passed %3d failed %3d skipped  (%ds)' "$name" "$p" "$f" "$s" $((SECONDS - t0)))")
}

suite unit        "$MAKE" --no-print-directory check-unit
suite unit-san    env -u BUILD "$MAKE" --no-print-directory SAN=1 BUILD=build-san check-unit
for s in integration conformance security clients; do
	[ -f "tests/$s/run.sh" ] && suite "$s" "$MAKE" --no-print-directory "check-$s"
done
# libFuzzer targets (config parser, image documents, virtqueues), bounded in time
suite fuzz        env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" "$MAKE" --no-print-directory fuzz
[ -f tests/testhost/run.sh ] && suite testhost "$MAKE" --no-print-directory check-testhost

echo
echo "=== summary (logs in $LOGS)"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" = 0 ]
