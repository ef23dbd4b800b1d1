#!/bin/bash
# test_seccomp_notify.sh — SCMP_ACT_NOTIFY: the runtime sends the seccomp
# listener fd and the container process state to linux.seccomp.listenerPath
# (runtime-spec config-linux.md "The Container Process State"), and an agent
# answering on that fd decides the syscall's result.
# The agent is tests/security/seccomp_listener.c (built here with cc): it
# fakes success for mkdir/mkdirat.  The container runs
# `mkdir /nonexistent/x && echo MKDIR-FAKED`, which can only print if the
# agent answered.  Checked for run (create, state "creating") and for exec.
set -uo pipefail
. "$(dirname "$0")/sec-lib.sh"
mh_init test_seccomp_notify "$0" "$@"

B=$WORK/b
OUT=
SOCK=$WORK/agent.sock
LOG=$WORK/agent.log
CC=${CC:-cc}
if ! "$CC" -O2 -Wall -o "$WORK/listener" "$(dirname "$0")/seccomp_listener.c" 2>"$WORK/cc.err"; then
	notok "build seccomp_listener.c: $(head -3 "$WORK/cc.err")"
	mh_done; exit
fi

start_agent() {  # connections
	rm -f "$SOCK"
	: > "$LOG"
	timeout 60 "$WORK/listener" "$SOCK" "$LOG" "$1" &
	AGENT=$!
	wait_file "$SOCK" 10
}
stop_agent() { kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null; }

notify_cfg='.linux.seccomp = {
	defaultAction: "SCMP_ACT_ALLOW",
	listenerPath: $sock,
	listenerMetadata: "hull-test-metadata",
	flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
	syscalls: [ { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" } ] }'
bundle() {  # args...
	mh_bundle "$B" . "$@"
	jq --arg sock "$SOCK" "$notify_cfg" "$B/config.json" > "$B/config.new" && mv "$B/config.new" "$B/config.json"
}

state_line() { grep '^state ' "$LOG" | sed -n "${1}p" | cut -d' ' -f2-; }

# ---- run ------------------------------------------------------------------------
start_agent 1
bundle /bin/sh -c 'mkdir /nonexistent/x && echo MKDIR-FAKED; test -d /nonexistent || echo NOT-CREATED'
SEC_N=$((SEC_N + 1)); ID=notify$$-$SEC_N
OUT=$(cd "$B" && timeout 60 "$HULL" --root "$STATE" run --bundle "$B" "$ID" 2>"$WORK/stderr")
RC=$? ERR=$(cat "$WORK/stderr")
H delete -f "$ID" >/dev/null 2>&1
check "run: the agent answered mkdir (fake success)" eval '[ "$RC" = 0 ] && grep -qx MKDIR-FAKED <<<"$OUT"'
check "run: the directory was not really created" eval 'grep -qx NOT-CREATED <<<"$OUT"'
S=$(state_line 1)
check "run: the agent got one state with an fd" eval '[ -n "$S" ] && ! grep -q "bad connection" "$LOG"'
check "state: ociVersion, fds [seccompFd], pid" \
	eval '[ -n "$S" ] && printf "%s" "$S" | jq -e ".ociVersion and .fds == [\"seccompFd\"] and (.pid | type == \"number\") and .pid > 0" >/dev/null'
check "state: metadata is listenerMetadata" \
	eval '[ -n "$S" ] && printf "%s" "$S" | jq -e ".metadata == \"hull-test-metadata\"" >/dev/null'
check "state: .state is the container's (id, status creating, bundle, pid)" \
	eval '[ -n "$S" ] && printf "%s" "$S" | jq -e --arg id "$ID" --arg b "$B" ".state.id == \$id and .state.status == \"creating\" and .state.bundle == \$b and .state.pid == .pid and .state.ociVersion" >/dev/null'
check "run: the agent saw the syscall" grep -q '^notified ' "$LOG"
stop_agent

# ---- exec -----------------------------------------------------------------------
start_agent 2
bundle /bin/sleep 60
ID=notify$$-exec
sec_start "$B" "$ID"
check "create+start with a notify filter" [ "$RC" = 0 ]
sec_exec "$ID" /bin/sh -c 'mkdir /nonexistent/y && echo MKDIR-FAKED'
check "exec: the agent answered mkdir" eval '[ "$RC" = 0 ] && grep -qx MKDIR-FAKED <<<"$OUT"'
check "exec: a second state arrived on a new connection" [ -n "$(state_line 2)" ]
sec_rm "$ID"
stop_agent

# ---- errors -----------------------------------------------------------------------
bundle /bin/true
jq '.linux.seccomp.listenerPath = "/nonexistent/agent.sock"' "$B/config.json" > "$B/config.new" && mv "$B/config.new" "$B/config.json"
sec_run "$B"
check "an unreachable listenerPath is an error naming it" \
	eval '[ "$RC" != 0 ] && grep -q "/nonexistent/agent.sock" <<<"$ERR"'
# NOTIFY on connect: either it works (the runtime reached the agent before
# loading the filter) or it is refused up front; never a hang
start_agent 1
bundle /bin/sh -c 'mkdir /nonexistent/z && echo MKDIR-FAKED'
jq '.linux.seccomp.syscalls[0].names += ["connect", "socket"]' "$B/config.json" > "$B/config.new" && mv "$B/config.new" "$B/config.json"
SEC_N=$((SEC_N + 1)); ID=notify$$-$SEC_N
(cd "$B" && timeout -k 5 30 "$HULL" --root "$STATE" run --bundle "$B" "$ID" >"$WORK/stdout" 2>"$WORK/stderr")
RC=$?
H delete -f "$ID" >/dev/null 2>&1   # a container stuck in the filter is killed here
OUT=$(cat "$WORK/stdout") ERR=$(cat "$WORK/stderr")
check "NOTIFY on connect/socket: works or is refused naming the syscall, no hang" \
	eval '{ [ "$RC" = 0 ] && grep -qx MKDIR-FAKED <<<"$OUT"; } ||
	      { [ "$RC" != 0 ] && [ "$RC" != 124 ] && grep -qE "connect|socket" <<<"$ERR"; }'
stop_agent

bundle /bin/true
jq '.linux.seccomp.syscalls[0].names += ["sendmsg"]' "$B/config.json" > "$B/config.new" && mv "$B/config.new" "$B/config.json"
sec_run "$B"
check "NOTIFY on sendmsg is refused with a clear error" \
	eval '[ "$RC" != 0 ] && grep -q sendmsg <<<"$ERR"'

mh_done
