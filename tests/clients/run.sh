#!/bin/bash
# Client suites: real podman and containerd driving hull.  Runs each suite as
# a child subreaper and closes with one "N passed, N failed, N skipped" line.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${HULL:?HULL=path to hull}"
if [ -z "${HULL_SUBREAPER:-}" ]; then
	export HULL_SUBREAPER=1
	exec python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])' bash "$0" "$@"
fi
tp=0 tf=0 ts=0
for s in "$HERE"/podman.sh "$HERE"/containerd.sh "$HERE"/test_*.sh; do
	[ -f "$s" ] || continue
	echo "# --- $(basename "$s")"
	out=$(bash "$s" 2>&1); echo "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
	p=$(sed -nE 's/^([0-9]+) passed.*/\1/p' <<<"$line"); f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
	k=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	[ -n "$line" ] || { p=0 f=1; }
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + ${k:-0}))
done
echo "$tp passed, $tf failed, $ts skipped"
[ "$tf" = 0 ]
