#!/bin/bash
# test_lifecycle.sh — runtime.md: the operations (state, create, start, kill,
# delete), their errors for missing IDs and wrong states, the state document
# (fields, values, state-schema.json) and the lifecycle steps that do not
# involve hooks (those are test_hooks.sh).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cf_init lifecycle "$0" "$@"

B=$WORK/b
LONG='trap "echo usr1 > /out/signal; exit 3" USR1; echo started > /out/started; while :; do sleep 0.1; done'

# ---- operations without an ID ------------------------------------------------
cf_bundle "$B" '.hostname = "cf-life"' /bin/sh -c "$LONG"
cf_out "$B"
for op in state start kill delete; do
	H $op </dev/null >/dev/null 2>&1
	rc=$?
	case $op in state) sid=runtime.md#L101 ;; start) sid=runtime.md#L126 ;; kill) sid=runtime.md#L134 ;; delete) sid=runtime.md#L141 ;; esac
	check "$sid" "$op without a container ID is an error" [ "$rc" != 0 ]
done
(cd "$B" && H create </dev/null >/dev/null 2>&1); rc=$?
check runtime.md#L109 "create without a container ID is an error" [ "$rc" != 0 ]
mkdir -p "$WORK/empty"
check_create_fails runtime.md#L109 "create with a bundle path that holds no config.json is an error" "$WORK/empty"

# ---- state of a container that does not exist --------------------------------
H state "no-such-container-$$" >/dev/null 2>&1; rc=$?
check runtime.md#L102 "state of a container that does not exist is an error" [ "$rc" != 0 ]

# ---- create ------------------------------------------------------------------
ID=life$$
cf_create "$B" "$ID"
check runtime.md#L111 "create succeeds and makes a new container" [ "$RC" = 0 ]
cf_state "$ID"
check runtime.md#L103 "state returns the container's state" [ "$RC" = 0 ]
printf '%s' "$ST" > "$WORK/state-created.json"
msg=$(cf_schema state-schema.json "$WORK/state-created.json" 2>&1); rc=$?
if [ $rc = 2 ]; then skip runtime.md#L35 "state (created) validates against state-schema.json" "$msg"; else
	check runtime.md#L35 "state (created) validates against state-schema.json $msg" [ $rc = 0 ]; fi
check runtime.md#L12 "state.ociVersion is set" [ -n "$(jq -r '.ociVersion // empty' <<<"$ST")" ]
check runtime.md#L13 "state.id is the container's ID" [ "$(jq -r .id <<<"$ST")" = "$ID" ]
check runtime.md#L16 "state.status is \`created\` after create" [ "$(jq -r .status <<<"$ST")" = created ]
PID=$(jq -r '.pid // 0' <<<"$ST")
check runtime.md#L25 "state.pid is set when created and is a live process ($PID)" eval '[ "$PID" -gt 0 ] && kill -0 "$PID"'
check runtime.md#L28 "state.bundle is the absolute path of the bundle" [ "$(jq -r .bundle <<<"$ST")" = "$B" ]
check runtime.md#L60 "create does not run the user program" [ ! -e "$B/out/started" ]
check runtime.md#L114 "process.args are not applied before start (pid $PID is not the user program yet)" \
	eval '! tr "\0" " " < /proc/$PID/cmdline | grep -q "while :"'
# properties other than process are applied at create time
check runtime.md#L113 "hostname is applied at create (container UTS namespace says cf-life)" \
	[ "$(nsenter -t "$PID" -u hostname 2>/dev/null)" = cf-life ]
check runtime.md#L58 "the runtime environment is created at create (/out mounted in the container)" \
	grep -q ' /out ' "/proc/$PID/mountinfo"
