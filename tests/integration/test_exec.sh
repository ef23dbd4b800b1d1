#!/bin/bash
# test_exec.sh — exec joins the init's namespaces and cgroup, takes the
# container's process defaults with command-line overrides or a --process
# JSON, propagates exit codes (127 for a missing command), --detach +
# --pid-file, refuses stopped containers.
set -uo pipefail
. "$(dirname "$0")/../lib/rt-helpers.sh"
mh_init test_exec "$0" "$@"
B=$WORK/b
mh_bundle "$B" '.process.env += ["FROMCFG=yes"]' /bin/sleep 100
ID=ex$$
H run -d -b "$B" --pid-file "$WORK/pid" $ID
PID=$(cat "$WORK/pid")

OUT=$(H exec $ID /bin/sh -c 'for n in pid net ipc uts mnt; do readlink /proc/self/ns/$n; done'); RC=$?
want=$(for n in pid net ipc uts mnt; do readlink /proc/$PID/ns/$n; done)
check "exec joins every namespace of the init" eval '[ "$RC" = 0 ] && [ "$OUT" = "$want" ]'
OUT=$(H exec $ID /bin/sh -c 'cat /proc/self/cgroup' | sort); want=$(sort /proc/$PID/cgroup)
check "exec joins the init's cgroups" [ "$OUT" = "$want" ]
OUT=$(H exec $ID /bin/sh -c 'echo $$')
check "exec'd process is in the container's pid namespace (pid > 1)" eval '[ "$OUT" -gt 1 ]'
H exec $ID /bin/sh -c 'exit 7'; RC=$?
check "exit code 7 propagates" [ "$RC" = 7 ]
H exec $ID /bin/sh -c 'kill -TERM $$'; RC=$?
check "killed by SIGTERM -> 143" [ "$RC" = 143 ]
H exec $ID nosuchcmd 2>"$WORK/err"; RC=$?
check "missing command -> 127 with an error naming it" eval '[ "$RC" = 127 ] && grep -q nosuchcmd "$WORK/err"'
# The exec'd process can report before the intermediate names its pid: the
# status must still be the process's (it was 1 about one time in 30).
bad=0
for ((i = 0; i < 30; i++)); do H exec $ID nosuchcmd 2>/dev/null; [ $? = 127 ] || bad=$((bad + 1)); done
check "missing command -> 127, 30 times out of 30 (wrong: $bad)" [ "$bad" = 0 ]
OUT=$(H exec $ID /bin/sh -c 'echo $FROMCFG')
check "env from the container's process config" [ "$OUT" = yes ]
OUT=$(H exec -e FROMCFG=no -e NEW=1 --cwd /tmp $ID /bin/sh -c 'echo $FROMCFG $NEW $(pwd)')
check "--env overrides/adds, --cwd" [ "$OUT" = "no 1 /tmp" ]
OUT=$(H exec -u 1000:1001 -g 2000 $ID /bin/sh -c 'id -u; id -g; id -G')
check "--user and --additional-gids" [ "$(tr '\n' ' ' <<<"$OUT")" = "1000 1001 1001 2000 " ]
OUT=$(H exec -u nobody $ID /bin/sh -c 'id -u; id -g')
check "--user NAME: uid and primary gid from the container's /etc/passwd" [ "$(tr '\n' ' ' <<<"$OUT")" = "65534 65534 " ]
OUT=$(H exec -u daemon:nogroup $ID /bin/sh -c 'id -u; id -g')
check "--user NAME:GROUP: the group from the container's /etc/group" [ "$(tr '\n' ' ' <<<"$OUT")" = "1 65534 " ]
H exec -u bin $ID /bin/true 2>"$WORK/err"; RC=$?
check "--user of a host-only user (bin) fails: names are the container's" \
	eval '[ "$RC" = 1 ] && grep -q "no user .bin. in the container.s /etc/passwd" "$WORK/err"'
OUT=$(H exec --cap CAP_SYS_ADMIN $ID /bin/sh -c 'grep CapEff /proc/self/status')
check "--cap adds a capability" eval '[ $(( 0x$(awk "{print \$2}" <<<"$OUT") >> 21 & 1 )) = 1 ]'
OUT=$(H exec $ID /bin/sh -c 'grep CapEff /proc/self/status')
check "without --cap: not there" eval '[ $(( 0x$(awk "{print \$2}" <<<"$OUT") >> 21 & 1 )) = 0 ]'
cat > "$WORK/proc.json" <<'J'
{"args": ["/bin/sh", "-c", "echo $MSG; pwd; exit 5"], "env": ["MSG=from-json"], "cwd": "/etc", "user": {"uid": 0, "gid": 0}}
J
OUT=$(H exec --process "$WORK/proc.json" $ID); RC=$?
check "--process JSON: args, env, cwd, exit code" eval '[ "$RC" = 5 ] && [ "$(tr "\n" " " <<<"$OUT")" = "from-json /etc " ]'
echo '{"args": 3}' > "$WORK/bad.json"
H exec --process "$WORK/bad.json" $ID 2>"$WORK/err"; RC=$?
check "--process with a bad field: exit 1 naming file and field" eval '[ "$RC" = 1 ] && grep -q "bad.json.*args" "$WORK/err"'
H exec -d --pid-file "$WORK/epid" $ID /bin/sleep 30; RC=$?
EPID=$(cat "$WORK/epid" 2>/dev/null)
check "exec --detach returns at once, --pid-file names the process" eval '[ "$RC" = 0 ] && grep -q sleep /proc/$EPID/cmdline'
check "the detached process is in the container's pid namespace" [ "$(readlink /proc/$EPID/ns/pid)" = "$(readlink /proc/$PID/ns/pid)" ]
H kill $ID KILL; rt_wait_gone $PID
H exec $ID /bin/true 2>"$WORK/err"; RC=$?
check "exec in a stopped container fails" eval '[ "$RC" = 1 ] && grep -q stopped "$WORK/err"'
H delete $ID
H exec nosuch$$ /bin/true 2>"$WORK/err"; RC=$?
check "exec in a missing container fails" eval '[ "$RC" = 1 ] && grep -q "does not exist" "$WORK/err"'
mh_done
