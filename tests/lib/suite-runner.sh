# suite-runner.sh — what the suite runners (tests/{integration,conformance,
# security}/run.sh) share; sourced.
#
# sr_become_subreaper GUARD "$@"  re-exec the calling script as a child
#                      subreaper (PID 1 here does not reap orphaned container
#                      processes); GUARD names the env variable that marks the
#                      second run
# sr_run SCRIPT [TIMEOUT]  run one test script (under `timeout TIMEOUT` when
#                      given), echo its lines, add its closing "N passed, N
#                      failed[, N skipped]" to the totals.  No summary: exit 77
#                      is one skip, anything else one failure.  A non-zero
#                      exit other than 77 with no failure counted is one
#                      failure.
# sr_finish            print the summed summary line; status non-zero on any
#                      failure

SR_PASS=0 SR_FAIL=0 SR_SKIP=0

sr_become_subreaper() {
	local guard=$1; shift
	[ -n "${!guard:-}" ] && return 0
	export "$guard=1"
	exec python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])' \
		bash "$0" "$@"
}

sr_run() {
	local t=$1 limit=${2:-} name log rc line p f s
	name=$(basename "$t" .sh)
	log=$(mktemp)
	if [ -n "$limit" ]; then
		timeout "$limit" bash "$t" 2>&1 | tee "$log"
	else
		bash "$t" 2>&1 | tee "$log"
	fi
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	rm -f "$log"
	if [ -z "$line" ]; then
		if [ "$rc" = 77 ]; then
			SR_SKIP=$((SR_SKIP + 1))
		else
			SR_FAIL=$((SR_FAIL + 1))
			echo "not ok - $name ended without a summary (exit $rc)"
		fi
		return
	fi
	p=$(sed -nE 's/^([0-9]+) passed.*/\1/p' <<<"$line")
	f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	SR_PASS=$((SR_PASS + p)) SR_FAIL=$((SR_FAIL + f)) SR_SKIP=$((SR_SKIP + ${s:-0}))
	# 77 = "cannot run here" (automake's convention), counted by its summary
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "$f" = 0 ]; then
		SR_FAIL=$((SR_FAIL + 1))
		echo "not ok - $name exited $rc"
	fi
}

sr_finish() {
	if [ "$SR_SKIP" -gt 0 ]; then
		echo "$SR_PASS passed, $SR_FAIL failed, $SR_SKIP skipped"
	else
		echo "$SR_PASS passed, $SR_FAIL failed"
	fi
	[ "$SR_FAIL" -eq 0 ]
}