check runtime.md#L113 "the container has its own mount namespace at create" \
	[ "$(readlink /proc/$PID/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]

# duplicate ID: error, and the existing container is untouched
mkdir -p "$WORK/b2" && cp -a "$B/config.json" "$WORK/b2/" && ln -s "$B/rootfs" "$WORK/b2/rootfs"
cf_create "$WORK/b2" "$ID"
check runtime.md#L110 "create with an ID already in use is an error" [ "$RC" != 0 ]
check runtime.md#L14 "the existing container with that ID is unchanged (still created, same pid)" \
	eval '[ "$(cf_field "$ID" .status)" = created ] && [ "$(cf_field "$ID" .pid)" = "$PID" ] && [ "$(cf_field "$ID" .bundle)" = "$B" ]'

# updates to config.json after create do not affect the container
cf_jq "$B" '.process.args = ["/bin/sh", "-c", "echo changed > /out/changed"]'


# ---- start -------------------------------------------------------------------
cf_start "$ID"
check runtime.md#L128 "start succeeds and runs the user program" eval '[ "$RC" = 0 ] && wait_file "$B/out/started"'
check runtime.md#L61 "config.json changes after create do not affect the container" \
	eval '[ -e "$B/out/started" ] && [ ! -e "$B/out/changed" ]'
check runtime.md#L71 "the user program runs as the container process (pid unchanged)" \
	eval 'tr "\0" " " < /proc/$PID/cmdline | grep -q "while :"'
cf_state "$ID"
check runtime.md#L16 "state.status is \`running\` after start" [ "$(jq -r .status <<<"$ST")" = running ]
check runtime.md#L25 "state.pid is set when running (same pid)" [ "$(jq -r .pid <<<"$ST")" = "$PID" ]
printf '%s' "$ST" > "$WORK/state-running.json"
msg=$(cf_schema state-schema.json "$WORK/state-running.json" 2>&1); rc=$?
if [ $rc = 2 ]; then skip runtime.md#L35 "state (running) validates against state-schema.json" "$msg"; else
	check runtime.md#L35 "state (running) validates against state-schema.json $msg" [ $rc = 0 ]; fi

cf_start "$ID"
check runtime.md#L127 "start of a running container is an error" [ "$RC" != 0 ]
check runtime.md#L127 "... and has no effect (still running, same pid)" \
	eval '[ "$(cf_field "$ID" .status)" = running ] && [ "$(cf_field "$ID" .pid)" = "$PID" ] && kill -0 "$PID"'
H delete "$ID" >/dev/null 2>&1; rc=$?
check runtime.md#L142 "delete of a running container is an error" [ "$rc" != 0 ]
check runtime.md#L142 "... and has no effect (still running)" eval '[ "$(cf_field "$ID" .status)" = running ] && kill -0 "$PID"'

# ---- kill --------------------------------------------------------------------
H kill "$ID" USR1 >/dev/null 2>&1; rc=$?
check runtime.md#L136 "kill sends the given signal to the container process (USR1 trapped)" \
	eval '[ "$rc" = 0 ] && wait_file "$B/out/signal"'
check runtime.md#L77 "when the process exits the container becomes \`stopped\`" cf_wait_status "$ID" stopped
cf_state "$ID"
printf '%s' "$ST" > "$WORK/state-stopped.json"
msg=$(cf_schema state-schema.json "$WORK/state-stopped.json" 2>&1); rc=$?
if [ $rc = 2 ]; then skip runtime.md#L35 "state (stopped) validates against state-schema.json" "$msg"; else
	check runtime.md#L35 "state (stopped) validates against state-schema.json $msg" [ $rc = 0 ]; fi
check runtime.md#L24 "every status reported is one of creating/created/running/stopped" \
	eval '(for f in created running stopped; do jq -e ".status | IN(\"creating\",\"created\",\"running\",\"stopped\")" "$WORK/state-$f.json" >/dev/null || exit 1; done)'

H kill "$ID" KILL >/dev/null 2>&1; rc=$?
check runtime.md#L135 "kill of a stopped container is an error" [ "$rc" != 0 ]
check runtime.md#L135 "... and has no effect (still stopped)" [ "$(cf_field "$ID" .status)" = stopped ]
cf_start "$ID"
check runtime.md#L127 "start of a stopped container is an error" [ "$RC" != 0 ]
check runtime.md#L127 "... and has no effect (still stopped, program not run again)" \
	eval '[ "$(cf_field "$ID" .status)" = stopped ] && [ "$(cat "$B/out/started")" = started ]'

# ---- delete ------------------------------------------------------------------
CG=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' "/proc/$PID/cgroup" 2>/dev/null)
H delete "$ID" >/dev/null 2>&1; rc=$?
check runtime.md#L143 "delete of a stopped container succeeds and the container is gone" eval '[ "$rc" = 0 ] && cf_gone "$ID"'
check runtime.md#L12 "delete removes the container's state and the ID can be used again" \
	eval 'cf_create "$B" "$ID" && cf_rm "$ID" && cf_gone "$ID"'

# resources the runtime created (cgroup) are removed; resources it did not
# create (a bind-mount source, a namespace joined by path) are kept
mkdir -p "$WORK/keep/dir" && echo precious > "$WORK/keep/dir/file"
touch "$WORK/netns"
unshare --net="$WORK/netns" true
cf_bundle "$B" '.linux.cgroupsPath = "/hull-conf-life-'$$'"' /bin/sh -c 'echo written > /keep/dir/new'
cf_jq "$B" '.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = $ns else . end] |
	.mounts += [{destination: "/keep", type: "bind", source: $keep, options: ["rbind", "rw"]}]' \
	--arg ns "$WORK/netns" --arg keep "$WORK/keep"
ID2=life2-$$
cf_create "$B" "$ID2"
P2=$(cf_field "$ID2" .pid)
CGDIRS=$(awk -F: '$2 != "" && $3 != "/" {split($2, c, ","); n = split(c[1], x, "="); print "/sys/fs/cgroup/" (x[n] == "" ? c[1] : x[n]) $3}' "/proc/$P2/cgroup" 2>/dev/null | while read -r d; do [ -d "$d" ] && echo "$d"; done)
cf_start "$ID2"
cf_wait_status "$ID2" stopped
H delete "$ID2" >/dev/null 2>&1; rc=$?
check runtime.md#L143 "delete removes the cgroups created for the container" \
	eval '[ "$rc" = 0 ] && [ -n "$CGDIRS" ] && (for d in $CGDIRS; do [ ! -d "$d" ] || exit 1; done)'
check runtime.md#L144 "delete keeps a bind-mount source it did not create (and what the container wrote there)" \
	eval '[ "$(cat "$WORK/keep/dir/file")" = precious ] && [ -e "$WORK/keep/dir/new" ]'
check runtime.md#L144 "delete keeps a namespace the container joined by path" \
	eval 'nsenter --net="$WORK/netns" true'

# ---- kill of a created container, then delete ---------------------------------
cf_bundle "$B" . /bin/sh -c "$LONG"
cf_out "$B"
ID3=life3-$$
cf_create "$B" "$ID3"
P3=$(cf_field "$ID3" .pid)
H kill "$ID3" KILL >/dev/null 2>&1; rc=$?
check runtime.md#L135 "kill of a created container is allowed" [ "$rc" = 0 ]
check runtime.md#L136 "... and the signal reaches the container process (it is gone, status stopped)" \
	eval 'cf_wait_status "$ID3" stopped && ! kill -0 "$P3" 2>/dev/null'
check runtime.md#L60 "the user program of a container killed before start never ran" [ ! -e "$B/out/started" ]
cf_rm "$ID3"

# ---- delete of a created container: a deliberate deviation ---------------------
# runtime.md#L142 says deleting a container that is not stopped is an error.
# runc deletes a *created* container (it kills the waiting init first), and
# containerd's runc v2 shim relies on that: deleting a task that was never
# started calls `delete` without --force.  hull keeps runc's behaviour there
# (docs/runtime.md); what we check is that it does so completely.
cf_bundle "$B" . /bin/sh -c "$LONG"
cf_out "$B"
ID6=life6-$$
cf_create "$B" "$ID6"
P6=$(cf_field "$ID6" .pid)
H delete "$ID6" >/dev/null 2>&1; rc=$?
skip runtime.md#L142 "delete of a created (not stopped) container is an error" \
	"deliberate: runc-compatible, containerd's shim deletes never-started tasks without --force"
check runtime.md#L142 "(runc behaviour) delete of a created container succeeds, kills its init and removes it" \
	eval '[ "$rc" = 0 ] && ! H state "$ID6" >/dev/null 2>&1 && { ! kill -0 "$P6" 2>/dev/null || grep -q "^State:.*Z" /proc/$P6/status; }'
cf_rm "$ID6"

# ---- relative bundle path; invalid IDs ----------------------------------------
cf_bundle "$B" . /bin/true
ID4=life4-$$
(cd "$WORK" && H create --bundle b "$ID4" </dev/null >/dev/null 2>&1)
check runtime.md#L28 "state.bundle is absolute when create got a relative path" [ "$(cf_field "$ID4" .bundle)" = "$B" ]
cf_rm "$ID4"
for bad in '../escape' 'a/b' '.' '..' ''; do
	H create --bundle "$B" "$bad" </dev/null >/dev/null 2>&1; rc=$?
	check runtime.md#L110 "create with invalid ID '$bad' is an error and creates nothing" \
		eval '[ "$rc" != 0 ] && [ ! -e "$WORK/escape" ] && [ -z "$(ls "$STATE")" ]'
done

# ---- an unappliable property: error, nothing left ------------------------------
cf_bundle "$B" '.linux.cgroupsPath = "/hull-conf-fail-'$$'" |
	.mounts += [{destination: "/x", type: "bind", source: "/nonexistent-'$$'", options: ["rbind"]}]'
cf_create "$B" fail$$
check runtime.md#L116 "create fails when a property cannot be applied (bind of a missing source)" [ "$RC" != 0 ]
check runtime.md#L116 "... and no container is created" cf_gone fail$$
check runtime.md#L84 "... and nothing is left behind (no cgroup /hull-conf-fail-$$ in any hierarchy)" \
	eval '! ls -d /sys/fs/cgroup/*/hull-conf-fail-$$ /sys/fs/cgroup/hull-conf-fail-$$ 2>/dev/null | grep -q .'
check runtime.md#L59 "an environment that cannot be created gives an error message" [ -n "$ERR" ]

# ---- start without process -------------------------------------------------------
cf_bundle "$B" 'del(.process)'
ID7=life7-$$
cf_create "$B" "$ID7"
crc=$RC
if [ "$crc" = 0 ]; then
	cf_start "$ID7"
	check runtime.md#L129 "start of a container created without process is an error" [ "$RC" != 0 ]
	check config.md#L240 "... and nothing runs (status not running)" eval '[ "$(cf_field "$ID7" .status)" != running ]'
else
	pass runtime.md#L129 "a config without process is refused at create (so start cannot run one)"
	check config.md#L240 "... with an error message" [ -n "$ERR" ]
fi
cf_rm "$ID7"

# ---- the whole sequence through one entity --------------------------------------
cf_bundle "$B" . /bin/sh -c 'exit 0'
ID5=life5-$$
ok5=1
cf_create "$B" "$ID5" && cf_start "$ID5" && cf_wait_status "$ID5" stopped && H delete "$ID5" >/dev/null 2>&1 && cf_gone "$ID5" || ok5=0
check runtime.md#L5 "create, state, start, state, delete all work on the same container" [ "$ok5" = 1 ]

cf_done
