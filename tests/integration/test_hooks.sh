#!/bin/bash
# test_hooks.sh — all six hook kinds run, in order, with the state JSON on
# stdin, their args and env; failure semantics (prestart/createRuntime/
# createContainer/startContainer abort and clean up, poststop only warns);
# timeouts kill the hook.
set -uo pipefail
. "$(dirname "$0")/../lib/rt-helpers.sh"
mh_init test_hooks "$0" "$@"

B=$WORK/b
LOG=$WORK/hooks.log
HOOK=$WORK/hook.sh
cat > "$HOOK" <<'SH'
#!/bin/sh
# hook.sh LOG KIND: one line "KIND argv1 ENV_X <state json>" per call
log=$1; kind=$2
printf '%s %s %s\n' "$kind" "${HOOK_X:-unset}" "$(cat | tr -d '\n')" >> "$log"
SH
chmod +x "$HOOK"
# startContainer runs after pivot_root: its path resolves in the container.
mkdir -p "$B"
hooks_filter() {  # LOG-in-host
	cat <<JQ
.hooks = {
  prestart: [{path: "$HOOK", args: ["hook.sh", "$LOG", "prestart"], env: ["HOOK_X=1"]}],
  createRuntime: [{path: "$HOOK", args: ["hook.sh", "$LOG", "createRuntime"], env: ["HOOK_X=2"]}],
  createContainer: [{path: "$HOOK", args: ["hook.sh", "$LOG", "createContainer"]}],
  startContainer: [{path: "/bin/sh", args: ["sh", "-c", "echo startContainer \$(cat) >> /tmp/hooks.log"]}],
  poststart: [{path: "$HOOK", args: ["hook.sh", "$LOG", "poststart"]}],
  poststop: [{path: "$HOOK", args: ["hook.sh", "$LOG", "poststop"]}]
}
JQ
}
READONLY_ROOT=false mh_bundle "$B" "$(hooks_filter)" /bin/sleep 100
: > "$LOG"
ID=hk$$
H create -b "$B" --pid-file "$WORK/pid" $ID; RC=$?
PID=$(cat "$WORK/pid" 2>/dev/null)
check "create with hooks" [ "$RC" = 0 ]
check "prestart, createRuntime, createContainer ran at create, in order" \
	[ "$(awk '{print $1}' "$LOG" | tr '\n' ' ')" = "prestart createRuntime createContainer " ]
line() { grep "^$1 " "$LOG" | head -1 | cut -d' ' -f3-; }
check "prestart: env from the hook (HOOK_X=1)" [ "$(grep '^prestart ' "$LOG" | cut -d' ' -f2)" = 1 ]
check "createContainer: env empty when not set" [ "$(grep '^createContainer ' "$LOG" | cut -d' ' -f2)" = unset ]
S=$(line prestart)
check "prestart state: id, status creating, pid of the init, bundle" \
	[ "$(jq -r '[.id, .status, (.pid|tostring), .bundle] | join(" ")' <<<"$S")" = "$ID creating $PID $B" ]
S=$(line createContainer)
check "createContainer state: pid of the init" [ "$(jq -r .pid <<<"$S")" = "$PID" ]
H start $ID; RC=$?
check "start with hooks" [ "$RC" = 0 ]
check "startContainer ran inside the container (before the process)" \
	eval 'grep -q "^startContainer .*\"id\":\"$ID\"" "$B/rootfs/tmp/hooks.log"'
check "poststart ran after start with status running" [ "$(line poststart | jq -r .status)" = running ]
H kill $ID KILL; rt_wait_gone "$PID"
H delete $ID; RC=$?
check "delete runs poststop (status stopped)" eval '[ "$RC" = 0 ] && [ "$(line poststop | jq -r .status)" = stopped ]'
check "order at the end: ... poststart poststop" \
	[ "$(awk '{print $1}' "$LOG" | tr '\n' ' ')" = "prestart createRuntime createContainer poststart poststop " ]

# run: the same sequence, removed at the end
: > "$LOG"; rm -f "$B/rootfs/tmp/hooks.log"
jq '.process.args = ["/bin/true"]' "$B/config.json" > "$B/c.new" && mv "$B/c.new" "$B/config.json"
H run -b "$B" $ID; RC=$?
check "run with hooks: all host-side hooks in order" \
	eval '[ "$RC" = 0 ] && [ "$(awk "{print \$1}" "$LOG" | tr "\n" " ")" = "prestart createRuntime createContainer poststart poststop " ]'
check "run with hooks: startContainer ran" [ -s "$B/rootfs/tmp/hooks.log" ]

# ---- failures abort and leave nothing ----------------------------------------------
for kind in prestart createRuntime createContainer; do
	mh_bundle "$B" ".hooks.$kind = [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"exit 5\"]}]" /bin/true
	H create -b "$B" f$$ 2>"$WORK/err"; RC=$?
	check "$kind hook failing: create exits 1 naming the hook" \
		eval '[ "$RC" = 1 ] && grep -q "$kind hook\[0\].*exit status 5" "$WORK/err"'
	check "$kind hook failing: nothing left behind" [ -z "$(rt_leftovers f$$)" ]
done
mh_bundle "$B" '.hooks.startContainer = [{path: "/bin/false"}]' /bin/sleep 100
H create -b "$B" --pid-file "$WORK/pid" f$$; PID=$(cat "$WORK/pid")
H start f$$ 2>"$WORK/err"; RC=$?
check "startContainer hook failing: start exits 1 naming it" eval '[ "$RC" = 1 ] && grep -q "startContainer hook" "$WORK/err"'
check "startContainer hook failing: the process never ran" eval 'rt_wait_gone $PID && [ "$(H state f$$ | jq -r .status)" = stopped ]'
H delete f$$
mh_bundle "$B" '.hooks.poststop = [{path: "/bin/false"}]' /bin/true
H run -b "$B" f$$ 2>"$WORK/err"; RC=$?
check "poststop hook failing: only a warning, run still exits 0" eval '[ "$RC" = 0 ] && grep -q "poststop hook" "$WORK/err"'
check "poststop hook failing: container removed" [ -z "$(rt_leftovers f$$)" ]
mh_bundle "$B" '.hooks.poststart = [{path: "/bin/false"}]' /bin/sleep 100
H create -b "$B" --pid-file "$WORK/pid" f$$; PID=$(cat "$WORK/pid")
H start f$$ 2>"$WORK/err"; RC=$?
check "poststart hook failing: start reports it and stops the container (spec 1.3)" \
	eval '[ "$RC" = 1 ] && grep -q "poststart hook" "$WORK/err" && rt_wait_gone $PID'
H delete -f f$$

# ---- timeout ---------------------------------------------------------------------------
mh_bundle "$B" '.hooks.prestart = [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]' /bin/true
t0=$SECONDS
H run -b "$B" t$$ 2>"$WORK/err"; RC=$?
check "hook timeout: killed after 1 s, run fails" eval '[ "$RC" = 1 ] && [ $((SECONDS - t0)) -lt 10 ] && grep -q "timed out" "$WORK/err"'
check "hook timeout: nothing left behind" [ -z "$(rt_leftovers t$$)" ]
mh_done
