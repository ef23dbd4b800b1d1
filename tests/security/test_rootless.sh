#!/bin/bash
# test_rootless.sh — an unprivileged user runs a container end to end:
# `hull spec --rootless`, `hull run`, `hull create/start/exec/delete`, all as
# the user `hulltest` (created here if missing, with subordinate ids), inside
# a user namespace that maps the container's root to that user.  Checked from
# inside: uid 0 mapped to the user's uid, the capability sets (CapInh 0); and
# the clear errors for what cannot work without privileges.
set -uo pipefail
. "$(dirname "$0")/sec-lib.sh"
mh_init test_rootless "$0" "$@"

OUT=
USER_NAME=hulltest
if ! id "$USER_NAME" >/dev/null 2>&1; then
	useradd --no-create-home --shell /bin/sh "$USER_NAME" 2>"$WORK/useradd.err" ||
		{ notok "create user $USER_NAME: $(cat "$WORK/useradd.err")"; mh_done; exit; }
fi
U=$(id -u "$USER_NAME") G=$(id -g "$USER_NAME")
grep -q "^$USER_NAME:" /etc/subuid 2>/dev/null || echo "$USER_NAME:300000:65536" >> /etc/subuid
grep -q "^$USER_NAME:" /etc/subgid 2>/dev/null || echo "$USER_NAME:300000:65536" >> /etc/subgid

chmod 0755 "$WORK"
RL=$WORK/rl
mkdir -p "$RL/b" "$RL/state" "$RL/run"
cp -a "$ROOTFS_CACHE" "$RL/b/rootfs"
chown -R "$U:$G" "$RL"

# as_user CMD...: run as hulltest with no capabilities and a user environment
as_user() {
	(cd "$RL/b" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$RL" XDG_RUNTIME_DIR="$RL/run" \
		setpriv --reuid "$U" --regid "$G" --clear-groups --inh-caps=-all -- "$@")
}
UH() { as_user "$HULL" --root "$RL/state" "$@"; }

as_user "$HULL" spec --rootless >"$WORK/out" 2>"$WORK/stderr"
RC=$? ERR=$(cat "$WORK/stderr")
check "hull spec --rootless as $USER_NAME" [ "$RC" = 0 -a -f "$RL/b/config.json" ]
check "the rootless spec has a user namespace and maps root to the caller" \
	eval 'jq -e --argjson u "$U" "(.linux.namespaces | map(.type) | index(\"user\")) != null and
		.linux.uidMappings == [{containerID: 0, hostID: \$u, size: 1}]" "$RL/b/config.json" >/dev/null'

set_args() {  # ARG... (process.args, as root: the user's config stays the user's file)
	local args_json
	args_json=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	jq --argjson a "$args_json" '.process.args = $a | .process.terminal = false' "$RL/b/config.json" > "$RL/b/c.new" &&
		cat "$RL/b/c.new" > "$RL/b/config.json" && rm -f "$RL/b/c.new"
}

set_args /bin/sh -c 'id -u; cat /proc/self/uid_map; grep -E "^Cap" /proc/self/status; ls -ld /'
OUT=$(UH run rl1 2>"$WORK/stderr") RC=$? ERR=$(cat "$WORK/stderr")
check "hull run as $USER_NAME" [ "$RC" = 0 ]
check "inside: uid 0, mapped to $USER_NAME's uid $U" \
	eval 'printf "%s\n" "$OUT" | head -1 | grep -qx 0 && grep -qE "^\s*0\s+$U\s+1\s*$" <<<"$OUT"'
check "inside: the spec's capabilities, CapInh 0" \
	[ "$(status_field "$OUT" CapEff)" = 0000000020000420 -a "$(status_field "$OUT" CapInh)" = 0000000000000000 ]
check "nothing is left behind after run" eval '[ -z "$(ls -A "$RL/state" 2>/dev/null)" ] || ! UH state rl1 >/dev/null 2>&1'

set_args /bin/sleep 60
UH create rl2 >/dev/null 2>"$WORK/stderr" && UH start rl2 2>>"$WORK/stderr"
RC=$? ERR=$(cat "$WORK/stderr")
check "create + start as $USER_NAME" [ "$RC" = 0 ]
OUT=$(UH exec rl2 /bin/sh -c 'id -u; grep -E "^Cap(Inh|Eff)" /proc/self/status' 2>"$WORK/stderr") RC=$?
ERR=$(cat "$WORK/stderr")
check "exec as $USER_NAME: uid 0 inside, CapInh 0" \
	eval '[ "$RC" = 0 ] && printf "%s\n" "$OUT" | head -1 | grep -qx 0 && [ "$(status_field "$OUT" CapInh)" = 0000000000000000 ]'
PID=$(UH state rl2 2>/dev/null | jq -r .pid)
check "the container runs as $USER_NAME on the host" eval '[ "$(stat -c %u /proc/$PID 2>/dev/null)" = "$U" ]'
UH delete -f rl2 >/dev/null 2>"$WORK/stderr"
RC=$? ERR=$(cat "$WORK/stderr")
check "delete -f as $USER_NAME" eval '[ "$RC" = 0 ] && ! kill -0 "$PID" 2>/dev/null'

# cgroup limits cannot be set by this user on this host: skipped, not fatal
set_args /bin/true
jq '.linux.resources.memory.limit = 268435456' "$RL/b/config.json" > "$RL/b/c.new" && cat "$RL/b/c.new" > "$RL/b/config.json"
OUT=$(UH run rl3 2>"$WORK/stderr") RC=$? ERR=$(cat "$WORK/stderr")
check "resources without a delegated cgroup: the container still runs" [ "$RC" = 0 ]

# what cannot work gets one clear error
jq '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)' \
	"$RL/b/config.json" > "$RL/b/c.new" && cat "$RL/b/c.new" > "$RL/b/config.json"
OUT=$(UH run rl4 2>"$WORK/stderr") RC=$? ERR=$(cat "$WORK/stderr")
check "rootless without a user namespace: clear error naming it" \
	eval '[ "$RC" != 0 ] && grep -q "user.*namespace" <<<"$ERR" && [ $(printf "%s\n" "$ERR" | wc -l) = 1 ]'

mh_done
