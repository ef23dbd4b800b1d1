# sec-lib.sh — sourced by tests/security/test_*.sh (the process-security ones).
# Builds on tests/lib/mount-helpers.sh (private mount namespace, subreaper,
# cached busybox rootfs, ok/notok/check, summary line) and adds:
#   H ARGS...            "$HULL" --root "$STATE" ARGS...
#   sec_run DIR [ARG...] foreground `run` of a bundle; $OUT $ERR $RC
#   sec_start DIR ID     create + start (the container keeps running); $RC $ERR
#   sec_exec [FLAGS] ID ARG...  `exec` in a running container; $OUT $ERR $RC
#   sec_rm ID            delete --force, ignore errors
#   wait_file PATH [S]   wait up to S seconds (default 20) for PATH to exist
. "$(dirname "${BASH_SOURCE[0]}")/../lib/mount-helpers.sh"

H() { "$HULL" --root "$STATE" "$@"; }

SEC_N=0
sec_run() {  # DIR [run flags...]
	local dir=$1; shift
	SEC_N=$((SEC_N + 1))
	local id="sec$$-$SEC_N"
	OUT=$(cd "$dir" && timeout 60 "$HULL" --root "$STATE" run "$@" --bundle "$dir" "$id" 2>"$WORK/stderr")
	RC=$?
	ERR=$(cat "$WORK/stderr")
	H delete -f "$id" >/dev/null 2>&1 || true
}

sec_start() {  # DIR ID
	OUT=
	timeout 60 "$HULL" --root "$STATE" create --bundle "$1" "$2" </dev/null >/dev/null 2>"$WORK/stderr" &&
		timeout 60 "$HULL" --root "$STATE" start "$2" >/dev/null 2>>"$WORK/stderr"
	RC=$?
	ERR=$(cat "$WORK/stderr")
}

sec_exec() {  # [exec flags...] ID ARG...
	OUT=$(timeout 60 "$HULL" --root "$STATE" exec "$@" 2>"$WORK/stderr" </dev/null)
	RC=$?
	ERR=$(cat "$WORK/stderr")
}

sec_rm() { H delete -f "$1" >/dev/null 2>&1 || true; }

wait_file() {  # PATH [SECONDS]
	local i=0 n=$(( ${2:-20} * 10 ))
	while [ ! -e "$1" ] && [ $i -lt $n ]; do sleep 0.1; i=$((i + 1)); done
	[ -e "$1" ]
}

# The field NAME of /proc/self/status as printed by the container ($1 = output).
status_field() { printf '%s\n' "$1" | awk -v k="$2:" '$1 == k {print $2}' | head -1; }
