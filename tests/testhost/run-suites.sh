#!/bin/bash
# Run the suites that need a real KVM and a pure cgroup v2, on whatever host
# this is (inside the test host VM, or directly on a host that has both), and
# print their results as one TAP stream closed by one "N passed, N failed,
# N skipped" line.  Exit status 0 only if nothing failed.
#
# Suites, found at run time (a suite is a bash script printing "ok N - …" /
# "not ok N - …" lines and a closing "N passed, N failed" line):
#   tests/testhost/suites/*.sh          this harness's own smoke suites
#   tests/integration/test_*_v2.sh      integration tests that need pure cgroup v2
#   tests/microvm/*.sh                  microVM tests (need a real KVM); run.sh,
#                                       lib*.sh and _*.sh there are helpers, not suites;
#                                       bench_*.sh run only when named in HULL_TESTHOST_SUITES
# Each suite's results are renumbered into the combined stream and prefixed
# with its name ("ok 7 - kvm: KVM_CREATE_VM"); its other output becomes "# "
# comments.  Exit status 77 with no results means the whole suite skipped.
#
# Environment: HULL, KVM_SMOKE (passed on to suites), HULL_TESTHOST_SUITES
# (space-separated names or globs: run only these, e.g. "kvm integration/*"),
# HULL_TESTHOST_SUITE_TIMEOUT (seconds per suite, default 480).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
timeout_s=${HULL_TESTHOST_SUITE_TIMEOUT:-480}
only=${HULL_TESTHOST_SUITES:-}

suites=()
names=()
add_suite() {  # add_suite FILE NAME
	local pat
	if [ -n "$only" ]; then
		for pat in $only; do
			# shellcheck disable=SC2053  # the pattern is meant to glob
			[[ $2 == $pat ]] && break
			pat=
		done
		[ -n "$pat" ] || return 0
	fi
	suites+=("$1")
	names+=("$2")
}
for f in "$repo"/tests/testhost/suites/*.sh; do
	[ -f "$f" ] && add_suite "$f" "$(basename "$f" .sh)"
done
for f in "$repo"/tests/integration/test_*_v2.sh; do
	[ -f "$f" ] && add_suite "$f" "integration/$(basename "$f" .sh)"
done
for f in "$repo"/tests/microvm/*.sh; do
	case $(basename "$f") in
	run.sh | lib*.sh | _*.sh) continue ;;
	# benchmarks report numbers; they run under `make bench`, or when named
	bench_*.sh) [ -n "$only" ] || continue ;;
	esac
	[ -f "$f" ] && add_suite "$f" "microvm/$(basename "$f" .sh)"
done

n=0 pass=0 fail=0 skip=0
emit() {  # emit ok|not_ok DESC
	n=$((n + 1))
	if [ "$1" = ok ]; then
		case $2 in *"# SKIP"* | *"# skip"*) skip=$((skip + 1)) ;; *) pass=$((pass + 1)) ;; esac
		echo "ok $n - $2"
	else
		fail=$((fail + 1))
		echo "not ok $n - $2"
	fi
}

if [ ${#suites[@]} = 0 ]; then
	emit not_ok "no suite matches HULL_TESTHOST_SUITES='$only'"
fi

suite_line() {  # one line of a suite's output, renumbered into our stream
	case $1 in
	"not ok "*)
		results=$((results + 1))
		emit not_ok "$name: $(sed -E 's/^not ok [0-9]* *(- )?//' <<<"$1")" ;;
	"ok "*)
		results=$((results + 1))
		emit ok "$name: $(sed -E 's/^ok [0-9]* *(- )?//' <<<"$1")" ;;
	"#"*) echo "$1" ;;
	*) echo "# $1" ;;
	esac
}

log=$(mktemp /tmp/testhost-suite.XXXXXX)
trap 'rm -f "$log"' EXIT

# Each suite runs in its own session with its output in a file, not a pipe:
# when it ends (or times out) the whole session is killed, so a background
# process it left behind can neither hang us by holding a pipe open nor
# outlive it.  New lines are relayed as they appear.
for i in "${!suites[@]}"; do
	file=${suites[$i]} name=${names[$i]}
	echo "# === $name"
	t0=$(date +%s)
	results=0 fail_before=$fail pass_before=$pass skip_before=$skip printed=0 timed_out=
	: >"$log"
	(cd "$repo" && exec setsid bash "$file" >"$log" 2>&1 </dev/null) &
	pid=$!
	while :; do
		alive=
		kill -0 "$pid" 2>/dev/null && alive=1
		total=$(wc -l <"$log")
		if [ "$total" -gt "$printed" ]; then
			while IFS= read -r line; do suite_line "$line"; done < <(sed -n "$((printed + 1)),${total}p" "$log")
			printed=$total
		fi
		[ -n "$alive" ] || break
		if [ $(($(date +%s) - t0)) -ge "$timeout_s" ]; then
			timed_out=1
			kill -KILL -- "-$pid" 2>/dev/null
		fi
		sleep 0.5
	done
	{ wait "$pid"; } 2>/dev/null   # no "Killed" job notice
	rc=$?
	kill -KILL -- "-$pid" 2>/dev/null   # whatever it left running
	# A last line without a newline
	[ -n "$(tail -c 1 "$log")" ] && suite_line "$(tail -n 1 "$log")"
	if [ -n "$timed_out" ]; then
		emit not_ok "$name: killed after the ${timeout_s}s suite timeout"
	elif [ "$rc" = 77 ] && [ "$results" = 0 ]; then
		emit ok "$name # SKIP the suite cannot run here (exit 77)"
	elif [ "$results" = 0 ]; then
		emit not_ok "$name: printed no results (exit $rc)"
	elif [ "$rc" != 0 ] && [ "$fail" = "$fail_before" ]; then
		emit not_ok "$name: exited with status $rc"
	fi
	echo "# $name: $((pass - pass_before)) passed, $((fail - fail_before)) failed, $((skip - skip_before)) skipped ($(($(date +%s) - t0))s)"
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
